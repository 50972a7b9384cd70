/**
 * The exceptions of asyncio's streams: IncompleteReadError and LimitOverrunError.
 */

/**
 * EOF came before the bytes a read asked for (asyncio.IncompleteReadError): `partial` holds
 * the bytes read before EOF, `expected` how many were asked for (null: "up to a separator").
 */
export class IncompleteReadError extends Error {
  /** Always "IncompleteReadError". */
  override name = "IncompleteReadError";
  /** The bytes read before EOF. */
  readonly partial: Uint8Array;
  /** How many bytes were expected (null: until a separator). */
  readonly expected: number | null;
  /** EOF after `partial` where `expected` bytes were wanted. */
  constructor(partial: Uint8Array, expected: number | null) {
    super(
      `${partial.byteLength} bytes read on a total of ` +
        `${expected === null ? "undefined" : expected} expected bytes`,
    );
    this.partial = partial;
    this.expected = expected;
  }
}

/**
 * readuntil() found no separator within the reader's limit (asyncio.LimitOverrunError).
 * `consumed` is how many bytes can be dropped to get past the overrun.
 */
export class LimitOverrunError extends Error {
  /** Always "LimitOverrunError". */
  override name = "LimitOverrunError";
  /** How many bytes to consume to get past the limit. */
  readonly consumed: number;
  /** The buffer reached the limit; `consumed` bytes are to be consumed. */
  constructor(message: string, consumed: number) {
    super(message);
    this.consumed = consumed;
  }
}
