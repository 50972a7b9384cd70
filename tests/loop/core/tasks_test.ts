/**
 * Task (asyncio.Task) on a real loop: scheduling, results, cancellation semantics, names,
 * currentTask/allTasks, Promise-backed tasks, and many tasks at once.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import {
  allTasks, CancelledError, createSubprocessExec, currentTask, Future, InvalidStateError, PIPE,
  RuntimeError, setEventLoop, sleep, socketpair, Task, ValueError,
} from "../../../mod.ts";
import { collectGarbage } from "../../../ffi/runtime.ts";
import { captureExceptions, hostDelay, settle, withLoop } from "../../helpers.ts";

test("createTask starts the coroutine only on the next loop iteration", () =>
  withLoop(async (loop) => {
    const order: string[] = [];
    const task = loop.createTask(async () => {
      order.push("coro");
      return 1;
    });
    assert.ok(task instanceof Task);
    assert.equal(order.length, 0);
    await Promise.resolve(); // microtasks alone do not start it
    await hostDelay(1); // nor a host turn while the loop is not running
    assert.equal(order.length, 0);
    loop.callSoon(() => order.push("callSoon-before-run"));
    assert.equal(await loop.runUntilComplete(task), 1);
    // The task's first step was queued before the callSoon, so it runs first.
    assert.deepEqual(order, ["coro", "callSoon-before-run"]);
  }));

test("a task started from a callback runs after the callbacks queued before it", () =>
  withLoop(async (loop) => {
    const order: string[] = [];
    loop.callSoon(() => {
      loop.createTask(async () => {
        order.push("task");
      });
      order.push("creator");
      loop.callSoon(() => order.push("queued-after"));
    });
    await loop.runUntilComplete(() => sleep(0.005));
    assert.deepEqual(order, ["creator", "task", "queued-after"]);
  }));

test("result and exception propagate to the task and to its awaiter", () =>
  withLoop(async (loop) => {
    const ok = loop.createTask(async () => {
      await sleep(0.001);
      return "value";
    });
    const err = new ValueError("inner failure");
    const bad = loop.createTask(async () => {
      await sleep(0.001);
      throw err;
    });
    const outer = await loop.runUntilComplete(async () => {
      const v = await ok;
      try {
        await bad;
      } catch (e) {
        return [v, e];
      }
    });
    assert.deepEqual(outer, ["value", err]);
    assert.equal(ok.result(), "value");
    assert.equal(bad.exception(), err);
    assert.throws(() => bad.result(), (e) => e === err);
    assert.equal(ok.done() && bad.done(), true);
  }));

test("a coroutine that throws synchronously, or returns a non-Promise, fails its task", () =>
  withLoop(async (loop) => {
    const err = new Error("sync");
    const t1 = loop.createTask((() => {
      throw err;
    }) as () => Promise<never>);
    // deno-lint-ignore no-explicit-any
    const t2 = loop.createTask((() => 5) as any);
    await settle(loop, t1);
    await settle(loop, t2);
    assert.equal(t1.exception(), err);
    assert.ok(t2.exception() instanceof TypeError);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => loop.createTask(42 as any), TypeError);
  }));

test("cancel() raises CancelledError at the awaited Future; try/finally runs", () =>
  withLoop(async (loop) => {
    const log: string[] = [];
    const inner = loop.createFuture();
    const task = loop.createTask(async () => {
      try {
        log.push("start");
        await inner;
        log.push("not reached");
      } catch (e) {
        log.push(`caught ${(e as Error).name}:${(e as Error).message}`);
        throw e;
      } finally {
        log.push("finally");
      }
    });
    loop.callLater(0.005, () => {
      assert.equal(task.cancel("bye"), true);
      assert.equal(task.cancelling(), 1);
    });
    await settle(loop, task);
    assert.deepEqual(log, ["start", "caught CancelledError:bye", "finally"]);
    assert.equal(task.cancelled(), true);
    assert.equal(inner.cancelled(), true, "the awaited future itself was cancelled");
    assert.throws(() => task.result(), (e) => e instanceof CancelledError && e.message === "bye");
    assert.equal(task.cancel(), false, "cancel() of a done task is false");
  }));

test("a task cancelled while sleeping is cancelled; the sleep timer does not fire later", () =>
  withLoop(async (loop) => {
    let after = false;
    const task = loop.createTask(async () => {
      await sleep(10);
      after = true;
    });
    loop.callLater(0.005, () => task.cancel());
    const start = loop.time();
    await settle(loop, task);
    assert.ok(loop.time() - start < 1);
    assert.equal(task.cancelled(), true);
    assert.equal(after, false);
  }));

test("a coroutine that catches CancelledError and goes on is not cancelled; uncancel()", () =>
  withLoop(async (loop) => {
    const log: unknown[] = [];
    const task = loop.createTask(async () => {
      try {
        await sleep(10);
      } catch (e) {
        log.push(e instanceof CancelledError);
        const self = currentTask()!;
        log.push(self.cancelling());
        log.push(self.uncancel());
      }
      await sleep(0.001); // not interrupted again
      return "survived";
    });
    loop.callLater(0.005, () => task.cancel());
    assert.equal(await loop.runUntilComplete(task), "survived");
    assert.deepEqual(log, [true, 1, 0]);
    assert.equal(task.cancelled(), false);
    assert.equal(task.cancelling(), 0);
  }));

test("cancel() twice counts two requests; uncancel() never goes below 0", () =>
  withLoop(async (loop) => {
    const task = loop.createTask(() => sleep(10));
    await loop.runUntilComplete(() => sleep(0.001));
    assert.equal(task.cancel(), true);
    assert.equal(task.cancel(), true);
    assert.equal(task.cancelling(), 2);
    await settle(loop, task);
    assert.equal(task.cancelled(), true);
    const t2 = loop.createTask(async () => 1);
    assert.equal(t2.uncancel(), 0);
    await loop.runUntilComplete(t2);
  }));

test("a cancel swallowed without uncancel() is still honoured if the coroutine returns", () =>
  withLoop(async (loop) => {
    // asyncio: catching CancelledError and returning normally finishes the task with that value.
    const task = loop.createTask(async () => {
      try {
        await sleep(10);
      } catch {
        return "swallowed";
      }
    });
    loop.callLater(0.002, () => task.cancel());
    await settle(loop, task);
    assert.equal(task.cancelled(), false);
    assert.equal(task.result(), "swallowed");
  }));

test("cancel before the first step: the coroutine never starts", () =>
  withLoop(async (loop) => {
    let started = false;
    const task = loop.createTask(async () => {
      started = true;
    });
    assert.equal(task.cancel("early"), true);
    assert.equal(task.done(), false, "cancellation is delivered by the loop");
    await settle(loop, task);
    assert.equal(started, false);
    assert.equal(task.cancelled(), true);
    assert.throws(() => task.result(), (e) => (e as Error).message === "early");
  }));

test("cancel while awaiting a plain Promise is delivered at the next Future await", () =>
  withLoop(async (loop) => {
    const log: string[] = [];
    let releaseHost!: () => void;
    const hostPromise = new Promise<void>((r) => (releaseHost = r));
    const task = loop.createTask(async () => {
      await hostPromise;
      log.push("after promise");
      try {
        await sleep(0.001);
        log.push("after sleep (wrong)");
      } catch (e) {
        log.push(`cancelled at sleep: ${(e as Error).message}`);
        throw e;
      }
    });
    loop.callLater(0.002, () => {
      assert.equal(task.cancel("late"), true);
      releaseHost();
    });
    await settle(loop, task);
    assert.deepEqual(log, ["after promise", "cancelled at sleep: late"]);
    assert.equal(task.cancelled(), true);
  }));

test("cancel while the coroutine awaits a plain Promise and then returns: the task is cancelled", () =>
  withLoop(async (loop) => {
    let release!: () => void;
    const p = new Promise<void>((r) => (release = r));
    const task = loop.createTask(async () => {
      await p;
      return "finished";
    });
    loop.callLater(0.002, () => {
      task.cancel();
      release();
    });
    await settle(loop, task);
    assert.equal(task.cancelled(), true);
  }));

test("cancel while suspended at sleep(0) is delivered at that sleep", () =>
  withLoop(async (loop) => {
    let spins = 0;
    const task = loop.createTask(async () => {
      for (;;) {
        spins++;
        await sleep(0);
      }
    });
    loop.callLater(0.005, () => task.cancel());
    await settle(loop, task);
    assert.equal(task.cancelled(), true);
    assert.ok(spins > 1);
  }));

test("cancelling a task that awaits another task cancels the inner one too", () =>
  withLoop(async (loop) => {
    const log: string[] = [];
    const inner = loop.createTask(async () => {
      try {
        await sleep(10);
      } finally {
        log.push("inner finally");
      }
    });
    const outer = loop.createTask(async () => {
      try {
        await inner;
      } finally {
        log.push("outer finally");
      }
    });
    loop.callLater(0.005, () => outer.cancel("stop"));
    await settle(loop, outer);
    assert.equal(outer.cancelled(), true);
    assert.equal(inner.cancelled(), true);
    assert.deepEqual(log, ["inner finally", "outer finally"]);
  }));

test("an inner task that swallows the cancel lets the outer continue with its result", () =>
  withLoop(async (loop) => {
    const inner = loop.createTask(async () => {
      try {
        await sleep(10);
      } catch {
        currentTask()!.uncancel();
        return "inner kept going";
      }
    });
    const outer = loop.createTask(async () => await inner);
    loop.callLater(0.005, () => outer.cancel());
    await settle(loop, outer);
    assert.equal(inner.result(), "inner kept going");
    // As in asyncio, the outer task's await got the inner result, and the outer returned it.
    assert.equal(outer.cancelled(), false);
    assert.equal(outer.result(), "inner kept going");
  }));

test("Task.setResult and setException are RuntimeError", () =>
  withLoop(async (loop) => {
    const task = loop.createTask(async () => 1);
    assert.throws(() => task.setResult(2), RuntimeError);
    assert.throws(() => task.setException(new Error("x")), RuntimeError);
    assert.equal(await loop.runUntilComplete(task), 1);
  }));

test("names: default Task-N with increasing N, getName/setName, name option, toString", () =>
  withLoop(async (loop) => {
    const a = loop.createTask(async () => {});
    const b = loop.createTask(async () => {});
    const na = Number(/^Task-(\d+)$/.exec(a.getName())?.[1]);
    const nb = Number(/^Task-(\d+)$/.exec(b.getName())?.[1]);
    assert.ok(na > 0 && nb === na + 1, `${a.getName()} ${b.getName()}`);
    const c = loop.createTask(async () => {}, { name: "worker" });
    assert.equal(c.getName(), "worker");
    // A named task does not consume a number.
    const d = loop.createTask(async () => {});
    assert.equal(d.getName(), `Task-${nb + 1}`);
    c.setName("renamed");
    assert.equal(c.getName(), "renamed");
    assert.equal(String(c), "<Task renamed pending>");
    for (const t of [a, b, c, d]) await loop.runUntilComplete(t);
    assert.equal(String(c), "<Task renamed finished result=undefined>");
    const e = loop.createTask(async () => {}, { name: "e" });
    e.cancel();
    await settle(loop, e);
    assert.equal(String(e), "<Task e cancelled>");
  }));

test("String(task): a named coroutine function shows as coro=<name()>, a cancel() requested as cancelling", () =>
  withLoop(async (loop) => {
    const t = loop.createTask(async function fetchPage() {
      await sleep(10);
    }, { name: "page" });
    assert.equal(String(t), "<Task page pending coro=<fetchPage()>>");
    await loop.runUntilComplete(() => sleep(0));
    t.cancel();
    assert.equal(String(t), "<Task page cancelling coro=<fetchPage()>>");
    await settle(loop, t);
    assert.equal(String(t), "<Task page cancelled coro=<fetchPage()>>");
    const r = loop.createTask(async function answer() {
      return 42;
    });
    await loop.runUntilComplete(r);
    assert.equal(String(r), `<Task ${r.getName()} finished coro=<answer()> result=42>`);
    const n = loop.createTask(async () => {}, { name: 7 as unknown as string });
    assert.equal(n.getName(), "7");
    await loop.runUntilComplete(n);
  }));

test("a task made done from outside: its coroutine's own outcome is reported as InvalidStateError 'already done'", () =>
  withLoop(async (loop) => {
    const seen = captureExceptions(loop);
    // While the coroutine runs: it finishes later, and that outcome is reported, not dropped.
    const running = loop.createTask(async () => {
      await sleep(0.01);
      return 10;
    });
    await loop.runUntilComplete(() => sleep(0));
    Future.prototype.setException.call(running, new ValueError("set from outside"));
    await assert.rejects(loop.runUntilComplete(running), ValueError);
    await loop.runUntilComplete(() => sleep(0.03));
    assert.equal(seen.length, 1);
    assert.ok(seen[0].exception instanceof InvalidStateError);
    assert.match((seen[0].exception as Error).message, /_step\(\): already done: .*, 10$/);
    assert.equal(seen[0].task, running);
    // Before its first step: the coroutine never starts.
    let started = false;
    const early = loop.createTask(async () => {
      started = true;
    });
    Future.prototype.setResult.call(early, "spam");
    assert.equal(await loop.runUntilComplete(early), "spam");
    await loop.runUntilComplete(() => sleep(0));
    assert.equal(started, false);
    assert.equal(seen.length, 2);
    assert.match((seen[1].exception as Error).message, /_step\(\): already done/);
  }));

/** Collect garbage and let the loop run a few times, so finalization callbacks get to run. */
async function collectAndRun(loop: { runUntilComplete(f: () => Promise<unknown>): Promise<unknown> }, rounds: number) {
  for (let i = 0; i < rounds; i++) {
    assert.ok(collectGarbage(), "this test needs gc (Deno: --v8-flags=--expose-gc)");
    await loop.runUntilComplete(() => sleep(0.005));
  }
}

test("a pending task nothing can wake is collected, leaves allTasks(), and is reported as destroyed while pending", () =>
  withLoop(async (loop) => {
    const seen = captureExceptions(loop);
    await loop.runUntilComplete(async () => {
      loop.createTask(async function orphan() {
        await loop.createFuture(); // referenced by nothing but this coroutine's own wakeup
      }, { name: "orphan" });
      await sleep(0);
      assert.equal(allTasks(loop).size, 2); // orphan, and this one
    });
    await collectAndRun(loop, 20);
    assert.equal(allTasks(loop).size, 0);
    assert.equal(seen.length, 1, seen.map((c) => c.message).join("; "));
    assert.equal(seen[0].message, "Task was destroyed but it is pending!");
    assert.equal(seen[0].repr, "<Task orphan pending coro=<orphan()>>");
  }));

test("an unwakeable task is reported while the loop runs busy (it never idles or stops)", () =>
  withLoop(async (loop) => {
    const seen = captureExceptions(loop);
    await loop.runUntilComplete(async () => {
      loop.createTask(async function busyOrphan() {
        await loop.createFuture();
      });
      const end = loop.time() + 5;
      while (seen.length === 0 && loop.time() < end) {
        collectGarbage();
        for (let i = 0; i < 50; i++) await sleep(0);
      }
    });
    assert.equal(seen.length, 1);
    assert.match(String(seen[0].repr), /^<Task Task-\d+ pending coro=<busyOrphan\(\)>>$/);
  }));

test("a pending task that a timer, an fd, a held Future, a host Promise or another task will wake is never collected", () =>
  withLoop(async (loop) => {
    const seen = captureExceptions(loop);
    const woken: string[] = [];
    const [a, b] = socketpair();
    a.setBlocking(false);
    b.setBlocking(false);
    const held = loop.createFuture<string>();
    try {
      // No task is referenced by this test: only what will wake it references it.
      (() => {
        loop.createTask(async () => woken.push(await sleep(1, "timer")));
        loop.createTask(async () => woken.push(new TextDecoder().decode(await loop.sockRecv(a, 10))));
        loop.createTask(async () => woken.push(await held));
        loop.createTask(async () => {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          woken.push("host");
        });
        loop.createTask(async () => {
          const inner = loop.createTask(async () => {
            await sleep(1);
            return "task";
          });
          woken.push(await inner);
        });
      })();
      // A collected task would be reported here, and would never add to `woken` below.
      await collectAndRun(loop, 5);
      assert.deepEqual(seen.map((c) => c.message), []);
      b.send(new TextEncoder().encode("fd"));
      held.setResult("future");
      await loop.runUntilComplete(async () => {
        while (woken.length < 5) await sleep(0.01);
      });
      assert.deepEqual(woken.sort(), ["fd", "future", "host", "task", "timer"]);
      assert.deepEqual(seen.map((c) => c.message), []);
      assert.equal(allTasks(loop).size, 0);
    } finally {
      a.close();
      b.close();
    }
  }));

test("currentTask() is the running task inside a coroutine, across awaits, undefined outside", () =>
  withLoop(async (loop) => {
    const seen: unknown[] = [];
    let inCallback: unknown = "unset";
    const task = loop.createTask(async () => {
      seen.push(currentTask());
      await sleep(0.001);
      seen.push(currentTask());
      await Promise.resolve();
      seen.push(currentTask());
      loop.callSoon(() => (inCallback = currentTask()));
      await sleep(0);
      // A then() handler runs in the context of the code that attached it, as a Promise's does.
      const f = loop.createFuture<number>();
      loop.callSoon(() => f.setResult(1));
      seen.push(...await f.then(() => [currentTask()]));
    });
    const other = loop.createTask(async () => {
      await sleep(0);
      return [currentTask()]; // (returning a Future itself would make the Promise adopt it)
    });
    await loop.runUntilComplete(task);
    await loop.runUntilComplete(other);
    assert.deepEqual(seen, [task, task, task, task]);
    assert.deepEqual(other.result(), [other]);
    assert.equal(inCallback, undefined, "a plain loop callback runs outside any task");
    assert.equal(currentTask(loop), undefined);
    // Inside a running loop but outside a task (a plain Promise given to runUntilComplete).
    const outside = await loop.runUntilComplete(Promise.resolve().then(() => currentTask()));
    assert.equal(outside, undefined);
  }));

test("currentTask() is not the finished task in host callbacks it left behind", () =>
  withLoop(async (loop) => {
    let later: unknown = "unset";
    const task = loop.createTask(async () => {
      setTimeout(() => (later = currentTask()), 5);
    });
    await loop.runUntilComplete(async () => {
      await task;
      while (later === "unset") await sleep(0.002);
    });
    assert.equal(task.done(), true);
    assert.equal(later, undefined);
  }));

test("currentTask() outside a running loop is a RuntimeError; with a loop argument it is not", () =>
  withLoop((loop) => {
    assert.throws(() => currentTask(), (e) => e instanceof RuntimeError && /no running event loop/.test(e.message));
    assert.equal(currentTask(loop), undefined);
  }));

test("allTasks() lists pending tasks of the loop only", () =>
  withLoop(async (loop) => {
    const release = loop.createFuture<void>();
    const a = loop.createTask(async () => await release);
    const b = loop.createTask(async () => {
      await sleep(0.001);
      return allTasks();
    });
    const seen = await loop.runUntilComplete(b);
    assert.equal(seen.has(a), true);
    assert.equal(seen.has(b), true);
    assert.equal(seen.size, 2);
    release.setResult();
    await loop.runUntilComplete(a);
    assert.equal(allTasks(loop).size, 0);
    const c = loop.createTask(() => sleep(1));
    assert.deepEqual([...allTasks(loop)], [c]);
    c.cancel();
    await settle(loop, c);
    assert.equal(allTasks(loop).size, 0);
    assert.throws(() => allTasks(), RuntimeError, "no running loop");
  }));

test("a Task wrapping an already-running Promise", () =>
  withLoop(async (loop) => {
    let started = false;
    const p = (async () => {
      started = true;
      await hostDelay(5);
      return "from promise";
    })();
    const task = loop.createTask(p);
    assert.equal(started, true);
    assert.equal(await loop.runUntilComplete(task), "from promise");
    const failing = loop.createTask(Promise.reject(new ValueError("rejected")));
    await hostDelay(5); // the loop is not running: the rejection must not count as unhandled
    await settle(loop, failing);
    assert.ok(failing.exception() instanceof ValueError);
    // Cancelling it stops waiting at once (a started Promise cannot be interrupted).
    const never = loop.createTask(new Promise(() => {}));
    await loop.runUntilComplete(() => sleep(0.001));
    assert.equal(never.cancel("stop waiting"), true);
    await settle(loop, never);
    assert.equal(never.cancelled(), true);
    assert.equal(allTasks(loop).size, 0);
  }));

test("10k concurrent tasks all complete with their own results", () =>
  withLoop(async (loop) => {
    const n = 10_000;
    const tasks: Task<number>[] = [];
    for (let i = 0; i < n; i++) {
      tasks.push(loop.createTask(async () => {
        await sleep(0);
        await sleep(0.001);
        return i * 2;
      }));
    }
    const sum = await loop.runUntilComplete(async () => {
      let s = 0;
      for (const t of tasks) s += await t;
      return s;
    });
    assert.equal(sum, n * (n - 1));
    assert.ok(tasks.every((t, i) => t.result() === i * 2));
    assert.equal(allTasks(loop).size, 0);
  }));

test("a task awaiting itself gets a RuntimeError instead of hanging", () =>
  withLoop(async (loop) => {
    // deno-lint-ignore prefer-const
    let task: Task<unknown>;
    task = loop.createTask(async () => {
      try {
        await task;
      } catch (e) {
        return e;
      }
    });
    const r = await loop.runUntilComplete(task);
    assert.ok(r instanceof RuntimeError, String(r));
    assert.match((r as Error).message, /cannot await on itself/);
  }));

test("an exception in a task nobody awaits does not reach the handler when it is retrieved", () =>
  withLoop(async (loop) => {
    const seen = captureExceptions(loop);
    const task = loop.createTask(async () => {
      throw new Error("retrieved later");
    });
    await settle(loop, task);
    assert.equal((task.exception() as Error).message, "retrieved later");
    assert.deepEqual(seen, []);
  }));

// ---- Stopping the loop does not strand coroutines (issue 15 item 4) ----------------------------

test("test_cancel_yield: a task cancelled after running briefly ends cancelled", () =>
  withLoop(async (loop) => {
    const t = loop.createTask(async () => {
      await sleep(0);
      await sleep(0);
      return 12;
    });
    await loop.runUntilComplete(async () => {}); // test_utils.run_briefly: start the coroutine
    assert.equal(t.done(), false);
    t.cancel();
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    assert.equal(t.cancelled(), true);
    assert.equal(t.cancel(), false);
  }));

test("a background sleep(0) loop survives runUntilComplete returning and goes on at the next run", () =>
  withLoop(async (loop) => {
    let steps = 0;
    let failure: unknown;
    const background = loop.createTask(async () => {
      try {
        for (;;) {
          await sleep(0);
          steps++;
        }
      } catch (e) {
        failure = e;
        throw e;
      }
    });
    await loop.runUntilComplete(() => sleep(0.005));
    await hostDelay(5); // the host turns while the loop is stopped
    assert.equal(failure, undefined, `the background task died: ${failure}`);
    assert.equal(background.done(), false);
    const afterFirstRun = steps;
    assert.ok(afterFirstRun > 0);
    await loop.runUntilComplete(() => sleep(0.005));
    assert.equal(failure, undefined, `the background task died: ${failure}`);
    assert.ok(steps > afterFirstRun, "it went on at the next run");
    background.cancel();
    await settle(loop, background);
    assert.equal(background.cancelled(), true);
  }));

test("a coroutine resuming after loop.close() causes no unhandled rejection in Task machinery", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    let task: Task<unknown> | undefined;
    let resumed = false;
    let release!: () => void;
    const hostPromise = new Promise<void>((resolve) => release = resolve);
    await withLoop(async (loop) => {
      task = loop.createTask(async () => {
        await hostPromise; // a host Promise: the coroutine resumes whenever the host says
        resumed = true;
        loop.callSoon(() => {}); // "Event loop is closed"
      });
      task.addDoneCallback(() => {}); // so settling the task has callbacks to schedule
      await loop.runUntilComplete(() => sleep(0.001));
    });
    release(); // the loop is closed now
    await hostDelay(20);
    assert.equal(resumed, true);
    assert.equal(task!.done(), true);
    assert.match(String(task!.exception()), /Event loop is closed/);
    assert.deepEqual(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("check_stdout_output (test_create_subprocess_env_*): wait() on an exited process is done after one sleep(0)", () =>
  withLoop(async (loop) => {
    setEventLoop(loop);
    try {
      await loop.runUntilComplete(async () => {
        const proc = await createSubprocessExec("sh", "-c", "printf baz", { stdout: PIPE });
        const [stdout] = await proc.communicate();
        assert.equal(new TextDecoder().decode(stdout!), "baz");
        assert.equal(proc.returncode, 0);
        const task = loop.createTask(() => proc.wait());
        await sleep(0);
        assert.equal(task.done(), true, "wait() was not done after one sleep(0)");
        assert.equal(task.result(), 0);
      });
    } finally {
      setEventLoop(null);
    }
  }));
