/**
 * The datagram socket transport of the selector loop (asyncio's _SelectorDatagramTransport):
 * UDP and Unix datagram sockets.
 */
import { OSError, ValueError } from "../errors.ts";
import type { Future } from "../futures.ts";
import type { DatagramProtocolLike } from "../protocols.ts";
import type { SelectorEventLoop } from "../selector_loop.ts";
import { type AddressLike, asBytes, type BytesLike, type Socket } from "../socket.ts";
import type { DatagramTransport } from "./base.ts";
import { FlowControl } from "./flow_control.ts";

/** The largest datagram one read takes (asyncio's max_size, 256 KiB). */
const MAX_DATAGRAM = 256 * 1024;

const isRetry = (e: unknown) => e instanceof OSError && (e.code === "EAGAIN" || e.code === "EINTR");

/** A UDP or Unix datagram endpoint (asyncio.DatagramTransport). */
export class SelectorDatagramTransport extends FlowControl implements DatagramTransport {
  /** @internal */ protected _loop: SelectorEventLoop;
  /** @internal */ protected _protocol: DatagramProtocolLike;
  private readonly _sock: Socket;
  private readonly _address: unknown;
  private readonly _extra: Record<string, unknown>;
  private _closing = false;
  private _connLost = 0;
  private _lostReported = false;
  private _queue: [Uint8Array, unknown][] = [];
  private _queuedBytes = 0;
  private readonly _onReadable: () => void;
  private readonly _onWritable: () => void;

  constructor(
    loop: SelectorEventLoop,
    sock: Socket,
    protocol: DatagramProtocolLike,
    address: unknown,
    waiter?: Future<unknown>,
  ) {
    super();
    this._loop = loop;
    this._sock = sock;
    this._protocol = protocol;
    this._address = address;
    this._extra = { socket: sock };
    this._onReadable = this._readReady.bind(this);
    this._onWritable = this._sendReady.bind(this);
    loop.callSoon(() => {
      try {
        this._protocol.connectionMade?.(this);
      } catch (e) {
        this._fatalError(e, "Fatal error: protocol.connectionMade() call failed.");
        return;
      }
      if (!this._closing) loop.addReader(sock, this._onReadable);
      if (waiter && !waiter.done()) waiter.setResult(null);
    });
  }

  /** "socket", "sockname", "peername" (asyncio get_extra_info). */
  getExtraInfo(name: string, defaultValue: unknown = undefined): unknown {
    if (name in this._extra) return this._extra[name];
    try {
      if (name === "sockname") return (this._extra[name] = this._sock.getsockname());
      if (name === "peername" && this._address !== null) {
        return (this._extra[name] = this._sock.getpeername());
      }
    } catch {
      // Not bound or not connected.
    }
    return defaultValue;
  }

  isClosing(): boolean {
    return this._closing;
  }

  setProtocol(protocol: unknown): void {
    this._protocol = protocol as DatagramProtocolLike;
  }

  getProtocol(): DatagramProtocolLike {
    return this._protocol;
  }

  getWriteBufferSize(): number {
    return this._queuedBytes;
  }

  /**
   * Send one datagram to `addr`, or to the connected remote address when `addr` is omitted
   * (asyncio sendto). A connected endpoint refuses any other address with ValueError.
   */
  sendto(data: BytesLike, addr?: unknown): void {
    const bytes = asBytes(data);
    if (this._address !== null && addr !== undefined && addr !== null &&
      JSON.stringify(addr) !== JSON.stringify(this._address)) {
      throw new ValueError(`Invalid address: must be undefined or ${JSON.stringify(this._address)}`);
    }
    if (this._address === null && (addr === undefined || addr === null)) {
      throw new ValueError("sendto() needs an address on an unconnected endpoint");
    }
    if (this._connLost) {
      this._connLost++;
      return;
    }
    if (this._queue.length === 0) {
      try {
        if (this._address !== null) this._sock.send(bytes);
        else this._sock.sendto(bytes, addr as AddressLike);
        return;
      } catch (e) {
        if (!isRetry(e)) {
          if (e instanceof OSError) this._protocol.errorReceived?.(e);
          else this._fatalError(e, "Fatal write error on datagram transport");
          return;
        }
      }
      this._loop.addWriter(this._sock, this._onWritable);
    }
    this._queue.push([bytes.slice(), addr]);
    this._queuedBytes += bytes.byteLength;
    this._maybePauseProtocol();
  }

  private _sendReady(): void {
    while (this._queue.length > 0) {
      const [data, addr] = this._queue[0];
      try {
        if (this._address !== null) this._sock.send(data);
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
    this._loop.removeWriter(this._sock);
    if (this._closing) this._callConnectionLost(null);
  }

  private _readReady(): void {
    if (this._connLost) return;
    let data: Uint8Array, addr: unknown;
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
    this._loop.removeReader(this._sock);
    if (this._queue.length === 0) {
      this._connLost++;
      this._loop.callSoon(() => this._callConnectionLost(null));
    }
  }

  /** Close now, dropping queued datagrams (asyncio abort). */
  abort(): void {
    this._forceClose(null);
  }

  private _fatalError(exc: unknown, message: string): void {
    this._loop.callExceptionHandler({ message, exception: exc, transport: this, protocol: this._protocol });
    this._forceClose(exc instanceof Error ? exc : new Error(String(exc)));
  }

  private _forceClose(exc: Error | null): void {
    if (this._connLost) return;
    if (this._queue.length > 0) {
      this._queue = [];
      this._queuedBytes = 0;
      this._loop.removeWriter(this._sock);
    }
    if (!this._closing) {
      this._closing = true;
      this._loop.removeReader(this._sock);
    }
    this._connLost++;
    this._loop.callSoon(() => this._callConnectionLost(exc));
  }

  private _callConnectionLost(exc: Error | null): void {
    if (this._lostReported) return;
    this._lostReported = true;
    try {
      this._protocol.connectionLost?.(exc);
    } finally {
      this._sock.close();
    }
  }
}
