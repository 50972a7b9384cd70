/**
 * Every options object of the public API refuses a key it does not know, with a TypeError that
 * names the function and the key (loop/core/options.ts), as Python refuses an unexpected
 * keyword argument; a key differing only in case or underscores gets a "did you mean". The
 * calls are made from JavaScript's side (`as never`): TypeScript already refuses these
 * literals. The loop keeps serving after every refusal.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  asCompleted, type BaseEventLoop, createDefaultContext, createSubprocessExec,
  createSubprocessShell, createTask, DatagramProtocol, ensureFuture, gather, newEventLoop,
  openConnection, openFd, openReadFd, openUnixConnection, openWriteFd, PIPE, PriorityQueue,
  Protocol, readableEvents, run, sleep, socketpair, startServer, startUnixServer, StreamReader,
  toReadableStream, toWritableStream, wait, waitFor, WebStreamProtocol, WorkerPoolExecutor,
  writableEvents,
} from "../../../mod.ts";
import { fdCountSettled, stableFdCount } from "../../helpers.ts";

const BAD = { bogusKey: 1 } as never;

/** Each public call taking an options object, given BAD; `loop` is running. */
function calls(loop: BaseEventLoop): [string, () => unknown][] {
  const factory = () => new Protocol();
  const [a, b] = socketpair();
  b.setBlocking(false);
  const pair = () => {
    a.close();
    b.close();
  };
  return [
    ["createConnection()", () => loop.createConnection(factory, "127.0.0.1", 9, BAD)],
    ["createServer()", () => loop.createServer(factory, "127.0.0.1", 0, BAD)],
    ["createUnixConnection()", () => loop.createUnixConnection(factory, "/nonexistent", BAD)],
    ["createUnixServer()", () => loop.createUnixServer(factory, null, BAD)],
    ["connectAcceptedSocket()", () => loop.connectAcceptedSocket(factory, a, BAD)],
    ["createDatagramEndpoint()", () => loop.createDatagramEndpoint(() => new DatagramProtocol(), BAD)],
    ["getaddrinfo()", () => loop.getaddrinfo("127.0.0.1", 80, BAD)],
    ["startTls()", () => loop.startTls(null as never, factory(), createDefaultContext(), BAD)],
    ["sockSendfile()", () => loop.sockSendfile(b, 0, 0, null, BAD)],
    ["createTask()", () => loop.createTask(async () => {}, BAD)],
    ["createTask()", () => createTask(async () => {}, BAD)],
    ["subprocessExec()", () => loop.subprocessExec(() => ({}), "true", BAD)],
    ["subprocessShell()", () => loop.subprocessShell(() => ({}), "true", BAD)],
    ["createSubprocessExec()", () => createSubprocessExec("true", BAD)],
    ["createSubprocessShell()", () => createSubprocessShell("true", BAD)],
    ["openConnection()", () => openConnection("127.0.0.1", 9, BAD)],
    ["startServer()", () => startServer(() => {}, "127.0.0.1", 0, BAD)],
    ["openUnixConnection()", () => openUnixConnection("/nonexistent", BAD)],
    ["startUnixServer()", () => startUnixServer(() => {}, null, BAD)],
    ["StreamReader()", () => new StreamReader(BAD)],
    ["gather()", () => gather(sleep(0), BAD)],
    ["wait()", () => wait([loop.createFuture()], BAD)],
    ["asCompleted()", () => asCompleted([], BAD)],
    ["PriorityQueue()", () => new PriorityQueue(0, BAD)],
    ["shutdown()", () => new WorkerPoolExecutor(1).shutdown(true, BAD)],
    ["createDefaultContext()", () => createDefaultContext(undefined, BAD)],
    ["newEventLoop()", () => newEventLoop(BAD)],
    ["sleep()", () => sleep(0, undefined, BAD)],
    ["ensureFuture()", () => ensureFuture(sleep(0), BAD)],
    ["waitFor()", () => waitFor(sleep(0), 1, BAD)],
    ["readableEvents()", () => readableEvents(a.fileno(), BAD)],
    ["writableEvents()", () => writableEvents(a.fileno(), BAD)],
    ["openFd()", () => openFd(a.fileno(), BAD)],
    ["openReadFd()", () => openReadFd(a.fileno(), BAD)],
    ["openWriteFd()", () => openWriteFd(a.fileno(), BAD)],
    ["toReadableStream()", () => toReadableStream(new StreamReader(), BAD)],
    ["toWritableStream()", () => toWritableStream({ write() {} } as never, BAD)],
    ["WebStreamProtocol()", () => new WebStreamProtocol(BAD)],
    ["socketpair", pair], // not a call under test: closes the pair used above
  ];
}

test("every public options object refuses an unknown key, naming the function and the key", async () => {
  const before = await stableFdCount();
  const loop = newEventLoop();
  try {
    await loop.runUntilComplete(async () => {
      for (const [what, call] of calls(loop)) {
        if (what === "socketpair") {
          call();
          continue;
        }
        await assert.rejects(async () => await call(), (e: Error) => {
          assert.equal(e.name, "TypeError", `${what}: ${e}`);
          assert.equal(e.message, `${what} got an unexpected option "bogusKey"`);
          return true;
        }, what);
      }
      // Process.wait() and communicate() take { signal } only.
      const child = await createSubprocessExec("true", { stdin: PIPE });
      for (const [what, call] of [
        ["Process.wait()", () => child.wait(BAD)],
        ["Process.communicate()", () => child.communicate(null, BAD)],
      ] as const) {
        await assert.rejects(call(), { name: "TypeError", message: `${what} got an unexpected option "bogusKey"` });
      }
      await child.communicate();
      // The loop is fine after all of that: a connection still round-trips.
      const server = await startServer(async (r, w) => {
        w.write(await r.readline());
        w.close();
      }, "127.0.0.1", 0);
      const [reader, writer] = await openConnection("127.0.0.1", server.sockets[0]!.getsockname()[1]);
      writer.write(new TextEncoder().encode("still here\n"));
      assert.equal(new TextDecoder().decode(await reader.readline()), "still here\n");
      writer.close();
      server.close();
      await server.waitClosed();
    });
  } finally {
    loop.close();
  }
  assert.equal(await fdCountSettled(before), before, "no fd left open by the refused calls");
});

test("run() refuses an unknown option before starting a loop", async () => {
  await assert.rejects(run(async () => {}, BAD), /^TypeError: run\(\) got an unexpected option "bogusKey"$/);
});

test("a key that differs only in case or underscores gets a 'did you mean'", async () => {
  const loop = newEventLoop();
  try {
    await loop.runUntilComplete(async () => {
      await assert.rejects(
        loop.createServer(() => new Protocol(), "127.0.0.1", 0, { reuse_address: true } as never),
        { name: "TypeError", message: 'createServer() got an unexpected option "reuse_address" (did you mean "reuseAddress"?)' },
      );
      await assert.rejects(
        loop.createConnection(() => new Protocol(), "127.0.0.1", 9, { SSL: true } as never),
        { message: 'createConnection() got an unexpected option "SSL" (did you mean "ssl"?)' },
      );
    });
  } finally {
    loop.close();
  }
});

test("options that are not an object are a TypeError, not a crash inside", async () => {
  const loop = newEventLoop();
  try {
    await loop.runUntilComplete(async () => {
      await assert.rejects(
        loop.createConnection(() => new Protocol(), "127.0.0.1", 9, null as never),
        { name: "TypeError", message: "createConnection(): options must be an object, got null" },
      );
      assert.throws(() => new StreamReader(5 as never), {
        name: "TypeError",
        message: "StreamReader(): options must be an object, got number 5",
      });
    });
  } finally {
    loop.close();
  }
});
