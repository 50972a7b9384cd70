/**
 * Socket: a thin object over a socket fd (a SOCKET on Windows), shaped like Python's
 * socket.socket; the system calls are the OS's, through platform/default_socket.ts. Blocking by
 * default, as in Python; the loop's sock* functions want it non-blocking (setBlocking(false)).
 *
 * `send`, `recv` and `close` are bound to the socket, like Python's bound methods, so
 * `loop.callSoon(sock.send, data)` works as the asyncio examples write it.
 *
 * Addresses are Python's (see ffi/sockaddr.ts): `["127.0.0.1", 80]`, `["::1", 80, 0, 0]`, a path,
 * `[pid, groups]` (AF_NETLINK, Linux), `[ifname, proto, pkttype, hatype, addr]` (AF_PACKET, Linux).
 * Host names are not resolved here (Python would block in getaddrinfo): resolve them first with
 * loop.getaddrinfo(). Blocking calls are retried on EINTR, as Python does (PEP 475).
 *
 * Encoding an address or reading one back goes through one module-level sockaddr_storage and
 * socklen_t: the JS thread runs one call at a time, so they are never in use twice, and no call
 * allocates a buffer for its address.
 */
import { EINTR, osError } from "../../ffi/libc.ts";
import {
  type AddressLike, decodeSockaddr, encodeSockaddr, formatAddress, SOCKADDR_STORAGE_SIZE,
  type SockAddr,
} from "../../ffi/sockaddr.ts";
import {
  AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_UNIX, MSG_NOSIGNAL, SO_DOMAIN, SO_PROTOCOL,
  SO_TYPE, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_RAW, SOCK_SEQPACKET, SOCK_STREAM,
  SOL_SOCKET, SOMAXCONN,
} from "../../ffi/socket_constants.ts";
import { socketCalls as os } from "../../platform/default_socket.ts";
import { asBytes, type BytesLike } from "../core/bytes.ts";
import { ValueError } from "../core/errors.ts";

export {
  AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC, AI_ADDRCONFIG, AI_ALL, AI_CANONNAME, AI_NUMERICHOST,
  AI_NUMERICSERV, AI_PASSIVE, AI_V4MAPPED, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP,
  IPV6_V6ONLY, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_PEEK, MSG_TRUNC, MSG_WAITALL, NI_DGRAM,
  NI_NAMEREQD, NI_NOFQDN, NI_NUMERICHOST, NI_NUMERICSERV, SHUT_RD, SHUT_RDWR, SHUT_WR,
  SO_BROADCAST, SO_ERROR, SO_KEEPALIVE, SO_LINGER, SO_RCVBUF, SO_REUSEADDR, SO_REUSEPORT,
  SO_SNDBUF, SO_TYPE, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_RAW, SOCK_SEQPACKET,
  SOCK_STREAM, SOL_SOCKET, SOMAXCONN, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_NODELAY,
} from "../../ffi/socket_constants.ts";
export {
  AF_NETLINK, AF_PACKET, ETH_P_ALL, IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP, IP_MULTICAST_IF,
  IP_MULTICAST_LOOP, IP_MULTICAST_TTL, IPV6_JOIN_GROUP, IPV6_LEAVE_GROUP, IPV6_MULTICAST_HOPS,
  IPV6_MULTICAST_IF, IPV6_MULTICAST_LOOP, NETLINK_ADD_MEMBERSHIP, NETLINK_AUDIT,
  NETLINK_CONNECTOR, NETLINK_CRYPTO, NETLINK_DNRTMSG, NETLINK_DROP_MEMBERSHIP, NETLINK_ECRYPTFS,
  NETLINK_FIB_LOOKUP, NETLINK_FIREWALL, NETLINK_GENERIC, NETLINK_IP6_FW, NETLINK_ISCSI,
  NETLINK_KOBJECT_UEVENT, NETLINK_NETFILTER, NETLINK_NFLOG, NETLINK_RDMA, NETLINK_ROUTE,
  NETLINK_SCSITRANSPORT, NETLINK_SELINUX, NETLINK_SMC, NETLINK_SOCK_DIAG, NETLINK_USERSOCK,
  NETLINK_XFRM, PACKET_BROADCAST, PACKET_FASTROUTE, PACKET_HOST, PACKET_LOOPBACK,
  PACKET_MULTICAST, PACKET_OTHERHOST, PACKET_OUTGOING, RTMGRP_IPV4_IFADDR, RTMGRP_IPV4_MROUTE,
  RTMGRP_IPV4_ROUTE, RTMGRP_IPV4_RULE, RTMGRP_IPV6_IFADDR, RTMGRP_IPV6_IFINFO,
  RTMGRP_IPV6_MROUTE, RTMGRP_IPV6_PREFIX, RTMGRP_IPV6_ROUTE, RTMGRP_LINK, RTMGRP_NEIGH,
  RTMGRP_NOTIFY, RTMGRP_TC, SO_BINDTODEVICE, SOL_NETLINK,
} from "../../ffi/socket_constants.ts";
export {
  type AddressLike, htonl, htons, ifIndextoname, ifNametoindex, inetNtop, inetPton, ipMreq,
  ipMreqn, ipv6Mreq, isIpAddress, isIpv4Address, isIpv6Address, ntohl, ntohs, type PacketAddress,
  type SockAddr,
} from "../../ffi/sockaddr.ts";

// One sockaddr_storage and socklen_t for every call (see the module comment).
const addrBuf = new Uint8Array(SOCKADDR_STORAGE_SIZE);
const addrLen = new Uint32Array(1);
// getsockopt/setsockopt's int option value and its length.
const optInt = new Int32Array(1);
const optLen = new Uint32Array(1);

/** @internal The address the last accept/recvfrom/getsockname call left in the shared buffer. */
export function lastAddress(): SockAddr {
  return decodeSockaddr(addrBuf, addrLen[0]);
}

const familyNames: Record<number, string> = {
  [AF_UNIX]: "AF_UNIX", [AF_INET]: "AF_INET", [AF_INET6]: "AF_INET6",
};
if (AF_NETLINK !== undefined) familyNames[AF_NETLINK] = "AF_NETLINK";
if (AF_PACKET !== undefined) familyNames[AF_PACKET] = "AF_PACKET";
const typeNames: Record<number, string> = {
  [SOCK_STREAM]: "SOCK_STREAM", [SOCK_DGRAM]: "SOCK_DGRAM", [SOCK_RAW]: "SOCK_RAW",
  [SOCK_SEQPACKET]: "SOCK_SEQPACKET",
};

/** `r` (a socket call's result) if it is not -errno; otherwise OSError naming `context`. */
function check(r: number, context: string): number {
  if (r < 0) throw osError(context, -r);
  return r;
}

function checkSize(n: unknown, what: string): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new ValueError(`${what} must be a non-negative integer, got ${String(n)}`);
  }
  return n;
}

/** A socket (Python's socket.socket). */
export class Socket {
  /** The address family (AF_INET, AF_INET6, AF_UNIX; AF_NETLINK and AF_PACKET on Linux). */
  readonly family: number;
  /** The socket type without the SOCK_NONBLOCK/SOCK_CLOEXEC flags (as Python reports it). */
  readonly type: number;
  /** The protocol number (0 for the family's default). */
  readonly proto: number;
  private fd: number;
  /** Blocking mode as this object last set or saw it (Python keeps it as the socket's timeout). */
  private _blocking: boolean;

  /**
   * A new socket (socket(2), always close-on-exec), or (with `fileno`) an object around an
   * existing socket fd, which it then owns. With `fileno` and no family/type/proto, they are read
   * from the fd (SO_DOMAIN, SO_TYPE, SO_PROTOCOL), as Python does. Defaults: AF_INET,
   * SOCK_STREAM, 0. `SOCK_NONBLOCK` in `type` makes the socket non-blocking.
   */
  constructor(family?: number, type?: number, proto?: number, fileno?: number);
  /** @internal `blocking`: the known mode of an adopted fd, sparing an fcntl. */
  constructor(family: number, type: number, proto: number, fileno: number, blocking: boolean);
  constructor(family?: number, type?: number, proto?: number, fileno?: number, blocking?: boolean) {
    if (fileno !== undefined) {
      if (typeof fileno !== "number" || !Number.isInteger(fileno) || fileno < 0) {
        throw new ValueError(`Socket fileno must be a non-negative integer, got ${String(fileno)}`);
      }
      family ??= getIntOpt(fileno, SOL_SOCKET, SO_DOMAIN, "getsockopt(SO_DOMAIN)");
      type ??= getIntOpt(fileno, SOL_SOCKET, SO_TYPE, "getsockopt(SO_TYPE)");
      proto ??= getIntOpt(fileno, SOL_SOCKET, SO_PROTOCOL, "getsockopt(SO_PROTOCOL)");
      this.fd = fileno;
      this._blocking = blocking ?? check(os.isNonBlocking(fileno), "fcntl(F_GETFL)") === 0;
    } else {
      family ??= AF_INET;
      type ??= SOCK_STREAM;
      proto ??= 0;
      this.fd = check(os.socket(family, type, proto), "socket");
      this._blocking = (type & SOCK_NONBLOCK) === 0;
    }
    this.family = family;
    this.type = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    this.proto = proto;
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
    check(os.setNonBlocking(this.openFd(), !flag), "fcntl(F_SETFL)");
    this._blocking = !!flag;
  }

  /** True if the socket is in blocking mode (Python getblocking); asks the kernel (fcntl). */
  getBlocking(): boolean {
    this._blocking = check(os.isNonBlocking(this.openFd()), "fcntl(F_GETFL)") === 0;
    return this._blocking;
  }

  /** @internal The mode as last set or seen, without a system call (the sock* functions' check). */
  _isBlocking(): boolean {
    return this._blocking;
  }

  // ---- Naming and connecting ----------------------------------------------------------------

  /** Bind to `address` (Python bind); "" as host means any address, port 0 any free port. */
  bind(address: AddressLike): void {
    const fd = this.openFd();
    const len = encodeSockaddr(this.family, address, addrBuf, "bind()");
    const r = os.bind(fd, addrBuf, len);
    if (r < 0) throw osError(`bind to ${formatAddress(address)}`, -r);
  }

  /** Accept connections, with at most `backlog` waiting (Python listen; default min(SOMAXCONN, 128)). */
  listen(backlog: number = Math.min(SOMAXCONN, 128)): void {
    check(os.listen(this.openFd(), Math.max(0, backlog | 0)), "listen");
  }

  /**
   * Accept a connection (Python accept): `[socket, peerAddress]`. The new socket is close-on-exec
   * and non-blocking exactly when this one is. A non-blocking socket with no pending connection
   * throws OSError EAGAIN.
   */
  accept(): [Socket, SockAddr] {
    const fd = this._acceptRaw();
    if (fd < 0) throw osError("accept", -fd);
    return [this._adopt(fd), lastAddress()];
  }

  /** @internal accept4(2): the new fd, or -errno; the peer address is left for lastAddress(). */
  _acceptRaw(): number {
    const fd = this.openFd();
    for (;;) {
      addrLen[0] = SOCKADDR_STORAGE_SIZE;
      const r = os.accept(fd, addrBuf, addrLen, !this._blocking);
      if (r !== -EINTR) return r;
    }
  }

  /** @internal A Socket for an fd accept4 returned (same family/type/proto and mode as this). */
  _adopt(fd: number): Socket {
    return new Socket(this.family, this.type, this.proto, fd, this._blocking);
  }

  /**
   * Connect to `address` (Python connect). A non-blocking socket throws OSError EINPROGRESS
   * (Python's BlockingIOError) and completes in the background: wait for writability, then
   * read SO_ERROR (or use the loop's sockConnect).
   */
  connect(address: AddressLike): void {
    const errno = this.connectEx(address);
    if (errno !== 0) throw osError(`connect to ${formatAddress(address)}`, errno);
  }

  /** Like connect(), but return the errno instead of throwing it; 0 on success (Python connect_ex). */
  connectEx(address: AddressLike): number {
    const fd = this.openFd();
    const len = encodeSockaddr(this.family, address, addrBuf, "connect()");
    const r = os.connect(fd, addrBuf, len);
    return r < 0 ? -r : 0;
  }

  /** The socket's own address (Python getsockname). */
  getsockname(): SockAddr {
    addrLen[0] = SOCKADDR_STORAGE_SIZE;
    check(os.getsockname(this.openFd(), addrBuf, addrLen), "getsockname");
    return lastAddress();
  }

  /** The connected peer's address (Python getpeername); OSError ENOTCONN if not connected. */
  getpeername(): SockAddr {
    addrLen[0] = SOCKADDR_STORAGE_SIZE;
    check(os.getpeername(this.openFd(), addrBuf, addrLen), "getpeername");
    return lastAddress();
  }

  /** Shut down reading (SHUT_RD), writing (SHUT_WR) or both (SHUT_RDWR) (Python shutdown). */
  shutdown(how: number): void {
    check(os.shutdown(this.openFd(), how), "shutdown");
  }

  // ---- Options ------------------------------------------------------------------------------

  /**
   * Set an option (Python setsockopt): a number (or boolean) is passed as a C int, bytes as they
   * are (e.g. a struct linger).
   */
  setsockopt(level: number, optname: number, value: number | boolean | BytesLike): void {
    const fd = this.openFd();
    let r: number;
    if (typeof value === "number" || typeof value === "boolean") {
      optInt[0] = Number(value);
      r = os.setsockopt(fd, level, optname, optInt, 4);
    } else {
      const bytes = asBytes(value, "setsockopt() value");
      r = os.setsockopt(fd, level, optname, bytes, bytes.byteLength);
    }
    check(r, "setsockopt");
  }

  /**
   * Read an option (Python getsockopt): a C int as a number, or, with `buflen`, up to that many
   * bytes of the option's value.
   */
  getsockopt(level: number, optname: number): number;
  /** With `buflen`: the option's raw bytes (at most `buflen`). */
  getsockopt(level: number, optname: number, buflen: number): Uint8Array;
  getsockopt(level: number, optname: number, buflen = 0): number | Uint8Array {
    const fd = this.openFd();
    if (!buflen) return getIntOpt(fd, level, optname, "getsockopt");
    if (!Number.isInteger(buflen) || buflen < 0 || buflen > 1024) {
      throw new ValueError(`getsockopt buflen out of range (1-1024), got ${buflen}`);
    }
    const buf = new Uint8Array(buflen);
    optLen[0] = buflen;
    check(os.getsockopt(fd, level, optname, buf, optLen), "getsockopt");
    return optLen[0] === buflen ? buf : buf.subarray(0, optLen[0]);
  }

  // ---- Sending ------------------------------------------------------------------------------

  /**
   * Send bytes; returns how many were sent (Python send). A non-blocking socket with a full
   * buffer throws OSError EAGAIN. Never raises SIGPIPE: a closed peer is OSError EPIPE.
   */
  send(data: BytesLike, flags = 0): number {
    const bytes = asBytes(data);
    const r = this._sendRaw(bytes, 0, bytes.byteLength, flags);
    if (r < 0) throw osError("send", -r);
    return r;
  }

  /** @internal send(2) of bytes[offset, offset+length): the count sent, or -errno. */
  _sendRaw(bytes: Uint8Array, offset: number, length: number, flags: number): number {
    const fd = this.openFd();
    const view = offset === 0 ? bytes : bytes.subarray(offset);
    for (;;) {
      const r = os.send(fd, view, length, flags | MSG_NOSIGNAL);
      if (r !== -EINTR) return r;
    }
  }

  /**
   * Send all of `data` (Python sendall), looping over partial sends. Meant for blocking
   * sockets: a non-blocking one throws OSError EAGAIN once its buffer fills (how much went out
   * is then unknown; use the loop's sockSendall instead).
   */
  sendall(data: BytesLike, flags = 0): void {
    const bytes = asBytes(data);
    let sent = 0;
    while (sent < bytes.byteLength) {
      const r = this._sendRaw(bytes, sent, bytes.byteLength - sent, flags);
      if (r < 0) throw osError("sendall", -r);
      sent += r;
    }
  }

  /**
   * Send a datagram to `address` (Python sendto): `sendto(data, address)` or
   * `sendto(data, flags, address)`. Returns the count sent.
   */
  sendto(data: BytesLike, address: AddressLike): number;
  /** With `flags`: MSG_* flags for sendto(2). */
  sendto(data: BytesLike, flags: number, address: AddressLike): number;
  sendto(data: BytesLike, flagsOrAddress: number | AddressLike, address?: AddressLike): number {
    let flags = 0;
    if (address === undefined) address = flagsOrAddress as AddressLike;
    else flags = flagsOrAddress as number;
    const r = this._sendtoRaw(asBytes(data), flags, address);
    if (r < 0) throw osError(`sendto ${formatAddress(address)}`, -r);
    return r;
  }

  /** @internal sendto(2): the count sent, or -errno (a bad address throws). */
  _sendtoRaw(bytes: Uint8Array, flags: number, address: AddressLike): number {
    const fd = this.openFd();
    const len = encodeSockaddr(this.family, address, addrBuf, "sendto()");
    for (;;) {
      const r = os.sendto(fd, bytes, bytes.byteLength, flags | MSG_NOSIGNAL, addrBuf, len);
      if (r !== -EINTR) return r;
    }
  }

  // ---- Receiving ----------------------------------------------------------------------------

  /**
   * Receive up to `bufsize` bytes (Python recv); an empty array means the peer closed. A
   * non-blocking socket with nothing to read throws OSError EAGAIN.
   */
  recv(bufsize: number, flags = 0): Uint8Array {
    checkSize(bufsize, "recv() bufsize");
    const buf = new Uint8Array(bufsize);
    const n = this._recvRaw(buf, bufsize, flags);
    if (n < 0) throw osError("recv", -n);
    return n === bufsize ? buf : buf.subarray(0, n);
  }

  /**
   * Receive into `buffer` (at most `nbytes`, default its length) and return the count (Python
   * recv_into).
   */
  recvInto(buffer: BytesLike, nbytes = 0, flags = 0): number {
    const buf = intoTarget(buffer, nbytes, "recvInto()");
    const n = this._recvRaw(buf, buf.byteLength, flags);
    if (n < 0) throw osError("recv_into", -n);
    return n;
  }

  /** @internal recv(2) into buf[0, nbytes): the count, or -errno. */
  _recvRaw(buf: Uint8Array, nbytes: number, flags: number): number {
    const fd = this.openFd();
    for (;;) {
      const r = os.recv(fd, buf, nbytes, flags);
      if (r !== -EINTR) return r;
    }
  }

  /** Receive a datagram and its sender (Python recvfrom): `[data, address]`. */
  recvfrom(bufsize: number, flags = 0): [Uint8Array, SockAddr] {
    checkSize(bufsize, "recvfrom() bufsize");
    const buf = new Uint8Array(bufsize);
    const n = this._recvfromRaw(buf, bufsize, flags);
    if (n < 0) throw osError("recvfrom", -n);
    return [n === bufsize ? buf : buf.subarray(0, n), lastAddress()];
  }

  /** Receive a datagram into `buffer` (Python recvfrom_into): `[count, address]`. */
  recvfromInto(buffer: BytesLike, nbytes = 0, flags = 0): [number, SockAddr] {
    const buf = intoTarget(buffer, nbytes, "recvfromInto()");
    const n = this._recvfromRaw(buf, buf.byteLength, flags);
    if (n < 0) throw osError("recvfrom_into", -n);
    return [n, lastAddress()];
  }

  /** @internal recvfrom(2): the count or -errno; the sender is left for lastAddress(). */
  _recvfromRaw(buf: Uint8Array, nbytes: number, flags: number): number {
    const fd = this.openFd();
    for (;;) {
      addrLen[0] = SOCKADDR_STORAGE_SIZE;
      const r = os.recvfrom(fd, buf, nbytes, flags, addrBuf, addrLen);
      if (r !== -EINTR) return r;
    }
  }

  // ---- Life cycle ---------------------------------------------------------------------------

  /** Close the socket; idempotent (Python close). */
  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    check(os.close(fd), "close");
  }

  /** `using`: close() when the scope ends. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `await using`: close(); closing a socket is immediate. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** Give up the fd without closing it and return it (Python detach). */
  detach(): number {
    const fd = this.fd;
    this.fd = -1;
    return fd;
  }

  /** "Socket", for Object.prototype.toString. */
  get [Symbol.toStringTag](): string {
    return "Socket";
  }

  /** Like Python's repr: `<Socket fd=5, family=AF_INET, type=SOCK_STREAM, proto=6, laddr=…>`. */
  toString(): string {
    const family = familyNames[this.family] ?? String(this.family);
    const type = typeNames[this.type] ?? String(this.type);
    let text = `<Socket${this.fd < 0 ? " [closed]" : ""} fd=${this.fd}, family=${family}, ` +
      `type=${type}, proto=${this.proto}`;
    if (this.fd >= 0) {
      try {
        const laddr = this.getsockname();
        if (laddr !== null && laddr !== "") text += `, laddr=${formatAddress(laddr)}`;
      } catch { /* not bound: leave it out, as Python does */ }
      try {
        const raddr = this.getpeername();
        if (raddr !== null && raddr !== "") text += `, raddr=${formatAddress(raddr)}`;
      } catch { /* not connected */ }
    }
    return text + ">";
  }

  /** The fd, or ValueError if the socket is closed. */
  private openFd(): number {
    if (this.fd < 0) throw new ValueError("I/O operation on closed socket (bad file descriptor)");
    return this.fd;
  }
}

function getIntOpt(fd: number, level: number, optname: number, context: string): number {
  optInt[0] = 0;
  optLen[0] = 4;
  check(os.getsockopt(fd, level, optname, optInt, optLen), context);
  return optInt[0];
}

/** The bytes of `buffer` a recv*Into may fill: the first `nbytes` (0: all of them). */
function intoTarget(buffer: BytesLike, nbytes: number, what: string): Uint8Array {
  const buf = asBytes(buffer, `${what} buffer`);
  checkSize(nbytes, `${what} nbytes`);
  if (nbytes === 0) return buf;
  if (nbytes > buf.byteLength) throw new ValueError(`${what}: buffer too small for requested bytes`);
  return nbytes === buf.byteLength ? buf : buf.subarray(0, nbytes);
}

/**
 * A pair of connected sockets (Python socket.socketpair); a stream pair of the OS's default
 * family (AF_UNIX; AF_INET on Windows, whose pair is a loopback TCP connection, as Python's).
 */
export function socketpair(
  family: number = os.pairFamily,
  type: number = SOCK_STREAM,
  proto = 0,
): [Socket, Socket] {
  const fds = new Int32Array(2);
  check(os.socketpair(family, type, proto, fds), "socketpair");
  const blocking = (type & SOCK_NONBLOCK) === 0;
  return [
    new Socket(family, type, proto, fds[0], blocking),
    new Socket(family, type, proto, fds[1], blocking),
  ];
}
