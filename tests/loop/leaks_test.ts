/**
 * Resources: close() releases every fd the loop opened (epoll fd, eventfd, parking thread),
 * leaves no pending timer, and 500 loops in a row leak nothing.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { newEventLoop, sleep, socketpair } from "../../mod.ts";
import { fdCountSettled, openFdCount, stableFdCount } from "../helpers.ts";

// deno-lint-ignore no-explicit-any
const timersOf = (loop: unknown) => (loop as any)._timers.size as number;
// deno-lint-ignore no-explicit-any
const readyOf = (loop: unknown) => (loop as any)._ready.length as number;

test("close() returns the process to the fds it had before, after parking and watching fds", async () => {
  const [a, b] = socketpair();
  const before = await stableFdCount();
  const loop = newEventLoop();
  assert.ok(openFdCount() > before, "the loop opened its epoll and eventfd");
  loop.addReader(a, () => {
    a.recv(10);
    loop.stop();
  });
  loop.callLater(0.02, () => b.send(new Uint8Array([1])));
  loop.callLater(60, () => {}); // pending at close
  await loop.runForever(); // parks until the write
  loop.callSoon(() => {}); // pending at close
  loop.close();
  assert.equal(timersOf(loop), 0, "no timer left after close()");
  assert.equal(readyOf(loop), 0, "no callback left after close()");
  assert.equal(await fdCountSettled(before), before);
  a.close();
  b.close();
});

test("500 loops created, run (parking) and closed leak no fd", async () => {
  const before = await stableFdCount();
  for (let i = 0; i < 500; i++) {
    const loop = newEventLoop();
    if (i % 10 === 0) await loop.runUntilComplete(() => sleep(0.001)); // parks
    else await loop.runUntilComplete(async () => i);
    loop.close();
  }
  assert.equal(await fdCountSettled(before), before);
});
