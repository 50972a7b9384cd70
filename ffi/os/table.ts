/**
 * The shape of a per-OS C library table: everything aioloop needs to know about one operating
 * system's C library that differs between Linux, macOS and FreeBSD — errno and signal numbers,
 * socket and netdb constants, struct layouts, library and symbol names, and which calls exist.
 *
 * One table per OS (ffi/os/linux.ts, darwin.ts, freebsd.ts), pure data; ffi/os/current.ts picks
 * one at import. The pure-TypeScript code that depends on these facts (sockaddr encoding, termios
 * offsets, errno names) takes a table as a parameter, so the tests run it against every table
 * on any OS (tests/ffi/os_tables_test.ts, which also checks the darwin and freebsd tables against
 * tests/fixtures/os_constants.json, derived from two independent public sources).
 */

/**
 * Constants only Linux has — SO_BINDTODEVICE, and netlink(7) and packet(7) with their protocols,
 * groups and options: null in the BSD tables, and left out on Windows, which borrows Linux's
 * table (current.ts) but has none of them, as Python's socket module has none there.
 */
export const LINUX_ONLY_CONSTANTS = [
  "SO_BINDTODEVICE",
  "AF_NETLINK", "AF_PACKET", "SOL_NETLINK", "NETLINK_ADD_MEMBERSHIP", "NETLINK_DROP_MEMBERSHIP",
  "NETLINK_ROUTE", "NETLINK_USERSOCK", "NETLINK_FIREWALL", "NETLINK_SOCK_DIAG", "NETLINK_NFLOG",
  "NETLINK_XFRM", "NETLINK_SELINUX", "NETLINK_ISCSI", "NETLINK_AUDIT", "NETLINK_FIB_LOOKUP",
  "NETLINK_CONNECTOR", "NETLINK_NETFILTER", "NETLINK_IP6_FW", "NETLINK_DNRTMSG",
  "NETLINK_KOBJECT_UEVENT", "NETLINK_GENERIC", "NETLINK_SCSITRANSPORT", "NETLINK_ECRYPTFS",
  "NETLINK_RDMA", "NETLINK_CRYPTO", "NETLINK_SMC", "RTMGRP_LINK", "RTMGRP_NOTIFY", "RTMGRP_NEIGH",
  "RTMGRP_TC", "RTMGRP_IPV4_IFADDR", "RTMGRP_IPV4_MROUTE", "RTMGRP_IPV4_ROUTE", "RTMGRP_IPV4_RULE",
  "RTMGRP_IPV6_IFADDR", "RTMGRP_IPV6_MROUTE", "RTMGRP_IPV6_ROUTE", "RTMGRP_IPV6_IFINFO",
  "RTMGRP_IPV6_PREFIX", "ETH_P_ALL", "PACKET_HOST", "PACKET_BROADCAST", "PACKET_MULTICAST",
  "PACKET_OTHERHOST", "PACKET_OUTGOING", "PACKET_LOOPBACK", "PACKET_FASTROUTE",
] as const;

/** The constants a table carries; null where the OS has no such constant. */
export const CONSTANT_NAMES = [
  "AF_UNSPEC", "AF_UNIX", "AF_INET", "AF_INET6", "SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW",
  "SOCK_SEQPACKET", "SOCK_NONBLOCK", "SOCK_CLOEXEC", "SOMAXCONN", "SOL_SOCKET", "SO_REUSEADDR",
  "SO_TYPE", "SO_ERROR", "SO_BROADCAST", "SO_SNDBUF", "SO_RCVBUF", "SO_KEEPALIVE", "SO_LINGER",
  "SO_REUSEPORT", "SO_PROTOCOL", "SO_DOMAIN", "SO_NOSIGPIPE", "IPPROTO_IP", "IPPROTO_TCP",
  "IPPROTO_UDP", "IPPROTO_IPV6", "IPV6_V6ONLY", "TCP_NODELAY", "TCP_KEEPIDLE", "TCP_KEEPINTVL",
  "TCP_KEEPCNT", "SHUT_RD", "SHUT_WR", "SHUT_RDWR", "MSG_OOB", "MSG_PEEK", "MSG_DONTROUTE",
  "MSG_TRUNC", "MSG_DONTWAIT", "MSG_EOR", "MSG_WAITALL", "MSG_NOSIGNAL", "AI_PASSIVE",
  "AI_CANONNAME", "AI_NUMERICHOST", "AI_V4MAPPED", "AI_ALL", "AI_ADDRCONFIG", "AI_NUMERICSERV",
  "NI_NUMERICHOST", "NI_NUMERICSERV", "NI_NOFQDN", "NI_NAMEREQD", "NI_DGRAM", "EAI_BADFLAGS",
  "EAI_NONAME", "EAI_AGAIN", "EAI_FAIL", "EAI_NODATA", "EAI_FAMILY", "EAI_SOCKTYPE",
  "EAI_SERVICE", "EAI_ADDRFAMILY", "EAI_MEMORY", "EAI_SYSTEM", "EAI_OVERFLOW", "F_GETFD",
  "F_SETFD", "F_GETFL", "F_SETFL", "FD_CLOEXEC", "O_RDWR", "O_NONBLOCK", "O_CLOEXEC",
  "O_RDONLY", "O_WRONLY", "O_APPEND", "O_CREAT", "O_EXCL", "O_TRUNC", "O_NOCTTY", "O_SYNC",
  "O_DSYNC", "O_DIRECTORY", "O_NOFOLLOW", "F_DUPFD", "F_DUPFD_CLOEXEC", "TCSANOW",
  "TCSADRAIN", "TCSAFLUSH", "ICANON", "ECHO", "ISIG", "NCCS", "WNOHANG", "S_IFMT", "S_IFSOCK",
  "S_IFREG", "S_IFDIR", "S_IFCHR", "S_IFIFO", "POSIX_SPAWN_SETSIGDEF", "POSIX_SPAWN_SETSIGMASK",
  "POSIX_SPAWN_SETSID", "POSIX_SPAWN_CLOEXEC_DEFAULT", "NSIG",
  // Multicast options (issue 18).
  "IP_MULTICAST_IF", "IP_MULTICAST_TTL", "IP_MULTICAST_LOOP", "IP_ADD_MEMBERSHIP",
  "IP_DROP_MEMBERSHIP", "IPV6_MULTICAST_IF", "IPV6_MULTICAST_HOPS", "IPV6_MULTICAST_LOOP",
  "IPV6_JOIN_GROUP", "IPV6_LEAVE_GROUP",
  ...LINUX_ONLY_CONSTANTS,
] as const;

/** A constant's name. */
export type ConstantName = typeof CONSTANT_NAMES[number];

/** Struct sizes and the field offsets aioloop reads or writes, in bytes. */
export interface OsLayouts {
  /** BSD sockaddrs start with a `uint8_t sa_len` and a `uint8_t sa_family`; Linux has a u16 family. */
  readonly sockaddrHasLen: boolean;
  readonly sockaddrIn: number;
  readonly sockaddrIn6: number;
  /** sizeof(struct sockaddr_un): 110 on Linux, 106 on BSD. */
  readonly sockaddrUn: number;
  /** sizeof(sun_path): 108 on Linux, 104 on BSD. */
  readonly sunPath: number;
  readonly sockaddrStorage: number;
  /** Linux's abstract AF_UNIX names (sun_path[0] = '\0'); BSD has none. */
  readonly abstractUnixNames: boolean;
  readonly termiosSize: number;
  readonly termiosLflagOffset: number;
  /** sizeof(tcflag_t): 4, or 8 on macOS (unsigned long). */
  readonly tcflagSize: 4 | 8;
  readonly statSize: number;
  readonly statModeOffset: number;
  /** sizeof(mode_t): 4 on Linux, 2 on BSD. */
  readonly statModeSize: 2 | 4;
}

/** Which calls and behaviours this OS has. */
export interface OsCapabilities {
  readonly epoll: boolean;
  readonly eventfd: boolean;
  readonly pidfd: boolean;
  readonly accept4: boolean;
  readonly pipe2: boolean;
  /** socket(2)/socketpair(2) take SOCK_NONBLOCK | SOCK_CLOEXEC in `type`. */
  readonly socketTypeFlags: boolean;
  /** SIGPIPE is suppressed per socket with SO_NOSIGPIPE (macOS) rather than only per send. */
  readonly soNoSigpipe: boolean;
  /** posix_spawn_file_actions_addchdir_np and _addclosefrom_np are bound at import (glibc). */
  readonly spawnFileActionsNp: boolean;
  /**
   * Variadic arguments go on the stack, not in the next free register (Apple's arm64 ABI): a
   * variadic C function must be bound with its named arguments padded to eight registers.
   */
  readonly variadicOnStack: boolean;
  /**
   * Linux's sendfile(2), `ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count)`,
   * is bound (loop.sockSendfile's native path). macOS and FreeBSD have a sendfile(2) with other
   * arguments; they use the read-and-send fallback.
   */
  readonly sendfile: boolean;
}

/** One OS's C library facts (see the module comment). */
export interface OsTable {
  readonly os: "linux" | "darwin" | "freebsd";
  readonly arch: "x86_64" | "aarch64";
  /** dlopen name of the C library. */
  readonly libc: string;
  /** dlopen name of the library with openpty(3). */
  readonly libutil: string;
  /**
   * Where OpenSSL 3 is (ffi/libssl.ts): libssl/libcrypto pairs tried in order, and how to
   * install it, for the error when none loads.
   */
  readonly openssl: {
    readonly candidates: readonly [
      { readonly ssl: string; readonly crypto: string },
      ...{ readonly ssl: string; readonly crypto: string }[],
    ];
    readonly install: string;
  };
  /** C symbol names where they differ between OSes. */
  readonly symbols: {
    /** The function returning the calling thread's errno address. */
    readonly errnoLocation: string;
    readonly fstat: string;
  };
  readonly has: OsCapabilities;
  readonly constants: Readonly<Record<ConstantName, number | null>>;
  /**
   * errno name → number (aliases such as EWOULDBLOCK left out); the names the loop reacts to
   * (ffi/libc.ts, LoopErrnoName) are required of every OS.
   */
  readonly errno: Readonly<Record<LoopErrnoName, number> & Record<string, number>>;
  /** signal name → number (the names the loop uses, LoopSignalName, required). */
  readonly signals: Readonly<Record<LoopSignalName, number> & Record<string, number>>;
  readonly layouts: OsLayouts;
}

/** The errno names ffi/libc.ts exports by this OS's numbers: every OS table defines them. */
export type LoopErrnoName =
  | "EINTR" | "EBADF" | "EAGAIN" | "ENOENT" | "EINVAL" | "EPERM" | "EEXIST" | "EPIPE"
  | "ECONNRESET" | "EISCONN" | "ECONNREFUSED" | "EALREADY" | "EINPROGRESS" | "EIO" | "ESRCH"
  | "ECONNABORTED" | "ETIMEDOUT" | "ENOSYS" | "ECHILD" | "ENOPROTOOPT";

/** The signal names the loop sends or masks by name: every OS table defines them. */
export type LoopSignalName = "SIGKILL" | "SIGSTOP" | "SIGPIPE" | "SIGXFSZ";
