/**
 * TLS over any stream transport (asyncio's sslproto: SSLProtocol and _SSLProtocolTransport).
 *
 * SSLProtocol is the protocol of the socket transport: it feeds the received bytes to an
 * SSLObject (loop/tls/ssl.ts: OpenSSL over memory buffers) and writes what the engine produces
 * back to the transport. SSLProtocolTransport is the transport the user's protocol sees. The
 * engine never touches a socket, so this file works over any transport.
 *
 * States: DO_HANDSHAKE → WRAPPED (data flows) → FLUSHING (closing: what the user wrote goes out
 * first) → SHUTDOWN (close_notify sent, waiting for the peer's, or its TCP EOF, or the shutdown
 * timeout) → UNWRAPPED (connection lost). FLUSHING can last: unlike asyncio's unbounded
 * MemoryBIO, the engine's output ring is bounded, so plaintext written while the transport below
 * was paused waits in the backlog until it resumes; close_notify must follow all of it.
 *
 * Flow control across the layer, as asyncio: the user's writes are encrypted at once into the
 * engine's output buffer; that buffer moves to the socket transport unless the socket
 * transport paused us (its buffer over its high-water mark). The user's protocol is paused
 * while the engine's output buffer (plus writes waiting for the handshake) is over the user
 * transport's high-water mark, and resumed at its low-water mark. Reading: pauseReading()
 * pauses the socket transport and stops handing over plaintext; resumeReading() hands over
 * what the engine already decrypted, then reads again.
 */
import { ECONNABORTED, ECONNRESET } from "../../ffi/libc.ts";
import type { AbstractEventLoop, AbstractFuture, AbstractTimerHandle } from "../core/abstract_loop.ts";
import { asBytes, type BytesLike, concat } from "../core/bytes.ts";
import { NotImplementedError, OSError, RuntimeError, TimeoutError, ValueError } from "../core/errors.ts";
import type { BufferedProtocolLike, ProtocolLike } from "../transports/protocols.ts";
import { CLOSE_NOTIFY, type SSLContext, type SSLObject, WANT_MORE } from "./ssl.ts";
import type { ExtraInfo, ExtraInfoTable, Transport } from "../transports/base.ts";
import { FlowControl } from "../transports/flow_control.ts";
import { lostReported, waitLost } from "../transports/dispose.ts";
import { receiveArena } from "../transports/receive_arena.ts";

/** asyncio's SSL_HANDSHAKE_TIMEOUT: seconds a handshake may take before the connection aborts. */
export const SSL_HANDSHAKE_TIMEOUT = 60;
/** asyncio's SSL_SHUTDOWN_TIMEOUT: seconds to wait for the peer's close_notify. */
export const SSL_SHUTDOWN_TIMEOUT = 30;

const UNWRAPPED = 0, DO_HANDSHAKE = 1, WRAPPED = 2, FLUSHING = 3, SHUTDOWN = 4;
const STATE_NAMES = ["UNWRAPPED", "DO_HANDSHAKE", "WRAPPED", "FLUSHING", "SHUTDOWN"];

/** After this many writes to a closed TLS transport, say so once (asyncio logs a warning). */
const LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5;

// Plaintext is decrypted into the receive arena, whose bytes a protocol gets to keep
// (receive_arena.ts). Output is sent straight from the engine's ring (SSLObject._takeOutgoing;
// the socket transport copies whatever it does not send at once). The receive buffer cannot be
// shared: a completion loop (io_uring, IOCP) lends getBuffer()'s buffer to the kernel until the
// receive completes, with every connection's receive in flight at once, so each connection
// has its own (asyncio's SSLProtocol too: max_size, 256 KiB). Measured here, 64 MiB echoed
// through one connection, client and server in one loop: a 256 KiB receive buffer moved ~10 %
// more than a 64 KiB one on both loops and runtimes (Bun 220-260 MiB/s selector, 170-190
// proactor; Deno 195-205 / 165-185), at the cost of that much memory per open connection.
const BUFFER_SIZE = 256 * 1024;

type AnyProtocol = ProtocolLike & Partial<BufferedProtocolLike>;

/**
 * `value` of the timeout option `name`, or `fallback` if it is undefined or null; a TypeError
 * if it is not a number, a ValueError unless it is positive (asyncio's check and wording).
 */
export function sslTimeout(name: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number of seconds, got ${typeof value}`);
  }
  if (!(value > 0)) throw new ValueError(`${name} should be a positive number, got ${value}`);
  return value;
}

/** Options of an SSLProtocol (createConnection/createServer pass theirs through). */
export interface SSLProtocolOptions {
  /** True on the accepting side (servers). */
  serverSide?: boolean | undefined;
  /** The name to check the server's certificate against; null/"" skips the check. */
  serverHostname?: string | null | undefined;
  /** Resolved once the handshake is done and connectionMade ran; rejected if it fails. */
  waiter?: AbstractFuture<unknown> | null | undefined;
  /** Seconds, positive (a ValueError otherwise); default 60. */
  sslHandshakeTimeout?: number | undefined;
  /** Seconds, positive (a ValueError otherwise); default 30. */
  sslShutdownTimeout?: number | undefined;
  /**
   * Call the app protocol's connectionMade after the handshake (default true); false for a
   * protocol connected already (startTls).
   */
  callConnectionMade?: boolean | undefined;
}

/** The TLS layer as a protocol of the transport below it (asyncio.sslproto.SSLProtocol). */
export class SSLProtocol implements BufferedProtocolLike {
  private readonly _loop: AbstractEventLoop;
  private _app: AnyProtocol;
  private _appBuffered: boolean;
  private readonly _sslobj: SSLObject;
  private readonly _appTransport: SSLProtocolTransport;
  private _transport: Transport | null = null;
  private _state = UNWRAPPED;
  private _waiter: AbstractFuture<unknown> | null;
  private readonly _handshakeTimeout: number;
  private readonly _shutdownTimeout: number;
  private readonly _callConnectionMade: boolean;
  private _handshakeTimer: AbstractTimerHandle | null = null;
  private _shutdownTimer: AbstractTimerHandle | null = null;
  private readonly _extra: ExtraInfoTable;
  // Plaintext the engine could not take yet (written during the handshake).
  private _backlog: Uint8Array[] = [];
  private _backlogSize = 0;
  // The engine's output buffer was emptied by the last move to the transport.
  private _outgoingEmpty = true;
  private _sslWritingPaused = false;
  private _appReadingPaused = false;
  private _appConnected = false;
  private _eofDelivered = false;
  private _tcpEof = false;
  private _fatal: Error | null = null;
  private _connLostWrites = 0;
  // The receive buffer, this connection's own (see BUFFER_SIZE); made at the first receive.
  private _incoming: Uint8Array | null = null;
  // Received bytes the engine's input ring had no room for, oldest first (see _feedEngine).
  private _unfed: Uint8Array | null = null;
  // The transport below receives into getBuffer()'s buffer within its read call only, so
  // getBuffer() may hand out the engine's input ring; the last one did (see getBuffer).
  private _receivesInPlace = false;
  private _receivingIntoRing = false;

  /** Layer TLS between a socket transport and the user's protocol (asyncio SSLProtocol). */
  constructor(
    loop: AbstractEventLoop,
    appProtocol: ProtocolLike | BufferedProtocolLike,
    sslContext: SSLContext,
    options: SSLProtocolOptions = {},
  ) {
    this._loop = loop;
    this._app = appProtocol as AnyProtocol;
    this._appBuffered = typeof this._app.getBuffer === "function";
    this._waiter = options.waiter ?? null;
    this._handshakeTimeout = sslTimeout("sslHandshakeTimeout", options.sslHandshakeTimeout, SSL_HANDSHAKE_TIMEOUT);
    this._shutdownTimeout = sslTimeout("sslShutdownTimeout", options.sslShutdownTimeout, SSL_SHUTDOWN_TIMEOUT);
    this._callConnectionMade = options.callConnectionMade ?? true;
    // Without our connectionMade (startTls) the protocol is connected already: it gets
    // eofReceived and connectionLost, even when the handshake fails.
    this._appConnected = !this._callConnectionMade;
    const serverSide = options.serverSide ?? false;
    this._sslobj = sslContext._wrap(serverSide, serverSide ? null : options.serverHostname ?? null);
    this._extra = { sslcontext: sslContext };
    this._appTransport = new SSLProtocolTransport(loop, this, this._app);
  }

  /** @ignore The transport the user's protocol sees. */
  get _userTransport(): SSLProtocolTransport {
    return this._appTransport;
  }

  // ---- Protocol of the transport below ------------------------------------------------------

  connectionMade(transport: Transport): void {
    this._transport = transport;
    this._receivesInPlace = (transport as { _readsInCall?: boolean })._readsInCall === true;
    this._state = DO_HANDSHAKE;
    this._handshakeTimer = this._loop.callLater(this._handshakeTimeout, checkHandshakeTimeout, this);
    this._doHandshake();
  }

  /**
   * Where the transport receives: straight into the engine's input ring if the transport
   * writes it only within its read call (saves a copy of every byte); otherwise this
   * connection's own buffer, which a completion loop may lend to the kernel past close.
   */
  getBuffer(_sizeHint: number): Uint8Array {
    if (this._receivesInPlace && this._unfed === null && this._sslobj._ssl !== null) {
      const space = this._sslobj._incomingSpace();
      if (space !== null) {
        this._receivingIntoRing = true;
        return space;
      }
    }
    this._receivingIntoRing = false;
    return this._incoming ??= new Uint8Array(BUFFER_SIZE);
  }

  bufferUpdated(nbytes: number): void {
    if (this._state === UNWRAPPED) return;
    if (this._receivingIntoRing) {
      this._receivingIntoRing = false;
      this._sslobj._commitIncoming(nbytes);
      this._driveEngine();
      return;
    }
    const received = this._incoming!;
    if (this._unfed !== null) {
      // Bytes wait for the engine already: these go after them.
      this._unfed = concat([this._unfed, received.subarray(0, nbytes)], this._unfed.byteLength + nbytes);
      return;
    }
    this._feedEngine(received, nbytes);
  }

  /**
   * Give `data[0, n)` to the engine, letting it work through its input ring as it fills; what
   * the ring cannot take now (the user's protocol paused reading, so nothing drains it) waits,
   * copied, in `_unfed` until reading resumes.
   */
  private _feedEngine(data: Uint8Array, n: number): void {
    let fed = 0, full = false;
    for (;;) {
      const taken = this._sslobj._feed(data, fed, n - fed);
      if (taken > 0) {
        fed += taken;
        full = false;
      } else if (full) {
        // Full, and working the engine did not make room.
        this._unfed = data.slice(fed, n);
        return;
      } else {
        full = true;
      }
      this._driveEngine();
      if (fed === n || this._state === UNWRAPPED) return;
    }
  }

  /** Let the engine work on the input it holds, as the state calls for. */
  private _driveEngine(): void {
    switch (this._state) {
      case DO_HANDSHAKE:
        this._doHandshake();
        break;
      case WRAPPED:
        this._doRead();
        break;
      case FLUSHING:
        this._doFlush();
        break;
      case SHUTDOWN:
        this._doShutdown();
        break;
    }
  }

  /** TCP EOF from the peer. Keeps the transport open: this layer closes it when done. */
  eofReceived(): boolean {
    this._tcpEof = true;
    switch (this._state) {
      case DO_HANDSHAKE:
        this._onHandshakeComplete(
          new OSError(ECONNRESET, "ECONNRESET", "Connection reset by peer",
            "the peer closed the connection during the TLS handshake"),
        );
        break;
      case WRAPPED:
        // An EOF without close_notify: hand over what is left, then EOF (see _doRead).
        this._doRead();
        break;
      case FLUSHING:
        // Only the peer's sending side may be closed: what the user wrote still goes out.
        this._doFlush();
        break;
      case SHUTDOWN:
        this._onShutdownComplete(null);
        break;
    }
    return true;
  }

  connectionLost(exc: Error | null): void {
    const error = exc ?? this._fatal;
    this._state = UNWRAPPED;
    this._cancelTimers();
    this._backlog = [];
    this._backlogSize = 0;
    this._unfed = null;
    if (this._appConnected) {
      this._appConnected = false;
      try {
        this._app.connectionLost?.(error);
      } catch (e) {
        this._loop.callExceptionHandler({
          message: "protocol.connectionLost() call failed.",
          exception: e,
          transport: this._appTransport,
          protocol: this._app,
        });
      }
    }
    this._appTransport._lost = true;
    lostReported(this._appTransport);
    this._wakeupWaiter(
      error ?? new OSError(ECONNRESET, "ECONNRESET", "Connection reset by peer", "connection lost"),
    );
    this._sslobj._free();
  }

  pauseWriting(): void {
    this._sslWritingPaused = true;
  }

  resumeWriting(): void {
    this._sslWritingPaused = false;
    switch (this._state) {
      case FLUSHING:
        this._doFlush();
        break;
      case SHUTDOWN:
        // close_notify may not have fit in the engine's output ring: SSL_shutdown sends it now.
        this._doShutdown();
        break;
      default:
        this._processOutgoing();
        // Plaintext waits in the backlog when the engine's ring filled while we were paused.
        if (this._state === WRAPPED && this._backlogSize > 0) this._flushBacklog();
    }
  }

  // ---- Handshake ----------------------------------------------------------------------------

  /** Drive the handshake one step with what has arrived so far. */
  private _doHandshake(): void {
    let done: boolean;
    try {
      done = this._sslobj._doHandshake();
    } catch (e) {
      // Send the alert that says why before closing.
      this._processOutgoing();
      this._onHandshakeComplete(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    this._processOutgoing();
    if (done) this._onHandshakeComplete(null);
  }

  /** Finish the handshake: tell the user's protocol, or fail the connection with `exc`. */
  private _onHandshakeComplete(exc: Error | null): void {
    this._handshakeTimer?.cancel();
    this._handshakeTimer = null;
    if (exc !== null) {
      this._fatal = exc;
      this._state = UNWRAPPED;
      // As asyncio: OSErrors (SSLError included) are the peer's doing and are not logged.
      if (!(exc instanceof OSError)) {
        this._loop.callExceptionHandler({
          message: "SSL handshake failed",
          exception: exc,
          transport: this._transport,
          protocol: this,
        });
      }
      this._wakeupWaiter(exc);
      this._transport?.close();
      return;
    }
    const obj = this._sslobj;
    this._extra.peercert = obj.getpeercert();
    this._extra.cipher = obj.cipher();
    this._extra.compression = obj.compression();
    this._extra.sslObject = obj;
    this._state = WRAPPED;
    if (this._callConnectionMade) {
      this._appConnected = true;
      try {
        this._app.connectionMade?.(this._appTransport);
      } catch (e) {
        this._fatalError(e, "Fatal error: protocol.connectionMade() call failed.");
        return;
      }
    }
    this._wakeupWaiter(null);
    if (this._backlogSize > 0) this._flushBacklog();
    // Application data may have arrived with the handshake's last flight.
    this._doRead();
  }

  /** @ignore */
  _checkHandshakeTimeout(): void {
    this._handshakeTimer = null;
    if (this._state !== DO_HANDSHAKE) return;
    const exc = new OSError(
      ECONNABORTED,
      "ECONNABORTED",
      `SSL handshake is taking longer than ${this._handshakeTimeout} seconds: aborting the connection`,
    );
    this._fatal = exc;
    this._state = UNWRAPPED;
    this._wakeupWaiter(exc);
    this._transport?.abort();
  }

  /** Settle the creator's waiter (createConnection awaits it) with success or `exc`. */
  private _wakeupWaiter(exc: Error | null): void {
    const waiter = this._waiter;
    if (waiter === null) return;
    this._waiter = null;
    if (waiter.done()) return;
    if (exc === null) waiter.setResult(null);
    else waiter.setException(exc);
  }

  // ---- Reading ------------------------------------------------------------------------------

  /** Decrypt what arrived and hand the plaintext to the user's protocol. */
  private _doRead(): void {
    if (this._state !== WRAPPED || this._appReadingPaused) return;
    const unfed = this._unfed;
    if (unfed !== null) {
      // Reading resumed with received bytes still outside the engine: feed them (this reads).
      this._unfed = null;
      this._feedEngine(unfed, unfed.byteLength);
      return;
    }
    const obj = this._sslobj;
    let last = WANT_MORE;
    try {
      if (this._appBuffered) {
        for (;;) {
          const buf = this._app.getBuffer!(-1);
          if (!(buf instanceof Uint8Array) || buf.byteLength === 0) {
            throw new RuntimeError("getBuffer() returned an empty buffer");
          }
          last = obj._read(buf, 0, Math.min(buf.byteLength, 0x7fffffff));
          if (last <= 0) break;
          this._app.bufferUpdated!(last);
          if (this._state !== WRAPPED || this._appReadingPaused) return;
        }
      } else {
        // Decrypt as much as there is straight into the receive arena (a large result is
        // handed over without a copy, receive_arena.ts), then hand it over in one call.
        let total = 0;
        for (;;) {
          if (total === receiveArena.spaceLimit) {
            this._deliver(total);
            total = 0;
            if (this._state !== WRAPPED || this._appReadingPaused) return;
          }
          last = obj._read(receiveArena.space, total, receiveArena.spaceLimit - total);
          if (last <= 0) break;
          total += last;
        }
        if (total > 0) {
          this._deliver(total);
          if (this._state !== WRAPPED || this._appReadingPaused) return;
        }
      }
    } catch (e) {
      this._processOutgoing();
      this._fatalError(e, "SSL error in data received");
      return;
    }
    // Reading can produce output (a TLS 1.3 KeyUpdate answer) or unblock a waiting write.
    if (this._backlogSize > 0) this._flushBacklog();
    else this._processOutgoing();
    if (last === CLOSE_NOTIFY || this._tcpEof) {
      this._callEofReceived();
      this._startShutdown();
    }
  }

  /** Pass the `n` bytes decrypted into the receive arena to the user's protocol. */
  private _deliver(n: number): void {
    const data = receiveArena.takeReceived(n);
    try {
      this._app.dataReceived?.(data);
    } catch (e) {
      this._fatalError(e, "Fatal error: protocol.dataReceived() call failed.");
    }
  }

  /** The peer closed cleanly: tell the user's protocol, close unless it keeps writing. */
  private _callEofReceived(): void {
    if (!this._appConnected || this._eofDelivered) return;
    this._eofDelivered = true;
    try {
      // TLS cannot half-close: what eofReceived returns changes nothing (asyncio warns).
      this._app.eofReceived?.();
    } catch (e) {
      this._fatalError(e, "Error calling eof_received()");
    }
  }

  /** @ignore */
  _pauseReading(): void {
    if (this._appReadingPaused) return;
    this._appReadingPaused = true;
    if (this._state === WRAPPED) this._transport?.pauseReading();
  }

  /** @ignore */
  _resumeReading(): void {
    if (!this._appReadingPaused) return;
    this._appReadingPaused = false;
    if (this._state !== WRAPPED) return;
    this._transport?.resumeReading();
    // Plaintext the engine already holds would otherwise wait for the next packet.
    this._loop.callSoon(doRead, this);
  }

  /** @ignore */
  _isReading(): boolean {
    return !this._appReadingPaused && this._state === WRAPPED;
  }

  /** @ignore */
  _doReadSoon(): void {
    this._doRead();
  }

  // ---- Writing ------------------------------------------------------------------------------

  /** @ignore The user's write(). */
  _writeAppdata(data: Uint8Array): void {
    if (data.byteLength === 0) return;
    if (this._state !== WRAPPED) {
      if (this._state === DO_HANDSHAKE) {
        this._backlog.push(data.slice());
        this._backlogSize += data.byteLength;
        this._appTransport._updateFlowControl();
        return;
      }
      if (this._connLostWrites >= LOG_THRESHOLD_FOR_CONNLOST_WRITES &&
        this._connLostWrites === LOG_THRESHOLD_FOR_CONNLOST_WRITES) {
        console.warn("aioloop: SSL connection is closed");
      }
      this._connLostWrites++;
      return;
    }
    if (this._backlogSize > 0) {
      this._backlog.push(data.slice());
      this._backlogSize += data.byteLength;
      this._flushBacklog();
      return;
    }
    try {
      let offset = 0;
      while (offset < data.byteLength) {
        const n = this._sslobj._write(offset === 0 ? data : data.subarray(offset));
        if (n === WANT_MORE) {
          if (this._makeRoom()) continue;
          const rest = data.slice(offset);
          this._backlog.push(rest);
          this._backlogSize += rest.byteLength;
          break;
        }
        offset += n;
      }
    } catch (e) {
      this._fatalError(e, "Fatal error on SSL protocol");
      return;
    }
    this._processOutgoing();
  }

  /** Encrypt and send what the user wrote while the handshake ran. */
  private _flushBacklog(): void {
    try {
      for (let chunk = this._backlog[0]; chunk !== undefined; chunk = this._backlog[0]) {
        const n = this._sslobj._write(chunk);
        if (n === WANT_MORE) {
          if (this._makeRoom()) continue;
          break;
        }
        this._backlogSize -= n;
        if (n < chunk.byteLength) this._backlog[0] = chunk.subarray(n);
        else this._backlog.shift();
      }
    } catch (e) {
      this._fatalError(e, "Fatal error on SSL protocol");
      return;
    }
    this._processOutgoing();
  }

  /**
   * The engine would not encrypt more (WANT_MORE): if that is because its output ring is full
   * and the transport takes output, move the output and say to try again. False otherwise
   * (it waits for input, or the transport paused us): the caller keeps the plaintext.
   */
  private _makeRoom(): boolean {
    if (this._sslWritingPaused || this._transport === null || this._sslobj._outgoingSize() === 0) return false;
    this._processOutgoing();
    return true;
  }

  /** Move the engine's output to the transport, unless it asked us to pause. */
  private _processOutgoing(force = false): void {
    const transport = this._transport;
    if (transport === null || this._sslobj._ssl === null) return;
    if (!this._sslWritingPaused || force) {
      const obj = this._sslobj;
      for (;;) {
        // A view of the engine's ring: the transport sends it now or copies what it cannot.
        const chunk = obj._takeOutgoing();
        if (chunk === null) break;
        transport.write(chunk);
        if (!obj._outgoingMayContinue()) break;
      }
      this._outgoingEmpty = true;
    } else {
      this._outgoingEmpty = false;
    }
    this._appTransport._updateFlowControl();
  }

  /** @ignore Bytes written by the user and not yet handed to the transport below. */
  _writeBufferSize(): number {
    if (this._outgoingEmpty) return this._backlogSize;
    return this._backlogSize + this._sslobj._outgoingSize();
  }

  // ---- Closing ------------------------------------------------------------------------------

  /**
   * @ignore The user's close(), or the peer's close_notify or EOF: send what the user wrote,
   * then close_notify, then close. The shutdown timeout covers all of it, as asyncio's.
   */
  _startShutdown(): void {
    if (this._state === DO_HANDSHAKE) {
      this._abort(null);
      return;
    }
    if (this._state !== WRAPPED) return;
    this._state = FLUSHING;
    this._appTransport._markClosing();
    if (this._appReadingPaused) this._transport?.resumeReading(); // to see the peer's close_notify
    this._shutdownTimer = this._loop.callLater(this._shutdownTimeout, checkShutdownTimeout, this);
    this._doFlush();
  }

  /**
   * Encrypt and send the backlog; once it is all in the engine, go on to close_notify. While
   * the transport below is paused, resumeWriting() calls this again. Received data is dropped
   * (the connection is closing), but reading goes on so the engine's input ring cannot fill.
   */
  private _doFlush(): void {
    if (this._feedUnfed()) return;
    try {
      this._discardIncoming();
    } catch (e) {
      this._processOutgoing(true);
      this._onShutdownComplete(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    if (this._backlogSize > 0) this._flushBacklog();
    else this._processOutgoing();
    if (this._state !== FLUSHING || this._backlogSize > 0) return;
    this._state = SHUTDOWN;
    this._doShutdown();
  }

  /**
   * Closing: received bytes waiting outside the engine (reading was paused) go in now, or the
   * peer's close_notify behind them would never be seen. _feedEngine drives the state as it
   * feeds; true if there were any.
   */
  private _feedUnfed(): boolean {
    const unfed = this._unfed;
    if (unfed === null) return false;
    this._unfed = null;
    this._feedEngine(unfed, unfed.byteLength);
    return true;
  }

  /** Decrypt and drop what has arrived, up to the peer's close_notify; throws SSLError. */
  private _discardIncoming(): void {
    const obj = this._sslobj;
    while (obj._read(receiveArena.space, 0, receiveArena.spaceLimit) > 0) { /* dropped */ }
  }

  /**
   * Send close_notify and wait (bounded) for the peer's. After the peer's TCP EOF nothing is
   * sent (as asyncio): the peer may be gone, and a write there fails (EPIPE over a Unix socket)
   * and would turn a clean end into an error.
   */
  private _doShutdown(): void {
    if (this._feedUnfed()) return;
    let done: boolean;
    try {
      if (this._tcpEof) {
        done = true;
      } else {
        // Data after close() is dropped; read up to the peer's close_notify.
        this._discardIncoming();
        done = this._sslobj._shutdown();
      }
    } catch (e) {
      this._processOutgoing(true);
      this._onShutdownComplete(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    this._processOutgoing();
    if (done) this._onShutdownComplete(null);
  }

  /** The TLS shutdown is over: close the socket transport. */
  private _onShutdownComplete(exc: Error | null): void {
    if (this._state === UNWRAPPED) return;
    this._shutdownTimer?.cancel();
    this._shutdownTimer = null;
    this._state = UNWRAPPED;
    if (exc !== null && !(exc instanceof OSError)) {
      this._fatalError(exc, "Fatal error on SSL shutdown");
      return;
    }
    // Whatever the engine still holds goes out before the transport closes (it flushes).
    this._processOutgoing(true);
    this._transport?.close();
  }

  /** @ignore */
  _checkShutdownTimeout(): void {
    this._shutdownTimer = null;
    if (this._state !== FLUSHING && this._state !== SHUTDOWN) return;
    // asyncio's _check_shutdown_timeout closes with its TimeoutError.
    this._abort(new TimeoutError(
      `SSL shutdown timed out: no close_notify from the peer within ${this._shutdownTimeout} seconds`,
    ));
  }

  /** @ignore Close at once, dropping buffered data. */
  _abort(exc: Error | null): void {
    if (exc !== null && this._fatal === null) this._fatal = exc;
    this._state = UNWRAPPED;
    this._cancelTimers();
    this._transport?.abort();
  }

  /** Report `exc` (unless it is only the peer going away) and abort the connection. */
  private _fatalError(exc: unknown, message: string): void {
    const error = exc instanceof Error ? exc : new Error(String(exc));
    if (!(error instanceof OSError)) {
      this._loop.callExceptionHandler({
        message,
        exception: error,
        transport: this._transport,
        protocol: this,
      });
    }
    this._abort(error);
  }

  /** Stop the handshake and shutdown timers. */
  private _cancelTimers(): void {
    this._handshakeTimer?.cancel();
    this._handshakeTimer = null;
    this._shutdownTimer?.cancel();
    this._shutdownTimer = null;
  }

  // ---- For the user transport ---------------------------------------------------------------

  /** @ignore */
  _getExtraInfo(name: string, defaultValue: unknown): unknown {
    if (name === "ssl_object") name = "sslObject";
    if (name in this._extra) return this._extra[name];
    return this._transport ? this._transport.getExtraInfo(name, defaultValue) : defaultValue;
  }

  /** @ignore */
  _setAppProtocol(protocol: unknown): void {
    this._app = protocol as AnyProtocol;
    this._appBuffered = typeof this._app.getBuffer === "function";
  }

  /** @ignore */
  _getAppProtocol(): AnyProtocol {
    return this._app;
  }

  /** A readable description for logs. */
  toString(): string {
    return `<SSLProtocol ${STATE_NAMES[this._state]} ${this._sslobj}>`;
  }
}

function checkHandshakeTimeout(p: SSLProtocol): void {
  p._checkHandshakeTimeout();
}

function checkShutdownTimeout(p: SSLProtocol): void {
  p._checkShutdownTimeout();
}

function doRead(p: SSLProtocol): void {
  p._doReadSoon();
}

/** The transport a protocol sees over TLS (asyncio's _SSLProtocolTransport). */
export class SSLProtocolTransport extends FlowControl implements Transport {
  /** @ignore */ protected _loop: AbstractEventLoop;
  /** @ignore */ protected _protocol: AnyProtocol;
  private readonly _ssl: SSLProtocol;
  private _closed = false;
  /** @ignore The application protocol's connectionLost has run (set by SSLProtocol). */
  _lost = false;

  /** @ignore Made by SSLProtocol. */
  constructor(loop: AbstractEventLoop, sslProtocol: SSLProtocol, appProtocol: AnyProtocol) {
    super();
    this._loop = loop;
    this._ssl = sslProtocol;
    this._protocol = appProtocol;
  }

  /**
   * "sslcontext", "sslObject" (also "ssl_object"), "peercert", "cipher", "compression", then
   * the socket transport's ("socket", "peername", "sockname", …).
   */
  getExtraInfo<K extends keyof ExtraInfo>(name: K): ExtraInfo[K] | undefined;
  /** A known key (ExtraInfo): its value, or `defaultValue` where this transport has none. */
  getExtraInfo<K extends keyof ExtraInfo, D>(name: K, defaultValue: D): ExtraInfo[K] | D;
  /** Any other key: its value, or `defaultValue`. */
  getExtraInfo(name: string, defaultValue?: unknown): unknown;
  getExtraInfo(name: string, defaultValue: unknown = undefined): unknown {
    return this._ssl._getExtraInfo(name, defaultValue);
  }

  isClosing(): boolean {
    return this._closed;
  }

  /** Send close_notify after the buffered data, then close (asyncio close). */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    this._ssl._startShutdown();
  }

  /** @ignore The TLS layer is closing on its own (the peer's close_notify or EOF). */
  _markClosing(): void {
    this._closed = true;
  }

  /** Close at once, dropping buffered data (asyncio abort). */
  abort(): void {
    this._closed = true;
    this._ssl._abort(null);
  }

  /** `using`: close() when the scope ends (asyncio close). */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * `await using`: close() (close_notify after the buffered data), then wait until the
   * protocol's connectionLost has run and the socket is closed.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await waitLost(this, this._loop, this._lost);
  }

  setProtocol(protocol: unknown): void {
    this._protocol = protocol as AnyProtocol;
    this._ssl._setAppProtocol(protocol);
  }

  getProtocol(): ProtocolLike | BufferedProtocolLike {
    return this._ssl._getAppProtocol();
  }

  isReading(): boolean {
    return this._ssl._isReading();
  }

  pauseReading(): void {
    this._ssl._pauseReading();
  }

  resumeReading(): void {
    this._ssl._resumeReading();
  }

  getWriteBufferSize(): number {
    return this._ssl._writeBufferSize();
  }

  /** Encrypt and send `data` (asyncio write). */
  write(data: BytesLike): void {
    this._ssl._writeAppdata(asBytes(data));
  }

  writelines(list: Iterable<BytesLike>): void {
    for (const chunk of list) this.write(chunk);
  }

  /** TLS has no half-close: NotImplementedError, as asyncio. */
  writeEof(): void {
    throw new NotImplementedError("SSL doesn't support half-closes");
  }

  canWriteEof(): boolean {
    return false;
  }

  /** @ignore Pause or resume the user's protocol for the current buffer size. */
  _updateFlowControl(): void {
    if (this._protocolPaused) this._maybeResumeProtocol();
    else this._maybePauseProtocol();
  }

  /** A readable description for logs. */
  override toString(): string {
    return `<SSLProtocolTransport ${String(this._ssl)}${this._closed ? " closing" : ""}>`;
  }
}
