/**
 * What every writing stream transport shares (the bookkeeping of asyncio's _SelectorTransport,
 * which its pipe and proactor transports repeat): the closing / connection-lost state machine,
 * the one _callConnectionLost path, failing on a protocol callback's error, the write-buffer
 * accounting flow control reads, and the BaseTransport methods.
 *
 * The states, in order: _closing (close(), abort() or a fatal error: no more reading) →
 * _connLost > 0 (connectionLost is scheduled; later writes are dropped and counted) →
 * _lostReported (connectionLost ran and the fd was released). Each is entered once.
 *
 * A subclass does the I/O through a few hooks (_startIo, _stopReading, _stopWriting, _release,
 * _writeChunk, _writeFailed, _isPeerError). The per-read and per-write code stays in the
 * subclasses or calls a hook as a plain method on `this`: no closure or Promise per event.
 */
import { EAGAIN, EINTR, lastErrno } from "../../ffi/libc.ts";
import type { AbstractEventLoop, AbstractFuture } from "../core/abstract_loop.ts";
import type { ExtraInfo, ExtraInfoTable } from "./base.ts";
import type { BytesLike } from "../core/bytes.ts";
import type { BaseProtocolLike } from "./protocols.ts";
import { FlowControl } from "./flow_control.ts";
import { lostReported, waitLost } from "./dispose.ts";

/** After this many writes to a lost connection, say so once (asyncio logs a warning). */
const LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5;

const EMPTY = new Uint8Array(0);
/**
 * The write queue of a transport with nothing queued, shared: an idle connection holds no
 * array of its own (32 bytes on V8), and a drained queue makes no new one.
 */
const NO_CHUNKS: Uint8Array[] = Object.freeze([]) as unknown as Uint8Array[];

/** A connection's transport over one fd, with a write buffer (see the file comment). */
export abstract class StreamTransport extends FlowControl {
  /** @ignore */ protected _loop: AbstractEventLoop;
  /** @ignore */ protected _protocol: BaseProtocolLike;
  /** @ignore */ protected readonly _fd: number;
  /** @ignore */ protected readonly _extra: ExtraInfoTable;
  /** @ignore */ protected _closing = false;
  /** @ignore Nonzero once connectionLost is scheduled; then counts the writes dropped. */
  protected _connLost = 0;
  private _lostReported = false;
  // The write buffer: chunks not yet taken by the fd, the first at _writeQueue[_writeHead]
  // (a head index, so that a drained chunk costs no Array.shift). _writeSize counts its bytes,
  // plus, on the proactor, those of the send in flight. Add to it with _queueChunk.
  /** @ignore */ protected _writeQueue: Uint8Array[] = NO_CHUNKS;
  /** @ignore */ protected _writeHead = 0;
  /** @ignore */ protected _writeSize = 0;

  /**
   * Schedules, in order: the protocol's connectionMade, _startIo, then `waiter`'s result (null),
   * each its own callback as asyncio does.
   */
  constructor(
    loop: AbstractEventLoop,
    fd: number,
    protocol: BaseProtocolLike,
    extra: ExtraInfoTable,
    waiter: AbstractFuture<unknown> | undefined,
  ) {
    super();
    this._loop = loop;
    this._fd = fd;
    this._protocol = protocol;
    this._extra = extra;
    loop.callSoon(connectionMade, this);
    loop.callSoon(startIo, this);
    if (waiter) loop.callSoon(resolveWaiter, waiter);
  }

  // ---- Hooks: the subclass's I/O --------------------------------------------------------------

  /** @ignore Begin I/O, once connectionMade has run (start reading, watch the peer). */
  abstract _startIo(): void;
  /** @ignore Stop reading from the fd: closing, or the protocol paused reading. */
  protected abstract _stopReading(): void;
  /** @ignore Stop watching for writability (or cancel the send in flight). */
  protected abstract _stopWriting(): void;
  /** @ignore After connectionLost: close the fd and let go of what the connection held. */
  protected abstract _release(): void;
  /** @ignore One non-blocking write of `chunk`; bytes taken, or −1 with errno set. */
  protected abstract _writeChunk(chunk: Uint8Array): number;
  /** @ignore A write failed with `errno`: fail the transport with the right message. */
  protected abstract _writeFailed(errno: number): void;
  /** @ignore True for errors that only mean the peer went away: not logged, only reported. */
  protected abstract _isPeerError(exc: unknown): boolean;
  // ---- BaseTransport -------------------------------------------------------------------------

  /**
   * Optional information about the connection (asyncio get_extra_info), recorded when the
   * transport was made; `defaultValue` when unknown.
   */
  getExtraInfo<K extends keyof ExtraInfo>(name: K): ExtraInfo[K] | undefined;
  /** A known key (ExtraInfo): its value, or `defaultValue` where this transport has none. */
  getExtraInfo<K extends keyof ExtraInfo, D>(name: K, defaultValue: D): ExtraInfo[K] | D;
  /** Any other key: its value, or `defaultValue`. */
  getExtraInfo(name: string, defaultValue?: unknown): unknown;
  getExtraInfo(name: string, defaultValue: unknown = undefined): unknown {
    const value = this._extra[name];
    return value === undefined ? defaultValue : value;
  }

  /** True once the transport is closing or closed (asyncio is_closing). */
  isClosing(): boolean {
    return this._closing;
  }

  /** Replace the protocol (asyncio set_protocol). */
  setProtocol(protocol: unknown): void {
    this._protocol = protocol as BaseProtocolLike;
  }

  /** The protocol receiving this transport's callbacks (asyncio get_protocol). */
  getProtocol(): BaseProtocolLike {
    return this._protocol;
  }

  /** Flush what is buffered, then close; reading stops at once (asyncio close). */
  close(): void {
    if (this._closing) return;
    this._closing = true;
    this._stopReading();
    if (this._writeSize === 0) {
      this._connLost++;
      this._loop.callSoon(callConnectionLost, this, null);
    }
  }

  /** Close now, dropping unsent data (asyncio abort). */
  abort(): void {
    this._forceClose(null);
  }

  /** `using`: close() when the scope ends (asyncio close). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `await using`: close(), then wait until connectionLost has run and the fd is released. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await waitLost(this, this._loop, this._lostReported);
  }

  // ---- Writing --------------------------------------------------------------------------------

  /** Bytes buffered for writing (asyncio get_write_buffer_size). */
  getWriteBufferSize(): number {
    return this._writeSize;
  }

  /** Write every chunk in order (asyncio writelines). */
  writelines(list: Iterable<BytesLike>): void {
    for (const chunk of list) this.write(chunk);
  }

  /** Write `data` (asyncio write); what the fd does not take now is buffered. */
  abstract write(data: BytesLike): void;

  /** @ignore A write after the connection was lost: dropped, and counted. */
  protected _dropWrite(warning: string): void {
    if (this._connLost === LOG_THRESHOLD_FOR_CONNLOST_WRITES) console.warn(warning);
    this._connLost++;
  }

  /**
   * @ignore The selector transports' write: straight to the fd when nothing is queued; what
   * it does not take is copied (the caller may reuse its array after write() returns) into the
   * queue, and _flushWriteQueue sends it when the fd is writable (_watchWritable).
   */
  protected _writeOrQueue(bytes: Uint8Array): void {
    if (this._writeSize === 0) {
      const n = this._writeChunk(bytes);
      if (n === bytes.byteLength) return;
      if (n < 0) {
        const errno = lastErrno();
        if (errno !== EAGAIN && errno !== EINTR) {
          this._writeFailed(errno);
          return;
        }
      } else {
        bytes = bytes.subarray(n);
      }
      this._watchWritable();
    }
    this._queueChunk(bytes.slice());
    this._writeSize += bytes.byteLength;
    this._maybePauseProtocol();
  }

  /** @ignore Append `chunk` to the write queue (the shared empty one is replaced, not grown). */
  protected _queueChunk(chunk: Uint8Array): void {
    if (this._writeQueue === NO_CHUNKS) this._writeQueue = [chunk];
    else this._writeQueue.push(chunk);
  }

  /** @ignore Call _flushWriteQueue when the fd is writable (used with _writeOrQueue). */
  protected _watchWritable(): void {}

  /**
   * @ignore The fd is writable: write queued chunks in order while it takes them. False if a
   * write failed; the queue is then dropped and the transport is failing.
   */
  protected _flushWriteQueue(): boolean {
    const queue = this._writeQueue;
    while (this._writeHead < queue.length) {
      const chunk = queue[this._writeHead]!; // _writeHead < queue.length
      const n = this._writeChunk(chunk);
      if (n < 0) {
        const errno = lastErrno();
        if (errno === EAGAIN || errno === EINTR) break;
        this._stopWriting();
        this._clearWriteQueue();
        this._writeFailed(errno);
        return false;
      }
      this._writeSize -= n;
      if (n < chunk.byteLength) {
        queue[this._writeHead] = chunk.subarray(n);
        break;
      }
      queue[this._writeHead++] = EMPTY;
    }
    if (this._writeHead === queue.length) {
      this._writeQueue = NO_CHUNKS;
      this._writeHead = 0;
    }
    this._maybeResumeProtocol();
    return true;
  }

  /** @ignore Drop everything buffered for writing. */
  protected _clearWriteQueue(): void {
    this._writeQueue = NO_CHUNKS;
    this._writeHead = 0;
    this._writeSize = 0;
  }

  // ---- Failing and closing --------------------------------------------------------------------

  /** @ignore Report `exc` (unless the peer merely left) and close at once. */
  _fatalError(exc: unknown, message: string): void {
    if (!this._isPeerError(exc)) {
      this._loop.callExceptionHandler({
        message,
        exception: exc,
        transport: this,
        protocol: this._protocol,
      });
    }
    this._forceClose(exc instanceof Error ? exc : new Error(String(exc)));
  }

  /** @ignore Drop unsent data, stop reading and schedule connectionLost(exc), once. */
  protected _forceClose(exc: Error | null): void {
    if (this._connLost) return;
    if (this._writeSize > 0) {
      this._clearWriteQueue();
      this._stopWriting();
    }
    this._closing = true;
    this._stopReading();
    this._connLost++;
    this._loop.callSoon(callConnectionLost, this, exc);
  }

  /** @ignore The one path to connectionLost: it runs exactly once, then the fd is released. */
  _callConnectionLost(exc: Error | null): void {
    if (this._lostReported) return;
    this._lostReported = true;
    // From now on write() drops its data: the fd number may already belong to someone else.
    this._connLost ||= 1;
    try {
      this._protocol.connectionLost?.(exc);
    } finally {
      this._release();
      lostReported(this);
    }
  }

  /** @ignore */
  _connectionMade(): void {
    try {
      this._protocol.connectionMade?.(this as never);
    } catch (e) {
      this._fatalError(e, "Fatal error: protocol.connectionMade() call failed.");
    }
  }
}

function connectionMade(t: StreamTransport): void {
  t._connectionMade();
}

function startIo(t: StreamTransport): void {
  t._startIo();
}

function resolveWaiter(waiter: AbstractFuture<unknown>): void {
  if (!waiter.done()) waiter.setResult(null);
}

function callConnectionLost(t: StreamTransport, exc: Error | null): void {
  t._callConnectionLost(exc);
}
