/**
 * CPython 3.12 test_asyncio/test_waitfor.py, ported: waitFor's timeouts (positive, zero,
 * negative, none), waiting for the inner task's cancellation, races between the timeout and
 * the result, and cancelling waitFor itself. Each IsolatedAsyncioTestCase case runs as a task
 * on a fresh loop.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type BaseEventLoop, CancelledError, createTask, type Future, shield, sleep, TimeoutError,
  waitFor,
} from "../../mod.ts";
import { withLoop } from "../helpers.ts";
import { waitDone } from "./port_utils.ts";

const EPSILON = 0.0001;

/** Run `body` as a task on a fresh loop (unittest.IsolatedAsyncioTestCase). */
function isolated(body: (loop: BaseEventLoop) => Promise<void>): Promise<void> {
  return withLoop((loop) => loop.runUntilComplete(() => body(loop)));
}

/** Runs for 0.2 s whatever cancellations it gets (CPython's SlowTask). */
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

test("AsyncioWaitForTest.test_asyncio_wait_for_cancelled", () =>
  isolated(async () => {
    const t = new SlowTask();
    const waitForTask = createTask(() => waitFor(() => t.run(), SlowTask.TASK_TIMEOUT * 2));
    await sleep(0);
    waitForTask.cancel();
    await waitDone(waitForTask);
    assert.equal(t.exited, true);
  }));

test("AsyncioWaitForTest.test_asyncio_wait_for_timeout", () =>
  isolated(async () => {
    const t = new SlowTask();
    try {
      await waitFor(() => t.run(), SlowTask.TASK_TIMEOUT / 2);
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
    }
    assert.equal(t.exited, true);
  }));

test("AsyncioWaitForTest.test_wait_for_timeout_less_then_0_or_0_future_done", () =>
  isolated(async (loop) => {
    const fut = loop.createFuture<string>();
    fut.setResult("done");
    assert.equal(await waitFor(fut, 0), "done");
    assert.equal(fut.done(), true);
  }));

test("AsyncioWaitForTest.test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started", () =>
  isolated(async () => {
    let fooStarted = false;
    await assert.rejects(waitFor(async () => {
      fooStarted = true;
    }, 0), TimeoutError);
    assert.equal(fooStarted, false);
  }));

for (const timeout of [0, -1]) {
  test(`AsyncioWaitForTest.test_wait_for_timeout_less_then_0_or_0 (timeout=${timeout})`, () =>
    isolated(async (loop) => {
      let fooRunning: boolean | undefined;
      const started = loop.createFuture<void>();
      const fut = createTask(async () => {
        fooRunning = true;
        started.setResult();
        try {
          await sleep(10);
        } finally {
          fooRunning = false;
        }
        return "done";
      });
      await started;
      await assert.rejects(waitFor(fut, timeout), TimeoutError);
      assert.equal(fut.done(), true);
      assert.equal(fut.cancelled(), true);
      assert.equal(fooRunning, false);
    }));
}

test("AsyncioWaitForTest.test_wait_for", () =>
  isolated(async () => {
    let fooRunning: boolean | undefined;
    const fut = createTask(async () => {
      fooRunning = true;
      try {
        await sleep(300);
      } finally {
        fooRunning = false;
      }
      return "done";
    });
    await assert.rejects(waitFor(fut, 0.1), TimeoutError);
    assert.equal(fut.done(), true);
    assert.equal(fut.cancelled(), true);
    assert.equal(fooRunning, false);
  }));

test("AsyncioWaitForTest.test_wait_for_blocking", () =>
  isolated(async () => {
    assert.equal(await waitFor(async () => "done", null), "done");
  }));

test("AsyncioWaitForTest.test_wait_for_race_condition", () =>
  isolated(async (loop) => {
    const fut = loop.createFuture<string>();
    const task = waitFor(fut, 0.2);
    loop.callSoon(() => fut.setResult("ok"));
    assert.equal(await task, "ok");
  }));

test("AsyncioWaitForTest.test_wait_for_cancellation_race_condition", () =>
  isolated(async () => {
    const inner = async () => {
      await assert.rejects(sleep(1), CancelledError);
      return 1;
    };
    assert.equal(await waitFor(inner, 0.01), 1);
  }));

test("AsyncioWaitForTest.test_wait_for_waits_for_task_cancellation", () =>
  isolated(async () => {
    let taskDone = false;
    const innerTask = createTask(async () => {
      try {
        await sleep(10);
      } catch (e) {
        if (e instanceof CancelledError) await sleep(EPSILON);
        throw e;
      } finally {
        taskDone = true;
      }
    });
    // asyncio chains the CancelledError as __context__; aioloop gives it as the cause.
    await assert.rejects(waitFor(innerTask, EPSILON), (e: unknown) =>
      e instanceof TimeoutError && (e as Error).cause instanceof CancelledError);
    assert.equal(taskDone, true);
  }));

test("AsyncioWaitForTest.test_wait_for_waits_for_task_cancellation_w_timeout_0", () =>
  isolated(async () => {
    let taskDone = false;
    const foo = async () => {
      const innerTask = createTask(async () => {
        try {
          await sleep(10);
        } catch (e) {
          if (e instanceof CancelledError) await sleep(EPSILON);
          throw e;
        } finally {
          taskDone = true;
        }
      });
      await sleep(EPSILON);
      await waitFor(innerTask, 0);
    };
    await assert.rejects(foo(), (e: unknown) =>
      e instanceof TimeoutError && (e as Error).cause instanceof CancelledError);
    assert.equal(taskDone, true);
  }));

test("AsyncioWaitForTest.test_wait_for_reraises_exception_during_cancellation", () =>
  isolated(async () => {
    class FooException extends Error {}
    const foo = async () => {
      const innerTask = createTask(async () => {
        try {
          await sleep(0.2);
        } finally {
          // deno-lint-ignore no-unsafe-finally
          throw new FooException();
        }
      });
      await waitFor(innerTask, EPSILON);
    };
    await assert.rejects(foo(), FooException);
  }));

for (const [name, timeout] of [["test_cancel_blocking_wait_for", null], ["test_cancel_wait_for", 60]] as const) {
  test(`AsyncioWaitForTest.${name}`, () =>
    isolated(async (loop) => {
      const task = createTask(async () => {
        await loop.createFuture(); // never set
      });
      const wait = createTask(() => waitFor(task, timeout));
      loop.callSoon(() => wait.cancel());
      await assert.rejects(wait.then(), CancelledError);
      assert.equal(task.cancelled(), true); // cancelling the wait cancels the task (bpo-23219)
    }));
}

test("AsyncioWaitForTest.test_wait_for_cancel_suppressed", () =>
  isolated(async () => {
    const return42 = async () => {
      try {
        await sleep(10);
      } catch (e) {
        if (e instanceof CancelledError) return 42;
        throw e;
      }
    };
    assert.equal(await waitFor(return42, 0.1), 42);
  }));

test("AsyncioWaitForTest.test_wait_for_issue86296", () =>
  isolated(async () => {
    const innerTask = createTask(async () => "done");
    let reachedEnd = false;
    const task = createTask(async () => {
      await waitFor(innerTask, 100);
      await sleep(1);
      reachedEnd = true;
    });
    assert.equal(task.done(), false);
    await sleep(0);
    task.cancel();
    await assert.rejects(task.then(), CancelledError);
    assert.equal(innerTask.done(), true);
    assert.equal(await innerTask, "done");
    assert.equal(reachedEnd, false);
  }));

// ---- WaitForShieldTests ------------------------------------------------------------------------

test("WaitForShieldTests.test_zero_timeout", () =>
  isolated(async () => {
    const task = createTask(async () => {
      await sleep(0.01);
      return "done";
    });
    let shielded!: Future<string>;
    await assert.rejects(async () => {
      shielded = shield(task);
      await waitFor(shielded, 0);
    }, TimeoutError);
    assert.equal(task.done(), false);
    assert.equal(task.cancelled(), false);
    assert.equal(shielded.cancelled(), true);
    await sleep(0.1);
    assert.equal(task.done(), true);
  }));

test("WaitForShieldTests.test_none_timeout", () =>
  isolated(async () => {
    const task = createTask(async () => {
      await sleep(0.1);
      return "done";
    });
    await waitFor(shield(task), null);
    assert.equal(task.done(), true);
    assert.equal(await task, "done");
  }));

test("WaitForShieldTests.test_shielded_timeout", () =>
  isolated(async () => {
    const task = createTask(async () => {
      await sleep(0.1);
      return "done";
    });
    await assert.rejects(waitFor(shield(task), 0.01), TimeoutError);
    assert.equal(task.done(), false);
    assert.equal(task.cancelled(), false);
    assert.equal(await task, "done");
  }));
