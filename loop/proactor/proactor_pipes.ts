/**
 * Pipe transports of the proactor loop for a Proactor without readiness polling (IOCP; asyncio
 * proactor_events' _ProactorReadPipeTransport and _ProactorBaseWritePipeTransport): the pipe
 * handle must be open for overlapped I/O (a named pipe made with FILE_FLAG_OVERLAPPED, as
 * asyncio's windows_utils.pipe makes them). Reads are one read operation at a time into a
 * buffer of the transport's own; writes are one write operation at a time, later writes queued
 * and coalesced behind it. The closing state machine is StreamTransport's (stream_base.ts).
 *
 * When the connection is lost the pipe is closed: by its close() if it is an object that has
 * one, else by the Proactor (closeHandle, which first releases it from the port).
 */
import { LINUX_ERRNO } from "../../ffi/errno_linux.ts";
import { closeFd, osError } from "../../ffi/libc.ts";
import type { AbstractEventLoop, AbstractFuture } from "../core/abstract_loop.ts";
import { asBytes, type BytesLike } from "../core/bytes.ts";
import { RuntimeError, ValueError } from "../core/errors.ts";
import type { FileLike } from "../core/file_like.ts";
import type { CompletionTarget } from "./proactor.ts";
import type { ProactorHost } from "./proactor.ts";
import type { BaseProtocolLike, ProtocolLike } from "../transports/protocols.ts";
import { type ReadTransport, whenConnected, type WriteTransport } from "../transports/base.ts";
import { StreamTransport } from "../transports/stream_base.ts";

/** One read's buffer (asyncio's proactor pipes read 32 KiB; 64 KiB is a pipe's default buffer). */
const READ_SIZE = 64 * 1024;
/** Queued writes are coalesced into one operation up to this many bytes. */
const MAX_COALESCE = 256 * 1024;
// <asm-generic/errno.h>
const { ECANCELED, EPIPE, ECONNRESET } = LINUX_ERRNO;
/** The tag of a write pipe's read that watches for its reader closing. */
const WATCH_TAG = 3;

function pipeHandle(pipe: FileLike): number {
  let fd: unknown = pipe;
  if (typeof pipe === "object" && pipe !== null && typeof pipe.fileno === "function") fd = pipe.fileno();
  else if (typeof pipe !== "number") throw new TypeError("pipe must be a handle or an object with fileno()");
  if (typeof fd !== "number" || !Number.isInteger(fd) || fd <= 0) throw new ValueError(`Invalid pipe handle: ${String(fd)}`);
  return fd;
}

/** What both pipe transports share: the handle, and closing it once. */
abstract class ProactorPipeTransport extends StreamTransport implements CompletionTarget {
  /** @ignore */ declare protected _loop: AbstractEventLoop & ProactorHost;
  private readonly _pipe: FileLike;

  constructor(loop: AbstractEventLoop & ProactorHost, pipe: FileLike, fd: number, protocol: BaseProtocolLike, waiter?: AbstractFuture<unknown>) {
    super(loop, fd, protocol, { pipe }, waiter);
    this._pipe = pipe;
  }

  abstract _ioComplete(tag: number, res: number, more: boolean, op: number, buffer: Uint8Array | undefined): void;

  /** @ignore The peer closing its end is not an error to log. */
  protected _isPeerError(exc: unknown): boolean {
    const code = (exc as { code?: unknown })?.code;
    return code === "EPIPE" || code === "ECONNRESET";
  }

  /** @ignore */
  protected _release(): void {
    const pipe = this._pipe as { close?: unknown };
    const proactor = this._loop._proactor;
    if (typeof pipe === "object" && typeof pipe.close === "function") {
      proactor.releaseHandle?.(this._fd);
      (pipe.close as () => void).call(pipe);
    } else if (proactor.closeHandle) proactor.closeHandle(this._fd);
    else closeFd(this._fd);
  }
}

/** The read end of a pipe (asyncio's _ProactorReadPipeTransport). */
export class ProactorReadPipeTransport extends ProactorPipeTransport implements ReadTransport {
  private _readOp = 0;
  private readonly _buf = new Uint8Array(new ArrayBuffer(READ_SIZE));
  private _paused = false;
  private _pending: Uint8Array[] = [];
  private _pendingEof = false;

  /** @ignore */
  _startIo(): void {
    this._read();
  }

  private _read(): void {
    if (this._closing || this._paused || this._readOp !== 0) return;
    this._readOp = this._loop._proactor.read(this._fd, this._buf, READ_SIZE, this, 1);
  }

  /** @ignore */
  _ioComplete(_tag: number, res: number): void {
    this._readOp = 0;
    if (this._closing || res === -ECANCELED) return;
    if (res < 0) {
      this._fatalError(osError("ReadFile", -res), "Fatal read error on pipe transport");
      return;
    }
    if (res === 0) {
      if (this._paused) this._pendingEof = true;
      else this._eof();
      return;
    }
    const data = this._buf.slice(0, res);
    if (this._paused) this._pending.push(data);
    else if (!this._deliver(data)) return;
    this._read();
  }

  private _deliver(data: Uint8Array): boolean {
    try {
      (this._protocol as ProtocolLike).dataReceived?.(data);
      return true;
    } catch (e) {
      this._fatalError(e, "Fatal error: protocol.dataReceived() call failed.");
      return false;
    }
  }

  /** End of file: eofReceived, then close (a pipe's EOF ends it, as in asyncio). */
  private _eof(): void {
    try {
      (this._protocol as ProtocolLike).eofReceived?.();
    } catch (e) {
      this._fatalError(e, "Fatal error: protocol.eofReceived() call failed.");
      return;
    }
    this.close();
  }

  isReading(): boolean {
    return !this._paused && !this._closing;
  }

  pauseReading(): void {
    if (this._closing) return;
    this._paused = true;
  }

  resumeReading(): void {
    if (this._closing || !this._paused) return;
    this._paused = false;
    while (this._pending.length > 0 && !this._paused && !this._closing) {
      if (!this._deliver(this._pending.shift()!)) return;
    }
    if (this._paused || this._closing) return;
    if (this._pendingEof) {
      this._pendingEof = false;
      this._eof();
      return;
    }
    this._read();
  }

  /** A read pipe takes no data. */
  write(_data: BytesLike): void {
    throw new RuntimeError("a read pipe transport cannot write");
  }

  /** @ignore */
  protected _stopReading(): void {
    this._pending = [];
    if (this._readOp !== 0) this._loop._proactor.cancel(this._readOp);
  }
  /** @ignore */
  protected _stopWriting(): void {}
  /** @ignore */
  protected _writeChunk(): number {
    return 0;
  }
  /** @ignore */
  protected _writeFailed(): void {}
}

/**
 * The write end of a pipe (asyncio's _ProactorWritePipeTransport). As there, a read is kept in
 * flight on it to learn when the reader closes its end (a named pipe opened duplex: a
 * subprocess's stdin, platform/windows_process.ts): that read ends with EOF (a broken pipe),
 * and the transport closes, or with EPIPE if a write is in flight. A handle that cannot be
 * read (opened for writing only) fails that read at once; it is then simply not watched.
 */
export class ProactorWritePipeTransport extends ProactorPipeTransport implements WriteTransport {
  private _writeOp = 0;
  private _writeBuf: Uint8Array | undefined;
  private _writeOff = 0;
  private _eofAsked = false;
  private _watchOp = 0;
  private readonly _watchBuf = new Uint8Array(new ArrayBuffer(16));

  /** @ignore */
  _startIo(): void {
    if (this._closing) return;
    this._watchOp = this._loop._proactor.read(this._fd, this._watchBuf, this._watchBuf.byteLength, this, WATCH_TAG);
  }

  /** The read on the write end completed: 0 means the reader closed its end. */
  private _watchComplete(res: number): void {
    this._watchOp = 0;
    // Cancelled, a handle that cannot be read, or data (a duplex peer writing): stop watching.
    if (res !== 0 || this._closing) return;
    if (this._writeOp !== 0) this._forceClose(osError("WriteFile", EPIPE));
    else this.close();
  }

  /** Write `data` (asyncio write); it is copied, so the caller may reuse its array at once. */
  write(data: BytesLike): void {
    const bytes = asBytes(data);
    if (this._eofAsked) throw new RuntimeError("Cannot call write() after writeEof()");
    if (bytes.byteLength === 0) return;
    if (this._connLost) {
      this._dropWrite("aioloop: pipe write after the connection was lost");
      return;
    }
    const copy = new Uint8Array(new ArrayBuffer(bytes.byteLength));
    copy.set(bytes);
    this._writeSize += copy.byteLength;
    if (this._writeOp === 0) this._submit(copy, 0);
    else this._queueChunk(copy);
    this._maybePauseProtocol();
  }

  private _submit(buf: Uint8Array, offset: number): void {
    this._writeBuf = buf;
    this._writeOff = offset;
    this._writeOp = this._loop._proactor.write(this._fd, buf, offset, buf.byteLength - offset, this, 2);
  }

  /** @ignore */
  _ioComplete(tag: number, res: number): void {
    if (tag === WATCH_TAG) {
      this._watchComplete(res);
      return;
    }
    this._writeOp = 0;
    if (this._lostOrDropped()) return;
    if (res < 0) {
      this._writeBuf = undefined;
      this._clearWriteQueue();
      if (res !== -ECANCELED) this._writeFailed(-res);
      return;
    }
    this._writeSize -= res;
    const buf = this._writeBuf!;
    if (this._writeOff + res < buf.byteLength) {
      this._submit(buf, this._writeOff + res);
      return;
    }
    this._writeBuf = undefined;
    this._sendQueued();
    this._maybeResumeProtocol();
    if (this._writeSize === 0 && this._closing) this._callConnectionLost(null);
  }

  private _lostOrDropped(): boolean {
    return this._connLost > 0;
  }

  private _sendQueued(): void {
    const queue = this._writeQueue;
    if (queue.length === 0) return;
    let total = 0, n = 0;
    while (n < queue.length && (n === 0 || total + queue[n]!.byteLength <= MAX_COALESCE)) total += queue[n++]!.byteLength;
    let buf: Uint8Array;
    if (n === 1) buf = queue.shift()!;
    else {
      buf = new Uint8Array(new ArrayBuffer(total));
      let at = 0;
      for (const chunk of queue.splice(0, n)) {
        buf.set(chunk, at);
        at += chunk.byteLength;
      }
    }
    this._submit(buf, 0);
  }

  /** Close after flushing: a pipe has no half-close (asyncio write_eof). */
  writeEof(): void {
    this._eofAsked = true;
    this.close();
  }

  canWriteEof(): boolean {
    return true;
  }

  /** @ignore Closing: stop watching for the reader's close. */
  protected _stopReading(): void {
    if (this._watchOp !== 0) this._loop._proactor.cancel(this._watchOp);
  }
  /** @ignore */
  protected _stopWriting(): void {
    if (this._writeOp !== 0) this._loop._proactor.cancel(this._writeOp);
  }
  /** @ignore */
  protected _writeChunk(): number {
    return 0;
  }
  /** @ignore */
  protected _writeFailed(errno: number): void {
    const exc = osError("WriteFile", errno);
    if (errno === EPIPE || errno === ECONNRESET) this._forceClose(exc);
    else this._fatalError(exc, "Fatal write error on pipe transport");
  }
}

/**
 * asyncio connect_read_pipe on a proactor without readiness polling. A coroutine, as
 * asyncio's: a bad argument rejects the returned promise rather than throwing at the call, and
 * a handle that is not open rejects it with OSError EBADF before the protocol is made.
 */
export async function connectReadPipeOperations<P extends ProtocolLike>(
  loop: AbstractEventLoop & ProactorHost,
  protocolFactory: () => P,
  pipe: FileLike,
): Promise<[ProactorReadPipeTransport, P]> {
  if (typeof protocolFactory !== "function") throw new TypeError("protocolFactory must be a function returning a protocol");
  const fd = pipeHandle(pipe);
  loop._proactor.associateHandle?.(fd);
  const protocol = protocolFactory();
  const waiter = loop.createFuture();
  return await whenConnected(new ProactorReadPipeTransport(loop, pipe, fd, protocol, waiter), protocol, waiter);
}

/**
 * asyncio connect_write_pipe on a proactor without readiness polling. A coroutine, as
 * asyncio's: a bad argument rejects the returned promise rather than throwing at the call, and
 * a handle that is not open rejects it with OSError EBADF before the protocol is made.
 */
export async function connectWritePipeOperations<P extends BaseProtocolLike>(
  loop: AbstractEventLoop & ProactorHost,
  protocolFactory: () => P,
  pipe: FileLike,
): Promise<[ProactorWritePipeTransport, P]> {
  if (typeof protocolFactory !== "function") throw new TypeError("protocolFactory must be a function returning a protocol");
  const fd = pipeHandle(pipe);
  loop._proactor.associateHandle?.(fd);
  const protocol = protocolFactory();
  const waiter = loop.createFuture();
  return await whenConnected(new ProactorWritePipeTransport(loop, pipe, fd, protocol, waiter), protocol, waiter);
}
