/**
 * The contract between the selector loop and a platform poller (epoll, kqueue, poll).
 *
 * Modeled on mio's five verbs plus a waker. Ready events are reported through reusable
 * arrays instead of objects, so a busy loop allocates nothing per event.
 */

/** Interest/readiness bit: the fd is readable (Python's selectors.EVENT_READ). */
export const EVENT_READ = 1;
/** Interest/readiness bit: the fd is writable (Python's selectors.EVENT_WRITE). */
export const EVENT_WRITE = 2;

/** A platform poller, as SelectorEventLoop uses it (one per loop). */
export interface Selector {
  /** Start watching `fd` for `events` (EVENT_READ | EVENT_WRITE). Raises OSError (e.g. EBADF). */
  register(fd: number, events: number): void;
  /** Change the interest of an fd already registered. */
  modify(fd: number, events: number): void;
  /** Stop watching `fd`. Never raises: the fd may already be closed (the kernel forgot it). */
  unregister(fd: number): void;
  /**
   * Poll without blocking. Returns how many fds are ready; their fds and EVENT_* bits are then
   * in `readyFds[0..n)` and `readyEvents[0..n)`, valid until the next call.
   */
  poll(): number;
  /** The fds poll() found ready, in `[0, n)`. */
  readonly readyFds: Int32Array;
  /** The EVENT_* bits of each ready fd, in `[0, n)`. */
  readonly readyEvents: Uint8Array;
  /**
   * Wait off the JS thread until some fd is ready, `wakeup()` is called, or `timeoutMs` passes
   * (-1: no limit). Resolves without consuming events: call poll() afterwards.
   */
  park(timeoutMs: number): Promise<void>;
  /** End a park() in progress. Safe to call at any time; coalesces. */
  wakeup(): void;
  /** Release every fd and thread the selector opened. Idempotent. */
  close(): void;
}
