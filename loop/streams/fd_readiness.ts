/**
 * readableEvents(fd) / writableEvents(fd): an fd's readiness as an async iterator, for scripts
 * that want `for await (const fd of readableEvents(tun)) os.read(fd, 2048)` rather than a
 * protocol class or addReader callbacks. Built on the running loop's addReader/addWriter.
 *
 * Each step means "the fd is ready now": read or write non-blocking until BlockingIOError,
 * then ask for the next step. The iterator adds its reader on the first next() and removes it
 * when the iteration ends: `break` or `return` (the loop calls return()), close(), or the
 * waiting task being cancelled (how the loop's run() ends it).
 *
 * Cost per event. next() first asks the kernel whether the fd is ready already (poll(2) with
 * timeout 0: one system call, no allocation); if it is — events already pending — it returns a
 * cached resolved Promise. Only otherwise does it wait, on a loop Future that the reader
 * callback resolves after the same check (the loop may have polled before the consumer's
 * last read, and a stale event would wake it for nothing). While the consumer holds a step (between that resolution and its next
 * next()), the level-triggered reader fires again on the loop's next poll; the second such
 * event pauses the watch, so a slow or idle consumer does not make the loop spin, and the
 * next next() adds it back.
 */
import type { BaseEventLoop } from "../base_loop.ts";
import { type FileLike, fileObjToFd } from "../core/file_like.ts";
import type { Future } from "../core/futures.ts";
import { getRunningLoop } from "../events.ts";
import { readyNow } from "../../ffi/files.ts";

/** What readableEvents/writableEvents take besides the fd. */
export interface FdEventsOptions {
  /** The loop to watch on (default: the running loop). */
  loop?: BaseEventLoop;
}

/**
 * An fd's read or write readiness as an async iterator of the fd (see readableEvents). Also
 * closable by hand: close() stops watching and ends the iteration.
 */
export class FdEvents implements AsyncIterableIterator<number> {
  /** The fd watched. */
  readonly fd: number;
  private readonly _loop: BaseEventLoop;
  private readonly _writing: boolean;
  private _watching = false;
  /** Events seen while the consumer holds its step (see the module comment). */
  private _held = 0;
  private _closed = false;
  private _waiter: Future<IteratorResult<number>> | null = null;
  private readonly _ready: IteratorResult<number>;
  private readonly _readyPromise: Promise<IteratorResult<number>>;
  private static readonly _done: IteratorResult<number> = Object.freeze({ done: true, value: undefined });

  /** Use readableEvents()/writableEvents(). */
  constructor(loop: BaseEventLoop, fd: number, writing: boolean) {
    this._loop = loop;
    this.fd = fd;
    this._writing = writing;
    this._ready = Object.freeze({ done: false, value: fd });
    this._readyPromise = Promise.resolve(this._ready);
  }

  /** Wait until the fd is ready; `{ done: true }` once closed. */
  next(): Promise<IteratorResult<number>> {
    if (this._closed) return Promise.resolve(FdEvents._done);
    if (this._waiter !== null) {
      return Promise.reject(new TypeError(`${this}: next() called while an earlier next() still waits`));
    }
    this._held = 0;
    if (readyNow(this.fd, this._writing)) return this._readyPromise;
    try {
      this._watch();
    } catch (e) {
      return Promise.reject(e);
    }
    const waiter = this._loop.createFuture<IteratorResult<number>>();
    waiter.addDoneCallback(this._onWaiterDone);
    this._waiter = waiter;
    // A loop Future, so that cancelling the awaiting task cancels this wait (futures.ts then()).
    return waiter as unknown as Promise<IteratorResult<number>>;
  }

  /** Stop watching and end the iteration (`break` in `for await` calls this). */
  return(): Promise<IteratorResult<number>> {
    this.close();
    return Promise.resolve(FdEvents._done);
  }

  /** Stop watching the fd; a next() waiting now ends with `{ done: true }`. Idempotent. */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    this._unwatch();
    const waiter = this._waiter;
    this._waiter = null;
    if (waiter !== null && !waiter.done()) waiter.setResult(FdEvents._done);
  }

  /** This iterator. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /** `<FdEvents fd=3 readable>`, for logs. */
  toString(): string {
    return `<FdEvents fd=${this.fd} ${this._writing ? "writable" : "readable"}${this._closed ? " closed" : ""}>`;
  }

  /** Add the reader (writer) unless it is there. */
  private _watch(): void {
    if (this._watching) return;
    if (this._writing) this._loop.addWriter(this.fd, this._onReady);
    else this._loop.addReader(this.fd, this._onReady);
    this._watching = true;
  }

  /** Remove the reader (writer) if it is there. */
  private _unwatch(): void {
    if (!this._watching) return;
    this._watching = false;
    if (this._loop.isClosed()) return; // close() dropped every watch
    if (this._writing) this._loop.removeWriter(this.fd);
    else this._loop.removeReader(this.fd);
  }

  // Bound once: the loop keeps one handle per watched fd and calls this on each event.
  private readonly _onReady = (): void => {
    const waiter = this._waiter;
    if (waiter !== null) {
      // This event may predate the consumer's last read: the loop polled, queued this call,
      // then let the consumer's coroutine run first. Ask the kernel before waking it.
      if (!readyNow(this.fd, this._writing)) return;
      this._waiter = null;
      if (!waiter.done()) {
        waiter.setResult(this._ready);
        return;
      }
    }
    if (++this._held >= 2) this._unwatch(); // the consumer is slow or idle: pause
  };

  // The waiting task was cancelled (the loop ending it, or a timeout): stop watching.
  private readonly _onWaiterDone = (waiter: Future<IteratorResult<number>>): void => {
    if (!waiter.cancelled()) return;
    if (this._waiter === waiter) this._waiter = null;
    this._unwatch();
  };
}

function start(fd: FileLike, options: FdEventsOptions, writing: boolean): FdEvents {
  const fdNumber = fileObjToFd(fd);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be an object, got ${options === null ? "null" : typeof options}`);
  }
  return new FdEvents(options.loop ?? getRunningLoop(), fdNumber, writing);
}

/**
 * `fd` (an fd or an object with fileno()) each time it is readable, as an async iterator over
 * the running loop's addReader: `for await (const fd of readableEvents(tun)) …`; read it
 * non-blocking until BlockingIOError at each step. The reader is removed when the iteration
 * ends (break, close(), the waiting task cancelled). ValueError for a bad fd, RuntimeError
 * with no running loop; next() rejects with the loop's addReader error.
 */
export function readableEvents(fd: FileLike, options: FdEventsOptions = {}): FdEvents {
  return start(fd, options, false);
}

/** As readableEvents, for writability (addWriter): write non-blocking at each step. */
export function writableEvents(fd: FileLike, options: FdEventsOptions = {}): FdEvents {
  return start(fd, options, true);
}
