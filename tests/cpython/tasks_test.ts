/**
 * CPython 3.12 test_asyncio/test_tasks.py, ported: Task creation, names, cancellation (with
 * messages, uncancel, cancelling the awaited future or task), currentTask, sleep, gather, and
 * the module-level helpers. The shield/wait/as_completed cases are ported with those APIs (by
 * another part of the port), and CPython's virtual-time TestLoop is replaced by real short
 * timers with loose bounds. The C and Python Task variants are one class here: each case is
 * ported once. Left-out cases are listed in tests/cpython/README.md.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  allTasks, CancelledError, currentTask, ensureFuture, type Future, gather, getEventLoop,
  newEventLoop, RuntimeError, setEventLoop, sleep, Task, ValueError,
} from "../../mod.ts";
import { captureExceptions, withLoop } from "../helpers.ts";
import { knownDefect } from "./known_defects.ts";
import { runBriefly, waitDone } from "./port_utils.ts";

class KeyError extends Error {
  override name = "KeyError";
}

// ---- BaseTaskTests -----------------------------------------------------------------------------

test("BaseTaskTests.test_task_cancel_message_getter", () =>
  withLoop(async (loop) => {
    const t = loop.createTask(async () => {});
    t.cancel("my message");
    await assert.rejects(loop.runUntilComplete(t), (e: unknown) =>
      e instanceof CancelledError && e.message === "my message");
  }));

test("BaseTaskTests.test_other_loop_future", () =>
  withLoop(async (loop) => {
    const other = newEventLoop();
    try {
      const fut = other.createFuture();
      await assert.rejects(
        loop.runUntilComplete(async () => {
          await fut;
        }),
        (e: unknown) => e instanceof RuntimeError && /Task .* got Future .* attached/.test(e.message),
      );
    } finally {
      other.close();
    }
  }));

test("BaseTaskTests.test_task_awaits_on_itself", () =>
  withLoop(async (loop) => {
    const task: Task<void> = ensureFuture(async () => {
      await task;
    }, { loop }) as Task<void>;
    await assert.rejects(loop.runUntilComplete(task), (e: unknown) =>
      e instanceof RuntimeError && /Task cannot await on itself/.test(e.message));
  }));

test("BaseTaskTests.test_task_class", () =>
  withLoop(async (loop) => {
    const notmuch = async () => "ok";
    const t = loop.createTask(notmuch);
    await loop.runUntilComplete(t);
    assert.equal(t.done(), true);
    assert.equal(t.result(), "ok");
    assert.equal(t.getLoop(), loop);
    const loop2 = newEventLoop();
    try {
      const t2 = new Task(notmuch, loop2);
      assert.equal(t2.getLoop(), loop2);
      await loop2.runUntilComplete(t2);
    } finally {
      loop2.close();
    }
  }));

test("BaseTaskTests.test_ensure_future_coroutine", () =>
  withLoop(async (loop) => {
    const notmuch = async () => "ok";
    const t = ensureFuture(notmuch, { loop });
    assert.equal(t.getLoop(), loop);
    await loop.runUntilComplete(t);
    assert.equal(t.result(), "ok");
    // Inside a running loop, ensureFuture uses it (wrapped in an array: a Task is thenable).
    const [t2] = await loop.runUntilComplete(async () => [ensureFuture(notmuch)]);
    assert.equal(t2.getLoop(), loop);
    assert.equal(await loop.runUntilComplete(t2), "ok");
    setEventLoop(loop);
    try {
      const t3 = ensureFuture(notmuch);
      assert.equal(t3.getLoop(), loop);
      assert.equal(await loop.runUntilComplete(t3), "ok");
    } finally {
      setEventLoop(null);
    }
    // No running and no current loop: RuntimeError (setEventLoop(null) cleared it).
    assert.throws(() => ensureFuture(notmuch), RuntimeError);
  }));

test("BaseTaskTests.test_ensure_future_future", () =>
  withLoop(async (loop) => {
    const fOrig = loop.createFuture<string>();
    fOrig.setResult("ko");
    const f = ensureFuture(fOrig);
    await loop.runUntilComplete(f);
    assert.equal(f.result(), "ko");
    assert.equal(f, fOrig);
    const loop2 = newEventLoop();
    try {
      assert.throws(() => ensureFuture(fOrig, { loop: loop2 }), ValueError);
    } finally {
      loop2.close();
    }
    assert.equal(ensureFuture(fOrig, { loop }), fOrig);
  }));

test("BaseTaskTests.test_ensure_future_task", () =>
  withLoop(async (loop) => {
    const tOrig = loop.createTask(async () => "ok");
    const t = ensureFuture(tOrig);
    await loop.runUntilComplete(t);
    assert.equal(t.result(), "ok");
    assert.equal(t, tOrig);
    const loop2 = newEventLoop();
    try {
      assert.throws(() => ensureFuture(tOrig, { loop: loop2 }), ValueError);
    } finally {
      loop2.close();
    }
    assert.equal(ensureFuture(tOrig, { loop }), tOrig);
  }));

test("BaseTaskTests.test_ensure_future_awaitable", () =>
  withLoop(async (loop) => {
    // An awaitable that is not a Future: in JS, a thenable delegating to a coroutine.
    class Aw implements PromiseLike<string> {
      constructor(private readonly coro: Promise<string>) {}
      then<A = string, B = never>(
        ok?: ((v: string) => A | PromiseLike<A>) | null,
        bad?: ((e: unknown) => B | PromiseLike<B>) | null,
      ): Promise<A | B> {
        return this.coro.then(ok, bad);
      }
    }
    const fut = ensureFuture(new Aw((async () => "ok")()), { loop });
    await loop.runUntilComplete(fut);
    assert.equal(fut.result(), "ok");
  }));

test("BaseTaskTests.test_ensure_future_task_awaitable", () =>
  withLoop(async (loop) => {
    const aw: PromiseLike<string> = {
      then: (ok, bad) => sleep(0, "ok").then(ok, bad),
    };
    // The thenable's then() runs sleep(), so it must be called inside the running loop: wrap
    // it in a coroutine function, as asyncio's task steps the awaitable's __await__.
    const task = ensureFuture(async () => await aw, { loop });
    await loop.runUntilComplete(task);
    assert.equal(task.done(), true);
    assert.equal(task.result(), "ok");
  }));

test("BaseTaskTests.test_ensure_future_neither", () =>
  withLoop((loop) => {
    assert.throws(() => ensureFuture("ok" as never, { loop }), TypeError);
  }));

test("BaseTaskTests.test_ensure_future_error_msg", () =>
  withLoop((loop) => {
    const loop2 = newEventLoop();
    try {
      const f = loop.createFuture();
      assert.throws(() => ensureFuture(f, { loop: loop2 }), (e: unknown) =>
        e instanceof ValueError &&
        /The future belongs to a different loop than the one specified as the loop argument/
          .test(e.message));
    } finally {
      loop2.close();
    }
  }));

test("BaseTaskTests.test_task_repr", { skip: knownDefect("15") }, () =>
  withLoop(async (loop) => {
    // asyncio's repr names the coroutine and its source line (Python-only); the state, the
    // name and the result are ported.
    const t = loop.createTask(async () => "abc", { name: "TestTask" });
    assert.match(String(t), /pending/);
    assert.match(String(t), /TestTask/);
    t.cancel();
    assert.match(String(t), /cancelling/);
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    assert.match(String(t), /cancelled/);
    const t2 = loop.createTask(async () => "abc", { name: "TestTask" });
    await loop.runUntilComplete(t2);
    assert.match(String(t2), /finished/);
    assert.match(String(t2), /result=.?abc/);
  }));

test("BaseTaskTests.test_task_repr_autogenerated", () =>
  withLoop(async (loop) => {
    const t1 = loop.createTask(async () => 123);
    const t2 = loop.createTask(async () => 123);
    assert.notEqual(String(t1), String(t2));
    const m1 = /^Task-(\d+)$/.exec(t1.getName());
    const m2 = /^Task-(\d+)$/.exec(t2.getName());
    assert.ok(m1 && m2);
    assert.ok(Number(m1[1]) < Number(m2[1]));
    assert.match(String(t1), new RegExp(t1.getName()));
    await loop.runUntilComplete(t1);
    await loop.runUntilComplete(t2);
  }));

test("BaseTaskTests.test_task_set_name_pylong", {
  skip: knownDefect("new: createTask({ name: 987654321 }) keeps a number; getName() returns it unconverted"),
}, () =>
  withLoop(async (loop) => {
    const t = loop.createTask(async () => 123, { name: 987654321 as unknown as string });
    assert.equal(t.getName(), "987654321");
    t.setName(123456789 as unknown as string);
    assert.equal(t.getName(), "123456789");
    await loop.runUntilComplete(t);
  }));

test("BaseTaskTests.test_task_repr_name_not_str", () =>
  withLoop(async (loop) => {
    const t = loop.createTask(async () => 123);
    t.setName([6] as unknown as string);
    assert.equal(t.getName(), "6");
    await loop.runUntilComplete(t);
  }));

test("BaseTaskTests.test_task_basics", () =>
  withLoop(async (loop) => {
    const inner1 = async () => 42;
    const inner2 = async () => 1000;
    const outer = async () => (await inner1()) + (await inner2());
    assert.equal(await loop.runUntilComplete(outer), 1042);
  }));

test("BaseTaskTests.test_exception_chaining_after_await", () =>
  withLoop(async (loop) => {
    // Python chains the exception being handled as __context__; JS has no implicit chaining,
    // so what is ported is that the task's own exception reaches the awaiter unchanged while
    // another one is being handled.
    let seen: unknown;
    await loop.runUntilComplete(async () => {
      try {
        throw new KeyError("3");
      } catch {
        const task = loop.createTask(async () => {
          throw new ValueError();
        });
        try {
          await task;
        } catch (e) {
          seen = e;
        }
      }
    });
    assert.ok(seen instanceof ValueError);
  }));

test("BaseTaskTests.test_exception_chaining_after_await_with_context_cycle", () =>
  withLoop(async (loop) => {
    let hasCycle: boolean | undefined;
    await loop.runUntilComplete(async () => {
      try {
        throw new KeyError("a");
      } catch (exc) {
        const task = loop.createTask(async () => {
          throw exc;
        });
        try {
          await task;
        } catch (e) {
          hasCycle = e === (e as Error).cause;
        }
      }
    });
    assert.equal(hasCycle, false);
  }));

test("BaseTaskTests.test_cancelling", { skip: knownDefect("new: String(task) never says 'cancelling'") }, () =>
  withLoop(async (loop) => {
    const t = loop.createTask(() => sleep(10));
    assert.equal(t.cancelling(), 0);
    assert.doesNotMatch(String(t), / cancelling /);
    assert.equal(t.cancel(), true);
    assert.ok(t.cancelling());
    assert.match(String(t), /cancelling/);
    assert.equal(t.cancel(), true);
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
  }));

test("BaseTaskTests.test_uncancel_basic", () =>
  withLoop(async (loop) => {
    const t = loop.createTask(async () => {
      try {
        await sleep(10);
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
        currentTask()!.uncancel();
        await sleep(10);
      }
    });
    await loop.runUntilComplete(() => sleep(0.01));
    assert.equal(t.cancel(), true);
    assert.equal(t.cancelling(), 1);
    assert.equal(t.cancelled(), false);
    await loop.runUntilComplete(() => sleep(0.01));
    assert.equal(t.cancelling(), 0);
    assert.equal(t.cancelled(), false);
    assert.equal(t.cancel(), true);
    assert.equal(t.cancelling(), 1);
    assert.equal(t.cancelled(), false);
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    assert.equal(t.cancelled(), true);
    assert.equal(t.done(), true);
    t.uncancel();
    assert.equal(t.cancelled(), true);
    assert.equal(t.done(), true);
  }));

test("BaseTaskTests.test_uncancel_structured_blocks", () =>
  withLoop(async (loop) => {
    class Timeout extends Error {}
    const makeRequestWithTimeout = async (sleepFor: number, timeout: number) => {
      const task = currentTask()!;
      let timedOut = false;
      let blockFinished = false;
      const handle = loop.callLater(timeout, () => {
        timedOut = true;
        task.cancel();
      });
      try {
        let pending: unknown;
        try {
          await sleep(sleepFor);
          blockFinished = true;
        } catch (e) {
          pending = e;
        } finally {
          handle.cancel();
        }
        if (timedOut && task.uncancel() === 0 && pending instanceof CancelledError) {
          throw new Timeout();
        }
        if (pending !== undefined) throw pending;
      } catch (e) {
        if (!(e instanceof Timeout)) throw e;
        assert.ok(timedOut);
      }
      await sleep(0);
      return [timedOut, blockFinished, true];
    };
    const t1 = loop.createTask(() => makeRequestWithTimeout(10, 0.1));
    assert.deepEqual(await loop.runUntilComplete(t1), [true, false, true]);
    assert.equal(t1.cancelling(), 0);
    const t2 = loop.createTask(() => makeRequestWithTimeout(0, 10));
    assert.deepEqual(await loop.runUntilComplete(t2), [false, true, true]);
    assert.equal(t2.cancelling(), 0);
  }));

test("BaseTaskTests.test_cancel", () =>
  withLoop(async (loop) => {
    const t = loop.createTask(async () => {
      await sleep(10);
      return 12;
    });
    loop.callSoon(() => t.cancel());
    const t0 = loop.time();
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    assert.ok(loop.time() - t0 < 5);
    assert.equal(t.done(), true);
    assert.equal(t.cancelled(), true);
    assert.equal(t.cancel(), false);
  }));

for (const [args, expected] of [[[], ""], [[undefined], ""], [["my message"], "my message"]] as const) {
  for (const via of ["result", "exception"] as const) {
    test(`BaseTaskTests.test_cancel_with_message_then_future_${via} (${JSON.stringify(args)})`, () =>
      withLoop(async (loop) => {
        const task = loop.createTask(async () => {
          const inner = loop.createTask(() => sleep(10));
          await sleep(0);
          inner.cancel(...(args as [string?]));
          await waitDone(inner);
          if (via === "result") inner.result();
          else inner.exception();
        });
        await assert.rejects(loop.runUntilComplete(task), (e: unknown) =>
          e instanceof CancelledError && e.message === expected);
      }));
  }
}

test("BaseTaskTests.test_cancellation_exception_context", () =>
  withLoop(async (loop) => {
    const fut = loop.createFuture<void>();
    const task = loop.createTask(async () => {
      const inner = loop.createTask(async () => {
        fut.setResult();
        await sleep(10);
      });
      await fut;
      loop.callSoon(() => inner.cancel("msg"));
      try {
        await inner;
      } catch (ex) {
        if (ex instanceof CancelledError) throw new ValueError("cancelled", { cause: ex });
        throw ex;
      }
    });
    await assert.rejects(loop.runUntilComplete(task), (e: unknown) =>
      e instanceof ValueError && e.message === "cancelled" &&
      e.cause instanceof CancelledError && e.cause.message === "msg");
  }));

test("BaseTaskTests.test_cancel_with_message_before_starting_task", () =>
  withLoop(async (loop) => {
    const task = loop.createTask(async () => {
      const inner = loop.createTask(() => sleep(10));
      inner.cancel("my message");
      await waitDone(inner);
      inner.exception();
    });
    await assert.rejects(loop.runUntilComplete(task), (e: unknown) =>
      e instanceof CancelledError && e.message === "my message");
  }));

test("BaseTaskTests.test_cancel_yield", () =>
  withLoop(async (loop) => {
    const t = loop.createTask(async () => {
      await sleep(0);
      await sleep(0);
      return 12;
    });
    await runBriefly(loop);
    t.cancel();
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    assert.equal(t.done(), true);
    assert.equal(t.cancelled(), true);
    assert.equal(t.cancel(), false);
  }));

test("BaseTaskTests.test_cancel_inner_future", () =>
  withLoop(async (loop) => {
    const f = loop.createFuture();
    const t = loop.createTask(async () => {
      await f;
      return 12;
    });
    await runBriefly(loop);
    f.cancel();
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    assert.equal(f.cancelled(), true);
    assert.equal(t.cancelled(), true);
  }));

test("BaseTaskTests.test_cancel_both_task_and_inner_future", () =>
  withLoop(async (loop) => {
    const f = loop.createFuture();
    const t = loop.createTask(async () => {
      await f;
      return 12;
    });
    await runBriefly(loop);
    f.cancel();
    t.cancel();
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    assert.equal(t.done(), true);
    assert.equal(f.cancelled(), true);
    assert.equal(t.cancelled(), true);
  }));

test("BaseTaskTests.test_cancel_task_catching", () =>
  withLoop(async (loop) => {
    const fut1 = loop.createFuture();
    const fut2 = loop.createFuture();
    const t = loop.createTask(async () => {
      await fut1;
      try {
        await fut2;
      } catch (e) {
        if (e instanceof CancelledError) return 42;
        throw e;
      }
    });
    await runBriefly(loop);
    fut1.setResult(null);
    await runBriefly(loop);
    t.cancel();
    assert.equal(fut2.cancelled(), true); // the task was waiting on fut2
    assert.equal(await loop.runUntilComplete(t), 42);
    assert.equal(t.cancelled(), false);
  }));

test("BaseTaskTests.test_cancel_task_ignoring", () =>
  withLoop(async (loop) => {
    const fut1 = loop.createFuture();
    const fut2 = loop.createFuture();
    const fut3 = loop.createFuture<number>();
    const t = loop.createTask(async () => {
      await fut1;
      try {
        await fut2;
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
      }
      return await fut3;
    });
    await runBriefly(loop);
    fut1.setResult(null);
    await runBriefly(loop);
    t.cancel();
    assert.equal(fut2.cancelled(), true);
    await runBriefly(loop);
    fut3.setResult(42);
    assert.equal(await loop.runUntilComplete(t), 42);
    assert.equal(fut3.cancelled(), false);
    assert.equal(t.cancelled(), false);
  }));

test("BaseTaskTests.test_cancel_current_task", () =>
  withLoop(async (loop) => {
    const t: Task<number> = loop.createTask(async () => {
      t.cancel();
      await sleep(100); // cancelled at once
      return 12;
    });
    assert.equal(t.cancelled(), false);
    const t0 = loop.time();
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    assert.ok(loop.time() - t0 < 50);
    assert.equal(t.done(), true);
    assert.equal(t.cancelled(), true);
    assert.equal(t.cancel(), false);
  }));

test("BaseTaskTests.test_cancel_at_end", () =>
  withLoop(async (loop) => {
    const t: Task<number> = loop.createTask(async () => {
      t.cancel();
      return 12;
    });
    assert.equal(t.cancelled(), false);
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    assert.equal(t.done(), true);
    assert.equal(t.cancelled(), true);
    assert.equal(t.cancel(), false);
  }));

test("BaseTaskTests.test_cancel_awaited_task", () =>
  withLoop(async (loop) => {
    const fut = loop.createFuture();
    let nestedTask!: Task<void>;
    const task: Task<void> = loop.createTask(async () => {
      nestedTask = loop.createTask(async () => {
        await fut;
      });
      await sleep(0);
      task.cancel();
      await nestedTask;
    });
    await assert.rejects(loop.runUntilComplete(task), CancelledError);
    assert.equal(task.cancelled(), true);
    assert.equal(nestedTask.cancelled(), true);
    assert.equal(fut.cancelled(), true);
  }));

test("BaseTaskTests.test_stop_while_run_in_complete", () =>
  withLoop(async (loop) => {
    let x = 0;
    const t = loop.createTask(async () => {
      while (x < 10) {
        await sleep(0.01);
        x += 1;
        if (x === 2) loop.stop();
      }
    });
    await assert.rejects(loop.runUntilComplete(t), (e: unknown) =>
      e instanceof RuntimeError && e.message === "Event loop stopped before Future completed.");
    assert.equal(t.done(), false);
    assert.equal(x, 2);
    t.cancel();
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
  }));
