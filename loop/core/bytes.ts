/**
 * The bytes helpers every layer that moves data uses (sockets, transports, TLS, streams,
 * processes): what a write accepts (BytesLike), a zero-copy Uint8Array view of it (asBytes), and
 * joining received blocks (concat). In the bottom layer so that none of those imports socket.ts
 * for them.
 */

/** Bytes a send/write accepts. */
export type BytesLike = Uint8Array | ArrayBufferView | ArrayBuffer;

/** @ignore A Uint8Array over the bytes of `data`, without copying. */
export function asBytes(data: BytesLike, what = "data"): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`${what} must be a bytes-like object (Uint8Array), got ${typeof data}`);
}

/** @ignore The blocks' bytes as one array (`total`: their length; one block comes back as is). */
export function concat(blocks: Uint8Array[], total: number): Uint8Array {
  if (blocks.length === 1) return blocks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}
