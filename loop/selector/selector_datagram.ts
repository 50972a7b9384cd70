/**
 * The datagram socket transport of the selector loop (asyncio's _SelectorDatagramTransport):
 * UDP and Unix datagram sockets.
 */
import type { AbstractEventLoop, AbstractFuture } from "../core/abstract_loop.ts";
import { asBytes, type BytesLike } from "../core/bytes.ts";
import { OSError } from "../core/errors.ts";
import type { DatagramProtocolLike } from "../transports/protocols.ts";
import type { AddressLike, SockAddr, Socket } from "../net/socket.ts";
import { DatagramTransportBase, MAX_DATAGRAM } from "../transports/datagram_base.ts";

const isRetry = (e: unknown) => e instanceof OSError && (e.code === "EAGAIN" || e.code === "EINTR");

/** A UDP or Unix datagram endpoint (asyncio.DatagramTransport). */
export class SelectorDatagramTransport extends DatagramTransportBase {
  private _connLost = 0;
  private _queue: [Uint8Array, unknown][] = [];
  private readonly _onReadable: () => void;
  private readonly _onWritable: () => void;

  constructor(
    loop: AbstractEventLoop,
    sock: Socket,
    protocol: DatagramProtocolLike,
    address: unknown,
    waiter?: AbstractFuture<unknown>,
  ) {
    super(loop, sock, protocol, address, waiter);
    this._onReadable = this._readReady.bind(this);
    this._onWritable = this._sendReady.bind(this);
  }

  /** @ignore */
  protected _startReceiving(): void {
    if (!this._closing) this._loop._addReader(this._sock.fileno(), this._onReadable);
  }

  /**
   * Send one datagram to `addr`, or to the connected remote address when `addr` is omitted
   * (asyncio sendto). A connected endpoint refuses any other address with ValueError.
   */
  sendto(data: BytesLike, addr?: unknown): void {
    const bytes = asBytes(data);
    this._checkSendAddress(addr);
    if (this._connLost) {
      this._connLost++;
      return;
    }
    if (this._queue.length === 0) {
      try {
        if (this._connected) this._sock.send(bytes);
        else this._sock.sendto(bytes, (addr ?? this._address) as AddressLike);
        return;
      } catch (e) {
        if (!isRetry(e)) {
          if (e instanceof OSError) this._protocol.errorReceived?.(e);
          else this._fatalError(e, "Fatal write error on datagram transport");
          return;
        }
      }
      this._loop._addWriter(this._sock.fileno(), this._onWritable);
    }
    this._queue.push([bytes.slice(), addr ?? this._address]);
    this._queuedBytes += bytes.byteLength;
    this._maybePauseProtocol();
  }

  private _sendReady(): void {
    for (let first = this._queue[0]; first !== undefined; first = this._queue[0]) {
      const [data, addr] = first;
      try {
        if (this._connected) this._sock.send(data);
        else this._sock.sendto(data, addr as AddressLike);
      } catch (e) {
        if (isRetry(e)) break;
        this._queue.shift();
        this._queuedBytes -= data.byteLength;
        if (e instanceof OSError) this._protocol.errorReceived?.(e);
        else {
          this._fatalError(e, "Fatal write error on datagram transport");
          return;
        }
        continue;
      }
      this._queue.shift();
      this._queuedBytes -= data.byteLength;
    }
    this._maybeResumeProtocol();
    if (this._queue.length > 0) return;
    this._loop._removeWriter(this._sock.fileno());
    if (this._closing) this._callConnectionLost(null);
  }

  private _readReady(): void {
    if (this._connLost) return;
    let data: Uint8Array, addr: SockAddr;
    try {
      [data, addr] = this._sock.recvfrom(MAX_DATAGRAM);
    } catch (e) {
      if (isRetry(e)) return;
      if (e instanceof OSError) this._protocol.errorReceived?.(e);
      else this._fatalError(e, "Fatal read error on datagram transport");
      return;
    }
    try {
      this._protocol.datagramReceived?.(data, addr);
    } catch (e) {
      this._fatalError(e, "Fatal error: protocol.datagramReceived() call failed.");
    }
  }

  /** Stop receiving; send what is queued, then close (asyncio close). */
  close(): void {
    if (this._closing) return;
    this._closing = true;
    this._loop._removeReader(this._sock.fileno());
    if (this._queue.length === 0) {
      this._connLost++;
      this._loop.callSoon(() => this._callConnectionLost(null));
    }
  }

  /** @ignore */
  protected _forceClose(exc: Error | null): void {
    if (this._connLost) return;
    if (this._queue.length > 0) {
      this._queue = [];
      this._queuedBytes = 0;
      this._loop._removeWriter(this._sock.fileno());
    }
    if (!this._closing) {
      this._closing = true;
      this._loop._removeReader(this._sock.fileno());
    }
    this._connLost++;
    this._loop.callSoon(() => this._callConnectionLost(exc));
  }
}
