/**
 * Linux's C library table (glibc, x86-64 and AArch64): the values aioloop was written against,
 * from the kernel's <asm-generic/*.h>, <linux/*.h> and glibc's <bits/*.h> headers. Windows uses
 * this table too: the loop speaks Linux's numbers there and platform/windows*.ts translate.
 */
import { LINUX_ERRNO } from "../errno_linux.ts";
import type { OsTable } from "./table.ts";

/** The Linux table for `arch`. */
export function linuxTable(arch: "x86_64" | "aarch64"): OsTable {
  return {
    os: "linux",
    arch,
    libc: "libc.so.6",
    libutil: "libc.so.6", // openpty moved into libc.so.6 in glibc 2.34
    // OpenSSL 3's soname (Debian/Ubuntu libssl3, Fedora openssl-libs).
    openssl: {
      candidates: [{ ssl: "libssl.so.3", crypto: "libcrypto.so.3" }],
      install: "Install OpenSSL 3 (Debian/Ubuntu: apt-get install libssl3)",
    },
    symbols: { errnoLocation: "__errno_location", fstat: "fstat" },
    has: {
      epoll: true, eventfd: true, pidfd: true, accept4: true, pipe2: true, socketTypeFlags: true,
      soNoSigpipe: false, spawnFileActionsNp: true, variadicOnStack: false, sendfile: true,
    },
    constants: {
      // <bits/socket.h>, <bits/socket_type.h>
      AF_UNSPEC: 0, AF_UNIX: 1, AF_INET: 2, AF_INET6: 10,
      SOCK_STREAM: 1, SOCK_DGRAM: 2, SOCK_RAW: 3, SOCK_SEQPACKET: 5,
      SOCK_NONBLOCK: 0o4000, SOCK_CLOEXEC: 0o2000000, SOMAXCONN: 4096,
      // <asm-generic/socket.h>
      SOL_SOCKET: 1, SO_REUSEADDR: 2, SO_TYPE: 3, SO_ERROR: 4, SO_BROADCAST: 6, SO_SNDBUF: 7,
      SO_RCVBUF: 8, SO_KEEPALIVE: 9, SO_LINGER: 13, SO_REUSEPORT: 15, SO_PROTOCOL: 38,
      SO_DOMAIN: 39, SO_NOSIGPIPE: null,
      // <linux/in.h>, <linux/in6.h>, <linux/tcp.h>
      IPPROTO_IP: 0, IPPROTO_TCP: 6, IPPROTO_UDP: 17, IPPROTO_IPV6: 41, IPV6_V6ONLY: 26,
      TCP_NODELAY: 1, TCP_KEEPIDLE: 4, TCP_KEEPINTVL: 5, TCP_KEEPCNT: 6,
      SHUT_RD: 0, SHUT_WR: 1, SHUT_RDWR: 2,
      // <bits/socket.h> MSG_*
      MSG_OOB: 0x1, MSG_PEEK: 0x2, MSG_DONTROUTE: 0x4, MSG_TRUNC: 0x20, MSG_DONTWAIT: 0x40,
      MSG_EOR: 0x80, MSG_WAITALL: 0x100, MSG_NOSIGNAL: 0x4000,
      // <netdb.h>
      AI_PASSIVE: 0x1, AI_CANONNAME: 0x2, AI_NUMERICHOST: 0x4, AI_V4MAPPED: 0x8, AI_ALL: 0x10,
      AI_ADDRCONFIG: 0x20, AI_NUMERICSERV: 0x400,
      NI_NUMERICHOST: 1, NI_NUMERICSERV: 2, NI_NOFQDN: 4, NI_NAMEREQD: 8, NI_DGRAM: 16,
      EAI_BADFLAGS: -1, EAI_NONAME: -2, EAI_AGAIN: -3, EAI_FAIL: -4, EAI_NODATA: -5,
      EAI_FAMILY: -6, EAI_SOCKTYPE: -7, EAI_SERVICE: -8, EAI_ADDRFAMILY: -9, EAI_MEMORY: -10,
      EAI_SYSTEM: -11, EAI_OVERFLOW: -12,
      // <asm-generic/fcntl.h>
      F_GETFD: 1, F_SETFD: 2, F_GETFL: 3, F_SETFL: 4, FD_CLOEXEC: 1, O_RDWR: 2,
      O_NONBLOCK: 0o4000, O_CLOEXEC: 0o2000000,
      O_RDONLY: 0, O_WRONLY: 1, O_CREAT: 0o100, O_EXCL: 0o200, O_NOCTTY: 0o400, O_TRUNC: 0o1000,
      O_APPEND: 0o2000, O_DSYNC: 0o10000, O_SYNC: 0o4010000, // __O_SYNC | O_DSYNC
      // <asm-generic/fcntl.h> on x86-64; AArch64 moves these two (arch/arm64/include/uapi/asm/fcntl.h)
      O_DIRECTORY: arch === "x86_64" ? 0o200000 : 0o40000,
      O_NOFOLLOW: arch === "x86_64" ? 0o400000 : 0o100000,
      // F_DUPFD_CLOEXEC is F_LINUX_SPECIFIC_BASE (1024, <linux/fcntl.h>) + 6
      F_DUPFD: 0, F_DUPFD_CLOEXEC: 1030,
      // <bits/termios-tcflow.h>, <bits/termios-c_lflag.h>, <bits/termios-struct.h>
      TCSANOW: 0, TCSADRAIN: 1, TCSAFLUSH: 2, ICANON: 0o2, ECHO: 0o10, ISIG: 0o1, NCCS: 32,
      // <linux/wait.h>, <bits/stat.h>
      WNOHANG: 1, S_IFMT: 0o170000, S_IFSOCK: 0o140000, S_IFREG: 0o100000, S_IFDIR: 0o040000,
      S_IFCHR: 0o020000, S_IFIFO: 0o010000,
      // <spawn.h> (glibc)
      POSIX_SPAWN_SETSIGDEF: 0x04, POSIX_SPAWN_SETSIGMASK: 0x08, POSIX_SPAWN_SETSID: 0x80,
      POSIX_SPAWN_CLOEXEC_DEFAULT: null,
      // signal(7): 1..64, glibc's threads take 32 and 33.
      NSIG: 65,
      // <linux/in.h> IP_MULTICAST_IF … IP_DROP_MEMBERSHIP; <linux/in6.h> IPV6_MULTICAST_IF …,
      // IPV6_ADD/DROP_MEMBERSHIP (glibc's <bits/in.h> names them IPV6_JOIN/LEAVE_GROUP).
      IP_MULTICAST_IF: 32, IP_MULTICAST_TTL: 33, IP_MULTICAST_LOOP: 34, IP_ADD_MEMBERSHIP: 35,
      IP_DROP_MEMBERSHIP: 36, IPV6_MULTICAST_IF: 17, IPV6_MULTICAST_HOPS: 18,
      IPV6_MULTICAST_LOOP: 19, IPV6_JOIN_GROUP: 20, IPV6_LEAVE_GROUP: 21,
      // <asm-generic/socket.h>
      SO_BINDTODEVICE: 25,
      // <bits/socket.h> AF_NETLINK, AF_PACKET, SOL_NETLINK; <linux/netlink.h> the protocols and
      // the SOL_NETLINK options; <linux/rtnetlink.h> RTMGRP_*; <linux/if_ether.h> ETH_P_ALL;
      // <linux/if_packet.h> PACKET_* (sll_pkttype).
      AF_NETLINK: 16, AF_PACKET: 17, SOL_NETLINK: 270, NETLINK_ADD_MEMBERSHIP: 1,
      NETLINK_DROP_MEMBERSHIP: 2, NETLINK_ROUTE: 0, NETLINK_USERSOCK: 2, NETLINK_FIREWALL: 3,
      NETLINK_SOCK_DIAG: 4, NETLINK_NFLOG: 5, NETLINK_XFRM: 6, NETLINK_SELINUX: 7,
      NETLINK_ISCSI: 8, NETLINK_AUDIT: 9, NETLINK_FIB_LOOKUP: 10, NETLINK_CONNECTOR: 11,
      NETLINK_NETFILTER: 12, NETLINK_IP6_FW: 13, NETLINK_DNRTMSG: 14, NETLINK_KOBJECT_UEVENT: 15,
      NETLINK_GENERIC: 16, NETLINK_SCSITRANSPORT: 18, NETLINK_ECRYPTFS: 19, NETLINK_RDMA: 20,
      NETLINK_CRYPTO: 21, NETLINK_SMC: 22, RTMGRP_LINK: 0x1, RTMGRP_NOTIFY: 0x2, RTMGRP_NEIGH: 0x4,
      RTMGRP_TC: 0x8, RTMGRP_IPV4_IFADDR: 0x10, RTMGRP_IPV4_MROUTE: 0x20, RTMGRP_IPV4_ROUTE: 0x40,
      RTMGRP_IPV4_RULE: 0x80, RTMGRP_IPV6_IFADDR: 0x100, RTMGRP_IPV6_MROUTE: 0x200,
      RTMGRP_IPV6_ROUTE: 0x400, RTMGRP_IPV6_IFINFO: 0x800, RTMGRP_IPV6_PREFIX: 0x20000,
      ETH_P_ALL: 0x0003, PACKET_HOST: 0, PACKET_BROADCAST: 1, PACKET_MULTICAST: 2,
      PACKET_OTHERHOST: 3, PACKET_OUTGOING: 4, PACKET_LOOPBACK: 5, PACKET_FASTROUTE: 6,
    },
    errno: { ...LINUX_ERRNO },
    // <asm-generic/signal.h>
    signals: {
      SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8,
      SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15,
      SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22,
      SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29,
      SIGPWR: 30, SIGSYS: 31,
    },
    layouts: {
      // <netinet/in.h>, <sys/un.h>, <bits/socket.h> _SS_SIZE
      sockaddrHasLen: false, sockaddrIn: 16, sockaddrIn6: 28, sockaddrUn: 110, sunPath: 108,
      sockaddrStorage: 128, abstractUnixNames: true,
      // <bits/termios-struct.h>: 4 tcflag_t, c_line, c_cc[32], 2 speed_t
      termiosSize: 60, termiosLflagOffset: 12, tcflagSize: 4,
      // <bits/struct_stat.h>: x86-64 {dev, ino, nlink (8 bytes), mode …}; AArch64 the generic
      // <asm-generic/stat.h> {dev, ino, mode, …}.
      statSize: arch === "x86_64" ? 144 : 128,
      statModeOffset: arch === "x86_64" ? 24 : 16,
      statModeSize: 4,
    },
  };
}
