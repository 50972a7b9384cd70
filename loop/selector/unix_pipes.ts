/**
 * Pipe transports of the selector loop (asyncio unix_events' _UnixReadPipeTransport and
 * _UnixWritePipeTransport): pipes, FIFOs, ttys/ptys, sockets and character devices, read with
 * read(2) and written with write(2). Same shape as the socket transport: the reader and writer
 * callbacks are bound once, no Promise or closure per event, and connectionLost runs exactly
 * once through _callConnectionLost, which then closes the pipe.
 *
 * Character devices without a poll method (/dev/zero, /dev/urandom, /dev/null) are refused by
 * epoll_ctl with EPERM (epoll_ctl(2)); poll(2) counts such files as always ready, so the
 * transport treats them the same way: it reads (or retries a write) once per loop iteration
 * through callSoon instead of waiting for readiness. Regular files and directories are refused
 * before a transport is made (see checkPipeFd).
 */
import { EAGAIN, EINTR, EIO, EPERM, EPIPE, closeFd, lastErrno, libc, osError, setNonBlocking } from "../../ffi/libc.ts";
import { fileType, S_IFCHR, S_IFDIR, S_IFIFO, S_IFREG, S_IFSOCK } from "../../ffi/spawn.ts";
import { asBytes, type BytesLike } from "../core/bytes.ts";
import { OSError, ValueError } from "../core/errors.ts";
import type { FileLike } from "../core/file_like.ts";
import type { Future } from "../core/futures.ts";
import type { BaseProtocolLike, ProtocolLike } from "../transports/protocols.ts";
import type { BaseEventLoop } from "../base_loop.ts";
import { type ReadTransport, whenConnected, type WriteTransport } from "../transports/base.ts";
import { receiveArena } from "../transports/receive_arena.ts";
import { StreamTransport } from "../transports/stream_base.ts";
import { lostReported, waitLost } from "../transports/dispose.ts";

/**
 * Check that `fd` is something the poller can watch as a stream: a pipe/FIFO, a socket or a
 * character device. Returns its file type; ValueError for a regular file or directory, which
 * epoll cannot watch (epoll_ctl(2) refuses them with EPERM, and they are always "ready").
 */
export function checkPipeFd(fd: number): number {
  const type = fileType(fd);
  if (type !== S_IFIFO && type !== S_IFSOCK && type !== S_IFCHR) {
    const what = type === S_IFREG ? "a regular file" : type === S_IFDIR ? "a directory" : "this kind of file";
    throw new ValueError(
      `Pipe transport is for pipes, FIFOs, sockets and character devices only: fd ${fd} is ` +
        `${what}, which epoll cannot watch (read it with ordinary file I/O instead)`,
    );
  }
  return type;
}

/** Options for making a pipe transport. */
export interface PipeTransportOptions {
  /** Resolved with null once connectionMade has run. */
  waiter?: Future<unknown>;
  extra?: Record<string, unknown>;
}

/** Close what the transport was given: the object's close() if it has one, else the fd. */
function closePipe(pipe: FileLike, fd: number): void {
  if (typeof pipe === "object" && typeof (pipe as { close?: unknown }).close === "function") {
    (pipe as unknown as { close(): void }).close();
  } else {
    closeFd(fd);
  }
}

/** True when the loop's poller refused `fd` because the file has no poll support (EPERM). */
function isUnpollable(e: unknown): boolean {
  return e instanceof OSError && e.errno === EPERM;
}

// ---- Reading --------------------------------------------------------------------------------

/** The read end of a pipe (asyncio's _UnixReadPipeTransport). */
export class ReadPipeTransport implements ReadTransport {
  private readonly _loop: BaseEventLoop;
  private _protocol: ProtocolLike;
  private readonly _pipe: FileLike;
  private readonly _fd: number;
  private readonly _extra: Record<string, unknown>;
  private _closing = false;
  private _paused = false;
  private _lost = false;
  private _lostReported = false;
  /** False for an fd epoll refused: it is read once per iteration through callSoon. */
  private _pollable = true;
  private _polling = false;
  private readonly _onReadable: () => void;

  /** Made by connectReadPipe(); use that. */
  constructor(
    loop: BaseEventLoop,
    pipe: FileLike,
    fd: number,
    protocol: ProtocolLike,
    options: PipeTransportOptions = {},
  ) {
    this._loop = loop;
    this._pipe = pipe;
    this._fd = fd;
    this._protocol = protocol;
    this._extra = { pipe, ...options.extra };
    setNonBlocking(fd, true);
    this._onReadable = this._readReady.bind(this);
    loop.callSoon(readConnectionMade, this);
    loop.callSoon(readStart, this);
    if (options.waiter) loop.callSoon(resolveWaiter, options.waiter);
  }

  getExtraInfo(name: string, defaultValue: unknown = undefined): unknown {
    return name in this._extra ? this._extra[name] : defaultValue;
  }

  isClosing(): boolean {
    return this._closing;
  }

  setProtocol(protocol: unknown): void {
    this._protocol = protocol as ProtocolLike;
  }

  getProtocol(): ProtocolLike {
    return this._protocol;
  }

  /** The pipe's fd. */
  fileno(): number {
    return this._fd;
  }

  isReading(): boolean {
    return !this._paused && !this._closing;
  }

  /** Stop calling dataReceived until resumeReading() (asyncio pause_reading). */
  pauseReading(): void {
    if (this._closing || this._paused) return;
    this._paused = true;
    this._stopWatching();
  }

  resumeReading(): void {
    if (this._closing || !this._paused) return;
    this._paused = false;
    this._startWatching();
  }

  /** Stop reading and close the pipe; connectionLost(null) follows (asyncio close). */
  close(): void {
    if (!this._closing) this._close(null);
  }

  /** `using`: close() when the scope ends (asyncio close). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `await using`: close(), then wait until connectionLost has run and the pipe is closed. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await waitLost(this, this._loop, this._lostReported);
  }

  /** @internal */
  _connectionMade(): void {
    try {
      this._protocol.connectionMade?.(this as never);
    } catch (e) {
      this._fatalError(e, "Fatal error: protocol.connectionMade() call failed.");
    }
  }

  /** @internal */
  _startWatching(): void {
    if (this._closing || this._paused) return;
    if (this._pollable) {
      try {
        this._loop.addReader(this._fd, this._onReadable);
        return;
      } catch (e) {
        if (!isUnpollable(e)) {
          this._fatalError(e, "Fatal error: cannot watch the pipe");
          return;
        }
        this._pollable = false;
      }
    }
    if (!this._polling) {
      this._polling = true;
      this._loop.callSoon(this._onReadable);
    }
  }

  /** Stop watching the fd for reading. */
  private _stopWatching(): void {
    if (this._pollable) this._loop.removeReader(this._fd);
  }

  /** The fd is readable: read a chunk and hand it to the protocol (EOF ends the transport). */
  private _readReady(): void {
    if (!this._pollable) {
      this._polling = false;
      if (this._closing || this._paused) return;
    }
    if (this._lost) return;
    const n = libc.read(this._fd, receiveArena.space, receiveArena.spaceLimit);
    if (n > 0) {
      const data = receiveArena.takeReceived(n);
      try {
        this._protocol.dataReceived?.(data);
      } catch (e) {
        this._fatalError(e, "Fatal error: protocol.dataReceived() call failed.");
        return;
      }
    } else if (n === 0) {
      // EOF: as asyncio, eofReceived() then connectionLost(null), each in its own callback.
      this._closing = true;
      this._stopWatching();
      this._lost = true;
      this._loop.callSoon(readEofReceived, this);
      this._loop.callSoon(readCallConnectionLost, this, null);
      return;
    } else {
      const errno = lastErrno();
      if (errno !== EAGAIN && errno !== EINTR) {
        this._fatalError(osError("read", errno), "Fatal read error on pipe transport");
        return;
      }
    }
    if (!this._pollable && !this._closing && !this._paused && !this._polling) {
      this._polling = true;
      this._loop.callSoon(this._onReadable);
    }
  }

  /** @internal */
  _eofReceived(): void {
    try {
      this._protocol.eofReceived?.();
    } catch (e) {
      this._loop.callExceptionHandler({
        message: "protocol.eofReceived() call failed.",
        exception: e,
        transport: this,
        protocol: this._protocol,
      });
    }
  }

  /** @internal */
  _fatalError(exc: unknown, message: string): void {
    // EIO is how a pty master reads once the slave side is closed: an ordinary end, not news.
    if (!(exc instanceof OSError && exc.errno === EIO)) {
      this._loop.callExceptionHandler({
        message,
        exception: exc,
        transport: this,
        protocol: this._protocol,
      });
    }
    this._close(exc instanceof Error ? exc : new Error(String(exc)));
  }

  /** Close the fd and report connectionLost(exc) to the protocol, once. */
  private _close(exc: Error | null): void {
    if (this._lost) return;
    this._lost = true;
    if (!this._closing) {
      this._closing = true;
      this._stopWatching();
    }
    this._loop.callSoon(readCallConnectionLost, this, exc);
  }

  /** @internal The one path to connectionLost: it runs exactly once, then the pipe closes. */
  _callConnectionLost(exc: Error | null): void {
    if (this._lostReported) return;
    this._lostReported = true;
    try {
      this._protocol.connectionLost?.(exc);
    } finally {
      closePipe(this._pipe, this._fd);
      lostReported(this);
    }
  }

  /** `<ReadPipeTransport fd=…>`, for logs. */
  toString(): string {
    return `<ReadPipeTransport fd=${this._fd}${this._closing ? " closing" : ""}>`;
  }
}

function readConnectionMade(t: ReadPipeTransport): void {
  t._connectionMade();
}

function readStart(t: ReadPipeTransport): void {
  t._startWatching();
}

function readEofReceived(t: ReadPipeTransport): void {
  t._eofReceived();
}

function readCallConnectionLost(t: ReadPipeTransport, exc: Error | null): void {
  t._callConnectionLost(exc);
}

function resolveWaiter(waiter: Future<unknown>): void {
  if (!waiter.done()) waiter.setResult(null);
}

// ---- Writing --------------------------------------------------------------------------------

/**
 * The write end of a pipe (asyncio's _UnixWritePipeTransport). The closing state machine and
 * the write queue are the base's (stream_base.ts); a pipe adds the fallback for unpollable
 * files and the watch for its reader's departure.
 */
export class WritePipeTransport extends StreamTransport implements WriteTransport {
  /** @internal */ declare protected _loop: BaseEventLoop;
  private readonly _pipe: FileLike;
  /** Pipes and sockets are also watched for reading: that is how the reader's close shows. */
  private readonly _watchPeer: boolean;
  private _pollable = true;
  private _retryPending = false;
  private readonly _onWritable: () => void;
  private readonly _onPeerEvent: () => void;

  /** Made by connectWritePipe(); use that. */
  constructor(
    loop: BaseEventLoop,
    pipe: FileLike,
    fd: number,
    fileType: number,
    protocol: BaseProtocolLike,
    options: PipeTransportOptions = {},
  ) {
    super(loop, fd, protocol, { pipe, ...options.extra }, options.waiter);
    this._pipe = pipe;
    this._watchPeer = fileType === S_IFIFO || fileType === S_IFSOCK;
    setNonBlocking(fd, true);
    this._onWritable = this._writeReady.bind(this);
    this._onPeerEvent = this._peerEvent.bind(this);
  }

  /** The pipe's fd. */
  fileno(): number {
    return this._fd;
  }

  /**
   * Write `data` (asyncio write): straight to the pipe when nothing is queued; what the pipe
   * does not take now is copied and written as it drains. After close() or a lost pipe the
   * data is dropped, as asyncio does (with a warning after a few such writes).
   */
  write(data: BytesLike): void {
    const bytes = asBytes(data);
    if (bytes.byteLength === 0) return;
    if (this._connLost) {
      this._dropWrite("aioloop: pipe closed by peer or write(pipe, data) raised exception.");
    } else if (!this._closing) {
      this._writeOrQueue(bytes);
    }
    // (Closing: dropped, but not counted as lost, so the buffered data still drains.)
  }

  /** @internal */
  protected _writeChunk(chunk: Uint8Array): number {
    // SIGPIPE is ignored in Deno and Bun (SigIgn in /proc/self/status), so writing to a pipe
    // without readers fails with EPIPE instead of killing the process.
    return libc.write(this._fd, chunk, chunk.byteLength);
  }

  /** @internal */
  protected _writeFailed(errno: number): void {
    this._fatalError(osError("write", errno), "Fatal write error on pipe transport");
  }

  /** @internal Watch the fd for writability (the write buffer is not empty). */
  protected override _watchWritable(): void {
    if (this._pollable) {
      try {
        this._loop.addWriter(this._fd, this._onWritable);
        return;
      } catch (e) {
        if (!isUnpollable(e)) throw e;
        this._pollable = false;
      }
    }
    if (!this._retryPending) {
      this._retryPending = true;
      this._loop.callSoon(this._onWritable);
    }
  }

  /** @internal Stop watching the fd for writability. */
  protected _stopWriting(): void {
    if (this._pollable) this._loop.removeWriter(this._fd);
  }

  /** The fd is writable: write as much of the buffer as it takes. */
  private _writeReady(): void {
    this._retryPending = false;
    if (this._connLost || this._writeSize === 0) return;
    if (!this._flushWriteQueue()) return;
    if (this._writeSize > 0) {
      if (!this._pollable && !this._retryPending) {
        this._retryPending = true;
        this._loop.callSoon(this._onWritable);
      }
      return;
    }
    this._stopWriting();
    if (this._closing) this._callConnectionLost(null);
  }

  /** @internal Watch for the reader's departure, once connectionMade has run. */
  _startIo(): void {
    if (!this._watchPeer || this._closing || this._connLost) return;
    // A write end never reads, so "readable" can only be EPOLLERR/EPOLLHUP: the read end
    // closed (pipe(7): no readers left). The selector reports those as read-ready.
    try {
      this._loop.addReader(this._fd, this._onPeerEvent);
    } catch (e) {
      if (!isUnpollable(e)) this._fatalError(e, "Fatal error: cannot watch the pipe");
    }
  }

  /**
   * @internal Nothing to stop: a write end is not read. The watch for the reader stays while
   * buffered data is flushed, and goes in _release, with the fd.
   */
  protected _stopReading(): void {}

  /** The read end went away (asyncio's _read_ready of the write pipe transport). */
  private _peerEvent(): void {
    if (this._writeSize > 0) {
      this._fatalError(
        osError("write", EPIPE),
        "Fatal write error on pipe transport",
      );
    } else {
      this._forceClose(null);
    }
  }

  /** Close once the buffer is flushed: for a pipe, EOF is closing it (asyncio write_eof). */
  writeEof(): void {
    this.close();
  }

  /** True: closing the pipe is its EOF (asyncio can_write_eof). */
  canWriteEof(): boolean {
    return true;
  }

  /** @internal As asyncio: an OSError on a write pipe (EPIPE: the reader left) is the peer's doing. */
  protected _isPeerError(exc: unknown): boolean {
    return exc instanceof OSError;
  }

  /** @internal Stop watching for the reader, then close the pipe. */
  protected _release(): void {
    if (this._watchPeer) this._loop.removeReader(this._fd);
    closePipe(this._pipe, this._fd);
  }

  /** `<WritePipeTransport fd=…>`, for logs. */
  override toString(): string {
    return `<WritePipeTransport fd=${this._fd}${this._closing ? " closing" : ""}>`;
  }
}

// ---- Connecting (the loop's connectReadPipe/connectWritePipe) -------------------------------

function pipeFd(pipe: FileLike): number {
  let fd: unknown = pipe;
  if (typeof pipe === "object" && pipe !== null && typeof pipe.fileno === "function") {
    fd = pipe.fileno();
  } else if (typeof pipe !== "number") {
    throw new TypeError("pipe must be a file descriptor or an object with fileno()");
  }
  if (typeof fd !== "number" || !Number.isInteger(fd) || fd < 0) {
    throw new ValueError(`Invalid file descriptor: ${String(fd)}`);
  }
  return fd;
}

function checkFactory(factory: unknown): void {
  if (typeof factory !== "function") {
    throw new TypeError("protocolFactory must be a function returning a protocol");
  }
}

/**
 * Wrap the read end of a pipe (an fd or an object with fileno()) in a ReadPipeTransport and
 * wait until its protocol saw connectionMade (asyncio connect_read_pipe). The pipe is set
 * non-blocking; the transport closes it when the connection is lost.
 */
export async function connectReadPipe<P extends ProtocolLike>(
  loop: BaseEventLoop,
  protocolFactory: () => P,
  pipe: FileLike,
): Promise<[ReadPipeTransport, P]> {
  checkFactory(protocolFactory);
  const fd = pipeFd(pipe);
  checkPipeFd(fd);
  const protocol = protocolFactory();
  const waiter = loop.createFuture();
  const transport = new ReadPipeTransport(loop, pipe, fd, protocol, { waiter });
  return await whenConnected(transport, protocol, waiter);
}

/**
 * Wrap the write end of a pipe in a WritePipeTransport (asyncio connect_write_pipe); as
 * connectReadPipe.
 */
export async function connectWritePipe<P extends BaseProtocolLike>(
  loop: BaseEventLoop,
  protocolFactory: () => P,
  pipe: FileLike,
): Promise<[WritePipeTransport, P]> {
  checkFactory(protocolFactory);
  const fd = pipeFd(pipe);
  const type = checkPipeFd(fd);
  const protocol = protocolFactory();
  const waiter = loop.createFuture();
  const transport = new WritePipeTransport(loop, pipe, fd, type, protocol, { waiter });
  return await whenConnected(transport, protocol, waiter);
}
