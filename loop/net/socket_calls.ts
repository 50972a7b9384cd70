/**
 * The socket system calls under loop/net/socket.ts, as one interface each OS implements in
 * platform/ (posix_socket.ts: the C library; windows_socket.ts: Winsock). Socket itself stays
 * OS-neutral: it encodes addresses, retries EINTR and raises OSError.
 *
 * Vocabulary: every number in and out is Linux's (address families, socket types and flags,
 * option levels and names, MSG_* flags, errno values), the loop's one vocabulary; a backing for
 * another OS translates at its boundary. Results: a count, an fd or 0 on success, -errno on
 * failure. Addresses are the encoded sockaddr bytes of ffi/sockaddr.ts; `addrLen` arguments are
 * in/out lengths (socklen_t).
 */
export interface SocketCalls {
  /** socket(2), close-on-exec (non-inheritable); `type` may carry SOCK_NONBLOCK. */
  socket(family: number, type: number, proto: number): number;
  /**
   * The family socketpair() makes when none is given: AF_UNIX where the OS has socketpair(2),
   * AF_INET on Windows (as Python's socket.socketpair there).
   */
  readonly pairFamily: number;
  /** socketpair(2) into `fds`, close-on-exec. */
  socketpair(family: number, type: number, proto: number, fds: Int32Array): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  listen(fd: number, backlog: number): number;
  /** accept4(2): the new fd, close-on-exec, non-blocking when `nonBlocking`. */
  accept(fd: number, addr: Uint8Array, addrLen: Uint32Array, nonBlocking: boolean): number;
  connect(fd: number, addr: Uint8Array, len: number): number;
  getsockname(fd: number, addr: Uint8Array, addrLen: Uint32Array): number;
  getpeername(fd: number, addr: Uint8Array, addrLen: Uint32Array): number;
  shutdown(fd: number, how: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array | Int32Array, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: Uint8Array | Int32Array, len: Uint32Array): number;
  send(fd: number, buf: Uint8Array, len: number, flags: number): number;
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
  sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, addrLen: number): number;
  recvfrom(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, addrLen: Uint32Array): number;
  close(fd: number): number;
  /** Set (true) or clear O_NONBLOCK / FIONBIO. */
  setNonBlocking(fd: number, nonBlocking: boolean): number;
  /** 1 if non-blocking, 0 if blocking, or -errno. */
  isNonBlocking(fd: number): number;
}
