/**
 * The stream socket transport of the selector loop (asyncio's _SelectorSocketTransport).
 *
 * Hot path, per readiness event: one recv(2) into the receive arena, whose bytes the protocol
 * gets without a copy for large reads and with a pooled copy for small ones (receive_arena.ts;
 * a BufferedProtocol receives straight into its own buffer instead), and writes
 * go to send(2) at once — only what the kernel refuses is copied into the write queue. No
 * Promise or closure is created per event, nor per connection: the loop calls the module's
 * readReady/writeReady with the transport as their argument (a bound method per transport
 * was 48 bytes each of an idle connection's memory, bench/memory_per_conn.ts).
 * The closing state machine, the write queue and the socket bookkeeping are the bases'
 * (stream_base.ts, socket_base.ts).
 */
import { EAGAIN, EINTR, lastErrno, osError } from "../../ffi/libc.ts";
import { fdRecv, fdSend } from "../transports/fd_calls.ts";
import { MSG_NOSIGNAL } from "../../ffi/socket_constants.ts";
import type { AbstractEventLoop } from "../core/abstract_loop.ts";
import { asBytes, type BytesLike } from "../core/bytes.ts";
import { RuntimeError } from "../core/errors.ts";
import type { BufferedProtocolLike, ProtocolLike } from "../transports/protocols.ts";
import type { Socket } from "../net/socket.ts";
import { receiveArena } from "../transports/receive_arena.ts";
import { SocketTransport, type SocketTransportOptions } from "../transports/socket_base.ts";

export type { ConnectionOwner, SocketTransportOptions } from "../transports/socket_base.ts";


/** A TCP or Unix stream connection driven by readiness (asyncio's selector socket transport). */
export class SelectorSocketTransport extends SocketTransport {
  /**
   * @ignore A BufferedProtocol's getBuffer() buffer is written only within the read that
   * asked for it: the protocol may hand out memory it frees in connectionLost (sslproto.ts
   * receives into its TLS engine's ring). A completion loop lends the buffer to the kernel
   * until the receive completes, which can be after connectionLost.
   */
  get _readsInCall(): boolean {
    return true; // a getter, not a field: 8 bytes fewer per connection
  }

  constructor(
    loop: AbstractEventLoop,
    sock: Socket,
    protocol: ProtocolLike | BufferedProtocolLike,
    options: SocketTransportOptions = {},
  ) {
    super(loop, sock, protocol, options);
  }

  // ---- Reading --------------------------------------------------------------------------------

  /** @ignore */
  _startReading(): void {
    if (!this._closing && !this._paused) this._loop._addReader(this._fd, readReady, this);
  }

  /** @ignore */
  protected _readingResumed(): void {
    this._loop._addReader(this._fd, readReady, this);
  }

  /** @ignore */
  protected _stopReading(): void {
    this._loop._removeReader(this._fd);
  }

  /** @ignore The fd is readable (the loop calls readReady). */
  _readReady(): void {
    if (this._connLost) return;
    if (this._buffered) this._readReadyBuffered();
    else this._readReadyData();
  }

  private _readReadyData(): void {
    const n = fdRecv(this._fd, receiveArena.space, receiveArena.spaceLimit, 0);
    if (n > 0) {
      const data = receiveArena.takeReceived(n);
      try {
        this._protocol.dataReceived?.(data);
      } catch (e) {
        this._fatalError(e, "protocol.dataReceived() call failed.");
      }
    } else if (n === 0) {
      this._eofReceived();
    } else {
      this._readFailed();
    }
  }

  private _readReadyBuffered(): void {
    const buf = this._protocolBuffer();
    if (buf === undefined) return;
    const n = fdRecv(this._fd, buf, Math.min(buf.byteLength, 0x7fffffff), 0);
    if (n > 0) {
      try {
        this._protocol.bufferUpdated!(n);
      } catch (e) {
        this._fatalError(e, "Fatal error: protocol.bufferUpdated() call failed.");
      }
    } else if (n === 0) {
      this._eofReceived();
    } else {
      this._readFailed();
    }
  }

  private _readFailed(): void {
    const errno = lastErrno();
    if (errno === EAGAIN || errno === EINTR) return;
    this._fatalError(osError("recv", errno), "Fatal read error on socket transport");
  }

  // ---- Writing --------------------------------------------------------------------------------

  /**
   * Send `data` (asyncio write): straight to the socket when nothing is queued; the rest is
   * copied and sent as the socket drains. RuntimeError after writeEof().
   */
  write(data: BytesLike): void {
    const bytes = asBytes(data);
    if (this._eof) throw new RuntimeError("Cannot call write() after writeEof()");
    if (this._sendfileActive) throw new RuntimeError("unable to write; sendfile is in progress");
    if (bytes.byteLength === 0) return;
    if (this._connLost) this._dropWrite("aioloop: socket.send() raised exception.");
    else this._writeOrQueue(bytes);
  }

  /** @ignore */
  protected _writeChunk(chunk: Uint8Array): number {
    return fdSend(this._fd, chunk, chunk.byteLength, MSG_NOSIGNAL);
  }

  /** @ignore */
  protected _writeFailed(errno: number): void {
    this._fatalError(osError("send", errno), "Fatal write error on socket transport");
  }

  /** @ignore */
  protected override _watchWritable(): void {
    this._loop._addWriter(this._fd, writeReady, this);
  }

  /** @ignore */
  protected _stopWriting(): void {
    this._loop._removeWriter(this._fd);
  }

  /** @ignore The fd is writable (the loop calls writeReady). */
  _writeReady(): void {
    if (this._connLost) return;
    if (!this._flushWriteQueue() || this._writeSize > 0) return;
    this._loop._removeWriter(this._fd);
    if (this._closing) this._callConnectionLost(null);
    else if (this._eof) this._shutdownWrite();
  }

  /** `<SelectorSocketTransport fd=…>`, for logs. */
  override toString(): string {
    return `<SelectorSocketTransport fd=${this._fd}${this._closing ? " closing" : ""}>`;
  }
}

function readReady(t: SelectorSocketTransport): void {
  t._readReady();
}

function writeReady(t: SelectorSocketTransport): void {
  t._writeReady();
}
