/**
 * asyncio's ways of waiting on several things at once (asyncio.tasks): shield, wait,
 * asCompleted, and the module-level createTask.
 *
 * wait() takes Futures and Tasks only, as asyncio 3.12 refuses coroutines (what it returns must
 * be the caller's own objects). asCompleted() also accepts Promises and coroutine functions and
 * wraps them in Tasks; it can be iterated (each item a Promise to await, asyncio 3.12) or
 * iterated with `for await` (each item a result, in completion order).
 */
import { type KeysOf, refuseUnknownOptions } from "../core/options.ts";
import { type Awaitable, type BaseEventLoop, baseEventLoopOf, type CreateTaskOptions } from "../base_loop.ts";
import { describe } from "../core/describe.ts";
import { TimeoutError, ValueError } from "../core/errors.ts";
import { getEventLoop, getRunningLoop } from "../events.ts";
import { Future } from "../core/futures.ts";
import type { Coroutine, Task } from "../core/tasks.ts";

/** wait() returns when any awaitable finishes or is cancelled. */
export const FIRST_COMPLETED = "FIRST_COMPLETED";
/** wait() returns when any awaitable fails, or when all are done. */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
/** wait() returns when all awaitables are done (the default). */
export const ALL_COMPLETED = "ALL_COMPLETED";

/** When wait() returns: FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED. */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

/** Options of wait(). */
export interface WaitOptions {
  /** Return after this many seconds even if the condition is not met (null: no limit). */
  timeout?: number | null | undefined;
  /** When to return (default ALL_COMPLETED). */
  returnWhen?: ReturnWhen | undefined;
}

/** @ignore The keys of WaitOptions, for refuseUnknownOptions(). */
export const WAIT_OPTION_KEYS: KeysOf<WaitOptions> = {
  timeout: true, returnWhen: true,
};

/** Options of asCompleted(). */
export interface AsCompletedOptions {
  /** Seconds after which awaiting the next item throws TimeoutError (null: no limit). */
  timeout?: number | null | undefined;
}

/** @ignore The keys of AsCompletedOptions, for refuseUnknownOptions(). */
export const AS_COMPLETED_OPTION_KEYS: KeysOf<AsCompletedOptions> = {
  timeout: true,
};

/**
 * Create a Task on the running loop (asyncio.create_task); RuntimeError if none is running.
 */
export function createTask<T>(coro: Coroutine<T>, options: CreateTaskOptions = {}): Task<T> {
  return getRunningLoop().createTask(coro, options);
}

/**
 * Protect `aw` from cancellation (asyncio.shield): returns a Future that follows it. Cancelling
 * that Future (or the task awaiting it) leaves `aw` running; if `aw` itself is cancelled, so is
 * the returned Future. A Promise or coroutine function is first wrapped in a Task; a Future
 * already done is returned as it is.
 */
export function shield<T>(aw: Awaitable<T>): Future<T> {
  const loop = aw instanceof Future ? baseEventLoopOf(aw._loop) : getEventLoop();
  const inner = loop._ensureFuture(aw);
  if (inner.done()) return inner;
  const outer = loop.createFuture<T>();
  const onInnerDone = (f: Future<T>) => {
    if (outer.cancelled()) {
      if (!f.cancelled()) f.exception(); // retrieved: nobody else will look
      return;
    }
    if (f.cancelled()) outer.cancel();
    else {
      const exc = f.exception();
      if (exc !== undefined) outer.setException(exc);
      else outer.setResult(f.result());
    }
  };
  inner.addDoneCallback(onInnerDone);
  outer.addDoneCallback(() => {
    if (!inner.done()) inner.removeDoneCallback(onInnerDone);
  });
  return outer;
}

function checkTimeout(timeout: unknown, fn: string): asserts timeout is number | null | undefined {
  if (timeout !== null && timeout !== undefined && typeof timeout !== "number") {
    throw new TypeError(`${fn}() timeout must be a number of seconds or null, got ${describe(timeout)}`);
  }
  if (Number.isNaN(timeout)) throw new ValueError(`${fn}() timeout must not be NaN`);
}

function checkIterable(x: unknown, fn: string): asserts x is Iterable<unknown> {
  if (x instanceof Future || typeof x === "function" || typeof (x as PromiseLike<unknown>)?.then === "function") {
    throw new TypeError(`${fn}() expects an iterable of futures, not ${describe(x)}`);
  }
  if (x === null || x === undefined || typeof (x as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw new TypeError(`${fn}() expects an iterable of futures, not ${describe(x)}`);
  }
}

/**
 * Wait for Futures and Tasks (asyncio.wait) until `returnWhen` holds or `timeout` seconds have
 * passed; resolves to `[done, pending]`, two Sets of the given futures. It never throws their
 * exceptions and never cancels them. Rejects with TypeError for a Promise or coroutine function
 * (wrap it with createTask), ValueError for an empty list or an unknown `returnWhen`.
 */
export async function wait<T>(
  fs: Iterable<Future<T>>,
  options: WaitOptions = {},
): Promise<[Set<Future<T>>, Set<Future<T>>]> {
  refuseUnknownOptions(options, WAIT_OPTION_KEYS, "wait()");
  checkIterable(fs, "wait");
  const { timeout = null, returnWhen = ALL_COMPLETED } = options;
  checkTimeout(timeout, "wait");
  if (returnWhen !== FIRST_COMPLETED && returnWhen !== FIRST_EXCEPTION && returnWhen !== ALL_COMPLETED) {
    throw new ValueError(`Invalid returnWhen value: ${describe(returnWhen)}`);
  }
  const set = new Set(fs);
  if (set.size === 0) throw new ValueError("Set of Tasks/Futures is empty.");
  for (const f of set) {
    if (!(f instanceof Future)) {
      throw new TypeError(
        `wait() takes Futures and Tasks, got ${describe(f)}; wrap a coroutine with createTask()`,
      );
    }
  }
  const loop = getRunningLoop();
  for (const f of set) {
    if (f._loop !== loop) throw new ValueError(`${f} belongs to another loop than the running one`);
  }
  return await waitFutures(loop, set, timeout, returnWhen);
}

async function waitFutures<T>(
  loop: BaseEventLoop,
  fs: Set<Future<T>>,
  timeout: number | null,
  returnWhen: ReturnWhen,
): Promise<[Set<Future<T>>, Set<Future<T>>]> {
  const waiter = loop.createFuture<void>();
  const release = () => {
    if (!waiter.done()) waiter.setResult();
  };
  const timer = timeout === null ? null : loop.callLater(timeout, release);
  let counter = fs.size;
  const onCompletion = (f: Future<T>) => {
    counter--;
    if (
      counter <= 0 || returnWhen === FIRST_COMPLETED ||
      (returnWhen === FIRST_EXCEPTION && !f.cancelled() && f.exception() !== undefined)
    ) {
      timer?.cancel();
      release();
    }
  };
  for (const f of fs) f.addDoneCallback(onCompletion);
  try {
    await waiter;
  } finally {
    timer?.cancel();
    for (const f of fs) f.removeDoneCallback(onCompletion);
  }
  const done = new Set<Future<T>>(), pending = new Set<Future<T>>();
  for (const f of fs) (f.done() ? done : pending).add(f);
  return [done, pending];
}

/**
 * One item of asCompleted()'s iterator: a Promise-like that claims the next finished result
 * only when first awaited (or then/catch/finally is called), as asyncio's `_wait_for_one`
 * coroutines do; so whichever item is awaited first gets the first result.
 */
class NextResult<T> implements Promise<T> {
  private _promise: Promise<T> | undefined;
  readonly [Symbol.toStringTag] = "Promise";

  constructor(private readonly _claim: () => Promise<T>) {}

  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this._promise ??= this._claim();
    return this._promise.then(onFulfilled, onRejected);
  }

  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.then(undefined, onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<T> {
    this._promise ??= this._claim();
    return this._promise.finally(onFinally);
  }
}

/**
 * What asCompleted() returns: iterate it for one Promise per awaitable; the first one awaited
 * settles with the first result (or exception) to finish, the next one awaited with the next,
 * whatever their order in the iteration (asyncio 3.12); or iterate it with `for await` for the
 * results in that order, the first exception (or TimeoutError) ending the loop. (asyncio 3.13's
 * `async for` yields the finished futures instead; TypeScript types a Future yielded by an
 * async iterator as its result, so the results are what it yields here.)
 */
export interface AsCompleted<T> extends Iterable<Promise<T>>, AsyncIterable<T> {}

/**
 * Results in the order the awaitables finish (asyncio.as_completed). Promises and coroutine
 * functions are wrapped in Tasks of the running loop (else of getEventLoop()). With a
 * `timeout`, once it passes each item not yet finished throws TimeoutError. TypeError for a
 * single Future or Promise instead of an iterable of them.
 *
 * Unlike asyncio 3.12's generator, the awaitables are gathered and watched at the call, not at
 * the first step of the iteration.
 */
export function asCompleted<T>(aws: Iterable<Awaitable<T>>, options: AsCompletedOptions = {}): AsCompleted<T> {
  refuseUnknownOptions(options, AS_COMPLETED_OPTION_KEYS, "asCompleted()");
  checkIterable(aws, "asCompleted");
  const timeout = options.timeout ?? null;
  checkTimeout(timeout, "asCompleted");
  let loop: BaseEventLoop | undefined;
  const given = [...new Set(aws)];
  for (const a of given) if (a instanceof Future) loop ??= baseEventLoopOf(a._loop);
  loop ??= getEventLoop();
  const todo = new Set(given.map((a) => loop._ensureFuture(a)));
  const finished: (Future<T> | null)[] = []; // null: the timeout passed
  const getters: Future<void>[] = [];
  const wakeOne = () => {
    for (let g = getters.shift(); g !== undefined; g = getters.shift()) {
      if (!g.done()) return g.setResult();
    }
  };
  const push = (item: Future<T> | null) => {
    finished.push(item);
    wakeOne();
  };
  let timer: { cancel(): void } | null = null;
  const onCompletion = (f: Future<T>) => {
    if (!todo.delete(f)) return; // the timeout came first
    push(f);
    if (todo.size === 0) timer?.cancel();
  };
  for (const f of todo) f.addDoneCallback(onCompletion);
  if (todo.size > 0 && timeout !== null) {
    timer = loop.callLater(timeout, () => {
      for (const f of todo) {
        f.removeDoneCallback(onCompletion);
        push(null);
      }
      todo.clear();
    });
  }
  // Resolves to a box: a Promise resolved with a Future itself would adopt its outcome.
  const next = async (): Promise<{ future: Future<T> }> => {
    while (finished.length === 0) {
      const g = loop.createFuture<void>();
      getters.push(g);
      try {
        await g;
      } catch (e) {
        const i = getters.indexOf(g);
        if (i >= 0) getters.splice(i, 1);
        else if (finished.length > 0) wakeOne(); // woken but cancelled: pass the wake-up on
        throw e;
      }
    }
    const future = finished.shift()!;
    if (future === null) throw new TimeoutError("asCompleted() timed out");
    return { future };
  };
  const total = todo.size;
  let iterated = 0;
  return {
    *[Symbol.iterator](): Iterator<Promise<T>> {
      for (; iterated < total; iterated++) yield new NextResult(() => next().then(({ future }) => future.result()));
    },
    async *[Symbol.asyncIterator](): AsyncIterator<T> {
      for (; iterated < total; iterated++) yield (await next()).future.result();
    },
  };
}
