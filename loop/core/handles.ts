/**
 * Handle and TimerHandle: a callback with its arguments, as returned by callSoon/callLater.
 */
import type { AbstractEventLoop, AbstractHandle, AbstractTimerHandle } from "./abstract_loop.ts";

// deno-lint-ignore no-explicit-any
export type Callback = (...args: any[]) => unknown;

/**
 * TypeError for an async (generator) function given as a callback: the loop would drop the
 * Promise it returns, and with it any exception (asyncio refuses coroutine functions the same
 * way). A plain function that returns a Promise cannot be told apart without calling it.
 */
export function checkNotCoroutine(callback: Callback, method: string): void {
  const constructor = callback.constructor;
  if (constructor === Function) return; // a plain function or arrow: no `name` lookup per call
  const kind = constructor?.name;
  if (kind === "AsyncFunction" || kind === "AsyncGeneratorFunction") {
    throw new TypeError(`coroutines cannot be used with ${method}()`);
  }
}

/** A scheduled callback (asyncio.Handle). `cancel()` stops it from running. */
export class Handle implements AbstractHandle {
  /** @ignore */ _callback: Callback;
  /** @ignore */ _args: unknown[];
  /** @ignore The argument, when `_args` is ONE_ARG. */ _arg: unknown;
  /** @ignore */ _cancelled = false;
  /** @ignore */ readonly _loop: AbstractEventLoop;

  /**
   * @ignore Use loop.callSoon(). A callback of one argument takes `args` ONE_ARG and `arg`: no
   * array of its own (56 bytes on V8 for every task step and done callback scheduled, and for as
   * long as a connection's transport is watched for reading).
   */
  constructor(callback: Callback, args: unknown[], loop: AbstractEventLoop, arg?: unknown) {
    this._callback = callback;
    this._args = args;
    this._arg = arg;
    this._loop = loop;
  }

  /** Cancel the call (asyncio Handle.cancel). Cancelling twice or after it ran does nothing. */
  cancel(): void {
    if (this._cancelled) return;
    this._cancelled = true;
    this._args = noArgs;
    this._arg = undefined;
  }

  /** True if the handle was cancelled (asyncio Handle.cancelled). */
  cancelled(): boolean {
    return this._cancelled;
  }

  /** A readable name for logs and debug warnings. */
  toString(): string {
    const name = this._callback.name || "<anonymous>";
    return `<${this.constructor.name} ${name}()${this._cancelled ? " cancelled" : ""}>`;
  }

  /** @ignore Run the callback; an exception goes to the loop's exception handler. */
  _run(): void {
    try {
      const a = this._args;
      // Spelling out the common arities avoids a spread (and its array) per call.
      switch (a.length) {
        case 0: this._callback(); break;
        case 1: this._callback(a === ONE_ARG ? this._arg : a[0]); break;
        case 2: this._callback(a[0], a[1]); break;
        default: this._callback(...a);
      }
    } catch (exception) {
      this._loop.callExceptionHandler({
        message: `Exception in callback ${this}`,
        exception,
        handle: this,
      });
    }
  }
}

/** A shared empty argument list: most callbacks take none. */
export const noArgs: unknown[] = [];

/** The argument list of a Handle whose one argument is in its `_arg` (see the constructor). */
export const ONE_ARG: unknown[] = Object.freeze([undefined]) as unknown[];

/** A Handle for `callback(...args)`: one argument is kept in the Handle, not in `args`. */
export function makeHandle(callback: Callback, args: unknown[], loop: AbstractEventLoop): Handle {
  return args.length === 1 ? new Handle(callback, ONE_ARG, loop, args[0]) : new Handle(callback, args, loop);
}

/** A callback scheduled for a time (asyncio.TimerHandle). */
export class TimerHandle extends Handle implements AbstractTimerHandle {
  /** @ignore */ _when: number;
  /** @ignore In the loop's timer heap while this equals the heap's epoch (TimerHeap.holds). */
  _heapEpoch = -1;

  /** @ignore Use loop.callLater() or loop.callAt(). */
  constructor(when: number, callback: Callback, args: unknown[], loop: AbstractEventLoop) {
    super(callback, args, loop);
    this._when = when;
  }

  /** The absolute time (loop.time() clock, seconds) the callback is due (asyncio when()). */
  when(): number {
    return this._when;
  }

  /** Cancel the call; the loop drops it from its timers lazily (asyncio TimerHandle.cancel). */
  override cancel(): void {
    if (!this._cancelled) this._loop._timerHandleCancelled(this);
    super.cancel();
  }
}
