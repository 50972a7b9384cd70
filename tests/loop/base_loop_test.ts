import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type ExceptionContext, Handle, newEventLoop, RuntimeError, sleep, TimerHandle, ValueError,
} from "../../mod.ts";
import { captureExceptions, withLoop } from "../helpers.ts";

test("callSoon runs callbacks FIFO with their arguments, after callSoon returns", () =>
  withLoop(async (loop) => {
    const order: unknown[] = [];
    const h = loop.callSoon((a: number, b: string) => order.push([a, b]), 1, "x");
    loop.callSoon(() => order.push("second"));
    loop.callSoon(() => loop.stop());
    assert.ok(h instanceof Handle);
    assert.deepEqual(order, []);
    await loop.runForever();
    assert.deepEqual(order, [[1, "x"], "second"]);
  }));

test("a cancelled handle does not run; cancel is idempotent", () =>
  withLoop(async (loop) => {
    let ran = false;
    const h = loop.callSoon(() => (ran = true));
    h.cancel();
    h.cancel();
    assert.equal(h.cancelled(), true);
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    assert.equal(ran, false);
  }));

test("stop(): callbacks scheduled before it run, later ones wait for the next run", () =>
  withLoop(async (loop) => {
    const order: string[] = [];
    loop.callSoon(() => {
      order.push("a");
      loop.stop();
      loop.callSoon(() => order.push("after-stop"));
    });
    loop.callSoon(() => order.push("b"));
    await loop.runForever();
    assert.deepEqual(order, ["a", "b"]);
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    assert.deepEqual(order, ["a", "b", "after-stop"]);
  }));

test("stop() before runForever() runs one iteration and returns", () =>
  withLoop(async (loop) => {
    let ran = 0;
    loop.callSoon(() => ran++);
    loop.stop();
    await loop.runForever();
    assert.equal(ran, 1);
    assert.equal(loop.isRunning(), false);
  }));

test("isRunning, isClosed and close() follow asyncio", async () => {
  const loop = newEventLoop();
  assert.equal(loop.isRunning(), false);
  let runningInside = false;
  let closeError: unknown;
  loop.callSoon(() => {
    runningInside = loop.isRunning();
    try {
      loop.close();
    } catch (e) {
      closeError = e;
    }
    loop.stop();
  });
  await loop.runForever();
  assert.equal(runningInside, true);
  assert.ok(closeError instanceof RuntimeError);
  assert.match((closeError as Error).message, /running/);
  loop.close();
  loop.close(); // idempotent
  assert.equal(loop.isClosed(), true);
  assert.throws(() => loop.callSoon(() => {}), RuntimeError);
  assert.throws(() => loop.callLater(1, () => {}), /Event loop is closed/);
  assert.throws(() => loop.callAt(1, () => {}), RuntimeError);
  assert.throws(() => loop.createTask(async () => {}), RuntimeError);
  assert.throws(() => loop.addReader(0, () => {}), RuntimeError);
  await assert.rejects(loop.runForever(), RuntimeError);
  await assert.rejects(loop.runUntilComplete(async () => 1), RuntimeError);
});

test("runForever while running is a RuntimeError and the loop keeps going", () =>
  withLoop(async (loop) => {
    let err: unknown;
    loop.callSoon(() => {
      loop.runForever().catch((e) => (err = e));
    });
    loop.callLater(0.01, () => loop.stop());
    await loop.runForever();
    assert.ok(err instanceof RuntimeError);
    assert.match((err as Error).message, /already running/);
  }));

test("callLater and callAt fire in time order, measured on loop.time()", () =>
  withLoop(async (loop) => {
    const fired: [string, number][] = [];
    const start = loop.time();
    loop.callLater(0.03, () => fired.push(["30ms", loop.time() - start]));
    loop.callLater(0.01, () => fired.push(["10ms", loop.time() - start]));
    const t = loop.callAt(start + 0.02, () => fired.push(["20ms", loop.time() - start]));
    assert.ok(t instanceof TimerHandle);
    assert.ok(Math.abs(t.when() - (start + 0.02)) < 1e-9);
    loop.callLater(0.04, () => loop.stop());
    await loop.runForever();
    assert.deepEqual(fired.map((f) => f[0]), ["10ms", "20ms", "30ms"]);
    assert.ok(fired[0][1] >= 0.01 && fired[0][1] < 0.2, `10ms timer fired at ${fired[0][1]}`);
    assert.ok(fired[2][1] >= 0.03);
  }));

test("a cancelled timer never fires; many cancelled timers are dropped", () =>
  withLoop(async (loop) => {
    let fired = 0;
    const handles = [];
    for (let i = 0; i < 1000; i++) handles.push(loop.callLater(0.001, () => fired++));
    for (let i = 0; i < 1000; i += 2) handles[i].cancel();
    loop.callLater(0.02, () => loop.stop());
    await loop.runForever();
    assert.equal(fired, 500);
  }));

test("callLater/callAt reject non-numbers and NaN, callSoon a non-function", () =>
  withLoop(async (loop) => {
    const noop = () => {};
    // deno-lint-ignore no-explicit-any
    const anyLoop = loop as any;
    assert.throws(() => anyLoop.callLater("1", noop), /callLater\(\) delay must be a number/);
    assert.throws(() => anyLoop.callLater(undefined, noop), TypeError);
    assert.throws(() => loop.callLater(NaN, noop), ValueError);
    assert.throws(() => loop.callAt(NaN, noop), /must not be NaN/);
    assert.throws(() => anyLoop.callSoon("notfn"), /callable object was expected by callSoon/);
    assert.throws(() => anyLoop.callLater(1, null), TypeError);
    assert.throws(() => anyLoop.callSoonThreadsafe(42), TypeError);
    // The loop still works after the bad calls.
    let ok = false;
    loop.callSoon(() => {
      ok = true;
      loop.stop();
    });
    await loop.runForever();
    assert.equal(ok, true);
  }));

test("callSoon/callSoonThreadsafe/callLater/callAt refuse async functions: TypeError, as asyncio refuses coroutines", () =>
  withLoop(async (loop) => {
    const coroutineFns = [async () => {}, async function named() {}, async function* gen() {}];
    for (const fn of coroutineFns) {
      assert.throws(() => loop.callSoon(fn), (e) =>
        e instanceof TypeError && e.message === "coroutines cannot be used with callSoon()");
      assert.throws(() => loop.callSoonThreadsafe(fn), (e) =>
        e instanceof TypeError && e.message === "coroutines cannot be used with callSoonThreadsafe()");
      assert.throws(() => loop.callLater(0, fn), (e) =>
        e instanceof TypeError && e.message === "coroutines cannot be used with callLater()");
      assert.throws(() => loop.callAt(loop.time(), fn), (e) =>
        e instanceof TypeError && e.message === "coroutines cannot be used with callAt()");
    }
    // Nothing was queued, and the loop goes on.
    let ran = 0;
    loop.callSoon(() => ran++);
    loop.callLater(0.001, () => ran++);
    await loop.runUntilComplete(() => sleep(0.005));
    assert.equal(ran, 2);
  }));

test("an exception in a callback goes to the handler with message, exception and handle; next callbacks run", () =>
  withLoop(async (loop) => {
    const seen = captureExceptions(loop);
    const boom = new Error("boom");
    const h = loop.callSoon(() => {
      throw boom;
    });
    let after = false;
    loop.callSoon(() => {
      after = true;
      loop.stop();
    });
    await loop.runForever();
    assert.equal(after, true);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].exception, boom);
    assert.equal(seen[0].handle, h);
    assert.match(seen[0].message, /Exception in callback/);
  }));

test("exception handler: set/get, null restores the default, bad handler rejected, failing handler survives", () =>
  withLoop(async (loop) => {
    assert.equal(loop.getExceptionHandler(), null);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => loop.setExceptionHandler(42 as any), /callable object or null/);
    const handler = () => {
      throw new Error("handler broke");
    };
    loop.setExceptionHandler(handler);
    assert.equal(loop.getExceptionHandler(), handler);
    const errors: string[] = [];
    const origError = console.error;
    console.error = (...a: unknown[]) => errors.push(a.join(" "));
    try {
      loop.callExceptionHandler({ message: "first" });
      loop.setExceptionHandler(null);
      assert.equal(loop.getExceptionHandler(), null);
      loop.callExceptionHandler({ message: "second", exception: new Error("E2"), extra: 7 });
      loop.defaultExceptionHandler({ message: "third" });
    } finally {
      console.error = origError;
    }
    assert.match(errors[0], /Unhandled error in exception handler/);
    assert.match(errors[0], /handler broke/);
    assert.match(errors[1], /second/);
    assert.match(errors[1], /extra: 7/);
    assert.match(errors[1], /E2/);
    assert.match(errors[2], /third/);
  }));

test("a failing custom handler: the default handler gets the original context as an object", () =>
  withLoop((loop) => {
    const broke = new Error("handler broke");
    loop.setExceptionHandler(() => {
      throw broke;
    });
    const seen: ExceptionContext[] = [];
    loop.defaultExceptionHandler = (ctx) => void seen.push(ctx);
    const original = { message: "original", exception: new ValueError("first"), extra: 1 };
    loop.callExceptionHandler(original);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].message, "Unhandled error in exception handler");
    assert.equal(seen[0].exception, broke);
    assert.equal(seen[0].context, original);
  }));

test("an exception inside the default exception handler is logged, not swallowed", () =>
  withLoop(async (loop) => {
    const errors: unknown[][] = [];
    const origError = console.error;
    console.error = (...a: unknown[]) => void errors.push(a);
    try {
      // A context value whose toString() throws makes the default handler itself fail.
      const hostile = {
        toString(): string {
          throw new Error("hostile toString");
        },
      };
      loop.callExceptionHandler({ message: "ctx", hostile });
      // The same inside the reporting of a failing custom handler.
      loop.setExceptionHandler(() => {
        throw new Error("custom broke");
      });
      loop.callExceptionHandler({ message: "ctx2", hostile });
    } finally {
      console.error = origError;
    }
    const text = errors.map((a) => a.map(String).join(" "));
    assert.equal(text.length, 2, text.join("\n"));
    assert.match(text[0], /Exception in default exception handler/);
    assert.match(text[0], /hostile toString/);
    assert.match(text[1], /Exception in default exception handler while handling an unexpected error in custom exception handler/);
    assert.match(text[1], /hostile toString/);
    loop.setExceptionHandler(null);
    assert.equal(await loop.runUntilComplete(async () => "alive"), "alive");
  }));

test("debug mode: a slow coroutine step is reported naming its task, for later steps too", () =>
  withLoop(async (loop) => {
    loop.setDebug(true);
    loop.slowCallbackDuration = 0.02;
    const busy = () => {
      const end = performance.now() + 40;
      while (performance.now() < end) { /* busy */ }
    };
    const warnings: string[] = [];
    const origWarn = console.warn;
    console.warn = (...a: unknown[]) => warnings.push(a.join(" "));
    try {
      await loop.runUntilComplete(loop.createTask(async () => {
        busy(); // first step
        await sleep(0);
        busy(); // a later step: resumed by the sleep's wakeup
        await sleep(0.001);
        await sleep(0);
      }, { name: "slowpoke" }));
    } finally {
      console.warn = origWarn;
    }
    assert.equal(warnings.length, 2, warnings.join("\n"));
    for (const w of warnings) assert.match(w, /executing <Task slowpoke pending> took 0\.\d+ seconds/);
  }));

test("debug mode: default off, setDebug toggles, slow callbacks are reported", () =>
  withLoop(async (loop) => {
    assert.equal(loop.getDebug(), false);
    loop.setDebug(true);
    assert.equal(loop.getDebug(), true);
    loop.slowCallbackDuration = 0.02;
    const warnings: string[] = [];
    const origWarn = console.warn;
    console.warn = (...a: unknown[]) => warnings.push(a.join(" "));
    try {
      loop.callSoon(function slowOne() {
        const end = performance.now() + 40;
        while (performance.now() < end) { /* busy */ }
      });
      loop.callSoon(function fastOne() {});
      loop.callSoon(() => loop.stop());
      await loop.runForever();
    } finally {
      console.warn = origWarn;
    }
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0], /slowOne.*took 0\.0\d\d seconds/);
  }));

test("time() is monotonic seconds", () =>
  withLoop(async (loop) => {
    const a = loop.time();
    await loop.runUntilComplete(() => sleep(0.02));
    const b = loop.time();
    assert.ok(b - a >= 0.02 && b - a < 1, `elapsed ${b - a}`);
  }));

test("runUntilComplete accepts a Future, a Promise and a coroutine function", () =>
  withLoop(async (loop) => {
    const fut = loop.createFuture<number>();
    loop.callLater(0.001, () => fut.setResult(5));
    assert.equal(await loop.runUntilComplete(fut), 5);
    assert.equal(await loop.runUntilComplete(Promise.resolve("p")), "p");
    assert.equal(await loop.runUntilComplete(async () => {
      await sleep(0.001);
      return "coro";
    }), "coro");
    await assert.rejects(loop.runUntilComplete(async () => {
      throw new ValueError("inner");
    }), ValueError);
    // deno-lint-ignore no-explicit-any
    await assert.rejects(loop.runUntilComplete(42 as any), TypeError);
  }));

test("runUntilComplete: RuntimeError if the loop stops before the future is done", () =>
  withLoop(async (loop) => {
    const fut = loop.createFuture();
    loop.callSoon(() => loop.stop());
    await assert.rejects(loop.runUntilComplete(fut), /stopped before Future completed/);
  }));

test("a future from another loop is a ValueError", async () => {
  const a = newEventLoop(), b = newEventLoop();
  try {
    await assert.rejects(b.runUntilComplete(a.createFuture()), ValueError);
  } finally {
    a.close();
    b.close();
  }
});

test("debug mode defaults to on when AIOLOOP_DEBUG is a non-empty string", async () => {
  const { spawnSync } = await import("node:child_process");
  const { runScriptCommand } = await import("../../ffi/runtime.ts");
  const script = new URL("../fixtures/print_debug.ts", import.meta.url).pathname;
  const [exe, ...args] = runScriptCommand(script);
  for (const [value, expected] of [["1", "debug=true"], ["", "debug=false"]]) {
    const env = { ...process.env, AIOLOOP_DEBUG: value };
    const r = spawnSync(exe, args, { env, encoding: "utf8", timeout: 20000 });
    assert.equal(r.stdout.trim(), expected, r.stderr);
  }
});
