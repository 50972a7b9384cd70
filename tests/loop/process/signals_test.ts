/**
 * UNIX signals, delivered for real with kill(2) (process.kill) to this process. Windows has
 * none: there addSignalHandler/removeSignalHandler raise NotImplementedError, as asyncio's
 * Windows loops do, and the POSIX cases are skipped.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import { isWindows, runScriptCommand } from "../../../ffi/runtime.ts";
import { NotImplementedError, RuntimeError, ValueError } from "../../../mod.ts";
import { windowsLacks, withLoop } from "../../helpers.ts";

const posixSignals = { skip: windowsLacks("POSIX signals (asserted below: NotImplementedError there)") };

test("a signal runs its handler as a loop callback, with args, also while the loop is parked", posixSignals, () =>
  withLoop(async (loop) => {
    const got: unknown[] = [];
    loop.addSignalHandler("SIGUSR1", (tag: string) => {
      got.push([tag, loop.isRunning()]);
      loop.stop();
    }, "usr1");
    loop.callLater(30, () => {}); // the loop parks on this far-off timer
    setTimeout(() => process.kill(process.pid, "SIGUSR1"), 50);
    const start = performance.now();
    await loop.runForever();
    assert.deepEqual(got, [["usr1", true]]);
    assert.ok(performance.now() - start < 2000);
    assert.equal(loop.removeSignalHandler("SIGUSR1"), true);
    assert.equal(loop.removeSignalHandler(10), false);
  }));

test("a burst of deliveries before the loop runs the callback coalesces into one call", posixSignals, () =>
  withLoop(async (loop) => {
    let calls = 0;
    loop.addSignalHandler(12, () => calls++); // SIGUSR2 by number
    for (let i = 0; i < 3; i++) process.kill(process.pid, "SIGUSR2");
    await new Promise((r) => setTimeout(r, 50)); // the host sees the signals; the loop is idle
    loop.callLater(0.05, () => loop.stop());
    await loop.runForever();
    assert.equal(calls, 1);
    process.kill(process.pid, "SIGUSR2");
    await new Promise((r) => setTimeout(r, 50));
    loop.callLater(0.05, () => loop.stop());
    await loop.runForever();
    assert.equal(calls, 2);
    loop.removeSignalHandler("SIGUSR2");
  }));

test("invalid signals are ValueError; a bad callback is TypeError; loop survives", posixSignals, () =>
  withLoop(async (loop) => {
    const noop = () => {};
    for (const bad of [0, 65, -1, "SIGNOPE"]) {
      assert.throws(() => loop.addSignalHandler(bad, noop), ValueError, `accepted ${bad}`);
    }
    assert.throws(() => loop.removeSignalHandler(0), ValueError);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => loop.addSignalHandler(1.5 as any, noop), TypeError);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => loop.addSignalHandler("SIGUSR1", "x" as any), TypeError);
    // Real-time signals have no name the runtimes can listen to.
    assert.throws(() => loop.addSignalHandler(40, noop), RuntimeError);
    assert.equal(await loop.runUntilComplete(async () => "alive"), "alive");
  }));

test("SIGKILL and SIGSTOP: addSignalHandler is RuntimeError 'sig 9 cannot be caught', removeSignalHandler false (test_unix_events)", posixSignals, () =>
  withLoop(async (loop) => {
    const noop = () => {};
    for (const [sig, num] of [["SIGKILL", 9], [9, 9], ["SIGSTOP", 19], [19, 19]] as const) {
      assert.throws(
        () => loop.addSignalHandler(sig, noop),
        (e) => e instanceof RuntimeError && e.message === `sig ${num} cannot be caught`,
        `addSignalHandler(${sig})`,
      );
      assert.equal(loop.removeSignalHandler(sig), false);
    }
    assert.equal(await loop.runUntilComplete(async () => "alive"), "alive");
  }));

test("addSignalHandler refuses an async function: TypeError 'coroutines cannot be used with addSignalHandler()'", posixSignals, () =>
  withLoop(async (loop) => {
    const coroutineMessage = /TypeError: coroutines cannot be used with addSignalHandler\(\)$/;
    assert.throws(() => loop.addSignalHandler("SIGUSR1", async () => {}), coroutineMessage);
    assert.throws(() => loop.addSignalHandler("SIGUSR1", async function* () {}), coroutineMessage);
    assert.throws(() => loop.addSignalHandler("SIGUSR1", async () => {}), TypeError);
    assert.equal(loop.removeSignalHandler("SIGUSR1"), false, "nothing was installed");
    assert.equal(await loop.runUntilComplete(async () => "alive"), "alive");
  }));

test("close() removes every handler and restores the default disposition", posixSignals, async () => {
  // In a child: install a SIGTERM handler, close the loop, then SIGTERM must kill the child.
  const script = new URL("../../fixtures/signal_close.ts", import.meta.url).pathname;
  const [exe, ...args] = runScriptCommand(script);
  const child = spawn(exe, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const result = await new Promise<[number | null, string | null]>((resolve) =>
    child.on("exit", (code, signal) => resolve([code, signal]))
  );
  assert.match(out, /handled once\nclosed\n/);
  assert.deepEqual(result, [null, "SIGTERM"]);
});

test("the seed's SIGINT/SIGTERM example exits on a real SIGINT and on a real SIGTERM", posixSignals, async () => {
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    const script = new URL("../../../examples/signals.ts", import.meta.url).pathname;
    const [exe, ...args] = runScriptCommand(script);
    const child = spawn(exe, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "", sent = false;
    child.stdout.on("data", (d) => {
      out += d;
      if (!sent && out.includes("send SIGINT or SIGTERM")) {
        sent = true;
        // kill(2) itself: under Deno, ChildProcess.kill("SIGINT") left this child dead of SIGINT
        // after its handler had run, which a plain kill(2) from Deno or Bun does not.
        process.kill(child.pid!, sig);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    assert.equal(code, 0, out);
    assert.match(out, new RegExp(`got signal ${sig}: exit`));
  }
});

test("on Windows, addSignalHandler and removeSignalHandler raise NotImplementedError (as asyncio's loops there); the loop lives on", {
  skip: !isWindows && "Windows behaviour (the POSIX cases above run here)",
}, () =>
  withLoop(async (loop) => {
    let calls = 0;
    for (const sig of ["SIGINT", "SIGTERM", 2, "SIGNOPE", 0]) {
      assert.throws(() => loop.addSignalHandler(sig, () => calls++), NotImplementedError, `add ${sig}`);
      assert.throws(() => loop.removeSignalHandler(sig), NotImplementedError, `remove ${sig}`);
    }
    assert.equal(calls, 0);
    assert.equal(await loop.runUntilComplete(async () => "alive"), "alive");
  }));
