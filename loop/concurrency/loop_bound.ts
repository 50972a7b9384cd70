/**
 * The loop a synchronization primitive or queue belongs to (asyncio's mixins._LoopBoundMixin).
 *
 * Locks, queues and the like are made outside any loop and bind to the running loop the first
 * time they must wait (create a Future); using them later from another loop is a RuntimeError,
 * since a Future of one loop cannot wake a task of another.
 */
import type { AbstractEventLoop } from "../core/abstract_loop.ts";
import { RuntimeError } from "../core/errors.ts";
import { Future } from "../core/futures.ts";
import { getRunningLoopOrNull } from "../core/running.ts";

/** Base class of the primitives that wait on the running loop. */
export class LoopBound {
  private _boundLoop: AbstractEventLoop | undefined;

  /** `<ClassName>`; subclasses add their state, as asyncio's reprs do. */
  toString(): string {
    return `<${this.constructor.name}>`;
  }

  /** @ignore A new Future on the running loop, which this object binds to on first use. */
  _createWaiter<T>(): Future<T> {
    const loop = getRunningLoopOrNull();
    if (loop === null) throw new RuntimeError(`${this} can only wait inside a running event loop`);
    this._boundLoop ??= loop;
    if (loop !== this._boundLoop) throw new RuntimeError(`${this} is bound to a different event loop`);
    return new Future<T>(loop);
  }
}

/** Remove the first `item` from `list`, if it is there (Python's deque.remove, minus the error). */
export function removeItem<T>(list: T[], item: T): boolean {
  const i = list.indexOf(item);
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}

/** TypeError unless `body` is a function: what the `async with` helpers run. */
export function checkBody(body: unknown, method: string): void {
  if (typeof body !== "function") {
    throw new TypeError(`${method}() needs a function to run, got ${body === null ? "null" : typeof body}`);
  }
}
