/**
 * The loop's timers (loop/core/timer_heap.ts) through callAt/callLater: order by deadline, equal
 * deadlines in scheduling order, many due at once (the batch path), a few due among many
 * pending, cancelled timers dropped and the heap's size bounded by twice the live timers.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { BaseEventLoop, TimerHandle } from "../../../mod.ts";
import { withLoop } from "../../helpers.ts";

/** How many entries the loop's timer heap holds, cancelled ones included. */
// deno-lint-ignore no-explicit-any
const heapSize = (loop: BaseEventLoop): number => (loop as any)._timers.size;

/** A 32-bit LCG: the same pseudo-random sequence on every run. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** Indices 0..whens.length-1 sorted by deadline, equal deadlines in index (scheduling) order. */
function expectedOrder(whens: number[]): number[] {
  return whens.map((_, i) => i).sort((a, b) => whens[a] - whens[b] || a - b);
}

/**
 * assert.deepEqual for long arrays of indices: names the first position that differs (a diff of
 * two 100k-element arrays takes minutes to render).
 */
function assertOrder(actual: number[], expected: number[], what = "firing order"): void {
  const at = expected.findIndex((e, i) => actual[i] !== e);
  if (at >= 0 || actual.length !== expected.length) {
    assert.fail(`${what}: ${actual.length} fired, ${expected.length} expected; first difference ` +
      `at ${at}: ${actual.slice(at, at + 5)} instead of ${expected.slice(at, at + 5)}`);
  }
}

/** Schedule callAt(whens[i]) for every i, run until `count` fired; the indices in firing order. */
function fireOrder(loop: BaseEventLoop, whens: number[], count = whens.length) {
  const fired: number[] = [];
  const cb = (i: number) => {
    fired.push(i);
    if (fired.length === count) loop.stop();
  };
  const handles = whens.map((w, i) => loop.callAt(w, cb, i));
  return { fired, handles, run: () => loop.runForever() };
}

test("timers with equal deadlines fire in the order they were scheduled", () =>
  withLoop(async (loop) => {
    const when = loop.time();
    for (const n of [3, 10, 1000, 20_000]) {
      const { fired, run } = fireOrder(loop, new Array(n).fill(when));
      await run();
      assertOrder(fired, expectedOrder(new Array(n).fill(when)), `${n} equal deadlines`);
    }
  }));

test("many timers due at once fire by deadline, ties in scheduling order", () =>
  withLoop(async (loop) => {
    const rand = lcg(7);
    for (const n of [50, 5000, 100_000]) {
      // Few distinct deadlines, so most timers tie with others; all in the past.
      const base = loop.time() - 1;
      const whens = Array.from({ length: n }, () => base + Math.floor(rand() * 97) / 1000);
      const { fired, run } = fireOrder(loop, whens);
      await run();
      assertOrder(fired, expectedOrder(whens), `${n} timers`);
      assert.equal(heapSize(loop), 0);
    }
  }));

test("a few due timers among many pending fire in order; the pending ones keep theirs", () =>
  withLoop(async (loop) => {
    const rand = lcg(11);
    const now = loop.time();
    // 20k timers: one in 100 already due, the others 0.5 s from now or up to 30 ms later (far
    // enough that none falls due before the loop has run the due ones, even on a loaded host).
    const whens = Array.from({ length: 20_000 }, (_, i) =>
      i % 100 === 0 ? now - rand() : now + 0.5 + Math.floor(rand() * 30) / 1000);
    const due = whens.filter((w) => w <= now).length;
    const { fired, run } = fireOrder(loop, whens, due);
    await run();
    assertOrder(fired, expectedOrder(whens).slice(0, due));
    assert.equal(heapSize(loop), whens.length - due);
    loop.callAt(now + 0.6, () => loop.stop());
    await run();
    assertOrder(fired, expectedOrder(whens));
  }));

test("timers due at once and timers that fall due while the loop runs, in one order", () =>
  withLoop(async (loop) => {
    const rand = lcg(13);
    const now = loop.time();
    const whens = Array.from({ length: 40_000 }, (_, i) =>
      i % 2 === 0 ? now - rand() : now + Math.floor(rand() * 20) / 1000);
    const { fired, run } = fireOrder(loop, whens);
    await run();
    assertOrder(fired, expectedOrder(whens));
  }));

test("cancelled timers never fire, due or not, and the heap holds at most twice the live ones", () =>
  withLoop(async (loop) => {
    const rand = lcg(17);
    const now = loop.time();
    const whens = Array.from({ length: 30_000 }, (_, i) =>
      i % 3 === 0 ? now - rand() : now + 0.01 + rand() / 100);
    const { fired, handles, run } = fireOrder(loop, whens, 3000);
    const live: number[] = [];
    handles.forEach((h: TimerHandle, i) => {
      if (i % 10 === 0) live.push(i);
      else h.cancel();
    });
    assert.ok(heapSize(loop) <= 2 * live.length, `heap ${heapSize(loop)}, live ${live.length}`);
    await run();
    const liveWhens = live.map((i) => whens[i]);
    assertOrder(fired, expectedOrder(liveWhens).map((j) => live[j]));
    assert.equal(heapSize(loop), 0);
    assert.ok(handles.every((h, i) => h.cancelled() === (i % 10 !== 0)));
  }));

test("timers left pending by a batch of due ones still count when cancelled: the heap stays bounded", () =>
  withLoop(async (loop) => {
    const now = loop.time();
    // 1,000 timers an hour away, then 1,000 due ones: the due ones leave in one batch (a
    // compaction that keeps the others in the heap), then 900 of those kept are cancelled.
    const pending = Array.from({ length: 1000 }, (_, i) => loop.callAt(now + 3600 + i, () => {}));
    const { run } = fireOrder(loop, Array.from({ length: 1000 }, (_, i) => now - 1 + i / 1e6));
    await run();
    assert.equal(heapSize(loop), 1000, "the due timers left, the later ones stayed");
    for (let i = 0; i < 900; i++) pending[i]!.cancel();
    assert.ok(heapSize(loop) <= 2 * 100, `heap ${heapSize(loop)} for 100 live timers`);
  }));

test("a timer cancelled by one that fires before it in the same batch does not run", () =>
  withLoop(async (loop) => {
    const now = loop.time();
    const fired: string[] = [];
    const late = loop.callAt(now - 0.5, () => fired.push("late"));
    loop.callAt(now - 0.9, () => {
      fired.push("early");
      late.cancel();
    });
    for (let i = 0; i < 5000; i++) loop.callAt(now - 0.7, () => {});
    loop.callAt(now - 0.1, () => loop.stop());
    await loop.runForever();
    assert.deepEqual(fired, ["early"]);
  }));

test("many due timers in order however close or far apart their deadlines are", () =>
  withLoop(async (loop) => {
    const rand = lcg(19);
    const now = loop.time();
    const cases: [string, () => number][] = [
      // Closer than 2^-32 of their size, and many exactly equal.
      ["nanoseconds apart", () => now - 0.5 + Math.floor(rand() * 5000) * 1e-12],
      // Zero and negative deadlines (callAt accepts any time in the past).
      ["around zero", () => Math.floor(rand() * 200 - 150) / 10],
      ["spread over a day", () => now - rand() * 86400],
      // One deadline a year back and the rest within a millisecond: the rest are closer than
      // the batch's range over 2^30, so their order comes from exact comparisons.
      ["one far back, the rest close", () =>
        rand() < 1e-4 ? now - 3e7 : now - Math.floor(rand() * 1000) * 1e-6],
    ];
    for (const [what, when] of cases) {
      const whens = Array.from({ length: 20_000 }, when);
      const { fired, run } = fireOrder(loop, whens);
      await run();
      assertOrder(fired, expectedOrder(whens), what);
    }
  }));

test("cancelled timers that reach the top are dropped by the iteration that fires the timer above them", () =>
  withLoop(async (loop) => {
    // The shape TLS leaves: a short timer that fires, two long ones cancelled behind it. Before
    // the fix, the pop path stopped at the first entry not yet due, so the cancelled timers (and
    // all their callbacks hold) stayed in the heap after the loop stopped.
    const later = [loop.callLater(30, () => {}), loop.callLater(60, () => {})];
    loop.callLater(0.001, () => loop.stop());
    for (const t of later) t.cancel();
    await loop.runForever();
    assert.equal(heapSize(loop), 0, "cancelled timers left in the heap");
  }));
