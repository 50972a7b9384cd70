/**
 * The socket calls of loop/net/socket.ts on Linux, macOS and FreeBSD: each is the libc call of the
 * same name, its -1/errno result turned into -errno (loop/net/socket_calls.ts). Where the OS's table
 * (ffi/os/) says socket(2) takes no SOCK_CLOEXEC/SOCK_NONBLOCK flags and there is no accept4
 * (macOS), the fd gets them from fcntl(2) right after; where SIGPIPE is suppressed per socket
 * (macOS SO_NOSIGPIPE), new sockets get that option too. Where there is no SO_DOMAIN or
 * SO_PROTOCOL (macOS), getsockopt answers them itself (derivedSocketIdentity), so a Socket
 * around an existing fd learns its family and protocol on every OS.
 */
import { F_GETFL, F_SETFL, lastErrno, libc, O_NONBLOCK, setCloseOnExec } from "../ffi/libc.ts";
import { osTable } from "../ffi/os/current.ts";
import type { OsTable } from "../ffi/os/table.ts";
import { sockaddrCodec } from "../ffi/sockaddr.ts";
import {
  ABSENT_SO_DOMAIN, ABSENT_SO_PROTOCOL, AF_UNIX, SOCK_CLOEXEC, SOCK_NONBLOCK, SOL_SOCKET,
} from "../ffi/socket_constants.ts";
import type { SocketCalls } from "../loop/net/socket_calls.ts";

function result(r: number): number {
  return r < 0 ? -lastErrno() : r;
}

const typeFlags = osTable.has.socketTypeFlags;
const SO_NOSIGPIPE = osTable.has.soNoSigpipe ? osTable.constants.SO_NOSIGPIPE : null;
const one = new Int32Array([1]);

/**
 * Give a new fd what the OS could not set at creation: close-on-exec, O_NONBLOCK if
 * `nonBlocking`, SO_NOSIGPIPE on a socket. On failure the fd is closed and -errno returned.
 */
function finishFd(fd: number, nonBlocking: boolean, socket: boolean): number {
  if (fd < 0) return fd;
  let r = typeFlags ? 0 : setCloseOnExec(fd);
  if (r >= 0 && nonBlocking && !typeFlags) r = setNonBlocking(fd, true);
  if (r >= 0 && socket && SO_NOSIGPIPE !== null) {
    r = libc.setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, one, 4);
  }
  if (r < 0) {
    const err = -lastErrno();
    libc.close(fd);
    return err;
  }
  return fd;
}

function setNonBlocking(fd: number, nonBlocking: boolean): number {
  const flags = libc.fcntl(fd, F_GETFL, 0);
  if (flags < 0) return -lastErrno();
  const wanted = nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  return wanted === flags ? 0 : result(libc.fcntl(fd, F_SETFL, wanted));
}

/** The two calls derivedSocketIdentity builds on. */
export type SocketQueryCalls = Pick<SocketCalls, "getsockopt" | "getsockname">;

/**
 * `calls.getsockopt`, except that where `table`'s OS has no SO_DOMAIN / SO_PROTOCOL (macOS;
 * ffi/socket_constants.ts gives them ABSENT_* numbers there) SOL_SOCKET queries for them are
 * answered here:
 * - the family is the sa_family getsockname(2) reports: every socket has one, bound or not
 *   (an unbound BSD AF_UNIX socket reports an empty sockaddr_un: uipc_usrreq.c sun_noname);
 * - the protocol follows from family and SO_TYPE as Linux's SO_PROTOCOL reports it: IPPROTO_TCP
 *   for an inet stream, IPPROTO_UDP for an inet datagram socket, 0 otherwise (a raw socket's
 *   protocol cannot be recovered: 0, as CPython reports every protocol there).
 * Other options go to `calls.getsockopt` unchanged. `table` and `calls` are parameters so tests
 * run macOS's decoding on Linux.
 */
export function derivedSocketIdentity(table: OsTable, calls: SocketQueryCalls): SocketCalls["getsockopt"] {
  const K = table.constants;
  if (K.SO_DOMAIN !== null && K.SO_PROTOCOL !== null) return calls.getsockopt;
  const codec = sockaddrCodec(table);
  const addr = new Uint8Array(table.layouts.sockaddrStorage);
  const addrLen = new Uint32Array(1);
  const typeValue = new Int32Array(1);
  const typeLen = new Uint32Array(1);
  const inet = [K.AF_INET, K.AF_INET6];
  function familyOf(fd: number): number {
    addrLen[0] = addr.byteLength;
    const r = calls.getsockname(fd, addr, addrLen);
    if (r < 0) return r;
    // Fewer bytes than sa_len + sa_family (or Linux's u16 family): no family to read.
    return addrLen[0] < 2 ? -table.errno.ENOPROTOOPT : codec.readFamily(addr);
  }
  return (fd, level, name, value, len) => {
    const domain = K.SO_DOMAIN === null && name === ABSENT_SO_DOMAIN;
    const protocol = K.SO_PROTOCOL === null && name === ABSENT_SO_PROTOCOL;
    if (level !== K.SOL_SOCKET || (!domain && !protocol)) return calls.getsockopt(fd, level, name, value, len);
    if (len[0]! < 4) return -table.errno.EINVAL;
    let answer = familyOf(fd);
    if (answer < 0) return answer;
    if (protocol) {
      typeLen[0] = 4;
      const r = calls.getsockopt(fd, K.SOL_SOCKET!, K.SO_TYPE!, typeValue, typeLen);
      if (r < 0) return r;
      const isInet = inet.includes(answer);
      answer = !isInet ? 0 : typeValue[0] === K.SOCK_STREAM ? K.IPPROTO_TCP! : typeValue[0] === K.SOCK_DGRAM ? K.IPPROTO_UDP! : 0;
    }
    new DataView(value.buffer, value.byteOffset, 4).setInt32(0, answer, true);
    len[0] = 4;
    return 0;
  };
}

/** The C library's socket calls. */
export const posixSocketCalls: SocketCalls = {
  socket: (family, type, proto) =>
    typeFlags
      ? result(libc.socket(family, type | SOCK_CLOEXEC, proto))
      : finishFd(result(libc.socket(family, type, proto)), false, true),
  pairFamily: AF_UNIX,
  socketpair(family, type, proto, fds) {
    if (typeFlags) return result(libc.socketpair(family, type | SOCK_CLOEXEC, proto, fds));
    const r = result(libc.socketpair(family, type, proto, fds));
    if (r < 0) return r;
    const [first, second] = [fds[0]!, fds[1]!]; // socketpair(2) filled both
    const a = finishFd(first, false, true);
    if (a < 0) {
      libc.close(second);
      return a;
    }
    const b = finishFd(second, false, true);
    if (b < 0) libc.close(first);
    return b < 0 ? b : r;
  },
  bind: (fd, addr, len) => result(libc.bind(fd, addr, len)),
  listen: (fd, backlog) => result(libc.listen(fd, backlog)),
  accept: (fd, addr, addrLen, nonBlocking) =>
    osTable.has.accept4
      ? result(libc.accept4(fd, addr, addrLen, SOCK_CLOEXEC | (nonBlocking ? SOCK_NONBLOCK : 0)))
      : finishFd(result(libc.accept(fd, addr, addrLen)), nonBlocking, true),
  connect: (fd, addr, len) => result(libc.connect(fd, addr, len)),
  getsockname: (fd, addr, addrLen) => result(libc.getsockname(fd, addr, addrLen)),
  getpeername: (fd, addr, addrLen) => result(libc.getpeername(fd, addr, addrLen)),
  shutdown: (fd, how) => result(libc.shutdown(fd, how)),
  setsockopt: (fd, level, name, value, len) => result(libc.setsockopt(fd, level, name, value, len)),
  getsockopt: derivedSocketIdentity(osTable, {
    getsockname: (fd, addr, addrLen) => result(libc.getsockname(fd, addr, addrLen)),
    getsockopt: (fd, level, name, value, len) => result(libc.getsockopt(fd, level, name, value, len)),
  }),
  send: (fd, buf, len, flags) => result(libc.send(fd, buf, len, flags)),
  recv: (fd, buf, len, flags) => result(libc.recv(fd, buf, len, flags)),
  sendto: (fd, buf, len, flags, addr, addrLen) => result(libc.sendto(fd, buf, len, flags, addr, addrLen)),
  recvfrom: (fd, buf, len, flags, addr, addrLen) => result(libc.recvfrom(fd, buf, len, flags, addr, addrLen)),
  close: (fd) => result(libc.close(fd)),
  setNonBlocking,
  isNonBlocking(fd) {
    const flags = libc.fcntl(fd, F_GETFL, 0);
    return flags < 0 ? -lastErrno() : (flags & O_NONBLOCK) ? 1 : 0;
  },
};

/** A pipe [read end, write end], both close-on-exec (pipe2(O_CLOEXEC), or pipe + fcntl). */
export function closeOnExecPipe(fds: Int32Array): number {
  if (osTable.has.pipe2) return result(libc.pipe2(fds, osTable.constants.O_CLOEXEC!));
  const r = result(libc.pipe(fds));
  if (r < 0) return r;
  for (let i = 0; i < 2; i++) {
    if (setCloseOnExec(fds[i]!) < 0) {
      const err = -lastErrno();
      libc.close(fds[0]);
      libc.close(fds[1]);
      return err;
    }
  }
  return 0;
}
