/**
 * HostTurns: when and for how long a busy loop gives the JS thread to the host runtime, so
 * that the host's servers and fetches stay responsive beside a saturated loop (README, "Living
 * inside the host runtime"; issue 19).
 *
 * Every HOST_TURN_INTERVAL_MS of busy running the loop gives the host one I/O turn
 * (ffi/host_turn.ts: a setImmediate turn on Bun, a byte through a loopback connection on Deno,
 * whose runtime polls its reactor only for I/O it must deliver). One turn
 * is rarely enough for a request: the host's server reads it in one turn, its handler answers
 * and the client side reads the answer in later turns. So while a turn shows that the host
 * worked, the loop gives it another at once, up to HOST_SHARE of the loop's busy time (a
 * budget that builds up while the host is quiet, so a request that arrives after a quiet spell
 * is served in one go). "The host worked" is read from this thread's CPU clock: a turn in which
 * the host had nothing to do costs a few µs of it (more on a loaded machine, hence a baseline
 * learnt from the recent quiet turns: QuietTurnCost), a turn that served a request tens or
 * hundreds. Wall time would not do: on a loaded machine a quiet turn can wait that long for a
 * CPU.
 */
import { openHostTurn, threadCpuMicros } from "../../ffi/host_turn.ts";

/** Busy running between two host turns, in ms. */
const HOST_TURN_INTERVAL_MS = 1;

/**
 * The interval after a turn in which the host worked: a request the host is in the middle of
 * (a fetch whose answer is on its way) gets its next step sooner.
 */
const ACTIVE_HOST_INTERVAL_MS = 0.5;

/**
 * At most this share of the loop's busy time goes to further turns while the host keeps
 * working: the loop keeps ~90 % of its throughput under host traffic.
 */
const HOST_SHARE = 0.08;

/** The most turn time that builds up while the host is quiet, in ms. */
const MAX_BUDGET_MS = 2;

/**
 * A turn did host work when its CPU time exceeds the quiet baseline by more than
 * HOST_WORK_FACTOR times the baseline, by at least HOST_WORK_MIN_US (clock and cache noise) and
 * at most HOST_WORK_MAX_US. Relative because the runtimes' quiet turns differ tenfold: Deno's
 * loopback turn costs 10–60 µs, where serving a request adds tens to hundreds; Bun's
 * setImmediate turn ~2 µs (p90 ~6), and Bun.serve answering a request in it 13–30 µs, under a
 * fixed 25 µs margin.
 */
const HOST_WORK_FACTOR = 3;
const HOST_WORK_MIN_US = 6;
const HOST_WORK_MAX_US = 25;

/**
 * The quiet baseline is a running lower quartile of the turns judged quiet: a turn below it
 * lowers it by QUARTILE_STEP of itself, one above raises it by a third of that. Deno's quiet
 * first turns spread over 10–60 µs: over a running minimum, a third of them counted as work.
 */
const QUARTILE_STEP = 1 / 16;

/**
 * A turn judged host work raises the baseline by this share of itself, so that it catches up
 * with a machine that got slower (quiet turns from 13 to 55 µs: within ~2,000 turns), but not
 * with a host that works in every turn for a while (Bun.serve answering in 400 turns in a row
 * at 20–30 µs still counts). A 0.5 µs step per turn took Bun's ~2 µs baseline to its request
 * turns' cost within 40 of them, after which requests went unseen.
 */
const WORK_DRIFT = 1 / 2048;

/** Hands the host its turns; one per loop, used by BaseEventLoop.runForever. */
export class HostTurns {
  private lastTurnEnd = 0;
  private budgetMs = 0;
  /** What a quiet first turn of a give() costs, and a quiet turn right after another. */
  private readonly quietFirst = new QuietTurnCost();
  private readonly quietRepeat = new QuietTurnCost();
  private interval = HOST_TURN_INTERVAL_MS;
  private readonly host = openHostTurn();

  /** The loop parks: what the turns hold goes if it stays parked (ffi/host_turn.ts). */
  idle(): void {
    this.host.idle();
  }

  /** Release what the turns hold now (the loop stops or closes); a later turn reopens it. */
  release(): void {
    this.host.close();
  }

  /** The loop starts running (or comes back from idle, where the host had its turns). */
  restart(now: number): void {
    this.lastTurnEnd = now;
  }

  /** True when the loop has been busy long enough since the last turn. */
  due(now: number): boolean {
    return now - this.lastTurnEnd >= this.interval;
  }

  /** Give the host one turn, and more while it keeps working and the budget lasts. */
  async give(): Promise<void> {
    const start = performance.now();
    this.budgetMs = Math.min(MAX_BUDGET_MS, this.budgetMs + (start - this.lastTurnEnd) * HOST_SHARE);
    this.interval = HOST_TURN_INTERVAL_MS;
    for (let first = true; ; first = false) {
      const cpu0 = threadCpuMicros();
      const t0 = performance.now();
      await this.host.turn();
      const cpu = threadCpuMicros() - cpu0;
      const t1 = performance.now();
      if (!this.hostWorked(first, cpu)) break;
      this.interval = ACTIVE_HOST_INTERVAL_MS;
      this.budgetMs -= t1 - t0;
      if (this.budgetMs <= 0) break;
    }
    this.lastTurnEnd = performance.now();
  }

  /**
   * Whether a turn that used `cpu` µs of the thread did host work: above the quiet baseline of
   * its kind by more than workMargin(). A give()'s first turn comes after loop work, with the
   * runtime's code out of the caches, and costs several times what a turn right after another
   * does (README, "Living inside the host runtime"), so each kind has its own baseline: with
   * one shared baseline the cheap repeated turns set it, and every first turn looked like host
   * work.
   */
  private hostWorked(first: boolean, cpu: number): boolean {
    return (first ? this.quietFirst : this.quietRepeat).worked(cpu);
  }
}

/** What a quiet host turn of one kind costs (a running lower quartile); the verdict on each turn. */
class QuietTurnCost {
  private us = Infinity;

  /** True if a turn that used `cpu` µs did host work; the estimate learns from the turn. */
  worked(cpu: number): boolean {
    if (this.us === Infinity) {
      this.us = cpu; // the first turn sets it: no verdict of work without a baseline
      return false;
    }
    if (cpu > this.us + workMargin(this.us)) {
      this.us *= 1 + WORK_DRIFT;
      return true;
    }
    this.us = cpu < this.us
      ? Math.max(cpu, this.us * (1 - QUARTILE_STEP))
      : Math.min(cpu, this.us * (1 + QUARTILE_STEP / 3));
    return false;
  }
}

/** How far above a quiet baseline of `quietUs` a turn's CPU time must be to be host work. */
function workMargin(quietUs: number): number {
  return Math.min(HOST_WORK_MAX_US, Math.max(HOST_WORK_MIN_US, HOST_WORK_FACTOR * quietUs));
}
