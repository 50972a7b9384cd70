/**
 * The parking thread's lifetime: whatever state it is in when the loop closes (idle between
 * waits, or inside a wait the loop started), close() ends it and its fds go (on Bun the thread
 * is a Worker with its own epoll fd and eventfd). A start_tls test once seemed to show a parking
 * Worker outliving its loop; the two fds were Bun's synchronous-spawn event loop instead (see
 * tests/loop/tls/start_tls_test.ts), and these cases pin down that the parker itself releases.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { newEventLoop, sleep } from "../../mod.ts";
import { fdCountSettled, hostDelay, stableFdCount } from "../helpers.ts";

test("a loop that parked many times across runUntilComplete and stop() restarts releases its parking thread at close", async () => {
  const before = await stableFdCount();
  const loop = newEventLoop();
  for (let i = 0; i < 20; i++) {
    await loop.runUntilComplete(() => sleep(0.002)); // parks on the timer
    // Parked with nothing due: only a host callback's stop() ends this run.
    loop.callLater(60, () => {});
    setTimeout(() => loop.stop(), 5);
    await loop.runForever();
  }
  loop.close();
  assert.equal(await fdCountSettled(before), before);
});

test("a loop closed while a park is in progress settles the park and releases the parking thread", async () => {
  const before = await stableFdCount();
  const loop = newEventLoop();
  await loop.runUntilComplete(() => sleep(0.001)); // the parking thread exists from here on
  // A wait as the loop's run makes it, left in progress; 1 s: a thread that cannot be woken
  // early still returns by itself.
  // deno-lint-ignore no-explicit-any
  const park: Promise<void> = (loop as any)._parkIo(1000);
  await hostDelay(100); // the thread is inside its wait now
  const t0 = performance.now();
  loop.close();
  await park;
  assert.ok(performance.now() - t0 < 5000, "the park settled");
  assert.equal(await fdCountSettled(before), before);
});
