/**
 * The loop's low-level socket coroutines (asyncio loop.sock_recv, sock_sendall, sock_connect,
 * sock_accept, …), as selector_events.py writes them: try the call at once; if the socket is
 * not ready (EAGAIN), watch the fd (addReader/addWriter), retry from the readiness callback and
 * complete a Future; stop watching when the Future is done, also when it is cancelled.
 *
 * The socket must be non-blocking (ValueError otherwise, checked from the mode the Socket
 * recorded, without a system call). recv/send calls also pass MSG_DONTWAIT, so a socket made
 * blocking behind the Socket's back still cannot stall the loop there. A would-block result
 * travels as a value, not an exception: the retry path builds no Error.
 *
 * A call's watcher is removed when it ends only if it is still the fd's current one: a
 * cancelled call ends after the next call on the same fd has put its own watcher there.
 */
import { EAGAIN, EALREADY, EINPROGRESS, EINTR, osError } from "../../ffi/libc.ts";
import { formatAddress, isIpAddress, type AddressLike, type SockAddr } from "../../ffi/sockaddr.ts";
import { AF_INET, AF_INET6, MSG_DONTWAIT, SO_ERROR, SOL_SOCKET } from "../../ffi/socket_constants.ts";
import { asBytes, type BytesLike } from "../core/bytes.ts";
import { ValueError } from "../core/errors.ts";
import type { AbstractEventLoop, AbstractFuture, AbstractHandle } from "../core/abstract_loop.ts";
import { lastAddress, Socket } from "./socket.ts";

/**
 * @ignore What these calls need of their loop (SockOpsLoop): watchers of its own fds
 * that hand back the watcher's Handle, so that a call ending removes only its own watcher.
 */
export interface SockOpsLoop extends AbstractEventLoop {
  /** Watch `fd` for reading; the watcher's handle. */
  _addReader<A extends unknown[]>(fd: number, callback: (...args: A) => unknown, ...args: A): AbstractHandle;
  /** Watch `fd` for writing; the watcher's handle. */
  _addWriter<A extends unknown[]>(fd: number, callback: (...args: A) => unknown, ...args: A): AbstractHandle;
}

/** @ignore What an attempt returns when the socket is not ready: wait for readiness and try again. */
export const WOULD_BLOCK: unique symbol = Symbol("would block");
/** @ignore One try of a socket call: its result, or WOULD_BLOCK. */
export type Attempt<T> = () => T | typeof WOULD_BLOCK;

const READ = 0;
/** @ignore untilDone's direction: wait for writability. */
export const WRITE = 1;

/**
 * @ignore Run `attempt` now (unless `waitFirst`), and again on each readiness of `fd` until it
 * returns something else.
 */
export async function untilDone<T>(
  loop: SockOpsLoop,
  fd: number,
  direction: typeof READ | typeof WRITE,
  attempt: Attempt<T>,
  waitFirst = false,
): Promise<T> {
  if (!waitFirst) {
    const first = attempt();
    if (first !== WOULD_BLOCK) return first;
  }
  const fut = loop.createFuture<T>();
  const handle = direction === READ
    ? loop._addReader(fd, retry, fut, attempt)
    : loop._addWriter(fd, retry, fut, attempt);
  try {
    return await fut;
  } finally {
    // Done, failed or cancelled: no watcher may outlive the call. But a newer call on this fd
    // may have replaced ours meanwhile (which cancelled our handle): its watcher stays.
    if (!handle.cancelled()) {
      if (direction === READ) loop._removeReader(fd);
      else loop._removeWriter(fd);
    }
  }
}

/** The readiness callback: retry; settle the Future unless it would still block. */
function retry<T>(fut: AbstractFuture<T>, attempt: Attempt<T>): void {
  if (fut.done()) return; // cancelled, or settled earlier in this iteration
  let r: T | typeof WOULD_BLOCK;
  try {
    r = attempt();
  } catch (e) {
    fut.setException(e);
    return;
  }
  if (r !== WOULD_BLOCK) fut.setResult(r);
}

/** @ignore The fd of a non-blocking, open Socket; TypeError/ValueError naming the problem. */
export function checkSocket(sock: Socket, method: string): number {
  if (!(sock instanceof Socket)) {
    throw new TypeError(`${method}() needs a Socket, got ${sock === null ? "null" : typeof sock}`);
  }
  if (sock._isBlocking()) throw new ValueError("the socket must be non-blocking");
  const fd = sock.fileno();
  if (fd < 0) throw new ValueError("I/O operation on closed socket (bad file descriptor)");
  return fd;
}

/** @ignore `n` if it is a non-negative integer; ValueError naming `what` otherwise. */
export function checkCount(n: unknown, what: string): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new ValueError(`${what} must be a non-negative integer, got ${String(n)}`);
  }
  return n;
}

/** -EAGAIN → WOULD_BLOCK, another -errno → OSError, else the count. */
function countOrWait(r: number, context: string): number | typeof WOULD_BLOCK {
  if (r >= 0) return r;
  if (r === -EAGAIN) return WOULD_BLOCK;
  throw osError(context, -r);
}

/** Receive up to `nbytes` bytes (asyncio sock_recv); an empty array means the peer closed. */
export async function sockRecv(loop: SockOpsLoop, sock: Socket, nbytes: number): Promise<Uint8Array> {
  const fd = checkSocket(sock, "sockRecv");
  checkCount(nbytes, "sockRecv() nbytes");
  const buf = new Uint8Array(nbytes);
  const n = await untilDone(loop, fd, READ, recvAttempt(sock, buf, "recv"));
  return n === nbytes ? buf : buf.subarray(0, n);
}

/** @ignore One recv(2) into all of `buf` (`what` names the call in errors). */
export function recvAttempt(sock: Socket, buf: Uint8Array, what: string): Attempt<number> {
  return () => countOrWait(sock._recvRaw(buf, buf.byteLength, MSG_DONTWAIT), what);
}

/** Receive into `buf` and return the count (asyncio sock_recv_into). */
export async function sockRecvInto(loop: SockOpsLoop, sock: Socket, buf: BytesLike): Promise<number> {
  const fd = checkSocket(sock, "sockRecvInto");
  const bytes = asBytes(buf, "sockRecvInto() buffer");
  return untilDone(loop, fd, READ, recvAttempt(sock, bytes, "recv_into"));
}

/** Receive a datagram and its sender (asyncio sock_recvfrom): `[data, address]`. */
export async function sockRecvfrom(
  loop: SockOpsLoop,
  sock: Socket,
  bufsize: number,
): Promise<[Uint8Array, SockAddr]> {
  const fd = checkSocket(sock, "sockRecvfrom");
  checkCount(bufsize, "sockRecvfrom() bufsize");
  const buf = new Uint8Array(bufsize);
  const [n, address] = await untilDone(loop, fd, READ, () => recvfromAttempt(sock, buf, bufsize));
  return [n === bufsize ? buf : buf.subarray(0, n), address];
}

/**
 * Receive a datagram into `buf` (at most `nbytes`, 0: all of it) (asyncio sock_recvfrom_into):
 * `[count, address]`.
 */
export async function sockRecvfromInto(
  loop: SockOpsLoop,
  sock: Socket,
  buf: BytesLike,
  nbytes = 0,
): Promise<[number, SockAddr]> {
  const fd = checkSocket(sock, "sockRecvfromInto");
  const bytes = asBytes(buf, "sockRecvfromInto() buffer");
  checkCount(nbytes, "sockRecvfromInto() nbytes");
  if (nbytes > bytes.byteLength) throw new ValueError("sockRecvfromInto(): buffer too small for requested bytes");
  const size = nbytes || bytes.byteLength;
  return untilDone(loop, fd, READ, () => recvfromAttempt(sock, bytes, size));
}

/** @ignore One recvfrom(2) into buf[0, size): [count, sender], or WOULD_BLOCK. */
export function recvfromAttempt(sock: Socket, buf: Uint8Array, size: number): [number, SockAddr] | typeof WOULD_BLOCK {
  const n = countOrWait(sock._recvfromRaw(buf, size, MSG_DONTWAIT), "recvfrom");
  // The sender sits in the shared address buffer only until the next call: decode it now.
  return n === WOULD_BLOCK ? n : [n, lastAddress()];
}

/**
 * Send all of `data` (asyncio sock_sendall), waiting for writability as often as needed.
 * `data` is not copied: leave it unchanged until the returned Promise settles.
 */
export async function sockSendall(loop: SockOpsLoop, sock: Socket, data: BytesLike): Promise<void> {
  const fd = checkSocket(sock, "sockSendall");
  const bytes = asBytes(data);
  return untilDone(loop, fd, WRITE, sendallAttempt(sock, bytes));
}

/** @ignore send(2) of what is left of `bytes`, as often as the kernel takes some; done when all is sent. */
export function sendallAttempt(sock: Socket, bytes: Uint8Array): Attempt<undefined> {
  const total = bytes.byteLength;
  let sent = 0;
  return () => {
    // Keep writing while the kernel takes bytes: one readiness event can drain many chunks.
    while (sent < total) {
      const n = countOrWait(sock._sendRaw(bytes, sent, total - sent, MSG_DONTWAIT), "send");
      if (n === WOULD_BLOCK) return n;
      sent += n;
    }
    return undefined;
  };
}

/** Send a datagram to `address` (asyncio sock_sendto); returns the count sent. */
export async function sockSendto(
  loop: SockOpsLoop,
  sock: Socket,
  data: BytesLike,
  address: AddressLike,
): Promise<number> {
  const fd = checkSocket(sock, "sockSendto");
  const bytes = asBytes(data);
  return untilDone(loop, fd, WRITE, () =>
    countOrWait(sock._sendtoRaw(bytes, MSG_DONTWAIT, address), `sendto ${formatAddress(address)}`)
  );
}

/**
 * @ignore sockConnect()'s rule (asyncio's too): for AF_INET/AF_INET6 the host must be an IP literal,
 * a host name is a ValueError pointing to loop.getaddrinfo().
 */
export function checkResolved(sock: Socket, address: AddressLike): void {
  if ((sock.family === AF_INET || sock.family === AF_INET6) && Array.isArray(address)) {
    const host = address[0];
    if (typeof host === "string" && host !== "" && !isIpAddress(host)) {
      throw new ValueError(
        `sockConnect(): address must be resolved, '${host}' is not an IP address (use loop.getaddrinfo())`,
      );
    }
  }
}

/**
 * Connect to `address` (asyncio sock_connect). The address must be resolved: for AF_INET and
 * AF_INET6 the host must be an IP literal (ValueError otherwise; resolve with
 * loop.getaddrinfo()). A refused connection is OSError ECONNREFUSED (read from SO_ERROR once the
 * socket turns writable).
 */
export async function sockConnect(loop: SockOpsLoop, sock: Socket, address: AddressLike): Promise<void> {
  const fd = checkSocket(sock, "sockConnect");
  checkResolved(sock, address);
  if (connectStarted(sock, address)) return;
  // SO_ERROR is meaningful only once the socket turns writable: read earlier, it says 0 while
  // the handshake is still under way (and would consume an error about to be set).
  await untilDone(loop, fd, WRITE, () => connectResult(sock, address), true);
}

/**
 * @ignore connect(2) on the non-blocking `sock`: true if connected already, false if under
 * way (wait for writability, then connectResult); OSError if refused at once.
 */
export function connectStarted(sock: Socket, address: AddressLike): boolean {
  const errno = sock.connectEx(address);
  if (errno === 0) return true;
  // EINPROGRESS: TCP handshake under way; EAGAIN: an AF_UNIX listener's backlog is full.
  if (errno !== EINPROGRESS && errno !== EAGAIN && errno !== EINTR) {
    throw osError(`connect to ${formatAddress(address)}`, errno);
  }
  return false;
}

/** @ignore Once writable: the connection's outcome from SO_ERROR (asyncio _sock_connect_cb). */
export function connectResult(sock: Socket, address: AddressLike): undefined | typeof WOULD_BLOCK {
  const err = sock.getsockopt(SOL_SOCKET, SO_ERROR);
  if (err === 0) return undefined;
  if (err === EINPROGRESS || err === EALREADY || err === EAGAIN || err === EINTR) return WOULD_BLOCK;
  throw osError(`connect to ${formatAddress(address)}`, err);
}

/**
 * Accept a connection (asyncio sock_accept): `[socket, address]`; the new socket is
 * non-blocking, like the listening one.
 */
export async function sockAccept(loop: SockOpsLoop, sock: Socket): Promise<[Socket, SockAddr]> {
  const fd = checkSocket(sock, "sockAccept");
  return untilDone(loop, fd, READ, () => acceptAttempt(sock));
}

/** @ignore One accept4(2): the new non-blocking socket and its peer, or WOULD_BLOCK. */
export function acceptAttempt(sock: Socket): [Socket, SockAddr] | typeof WOULD_BLOCK {
  const conn = sock._acceptRaw();
  if (conn === -EAGAIN) return WOULD_BLOCK;
  if (conn < 0) throw osError("accept", -conn);
  return [sock._adopt(conn), lastAddress()];
}
