/**
 * Socket constants for Linux, as glibc's headers define them (the values are the kernel's, from
 * <linux/socket.h>, <linux/net.h>, <asm-generic/socket.h>, <linux/in.h>, <linux/in6.h>,
 * <linux/tcp.h>). The SOL_SOCKET option numbers are <asm-generic/socket.h>'s, which x86-64 and
 * AArch64 use (alpha, mips, parisc, sparc and powerpc have their own; aioloop does not run there).
 */

// Address families: <bits/socket.h> (PF_* = AF_*).
export const AF_UNSPEC = 0;
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;

// Socket types: <bits/socket_type.h>.
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_SEQPACKET = 5;
/** socket(2)/accept4(2) type flags, equal to O_NONBLOCK and O_CLOEXEC (<bits/socket_type.h>). */
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;

/** listen(2)'s default maximum backlog (<bits/socket.h>; 4096 since Linux 5.4). */
export const SOMAXCONN = 4096;

// Socket-level options: <asm-generic/socket.h>.
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_TYPE = 3;
export const SO_ERROR = 4;
export const SO_BROADCAST = 6;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_KEEPALIVE = 9;
export const SO_LINGER = 13;
export const SO_REUSEPORT = 15;
export const SO_PROTOCOL = 38;
export const SO_DOMAIN = 39;

// Protocols: <netinet/in.h>.
export const IPPROTO_IP = 0;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
/** IPPROTO_IPV6 option: an AF_INET6 socket takes IPv6 only, no IPv4-mapped peers (<linux/in6.h>). */
export const IPV6_V6ONLY = 26;

// TCP options: <netinet/tcp.h>.
export const TCP_NODELAY = 1;
export const TCP_KEEPIDLE = 4;
export const TCP_KEEPINTVL = 5;
export const TCP_KEEPCNT = 6;

// shutdown(2) directions: <sys/socket.h>.
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;

// send(2)/recv(2) flags: <bits/socket.h>.
export const MSG_OOB = 0x1;
export const MSG_PEEK = 0x2;
export const MSG_DONTROUTE = 0x4;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const MSG_EOR = 0x80;
export const MSG_WAITALL = 0x100;
/** send(2) flag: no SIGPIPE on a closed peer; the call fails with EPIPE instead. */
export const MSG_NOSIGNAL = 0x4000;

// getaddrinfo(3) flags: <netdb.h>.
export const AI_PASSIVE = 0x1;
export const AI_CANONNAME = 0x2;
export const AI_NUMERICHOST = 0x4;
export const AI_V4MAPPED = 0x8;
export const AI_ALL = 0x10;
export const AI_ADDRCONFIG = 0x20;
export const AI_NUMERICSERV = 0x400;

// getnameinfo(3) flags: <netdb.h>.
export const NI_NUMERICHOST = 1;
export const NI_NUMERICSERV = 2;
export const NI_NOFQDN = 4;
export const NI_NAMEREQD = 8;
export const NI_DGRAM = 16;

// getaddrinfo(3)/getnameinfo(3) error codes: <netdb.h> (glibc; negative, unlike errno).
export const EAI_BADFLAGS = -1;
export const EAI_NONAME = -2;
export const EAI_AGAIN = -3;
export const EAI_FAIL = -4;
export const EAI_NODATA = -5;
export const EAI_FAMILY = -6;
export const EAI_SOCKTYPE = -7;
export const EAI_SERVICE = -8;
export const EAI_ADDRFAMILY = -9;
export const EAI_MEMORY = -10;
export const EAI_SYSTEM = -11;
export const EAI_OVERFLOW = -12;
