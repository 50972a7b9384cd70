/**
 * unittest.IsolatedAsyncioTestCase for the ports of CPython's asyncio tests: each case runs as
 * a task of a fresh loop, which is closed afterwards.
 */
import { AssertionError } from "node:assert";
import { test } from "node:test";
import type { BaseEventLoop } from "../../mod.ts";
import { withLoop } from "../helpers.ts";

/** A test case `name` whose body runs inside a task on a new loop. */
export function asyncCase(
  name: string,
  body: (loop: BaseEventLoop) => Promise<unknown>,
  options: { skip?: string | false } = {},
): void {
  test(name, options, async () => {
    await withLoop((loop) => loop.runUntilComplete(() => body(loop)));
  });
}

/** Block the thread for `ms` milliseconds without yielding (Python's time.sleep in a test). */
export function blockFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy: the loop must not run */ }
}

/** A Promise that follows `x` (node:assert's rejects() wants a real Promise). */
export function promise<T>(x: PromiseLike<T>): Promise<T> {
  return Promise.resolve(x);
}

/**
 * Python's `with self.assertRaises(cls):` around an await: passes if `p` rejects with a `cls`,
 * fails if it resolves, and lets any other exception through unchanged (assert.rejects would
 * turn it into an AssertionError, which an enclosing timeout or task group would then see).
 */
export async function assertRaises(
  p: PromiseLike<unknown>,
  cls: abstract new (...args: never[]) => unknown,
): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    if (e instanceof cls) return e;
    throw e;
  }
  throw new AssertionError({ message: `${cls.name} not raised` });
}
