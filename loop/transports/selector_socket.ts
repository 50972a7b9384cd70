/**
 * The stream socket transport of the selector loop (asyncio's _SelectorSocketTransport).
 *
 * Hot path, per readiness event: one recv(2) into a shared buffer, one copy of the bytes for
 * the protocol (a BufferedProtocol receives straight into its own buffer instead), and writes
 * go to send(2) at once — only what the kernel refuses is copied into the write queue. No
 * Promise or closure is created per event: the reader and writer callbacks are bound once.
 */
import { EAGAIN, EINTR, lastErrno, libc, osError } from "../../ffi/libc.ts";
import {
  AF_INET, AF_INET6, IPPROTO_TCP, MSG_NOSIGNAL, SOCK_STREAM, TCP_NODELAY,
} from "../../ffi/socket_constants.ts";
import { OSError, RuntimeError } from "../errors.ts";
import type { Future } from "../futures.ts";
import type { BufferedProtocolLike, ProtocolLike } from "../protocols.ts";
import type { SelectorEventLoop } from "../selector_loop.ts";
import { asBytes, type BytesLike, type Socket } from "../socket.ts";
import type { Transport } from "./base.ts";
import { FlowControl } from "./flow_control.ts";

/** How much one recv(2) may read: asyncio's max_size (256 KiB). */
const MAX_READ = 256 * 1024;
// Bytes are copied out for the protocol before the next recv, so one buffer serves every
// transport of every loop in this thread.
const sharedReadBuffer = new Uint8Array(MAX_READ);

/** After this many writes to a lost connection, say so once (asyncio logs a warning). */
const LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5;

const SHUT_WR = 1;

/** Errors that only mean "the peer went away": reported to the protocol, not logged. */
const connectionErrors = new Set([
  "ECONNRESET", "EPIPE", "ECONNABORTED", "ETIMEDOUT", "ECONNREFUSED", "EHOSTUNREACH",
  "ENETUNREACH", "ENOTCONN", "ESHUTDOWN",
]);

/** Something that can be told a connection it served has ended (the Server). */
export interface ConnectionOwner {
  _attach(transport: unknown): void;
  _detach(transport: unknown): void;
}

/** Options for making a socket transport. */
export interface SocketTransportOptions {
  /** Resolved with null once connectionMade has run. */
  waiter?: Future<unknown>;
  /** Extra values for getExtraInfo(). */
  extra?: Record<string, unknown>;
  server?: ConnectionOwner;
}

type AnyProtocol = ProtocolLike & Partial<BufferedProtocolLike>;

/** A TCP or Unix stream connection driven by readiness (asyncio's selector socket transport). */
export class SelectorSocketTransport extends FlowControl implements Transport {
  /** @internal */ protected _loop: SelectorEventLoop;
  /** @internal */ protected _protocol: AnyProtocol;
  private readonly _sock: Socket;
  private readonly _fd: number;
  private readonly _extra: Record<string, unknown>;
  private _server: ConnectionOwner | undefined;
  private _buffered = false;
  private _protocolConnected = false;
  private _closing = false;
  private _eof = false;
  private _paused = false;
  private _connLost = 0;
  private _lostReported = false;
  private _writeQueue: Uint8Array[] = [];
  private _writeHead = 0;
  private _writeSize = 0;
  private readonly _onReadable: () => void;
  private readonly _onWritable: () => void;

  constructor(
    loop: SelectorEventLoop,
    sock: Socket,
    protocol: ProtocolLike | BufferedProtocolLike,
    options: SocketTransportOptions = {},
  ) {
    super();
    this._loop = loop;
    this._sock = sock;
    this._fd = sock.fileno();
    this._protocol = protocol as AnyProtocol;
    this._extra = { socket: sock, ...options.extra };
    this._server = options.server;
    this._server?._attach(this);
    // As asyncio: small writes leave at once instead of waiting for Nagle's algorithm.
    if ((sock.family === AF_INET || sock.family === AF_INET6) && sock.type === SOCK_STREAM) {
      try {
        sock.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
      } catch {
        // Not every stream socket takes it; the transport works without.
      }
    }
    this._onReadable = this._readReady.bind(this);
    this._onWritable = this._writeReady.bind(this);
    this.setProtocol(protocol);
    loop.callSoon(connectionMade, this);
    loop.callSoon(startReading, this);
    if (options.waiter) loop.callSoon(resolveWaiter, options.waiter);
  }

  // ---- BaseTransport -------------------------------------------------------------------------

  /**
   * "socket", "sockname", "peername" (asyncio get_extra_info), plus whatever the creator
   * added; `defaultValue` when unknown.
   */
  getExtraInfo(name: string, defaultValue: unknown = undefined): unknown {
    if (name in this._extra) return this._extra[name];
    if (name === "sockname" || name === "peername") {
      try {
        const value = name === "sockname" ? this._sock.getsockname() : this._sock.getpeername();
        this._extra[name] = value;
        return value;
      } catch {
        return defaultValue;
      }
    }
    return defaultValue;
  }

  isClosing(): boolean {
    return this._closing;
  }

  /** Replace the protocol (asyncio set_protocol). */
  setProtocol(protocol: unknown): void {
    const p = protocol as AnyProtocol;
    this._buffered = typeof p.getBuffer === "function";
    this._protocol = p;
    this._protocolConnected = true;
  }

  getProtocol(): ProtocolLike | BufferedProtocolLike {
    return this._protocol;
  }

  /** Stop reading, flush what is buffered, then close (asyncio close). */
  close(): void {
    if (this._closing) return;
    this._closing = true;
    this._loop.removeReader(this._fd);
    if (this._writeSize === 0) {
      this._connLost++;
      this._loop.callSoon(callConnectionLost, this, null);
    }
  }

  /** Close now, dropping unsent data (asyncio abort). */
  abort(): void {
    this._forceClose(null);
  }

  // ---- Reading --------------------------------------------------------------------------------

  isReading(): boolean {
    return !this._paused && !this._closing;
  }

  /** Stop receiving until resumeReading() (asyncio pause_reading). */
  pauseReading(): void {
    if (this._closing || this._paused) return;
    this._paused = true;
    this._loop.removeReader(this._fd);
  }

  resumeReading(): void {
    if (this._closing || !this._paused) return;
    this._paused = false;
    this._loop.addReader(this._fd, this._onReadable);
  }

  /** @internal */
  _startReading(): void {
    if (!this._closing && !this._paused) this._loop.addReader(this._fd, this._onReadable);
  }

  private _readReady(): void {
    if (this._connLost) return;
    if (this._buffered) this._readReadyBuffered();
    else this._readReadyData();
  }

  private _readReadyData(): void {
    const n = libc.recv(this._fd, sharedReadBuffer, MAX_READ, 0);
    if (n > 0) {
      const data = sharedReadBuffer.slice(0, n);
      try {
        this._protocol.dataReceived?.(data);
      } catch (e) {
        this._fatalError(e, "protocol.dataReceived() call failed.");
      }
    } else if (n === 0) {
      this._readReadyEof();
    } else {
      this._readFailed();
    }
  }

  private _readReadyBuffered(): void {
    let buf: Uint8Array;
    try {
      buf = this._protocol.getBuffer!(-1);
      if (!(buf instanceof Uint8Array) || buf.byteLength === 0) {
        throw new RuntimeError("getBuffer() returned an empty buffer");
      }
    } catch (e) {
      this._fatalError(e, "Fatal error: protocol.getBuffer() call failed.");
      return;
    }
    const n = libc.recv(this._fd, buf, Math.min(buf.byteLength, 0x7fffffff), 0);
    if (n > 0) {
      try {
        this._protocol.bufferUpdated!(n);
      } catch (e) {
        this._fatalError(e, "Fatal error: protocol.bufferUpdated() call failed.");
      }
    } else if (n === 0) {
      this._readReadyEof();
    } else {
      this._readFailed();
    }
  }

  private _readFailed(): void {
    const errno = lastErrno();
    if (errno === EAGAIN || errno === EINTR) return;
    this._fatalError(osError("recv", errno), "Fatal read error on socket transport");
  }

  private _readReadyEof(): void {
    let keepOpen: boolean | void;
    try {
      keepOpen = this._protocol.eofReceived?.();
    } catch (e) {
      this._fatalError(e, "Fatal error: protocol.eofReceived() call failed.");
      return;
    }
    // Half-closed: the peer will send nothing more, so stop watching for reads either way.
    if (keepOpen) this._loop.removeReader(this._fd);
    else this.close();
  }

  // ---- Writing --------------------------------------------------------------------------------

  getWriteBufferSize(): number {
    return this._writeSize;
  }

  /**
   * Send `data` (asyncio write): straight to the socket when nothing is queued; the rest is
   * copied and sent as the socket drains. RuntimeError after writeEof().
   */
  write(data: BytesLike): void {
    let bytes = asBytes(data);
    if (this._eof) throw new RuntimeError("Cannot call write() after writeEof()");
    if (bytes.byteLength === 0) return;
    if (this._connLost) {
      if (this._connLost >= LOG_THRESHOLD_FOR_CONNLOST_WRITES) {
        if (this._connLost === LOG_THRESHOLD_FOR_CONNLOST_WRITES) {
          console.warn("aioloop: socket.send() raised exception.");
        }
      }
      this._connLost++;
      return;
    }
    if (this._writeSize === 0) {
      const n = libc.send(this._fd, bytes, bytes.byteLength, MSG_NOSIGNAL);
      if (n === bytes.byteLength) return;
      if (n < 0) {
        const errno = lastErrno();
        if (errno !== EAGAIN && errno !== EINTR) {
          this._fatalError(osError("send", errno), "Fatal write error on socket transport");
          return;
        }
      } else {
        bytes = bytes.subarray(n);
      }
      this._loop.addWriter(this._fd, this._onWritable);
    }
    // The caller may reuse its array after write() returns: keep a copy.
    this._writeQueue.push(bytes.slice());
    this._writeSize += bytes.byteLength;
    this._maybePauseProtocol();
  }

  /** Write every chunk in order (asyncio writelines). */
  writelines(list: Iterable<BytesLike>): void {
    for (const chunk of list) this.write(chunk);
  }

  private _writeReady(): void {
    if (this._connLost) return;
    const queue = this._writeQueue;
    while (this._writeHead < queue.length) {
      const chunk = queue[this._writeHead];
      const n = libc.send(this._fd, chunk, chunk.byteLength, MSG_NOSIGNAL);
      if (n < 0) {
        const errno = lastErrno();
        if (errno === EAGAIN || errno === EINTR) break;
        this._loop.removeWriter(this._fd);
        this._clearWriteQueue();
        this._fatalError(osError("send", errno), "Fatal write error on socket transport");
        return;
      }
      this._writeSize -= n;
      if (n < chunk.byteLength) {
        queue[this._writeHead] = chunk.subarray(n);
        break;
      }
      queue[this._writeHead++] = EMPTY;
    }
    if (this._writeHead === queue.length) {
      this._writeQueue = [];
      this._writeHead = 0;
    }
    this._maybeResumeProtocol();
    if (this._writeSize > 0) return;
    this._loop.removeWriter(this._fd);
    if (this._closing) this._callConnectionLost(null);
    else if (this._eof) this._sock.shutdown(SHUT_WR);
  }

  private _clearWriteQueue(): void {
    this._writeQueue = [];
    this._writeHead = 0;
    this._writeSize = 0;
  }

  /** Half-close: send FIN once the buffer is flushed (asyncio write_eof). */
  writeEof(): void {
    if (this._closing || this._eof) return;
    this._eof = true;
    if (this._writeSize === 0) this._sock.shutdown(SHUT_WR);
  }

  canWriteEof(): boolean {
    return true;
  }

  // ---- Failing and closing --------------------------------------------------------------------

  /** @internal */
  _fatalError(exc: unknown, message: string): void {
    const quiet = exc instanceof OSError && connectionErrors.has(exc.code);
    if (!quiet) {
      this._loop.callExceptionHandler({
        message,
        exception: exc,
        transport: this,
        protocol: this._protocol,
      });
    }
    this._forceClose(exc instanceof Error ? exc : new Error(String(exc)));
  }

  private _forceClose(exc: Error | null): void {
    if (this._connLost) return;
    if (this._writeSize > 0) {
      this._clearWriteQueue();
      this._loop.removeWriter(this._fd);
    }
    if (!this._closing) {
      this._closing = true;
      this._loop.removeReader(this._fd);
    }
    this._connLost++;
    this._loop.callSoon(callConnectionLost, this, exc);
  }

  /** @internal The one path to connectionLost: it runs exactly once, then the fd closes. */
  _callConnectionLost(exc: Error | null): void {
    if (this._lostReported) return;
    this._lostReported = true;
    try {
      if (this._protocolConnected) this._protocol.connectionLost?.(exc);
    } finally {
      this._sock.close();
      this._protocolConnected = false;
      const server = this._server;
      this._server = undefined;
      server?._detach(this);
    }
  }

  /** @internal */
  _connectionMade(): void {
    try {
      this._protocol.connectionMade?.(this);
    } catch (e) {
      this._fatalError(e, "Fatal error: protocol.connectionMade() call failed.");
    }
  }

  override toString(): string {
    return `<SelectorSocketTransport fd=${this._fd}${this._closing ? " closing" : ""}>`;
  }
}

const EMPTY = new Uint8Array(0);

function connectionMade(t: SelectorSocketTransport): void {
  t._connectionMade();
}

function startReading(t: SelectorSocketTransport): void {
  t._startReading();
}

function resolveWaiter(waiter: Future<unknown>): void {
  if (!waiter.done()) waiter.setResult(null);
}

function callConnectionLost(t: SelectorSocketTransport, exc: Error | null): void {
  t._callConnectionLost(exc);
}
