/**
 * The socket calls of loop/net/socket.ts on Windows: Winsock 2 (ffi/ws2_32.ts), translated to and
 * from the loop's Linux vocabulary (loop/net/socket_calls.ts).
 *
 * - Sockets are made with WSASocketW(WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT): usable
 *   by the IOCP proactor, and not inherited by child processes (Linux's SOCK_CLOEXEC).
 * - Errors: WSAGetLastError() mapped to errno by platform/windows.ts's errnoOf.
 * - Addresses: sa_family AF_INET6 is 10 in the loop and 23 in ws2def.h; it is translated in the
 *   caller's address buffer on the way in (the loop re-encodes it for every call) and out.
 * - Non-blocking mode: ioctlsocket(FIONBIO). Winsock cannot read that mode back (winsock2.h
 *   has no query for it), so it is remembered per socket (windows.ts nonBlockingSockets).
 * - SO_REUSEADDR / SO_REUSEPORT: Linux's SO_REUSEADDR (bind over connections in TIME_WAIT, never
 *   over a socket in use) is what Windows does without any option, and Windows's SO_REUSEADDR
 *   (share a port another socket has bound) is Linux's SO_REUSEPORT. So SO_REUSEADDR is
 *   remembered and not passed on, and SO_REUSEPORT becomes Windows's SO_REUSEADDR (MSDN: "Using
 *   SO_REUSEADDR and SO_EXCLUSIVEADDRUSE"). EADDRINUSE then means what it means on Linux. On a
 *   UDP socket, though, Linux's SO_REUSEADDR does share the port (socket(7): it allows any bind
 *   but over a listening socket), so there it is passed on as Windows's SO_REUSEADDR too.
 * - Multicast: IP_MULTICAST_IF/TTL/LOOP, IP_ADD/DROP_MEMBERSHIP, IPV6_MULTICAST_IF/HOPS/LOOP and
 *   IPV6_JOIN/LEAVE_GROUP have other numbers there (ws2ipdef.h, below). Their values keep
 *   Linux's layouts: `ip_mreq` is the same 8 bytes, `ipv6_mreq` the same 20 (ws2ipdef.h's
 *   ipv6mr_interface is a ULONG, 4 bytes as Linux's unsigned int), and the TTL, loop and hop
 *   options take a DWORD, so a one-byte value (which Linux also takes for the IPv4 TTL and
 *   loop, ip(7)) is widened to four. IP_MULTICAST_IF takes an in_addr there; Linux also takes
 *   an ip_mreq or ip_mreqn, whose interface address (and, from an ip_mreqn, a nonzero index,
 *   which Windows reads as an address in 0.0.0.0/8: MSDN "IPPROTO_IP socket options") is what
 *   is passed on.
 * - close() releases the socket from every open IOCP proactor before closesocket (handle
 *   values are recycled; see IocpProactor.releaseHandle).
 */
import { LINUX_ERRNO } from "../ffi/errno_linux.ts";
import {
  FIONBIO, SOCKET_ERROR, WIN_IPPROTO_IPV6, WIN_IPV6_V6ONLY, WIN_MSG_OOB_PEEK_DONTROUTE,
  WIN_MSG_WAITALL, WIN_SO_BROADCAST, WIN_SO_ERROR, WIN_SO_KEEPALIVE, WIN_SO_LINGER,
  WIN_SO_RCVBUF, WIN_SO_REUSEADDR, WIN_SO_SNDBUF, WIN_SO_TYPE, WIN_SOL_SOCKET, WIN_TCP_KEEPCNT,
  WIN_SO_PROTOCOL_INFOW, WIN_TCP_KEEPIDLE, WIN_TCP_KEEPINTVL, WIN_TCP_NODELAY, ws2,
  WSA_FLAG_NO_HANDLE_INHERIT, WSA_FLAG_OVERLAPPED, WSAPROTOCOL_INFOW_FAMILY,
  WSAPROTOCOL_INFOW_PROTOCOL, WSAPROTOCOL_INFOW_SIZE,
} from "../ffi/ws2_32.ts";
import {
  AF_INET, AF_INET6, IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP, IP_MULTICAST_IF, IP_MULTICAST_LOOP,
  IP_MULTICAST_TTL, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPV6_JOIN_GROUP, IPV6_LEAVE_GROUP,
  IPV6_MULTICAST_HOPS, IPV6_MULTICAST_IF, IPV6_MULTICAST_LOOP, IPV6_V6ONLY, MSG_WAITALL, SO_BROADCAST, SO_ERROR,
  SO_DOMAIN, SO_KEEPALIVE, SO_LINGER, SO_PROTOCOL, SO_RCVBUF, SO_REUSEADDR, SO_REUSEPORT,
  SO_SNDBUF, SO_TYPE,
  SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_NODELAY,
} from "../ffi/socket_constants.ts";
import { encodeSockaddr, SOCKADDR_STORAGE_SIZE } from "../ffi/sockaddr.ts";
import type { SocketCalls } from "../loop/net/socket_calls.ts";
import {
  errnoOf, familyFromWindows, familyToWindows, nonBlockingSockets, releaseFromProactors,
} from "./windows.ts";

// <asm-generic/errno.h>: what the translation itself reports.

const { EAFNOSUPPORT, ENOPROTOOPT, EOPNOTSUPP, EINVAL, ECONNABORTED, EAGAIN, EINPROGRESS } = LINUX_ERRNO;
/** ws2def.h: `AF_INET6` 23. */
const WIN_AF_INET6 = 23;

// ws2ipdef.h (MinGW-w64's, as Windows SDK's; golang.org/x/net ipv4/ipv6 zsys_windows.go agree):
// the multicast options, at levels IPPROTO_IP (0, as Linux) and IPPROTO_IPV6 (41, as Linux).
/** ws2ipdef.h: `IP_MULTICAST_IF` 9 (an in_addr). */
const WIN_IP_MULTICAST_IF = 9;
/** ws2ipdef.h: `IP_MULTICAST_TTL` 10 (a DWORD). */
const WIN_IP_MULTICAST_TTL = 10;
/** ws2ipdef.h: `IP_MULTICAST_LOOP` 11 (a DWORD). */
const WIN_IP_MULTICAST_LOOP = 11;
/** ws2ipdef.h: `IP_ADD_MEMBERSHIP` 12 (an ip_mreq). */
const WIN_IP_ADD_MEMBERSHIP = 12;
/** ws2ipdef.h: `IP_DROP_MEMBERSHIP` 13 (an ip_mreq). */
const WIN_IP_DROP_MEMBERSHIP = 13;
/** ws2ipdef.h: `IPV6_MULTICAST_IF` 9 (a DWORD interface index). */
const WIN_IPV6_MULTICAST_IF = 9;
/** ws2ipdef.h: `IPV6_MULTICAST_HOPS` 10 (a DWORD). */
const WIN_IPV6_MULTICAST_HOPS = 10;
/** ws2ipdef.h: `IPV6_MULTICAST_LOOP` 11 (a DWORD). */
const WIN_IPV6_MULTICAST_LOOP = 11;
/** ws2ipdef.h: `IPV6_ADD_MEMBERSHIP` 12, also named `IPV6_JOIN_GROUP` (an ipv6_mreq). */
const WIN_IPV6_JOIN_GROUP = 12;
/** ws2ipdef.h: `IPV6_DROP_MEMBERSHIP` 13, also named `IPV6_LEAVE_GROUP` (an ipv6_mreq). */
const WIN_IPV6_LEAVE_GROUP = 13;

/** ws2def.h's address family number in the loop's (Linux's) numbering. */
function familyFromWindowsNumber(family: number): number {
  return family === WIN_AF_INET6 ? AF_INET6 : family;
}

/** Per socket: what Winsock cannot be asked (see the module comment). */
interface SocketState {
  reuseAddress: boolean;
}
const states = new Map<number, SocketState>();

function state(fd: number): SocketState {
  let s = states.get(fd);
  if (s === undefined) states.set(fd, s = { reuseAddress: false });
  return s;
}

function fail(): number {
  return -errnoOf(ws2().WSAGetLastError());
}

function ok(r: number): number {
  return r === SOCKET_ERROR ? fail() : r;
}

/** `[level, name]` in Winsock's numbering; name -1 when Windows has no such option. */
function optionToWindows(level: number, name: number): [number, number] {
  if (level === SOL_SOCKET) {
    switch (name) {
      case SO_REUSEPORT: return [WIN_SOL_SOCKET, WIN_SO_REUSEADDR];
      case SO_TYPE: return [WIN_SOL_SOCKET, WIN_SO_TYPE];
      case SO_ERROR: return [WIN_SOL_SOCKET, WIN_SO_ERROR];
      case SO_BROADCAST: return [WIN_SOL_SOCKET, WIN_SO_BROADCAST];
      case SO_SNDBUF: return [WIN_SOL_SOCKET, WIN_SO_SNDBUF];
      case SO_RCVBUF: return [WIN_SOL_SOCKET, WIN_SO_RCVBUF];
      case SO_KEEPALIVE: return [WIN_SOL_SOCKET, WIN_SO_KEEPALIVE];
      case SO_LINGER: return [WIN_SOL_SOCKET, WIN_SO_LINGER];
      default: return [WIN_SOL_SOCKET, -1];
    }
  }
  if (level === IPPROTO_TCP) {
    switch (name) {
      case TCP_NODELAY: return [IPPROTO_TCP, WIN_TCP_NODELAY];
      case TCP_KEEPIDLE: return [IPPROTO_TCP, WIN_TCP_KEEPIDLE];
      case TCP_KEEPINTVL: return [IPPROTO_TCP, WIN_TCP_KEEPINTVL];
      case TCP_KEEPCNT: return [IPPROTO_TCP, WIN_TCP_KEEPCNT];
      default: return [IPPROTO_TCP, -1];
    }
  }
  if (level === IPPROTO_IP) {
    switch (name) {
      case IP_MULTICAST_IF: return [IPPROTO_IP, WIN_IP_MULTICAST_IF];
      case IP_MULTICAST_TTL: return [IPPROTO_IP, WIN_IP_MULTICAST_TTL];
      case IP_MULTICAST_LOOP: return [IPPROTO_IP, WIN_IP_MULTICAST_LOOP];
      case IP_ADD_MEMBERSHIP: return [IPPROTO_IP, WIN_IP_ADD_MEMBERSHIP];
      case IP_DROP_MEMBERSHIP: return [IPPROTO_IP, WIN_IP_DROP_MEMBERSHIP];
      default: return [IPPROTO_IP, -1];
    }
  }
  if (level === IPPROTO_IPV6) {
    switch (name) {
      case IPV6_V6ONLY: return [WIN_IPPROTO_IPV6, WIN_IPV6_V6ONLY];
      case IPV6_MULTICAST_IF: return [WIN_IPPROTO_IPV6, WIN_IPV6_MULTICAST_IF];
      case IPV6_MULTICAST_HOPS: return [WIN_IPPROTO_IPV6, WIN_IPV6_MULTICAST_HOPS];
      case IPV6_MULTICAST_LOOP: return [WIN_IPPROTO_IPV6, WIN_IPV6_MULTICAST_LOOP];
      case IPV6_JOIN_GROUP: return [WIN_IPPROTO_IPV6, WIN_IPV6_JOIN_GROUP];
      case IPV6_LEAVE_GROUP: return [WIN_IPPROTO_IPV6, WIN_IPV6_LEAVE_GROUP];
      default: return [WIN_IPPROTO_IPV6, -1];
    }
  }
  return [level, -1];
}

/**
 * The value of IPPROTO_IP option `name` (the loop's, Linux's, number) in Winsock's layout (see
 * the module comment): a one-byte IP_MULTICAST_TTL or IP_MULTICAST_LOOP as a DWORD; for
 * IP_MULTICAST_IF, the interface of an ip_mreq / ip_mreqn as an in_addr. Other values are
 * returned as they are. Exported for its tests: under Wine the bytes reach Linux's setsockopt
 * unchanged, which takes every one of these forms, so only real Windows would show the need.
 */
export function winsockMulticastValue(name: number, bytes: Uint8Array): Uint8Array {
  if (name === IP_MULTICAST_TTL || name === IP_MULTICAST_LOOP) {
    return bytes.byteLength === 1 ? new Uint8Array([bytes[0]!, 0, 0, 0]) : bytes;
  }
  if (name === IP_MULTICAST_IF && bytes.byteLength >= 8) {
    // ip_mreq { imr_multiaddr @0; imr_interface @4 } (<netinet/in.h>); ip_mreqn adds int
    // imr_ifindex @8 in host order (<linux/in.h>), which Linux prefers when it is nonzero.
    const index = bytes.byteLength >= 12
      ? new DataView(bytes.buffer, bytes.byteOffset + 8, 4).getUint32(0, true)
      : 0;
    if (index === 0) return bytes.slice(4, 8);
    // Index n as the address 0.0.0.n (network order): what Winsock reads as an index (up to 2^24).
    return new Uint8Array([index >>> 24, (index >>> 16) & 0xff, (index >>> 8) & 0xff, index & 0xff]);
  }
  return bytes;
}

/** MSG_* flags in Winsock's numbering; MSG_NOSIGNAL and MSG_DONTWAIT have no meaning there. */
function flagsToWindows(flags: number): number {
  return (flags & WIN_MSG_OOB_PEEK_DONTROUTE) | (flags & MSG_WAITALL ? WIN_MSG_WAITALL : 0);
}

function setMode(fd: number, nonBlocking: boolean): number {
  const r = ws2().ioctlsocket(fd, FIONBIO, new Uint32Array([nonBlocking ? 1 : 0]));
  if (r === SOCKET_ERROR) return fail();
  if (nonBlocking) nonBlockingSockets.add(fd);
  else nonBlockingSockets.delete(fd);
  return 0;
}

/** SO_TYPE of socket `fd` (winsock2.h's SOCK_STREAM 1 and SOCK_DGRAM 2 are Linux's), -1 on error. */
function socketType(fd: number): number {
  const type = new Int32Array(1), len = new Uint32Array([4]);
  const r = ws2().getsockopt(fd, WIN_SOL_SOCKET, WIN_SO_TYPE, new Uint8Array(type.buffer), len);
  return r === SOCKET_ERROR ? -1 : type[0]!;
}

/** After a call that filled an address: the loop's numbering, and the length it wrote. */
function addressOut(addr: Uint8Array, r: number): number {
  if (r === SOCKET_ERROR) return fail();
  familyFromWindows(addr, 0);
  return r;
}

/** Winsock's socket calls in the loop's vocabulary. */
export const windowsSocketCalls: SocketCalls = {
  socket(family, type, proto) {
    const winFamily = family === AF_INET6 ? WIN_AF_INET6 : family;
    const s = ws2().WSASocketW(winFamily, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), proto, null, 0,
      WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (s === -1) return fail();
    states.set(s, { reuseAddress: false });
    if (type & SOCK_NONBLOCK) {
      const r = setMode(s, true);
      if (r < 0) {
        this.close(s);
        return r;
      }
    }
    return s;
  },
  pairFamily: AF_INET,
  socketpair(family, type, proto, fds) {
    // Winsock has no socketpair(): as Python's socket.socketpair on Windows, listen on loopback,
    // connect to it, accept, and check the accepted peer is our own client.
    if (family !== AF_INET && family !== AF_INET6) return -EAFNOSUPPORT;
    if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) !== SOCK_STREAM) return -EOPNOTSUPP;
    const plain = type & ~SOCK_NONBLOCK;
    const listener = this.socket(family, plain, proto);
    if (listener < 0) return listener;
    let client = -1, server = -1;
    const addr = new Uint8Array(SOCKADDR_STORAGE_SIZE), peer = new Uint8Array(SOCKADDR_STORAGE_SIZE);
    const len = new Uint32Array(1);
    try {
      let r = encodeSockaddr(family, [family === AF_INET ? "127.0.0.1" : "::1", 0], addr);
      if ((r = this.bind(listener, addr, r)) < 0 || (r = this.listen(listener, 1)) < 0) return r;
      len[0] = addr.byteLength;
      if ((r = this.getsockname(listener, addr, len)) < 0) return r;
      if ((client = this.socket(family, plain, proto)) < 0) return client;
      if ((r = this.connect(client, addr, len[0])) < 0) return r;
      len[0] = peer.byteLength;
      if ((server = this.accept(listener, peer, len, false)) < 0) return server;
      const mine = new Uint8Array(SOCKADDR_STORAGE_SIZE), mineLen = new Uint32Array([mine.byteLength]);
      if ((r = this.getsockname(client, mine, mineLen)) < 0) return r;
      if (len[0] !== mineLen[0] || peer.subarray(0, len[0]).some((b, i) => b !== mine[i])) {
        return -ECONNABORTED; // another process connected first (Python raises the same)
      }
      if (type & SOCK_NONBLOCK) {
        if ((r = setMode(server, true)) < 0 || (r = setMode(client, true)) < 0) return r;
      }
      fds[0] = server;
      fds[1] = client;
      server = client = -1;
      return 0;
    } finally {
      this.close(listener);
      if (client >= 0) this.close(client);
      if (server >= 0) this.close(server);
    }
  },
  bind(fd, addr, len) {
    familyToWindows(addr, 0);
    return ok(ws2().bind(fd, addr, len));
  },
  listen: (fd, backlog) => ok(ws2().listen(fd, backlog)),
  accept(fd, addr, addrLen, nonBlocking) {
    const s = ws2().accept(fd, addr, addrLen);
    if (s === -1) return fail();
    familyFromWindows(addr, 0);
    // The accepted socket inherits the listener's mode (winsock2.h accept); set the one asked.
    const r = setMode(s, nonBlocking);
    if (r < 0) {
      this.close(s);
      return r;
    }
    return s;
  },
  connect(fd, addr, len) {
    familyToWindows(addr, 0);
    const r = ok(ws2().connect(fd, addr, len));
    // A non-blocking connect still in progress is WSAEWOULDBLOCK (MSDN "connect function
    // (winsock2.h)", Return value), which errnoOf makes EAGAIN; Linux says EINPROGRESS, and
    // Python's connect raises BlockingIOError(EINPROGRESS) for it on both.
    return r === -EAGAIN && nonBlockingSockets.has(fd) ? -EINPROGRESS : r;
  },
  getsockname: (fd, addr, addrLen) => addressOut(addr, ws2().getsockname(fd, addr, addrLen)),
  getpeername: (fd, addr, addrLen) => addressOut(addr, ws2().getpeername(fd, addr, addrLen)),
  // SD_RECEIVE, SD_SEND, SD_BOTH (winsock2.h) are SHUT_RD, SHUT_WR, SHUT_RDWR: 0, 1, 2.
  shutdown: (fd, how) => ok(ws2().shutdown(fd, how)),
  setsockopt(fd, level, name, value, len) {
    if (level === SOL_SOCKET && name === SO_REUSEADDR) {
      if (len < 4) return -EINVAL;
      const on = new DataView(value.buffer, value.byteOffset, 4).getInt32(0, true) !== 0;
      // On a UDP socket Linux's SO_REUSEADDR is what lets several sockets bind one address and
      // port (socket(7)), as multicast receivers do: Windows's SO_REUSEADDR there.
      if (socketType(fd) === SOCK_DGRAM) {
        const flag = new Uint8Array(new Int32Array([on ? 1 : 0]).buffer);
        const r = ok(ws2().setsockopt(fd, WIN_SOL_SOCKET, WIN_SO_REUSEADDR, flag, 4));
        if (r < 0) return r;
      }
      state(fd).reuseAddress = on;
      return 0;
    }
    const [winLevel, winName] = optionToWindows(level, name);
    if (winName < 0) return -ENOPROTOOPT;
    let bytes = new Uint8Array(value.buffer, value.byteOffset, len);
    if (winName === WIN_SO_LINGER && level === SOL_SOCKET) {
      // Linux: struct linger { int l_onoff; int l_linger; }; winsock2.h: two u_short.
      if (len < 8) return -EINVAL;
      const v = new DataView(bytes.buffer, bytes.byteOffset, 8);
      const out = new Uint16Array([v.getInt32(0, true) ? 1 : 0, Math.min(0xffff, v.getInt32(4, true))]);
      bytes = new Uint8Array(out.buffer);
    } else if (level === IPPROTO_IP) {
      bytes = winsockMulticastValue(name, bytes);
    }
    return ok(ws2().setsockopt(fd, winLevel, winName, bytes, bytes.byteLength));
  },
  getsockopt(fd, level, name, value, len) {
    const ints = new Int32Array(value.buffer, value.byteOffset, Math.floor(value.byteLength / 4));
    if (level === SOL_SOCKET && name === SO_REUSEADDR) {
      if (ints.length < 1) return -EINVAL;
      ints[0] = state(fd).reuseAddress ? 1 : 0;
      len[0] = 4;
      return 0;
    }
    if (level === SOL_SOCKET && (name === SO_DOMAIN || name === SO_PROTOCOL)) {
      // No such options in Winsock: read the socket's WSAPROTOCOL_INFOW (SO_PROTOCOL_INFOW).
      if (ints.length < 1) return -EINVAL;
      const info = new Uint8Array(WSAPROTOCOL_INFOW_SIZE), infoLen = new Uint32Array([info.byteLength]);
      if (ws2().getsockopt(fd, WIN_SOL_SOCKET, WIN_SO_PROTOCOL_INFOW, info, infoLen) === SOCKET_ERROR) return fail();
      const v = new DataView(info.buffer);
      ints[0] = name === SO_DOMAIN
        ? familyFromWindowsNumber(v.getInt32(WSAPROTOCOL_INFOW_FAMILY, true))
        : v.getInt32(WSAPROTOCOL_INFOW_PROTOCOL, true);
      len[0] = 4;
      return 0;
    }
    const [winLevel, winName] = optionToWindows(level, name);
    if (winName < 0) return -ENOPROTOOPT;
    if (winName === WIN_SO_LINGER && level === SOL_SOCKET) {
      // winsock2.h: struct linger { u_short l_onoff; u_short l_linger; }; Linux: two ints.
      if (ints.length < 2) return -EINVAL;
      const linger = new Uint16Array(2), lingerLen = new Uint32Array([4]);
      if (ws2().getsockopt(fd, winLevel, winName, new Uint8Array(linger.buffer), lingerLen) === SOCKET_ERROR) {
        return fail();
      }
      ints[0] = linger[0];
      ints[1] = linger[1];
      len[0] = 8;
      return 0;
    }
    const r = ws2().getsockopt(fd, winLevel, winName, value, len);
    if (r === SOCKET_ERROR) return fail();
    // A pending error is a Winsock code; the loop reads errno values.
    if (level === SOL_SOCKET && name === SO_ERROR && ints[0] !== 0) ints[0] = errnoOf(ints[0]);
    return 0;
  },
  send: (fd, buf, len, flags) => ok(ws2().send(fd, buf, len, flagsToWindows(flags))),
  recv: (fd, buf, len, flags) => ok(ws2().recv(fd, buf, len, flagsToWindows(flags))),
  sendto(fd, buf, len, flags, addr, addrLen) {
    familyToWindows(addr, 0);
    return ok(ws2().sendto(fd, buf, len, flagsToWindows(flags), addr, addrLen));
  },
  recvfrom: (fd, buf, len, flags, addr, addrLen) =>
    addressOut(addr, ws2().recvfrom(fd, buf, len, flagsToWindows(flags), addr, addrLen)),
  close(fd) {
    releaseFromProactors(fd);
    states.delete(fd);
    nonBlockingSockets.delete(fd);
    return ok(ws2().closesocket(fd));
  },
  setNonBlocking: setMode,
  isNonBlocking: (fd) => (nonBlockingSockets.has(fd) ? 1 : 0),
};
