/**
 * Write flow control shared by every writing transport (asyncio's _FlowControlMixin): tells
 * the protocol pauseWriting() when the buffer grows past the high-water mark and
 * resumeWriting() when it drains to the low-water mark.
 */
import type { AbstractEventLoop } from "../core/abstract_loop.ts";
import { ValueError } from "../core/errors.ts";
import type { BaseProtocolLike } from "./protocols.ts";

/** asyncio's default high-water mark: 64 KiB. */
export const DEFAULT_HIGH_WATER = 64 * 1024;

/**
 * The write-buffer limits every writing transport shares (asyncio's _FlowControlMixin):
 * pauseWriting()/resumeWriting() on the protocol as the buffer crosses the water marks.
 */
export abstract class FlowControl {
  // The default marks are the prototype's (the static block below); a transport gets marks of
  // its own only from setWriteBufferLimits(): two fields fewer per idle connection.
  /** @ignore */ declare protected _highWater: number;
  /** @ignore */ declare protected _lowWater: number;
  static {
    this.prototype._highWater = DEFAULT_HIGH_WATER;
    this.prototype._lowWater = DEFAULT_HIGH_WATER / 4;
  }
  /** @ignore */ protected _protocolPaused = false;
  /** @ignore */ protected abstract _loop: AbstractEventLoop;
  /** @ignore */ protected abstract _protocol: BaseProtocolLike;

  /** Bytes buffered for writing (asyncio get_write_buffer_size). */
  abstract getWriteBufferSize(): number;

  /**
   * Set the write buffer's high- and low-water marks in bytes (asyncio
   * set_write_buffer_limits). Defaults: high 64 KiB, low high/4; only `low` given: high = 4·low.
   */
  setWriteBufferLimits(high?: number, low?: number): void {
    if (high === undefined) high = low === undefined ? DEFAULT_HIGH_WATER : 4 * low;
    if (low === undefined) low = Math.floor(high / 4);
    if (!(high >= low && low >= 0)) {
      throw new ValueError(`high (${high}) must be >= low (${low}) must be >= 0`);
    }
    this._highWater = high;
    this._lowWater = low;
    this._maybePauseProtocol();
  }

  /** The [low, high] water marks (asyncio get_write_buffer_limits). */
  getWriteBufferLimits(): [number, number] {
    return [this._lowWater, this._highWater];
  }

  /** @ignore */
  protected _maybePauseProtocol(): void {
    if (this._protocolPaused || this.getWriteBufferSize() <= this._highWater) return;
    this._protocolPaused = true;
    try {
      this._protocol.pauseWriting?.();
    } catch (exception) {
      this._loop.callExceptionHandler({
        message: "protocol.pauseWriting() failed",
        exception,
        transport: this,
        protocol: this._protocol,
      });
    }
  }

  /** @ignore */
  protected _maybeResumeProtocol(): void {
    if (!this._protocolPaused || this.getWriteBufferSize() > this._lowWater) return;
    this._protocolPaused = false;
    try {
      this._protocol.resumeWriting?.();
    } catch (exception) {
      this._loop.callExceptionHandler({
        message: "protocol.resumeWriting() failed",
        exception,
        transport: this,
        protocol: this._protocol,
      });
    }
  }
}
