/**
 * The loop's timers: a 4-ary min-heap of TimerHandles ordered by (`when`, scheduling order).
 *
 * Layout: the keys live in one Float64Array, two numbers per entry (`when`, then a sequence
 * number), beside a plain array of the handles. A comparison reads contiguous numbers instead of
 * chasing a pointer to each handle's `_when`, and the four children of an entry share one or two
 * cache lines; the handles array is only written. The sequence number breaks ties, so timers with
 * equal deadlines fire in the order they were scheduled (as libuv and uvloop do; asyncio's heapq
 * does not promise it).
 *
 * Cancelled timers stay in the heap and are dropped when they reach the top (as asyncio does):
 * cancel is O(1). When more than half the heap is cancelled it is compacted, so memory stays
 * bounded by twice the live timers; the arrays shrink when a quarter full.
 *
 * Many timers due at once (a loop that was busy, a burst of callAt in the past) are taken out
 * by moveDue in one pass once popping them one by one has cost as much as that pass: the due
 * entries are copied out and radix-sorted (sequential memory, no pointer chasing), and the rest
 * rebuilt into a heap in linear time. See bench/README.md (loop micro-benchmark) for the numbers.
 */
import type { TimerHandle } from "./handles.ts";

/** A TimerHandle's _heapEpoch when popped: no heap's epoch. */
const NOT_HELD = -1;

/** Compact only heaps at least this big (asyncio's _MIN_SCHEDULED_TIMER_HANDLES). */
const MIN_REBUILD_SIZE = 100;

/** Entries the arrays start with and never shrink below. */
const MIN_CAPACITY = 64;

/**
 * moveDue switches to the one-pass batch after popping this many timers one by one and at least
 * size/BATCH_RATIO of them: a pass costs ~size sequential reads, which by then is less than the
 * pops already done (each ~log4(size) cache misses).
 */
const BATCH_MIN = 256;
const BATCH_RATIO = 64;

/** Where moveDue puts due timers (the loop's ready queue). */
export interface TimerSink {
  push(t: TimerHandle): void;
}

export class TimerHeap {
  /** keys[2i] is entry i's `when`, keys[2i + 1] its sequence number. */
  private keys = new Float64Array(2 * MIN_CAPACITY);
  /** handles[i] is entry i's handle; exactly n long (grown by appending, so never holey). */
  private handles: TimerHandle[] = [];
  private n = 0;
  private nextSeq = 0;
  /** No entry's `when` is later than this (the largest pushed since the heap was last empty). */
  private maxWhen = -Infinity;
  private cancelledCount = 0;
  /**
   * Stamped on each handle pushed (TimerHandle._heapEpoch); bumped when entries leave in bulk
   * (everything due at once, a compaction, clear()), which so leave without a write to each.
   */
  private epoch = 0;

  /** Entries held, cancelled ones included. */
  get size(): number {
    return this.n;
  }

  push(t: TimerHandle): void {
    if (2 * this.n === this.keys.length) this.resize(2 * this.n);
    const k = this.keys, h = this.handles;
    const when = t._when, seq = this.nextSeq++;
    if (when > this.maxWhen) this.maxWhen = when;
    // Sift up. The new entry's sequence number is the largest, so an equal `when` stops it.
    // Written out rather than place(i, …): with place() Bun's random-deadline callAt rows ran
    // 10–20 % slower (bench/loop_micro.ts, 3 alternating runs).
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 2;
      if (k[2 * p]! <= when) break;
      k[2 * i] = k[2 * p]!;
      k[2 * i + 1] = k[2 * p + 1]!;
      h[i] = h[p]!;
      i = p;
    }
    k[2 * i] = when;
    k[2 * i + 1] = seq;
    h[i] = t;
    t._heapEpoch = this.epoch;
  }

  /** The earliest live timer, dropping cancelled ones from the top. */
  peek(): TimerHandle | undefined {
    while (this.n > 0 && this.handles[0]!._cancelled) {
      this.cancelledCount--;
      this.pop();
    }
    return this.n > 0 ? this.handles[0] : undefined;
  }

  /** Remove and return the earliest timer, cancelled or not. */
  pop(): TimerHandle | undefined {
    if (this.n === 0) return undefined;
    const k = this.keys, h = this.handles;
    const top = h[0]!;
    top._heapEpoch = NOT_HELD;
    const last = --this.n;
    const when = k[2 * last]!, seq = k[2 * last + 1]!, t = h.pop()!;
    if (last === 0) this.maxWhen = -Infinity;
    else {
      // Floyd's variant: move the hole down to a leaf along the smallest children (no
      // comparison with the moving entry, which came from the bottom and mostly belongs
      // there), then sift that entry up from the leaf.
      let i = 0;
      for (;;) {
        const c = 4 * i + 1;
        if (c >= last) break;
        const m = this.minChild(c, c + 4 < last ? c + 4 : last);
        k[2 * i] = k[2 * m]!;
        k[2 * i + 1] = k[2 * m + 1]!;
        h[i] = h[m]!;
        i = m;
      }
      this.place(i, when, seq, t);
    }
    if (this.n < this.keys.length >> 3 && this.keys.length > 2 * MIN_CAPACITY) {
      this.resize(this.keys.length >> 2);
    }
    return top;
  }

  /**
   * Move every live timer due at `now` (`when <= now`) to `sink`, earliest first, ties in
   * scheduling order; drop the cancelled ones met on the way. When every entry is due at once
   * the cancelled ones go to `sink` too, untouched (the loop skips cancelled handles it runs).
   */
  moveDue(now: number, sink: TimerSink): void {
    if (this.n >= BATCH_MIN && this.maxWhen <= now) {
      this.moveAllDue(sink);
      return;
    }
    let popped = 0;
    while (this.n > 0 && this.keys[0]! <= now) {
      if (popped >= BATCH_MIN && popped * BATCH_RATIO >= this.n) {
        this.moveDueBatch(now, sink);
        return;
      }
      const t = this.pop()!;
      popped++;
      if (t._cancelled) this.cancelledCount--;
      else sink.push(t);
    }
    // Cancelled timers now on top go too (as peek() drops them), so a loop that stops after
    // this iteration does not keep them, nor what their callbacks hold, until its next run.
    this.peek();
  }

  /** Note a cancellation; compact once cancelled timers are the majority. */
  noteCancelled(): void {
    this.cancelledCount++;
    if (this.n >= MIN_REBUILD_SIZE && this.cancelledCount * 2 > this.n) this.compact(-Infinity);
  }

  /** True while `t` is in this heap (cancelled or not). */
  holds(t: TimerHandle): boolean {
    return t._heapEpoch === this.epoch;
  }

  clear(): void {
    this.reset();
  }

  // ---- internals ------------------------------------------------------------------------------

  /** The index of the smallest entry among [from, to). */
  private minChild(from: number, to: number): number {
    const k = this.keys;
    let m = from, km = k[2 * from]!;
    for (let j = from + 1; j < to; j++) {
      const kj = k[2 * j]!;
      if (kj < km || (kj === km && k[2 * j + 1]! < k[2 * m + 1]!)) {
        m = j;
        km = kj;
      }
    }
    return m;
  }

  /** Put (when, seq, t) at hole i, sifting it up past larger parents. */
  private place(i: number, when: number, seq: number, t: TimerHandle): void {
    const k = this.keys, h = this.handles;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const kp = k[2 * p]!;
      if (kp < when || (kp === when && k[2 * p + 1]! < seq)) break;
      k[2 * i] = kp;
      k[2 * i + 1] = k[2 * p + 1]!;
      h[i] = h[p]!;
      i = p;
    }
    k[2 * i] = when;
    k[2 * i + 1] = seq;
    h[i] = t;
  }

  /** Sift the entry at i down to where it belongs (used when heapifying). */
  private siftDown(i: number): void {
    const k = this.keys, h = this.handles, n = this.n;
    const when = k[2 * i]!, seq = k[2 * i + 1]!, t = h[i]!;
    for (;;) {
      const c = 4 * i + 1;
      if (c >= n) break;
      const m = this.minChild(c, c + 4 < n ? c + 4 : n);
      const km = k[2 * m]!;
      if (km > when || (km === when && k[2 * m + 1]! > seq)) break;
      k[2 * i] = km;
      k[2 * i + 1] = k[2 * m + 1]!;
      h[i] = h[m]!;
      i = m;
    }
    k[2 * i] = when;
    k[2 * i + 1] = seq;
    h[i] = t;
  }

  /**
   * Drop the cancelled entries and take out those due at `now` (none when -Infinity), keeping
   * the rest in place; restore the heap in linear time. Returns the due ones: their keys and
   * handles, in heap order.
   */
  private compact(now: number): { keys: Float64Array; handles: TimerHandle[] } {
    const k = this.keys, h = this.handles, n = this.n;
    let dueCount = 0;
    if (now !== -Infinity) for (let i = 0; i < n; i++) if (k[2 * i]! <= now) dueCount++;
    const dueKeys = new Float64Array(2 * dueCount);
    const dueHandles: TimerHandle[] = new Array(dueCount);
    // Every entry leaves the heap's epoch; the kept ones are stamped with the new one.
    const epoch = ++this.epoch;
    let kept = 0, due = 0;
    for (let i = 0; i < n; i++) {
      const t = h[i]!;
      if (t._cancelled) continue;
      if (k[2 * i]! <= now) {
        dueKeys[2 * due] = k[2 * i]!;
        dueKeys[2 * due + 1] = k[2 * i + 1]!;
        dueHandles[due++] = t;
      } else {
        k[2 * kept] = k[2 * i]!;
        k[2 * kept + 1] = k[2 * i + 1]!;
        h[kept++] = t;
        t._heapEpoch = epoch;
      }
    }
    h.length = kept;
    this.n = kept;
    this.cancelledCount = 0;
    for (let i = ((kept - 2) >> 2); i >= 0; i--) this.siftDown(i);
    if (kept < this.keys.length >> 3 && this.keys.length > 2 * MIN_CAPACITY) {
      this.resize(Math.max(2 * kept, MIN_CAPACITY));
    }
    if (due < dueCount) return { keys: dueKeys.subarray(0, 2 * due), handles: dueHandles.slice(0, due) };
    return { keys: dueKeys, handles: dueHandles };
  }

  /** Empty, with arrays of the starting size; what it held is no longer held (holds()). */
  private reset(): void {
    this.epoch++;
    this.keys = new Float64Array(2 * MIN_CAPACITY);
    this.handles = [];
    this.n = 0;
    this.cancelledCount = 0;
    this.maxWhen = -Infinity;
  }

  /** moveDue's one pass: take out every due timer, sort them, hand them on. */
  private moveDueBatch(now: number, sink: TimerSink): void {
    const { keys, handles } = this.compact(now);
    emitSorted(keys, handles, handles.length, sink);
  }

  /** moveDue when every entry is due: sort the arrays as they are and empty the heap. */
  private moveAllDue(sink: TimerSink): void {
    const { keys, handles, n } = this;
    this.reset();
    emitSorted(keys, handles, n, sink);
  }

  /** Reallocate the keys for `capacity` entries (≥ n). */
  private resize(capacity: number): void {
    capacity = Math.max(capacity, MIN_CAPACITY);
    const keys = new Float64Array(2 * capacity);
    keys.set(this.keys.subarray(0, 2 * this.n));
    this.keys = keys;
  }
}

/**
 * Hand the first m `handles` to `sink` in the order of their `keys` (pairs as in TimerHeap). Keys
 * already in order (equal deadlines scheduled in turn) are not sorted. The handles are not
 * touched: in deadline order they are a random walk through memory, which the loop makes once
 * more when it runs them (and skips those cancelled meanwhile).
 */
function emitSorted(keys: Float64Array, handles: TimerHandle[], m: number, sink: TimerSink): void {
  let sorted = true;
  for (let i = 1; i < m && sorted; i++) {
    const a = keys[2 * i - 2]!, b = keys[2 * i]!;
    sorted = a < b || (a === b && keys[2 * i - 1]! < keys[2 * i + 1]!);
  }
  const order = sorted ? null : sortDue(keys, m);
  if (order === null) for (let i = 0; i < m; i++) sink.push(handles[i]!);
  else for (let i = 0; i < m; i++) sink.push(handles[order[i]!]!);
}

/** Bits of the scaled deadline sortDue's radix passes order by, RADIX_BITS per pass. */
const SCALED_BITS = 30;
const RADIX_BITS = 10;
const RADIX = 1 << RADIX_BITS;
const DIGIT = RADIX - 1;
const PASSES = SCALED_BITS / RADIX_BITS;

/**
 * The positions 0..m-1 of `keys` (pairs of `when` and sequence number, as in TimerHeap) ordered
 * by (when, sequence).
 *
 * Each `when` is scaled to a 30-bit integer over the batch's range (order-preserving: a
 * monotonic function, truncated) and the positions are radix-sorted by it, least significant
 * 10 bits first: three passes of sequential reads and no comparisons, where a merge sort makes
 * log2(m) passes of comparisons (bench/README.md, loop micro-benchmark). Entries
 * whose scaled deadlines are equal (the same `when`, or closer than range/2^30) end up next to
 * each other, and each such run is then put in exact order.
 */
function sortDue(keys: Float64Array, m: number): Int32Array {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < m; i++) {
    const w = keys[2 * i]!;
    if (w < lo) lo = w;
    if (w > hi) hi = w;
  }
  const scale = hi > lo ? ((1 << SCALED_BITS) - 1) / (hi - lo) : 0;
  let scaled = new Uint32Array(m), pos = new Int32Array(m);
  let scaled2 = new Uint32Array(m), pos2 = new Int32Array(m);
  // Every pass's digit counts, taken in one read of the keys.
  const counts = new Int32Array(PASSES * RADIX);
  for (let i = 0; i < m; i++) {
    const v = ((keys[2 * i]! - lo) * scale) >>> 0; // truncated: under 2^30
    scaled[i] = v;
    counts[v & DIGIT]!++;
    counts[RADIX + ((v >>> RADIX_BITS) & DIGIT)]!++;
    counts[2 * RADIX + (v >>> (2 * RADIX_BITS))]!++;
    pos[i] = i;
  }
  for (let pass = 0; pass < PASSES; pass++) {
    if (!radixPass(counts, pass, m, scaled, pos, scaled2, pos2)) continue;
    const s = scaled, p = pos;
    scaled = scaled2;
    pos = pos2;
    scaled2 = s;
    pos2 = p;
  }
  sortTies(keys, scaled, pos, m, pos2);
  return pos;
}

/**
 * One pass of sortDue's radix sort: move the entries of (scaled, pos) to (toScaled, toPos) in
 * the order of digit `pass`, stably; `counts` holds every pass's digit counts. False, and nothing
 * moved, when all entries have the same digit. (One function per loop: V8 compiles a loop run
 * once on a large batch separately, and code after it that never ran would send the compiled
 * code back to the interpreter.)
 */
function radixPass(
  counts: Int32Array, pass: number, m: number, scaled: Uint32Array, pos: Int32Array,
  toScaled: Uint32Array, toPos: Int32Array,
): boolean {
  const base = pass * RADIX, shift = pass * RADIX_BITS;
  // Counts to starting offsets.
  let sum = 0;
  for (let d = base; d < base + RADIX; d++) {
    const c = counts[d]!;
    if (c === m) return false;
    counts[d] = sum;
    sum += c;
  }
  for (let i = 0; i < m; i++) {
    const v = scaled[i]!;
    const o = counts[base + ((v >>> shift) & DIGIT)]!++;
    toScaled[o] = v;
    toPos[o] = pos[i]!;
  }
  return true;
}

/**
 * Put every run of equal `scaled` values in `pos` in exact (when, sequence) order: rare and short
 * for spread deadlines, long for equal ones. `tmp` is scratch space of length m.
 */
function sortTies(keys: Float64Array, scaled: Uint32Array, pos: Int32Array, m: number, tmp: Int32Array): void {
  for (let from = 0; from < m;) {
    const v = scaled[from]!;
    let to = from + 1;
    while (to < m && scaled[to] === v) to++;
    if (to - from > 1) sortRun(keys, pos, from, to, tmp);
    from = to;
  }
}

/** Runs this short are insertion-sorted; longer ones are merge-sorted from such runs. */
const SHORT_RUN = 16;

/** Position a's entry comes before b's: an earlier `when`, or the same and scheduled earlier. */
function before(keys: Float64Array, a: number, b: number): boolean {
  const wa = keys[2 * a]!, wb = keys[2 * b]!;
  return wa < wb || (wa === wb && keys[2 * a + 1]! < keys[2 * b + 1]!);
}

/** Sort pos[from, to) by before(); `tmp` is scratch space at least `to` long. */
function sortRun(keys: Float64Array, pos: Int32Array, from: number, to: number, tmp: Int32Array): void {
  for (let lo = from; lo < to; lo += SHORT_RUN) {
    const hi = lo + SHORT_RUN < to ? lo + SHORT_RUN : to;
    for (let i = lo + 1; i < hi; i++) {
      const p = pos[i]!;
      let j = i - 1;
      for (; j >= lo && before(keys, p, pos[j]!); j--) pos[j + 1] = pos[j]!;
      pos[j + 1] = p;
    }
  }
  // Bottom-up merges; each pass writes into the other array, and a pass that ends in `tmp` is
  // copied back at the end.
  let src = pos, dst = tmp;
  for (let width = SHORT_RUN; width < to - from; width *= 2) {
    for (let lo = from; lo < to; lo += 2 * width) {
      const mid = lo + width < to ? lo + width : to;
      const hi = lo + 2 * width < to ? lo + 2 * width : to;
      let a = lo, b = mid, o = lo;
      while (a < mid && b < hi) dst[o++] = before(keys, src[b]!, src[a]!) ? src[b++]! : src[a++]!;
      while (a < mid) dst[o++] = src[a++]!;
      while (b < hi) dst[o++] = src[b++]!;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src !== pos) pos.set(src.subarray(from, to), from);
}
