/**
 * The socket calls of loop/socket.ts on Linux (and any POSIX C library): each is the libc call
 * of the same name, its -1/errno result turned into -errno (loop/socket_calls.ts).
 */
import { F_GETFL, F_SETFL, lastErrno, libc, O_NONBLOCK } from "../ffi/libc.ts";
import { AF_UNIX, SOCK_CLOEXEC, SOCK_NONBLOCK } from "../ffi/socket_constants.ts";
import type { SocketCalls } from "../loop/socket_calls.ts";

function result(r: number): number {
  return r < 0 ? -lastErrno() : r;
}

/** The C library's socket calls. */
export const posixSocketCalls: SocketCalls = {
  socket: (family, type, proto) => result(libc.socket(family, type | SOCK_CLOEXEC, proto)),
  pairFamily: AF_UNIX,
  socketpair: (family, type, proto, fds) => result(libc.socketpair(family, type | SOCK_CLOEXEC, proto, fds)),
  bind: (fd, addr, len) => result(libc.bind(fd, addr, len)),
  listen: (fd, backlog) => result(libc.listen(fd, backlog)),
  accept: (fd, addr, addrLen, nonBlocking) =>
    result(libc.accept4(fd, addr, addrLen, SOCK_CLOEXEC | (nonBlocking ? SOCK_NONBLOCK : 0))),
  connect: (fd, addr, len) => result(libc.connect(fd, addr, len)),
  getsockname: (fd, addr, addrLen) => result(libc.getsockname(fd, addr, addrLen)),
  getpeername: (fd, addr, addrLen) => result(libc.getpeername(fd, addr, addrLen)),
  shutdown: (fd, how) => result(libc.shutdown(fd, how)),
  setsockopt: (fd, level, name, value, len) => result(libc.setsockopt(fd, level, name, value, len)),
  getsockopt: (fd, level, name, value, len) => result(libc.getsockopt(fd, level, name, value, len)),
  send: (fd, buf, len, flags) => result(libc.send(fd, buf, len, flags)),
  recv: (fd, buf, len, flags) => result(libc.recv(fd, buf, len, flags)),
  sendto: (fd, buf, len, flags, addr, addrLen) => result(libc.sendto(fd, buf, len, flags, addr, addrLen)),
  recvfrom: (fd, buf, len, flags, addr, addrLen) => result(libc.recvfrom(fd, buf, len, flags, addr, addrLen)),
  close: (fd) => result(libc.close(fd)),
  setNonBlocking(fd, nonBlocking) {
    const flags = libc.fcntl(fd, F_GETFL, 0);
    if (flags < 0) return -lastErrno();
    const wanted = nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    return wanted === flags ? 0 : result(libc.fcntl(fd, F_SETFL, wanted));
  },
  isNonBlocking(fd) {
    const flags = libc.fcntl(fd, F_GETFL, 0);
    return flags < 0 ? -lastErrno() : (flags & O_NONBLOCK) ? 1 : 0;
  },
};
