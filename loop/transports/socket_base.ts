/**
 * What the two stream socket transports share, whichever loop drives them (asyncio's
 * _SelectorSocketTransport and _ProactorSocketTransport keep this twice): the socket itself
 * (TCP_NODELAY, sockname/peername, shutdown, close), the server an accepted connection belongs
 * to, which kind of protocol receives the data, pauseReading/resumeReading and writeEof.
 * Reading and writing are the subclasses' own: readiness plus recv/send on the selector loop,
 * submitted operations and their completions on the proactor loop.
 */
import {
  AF_INET, AF_INET6, IPPROTO_TCP, SOCK_STREAM, TCP_NODELAY,
} from "../../ffi/socket_constants.ts";
import type { AbstractEventLoop, AbstractFuture } from "../core/abstract_loop.ts";
import { OSError, RuntimeError } from "../core/errors.ts";
import type { BufferedProtocolLike, ProtocolLike } from "./protocols.ts";
import type { SockAddr, Socket } from "../net/socket.ts";
import type { ExtraInfoTable, Transport } from "./base.ts";
import { StreamTransport } from "./stream_base.ts";
import { registerTransport, unregisterTransport } from "./transport_table.ts";

const SHUT_WR = 1;

/** Errors that only mean "the peer went away": reported to the protocol, not logged. */
const connectionErrors = new Set([
  "ECONNRESET", "EPIPE", "ECONNABORTED", "ETIMEDOUT", "ECONNREFUSED", "EHOSTUNREACH",
  "ENETUNREACH", "ENOTCONN", "ESHUTDOWN",
]);

/** Something that can be told a connection it served has ended (the Server). */
export interface ConnectionOwner {
  _attach(transport: Transport): void;
  _detach(transport: Transport): void;
}

/** Options for making a socket transport. */
export interface SocketTransportOptions {
  /** Resolved with null once connectionMade has run. */
  waiter?: AbstractFuture<unknown>;
  /** Extra values for getExtraInfo(). */
  extra?: ExtraInfoTable;
  server?: ConnectionOwner;
}

/**
 * The extra info of a socket transport: `extra`, and the socket's own sockname and peername,
 * read now, as asyncio does when it makes the transport: a peer that closes at once leaves a
 * socket that can no longer say (ENOTCONN), and the transport may have closed it by the time
 * someone asks. Either is undefined if the socket cannot tell.
 */
function socketExtra(sock: Socket, extra: ExtraInfoTable | undefined): ExtraInfoTable {
  // One literal with every key, so the object keeps its properties in itself (a spread plus
  // two added keys took a separate property array: 40 more bytes per connection).
  const out: ExtraInfoTable = {
    socket: sock,
    sockname: extra?.sockname !== undefined ? extra.sockname : sharedSockname(socketAddress(sock, "getsockname")),
    peername: extra?.peername !== undefined ? extra.peername : socketAddress(sock, "getpeername"),
  };
  if (extra !== undefined) {
    for (const key in extra) if (key !== "sockname" && key !== "peername") out[key] = extra[key];
  }
  return out;
}

/**
 * The last sockname array socketExtra read, frozen. The connections a server accepts all have
 * the listener's address, so they share this one array instead of holding one each (64 bytes
 * per idle connection on V8); a transport of another address in between (a connection the
 * process made itself) only costs that sharing once. Frozen as asyncio's tuple is immutable:
 * no connection can change another's.
 */
let lastSockname: SockAddr | undefined;

/** `addr`, or the equal array read before (see lastSockname). */
function sharedSockname(addr: SockAddr | undefined): SockAddr | undefined {
  if (!Array.isArray(addr)) return addr;
  const last = lastSockname;
  if (Array.isArray(last) && last.length === addr.length) {
    let i = 0;
    while (i < addr.length && last[i] === addr[i]) i++;
    if (i === addr.length) return last;
  }
  return lastSockname = Object.freeze(addr) as SockAddr;
}

/** The socket's own or its peer's address; undefined if it cannot tell (unbound, ENOTCONN). */
function socketAddress(sock: Socket, which: "getsockname" | "getpeername"): SockAddr | undefined {
  try {
    return sock[which]();
  } catch {
    return undefined;
  }
}

/** A Protocol or a BufferedProtocol: which one is decided by setProtocol(). */
export type AnyProtocol = ProtocolLike & Partial<BufferedProtocolLike>;

/**
 * Hand bytes already received to a BufferedProtocol: copied into as many getBuffer() buffers
 * as they need, each followed by bufferUpdated (asyncio protocols._feed_data_to_buffered_proto).
 * Throws what the protocol throws, or RuntimeError for an empty buffer.
 */
export function feedBufferedProtocol(protocol: AnyProtocol, data: Uint8Array): void {
  let off = 0;
  while (off < data.byteLength) {
    const rest = data.byteLength - off;
    const buf = protocol.getBuffer!(rest);
    if (!(buf instanceof Uint8Array) || buf.byteLength === 0) {
      throw new RuntimeError("getBuffer() returned an empty buffer");
    }
    const n = Math.min(buf.byteLength, rest);
    buf.set(data.subarray(off, off + n));
    off += n;
    protocol.bufferUpdated!(n);
  }
}

/** A TCP or Unix stream connection (see the file comment). */
export abstract class SocketTransport extends StreamTransport implements Transport {
  /** @ignore */ declare protected _protocol: AnyProtocol;
  /** @ignore */ protected readonly _sock: Socket;
  private _server: ConnectionOwner | undefined;
  /** @ignore The protocol has getBuffer(): receive into its buffer, not ours. */
  protected _buffered = false;
  /** @ignore writeEof() was called. */
  protected _eof = false;
  /** @ignore pauseReading() was called (and not resumeReading() since). */
  protected _paused = false;
  /** @ignore loop.sendfile() sends from a file straight to the socket: write() is refused. */
  _sendfileActive = false;

  constructor(
    loop: AbstractEventLoop,
    sock: Socket,
    protocol: ProtocolLike | BufferedProtocolLike,
    options: SocketTransportOptions,
  ) {
    super(loop, sock.fileno(), protocol, socketExtra(sock, options.extra), options.waiter);
    this._sock = sock;
    registerTransport(loop, this._fd, this);
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
    this.setProtocol(protocol);
  }

  /** @ignore Start (or restart) receiving, unless closing or paused. */
  abstract _startReading(): void;
  /** @ignore resumeReading() was called: deliver what waited, or start receiving. */
  protected abstract _readingResumed(): void;

  /** @ignore */
  _startIo(): void {
    this._startReading();
  }

  /** Replace the protocol (asyncio set_protocol); a BufferedProtocol is read into its buffer. */
  override setProtocol(protocol: unknown): void {
    const p = protocol as AnyProtocol;
    this._buffered = typeof p.getBuffer === "function";
    this._protocol = p;
  }

  /** The protocol receiving this transport's callbacks (asyncio get_protocol). */
  override getProtocol(): ProtocolLike | BufferedProtocolLike {
    return this._protocol;
  }

  // ---- Reading --------------------------------------------------------------------------------

  /** True while data is being delivered (asyncio is_reading). */
  isReading(): boolean {
    return !this._paused && !this._closing;
  }

  /**
   * Stop receiving until resumeReading() (asyncio pause_reading); on the proactor loop what
   * was already received waits for resumeReading(). Idempotent.
   */
  pauseReading(): void {
    if (this._closing || this._paused) return;
    this._paused = true;
    this._stopReading();
  }

  /** Resume receiving after pauseReading() (asyncio resume_reading). Idempotent. */
  resumeReading(): void {
    if (this._closing || !this._paused) return;
    this._paused = false;
    this._readingResumed();
  }

  /**
   * @ignore The BufferedProtocol's buffer for the next receive (asyncio get_buffer(-1));
   * undefined when it failed, and the transport is then failing.
   */
  protected _protocolBuffer(): Uint8Array | undefined {
    try {
      const buf = this._protocol.getBuffer!(-1);
      if (!(buf instanceof Uint8Array) || buf.byteLength === 0) {
        throw new RuntimeError("getBuffer() returned an empty buffer");
      }
      return buf;
    } catch (e) {
      this._fatalError(e, "Fatal error: protocol.getBuffer() call failed.");
      return undefined;
    }
  }

  /** @ignore The peer sent EOF: ask the protocol whether to keep the write side open. */
  protected _eofReceived(): void {
    let keepOpen: boolean | void;
    try {
      keepOpen = this._protocol.eofReceived?.();
    } catch (e) {
      this._fatalError(e, "Fatal error: protocol.eofReceived() call failed.");
      return;
    }
    // Half-closed: the peer will send nothing more, so stop reading either way.
    if (keepOpen) this._stopReading();
    else this.close();
  }

  // ---- Writing --------------------------------------------------------------------------------

  /** Half-close: send FIN once the buffer is flushed (asyncio write_eof). */
  writeEof(): void {
    if (this._closing || this._eof) return;
    this._eof = true;
    if (this._writeSize === 0) this._shutdownWrite();
  }

  /** True: a socket can half-close (asyncio can_write_eof). */
  canWriteEof(): boolean {
    return true;
  }

  /** @ignore Send FIN (the write buffer is empty). */
  protected _shutdownWrite(): void {
    this._sock.shutdown(SHUT_WR);
  }

  // ---- Failing and closing --------------------------------------------------------------------

  /** @ignore */
  protected _isPeerError(exc: unknown): boolean {
    return exc instanceof OSError && connectionErrors.has(exc.code);
  }

  /** @ignore Close the socket, then tell the server this connection is gone. */
  protected _release(): void {
    unregisterTransport(this._loop, this._fd, this);
    this._sock.close();
    const server = this._server;
    this._server = undefined;
    server?._detach(this);
  }
}
