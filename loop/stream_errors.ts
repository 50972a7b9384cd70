/**
 * The exceptions of asyncio's streams: IncompleteReadError and LimitOverrunError.
 */

/**
 * EOF came before the bytes a read asked for (asyncio.IncompleteReadError): `partial` holds
 * the bytes read before EOF, `expected` how many were asked for (null: "up to a separator").
 */
export class IncompleteReadError extends Error {
  override name = "IncompleteReadError";
  readonly partial: Uint8Array;
  readonly expected: number | null;
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
  override name = "LimitOverrunError";
  readonly consumed: number;
  constructor(message: string, consumed: number) {
    super(message);
    this.consumed = consumed;
  }
}
