/**
 * What every datagram transport shares (the selector's readiness-driven one and the proactor's
 * operation-driven one): connectionMade in the next iteration, extra info, the protocol, the
 * address rules of sendto(), abort, fatal errors, and connectionLost exactly once before the
 * socket is closed. Subclasses supply receiving, sending and the forced close.
 */
import type { BaseEventLoop } from "../base_loop.ts";
import { lostReported, waitLost } from "./dispose.ts";
import type { BytesLike } from "../core/bytes.ts";
import { checkPortRange } from "../net/dns.ts";
import { ValueError } from "../core/errors.ts";
import { registerTransport, unregisterTransport } from "./transport_table.ts";
import type { Future } from "../core/futures.ts";
import type { DatagramProtocolLike } from "./protocols.ts";
import type { Socket } from "../net/socket.ts";
import type { DatagramTransport } from "./base.ts";
import { FlowControl } from "./flow_control.ts";

/** The largest datagram one receive takes (asyncio's max_size, 256 KiB). */
export const MAX_DATAGRAM = 256 * 1024;

/** A UDP or Unix datagram endpoint (asyncio.DatagramTransport), without its I/O. */
export abstract class DatagramTransportBase extends FlowControl implements DatagramTransport {
  /** @internal */ protected _loop: BaseEventLoop;
  /** @internal */ protected _protocol: DatagramProtocolLike;
  /** @internal */ protected readonly _sock: Socket;
  /** @internal The remote address sendto() defaults to, or null. */ protected readonly _address: unknown;
  /**
   * @internal Whether the socket itself is connected to `_address`. Not so for an allowBroadcast
   * endpoint (asyncio does not connect it): each send then names `_address`.
   */
  protected readonly _connected: boolean;
  /** @internal */ protected _closing = false;
  /** @internal */ protected _queuedBytes = 0;
  private readonly _extra: Record<string, unknown>;
  private _lostReported = false;

  constructor(
    loop: BaseEventLoop,
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
    this._connected = address !== null && isConnected(sock);
    this._extra = { socket: sock };
    registerTransport(loop, sock.fileno(), this);
    loop.callSoon(() => {
      try {
        this._protocol.connectionMade?.(this);
      } catch (e) {
        this._fatalError(e, "Fatal error: protocol.connectionMade() call failed.");
        return;
      }
      this._startReceiving();
      if (waiter && !waiter.done()) waiter.setResult(null);
    });
  }

  /** @internal Begin receiving once connectionMade ran (unless already closing). */
  protected abstract _startReceiving(): void;
  /** @internal Drop what is queued, stop the I/O, and report `exc` to connectionLost. */
  protected abstract _forceClose(exc: Error | null): void;

  /** "socket", "sockname", "peername" (asyncio get_extra_info). */
  getExtraInfo(name: string, defaultValue: unknown = undefined): unknown {
    if (name in this._extra) return this._extra[name];
    try {
      if (name === "sockname") return (this._extra[name] = this._sock.getsockname());
      if (name === "peername" && this._connected) {
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

  abstract sendto(data: BytesLike, addr?: unknown): void;
  abstract close(): void;

  /** `using`: close() when the scope ends (asyncio close). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `await using`: close(), then wait until connectionLost has run and the socket is closed. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await waitLost(this, this._loop, this._lostReported);
  }

  /** Close now, dropping queued datagrams (asyncio abort). */
  abort(): void {
    this._forceClose(null);
  }

  /**
   * @internal sendto()'s address rules: a connected endpoint takes no other address (ValueError),
   * an unconnected one needs one; a port outside 0-65535 is the caller's OverflowError (asyncio
   * would fail the endpoint with it).
   */
  protected _checkSendAddress(addr: unknown): void {
    if (Array.isArray(addr)) checkPortRange(addr[1], "sendto()");
    if (this._address !== null && addr !== undefined && addr !== null &&
      JSON.stringify(addr) !== JSON.stringify(this._address)) {
      throw new ValueError(`Invalid address: must be undefined or ${JSON.stringify(this._address)}`);
    }
    if (this._address === null && (addr === undefined || addr === null)) {
      throw new ValueError("sendto() needs an address on an unconnected endpoint");
    }
  }

  /** @internal Report `exc` to the loop's exception handler and close at once. */
  protected _fatalError(exc: unknown, message: string): void {
    this._loop.callExceptionHandler({ message, exception: exc, transport: this, protocol: this._protocol });
    this._forceClose(exc instanceof Error ? exc : new Error(String(exc)));
  }

  /** @internal Called right before the socket is closed (a proactor submits what names it). */
  protected _beforeSocketClose(): void {}

  /** @internal connectionLost(exc), once; then the socket is closed. */
  protected _callConnectionLost(exc: Error | null): void {
    if (this._lostReported) return;
    this._lostReported = true;
    try {
      this._protocol.connectionLost?.(exc);
    } finally {
      this._beforeSocketClose();
      unregisterTransport(this._loop, this._sock.fileno(), this);
      this._sock.close();
      lostReported(this);
    }
  }
}

function isConnected(sock: Socket): boolean {
  try {
    sock.getpeername();
    return true;
  } catch {
    return false;
  }
}
