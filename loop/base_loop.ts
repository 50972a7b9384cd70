/**
 * BaseEventLoop: everything in asyncio's event loop that does no I/O — the ready queue, the
 * timer heap, running and stopping, the exception handler, debug mode — and the rules for
 * living inside the host runtime's own event loop (docs/DESIGN.md, "Two loops in one thread").
 *
 * Subclasses supply I/O through four hooks: _pollIo (collect ready I/O without blocking),
 * _parkIo (wait off the JS thread), _wakeIo (end a park early) and _closeIo.
 */
import { type KeysOf, refuseUnknownOptions } from "./core/options.ts";
import { setImmediate } from "node:timers";
import type { Inet6Family, InetFamily, UnixFamily } from "../ffi/families.ts";
import { readEnv } from "../ffi/runtime.ts";
import type { BytesLike } from "./core/bytes.ts";
import { describe } from "./core/describe.ts";
import { RuntimeError, ValueError } from "./core/errors.ts";
import type { FileLike } from "./core/file_like.ts";
import type {
  AbstractEventLoop, AbstractFuture, Awaitable, CreateTaskOptions, ExceptionContext, ExceptionHandler, TaskFactory,
} from "./core/abstract_loop.ts";
import type { AcceptingServer, PipeTransportMaker } from "./transports/transport_loop.ts";
import type { EventLoop } from "./event_loop.ts";
import { Deque } from "./core/deque.ts";
import {
  checkExecutor, type Executor, futureFromSubmission, WorkerPoolExecutor,
} from "./concurrency/executor.ts";
import { Future } from "./core/futures.ts";
import {
  type Callback, checkNotCoroutine, Handle, makeHandle, noArgs, ONE_ARG, TimerHandle,
} from "./core/handles.ts";
import { getRunningLoopOrNull, setRunningLoop } from "./core/running.ts";
import { type Coroutine, Task } from "./core/tasks.ts";
import { TaskRegistry } from "./core/task_registry.ts";
import { TimerHeap } from "./core/timer_heap.ts";
import { HostTurns } from "./core/host_turns.ts";
import { checkSignalHandlersAvailable, type SignalLike, SignalHandlers, signalNumber } from "./process/signals.ts";
import {
  connectAcceptedSocket, type ConnectAcceptedSocketOptions,
  createConnection, type CreateConnectionOptions, createServer, type CreateServerOptions,
  createUnixConnection, type CreateUnixConnectionOptions, createUnixServer,
  type CreateUnixServerOptions,
} from "./net/connections.ts";
import { createDatagramEndpoint, type DatagramEndpointOptions } from "./net/datagram_endpoint.ts";
import { type AddrInfo, getaddrinfo, type GetAddrInfoOptions, getnameinfo } from "./net/dns.ts";
import type {
  BaseProtocolLike, BufferedProtocolLike, DatagramProtocolLike, ProtocolFactory, ProtocolLike,
  SubprocessProtocolLike,
} from "./transports/protocols.ts";
import type { Server } from "./net/server.ts";
import type { AddressLike, SockAddr, Socket } from "./net/socket.ts";
import type {
  DatagramTransport, ReadTransport, SubprocessTransport, Transport, WriteTransport,
} from "./transports/base.ts";
import type { SubprocessOptions } from "./process/subprocess.ts";
import type { ExecArgs } from "./process/subprocess_options.ts";
import type { SSLContext } from "./tls/ssl.ts";
import { startTls, type StartTlsOptions } from "./tls/start_tls.ts";
import { type SendfileFile, type SendfileOptions, transportSendfile } from "./net/sendfile.ts";
import type { SocketTransportOptions } from "./transports/socket_base.ts";

/** @ignore The keys of CreateTaskOptions, for refuseUnknownOptions(). */
export const CREATE_TASK_OPTION_KEYS: KeysOf<CreateTaskOptions> = {
  name: true,
};

// The loop's own vocabulary lives with the interface it implements (loop/core/abstract_loop.ts);
// exported here too, where users of BaseEventLoop look for it.
export type {
  Awaitable, CreateTaskOptions, ExceptionContext, ExceptionHandler, TaskFactory,
} from "./core/abstract_loop.ts";

/**
 * The clock is read once every this-many iterations to decide on the host turn (HostTurns):
 * performance.now() costs ~100–130 ns on Deno (4 ns on Bun), as much as a syscall.
 */
const CLOCK_CHECK_EVERY = 32;

/**
 * How many microtask turns the loop gives a coroutine that a handle just resumed before it runs
 * the next handle (see _resumingTask). An `await fut` resumes one turn after the handle and
 * suspends at its next Future one turn after that; each async function it returns through adds
 * a turn. A coroutine still running after this many waits for host I/O, not for the loop.
 */
const MAX_STEP_TURNS = 16;

/** The longest timeout epoll/kevent take, in ms (int32); longer waits simply wake and recompute. */
const MAX_PARK_MS = 0x7fffffff;

function yieldMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function checkCallback(callback: unknown, method: string): void {
  if (typeof callback !== "function") {
    throw new TypeError(`a callable object was expected by ${method}(), got ${describe(callback)}`);
  }
  checkNotCoroutine(callback as Callback, method);
}

function stopLoop(fut: Future<unknown>): void {
  fut._loop.stop();
}

/** The OS-independent part of an asyncio event loop (asyncio.BaseEventLoop). */
export abstract class BaseEventLoop implements EventLoop {
  /** Callbacks slower than this many seconds are reported in debug mode (asyncio's default). */
  slowCallbackDuration = 0.1;

  /** @ignore */ protected readonly _ready: Deque<Handle> = new Deque();
  /** @ignore */ protected readonly _timers: TimerHeap = new TimerHeap();
  /** @ignore */ protected _parked = false;
  private readonly _hostTurns: HostTurns = new HostTurns();
  private _closed = false;
  private _running = false;
  private _stopping = false;
  private _debug = !!readEnv("AIOLOOP_DEBUG");
  private _exceptionHandler: ExceptionHandler | null = null;
  private readonly _tasks: TaskRegistry<Task<unknown>> = new TaskRegistry(this);
  private _signals: SignalHandlers | undefined;
  private _defaultExecutor: Executor | null = null;
  private _executorShutdownCalled = false;
  private _taskFactory: TaskFactory | null = null;
  /**
   * @ignore The task whose coroutine the running handle started or woke and that has not yet
   * suspended at a Future or finished. In asyncio a task's step runs inside the handle that
   * wakes it; here the coroutine resumes in a microtask, so the loop lets microtasks run before
   * the next handle while this is set (Task._step/_wakeup set it, _awaiting/_finish clear it).
   */
  _resumingTask: Task<unknown> | null = null;
  /** @ignore In debug mode, the task the running handle stepped (named in slow-callback warnings). */
  _steppingTask: Task<unknown> | null = null;

  // ---- I/O hooks for subclasses -------------------------------------------------------------

  /**
   * Move ready I/O callbacks onto the ready queue without blocking. `idleNext`: if this queues
   * nothing the loop waits next (_waitIoBriefly or _idle), so a loop whose wait also submits
   * its queued operations may leave them to it.
   * @ignore
   */
  protected abstract _pollIo(idleNext?: boolean): void;
  /** @ignore True when some fd is watched, so the loop must poll even while callbacks are queued. */
  protected abstract _hasIoInterest(): boolean;
  /** @ignore Wait off the JS thread for I/O, a wakeup or `timeoutMs` (-1: no limit). */
  protected abstract _parkIo(timeoutMs: number): Promise<void>;
  /** @ignore End a _parkIo in progress. */
  protected abstract _wakeIo(): void;
  /**
   * Submit what is queued and wait a short, fixed time on the JS thread for I/O that is about
   * to arrive; true if some may be ready for _pollIo. Only loops whose short wait is cheaper
   * than a park override it.
   * @ignore
   */
  protected _waitIoBriefly(): boolean {
    return false;
  }
  /** @ignore Release the I/O resources (poller fds, parking thread). */
  protected abstract _closeIo(): void;

  // ---- Running and stopping -----------------------------------------------------------------

  /** Run until stop() is called (asyncio run_forever). RuntimeError if closed or running. */
  async runForever(): Promise<void> {
    this._checkClosed();
    if (this._running) throw new RuntimeError("This event loop is already running");
    if (getRunningLoopOrNull() !== null) {
      throw new RuntimeError("Cannot run the event loop while another loop is running");
    }
    this._running = true;
    setRunningLoop(this);
    try {
      this._hostTurns.restart(performance.now());
      let iterations = 0;
      for (;;) {
        // Under load this stays synchronous: poll with timeout 0, no thread hop
        // (docs/DESIGN.md, rule 2).
        if (this._ready.length > 0 || this._stopping) {
          if (this._hasIoInterest()) this._pollIo();
        } else {
          this._pollIo(true);
          if (this._ready.length === 0 && this._timeoutMs() !== 0) {
            // Idle: a loop with a short wait of its own tries it first (io_uring: under load a
            // completion is microseconds away, and waiting there is one system call against
            // _idle's host turn and thread hop). Completions may be delivered inline, queueing
            // nothing, so either way the loop goes round again; the host still gets its turn
            // every millisecond below (HostTurns).
            if (this._waitIoBriefly()) this._pollIo(true);
            else {
              await this._idle();
              this._hostTurns.restart(performance.now());
            }
          }
        }
        this._moveDueTimers();
        if (this._debug) await this._runReadyTimed();
        else {
          // Only what is queued now runs in this iteration; callbacks they schedule wait for the
          // next. A handle that resumed a task lets that task's step finish first (asyncio order).
          for (let todo = this._ready.length; todo > 0;) {
            todo = this._runReady(todo);
            for (let turn = 0; this._resumingTask !== null; turn++) {
              if (turn === MAX_STEP_TURNS) this._resumingTask = null;
              else await undefined;
            }
          }
        }
        if (this._stopping) {
          // Coroutines the last iteration resumed through host Promises continue in microtasks:
          // one host turn lets them reach their next await while this loop is still running
          // (sleep() needs it), instead of failing with "no running event loop".
          await yieldMacrotask();
          break;
        }
        // Let coroutines continue (they resume in microtasks), and now and then the host.
        if (++iterations % CLOCK_CHECK_EVERY === 0 && this._hostTurns.due(performance.now())) {
          this._tasks.age(); // tasks pending this long are held weakly from now on
          await this._hostTurns.give();
        } else {
          await undefined;
        }
      }
    } finally {
      this._tasks.age();
      this._hostTurns.release(); // a stopped loop gives the host no turns
      this._stopping = false;
      this._running = false;
      setRunningLoop(null);
    }
  }

  /**
   * Nothing is ready and no timer is due. First give the host one macrotask turn (its
   * microtasks and callbacks may schedule work for us); if still idle, hand the wait to a
   * thread (docs/DESIGN.md, rule 4) and collect whatever woke us.
   */
  private async _idle(): Promise<void> {
    this._tasks.age();
    await yieldMacrotask();
    if (this._ready.length > 0 || this._stopping) return;
    this._pollIo();
    if (this._ready.length > 0) return;
    const timeoutMs = this._timeoutMs();
    if (timeoutMs === 0) return;
    this._parked = true;
    this._hostTurns.idle();
    try {
      await this._parkIo(timeoutMs);
    } finally {
      this._parked = false;
    }
    this._pollIo();
  }

  /** Milliseconds until the next timer (0 if due, -1 if none). */
  private _timeoutMs(): number {
    const next = this._timers.peek();
    if (next === undefined) return -1;
    const delay = next._when - this.time();
    if (delay <= 0) return 0;
    return Math.min(Math.ceil(delay * 1000), MAX_PARK_MS);
  }

  /** Move every timer that is due onto the ready queue, earliest first. */
  private _moveDueTimers(): void {
    if (this._timers.size > 0) this._timers.moveDue(this.time(), this._ready);
  }

  /**
   * Run up to `todo` ready handles (asyncio _run_once's second half); stop early after one that
   * resumed a task (_resumingTask). Returns how many of the `todo` are left.
   */
  private _runReady(todo: number): number {
    const ready = this._ready;
    while (todo > 0) {
      todo--;
      const h = ready.shift()!;
      if (h._cancelled) continue;
      h._run();
      if (this._resumingTask !== null) break;
    }
    return todo;
  }

  /**
   * Debug mode's _runReady: each handle, with the task step it resumed, is timed, and one slower
   * than slowCallbackDuration is reported, naming the task whose step it was (asyncio names the
   * Task too: each resume of a coroutine is one step).
   */
  private async _runReadyTimed(): Promise<void> {
    const ready = this._ready;
    for (let todo = ready.length; todo > 0; todo--) {
      const h = ready.shift()!;
      if (h._cancelled) continue;
      const start = performance.now();
      this._steppingTask = null;
      h._run();
      const task = this._steppingTask;
      this._steppingTask = null; // a strong reference would keep a task nothing else can wake
      for (let turn = 0; this._resumingTask !== null; turn++) {
        if (turn === MAX_STEP_TURNS) this._resumingTask = null;
        else await undefined;
      }
      const seconds = (performance.now() - start) / 1000;
      if (seconds >= this.slowCallbackDuration) {
        console.warn(`aioloop: executing ${task ?? h} took ${seconds.toFixed(3)} seconds`);
      }
    }
  }

  /**
   * Run until `future` is done and return its result or throw its exception (asyncio
   * run_until_complete). Accepts a Future/Task, a Promise, or a coroutine function.
   */
  async runUntilComplete<T>(future: Awaitable<T>): Promise<T> {
    this._checkClosed();
    if (this._running) throw new RuntimeError("This event loop is already running");
    const fut = this._ensureFuture(future);
    fut.addDoneCallback(stopLoop);
    try {
      await this.runForever();
    } finally {
      fut.removeDoneCallback(stopLoop);
    }
    if (!fut.done()) throw new RuntimeError("Event loop stopped before Future completed.");
    return fut.result();
  }

  /**
   * Stop the loop (asyncio stop): callbacks already scheduled run, later ones wait for the next
   * runForever().
   */
  stop(): void {
    this._stopping = true;
    if (this._parked) this._wakeIo();
  }

  /** True while runForever/runUntilComplete is in progress (asyncio is_running). */
  isRunning(): boolean {
    return this._running;
  }

  /** True once close() was called (asyncio is_closed). */
  isClosed(): boolean {
    return this._closed;
  }

  /**
   * Close the loop (asyncio close): drop pending callbacks and timers and release every fd.
   * Idempotent; RuntimeError while running.
   */
  close(): void {
    if (this._running) throw new RuntimeError("Cannot close a running event loop");
    if (this._closed) return;
    this._closed = true;
    this._ready.clear();
    this._timers.clear();
    this._defaultExecutor?.shutdown(false); // asyncio: shut down without waiting
    this._defaultExecutor = null;
    this._signals?.removeAll(); // give every signal its previous disposition back
    this._hostTurns.release();
    this._closeIo();
  }

  /** `using`: close() when the scope ends (RuntimeError if the loop is still running). */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * `await using`: close(). A loop that is not running has nothing to wait for: its fds are
   * released by close() itself.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  // ---- Scheduling ---------------------------------------------------------------------------

  /** Schedule `callback(...args)` for the next iteration, FIFO (asyncio call_soon). */
  callSoon<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): Handle {
    return this._callSoon(callback as Callback, args, "callSoon");
  }

  /** callSoon, with `method` naming the public method in errors. */
  private _callSoon(callback: Callback, args: unknown[], method: string): Handle {
    this._checkClosed();
    checkCallback(callback, method);
    const h = makeHandle(callback, args, this);
    this._ready.push(h);
    if (this._parked) this._wakeIo();
    return h;
  }

  /**
   * @ignore callSoon for the loop's own callbacks (done-callbacks, task steps), which were
   * checked when they were handed in: no per-call check of the callback.
   */
  _callSoonPrechecked(callback: Callback, arg: unknown): Handle {
    this._checkClosed();
    const h = new Handle(callback, ONE_ARG, this, arg);
    this._ready.push(h);
    if (this._parked) this._wakeIo();
    return h;
  }

  /**
   * Like callSoon, and always wakes a parked loop (asyncio call_soon_threadsafe). In a JS
   * runtime "another thread" is the host's own event loop: its timers, I/O and promise
   * callbacks.
   */
  callSoonThreadsafe<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): Handle {
    return this._callSoon(callback as Callback, args, "callSoonThreadsafe");
  }

  /** Schedule `callback(...args)` after `delay` seconds (asyncio call_later). */
  callLater<A extends unknown[]>(
    delay: number,
    callback: (...args: A) => unknown,
    ...args: A
  ): TimerHandle {
    checkTime(delay, "callLater", "delay");
    return this._schedule(this.time() + delay, callback as Callback, args, "callLater");
  }

  /** Schedule `callback(...args)` at loop time `when` (asyncio call_at). */
  callAt<A extends unknown[]>(
    when: number,
    callback: (...args: A) => unknown,
    ...args: A
  ): TimerHandle {
    checkTime(when, "callAt", "when");
    return this._schedule(when, callback as Callback, args, "callAt");
  }

  /** Push a TimerHandle for `when`; waking a parked loop so it re-arms its wait. */
  private _schedule(
    when: number,
    callback: Callback,
    args: unknown[],
    method: string,
  ): TimerHandle {
    this._checkClosed();
    checkCallback(callback, method);
    // The rest array of a call without arguments then dies young instead of living as long
    // as the timer (fewer objects for the GC to copy when many timers are pending).
    const t = new TimerHandle(when, callback, args.length === 0 ? noArgs : args, this);
    this._timers.push(t);
    if (this._parked) this._wakeIo();
    return t;
  }

  /** @ignore Called by TimerHandle.cancel(). */
  _timerHandleCancelled(t: TimerHandle): void {
    if (this._timers.holds(t)) this._timers.noteCancelled();
  }

  /** The loop's monotonic clock, in seconds (asyncio time). */
  time(): number {
    return performance.now() / 1000;
  }

  // ---- Futures and tasks --------------------------------------------------------------------

  /** A new Future bound to this loop (asyncio create_future). */
  createFuture<T = unknown>(): Future<T> {
    return new Future<T>(this);
  }

  /**
   * Schedule a coroutine (asyncio create_task): `coro` is an async function, started in the next
   * iteration, or a Promise already running. With a task factory set, returns what the factory
   * makes (TypeError if that is not a Future), named `options.name` if one is given.
   */
  createTask<T>(coro: Coroutine<T>, options?: CreateTaskOptions): Task<T> {
    refuseUnknownOptions(options, CREATE_TASK_OPTION_KEYS, "createTask()");
    this._checkClosed();
    const factory = this._taskFactory;
    if (factory === null) return new Task<T>(coro, this, options?.name);
    options ??= {};
    const made = factory(this, coro, options);
    if (!(made instanceof Future)) {
      throw new TypeError(`the task factory must return a Future, got ${describe(made)}`);
    }
    // asyncio names the factory's task itself (tasks._set_task_name), whatever the factory did.
    const named = made as { setName?: unknown };
    if (options.name != null && typeof named.setName === "function") named.setName(options.name);
    return made as Task<T>;
  }

  /**
   * Make createTask call `factory(loop, coro, options)`, or restore the default with null
   * (asyncio set_task_factory). TypeError if it is neither a function nor null.
   */
  setTaskFactory(factory: TaskFactory | null): void {
    if (factory !== null && typeof factory !== "function") {
      throw new TypeError(`task factory must be a callable or null, got ${describe(factory)}`);
    }
    this._taskFactory = factory;
  }

  /** The task factory, or null for the default (asyncio get_task_factory). */
  getTaskFactory(): TaskFactory | null {
    return this._taskFactory;
  }

  /** @ignore */
  _ensureFuture<T>(x: Awaitable<T>): Future<T> {
    if (x instanceof Future) {
      if (x._loop !== this) {
        throw new ValueError(
          "The future belongs to a different loop than the one specified as the loop argument",
        );
      }
      return x;
    }
    if (typeof x === "function" || isThenable(x)) return this.createTask(x);
    throw new TypeError(
      `a Future, a Promise or a coroutine function is required, got ${describe(x)}`,
    );
  }

  /** @ignore Track a new task (weakly, in time: loop/core/task_registry.ts) until _taskFinished(). */
  _taskStarted(t: Task<unknown>): void {
    this._tasks.add(t);
  }
  /** @ignore */ _taskFinished(t: Task<unknown>): void {
    this._tasks.remove(t);
  }
  /** @ignore The tasks not yet done. */
  _liveTasks(): Task<unknown>[] {
    return this._tasks.live();
  }

  // ---- Executor -------------------------------------------------------------------------------

  /**
   * Run `fn(...args)` in `executor`, or in the default executor if null (asyncio
   * run_in_executor), and return a Future of its result. The default executor is a
   * WorkerPoolExecutor, created on first use: `fn` must then name its code as
   * `task(import.meta.url, "exportName")` and `args` must be structured-cloneable (executor.ts).
   */
  runInExecutor<T = unknown>(executor: Executor | null, fn: unknown, ...args: unknown[]): Future<T> {
    this._checkClosed();
    if (executor === null || executor === undefined) {
      if (this._defaultExecutor === null && this._executorShutdownCalled) {
        throw new RuntimeError("Executor shutdown has been called");
      }
      executor = this._defaultExecutor ??= new WorkerPoolExecutor();
    } else {
      checkExecutor(executor, "runInExecutor");
    }
    return futureFromSubmission<T>(this, executor.submit(fn, ...args));
  }

  /**
   * Shut the default executor down and wait until its calls have finished (asyncio 3.12
   * shutdown_default_executor); later runInExecutor(null, …) calls are RuntimeError. With a
   * `timeout` (seconds) it waits no longer: it then warns and shuts down without waiting.
   */
  async shutdownDefaultExecutor(timeout: number | null = null): Promise<void> {
    if (timeout !== null) checkTime(timeout, "shutdownDefaultExecutor", "timeout");
    this._executorShutdownCalled = true;
    const executor = this._defaultExecutor;
    if (executor === null) return;
    this._defaultExecutor = null;
    // true: joined; false: the timeout came first.
    const joined = this.createFuture<boolean>();
    const settle = (value: boolean) => {
      if (!joined.done() && !this.isClosed()) joined.setResult(value);
    };
    Promise.resolve(executor.shutdown(true)).then(() => settle(true), (e) => {
      if (!joined.done() && !this.isClosed()) joined.setException(e);
    });
    const timer = timeout === null ? null : this.callLater(timeout, settle, false);
    try {
      if (await joined) return;
    } finally {
      timer?.cancel();
    }
    console.warn(`aioloop: the executor did not finish joining its threads within ${timeout} seconds`);
    executor.shutdown(false);
  }

  /** Use `executor` for runInExecutor(null, …) (asyncio set_default_executor). */
  setDefaultExecutor(executor: Executor): void {
    checkExecutor(executor, "setDefaultExecutor");
    this._defaultExecutor = executor;
  }

  // ---- Networking (asyncio base_events): the same for every loop family; each loop supplies
  // sockConnect, the fd watchers and _makeSocketTransport, the asyncio hook for its transports.

  /** Resolve host/port without blocking the loop (asyncio getaddrinfo; loop/net/dns.ts). */
  getaddrinfo(
    host: string | null,
    port: number | string | null,
    options: GetAddrInfoOptions = {},
  ): Promise<AddrInfo[]> {
    return getaddrinfo(this, host, port, options);
  }

  /** Reverse-resolve a socket address (asyncio getnameinfo; loop/net/dns.ts). */
  getnameinfo(
    sockaddr: readonly [string, number] | readonly [string, number, number, number],
    flags = 0,
  ): Promise<[string, string]> {
    return getnameinfo(this, sockaddr, flags);
  }

  /** Open a TCP connection (asyncio create_connection; loop/net/connections.ts). */
  createConnection<P extends ProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    host: string | null = null,
    port: number | string | null = null,
    options: CreateConnectionOptions = {},
  ): Promise<[Transport, P]> {
    return createConnection(this, protocolFactory, host, port, options);
  }

  /**
   * Wrap a stream socket connected outside the loop — accepted with sockAccept() or
   * Socket.accept() — in a transport; with `ssl`, as a TLS server (asyncio
   * connect_accepted_socket; loop/net/connections.ts).
   */
  connectAcceptedSocket<P extends ProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    sock: Socket,
    options: ConnectAcceptedSocketOptions = {},
  ): Promise<[Transport, P]> {
    return connectAcceptedSocket(this, protocolFactory, sock, options);
  }

  /**
   * Listen on TCP (asyncio create_server; loop/net/connections.ts, loop/net/server.ts). The
   * server's sockets are AF_INET/AF_INET6 ones, or `options.sock`.
   */
  createServer<P extends ProtocolLike, F extends number = InetFamily | Inet6Family>(
    protocolFactory: ProtocolFactory<P>,
    host: string | string[] | null = null,
    port: number | string | null = null,
    options: CreateServerOptions<F> = {},
  ): Promise<Server<F>> {
    return createServer(this, protocolFactory, host, port, options);
  }

  /** Connect to a Unix stream socket (asyncio create_unix_connection). */
  createUnixConnection<P extends ProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    path: string | null = null,
    options: CreateUnixConnectionOptions = {},
  ): Promise<[Transport, P]> {
    return createUnixConnection(this, protocolFactory, path, options);
  }

  /** Listen on a Unix stream socket (asyncio create_unix_server). */
  createUnixServer<P extends ProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    path: string | null = null,
    options: CreateUnixServerOptions = {},
  ): Promise<Server<UnixFamily>> {
    return createUnixServer(this, protocolFactory, path, options);
  }

  /**
   * Upgrade an open connection to TLS (asyncio start_tls; loop/tls/start_tls.ts): resolves with
   * the TLS transport `protocol` uses from then on, once the handshake is done.
   */
  startTls(
    transport: Transport,
    protocol: ProtocolLike | BufferedProtocolLike,
    sslcontext: SSLContext,
    options: StartTlsOptions = {},
  ): Promise<Transport> {
    return startTls(this, transport, protocol, sslcontext, options);
  }

  /**
   * Open a datagram endpoint (asyncio create_datagram_endpoint; loop/net/datagram_endpoint.ts).
   * Takes `(factory, options)` or asyncio's positional `(factory, localAddr, remoteAddr,
   * options)`.
   */
  createDatagramEndpoint<P extends DatagramProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    options?: DatagramEndpointOptions,
  ): Promise<[DatagramTransport, P]>;
  /** asyncio's positional form: the local and remote addresses, then the other options. */
  createDatagramEndpoint<P extends DatagramProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    localAddr: AddressLike | null | undefined,
    remoteAddr?: AddressLike | null,
    options?: DatagramEndpointOptions,
  ): Promise<[DatagramTransport, P]>;
  createDatagramEndpoint<P extends DatagramProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    localAddrOrOptions?: unknown,
    remoteAddr?: unknown,
    options: DatagramEndpointOptions = {},
  ): Promise<[DatagramTransport, P]> {
    // An address is a string, an array or bytes (an abstract AF_UNIX name); an object, options.
    const isOptions = typeof localAddrOrOptions === "object" && localAddrOrOptions !== null &&
      !Array.isArray(localAddrOrOptions) && !ArrayBuffer.isView(localAddrOrOptions);
    // The addresses are checked by createDatagramEndpoint() (loop/net/datagram_endpoint.ts).
    const merged: DatagramEndpointOptions = isOptions
      ? localAddrOrOptions as DatagramEndpointOptions
      : {
        ...options,
        localAddr: (localAddrOrOptions ?? options.localAddr) as AddressLike | null | undefined,
        remoteAddr: (remoteAddr ?? options.remoteAddr) as AddressLike | null | undefined,
      };
    return createDatagramEndpoint(this, protocolFactory, merged);
  }

  /** Connect a non-blocking socket to a resolved address (asyncio sock_connect). */
  abstract sockConnect(sock: Socket, address: AddressLike): Promise<void>;

  /** Send all of `data` on a non-blocking socket (asyncio sock_sendall). */
  abstract sockSendall(sock: Socket, data: BytesLike): Promise<void>;

  /** Send a regular file to a non-blocking stream socket (asyncio sock_sendfile; loop/net/sendfile.ts). */
  abstract sockSendfile(
    sock: Socket,
    file: SendfileFile,
    offset?: number,
    count?: number | null,
    options?: SendfileOptions,
  ): Promise<number>;

  /**
   * Send a regular file's [offset, offset + count) (count null: to its end) through
   * `transport`; resolves to the bytes sent (asyncio sendfile; loop/net/sendfile.ts). A TCP or Unix
   * transport waits for its write buffer to drain, then uses sendfile(2) where it can (write()
   * is RuntimeError meanwhile); TLS transports, and the rest, read and write the file unless
   * `fallback` is false. RuntimeError for a closing transport or one that cannot send files.
   */
  sendfile(
    transport: Transport,
    file: SendfileFile,
    offset = 0,
    count: number | null = null,
    options: SendfileOptions = {},
  ): Promise<number> {
    return transportSendfile(this, transport, file, offset, count, options);
  }

  /** @ignore A transport for a connected stream socket (asyncio _make_socket_transport). */
  abstract _makeSocketTransport(
    sock: Socket,
    protocol: ProtocolLike | BufferedProtocolLike,
    options?: SocketTransportOptions,
  ): Transport;

  /** @ignore Accept on `listener` for `server`; returns how to stop (asyncio _start_serving). */
  abstract _startServing(server: AcceptingServer, listener: Socket): () => void;

  /** @ignore A transport for a datagram socket (asyncio _make_datagram_transport). */
  abstract _makeDatagramTransport(
    sock: Socket,
    protocol: DatagramProtocolLike,
    address: unknown,
    waiter: AbstractFuture<unknown>,
  ): DatagramTransport;

  /** @ignore How this loop wraps a subprocess's pipe ends (TransportLoop._subprocessPipes). */
  abstract _subprocessPipes(): Promise<PipeTransportMaker>;

  /** Call `callback(...args)` whenever `fd` is readable (asyncio add_reader). */
  abstract addReader<A extends unknown[]>(
    fd: FileLike,
    callback: (...args: A) => unknown,
    ...args: A
  ): void;
  /** Stop watching `fd` for reading; false if it was not watched (asyncio remove_reader). */
  abstract removeReader(fd: FileLike): boolean;
  /** Call `callback(...args)` whenever `fd` is writable (asyncio add_writer). */
  abstract addWriter<A extends unknown[]>(
    fd: FileLike,
    callback: (...args: A) => unknown,
    ...args: A
  ): void;
  /** Stop watching `fd` for writing; false if it was not watched (asyncio remove_writer). */
  abstract removeWriter(fd: FileLike): boolean;
  /** @ignore addReader for an fd the loop's own transports own: no user-fd checks (asyncio _add_reader). */
  abstract _addReader<A extends unknown[]>(fd: number, callback: (...args: A) => unknown, ...args: A): void;
  /** @ignore removeReader for an fd the loop's own transports own (asyncio _remove_reader). */
  abstract _removeReader(fd: number): boolean;
  /** @ignore addWriter for an fd the loop's own transports own (asyncio _add_writer). */
  abstract _addWriter<A extends unknown[]>(fd: number, callback: (...args: A) => unknown, ...args: A): void;
  /** @ignore removeWriter for an fd the loop's own transports own (asyncio _remove_writer). */
  abstract _removeWriter(fd: number): boolean;

  // The socket operations each loop family implements (asyncio AbstractEventLoop's sock_*),
  // declared here so that a loop typed BaseEventLoop offers the whole public surface.
  /** Receive up to `nbytes` bytes (asyncio sock_recv). */
  abstract sockRecv(sock: Socket, nbytes: number): Promise<Uint8Array>;
  /** Receive into `buf`; resolves to the byte count (asyncio sock_recv_into). */
  abstract sockRecvInto(sock: Socket, buf: BytesLike): Promise<number>;
  /** Receive a datagram and its sender (asyncio sock_recvfrom). */
  abstract sockRecvfrom(sock: Socket, bufsize: number): Promise<[Uint8Array, SockAddr]>;
  /** Receive a datagram into `buf` (at most `nbytes`, 0: all): [count, sender] (asyncio sock_recvfrom_into). */
  abstract sockRecvfromInto(sock: Socket, buf: BytesLike, nbytes?: number): Promise<[number, SockAddr]>;
  /** Send a datagram to `address` (asyncio sock_sendto). */
  abstract sockSendto(sock: Socket, data: BytesLike, address: AddressLike): Promise<number>;
  /** Accept a connection: resolves to [socket, address] (asyncio sock_accept). */
  abstract sockAccept(sock: Socket): Promise<[Socket, SockAddr]>;

  // ---- Pipes and subprocesses (each family's pipe transports; loop/process/subprocess.ts) ----------
  // Imported on first use: those modules bind POSIX calls (posix_spawn, fstat) when loaded, and
  // a loop on Windows must stay importable without them.

  /**
   * Wrap the read end of a pipe, FIFO, tty or character device (an fd or an object with
   * fileno()) in a read transport (asyncio connect_read_pipe); each loop family has its own.
   */
  abstract connectReadPipe<P extends ProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    pipe: FileLike,
  ): Promise<[ReadTransport, P]>;

  /** Wrap the write end of a pipe in a write transport (asyncio connect_write_pipe). */
  abstract connectWritePipe<P extends BaseProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    pipe: FileLike,
  ): Promise<[WriteTransport, P]>;

  /**
   * Start `program` with `args`, optionally followed by an options object {stdin, stdout,
   * stderr, cwd, env} (asyncio subprocess_exec). The streams default to PIPE.
   */
  async subprocessExec<P extends SubprocessProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    program: string,
    ...rest: ExecArgs<SubprocessOptions>
  ): Promise<[SubprocessTransport, P]> {
    const { subprocessExec } = await import("./process/subprocess.ts");
    return subprocessExec(this, protocolFactory, program, rest);
  }

  /** Run `cmd` with /bin/sh -c (asyncio subprocess_shell). */
  async subprocessShell<P extends SubprocessProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    cmd: string,
    options: SubprocessOptions = {},
  ): Promise<[SubprocessTransport, P]> {
    const { subprocessShell } = await import("./process/subprocess.ts");
    return subprocessShell(this, protocolFactory, cmd, options);
  }

  // ---- UNIX signals (loop/process/signals.ts) -------------------------------------------------------

  /**
   * Run `callback(...args)` on the loop when signal `sig` (a number or "SIGINT"-style name)
   * arrives (asyncio add_signal_handler). Replaces an earlier handler for the same signal.
   * ValueError for an invalid signal; RuntimeError for one that cannot be caught (SIGKILL,
   * SIGSTOP) or if the handler cannot be installed; TypeError for an async function;
   * NotImplementedError on Windows (no POSIX signals), as asyncio.
   */
  addSignalHandler<A extends unknown[]>(
    sig: SignalLike,
    callback: (...args: A) => unknown,
    ...args: A
  ): void {
    checkSignalHandlersAvailable();
    this._checkClosed();
    this._signals ??= new SignalHandlers(this);
    this._signals.add(sig, callback as Callback, args);
  }

  /**
   * Remove the handler for `sig`; false if there was none (asyncio remove_signal_handler).
   * NotImplementedError on Windows, as addSignalHandler.
   */
  removeSignalHandler(sig: SignalLike): boolean {
    checkSignalHandlersAvailable();
    signalNumber(sig); // a bad signal is a ValueError even when nothing is installed
    return this._signals?.remove(sig) ?? false;
  }

  // ---- Errors ---------------------------------------------------------------------------------

  /**
   * Set the handler `(loop, context)` for uncaught errors, or null for the default (asyncio
   * set_exception_handler). TypeError if it is neither a function nor null.
   */
  setExceptionHandler(handler: ExceptionHandler | null): void {
    if (handler !== null && typeof handler !== "function") {
      throw new TypeError(`A callable object or null is expected, got ${describe(handler)}`);
    }
    this._exceptionHandler = handler;
  }

  /** The custom exception handler, or null (asyncio get_exception_handler). */
  getExceptionHandler(): ExceptionHandler | null {
    return this._exceptionHandler;
  }

  /** Log `context` to the console, as asyncio's default handler logs it (asyncio default). */
  defaultExceptionHandler(context: ExceptionContext): void {
    const lines = [context.message || "Unhandled exception in event loop"];
    for (const key of Object.keys(context).sort()) {
      if (key === "message" || key === "exception") continue;
      lines.push(`${key}: ${formatContextValue(context[key])}`);
    }
    const exc = context.exception;
    if (exc !== undefined) lines.push(exc instanceof Error ? exc.stack ?? String(exc) : String(exc));
    console.error(lines.join("\n"));
  }

  /**
   * Pass `context` to the current exception handler (asyncio call_exception_handler). Never
   * throws: a failing custom handler is reported through the default one, with the original
   * context as `context`; a failing default handler is logged with console.error.
   */
  callExceptionHandler(context: ExceptionContext): void {
    const handler = this._exceptionHandler;
    if (handler === null) {
      try {
        this.defaultExceptionHandler(context);
      } catch (e) {
        logHandlerFailure("Exception in default exception handler", e);
      }
      return;
    }
    try {
      handler(this, context);
    } catch (exception) {
      try {
        this.defaultExceptionHandler({
          message: "Unhandled error in exception handler",
          exception,
          context,
        });
      } catch (e) {
        logHandlerFailure(
          "Exception in default exception handler while handling an unexpected error in custom exception handler",
          e,
        );
      }
    }
  }

  // ---- Debug ----------------------------------------------------------------------------------

  /** Debug mode (asyncio get_debug); defaults to true when AIOLOOP_DEBUG is non-empty. */
  getDebug(): boolean {
    return this._debug;
  }

  /** Turn debug mode on or off (asyncio set_debug). */
  setDebug(enabled: boolean): void {
    this._debug = !!enabled;
  }

  /** @ignore */
  protected _checkClosed(): void {
    if (this._closed) throw new RuntimeError("Event loop is closed");
  }
}

/**
 * `loop` as the BaseEventLoop it is. Futures, tasks and the running-loop slot hold their loop
 * as an AbstractEventLoop (loop/core/ cannot name this class); every loop that runs is a
 * BaseEventLoop, and the module-level functions (events.ts, concurrency/) hand out its
 * concrete Futures and Tasks. TypeError for a foreign object.
 */
export function baseEventLoopOf(loop: AbstractEventLoop): BaseEventLoop {
  if (loop instanceof BaseEventLoop) return loop;
  throw new TypeError(`an aioloop event loop was expected, got ${describe(loop)}`);
}

/** A context value for the default handler's log; a nested context (a plain object) by its keys. */
function formatContextValue(value: unknown): string {
  if (value === null || typeof value !== "object") return String(value);
  const proto = Object.getPrototypeOf(value);
  if ((proto !== Object.prototype && proto !== null) || Object.hasOwn(value, "toString")) {
    return String(value);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  return `{${entries.map(([k, v]) => `${k}: ${String(v)}`).join(", ")}}`;
}

/** asyncio logs what its exception handlers could not report; here that is console.error. */
function logHandlerFailure(message: string, error: unknown): void {
  try {
    console.error(`aioloop: ${message}:`, error);
  } catch {
    // The console itself failed: nothing left to report to.
  }
}

function checkTime(value: unknown, method: string, name: string): void {
  if (typeof value !== "number") {
    throw new TypeError(`${method}() ${name} must be a number of seconds, got ${describe(value)}`);
  }
  if (Number.isNaN(value)) throw new ValueError(`${method}() ${name} must not be NaN`);
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return x !== null && typeof x === "object" &&
    typeof (x as PromiseLike<unknown>).then === "function";
}
