/**
 * The module-level coroutine helpers on a real loop and real time: sleep, ensureFuture, gather,
 * waitFor.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  allTasks, type BaseEventLoop, CancelledError, ensureFuture, gather, newEventLoop, RuntimeError,
  setEventLoop, sleep, Task, TimeoutError, ValueError, waitFor,
} from "../../../mod.ts";
import { captureExceptions, settle, withLoop } from "../../helpers.ts";

/** A callback that reschedules itself: counts loop iterations. */
function iterationCounter(loop: BaseEventLoop): { count: number; stop(): void } {
  const c = {
    count: 0,
    stopped: false,
    stop() {
      c.stopped = true;
    },
  };
  const tick = () => {
    if (c.stopped) return;
    c.count++;
    loop.callSoon(tick);
  };
  loop.callSoon(tick);
  return c;
}

// ---- sleep -------------------------------------------------------------------------------------

test("sleep(seconds, result) waits about that long and returns result", () =>
  withLoop(async (loop) => {
    const start = loop.time();
    const r = await loop.runUntilComplete(() => sleep(0.05, "payload"));
    const elapsed = loop.time() - start;
    assert.equal(r, "payload");
    assert.ok(elapsed >= 0.05 - 0.001, `woke early: ${elapsed}`);
    assert.ok(elapsed < 0.5, `woke late: ${elapsed}`);
    assert.equal(await loop.runUntilComplete(() => sleep(0.001)), undefined);
  }));

test("concurrent sleeps wake in deadline order, not creation order", () =>
  withLoop(async (loop) => {
    const order: number[] = [];
    const mk = (d: number) => loop.createTask(async () => order.push(await sleep(d, d)));
    const tasks = [mk(0.03), mk(0.01), mk(0.02)];
    const start = loop.time();
    await loop.runUntilComplete(gather(...tasks));
    assert.deepEqual(order, [0.01, 0.02, 0.03]);
    const elapsed = loop.time() - start;
    assert.ok(elapsed >= 0.029 && elapsed < 0.5, `ran concurrently in ${elapsed}`);
  }));

test("sleep(0) yields to the loop for exactly one iteration", () =>
  withLoop(async (loop) => {
    const counts = await loop.runUntilComplete(async () => {
      const it = iterationCounter(loop);
      await sleep(0.001); // let the counter run
      const seen: number[] = [];
      for (let i = 0; i < 5; i++) {
        const before = it.count;
        await sleep(0);
        seen.push(it.count - before);
      }
      const before = it.count;
      await sleep(-1); // a negative delay is sleep(0)
      seen.push(it.count - before);
      it.stop();
      return seen;
    });
    assert.deepEqual(counts, [1, 1, 1, 1, 1, 1]);
  }));

test("sleep(0) lets other tasks interleave", () =>
  withLoop(async (loop) => {
    const log: string[] = [];
    const worker = (name: string) =>
      loop.createTask(async () => {
        for (let i = 0; i < 3; i++) {
          log.push(`${name}${i}`);
          await sleep(0);
        }
      });
    const a = worker("a"), b = worker("b");
    await loop.runUntilComplete(gather(a, b));
    assert.deepEqual(log, ["a0", "b0", "a1", "b1", "a2", "b2"]);
  }));

test("sleep: a non-number is a TypeError, NaN a ValueError, and no running loop a RuntimeError", () =>
  withLoop(async (loop) => {
    const errors = await loop.runUntilComplete(async () => {
      const out: unknown[] = [];
      // deno-lint-ignore no-explicit-any
      for (const bad of ["1", undefined, null, {}, 1n] as any[]) {
        try {
          await sleep(bad);
          out.push("no error");
        } catch (e) {
          out.push(e);
        }
      }
      try {
        await sleep(NaN);
      } catch (e) {
        out.push(e);
      }
      return out;
    });
    for (const e of errors.slice(0, 5)) assert.ok(e instanceof TypeError, String(e));
    assert.ok(errors[5] instanceof ValueError);
    await assert.rejects(sleep(0.001), (e) => e instanceof RuntimeError && /no running event loop/.test(e.message));
    await assert.rejects(sleep(0), RuntimeError);
  }));

test("a cancelled sleep leaves no timer behind", () =>
  withLoop(async (loop) => {
    const task = loop.createTask(() => sleep(30));
    loop.callLater(0.002, () => task.cancel());
    await settle(loop, task);
    assert.equal(task.cancelled(), true);
    // Had the 30s timer stayed in the heap, the loop would still be able to run instantly,
    // but a fresh sleep proves the loop works and is not held up by it.
    const start = loop.time();
    await loop.runUntilComplete(() => sleep(0.005));
    assert.ok(loop.time() - start < 1);
  }));

// ---- ensureFuture ------------------------------------------------------------------------------

test("ensureFuture: a Future is returned as is; a Promise and a coroutine function are wrapped", () =>
  withLoop(async (loop) => {
    const fut = loop.createFuture<number>();
    assert.equal(ensureFuture(fut), fut);
    assert.equal(ensureFuture(fut, { loop }), fut);
    const task = loop.createTask(async () => 1);
    assert.equal(ensureFuture(task), task);
    const fromPromise = ensureFuture(Promise.resolve("p"), { loop });
    assert.ok(fromPromise instanceof Task);
    const fromCoro = ensureFuture(async () => {
      await sleep(0.001);
      return "c";
    }, { loop });
    assert.ok(fromCoro instanceof Task);
    assert.equal(fromCoro.getLoop(), loop);
    fut.setResult(3);
    assert.deepEqual(
      await loop.runUntilComplete(gather(fut, task, fromPromise, fromCoro)),
      [3, 1, "p", "c"],
    );
  }));

test("ensureFuture without a loop uses the running loop; bad input is a TypeError", () =>
  withLoop(async (loop) => {
    const [t] = await loop.runUntilComplete(async () => [ensureFuture(async () => "inside")]);
    assert.equal(t.getLoop(), loop);
    assert.equal(await loop.runUntilComplete(t), "inside");
    // deno-lint-ignore no-explicit-any
    const anyEnsure = ensureFuture as any;
    assert.throws(() => anyEnsure(42, { loop }), TypeError);
    assert.throws(() => anyEnsure("str", { loop }), TypeError);
    const other = newEventLoop();
    try {
      assert.throws(() => ensureFuture(other.createFuture(), { loop }), ValueError);
    } finally {
      other.close();
    }
  }));

// ---- gather ------------------------------------------------------------------------------------

test("gather returns results in argument order, not completion order", () =>
  withLoop(async (loop) => {
    const r = await loop.runUntilComplete(async () =>
      await gather(
        sleep(0.03, "slow"),
        async () => {
          await sleep(0.01);
          return "fast";
        },
        loop.createTask(() => sleep(0.02, "mid")),
      )
    );
    assert.deepEqual(r, ["slow", "fast", "mid"]);
  }));

test("gather of nothing is a done future with []", () =>
  withLoop(async (loop) => {
    // (Wrapped in an array: an async function returning a Future would await it.)
    const [g] = await loop.runUntilComplete(async () => [gather()]);
    assert.equal(g.done(), true);
    assert.deepEqual(g.result(), []);
  }));

test("gather of the same future twice gives its result twice", () =>
  withLoop(async (loop) => {
    const fut = loop.createFuture<string>();
    loop.callLater(0.002, () => fut.setResult("twice"));
    assert.deepEqual(await loop.runUntilComplete(gather(fut, fut)), ["twice", "twice"]);
  }));

test("gather: the first exception propagates; the other children keep running", () =>
  withLoop(async (loop) => {
    const err = new ValueError("first");
    const release = loop.createFuture<void>();
    let slowFinished = false;
    const slow = loop.createTask(async () => {
      await release;
      slowFinished = true;
      return "slow";
    });
    const g = gather(
      slow,
      async () => {
        await sleep(0.002);
        throw err;
      },
      async () => {
        await sleep(0.004);
        throw new Error("second");
      },
    );
    await settle(loop, g);
    assert.equal(g.exception(), err);
    assert.equal(slow.done(), false, "a failing child does not cancel the others");
    release.setResult();
    assert.equal(await loop.runUntilComplete(slow), "slow");
    assert.equal(slowFinished, true);
  }));

test("gather returnExceptions collects exceptions (and cancellations) in place", () =>
  withLoop(async (loop) => {
    const err = new ValueError("collected");
    const cancelledChild = loop.createTask(() => sleep(10));
    loop.callLater(0.002, () => cancelledChild.cancel("child msg"));
    const r = await loop.runUntilComplete(gather(
      () => sleep(0.001, 1),
      (async () => {
        throw err;
      })(),
      cancelledChild,
      { returnExceptions: true },
    ));
    assert.equal(r.length, 3);
    assert.equal(r[0], 1);
    assert.equal(r[1], err);
    assert.ok(r[2] instanceof CancelledError);
    assert.equal((r[2] as Error).message, "child msg");
  }));

test("cancelling the gather cancels every child; the gather fails with CancelledError (3.12)", () =>
  withLoop(async (loop) => {
    const finallies: string[] = [];
    const child = (name: string) =>
      loop.createTask(async () => {
        try {
          await sleep(10);
        } finally {
          finallies.push(name);
        }
      });
    const a = child("a"), b = child("b");
    const done = loop.createFuture<string>();
    done.setResult("already");
    const g = gather(a, b, done);
    loop.callLater(0.005, () => assert.equal(g.cancel("stop all"), true));
    await settle(loop, g);
    assert.equal(g.cancelled(), false);
    assert.ok(g.exception() instanceof CancelledError);
    assert.equal((g.exception() as Error).message, "stop all");
    assert.equal(a.cancelled(), true);
    assert.equal(b.cancelled(), true);
    assert.deepEqual(finallies.sort(), ["a", "b"]);
    assert.equal(g.cancel(), false);
  }));

test("cancelling a gather with returnExceptions still fails it with CancelledError (asyncio)", () =>
  withLoop(async (loop) => {
    const a = loop.createTask(() => sleep(10));
    const g = gather(a, () => sleep(10), { returnExceptions: true });
    loop.callLater(0.003, () => g.cancel());
    await settle(loop, g);
    assert.ok(g.exception() instanceof CancelledError);
    assert.equal(a.cancelled(), true);
  }));

test("cancelling a gather whose child swallows the cancel: the gather still fails with CancelledError", () =>
  withLoop(async (loop) => {
    const stubborn = loop.createTask(async () => {
      try {
        await sleep(10);
      } catch {
        return "ignored the cancel";
      }
    });
    const g = gather(stubborn);
    loop.callLater(0.003, () => g.cancel());
    await settle(loop, g);
    assert.equal(stubborn.result(), "ignored the cancel");
    assert.ok(g.exception() instanceof CancelledError);
  }));

test("a cancelled child fails the gather with CancelledError (without returnExceptions)", () =>
  withLoop(async (loop) => {
    const victim = loop.createTask(() => sleep(10));
    const release = loop.createFuture<string>();
    const other = loop.createTask(async () => await release);
    const g = gather(victim, other);
    loop.callLater(0.003, () => victim.cancel("victim"));
    await settle(loop, g);
    assert.equal(g.cancelled(), false);
    assert.throws(() => g.result(), (e) => e instanceof CancelledError && e.message === "victim");
    assert.equal(other.done(), false, "the other children are not cancelled");
    release.setResult("other");
    assert.equal(await loop.runUntilComplete(other), "other");
  }));

test("a task awaiting a gather: cancelling the task cancels the gather's children", () =>
  withLoop(async (loop) => {
    const a = loop.createTask(() => sleep(10));
    const b = loop.createTask(() => sleep(10));
    const outer = loop.createTask(async () => await gather(a, b));
    loop.callLater(0.003, () => outer.cancel());
    await settle(loop, outer);
    assert.equal(outer.cancelled(), true);
    assert.equal(a.cancelled() && b.cancelled(), true);
  }));

test("gather: exceptions of children that end after the gather failed are not reported", () =>
  withLoop(async (loop) => {
    loop.setDebug(true);
    const seen = captureExceptions(loop);
    const g = gather(
      loop.createTask(async () => {
        throw new Error("first");
      }),
      loop.createTask(async () => {
        await sleep(0.002);
        throw new Error("later");
      }),
    );
    await settle(loop, g);
    assert.equal((g.exception() as Error).message, "first");
    await loop.runUntilComplete(() => sleep(0.01));
    assert.deepEqual(seen, []);
  }));

test("gather of futures from two loops is a ValueError", async () => {
  const a = newEventLoop(), b = newEventLoop();
  try {
    assert.throws(() => gather(a.createFuture(), b.createFuture()), ValueError);
  } finally {
    a.close();
    b.close();
  }
});

// ---- waitFor -----------------------------------------------------------------------------------

test("waitFor: timeout → TimeoutError, the inner task is cancelled and its finally ran", () =>
  withLoop(async (loop) => {
    const log: string[] = [];
    const inner = loop.createTask(async () => {
      try {
        await sleep(10);
      } finally {
        log.push("inner finally");
      }
    });
    const start = loop.time();
    const err = await loop.runUntilComplete(async () => {
      try {
        await waitFor(inner, 0.02);
      } catch (e) {
        log.push("caught");
        return e;
      }
    });
    const elapsed = loop.time() - start;
    assert.ok(err instanceof TimeoutError, String(err));
    assert.ok(elapsed >= 0.019 && elapsed < 0.5, `timed out after ${elapsed}`);
    assert.equal(inner.cancelled(), true);
    assert.deepEqual(log, ["inner finally", "caught"]);
  }));

test("waitFor: completes in time → its result; the timer does not fire later", () =>
  withLoop(async (loop) => {
    const r = await loop.runUntilComplete(() =>
      waitFor(async () => {
        await sleep(0.005);
        return "in time";
      }, 1)
    );
    assert.equal(r, "in time");
    const start = loop.time();
    await loop.runUntilComplete(() => sleep(0.001));
    assert.ok(loop.time() - start < 0.5);
  }));

test("waitFor: an inner exception propagates unchanged", () =>
  withLoop(async (loop) => {
    const err = new ValueError("inner");
    await assert.rejects(
      loop.runUntilComplete(() =>
        waitFor(async () => {
          await sleep(0.001);
          throw err;
        }, 1)
      ),
      (e) => e === err,
    );
  }));

test("waitFor: null timeout waits as long as it takes", () =>
  withLoop(async (loop) => {
    const r = await loop.runUntilComplete(() => waitFor(sleep(0.02, "late"), null));
    assert.equal(r, "late");
  }));

test("waitFor: timeout 0 with a done future returns its result; with a pending one times out", () =>
  withLoop(async (loop) => {
    const done = loop.createFuture<string>();
    done.setResult("ready");
    assert.equal(await loop.runUntilComplete(() => waitFor(done, 0)), "ready");
    let started = false;
    let pending: Promise<unknown> | undefined;
    await assert.rejects(
      loop.runUntilComplete(() =>
        pending = waitFor(async () => {
          started = true;
          await sleep(1);
        }, 0)
      ),
      TimeoutError,
    );
    assert.ok(pending);
    assert.equal(started, false, "cancelled before it ever ran (asyncio)");
    assert.equal(allTasks(loop).size, 0);
    const plain = loop.createFuture();
    await assert.rejects(loop.runUntilComplete(() => waitFor(plain, -1)), TimeoutError);
    assert.equal(plain.cancelled(), true);
  }));

test("waitFor: an inner task that swallows the timeout's cancel returns its value", () =>
  withLoop(async (loop) => {
    const r = await loop.runUntilComplete(() =>
      waitFor(async () => {
        try {
          await sleep(10);
        } catch {
          return "kept";
        }
      }, 0.005)
    );
    assert.equal(r, "kept");
  }));

test("waitFor: cancelling the waiting task cancels the inner one, and is not a TimeoutError", () =>
  withLoop(async (loop) => {
    const inner = loop.createTask(() => sleep(10));
    const outer = loop.createTask(() => waitFor(inner, 5));
    loop.callLater(0.003, () => outer.cancel());
    await settle(loop, outer);
    assert.equal(outer.cancelled(), true);
    assert.equal(inner.cancelled(), true);
  }));

test("waitFor: a bad timeout is a TypeError (NaN: ValueError)", () =>
  withLoop(async (loop) => {
    const fut = loop.createFuture();
    fut.setResult(1);
    // deno-lint-ignore no-explicit-any
    await assert.rejects(loop.runUntilComplete(() => waitFor(fut, "1" as any)), TypeError);
    await assert.rejects(loop.runUntilComplete(() => waitFor(fut, NaN)), ValueError);
  }));

test("test_cancel_gather_1: a gather whose children are done refuses cancel() (bpo-26923)", () =>
  withLoop(async (loop) => {
    const fut = loop.createFuture<number>();
    const [gatherTask] = await loop.runUntilComplete(async () => {
      // fut -> childCoro: otherwise the gather would be done together with the child future.
      const childCoro = async () => await fut;
      return [ensureFuture(gather(childCoro))]; // in an array: an async function adopts a Future
    });
    let cancelResult: boolean | undefined;
    fut.addDoneCallback(() => {
      cancelResult = gatherTask.cancel();
    });
    fut.setResult(42); // the callback runs after the child task has resumed and finished
    await loop.runUntilComplete(gatherTask);
    assert.equal(cancelResult, false);
    assert.equal(gatherTask.cancelled(), false);
    assert.deepEqual(gatherTask.result(), [42]);
  }));

test("test_one_cancellation: a gather with a cancelled child fails with CancelledError, not cancelled", () =>
  withLoop(async (loop) => {
    const [a, b, c, d, e] = [1, 2, 3, 4, 5].map(() => loop.createFuture<number>());
    const fut = gather(a, b, c, d, e);
    let calls = 0;
    fut.addDoneCallback(() => calls++);
    a.setResult(1);
    b.cancel();
    await loop.runUntilComplete(async () => {}); // run briefly
    await loop.runUntilComplete(async () => {});
    assert.equal(fut.done(), true);
    assert.equal(calls, 1);
    assert.equal(fut.cancelled(), false);
    assert.ok(fut.exception() instanceof CancelledError);
    // Does nothing
    c.setResult(3);
    d.cancel();
    e.setException(new RuntimeError());
    e.exception();
    await loop.runUntilComplete(async () => {});
    assert.equal(calls, 1);
  }));

test("test_result_exception_one_cancellation: returnExceptions collects cancellations in place", () =>
  withLoop(async (loop) => {
    const [a, b, c, d, e, f] = [1, 2, 3, 4, 5, 6].map(() => loop.createFuture<number>());
    const fut = gather(a, b, c, d, e, f, { returnExceptions: true });
    let calls = 0;
    fut.addDoneCallback(() => calls++);
    a.setResult(1);
    const zde = new RangeError("division by zero");
    b.setException(zde);
    c.cancel();
    await loop.runUntilComplete(async () => {});
    assert.equal(fut.done(), false);
    d.setResult(3);
    e.cancel();
    const rte = new RuntimeError();
    f.setException(rte);
    const res = await loop.runUntilComplete(fut) as unknown[];
    assert.ok(res[2] instanceof CancelledError);
    assert.ok(res[4] instanceof CancelledError);
    res[2] = res[4] = null;
    assert.deepEqual(res, [1, zde, null, 3, null, rte]);
    assert.equal(calls, 1);
  }));

/** test_waitfor's SlowTask: runs for TASK_TIMEOUT seconds, ignoring cancel requests. */
class SlowTask {
  static readonly TASK_TIMEOUT = 0.2;
  exited = false;
  async run(): Promise<void> {
    const exitAt = performance.now() / 1000 + SlowTask.TASK_TIMEOUT;
    for (;;) {
      const toSleep = exitAt - performance.now() / 1000;
      if (toSleep <= 0) break;
      try {
        await sleep(toSleep);
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
      }
    }
    this.exited = true;
  }
}

test("test_asyncio_wait_for_cancelled: cancelling a waitFor task at once still runs the coroutine", () =>
  withLoop(async (loop) => {
    const t = new SlowTask();
    await loop.runUntilComplete(async () => {
      const waitForTask = loop.createTask(() => waitFor(() => t.run(), SlowTask.TASK_TIMEOUT * 2));
      await sleep(0);
      waitForTask.cancel();
      const finished = loop.createFuture(); // asyncio.wait({waitForTask})
      waitForTask.addDoneCallback(() => finished.setResult(undefined));
      await finished;
    });
    assert.equal(t.exited, true);
  }));

test("test_asyncio_wait_for_timeout: the coroutine that ignores cancels ran to its end", () =>
  withLoop(async (loop) => {
    const t = new SlowTask();
    await loop.runUntilComplete(async () => {
      try {
        await waitFor(() => t.run(), SlowTask.TASK_TIMEOUT / 2);
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
      }
    });
    assert.equal(t.exited, true);
  }));

test("ensureFuture of a non-awaitable is a TypeError even when there is no event loop", async () => {
  setEventLoop(null); // getEventLoop() would now be a RuntimeError
  try {
    for (const bad of ["ok", 42, null, { a: 1 }]) {
      // deno-lint-ignore no-explicit-any
      assert.throws(() => ensureFuture(bad as any), TypeError, `ensureFuture(${String(bad)})`);
    }
  } finally {
    setEventLoop(null);
  }
});
