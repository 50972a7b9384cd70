/**
 * The poll(2) selector (platform/poll.ts) and the epoll one (platform/linux.ts), both for real
 * on this Linux machine: the shared Selector contract, what is particular to poll, and the ways
 * to choose a selector (newEventLoop({ selector }), AIOLOOP_SELECTOR).
 *
 * The whole suite also runs on the poll selector: AIOLOOP_SELECTOR=poll (see scripts/test.sh).
 */
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { EVENT_READ, newEventLoop, OSError, socketpair, ValueError } from "../../mod.ts";
import { readEnv } from "../../ffi/runtime.ts";
import { libkqueueSystem } from "../../ffi/libkqueue.ts";
import { KqueueSelector } from "../../platform/darwin.ts";
import { EpollSelector } from "../../platform/linux.ts";
import { PollSelector } from "../../platform/poll.ts";
import { createSelector, defaultSelectorKind } from "../../platform/default_selector.ts";
import { pollOnce, selectorContract } from "./selector_contract.ts";

selectorContract("epoll", () => new EpollSelector());
selectorContract("poll", () => new PollSelector());

const enc = new TextEncoder();

/** Whether libkqueue (ffi/libkqueue.ts, AIOLOOP_LIBKQUEUE) loads here: then Linux has kqueue. */
function libkqueueLoads(): boolean {
  try {
    libkqueueSystem();
    return true;
  } catch {
    return false;
  }
}

// deno-lint-ignore no-explicit-any
const selectorOf = (loop: unknown) => (loop as any)._selector;

test("newEventLoop({ selector }) picks the implementation by name, or takes a Selector", async () => {
  const p = newEventLoop({ selector: "poll" });
  const e = newEventLoop({ selector: "epoll" });
  const mine = new PollSelector();
  const m = newEventLoop({ selector: mine });
  try {
    assert.ok(selectorOf(p) instanceof PollSelector);
    assert.ok(selectorOf(e) instanceof EpollSelector);
    assert.equal(selectorOf(m), mine);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => newEventLoop({ selector: "select" as any }), ValueError);
    if (libkqueueLoads()) {
      const k = createSelector("kqueue");
      assert.ok(k instanceof KqueueSelector);
      k.close();
    } else {
      assert.throws(() => createSelector("kqueue"), (e: unknown) =>
        e instanceof ValueError && /kqueue selector needs macOS or FreeBSD, or libkqueue/.test(e.message));
    }
    assert.equal(await p.runUntilComplete(Promise.resolve(42)), 42);
  } finally {
    p.close();
    e.close();
    m.close();
  }
});

test("AIOLOOP_SELECTOR decides what newEventLoop() uses (this run: its value or epoll)", () => {
  const asked = readEnv("AIOLOOP_SELECTOR") || "epoll";
  assert.equal(defaultSelectorKind(), asked);
  const loop = newEventLoop();
  try {
    const expected = asked === "poll" ? PollSelector : asked === "kqueue" ? KqueueSelector : EpollSelector;
    assert.ok(selectorOf(loop) instanceof expected, `newEventLoop() uses ${asked}`);
  } finally {
    loop.close();
  }
});

test("[poll] a regular file or directory is refused with EPERM, as epoll refuses it", () => {
  const sel = new PollSelector();
  const dir = mkdtempSync(join(tmpdir(), "aioloop-"));
  const fd = openSync(join(dir, "f"), "w");
  const dirFd = openSync(dir, "r");
  try {
    for (const f of [fd, dirFd]) {
      assert.throws(() => sel.register(f, EVENT_READ), (e: unknown) =>
        e instanceof OSError && e.code === "EPERM");
    }
  } finally {
    closeSync(fd);
    closeSync(dirFd);
    rmSync(dir, { recursive: true });
    sel.close();
  }
});

test("[poll] a forgotten (closed) fd is watched again after modify(), as on re-registration", () => {
  const sel = new PollSelector();
  const [a, b] = socketpair();
  const fd = a.fileno();
  try {
    sel.register(fd, EVENT_READ);
    a.close();
    b.close();
    assert.equal(sel.poll(), 0); // POLLNVAL: forgotten, not reported
    const [c, d] = socketpair();
    try {
      assert.equal(c.fileno(), fd);
      d.send(enc.encode("x"));
      assert.equal(sel.poll(), 0, "a forgotten entry stays quiet until modify()");
      sel.modify(fd, EVENT_READ);
      assert.deepEqual([...pollOnce(sel)], [[fd, EVENT_READ]]);
    } finally {
      c.close();
      d.close();
    }
  } finally {
    sel.close();
  }
});

test("[poll] the pollfd array grows past its first capacity while a park is pending", async () => {
  const sel = new PollSelector();
  const pairs = Array.from({ length: 200 }, () => socketpair());
  try {
    const parked = sel.park(3000);
    for (const [a] of pairs) sel.register(a.fileno(), EVENT_READ);
    await parked; // registering during a park wakes it
    assert.equal(sel.poll(), 0); // collects the wakeup
    const start = performance.now();
    setTimeout(() => pairs[199][1].send(enc.encode("x")), 20);
    await sel.park(3000); // the parked copy holds all 200 (+ the waker)
    assert.ok(performance.now() - start < 1500);
    assert.deepEqual([...pollOnce(sel)], [[pairs[199][0].fileno(), EVENT_READ]]);
  } finally {
    sel.close();
    for (const [a, b] of pairs) {
      a.close();
      b.close();
    }
  }
});
