/**
 * CPython 3.12 test_asyncio/test_futures.py, ported: Future states, results, exceptions,
 * cancellation messages, repr, unretrieved-exception reports and done-callbacks. The C and
 * Python Future variants are one class here, so each case is ported once. Left-out cases are
 * listed in tests/cpython/README.md.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CancelledError, ensureFuture, Future, getEventLoop, InvalidStateError, isFuture, RuntimeError,
  setEventLoop, Task,
} from "../../mod.ts";
import { withLoop } from "../helpers.ts";
import { reportsAfterGc } from "./port_utils.ts";
import { runBriefly } from "./utils.ts";

// ---- DuckTests ---------------------------------------------------------------------------------

test("DuckTests.test_ensure_future", () =>
  withLoop(async (loop) => {
    // A duck future in JS is a thenable: asyncio returns a duck future as is (it has
    // _asyncio_future_blocking); aioloop has no such marker and wraps any thenable in a Task
    // (README: coroutines are async functions or Promises).
    let resolveIt!: (v: number) => void;
    const duck: PromiseLike<number> = {
      then(ok, bad) {
        return new Promise<number>((r) => (resolveIt = r)).then(ok, bad);
      },
    };
    const g = ensureFuture(duck, { loop });
    assert.ok(g instanceof Task);
    loop.callLater(0.001, () => resolveIt(7));
    assert.equal(await loop.runUntilComplete(g), 7);
  }));

// ---- BaseFutureTests ---------------------------------------------------------------------------

test("BaseFutureTests.test_isfuture", () =>
  withLoop((loop) => {
    class MyFuture {
      _asyncio_future_blocking = false;
    }
    // No duck typing: isFuture is "an aioloop Future" (asyncio also accepts duck futures).
    assert.equal(isFuture(new MyFuture()), false);
    assert.equal(isFuture(MyFuture), false);
    assert.equal(isFuture(1), false);
    const f = loop.createFuture();
    assert.equal(isFuture(f), true);
    assert.equal(isFuture(Future), false);
    f.cancel();
  }));

test("BaseFutureTests.test_initial_state", () =>
  withLoop((loop) => {
    const f = loop.createFuture();
    assert.equal(f.cancelled(), false);
    assert.equal(f.done(), false);
    f.cancel();
    assert.equal(f.cancelled(), true);
  }));

test("BaseFutureTests.test_constructor_without_loop", () => {
  // asyncio's test case runs after set_event_loop(None): Future() then finds no current loop.
  setEventLoop(null);
  assert.throws(() => new Future(), (e: unknown) =>
    e instanceof RuntimeError && /no current event loop/.test((e as Error).message));
});

test("BaseFutureTests.test_constructor_use_running_loop", () =>
  withLoop(async (loop) => {
    // Wrapped in an array: an async function returning a Future (a thenable) would adopt it.
    const [f] = await loop.runUntilComplete(async () => [getEventLoop().createFuture()]);
    assert.equal(f.getLoop(), loop);
  }));

test("BaseFutureTests.test_constructor_use_global_loop", () =>
  withLoop((loop) => {
    setEventLoop(loop);
    try {
      const f = getEventLoop().createFuture();
      assert.equal(f.getLoop(), loop);
    } finally {
      setEventLoop(null);
    }
  }));

test("BaseFutureTests.test_future_cancel_message_getter", () =>
  withLoop(async (loop) => {
    const f = loop.createFuture();
    f.cancel("my message");
    await assert.rejects(loop.runUntilComplete(f), (e: unknown) =>
      e instanceof CancelledError && e.message === "my message");
    assert.throws(() => f.result(), (e: unknown) =>
      e instanceof CancelledError && e.message === "my message");
  }));

test("BaseFutureTests.test_cancel", () =>
  withLoop((loop) => {
    const f = loop.createFuture();
    assert.equal(f.cancel(), true);
    assert.equal(f.cancelled(), true);
    assert.equal(f.done(), true);
    assert.throws(() => f.result(), CancelledError);
    assert.throws(() => f.exception(), CancelledError);
    assert.throws(() => f.setResult(null), InvalidStateError);
    assert.throws(() => f.setException(null), InvalidStateError);
    assert.equal(f.cancel(), false);
  }));

test("BaseFutureTests.test_result", () =>
  withLoop((loop) => {
    const f = loop.createFuture<number | null>();
    assert.throws(() => f.result(), InvalidStateError);
    f.setResult(42);
    assert.equal(f.cancelled(), false);
    assert.equal(f.done(), true);
    assert.equal(f.result(), 42);
    assert.equal(f.exception(), undefined);
    assert.throws(() => f.setResult(null), InvalidStateError);
    assert.throws(() => f.setException(null), InvalidStateError);
    assert.equal(f.cancel(), false);
  }));

test("BaseFutureTests.test_exception", () =>
  withLoop((loop) => {
    const exc = new RuntimeError();
    const f = loop.createFuture();
    assert.throws(() => f.exception(), InvalidStateError);
    // asyncio refuses StopIteration (it would end the awaiting generator); JS has none. What
    // aioloop refuses instead is no exception at all.
    assert.throws(() => f.setException(undefined), TypeError);
    f.setException(exc);
    assert.equal(f.cancelled(), false);
    assert.equal(f.done(), true);
    assert.throws(() => f.result(), RuntimeError);
    assert.equal(f.exception(), exc);
    assert.throws(() => f.setResult(null), InvalidStateError);
    assert.throws(() => f.setException(null), InvalidStateError);
    assert.equal(f.cancel(), false);
  }));

test("BaseFutureTests.test_yield_from_twice", () =>
  withLoop(async (loop) => {
    const f = loop.createFuture<number>();
    const steps: unknown[] = [];
    const t = loop.createTask(async () => {
      steps.push("A");
      const x = await f;
      steps.push(["B", x]);
      const y = await f; // awaiting a done future again gives the same result
      steps.push(["C", y]);
    });
    loop.callSoon(() => f.setResult(42));
    await loop.runUntilComplete(t);
    assert.deepEqual(steps, ["A", ["B", 42], ["C", 42]]);
  }));

test("BaseFutureTests.test_future_repr", () =>
  withLoop((loop) => {
    // The debug-mode "created at file:line" and the "cb=[...]" parts are Python-only (source
    // tracebacks and function source positions); the state parts are ported.
    const pending = loop.createFuture();
    assert.equal(String(pending), "<Future pending>");
    pending.cancel();
    const cancelled = loop.createFuture();
    cancelled.cancel();
    assert.equal(String(cancelled), "<Future cancelled>");
    const withResult = loop.createFuture();
    withResult.setResult(4);
    assert.equal(String(withResult), "<Future finished result=4>");
    assert.equal(withResult.result(), 4);
    const exc = new RuntimeError();
    const withException = loop.createFuture();
    withException.setException(exc);
    assert.match(String(withException), /^<Future finished exception=RuntimeError.*>$/);
    assert.equal(withException.exception(), exc);
  }));

// The "never retrieved" cases: asyncio logs through the loop's exception handler when the
// future is collected. aioloop does so in debug mode only (README, Known differences).

test("BaseFutureTests.test_tb_logger_abandoned", () =>
  withLoop(async (loop) => {
    loop.setDebug(true);
    const seen = await reportsAfterGc(loop, (loop) => void loop.createFuture(), 5);
    assert.deepEqual(seen, []);
  }));

test("BaseFutureTests.test_tb_logger_not_called_after_cancel", () =>
  withLoop(async (loop) => {
    // cancel() on a future that already holds an exception returns false, and asyncio counts
    // it as the exception being looked after: no report.
    loop.setDebug(true);
    const seen = await reportsAfterGc(loop, (loop) => {
      const f = loop.createFuture();
      f.setException(new Error("x"));
      assert.equal(f.cancel(), false);
    }, 5);
    assert.deepEqual(seen, []);
  }));

test("BaseFutureTests.test_tb_logger_result_unretrieved", () =>
  withLoop(async (loop) => {
    loop.setDebug(true);
    const seen = await reportsAfterGc(loop, (loop) => loop.createFuture().setResult(42), 5);
    assert.deepEqual(seen, []);
  }));

test("BaseFutureTests.test_tb_logger_result_retrieved", () =>
  withLoop(async (loop) => {
    loop.setDebug(true);
    const seen = await reportsAfterGc(loop, (loop) => {
      const f = loop.createFuture();
      f.setResult(42);
      f.result();
    }, 5);
    assert.deepEqual(seen, []);
  }));

test("BaseFutureTests.test_tb_logger_exception_unretrieved", () =>
  withLoop(async (loop) => {
    loop.setDebug(true);
    const seen = await reportsAfterGc(loop, (loop) => {
      loop.createFuture().setException(new RuntimeError("boom"));
    });
    assert.equal(seen.length, 1);
    assert.match(seen[0].message, /^Future exception was never retrieved/);
  }));

test("BaseFutureTests.test_tb_logger_exception_retrieved", () =>
  withLoop(async (loop) => {
    loop.setDebug(true);
    const seen = await reportsAfterGc(loop, (loop) => {
      const f = loop.createFuture();
      f.setException(new RuntimeError("boom"));
      f.exception();
    }, 5);
    assert.deepEqual(seen, []);
  }));

test("BaseFutureTests.test_tb_logger_exception_result_retrieved", () =>
  withLoop(async (loop) => {
    loop.setDebug(true);
    const seen = await reportsAfterGc(loop, (loop) => {
      const f = loop.createFuture();
      f.setException(new RuntimeError("boom"));
      assert.throws(() => f.result(), RuntimeError);
    }, 5);
    assert.deepEqual(seen, []);
  }));

test("BaseFutureTests.test_future_exception_never_retrieved", () =>
  withLoop(async (loop) => {
    // As in asyncio, debug mode or not: an exception nobody retrieved is reported when the
    // future is collected.
    loop.setDebug(false);
    const exc = new RuntimeError("never");
    const seen = await reportsAfterGc(loop, (loop) => loop.createFuture().setException(exc));
    assert.equal(seen.length, 1);
    assert.match(seen[0].message, /^Future exception was never retrieved/);
    assert.equal(seen[0].exception, exc);
  }));

test("BaseFutureTests.test_future_exception_never_retrieved_debug", () =>
  withLoop(async (loop) => {
    loop.setDebug(true);
    const exc = new RuntimeError("never");
    const seen = await reportsAfterGc(loop, (loop) => loop.createFuture().setException(exc));
    assert.equal(seen.length, 1);
    assert.match(seen[0].message, /^Future exception was never retrieved/);
    assert.equal(seen[0].exception, exc);
  }));

// ---- BaseFutureDoneCallbackTests ---------------------------------------------------------------

function makeCallback(bag: unknown[], thing: unknown): (f: Future<unknown>) => void {
  return () => void bag.push(thing);
}

test("BaseFutureDoneCallbackTests.test_callbacks_remove_first_callback", () =>
  withLoop(async (loop) => {
    const bag: unknown[] = [];
    const f = loop.createFuture<string>();
    const [cb1, cb2, cb3] = [42, 17, 100].map((t) => makeCallback(bag, t));
    f.addDoneCallback(cb1);
    f.addDoneCallback(cb2);
    f.addDoneCallback(cb3);
    f.removeDoneCallback(cb1);
    f.removeDoneCallback(cb1);
    assert.deepEqual(bag, []);
    f.setResult("foo");
    await runBriefly(loop);
    assert.deepEqual(bag, [17, 100]);
    assert.equal(f.result(), "foo");
  }));

test("BaseFutureDoneCallbackTests.test_callbacks_remove_first_and_second_callback", () =>
  withLoop(async (loop) => {
    const bag: unknown[] = [];
    const f = loop.createFuture<string>();
    const [cb1, cb2, cb3] = [42, 17, 100].map((t) => makeCallback(bag, t));
    f.addDoneCallback(cb1);
    f.addDoneCallback(cb2);
    f.addDoneCallback(cb3);
    f.removeDoneCallback(cb1);
    f.removeDoneCallback(cb2);
    f.removeDoneCallback(cb1);
    assert.deepEqual(bag, []);
    f.setResult("foo");
    await runBriefly(loop);
    assert.deepEqual(bag, [100]);
    assert.equal(f.result(), "foo");
  }));

test("BaseFutureDoneCallbackTests.test_callbacks_remove_third_callback", () =>
  withLoop(async (loop) => {
    const bag: unknown[] = [];
    const f = loop.createFuture<string>();
    const [cb1, cb2, cb3] = [42, 17, 100].map((t) => makeCallback(bag, t));
    f.addDoneCallback(cb1);
    f.addDoneCallback(cb2);
    f.addDoneCallback(cb3);
    f.removeDoneCallback(cb3);
    f.removeDoneCallback(cb3);
    assert.deepEqual(bag, []);
    f.setResult("foo");
    await runBriefly(loop);
    assert.deepEqual(bag, [42, 17]);
    assert.equal(f.result(), "foo");
  }));

test("BaseFutureDoneCallbackTests.test_callbacks_invoked_on_set_result", () =>
  withLoop(async (loop) => {
    const bag: unknown[] = [];
    const f = loop.createFuture<string>();
    f.addDoneCallback(makeCallback(bag, 42));
    f.addDoneCallback(makeCallback(bag, 17));
    assert.deepEqual(bag, []);
    f.setResult("foo");
    await runBriefly(loop);
    assert.deepEqual(bag, [42, 17]);
    assert.equal(f.result(), "foo");
  }));

test("BaseFutureDoneCallbackTests.test_callbacks_invoked_on_set_exception", () =>
  withLoop(async (loop) => {
    const bag: unknown[] = [];
    const f = loop.createFuture();
    f.addDoneCallback(makeCallback(bag, 100));
    assert.deepEqual(bag, []);
    const exc = new RuntimeError();
    f.setException(exc);
    await runBriefly(loop);
    assert.deepEqual(bag, [100]);
    assert.equal(f.exception(), exc);
  }));

test("BaseFutureDoneCallbackTests.test_remove_done_callback", () =>
  withLoop(async (loop) => {
    const bag: unknown[] = [];
    const f = loop.createFuture<string>();
    const [cb1, cb2, cb3] = [1, 2, 3].map((t) => makeCallback(bag, t));
    f.addDoneCallback(cb1);
    f.addDoneCallback(cb2);
    assert.equal(f.removeDoneCallback(cb2), 1);
    assert.equal(f.removeDoneCallback(cb3), 0);
    f.addDoneCallback(cb2);
    for (let i = 0; i < 5; i++) f.addDoneCallback(cb1);
    assert.equal(f.removeDoneCallback(cb1), 6);
    assert.deepEqual(bag, []);
    f.setResult("foo");
    await runBriefly(loop);
    assert.deepEqual(bag, [2]);
    assert.equal(f.result(), "foo");
  }));

test("BaseFutureDoneCallbackTests.test_schedule_callbacks_list_mutation_1", () =>
  withLoop(async (loop) => {
    const calls: string[] = [];
    const other = () => void calls.push("other");
    const fut = loop.createFuture<number>();
    fut.addDoneCallback((f) => {
      calls.push("mut");
      f.removeDoneCallback(other); // callbacks already scheduled still run, as in asyncio
    });
    fut.addDoneCallback(other);
    fut.addDoneCallback(other);
    fut.setResult(1);
    await runBriefly(loop);
    assert.deepEqual(calls, ["mut", "other", "other"]);
  }));
