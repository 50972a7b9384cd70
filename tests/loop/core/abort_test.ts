/**
 * AbortSignal interop (loop/core/abort.ts, Task.signal): a task's own signal aborts when the
 * task is cancelled, so a host Promise (a timer, fetch to a node:http server) stops with it;
 * sleep, waitFor, createConnection/openConnection and the subprocess waits take `{ signal }`,
 * fail at once on an aborted one, fail with CancelledError (cause: the reason) on an abort,
 * and leave no listener behind.
 */
import assert from "node:assert/strict";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import {
  CancelledError, createDefaultContext, createSubprocessExec, createTask, currentTask, ensureFuture,
  openConnection, PIPE, Protocol, run, sleep, startServer, type Task, TimeoutError, waitFor,
} from "../../../mod.ts";
import { children, killedReturncode } from "../../children.ts";
import { fdCountSettled, stableFdCount, withLoop } from "../../helpers.ts";

/** A host Promise that settles after `ms` unless `signal` aborts first (then: its reason). */
function hostWait(ms: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve("slept"), ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

/** `signal` with its listeners counted: adds minus removes (AbortSignal cannot be asked). */
function countedSignal(signal: AbortSignal): { signal: AbortSignal; live(): number } {
  let live = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    live++;
    add(...args);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    live--;
    remove(...args);
  }) as typeof signal.removeEventListener;
  return { signal, live: () => live };
}

function assertAborted(e: unknown, reason: unknown): true {
  assert.ok(e instanceof CancelledError, `expected CancelledError, got ${e}`);
  assert.equal(e.cause, reason);
  assert.match(e.message, /aborted by its AbortSignal/);
  return true;
}

// ---- Task.signal -----------------------------------------------------------------------------

test("Task.signal aborts on cancel() with the CancelledError as its reason", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      let seen: AbortSignal | undefined;
      const t = createTask(async () => {
        seen = currentTask()!.signal;
        return await hostWait(3000, seen);
      });
      await sleep(0.01);
      assert.equal(seen!.aborted, false);
      const start = loop.time();
      t.cancel("stop it");
      await assert.rejects(t.then(), (e) => e instanceof CancelledError && e.message === "stop it");
      assert.ok(loop.time() - start < 1, "the host timer did not hold the task");
      assert.ok(seen!.aborted);
      assert.ok(seen!.reason instanceof CancelledError);
      assert.equal(seen!.reason.message, "stop it");
      assert.ok(t.cancelled());
    })
  ));

test("a coroutine function that declares a parameter gets the task's signal (createTask, ensureFuture, run)", async () => {
  const got = await run(async (signal: AbortSignal) => {
    assert.equal(signal, currentTask()!.signal);
    const t = createTask((s: AbortSignal) => Promise.resolve(s));
    assert.equal(await t, t.signal);
    const f = ensureFuture((s: AbortSignal) => Promise.resolve(s)) as Task<AbortSignal>;
    assert.equal(await f, f.signal);
    return signal.aborted;
  });
  assert.equal(got, false);
});

test("Task.signal read after cancel() is already aborted; a done task's signal stays as it ended", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const t = createTask(() => sleep(10));
      t.cancel();
      assert.ok(t.signal.aborted, "cancel requested: aborted at first read");
      await assert.rejects(t.then(), CancelledError);
      const ok = createTask(() => sleep(0));
      await ok;
      assert.equal(ok.signal.aborted, false);
    })
  ));

test("waitFor((signal) => host promise, 0.1) raises TimeoutError after ~0.1 s, not when the host settles", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const start = loop.time();
      await assert.rejects(waitFor((signal: AbortSignal) => hostWait(3000, signal), 0.1), TimeoutError);
      const elapsed = loop.time() - start;
      assert.ok(elapsed >= 0.09 && elapsed < 1.5, `took ${elapsed} s`);
      // The timeout was turned into TimeoutError (uncancel to zero): the task's next signal is fresh.
      assert.equal(currentTask()!.cancelling(), 0);
      assert.equal(currentTask()!.signal.aborted, false);
      assert.equal(await waitFor((signal: AbortSignal) => hostWait(10, signal), 5), "slept");
    })
  ));

test("outside a task, waitFor((signal) => host promise, 0.1) gives the inner task's signal and times out on time", () =>
  withLoop(async (loop) => {
    const caller = (async () => {
      await Promise.resolve();
      const start = loop.time();
      await assert.rejects(waitFor((signal: AbortSignal) => hostWait(3000, signal), 0.1), TimeoutError);
      return loop.time() - start;
    })();
    const elapsed = await loop.runUntilComplete(caller);
    assert.ok(elapsed >= 0.09 && elapsed < 1.5, `took ${elapsed} s`);
  }));

/** A node:http server on loopback that takes requests and never answers them. */
async function silentHttpServer(): Promise<{ url: string; server: HttpServer; requests: () => number }> {
  let requests = 0;
  const server = createHttpServer(() => {
    requests++; // never respond
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, server, requests: () => requests };
}

test("waitFor((signal) => fetch(url, { signal }), 0.2) against a server that never answers: TimeoutError on time", async () => {
  const { url, server, requests } = await silentHttpServer();
  try {
    await run(async () => {
      const loop = currentTask()!.getLoop();
      const start = loop.time();
      await assert.rejects(waitFor((signal: AbortSignal) => fetch(url, { signal }), 0.2), TimeoutError);
      const elapsed = loop.time() - start;
      assert.ok(elapsed >= 0.19 && elapsed < 3, `took ${elapsed} s`);
      assert.equal(requests(), 1, "the request reached the server");
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

// ---- sleep ----------------------------------------------------------------------------------------

test("sleep(delay, result, { signal }): an abort ends it with CancelledError whose cause is the reason", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const ac = new AbortController();
      const reason = new Error("user pressed stop");
      loop.callLater(0.02, () => ac.abort(reason));
      const start = loop.time();
      await assert.rejects(sleep(5, "x", { signal: ac.signal }), (e) => assertAborted(e, reason));
      assert.ok(loop.time() - start < 1);
      // The task was not cancelled: it goes on.
      assert.equal(currentTask()!.cancelling(), 0);
      assert.equal(await sleep(0.001, "after"), "after");
      // Not aborted: the result, as without a signal.
      assert.equal(await sleep(0.001, "r", { signal: new AbortController().signal }), "r");
    })
  ));

test("sleep with an already-aborted signal fails at once; a bad signal is a TypeError", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const start = loop.time();
      await assert.rejects(sleep(5, undefined, { signal: AbortSignal.abort("early") }), (e) => assertAborted(e, "early"));
      assert.ok(loop.time() - start < 0.5);
      await assert.rejects(
        sleep(0.01, undefined, { signal: {} as AbortSignal }),
        (e) => e instanceof TypeError && /sleep\(\): signal must be an AbortSignal/.test(e.message),
      );
    })
  ));

test("many sleeps and waitFors on one long-lived signal leave no listener behind", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const counted = countedSignal(new AbortController().signal);
      for (let i = 0; i < 500; i++) {
        await sleep(0, i, { signal: counted.signal });
        await waitFor(sleep(0, i), 1, { signal: counted.signal });
      }
      // Also when the operation ends by its own failure or by a timeout.
      for (let i = 0; i < 20; i++) {
        await assert.rejects(waitFor(sleep(1), 0.001, { signal: counted.signal }), TimeoutError);
        await assert.rejects(
          waitFor(async () => {
            throw new RangeError("own failure");
          }, 1, { signal: counted.signal }),
          RangeError,
        );
      }
      assert.equal(counted.live(), 0);
    })
  ));

// ---- waitFor ------------------------------------------------------------------------------------

test("waitFor(aw, timeout, { signal }): an abort cancels aw and fails with the reason as cause", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const ac = new AbortController();
      let innerCancelled = false;
      loop.callLater(0.02, () => ac.abort("enough"));
      await assert.rejects(
        waitFor(async () => {
          try {
            await sleep(10);
          } catch (e) {
            innerCancelled = e instanceof CancelledError;
            throw e;
          }
        }, 5, { signal: ac.signal }),
        (e) => assertAborted(e, "enough"),
      );
      assert.ok(innerCancelled, "the awaited coroutine saw the cancellation");
      assert.equal(currentTask()!.cancelling(), 0, "the abort's cancel was taken back");
      // timeout null with a signal; and an already-aborted one cancels a Future at once.
      const ac2 = new AbortController();
      loop.callLater(0.01, () => ac2.abort());
      await assert.rejects(waitFor(sleep(10), null, { signal: ac2.signal }), CancelledError);
      const fut = loop.createFuture();
      await assert.rejects(waitFor(fut, 5, { signal: AbortSignal.abort("x") }), (e) => assertAborted(e, "x"));
      assert.ok(fut.cancelled());
      await assert.rejects(waitFor(sleep(0), 1, { signal: 42 as unknown as AbortSignal }), TypeError);
    })
  ));

test("waitFor with a signal outside a task (Promise-backed caller) cancels the inner task", () =>
  withLoop(async (loop) => {
    const ac = new AbortController();
    const caller = (async () => {
      await Promise.resolve();
      return await waitFor(() => sleep(10), 5, { signal: ac.signal });
    })();
    loop.callLater(0.02, () => ac.abort("outside"));
    await assert.rejects(loop.runUntilComplete(caller), (e) => assertAborted(e, "outside"));
  }));

test("a cancel of the caller while waitFor has a signal stays a plain cancellation", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const ac = new AbortController();
      const t = createTask(() => waitFor(sleep(10), 5, { signal: ac.signal }));
      await sleep(0.01);
      t.cancel("from outside");
      await assert.rejects(t.then(), (e) => e instanceof CancelledError && e.message === "from outside");
      assert.equal(ac.signal.aborted, false);
    })
  ));

// ---- connections ------------------------------------------------------------------------------

test("openConnection({ signal }): an abort during a TLS handshake the server never answers closes the socket", async () => {
  // On Windows the process's first default context (ssl: true) opens crypt32's store registry
  // keys, a mutex, a window station and a desktop for good (10 handles under Wine 8.0; none for
  // a second context): count from after it.
  createDefaultContext();
  const before = await stableFdCount();
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const held: { close(): void }[] = [];
      const server = await startServer((_r, w) => {
        held.push(w); // accept and stay silent: the client's handshake waits
      }, "127.0.0.1", 0);
      const port = (server.sockets[0]!.getsockname() as [string, number])[1];
      const ac = new AbortController();
      loop.callLater(0.1, () => ac.abort(new Error("gave up")));
      const start = loop.time();
      await assert.rejects(
        openConnection("127.0.0.1", port, { ssl: true, serverHostname: "localhost", signal: ac.signal }),
        (e) => e instanceof CancelledError && (e.cause as Error).message === "gave up",
      );
      assert.ok(loop.time() - start < 5);
      // The loop and the server are fine: a plain connection still works.
      const [, writer] = await openConnection("127.0.0.1", port, { signal: new AbortController().signal });
      writer.close();
      await writer.waitClosed();
      for (const w of held) w.close();
      server.close();
      await server.waitClosed();
    })
  );
  assert.equal(await fdCountSettled(before), before);
});

test("createConnection with an already-aborted signal fails at once and opens nothing; a bad signal is a TypeError", async () => {
  const before = await stableFdCount();
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      await assert.rejects(
        loop.createConnection(() => new Protocol(), "127.0.0.1", 9, { signal: AbortSignal.abort("no") }),
        (e) => assertAborted(e, "no"),
      );
      await assert.rejects(
        openConnection("127.0.0.1", 9, { signal: "nope" as unknown as AbortSignal }),
        (e) => e instanceof TypeError && /createConnection\(\): signal must be an AbortSignal/.test(e.message),
      );
    })
  );
  assert.equal(await fdCountSettled(before), before);
});

// ---- subprocesses ---------------------------------------------------------------------------------

test("Process.wait({ signal }) and communicate(input, { signal }): an abort stops the waiting, not the child", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const proc = await createSubprocessExec(...children.sleep(30), { stdout: PIPE });
      const ac = new AbortController();
      loop.callLater(0.05, () => ac.abort("stop waiting"));
      await assert.rejects(proc.wait({ signal: ac.signal }), (e) => assertAborted(e, "stop waiting"));
      assert.equal(proc.returncode, null, "the child still runs");
      const ac2 = new AbortController();
      loop.callLater(0.05, () => ac2.abort("no output"));
      await assert.rejects(proc.communicate(null, { signal: ac2.signal }), (e) => assertAborted(e, "no output"));
      await assert.rejects(proc.wait({ signal: AbortSignal.abort("at once") }), (e) => assertAborted(e, "at once"));
      await assert.rejects(proc.wait({ signal: 1 as unknown as AbortSignal }), TypeError);
      await assert.rejects(proc.communicate(null, { signal: 1 as unknown as AbortSignal }), TypeError);
      proc.kill();
      assert.equal(await proc.wait({ signal: new AbortController().signal }), killedReturncode(9));
    })
  ));
