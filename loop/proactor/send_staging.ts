/**
 * Buffers that hold a proactor transport's bytes while the kernel sends them.
 *
 * A SEND operation reads its buffer when the kernel gets to it — at the next io_uring_enter,
 * or later if the socket is full — so write() must copy the caller's bytes (asyncio's proactor
 * transport copies them into bytes too). A new ArrayBuffer per write is zero-filled and cold in
 * the cache; these chunks are reused as sends complete, so a busy connection keeps writing
 * through the same few warm buffers. A chunk is taken for one send and given back when that
 * send's last completion arrived; a chunk never given back (a connection lost mid-send) is
 * simply left to the garbage collector.
 */

/** Bytes per chunk: the largest write staged; larger ones get a buffer of their own. */
export const STAGING_CHUNK = 64 * 1024;
/** Idle chunks kept for reuse (4 MiB); more are dropped when given back. */
const MAX_IDLE = 64;

const idle: Uint8Array[] = [];

/** A buffer for `n` bytes to send: a staging chunk, or above STAGING_CHUNK one of its own. */
export function takeStaging(n: number): Uint8Array {
  if (n > STAGING_CHUNK) return new Uint8Array(new ArrayBuffer(n));
  return idle.pop() ?? new Uint8Array(new ArrayBuffer(STAGING_CHUNK));
}

/** A copy of `src` at the start of takeStaging()'s buffer. */
export function stageCopy(src: Uint8Array): Uint8Array {
  const buf = takeStaging(src.byteLength);
  buf.set(src);
  return buf;
}

/** Give back a buffer from takeStaging whose send completed (other sizes are ignored). */
export function releaseStaged(buf: Uint8Array): void {
  if (buf.byteLength === STAGING_CHUNK && buf.byteOffset === 0 && idle.length < MAX_IDLE) idle.push(buf);
}
