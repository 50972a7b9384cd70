/**
 * Our translation of CPython 3.12's Lib/test/test_asyncio/test_tasks.py cases for shield, wait
 * and as_completed (BaseTaskTests.test_shield_*, test_wait_*, test_as_completed_*,
 * test_gather_shield, test_yield_wait_does_not_shield_cancel).
 *
 * CPython runs most of them on a test loop with a virtual clock; here the clock is real, so the
 * delays are CPython's where the order of events does not hang on a few milliseconds, and wider
 * where it would (this host stalls for tens of ms under load); "no time passed" is checked
 * loosely. A Python coroutine object (not started) is a coroutine function here.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ALL_COMPLETED, asCompleted, type BaseEventLoop, CancelledError, ensureFuture, FIRST_COMPLETED,
  FIRST_EXCEPTION, type Future, gather, RuntimeError, setEventLoop, shield, sleep, type Task,
  TimeoutError, ValueError, wait,
} from "../../mod.ts";
import { withLoop } from "../helpers.ts";
import { runBriefly } from "./utils.ts";

class ZeroDivisionError extends Error {
  override name = "ZeroDivisionError";
}

/** A private field, read as CPython's tests read it. */
// deno-lint-ignore no-explicit-any
const priv = (x: object): any => x;

/** Seconds the loop's clock moves while `body` runs. */
async function elapsed(loop: BaseEventLoop, body: () => Promise<unknown>): Promise<number> {
  const t0 = loop.time();
  await body();
  return loop.time() - t0;
}

/** CPython's assertAlmostEqual on its virtual clock, made loose for a real one. */
function assertTook(seconds: number, expected: number): void {
  assert.ok(seconds >= expected - 0.005, `took ${seconds} s, expected ${expected} s`);
  assert.ok(seconds < expected + 1, `took ${seconds} s, expected ${expected} s`);
}

/** End `tasks` (CPython moves its virtual clock on instead): cancel and wait for them. */
async function finish(loop: BaseEventLoop, tasks: Task<unknown>[]): Promise<void> {
  for (const t of tasks) t.cancel();
  await loop.runUntilComplete(() => wait(tasks));
}

// ---- wait ---------------------------------------------------------------------------------

test("BaseTaskTests.test_wait", () =>
  withLoop(async (loop) => {
    const a = loop.createTask(() => sleep(0.1));
    const b = loop.createTask(() => sleep(0.15));
    const foo = async () => {
      const [done, pending] = await wait([b, a]);
      assert.deepEqual(done, new Set([a, b]));
      assert.deepEqual(pending, new Set());
      return 42;
    };
    let res: number | undefined;
    assertTook(await elapsed(loop, async () => res = await loop.runUntilComplete(foo)), 0.15);
    assert.equal(res, 42);
    // Again: no time, and another path (all done already).
    assertTook(await elapsed(loop, async () => res = await loop.runUntilComplete(foo)), 0);
    assert.equal(res, 42);
  }));

test("BaseTaskTests.test_wait_duplicate_coroutines", () =>
  withLoop(async (loop) => {
    const coro = async (s: string) => s;
    const c = loop.createTask(() => coro("test"));
    const [done, pending] = await loop.runUntilComplete(() =>
      wait([c, c, loop.createTask(() => coro("spam"))])
    );
    assert.equal(pending.size, 0);
    assert.deepEqual(new Set([...done].map((f) => f.result())), new Set(["test", "spam"]));
  }));

test("BaseTaskTests.test_wait_errors", () =>
  withLoop(async (loop) => {
    await assert.rejects(loop.runUntilComplete(() => wait(new Set<Future<unknown>>())), ValueError);
    // -1 is no returnWhen value: ValueError before the coroutine is looked at.
    const sleepCoro = () => sleep(10);
    await assert.rejects(
      loop.runUntilComplete(() => wait([sleepCoro as never], { returnWhen: -1 as never })),
      ValueError,
    );
  }));

test("BaseTaskTests.test_wait_first_completed", () =>
  withLoop(async (loop) => {
    const a = loop.createTask(() => sleep(10));
    const b = loop.createTask(() => sleep(0.1));
    let done!: Set<Future<void>>, pending!: Set<Future<void>>;
    const took = await elapsed(loop, async () => {
      [done, pending] = await loop.runUntilComplete(() => wait([b, a], { returnWhen: FIRST_COMPLETED }));
    });
    assert.deepEqual(done, new Set([b]));
    assert.deepEqual(pending, new Set([a]));
    assert.equal(a.done(), false);
    assert.ok(b.done());
    assert.equal(b.result(), undefined);
    assertTook(took, 0.1);
    await finish(loop, [a, b]);
  }));

test("BaseTaskTests.test_wait_really_done", () =>
  withLoop(async (loop) => {
    // Tasks of the pending list may be done with their callbacks not all called yet.
    const a = loop.createTask(async () => {
      await sleep(0);
    });
    const b = loop.createTask(async () => {
      await sleep(0);
      await sleep(0);
    });
    const [done] = await loop.runUntilComplete(() => wait([b, a], { returnWhen: FIRST_COMPLETED }));
    assert.deepEqual(done, new Set([a, b]));
    assert.ok(a.done());
    assert.equal(a.result(), undefined);
    assert.ok(b.done());
    assert.equal(b.result(), undefined);
  }));

test("BaseTaskTests.test_wait_first_exception", () =>
  withLoop(async (loop) => {
    // FIRST_EXCEPTION, and a task has its exception already.
    const a = loop.createTask(() => sleep(10));
    const b = loop.createTask(async () => {
      throw new ZeroDivisionError("err");
    });
    let done!: Set<Future<void>>, pending!: Set<Future<void>>;
    const took = await elapsed(loop, async () => {
      [done, pending] = await loop.runUntilComplete(() => wait([b, a], { returnWhen: FIRST_EXCEPTION }));
    });
    assert.deepEqual(done, new Set([b]));
    assert.deepEqual(pending, new Set([a]));
    assertTook(took, 0);
    await finish(loop, [a, b]);
  }));

test("BaseTaskTests.test_wait_first_exception_in_wait", () =>
  withLoop(async (loop) => {
    // FIRST_EXCEPTION, and the exception comes while waiting.
    const a = loop.createTask(() => sleep(10));
    const b = loop.createTask(async () => {
      await sleep(0.01);
      throw new ZeroDivisionError("err");
    });
    let done!: Set<Future<void>>, pending!: Set<Future<void>>;
    const took = await elapsed(loop, async () => {
      [done, pending] = await loop.runUntilComplete(() => wait([b, a], { returnWhen: FIRST_EXCEPTION }));
    });
    assert.deepEqual(done, new Set([b]));
    assert.deepEqual(pending, new Set([a]));
    assertTook(took, 0.01);
    await finish(loop, [a, b]);
  }));

test("BaseTaskTests.test_wait_with_exception", () =>
  withLoop(async (loop) => {
    const a = loop.createTask(() => sleep(0.1));
    const b = loop.createTask(async () => {
      await sleep(0.15);
      throw new ZeroDivisionError("really");
    });
    const foo = async () => {
      const [done, pending] = await wait<void>([b, a]);
      assert.equal(done.size, 2);
      assert.equal(pending.size, 0);
      const errors = [...done].filter((f) => f.exception() !== undefined);
      assert.equal(errors.length, 1);
    };
    assertTook(await elapsed(loop, () => loop.runUntilComplete(foo)), 0.15);
    assertTook(await elapsed(loop, () => loop.runUntilComplete(foo)), 0);
  }));

test("BaseTaskTests.test_wait_with_timeout", () =>
  withLoop(async (loop) => {
    // CPython: a 0.1, b 0.15, timeout 0.11; wider here so that a stall cannot reorder them.
    const a = loop.createTask(() => sleep(0.05));
    const b = loop.createTask(() => sleep(1));
    const foo = async () => {
      const [done, pending] = await wait([b, a], { timeout: 0.25 });
      assert.deepEqual(done, new Set([a]));
      assert.deepEqual(pending, new Set([b]));
    };
    assertTook(await elapsed(loop, () => loop.runUntilComplete(foo)), 0.25);
    await finish(loop, [a, b]);
  }));

test("BaseTaskTests.test_wait_concurrent_complete", () =>
  withLoop(async (loop) => {
    // a ends as the timeout passes (same delay); b much later (CPython: 0.15).
    const a = loop.createTask(() => sleep(0.1));
    const b = loop.createTask(() => sleep(1));
    let done!: Set<Future<void>>, pending!: Set<Future<void>>;
    const took = await elapsed(loop, async () => {
      [done, pending] = await loop.runUntilComplete(() => wait([b, a], { timeout: 0.1 }));
    });
    assert.deepEqual(done, new Set([a]));
    assert.deepEqual(pending, new Set([b]));
    assertTook(took, 0.1);
    await finish(loop, [a, b]);
  }));

test("BaseTaskTests.test_wait_with_iterator_of_tasks", () =>
  withLoop(async (loop) => {
    const a = loop.createTask(() => sleep(0.1));
    const b = loop.createTask(() => sleep(0.15));
    const foo = async () => {
      const [done, pending] = await wait([b, a][Symbol.iterator]());
      assert.deepEqual(done, new Set([a, b]));
      assert.deepEqual(pending, new Set());
      return 42;
    };
    let res: number | undefined;
    assertTook(await elapsed(loop, async () => res = await loop.runUntilComplete(foo)), 0.15);
    assert.equal(res, 42);
  }));

test("BaseTaskTests.test_wait_generator", () =>
  withLoop(async (loop) => {
    const func = async (a: number) => a;
    await loop.runUntilComplete(async () => {
      const tasks = (function* () {
        for (let i = 0; i < 10; i++) yield loop.createTask(() => func(i));
      })();
      const [done, pending] = await wait(tasks, { returnWhen: ALL_COMPLETED });
      assert.equal(done.size, 10);
      assert.equal(pending.size, 0);
    });
  }));

// ---- as_completed -------------------------------------------------------------------------

test("BaseTaskTests.test_as_completed", () =>
  withLoop(async (loop) => {
    const completed = new Set<string>();
    const sleeper = (dt: number, x: string) => async () => {
      await sleep(dt);
      completed.add(x);
      return x;
    };
    const a = sleeper(0.01, "a"), b = sleeper(0.01, "b"), c = sleeper(0.15, "c");
    const foo = async () => {
      const values: string[] = [];
      for (const f of asCompleted([b, c, a])) values.push(await f);
      return values;
    };
    let res!: string[];
    assertTook(await elapsed(loop, async () => res = await loop.runUntilComplete(foo)), 0.15);
    assert.ok(res.slice(0, 2).includes("a"));
    assert.ok(res.slice(0, 2).includes("b"));
    assert.equal(res[2], "c");
  }));

test("BaseTaskTests.test_as_completed_with_timeout", () =>
  withLoop(async (loop) => {
    // CPython: a 0.1, b 0.15, timeout 0.12; wider here so that a stall cannot reorder them.
    const a = loop.createTask(() => sleep(0.05, "a"));
    const b = loop.createTask(() => sleep(1, "b"));
    const foo = async () => {
      const values: [number, unknown][] = [];
      for (const f of asCompleted([a, b], { timeout: 0.25 })) {
        try {
          values.push([1, await f]);
        } catch (e) {
          if (!(e instanceof TimeoutError)) throw e;
          values.push([2, e]);
        }
      }
      return values;
    };
    let res!: [number, unknown][];
    assertTook(await elapsed(loop, async () => res = await loop.runUntilComplete(foo)), 0.25);
    assert.equal(res.length, 2);
    assert.deepEqual(res[0], [1, "a"]);
    assert.equal(res[1][0], 2);
    assert.ok(res[1][1] instanceof TimeoutError);
    await finish(loop, [a, b]);
  }));

test("BaseTaskTests.test_as_completed_with_unused_timeout", () =>
  withLoop(async (loop) => {
    const a = () => sleep(0.01, "a");
    await loop.runUntilComplete(async () => {
      for (const f of asCompleted([a], { timeout: 1 })) assert.equal(await f, "a");
    });
    // The unused timeout's timer is gone: the loop has nothing left to wait for.
    assertTook(await elapsed(loop, () => runBriefly(loop)), 0);
  }));

test("BaseTaskTests.test_as_completed_reverse_wait", () =>
  withLoop(async (loop) => {
    const a = () => sleep(0.05, "a");
    const b = () => sleep(0.1, "b");
    const fs = new Set([a, b]);
    await loop.runUntilComplete(async () => {
      const t0 = loop.time();
      const futs = [...asCompleted(fs)];
      assert.equal(futs.length, 2);
      // The first one awaited gets the first result, whichever item it is.
      const x = await futs[1];
      assert.equal(x, "a");
      assertTook(loop.time() - t0, 0.05);
      const y = await futs[0];
      assert.equal(y, "b");
      assertTook(loop.time() - t0, 0.1);
    });
  }));

test("BaseTaskTests.test_as_completed_concurrent", () =>
  withLoop(async (loop) => {
    const a = () => sleep(0.05, "a");
    const b = () => sleep(0.05, "b");
    const fs = new Set([a, b]);
    const took = await elapsed(loop, () =>
      loop.runUntilComplete(async () => {
        const futs = [...asCompleted(fs)];
        assert.equal(futs.length, 2);
        const [done] = await wait(futs.map((fut) => ensureFuture(fut)));
        assert.deepEqual(new Set([...done].map((f) => f.result())), new Set(["a", "b"]));
      }));
    assertTook(took, 0.05);
  }));

test("BaseTaskTests.test_as_completed_duplicate_coroutines", () =>
  withLoop(async (loop) => {
    const coro = (s: string) => async () => s;
    const runner = async () => {
      const result: string[] = [];
      const c = coro("ham");
      for (const f of asCompleted([c, c, coro("spam")])) result.push(await f);
      return result;
    };
    const fut = loop.createTask(runner);
    await loop.runUntilComplete(fut);
    const result = fut.result();
    assert.deepEqual(new Set(result), new Set(["ham", "spam"]));
    assert.equal(result.length, 2);
  }));

test("BaseTaskTests.test_as_completed_coroutine_without_loop", () => {
  // CPython raises when the generator first runs; asCompleted() looks for the loop at once.
  const coro = async () => 42;
  setEventLoop(null);
  assert.throws(() => [...asCompleted([coro])], { name: RuntimeError.name, message: /no current event loop/i });
});

test("BaseTaskTests.test_as_completed_coroutine_use_running_loop", () =>
  withLoop(async (loop) => {
    const coro = async () => 42;
    await loop.runUntilComplete(async () => {
      const futs = [...asCompleted([coro])];
      assert.equal(futs.length, 1);
      assert.equal(await futs[0], 42);
    });
  }));

test("BaseTaskTests.test_as_completed_invalid_args", () =>
  withLoop((loop) => {
    const fut = loop.createFuture();
    // asCompleted() wants an iterable of futures, not one future or coroutine.
    assert.throws(() => asCompleted(fut as never), TypeError);
    const coroutineFunction = async () => {};
    assert.throws(() => asCompleted(coroutineFunction as never), TypeError);
  }));

test("BaseTaskTests.test_wait_invalid_args", () =>
  withLoop(async (loop) => {
    const fut = loop.createFuture();
    // wait() wants an iterable of futures, not one future or coroutine.
    await assert.rejects(loop.runUntilComplete(() => wait(fut as never)), TypeError);
    const coroutineFunction = async () => {};
    await assert.rejects(loop.runUntilComplete(() => wait(coroutineFunction as never)), TypeError);
    // ... and at least one future.
    await assert.rejects(loop.runUntilComplete(() => wait([])), ValueError);
  }));

// ---- shield -------------------------------------------------------------------------------

test("BaseTaskTests.test_yield_wait_does_not_shield_cancel", () =>
  withLoop(async (loop) => {
    // Cancelling outer() makes wait() return early and leaves inner() running.
    let proof = 0;
    const waiter = loop.createFuture<void>();
    const inner = async () => {
      await waiter;
      proof += 1;
    };
    const outer = async () => {
      await wait([loop.createTask(inner)]);
      proof += 100;
    };
    const f = ensureFuture(outer, { loop });
    await runBriefly(loop);
    f.cancel();
    await assert.rejects(loop.runUntilComplete(f), CancelledError);
    waiter.setResult();
    await runBriefly(loop);
    assert.equal(proof, 1);
  }));

test("BaseTaskTests.test_shield_result", () =>
  withLoop(async (loop) => {
    const inner = loop.createFuture<number>();
    const outer = shield(inner);
    inner.setResult(42);
    assert.equal(await loop.runUntilComplete(outer), 42);
  }));

test("BaseTaskTests.test_shield_exception", () =>
  withLoop(async (loop) => {
    const inner = loop.createFuture<number>();
    const outer = shield(inner);
    await runBriefly(loop);
    const exc = new RuntimeError("expected");
    inner.setException(exc);
    await runBriefly(loop);
    assert.equal(outer.exception(), exc);
  }));

test("BaseTaskTests.test_shield_cancel_inner", () =>
  withLoop(async (loop) => {
    const inner = loop.createFuture<number>();
    const outer = shield(inner);
    await runBriefly(loop);
    inner.cancel();
    await runBriefly(loop);
    assert.ok(outer.cancelled());
  }));

test("BaseTaskTests.test_shield_cancel_outer", () =>
  withLoop(async (loop) => {
    const inner = loop.createFuture<number>();
    const outer = shield(inner);
    await runBriefly(loop);
    outer.cancel();
    await runBriefly(loop);
    assert.ok(outer.cancelled());
    assert.equal(priv(outer)._callbacks, undefined);
  }));

test("BaseTaskTests.test_shield_shortcut", () =>
  withLoop(async (loop) => {
    const fut = loop.createFuture<number>();
    fut.setResult(42);
    assert.equal(await loop.runUntilComplete(shield(fut)), 42);
  }));

test("BaseTaskTests.test_shield_effect", () =>
  withLoop(async (loop) => {
    // Cancelling outer() leaves inner() alone.
    let proof = 0;
    const waiter = loop.createFuture<void>();
    const inner = async () => {
      await waiter;
      proof += 1;
    };
    const outer = async () => {
      await shield(inner);
      proof += 100;
    };
    const f = ensureFuture(outer, { loop });
    await runBriefly(loop);
    f.cancel();
    await assert.rejects(loop.runUntilComplete(f), CancelledError);
    waiter.setResult();
    await runBriefly(loop);
    assert.equal(proof, 1);
  }));

test("BaseTaskTests.test_shield_gather", () =>
  withLoop(async (loop) => {
    const child1 = loop.createFuture<number>();
    const child2 = loop.createFuture<number>();
    const parent = gather(child1, child2);
    const outer = shield(parent);
    await runBriefly(loop);
    outer.cancel();
    await runBriefly(loop);
    assert.ok(outer.cancelled());
    child1.setResult(1);
    child2.setResult(2);
    await runBriefly(loop);
    assert.deepEqual(parent.result(), [1, 2]);
  }));

test("BaseTaskTests.test_gather_shield", () =>
  withLoop(async (loop) => {
    const child1 = loop.createFuture<number>();
    const child2 = loop.createFuture<number>();
    const inner1 = shield(child1);
    const inner2 = shield(child2);
    const parent = gather(inner1, inner2);
    await runBriefly(loop);
    parent.cancel();
    // That cancels inner1 and inner2, not child1 and child2.
    await runBriefly(loop);
    assert.ok(parent.exception() instanceof CancelledError);
    assert.ok(inner1.cancelled());
    assert.ok(inner2.cancelled());
    child1.setResult(1);
    child2.setResult(2);
    await runBriefly(loop);
  }));

test("BaseTaskTests.test_shield_coroutine_without_loop", () => {
  const coro = async () => 42;
  setEventLoop(null);
  assert.throws(() => shield(coro), { name: RuntimeError.name, message: /no current event loop/i });
});

test("BaseTaskTests.test_shield_coroutine_use_running_loop", () =>
  withLoop(async (loop) => {
    const coro = async () => 42;
    // Boxed: an async function returning a Future would adopt its outcome.
    const { outer } = await loop.runUntilComplete(async () => ({ outer: shield(coro) }));
    assert.equal(outer.getLoop(), loop);
    assert.equal(await loop.runUntilComplete(outer), 42);
  }));

test("BaseTaskTests.test_shield_coroutine_use_global_loop", () =>
  withLoop(async (loop) => {
    const coro = async () => 42;
    setEventLoop(loop);
    try {
      const outer = shield(coro);
      assert.equal(outer.getLoop(), loop);
      assert.equal(await loop.runUntilComplete(outer), 42);
    } finally {
      setEventLoop(null);
    }
  }));
