/**
 * How HostTurns (loop/core/host_turns.ts) reads a turn's CPU time as host work or not. A turn
 * after loop work costs several times a turn right after another (the runtime's code is out of
 * the caches); neither is host work. The CPU figures below are this VM's (README, "Living inside
 * the host runtime"): ~13 µs back to back, 50–65 µs after a millisecond of loop work.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { HostTurns } from "../../../loop/core/host_turns.ts";

/** HostTurns' verdict on a turn: the first of a give() or one right after another. */
// deno-lint-ignore no-explicit-any
const worked = (turns: HostTurns, first: boolean, cpuUs: number): boolean => (turns as any).hostWorked(first, cpuUs);

test("quiet host: no first turn counts as host work though each costs more than the repeats", () => {
  const turns = new HostTurns();
  const verdicts: boolean[] = [];
  for (let i = 0; i < 50; i++) {
    verdicts.push(worked(turns, true, 55 + (i % 5) * 2)); // after loop work: 55-63 µs
    worked(turns, false, 13 + (i % 3)); // a turn straight after: 13-15 µs
  }
  // The first verdict has no baseline yet; after that none may see host work.
  assert.deepEqual(verdicts.slice(1).filter((v) => v).length, 0, `verdicts: ${verdicts}`);
  turns.release();
});

test("a turn that served a request counts as host work, first or repeated", () => {
  const turns = new HostTurns();
  for (let i = 0; i < 20; i++) {
    worked(turns, true, 60);
    worked(turns, false, 14);
  }
  assert.equal(worked(turns, true, 400), true, "a first turn in which the host served a request");
  assert.equal(worked(turns, false, 150), true, "a repeated turn in which the host answered");
  assert.equal(worked(turns, true, 62), false, "back to quiet");
  turns.release();
});

test("on a runtime whose quiet turn costs ~2 µs, a turn that served a request (~15 µs) counts", () => {
  // Bun's setImmediate turn: ~1.7 µs quiet (p90 ~6 µs), 13–30 µs when Bun.serve answered in it.
  const turns = new HostTurns();
  const noise: boolean[] = [];
  for (let i = 0; i < 40; i++) {
    noise.push(worked(turns, true, 1.5 + (i % 4))); // 1.5–4.5 µs: quiet
    worked(turns, false, 1.5 + (i % 3));
  }
  assert.equal(noise.slice(1).filter((v) => v).length, 0, `quiet turns taken for work: ${noise}`);
  assert.equal(worked(turns, true, 15), true, "a first turn in which Bun.serve answered");
  assert.equal(worked(turns, false, 14), true, "a repeated turn in which the fetch got its answer");
  assert.equal(worked(turns, true, 3), false, "back to quiet");
  turns.release();
});

test("sustained host traffic is not learnt as the quiet baseline", () => {
  // Bun.serve answering a request in every first turn for 0.4 s (~400 turns, 20–30 µs each),
  // after a quiet spell of ~2 µs turns: the baseline may rise with a slower machine, not with work.
  const turns = new HostTurns();
  for (let i = 0; i < 40; i++) worked(turns, true, 1.5 + (i % 4));
  const verdicts: boolean[] = [];
  for (let i = 0; i < 400; i++) verdicts.push(worked(turns, true, 20 + (i % 11)));
  assert.equal(verdicts.filter((v) => !v).length, 0, `request turns taken for quiet: ${verdicts.indexOf(false)}`);
  turns.release();
});

test("the baseline follows a machine that got slower", () => {
  // Quiet first turns going from ~13 µs to ~55 µs (a loaded VM): within a few seconds of turns
  // (~1,000 a second) they are quiet again.
  const turns = new HostTurns();
  for (let i = 0; i < 40; i++) worked(turns, true, 13 + (i % 3));
  const verdicts: boolean[] = [];
  for (let i = 0; i < 3000; i++) verdicts.push(worked(turns, true, 55 + (i % 5)));
  assert.equal(verdicts.slice(-500).filter((v) => v).length, 0, "quiet turns still taken for work");
  turns.release();
});
