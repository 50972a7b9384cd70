/**
 * The datagram socket transport of the proactor loop for a Proactor without readiness polling
 * (IOCP; asyncio's _ProactorDatagramTransport): one receive-from operation in flight at a time,
 * re-submitted after each datagram, and one send-to operation at a time from a queue.
 *
 * Buffers handed to the kernel are owned here (fresh ArrayBuffers) and held by the Proactor
 * until their completion, so close and abort may cancel freely. An error a completion reports
 * (ECONNREFUSED after an ICMP port unreachable, a failed send) goes to the protocol's
 * errorReceived, as in asyncio; receiving then goes on. connectionLost runs exactly once,
 * after the queue drained (close) or at once (abort), and then the socket is closed.
 */
import { LINUX_ERRNO } from "../../ffi/errno_linux.ts";
import { osError } from "../../ffi/libc.ts";
import { decodeSockaddr, encodeSockaddr, SOCKADDR_STORAGE_SIZE } from "../../ffi/sockaddr.ts";
import type { AbstractEventLoop, AbstractFuture } from "../core/abstract_loop.ts";
import { asBytes, type BytesLike } from "../core/bytes.ts";
import type { CompletionTarget } from "./proactor.ts";
import type { ProactorHost } from "./proactor.ts";
import type { DatagramProtocolLike } from "../transports/protocols.ts";
import type { AddressLike, SockAddr, Socket } from "../net/socket.ts";
import { DatagramTransportBase, MAX_DATAGRAM } from "../transports/datagram_base.ts";
const TAG_RECV = 1, TAG_SEND = 2;
// <asm-generic/errno.h>
const { ECANCELED } = LINUX_ERRNO;

/** A datagram waiting to be sent: its own bytes, and the encoded address (length 0: connected). */
interface Outgoing {
  data: Uint8Array;
  addr: Uint8Array | null;
  addrLen: number;
}

/** A UDP endpoint driven by completions (asyncio.DatagramTransport). */
export class ProactorDatagramTransport extends DatagramTransportBase implements CompletionTarget {
  /** @ignore */ declare protected _loop: AbstractEventLoop & ProactorHost;
  private readonly _fd: number;
  private _lost = false;
  private _recvOp = 0;
  private readonly _recvBuf = new Uint8Array(new ArrayBuffer(MAX_DATAGRAM));
  private _sendOp = 0;
  private _queue: Outgoing[] = [];

  constructor(
    loop: AbstractEventLoop & ProactorHost,
    sock: Socket,
    protocol: DatagramProtocolLike,
    address: unknown,
    waiter?: AbstractFuture<unknown>,
  ) {
    super(loop, sock, protocol, address, waiter);
    this._fd = sock.fileno();
  }

  /**
   * Send one datagram to `addr`, or to the connected remote address when `addr` is omitted
   * (asyncio sendto). The bytes are copied. A connected endpoint refuses any other address.
   */
  sendto(data: BytesLike, addr?: unknown): void {
    const bytes = asBytes(data);
    this._checkSendAddress(addr);
    if (this._lost || this._closing) return;
    const copy = new Uint8Array(new ArrayBuffer(bytes.byteLength));
    copy.set(bytes);
    let encoded: Uint8Array | null = null, addrLen = 0;
    if (!this._connected) {
      encoded = new Uint8Array(new ArrayBuffer(SOCKADDR_STORAGE_SIZE));
      addrLen = encodeSockaddr(this._sock.family, (addr ?? this._address) as AddressLike, encoded, "sendto()");
    }
    this._queue.push({ data: copy, addr: encoded, addrLen });
    this._queuedBytes += copy.byteLength;
    if (this._sendOp === 0) this._sendNext();
    this._maybePauseProtocol();
  }

  private _sendNext(): void {
    const next = this._queue[0];
    if (next === undefined) return;
    this._sendOp = this._loop._proactor.sendTo(this._fd, next.data, next.data.byteLength, next.addr, next.addrLen, this, TAG_SEND);
  }

  /** @ignore */
  protected _startReceiving(): void {
    if (this._closing || this._lost || this._recvOp !== 0) return;
    this._recvOp = this._loop._proactor.recvFrom(this._fd, this._recvBuf, MAX_DATAGRAM, this, TAG_RECV);
  }

  /** @ignore */
  _ioComplete(tag: number, res: number, _more: boolean, _op: number, buffer: Uint8Array | undefined): void {
    if (tag === TAG_RECV) this._received(res, buffer);
    else this._sent(res);
  }

  private _received(res: number, buffer: Uint8Array | undefined): void {
    this._recvOp = 0;
    if (this._lost || this._closing || res === -ECANCELED) return;
    if (res < 0) {
      this._protocol.errorReceived?.(osError("recvfrom", -res));
    } else {
      const data = this._recvBuf.slice(0, res);
      const length = this._loop._proactor.completionAddressLength;
      // No address from the kernel: the connected endpoint's remote address (a SockAddr shape).
      const addr = buffer !== undefined && length > 0 ? decodeSockaddr(buffer, length) : this._address as SockAddr;
      try {
        this._protocol.datagramReceived?.(data, addr);
      } catch (e) {
        this._fatalError(e, "Fatal error: protocol.datagramReceived() call failed.");
        return;
      }
    }
    this._startReceiving();
  }

  private _sent(res: number): void {
    this._sendOp = 0;
    if (this._lost) return;
    const done = this._queue.shift();
    if (done !== undefined) this._queuedBytes -= done.data.byteLength;
    if (res < 0 && res !== -ECANCELED) this._protocol.errorReceived?.(osError("sendto", -res));
    this._maybeResumeProtocol();
    if (this._queue.length > 0) this._sendNext();
    else if (this._closing) this._connectionLost(null);
  }

  /** Stop receiving; send what is queued, then close (asyncio close). */
  close(): void {
    if (this._closing) return;
    this._closing = true;
    if (this._recvOp !== 0) this._loop._proactor.cancel(this._recvOp);
    if (this._queue.length === 0) this._connectionLost(null);
  }

  /** @ignore */
  protected _forceClose(exc: Error | null): void {
    if (this._lost) return;
    this._closing = true;
    if (this._recvOp !== 0) this._loop._proactor.cancel(this._recvOp);
    if (this._sendOp !== 0) this._loop._proactor.cancel(this._sendOp);
    this._queue = [];
    this._queuedBytes = 0;
    this._connectionLost(exc);
  }

  /** Once: connectionLost in the next iteration, then the socket is closed. */
  private _connectionLost(exc: Error | null): void {
    if (this._lost) return;
    this._lost = true;
    this._loop.callSoon(() => this._callConnectionLost(exc));
  }

  /** @ignore Cancels queued for this socket reach the kernel before its fd is closed. */
  protected override _beforeSocketClose(): void {
    this._loop._proactor.flush();
  }
}
