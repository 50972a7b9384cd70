/**
 * `await using` for transports: close, then wait until the protocol's connectionLost has run
 * (the transport's fd is released right after it).
 *
 * A transport only says "connectionLost ran" (lostReported) at the one place it calls it; the
 * waiters live in a WeakMap keyed by transport, so a transport nobody disposes with `await
 * using` carries no field for it and pays one failed map lookup when it closes, nothing per
 * event.
 */
import type { BaseEventLoop } from "../base_loop.ts";
import type { Future } from "../core/futures.ts";

const waiters = new WeakMap<object, Future<void>[]>();

/**
 * Resolve once `transport` has reported connectionLost: at once if `lost` (it already has),
 * else at its lostReported(). The caller has already asked the transport to close.
 */
export async function waitLost(transport: object, loop: BaseEventLoop, lost: boolean): Promise<void> {
  if (lost || loop.isClosed()) return;
  const fut = loop.createFuture<void>();
  const list = waiters.get(transport);
  if (list === undefined) waiters.set(transport, [fut]);
  else list.push(fut);
  await fut;
}

/** `transport` has just called its protocol's connectionLost: release its waitLost() callers. */
export function lostReported(transport: object): void {
  const list = waiters.get(transport);
  if (list === undefined) return;
  waiters.delete(transport);
  for (const fut of list) if (!fut.done()) fut.setResult();
}
