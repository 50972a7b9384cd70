/**
 * Executors: runInExecutor / setDefaultExecutor and the WorkerPoolExecutor (loop/concurrency/executor.ts).
 * Tasks live in fixtures/executor_tasks.ts and are named by its URL and their export names.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { runScriptCommand } from "../../../ffi/runtime.ts";
import { _executorThreads } from "../../../loop/concurrency/executor.ts";
import {
  type BaseEventLoop, CancelledError, type Executor, getRunningLoop, ImportError, newEventLoop,
  run, RuntimeError, sleep, Task, task, ValueError, WorkerPoolExecutor,
} from "../../../mod.ts";
import { tasksUrl } from "../../fixtures/executor_tasks.ts";
import { captureExceptions, fdCountSettled, stableFdCount, withLoop } from "../../helpers.ts";

const t = (name: string) => task(tasksUrl, name);
/** A Promise that follows a loop Future (node:assert's rejects() wants a real Promise). */
const p = <T>(fut: PromiseLike<T>): Promise<T> => Promise.resolve(fut);
const cores = navigator.hardwareConcurrency;

/**
 * Fire a loop timer every 10 ms until `body` settles; returns body's value, its wall time and
 * the longest stall (the gap between two firings beyond the 10 ms asked for).
 */
async function withTicker<T>(loop: BaseEventLoop, body: () => PromiseLike<T>) {
  let last = loop.time(), maxStall = 0, ticks = 0;
  let handle = loop.callLater(0.01, function tick() {
    const now = loop.time();
    maxStall = Math.max(maxStall, (now - last - 0.01) * 1000);
    last = now;
    ticks++;
    handle = loop.callLater(0.01, tick);
  });
  const start = performance.now();
  try {
    const value = await body();
    return { value, ms: performance.now() - start, maxStallMs: maxStall, ticks };
  } finally {
    handle.cancel();
  }
}

// The VM is shared with other jobs (benchmarks pinned to its cores): a measurement is repeated,
// up to five times, until one is made while both cores were ours; every attempt is printed.
test("two 300 ms CPU-bound tasks run in parallel while a 10 ms loop timer keeps firing", { timeout: 30000 }, () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      // Cold start: the first threads are created here (a Deno Worker costs 30–77 ms of JS
      // thread each, one per host turn; reported, not asserted).
      const cold = await withTicker(loop, () =>
        Promise.all([0, 1].map(() => loop.runInExecutor(null, t("blockMs"), 20))));
      const ms = (r: { ms: number }) => r.ms.toFixed(0);
      const stall = (r: { maxStallMs: number }) => r.maxStallMs.toFixed(1);
      console.log(`  executor: cold start of 2 threads ${ms(cold)} ms, max stall ${stall(cold)} ms`);
      for (let attempt = 1;; attempt++) {
        // Each task keeps a core busy for 300 ms of wall time: in parallel the pair takes
        // ~300 ms, one after the other ~600 ms, whatever else the machine is doing.
        const two = await withTicker(loop, () =>
          Promise.all([0, 1].map(() => loop.runInExecutor<number>(null, t("spin"), 300))));
        assert.ok((two.value as number[]).every((rounds) => rounds > 0));
        console.log(
          `  executor: two 300 ms tasks in parallel ${ms(two)} ms with ` +
            `${two.ticks} ticks, max stall ${stall(two)} ms`,
        );
        const parallel = cores < 2 || two.ms < 450;
        if ((!parallel || two.maxStallMs >= 50) && attempt < 5) continue;
        assert.ok(parallel, `two 300 ms tasks took ${ms(two)} ms: not run in parallel`);
        assert.ok(two.maxStallMs < 50, `the 10 ms timer stalled ${stall(two)} ms`);
        assert.ok(two.ticks >= 15, `only ${two.ticks} ticks`);
        break;
      }
    })));

// Repeated like the test above: a stall can come from the shared machine (CI saw 124 ms once
// while other jobs ran), and the thread is warmed first so a cold start is not measured.
test("a blocking FFI call runs off the JS thread: the loop keeps its timer meanwhile", { timeout: 30000 }, () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      assert.equal(await loop.runInExecutor(null, t("add"), 1, 1), 2);
      for (let attempt = 1;; attempt++) {
        const r = await withTicker(loop, () => loop.runInExecutor(null, t("ffiSleep"), 200));
        assert.equal(r.value, 0);
        assert.ok(r.ms >= 190, `usleep returned after ${r.ms} ms`);
        console.log(`  executor: ffi usleep(200 ms), max stall ${r.maxStallMs.toFixed(1)} ms`);
        if (r.maxStallMs >= 50 && attempt < 5) continue;
        assert.ok(r.maxStallMs < 50, `the 10 ms timer stalled ${r.maxStallMs.toFixed(1)} ms`);
        break;
      }
    })));

test("results and arguments are structured-cloned; async tasks are awaited", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      assert.equal(await loop.runInExecutor(null, t("add"), 2, 3), 5);
      assert.equal(await loop.runInExecutor(null, { module: new URL(tasksUrl), export: "add" }, 1, 1), 2);
      assert.equal(await loop.runInExecutor(null, t("doubleLater"), 21), 42);
      const data = { m: new Map([[1, "a"]]), b: new Uint8Array([1, 2]), d: new Date(5), n: 10n };
      assert.deepEqual(await loop.runInExecutor(null, t("echo"), data), data);
      class Point {
        constructor(public x: number) {}
        norm() {
          return Math.abs(this.x);
        }
      }
      const p = await loop.runInExecutor(null, t("echo"), new Point(-3));
      assert.deepEqual(p, { x: -3 }); // a plain object: methods and prototype stay behind
    })));

test("an exception thrown in the worker reaches the awaiting Future with its message", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      await assert.rejects(p(loop.runInExecutor(null, t("fail"), "bad input 7")), (e: unknown) => {
        assert.ok(e instanceof RangeError);
        assert.equal((e as Error).message, "bad input 7");
        assert.equal((e as { code?: string }).code, "E_FIXTURE");
        assert.deepEqual((e as { detail?: number[] }).detail, [1, 2]);
        assert.match((e as Error).stack!, /executor_tasks\.ts/);
        return true;
      });
      const fut = loop.runInExecutor(null, t("failValueError"), "nope");
      await assert.rejects(p(fut), ValueError);
      assert.ok(fut.exception() instanceof ValueError);
      await assert.rejects(p(loop.runInExecutor(null, t("failWithCustomClass"), "custom")), {
        name: "FixtureError", message: "custom",
      });
    })));

test("a task naming a missing module or export, or a non-function, fails naming it", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const missing = new URL("./fixtures/no_such_module.ts", import.meta.url).href;
      await assert.rejects(p(loop.runInExecutor(null, task(missing, "f"))), (e: unknown) => {
        assert.ok(e instanceof ImportError);
        assert.ok((e as Error).message.includes(`cannot import module ${missing}`), String(e));
        return true;
      });
      await assert.rejects(p(loop.runInExecutor(null, t("noSuchExport"))), (e: unknown) => {
        assert.ok(e instanceof ImportError);
        assert.equal(
          (e as Error).message,
          `cannot import name "noSuchExport" from ${tasksUrl}: no such export`,
        );
        return true;
      });
      await assert.rejects(p(loop.runInExecutor(null, t("notAFunction"))), {
        name: "TypeError",
        message: `executor task "notAFunction" from ${tasksUrl} is not a function ` +
          "(the export is number)",
      });
      await assert.rejects(p(loop.runInExecutor(null, t("returnsFunction"))), {
        name: "TypeError", message: /result of executor task "returnsFunction".*structured-clone/,
      });
    })));

test("plain functions, bad task names and bad executors are TypeErrors at the call", () =>
  withLoop((loop) => {
    assert.throws(() => loop.runInExecutor(null, function fib() {}), {
      name: "TypeError",
      message: /function cannot cross to a Worker thread.*task\(import\.meta\.url, "fib"\)/,
    });
    assert.throws(() => task("./fixtures/executor_tasks.ts", "add"), /absolute URL/);
    assert.throws(() => task(tasksUrl, ""), /name of an exported function/);
    assert.throws(() => loop.runInExecutor(null, "add"), /needs a task/);
    for (const bad of [42, "pool", {}, { submit() {} }]) {
      assert.throws(
        () => loop.runInExecutor(bad as unknown as Executor, t("add"), 1, 2),
        { name: "TypeError", message: /runInExecutor\(\) needs an Executor/ },
      );
    }
    assert.throws(() => loop.setDefaultExecutor(null as unknown as Executor), TypeError);
    assert.throws(() => new WorkerPoolExecutor(0), ValueError);
    assert.throws(() => new WorkerPoolExecutor("2" as unknown as number), TypeError);
  }));

test("arguments that cannot be cloned are a TypeError naming the argument", async () => {
  const ex = new WorkerPoolExecutor(1);
  try {
    await withLoop((loop) =>
      loop.runUntilComplete(async () => {
        // Sent at once to a free thread (postMessage refuses it) …
        assert.throws(() => loop.runInExecutor(ex, t("echo"), 1, { f: () => 1 }), {
          name: "TypeError", message: /args\[1\]\.f \(a function\) of executor task "echo".*cloned/,
        });
        // … or queued behind a running call (cloned at submit time all the same).
        const busy = loop.runInExecutor(ex, t("blockMs"), 50);
        assert.throws(() => loop.runInExecutor(ex, t("echo"), [Symbol("s")]), {
          name: "TypeError", message: /args\[0\]\[0\] \(a symbol\)/,
        });
        assert.equal(await busy, 50);
        assert.equal(await loop.runInExecutor(ex, t("add"), 1, 2), 3, "the thread still works");
      }));
  } finally {
    await ex.shutdown();
  }
});

test("a closed loop raises RuntimeError; so does an executor after shutdown()", async () => {
  const ex = new WorkerPoolExecutor(1);
  const loop = newEventLoop();
  loop.close();
  assert.throws(() => loop.runInExecutor(null, t("add"), 1, 2), { name: "RuntimeError", message: "Event loop is closed" });
  assert.throws(() => loop.runInExecutor(ex, t("add"), 1, 2), RuntimeError);
  await ex.shutdown();
  await withLoop((loop2) => {
    assert.throws(() => loop2.runInExecutor(ex, t("add"), 1, 2), {
      name: "RuntimeError", message: "cannot schedule new futures after shutdown",
    });
    loop2.setDefaultExecutor(ex);
    assert.throws(() => loop2.runInExecutor(null, t("add"), 1, 2), RuntimeError);
  });
});

test("close() shuts the default executor down without waiting for a running call", async () => {
  const loop = newEventLoop();
  const fut = loop.runInExecutor(null, t("blockMs"), 150);
  const start = performance.now();
  loop.close();
  assert.ok(performance.now() - start < 50, "close() did not wait");
  assert.equal(fut.done(), false); // its result is dropped: the loop is closed
  const end = performance.now() + 3000;
  while (_executorThreads().busy > 0 && performance.now() < end) await sleepHost(10);
  assert.equal(_executorThreads().busy, 0, "the running call ended and its thread went idle");
});

test("setDefaultExecutor: runInExecutor(null) uses it; it may accept plain functions", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const calls: unknown[][] = [];
      const inline: Executor = {
        submit(fn, ...args) {
          calls.push(args);
          return Promise.resolve((fn as (...a: unknown[]) => unknown)(...args));
        },
        shutdown() {},
      };
      loop.setDefaultExecutor(inline);
      assert.equal(await loop.runInExecutor(null, (a: number, b: number) => a * b, 6, 7), 42);
      assert.deepEqual(calls, [[6, 7]]);
      const bad = { submit: () => 5, shutdown() {} };
      assert.throws(() => loop.runInExecutor(bad as unknown as Executor, t("add")), /submit\(\) must return a Promise/);
    })));

test("cancel: a queued call never starts; shutdown(wait) waits, cancelFutures cancels", async () => {
  const ex = new WorkerPoolExecutor(1);
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const first = loop.runInExecutor(ex, t("blockMs"), 80);
      const second = loop.runInExecutor(ex, t("countCalls"));
      assert.equal(second.cancel(), true);
      await sleep(0); // the done callback forwards the cancel to the executor
      const third = ex.submit(t("add"), 1, 1);
      const fourth = ex.submit(t("add"), 2, 2);
      const start = performance.now();
      const shut = ex.shutdown(true, { cancelFutures: true });
      await assert.rejects(Promise.resolve(third), CancelledError);
      await assert.rejects(Promise.resolve(fourth), CancelledError);
      await shut;
      assert.ok(performance.now() - start >= 40, "shutdown(true) waited for the running call");
      assert.equal(first.done(), false); // settles through the loop, next iteration
      assert.equal(await first, 80);
      assert.equal(second.cancelled(), true);
    }));
});

test("a worker thread that dies mid-call fails that call with RuntimeError; others go on", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      await assert.rejects(p(loop.runInExecutor(null, t("exitThread"), 3)), {
        name: "RuntimeError", message: /worker thread ended \(exit code 3\).*"exitThread"/,
      });
      assert.equal(await loop.runInExecutor(null, t("add"), 4, 5), 9);
    })));

test("a cancelled Future drops a running call's result; the loop goes on", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const seen = captureExceptions(loop);
      await warmUp(1); // so the call below starts at once on an idle thread
      const fut = loop.runInExecutor(null, t("blockMs"), 30);
      assert.equal(fut.cancel(), true);
      await assert.rejects(p(fut), CancelledError);
      const end = performance.now() + 3000;
      while (_executorThreads().busy > 0 && performance.now() < end) await sleep(0.01);
      await sleep(0.01); // the result arrived and was dropped without an error
      assert.equal(_executorThreads().busy, 0);
      assert.deepEqual(seen, []);
    })));

// Threads are process-wide: up to navigator.hardwareConcurrency stay idle (unref'd) after the
// executors that started them are shut down, so these tests check that closing loops and
// shutting executors down does not *grow* threads or fds, from a warmed-up count — not that the
// count returns to what it was before the first executor ever ran.
test("closing 30 loops that used the default executor leaks no thread and no fd", async () => {
  await run(() => warmUp(cores));
  const fdsBefore = await stableFdCount(); // after run()'s loop released its parking thread
  const threadsBefore = _executorThreads();
  for (let i = 0; i < 30; i++) {
    const loop = newEventLoop();
    assert.equal(await loop.runUntilComplete(() => loop.runInExecutor(null, t("add"), i, 1)), i + 1);
    if (i % 10 === 0) loop.runInExecutor(null, t("blockMs"), 20); // still running at close()
    loop.close();
  }
  const end = performance.now() + 3000;
  while (_executorThreads().busy > 0 && performance.now() < end) await sleepHost(10);
  const after = _executorThreads();
  assert.equal(after.busy, 0);
  assert.ok(after.total <= Math.max(cores, threadsBefore.total), JSON.stringify(after));
  assert.equal(await fdCountSettled(fdsBefore), fdsBefore);
});

test("threads beyond the idle limit are terminated, and terminating them leaks no fd", async () => {
  await run(() => warmUp(cores));
  const fdsBefore = await stableFdCount(); // after run()'s loop released its parking thread
  const ex = new WorkerPoolExecutor(cores + 2);
  await run(() => Promise.all(Array.from({ length: cores + 2 }, () => ex.submit(t("blockMs"), 100))));
  await ex.shutdown();
  assert.equal(_executorThreads().idle, cores);
  const end = performance.now() + 3000;
  while (_executorThreads().total > cores && performance.now() < end) await sleepHost(10);
  assert.equal(_executorThreads().total, cores);
  assert.equal(await fdCountSettled(fdsBefore), fdsBefore);
});

test("idle threads do not keep the process alive", () => {
  const script = new URL("../../fixtures/executor_tasks.ts", import.meta.url).pathname;
  const [exe, ...args] = runScriptCommand(script);
  const start = performance.now();
  const r = spawnSync(exe, args, { encoding: "utf8", timeout: 20000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), "5");
  assert.ok(performance.now() - start < 10000);
});

/** Run `n` calls at once, so `n` threads exist. */
async function warmUp(n: number): Promise<void> {
  const loop = (await import("../../../mod.ts")).getRunningLoop();
  await Promise.all(Array.from({ length: n }, () => loop.runInExecutor(null, t("blockMs"), 30)));
}

function sleepHost(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---- shutdownDefaultExecutor (asyncio 3.12) ----------------------------------------------------

/** An executor whose shutdown(true) resolves when `finish()` is called; records its calls. */
function controlledExecutor(): { executor: Executor; shutdowns: boolean[]; finish: () => void } {
  const shutdowns: boolean[] = [];
  let finish!: () => void;
  const joined = new Promise<void>((resolve) => finish = resolve);
  const executor: Executor = {
    submit: (fn, ...args) => Promise.resolve((fn as (...a: unknown[]) => unknown)(...args)),
    shutdown(wait = true) {
      shutdowns.push(wait);
      return wait ? joined : undefined;
    },
  };
  return { executor, shutdowns, finish };
}

test("shutdownDefaultExecutor waits for the default executor to shut down; afterwards runInExecutor(null) is RuntimeError", () =>
  withLoop(async (loop) => {
    const { executor, shutdowns, finish } = controlledExecutor();
    loop.setDefaultExecutor(executor);
    let finishedAt = -1;
    loop.callLater(0.02, () => {
      finishedAt = loop.time();
      finish();
    });
    await loop.runUntilComplete(() => loop.shutdownDefaultExecutor());
    assert.ok(finishedAt > 0, "returned before the executor had shut down");
    assert.deepEqual(shutdowns, [true]);
    assert.throws(() => loop.runInExecutor(null, t("add"), 1, 2), (e) =>
      e instanceof RuntimeError && /Executor shutdown has been called/.test(e.message));
    // Without a default executor it returns at once; calling it again is fine.
    await loop.runUntilComplete(() => loop.shutdownDefaultExecutor());
  }));

test("shutdownDefaultExecutor(timeout): warns, shuts down without waiting, and returns after the timeout", () =>
  withLoop(async (loop) => {
    const { executor, shutdowns } = controlledExecutor(); // never finishes joining
    loop.setDefaultExecutor(executor);
    const warnings: string[] = [];
    const origWarn = console.warn;
    console.warn = (...a: unknown[]) => warnings.push(a.join(" "));
    const start = loop.time();
    try {
      await loop.runUntilComplete(() => loop.shutdownDefaultExecutor(0.02));
    } finally {
      console.warn = origWarn;
    }
    const elapsed = loop.time() - start;
    assert.ok(elapsed >= 0.019 && elapsed < 2, `returned after ${elapsed} s`);
    assert.deepEqual(shutdowns, [true, false]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /did not finish joining its threads within 0.02 seconds/);
  }));

test("shutdownDefaultExecutor: a bad timeout is TypeError/ValueError; the loop goes on", () =>
  withLoop(async (loop) => {
    // deno-lint-ignore no-explicit-any
    await assert.rejects(loop.runUntilComplete(() => loop.shutdownDefaultExecutor("1" as any)), TypeError);
    await assert.rejects(loop.runUntilComplete(() => loop.shutdownDefaultExecutor(NaN)), ValueError);
    // Not shut down by the bad calls.
    assert.equal(await loop.runUntilComplete(loop.runInExecutor(null, t("add"), 2, 3)), 5);
  }));

test("run() shuts the default executor down (waiting for it) before closing the loop", async () => {
  const { executor, shutdowns, finish } = controlledExecutor();
  let loopOfRun: BaseEventLoop | undefined;
  await run(async () => {
    loopOfRun = getRunningLoop();
    loopOfRun.setDefaultExecutor(executor);
    setTimeout(finish, 10);
  });
  assert.deepEqual(shutdowns, [true]);
  assert.equal(loopOfRun!.isClosed(), true);
});

// ---- setTaskFactory / getTaskFactory -------------------------------------------------------

test("setTaskFactory: createTask calls factory(loop, coro, options); null restores the default", () =>
  withLoop(async (loop) => {
    assert.equal(loop.getTaskFactory(), null);
    const made: unknown[][] = [];
    const factory: NonNullable<ReturnType<typeof loop.getTaskFactory>> = (l, coro, options) => {
      made.push([l, typeof coro, options.name]);
      return new Task(coro, l, `factory-${options.name}`);
    };
    loop.setTaskFactory(factory);
    assert.equal(loop.getTaskFactory(), factory);
    const task = loop.createTask(async () => "made", { name: "x" });
    // As asyncio's create_task: the name given to createTask is set after the factory ran.
    assert.equal(task.getName(), "x");
    assert.equal(await loop.runUntilComplete(task), "made");
    // runUntilComplete of a coroutine function also goes through createTask.
    assert.equal(await loop.runUntilComplete(async () => "again"), "again");
    assert.equal(made.length, 2);
    assert.deepEqual(made[0], [loop, "function", "x"]);
    loop.setTaskFactory(null);
    assert.equal(loop.getTaskFactory(), null);
    const plain = loop.createTask(async () => 1);
    assert.match(plain.getName(), /^Task-\d+$/);
    await loop.runUntilComplete(plain);
    assert.equal(made.length, 2);
  }));

test("setTaskFactory: a non-callable is TypeError; a factory returning a non-Future is TypeError at createTask", () =>
  withLoop(async (loop) => {
    // deno-lint-ignore no-explicit-any
    assert.throws(() => loop.setTaskFactory(42 as any), /task factory must be a callable or null/);
    assert.equal(loop.getTaskFactory(), null);
    // deno-lint-ignore no-explicit-any
    loop.setTaskFactory((() => "not a future") as any);
    assert.throws(() => loop.createTask(async () => 1), (e) =>
      e instanceof TypeError && /task factory must return a Future/.test(e.message));
    loop.setTaskFactory(null);
    assert.equal(await loop.runUntilComplete(async () => "alive"), "alive");
  }));
