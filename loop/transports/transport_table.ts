/**
 * Which transport owns which fd, per loop (asyncio's loop._transports), so that addReader,
 * addWriter, removeReader and removeWriter can refuse an fd a live transport is driving
 * (asyncio _ensure_fd_no_transport): a user's watcher there would silently replace the
 * transport's and stall it. Transports register when made and unregister when they release
 * their fd; the loop's own code watches those fds through its internal methods, unchecked.
 */
import { RuntimeError } from "../core/errors.ts";

/** What the table needs of a transport. */
interface Owner {
  isClosing(): boolean;
}

const tables = new WeakMap<object, (Owner | undefined)[]>();

/** Note that `transport` drives `fd` on `loop`. */
export function registerTransport(loop: object, fd: number, transport: Owner): void {
  let table = tables.get(loop);
  if (table === undefined) tables.set(loop, table = []);
  table[fd] = transport;
}

/** `transport` has let go of `fd` (a transport made since for a reused fd number stays). */
export function unregisterTransport(loop: object, fd: number, transport: Owner): void {
  const table = tables.get(loop);
  if (table !== undefined && table[fd] === transport) table[fd] = undefined;
}

/** RuntimeError if a transport that is not closing owns `fd` on `loop`. */
export function ensureFdNoTransport(loop: object, fd: number): void {
  const transport = tables.get(loop)?.[fd];
  if (transport !== undefined && !transport.isClosing()) {
    throw new RuntimeError(`File descriptor ${fd} is used by transport ${transport}`);
  }
}
