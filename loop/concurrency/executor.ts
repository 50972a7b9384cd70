/**
 * Executors (asyncio's run_in_executor / set_default_executor, concurrent.futures.Executor):
 * running code off the loop's thread and getting its result as a loop Future.
 *
 * An {@link Executor} is anything with `submit(fn, ...args)` returning a Promise and
 * `shutdown(wait)`. The default one is a {@link WorkerPoolExecutor}: a pool of Worker threads,
 * so CPU-bound work runs in parallel on every core while the loop keeps running.
 *
 * The task-naming contract. Functions cannot cross threads (structured clone refuses them, and a
 * closure's variables live in this thread's heap), so a pool task names its code instead:
 *   - `task(import.meta.url, "fib")`, or the plain object `{ module, export }`;
 *   - `module` is an absolute module URL (a URL object, `import.meta.url`,
 *     `import.meta.resolve("../core/tasks.ts")`); the worker thread imports it once and keeps it loaded
 *     for every later task, so its top-level code runs once per thread, not once per call;
 *   - `export` names an exported function; it is called with the arguments and may be async
 *     (the worker awaits it, one task per thread at a time).
 * What crosses: the arguments and the result are structured-cloned (numbers, strings, bigints,
 * plain objects and arrays, Map, Set, Date, RegExp, ArrayBuffer and typed arrays, Error) — class
 * instances arrive as plain objects, functions and symbols not at all (a TypeError names the
 * argument). An error thrown by the task arrives with its name, message, stack and own data
 * properties; built-in Error classes and aioloop's (RuntimeError, OSError…) are rebuilt as
 * such, any other class as an Error with that `name`.
 * A blocking FFI call runs the same way: the task's module opens the library and makes the call
 * on the worker thread (tests/fixtures/executor_tasks.ts does this with usleep).
 */
import { type KeysOf, refuseUnknownOptions } from "../core/options.ts";
import { Worker } from "node:worker_threads";
import { setImmediate } from "node:timers";
import type { AbstractEventLoop, AbstractFuture } from "../core/abstract_loop.ts";
import {
  CancelledError, InvalidStateError, NotImplementedError, OSError, RuntimeError, TimeoutError,
  ValueError,
} from "../core/errors.ts";
import { Future } from "../core/futures.ts";
import type { WireError } from "./executor_worker.ts";

/** A module failed to load, or has no such export (Python's ImportError). */
export class ImportError extends Error {
  /** Always "ImportError". */
  override name = "ImportError";
}

/** Names a function for a Worker thread to run: an absolute module URL and an export name. */
export interface WorkerTask {
  /** The absolute URL (or path) of the module that exports the function. */
  readonly module: string | URL;
  /** The name of the exported function. */
  readonly export: string;
}

/** The Promise an Executor's submit() returns; cancel() drops the call if it has not started. */
export type Submission<T> = PromiseLike<T> & { cancel?(): boolean };

/** What runInExecutor and setDefaultExecutor accept (concurrent.futures.Executor). */
export interface Executor {
  /** Schedule `fn(...args)`; the Promise settles with its result. */
  submit(fn: unknown, ...args: unknown[]): Submission<unknown>;
  /** Accept no more calls; with `wait`, the Promise resolves once the submitted ones finish. */
  shutdown(wait?: boolean): unknown;
}

/**
 * A loop that runs blocking calls in an executor (asyncio run_in_executor): what name
 * resolution (loop/net/dns.ts) asks of its loop. BaseEventLoop implements it.
 */
export interface ExecutorLoop extends AbstractEventLoop {
  /** Run `fn(...args)` in `executor` (null: the default one); a Future of its result. */
  runInExecutor<T = unknown>(executor: Executor | null, fn: unknown, ...args: unknown[]): AbstractFuture<T>;
}

/** Options of WorkerPoolExecutor.shutdown (Python's keyword arguments). */
export interface ShutdownOptions {
  /** Cancel the calls not yet started (their Promises reject with CancelledError). */
  cancelFutures?: boolean | undefined;
}

/** @ignore The keys of ShutdownOptions, for refuseUnknownOptions(). */
export const SHUTDOWN_OPTION_KEYS: KeysOf<ShutdownOptions> = {
  cancelFutures: true,
};

/** `{ module, export }` for a worker thread, checked now: `task(import.meta.url, "fib")`. */
export function task(module: string | URL, exportName: string): WorkerTask {
  return Object.freeze(checkTask({ module, export: exportName }, "task"));
}

// ---- The threads, shared by every pool in the process ------------------------------------------
//
// Why threads outlive the executor that started them: creating a node:worker_threads Worker
// blocks the JS thread for 30–77 ms on Deno 2.9 (its op_create_worker is synchronous; measured
// on this 2-core VM, ~12 ms for a web Worker, 0.2 ms on Bun), and park.ts notes Deno leaked
// fds per terminated Worker (not reproduced with 2.9.6's node:worker_threads: 40 terminated,
// 0 fds kept). asyncio gives every loop its own default ThreadPoolExecutor, which is cheap in
// Python; here a new pool per loop would stall every loop's first tasks. So an executor borrows
// threads from one process-wide set: a thread whose task ends goes back to an idle list (at
// most navigator.hardwareConcurrency are kept, the rest terminated), unref'd so an idle thread
// never keeps the process alive, and ref'd while it runs a task. Shutting an executor down
// stops it taking work, and its threads return to the idle list once their task ends.
// Threads are also started at most one per host macrotask turn, so the loop's timers run
// between two Worker constructions on Deno instead of after several.

const MAX_IDLE_THREADS = Math.max(1, navigator.hardwareConcurrency || 1);

interface Job {
  id: number;
  module: string;
  export: string;
  args: unknown[] | undefined;
  owner: WorkerPoolExecutor;
  state: "queued" | "running" | "settled";
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

let nextJobId = 1;
const allThreads = new Set<PoolThread>();
const idleThreads: PoolThread[] = [];
let spawnedThisTurn = false;
const waitingForThreads = new Set<WorkerPoolExecutor>();

class PoolThread {
  readonly worker: Worker;
  job: Job | null = null;
  private lastError: unknown;

  constructor() {
    this.worker = new Worker(new URL("./executor_worker.ts", import.meta.url));
    this.worker.unref();
    this.worker.on("message", (m: Reply) => this.onReply(m));
    this.worker.on("error", (e: unknown) => (this.lastError = e));
    this.worker.on("exit", (code: number) => this.onExit(code));
    allThreads.add(this);
  }

  run(job: Job): void {
    // Throws (DataCloneError) before anything changes if the arguments cannot be cloned.
    this.worker.postMessage({ id: job.id, module: job.module, export: job.export, args: job.args });
    this.job = job;
    job.state = "running";
    job.args = undefined;
    this.worker.ref();
  }

  private onReply(m: Reply): void {
    const job = this.job;
    if (job === null || m.id !== job.id) return;
    this.job = null;
    if (m.ok) job.resolve(m.value);
    else job.reject(rebuildError(m.error, job));
    job.state = "settled";
    releaseThread(this);
    job.owner._jobEnded();
  }

  private onExit(code: number): void {
    allThreads.delete(this);
    const i = idleThreads.indexOf(this);
    if (i >= 0) idleThreads.splice(i, 1);
    const job = this.job;
    if (job === null) return;
    this.job = null;
    job.state = "settled";
    const err = new RuntimeError(
      `the executor's worker thread ended (exit code ${code}) while running ${label(job)}` +
        (this.lastError instanceof Error ? `: ${this.lastError.message}` : ""),
    );
    if (this.lastError !== undefined) (err as { cause?: unknown }).cause = this.lastError;
    job.reject(err);
    job.owner._jobEnded();
  }
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

/** An idle thread, or a new one if none has been started in this host turn; else null. */
function takeThread(): PoolThread | null {
  const idle = idleThreads.pop();
  if (idle !== undefined) return idle;
  if (spawnedThisTurn) return null;
  spawnedThisTurn = true;
  setImmediate(endSpawnTurn);
  return new PoolThread();
}

function endSpawnTurn(): void {
  spawnedThisTurn = false;
  serveWaiting();
}

function serveWaiting(): void {
  for (const executor of [...waitingForThreads]) {
    waitingForThreads.delete(executor);
    executor._dispatch();
  }
}

function releaseThread(thread: PoolThread): void {
  thread.worker.unref();
  idleThreads.push(thread);
  serveWaiting();
  while (idleThreads.length > MAX_IDLE_THREADS) {
    const extra = idleThreads.shift()!;
    allThreads.delete(extra);
    void extra.worker.terminate();
  }
}

/** @ignore For tests: the process-wide threads, and how many are running a task. */
export function _executorThreads(): { total: number; idle: number; busy: number } {
  let busy = 0;
  for (const t of allThreads) if (t.job !== null) busy++;
  return { total: allThreads.size, idle: idleThreads.length, busy };
}

// ---- WorkerPoolExecutor ----------------------------------------------------------------------

/**
 * A pool of Worker threads (concurrent.futures' ThreadPoolExecutor, with the isolation of its
 * ProcessPoolExecutor): at most `maxWorkers` of this executor's calls run at once, default
 * navigator.hardwareConcurrency. submit() takes a {@link WorkerTask}, never a function.
 */
export class WorkerPoolExecutor implements Executor {
  private readonly maxWorkers: number;
  private readonly queue: Job[] = [];
  private running = 0;
  private shutDown = false;
  private idleWaiters: (() => void)[] = [];

  /**
   * A pool of at most `maxWorkers` threads. TypeError if it is not a number, ValueError if it is
   * not a positive integer.
   */
  constructor(maxWorkers?: number) {
    if (maxWorkers === undefined) maxWorkers = MAX_IDLE_THREADS;
    if (typeof maxWorkers !== "number") {
      throw new TypeError(`maxWorkers must be a number, got ${describeValue(maxWorkers)}`);
    }
    if (!Number.isInteger(maxWorkers) || maxWorkers <= 0) {
      throw new ValueError(`maxWorkers must be an integer greater than 0, got ${maxWorkers}`);
    }
    this.maxWorkers = maxWorkers;
  }

  /**
   * Run the function `fn` names on a worker thread with structured clones of `args`. Throws
   * TypeError for a plain function or an argument that cannot be cloned, RuntimeError after
   * shutdown(). The returned Promise has cancel(), true if the call had not started.
   */
  submit<T = unknown>(fn: unknown, ...args: unknown[]): Submission<T> {
    if (this.shutDown) throw new RuntimeError("cannot schedule new futures after shutdown");
    const t = checkTask(fn, "submit");
    let resolve!: (v: unknown) => void, reject!: (e: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res as (v: unknown) => void;
      reject = rej;
    });
    const job: Job = {
      id: nextJobId++, module: t.module, export: t.export, args, owner: this, state: "queued",
      resolve, reject,
    };
    const thread = this.queue.length === 0 && this.running < this.maxWorkers ? takeThread() : null;
    if (thread !== null) {
      try {
        thread.run(job); // clones the arguments now
      } catch (e) {
        releaseThread(thread);
        throw cloneError(e, args, job);
      }
      this.running++;
    } else {
      // Cloned now, as the direct path does: a later change to an argument does not reach the
      // task, and an argument that cannot cross fails here rather than in the Promise.
      try {
        job.args = structuredClone(args);
      } catch (e) {
        throw cloneError(e, args, job);
      }
      this.queue.push(job);
      this._dispatch();
    }
    return Object.assign(promise, { cancel: () => this.cancel(job) });
  }

  /**
   * Take no more calls (Executor.shutdown). Calls already submitted still run, unless
   * `cancelFutures`; with `wait` the Promise resolves once they have all ended. Never rejects.
   */
  shutdown(wait = true, options: ShutdownOptions = {}): Promise<void> {
    refuseUnknownOptions(options, SHUTDOWN_OPTION_KEYS, "shutdown()");
    this.shutDown = true;
    if (options.cancelFutures) {
      for (const job of this.queue.splice(0)) {
        job.state = "settled";
        job.reject(new CancelledError());
      }
      this._jobEnded();
    }
    if (!wait || (this.running === 0 && this.queue.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drop a queued job (its Submission rejects with CancelledError); false once it started. */
  private cancel(job: Job): boolean {
    if (job.state !== "queued") return false;
    this.queue.splice(this.queue.indexOf(job), 1);
    job.state = "settled";
    job.reject(new CancelledError());
    this._jobEnded();
    return true;
  }

  /** @ignore Start queued calls while this executor is under maxWorkers and threads exist. */
  _dispatch(): void {
    while (this.queue.length > 0 && this.running < this.maxWorkers) {
      const thread = takeThread();
      if (thread === null) {
        waitingForThreads.add(this);
        return;
      }
      const job = this.queue.shift()!;
      thread.run(job); // cannot throw: job.args is already a clone
      this.running++;
    }
  }

  /** @ignore A call of this executor ended (settled by its thread, or cancelled). */
  _jobEnded(): void {
    this.running = 0;
    for (const t of allThreads) if (t.job?.owner === this) this.running++;
    this._dispatch();
    if (this.running === 0 && this.queue.length === 0 && this.idleWaiters.length > 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }
}

// ---- Checking arguments and rebuilding errors ------------------------------------------------

/** @ignore TypeError unless `x` looks like an Executor (duck-typed, as asyncio's is not). */
export function checkExecutor(x: unknown, method: string): asserts x is Executor {
  if (x === null || typeof x !== "object" || typeof (x as Executor).submit !== "function" ||
    typeof (x as Executor).shutdown !== "function") {
    throw new TypeError(
      `${method}() needs an Executor (an object with submit() and shutdown()), got ` +
        describeValue(x),
    );
  }
}

/**
 * @ignore A loop Future that follows `submission` (asyncio wrap_future): settled through
 * callSoonThreadsafe, so on the loop and waking it if parked; dropped if the loop is closed by
 * then. Cancelling the Future cancels the call if it has not started.
 */
export function futureFromSubmission<T>(loop: AbstractEventLoop, submission: unknown): Future<T> {
  if (submission === null || typeof (submission as PromiseLike<T>)?.then !== "function") {
    throw new TypeError(
      `executor.submit() must return a Promise, got ${describeValue(submission)}`,
    );
  }
  const sub = submission as Submission<T>;
  const fut = new Future<T>(loop);
  const settle = (ok: boolean, value: unknown) => {
    if (loop.isClosed()) return;
    loop.callSoonThreadsafe(() => {
      if (fut.done()) return;
      if (ok) fut.setResult(value as T);
      else if (value instanceof CancelledError) fut.cancel();
      else fut.setException(value ?? new Error(`the executor call failed with ${value}`));
    });
  };
  sub.then((v) => settle(true, v), (e) => settle(false, e));
  fut.addDoneCallback((f) => {
    if (f.cancelled()) sub.cancel?.();
  });
  return fut;
}

function checkTask(fn: unknown, method: string): { module: string; export: string } {
  if (typeof fn === "function") {
    const name = fn.name || "myFunction";
    throw new TypeError(
      `${method}(): a function cannot cross to a Worker thread; export it from a module and ` +
        `pass task(import.meta.url, "${name}") (or { module, export }) instead`,
    );
  }
  if (fn === null || typeof fn !== "object") {
    throw new TypeError(
      `${method}() needs a task: task(moduleUrl, exportName) or { module, export }, got ` +
        describeValue(fn),
    );
  }
  const { module, export: exportName } = fn as { module?: unknown; export?: unknown };
  let href: string;
  if (module instanceof URL) href = module.href;
  else if (typeof module === "string" && URL.canParse(module)) href = new URL(module).href;
  else {
    throw new TypeError(
      `${method}(): a task's module must be an absolute URL (import.meta.url, ` +
        `import.meta.resolve("../core/tasks.ts")), got ${describeValue(module)}`,
    );
  }
  if (typeof exportName !== "string" || exportName === "") {
    throw new TypeError(
      `${method}(): a task's export must be the name of an exported function, got ` +
        describeValue(exportName),
    );
  }
  return { module: href, export: exportName };
}

/** The DataCloneError of an argument, as a TypeError that says which argument it was. */
function cloneError(e: unknown, args: unknown[], job: Job): unknown {
  // Bun and structuredClone throw a DataCloneError DOMException, Deno's postMessage a TypeError.
  const name = (e as { name?: unknown } | null)?.name;
  if (name !== "DataCloneError" && !(e instanceof TypeError)) return e;
  const where = findUncloneable(args, "args", new Set()) ?? "an argument";
  const err = new TypeError(
    `${where} of ${label(job)} cannot be structured-cloned to a Worker thread ` +
      `(${(e as Error).message}); ` +
      "pass plain data (numbers, strings, arrays, plain objects, typed arrays…)",
  );
  (err as { cause?: unknown }).cause = e;
  return err;
}

/** The path of the first value structured clone refuses (`args[1].f (a function)`). */
function findUncloneable(x: unknown, path: string, seen: Set<unknown>): string | undefined {
  if (typeof x === "function") return `${path} (a function)`;
  if (typeof x === "symbol") return `${path} (a symbol)`;
  if (x === null || typeof x !== "object" || seen.has(x)) return undefined;
  seen.add(x);
  const entries: [string, unknown][] = Array.isArray(x)
    ? x.map((v, i) => [`${path}[${i}]`, v])
    : x instanceof Map
    ? [...x].flatMap(([k, v], i) => [[`${path} key #${i}`, k], [`${path}.get(${String(k)})`, v]])
    : x instanceof Set
    ? [...x].map((v, i) => [`${path} item #${i}`, v])
    : Object.entries(x).map(([k, v]) => [`${path}.${k}`, v]);
  for (const [p, v] of entries) {
    const found = findUncloneable(v, p, seen);
    if (found !== undefined) return found;
  }
  try {
    structuredClone(x);
  } catch {
    return `${path} (${(x as object).constructor?.name ?? "object"})`;
  }
  return undefined;
}

const rebuildable: Record<string, new (message: string) => Error> = {
  Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, RuntimeError,
  ValueError, TimeoutError, NotImplementedError, InvalidStateError, ImportError,
};

/** The error a worker reported, as an Error of this thread. */
function rebuildError(w: WireError, job: Job): Error {
  switch (w.kind) {
    case "import": {
      const err = new ImportError(
        `cannot import module ${job.module} for ${label(job)}: ${w.name}: ${w.message}`,
      );
      (err as { cause?: unknown }).cause = rebuildError({ ...w, kind: "raised" }, job);
      return err;
    }
    case "export":
      return new ImportError(`cannot import name "${job.export}" from ${job.module}: no such export`);
    case "notFunction":
      return new TypeError(`${label(job)} is not a function (the export is ${w.message})`);
    case "result":
      return new TypeError(
        `the result of ${label(job)} cannot be structured-cloned back from its Worker thread ` +
          `(${w.message})`,
      );
  }
  const props = w.props ?? {};
  let err: Error;
  const errno = props["errno"];
  if (w.name === "OSError" && typeof errno === "number") {
    err = new OSError(errno, String(props["code"]), String(props["strerror"]));
  } else {
    err = new (rebuildable[w.name] ?? Error)(w.message);
  }
  for (const [k, v] of Object.entries(props)) {
    try {
      (err as unknown as Record<string, unknown>)[k] = v;
    } catch {
      // A read-only property of the rebuilt class: keep the class's own value.
    }
  }
  Object.defineProperty(err, "message", { value: w.message, writable: true, configurable: true });
  if (err.name !== w.name) {
    Object.defineProperty(err, "name", { value: w.name, writable: true, configurable: true });
  }
  if (w.stack !== undefined) {
    Object.defineProperty(err, "stack", { value: w.stack, writable: true, configurable: true });
  }
  return err;
}

function label(job: { module: string; export: string }): string {
  return `executor task "${job.export}" from ${job.module}`;
}

function describeValue(x: unknown): string {
  if (x === null) return "null";
  if (x === undefined) return "undefined";
  if (typeof x === "string") return JSON.stringify(x);
  if (typeof x === "object") return (x as object).constructor?.name ?? "object";
  return `${typeof x} ${String(x)}`;
}
