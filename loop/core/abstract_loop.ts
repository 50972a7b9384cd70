/**
 * AbstractEventLoop: the event loop as everything above it sees it (asyncio's
 * events.AbstractEventLoop, the part that needs no networking types) — running and stopping,
 * scheduling callbacks and timers, futures and tasks, watching fds, errors and debug mode —
 * with the abstract Future, Task and Handle it hands out.
 *
 * Why interfaces: Future, Task and Handle hold their loop, and the loop makes them. With the
 * concrete classes on both sides every file of loop/ imported every other (issue 16). This
 * file imports nothing but the readiness interface, so futures.ts, tasks.ts and handles.ts can
 * name their loop without importing the loop, and AbstractEventLoop (loop/base_loop.ts) implements
 * this from above. The networking, TLS, pipe and process methods are added above, where their
 * types live: loop/net/network_loop.ts and loop/event_loop.ts.
 */
import type { ReadinessLoop } from "./readiness_loop.ts";

/**
 * What a Task runs: a coroutine function (started by the task) or a started Promise. A function
 * that declares a parameter is given the task's AbortSignal (Task.signal) as its argument.
 */
export type Coroutine<T> = ((signal: AbortSignal) => PromiseLike<T>) | PromiseLike<T>;

/** A scheduled callback as the loop hands it out (asyncio.Handle). */
export interface AbstractHandle {
  /** Cancel the call. Cancelling twice or after it ran does nothing. */
  cancel(): void;
  /** True if the handle was cancelled. */
  cancelled(): boolean;
}

/** A callback scheduled for a time (asyncio.TimerHandle). */
export interface AbstractTimerHandle extends AbstractHandle {
  /** The absolute loop time, in seconds, the callback is due. */
  when(): number;
}

/** A result that will be set later (asyncio.Future's interface; loop/core/futures.ts implements it). */
export interface AbstractFuture<T = unknown> extends PromiseLike<T> {
  /** The loop this future is bound to. */
  getLoop(): AbstractEventLoop;
  /** True once it has a result or exception, or was cancelled. */
  done(): boolean;
  /** True if it was cancelled. */
  cancelled(): boolean;
  /** The result; throws the exception, CancelledError, or InvalidStateError if not done. */
  result(): T;
  /** The exception, or null; CancelledError if cancelled, InvalidStateError if not done. */
  exception(): unknown;
  /** Mark done with `result`; InvalidStateError if already done. */
  setResult(result: T): void;
  /** Mark done with `exception`; InvalidStateError if already done. */
  setException(exception: unknown): void;
  /** Cancel; false if already done. */
  cancel(msg?: string): boolean;
  /** Call `fn(future)` from the loop once done. */
  addDoneCallback(fn: (future: AbstractFuture<T>) => unknown): void;
  /** Remove every registration of `fn`; returns how many there were. */
  removeDoneCallback(fn: (future: AbstractFuture<T>) => unknown): number;
  /** Await support: a Promise of the result (or of the exception, as a rejection). */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2>;
  /** As Promise.catch. */
  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R>;
  /** As Promise.finally. */
  finally(onFinally?: (() => void) | null): Promise<T>;
}

/** A coroutine scheduled on the loop, and the Future of its result (asyncio.Task). */
export interface AbstractTask<T = unknown> extends AbstractFuture<T> {
  /** The task's name. */
  getName(): string;
  /** Rename the task. */
  setName(name: string): void;
  /** How many cancel() requests are pending. */
  cancelling(): number;
  /** Undo one cancel() request. */
  uncancel(): number;
}

/** Anything runUntilComplete accepts: a Future, a coroutine function or a started Promise. */
export type Awaitable<T> = AbstractFuture<T> | Coroutine<T>;

/** What callExceptionHandler receives (asyncio's context dict). */
export interface ExceptionContext {
  /** The error message. */
  message: string;
  /** The exception, if any. */
  exception?: unknown;
  /** The Future involved, if any. */
  future?: AbstractFuture<unknown>;
  /** The Task involved, if any. */
  task?: AbstractTask<unknown>;
  /** The Handle whose callback failed, if any. */
  handle?: AbstractHandle;
  /** The protocol involved, if any. */
  protocol?: unknown;
  /** The transport involved, if any. */
  transport?: unknown;
  /** The socket involved, if any. */
  socket?: unknown;
  /** Any further detail the reporter adds (asyncio's context is an open dict). */
  [key: string]: unknown;
}

/** A custom exception handler: `(loop, context)`, as setExceptionHandler takes. */
export type ExceptionHandler = (loop: AbstractEventLoop, context: ExceptionContext) => void;

/** Options of createTask (asyncio's keyword arguments). */
export interface CreateTaskOptions {
  /** The task's name (default `Task-<n>`). */
  name?: string | undefined;
}

/**
 * What setTaskFactory takes: makes the Future createTask returns for `coro`, given
 * createTask's options (asyncio's task factory, called as `factory(loop, coro)`).
 */
export type TaskFactory = (
  loop: AbstractEventLoop,
  coro: Coroutine<unknown>,
  options: CreateTaskOptions,
) => AbstractFuture<unknown>;

/** The event loop (asyncio.AbstractEventLoop) without its networking, pipe and process methods. */
export interface AbstractEventLoop extends ReadinessLoop {
  /** Callbacks slower than this many seconds are reported in debug mode. */
  slowCallbackDuration: number;

  // ---- Running and stopping
  /** Run until stop() is called (asyncio run_forever). */
  runForever(): Promise<void>;
  /** Run until `future` is done and return its result (asyncio run_until_complete). */
  runUntilComplete<T>(future: Awaitable<T>): Promise<T>;
  /** Stop after the callbacks already scheduled (asyncio stop). */
  stop(): void;
  /** True while running (asyncio is_running). */
  isRunning(): boolean;
  /** True once closed (asyncio is_closed). */
  isClosed(): boolean;
  /** Drop pending callbacks and release every resource (asyncio close). */
  close(): void;
  /** Shut the default executor down and wait for its calls (asyncio shutdown_default_executor). */
  shutdownDefaultExecutor(timeout?: number | null): Promise<void>;

  // ---- Scheduling
  /** Schedule `callback(...args)` for the next iteration (asyncio call_soon). */
  callSoon<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): AbstractHandle;
  /** callSoon that also wakes a parked loop (asyncio call_soon_threadsafe). */
  callSoonThreadsafe<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): AbstractHandle;
  /** Schedule `callback(...args)` after `delay` seconds (asyncio call_later). */
  callLater<A extends unknown[]>(delay: number, callback: (...args: A) => unknown, ...args: A): AbstractTimerHandle;
  /** Schedule `callback(...args)` at loop time `when` (asyncio call_at). */
  callAt<A extends unknown[]>(when: number, callback: (...args: A) => unknown, ...args: A): AbstractTimerHandle;
  /** The loop's monotonic clock, in seconds (asyncio time). */
  time(): number;

  // ---- Futures and tasks
  /** A new Future bound to this loop (asyncio create_future). */
  createFuture<T = unknown>(): AbstractFuture<T>;
  /** Schedule a coroutine as a Task (asyncio create_task). */
  createTask<T>(coro: Coroutine<T>, options?: CreateTaskOptions): AbstractTask<T>;
  /** Set the task factory, or null for the default (asyncio set_task_factory). */
  setTaskFactory(factory: TaskFactory | null): void;
  /** The task factory, or null (asyncio get_task_factory). */
  getTaskFactory(): TaskFactory | null;

  // ---- Errors and debug mode
  /** Set the handler for uncaught errors, or null for the default (asyncio set_exception_handler). */
  setExceptionHandler(handler: ExceptionHandler | null): void;
  /** The custom exception handler, or null (asyncio get_exception_handler). */
  getExceptionHandler(): ExceptionHandler | null;
  /** The default handler: logs `context` (asyncio default_exception_handler). */
  defaultExceptionHandler(context: ExceptionContext): void;
  /** Pass `context` to the current exception handler; never throws (asyncio call_exception_handler). */
  callExceptionHandler(context: ExceptionContext): void;
  /** Debug mode (asyncio get_debug). */
  getDebug(): boolean;
  /** Turn debug mode on or off (asyncio set_debug). */
  setDebug(enabled: boolean): void;

  // ---- What the loop's own futures, tasks, handles and transports call (asyncio's _-methods)
  /** @ignore The task a handle resumed that has not yet suspended (AbstractEventLoop). */
  _resumingTask: AbstractTask<unknown> | null;
  /** @ignore In debug mode, the task the running handle stepped. */
  _steppingTask: AbstractTask<unknown> | null;
  /** @ignore callSoon for callbacks checked when they were handed in. */
  _callSoonPrechecked(callback: (arg: never) => unknown, arg: unknown): AbstractHandle;
  /** @ignore `x` as a Future of this loop: a Future as is (ValueError if of another loop), else a Task. */
  _ensureFuture<T>(x: Awaitable<T>): AbstractFuture<T>;
  /** @ignore Called by TimerHandle.cancel(). */
  _timerHandleCancelled(handle: AbstractTimerHandle): void;
  /** @ignore Track a new task until _taskFinished(). */
  _taskStarted(task: AbstractTask<unknown>): void;
  /** @ignore */
  _taskFinished(task: AbstractTask<unknown>): void;
  /** @ignore The tasks not yet done. */
  _liveTasks(): AbstractTask<unknown>[];
  /** @ignore addReader for an fd the loop's own transports own: no user-fd checks. */
  _addReader<A extends unknown[]>(fd: number, callback: (...args: A) => unknown, ...args: A): void;
  /** @ignore removeReader for an fd the loop's own transports own. */
  _removeReader(fd: number): boolean;
  /** @ignore addWriter for an fd the loop's own transports own. */
  _addWriter<A extends unknown[]>(fd: number, callback: (...args: A) => unknown, ...args: A): void;
  /** @ignore removeWriter for an fd the loop's own transports own. */
  _removeWriter(fd: number): boolean;
}
