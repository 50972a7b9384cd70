/**
 * Module-level loop functions: newEventLoop, getEventLoop, setEventLoop, getRunningLoop, run.
 */
import { type KeysOf, refuseUnknownOptions } from "./core/options.ts";
import { type Awaitable, type BaseEventLoop, baseEventLoopOf } from "./base_loop.ts";
import { RuntimeError } from "./core/errors.ts";
import { getRunningLoopOrNull, setEventLoopGetter } from "./core/running.ts";
import { SelectorEventLoop } from "./selector/selector_loop.ts";
import { type SelectorChoice, selectorFrom } from "../platform/default_selector.ts";
import { proactorIsDefault } from "../platform/default_proactor.ts";
import { readEnv } from "../ffi/runtime.ts";
import { ProactorEventLoop } from "./proactor/proactor_loop.ts";

let currentLoop: BaseEventLoop | null = null;
/** setEventLoop() was called: getEventLoop() no longer creates a loop (asyncio's _set_called). */
let setCalled = false;

/** Options of newEventLoop(). */
export interface NewEventLoopOptions {
  /**
   * The readiness poller: "epoll", "kqueue", "poll", or a Selector object. Default: this OS's
   * own (epoll on Linux, kqueue on macOS/FreeBSD), or what AIOLOOP_SELECTOR names.
   */
  selector?: SelectorChoice | undefined;
  /**
   * true: a ProactorEventLoop (completion I/O: io_uring on Linux, IOCP on Windows). Default:
   * true on Windows (as in asyncio), else false, or true when AIOLOOP_LOOP=proactor. Where the
   * OS cannot (io_uring disabled), NotImplementedError says why.
   */
  proactor?: boolean | undefined;
}

/** @ignore The keys of NewEventLoopOptions, for refuseUnknownOptions(). */
export const NEW_EVENT_LOOP_OPTION_KEYS: KeysOf<NewEventLoopOptions> = {
  selector: true, proactor: true,
};

/** A new event loop for this OS (asyncio new_event_loop). */
export function newEventLoop(options: NewEventLoopOptions = {}): BaseEventLoop {
  refuseUnknownOptions(options, NEW_EVENT_LOOP_OPTION_KEYS, "newEventLoop()");
  const proactorByDefault = proactorIsDefault || readEnv("AIOLOOP_LOOP") === "proactor";
  if (options.proactor ?? (options.selector === undefined && proactorByDefault)) {
    // The two loops share every public method (see loop/proactor/proactor_loop.ts).
    return new ProactorEventLoop();
  }
  return new SelectorEventLoop(selectorFrom(options.selector));
}

/** The running loop; RuntimeError if none is running (asyncio get_running_loop). */
export function getRunningLoop(): BaseEventLoop {
  const loop = getRunningLoopOrNull();
  if (loop === null) throw new RuntimeError("no running event loop");
  return baseEventLoopOf(loop);
}

/**
 * The running loop, else the loop set with setEventLoop(), else — if setEventLoop() was never
 * called — a new one that becomes the current loop (asyncio get_event_loop, 3.12). RuntimeError
 * if setEventLoop(null) cleared it (as run() does when it ends).
 */
export function getEventLoop(): BaseEventLoop {
  const running = getRunningLoopOrNull();
  if (running !== null) return baseEventLoopOf(running);
  if (currentLoop === null && !setCalled) currentLoop = newEventLoop();
  if (currentLoop === null) throw new RuntimeError("There is no current event loop");
  return currentLoop;
}
setEventLoopGetter(getEventLoop);

/** Make `loop` the current loop, or clear it with null (asyncio set_event_loop). */
export function setEventLoop(loop: BaseEventLoop | null): void {
  if (loop !== null && (typeof loop !== "object" || typeof loop.runForever !== "function")) {
    throw new TypeError(`setEventLoop() needs an event loop or null, got ${typeof loop}`);
  }
  setCalled = true;
  currentLoop = loop;
}

/** Options of run() (asyncio's keyword arguments). */
export interface RunOptions {
  /** Run the loop in debug mode (asyncio.run's `debug`). */
  debug?: boolean | undefined;
}

/** @ignore The keys of RunOptions, for refuseUnknownOptions(). */
export const RUN_OPTION_KEYS: KeysOf<RunOptions> = {
  debug: true,
};

/** How long run() waits for the default executor's calls at the end (asyncio's, seconds). */
const THREAD_JOIN_TIMEOUT = 300;

/**
 * Run `main` on a new loop and close it (asyncio.run): tasks still pending at the end are
 * cancelled and awaited, and the default executor is shut down (waiting for its calls, up to
 * 300 s) first. RuntimeError if called while a loop is running.
 */
export async function run<T>(main: Awaitable<T>, options: RunOptions = {}): Promise<T> {
  refuseUnknownOptions(options, RUN_OPTION_KEYS, "run()");
  if (getRunningLoopOrNull() !== null) {
    throw new RuntimeError("run() cannot be called from a running event loop");
  }
  const loop = newEventLoop();
  if (options.debug !== undefined) loop.setDebug(options.debug);
  setEventLoop(loop);
  try {
    return await loop.runUntilComplete(main);
  } finally {
    try {
      await cancelAllTasks(loop);
      await loop.runUntilComplete(() => loop.shutdownDefaultExecutor(THREAD_JOIN_TIMEOUT));
    } finally {
      setEventLoop(null);
      loop.close();
    }
  }
}

async function cancelAllTasks(loop: BaseEventLoop): Promise<void> {
  const tasks = loop._liveTasks();
  if (tasks.length === 0) return;
  for (const t of tasks) t.cancel();
  const all = loop.createFuture<void>();
  let left = tasks.length;
  for (const t of tasks) {
    t.addDoneCallback(() => {
      if (--left === 0) all.setResult();
    });
  }
  await loop.runUntilComplete(all);
  for (const t of tasks) {
    if (t.cancelled()) continue;
    const exception = t.exception();
    if (exception !== undefined) {
      loop.callExceptionHandler({
        message: "unhandled exception during run() shutdown",
        exception,
        task: t,
      });
    }
  }
}
