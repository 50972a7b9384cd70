/**
 * AbortSignal support: what an operation that takes `{ signal }` does with it.
 *
 * The rule, the same for sleep, waitFor, openConnection/createConnection and the subprocess
 * waits: an already-aborted signal fails the call at once; an abort while it runs cancels the
 * awaited loop Future (asyncio's way to stop an operation), and the caller sees asyncio's
 * CancelledError whose `cause` is the signal's `reason` and whose message names it. The abort
 * listener is removed when the operation ends, however it ends, so one long-lived signal can
 * be passed to any number of calls.
 *
 * A task's own signal (Task.signal) is aborted with the CancelledError itself as its reason:
 * abortedError() hands that one back unchanged.
 */
import type { KeysOf } from "./options.ts";
import type { AbstractEventLoop, AbstractFuture } from "./abstract_loop.ts";
import { describe } from "./describe.ts";
import { CancelledError } from "./errors.ts";

/** Options of an operation that can be aborted. */
export interface AbortSignalOption {
  /** Aborting it cancels the operation: it fails with CancelledError, `cause` the reason. */
  signal?: AbortSignal | undefined;
}

/** @ignore The keys of AbortSignalOption, for refuseUnknownOptions(). */
export const ABORT_SIGNAL_OPTION_KEYS: KeysOf<AbortSignalOption> = { signal: true };

/** TypeError unless `signal` is undefined or an AbortSignal; `what` names the call. */
export function checkSignal(signal: unknown, what: string): AbortSignal | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return signal;
  throw new TypeError(`${what}: signal must be an AbortSignal, got ${describe(signal)}`);
}

/** The CancelledError an abort of `signal` raises: the reason itself if it is one. */
export function abortedError(signal: AbortSignal): CancelledError {
  const reason: unknown = signal.reason;
  if (reason instanceof CancelledError) return reason;
  const text = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  return new CancelledError(`aborted by its AbortSignal (${text})`, { cause: reason });
}

/**
 * Cancel `fut` when `signal` aborts (at once if it already has); the listener goes when `fut`
 * is done. Whoever awaits `fut` turns its CancelledError into abortedError(signal).
 */
export function cancelOnAbort(fut: AbstractFuture<unknown>, signal: AbortSignal): void {
  if (signal.aborted) {
    fut.cancel();
    return;
  }
  const onAbort = () => fut.cancel();
  signal.addEventListener("abort", onAbort, { once: true });
  fut.addDoneCallback(() => signal.removeEventListener("abort", onAbort));
}

/**
 * Run `body` as a task of `loop` that `signal` cancels: resolves with its result, or fails with
 * abortedError(signal) once an abort cancelled it. Without a signal `body` simply runs.
 * The caller validated `signal` with checkSignal.
 */
export async function runAbortable<T>(
  loop: AbstractEventLoop,
  signal: AbortSignal | undefined,
  body: () => Promise<T>,
): Promise<T> {
  if (signal === undefined) return await body();
  if (signal.aborted) throw abortedError(signal);
  const task = loop.createTask(body);
  cancelOnAbort(task, signal);
  try {
    return await task;
  } catch (e) {
    if (signal.aborted && e instanceof CancelledError) throw abortedError(signal);
    throw e;
  }
}
