/**
 * Future (asyncio.Future) on a real loop: states, results, exceptions, cancellation,
 * done-callbacks (always through the loop), awaiting, and the "exception was never retrieved"
 * report in debug mode.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type BaseEventLoop, CancelledError, Future, InvalidStateError, isFuture, RuntimeError,
  setEventLoop, sleep, ValueError,
} from "../../../mod.ts";
import { collectGarbage } from "../../../ffi/runtime.ts";
import { captureExceptions, withLoop } from "../../helpers.ts";

/** Run one loop iteration-ish: until the callbacks queued now (and what they queue) ran. */
function runSoon(loop: BaseEventLoop, iterations = 1): Promise<void> {
  return loop.runUntilComplete(async () => {
    for (let i = 0; i < iterations; i++) await sleep(0);
  });
}

test("new Future() without a loop takes the running loop, else the current one; none is RuntimeError, a non-loop TypeError", () =>
  withLoop(async (loop) => {
    const [inside] = await loop.runUntilComplete(async () => [new Future()]);
    assert.equal(inside.getLoop(), loop);
    setEventLoop(loop);
    try {
      assert.equal(new Future().getLoop(), loop);
    } finally {
      setEventLoop(null);
    }
    assert.throws(() => new Future(), (e: unknown) =>
      e instanceof RuntimeError && /no current event loop/.test((e as Error).message));
    for (const bad of [null, "loop", 3, {}]) {
      // deno-lint-ignore no-explicit-any
      assert.throws(() => new Future(bad as any), (e: unknown) =>
        e instanceof TypeError && /a Future needs an event loop/.test((e as Error).message));
    }
    // The loop survives the bad calls.
    assert.equal(await loop.runUntilComplete(async () => 7), 7);
  }));

test("a new future is pending: result() and exception() are InvalidStateError", () =>
  withLoop((loop) => {
    const fut = loop.createFuture<number>();
    assert.ok(fut instanceof Future);
    assert.ok(isFuture(fut));
    assert.equal(isFuture(Promise.resolve(1)), false);
    assert.equal(fut.getLoop(), loop);
    assert.equal(fut.done(), false);
    assert.equal(fut.cancelled(), false);
    assert.throws(() => fut.result(), InvalidStateError);
    assert.throws(() => fut.exception(), InvalidStateError);
    assert.equal(String(fut), "<Future pending>");
  }));

test("setResult: done, result() returns it, exception() is undefined; a second set is InvalidStateError", () =>
  withLoop((loop) => {
    const fut = loop.createFuture<string>();
    fut.setResult("r");
    assert.equal(fut.done(), true);
    assert.equal(fut.cancelled(), false);
    assert.equal(fut.result(), "r");
    assert.equal(fut.exception(), undefined);
    assert.throws(() => fut.setResult("again"), InvalidStateError);
    assert.throws(() => fut.setException(new Error("x")), InvalidStateError);
    assert.equal(fut.cancel(), false);
    assert.equal(fut.result(), "r");
    assert.equal(String(fut), '<Future finished result="r">');
  }));

test("String(future) shows the result or exception, as asyncio's repr", () =>
  withLoop((loop) => {
    const values: [unknown, string][] = [
      [42, "result=42"], [undefined, "result=undefined"], [[1, "a"], '[1, "a"]'],
      [new Map(), "result=Map"], ["x".repeat(100), "..."],
    ];
    for (const [value, shown] of values) {
      const fut = loop.createFuture();
      fut.setResult(value);
      assert.ok(String(fut).includes(shown), `${String(fut)} lacks ${shown}`);
    }
    const failed = loop.createFuture();
    failed.setException(new ValueError("bad value"));
    assert.equal(String(failed), "<Future finished exception=ValueError: bad value>");
    failed.exception();
  }));

test("setResult(undefined) is a result, not an exception", () =>
  withLoop((loop) => {
    const fut = loop.createFuture<undefined>();
    fut.setResult(undefined);
    assert.equal(fut.result(), undefined);
    assert.equal(fut.exception(), undefined);
  }));

test("setException: result() throws it, exception() returns it; bad exceptions are TypeError", () =>
  withLoop((loop) => {
    const fut = loop.createFuture();
    const err = new ValueError("bad");
    fut.setException(err);
    assert.equal(fut.done(), true);
    assert.equal(fut.cancelled(), false);
    assert.equal(fut.exception(), err);
    assert.throws(() => fut.result(), (e) => e === err);
    assert.throws(() => fut.setResult(1), InvalidStateError);
    const other = loop.createFuture();
    assert.throws(() => other.setException(undefined), TypeError);
    assert.throws(() => other.setException(null), TypeError);
    assert.equal(other.done(), false);
    // A non-Error value (JavaScript can throw anything) is still an exception.
    other.setException("plain string");
    assert.equal(other.exception(), "plain string");
    // asyncio accepts a CancelledError as an exception (gather uses it): not cancelled().
    const failed = loop.createFuture();
    const cancelled = new CancelledError("as exception");
    failed.setException(cancelled);
    assert.equal(failed.cancelled(), false);
    assert.equal(failed.exception(), cancelled);
  }));

test("cancel(msg): cancelled, result()/exception() raise CancelledError with the message", () =>
  withLoop((loop) => {
    const fut = loop.createFuture();
    assert.equal(fut.cancel("stop it"), true);
    assert.equal(fut.cancelled(), true);
    assert.equal(fut.done(), true);
    assert.throws(() => fut.result(), (e) => e instanceof CancelledError && e.message === "stop it");
    assert.throws(() => fut.exception(), CancelledError);
    assert.equal(fut.cancel("again"), false);
    assert.throws(() => fut.setResult(1), InvalidStateError);
    assert.throws(() => fut.result(), (e) => (e as Error).message === "stop it");
    assert.equal(String(fut), "<Future cancelled>");
    const plain = loop.createFuture();
    plain.cancel();
    assert.throws(() => plain.result(), (e) => e instanceof CancelledError && e.message === "");
  }));

test("done-callbacks run through the loop, never inside setResult, in registration order", () =>
  withLoop(async (loop) => {
    const fut = loop.createFuture<number>();
    const calls: string[] = [];
    fut.addDoneCallback((f) => calls.push(`a:${f.result()}`));
    fut.addDoneCallback((f) => calls.push(`b:${f === fut}`));
    let seenInside: string[] = ["unset"];
    loop.callSoon(() => {
      fut.setResult(7);
      seenInside = [...calls];
    });
    await runSoon(loop, 3);
    assert.deepEqual(seenInside, []);
    assert.deepEqual(calls, ["a:7", "b:true"]);
  }));

test("setException and cancel also schedule callbacks instead of calling them", () =>
  withLoop(async (loop) => {
    const a = loop.createFuture(), b = loop.createFuture();
    const calls: string[] = [];
    a.addDoneCallback((f) => calls.push(`a:${(f.exception() as Error).message}`));
    b.addDoneCallback((f) => calls.push(`b:${f.cancelled()}`));
    a.setException(new Error("E"));
    b.cancel();
    assert.deepEqual(calls, []);
    await runSoon(loop);
    assert.deepEqual(calls, ["a:E", "b:true"]);
  }));

test("a callback added after done is scheduled (not called at once)", () =>
  withLoop(async (loop) => {
    const fut = loop.createFuture<string>();
    fut.setResult("x");
    const calls: string[] = [];
    fut.addDoneCallback((f) => calls.push(f.result()));
    assert.deepEqual(calls, []);
    await runSoon(loop);
    assert.deepEqual(calls, ["x"]);
  }));

test("removeDoneCallback removes every registration and returns the count", () =>
  withLoop(async (loop) => {
    const fut = loop.createFuture();
    const calls: string[] = [];
    const a = () => calls.push("a");
    const b = () => calls.push("b");
    fut.addDoneCallback(a);
    fut.addDoneCallback(b);
    fut.addDoneCallback(a);
    assert.equal(fut.removeDoneCallback(a), 2);
    assert.equal(fut.removeDoneCallback(a), 0);
    fut.setResult(1);
    await runSoon(loop);
    assert.deepEqual(calls, ["b"]);
  }));

test("addDoneCallback with a non-function is a TypeError", () =>
  withLoop((loop) => {
    const fut = loop.createFuture();
    // deno-lint-ignore no-explicit-any
    const anyFut = fut as any;
    assert.throws(() => anyFut.addDoneCallback(42), TypeError);
    assert.throws(() => anyFut.addDoneCallback(null), TypeError);
    fut.setResult(1);
    assert.throws(() => anyFut.addDoneCallback("cb"), TypeError);
  }));

test("addDoneCallback refuses an async function with TypeError; setResult and the task's end still work", () =>
  withLoop(async (loop) => {
    const isRefused = (e: unknown) =>
      e instanceof TypeError && /coroutines cannot be used with addDoneCallback\(\)/.test((e as Error).message);
    const fut = loop.createFuture<number>();
    assert.throws(() => fut.addDoneCallback(async () => {}), isRefused);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => fut.addDoneCallback(async function* () {} as any), isRefused);
    const calls: number[] = [];
    fut.addDoneCallback((f) => calls.push(f.result()));
    fut.setResult(5); // it threw here before: the async callback was refused only by callSoon
    const task = loop.createTask(async () => 6);
    assert.throws(() => task.addDoneCallback(async () => {}), isRefused);
    assert.equal(await loop.runUntilComplete(task), 6);
    assert.deepEqual(calls, [5]);
    assert.throws(() => fut.addDoneCallback(async () => {}), isRefused); // done: same refusal
  }));

test("an exception in a done-callback goes to the exception handler; the other callbacks run", () =>
  withLoop(async (loop) => {
    const seen = captureExceptions(loop);
    const fut = loop.createFuture();
    const boom = new Error("cb boom");
    let second = false;
    fut.addDoneCallback(() => {
      throw boom;
    });
    fut.addDoneCallback(() => (second = true));
    fut.setResult(1);
    await runSoon(loop);
    assert.equal(second, true);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].exception, boom);
  }));

test("await fut returns the result set later by a loop callback", () =>
  withLoop(async (loop) => {
    const fut = loop.createFuture<number>();
    loop.callLater(0.01, () => fut.setResult(42));
    const got = await loop.runUntilComplete(async () => await fut);
    assert.equal(got, 42);
  }));

test("await fut throws its exception; await of a cancelled future throws CancelledError", () =>
  withLoop(async (loop) => {
    const failing = loop.createFuture();
    const err = new ValueError("v");
    loop.callSoon(() => failing.setException(err));
    const caught = await loop.runUntilComplete(async () => {
      try {
        await failing;
        return "no error";
      } catch (e) {
        return e;
      }
    });
    assert.equal(caught, err);
    const cancelled = loop.createFuture();
    loop.callSoon(() => cancelled.cancel("why"));
    const c = await loop.runUntilComplete(async () => {
      try {
        await cancelled;
      } catch (e) {
        return e;
      }
    });
    assert.ok(c instanceof CancelledError);
    assert.equal(c.message, "why");
  }));

test("then chaining, catch and finally behave like a Promise's", () =>
  withLoop(async (loop) => {
    const fut = loop.createFuture<number>();
    const chained = fut.then((v) => v + 1).then((v) => v * 10);
    const bad = loop.createFuture<number>();
    const caught = bad.catch((e) => `caught ${(e as Error).message}`);
    let finallyRan = 0;
    const fin = fut.finally(() => finallyRan++);
    const badFin = bad.finally(() => finallyRan++);
    const both = fut.then(undefined, () => "not called");
    loop.callSoon(() => {
      fut.setResult(4);
      bad.setException(new Error("E"));
    });
    const results = await loop.runUntilComplete(async () => {
      const r = [await chained, await caught, await fin, await both];
      await assert.rejects(badFin, /E/);
      return r;
    });
    assert.deepEqual(results, [50, "caught E", 4, 4]);
    assert.equal(finallyRan, 2);
  }));

test("awaiting an already-done future costs no loop iteration (asyncio __await__ returns at once)", () =>
  withLoop(async (loop) => {
    const fut = loop.createFuture<string>();
    fut.setResult("done");
    const order: string[] = [];
    const r = await loop.runUntilComplete(async () => {
      loop.callSoon(() => order.push("callback"));
      const v = await fut;
      order.push("resumed");
      return v;
    });
    assert.equal(r, "done");
    assert.deepEqual(order, ["resumed", "callback"]);
  }));

test("sleep(0) yields exactly one loop iteration", () =>
  withLoop(async (loop) => {
    const order: string[] = [];
    await loop.runUntilComplete(async () => {
      loop.callSoon(() => {
        order.push("queued before");
        loop.callSoon(() => order.push("next iteration"));
      });
      await sleep(0);
      order.push("resumed");
      await sleep(0);
      order.push("resumed again");
    });
    assert.deepEqual(order, ["queued before", "resumed", "next iteration", "resumed again"]);
  }));

test("a task woken by a handle resumes before the handles queued after it (asyncio order)", () =>
  withLoop(async (loop) => {
    const order: string[] = [];
    const fut = loop.createFuture<number>();
    const task = loop.createTask(async () => {
      const v = await fut;
      order.push(`task resumed with ${v}`);
      await sleep(0);
      order.push("task after sleep(0)");
    });
    await loop.runUntilComplete(async () => {}); // start the task: it awaits fut
    loop.callSoon(() => {
      fut.setResult(7); // queues the task's wakeup…
      loop.callSoon(() => order.push("queued after the wakeup")); // …and then this
    });
    await loop.runUntilComplete(task);
    assert.deepEqual(order, [
      "task resumed with 7", "queued after the wakeup", "task after sleep(0)",
    ]);
  }));

test("a future is reusable by many awaiters; all get the result", () =>
  withLoop(async (loop) => {
    const fut = loop.createFuture<number>();
    const tasks = [1, 2, 3].map((k) => loop.createTask(async () => (await fut) * k));
    loop.callLater(0.005, () => fut.setResult(10));
    for (const t of tasks) await loop.runUntilComplete(t);
    assert.deepEqual(tasks.map((t) => t.result()), [10, 20, 30]);
  }));

// ---- "Future exception was never retrieved" --------------------------------------------------

/**
 * Make a future fail in a separate function so no reference survives on this stack, then
 * collect garbage and let the loop (and the host, which runs finalizers) turn a few times.
 */
async function unretrievedReports(
  loop: BaseEventLoop,
  make: (loop: BaseEventLoop) => void,
  { debug = true, reports = 1 } = {},
): Promise<{ message: string; exception?: unknown; repr?: unknown }[]> {
  const seen = captureExceptions(loop);
  loop.setDebug(debug);
  await loop.runUntilComplete(async () => {
    make(loop);
    await sleep(0.001);
  });
  for (let i = 0; i < 20 && seen.length < reports; i++) {
    assert.ok(collectGarbage(), "this test needs gc (Deno: --v8-flags=--expose-gc)");
    await loop.runUntilComplete(() => sleep(0.005));
  }
  return seen;
}

test("debug mode: a future whose exception is never retrieved is reported after GC", () =>
  withLoop(async (loop) => {
    const err = new ValueError("lost");
    const seen = await unretrievedReports(loop, (loop) => {
      loop.createFuture().setException(err);
    });
    assert.equal(seen.length, 1, "expected one report");
    assert.match(seen[0].message, /Future exception was never retrieved/);
    assert.equal(seen[0].exception, err);
  }));

test("debug mode: a task whose exception is never retrieved is reported as a Task", () =>
  withLoop(async (loop) => {
    const err = new ValueError("task lost");
    const seen = await unretrievedReports(loop, (loop) => {
      loop.createTask(async () => {
        throw err;
      });
    });
    assert.equal(seen.length, 1, "expected one report");
    assert.match(seen[0].message, /Task exception was never retrieved/);
    assert.equal(seen[0].exception, err);
  }));

test("debug mode: no report when the exception was retrieved (exception(), result(), await)", () =>
  withLoop(async (loop) => {
    const seen = await unretrievedReports(loop, (loop) => {
      const a = loop.createFuture();
      a.setException(new Error("a"));
      a.exception();
      const b = loop.createFuture();
      b.setException(new Error("b"));
      try {
        b.result();
      } catch { /* retrieved */ }
      const c = loop.createFuture();
      c.setException(new Error("c"));
      c.catch(() => {});
      const d = loop.createFuture();
      d.addDoneCallback((f) => f.exception());
      d.setException(new Error("d"));
      const e = loop.createFuture();
      e.cancel(); // a cancelled future has no exception to lose
    });
    assert.deepEqual(seen, []);
  }));

test("debug off too: an unretrieved Future or Task exception is reported after GC (asyncio __del__)", () =>
  withLoop(async (loop) => {
    const futureError = new ValueError("future lost");
    const taskError = new ValueError("task lost");
    const seen = await unretrievedReports(loop, (loop) => {
      loop.createFuture().setException(futureError);
      loop.createTask(async () => {
        throw taskError;
      }, { name: "forgotten" });
    }, { debug: false, reports: 2 });
    assert.equal(seen.length, 2, "expected two reports");
    const byMessage = new Map(seen.map((ctx) => [ctx.message, ctx]));
    const forFuture = byMessage.get("Future exception was never retrieved");
    const forTask = byMessage.get("Task exception was never retrieved");
    assert.equal(forFuture?.exception, futureError);
    assert.equal(forTask?.exception, taskError);
    // The task itself is gone (that is why it is reported): the context names it.
    assert.match(String(forTask?.repr), /^<Task forgotten finished exception=ValueError: task lost>$/);
    assert.match(String(forFuture?.repr), /^<Future finished exception=ValueError: future lost>$/);
  }));
