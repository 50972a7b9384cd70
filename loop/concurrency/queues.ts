/**
 * asyncio's queues (asyncio.queues): Queue (FIFO), LifoQueue and PriorityQueue, for producer
 * and consumer tasks of one loop.
 *
 * get() waits while the queue is empty and put() while it is full (maxsize > 0), each on a
 * Future of the running loop, woken in FIFO order; join() waits until taskDone() was called
 * for every item put. Python orders a PriorityQueue with `<`; JavaScript has no such protocol,
 * so PriorityQueue takes a comparator and by default compares as Python would numbers,
 * bigints, booleans, strings and arrays (lexicographically, like tuples).
 */
import { type KeysOf, refuseUnknownOptions } from "../core/options.ts";
import { Deque } from "../core/deque.ts";
import { QueueEmpty, QueueFull, ValueError } from "../core/errors.ts";
import type { Future } from "../core/futures.ts";
import { Event } from "./locks.ts";
import { LoopBound, removeItem } from "./loop_bound.ts";

/** Orders two PriorityQueue items: negative if `a` comes first, positive if `b` does, else 0. */
export type Comparator<T> = (a: T, b: T) => number;

/** Options of PriorityQueue. */
export interface PriorityQueueOptions<T> {
  /** How items are ordered, lowest first (default: {@link pythonCompare}). */
  compare?: Comparator<T> | undefined;
}

/** @ignore The keys of PriorityQueueOptions, for refuseUnknownOptions(). */
export const PRIORITY_QUEUE_OPTION_KEYS: KeysOf<PriorityQueueOptions<unknown>> = {
  compare: true,
};

/** A FIFO queue for tasks (asyncio.Queue); `maxsize` 0 or less means unbounded. */
export class Queue<T = unknown> extends LoopBound {
  private readonly _maxsize: number;
  private readonly _getters: Future<void>[] = [];
  private readonly _putters: Future<void>[] = [];
  private _unfinishedTasks = 0;
  private readonly _finished = new Event();
  private readonly _items = new Deque<T>();

  /** A queue holding at most `maxsize` items; 0 or less (the default): no limit. */
  constructor(maxsize = 0) {
    super();
    if (typeof maxsize !== "number") {
      throw new TypeError(`a queue's maxsize must be a number, got ${typeof maxsize}`);
    }
    if (Number.isNaN(maxsize)) throw new ValueError("a queue's maxsize must not be NaN");
    this._maxsize = maxsize;
    this._finished.set();
  }

  /** How many items are in the queue (asyncio qsize). */
  qsize(): number {
    return this._items.length;
  }

  /** The most items the queue holds; 0 or less: no limit. */
  get maxsize(): number {
    return this._maxsize;
  }

  /** True if the queue holds no item. */
  empty(): boolean {
    return this.qsize() === 0;
  }

  /** True if the queue holds maxsize items (never, when unbounded). */
  full(): boolean {
    return this._maxsize > 0 && this.qsize() >= this._maxsize;
  }

  /** Add `item`, waiting for room while the queue is full (asyncio put). */
  async put(item: T): Promise<void> {
    while (this.full()) {
      const putter = this._createWaiter<void>();
      this._putters.push(putter);
      try {
        await putter;
      } catch (e) {
        putter.cancel(); // in case it was not done
        removeItem(this._putters, putter);
        // This putter was woken for a free slot it will not use: wake the next one.
        if (!this.full() && !putter.cancelled()) this._wakeupNext(this._putters);
        throw e;
      }
    }
    this.putNowait(item);
  }

  /** Add `item` now (asyncio put_nowait); QueueFull if there is no room. */
  putNowait(item: T): void {
    if (this.full()) throw new QueueFull(`the queue is full (maxsize ${this._maxsize})`);
    this._put(item);
    this._unfinishedTasks++;
    this._finished.clear();
    this._wakeupNext(this._getters);
  }

  /** Remove and return the next item, waiting for one while the queue is empty (asyncio get). */
  async get(): Promise<T> {
    while (this.empty()) {
      const getter = this._createWaiter<void>();
      this._getters.push(getter);
      try {
        await getter;
      } catch (e) {
        getter.cancel();
        removeItem(this._getters, getter);
        if (!this.empty() && !getter.cancelled()) this._wakeupNext(this._getters);
        throw e;
      }
    }
    return this.getNowait();
  }

  /** Remove and return the next item now (asyncio get_nowait); QueueEmpty if there is none. */
  getNowait(): T {
    if (this.empty()) throw new QueueEmpty("the queue is empty");
    const item = this._get();
    this._wakeupNext(this._putters);
    return item;
  }

  /**
   * Tell the queue one item taken with get() is processed (asyncio task_done); join() returns
   * once every item put is. ValueError if called more times than items were put.
   */
  taskDone(): void {
    if (this._unfinishedTasks <= 0) throw new ValueError("taskDone() called too many times");
    this._unfinishedTasks--;
    if (this._unfinishedTasks === 0) this._finished.set();
  }

  /** Wait until every item put has been taken and marked with taskDone() (asyncio join). */
  async join(): Promise<void> {
    if (this._unfinishedTasks > 0) await this._finished.wait();
  }

  /** `<Queue maxsize=0 _queue=[1, 2] _getters[1] tasks=2>`, as asyncio's str. */
  override toString(): string {
    let s = `<${this.constructor.name} maxsize=${this._maxsize}`;
    if (!this.empty()) s += ` _queue=${pythonRepr(this._snapshot())}`;
    if (this._getters.length > 0) s += ` _getters[${this._getters.length}]`;
    if (this._putters.length > 0) s += ` _putters[${this._putters.length}]`;
    if (this._unfinishedTasks > 0) s += ` tasks=${this._unfinishedTasks}`;
    return s + ">";
  }

  /** @ignore Store an item (subclasses choose the order). */
  _put(item: T): void {
    this._items.push(item);
  }

  /** @ignore Take the next item. */
  _get(): T {
    return this._items.shift() as T;
  }

  /** @ignore The items in storage order, for toString(). */
  _snapshot(): T[] {
    // The ring buffer has no iterator: rotate it once round (only toString() pays for this).
    const items: T[] = [];
    for (let n = this._items.length; n > 0; n--) {
      const item = this._items.shift() as T;
      items.push(item);
      this._items.push(item);
    }
    return items;
  }

  /** Wake the first of `waiters` that is not done, dropping the done ones before it. */
  private _wakeupNext(waiters: Future<void>[]): void {
    while (waiters.length > 0) {
      const waiter = waiters.shift()!;
      if (!waiter.done()) {
        waiter.setResult();
        break;
      }
    }
  }
}

/** A queue that returns the most recently added item first (asyncio.LifoQueue). */
export class LifoQueue<T = unknown> extends Queue<T> {
  private readonly _stack: T[] = [];

  /** How many items are in the queue. */
  override qsize(): number {
    return this._stack.length;
  }

  /** @ignore */
  override _put(item: T): void {
    this._stack.push(item);
  }

  /** @ignore */
  override _get(): T {
    return this._stack.pop() as T;
  }

  /** @ignore */
  override _snapshot(): T[] {
    return [...this._stack];
  }
}

/**
 * A queue that returns the lowest item first (asyncio.PriorityQueue), typically
 * `[priority, data]` arrays. Items are kept in a binary heap ordered by `options.compare`,
 * default {@link pythonCompare}; a comparator that throws (items that cannot be compared)
 * makes putNowait()/put() throw, as Python's TypeError from `<`.
 */
export class PriorityQueue<T = unknown> extends Queue<T> {
  private readonly _heap: T[] = [];
  private readonly _compare: Comparator<T>;

  /** A priority queue of at most `maxsize` items (0: no limit), ordered by `options.compare`. */
  constructor(maxsize = 0, options: PriorityQueueOptions<T> = {}) {
    super(maxsize);
    refuseUnknownOptions(options, PRIORITY_QUEUE_OPTION_KEYS, "PriorityQueue()");
    const compare = options.compare ?? pythonCompare;
    if (typeof compare !== "function") {
      throw new TypeError(`PriorityQueue's compare option must be a function, got ${typeof compare}`);
    }
    this._compare = compare;
  }

  /** How many items are in the queue. */
  override qsize(): number {
    return this._heap.length;
  }

  /** @ignore Push onto the heap and sift the new item up. */
  override _put(item: T): void {
    // Heap indexes below are all < heap.length (`!` on the reads).
    const heap = this._heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this._compare(heap[i]!, heap[parent]!) >= 0) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** @ignore The heap in array order, as asyncio shows its heap list. */
  override _snapshot(): T[] {
    return [...this._heap];
  }

  /** @ignore Pop the lowest item: the last one takes the root's place and sifts down. */
  override _get(): T {
    // Only called when the queue is not empty (Queue.get waits for an item first).
    const heap = this._heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    heap[0] = last;
    for (let i = 0;;) {
      const left = 2 * i + 1, right = left + 1;
      let least = i;
      if (left < heap.length && this._compare(heap[left]!, heap[least]!) < 0) least = left;
      if (right < heap.length && this._compare(heap[right]!, heap[least]!) < 0) least = right;
      if (least === i) break;
      [heap[i], heap[least]] = [heap[least]!, heap[i]!];
      i = least;
    }
    return top;
  }
}

/** `x` as Python's repr would show it, for the common item types: `'a'`, `[1, 'b']`, `42`. */
function pythonRepr(x: unknown): string {
  if (typeof x === "string") return `'${x}'`;
  if (Array.isArray(x)) return `[${x.map(pythonRepr).join(", ")}]`;
  return String(x);
}

function typeName(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "object") return (x as object).constructor?.name ?? "object";
  return typeof x;
}

/**
 * Compare as Python's `<` would: numbers, bigints and booleans by value (with each other),
 * strings by UTF-16 code units, arrays lexicographically (like tuples: the first unequal items
 * decide, else the shorter comes first). The same object compares equal to itself; any other
 * pair is a TypeError, as Python's "'<' not supported between instances".
 */
export function pythonCompare(a: unknown, b: unknown): number {
  const ta = typeof a, tb = typeof b;
  const numA = ta === "number" || ta === "bigint" || ta === "boolean";
  const numB = tb === "number" || tb === "bigint" || tb === "boolean";
  if ((numA && numB) || (ta === "string" && tb === "string")) {
    const x = (ta === "boolean" ? Number(a) : a) as number, y = (tb === "boolean" ? Number(b) : b) as number;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (a[i] === b[i]) continue;
      const c = pythonCompare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if (a === b) return 0;
  throw new TypeError(
    `'<' not supported between instances of ${typeName(a)} and ${typeName(b)}; ` +
      "give the PriorityQueue a compare option",
  );
}
