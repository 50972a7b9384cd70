/**
 * Where received bytes live before a protocol's dataReceived() gets them.
 *
 * asyncio gives each read a new bytes object. Here that was recv(2) into one shared buffer and
 * `slice()` into a new Uint8Array per read: a zero-filled allocation the garbage collector must
 * also track, plus the copy. Now reads land in slabs and the protocol gets a view of its bytes
 * (A/B against slice(), alternating runs of bench/echo's protocol server: Deno 10 KiB 120-125k
 * vs 87-120k requests/s, 100 KiB 28.4k vs 24.6k median; Bun level). What remains of the cost is
 * fresh memory itself (zero-fill and page faults, bench/README.md); BufferedProtocol avoids it.
 *
 * - recv(2) writes straight into the free tail of a 512 KiB slab (`space`). A read of 32 KiB or
 *   more is handed over as a view of that slab, and the next read goes after it; the slab is
 *   replaced when less is left than the largest recent read needs (at first 128 KiB). A fixed
 *   128 KiB threw away 112 KiB of every slab under 100 KiB reads (4 reads a slab instead of
 *   5), and on Deno every slab byte is zero-filled first: streams echo at 100 KiB, 8 alternating
 *   runs, server CPU 54 against 61 µs per request (bench/README.md, issue 19 §4).
 * - A smaller read is copied into a pool slab sized for it (memcpy of under 32 KiB is cheap; the
 *   pool saves the allocation), and the receive slab's space is used again.
 * - A read under 1 KiB gets its own exact copy, as before (a pool would save too little).
 *
 * Retention policy: a view keeps its whole slab alive, so a protocol that holds on to a chunk
 * keeps at most 16× the chunk's size alive (a 32 KiB view in a 512 KiB slab; a pool slab is 8×
 * the next power of two of its chunks). Node's Buffer pool makes the same trade (one 8 KiB
 * slab behind every small Buffer, however small).
 * Views share their ArrayBuffer with other reads (other connections' bytes included) and with
 * bytes not yet written (slabs are not zero-filled, like Node's Buffer.allocUnsafe): a
 * protocol needing an ArrayBuffer of its own takes `data.slice()`.
 *
 * One arena serves every transport of every loop on this thread: a view is handed out before
 * the next read can happen, and no byte handed out is ever written again.
 */
import { Buffer } from "node:buffer";

/** How much one read may take: asyncio's max_size (256 KiB). */
export const MAX_READ = 256 * 1024;
const SLAB_SIZE = 512 * 1024;
/** The room a read needs at first, before any read was seen. */
const START_SPACE = 128 * 1024;
/** The most memory a kept chunk may keep alive, as a multiple of its own size. */
const MAX_PIN_RATIO = 16;
const VIEW_MIN = SLAB_SIZE / MAX_PIN_RATIO; // 32 KiB
const POOL_MIN = 1024;
/** Pool slabs hold this many chunks of their size class (a power of two) at least. */
const POOL_CHUNKS = 8;
const POOL_MAX_SIZE = POOL_CHUNKS * MAX_READ; // 2 MiB, for the largest reads

/** A pool slab for one size class and how much of it is handed out. */
interface Pool {
  slab: Uint8Array;
  used: number;
}

/**
 * `n` bytes for a slab, not zero-filled: every byte handed out is written by a read first.
 * Measured, one 512 KiB slab: Bun 2.8 µs this way against 15-18 µs for `new Uint8Array`
 * (the zero-fill); Deno the same either way. A plain Uint8Array over the Buffer's own
 * ArrayBuffer (allocUnsafeSlow never pools), so protocols get plain Uint8Array views.
 */
function uninitializedBytes(n: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n);
}

/** Bytes up to `n` rounded up to 8, so every view starts 8-byte aligned. */
function aligned(n: number): number {
  return (n + 7) & ~7;
}

class ReceiveArena {
  private slab = uninitializedBytes(SLAB_SIZE);
  private used = 0;
  /**
   * The largest recent view-sized read (decaying by 1/16 a read), or MAX_READ after a read that
   * filled all the room it had (more may have been waiting): a new slab is started when less
   * than this (plus 8, so that a read of this size does not fill its room) is free.
   */
  private recent = START_SPACE;
  /**
   * The slab's free tail, where the next read writes: up to min(space.byteLength, MAX_READ)
   * bytes at its start. Replaced only when a view is handed out, so reads that are copied out
   * allocate nothing here.
   */
  space: Uint8Array = this.slab;
  /** Pools by size class: index k holds chunks of up to 2^k bytes. */
  private readonly pools: (Pool | undefined)[] = [];

  /** How many bytes the next read may write into `space`. */
  get spaceLimit(): number {
    return Math.min(this.space.byteLength, MAX_READ);
  }

  /**
   * The `n` bytes a read just wrote at the start of `space`, as an array the protocol may keep
   * (n > 0).
   */
  takeReceived(n: number): Uint8Array {
    if (n < VIEW_MIN) return this.keep(this.space, n);
    this.recent = n === this.spaceLimit ? MAX_READ : Math.max(n, this.recent - (this.recent >> 4));
    const data = this.space.subarray(0, n);
    this.used += aligned(n);
    if (SLAB_SIZE - this.used < this.recent + 8) {
      this.slab = uninitializedBytes(SLAB_SIZE);
      this.used = 0;
    }
    this.space = this.slab.subarray(this.used);
    return data;
  }

  /**
   * A copy of `source[0, n)` the protocol may keep, for bytes whose buffer is reused (a pipe
   * read, a proactor's provided buffer, decrypted TLS records): pooled, under the same policy.
   */
  keep(source: Uint8Array, n: number): Uint8Array {
    if (n < POOL_MIN) return source.slice(0, n);
    const cls = 32 - Math.clz32(n - 1); // ceil(log2 n): chunks of up to 2^cls bytes
    const size = POOL_CHUNKS << cls;
    let pool = this.pools[cls];
    if (pool === undefined || pool.used + n > size) {
      if (size > POOL_MAX_SIZE) return source.slice(0, n); // larger than any read
      pool = this.pools[cls] = { slab: uninitializedBytes(size), used: 0 };
    }
    const data = pool.slab.subarray(pool.used, pool.used + n);
    data.set(n === source.byteLength ? source : source.subarray(0, n));
    pool.used += aligned(n);
    return data;
  }
}

/** The thread's arena (JS runs one thread per isolate; Workers get their own module copy). */
export const receiveArena: ReceiveArena = new ReceiveArena();
