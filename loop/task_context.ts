/**
 * Which Task's coroutine is running right now.
 *
 * JavaScript resumes an async function in a microtask the loop does not control, so the loop
 * cannot track "the current task" by setting a variable around each step, as asyncio does.
 * AsyncLocalStorage follows a coroutine across every await (native promises, host timers,
 * thenables), in Deno and in Bun. Future.then() reads it to learn which task is awaiting the
 * future, which is what lets Task.cancel() raise CancelledError at that very await.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** What Future.then() tells the task that is awaiting it. */
export interface AwaitingTask {
  _awaiting(future: object): void;
}

export const taskContext: AsyncLocalStorage<AwaitingTask> = new AsyncLocalStorage();
