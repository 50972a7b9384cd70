/**
 * Streams: async reads and writes over a transport (asyncio.streams). StreamReader buffers
 * what a StreamReaderProtocol receives and hands it out as read(), readline(), readexactly()
 * and readuntil(); StreamWriter writes, and drain() waits while the transport's write buffer
 * is over its high-water mark. openConnection/startServer (and their Unix twins) make the
 * pair on top of the loop's createConnection/createServer.
 *
 * Back-pressure both ways: the reader pauses the transport's reading once more than 2·limit
 * bytes wait unread and resumes it when a read brings them back under `limit`; the writer's
 * drain() waits between the protocol's pauseWriting() and resumeWriting().
 */
import { type KeysOf, refuseUnknownOptions } from "../core/options.ts";
import type { Inet6Family, InetFamily, UnixFamily } from "../../ffi/families.ts";
import { ECONNRESET } from "../../ffi/libc.ts";
import type { EventLoop } from "../event_loop.ts";
import { concat } from "../core/bytes.ts";
import { CancelledError, NotImplementedError, OSError, RuntimeError, ValueError } from "../core/errors.ts";
import { getEventLoop, getRunningLoop } from "../events.ts";
import type { AbstractFuture } from "../core/abstract_loop.ts";
import { Protocol } from "../transports/protocols.ts";
import type {
  CreateConnectionOptions, CreateServerOptions, CreateUnixConnectionOptions,
  CreateUnixServerOptions,
} from "../net/connections.ts";
import {
  CREATE_CONNECTION_OPTION_KEYS, CREATE_SERVER_OPTION_KEYS, CREATE_UNIX_CONNECTION_OPTION_KEYS,
  CREATE_UNIX_SERVER_OPTION_KEYS,
} from "../net/connections.ts";
import type { Server } from "../net/server.ts";
import type { SSLContext } from "../tls/ssl.ts";
import { startTls, type StartTlsOptions } from "../tls/start_tls.ts";
import type { ExtraInfo, ReadTransport, Transport, WriteTransport } from "../transports/base.ts";
import { IncompleteReadError, LimitOverrunError } from "./stream_errors.ts";

export { IncompleteReadError, LimitOverrunError } from "./stream_errors.ts";

/** The default limit of a StreamReader's buffer, 64 KiB (asyncio's _DEFAULT_LIMIT). */
export const DEFAULT_LIMIT = 64 * 1024;

const EMPTY = new Uint8Array(0);
const NEWLINE = new Uint8Array([10]);
const encoder = new TextEncoder();

/** Options of a StreamReader. */
export interface StreamReaderOptions {
  /** Buffer limit in bytes: readuntil()/readline() fail past it, reading pauses past 2·limit. */
  limit?: number | undefined;
  /** The loop whose futures the reader waits on; default getEventLoop(). */
  loop?: EventLoop | undefined;
}

/** @ignore The keys of StreamReaderOptions, for refuseUnknownOptions(). */
export const STREAM_READER_OPTION_KEYS: KeysOf<StreamReaderOptions> = {
  limit: true, loop: true,
};

/** A separator for readuntil(): bytes, a string (UTF-8), or a list of them. */
export type Separator = Uint8Array | string | readonly (Uint8Array | string)[];

/** Buffered bytes from a transport, read with async methods (asyncio.StreamReader). */
export class StreamReader implements AsyncIterable<Uint8Array> {
  private readonly _limit: number;
  private readonly _loop: EventLoop;
  // The unread bytes are _buffer[_start, _end); the rest of _buffer is free space.
  private _buffer: Uint8Array = EMPTY;
  private _start = 0;
  private _end = 0;
  private _eof = false;
  private _waiter: AbstractFuture<void> | null = null;
  private _exception: unknown = null;
  private _transport: ReadTransport | null = null;
  private _paused = false;

  /**
   * A reader with buffer limit `options.limit` (default 64 KiB). ValueError if the limit is not
   * positive.
   */
  constructor(options: StreamReaderOptions = {}) {
    refuseUnknownOptions(options, STREAM_READER_OPTION_KEYS, "StreamReader()");
    const limit = options.limit ?? DEFAULT_LIMIT;
    if (typeof limit !== "number" || !(limit > 0)) {
      throw new ValueError(`limit must be a positive number of bytes, got ${String(limit)}`);
    }
    this._limit = limit;
    this._loop = options.loop ?? getEventLoop();
  }

  /** The exception set by setException(), or null (asyncio exception). */
  exception(): unknown {
    return this._exception;
  }

  /** Make every pending and future read throw `exc` (asyncio set_exception). */
  setException(exc: unknown): void {
    this._exception = exc;
    const waiter = this._waiter;
    if (waiter !== null) {
      this._waiter = null;
      if (!waiter.done()) waiter.setException(exc);
    }
  }

  /** @ignore The transport this reader reads from, if any (web_streams.ts closes it on cancel). */
  _readTransport(): ReadTransport | null {
    return this._transport;
  }

  /** The transport to pause and resume for back-pressure; set once (asyncio set_transport). */
  setTransport(transport: ReadTransport): void {
    if (this._transport !== null) throw new RuntimeError("Transport already set");
    this._transport = transport;
  }

  /**
   * @ignore StreamWriter.startTls: pause and resume `transport` (the TLS one) from now on,
   * paused already if the old one was.
   */
  _replaceTransport(transport: ReadTransport): void {
    this._transport = transport;
    if (this._paused) transport.pauseReading();
  }

  /** No more bytes will come (asyncio feed_eof). */
  feedEof(): void {
    this._eof = true;
    this._wakeupWaiter();
  }

  /** True once EOF was fed and every buffered byte was read (asyncio at_eof). */
  atEof(): boolean {
    return this._eof && this._start === this._end;
  }

  /** Add bytes to the buffer (asyncio feed_data). The bytes are copied. */
  feedData(data: Uint8Array): void {
    this._feed(data, false);
  }

  /** @ignore feedData for bytes nobody else holds (a protocol's dataReceived): no copy. */
  _feedOwned(data: Uint8Array): void {
    this._feed(data, true);
  }

  /** Append `data` (owned: no copy needed) and wake a waiting read. */
  private _feed(data: Uint8Array, owned: boolean): void {
    if (this._eof) throw new RuntimeError("feedData() after feedEof()");
    const n = data.byteLength;
    if (n === 0) return;
    const size = this._end - this._start;
    if (size === 0 && owned) {
      this._buffer = data;
      this._start = 0;
      this._end = n;
    } else if (this._end + n <= this._buffer.byteLength) {
      this._buffer.set(data, this._end);
      this._end += n;
    } else {
      let buf = this._buffer;
      if (size + n > buf.byteLength) {
        buf = new Uint8Array(Math.max(size + n, 2 * buf.byteLength, 1024));
        buf.set(this._buffer.subarray(this._start, this._end));
      } else {
        buf.copyWithin(0, this._start, this._end);
      }
      buf.set(data, size);
      this._buffer = buf;
      this._start = 0;
      this._end = size + n;
    }
    this._wakeupWaiter();
    const transport = this._transport;
    if (transport !== null && !this._paused && this._end - this._start > 2 * this._limit) {
      try {
        transport.pauseReading();
        this._paused = true;
      } catch (e) {
        // A transport that cannot pause (asyncio: NotImplementedError) gets no back-pressure.
        if (!(e instanceof NotImplementedError)) throw e;
        this._transport = null;
      }
    }
  }

  /** Resolve the read that waits for data or EOF, if any. */
  private _wakeupWaiter(): void {
    const waiter = this._waiter;
    if (waiter !== null) {
      this._waiter = null;
      if (!waiter.done()) waiter.setResult();
    }
  }

  /** Resume the transport's reading once the buffer fell below the limit. */
  private _maybeResumeTransport(): void {
    if (this._paused && this._end - this._start <= this._limit) {
      this._paused = false;
      this._transport!.resumeReading();
    }
  }

  /**
   * A Future done once feedData(), feedEof() or setException() is called, for the caller to
   * await. Not an async function: an idle connection's pending read would hold one more
   * coroutine frame and Promise for it. A waiter cancelled with its task counts as gone.
   */
  private _waitForData(method: string): AbstractFuture<void> {
    if (this._waiter !== null && !this._waiter.done()) {
      throw new RuntimeError(
        `${method}() called while another coroutine is already waiting for incoming data`,
      );
    }
    if (this._eof) throw new RuntimeError("_waitForData after EOF");
    // Waiting with the transport paused would wait forever: a readuntil() that needs more
    // than 2·limit bytes to find its separator must still get them (and then fail cleanly).
    if (this._paused) {
      this._paused = false;
      this._transport!.resumeReading();
    }
    return this._waiter = this._loop.createFuture<void>();
  }

  /** Remove and return the first `n` buffered bytes (n <= buffered). */
  private _take(n: number): Uint8Array {
    const buf = this._buffer, start = this._start;
    if (start + n === this._end) {
      this._buffer = EMPTY;
      this._start = this._end = 0;
      // All of it: hand the array over instead of copying, unless that would keep a much
      // larger array alive behind a small view.
      return 2 * n >= buf.byteLength ? buf.subarray(start, start + n) : buf.slice(start, start + n);
    }
    this._start = start + n;
    return buf.slice(start, start + n);
  }

  /** Drop the first `n` buffered bytes (n <= buffered). */
  private _skip(n: number): void {
    this._start += n;
    if (this._start === this._end) {
      this._buffer = EMPTY;
      this._start = this._end = 0;
    }
  }

  /**
   * Read up to `n` bytes; with n < 0 (the default) read until EOF. Returns an empty array at
   * EOF (asyncio read).
   *
   * Not an async function: a handler idling in `await reader.read()` is most of what an idle
   * streams connection holds, and waiting through the waiter's then() keeps one closure where a
   * coroutine frame kept that frame, its Promise and the await's own Promise (bench/memory_await.ts).
   */
  read(n = -1): Promise<Uint8Array> {
    try {
      if (this._exception !== null) throw this._exception;
      if (n === 0) return Promise.resolve(EMPTY);
      if (n < 0) return this._readAll();
      if (this._start === this._end && !this._eof) {
        return this._waitForData("read").then(() => this._readNow(n));
      }
      return Promise.resolve(this._readNow(n));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** read(n) once bytes or EOF are there: up to `n` of the buffered bytes. */
  private _readNow(n: number): Uint8Array {
    const data = this._take(Math.min(n, this._end - this._start));
    this._maybeResumeTransport();
    return data;
  }

  /** read(-1): read in limit-sized pieces so that transport reading resumes as the buffer empties. */
  private async _readAll(): Promise<Uint8Array> {
    const blocks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const block = await this.read(this._limit);
      if (block.byteLength === 0) break;
      blocks.push(block);
      total += block.byteLength;
    }
    return concat(blocks, total);
  }

  /**
   * Read one line, ending in "\n" (asyncio readline). At EOF the partial last line is returned,
   * and an empty array once nothing is left. A line longer than the limit throws ValueError
   * (and is dropped from the buffer).
   */
  async readline(): Promise<Uint8Array> {
    try {
      return await this.readuntil(NEWLINE);
    } catch (e) {
      if (e instanceof IncompleteReadError) return e.partial;
      if (!(e instanceof LimitOverrunError)) throw e;
      const at = this._start + e.consumed;
      if (at < this._end && this._buffer[at] === 10) this._skip(e.consumed + 1);
      else this._skip(this._end - this._start);
      this._maybeResumeTransport();
      throw new ValueError(e.message);
    }
  }

  /**
   * Read up to and including `separator` (asyncio readuntil). Given a list of separators, the
   * one ending first wins. IncompleteReadError at EOF before a separator (the buffer is
   * emptied into its `partial`); LimitOverrunError if the data before the separator exceeds
   * the limit (the bytes stay in the buffer).
   */
  async readuntil(separator: Separator = NEWLINE): Promise<Uint8Array> {
    const seps = separatorList(separator);
    let minLen = Infinity, maxLen = 0;
    for (const s of seps) {
      minLen = Math.min(minLen, s.byteLength);
      maxLen = Math.max(maxLen, s.byteLength);
    }
    if (minLen === 0) throw new ValueError("Separator should be at least one-byte string");
    if (this._exception !== null) throw this._exception;

    // `offset` is where the next search starts: the bytes before it were searched already
    // (minus maxLen - 1, as a separator may straddle the old end and new data).
    let offset = 0;
    let matchStart = -1, matchEnd = -1;
    for (;;) {
      const size = this._end - this._start;
      if (size - offset >= minLen) {
        const view = this._buffer.subarray(this._start, this._end);
        for (const sep of seps) {
          const i = indexOf(view, sep, offset);
          if (i >= 0 && (matchEnd < 0 || i + sep.byteLength < matchEnd)) {
            matchStart = i;
            matchEnd = i + sep.byteLength;
          }
        }
        if (matchEnd >= 0) break;
        offset = Math.max(0, size + 1 - maxLen);
        if (offset > this._limit) {
          throw new LimitOverrunError("Separator is not found, and chunk exceed the limit", offset);
        }
      }
      if (this._eof) {
        const partial = this._take(size);
        throw new IncompleteReadError(partial, null);
      }
      await this._waitForData("readuntil");
    }
    if (matchStart > this._limit) {
      throw new LimitOverrunError("Separator is found, but chunk is longer than limit", matchStart);
    }
    const chunk = this._take(matchEnd);
    this._maybeResumeTransport();
    return chunk;
  }

  /**
   * Read exactly `n` bytes (asyncio readexactly). IncompleteReadError if EOF comes first (the
   * buffer is emptied into its `partial`).
   */
  async readexactly(n: number): Promise<Uint8Array> {
    if (!(n >= 0)) throw new ValueError("readexactly size can not be less than zero");
    if (this._exception !== null) throw this._exception;
    if (n === 0) return EMPTY;
    while (this._end - this._start < n) {
      if (this._eof) {
        const partial = this._take(this._end - this._start);
        throw new IncompleteReadError(partial, n);
      }
      await this._waitForData("readexactly");
    }
    const data = this._take(n);
    this._maybeResumeTransport();
    return data;
  }

  /** `for await (const line of reader)`: each line until EOF (asyncio's async iteration). */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const line = await this.readline();
      if (line.byteLength === 0) return;
      yield line;
    }
  }

  /** `<StreamReader …>`, for logs. */
  toString(): string {
    const info = ["StreamReader"];
    if (this._end > this._start) info.push(`${this._end - this._start} bytes`);
    if (this._eof) info.push("eof");
    if (this._limit !== DEFAULT_LIMIT) info.push(`limit=${this._limit}`);
    if (this._waiter !== null && !this._waiter.done()) info.push("waiter");
    if (this._exception !== null) info.push(`exception=${String(this._exception)}`);
    if (this._transport) info.push("transport");
    if (this._paused) info.push("paused");
    return `<${info.join(" ")}>`;
  }
}

function separatorList(separator: Separator): Uint8Array[] {
  const list = typeof separator === "string" || separator instanceof Uint8Array
    ? [separator]
    : [...separator];
  if (list.length === 0) throw new ValueError("Separator should contain at least one element");
  return list.map((s) => {
    if (typeof s === "string") return encoder.encode(s);
    if (s instanceof Uint8Array) return s;
    throw new TypeError(`separator must be a Uint8Array or a string, got ${typeof s}`);
  });
}

/** The first index >= from where `needle` occurs in `hay`, or -1. */
function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0], len = needle.byteLength, last = hay.byteLength - len;
  if (first === undefined) return from; // an empty needle (refused by the callers) is at `from`
  for (let i = hay.indexOf(first, from); i >= 0 && i <= last; i = hay.indexOf(first, i + 1)) {
    let j = 1;
    while (j < len && hay[i + j] === needle[j]) j++;
    if (j === len) return i;
  }
  return -1;
}

/** Python's ConnectionResetError('Connection lost'), as drain() raises it. */
function connectionLostError(): OSError {
  return new OSError(ECONNRESET, "ECONNRESET", "Connection lost");
}

/**
 * What a server's streams callback receives: the connection's reader and writer. It may be
 * an async function; it then runs as a Task, and an exception it throws is reported to the
 * loop's exception handler and closes the connection.
 */
export type ClientConnectedCallback = (
  reader: StreamReader,
  writer: StreamWriter,
) => void | PromiseLike<void>;

/**
 * @ignore Write flow control for a streams protocol (asyncio's FlowControlMixin): the
 * transport's pauseWriting()/resumeWriting() and connectionLost() go here, and
 * StreamWriter.drain() waits in wait().
 */
export class DrainWaiters {
  private _paused = false;
  private _connectionLost = false;
  private _waiters: AbstractFuture<void>[] | null = null; // made by the first wait that has to wait

  constructor(private readonly _loop: EventLoop) {}

  /** The transport's buffer is full: wait() waits. */
  pause(): void {
    this._paused = true;
  }

  /** The transport's buffer drained: wake the waiters. */
  resume(): void {
    this._paused = false;
    if (this._waiters === null) return;
    for (const w of this._waiters) if (!w.done()) w.setResult();
  }

  /** The connection is lost: wake the waiters with `exc`, or let them return. */
  lost(exc: Error | null): void {
    this._connectionLost = true;
    if (!this._paused || this._waiters === null) return;
    for (const w of this._waiters) {
      if (w.done()) continue;
      if (exc === null) w.setResult();
      else w.setException(exc);
    }
  }

  /** Wait while writing is paused; ConnectionResetError once the connection is lost. */
  async wait(): Promise<void> {
    if (this._connectionLost) throw connectionLostError();
    if (!this._paused) return;
    const waiter = this._loop.createFuture<void>();
    (this._waiters ??= []).push(waiter);
    try {
      await waiter;
    } finally {
      const i = this._waiters!.indexOf(waiter);
      if (i >= 0) this._waiters!.splice(i, 1);
    }
  }
}

/**
 * The protocol between a transport and a StreamReader (asyncio.StreamReaderProtocol): feeds
 * it received bytes and EOF, and gives StreamWriter.drain() its flow control. With a
 * `clientConnectedCb` (servers), each connection gets a StreamWriter and the callback runs.
 */
export class StreamReaderProtocol extends Protocol {
  private _reader: StreamReader | null;
  private readonly _clientConnectedCb: ClientConnectedCallback | null;
  private readonly _loop: EventLoop;
  /**
   * Done when the connection is lost; made when first asked for (waitClosed()), not per
   * connection up front: most servers never ask.
   */
  private _closed: AbstractFuture<void> | null = null;
  /** connectionLost() ran, with this error (null: a clean close). */
  private _lost = false;
  private _lostExc: Error | null = null;
  private _overSsl = false;
  /** drain()'s waiters, made when the transport first pauses writing: most never do. */
  private _drain: DrainWaiters | null = null;

  /**
   * A protocol feeding `streamReader`; `clientConnectedCb(reader, writer)` runs for each connection
   * (startServer). TypeError if it is not a function or null.
   */
  constructor(
    streamReader: StreamReader,
    clientConnectedCb: ClientConnectedCallback | null = null,
    loop: EventLoop = getEventLoop(),
  ) {
    super();
    if (clientConnectedCb !== null && typeof clientConnectedCb !== "function") {
      throw new TypeError("clientConnectedCb must be a function or null");
    }
    this._reader = streamReader;
    this._clientConnectedCb = clientConnectedCb;
    this._loop = loop;
  }

  /** Attach the transport to the reader, make the writer and start the client callback. */
  override connectionMade(transport: Transport): void {
    const reader = this._reader;
    reader?.setTransport(transport);
    this._overSsl = transport.getExtraInfo("sslcontext") != null;
    const cb = this._clientConnectedCb;
    if (cb === null || reader === null) return;
    const writer = new StreamWriter(transport, this, reader, this._loop);
    let task;
    if (isAsyncFunction(cb)) {
      // A coroutine function starts in its task's first step, as asyncio runs the coroutine.
      task = this._loop.createTask(() => cb(reader, writer) as PromiseLike<void>);
    } else {
      const result = cb(reader, writer);
      if (!isThenable(result)) return;
      task = this._loop.createTask(result);
    }
    task.addDoneCallback((t) => {
      if (t.cancelled()) {
        transport.close();
        return;
      }
      const exception = t.exception();
      if (exception !== undefined) {
        this._loop.callExceptionHandler({
          message: "Unhandled exception in client_connected_cb",
          exception,
          transport,
        });
        transport.close();
      }
    });
  }

  /** EOF (or `exc`) for the reader; wake drain() waiters. */
  override connectionLost(exc: Error | null): void {
    const reader = this._reader;
    if (reader !== null) {
      if (exc === null) reader.feedEof();
      else reader.setException(exc);
    }
    if (!this._lost) {
      this._lost = true;
      this._lostExc = exc;
      if (this._closed !== null) settleClosed(this._closed, exc);
    }
    this._drain?.lost(exc);
    this._reader = null;
  }

  /** Feed `data` to the reader. */
  override dataReceived(data: Uint8Array): void {
    this._reader?._feedOwned(data);
  }

  /** EOF for the reader; true keeps the transport open for writing (not over TLS). */
  override eofReceived(): boolean {
    this._reader?.feedEof();
    // Keep the transport open for writing (half-close), except over TLS, which cannot.
    return !this._overSsl;
  }

  /** The write buffer is full: drain() waits. */
  override pauseWriting(): void {
    (this._drain ??= new DrainWaiters(this._loop)).pause();
  }

  /** The write buffer drained: wake drain() waiters. */
  override resumeWriting(): void {
    this._drain?.resume();
  }

  /** @ignore Wait while writing is paused; ConnectionResetError once the connection is lost. */
  _drainHelper(): Promise<void> {
    // Never paused: what DrainWaiters.wait() does when not paused.
    if (this._drain === null) return this._lost ? Promise.reject(connectionLostError()) : Promise.resolve();
    return this._drain.wait();
  }

  /** @ignore The future that completes when the connection is lost. */
  _getCloseWaiter(): AbstractFuture<void> {
    if (this._closed === null) {
      this._closed = this._loop.createFuture<void>();
      if (this._lost) settleClosed(this._closed, this._lostExc);
    }
    return this._closed;
  }

  /** @ignore A server's protocol (it has a clientConnectedCb): the TLS server side. */
  _isServerSide(): boolean {
    return this._clientConnectedCb !== null;
  }

  /** @ignore StreamWriter.startTls moved the connection to `transport`, a TLS one. */
  _replaceTransport(transport: Transport): void {
    this._overSsl = transport.getExtraInfo("sslcontext") != null;
    this._reader?._replaceTransport(transport);
  }
}

/** The connection is lost: the close waiter's outcome is `exc` (null: a clean close). */
function settleClosed(closed: AbstractFuture<void>, exc: Error | null): void {
  if (closed.done()) return;
  if (exc === null) closed.setResult();
  else {
    closed.setException(exc);
    // Nobody has to wait for the close: do not report the error as never retrieved.
    closed.exception();
  }
}

/**
 * Writes to a transport, with drain() for back-pressure (asyncio.StreamWriter). Made by
 * openConnection() and given to startServer()'s callback; over a write-only transport
 * (connectWritePipe's) `T` is WriteTransport.
 */
export class StreamWriter<T extends WriteTransport = Transport> {
  private _transport: T;
  private readonly _protocol: StreamReaderProtocol;
  private readonly _reader: StreamReader | null;
  private readonly _loop: EventLoop;

  /**
   * Made by openConnection()/startServer(); by hand over connectWritePipe's transport, with a
   * StreamReaderProtocol as the pipe's protocol and `reader` null.
   */
  constructor(
    transport: T,
    protocol: StreamReaderProtocol,
    reader: StreamReader | null,
    loop: EventLoop,
  ) {
    this._transport = transport;
    this._protocol = protocol;
    this._reader = reader;
    this._loop = loop;
  }

  /** The underlying transport (asyncio StreamWriter.transport). */
  get transport(): T {
    return this._transport;
  }

  /** Write bytes now; what the OS does not take is buffered (asyncio write). Then drain(). */
  write(data: Uint8Array): void {
    this._transport.write(data);
  }

  /** Write several buffers (asyncio writelines). */
  writelines(data: Iterable<Uint8Array>): void {
    this._transport.writelines(data);
  }

  /** Close the write side after the buffered bytes (half-close; asyncio write_eof). */
  writeEof(): void {
    this._transport.writeEof();
  }

  /** True if writeEof() is supported (asyncio can_write_eof). */
  canWriteEof(): boolean {
    return this._transport.canWriteEof();
  }

  /** Close the connection after flushing (asyncio close); then await waitClosed(). */
  close(): void {
    this._transport.close();
  }

  /** True once closing (asyncio is_closing). */
  isClosing(): boolean {
    return this._transport.isClosing();
  }

  /**
   * Resolve once the connection is closed (asyncio wait_closed); throws the error that closed
   * it, if any.
   */
  async waitClosed(): Promise<void> {
    await this._protocol._getCloseWaiter();
  }

  /** `using`: close() when the scope ends. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * `await using`: close(), then wait until the connection is closed. The error that closed it,
   * if any, is not thrown here (waitClosed() throws it): a dispose must not hide the scope's own
   * error behind a peer's reset.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    try {
      await this.waitClosed();
    } catch (e) {
      if (e instanceof CancelledError) throw e;
    }
  }

  /** The transport's extra info: "peername", "sockname", "socket", … (asyncio get_extra_info). */
  getExtraInfo<K extends keyof ExtraInfo>(name: K): ExtraInfo[K] | undefined;
  /** A known key (ExtraInfo): its value, or `defaultValue` where this transport has none. */
  getExtraInfo<K extends keyof ExtraInfo, D>(name: K, defaultValue: D): ExtraInfo[K] | D;
  /** Any other key: its value, or `defaultValue`. */
  getExtraInfo(name: string, defaultValue?: unknown): unknown;
  getExtraInfo(name: string, defaultValue: unknown = undefined): unknown {
    return this._transport.getExtraInfo(name, defaultValue);
  }

  /**
   * Wait until it is fine to write again (asyncio drain): returns at once while the write
   * buffer is under its high-water mark, else when it drained to the low-water mark. Throws the
   * reader's exception, or ConnectionResetError once the connection is lost.
   */
  async drain(): Promise<void> {
    if (this._reader !== null) {
      const exc = this._reader.exception();
      if (exc !== null) throw exc;
    }
    if (this._transport.isClosing()) {
      // Let connectionLost() run first, so a write() + drain() loop on a closed connection
      // sees the error instead of spinning.
      await yieldToLoop(this._loop);
    }
    await this._protocol._drainHelper();
  }

  /**
   * Upgrade the connection to TLS in place (asyncio StreamWriter.start_tls, 3.11+): drain, then
   * the handshake (loop.startTls, loop/tls/start_tls.ts); this writer and its reader go on over TLS.
   * The client side unless the writer came from startServer(). On failure the connection is
   * closed and the error thrown.
   */
  async startTls(
    this: StreamWriter<Transport>,
    sslcontext: SSLContext,
    options: StreamStartTlsOptions = {},
  ): Promise<void> {
    const { serverHostname, sslHandshakeTimeout, sslShutdownTimeout } = options;
    await this.drain();
    this._transport = await startTls(this._loop, this._transport, this._protocol, sslcontext, {
      serverSide: this._protocol._isServerSide(),
      serverHostname,
      sslHandshakeTimeout,
      sslShutdownTimeout,
    });
    this._protocol._replaceTransport(this._transport);
  }

  /** `<StreamWriter …>`, for logs. */
  toString(): string {
    return `<StreamWriter transport=${String(this._transport)}${
      this._reader ? ` reader=${this._reader}` : ""
    }>`;
  }

}

// ---- Opening connections and servers ---------------------------------------------------------

/** Options of StreamWriter.startTls (loop.startTls's, the side being the writer's). */
export type StreamStartTlsOptions = Omit<StartTlsOptions, "serverSide">;

/** The streams functions' own option, besides those of createConnection/createServer. */
export interface StreamOptions {
  /** The StreamReader's buffer limit (default 64 KiB). */
  limit?: number | undefined;
}

/** @ignore The keys of StreamOptions, for refuseUnknownOptions(). */
export const STREAM_OPTION_KEYS: KeysOf<StreamOptions> = {
  limit: true,
};

/** The running loop, whose networking the streams use. */
function networkLoop(): EventLoop {
  return getRunningLoop();
}

async function openStreams(
  loop: EventLoop,
  limit: number | undefined,
  connect: (factory: () => StreamReaderProtocol) => Promise<[Transport, StreamReaderProtocol]>,
): Promise<[StreamReader, StreamWriter]> {
  const reader = new StreamReader({ limit, loop });
  const protocol = new StreamReaderProtocol(reader, null, loop);
  const [transport] = await connect(() => protocol);
  return [reader, new StreamWriter(transport, protocol, reader, loop)];
}

function streamsFactory(
  loop: EventLoop,
  limit: number | undefined,
  cb: ClientConnectedCallback,
): () => StreamReaderProtocol {
  if (typeof cb !== "function") throw new TypeError("clientConnectedCb must be a function");
  return () => new StreamReaderProtocol(new StreamReader({ limit, loop }), cb, loop);
}

/**
 * Connect to `host`:`port` and return [reader, writer] (asyncio open_connection). The other
 * options are createConnection's (ssl, family, localAddr, sock, signal, …).
 */
export async function openConnection(
  host?: string | null,
  port?: number | string | null,
  options: StreamOptions & CreateConnectionOptions = {},
): Promise<[StreamReader, StreamWriter]> {
  refuseUnknownOptions(options, { ...STREAM_OPTION_KEYS, ...CREATE_CONNECTION_OPTION_KEYS }, "openConnection()");
  const { limit, ...rest } = options;
  const loop = networkLoop();
  return openStreams(loop, limit, (f) => loop.createConnection(f, host, port, rest));
}

/**
 * Start a server calling `clientConnectedCb(reader, writer)` for each connection (asyncio
 * start_server). The other options are createServer's (backlog, reuseAddress, sock, …); the
 * server's family type is createServer's.
 */
export async function startServer<F extends number = InetFamily | Inet6Family>(
  clientConnectedCb: ClientConnectedCallback,
  host?: string | string[] | null,
  port?: number | string | null,
  options: StreamOptions & CreateServerOptions<F> = {},
): Promise<Server<F>> {
  refuseUnknownOptions(options, { ...STREAM_OPTION_KEYS, ...CREATE_SERVER_OPTION_KEYS }, "startServer()");
  const { limit, ...rest } = options;
  const loop = networkLoop();
  return loop.createServer(streamsFactory(loop, limit, clientConnectedCb), host, port, rest);
}

/** Connect to the Unix socket at `path` and return [reader, writer] (asyncio open_unix_connection). */
export async function openUnixConnection(
  path?: string | null,
  options: StreamOptions & CreateUnixConnectionOptions = {},
): Promise<[StreamReader, StreamWriter]> {
  refuseUnknownOptions(options, { ...STREAM_OPTION_KEYS, ...CREATE_UNIX_CONNECTION_OPTION_KEYS }, "openUnixConnection()");
  const { limit, ...rest } = options;
  const loop = networkLoop();
  return openStreams(loop, limit, (f) => loop.createUnixConnection(f, path, rest));
}

/** startServer() on a Unix socket at `path` (asyncio start_unix_server). */
export async function startUnixServer(
  clientConnectedCb: ClientConnectedCallback,
  path?: string | null,
  options: StreamOptions & CreateUnixServerOptions = {},
): Promise<Server<UnixFamily>> {
  refuseUnknownOptions(options, { ...STREAM_OPTION_KEYS, ...CREATE_UNIX_SERVER_OPTION_KEYS }, "startUnixServer()");
  const { limit, ...rest } = options;
  const loop = networkLoop();
  return loop.createUnixServer(streamsFactory(loop, limit, clientConnectedCb), path, rest);
}

/** One loop iteration (asyncio's sleep(0)) on `loop`. */
function yieldToLoop(loop: EventLoop): AbstractFuture<void> {
  const fut = loop.createFuture<void>();
  loop.callSoon(() => {
    if (!fut.done()) fut.setResult();
  });
  return fut;
}

function isAsyncFunction(fn: unknown): boolean {
  return Object.prototype.toString.call(fn) === "[object AsyncFunction]";
}

function isThenable(x: unknown): x is PromiseLike<void> {
  return x !== null && typeof x === "object" &&
    typeof (x as PromiseLike<unknown>).then === "function";
}
