/**
 * asyncio.timeout() and asyncio.timeout_at(): a deadline over a block of code in a task.
 *
 * Python writes `async with asyncio.timeout(10): ...`; JavaScript has no async context manager,
 * so the block is a function: `await timeout(10, async (cm) => { ... })` runs it in the
 * current task and returns its value. When the deadline passes, the task is cancelled; the
 * CancelledError that cancellation raises in the block is turned into TimeoutError (its
 * `cause` is the CancelledError) as it leaves the block. A cancellation from anywhere else
 * goes through unchanged: Task.cancelling()/uncancel() tell the two apart, as in asyncio 3.12.
 * `cm` is the {@link Timeout}, whose deadline the block can read or move.
 */
import { describe } from "../core/describe.ts";
import type { Handle } from "../core/handles.ts";
import { CancelledError, RuntimeError, TimeoutError, ValueError } from "../core/errors.ts";
import { getRunningLoop } from "../events.ts";
import { checkBody } from "./loop_bound.ts";
import { currentTask, type Task } from "../core/tasks.ts";

const CREATED = "created", ENTERED = "active", EXPIRING = "expiring", EXPIRED = "expired",
  EXITED = "finished";
type State = typeof CREATED | typeof ENTERED | typeof EXPIRING | typeof EXPIRED | typeof EXITED;

/** What a timeout block is: called with its Timeout, returns the block's value. */
export type TimeoutBody<T> = (cm: Timeout) => T | PromiseLike<T>;

function checkWhen(when: unknown, what: string): asserts when is number | null {
  if (when !== null && typeof when !== "number") {
    throw new TypeError(`${what} must be a number of seconds or null, got ${describe(when)}`);
  }
  if (Number.isNaN(when)) throw new ValueError(`${what} must not be NaN`);
}

/**
 * A deadline, in loop time, over one block run in a task (asyncio.Timeout). Prefer timeout()
 * and timeoutAt(); `new Timeout(when).run(body)` is the same as `timeoutAt(when, body)`.
 * A Timeout runs one block only.
 */
export class Timeout {
  private _state: State = CREATED;
  private _handle: Handle | null = null;
  private _task: Task | undefined;
  private _cancelling = 0;
  private _when: number | null;

  /** A deadline at loop time `when` (loop.time() clock), or none if null. */
  constructor(when: number | null) {
    checkWhen(when, "Timeout's when");
    this._when = when;
  }

  /** The deadline, in loop time, or null if there is none (asyncio when). */
  when(): number | null {
    return this._when;
  }

  /**
   * Move the deadline to loop time `when`, or remove it with null (asyncio reschedule); a time
   * already past expires the block at the next loop iteration. RuntimeError outside the block
   * or after it expired.
   */
  reschedule(when: number | null): void {
    checkWhen(when, "reschedule()'s when");
    if (this._state !== ENTERED) {
      if (this._state === CREATED) throw new RuntimeError("Timeout has not been entered");
      throw new RuntimeError(`Cannot change state of ${this._state} Timeout`);
    }
    this._when = when;
    this._handle?.cancel();
    this._handle = null;
    if (when === null || when === Infinity) return;
    const loop = getRunningLoop();
    this._handle = when <= loop.time()
      ? loop.callSoon(() => this._onTimeout())
      : loop.callAt(when, () => this._onTimeout());
  }

  /** True once the deadline has passed and cancelled the block (asyncio expired). */
  expired(): boolean {
    return this._state === EXPIRING || this._state === EXPIRED;
  }

  /**
   * Run `body(this)` in the current task under this deadline and return its value (Python's
   * `async with`). Rejects with TimeoutError if the deadline cancelled it, RuntimeError outside
   * a task or if this Timeout already ran a block.
   */
  async run<T>(body: TimeoutBody<T>): Promise<T> {
    checkBody(body, "Timeout.run");
    this._enter();
    let result: T;
    try {
      result = await body(this);
    } catch (e) {
      this._exit(e);
      throw e;
    }
    this._exit(undefined);
    return result;
  }

  /** `<Timeout [active] when=12.5>`, as asyncio's repr. */
  toString(): string {
    const when = this._state === ENTERED
      ? ` when=${this._when === null ? "None" : Math.round(this._when * 1000) / 1000}`
      : "";
    return `<Timeout [${this._state}]${when}>`;
  }

  /** Enter the block: bind to the current task and arm the deadline (asyncio __aenter__). */
  private _enter(): void {
    if (this._state !== CREATED) throw new RuntimeError("Timeout has already been entered");
    const task = currentTask();
    if (task === undefined) throw new RuntimeError("Timeout should be used inside a task");
    this._state = ENTERED;
    this._task = task;
    this._cancelling = task.cancelling();
    this.reschedule(this._when);
  }

  /** Leave the block; throws the TimeoutError if this deadline's cancellation ended it. */
  private _exit(error: unknown): void {
    this._handle?.cancel();
    this._handle = null;
    if (this._state === EXPIRING) {
      this._state = EXPIRED;
      // Only the cancellation this Timeout asked for becomes a TimeoutError; one requested by
      // someone else as well leaves cancelling() above where it was at entry.
      if (this._task!.uncancel() <= this._cancelling && error instanceof CancelledError) {
        throw new TimeoutError("the timeout expired", { cause: error });
      }
    } else if (this._state === ENTERED) {
      this._state = EXITED;
    }
  }

  /** The deadline passed: cancel the task; _exit() turns that into TimeoutError. */
  private _onTimeout(): void {
    this._handle = null;
    if (this._state !== ENTERED) return;
    this._task!.cancel();
    this._state = EXPIRING;
  }
}

/**
 * Run `body` in the current task with a deadline `delay` seconds from now (asyncio.timeout),
 * or none if null, and return its value. Rejects with TimeoutError if the deadline passed and
 * cancelled the block; RuntimeError if no loop is running or not called from a task.
 */
export async function timeout<T>(delay: number | null, body: TimeoutBody<T>): Promise<T> {
  checkWhen(delay, "timeout()'s delay");
  const loop = getRunningLoop();
  return await new Timeout(delay === null ? null : loop.time() + delay).run(body);
}

/**
 * Like timeout(), with the deadline as a loop time (`loop.time()` clock; asyncio.timeout_at)
 * or none if null.
 */
export async function timeoutAt<T>(when: number | null, body: TimeoutBody<T>): Promise<T> {
  return await new Timeout(when).run(body);
}
