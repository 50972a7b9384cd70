/**
 * Future: a result that will be set later (asyncio.Future), awaitable from async functions.
 *
 * Done-callbacks always run through the loop (callSoon), never inside setResult().
 */
import type { AbstractEventLoop, AbstractFuture } from "./abstract_loop.ts";
import { CancelledError, InvalidStateError } from "./errors.ts";
import { checkNotCoroutine } from "./handles.ts";
import { currentEventLoop } from "./running.ts";
import { type AwaitingTask, taskContext } from "./task_context.ts";

const PENDING = 0, FINISHED = 1, CANCELLED = 2;
const stateNames = ["PENDING", "FINISHED", "CANCELLED"];

/** A callback for addDoneCallback: called with the Future once it is done. */
export type DoneCallback<T> = (future: Future<T>) => unknown;

/**
 * Report futures whose exception nobody retrieved, when they are collected (asyncio's
 * Future.__del__, in every mode). The held value must not reference the future, or it would
 * never be collected: so the context has no `future`/`task`, but `repr`, the future's
 * toString() as it was when it failed.
 */
const unretrieved = new FinalizationRegistry<
  { loop: AbstractEventLoop; exception: unknown; kind: string; label: string }
>(({ loop, exception, kind, label }) => {
  if (loop.isClosed()) return;
  loop.callExceptionHandler({
    message: `${kind} exception was never retrieved`,
    exception,
    repr: `<${label} finished exception=${formatValue(exception)}>`,
  });
});

/** What was passed where a loop was expected, for the TypeError. */
function describeLoop(x: unknown): string {
  if (x === null || typeof x !== "object") return typeof x === "string" ? JSON.stringify(x) : String(x);
  return x.constructor?.name ?? "object";
}

/** A value or exception, short, for toString(): `"text"`, `42`, `ValueError: msg`, `Map`. */
function formatValue(x: unknown): string {
  let text: string;
  if (x instanceof Error) text = `${x.name}: ${x.message}`;
  else if (typeof x === "string") text = JSON.stringify(x);
  else if (x !== null && typeof x === "object") {
    text = Array.isArray(x) ? `[${x.map(formatValue).join(", ")}]` : x.constructor?.name ?? "Object";
  } else text = String(x);
  return text.length > 80 ? text.slice(0, 77) + "..." : text;
}

// deno-lint-ignore no-explicit-any
type DoneFn = (future: any) => unknown;
/** A done callback, or then()'s record, which stands in the list itself (no closure per await). */
type DoneEntry = DoneFn | ThenRecord;

/** A placeholder for a value that arrives later (asyncio.Future). */
export class Future<T = unknown> implements AbstractFuture<T> {
  /** @ignore */ _state = PENDING;
  /** @ignore */ _result: T | undefined;
  /** @ignore */ _exception: unknown;
  /** @ignore */ _cancelMessage: string | undefined;
  /**
   * @ignore The done callbacks: none, the one (most futures get one: an array would be 56
   * more bytes for as long as the future waits, e.g. an idle stream's), or an array of them.
   */
  _callbacks: DoneEntry | DoneEntry[] | undefined = undefined;
  /** @ignore */ _loop: AbstractEventLoop;
  private _registeredUnretrieved = false;

  /**
   * A pending Future bound to `loop` (prefer loop.createFuture()); without one, to what
   * getEventLoop() gives, as asyncio's Future(): RuntimeError if there is no current loop.
   * TypeError if `loop` is not an event loop.
   */
  constructor(loop?: AbstractEventLoop) {
    if (loop === undefined) loop = currentEventLoop();
    else if (loop === null || typeof (loop as Partial<AbstractEventLoop>).callSoon !== "function") {
      throw new TypeError(`a Future needs an event loop, got ${describeLoop(loop)}`);
    }
    this._loop = loop;
  }

  /** The loop this future is bound to (asyncio get_loop). */
  getLoop(): AbstractEventLoop {
    return this._loop;
  }

  /** True once a result, an exception or a cancellation is set (asyncio done). */
  done(): boolean {
    return this._state !== PENDING;
  }

  /** True if the future was cancelled (asyncio cancelled). */
  cancelled(): boolean {
    return this._state === CANCELLED;
  }

  /**
   * The result (asyncio result). Throws CancelledError if cancelled, InvalidStateError if not
   * done yet, or the exception that was set.
   */
  result(): T {
    if (this._state === CANCELLED) throw this._makeCancelledError();
    if (this._state !== FINISHED) throw new InvalidStateError("Result is not ready.");
    this._markRetrieved();
    if (this._exception !== undefined) throw this._exception;
    return this._result as T;
  }

  /**
   * The exception set on the future, or undefined (asyncio exception). Throws CancelledError if
   * cancelled, InvalidStateError if not done yet.
   */
  exception(): unknown {
    if (this._state === CANCELLED) throw this._makeCancelledError();
    if (this._state !== FINISHED) throw new InvalidStateError("Exception is not set.");
    this._markRetrieved();
    return this._exception;
  }

  /** Mark done with `result` (asyncio set_result). InvalidStateError if already done. */
  setResult(result: T): void {
    if (this._state !== PENDING) {
      throw new InvalidStateError(`invalid state: future is ${stateNames[this._state]}`);
    }
    this._result = result;
    this._state = FINISHED;
    this._scheduleCallbacks();
  }

  /** Mark done with `exception` (asyncio set_exception). InvalidStateError if already done. */
  setException(exception: unknown): void {
    if (this._state !== PENDING) {
      throw new InvalidStateError(`invalid state: future is ${stateNames[this._state]}`);
    }
    if (exception === undefined || exception === null) {
      throw new TypeError("setException() needs an exception, got " + exception);
    }
    this._exception = exception;
    this._state = FINISHED;
    this._registeredUnretrieved = true;
    const kind = this.constructor.name;
    unretrieved.register(this, { loop: this._loop, exception, kind, label: this._label() }, this);
    this._scheduleCallbacks();
  }

  /**
   * Cancel the future and schedule its callbacks (asyncio cancel). Returns false if it was
   * already done. `msg` becomes the CancelledError's message. As in asyncio, calling it counts
   * as looking after an exception the future holds: that is not reported as never retrieved.
   */
  cancel(msg?: string): boolean {
    this._markRetrieved();
    if (this._state !== PENDING) return false;
    this._state = CANCELLED;
    this._cancelMessage = msg;
    this._scheduleCallbacks();
    return true;
  }

  /**
   * Run `fn(future)` through the loop once the future is done (asyncio add_done_callback);
   * scheduled at once if it is already done.
   */
  addDoneCallback(fn: DoneCallback<T>): void {
    if (typeof fn !== "function") throw new TypeError("addDoneCallback() needs a function");
    // Refused here, not when the future completes (inside setResult, or a task's end).
    checkNotCoroutine(fn, "addDoneCallback");
    if (this._state !== PENDING) this._loop._callSoonPrechecked(fn, this);
    else this._addCallback(fn);
  }

  /** Add `entry` to the done callbacks of this pending future. */
  private _addCallback(entry: DoneEntry): void {
    const callbacks = this._callbacks;
    if (callbacks === undefined) this._callbacks = entry;
    else if (Array.isArray(callbacks)) callbacks.push(entry);
    else this._callbacks = [callbacks, entry];
  }

  /**
   * Remove every registration of `fn`; returns how many were removed (asyncio
   * remove_done_callback).
   */
  removeDoneCallback(fn: DoneCallback<T>): number {
    const callbacks = this._callbacks;
    if (callbacks === undefined) return 0;
    if (!Array.isArray(callbacks)) {
      if (callbacks !== fn) return 0;
      this._callbacks = undefined;
      return 1;
    }
    const rest = callbacks.filter((f) => f !== fn);
    this._callbacks = rest.length > 0 ? rest : undefined;
    return callbacks.length - rest.length;
  }

  /**
   * Makes the future awaitable. Inside a Task, awaiting records this future as the one the task
   * waits on, so Task.cancel() can cancel it and raise CancelledError at the await.
   *
   * On a pending future the handlers run from a done-callback, so through the loop, and settle
   * the returned Promise right there: an `await fut` resumes in the microtasks that follow that
   * loop callback, and the loop lets a task's coroutine run before its next callback. On a done
   * future they run in a microtask, with no loop iteration, as asyncio's `await` of a done
   * future does not suspend (so a pending cancel() is not delivered there either). Never inside
   * then() itself.
   */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    if (this._state !== PENDING) return this._outcome().then(onFulfilled, onRejected);
    const task = taskContext.getStore();
    let waiter: AwaitingTask | undefined;
    if (task !== undefined) {
      try {
        if (task._awaiting(this)) waiter = task;
      } catch (e) {
        return Promise.reject(e).then(onFulfilled, onRejected);
      }
    }
    // One record per await, kept in the done callbacks itself: an idle connection's handler
    // parks here, so what is kept per await is what an idle connection costs
    // (bench/memory_await.ts).
    const out = Promise.withResolvers<R1 | R2>();
    const rec = { future: this, onFulfilled, onRejected, task, waiter, resolve: out.resolve, reject: out.reject };
    if (this._state === PENDING) this._addCallback(rec);
    else {
      // _awaiting() delivered a cancel() requested before the await: this future is cancelled.
      try {
        this._scheduleCallback(rec);
      } catch (e) {
        return Promise.reject(e).then(onFulfilled, onRejected); // the loop is closed
      }
    }
    return out.promise;
  }

  /** The outcome of this done future as a settled Promise (retrieving its exception). */
  private _outcome(): Promise<T> {
    if (this._state === CANCELLED) return Promise.reject(this._makeCancelledError());
    if (this._exception !== undefined) {
      this._markRetrieved();
      return Promise.reject(this._exception);
    }
    return Promise.resolve(this._result as T);
  }

  /** Like Promise.catch. */
  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.then(undefined, onRejected);
  }

  /** Like Promise.finally. */
  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.then().finally(onFinally);
  }

  /**
   * `<Future pending>`, `<Future finished result=42>`, `<Future finished
   * exception=ValueError: msg>`, `<Future cancelled>`, for logs (asyncio's repr).
   */
  toString(): string {
    // join() makes one flat string; a template literal's result is a tree of string pieces,
    // ~250 bytes in all where the flat one is ~70, and a pending task's repr is kept for the
    // task's whole life (loop/core/task_registry.ts).
    return ["<", this._label(), " ", this._reprInfo().join(" "), ">"].join("");
  }

  /** @ignore What toString() names the future by: its class (a Task adds its name). */
  _label(): string {
    return this.constructor.name;
  }

  /** @ignore toString()'s words after the label: the state, then the result or exception. */
  _reprInfo(): string[] {
    const info = [this._stateName()];
    if (this._state === FINISHED) {
      info.push(
        this._exception !== undefined
          ? `exception=${formatValue(this._exception)}`
          : `result=${formatValue(this._result)}`,
      );
    }
    return info;
  }

  /** @ignore "pending", "finished" or "cancelled". */
  _stateName(): string {
    return stateNames[this._state]!.toLowerCase(); // _state is always one of the three
  }

  /** @ignore */
  _makeCancelledError(): CancelledError {
    return new CancelledError(this._cancelMessage ?? "");
  }

  /** @ignore */
  _markRetrieved(): void {
    if (this._registeredUnretrieved) {
      this._registeredUnretrieved = false;
      unretrieved.unregister(this);
    }
  }

  /** Schedule every done callback on the loop with callSoon, in the order added. */
  private _scheduleCallbacks(): void {
    const callbacks = this._callbacks;
    if (callbacks === undefined) return;
    this._callbacks = undefined;
    if (!Array.isArray(callbacks)) this._scheduleCallback(callbacks);
    else for (const entry of callbacks) this._scheduleCallback(entry);
  }

  /** Schedule one done callback, or settle one then() record, through the loop. */
  private _scheduleCallback(entry: DoneEntry): void {
    if (typeof entry === "function") this._loop._callSoonPrechecked(entry, this);
    else this._loop._callSoonPrechecked(settleThen, entry);
  }
}

/** What a pending Future's then() keeps until the future is done. */
interface ThenRecord {
  // deno-lint-ignore no-explicit-any
  future: Future<any>;
  // deno-lint-ignore no-explicit-any
  onFulfilled: ((value: any) => unknown) | null | undefined;
  onRejected: ((reason: unknown) => unknown) | null | undefined;
  /** The task whose coroutine called then() (its handlers run in its context), if any. */
  task: AwaitingTask | undefined;
  /** That task, if it is awaiting the future (Task.cancel() interrupts the await). */
  waiter: AwaitingTask | undefined;
  resolve: (value: never) => void;
  reject: (reason: unknown) => void;
}

/** `rec.future`, awaited through then(), is done: settle then()'s Promise through the handlers. */
function settleThen(rec: ThenRecord): void {
  const f = rec.future;
  const interrupt = rec.waiter?._wakeup(f);
  let ok: boolean, value: unknown;
  if (interrupt !== undefined) {
    f._markRetrieved(); // asyncio's __wakeup reads the result before throwing the cancel in
    ok = false;
    value = interrupt;
  } else if (f._state === CANCELLED) {
    ok = false;
    value = f._makeCancelledError();
  } else if (f._exception !== undefined) {
    f._markRetrieved();
    ok = false;
    value = f._exception;
  } else {
    ok = true;
    value = f._result;
  }
  const handler = ok ? rec.onFulfilled : rec.onRejected;
  if (typeof handler !== "function") {
    if (ok) rec.resolve(value as never);
    else rec.reject(value);
    return;
  }
  try {
    // A handler runs in the context of the code that called then(), as a Promise's would.
    rec.resolve(
      (rec.task === undefined ? handler(value) : taskContext.run(rec.task, handler, value)) as never,
    );
  } catch (e) {
    rec.reject(e);
  }
}

/** True if `x` is an aioloop Future (or Task). */
export function isFuture(x: unknown): x is Future<unknown> {
  return x instanceof Future;
}
