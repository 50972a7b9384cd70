/**
 * Which Task's coroutine is running right now.
 *
 * JavaScript resumes an async function in a microtask the loop does not control, so the loop
 * cannot track "the current task" by setting a variable around each step, as asyncio does.
 * AsyncLocalStorage follows a coroutine across every await (native promises, host timers,
 * thenables), in Deno and in Bun. Future.then() reads it to learn which task is awaiting the
 * future, which is what lets Task.cancel() raise CancelledError at that very await.
 *
 * The context also follows whatever the coroutine starts on the host (a setTimeout, a
 * Promise chain), so it can outlive the task: a task that is done ignores it.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { AbstractFuture } from "./abstract_loop.ts";

/** What Future.then() tells the task that is awaiting it. */
export interface AwaitingTask {
  /**
   * The task's coroutine awaits `future`. Returns true if the task wants `_wakeup` when the
   * future is done (false: the task is finished, this is a context it left behind). Throws to
   * refuse the await (a task awaiting itself, a future of another loop).
   */
  _awaiting(future: AbstractFuture<unknown>): boolean;
  /**
   * `future`, awaited by the task, is done and the coroutine is about to resume. Returns the
   * exception to raise at the await instead of the future's outcome (a pending cancellation,
   * as asyncio's __step throws it into the coroutine), or undefined.
   */
  _wakeup(future: AbstractFuture<unknown>): unknown;
}

export const taskContext: AsyncLocalStorage<AwaitingTask> = new AsyncLocalStorage();
