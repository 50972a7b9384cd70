/**
 * asyncio's module-level coroutine helpers: sleep, ensureFuture, gather, waitFor, and the
 * task queries allTasks/currentTask.
 */
import type { Awaitable, BaseEventLoop } from "./base_loop.ts";
import { CancelledError, TimeoutError, ValueError } from "./errors.ts";
import { getEventLoop, getRunningLoop } from "./events.ts";
import type { Future } from "./futures.ts";
import type { Task } from "./tasks.ts";

function setResultUnlessCancelled<T>(fut: Future<T>, result: T): void {
  if (!fut.done()) fut.setResult(result);
}

/**
 * Wait `seconds` on the running loop, then return `result` (asyncio.sleep). `sleep(0)` yields
 * to the loop for one iteration.
 */
export async function sleep<T = undefined>(seconds: number, result?: T): Promise<T> {
  if (typeof seconds !== "number" || Number.isNaN(seconds)) {
    throw new TypeError(`sleep() needs a number of seconds, got ${String(seconds)}`);
  }
  const loop = getRunningLoop();
  const fut = loop.createFuture<T>();
  const handle = seconds <= 0
    ? loop.callSoon(setResultUnlessCancelled, fut, result as T)
    : loop.callLater(seconds, setResultUnlessCancelled, fut, result as T);
  try {
    return await fut;
  } finally {
    handle.cancel();
  }
}

/** Options naming the loop to use instead of the current one. */
export interface LoopOption {
  loop?: BaseEventLoop;
}

/**
 * A Future for `x` (asyncio.ensure_future): a Future is returned as is, a Promise or a
 * coroutine function is wrapped in a Task.
 */
export function ensureFuture<T>(x: Awaitable<T>, options: LoopOption = {}): Future<T> {
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

type Results<A extends readonly unknown[]> = { -readonly [K in keyof A]: A[K] extends Awaitable<infer R> ? R : never };

/**
 * Run awaitables concurrently and collect their results in order (asyncio.gather). Cancelling
 * the returned future cancels every child. Pass options as the last argument.
 */
export function gather<A extends Awaitable<unknown>[]>(
  ...args: [...A] | [...A, GatherOptions]
): Future<Results<A>> {
  let options: GatherOptions = {};
  const last = args[args.length - 1];
  if (last !== undefined && typeof last === "object" && !("then" in last)) {
    options = args.pop() as GatherOptions;
  }
  const awaitables = args as Awaitable<unknown>[];
  const loop = getEventLoop();
  const children = awaitables.map((a) => ensureFuture(a, { loop: loopOf(a) ?? loop }));
  const outer = (children[0]?._loop ?? loop).createFuture<Results<A>>();
  const results: unknown[] = new Array(children.length);
  let pending = children.length;
  if (pending === 0) {
    outer.setResult(results as Results<A>);
    return outer;
  }
  const cancelOuter = outer.cancel.bind(outer);
  const onChildDone = (child: Future<unknown>) => {
    const i = children.indexOf(child);
    if (outer.done()) {
      if (!child.cancelled()) child.exception(); // mark retrieved
      return;
    }
    if (!options.returnExceptions) {
      if (child.cancelled()) {
        cancelOuter(child._cancelMessage);
        return;
      }
      const exc = child.exception();
      if (exc !== undefined) {
        outer.setException(exc);
        return;
      }
    }
    results[i] = child.cancelled()
      ? new CancelledError()
      : child.exception() ?? child.result();
    if (--pending === 0) outer.setResult(results as Results<A>);
  };
  for (const c of children) c.addDoneCallback(onChildDone);
  outer.cancel = (msg?: string) => {
    if (outer.done()) return false;
    let any = false;
    for (const c of children) if (c.cancel(msg)) any = true;
    return any || cancelOuter(msg);
  };
  return outer;
}

function loopOf(a: unknown): BaseEventLoop | undefined {
  return typeof a === "object" && a !== null && "_loop" in a
    ? (a as Future<unknown>)._loop
    : undefined;
}

/**
 * Wait for `aw` at most `timeout` seconds (asyncio.wait_for): on timeout it is cancelled and
 * TimeoutError is thrown. `timeout` null waits forever.
 */
export async function waitFor<T>(aw: Awaitable<T>, timeout: number | null): Promise<T> {
  if (timeout !== null && (typeof timeout !== "number" || Number.isNaN(timeout))) {
    throw new ValueError(`waitFor() timeout must be a number of seconds or null, got ${timeout}`);
  }
  const loop = getRunningLoop();
  const inner = loop._ensureFuture(aw);
  if (timeout === null) return await inner;
  if (timeout <= 0 && inner.done()) return inner.result();
  let timedOut = false;
  const timer = loop.callLater(Math.max(0, timeout), () => {
    timedOut = true;
    inner.cancel();
  });
  try {
    return await inner;
  } catch (e) {
    if (timedOut && e instanceof CancelledError) {
      throw new TimeoutError(`waitFor() timed out after ${timeout} seconds`);
    }
    throw e;
  } finally {
    timer.cancel();
  }
}

/** The tasks of `loop` (default: the running loop) that are not done (asyncio.all_tasks). */
export function allTasks(loop: BaseEventLoop = getRunningLoop()): Set<Task<unknown>> {
  return new Set(loop._liveTasks());
}
