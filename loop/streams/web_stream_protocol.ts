/**
 * WebStreamProtocol: a protocol whose connection is a pair of Web streams, `readable` and
 * `writable`, as a Deno.Conn has them, with no StreamReader/StreamWriter in between:
 *
 *   const [, conn] = await loop.createConnection(() => new WebStreamProtocol(), host, port);
 *   await conn.readable.pipeTo(conn.writable); // an echo
 *
 * Back-pressure is the transport's own: `readable` is a push source whose queue holds up to
 * `highWaterMark` bytes; past that the transport's reading is paused (pauseReading) until the
 * consumer pulls again. `writable` hands each chunk to transport.write() and, while the
 * transport has paused writing (its buffer over the high-water mark: pauseWriting), makes the
 * producer wait for resumeWriting.
 *
 * The peer's EOF closes `readable` and keeps the transport open for writing (half-close);
 * connectionLost(exc) errors it with `exc` (closes it on a clean close). `readable.cancel()`
 * closes the transport. `writable.close()` sends EOF (writeEof) where the transport can, else
 * closes it; `writable.abort()` aborts the transport. A write once the connection is lost
 * fails with ConnectionResetError('Connection lost'), as StreamWriter.drain().
 */
import { ECONNRESET } from "../../ffi/libc.ts";
import { describe } from "../core/describe.ts";
import { OSError, ValueError } from "../core/errors.ts";
import type { Transport } from "../transports/base.ts";
import type { ProtocolLike } from "../transports/protocols.ts";

/** Options of WebStreamProtocol. */
export interface WebStreamProtocolOptions {
  /** Bytes `readable` queues before the transport's reading is paused; default 65536. */
  highWaterMark?: number;
}

/** A protocol exposing its connection as `readable` and `writable` Web streams. */
export class WebStreamProtocol implements ProtocolLike {
  /** The bytes the peer sends; closed at EOF, errored by a lost connection. */
  readonly readable: ReadableStream<Uint8Array<ArrayBuffer>>;
  /** Bytes to send; close() sends EOF, abort() aborts the connection. */
  readonly writable: WritableStream<Uint8Array>;
  private _transport: Transport | null = null;
  private _reads!: ReadableStreamDefaultController<Uint8Array<ArrayBuffer>>;
  private _readDone = false;
  private _readingPaused = false;
  private _writingPaused = false;
  /** Producers waiting for resumeWriting (or the connection's end). */
  private _resumeWaiters: { resolve(): void; reject(e: unknown): void }[] = [];
  /** Set once the connection is lost: what a later write fails with. */
  private _lost: Error | null = null;

  /** ValueError for a highWaterMark that is not a positive number. */
  constructor(options: WebStreamProtocolOptions = {}) {
    const highWaterMark = options.highWaterMark ?? 65536;
    if (typeof highWaterMark !== "number" || !(highWaterMark > 0)) {
      throw new ValueError(`WebStreamProtocol highWaterMark must be a positive number, got ${describe(highWaterMark)}`);
    }
    this.readable = new ReadableStream<Uint8Array<ArrayBuffer>>({
      start: (controller) => {
        this._reads = controller;
      },
      pull: () => {
        if (!this._readingPaused || this._readDone) return;
        this._readingPaused = false;
        this._transport?.resumeReading();
      },
      cancel: () => {
        this._readDone = true;
        this._transport?.close();
      },
    }, { highWaterMark, size: (chunk) => (chunk === undefined ? 0 : chunk.byteLength) });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => this._write(chunk),
      close: () => {
        const t = this._transport;
        if (t === null || this._lost !== null) return;
        if (t.canWriteEof()) t.writeEof();
        else t.close();
      },
      abort: () => {
        this._transport?.abort();
      },
    });
  }

  /** The connection's transport, once connected (null before). */
  get transport(): Transport | null {
    return this._transport;
  }

  // ---- Protocol callbacks -------------------------------------------------------------------

  /** @internal */
  connectionMade(transport: Transport): void {
    this._transport = transport;
  }

  /** @internal Queue the bytes; pause reading once the queue is full. */
  dataReceived(data: Uint8Array): void {
    if (this._readDone) return;
    this._reads.enqueue(data as Uint8Array<ArrayBuffer>);
    if (!this._readingPaused && (this._reads.desiredSize ?? 1) <= 0) {
      this._readingPaused = true;
      this._transport?.pauseReading();
    }
  }

  /** @internal The peer's EOF ends `readable`; writing stays open (half-close). */
  eofReceived(): boolean {
    if (!this._readDone) {
      this._readDone = true;
      this._reads.close();
    }
    return true;
  }

  /** @internal */
  pauseWriting(): void {
    this._writingPaused = true;
  }

  /** @internal */
  resumeWriting(): void {
    this._writingPaused = false;
    this._releaseWriters(null);
  }

  /** @internal */
  connectionLost(exc: Error | null): void {
    this._lost = exc ?? new OSError(ECONNRESET, "ECONNRESET", "Connection lost");
    if (!this._readDone) {
      this._readDone = true;
      if (exc === null) this._reads.close();
      else this._reads.error(exc);
    }
    this._releaseWriters(this._lost);
  }

  // ---- Writing ------------------------------------------------------------------------------

  /** Hand `chunk` to the transport; wait while the transport has paused writing. */
  private async _write(chunk: Uint8Array): Promise<void> {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError(`WebStreamProtocol.writable takes Uint8Array chunks, got ${describe(chunk)}`);
    }
    if (this._lost !== null) throw this._lost;
    const t = this._transport;
    if (t === null) throw new ValueError("WebStreamProtocol.writable: not connected yet");
    t.write(chunk);
    if (this._writingPaused) {
      await new Promise<void>((resolve, reject) => this._resumeWaiters.push({ resolve, reject }));
    }
  }

  /** Let the waiting producers go on (error null: resumed) or fail with `error`. */
  private _releaseWriters(error: Error | null): void {
    const waiters = this._resumeWaiters;
    this._resumeWaiters = [];
    for (const w of waiters) {
      if (error === null) w.resolve();
      else w.reject(error);
    }
  }
}
