/**
 * Socket constants of this OS, under the names Python's `socket` module uses, with this OS's
 * values (ffi/os/: Linux's <bits/socket.h>, <asm-generic/socket.h>, <linux/in.h>, <netdb.h> …;
 * macOS's and FreeBSD's <sys/socket.h>, <netinet/in.h>, <netdb.h>). A constant the OS lacks
 * is 0 if it is a flag (SOCK_NONBLOCK, SOCK_CLOEXEC on macOS: OR-ing it in changes nothing)
 * and a negative number no OS uses if it is an option number (SO_PROTOCOL -1, SO_DOMAIN -2 on
 * macOS, where platform/posix_socket.ts answers getsockopt for them from getsockname and SO_TYPE).
 */
import { osTable } from "./os/current.ts";

const C = osTable.constants;

// Address families: <bits/socket.h> (PF_* = AF_*).
/** `AF_UNSPEC` — address families: <bits/socket.h> (PF_* = AF_*). */
export const AF_UNSPEC: number = C.AF_UNSPEC!;
/** `AF_UNIX` — address families: <bits/socket.h> (PF_* = AF_*). */
export const AF_UNIX: number = C.AF_UNIX!;
/** `AF_INET` — address families: <bits/socket.h> (PF_* = AF_*). */
export const AF_INET: number = C.AF_INET!;
/** `AF_INET6` — address families: <bits/socket.h> (PF_* = AF_*). */
export const AF_INET6: number = C.AF_INET6!;

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

// Multicast options: Linux <linux/in.h>, <linux/in6.h>; BSD <netinet/in.h>, <netinet6/in6.h>.
// ip(7) and ipv6(7) describe them; ipMreq()/ipMreqn()/ipv6Mreq() (ffi/sockaddr.ts) build the
// structs IP_ADD_MEMBERSHIP and IPV6_JOIN_GROUP take.
/** IPPROTO_IP option: the interface multicast datagrams leave by (an `in_addr`, or an `ip_mreqn` on Linux). */
export const IP_MULTICAST_IF: number = C.IP_MULTICAST_IF!;
/** IPPROTO_IP option: the TTL of outgoing multicast datagrams (an int, default 1). */
export const IP_MULTICAST_TTL: number = C.IP_MULTICAST_TTL!;
/** IPPROTO_IP option: whether this host's own multicast datagrams loop back to its sockets (an int, default 1). */
export const IP_MULTICAST_LOOP: number = C.IP_MULTICAST_LOOP!;
/** IPPROTO_IP option: join a multicast group (an `ip_mreq`, or an `ip_mreqn` on Linux: see ipMreq). */
export const IP_ADD_MEMBERSHIP: number = C.IP_ADD_MEMBERSHIP!;
/** IPPROTO_IP option: leave a multicast group (the same struct as IP_ADD_MEMBERSHIP). */
export const IP_DROP_MEMBERSHIP: number = C.IP_DROP_MEMBERSHIP!;
/** IPPROTO_IPV6 option: the interface index outgoing multicast datagrams use (an int). */
export const IPV6_MULTICAST_IF: number = C.IPV6_MULTICAST_IF!;
/** IPPROTO_IPV6 option: the hop limit of outgoing multicast datagrams (an int, -1: the default 1). */
export const IPV6_MULTICAST_HOPS: number = C.IPV6_MULTICAST_HOPS!;
/** IPPROTO_IPV6 option: whether this host's own multicast datagrams loop back (an int, default 1). */
export const IPV6_MULTICAST_LOOP: number = C.IPV6_MULTICAST_LOOP!;
/** IPPROTO_IPV6 option: join a multicast group (an `ipv6_mreq`: see ipv6Mreq). Linux's IPV6_ADD_MEMBERSHIP. */
export const IPV6_JOIN_GROUP: number = C.IPV6_JOIN_GROUP!;
/** IPPROTO_IPV6 option: leave a multicast group (an `ipv6_mreq`). Linux's IPV6_DROP_MEMBERSHIP. */
export const IPV6_LEAVE_GROUP: number = C.IPV6_LEAVE_GROUP!;

// Linux only (undefined elsewhere, where Python's socket module lacks them too).
/**
 * SOL_SOCKET option, Linux only (<asm-generic/socket.h>, socket(7)): bind to an interface by
 * name (bytes, e.g. "lo"); usually needs CAP_NET_RAW.
 */
export const SO_BINDTODEVICE: number | undefined = C.SO_BINDTODEVICE ?? undefined;

// netlink(7), Linux only: <bits/socket.h> AF_NETLINK, SOL_NETLINK; <linux/netlink.h> the
// protocols (socket(AF_NETLINK, SOCK_RAW or SOCK_DGRAM, protocol)) and SOL_NETLINK options.
/** Address family of netlink(7) sockets, Linux only; addresses are `[pid, groups]`. */
export const AF_NETLINK: number | undefined = C.AF_NETLINK ?? undefined;
/** Option level of netlink(7) socket options (NETLINK_ADD_MEMBERSHIP …), Linux only. */
export const SOL_NETLINK: number | undefined = C.SOL_NETLINK ?? undefined;
/** SOL_NETLINK option: join one multicast group by number (an int), Linux only. */
export const NETLINK_ADD_MEMBERSHIP: number | undefined = C.NETLINK_ADD_MEMBERSHIP ?? undefined;
/** SOL_NETLINK option: leave one multicast group by number (an int), Linux only. */
export const NETLINK_DROP_MEMBERSHIP: number | undefined = C.NETLINK_DROP_MEMBERSHIP ?? undefined;
/** netlink(7) protocol, Linux only: routing and link updates (rtnetlink(7)). */
export const NETLINK_ROUTE: number | undefined = C.NETLINK_ROUTE ?? undefined;
/** netlink(7) protocol, Linux only: reserved for user-mode socket protocols. */
export const NETLINK_USERSOCK: number | undefined = C.NETLINK_USERSOCK ?? undefined;
/** netlink(7) protocol, Linux only: unused (was ip_queue). */
export const NETLINK_FIREWALL: number | undefined = C.NETLINK_FIREWALL ?? undefined;
/** netlink(7) protocol, Linux only: socket monitoring (sock_diag(7)). */
export const NETLINK_SOCK_DIAG: number | undefined = C.NETLINK_SOCK_DIAG ?? undefined;
/** netlink(7) protocol, Linux only: netfilter/iptables ULOG. */
export const NETLINK_NFLOG: number | undefined = C.NETLINK_NFLOG ?? undefined;
/** netlink(7) protocol, Linux only: IPsec. */
export const NETLINK_XFRM: number | undefined = C.NETLINK_XFRM ?? undefined;
/** netlink(7) protocol, Linux only: SELinux event notifications. */
export const NETLINK_SELINUX: number | undefined = C.NETLINK_SELINUX ?? undefined;
/** netlink(7) protocol, Linux only: Open-iSCSI. */
export const NETLINK_ISCSI: number | undefined = C.NETLINK_ISCSI ?? undefined;
/** netlink(7) protocol, Linux only: the kernel audit subsystem. */
export const NETLINK_AUDIT: number | undefined = C.NETLINK_AUDIT ?? undefined;
/** netlink(7) protocol, Linux only: FIB lookups from user space. */
export const NETLINK_FIB_LOOKUP: number | undefined = C.NETLINK_FIB_LOOKUP ?? undefined;
/** netlink(7) protocol, Linux only: the kernel connector. */
export const NETLINK_CONNECTOR: number | undefined = C.NETLINK_CONNECTOR ?? undefined;
/** netlink(7) protocol, Linux only: netfilter subsystem. */
export const NETLINK_NETFILTER: number | undefined = C.NETLINK_NETFILTER ?? undefined;
/** netlink(7) protocol, Linux only: unused (was ip6_queue). */
export const NETLINK_IP6_FW: number | undefined = C.NETLINK_IP6_FW ?? undefined;
/** netlink(7) protocol, Linux only: DECnet routing messages. */
export const NETLINK_DNRTMSG: number | undefined = C.NETLINK_DNRTMSG ?? undefined;
/** netlink(7) protocol, Linux only: kernel device events to user space (udev's). */
export const NETLINK_KOBJECT_UEVENT: number | undefined = C.NETLINK_KOBJECT_UEVENT ?? undefined;
/** netlink(7) protocol, Linux only: generic netlink (genetlink). */
export const NETLINK_GENERIC: number | undefined = C.NETLINK_GENERIC ?? undefined;
/** netlink(7) protocol, Linux only: SCSI transports. */
export const NETLINK_SCSITRANSPORT: number | undefined = C.NETLINK_SCSITRANSPORT ?? undefined;
/** netlink(7) protocol, Linux only: eCryptfs. */
export const NETLINK_ECRYPTFS: number | undefined = C.NETLINK_ECRYPTFS ?? undefined;
/** netlink(7) protocol, Linux only: RDMA. */
export const NETLINK_RDMA: number | undefined = C.NETLINK_RDMA ?? undefined;
/** netlink(7) protocol, Linux only: the kernel crypto API's user configuration. */
export const NETLINK_CRYPTO: number | undefined = C.NETLINK_CRYPTO ?? undefined;
/** netlink(7) protocol, Linux only: SMC monitoring. */
export const NETLINK_SMC: number | undefined = C.NETLINK_SMC ?? undefined;

// rtnetlink(7) multicast groups for a NETLINK_ROUTE socket's `groups` (<linux/rtnetlink.h>),
// Linux only: bits to OR into bind()'s [pid, groups].
/** rtnetlink(7) group, Linux only: link (interface) changes: RTM_NEWLINK/RTM_DELLINK. */
export const RTMGRP_LINK: number | undefined = C.RTMGRP_LINK ?? undefined;
/** rtnetlink(7) group, Linux only: notifications. */
export const RTMGRP_NOTIFY: number | undefined = C.RTMGRP_NOTIFY ?? undefined;
/** rtnetlink(7) group, Linux only: neighbour (ARP/NDP) table changes. */
export const RTMGRP_NEIGH: number | undefined = C.RTMGRP_NEIGH ?? undefined;
/** rtnetlink(7) group, Linux only: traffic control changes. */
export const RTMGRP_TC: number | undefined = C.RTMGRP_TC ?? undefined;
/** rtnetlink(7) group, Linux only: IPv4 address changes. */
export const RTMGRP_IPV4_IFADDR: number | undefined = C.RTMGRP_IPV4_IFADDR ?? undefined;
/** rtnetlink(7) group, Linux only: IPv4 multicast route changes. */
export const RTMGRP_IPV4_MROUTE: number | undefined = C.RTMGRP_IPV4_MROUTE ?? undefined;
/** rtnetlink(7) group, Linux only: IPv4 route changes. */
export const RTMGRP_IPV4_ROUTE: number | undefined = C.RTMGRP_IPV4_ROUTE ?? undefined;
/** rtnetlink(7) group, Linux only: IPv4 policy rule changes. */
export const RTMGRP_IPV4_RULE: number | undefined = C.RTMGRP_IPV4_RULE ?? undefined;
/** rtnetlink(7) group, Linux only: IPv6 address changes. */
export const RTMGRP_IPV6_IFADDR: number | undefined = C.RTMGRP_IPV6_IFADDR ?? undefined;
/** rtnetlink(7) group, Linux only: IPv6 multicast route changes. */
export const RTMGRP_IPV6_MROUTE: number | undefined = C.RTMGRP_IPV6_MROUTE ?? undefined;
/** rtnetlink(7) group, Linux only: IPv6 route changes. */
export const RTMGRP_IPV6_ROUTE: number | undefined = C.RTMGRP_IPV6_ROUTE ?? undefined;
/** rtnetlink(7) group, Linux only: IPv6 interface information changes. */
export const RTMGRP_IPV6_IFINFO: number | undefined = C.RTMGRP_IPV6_IFINFO ?? undefined;
/** rtnetlink(7) group, Linux only: IPv6 prefix changes. */
export const RTMGRP_IPV6_PREFIX: number | undefined = C.RTMGRP_IPV6_PREFIX ?? undefined;

// packet(7), Linux only: <bits/socket.h> AF_PACKET, <linux/if_ether.h> ETH_P_ALL,
// <linux/if_packet.h> PACKET_* (an address's pkttype).
/** Address family of packet(7) sockets, Linux only; addresses are `[ifname, proto, pkttype?, hatype?, addr?]`. */
export const AF_PACKET: number | undefined = C.AF_PACKET ?? undefined;
/**
 * Ethernet protocol number for every protocol (packet(7)), Linux only; socket(2)'s protocol
 * argument takes it in network order: `htons(ETH_P_ALL)`.
 */
export const ETH_P_ALL: number | undefined = C.ETH_P_ALL ?? undefined;
/** packet(7) pkttype, Linux only: addressed to this host. */
export const PACKET_HOST: number | undefined = C.PACKET_HOST ?? undefined;
/** packet(7) pkttype, Linux only: a link-layer broadcast. */
export const PACKET_BROADCAST: number | undefined = C.PACKET_BROADCAST ?? undefined;
/** packet(7) pkttype, Linux only: a link-layer multicast. */
export const PACKET_MULTICAST: number | undefined = C.PACKET_MULTICAST ?? undefined;
/** packet(7) pkttype, Linux only: to another host, seen in promiscuous mode. */
export const PACKET_OTHERHOST: number | undefined = C.PACKET_OTHERHOST ?? undefined;
/** packet(7) pkttype, Linux only: sent by this host. */
export const PACKET_OUTGOING: number | undefined = C.PACKET_OUTGOING ?? undefined;
/** packet(7) pkttype, Linux only: looped back. */
export const PACKET_LOOPBACK: number | undefined = C.PACKET_LOOPBACK ?? undefined;
/** packet(7) pkttype, Linux only: fast-routed (unused). */
export const PACKET_FASTROUTE: number | undefined = C.PACKET_FASTROUTE ?? undefined;
