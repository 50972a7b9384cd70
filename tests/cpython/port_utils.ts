/**
 * Helpers for the ported CPython test modules of futures, tasks, wait_for, streams,
 * subprocesses and TLS: what CPython's test_utils offers those tests (run_briefly, waiting for
 * a condition, collecting garbage-reported exceptions), on top of tests/helpers.ts.
 */
import { collectGarbage } from "../../ffi/runtime.ts";
import { type ExceptionContext, type Future, type SelectorEventLoop, sleep } from "../../mod.ts";
import { captureExceptions } from "../helpers.ts";

/**
 * Run the loop briefly, as CPython's test_utils.run_briefly: a task that yields once, then its
 * done-callback stops the loop (callbacks queued now run, and what they queue).
 */
export function runBriefly(loop: SelectorEventLoop): Promise<void> {
  return loop.runUntilComplete(async () => {
    await sleep(0);
  });
}

/** Run the loop until `cond()` is true, failing after `timeout` seconds (test_utils.run_until). */
export async function runUntil(
  loop: SelectorEventLoop,
  cond: () => boolean,
  timeout = 10,
): Promise<void> {
  await loop.runUntilComplete(async () => {
    const end = loop.time() + timeout;
    while (!cond()) {
      if (loop.time() > end) throw new Error(`runUntil: condition not met in ${timeout} s`);
      await sleep(0.001);
    }
  });
}

/**
 * Call `make(loop)` (which should leave only garbage behind), then collect garbage and turn the
 * loop until the exception handler saw something or `rounds` passed; returns what it saw.
 */
export async function reportsAfterGc(
  loop: SelectorEventLoop,
  make: (loop: SelectorEventLoop) => void,
  rounds = 20,
): Promise<ExceptionContext[]> {
  const seen = captureExceptions(loop);
  await loop.runUntilComplete(async () => {
    make(loop);
    await sleep(0.001);
  });
  for (let i = 0; i < rounds && seen.length === 0; i++) {
    if (!collectGarbage()) throw new Error("this test needs gc (Deno: --v8-flags=--expose-gc)");
    await loop.runUntilComplete(() => sleep(0.005));
  }
  return seen;
}

/** The UTF-8 bytes of `s`. */
export function b(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** `bytes` decoded as UTF-8. */
export function str(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/**
 * Wait until `fut` is done without retrieving its outcome: what `await asyncio.wait([fut])`
 * does in the CPython cases that only need the task finished.
 */
export function waitDone(fut: Future<unknown>): Future<void> {
  const done = fut.getLoop().createFuture<void>();
  fut.addDoneCallback(() => {
    if (!done.done()) done.setResult();
  });
  return done;
}
