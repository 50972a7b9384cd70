/**
 * Our translation of CPython 3.12's Lib/test/test_asyncio/test_locks.py: `async with lock:` is
 * `await lock.withLock(...)`, `async with barrier as i:` is `const i = await barrier.wait()`.
 * Where CPython reads `_waiters` or `_value`, so do these cases (same private names).
 */
import assert from "node:assert/strict";
import {
  Barrier, BoundedSemaphore, BrokenBarrierError, CancelledError, Condition, createTask, Event,
  gather, Lock, RuntimeError, Semaphore, sleep, type Task, TaskGroup, TimeoutError, ValueError,
  wait, waitFor,
} from "../../mod.ts";
import { assertRaises, asyncCase } from "./isolated_async.ts";

const RGX_REPR = /^<(\w+) \[(set|unset|locked|unlocked|filling|draining|resetting|broken)(, value:\d)?(, waiters:\d+)?(, waiters:\d+\/\d+)?\]>$/;

/** A private field, read as CPython's tests read it. */
// deno-lint-ignore no-explicit-any
const priv = (x: object): any => x;

// ---- LockTests ----------------------------------------------------------------------------

asyncCase("LockTests.test_repr", async () => {
  const lock = new Lock();
  assert.ok(String(lock).endsWith("[unlocked]>"));
  assert.match(String(lock), RGX_REPR);
  await lock.acquire();
  assert.ok(String(lock).endsWith("[locked]>"));
  assert.match(String(lock), RGX_REPR);
});

asyncCase("LockTests.test_lock", async () => {
  // Python refuses `await lock` with TypeError; here a Lock is no thenable, so awaiting it
  // yields the object itself and does not take the lock.
  const lock = new Lock();
  assert.equal((lock as unknown as { then?: unknown }).then, undefined);
  assert.equal(await (lock as unknown), lock);
  assert.equal(lock.locked(), false);
});

asyncCase("LockTests.test_acquire", async () => {
  const lock = new Lock();
  const result: number[] = [];
  assert.equal(await lock.acquire(), true);
  const c = (n: number) => async () => {
    if (await lock.acquire()) result.push(n);
    return true;
  };
  const t1 = createTask(c(1));
  const t2 = createTask(c(2));
  await sleep(0);
  assert.deepEqual(result, []);
  lock.release();
  await sleep(0);
  assert.deepEqual(result, [1]);
  await sleep(0);
  assert.deepEqual(result, [1]);
  const t3 = createTask(c(3));
  lock.release();
  await sleep(0);
  assert.deepEqual(result, [1, 2]);
  lock.release();
  await sleep(0);
  assert.deepEqual(result, [1, 2, 3]);
  for (const t of [t1, t2, t3]) {
    assert.ok(t.done());
    assert.equal(t.result(), true);
  }
});

asyncCase("LockTests.test_acquire_cancel", async (loop) => {
  const lock = new Lock();
  assert.equal(await lock.acquire(), true);
  const task = createTask(() => lock.acquire());
  loop.callSoon(() => task.cancel());
  await assertRaises(task, CancelledError);
  assert.equal(priv(lock)._waiters.length, 0);
});

asyncCase("LockTests.test_cancel_race", async (loop) => {
  // A holds the lock, B and C wait; A releases as B is cancelled: C must get the lock.
  const lock = new Lock();
  const lockit = (blocker: PromiseLike<unknown> | null) => async () => {
    await lock.acquire();
    try {
      if (blocker !== null) await blocker;
    } finally {
      lock.release();
    }
  };
  const fa = loop.createFuture();
  const ta = createTask(lockit(fa));
  await sleep(0);
  assert.ok(lock.locked());
  const tb = createTask(lockit(null));
  await sleep(0);
  assert.equal(priv(lock)._waiters.length, 1);
  const tc = createTask(lockit(null));
  await sleep(0);
  assert.equal(priv(lock)._waiters.length, 2);
  fa.setResult(undefined);
  tb.cancel();
  assert.ok(priv(lock)._waiters[0].cancelled());
  await sleep(0);
  assert.equal(lock.locked(), false);
  assert.ok(ta.done());
  assert.ok(tb.cancelled());
  await tc;
});

asyncCase("LockTests.test_cancel_release_race", async (loop) => {
  const lock = new Lock();
  let lockCount = 0, callCount = 0;
  const lockit = async () => {
    callCount++;
    await lock.acquire();
    lockCount++;
  };
  await lock.acquire();
  const t1 = createTask(lockit);
  const t2 = createTask(lockit);
  const t3 = createTask(lockit);
  await sleep(0);
  loop.callSoon(() => {
    t1.cancel();
    lock.release();
  });
  await assertRaises(t1, CancelledError);
  assert.equal(lockCount, 1);
  assert.equal(callCount, 3);
  assert.ok(t1.cancelled() && t2.done());
  t3.cancel();
  await sleep(0);
  assert.ok(t3.cancelled());
});

asyncCase("LockTests.test_finished_waiter_cancelled", async () => {
  const lock = new Lock();
  await lock.acquire();
  assert.ok(lock.locked());
  const tb = createTask(() => lock.acquire());
  await sleep(0);
  assert.equal(priv(lock)._waiters.length, 1);
  const tc = createTask(() => lock.acquire());
  tb.cancel();
  lock.release();
  await sleep(0);
  assert.ok(lock.locked());
  assert.ok(tb.cancelled());
  await tc;
});

asyncCase("LockTests.test_release_not_acquired", async () => {
  assert.throws(() => new Lock().release(), RuntimeError);
});

asyncCase("LockTests.test_release_no_waiters", async () => {
  const lock = new Lock();
  await lock.acquire();
  assert.ok(lock.locked());
  lock.release();
  assert.equal(lock.locked(), false);
});

asyncCase("LockTests.test_context_manager", async () => {
  const lock = new Lock();
  assert.equal(lock.locked(), false);
  await lock.withLock(() => assert.ok(lock.locked()));
  assert.equal(lock.locked(), false);
});

// ---- EventTests ---------------------------------------------------------------------------

asyncCase("EventTests.test_repr", async () => {
  const ev = new Event();
  assert.ok(String(ev).endsWith("[unset]>"));
  assert.equal(RGX_REPR.exec(String(ev))![2], "unset");
  ev.set();
  assert.ok(String(ev).endsWith("[set]>"));
  assert.match(String(ev), RGX_REPR);
  priv(ev)._waiters.push({});
  assert.ok(String(ev).includes("waiters:1"));
  assert.match(String(ev), RGX_REPR);
});

asyncCase("EventTests.test_wait", async () => {
  const ev = new Event();
  assert.equal(ev.isSet(), false);
  const result: number[] = [];
  const c = (n: number) => async () => {
    if (await ev.wait()) result.push(n);
  };
  const t1 = createTask(c(1));
  const t2 = createTask(c(2));
  await sleep(0);
  assert.deepEqual(result, []);
  const t3 = createTask(c(3));
  ev.set();
  await sleep(0);
  assert.deepEqual(result, [3, 1, 2]);
  for (const t of [t1, t2, t3]) {
    assert.ok(t.done());
    assert.equal(t.result(), undefined);
  }
});

asyncCase("EventTests.test_wait_on_set", async () => {
  const ev = new Event();
  ev.set();
  assert.equal(await ev.wait(), true);
});

asyncCase("EventTests.test_wait_cancel", async (loop) => {
  const ev = new Event();
  const w = createTask(() => ev.wait());
  loop.callSoon(() => w.cancel());
  await assertRaises(w, CancelledError);
  assert.equal(priv(ev)._waiters.length, 0);
});

asyncCase("EventTests.test_clear", async () => {
  const ev = new Event();
  assert.equal(ev.isSet(), false);
  ev.set();
  assert.equal(ev.isSet(), true);
  ev.clear();
  assert.equal(ev.isSet(), false);
});

asyncCase("EventTests.test_clear_with_waiters", async () => {
  const ev = new Event();
  const result: number[] = [];
  const t = createTask(async () => {
    if (await ev.wait()) result.push(1);
    return true;
  });
  await sleep(0);
  assert.deepEqual(result, []);
  ev.set();
  ev.clear();
  assert.equal(ev.isSet(), false);
  ev.set();
  ev.set();
  assert.equal(priv(ev)._waiters.length, 1);
  await sleep(0);
  assert.deepEqual(result, [1]);
  assert.equal(priv(ev)._waiters.length, 0);
  assert.ok(t.done());
  assert.equal(t.result(), true);
});

// ---- ConditionTests -----------------------------------------------------------------------

asyncCase("ConditionTests.test_wait", async () => {
  const cond = new Condition();
  const result: number[] = [];
  const c = (n: number) => async () => {
    await cond.acquire();
    if (await cond.wait()) result.push(n);
    return true;
  };
  const t1 = createTask(c(1)), t2 = createTask(c(2)), t3 = createTask(c(3));
  await sleep(0);
  assert.deepEqual(result, []);
  assert.equal(cond.locked(), false);
  assert.equal(await cond.acquire(), true);
  cond.notify();
  await sleep(0);
  assert.deepEqual(result, []);
  assert.ok(cond.locked());
  cond.release();
  await sleep(0);
  assert.deepEqual(result, [1]);
  assert.ok(cond.locked());
  cond.notify(2);
  await sleep(0);
  assert.deepEqual(result, [1]);
  assert.ok(cond.locked());
  cond.release();
  await sleep(0);
  assert.deepEqual(result, [1, 2]);
  assert.ok(cond.locked());
  cond.release();
  await sleep(0);
  assert.deepEqual(result, [1, 2, 3]);
  assert.ok(cond.locked());
  for (const t of [t1, t2, t3]) assert.equal(t.result(), true);
});

asyncCase("ConditionTests.test_wait_cancel", async (loop) => {
  const cond = new Condition();
  await cond.acquire();
  const w = createTask(() => cond.wait());
  loop.callSoon(() => w.cancel());
  await assertRaises(w, CancelledError);
  assert.equal(priv(cond)._waiters.length, 0);
  assert.ok(cond.locked());
});

asyncCase("ConditionTests.test_wait_cancel_contested", async (loop) => {
  const cond = new Condition();
  await cond.acquire();
  assert.ok(cond.locked());
  const waitTask = createTask(() => cond.wait());
  await sleep(0);
  assert.equal(cond.locked(), false);
  await cond.acquire(); // the waiter is not notified yet: the lock is ours
  assert.ok(cond.locked());
  cond.notify();
  loop.callSoon(() => waitTask.cancel());
  loop.callSoon(() => cond.release());
  try {
    await waitTask;
  } catch (e) {
    if (!(e instanceof CancelledError)) throw e;
  }
  assert.ok(cond.locked()); // the cancelled waiter got the lock back
});

asyncCase("ConditionTests.test_wait_cancel_after_notify", async () => {
  let waited = false;
  const cond = new Condition();
  const waiter = createTask(() =>
    cond.withLock(async () => {
      waited = true;
      await cond.wait();
    })
  );
  await sleep(0); // start waiting
  await cond.acquire();
  cond.notify();
  await sleep(0); // get to acquire()
  waiter.cancel();
  await sleep(0); // activate the cancellation
  cond.release();
  await sleep(0); // the cancellation happens
  assert.ok(waiter.cancelled());
  assert.ok(waited);
});

asyncCase("ConditionTests.test_wait_unacquired", async () => {
  await assert.rejects(new Condition().wait(), RuntimeError);
});

asyncCase("ConditionTests.test_wait_for", async () => {
  const cond = new Condition();
  let presult = false;
  const result: number[] = [];
  const t = createTask(async () => {
    await cond.acquire();
    if (await cond.waitFor(() => presult)) {
      result.push(1);
      cond.release();
    }
    return true;
  });
  await sleep(0);
  assert.deepEqual(result, []);
  await cond.acquire();
  cond.notify();
  cond.release();
  await sleep(0);
  assert.deepEqual(result, []);
  presult = true;
  await cond.acquire();
  cond.notify();
  cond.release();
  await sleep(0);
  assert.deepEqual(result, [1]);
  assert.ok(t.done());
  assert.equal(t.result(), true);
});

asyncCase("ConditionTests.test_wait_for_unacquired", async () => {
  const cond = new Condition();
  assert.deepEqual(await cond.waitFor(() => [1, 2, 3]), [1, 2, 3]);
  await assert.rejects(cond.waitFor(() => false), RuntimeError);
});

/** A task that waits on `cond`, records `n` and releases the lock (test_notify's c1..c3). */
const notifiedTask = (cond: Condition, result: number[], n: number) =>
  createTask(async () => {
    await cond.acquire();
    if (await cond.wait()) {
      result.push(n);
      cond.release();
    }
    return true;
  });

asyncCase("ConditionTests.test_notify", async () => {
  const cond = new Condition();
  const result: number[] = [];
  const tasks = [1, 2, 3].map((n) => notifiedTask(cond, result, n));
  await sleep(0);
  assert.deepEqual(result, []);
  await cond.acquire();
  cond.notify(1);
  cond.release();
  await sleep(0);
  assert.deepEqual(result, [1]);
  await cond.acquire();
  cond.notify(1);
  cond.notify(2048);
  cond.release();
  await sleep(0);
  assert.deepEqual(result, [1, 2, 3]);
  for (const t of tasks) assert.equal(t.result(), true);
});

asyncCase("ConditionTests.test_notify_all", async () => {
  const cond = new Condition();
  const result: number[] = [];
  const tasks = [1, 2].map((n) => notifiedTask(cond, result, n));
  await sleep(0);
  assert.deepEqual(result, []);
  await cond.acquire();
  cond.notifyAll();
  cond.release();
  await sleep(0);
  assert.deepEqual(result, [1, 2]);
  for (const t of tasks) assert.equal(t.result(), true);
});

asyncCase("ConditionTests.test_notify_unacquired", async () => {
  assert.throws(() => new Condition().notify(), RuntimeError);
});

asyncCase("ConditionTests.test_notify_all_unacquired", async () => {
  assert.throws(() => new Condition().notifyAll(), RuntimeError);
});

asyncCase("ConditionTests.test_repr", async () => {
  const cond = new Condition();
  assert.ok(String(cond).includes("unlocked"));
  assert.match(String(cond), RGX_REPR);
  await cond.acquire();
  assert.ok(String(cond).includes("locked"));
  priv(cond)._waiters.push({});
  assert.ok(String(cond).includes("waiters:1"));
  assert.match(String(cond), RGX_REPR);
  priv(cond)._waiters.push({});
  assert.ok(String(cond).includes("waiters:2"));
  assert.match(String(cond), RGX_REPR);
});

asyncCase("ConditionTests.test_context_manager", async () => {
  const cond = new Condition();
  assert.equal(cond.locked(), false);
  await cond.withLock(() => assert.ok(cond.locked()));
  assert.equal(cond.locked(), false);
});

asyncCase("ConditionTests.test_explicit_lock", async () => {
  const f = async (lock?: Lock, cond?: Condition) => {
    lock ??= new Lock();
    cond ??= new Condition(lock);
    assert.equal(priv(cond)._lock, lock);
    assert.equal(lock.locked(), false);
    assert.equal(cond.locked(), false);
    await cond.withLock(() => {
      assert.ok(lock.locked());
      assert.ok(cond.locked());
    });
    assert.equal(lock.locked(), false);
    assert.equal(cond.locked(), false);
    await lock.withLock(() => {
      assert.ok(lock.locked());
      assert.ok(cond.locked());
    });
    assert.equal(lock.locked(), false);
    assert.equal(cond.locked(), false);
  };
  await f();
  await f(new Lock());
  const lock = new Lock();
  await f(lock, new Condition(lock));
});

asyncCase("ConditionTests.test_ambiguous_loops", async (loop) => {
  const { newEventLoop } = await import("../../mod.ts");
  const other = newEventLoop();
  try {
    const lock = new Lock();
    priv(lock)._boundLoop = other; // private API, as CPython's test sets lock._loop
    await lock.withLock(async () => {
      const cond = new Condition(lock);
      await assert.rejects(cond.acquire(), /is bound to a different event loop/);
    });
    const lock2 = new Lock();
    await lock2.withLock(async () => {
      const cond = new Condition(lock2);
      priv(cond)._boundLoop = other;
      await assert.rejects(cond.wait(), /is bound to a different event loop/);
    });
  } finally {
    other.close();
  }
  assert.ok(loop.isRunning());
});

asyncCase("ConditionTests.test_timeout_in_block", async () => {
  const condition = new Condition();
  await condition.withLock(async () => {
    await assertRaises(waitFor(() => condition.wait(), 0.5), TimeoutError);
  });
});

// ---- SemaphoreTests -----------------------------------------------------------------------

asyncCase("SemaphoreTests.test_initial_value_zero", async () => {
  assert.ok(new Semaphore(0).locked());
});

asyncCase("SemaphoreTests.test_repr", async () => {
  const sem = new Semaphore();
  assert.ok(String(sem).endsWith("[unlocked, value:1]>"));
  assert.match(String(sem), RGX_REPR);
  await sem.acquire();
  assert.ok(String(sem).endsWith("[locked]>"));
  assert.ok(!String(sem).includes("waiters"));
  assert.match(String(sem), RGX_REPR);
  priv(sem)._waiters ??= [];
  priv(sem)._waiters.push({ cancelled: () => false });
  assert.ok(String(sem).includes("waiters:1"));
  assert.match(String(sem), RGX_REPR);
  priv(sem)._waiters.push({ cancelled: () => false });
  assert.ok(String(sem).includes("waiters:2"));
  assert.match(String(sem), RGX_REPR);
});

asyncCase("SemaphoreTests.test_semaphore", async () => {
  const sem = new Semaphore();
  assert.equal(priv(sem)._value, 1);
  assert.equal(sem.locked(), false);
});

asyncCase("SemaphoreTests.test_semaphore_value", async () => {
  assert.throws(() => new Semaphore(-1), ValueError);
});

asyncCase("SemaphoreTests.test_acquire", async () => {
  const sem = new Semaphore(3);
  const result: number[] = [];
  assert.equal(await sem.acquire(), true);
  assert.equal(await sem.acquire(), true);
  assert.equal(sem.locked(), false);
  const c = (n: number) => async () => {
    await sem.acquire();
    result.push(n);
    return true;
  };
  const t1 = createTask(c(1)), t2 = createTask(c(2)), t3 = createTask(c(3));
  await sleep(0);
  assert.deepEqual(result, [1]);
  assert.ok(sem.locked());
  assert.equal(priv(sem)._waiters.length, 2);
  assert.equal(priv(sem)._value, 0);
  const t4 = createTask(c(4));
  sem.release();
  sem.release();
  assert.equal(priv(sem)._value, 0);
  await sleep(0);
  assert.equal(priv(sem)._value, 0);
  assert.equal(result.length, 3);
  assert.ok(sem.locked());
  assert.equal(priv(sem)._waiters.length, 1);
  assert.ok(t1.done() && t1.result());
  const race = [t2, t3, t4];
  assert.equal(race.filter((t) => t.done() && t.result()).length, 2);
  sem.release();
  await gather(...race);
});

asyncCase("SemaphoreTests.test_acquire_cancel", async (loop) => {
  const sem = new Semaphore();
  await sem.acquire();
  const acquire = createTask(() => sem.acquire());
  loop.callSoon(() => acquire.cancel());
  await assertRaises(acquire, CancelledError);
  const waiters = priv(sem)._waiters ?? [];
  assert.ok(waiters.length === 0 || waiters.every((w: Task) => w.done()));
});

asyncCase("SemaphoreTests.test_acquire_cancel_before_awoken", async () => {
  const sem = new Semaphore(0);
  const [t1, t2, t3, t4] = [0, 1, 2, 3].map(() => createTask(() => sem.acquire()));
  await sleep(0);
  t1.cancel();
  t2.cancel();
  sem.release();
  await sleep(0);
  await sleep(0);
  assert.equal([t3, t4].filter((t) => t.done()).length, 1);
  assert.ok(t3.done());
  assert.equal(t4.done(), false);
  t3.cancel();
  t4.cancel();
  await sleep(0);
});

asyncCase("SemaphoreTests.test_acquire_hang", async () => {
  const sem = new Semaphore(0);
  const t1 = createTask(() => sem.acquire());
  const t2 = createTask(() => sem.acquire());
  await sleep(0);
  t1.cancel();
  sem.release();
  await sleep(0);
  await sleep(0);
  assert.ok(sem.locked());
  assert.ok(t2.done());
});

asyncCase("SemaphoreTests.test_acquire_no_hang", async () => {
  const sem = new Semaphore(1);
  const t1 = createTask(async () => {
    await sem.withLock(() => sleep(0));
    t2.cancel(); // t2 is made below, before this task first runs
  });
  const t2 = createTask(() => sem.withLock(() => assert.fail("c2 must not get the semaphore")));
  const [r1, r2] = await gather(t1, t2, { returnExceptions: true });
  assert.equal(r1, undefined);
  assert.ok(r2 instanceof CancelledError);
  await waitFor(sem.acquire(), 1.0);
});

asyncCase("SemaphoreTests.test_release_not_acquired", async () => {
  assert.throws(() => new BoundedSemaphore().release(), ValueError);
});

asyncCase("SemaphoreTests.test_release_no_waiters", async () => {
  const sem = new Semaphore();
  await sem.acquire();
  assert.ok(sem.locked());
  sem.release();
  assert.equal(sem.locked(), false);
});

asyncCase("SemaphoreTests.test_acquire_fifo_order", async () => {
  const sem = new Semaphore(1);
  const result: string[] = [];
  const coro = (tag: string) => async () => {
    await sem.acquire();
    result.push(`${tag}_1`);
    await sleep(0.01);
    sem.release();
    await sem.acquire();
    result.push(`${tag}_2`);
    await sleep(0.01);
    sem.release();
  };
  await new TaskGroup().run((tg) => {
    for (const tag of ["c1", "c2", "c3"]) tg.createTask(coro(tag));
  });
  assert.deepEqual(result, ["c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"]);
});

asyncCase("SemaphoreTests.test_acquire_fifo_order_2", async () => {
  const sem = new Semaphore(1);
  const result: number[] = [];
  const t1 = createTask(async () => {
    await sem.acquire();
    result.push(1);
    return true;
  });
  const t2 = createTask(async () => {
    await sem.acquire();
    result.push(2);
    sem.release();
    await sem.acquire();
    result.push(4);
    return true;
  });
  const t3 = createTask(async () => {
    await sem.acquire();
    result.push(3);
    return true;
  });
  await sleep(0);
  sem.release();
  sem.release();
  await gather(t1, t2, t3);
  assert.deepEqual(result, [1, 2, 3, 4]);
});

asyncCase("SemaphoreTests.test_acquire_fifo_order_3", async () => {
  const sem = new Semaphore(0);
  const result: number[] = [];
  const c = (n: number) => async () => {
    await sem.acquire();
    result.push(n);
    return true;
  };
  const tasks = [1, 2, 3].map((n) => createTask(c(n)));
  await sleep(0);
  tasks[0].cancel();
  await sleep(0);
  sem.release();
  sem.release();
  await gather(...tasks, { returnExceptions: true });
  assert.deepEqual(result, [2, 3]);
});

// ---- BarrierTests -------------------------------------------------------------------------

const N = 5;
const gatherTasks = <T>(n: number, coro: () => Promise<T>) => {
  const tasks = Array.from({ length: n }, () => createTask(coro));
  return gather(...tasks);
};

asyncCase("BarrierTests.test_repr", async () => {
  const barrier = new Barrier(N);
  assert.match(String(barrier), RGX_REPR);
  assert.ok(String(barrier).includes("filling"));
  const waiters: Task<number>[] = [];
  const incr = 2;
  for (let i = 0; i < incr; i++) waiters.push(createTask(() => barrier.wait()));
  await sleep(0);
  assert.match(String(barrier), RGX_REPR);
  assert.ok(String(barrier).includes(`waiters:${incr}/${N}`));
  assert.ok(String(barrier).includes("filling"));
  for (let i = barrier.parties - barrier.nWaiting; i > 0; i--) {
    waiters.push(createTask(() => barrier.wait()));
  }
  await sleep(0);
  assert.match(String(barrier), RGX_REPR);
  assert.ok(String(barrier).includes("draining"));
  for (let i = 0; i < incr; i++) waiters.push(createTask(() => barrier.wait()));
  await sleep(0);
  await barrier.reset();
  assert.match(String(barrier), RGX_REPR);
  assert.ok(String(barrier).includes("resetting"));
  for (let i = 0; i < incr; i++) waiters.push(createTask(() => barrier.wait()));
  await sleep(0);
  await barrier.abort();
  assert.match(String(barrier), RGX_REPR);
  assert.ok(String(barrier).includes("broken"));
  assert.ok(barrier.broken);
  await gather(...waiters, { returnExceptions: true });
});

asyncCase("BarrierTests.test_barrier_parties", async () => {
  assert.throws(() => new Barrier(0), ValueError);
  assert.throws(() => new Barrier(-4), ValueError);
  assert.ok(new Barrier(N) instanceof Barrier);
});

asyncCase("BarrierTests.test_context_manager", async () => {
  const barrier = new Barrier(3);
  const results: number[] = [];
  await gatherTasks(3, async () => {
    results.push(await barrier.wait());
  });
  assert.deepEqual(results.sort(), [0, 1, 2]);
  assert.equal(barrier.nWaiting, 0);
  assert.equal(barrier.broken, false);
});

asyncCase("BarrierTests.test_filling_one_task", async () => {
  const barrier = new Barrier(1);
  assert.equal(await barrier.wait(), 0);
  assert.equal(barrier.nWaiting, 0);
  assert.equal(barrier.broken, false);
});

asyncCase("BarrierTests.test_filling_one_task_twice", async () => {
  const barrier = new Barrier(1);
  const t1 = createTask(() => barrier.wait());
  await sleep(0);
  assert.equal(barrier.nWaiting, 0);
  const t2 = createTask(() => barrier.wait());
  await sleep(0);
  assert.equal(t1.result(), t2.result());
  assert.equal(t1.done(), t2.done());
  assert.equal(barrier.nWaiting, 0);
  assert.equal(barrier.broken, false);
});

asyncCase("BarrierTests.test_filling_task_by_task", async () => {
  const barrier = new Barrier(3);
  const t1 = createTask(() => barrier.wait());
  await sleep(0);
  assert.equal(barrier.nWaiting, 1);
  assert.ok(String(barrier).includes("filling"));
  const t2 = createTask(() => barrier.wait());
  await sleep(0);
  assert.equal(barrier.nWaiting, 2);
  assert.ok(String(barrier).includes("filling"));
  const t3 = createTask(() => barrier.wait());
  await sleep(0);
  await wait([t1, t2, t3]);
  assert.equal(barrier.nWaiting, 0);
  assert.equal(barrier.broken, false);
});

asyncCase("BarrierTests.test_filling_tasks_wait_twice", async () => {
  const barrier = new Barrier(N);
  const results: boolean[] = [];
  await gatherTasks(N, async () => {
    await barrier.wait();
    results.push(true);
    await barrier.wait();
    results.push(false);
  });
  assert.equal(results.length, N * 2);
  assert.equal(results.filter((r) => r).length, N);
  assert.equal(barrier.nWaiting, 0);
  assert.equal(barrier.broken, false);
});

asyncCase("BarrierTests.test_filling_tasks_check_return_value", async () => {
  const barrier = new Barrier(N);
  const res = await gatherTasks(N, async () => {
    await barrier.wait();
    return await barrier.wait();
  });
  assert.deepEqual([...res].sort(), [0, 1, 2, 3, 4]);
  assert.equal(barrier.nWaiting, 0);
  assert.equal(barrier.broken, false);
});

asyncCase("BarrierTests.test_abort_barrier", async () => {
  const barrier = new Barrier(1);
  createTask(() => barrier.abort());
  await sleep(0);
  assert.equal(barrier.nWaiting, 0);
  assert.ok(barrier.broken);
});

asyncCase("BarrierTests.test_abort_barrier_when_tasks_half_draining_half_blocking", async () => {
  const barrier = new Barrier(N);
  const results1: boolean[] = [], results2: boolean[] = [];
  const blocking = Math.floor(N / 2);
  let count = 0;
  await gatherTasks(N, async () => {
    try {
      await barrier.wait();
    } catch (e) {
      if (!(e instanceof BrokenBarrierError)) throw e;
      results1.push(true); // tasks waiting to drain
      return;
    }
    count++;
    if (count > blocking) {
      await barrier.abort(); // BrokenBarrierError for every task
    } else {
      try {
        await barrier.wait();
      } catch (e) {
        if (!(e instanceof BrokenBarrierError)) throw e;
        results2.push(true); // tasks blocked after draining
      }
    }
  });
  assert.ok(barrier.broken);
  assert.deepEqual(results1, Array(blocking).fill(true));
  assert.deepEqual(results2, Array(N - blocking - 1).fill(true));
  assert.equal(barrier.nWaiting, 0);
  assert.ok(!String(barrier).includes("resetting"));
});

asyncCase("BarrierTests.test_barrier", async () => {
  // Python refuses `await barrier` with TypeError; here a Barrier is no thenable, so awaiting
  // it yields the object itself and leaves it untouched.
  const barrier = new Barrier(N);
  assert.ok(String(barrier).includes("filling"));
  assert.equal((barrier as unknown as { then?: unknown }).then, undefined);
  assert.equal(await (barrier as unknown), barrier);
  assert.ok(String(barrier).includes("filling"));
});

asyncCase("BarrierTests.test_draining_state", async () => {
  const barrier = new Barrier(N);
  const results: boolean[] = [];
  await gatherTasks(N, async () => {
    await barrier.wait();
    // The last task out sets the state back to filling.
    results.push(String(barrier).includes("draining"));
  });
  assert.equal(results.length, N);
  assert.equal(results[N - 1], false);
  assert.ok(results.slice(0, N - 1).every((r) => r));
  assert.equal(barrier.nWaiting, 0);
  assert.equal(barrier.broken, false);
});

asyncCase("BarrierTests.test_blocking_tasks_while_draining", async () => {
  const rewait = 2;
  const barrier = new Barrier(N);
  const barrierNoWaiting = new Barrier(N - rewait);
  let rewaitN = rewait;
  // Passes only if barrierNoWaiting is waited for exactly N - rewait times.
  await gatherTasks(N, async () => {
    await barrier.wait();
    if (rewaitN > 0) {
      rewaitN--;
      await barrier.wait();
    } else {
      await barrierNoWaiting.wait(); // the end of the draining
      await barrier.wait();
    }
  });
});

asyncCase("BarrierTests.test_filling_tasks_cancel_one", async () => {
  const n = 3;
  const barrier = new Barrier(n);
  const results: boolean[] = [];
  const coro = async () => {
    await barrier.wait();
    results.push(true);
  };
  const t1 = createTask(coro);
  await sleep(0);
  assert.equal(barrier.nWaiting, 1);
  const t2 = createTask(coro);
  await sleep(0);
  assert.equal(barrier.nWaiting, 2);
  t1.cancel();
  await sleep(0);
  assert.equal(barrier.nWaiting, 1);
  await assertRaises(t1, CancelledError);
  assert.ok(t1.cancelled());
  const t3 = createTask(coro);
  await sleep(0);
  assert.equal(barrier.nWaiting, 2);
  const t4 = createTask(coro);
  await gather(t2, t3, t4);
  assert.equal(results.length, n);
  assert.ok(results.every((r) => r));
  assert.equal(barrier.nWaiting, 0);
  assert.equal(barrier.broken, false);
});

asyncCase("BarrierTests.test_reset_barrier", async () => {
  const barrier = new Barrier(1);
  createTask(() => barrier.reset());
  await sleep(0);
  assert.equal(barrier.nWaiting, 0);
  assert.equal(barrier.broken, false);
});

asyncCase("BarrierTests.test_reset_barrier_while_tasks_waiting", async () => {
  const barrier = new Barrier(N);
  const results: boolean[] = [];
  const tasks = Array.from({ length: N - 1 }, () =>
    createTask(async () => {
      try {
        await barrier.wait();
      } catch (e) {
        if (!(e instanceof BrokenBarrierError)) throw e;
        results.push(true);
      }
    }));
  await sleep(0);
  createTask(() => barrier.reset());
  await gather(...tasks);
  assert.equal(results.length, N - 1);
  assert.equal(barrier.nWaiting, 0);
  assert.ok(!String(barrier).includes("resetting"));
  assert.equal(barrier.broken, false);
});

asyncCase("BarrierTests.test_reset_barrier_when_tasks_half_draining", async () => {
  const barrier = new Barrier(N);
  const results1: boolean[] = [];
  const restOfTasks = Math.floor(N / 2);
  await gatherTasks(N, async () => {
    try {
      await barrier.wait();
    } catch (e) {
      if (!(e instanceof BrokenBarrierError)) throw e;
      results1.push(true); // still waiting when the barrier was reset
      return;
    }
    // Drained: reset once only restOfTasks are still inside.
    if (restOfTasks === priv(barrier)._count) await barrier.reset();
  });
  assert.deepEqual(results1, Array(restOfTasks).fill(true));
  assert.equal(barrier.nWaiting, 0);
  assert.ok(!String(barrier).includes("resetting"));
  assert.equal(barrier.broken, false);
});

asyncCase("BarrierTests.test_reset_barrier_when_tasks_half_draining_half_blocking", async () => {
  const barrier = new Barrier(N);
  const results1: boolean[] = [], results2: boolean[] = [];
  const blocking = Math.floor(N / 2);
  let count = 0;
  await gatherTasks(N, async () => {
    try {
      await barrier.wait();
    } catch (e) {
      if (!(e instanceof BrokenBarrierError)) throw e;
      results1.push(true); // still waiting at the reset
      await barrier.wait(); // and wait again to make up the parties
      return;
    }
    count++;
    if (count > blocking) {
      await barrier.reset(); // BrokenBarrierError for the waiting tasks
      await barrier.wait();
    } else {
      try {
        await barrier.wait();
      } catch (e) {
        if (!(e instanceof BrokenBarrierError)) throw e;
        results2.push(true); // never: the blocked tasks just wait
      }
    }
  });
  assert.deepEqual(results1, Array(blocking).fill(true));
  assert.deepEqual(results2, []);
  assert.equal(barrier.nWaiting, 0);
  assert.ok(!String(barrier).includes("resetting"));
  assert.equal(barrier.broken, false);
});

asyncCase("BarrierTests.test_reset_barrier_while_tasks_waiting_and_waiting_again", async () => {
  const barrier = new Barrier(N);
  const results1: boolean[] = [], results2: boolean[] = [];
  const tasks = Array.from({ length: N - 1 }, () =>
    createTask(async () => {
      try {
        await barrier.wait();
      } catch (e) {
        if (!(e instanceof BrokenBarrierError)) throw e;
        results1.push(true);
      } finally {
        await barrier.wait();
        results2.push(true);
      }
    }));
  // The reset gives the N-1 waiting tasks BrokenBarrierError.
  createTask(() => barrier.reset());
  await sleep(0);
  // One more party lets the tasks through the wait in their finally.
  createTask(async () => {
    await barrier.wait();
    results2.push(true);
  });
  await gather(...tasks);
  assert.equal(barrier.broken, false);
  assert.deepEqual(results1, Array(N - 1).fill(true));
  assert.deepEqual(results2, Array(N).fill(true));
  assert.equal(barrier.nWaiting, 0);
});

asyncCase("BarrierTests.test_reset_barrier_while_tasks_draining", async () => {
  const barrier = new Barrier(N);
  const results1: boolean[] = [], results2: boolean[] = [], results3: boolean[] = [];
  let count = 0;
  await gatherTasks(N, async () => {
    await barrier.wait();
    count++;
    if (count === N) {
      // The last task out of the barrier resets it and waits to make up the parties.
      await barrier.reset();
      await barrier.wait();
    } else {
      try {
        await barrier.wait(); // N-1 tasks pass this second wait
        results1.push(true);
      } catch {
        results2.push(true); // never
      }
    }
    await barrier.wait(); // and everyone passes once more
    results3.push(true);
  });
  assert.equal(barrier.broken, false);
  assert.deepEqual(results1, Array(N - 1).fill(true));
  assert.equal(results2.length, 0);
  assert.deepEqual(results3, Array(N).fill(true));
  assert.equal(barrier.nWaiting, 0);
});

asyncCase("BarrierTests.test_abort_barrier_when_exception", async () => {
  // From threading.Barrier's lock_tests.test_reset.
  const barrier = new Barrier(N);
  const results1: boolean[] = [], results2: boolean[] = [];
  await gatherTasks(N, async () => {
    try {
      const i = await barrier.wait();
      if (i === Math.floor(N / 2)) throw new RuntimeError("boom");
      await barrier.wait();
      results1.push(true);
    } catch (e) {
      if (e instanceof BrokenBarrierError) results2.push(true);
      else if (e instanceof RuntimeError) await barrier.abort();
      else throw e;
    }
  });
  assert.ok(barrier.broken);
  assert.equal(results1.length, 0);
  assert.deepEqual(results2, Array(N - 1).fill(true));
  assert.equal(barrier.nWaiting, 0);
});

asyncCase("BarrierTests.test_abort_barrier_when_exception_then_resetting", async () => {
  // From threading.Barrier's lock_tests.test_abort_and_reset.
  const barrier1 = new Barrier(N), barrier2 = new Barrier(N);
  const results1: boolean[] = [], results2: boolean[] = [], results3: boolean[] = [];
  await gatherTasks(N, async () => {
    try {
      const i = await barrier1.wait();
      if (i === Math.floor(N / 2)) throw new RuntimeError("boom");
      await barrier1.wait();
      results1.push(true);
    } catch (e) {
      if (e instanceof BrokenBarrierError) results2.push(true);
      else if (e instanceof RuntimeError) await barrier1.abort();
      else throw e;
    }
    // Everyone has left barrier1 before the reset, and nobody enters it before the reset.
    const i = await barrier2.wait();
    if (i === Math.floor(N / 2)) await barrier1.reset();
    await barrier2.wait();
    await barrier1.wait();
    results3.push(true);
  });
  assert.equal(barrier1.broken, false);
  assert.equal(results1.length, 0);
  assert.deepEqual(results2, Array(N - 1).fill(true));
  assert.deepEqual(results3, Array(N).fill(true));
  assert.equal(barrier1.nWaiting, 0);
});
