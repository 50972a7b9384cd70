/**
 * asyncio's synchronization primitives (asyncio.locks): Lock, Event, Condition, Semaphore,
 * BoundedSemaphore and Barrier, for tasks of one loop (they are not thread-safe).
 *
 * Waiters queue up in FIFO order, each on a Future of the running loop, so a task waiting here
 * is cancelled at that await like at any other. Python's `async with lock:` is
 * `await lock.withLock(async () => { ... })`: acquire, run the body, release however it ends,
 * and return the body's value.
 */
import { BrokenBarrierError, CancelledError, RuntimeError, ValueError } from "../core/errors.ts";
import type { Future } from "../core/futures.ts";
import { checkBody, LoopBound, removeItem } from "./loop_bound.ts";

/** The `async with` helper the lock-like primitives share. */
async function holding<T>(
  primitive: { acquire(): Promise<true>; release(): void },
  body: () => T | PromiseLike<T>,
): Promise<T> {
  checkBody(body, "withLock");
  await primitive.acquire();
  try {
    return await body();
  } finally {
    primitive.release();
  }
}

function waitersNote(waiters: readonly unknown[] | null): string {
  return waiters !== null && waiters.length > 0 ? `, waiters:${waiters.length}` : "";
}

/** A mutual-exclusion lock for tasks (asyncio.Lock); FIFO: the longest waiter gets it first. */
export class Lock extends LoopBound {
  private _waiters: Future<boolean>[] | null = null;
  private _locked = false;

  /** True if the lock is held (asyncio locked). */
  locked(): boolean {
    return this._locked;
  }

  /**
   * Take the lock, waiting until it is free (asyncio acquire); resolves to true. A cancelled
   * waiter hands its turn on to the next one.
   */
  async acquire(): Promise<true> {
    if (!this._locked && (this._waiters === null || this._waiters.every((w) => w.cancelled()))) {
      this._locked = true;
      return true;
    }
    this._waiters ??= [];
    const fut = this._createWaiter<boolean>();
    this._waiters.push(fut);
    try {
      try {
        await fut;
      } finally {
        removeItem(this._waiters, fut);
      }
    } catch (e) {
      // Woken and cancelled at once: the lock is free, so the next waiter must be told.
      if (e instanceof CancelledError && !this._locked) this._wakeUpFirst();
      throw e;
    }
    this._locked = true;
    return true;
  }

  /** Free the lock and wake the first waiter (asyncio release); RuntimeError if not held. */
  release(): void {
    if (!this._locked) throw new RuntimeError("Lock is not acquired.");
    this._locked = false;
    this._wakeUpFirst();
  }

  /** Python's `async with lock:`: acquire, run `body`, release, return its value. */
  withLock<T>(body: () => T | PromiseLike<T>): Promise<T> {
    return holding(this, body);
  }

  /** `<Lock [locked, waiters:2]>`, as asyncio's repr. */
  override toString(): string {
    return `<Lock [${this._locked ? "locked" : "unlocked"}${waitersNote(this._waiters)}]>`;
  }

  /** Wake the first waiter, if it is not done already. */
  private _wakeUpFirst(): void {
    const fut = this._waiters?.[0];
    if (fut !== undefined && !fut.done()) fut.setResult(true);
  }
}

/** A flag tasks can wait for (asyncio.Event): set() wakes every waiter. */
export class Event extends LoopBound {
  private readonly _waiters: Future<boolean>[] = [];
  private _value = false;

  /** True if the flag is set (asyncio is_set). */
  isSet(): boolean {
    return this._value;
  }

  /** Set the flag and wake every task waiting for it (asyncio set). */
  set(): void {
    if (this._value) return;
    this._value = true;
    for (const fut of this._waiters) if (!fut.done()) fut.setResult(true);
  }

  /** Reset the flag: later wait() calls block until set() (asyncio clear). */
  clear(): void {
    this._value = false;
  }

  /** Wait until the flag is set (asyncio wait); resolves to true. */
  async wait(): Promise<true> {
    if (this._value) return true;
    const fut = this._createWaiter<boolean>();
    this._waiters.push(fut);
    try {
      await fut;
      return true;
    } finally {
      removeItem(this._waiters, fut);
    }
  }

  /** `<Event [set, waiters:1]>`, as asyncio's repr. */
  override toString(): string {
    return `<Event [${this._value ? "set" : "unset"}${waitersNote(this._waiters)}]>`;
  }
}

/**
 * A condition variable (asyncio.Condition): tasks holding its lock wait() to be notified. It
 * uses `lock` (a Lock) or a new Lock of its own.
 */
export class Condition extends LoopBound {
  private readonly _lock: Lock;
  private readonly _waiters: Future<boolean>[] = [];

  /** A condition over `lock`, or over a new Lock. TypeError if `lock` is not a Lock. */
  constructor(lock?: Lock) {
    super();
    if (lock !== undefined && !(lock instanceof Lock)) {
      throw new TypeError(`Condition() needs a Lock, got ${lock === null ? "null" : typeof lock}`);
    }
    this._lock = lock ?? new Lock();
  }

  /** True if the underlying lock is held. */
  locked(): boolean {
    return this._lock.locked();
  }

  /** Take the underlying lock (Lock.acquire). */
  acquire(): Promise<true> {
    return this._lock.acquire();
  }

  /** Free the underlying lock (Lock.release). */
  release(): void {
    this._lock.release();
  }

  /** Python's `async with cond:`: acquire, run `body`, release, return its value. */
  withLock<T>(body: () => T | PromiseLike<T>): Promise<T> {
    return holding(this, body);
  }

  /**
   * Release the lock, wait to be notified, take the lock again (asyncio wait); resolves to
   * true. RuntimeError if the lock is not held. Even when cancelled it returns holding the lock.
   */
  async wait(): Promise<true> {
    if (!this.locked()) throw new RuntimeError("cannot wait on un-acquired lock");
    this.release();
    try {
      const fut = this._createWaiter<boolean>();
      this._waiters.push(fut);
      try {
        await fut;
        return true;
      } finally {
        removeItem(this._waiters, fut);
      }
    } finally {
      // The caller holds the lock again whatever happened; a cancel during this wait is raised
      // once the lock is back.
      let cancelled = false;
      for (;;) {
        try {
          await this.acquire();
          break;
        } catch (e) {
          // Anything but a cancel (the loop closing, say) is the caller's to see, as in asyncio.
          // deno-lint-ignore no-unsafe-finally
          if (!(e instanceof CancelledError)) throw e;
          cancelled = true;
        }
      }
      // deno-lint-ignore no-unsafe-finally
      if (cancelled) throw new CancelledError();
    }
  }

  /**
   * Wait until `predicate()` is truthy, re-checking after each notification (asyncio
   * wait_for); resolves to the predicate's last value.
   */
  async waitFor<T>(predicate: () => T): Promise<T> {
    if (typeof predicate !== "function") {
      throw new TypeError(`Condition.waitFor() needs a predicate function, got ${typeof predicate}`);
    }
    let result = predicate();
    while (!result) {
      await this.wait();
      result = predicate();
    }
    return result;
  }

  /**
   * Wake up to `n` waiting tasks (asyncio notify); they return from wait() once they get the
   * lock. RuntimeError if the lock is not held.
   */
  notify(n = 1): void {
    if (!this.locked()) throw new RuntimeError("cannot notify on un-acquired lock");
    if (typeof n !== "number" || Number.isNaN(n)) {
      throw new TypeError(`notify() needs a number of waiters, got ${typeof n}`);
    }
    let woken = 0;
    for (const fut of this._waiters) {
      if (woken >= n) break;
      if (!fut.done()) {
        woken++;
        fut.setResult(false);
      }
    }
  }

  /** Wake every waiting task (asyncio notify_all). RuntimeError if the lock is not held. */
  notifyAll(): void {
    this.notify(this._waiters.length);
  }

  /** `<Condition [locked, waiters:1]>`, as asyncio's repr. */
  override toString(): string {
    return `<Condition [${this.locked() ? "locked" : "unlocked"}${waitersNote(this._waiters)}]>`;
  }
}

/**
 * A counter of free slots (asyncio.Semaphore): acquire() takes one, waiting while there are
 * none; release() gives one back. FIFO among waiters.
 */
export class Semaphore extends LoopBound {
  /** @ignore */ _value: number;
  private _waiters: Future<boolean>[] | null = null;

  /** A semaphore with `value` free slots (default 1). ValueError if below 0. */
  constructor(value = 1) {
    super();
    if (typeof value !== "number") {
      throw new TypeError(`a Semaphore's value must be a number, got ${typeof value}`);
    }
    if (!(value >= 0)) throw new ValueError("Semaphore initial value must be >= 0");
    this._value = value;
  }

  /** True if acquire() would wait (asyncio locked). */
  locked(): boolean {
    return this._value === 0 || (this._waiters ?? []).some((w) => !w.cancelled());
  }

  /** Take a slot, waiting for one if there is none (asyncio acquire); resolves to true. */
  async acquire(): Promise<true> {
    if (!this.locked()) {
      this._value--;
      return true;
    }
    this._waiters ??= [];
    const fut = this._createWaiter<boolean>();
    this._waiters.push(fut);
    try {
      try {
        await fut;
      } finally {
        removeItem(this._waiters, fut);
      }
    } catch (e) {
      if (e instanceof CancelledError && !fut.cancelled()) {
        // A slot was handed to this waiter as it was cancelled: pass it on.
        this._value++;
        this._wakeUpNext();
      }
      throw e;
    }
    if (this._value > 0) this._wakeUpNext();
    return true;
  }

  /** Give a slot back and wake the first waiter (asyncio release). */
  release(): void {
    this._value++;
    this._wakeUpNext();
  }

  /** Python's `async with sem:`: acquire, run `body`, release, return its value. */
  withLock<T>(body: () => T | PromiseLike<T>): Promise<T> {
    return holding(this, body);
  }

  /** `<Semaphore [unlocked, value:2]>`, as asyncio's repr. */
  override toString(): string {
    const state = this.locked() ? "locked" : `unlocked, value:${this._value}`;
    return `<${this.constructor.name} [${state}${waitersNote(this._waiters)}]>`;
  }

  /** Hand a slot to the first waiter that is not done. */
  private _wakeUpNext(): void {
    if (this._waiters === null) return;
    for (const fut of this._waiters) {
      if (!fut.done()) {
        this._value--;
        fut.setResult(true);
        return;
      }
    }
  }
}

/** A Semaphore that refuses to be released above its initial value (asyncio.BoundedSemaphore). */
export class BoundedSemaphore extends Semaphore {
  private readonly _boundValue: number;

  /** A bounded semaphore with `value` slots (default 1). ValueError if below 0. */
  constructor(value = 1) {
    super(value);
    this._boundValue = value;
  }

  /** Give a slot back; ValueError if that would exceed the initial value. */
  override release(): void {
    if (this._value >= this._boundValue) {
      throw new ValueError("BoundedSemaphore released too many times");
    }
    super.release();
  }
}

const FILLING = "filling", DRAINING = "draining", RESETTING = "resetting", BROKEN = "broken";
type BarrierState = typeof FILLING | typeof DRAINING | typeof RESETTING | typeof BROKEN;

/**
 * A meeting point for a fixed number of tasks (asyncio.Barrier): each wait() blocks until
 * `parties` tasks are waiting, then all go on together. Python's `async with barrier:` is just
 * `await barrier.wait()`.
 */
export class Barrier extends LoopBound {
  private readonly _cond = new Condition();
  private readonly _parties: number;
  private _state: BarrierState = FILLING;
  private _count = 0;

  /** A barrier for `parties` tasks. ValueError if below 1. */
  constructor(parties: number) {
    super();
    if (typeof parties !== "number") {
      throw new TypeError(`Barrier() needs a number of parties, got ${typeof parties}`);
    }
    if (!(parties >= 1)) throw new ValueError("parties must be > 0");
    this._parties = parties;
  }

  /**
   * Wait until `parties` tasks wait here, then resolve to this task's arrival index, 0 to
   * parties-1 (asyncio wait). BrokenBarrierError if the barrier is aborted or reset meanwhile.
   */
  wait(): Promise<number> {
    return this._cond.withLock(async () => {
      await this._block(); // while the previous round drains or resets
      const index = this._count++;
      try {
        if (index + 1 === this._parties) this._release();
        else await this._wait();
        return index;
      } finally {
        this._count--;
        this._exit();
      }
    });
  }

  /** Back to the empty state; tasks waiting now get BrokenBarrierError (asyncio reset). */
  reset(): Promise<void> {
    return this._cond.withLock(() => {
      if (this._count > 0) this._state = RESETTING;
      else this._state = FILLING;
      this._cond.notifyAll();
    });
  }

  /** Break the barrier: waiting and later wait() calls get BrokenBarrierError (asyncio abort). */
  abort(): Promise<void> {
    return this._cond.withLock(() => {
      this._state = BROKEN;
      this._cond.notifyAll();
    });
  }

  /** How many tasks must wait to trip the barrier. */
  get parties(): number {
    return this._parties;
  }

  /** How many tasks wait now (asyncio n_waiting). */
  get nWaiting(): number {
    return this._state === FILLING ? this._count : 0;
  }

  /** True if the barrier is broken (asyncio broken). */
  get broken(): boolean {
    return this._state === BROKEN;
  }

  /** `<Barrier [filling, waiters:1/3]>`, as asyncio's repr. */
  override toString(): string {
    const extra = this.broken ? "" : `, waiters:${this.nWaiting}/${this._parties}`;
    return `<Barrier [${this._state}${extra}]>`;
  }

  /** Wait while the previous round drains or resets; BrokenBarrierError if broken. */
  private async _block(): Promise<void> {
    await this._cond.waitFor(() => this._state !== DRAINING && this._state !== RESETTING);
    if (this._state === BROKEN) throw new BrokenBarrierError("Barrier aborted");
  }

  /** The last party arrived: let every waiter go. */
  private _release(): void {
    this._state = DRAINING;
    this._cond.notifyAll();
  }

  /** Wait for the last party; BrokenBarrierError if aborted or reset meanwhile. */
  private async _wait(): Promise<void> {
    await this._cond.waitFor(() => this._state !== FILLING);
    if (this._state === BROKEN || this._state === RESETTING) {
      throw new BrokenBarrierError("Abort or reset of barrier");
    }
  }

  /** A party leaves; the last one out opens the barrier for the next round. */
  private _exit(): void {
    if (this._count === 0) {
      if (this._state === RESETTING || this._state === DRAINING) this._state = FILLING;
      this._cond.notifyAll();
    }
  }
}
