/**
 * macOS's C library table (libSystem, x86-64 and arm64). Every value below, unless its line says
 * "header only", was read from both the Rust libc crate (rust-lang/libc at
 * 2eda1e52fe2efdf93c1e5c65e346343a530d8bc3: src/unix/{mod.rs,bsd/mod.rs,bsd/apple/**}) and Go's
 * x/sys/unix (golang/sys at e8c1c3274309bd87f360205f5706e986ceccb317: unix/zerrors_darwin_*.go,
 * ztypes_darwin_*.go, zsyscall_darwin_*.go), which agree; scripts/gen_os_constants.ts derived
 * them into tests/fixtures/os_constants.json, which tests/ffi/os_tables_test.ts checks this against.
 * The two architectures differ only in symbol names and the variadic calling convention.
 */
import type { OsTable } from "./table.ts";

/** The macOS table for `arch`. */
export function darwinTable(arch: "x86_64" | "aarch64"): OsTable {
  return {
    os: "darwin",
    arch,
    libc: "/usr/lib/libSystem.B.dylib",
    libutil: "/usr/lib/libSystem.B.dylib",
    // macOS ships no OpenSSL 3 (its /usr/lib/libssl.dylib is a LibreSSL stub that aborts a
    // process loading it by that name): Homebrew's openssl@3 keg, whose prefix is /opt/homebrew
    // on arm64 and /usr/local on x86-64 (Homebrew's install docs), then the bare names, which
    // dlopen(3) looks up in DYLD_LIBRARY_PATH and DYLD_FALLBACK_LIBRARY_PATH (/usr/local/lib).
    openssl: {
      candidates: [
        {
          ssl: `${arch === "aarch64" ? "/opt/homebrew" : "/usr/local"}/opt/openssl@3/lib/libssl.3.dylib`,
          crypto: `${arch === "aarch64" ? "/opt/homebrew" : "/usr/local"}/opt/openssl@3/lib/libcrypto.3.dylib`,
        },
        { ssl: "libssl.3.dylib", crypto: "libcrypto.3.dylib" },
      ],
      install: "Install OpenSSL 3 (Homebrew: brew install openssl@3)",
    },
    symbols: {
      // <sys/errno.h>: `#define errno (*__error())`.
      errnoLocation: "__error",
      // x86-64 keeps the 32-bit-inode fstat under the plain name for old binaries; the 64-bit
      // inode struct stat below is fstat$INODE64's (<sys/stat.h> __DARWIN_INODE64). arm64 was
      // born with 64-bit inodes and has only `fstat`.
      fstat: arch === "x86_64" ? "fstat$INODE64" : "fstat",
    },
    has: {
      epoll: false, eventfd: false, pidfd: false, accept4: false, pipe2: false,
      // MSG_NOSIGNAL (below) is public, not private: xnu bsd/sys/socket.h defines it under
      // `#if __DARWIN_C_LEVEL >= 200809L` (the default level), and sendit()/sendmsg_x() in
      // bsd/kern/uipc_syscalls.c skip SIGPIPE for it (read at xnu-11417.101.15, commit
      // e3723e1f1). But it first appears in xnu-7195.50.7.100.1 (macOS 11); macOS 10.15's kernel
      // (xnu-6153.141.1) ignores the bit. So the loop also sets SO_NOSIGPIPE on every socket it
      // creates (platform/posix_socket.ts), which every macOS honours.
      socketTypeFlags: false, soNoSigpipe: true, spawnFileActionsNp: false,
      variadicOnStack: arch === "aarch64", sendfile: false,
    },
    constants: {
      AF_UNSPEC: 0, AF_UNIX: 1, AF_INET: 2, AF_INET6: 30, SOCK_STREAM: 1, SOCK_DGRAM: 2,
      SOCK_RAW: 3, SOCK_SEQPACKET: 5,
      SOCK_NONBLOCK: null,
      SOCK_CLOEXEC: null,
      SOMAXCONN: 128, SOL_SOCKET: 0xffff, SO_REUSEADDR: 4, SO_TYPE: 0x1008, SO_ERROR: 0x1007,
      SO_BROADCAST: 0x20, SO_SNDBUF: 0x1001, SO_RCVBUF: 0x1002, SO_KEEPALIVE: 8, SO_LINGER: 0x80,
      SO_REUSEPORT: 0x200,
      SO_PROTOCOL: null,
      SO_DOMAIN: null,
      SO_NOSIGPIPE: 0x1022, IPPROTO_IP: 0, IPPROTO_TCP: 6, IPPROTO_UDP: 17, IPPROTO_IPV6: 41,
      IPV6_V6ONLY: 27, TCP_NODELAY: 1, TCP_KEEPIDLE: 16, TCP_KEEPINTVL: 257, TCP_KEEPCNT: 258,
      SHUT_RD: 0, SHUT_WR: 1, SHUT_RDWR: 2, MSG_OOB: 1, MSG_PEEK: 2, MSG_DONTROUTE: 4,
      MSG_TRUNC: 0x10, MSG_DONTWAIT: 0x80, MSG_EOR: 8, MSG_WAITALL: 0x40, MSG_NOSIGNAL: 0x80000,
      AI_PASSIVE: 1, AI_CANONNAME: 2, AI_NUMERICHOST: 4, AI_V4MAPPED: 0x800, AI_ALL: 0x100,
      AI_ADDRCONFIG: 0x400, AI_NUMERICSERV: 0x1000, NI_NUMERICHOST: 2, NI_NUMERICSERV: 8,
      NI_NOFQDN: 1, NI_NAMEREQD: 4, NI_DGRAM: 16, EAI_BADFLAGS: 3, EAI_NONAME: 8, EAI_AGAIN: 2,
      EAI_FAIL: 4, EAI_NODATA: 7, EAI_FAMILY: 5, EAI_SOCKTYPE: 10, EAI_SERVICE: 9,
      EAI_ADDRFAMILY: 1, // header only: <netdb.h> "deprecated", in neither source
      EAI_MEMORY: 6, EAI_SYSTEM: 11, EAI_OVERFLOW: 14, F_GETFD: 1, F_SETFD: 2, F_GETFL: 3,
      F_SETFL: 4, FD_CLOEXEC: 1, O_RDWR: 2, O_NONBLOCK: 4, O_CLOEXEC: 0x1000000,
      // <sys/fcntl.h>: open(2) flags and fcntl(2) commands
      O_RDONLY: 0, O_WRONLY: 1, O_APPEND: 0x8, O_CREAT: 0x200, O_EXCL: 0x800, O_TRUNC: 0x400,
      O_NOCTTY: 0x20000, O_SYNC: 0x80, O_DSYNC: 0x400000, O_DIRECTORY: 0x100000, O_NOFOLLOW: 0x100,
      F_DUPFD: 0, F_DUPFD_CLOEXEC: 67, TCSANOW: 0,
      TCSADRAIN: 1, TCSAFLUSH: 2, ICANON: 0x100, ECHO: 8, ISIG: 0x80, NCCS: 20, WNOHANG: 1,
      S_IFMT: 0xf000, S_IFSOCK: 0xc000, S_IFREG: 0x8000, S_IFDIR: 0x4000, S_IFCHR: 0x2000,
      S_IFIFO: 0x1000, POSIX_SPAWN_SETSIGDEF: 4, POSIX_SPAWN_SETSIGMASK: 8,
      POSIX_SPAWN_SETSID: 0x0400, // header only: xnu bsd/sys/spawn.h (macOS 10.15), in neither source
      POSIX_SPAWN_CLOEXEC_DEFAULT: 0x4000,
      NSIG: 32, // <sys/signal.h> __DARWIN_NSIG (the highest signal above is 31)
      // Multicast: <netinet/in.h>, <netinet6/in6.h>.
      IP_MULTICAST_IF: 9, IP_MULTICAST_TTL: 10, IP_MULTICAST_LOOP: 11, IP_ADD_MEMBERSHIP: 12,
      IP_DROP_MEMBERSHIP: 13, IPV6_MULTICAST_IF: 9, IPV6_MULTICAST_HOPS: 10,
      IPV6_MULTICAST_LOOP: 11, IPV6_JOIN_GROUP: 12, IPV6_LEAVE_GROUP: 13,
      // Linux only (SO_BINDTODEVICE, netlink(7), packet(7)): in neither source for this OS.
      SO_BINDTODEVICE: null, AF_NETLINK: null, AF_PACKET: null, SOL_NETLINK: null,
      NETLINK_ADD_MEMBERSHIP: null, NETLINK_DROP_MEMBERSHIP: null, NETLINK_ROUTE: null,
      NETLINK_USERSOCK: null, NETLINK_FIREWALL: null, NETLINK_SOCK_DIAG: null, NETLINK_NFLOG: null,
      NETLINK_XFRM: null, NETLINK_SELINUX: null, NETLINK_ISCSI: null, NETLINK_AUDIT: null,
      NETLINK_FIB_LOOKUP: null, NETLINK_CONNECTOR: null, NETLINK_NETFILTER: null,
      NETLINK_IP6_FW: null, NETLINK_DNRTMSG: null, NETLINK_KOBJECT_UEVENT: null,
      NETLINK_GENERIC: null, NETLINK_SCSITRANSPORT: null, NETLINK_ECRYPTFS: null,
      NETLINK_RDMA: null, NETLINK_CRYPTO: null, NETLINK_SMC: null, RTMGRP_LINK: null,
      RTMGRP_NOTIFY: null, RTMGRP_NEIGH: null, RTMGRP_TC: null, RTMGRP_IPV4_IFADDR: null,
      RTMGRP_IPV4_MROUTE: null, RTMGRP_IPV4_ROUTE: null, RTMGRP_IPV4_RULE: null,
      RTMGRP_IPV6_IFADDR: null, RTMGRP_IPV6_MROUTE: null, RTMGRP_IPV6_ROUTE: null,
      RTMGRP_IPV6_IFINFO: null, RTMGRP_IPV6_PREFIX: null, ETH_P_ALL: null, PACKET_HOST: null,
      PACKET_BROADCAST: null, PACKET_MULTICAST: null, PACKET_OTHERHOST: null,
      PACKET_OUTGOING: null, PACKET_LOOPBACK: null, PACKET_FASTROUTE: null,
    },
    errno: {
      EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8, EBADF: 9,
      ECHILD: 10, EDEADLK: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, ENOTBLK: 15, EBUSY: 16,
      EEXIST: 17, EXDEV: 18, ENODEV: 19, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENFILE: 23,
      EMFILE: 24, ENOTTY: 25, ETXTBSY: 26, EFBIG: 27, ENOSPC: 28, ESPIPE: 29, EROFS: 30,
      EMLINK: 31, EPIPE: 32, EDOM: 33, ERANGE: 34, EAGAIN: 35, EINPROGRESS: 36, EALREADY: 37,
      ENOTSOCK: 38, EDESTADDRREQ: 39, EMSGSIZE: 40, EPROTOTYPE: 41, ENOPROTOOPT: 42,
      EPROTONOSUPPORT: 43, ESOCKTNOSUPPORT: 44, ENOTSUP: 45, EPFNOSUPPORT: 46, EAFNOSUPPORT: 47,
      EADDRINUSE: 48, EADDRNOTAVAIL: 49, ENETDOWN: 50, ENETUNREACH: 51, ENETRESET: 52,
      ECONNABORTED: 53, ECONNRESET: 54, ENOBUFS: 55, EISCONN: 56, ENOTCONN: 57, ESHUTDOWN: 58,
      ETOOMANYREFS: 59, ETIMEDOUT: 60, ECONNREFUSED: 61, ELOOP: 62, ENAMETOOLONG: 63,
      EHOSTDOWN: 64, EHOSTUNREACH: 65, ENOTEMPTY: 66, EPROCLIM: 67, EUSERS: 68, EDQUOT: 69,
      ESTALE: 70, EREMOTE: 71, EBADRPC: 72, ERPCMISMATCH: 73, EPROGUNAVAIL: 74, EPROGMISMATCH: 75,
      EPROCUNAVAIL: 76, ENOLCK: 77, ENOSYS: 78, EFTYPE: 79, EAUTH: 80, ENEEDAUTH: 81, EPWROFF: 82,
      EDEVERR: 83, EOVERFLOW: 84, EBADEXEC: 85, EBADARCH: 86, ESHLIBVERS: 87, EBADMACHO: 88,
      ECANCELED: 89, EIDRM: 90, ENOMSG: 91, EILSEQ: 92, ENOATTR: 93, EBADMSG: 94, EMULTIHOP: 95,
      ENODATA: 96, ENOLINK: 97, ENOSR: 98, ENOSTR: 99, EPROTO: 100, ETIME: 101, EOPNOTSUPP: 102,
      ENOPOLICY: 103, ENOTRECOVERABLE: 104, EOWNERDEAD: 105, EQFULL: 106,
    },
    signals: {
      SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGEMT: 7, SIGFPE: 8,
      SIGKILL: 9, SIGBUS: 10, SIGSEGV: 11, SIGSYS: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15,
      SIGURG: 16, SIGSTOP: 17, SIGTSTP: 18, SIGCONT: 19, SIGCHLD: 20, SIGTTIN: 21, SIGTTOU: 22,
      SIGIO: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGINFO: 29,
      SIGUSR1: 30, SIGUSR2: 31,
    },
    layouts: {
      // struct sockaddr_in/_in6/_un/_storage: uint8_t sa_len, sa_family_t (uint8_t) first.
      sockaddrHasLen: true, sockaddrIn: 16, sockaddrIn6: 28, sockaddrUn: 106, sunPath: 104,
      sockaddrStorage: 128, abstractUnixNames: false,
      // struct termios: tcflag_t (unsigned long) ×4 @0,8,16,24, cc_t c_cc[20] @32, speed_t ×2.
      termiosSize: 72, termiosLflagOffset: 24, tcflagSize: 8,
      // struct stat (64-bit inodes): dev_t (i32) @0, mode_t (u16) st_mode @4 … 144 bytes.
      statSize: 144, statModeOffset: 4, statModeSize: 2,
    },
  };
}
