/**
 * asyncio's module-level coroutine helpers: sleep, ensureFuture, gather, waitFor, and the
 * task queries allTasks/currentTask.
 */
import type { Awaitable, BaseEventLoop } from "../base_loop.ts";
import { describe } from "../core/describe.ts";
import { CancelledError, RuntimeError, TimeoutError, ValueError } from "../core/errors.ts";
import { getEventLoop, getRunningLoop } from "../events.ts";
import { Future } from "../core/futures.ts";
import { getRunningLoopOrNull } from "../core/running.ts";
import { currentTask, type Task } from "../core/tasks.ts";
import { abortedError, cancelOnAbort, checkSignal, type AbortSignalOption } from "../core/abort.ts";

function setResultUnlessCancelled<T>(fut: Future<T>, result: T): void {
  if (!fut.done()) fut.setResult(result);
}

/**
 * Wait `seconds` on the running loop, then return `result` (asyncio.sleep). `sleep(0)` (or a
 * negative delay) yields to the loop for exactly one iteration. The returned Promise rejects
 * with TypeError if `seconds` is not a number, ValueError if it is NaN, RuntimeError if no loop
 * is running. With `{ signal }`, an abort ends the sleep with CancelledError, `cause` the
 * signal's reason (at once if it is already aborted).
 *
 * Not an async function on purpose: it hands out the Promise of Future.then() itself, so the
 * awaiting coroutine resumes right after the loop callback that ends the sleep, with no extra
 * microtask hops (each hop would otherwise cost a loop iteration under load).
 */
export function sleep<T = undefined>(seconds: number, result?: T, options?: AbortSignalOption): Promise<T> {
  if (typeof seconds !== "number") {
    return Promise.reject(
      new TypeError(`sleep() needs a number of seconds, got ${describe(seconds)}`),
    );
  }
  if (Number.isNaN(seconds)) return Promise.reject(new ValueError("sleep() delay must not be NaN"));
  const loop = getRunningLoopOrNull();
  if (loop === null) return Promise.reject(new RuntimeError("no running event loop"));
  if (options !== undefined) return abortableSleep(loop, seconds, result as T, options);
  const fut = loop.createFuture<T>();
  if (seconds <= 0) {
    // asyncio's bare yield: the wakeup is registered while the future is pending, so setting the
    // result queues it, and the coroutine resumes in the next iteration. A cancel() that
    // arrives meanwhile is still raised here (Task._wakeup).
    const resumed = fut.then();
    fut.setResult(result as T);
    return resumed;
  }
  const handle = loop.callLater(seconds, setResultUnlessCancelled, fut, result as T);
  return fut.then(undefined, (e) => {
    handle.cancel(); // cancelled: drop the timer
    throw e;
  });
}

/** sleep() with a signal: an abort cancels the sleep (loop/core/abort.ts). */
async function abortableSleep<T>(loop: BaseEventLoop, seconds: number, result: T, options: AbortSignalOption): Promise<T> {
  const signal = checkSignal(options?.signal, "sleep()");
  if (signal === undefined) return await sleep(seconds, result);
  if (signal.aborted) throw abortedError(signal);
  const fut = loop.createFuture<T>();
  const handle = loop.callLater(Math.max(seconds, 0), setResultUnlessCancelled, fut, result);
  cancelOnAbort(fut, signal);
  try {
    return await fut;
  } catch (e) {
    handle.cancel();
    if (signal.aborted && e instanceof CancelledError && fut.cancelled()) throw abortedError(signal);
    throw e;
  }
}

/** Options naming the loop to use instead of the current one. */
export interface LoopOption {
  /** The loop to use; default: the running loop, else getEventLoop(). */
  loop?: BaseEventLoop;
}

/**
 * A Future for `x` (asyncio.ensure_future): a Future is returned as is, a Promise or a
 * coroutine function is wrapped in a Task.
 */
export function ensureFuture<T>(x: Awaitable<T>, options: LoopOption = {}): Future<T> {
  // asyncio checks the argument before it looks for a loop.
  if (!(x instanceof Future) && typeof x !== "function" && !isThenable(x)) {
    throw new TypeError(
      `a Future, a Promise or a coroutine function is required, got ${describe(x)}`,
    );
  }
  const loop = options.loop ?? (typeof x === "object" && x !== null && "_loop" in x
    ? (x as Future<T>)._loop
    : getEventLoop());
  return loop._ensureFuture(x);
}

/** Options of gather(). */
export interface GatherOptions {
  /** Return exceptions in the result array instead of failing on the first one. */
  returnExceptions?: boolean;
}

/** What gather() resolves to: each awaitable's result type, in order. */
export type GatherResults<A extends readonly unknown[]> = {
  -readonly [K in keyof A]: A[K] extends Awaitable<infer R> ? R : never;
};

/** The Future gather() returns: cancelling it cancels the children (asyncio _GatheringFuture). */
class GatheringFuture<T> extends Future<T> {
  /** @internal */ _cancelRequested = false;
  constructor(loop: BaseEventLoop, private readonly _children: Future<unknown>[]) {
    super(loop);
  }

  /**
   * Cancel every child that is not done; once they finish, the gather fails with
   * CancelledError, even with returnExceptions (asyncio 3.12). False if no child could be
   * cancelled: the gather then ends with its children's outcome (bpo-26923).
   */
  override cancel(msg?: string): boolean {
    if (this.done()) return false;
    let any = false;
    for (const c of this._children) if (c.cancel(msg)) any = true;
    if (any) {
      this._cancelRequested = true;
      this._cancelMessage = msg;
    }
    return any;
  }
}

/**
 * Run awaitables concurrently and collect their results in order (asyncio.gather). The first
 * exception ends the gather, the others keep running; with returnExceptions they are collected
 * in the results instead. A cancelled child (without returnExceptions), or cancel() of the
 * returned future, which cancels every child, makes the gather fail with CancelledError: as in
 * asyncio 3.12 it is then not cancelled() itself. Pass options as the last argument.
 */
export function gather<A extends Awaitable<unknown>[]>(
  ...args: [...A] | [...A, GatherOptions]
): Future<GatherResults<A>> {
  let options: GatherOptions = {};
  const last = args[args.length - 1];
  if (last !== null && typeof last === "object" && !("then" in last)) {
    options = args.pop() as GatherOptions;
  }
  const awaitables = args as Awaitable<unknown>[];
  const returnExceptions = !!options.returnExceptions;
  let loop: BaseEventLoop | undefined;
  for (const a of awaitables) if ((loop = loopOf(a)) !== undefined) break;
  loop ??= getEventLoop();
  const children = awaitables.map((a) => ensureFuture(a, { loop }));
  const outer = new GatheringFuture<GatherResults<A>>(loop, children);
  const results: unknown[] = new Array(children.length);
  let pending = children.length;
  if (pending === 0) {
    outer.setResult(results as GatherResults<A>);
    return outer;
  }
  const onChildDone = (child: Future<unknown>, i: number) => {
    pending--;
    if (outer.done()) {
      if (!child.cancelled()) child.exception(); // mark retrieved: the gather already ended
      return;
    }
    if (!returnExceptions) {
      if (child.cancelled()) {
        outer.setException(child._makeCancelledError());
        return;
      }
      const exc = child.exception();
      if (exc !== undefined) {
        outer.setException(exc);
        return;
      }
    }
    results[i] = child.cancelled()
      ? child._makeCancelledError()
      : child.exception() ?? child.result();
    if (pending === 0) {
      // A child may have swallowed the cancel: the gather was still cancelled (asyncio).
      if (outer._cancelRequested) outer.setException(new CancelledError(outer._cancelMessage ?? ""));
      else outer.setResult(results as GatherResults<A>);
    }
  };
  children.forEach((c, i) => c.addDoneCallback((f) => onChildDone(f, i)));
  return outer;
}

function isThenable(x: unknown): boolean {
  return x !== null && typeof x === "object" && typeof (x as PromiseLike<unknown>).then === "function";
}

function loopOf(a: unknown): BaseEventLoop | undefined {
  return a instanceof Future ? a._loop : undefined;
}

/** Options of waitFor(). */
export interface WaitForOptions {
  /**
   * Aborting it cancels `aw` as the timeout would, and waitFor fails with CancelledError whose
   * `cause` is the signal's reason (loop/core/abort.ts); already aborted: it fails at once.
   */
  signal?: AbortSignal;
}

/**
 * Wait for `aw` at most `timeout` seconds (asyncio.wait_for): on timeout it is cancelled, its
 * cancellation awaited, and TimeoutError is thrown. `timeout` null waits forever; 0 or less
 * returns a done future's result and otherwise cancels at once.
 *
 * As in asyncio 3.12 (built on timeouts), a coroutine function runs inside the calling task,
 * not in a task of its own, and the timeout cancels the calling task: so cancelling the caller
 * right after it started can never drop the coroutine before its first step. A coroutine
 * function that declares a parameter is given the calling task's AbortSignal (Task.signal):
 * `waitFor((signal) => fetch(url, { signal }), 5)` stops the fetch on timeout, where a plain
 * `await` of a host Promise would hold the timeout until that Promise settles. Outside a task
 * (a Promise-backed caller) `aw` is wrapped in a task and that task is cancelled instead.
 */
export async function waitFor<T>(
  aw: Awaitable<T>,
  timeout: number | null,
  options: WaitForOptions = {},
): Promise<T> {
  if (timeout !== null && typeof timeout !== "number") {
    throw new TypeError(`waitFor() timeout must be a number of seconds or null, got ${describe(timeout)}`);
  }
  if (Number.isNaN(timeout)) throw new ValueError("waitFor() timeout must not be NaN");
  const signal = checkSignal(options?.signal, "waitFor()");
  const loop = getRunningLoop();
  if (signal?.aborted) {
    if (aw instanceof Future) aw.cancel();
    throw abortedError(signal);
  }
  if (timeout !== null && timeout <= 0) {
    const inner = loop._ensureFuture(aw);
    if (inner.done()) return inner.result();
    inner.cancel();
    await waitDone(inner);
    try {
      return inner.result();
    } catch (e) {
      if (e instanceof CancelledError) throw timeoutError(timeout, e);
      throw e;
    }
  }
  const task = currentTask(loop);
  if (task === undefined) return await waitOutsideTask(loop, loop._ensureFuture(aw), timeout, signal);
  const running = typeof aw === "function"
    ? (aw.length === 0 ? (aw as () => PromiseLike<T>)() : aw(task.signal))
    : aw instanceof Future
    ? aw
    : loop._ensureFuture(aw);
  if (timeout === null && signal === undefined) return await running;
  // asyncio.timeout: on expiry (or abort) cancel this task; a CancelledError that is that
  // cancellation (no other cancel() came meanwhile) becomes TimeoutError (or the abort's error).
  const cancelling = task.cancelling();
  let fired: "timeout" | "abort" | undefined;
  const timer = timeout === null ? undefined : loop.callLater(timeout, () => {
    fired ??= "timeout";
    task.cancel();
  });
  const onAbort = () => {
    if (fired !== undefined) return;
    fired = "abort";
    task.cancel();
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    return await running;
  } catch (e) {
    if (fired !== undefined) {
      const why = fired;
      fired = undefined;
      if (task.uncancel() <= cancelling && e instanceof CancelledError) {
        throw why === "abort" ? abortedError(signal!) : timeoutError(timeout!, e);
      }
    }
    throw e;
  } finally {
    timer?.cancel();
    signal?.removeEventListener("abort", onAbort);
    if (fired !== undefined) task.uncancel(); // fired, but the coroutine swallowed the cancel and returned
  }
}

/** waitFor() where no task is running: the timeout (or the signal) cancels `inner` itself. */
async function waitOutsideTask<T>(
  loop: BaseEventLoop,
  inner: Future<T>,
  timeout: number | null,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (signal !== undefined) cancelOnAbort(inner, signal);
  if (timeout === null) {
    try {
      return await inner;
    } catch (e) {
      if (signal?.aborted && e instanceof CancelledError && inner.cancelled()) throw abortedError(signal);
      throw e;
    }
  }
  let timedOut = false;
  const timer = loop.callLater(timeout, () => {
    timedOut = !signal?.aborted;
    inner.cancel();
  });
  try {
    return await inner;
  } catch (e) {
    if (e instanceof CancelledError && inner.cancelled()) {
      if (timedOut) throw timeoutError(timeout, e);
      if (signal?.aborted) throw abortedError(signal);
    }
    throw e;
  } finally {
    timer.cancel();
  }
}

function timeoutError(timeout: number, cause: unknown): TimeoutError {
  return new TimeoutError(`waitFor() timed out after ${timeout} seconds`, { cause });
}

/** Wait until `fut` is done, whatever its outcome, without retrieving it. */
function waitDone(fut: Future<unknown>): Future<void> {
  const done = fut._loop.createFuture<void>();
  fut.addDoneCallback(() => done.setResult());
  return done;
}

/** The tasks of `loop` (default: the running loop) that are not done (asyncio.all_tasks). */
export function allTasks(loop: BaseEventLoop = getRunningLoop()): Set<Task<unknown>> {
  return new Set(loop._liveTasks());
}
