/**
 * The stream socket transport of the proactor loop (asyncio's _ProactorSocketTransport): reads
 * and writes are operations submitted to the Proactor whose completions drive the next step.
 *
 * Per connection at most one receive and one send are in flight:
 * - Protocol: one multishot receive into the proactor's provided buffers serves the connection
 *   until it is paused, closed or the buffers run dry; each completion's bytes are copied once
 *   for dataReceived (the protocol keeps them) and the buffer goes straight back to the ring.
 *   BufferedProtocol: a one-shot receive straight into getBuffer()'s buffer, then the next.
 * - A receive completes after it started, so the protocol may have changed in between
 *   (setProtocol; startTls swaps in SSLProtocol) or reading may be paused: each receive notes
 *   the BufferedProtocol whose buffer it fills, and bytes that cannot go to that protocol now
 *   are copied out and delivered to the current protocol, as its kind wants (asyncio's proactor
 *   transport, which always receives into its own buffer, dispatches the same way).
 * - write() sends at once with send(2) when nothing is in flight (see write()); what the socket
 *   does not take is copied (the caller may reuse its array) into a buffer only this transport
 *   and the kernel see, and submitted as a SEND; writes made while a send is in flight queue up
 *   and leave together, coalesced, when it completes.
 * - Every buffer handed to the kernel is held by the Proactor until its completion, so close
 *   and abort may cancel freely; the socket's fd is closed only after its queued submissions
 *   reached the kernel (an SQE never names a recycled fd number).
 * connectionLost runs exactly once, through _callConnectionLost, as in the selector transport:
 * the closing state machine and the socket bookkeeping are the bases' (stream_base.ts,
 * socket_base.ts); this file holds the operations.
 */
import { LINUX_ERRNO } from "../../ffi/errno_linux.ts";
import { lastErrno, osError } from "../../ffi/libc.ts";
import { fdSend } from "../transports/fd_calls.ts";
import { MSG_NOSIGNAL } from "../../ffi/socket_constants.ts";
import type { AbstractEventLoop } from "../core/abstract_loop.ts";
import { asBytes, type BytesLike } from "../core/bytes.ts";
import { RuntimeError } from "../core/errors.ts";
import type { CompletionTarget } from "./proactor.ts";
import type { ProactorHost } from "./proactor.ts";
import type { BufferedProtocolLike, ProtocolLike } from "../transports/protocols.ts";
import type { Socket } from "../net/socket.ts";
import { MAX_READ, receiveArena } from "../transports/receive_arena.ts";
import { releaseStaged, stageCopy, takeStaging } from "./send_staging.ts";
import {
  type AnyProtocol, feedBufferedProtocol, SocketTransport, type SocketTransportOptions,
} from "../transports/socket_base.ts";

// MAX_READ (asyncio max_size) sizes the receive buffer of a transport whose proactor has no
// provided buffers; received bytes are copied out through the receive arena's pools.
/** Queued writes are coalesced into one send up to this many bytes. */
const MAX_COALESCE = 256 * 1024;
const TAG_READ = 1, TAG_WRITE = 2;
// <asm-generic/errno.h>
const { ECANCELED, ENOBUFS, EAGAIN, EINTR } = LINUX_ERRNO;

/** Bytes in a fresh ArrayBuffer of their own (never a view into the JS heap's small arrays). */
function kernelCopy(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(src.byteLength));
  out.set(src);
  return out;
}

/** A TCP or Unix stream connection driven by completions. */
export class ProactorSocketTransport extends SocketTransport implements CompletionTarget {
  /** @ignore */ declare protected _loop: AbstractEventLoop & ProactorHost;
  // Reading
  private _readOp = 0;
  /** The buffer the one-shot receive in flight fills. */
  private _readBuf: Uint8Array | undefined;
  /** The BufferedProtocol whose getBuffer() gave _readBuf; null: the transport's own buffers. */
  private _readInto: AnyProtocol | null = null;
  /** This transport's receive buffer where the proactor has no provided buffers. */
  private _ownBuf: Uint8Array | undefined;
  private _pendingData: Uint8Array[] = [];
  private _pendingEof = false;
  // Writing: bytes queued while a send is in flight (the base's _writeQueue, shifted from the
  // front here), plus that send (_writeBuf[_writeOff, _writeLen)); _writeSize counts both.
  private _writeOp = 0;
  private _writeBuf: Uint8Array | undefined;
  private _writeOff = 0;
  private _writeLen = 0;

  constructor(
    loop: AbstractEventLoop & ProactorHost,
    sock: Socket,
    protocol: ProtocolLike | BufferedProtocolLike,
    options: SocketTransportOptions = {},
  ) {
    super(loop, sock, protocol, options);
  }

  /**
   * Replace the protocol (asyncio set_protocol). A multishot receive into the transport's own
   * buffers would go on serving a new BufferedProtocol through copies: it is cancelled, and its
   * last completion starts the receive into the protocol's buffer.
   */
  override setProtocol(protocol: unknown): void {
    super.setProtocol(protocol);
    // (_readOp is still unset while the base constructor sets the first protocol.)
    if (this._buffered && this._readOp > 0 && this._readInto === null) {
      this._loop._proactor.cancel(this._readOp);
    }
  }

  // ---- Reading --------------------------------------------------------------------------------

  /** @ignore What was received while paused waits; deliver it first. */
  protected _readingResumed(): void {
    if (this._pendingData.length > 0 || this._pendingEof) this._loop.callSoon(deliverPending, this);
    else this._startReading();
  }

  /** @ignore */
  _startReading(): void {
    if (this._closing || this._paused || this._connLost || this._readOp !== 0) return;
    const proactor = this._loop._proactor;
    if (this._buffered) {
      const buf = this._protocolBuffer();
      if (buf === undefined) return;
      this._readBuf = buf;
      this._readInto = this._protocol;
      this._readOp = proactor.recv(this._fd, buf, Math.min(buf.byteLength, 0x7fffffff), this, TAG_READ);
      return;
    }
    this._readInto = null;
    this._readOp = proactor.recvMultishot(this._fd, this, TAG_READ);
    if (this._readOp === 0) {
      this._readBuf = this._ownBuf ??= new Uint8Array(new ArrayBuffer(MAX_READ));
      this._readOp = proactor.recv(this._fd, this._readBuf, MAX_READ, this, TAG_READ);
    }
  }

  /** @ignore */
  protected _stopReading(): void {
    if (this._readOp !== 0) this._loop._proactor.cancel(this._readOp);
  }

  /** @ignore A completion of this transport's receive or send. */
  _ioComplete(tag: number, res: number, more: boolean, _op: number, buffer: Uint8Array | undefined): void {
    if (tag === TAG_READ) this._readDone(res, more, buffer);
    else this._writeDone(res);
  }

  private _readDone(res: number, more: boolean, buffer: Uint8Array | undefined): void {
    if (!more) this._readOp = 0;
    if (this._connLost) return;
    if (res > 0) {
      if (this._readInto !== null && this._readInto === this._protocol && !this._paused &&
        this._pendingData.length === 0) {
        try {
          this._protocol.bufferUpdated!(res);
        } catch (e) {
          this._fatalError(e, "Fatal error: protocol.bufferUpdated() call failed.");
          return;
        }
      } else {
        // In the transport's own buffers, or in the buffer of a BufferedProtocol that is no
        // longer current or may not be called now (paused, or older bytes wait).
        // Copied out, so the proactor's buffer goes straight back to the kernel. Handing large
        // reads' buffers over instead (and providing fresh ones) was measured slower: every
        // completion then took a whole fresh 128 KiB whatever it held, and Bun's echo server
        // at 100 KiB took 6.5-10 page faults per request against 1.9-2.6 with the copy
        // (perf stat, bench/echo's load client, 3 alternating rounds), serving 25-40 % fewer
        // requests in every round.
        const data = receiveArena.keep(buffer ?? this._readBuf!, res);
        if (this._paused || this._pendingData.length > 0) this._pendingData.push(data);
        else if (!this._deliver(data)) return;
      }
    } else if (res === 0) {
      if (this._paused || this._pendingData.length > 0) this._pendingEof = true;
      else this._eofReceived();
      return;
    } else if (res !== -ECANCELED && res !== -ENOBUFS && res !== -EAGAIN && res !== -EINTR) {
      this._fatalError(osError("recv", -res), "Fatal read error on socket transport");
      return;
    }
    // A one-shot receive, or a multishot one the kernel ended (buffers ran dry): go on.
    if (!more) this._startReading();
  }

  /** @ignore Data and EOF that arrived while paused, delivered on resume. */
  _deliverPending(): void {
    while (this._pendingData.length > 0 && !this._paused && !this._connLost) {
      if (!this._deliver(this._pendingData.shift()!)) return;
    }
    if (this._paused || this._connLost) return;
    if (this._pendingEof) {
      this._pendingEof = false;
      this._eofReceived();
      return;
    }
    this._startReading();
  }

  /**
   * Received bytes to the current protocol, whichever kind it is now: dataReceived, or copied
   * into getBuffer()'s buffers. False if the protocol failed (the transport is failing then).
   */
  private _deliver(data: Uint8Array): boolean {
    if (this._buffered) {
      try {
        feedBufferedProtocol(this._protocol, data);
      } catch (e) {
        this._fatalError(e, "Fatal error: protocol.bufferUpdated() call failed.");
        return false;
      }
      return true;
    }
    try {
      this._protocol.dataReceived?.(data);
    } catch (e) {
      this._fatalError(e, "protocol.dataReceived() call failed.");
      return false;
    }
    return true;
  }

  // ---- Writing --------------------------------------------------------------------------------

  /** Send `data` (asyncio write); it is copied, so the caller may reuse its array at once. */
  write(data: BytesLike): void {
    const bytes = asBytes(data);
    if (this._eof) throw new RuntimeError("Cannot call write() after writeEof()");
    if (this._sendfileActive) throw new RuntimeError("unable to write; sendfile is in progress");
    if (bytes.byteLength === 0) return;
    if (this._connLost) {
      this._dropWrite("aioloop: socket.send() raised exception.");
      return;
    }
    if (this._writeOp === 0) {
      // Nothing in flight. Small writes on a proactor that batches sends (io_uring: one
      // io_uring_enter carries every connection's SEND), and every write on one without a C
      // library send (IOCP), go as a SEND: n = 0 sends nothing now. Otherwise send(2) at once,
      // as the selector transport does.
      const sync = bytes.byteLength >= (this._loop._proactor.syncSendMinBytes ?? 0);
      const n = sync ? this._writeChunk(bytes) : 0;
      if (n === bytes.byteLength) return;
      let rest = bytes;
      if (n >= 0) rest = bytes.subarray(n);
      else {
        const errno = lastErrno();
        if (errno !== EAGAIN && errno !== EINTR) {
          this._writeFailed(errno);
          return;
        }
      }
      // The socket buffer is full (or this proactor batches sends): the rest goes as a SEND,
      // from a staging copy the kernel may read until the SEND completes.
      this._writeSize += rest.byteLength;
      this._send(stageCopy(rest), 0, rest.byteLength);
    } else {
      this._writeSize += bytes.byteLength;
      this._queueChunk(kernelCopy(bytes));
    }
    this._maybePauseProtocol();
  }

  /** @ignore */
  protected _writeChunk(chunk: Uint8Array): number {
    return fdSend(this._fd, chunk, chunk.byteLength, MSG_NOSIGNAL);
  }

  /** @ignore */
  protected _writeFailed(errno: number): void {
    this._fatalError(osError("send", errno), "Fatal write error on socket transport");
  }

  /** @ignore Cancel the send in flight (its buffer stays held until the completion). */
  protected _stopWriting(): void {
    if (this._writeOp !== 0) this._loop._proactor.cancel(this._writeOp);
  }

  private _send(buf: Uint8Array, offset: number, length: number): void {
    this._writeBuf = buf;
    this._writeOff = offset;
    this._writeLen = length;
    this._writeOp = this._loop._proactor.send(this._fd, buf, offset, length - offset, MSG_NOSIGNAL, this, TAG_WRITE);
  }

  private _writeDone(res: number): void {
    this._writeOp = 0;
    if (this._connLost) return;
    if (res < 0) {
      if (res === -EAGAIN || res === -EINTR) {
        this._send(this._writeBuf!, this._writeOff, this._writeLen);
        return;
      }
      releaseStaged(this._writeBuf!);
      this._writeBuf = undefined;
      this._clearWriteQueue();
      this._writeFailed(-res);
      return;
    }
    this._writeSize -= res;
    this._writeOff += res;
    if (this._writeOff < this._writeLen) {
      this._send(this._writeBuf!, this._writeOff, this._writeLen);
    } else {
      releaseStaged(this._writeBuf!);
      this._writeBuf = undefined;
      this._sendQueued();
    }
    this._maybeResumeProtocol();
    if (this._writeSize > 0) return;
    if (this._closing) this._callConnectionLost(null);
    else if (this._eof) this._shutdownWrite();
  }

  /** Send what queued up while the last send was in flight, coalesced. */
  private _sendQueued(): void {
    const queue = this._writeQueue;
    if (queue.length === 0) return;
    if (queue.length === 1 || queue[0]!.byteLength >= MAX_COALESCE) {
      const first = queue.shift()!;
      this._send(first, 0, first.byteLength);
      return;
    }
    let total = 0, n = 0;
    while (n < queue.length && total + queue[n]!.byteLength <= MAX_COALESCE) total += queue[n++]!.byteLength;
    const buf = takeStaging(total);
    let at = 0;
    for (const chunk of queue.splice(0, n)) {
      buf.set(chunk, at);
      at += chunk.byteLength;
    }
    this._send(buf, 0, total);
  }

  /** @ignore Send FIN; a failure fails the transport instead of reaching the caller. */
  protected override _shutdownWrite(): void {
    try {
      super._shutdownWrite();
    } catch (e) {
      this._fatalError(e, "Fatal error: shutdown(SHUT_WR) failed.");
    }
  }

  // ---- Failing and closing --------------------------------------------------------------------

  /**
   * @ignore Operations still in flight hold the socket open in the kernel until they
   * complete: cancel them, and submit before the fd number can be reused.
   */
  protected override _release(): void {
    this._pendingData = [];
    const proactor = this._loop._proactor;
    if (this._readOp !== 0) proactor.cancel(this._readOp);
    if (this._writeOp !== 0) proactor.cancel(this._writeOp);
    proactor.flush();
    super._release();
  }

  /** `<ProactorSocketTransport fd=…>`, for logs. */
  override toString(): string {
    return `<ProactorSocketTransport fd=${this._fd}${this._closing ? " closing" : ""}>`;
  }
}

function deliverPending(t: ProactorSocketTransport): void {
  t._deliverPending();
}
