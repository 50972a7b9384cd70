/**
 * A binary min-heap of TimerHandles ordered by `when`.
 *
 * Cancelled timers stay in the heap and are skipped when they reach the top (as asyncio does);
 * when more than half the heap is cancelled it is rebuilt, so memory stays bounded.
 */
import type { TimerHandle } from "./handles.ts";

/** Rebuild only heaps at least this big (asyncio's _MIN_SCHEDULED_TIMER_HANDLES). */
const MIN_REBUILD_SIZE = 100;

export class TimerHeap {
  private heap: TimerHandle[] = [];
  private cancelledCount = 0;

  get size(): number {
    return this.heap.length;
  }

  push(t: TimerHandle): void {
    const h = this.heap;
    let i = h.length;
    h.push(t);
    // Sift up.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      // parent < i ≤ the last index: a filled slot (`!`), likewise in siftDown below.
      if (h[parent]!._when <= t._when) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = t;
    t._scheduled = true;
  }

  /** The earliest live timer, dropping cancelled ones from the top. */
  peek(): TimerHandle | undefined {
    const h = this.heap;
    let top = h[0];
    while (top !== undefined && top._cancelled) {
      this.cancelledCount--;
      this.pop();
      top = h[0];
    }
    return top;
  }

  pop(): TimerHandle | undefined {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return undefined;
    const last = h.pop()!;
    if (h.length > 0) this.siftDown(last, 0);
    top._scheduled = false;
    return top;
  }

  private siftDown(t: TimerHandle, start: number): void {
    const h = this.heap;
    const n = h.length;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && h[child + 1]!._when < h[child]!._when) child++;
      if (h[child]!._when >= t._when) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = t;
  }

  /** Note a cancellation; rebuild without cancelled timers once they are the majority. */
  noteCancelled(): void {
    this.cancelledCount++;
    if (this.heap.length >= MIN_REBUILD_SIZE && this.cancelledCount * 2 > this.heap.length) {
      this.rebuild();
    }
  }

  private rebuild(): void {
    const live: TimerHandle[] = [];
    for (const t of this.heap) {
      if (t._cancelled) t._scheduled = false;
      else live.push(t);
    }
    this.heap = live;
    this.cancelledCount = 0;
    // Heapify bottom-up.
    for (let i = (live.length >> 1) - 1; i >= 0; i--) this.siftDown(live[i]!, i);
  }

  clear(): void {
    for (const t of this.heap) t._scheduled = false;
    this.heap = [];
    this.cancelledCount = 0;
  }
}
