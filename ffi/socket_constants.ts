/**
 * Socket constants for Linux, as glibc's headers define them (the values are the kernel's, from
 * <linux/socket.h>, <linux/net.h>, <asm-generic/socket.h>, <linux/in.h>, <linux/in6.h>,
 * <linux/tcp.h>). The SOL_SOCKET option numbers are <asm-generic/socket.h>'s, which x86-64 and
 * AArch64 use (alpha, mips, parisc, sparc and powerpc have their own; aioloop does not run there).
 */

// Address families: <bits/socket.h> (PF_* = AF_*).
/** `AF_UNSPEC` — address families: <bits/socket.h> (PF_* = AF_*). */
export const AF_UNSPEC = 0;
/** `AF_UNIX` — address families: <bits/socket.h> (PF_* = AF_*). */
export const AF_UNIX = 1;
/** `AF_INET` — address families: <bits/socket.h> (PF_* = AF_*). */
export const AF_INET = 2;
/** `AF_INET6` — address families: <bits/socket.h> (PF_* = AF_*). */
export const AF_INET6 = 10;

// Socket types: <bits/socket_type.h>.
/** `SOCK_STREAM` — socket types: <bits/socket_type.h>. */
export const SOCK_STREAM = 1;
/** `SOCK_DGRAM` — socket types: <bits/socket_type.h>. */
export const SOCK_DGRAM = 2;
/** `SOCK_RAW` — socket types: <bits/socket_type.h>. */
export const SOCK_RAW = 3;
/** `SOCK_SEQPACKET` — socket types: <bits/socket_type.h>. */
export const SOCK_SEQPACKET = 5;
/** socket(2)/accept4(2) type flags, equal to O_NONBLOCK and O_CLOEXEC (<bits/socket_type.h>). */
export const SOCK_NONBLOCK = 0o4000;
/** `SOCK_CLOEXEC` — socket types: <bits/socket_type.h>. */
export const SOCK_CLOEXEC = 0o2000000;

/** listen(2)'s default maximum backlog (<bits/socket.h>; 4096 since Linux 5.4). */
export const SOMAXCONN = 4096;

// Socket-level options: <asm-generic/socket.h>.
/** `SOL_SOCKET` — socket-level options: <asm-generic/socket.h>. */
export const SOL_SOCKET = 1;
/** `SO_REUSEADDR` — socket-level options: <asm-generic/socket.h>. */
export const SO_REUSEADDR = 2;
/** `SO_TYPE` — socket-level options: <asm-generic/socket.h>. */
export const SO_TYPE = 3;
/** `SO_ERROR` — socket-level options: <asm-generic/socket.h>. */
export const SO_ERROR = 4;
/** `SO_BROADCAST` — socket-level options: <asm-generic/socket.h>. */
export const SO_BROADCAST = 6;
/** `SO_SNDBUF` — socket-level options: <asm-generic/socket.h>. */
export const SO_SNDBUF = 7;
/** `SO_RCVBUF` — socket-level options: <asm-generic/socket.h>. */
export const SO_RCVBUF = 8;
/** `SO_KEEPALIVE` — socket-level options: <asm-generic/socket.h>. */
export const SO_KEEPALIVE = 9;
/** `SO_LINGER` — socket-level options: <asm-generic/socket.h>. */
export const SO_LINGER = 13;
/** `SO_REUSEPORT` — socket-level options: <asm-generic/socket.h>. */
export const SO_REUSEPORT = 15;
/** `SO_PROTOCOL` — socket-level options: <asm-generic/socket.h>. */
export const SO_PROTOCOL = 38;
/** `SO_DOMAIN` — socket-level options: <asm-generic/socket.h>. */
export const SO_DOMAIN = 39;

// Protocols: <netinet/in.h>.
/** `IPPROTO_IP` — protocols: <netinet/in.h>. */
export const IPPROTO_IP = 0;
/** `IPPROTO_TCP` — protocols: <netinet/in.h>. */
export const IPPROTO_TCP = 6;
/** `IPPROTO_UDP` — protocols: <netinet/in.h>. */
export const IPPROTO_UDP = 17;
/** `IPPROTO_IPV6` — protocols: <netinet/in.h>. */
export const IPPROTO_IPV6 = 41;
/** IPPROTO_IPV6 option: an AF_INET6 socket takes IPv6 only, no IPv4-mapped peers (<linux/in6.h>). */
export const IPV6_V6ONLY = 26;

// TCP options: <netinet/tcp.h>.
/** `TCP_NODELAY` — tCP options: <netinet/tcp.h>. */
export const TCP_NODELAY = 1;
/** `TCP_KEEPIDLE` — tCP options: <netinet/tcp.h>. */
export const TCP_KEEPIDLE = 4;
/** `TCP_KEEPINTVL` — tCP options: <netinet/tcp.h>. */
export const TCP_KEEPINTVL = 5;
/** `TCP_KEEPCNT` — tCP options: <netinet/tcp.h>. */
export const TCP_KEEPCNT = 6;

// shutdown(2) directions: <sys/socket.h>.
/** `SHUT_RD` — shutdown(2) directions: <sys/socket.h>. */
export const SHUT_RD = 0;
/** `SHUT_WR` — shutdown(2) directions: <sys/socket.h>. */
export const SHUT_WR = 1;
/** `SHUT_RDWR` — shutdown(2) directions: <sys/socket.h>. */
export const SHUT_RDWR = 2;

// send(2)/recv(2) flags: <bits/socket.h>.
/** `MSG_OOB` — send(2)/recv(2) flags: <bits/socket.h>. */
export const MSG_OOB = 0x1;
/** `MSG_PEEK` — send(2)/recv(2) flags: <bits/socket.h>. */
export const MSG_PEEK = 0x2;
/** `MSG_DONTROUTE` — send(2)/recv(2) flags: <bits/socket.h>. */
export const MSG_DONTROUTE = 0x4;
/** `MSG_TRUNC` — send(2)/recv(2) flags: <bits/socket.h>. */
export const MSG_TRUNC = 0x20;
/** `MSG_DONTWAIT` — send(2)/recv(2) flags: <bits/socket.h>. */
export const MSG_DONTWAIT = 0x40;
/** `MSG_EOR` — send(2)/recv(2) flags: <bits/socket.h>. */
export const MSG_EOR = 0x80;
/** `MSG_WAITALL` — send(2)/recv(2) flags: <bits/socket.h>. */
export const MSG_WAITALL = 0x100;
/** send(2) flag: no SIGPIPE on a closed peer; the call fails with EPIPE instead. */
export const MSG_NOSIGNAL = 0x4000;

// getaddrinfo(3) flags: <netdb.h>.
/** `AI_PASSIVE` — getaddrinfo(3) flags: <netdb.h>. */
export const AI_PASSIVE = 0x1;
/** `AI_CANONNAME` — getaddrinfo(3) flags: <netdb.h>. */
export const AI_CANONNAME = 0x2;
/** `AI_NUMERICHOST` — getaddrinfo(3) flags: <netdb.h>. */
export const AI_NUMERICHOST = 0x4;
/** `AI_V4MAPPED` — getaddrinfo(3) flags: <netdb.h>. */
export const AI_V4MAPPED = 0x8;
/** `AI_ALL` — getaddrinfo(3) flags: <netdb.h>. */
export const AI_ALL = 0x10;
/** `AI_ADDRCONFIG` — getaddrinfo(3) flags: <netdb.h>. */
export const AI_ADDRCONFIG = 0x20;
/** `AI_NUMERICSERV` — getaddrinfo(3) flags: <netdb.h>. */
export const AI_NUMERICSERV = 0x400;

// getnameinfo(3) flags: <netdb.h>.
/** `NI_NUMERICHOST` — getnameinfo(3) flags: <netdb.h>. */
export const NI_NUMERICHOST = 1;
/** `NI_NUMERICSERV` — getnameinfo(3) flags: <netdb.h>. */
export const NI_NUMERICSERV = 2;
/** `NI_NOFQDN` — getnameinfo(3) flags: <netdb.h>. */
export const NI_NOFQDN = 4;
/** `NI_NAMEREQD` — getnameinfo(3) flags: <netdb.h>. */
export const NI_NAMEREQD = 8;
/** `NI_DGRAM` — getnameinfo(3) flags: <netdb.h>. */
export const NI_DGRAM = 16;

// getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h> (glibc; negative, unlike errno).
/** `EAI_BADFLAGS` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h> (glibc; negative, unlike errno). */
export const EAI_BADFLAGS: number = -1;
/** `EAI_NONAME` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h> (glibc; negative, unlike errno). */
export const EAI_NONAME: number = -2;
/** `EAI_AGAIN` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h> (glibc; negative, unlike errno). */
export const EAI_AGAIN: number = -3;
/** `EAI_FAIL` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h> (glibc; negative, unlike errno). */
export const EAI_FAIL: number = -4;
/** `EAI_NODATA` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h> (glibc; negative, unlike errno). */
export const EAI_NODATA: number = -5;
/** `EAI_FAMILY` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h> (glibc; negative, unlike errno). */
export const EAI_FAMILY: number = -6;
/** `EAI_SOCKTYPE` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h> (glibc; negative, unlike errno). */
export const EAI_SOCKTYPE: number = -7;
/** `EAI_SERVICE` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h> (glibc; negative, unlike errno). */
export const EAI_SERVICE: number = -8;
/** `EAI_ADDRFAMILY` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h> (glibc; negative, unlike errno). */
export const EAI_ADDRFAMILY: number = -9;
/** `EAI_MEMORY` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h> (glibc; negative, unlike errno). */
export const EAI_MEMORY: number = -10;
/** `EAI_SYSTEM` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h> (glibc; negative, unlike errno). */
export const EAI_SYSTEM: number = -11;
/** `EAI_OVERFLOW` — getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h> (glibc; negative, unlike errno). */
export const EAI_OVERFLOW: number = -12;
