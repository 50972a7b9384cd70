/**
 * loop.sockSendfile and loop.sendfile (asyncio sock_sendfile / sendfile): send a regular file's
 * bytes to a stream socket or a transport.
 *
 * Native path (Linux): sendfile(2) from the file to the non-blocking socket at an explicit
 * offset, as many times as the kernel takes bytes, waiting for writability on EAGAIN (each loop
 * family supplies that wait: readiness callbacks, or POLL_ADD on io_uring). Elsewhere, and when
 * sendfile(2) refuses the pair before sending anything, SendfileNotAvailableError — which,
 * unless `fallback` is false, means: read the file in blocks and send them (sockSendall, or
 * transport.write() paced by the transport's flow control).
 *
 * The file is read at explicit offsets (sendfile's offset pointer, pread for the fallback) and
 * its position is set to offset + bytes sent at the end, as asyncio leaves it. Regular files
 * only (ValueError otherwise): the fallback reads synchronously on the loop's thread, which a
 * regular file answers at once but a pipe could block (asyncio reads in its executor; see
 * README "Known differences").
 *
 * A transport's native send first waits until its write buffer is empty and refuses write()
 * until it ends (asyncio _sendfile_native); TLS transports always take the fallback.
 */
import { type KeysOf, refuseUnknownOptions } from "../core/options.ts";
import { isRegularFile, readAt } from "../../ffi/files.ts";
import { ECONNRESET, hasSendfile, libc, osError, seekFile } from "../../ffi/libc.ts";
import { SOCK_STREAM } from "../../ffi/socket_constants.ts";
import type { AbstractEventLoop, AbstractFuture } from "../core/abstract_loop.ts";
import type { BytesLike } from "../core/bytes.ts";
import { OSError, RuntimeError, SendfileNotAvailableError, ValueError } from "../core/errors.ts";
import type { ProtocolLike } from "../transports/protocols.ts";
import { type Attempt, checkSocket, WOULD_BLOCK } from "./sock_ops.ts";
import type { Socket } from "./socket.ts";
import { SSLProtocolTransport } from "../tls/sslproto.ts";
import type { Transport } from "../transports/base.ts";
import { SocketTransport } from "../transports/socket_base.ts";

/** What sending a file asks of the loop beyond AbstractEventLoop: its sock_* sends. */
export interface SendfileLoop extends AbstractEventLoop {
  /** Send all of `data` on a non-blocking socket (asyncio sock_sendall). */
  sockSendall(sock: Socket, data: BytesLike): Promise<void>;
  /** Send a regular file to a non-blocking stream socket (asyncio sock_sendfile). */
  sockSendfile(
    sock: Socket,
    file: SendfileFile,
    offset?: number,
    count?: number | null,
    options?: SendfileOptions,
  ): Promise<number>;
}

/** A file to send: an fd, or an object with fileno() (a regular file open for reading). */
export type SendfileFile = number | { fileno(): number };

/** Options of sockSendfile and sendfile (asyncio's keyword arguments). */
export interface SendfileOptions {
  /** When sendfile(2) cannot be used, read and send the file instead; default true. */
  fallback?: boolean | undefined;
}

/** @ignore The keys of SendfileOptions, for refuseUnknownOptions(). */
export const SENDFILE_OPTION_KEYS: KeysOf<SendfileOptions> = {
  fallback: true,
};

/** Runs `attempt` until it returns a result, waiting for `fd` to be writable in between. */
export type WhenWritable = <T>(fd: number, attempt: Attempt<T>) => Promise<T>;

/** asyncio's SENDFILE_FALLBACK_READBUFFER_SIZE: the fallback's block for sockets. */
const SOCK_FALLBACK_BLOCK = 256 * 1024;
/** asyncio's block for the transport fallback. */
const TRANSPORT_FALLBACK_BLOCK = 16 * 1024;
/** One sendfile(2) call's count at most: its ssize_t result is read as an i32 (ffi/runtime.ts). */
const MAX_NATIVE_BLOCK = 1 << 30;

/** The fd of `file` (TypeError/ValueError naming the problem). */
function fileDescriptor(file: unknown): number {
  let fd: unknown = file;
  if (typeof file === "object" && file !== null && typeof (file as { fileno?: unknown }).fileno === "function") {
    fd = (file as { fileno(): unknown }).fileno();
  } else if (typeof file !== "number") {
    throw new TypeError(`file must be a file descriptor or an object with fileno(), got ${typeof file}`);
  }
  if (typeof fd !== "number" || !Number.isInteger(fd) || fd < 0) {
    throw new ValueError(`file: invalid file descriptor ${String(fd)}`);
  }
  return fd;
}

/** asyncio _check_sendfile_params for the offset and count (TypeError/ValueError). */
function checkRange(offset: unknown, count: unknown): void {
  if (count !== null && count !== undefined) {
    if (typeof count !== "number" || !Number.isInteger(count)) {
      throw new TypeError(`count must be a positive integer (got ${JSON.stringify(count)})`);
    }
    if (count <= 0) throw new ValueError(`count must be a positive integer (got ${count})`);
  }
  if (typeof offset !== "number" || !Number.isInteger(offset)) {
    throw new TypeError(`offset must be a non-negative integer (got ${JSON.stringify(offset)})`);
  }
  if (offset < 0) throw new ValueError(`offset must be a non-negative integer (got ${offset})`);
}

/** ValueError unless `fd` is a regular file (OSError if it cannot be asked: EBADF, …). */
function checkRegularFile(fd: number): void {
  if (!isRegularFile(fd)) throw new ValueError(`file must be a regular file (fd ${fd} is not)`);
}

/** Leave the file's position after what was sent (asyncio sets it on success and failure). */
function updatePosition(fd: number, offset: number, sent: number): void {
  if (sent > 0) seekFile(fd, offset + sent);
}

/**
 * sendfile(2) of the file's [offset, offset + count) (count null: to EOF) to `sockFd`, as far
 * as the socket takes it; WOULD_BLOCK until done. Before any byte went, a failure is
 * SendfileNotAvailableError (the file or socket does not support it: asyncio falls back then).
 */
class NativeSend {
  sent = 0;
  private readonly offsetArg = new BigInt64Array(1);

  constructor(
    private readonly sockFd: number,
    private readonly fileFd: number,
    readonly offset: number,
    private readonly count: number | null,
  ) {}

  readonly attempt = (): number | typeof WOULD_BLOCK => {
    for (;;) {
      // count null: ask for a large block each time, until sendfile(2) says EOF (0).
      const left = this.count === null ? MAX_NATIVE_BLOCK : this.count - this.sent;
      if (left <= 0) return this.sent;
      this.offsetArg[0] = BigInt(this.offset + this.sent);
      const n = libc.sendfile(this.sockFd, this.fileFd, this.offsetArg, Math.min(left, MAX_NATIVE_BLOCK));
      if (n === 0) return this.sent; // EOF
      if (n > 0) {
        this.sent += n;
        continue;
      }
      const err = osError("sendfile");
      if (err.code === "EAGAIN" || err.code === "EINTR") return WOULD_BLOCK;
      // Refused before any byte went: the file or socket does not support it (asyncio falls
      // back then, and the fallback meets a real socket error again).
      if (this.sent === 0) throw new SendfileNotAvailableError(`os.sendfile call failed: ${err.message}`);
      throw err;
    }
  };
}

/** The native send, or SendfileNotAvailableError naming why it cannot be used. */
async function sockSendfileNative(
  sock: Socket,
  fileFd: number,
  offset: number,
  count: number | null,
  whenWritable: WhenWritable,
): Promise<number> {
  if (!hasSendfile) {
    throw new SendfileNotAvailableError("sendfile is not available on this OS: sendfile(2) is bound on Linux only");
  }
  checkRegularFile(fileFd);
  const send = new NativeSend(sock.fileno(), fileFd, offset, count);
  try {
    return await whenWritable(sock.fileno(), send.attempt);
  } finally {
    updatePosition(fileFd, offset, send.sent);
  }
}

/** The fallback: read blocks and send each with sockSendall. */
async function sockSendfileFallback(
  loop: SendfileLoop,
  sock: Socket,
  fileFd: number,
  offset: number,
  count: number | null,
): Promise<number> {
  checkRegularFile(fileFd);
  const block = count === null ? SOCK_FALLBACK_BLOCK : Math.min(count, SOCK_FALLBACK_BLOCK);
  const buf = new Uint8Array(block);
  let sent = 0;
  try {
    for (;;) {
      const want = count === null ? block : Math.min(count - sent, block);
      if (want <= 0) return sent;
      const n = readAt(fileFd, buf, want, offset + sent);
      if (n === 0) return sent;
      await loop.sockSendall(sock, buf.subarray(0, n));
      sent += n;
    }
  } finally {
    updatePosition(fileFd, offset, sent);
  }
}

/**
 * asyncio sock_sendfile: send the file's [offset, offset + count) (count null: to its end) to
 * the connected non-blocking stream socket `sock`; resolves to the bytes sent.
 */
export async function sockSendfile(
  loop: SendfileLoop,
  sock: Socket,
  file: SendfileFile,
  offset: number,
  count: number | null,
  options: SendfileOptions,
  whenWritable: WhenWritable,
): Promise<number> {
  checkSocket(sock, "sockSendfile");
  refuseUnknownOptions(options, SENDFILE_OPTION_KEYS, "sockSendfile()");
  if (sock.type !== SOCK_STREAM) throw new ValueError("only SOCK_STREAM type sockets are supported");
  checkRange(offset, count);
  const fileFd = fileDescriptor(file);
  count ??= null;
  try {
    return await sockSendfileNative(sock, fileFd, offset, count, whenWritable);
  } catch (e) {
    if (!(e instanceof SendfileNotAvailableError) || options.fallback === false) throw e;
  }
  return sockSendfileFallback(loop, sock, fileFd, offset, count);
}

/**
 * The transport's protocol while loop.sendfile() runs (asyncio _SendfileFallbackProtocol):
 * reading is paused, the write side's pause/resume become a Future to wait on, and connection
 * loss still reaches the user's protocol. restore() puts everything back.
 */
class SendfileProtocol {
  private readonly _proto: ProtocolLike;
  private readonly _resumeReading: boolean;
  private readonly _resumeWriting: boolean;
  private _writeReady: AbstractFuture<boolean> | null = null;

  constructor(private readonly _loop: SendfileLoop, private readonly _transport: FlowTransport) {
    this._proto = _transport.getProtocol() as ProtocolLike;
    this._resumeReading = _transport.isReading();
    this._resumeWriting = _transport._protocolPaused;
    _transport.pauseReading();
    _transport.setProtocol(this);
    if (this._resumeWriting) this._writeReady = _loop.createFuture();
  }

  /** Wait until the transport takes more (its buffer fell to the low-water mark). */
  async drain(): Promise<void> {
    if (this._transport.isClosing()) throw connectionError("Connection closed by peer");
    if (this._writeReady !== null) await this._writeReady;
  }

  connectionMade(): void {
    throw new RuntimeError("Invalid state: connection should have been established already.");
  }

  connectionLost(exc: Error | null): void {
    const fut = this._writeReady;
    if (fut !== null && !fut.done()) fut.setException(exc ?? connectionError("Connection is closed by peer"));
    this._proto.connectionLost?.(exc);
  }

  pauseWriting(): void {
    this._writeReady ??= this._loop.createFuture();
  }

  resumeWriting(): void {
    const fut = this._writeReady;
    if (fut === null) return;
    this._writeReady = null;
    if (!fut.done()) fut.setResult(false);
  }

  dataReceived(): void {
    throw new RuntimeError("Invalid state: reading should be paused");
  }

  eofReceived(): void {
    throw new RuntimeError("Invalid state: reading should be paused");
  }

  /** Give the transport back to the user's protocol, in the state it was found. */
  restore(): void {
    this._transport.setProtocol(this._proto);
    if (this._resumeReading) this._transport.resumeReading();
    const fut = this._writeReady;
    if (fut !== null) {
      fut.cancel();
      // Nobody awaits it any more; a failure it carried was reported through connectionLost.
      if (!fut.cancelled()) fut.exception();
    }
    if (this._resumeWriting) this._proto.resumeWriting?.();
  }
}

/** Python's ConnectionError: an OSError ECONNRESET here (the peer closed the connection). */
function connectionError(message: string): OSError {
  return new OSError(ECONNRESET, "ECONNRESET", message, "sendfile");
}

/** A transport with flow control: what loop.sendfile() needs of it. */
type FlowTransport = Transport & {
  _protocolPaused: boolean;
  isReading(): boolean;
};

/** asyncio sendfile: send the file through `transport`; resolves to the bytes sent. */
export async function transportSendfile(
  loop: SendfileLoop,
  transport: Transport,
  file: SendfileFile,
  offset: number,
  count: number | null,
  options: SendfileOptions,
): Promise<number> {
  refuseUnknownOptions(options, SENDFILE_OPTION_KEYS, "sendfile()");
  if (typeof transport?.isClosing !== "function") throw new TypeError("transport must be a Transport");
  if (transport.isClosing()) throw new RuntimeError("Transport is closing");
  const native = transport instanceof SocketTransport;
  if (!native && !(transport instanceof SSLProtocolTransport)) {
    throw new RuntimeError(`sendfile is not supported for transport ${String(transport)}`);
  }
  checkRange(offset, count);
  const fileFd = fileDescriptor(file);
  count ??= null;
  if (native) {
    try {
      return await transportSendfileNative(loop, transport, fileFd, offset, count);
    } catch (e) {
      if (!(e instanceof SendfileNotAvailableError) || options.fallback === false) throw e;
    }
  } else if (options.fallback === false) {
    throw new RuntimeError(
      `fallback is disabled and native sendfile is not supported for transport ${String(transport)}`,
    );
  }
  return transportSendfileFallback(loop, transport as unknown as FlowTransport, fileFd, offset, count);
}

/**
 * asyncio _sendfile_native for a socket transport: pause reading, wait until the write buffer
 * is empty (the water marks set to 0 turn "empty" into resumeWriting), refuse write(), then
 * sockSendfile without fallback on its socket.
 */
async function transportSendfileNative(
  loop: SendfileLoop,
  transport: SocketTransport,
  fileFd: number,
  offset: number,
  count: number | null,
): Promise<number> {
  if (!hasSendfile) throw new SendfileNotAvailableError("sendfile syscall is not supported");
  checkRegularFile(fileFd);
  const sock = transport.getExtraInfo("socket") as Socket;
  const flow = transport as unknown as FlowTransport;
  const [low, high] = transport.getWriteBufferLimits();
  const proto = new SendfileProtocol(loop, flow);
  transport._sendfileActive = true;
  try {
    transport.setWriteBufferLimits(0, 0);
    await proto.drain();
    return await loop.sockSendfile(sock, fileFd, offset, count, { fallback: false });
  } finally {
    transport._sendfileActive = false;
    transport.setWriteBufferLimits(high, low);
    proto.restore();
  }
}

/** asyncio _sendfile_fallback: read blocks and write them, waiting while writing is paused. */
async function transportSendfileFallback(
  loop: SendfileLoop,
  transport: FlowTransport,
  fileFd: number,
  offset: number,
  count: number | null,
): Promise<number> {
  checkRegularFile(fileFd);
  const block = count === null ? TRANSPORT_FALLBACK_BLOCK : Math.min(count, TRANSPORT_FALLBACK_BLOCK);
  const proto = new SendfileProtocol(loop, transport);
  let sent = 0;
  try {
    for (;;) {
      const want = count === null ? block : Math.min(count - sent, block);
      if (want <= 0) return sent;
      // A fresh block each time: a TLS transport may hold the bytes it was given.
      const buf = new Uint8Array(want);
      const n = readAt(fileFd, buf, want, offset + sent);
      if (n === 0) return sent;
      await proto.drain();
      transport.write(buf.subarray(0, n));
      sent += n;
    }
  } finally {
    updatePosition(fileFd, offset, sent);
    proto.restore();
  }
}
