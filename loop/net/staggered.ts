/**
 * Staggered start of competing attempts (asyncio staggered.staggered_race), for
 * createConnection's happyEyeballsDelay (RFC 8305): the first attempt starts at once; each next
 * one when the one before it fails or `delay` seconds after it started, whichever comes first.
 * The first attempt to succeed wins and every other is cancelled; the race ends once every
 * started attempt has finished (so a cancelled attempt has closed its socket). A success nobody
 * takes (a second one in the winner's iteration, or the winner of a cancelled race) goes to
 * `discard`.
 */
import type { AbstractEventLoop, AbstractTask, AbstractTimerHandle } from "../core/abstract_loop.ts";

/** The race's outcome: the winner's result and index (null: none won), and each started attempt's error. */
export interface RaceResult<T> {
  winner: T | undefined;
  index: number | null;
  /** One entry per started attempt, in order; undefined for the winner and the cancelled ones. */
  errors: unknown[];
}

/** Run `attempts` staggered by `delay` seconds; see the module comment. */
export async function staggeredRace<T>(
  loop: AbstractEventLoop,
  attempts: readonly (() => Promise<T>)[],
  delay: number,
  discard: (lateWinner: T) => void,
): Promise<RaceResult<T>> {
  const result: RaceResult<T> = { winner: undefined, index: null, errors: [] };
  const tasks: AbstractTask<T>[] = [];
  const finished = loop.createFuture<void>();
  let running = 0;
  let timer = null as AbstractTimerHandle | null;

  const settleIfOver = () => {
    if (running === 0 && (result.index !== null || tasks.length === attempts.length) && !finished.done()) {
      finished.setResult();
    }
  };
  const startNext = () => {
    timer?.cancel();
    timer = null;
    if (result.index !== null || tasks.length === attempts.length) return settleIfOver();
    const i = tasks.length;
    const task = loop.createTask(attempts[i]!); // i < attempts.length: checked above
    tasks.push(task);
    result.errors.push(undefined);
    running++;
    if (tasks.length < attempts.length) timer = loop.callLater(delay, startNext);
    task.addDoneCallback(() => {
      running--;
      if (task.cancelled()) {
        // Cancelled because another attempt won (or the race itself was cancelled).
      } else if (task.exception() !== null && task.exception() !== undefined) {
        result.errors[i] = task.exception();
        // The latest attempt failed: do not wait out the delay for the next one.
        if (i === tasks.length - 1) startNext();
      } else if (result.index === null) {
        result.index = i;
        result.winner = task.result();
        timer?.cancel();
        timer = null;
        for (const t of tasks) if (t !== task) t.cancel();
      } else {
        // Succeeded in the same iteration as the winner, before its cancel() could land.
        discard(task.result());
      }
      settleIfOver();
    });
  };

  startNext();
  try {
    await finished;
    return result;
  } catch (e) {
    // The race itself was cancelled: nobody will take the winner.
    if (result.index !== null) discard(result.winner as T);
    throw e;
  } finally {
    timer?.cancel();
    for (const t of tasks) t.cancel();
  }
}
