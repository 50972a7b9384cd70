/**
 * asyncio.to_thread: run a blocking function off the loop's thread and await its result.
 *
 * asyncio runs the function in the loop's default executor, a thread pool. Here the default
 * executor is a WorkerPoolExecutor (loop/concurrency/executor.ts), whose threads cannot receive a function:
 * toThread takes what it takes, `task(import.meta.url, "exportName")` naming an exported
 * function, and structured-cloneable arguments. Python's context variables do not cross.
 */
import { getRunningLoop } from "../events.ts";
import type { WorkerTask } from "./executor.ts";

/**
 * Run the function `fn` names on a thread of the running loop's default executor with `args`
 * (asyncio.to_thread) and resolve to its result. Rejects with RuntimeError if no loop is
 * running, TypeError if `fn` is a function rather than a `task(...)` reference (unless
 * setDefaultExecutor() installed an executor that takes functions), ImportError if the module
 * or export does not exist, and with the function's own error if it throws.
 */
export async function toThread<T = unknown>(
  fn: WorkerTask | ((...args: never[]) => unknown),
  ...args: unknown[]
): Promise<T> {
  const loop = getRunningLoop();
  return await loop.runInExecutor<T>(null, fn, ...args);
}
