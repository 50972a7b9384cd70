/**
 * Socket: a thin object over a socket fd, shaped like Python's socket.socket. Blocking by
 * default, as in Python; the loop's sock* methods want it non-blocking (setBlocking(false)).
 *
 * `send`, `recv` and `close` are bound to the socket, like Python's bound methods, so
 * `loop.callSoon(sock.send, data)` works as the asyncio examples write it.
 */
import { check, closeFd, isNonBlocking, libc, setNonBlocking } from "../ffi/libc.ts";
import {
  AF_UNIX, MSG_NOSIGNAL, SOCK_CLOEXEC, SOCK_STREAM,
} from "../ffi/socket_constants.ts";
import { ValueError } from "./errors.ts";

export { AF_INET, AF_INET6, AF_UNIX, SOCK_DGRAM, SOCK_STREAM } from "../ffi/socket_constants.ts";

/** Bytes a send/write accepts. */
export type BytesLike = Uint8Array | ArrayBufferView | ArrayBuffer;

/** @internal A Uint8Array over the bytes of `data`, without copying. */
export function asBytes(data: BytesLike, what = "data"): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`${what} must be a bytes-like object (Uint8Array), got ${typeof data}`);
}

/** A socket (Python's socket.socket). */
export class Socket {
  readonly family: number;
  readonly type: number;
  readonly proto: number;
  private fd: number;

  /**
   * A new socket, or (with `fileno`) an object around an existing socket fd, which it then owns.
   */
  constructor(family: number = AF_UNIX, type: number = SOCK_STREAM, proto = 0, fileno?: number) {
    this.family = family;
    this.type = type;
    this.proto = proto;
    this.fd = fileno ?? check(libc.socket(family, type | SOCK_CLOEXEC, proto), "socket");
    this.send = this.send.bind(this);
    this.recv = this.recv.bind(this);
    this.close = this.close.bind(this);
  }

  /** The fd, or -1 once closed (Python fileno). */
  fileno(): number {
    return this.fd;
  }

  /** Blocking (true) or non-blocking (false) mode (Python setblocking). */
  setBlocking(flag: boolean): void {
    setNonBlocking(this.openFd(), !flag);
  }

  /** True if the socket is in blocking mode (Python getblocking). */
  getBlocking(): boolean {
    return !isNonBlocking(this.openFd());
  }

  /**
   * Send bytes; returns how many were sent (Python send). A non-blocking socket with a full
   * buffer throws OSError EAGAIN.
   */
  send(data: BytesLike, flags = 0): number {
    const bytes = asBytes(data);
    return check(libc.send(this.openFd(), bytes, bytes.byteLength, flags | MSG_NOSIGNAL), "send");
  }

  /**
   * Receive up to `bufsize` bytes (Python recv); an empty array means the peer closed. A
   * non-blocking socket with nothing to read throws OSError EAGAIN.
   */
  recv(bufsize: number, flags = 0): Uint8Array {
    if (!Number.isInteger(bufsize) || bufsize < 0) {
      throw new ValueError(`recv() bufsize must be a non-negative integer, got ${bufsize}`);
    }
    const buf = new Uint8Array(bufsize);
    const n = check(libc.recv(this.openFd(), buf, bufsize, flags), "recv");
    return n === bufsize ? buf : buf.subarray(0, n);
  }

  /** Close the socket; idempotent (Python close). */
  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    closeFd(fd);
  }

  /** Give up the fd without closing it and return it (Python detach). */
  detach(): number {
    const fd = this.fd;
    this.fd = -1;
    return fd;
  }

  private openFd(): number {
    if (this.fd < 0) throw new ValueError("I/O operation on closed socket (bad file descriptor)");
    return this.fd;
  }
}

/** A pair of connected sockets (Python socket.socketpair); AF_UNIX stream by default. */
export function socketpair(
  family: number = AF_UNIX,
  type: number = SOCK_STREAM,
  proto = 0,
): [Socket, Socket] {
  const fds = new Int32Array(2);
  check(libc.socketpair(family, type | SOCK_CLOEXEC, proto, fds), "socketpair");
  return [new Socket(family, type, proto, fds[0]), new Socket(family, type, proto, fds[1])];
}
