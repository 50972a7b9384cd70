/**
 * Module-level loop functions: run, getEventLoop, setEventLoop, newEventLoop, getRunningLoop.
 *
 * These share module state (the current loop), so every test restores it with setEventLoop.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BaseEventLoop, CancelledError, currentTask, gather, getEventLoop, getRunningLoop, newEventLoop,
  run, RuntimeError, SelectorEventLoop, setEventLoop, sleep, ValueError,
} from "../../mod.ts";
import { withLoop } from "../helpers.ts";

test("newEventLoop returns a fresh, open, not running BaseEventLoop each time", () => {
  const a = newEventLoop(), b = newEventLoop();
  try {
    assert.ok(a instanceof SelectorEventLoop && a instanceof BaseEventLoop);
    assert.notEqual(a, b);
    assert.equal(a.isClosed(), false);
    assert.equal(a.isRunning(), false);
  } finally {
    a.close();
    b.close();
  }
});

test("getRunningLoop: RuntimeError outside, the loop inside callbacks and tasks", () =>
  withLoop(async (loop) => {
    assert.throws(() => getRunningLoop(), (e) => e instanceof RuntimeError && /no running event loop/.test(e.message));
    let inCallback: unknown;
    loop.callSoon(() => (inCallback = getRunningLoop()));
    const inTask = await loop.runUntilComplete(async () => {
      await sleep(0);
      return [getRunningLoop()];
    });
    assert.equal(inCallback, loop);
    assert.deepEqual(inTask, [loop]);
    assert.throws(() => getRunningLoop(), RuntimeError);
  }));

test("getEventLoop: the running loop wins over the current one", () =>
  withLoop(async (loop) => {
    const other = newEventLoop();
    try {
      setEventLoop(other);
      assert.equal(getEventLoop(), other);
      const inside = await loop.runUntilComplete(async () => [getEventLoop()]);
      assert.deepEqual(inside, [loop]);
      assert.equal(getEventLoop(), other);
    } finally {
      setEventLoop(null);
      other.close();
    }
  }));

test("setEventLoop(loop) makes it current; setEventLoop(null) clears it (RuntimeError after)", () => {
  const loop = newEventLoop();
  try {
    setEventLoop(loop);
    assert.equal(getEventLoop(), loop);
    assert.equal(getEventLoop(), loop, "the same loop every time");
    setEventLoop(null);
    assert.throws(() => getEventLoop(), (e) => e instanceof RuntimeError && /no current event loop/.test(e.message));
    // deno-lint-ignore no-explicit-any
    assert.throws(() => setEventLoop(42 as any), TypeError);
  } finally {
    setEventLoop(null);
    loop.close();
  }
});

test("gather/ensureFuture outside a running loop use the current loop", async () => {
  const loop = newEventLoop();
  setEventLoop(loop);
  try {
    const g = gather(async () => 1, async () => {
      await sleep(0.001);
      return 2;
    });
    assert.equal(g.getLoop(), loop);
    assert.deepEqual(await loop.runUntilComplete(g), [1, 2]);
  } finally {
    setEventLoop(null);
    loop.close();
  }
});

test("run(main) returns main's result and closes its loop; it is the running loop meanwhile", async () => {
  let seen: BaseEventLoop | undefined;
  const r = await run(async () => {
    seen = getRunningLoop();
    assert.equal(getEventLoop(), seen);
    await sleep(0.005);
    return "result";
  });
  assert.equal(r, "result");
  assert.ok(seen);
  assert.equal(seen.isClosed(), true);
  assert.equal(seen.isRunning(), false);
  assert.throws(() => getRunningLoop(), RuntimeError);
  assert.throws(() => getEventLoop(), RuntimeError, "run() leaves no current loop (asyncio 3.12)");
});

test("run(main) rethrows main's exception and still closes the loop", async () => {
  let seen: BaseEventLoop | undefined;
  const err = new ValueError("main failed");
  await assert.rejects(
    run(async () => {
      seen = getRunningLoop();
      await sleep(0);
      throw err;
    }),
    (e) => e === err,
  );
  assert.equal(seen!.isClosed(), true);
});

test("run(): leftover tasks are cancelled at the end and their finally blocks run", async () => {
  const log: string[] = [];
  let leftover: ReturnType<BaseEventLoop["createTask"]> | undefined;
  const r = await run(async () => {
    leftover = getRunningLoop().createTask(async () => {
      try {
        await sleep(10);
        log.push("not reached");
      } catch (e) {
        log.push(`cancelled: ${e instanceof CancelledError}`);
        throw e;
      } finally {
        log.push("finally");
        await sleep(0.001); // a finally may still await
        log.push("finally after await");
      }
    });
    await sleep(0.002);
    return "main done";
  });
  assert.equal(r, "main done");
  assert.deepEqual(log, ["cancelled: true", "finally", "finally after await"]);
  assert.equal(leftover!.cancelled(), true);
});

test("run(): a leftover task that fails while being cancelled is reported to the handler", async () => {
  const contexts: { message: string; exception?: unknown }[] = [];
  const err = new Error("cleanup failed");
  await run(async () => {
    const loop = getRunningLoop();
    loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
    loop.createTask(async () => {
      try {
        await sleep(10);
      } finally {
        // deno-lint-ignore no-unsafe-finally
        throw err;
      }
    });
    await sleep(0.001);
  });
  assert.equal(contexts.length, 1);
  assert.match(contexts[0].message, /unhandled exception during run\(\) shutdown/);
  assert.equal(contexts[0].exception, err);
});

test("run() inside a running loop is a RuntimeError; the outer loop keeps going", () =>
  withLoop(async (loop) => {
    const r = await loop.runUntilComplete(async () => {
      let err: unknown;
      try {
        await run(async () => "inner");
      } catch (e) {
        err = e;
      }
      await sleep(0.001);
      return [err];
    });
    assert.ok(r[0] instanceof RuntimeError);
    assert.match((r[0] as Error).message, /cannot be called from a running event loop/);
  }));

test("run(main, {debug}) sets debug mode on its loop", async () => {
  const flags = await run(async () => [getRunningLoop().getDebug()], { debug: true });
  assert.deepEqual(flags, [true]);
  const off = await run(async () => [getRunningLoop().getDebug()], { debug: false });
  assert.deepEqual(off, [false]);
});

test("run() accepts a Promise-returning function and a Promise, and currentTask() is its task", async () => {
  const r = await run(async () => {
    const t = currentTask();
    return [t !== undefined && t.getLoop() === getRunningLoop()];
  });
  assert.deepEqual(r, [true]);
  // A plain coroutine function of many awaits, then run() again: each run has its own loop.
  const loops: BaseEventLoop[] = [];
  for (let i = 0; i < 3; i++) {
    await run(async () => {
      loops.push(getRunningLoop());
      await sleep(0);
    });
  }
  assert.equal(new Set(loops).size, 3);
  assert.ok(loops.every((l) => l.isClosed()));
});

test("getEventLoop before any setEventLoop creates a loop once and keeps it (checked in a subprocess)", async () => {
  // Module state: the first call in a fresh process creates the loop; ask a fresh runtime.
  const code = `
    import { getEventLoop } from ${JSON.stringify(new URL("../../mod.ts", import.meta.url).href)};
    const a = getEventLoop(), b = getEventLoop();
    console.log(JSON.stringify([a === b, a.isClosed(), a.isRunning()]));
    a.close();
  `;
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  let out: string;
  if (g.Bun) {
    const fs = await import("node:fs");
    const path = `/tmp/aioloop_events_${process.pid}.ts`;
    fs.writeFileSync(path, code);
    try {
      const p = g.Bun.spawnSync([process.execPath, path]);
      out = new TextDecoder().decode(p.stdout);
    } finally {
      fs.unlinkSync(path);
    }
  } else {
    const p = await new g.Deno.Command(g.Deno.execPath(), {
      args: ["eval", "--ext=ts", code],
      stdout: "piped",
      stderr: "piped",
    }).output();
    out = new TextDecoder().decode(p.stdout);
  }
  assert.deepEqual(JSON.parse(out.trim()), [true, false, false]);
});
