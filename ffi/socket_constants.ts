/**
 * Socket constants of this OS, under the names Python's `socket` module uses, with this OS's
 * values (ffi/os/: Linux's <bits/socket.h>, <asm-generic/socket.h>, <linux/in.h>, <netdb.h> …;
 * macOS's and FreeBSD's <sys/socket.h>, <netinet/in.h>, <netdb.h>). A constant the OS lacks
 * is 0 if it is a flag (SOCK_NONBLOCK, SOCK_CLOEXEC on macOS: OR-ing it in changes nothing)
 * and a negative number no OS uses if it is an option number (SO_PROTOCOL -1, SO_DOMAIN -2 on
 * macOS, where platform/posix_socket.ts answers getsockopt for them from getsockname and SO_TYPE).
 */
import type { Inet6Family, InetFamily, UnixFamily } from "./families.ts";
import { osTable } from "./os/current.ts";

const C = osTable.constants;
// The three families with typed addresses carry their brand (ffi/families.ts): the one place
// a plain number becomes one.

// Address families: <bits/socket.h> (PF_* = AF_*).
/** `AF_UNSPEC` — address families: <bits/socket.h> (PF_* = AF_*). */
export const AF_UNSPEC: number = C.AF_UNSPEC!;
/** `AF_UNIX` — address families: <bits/socket.h> (PF_* = AF_*). */
export const AF_UNIX: UnixFamily = C.AF_UNIX! as UnixFamily;
/** `AF_INET` — address families: <bits/socket.h> (PF_* = AF_*). */
export const AF_INET: InetFamily = C.AF_INET! as InetFamily;
/** `AF_INET6` — address families: <bits/socket.h> (PF_* = AF_*). */
export const AF_INET6: Inet6Family = C.AF_INET6! as Inet6Family;

// Socket types: <bits/socket_type.h>.
/** `SOCK_STREAM` — socket types: <bits/socket_type.h>. */
export const SOCK_STREAM: number = C.SOCK_STREAM!;
/** `SOCK_DGRAM` — socket types: <bits/socket_type.h>. */
export const SOCK_DGRAM: number = C.SOCK_DGRAM!;
/** `SOCK_RAW` — socket types: <bits/socket_type.h>. */
export const SOCK_RAW: number = C.SOCK_RAW!;
/** `SOCK_SEQPACKET` — socket types: <bits/socket_type.h>. */
export const SOCK_SEQPACKET: number = C.SOCK_SEQPACKET!;
/** socket(2)/accept4(2) type flags, equal to O_NONBLOCK and O_CLOEXEC (<bits/socket_type.h>). */
export const SOCK_NONBLOCK: number = C.SOCK_NONBLOCK ?? 0;
/** `SOCK_CLOEXEC` — socket types: <bits/socket_type.h>. */
export const SOCK_CLOEXEC: number = C.SOCK_CLOEXEC ?? 0;

/** listen(2)'s default maximum backlog (Linux: 4096 since 5.4; BSD: 128). */
export const SOMAXCONN: number = C.SOMAXCONN!;

// Socket-level options: <asm-generic/socket.h>.
/** `SOL_SOCKET` — socket-level options: <asm-generic/socket.h>. */
export const SOL_SOCKET: number = C.SOL_SOCKET!;
/** `SO_REUSEADDR` — socket-level options: <asm-generic/socket.h>. */
export const SO_REUSEADDR: number = C.SO_REUSEADDR!;
/** `SO_TYPE` — socket-level options: <asm-generic/socket.h>. */
export const SO_TYPE: number = C.SO_TYPE!;
/** `SO_ERROR` — socket-level options: <asm-generic/socket.h>. */
export const SO_ERROR: number = C.SO_ERROR!;
/** `SO_BROADCAST` — socket-level options: <asm-generic/socket.h>. */
export const SO_BROADCAST: number = C.SO_BROADCAST!;
/** `SO_SNDBUF` — socket-level options: <asm-generic/socket.h>. */
export const SO_SNDBUF: number = C.SO_SNDBUF!;
/** `SO_RCVBUF` — socket-level options: <asm-generic/socket.h>. */
export const SO_RCVBUF: number = C.SO_RCVBUF!;
/** `SO_KEEPALIVE` — socket-level options: <asm-generic/socket.h>. */
export const SO_KEEPALIVE: number = C.SO_KEEPALIVE!;
/** `SO_LINGER` — socket-level options: <asm-generic/socket.h>. */
export const SO_LINGER: number = C.SO_LINGER!;
/** `SO_REUSEPORT` — socket-level options: <asm-generic/socket.h>. */
export const SO_REUSEPORT: number = C.SO_REUSEPORT!;
/** What SO_PROTOCOL is on an OS without it (macOS); see the module comment. */
export const ABSENT_SO_PROTOCOL = -1;
/** What SO_DOMAIN is on an OS without it (macOS); see the module comment. */
export const ABSENT_SO_DOMAIN = -2;
/** `SO_PROTOCOL` — socket-level options: <asm-generic/socket.h>. */
export const SO_PROTOCOL: number = C.SO_PROTOCOL ?? ABSENT_SO_PROTOCOL;
/** `SO_DOMAIN` — socket-level options: <asm-generic/socket.h>. */
export const SO_DOMAIN: number = C.SO_DOMAIN ?? ABSENT_SO_DOMAIN;

// Protocols: <netinet/in.h>.
/** `IPPROTO_IP` — protocols: <netinet/in.h>. */
export const IPPROTO_IP: number = C.IPPROTO_IP!;
/** `IPPROTO_TCP` — protocols: <netinet/in.h>. */
export const IPPROTO_TCP: number = C.IPPROTO_TCP!;
/** `IPPROTO_UDP` — protocols: <netinet/in.h>. */
export const IPPROTO_UDP: number = C.IPPROTO_UDP!;
/** `IPPROTO_IPV6` — protocols: <netinet/in.h>. */
export const IPPROTO_IPV6: number = C.IPPROTO_IPV6!;
/** IPPROTO_IPV6 option: an AF_INET6 socket takes IPv6 only, no IPv4-mapped peers (<linux/in6.h>). */
export const IPV6_V6ONLY: number = C.IPV6_V6ONLY!;

// TCP options: <netinet/tcp.h>.
/** `TCP_NODELAY` — TCP options: <netinet/tcp.h>. */
export const TCP_NODELAY: number = C.TCP_NODELAY!;
/** `TCP_KEEPIDLE` — TCP options: <netinet/tcp.h>. */
export const TCP_KEEPIDLE: number = C.TCP_KEEPIDLE!;
/** `TCP_KEEPINTVL` — TCP options: <netinet/tcp.h>. */
export const TCP_KEEPINTVL: number = C.TCP_KEEPINTVL!;
/** `TCP_KEEPCNT` — TCP options: <netinet/tcp.h>. */
export const TCP_KEEPCNT: number = C.TCP_KEEPCNT!;

// shutdown(2) directions: <sys/socket.h>.
/** `SHUT_RD` — shutdown(2) directions: <sys/socket.h>. */
export const SHUT_RD: number = C.SHUT_RD!;
/** `SHUT_WR` — shutdown(2) directions: <sys/socket.h>. */
export const SHUT_WR: number = C.SHUT_WR!;
/** `SHUT_RDWR` — shutdown(2) directions: <sys/socket.h>. */
export const SHUT_RDWR: number = C.SHUT_RDWR!;

// send(2)/recv(2) flags: <bits/socket.h>.
/** `MSG_OOB` — send(2)/recv(2) flags: <bits/socket.h>. */
export const MSG_OOB: number = C.MSG_OOB!;
/** `MSG_PEEK` — send(2)/recv(2) flags: <bits/socket.h>. */
export const MSG_PEEK: number = C.MSG_PEEK!;
/** `MSG_DONTROUTE` — send(2)/recv(2) flags: <bits/socket.h>. */
export const MSG_DONTROUTE: number = C.MSG_DONTROUTE!;
/** `MSG_TRUNC` — send(2)/recv(2) flags: <bits/socket.h>. */
export const MSG_TRUNC: number = C.MSG_TRUNC!;
/** `MSG_DONTWAIT` — send(2)/recv(2) flags: <bits/socket.h>. */
export const MSG_DONTWAIT: number = C.MSG_DONTWAIT!;
/** `MSG_EOR` — send(2)/recv(2) flags: <bits/socket.h>. */
export const MSG_EOR: number = C.MSG_EOR!;
/** `MSG_WAITALL` — send(2)/recv(2) flags: <bits/socket.h>. */
export const MSG_WAITALL: number = C.MSG_WAITALL!;
/** send(2) flag: no SIGPIPE on a closed peer; the call fails with EPIPE instead. */
export const MSG_NOSIGNAL: number = C.MSG_NOSIGNAL ?? 0;

// getaddrinfo(3) flags: <netdb.h>.
/** `AI_PASSIVE` — getaddrinfo(3) flags: <netdb.h>. */
export const AI_PASSIVE: number = C.AI_PASSIVE!;
/** `AI_CANONNAME` — getaddrinfo(3) flags: <netdb.h>. */
export const AI_CANONNAME: number = C.AI_CANONNAME!;
/** `AI_NUMERICHOST` — getaddrinfo(3) flags: <netdb.h>. */
export const AI_NUMERICHOST: number = C.AI_NUMERICHOST!;
/** `AI_V4MAPPED` — getaddrinfo(3) flags: <netdb.h>. */
export const AI_V4MAPPED: number = C.AI_V4MAPPED!;
/** `AI_ALL` — getaddrinfo(3) flags: <netdb.h>. */
export const AI_ALL: number = C.AI_ALL!;
/** `AI_ADDRCONFIG` — getaddrinfo(3) flags: <netdb.h>. */
export const AI_ADDRCONFIG: number = C.AI_ADDRCONFIG!;
/** `AI_NUMERICSERV` — getaddrinfo(3) flags: <netdb.h>. */
export const AI_NUMERICSERV: number = C.AI_NUMERICSERV!;

// getnameinfo(3) flags: <netdb.h>.
/** `NI_NUMERICHOST` — getnameinfo(3) flags: <netdb.h>. */
export const NI_NUMERICHOST: number = C.NI_NUMERICHOST!;
/** `NI_NUMERICSERV` — getnameinfo(3) flags: <netdb.h>. */
export const NI_NUMERICSERV: number = C.NI_NUMERICSERV!;
/** `NI_NOFQDN` — getnameinfo(3) flags: <netdb.h>. */
export const NI_NOFQDN: number = C.NI_NOFQDN!;
/** `NI_NAMEREQD` — getnameinfo(3) flags: <netdb.h>. */
export const NI_NAMEREQD: number = C.NI_NAMEREQD!;
/** `NI_DGRAM` — getnameinfo(3) flags: <netdb.h>. */
export const NI_DGRAM: number = C.NI_DGRAM!;

// getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h>(glibc: negative; BSD: positive).
/** `EAI_BADFLAGS` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h>(glibc: negative; BSD: positive). */
export const EAI_BADFLAGS: number = C.EAI_BADFLAGS!;
/** `EAI_NONAME` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h>(glibc: negative; BSD: positive). */
export const EAI_NONAME: number = C.EAI_NONAME!;
/** `EAI_AGAIN` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h>(glibc: negative; BSD: positive). */
export const EAI_AGAIN: number = C.EAI_AGAIN!;
/** `EAI_FAIL` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h>(glibc: negative; BSD: positive). */
export const EAI_FAIL: number = C.EAI_FAIL!;
/** `EAI_NODATA` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h>(glibc: negative; BSD: positive). */
export const EAI_NODATA: number = C.EAI_NODATA!;
/** `EAI_FAMILY` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h>(glibc: negative; BSD: positive). */
export const EAI_FAMILY: number = C.EAI_FAMILY!;
/** `EAI_SOCKTYPE` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h>(glibc: negative; BSD: positive). */
export const EAI_SOCKTYPE: number = C.EAI_SOCKTYPE!;
/** `EAI_SERVICE` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h>(glibc: negative; BSD: positive). */
export const EAI_SERVICE: number = C.EAI_SERVICE!;
/** `EAI_ADDRFAMILY` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h>(glibc: negative; BSD: positive). */
export const EAI_ADDRFAMILY: number = C.EAI_ADDRFAMILY!;
/** `EAI_MEMORY` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h>(glibc: negative; BSD: positive). */
export const EAI_MEMORY: number = C.EAI_MEMORY!;
/** `EAI_SYSTEM` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h>(glibc: negative; BSD: positive). */
export const EAI_SYSTEM: number = C.EAI_SYSTEM!;
/** `EAI_OVERFLOW` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h>(glibc: negative; BSD: positive). */
export const EAI_OVERFLOW: number = C.EAI_OVERFLOW!;
