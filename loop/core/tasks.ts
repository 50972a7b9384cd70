/**
 * Task: runs a coroutine (an async function) on the loop and is the Future of its outcome
 * (asyncio.Task).
 *
 * A coroutine function starts inside the task's first step, scheduled with callSoon, as asyncio
 * starts a coroutine only when its task first steps. Cancellation follows asyncio: cancel()
 * cancels the Future the coroutine is awaiting, so CancelledError is raised at that await and
 * `try/finally` blocks run; if the coroutine is awaiting something else (a plain Promise), the
 * cancellation is delivered at its next await of a Future, or when it finishes.
 */
import type { BaseEventLoop } from "../base_loop.ts";
import { CancelledError, InvalidStateError, RuntimeError } from "./errors.ts";
import { Future } from "./futures.ts";
import { getRunningLoopOrNull } from "./running.ts";
import { taskContext } from "./task_context.ts";
import type { TaskEntry } from "./task_registry.ts";

/**
 * What a Task runs: a coroutine function (started by the task) or a started Promise. A function
 * that declares a parameter is given the task's AbortSignal (Task.signal) as its argument.
 */
export type Coroutine<T> = ((signal: AbortSignal) => PromiseLike<T>) | PromiseLike<T>;

let taskCounter = 0;

// Kept beside the task, not in fields: tasks are hot (bench/loop_micro.ts create_task) and
// few ever need these. A task's AbortController, made on first use of `signal`:
const abortControllers = new WeakMap<Task<unknown>, AbortController>();
// The CancelledError a task's coroutine ended with, handed out once (asyncio _cancelled_exc):
const cancelledExcs = new WeakMap<Task<unknown>, CancelledError>();

/** A coroutine scheduled on the loop; also the Future of its result (asyncio.Task). */
export class Task<T = unknown> extends Future<T> {
  private _name: string;
  private _coro: Coroutine<T> | undefined;
  /** The coroutine function's name, for toString() (empty for an anonymous one or a Promise). */
  private readonly _coroName: string;
  private _waitingOn: Future<unknown> | undefined;
  private _mustCancel = false;
  private _cancelRequests = 0;
  private readonly _promiseBacked: boolean;
  /** @internal The loop's weak entry for this task, once it has one (loop/core/task_registry.ts). */
  _registryEntry: TaskEntry | undefined = undefined;

  /**
   * A task running `coro` on `loop` (prefer loop.createTask()). TypeError if `coro` is neither a
   * function nor a Promise; RuntimeError if the loop is closed.
   */
  constructor(coro: Coroutine<T>, loop: BaseEventLoop, name?: string) {
    super(loop);
    if (typeof coro !== "function" && !isPromiseLike(coro)) {
      throw new TypeError(
        "a Task needs a coroutine function (() => Promise) or a Promise, got " + typeof coro,
      );
    }
    this._name = name == null ? `Task-${++taskCounter}` : String(name);
    this._coro = coro;
    this._coroName = typeof coro === "function" ? coro.name : "";
    this._promiseBacked = typeof coro !== "function";
    // The Promise is observed from the first step on; until then a rejection must not count as
    // unhandled (the host would report it, or end the process).
    if (coro instanceof Promise) coro.catch(ignore);
    loop._callSoonPrechecked(startTask, this); // first: it throws if the loop is closed
    loop._taskStarted(this);
  }

  /** The task's name (asyncio get_name). */
  getName(): string {
    return this._name;
  }

  /** Rename the task (asyncio set_name). */
  setName(name: string): void {
    this._name = String(name);
    if (this._registryEntry !== undefined) this._registryEntry.repr = String(this);
  }

  /**
   * An AbortSignal that aborts when this task is cancelled, its reason the CancelledError: pass
   * it to a host API (`fetch(url, { signal })`, a timer, a Web stream) so that cancelling the
   * task, or a waitFor()/timeout() around it, stops that work too. A native `await` of a host
   * Promise cannot be interrupted otherwise: the CancelledError only lands at the task's next
   * await of a loop Future. A coroutine function that declares a parameter gets this signal.
   *
   * Once uncancel() brings the pending cancel() requests back to zero (as waitFor and timeout
   * do when they turn the cancellation into TimeoutError), the next read gives a fresh signal.
   */
  get signal(): AbortSignal {
    let ctl = abortControllers.get(this);
    if (ctl === undefined) {
      ctl = new AbortController();
      abortControllers.set(this, ctl);
      // (Future's own CancelledError: the coroutine's, kept for the awaiter, stays unconsumed.)
      if (this._cancelRequests > 0 || this.cancelled()) ctl.abort(super._makeCancelledError());
    }
    return ctl.signal;
  }

  /** How many cancel() requests are pending (asyncio cancelling). */
  cancelling(): number {
    return this._cancelRequests;
  }

  /** Undo one cancel() request, for code that swallows a cancellation (asyncio uncancel). */
  uncancel(): number {
    if (this._cancelRequests > 0) this._cancelRequests--;
    if (this._cancelRequests === 0) {
      this._mustCancel = false;
      // The next read of `signal` gets a fresh one.
      if (abortControllers.get(this)?.signal.aborted) abortControllers.delete(this);
    }
    return this._cancelRequests;
  }

  /**
   * Request cancellation (asyncio Task.cancel): CancelledError is raised inside the coroutine
   * at the Future it awaits. Returns false if the task is already done.
   */
  override cancel(msg?: string): boolean {
    this._markRetrieved(); // as Future.cancel(): the caller looks after an exception it holds
    if (this.done()) return false;
    this._cancelRequests++;
    this._cancelMessage = msg;
    if (this._promiseBacked) {
      // A started Promise cannot be interrupted: the task stops waiting for it right away.
      this._loop._taskFinished(this);
      Future.prototype.cancel.call(this, msg);
    } else {
      const waiter = this._waitingOn;
      if (waiter === undefined || !waiter.cancel(msg)) this._mustCancel = true;
    }
    // Last, once the task's own state is settled: abort listeners run user code synchronously.
    const ctl = abortControllers.get(this);
    if (ctl !== undefined && !ctl.signal.aborted) ctl.abort(this._makeCancelledError());
    return true;
  }

  /** Tasks are completed by their coroutine: setResult() is a RuntimeError (as in asyncio). */
  override setResult(_result: T): never {
    throw new RuntimeError("Task does not support setResult()");
  }

  /** Tasks are completed by their coroutine: setException() is a RuntimeError (as in asyncio). */
  override setException(_exception: unknown): never {
    throw new RuntimeError("Task does not support setException()");
  }

  /** @internal `Task <name>`: toString() gives `<Task Task-3 finished result=1>` and the like. */
  override _label(): string {
    return `Task ${this._name}`;
  }

  /**
   * @internal As asyncio's task repr: a pending task with a cancel() requested is
   * `cancelling`, and a named coroutine function shows as `coro=<name()>` after the state.
   */
  override _reprInfo(): string[] {
    const info = super._reprInfo();
    if (this._cancelRequests > 0 && !this.done()) info[0] = "cancelling";
    if (this._coroName !== "") info.splice(1, 0, `coro=<${this._coroName}()>`);
    return info;
  }

  /**
   * @internal The first time, the CancelledError the coroutine itself raised (so its `cause`,
   * e.g. an AbortSignal's reason, is seen by whoever awaits the task), then a new one; as
   * asyncio's Task keeps _cancelled_exc.
   */
  override _makeCancelledError(): CancelledError {
    const exc = cancelledExcs.get(this);
    if (exc === undefined) return super._makeCancelledError();
    cancelledExcs.delete(this);
    return exc;
  }

  /** @internal Called by Future.then() when this task's coroutine awaits `future`. */
  _awaiting(future: Future<unknown>): boolean {
    if (this.done()) return false; // a context the finished coroutine left behind
    if (future === (this as Future<unknown>)) {
      throw new RuntimeError(`Task cannot await on itself: ${this}`);
    }
    if (future._loop !== this._loop) {
      throw new RuntimeError(`Task ${this} got Future ${future} attached to a different loop`);
    }
    this._waitingOn = future;
    this._suspended();
    // A cancel() that found nothing to cancel is delivered at the next await (asyncio __step).
    if (this._mustCancel && future.cancel(this._cancelMessage)) this._mustCancel = false;
    return true;
  }

  /** @internal Called by Future.then() when `future`, awaited by this task, is done. */
  _wakeup(future: Future<unknown>): unknown {
    if (this._waitingOn !== future) return undefined;
    this._waitingOn = undefined;
    this._markStepping();
    if (!this._mustCancel || this.done()) return undefined;
    // cancel() came while the future was already done (or its wakeup queued): asyncio throws
    // the CancelledError into the coroutine at this await all the same.
    this._mustCancel = false;
    return this._makeCancelledError();
  }

  /** @internal */
  _step(): void {
    const coro = this._coro!;
    this._coro = undefined;
    if (!this._promiseBacked && this.done()) {
      // Completed from outside (Future.prototype.setResult.call): the coroutine never starts,
      // and the loop's exception handler hears of it, as from asyncio's __step.
      throw new InvalidStateError(`_step(): already done: ${this}`);
    }
    if (this._mustCancel && typeof coro === "function") {
      // Cancelled before its first step: the coroutine never starts, as in asyncio.
      this._finishCancelled();
      return;
    }
    let promise: PromiseLike<T>;
    this._markStepping();
    try {
      promise = typeof coro !== "function"
        ? coro
        : coro.length === 0
        ? taskContext.run(this, coro as () => PromiseLike<T>)
        : taskContext.run(this, coro, this.signal);
      if (!isPromiseLike(promise)) {
        throw new TypeError(`a coroutine function must return a Promise, got ${typeof promise}`);
      }
    } catch (e) {
      this._finish(undefined, e, true);
      return;
    }
    promise.then(
      (value) => this._finish(value, undefined, false),
      (error) => this._finish(undefined, error, true),
    );
  }

  /** This task's coroutine runs now (a step); debug mode times the step for this task. */
  private _markStepping(): void {
    const loop = this._loop;
    loop._resumingTask = this;
    if (loop.getDebug()) loop._steppingTask = this;
  }

  /** This task's step is over: its coroutine awaits a Future or has finished. */
  private _suspended(): void {
    if (this._loop._resumingTask === this) this._loop._resumingTask = null;
  }

  /**
   * Settle the task with the coroutine's outcome (or as cancelled, if a cancel is pending).
   * Never throws: it runs in a Promise reaction, where a throw would be an unhandled rejection.
   */
  private _finish(value: T | undefined, error: unknown, failed: boolean): void {
    this._suspended();
    if (this.done()) {
      // A Promise-backed task cancelled from outside is simply over. A coroutine's task can
      // only have been completed from outside (Future.prototype.setResult.call) while it ran:
      // its own outcome cannot be set, which asyncio's next __step reports.
      if (!this._promiseBacked) this._reportAlreadyDone(failed ? error : value);
      return;
    }
    try {
      this._loop._taskFinished(this);
      if (failed && error instanceof CancelledError) {
        cancelledExcs.set(this, error); // its cause (an AbortSignal's reason) reaches the awaiter
        this._finishCancelled(error.message);
      }
      else if (this._mustCancel) this._finishCancelled();
      else if (failed) {
        // The exception is not "retrieved" just by reaching the task.
        Future.prototype.setException.call(this, error ?? new Error(String(error)));
      } else Future.prototype.setResult.call(this, value as T);
    } catch (e) {
      // The task is settled; only scheduling its done-callbacks failed, because the loop was
      // closed while the coroutine ran on (they could never run). Anything else is a bug.
      if (!this._loop.isClosed()) throw e;
    }
  }

  /** The coroutine finished with `outcome` after the task was made done from outside. */
  private _reportAlreadyDone(outcome: unknown): void {
    const shown = outcome instanceof Error ? `${outcome.name}: ${outcome.message}` : String(outcome);
    this._loop.callExceptionHandler({
      message: `Exception in the step of ${this}`,
      exception: new InvalidStateError(`_step(): already done: ${this}, ${shown}`),
      task: this,
    });
  }

  /** Settle the task as cancelled, with the message given to cancel(). */
  private _finishCancelled(msg?: string): void {
    this._loop._taskFinished(this);
    this._mustCancel = false;
    Future.prototype.cancel.call(this, msg || this._cancelMessage);
  }
}

function ignore(): void {}

function startTask(task: Task<unknown>): void {
  task._step();
}

function isPromiseLike(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === "object" || typeof x === "function") &&
    typeof (x as PromiseLike<unknown>).then === "function";
}

/**
 * The Task of `loop` (default: the running loop) whose coroutine is running now, or undefined
 * (asyncio current_task). RuntimeError if no loop is given and none is running.
 */
export function currentTask(loop?: BaseEventLoop): Task | undefined {
  if (loop === undefined) {
    const running = getRunningLoopOrNull();
    if (running === null) throw new RuntimeError("no running event loop");
    loop = running;
  }
  const t = taskContext.getStore();
  return t instanceof Task && t._loop === loop && !t.done() ? t : undefined;
}
