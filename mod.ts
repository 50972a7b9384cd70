/**
 * aioloop: Python asyncio's event loop for Deno and Bun, driving the OS poller (epoll) through
 * FFI. Names are asyncio's in camelCase; times are in seconds.
 *
 * @module
 */
export {
  BaseEventLoop,
  type Awaitable,
  type CreateTaskOptions,
  type ExceptionContext,
  type ExceptionHandler,
} from "./loop/base_loop.ts";
export { SelectorEventLoop, fileObjToFd, type FileLike } from "./loop/selector_loop.ts";
export { EVENT_READ, EVENT_WRITE, type Selector } from "./loop/selector.ts";
export { Handle, TimerHandle } from "./loop/handles.ts";
export { Future, isFuture, type DoneCallback } from "./loop/futures.ts";
export { Task, currentTask, type Coroutine } from "./loop/tasks.ts";
export {
  getEventLoop, getRunningLoop, newEventLoop, run, setEventLoop, type RunOptions,
} from "./loop/events.ts";
export {
  allTasks, ensureFuture, gather, sleep, waitFor, type GatherOptions, type LoopOption,
} from "./loop/coroutines.ts";
export {
  CancelledError, InvalidStateError, NotImplementedError, OSError, RuntimeError, TimeoutError,
  ValueError,
} from "./loop/errors.ts";
export {
  AF_INET, AF_INET6, AF_UNIX, SOCK_DGRAM, SOCK_STREAM, Socket, socketpair, type BytesLike,
} from "./loop/socket.ts";
