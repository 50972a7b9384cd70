/**
 * aioloop: Python asyncio's event loop for Deno and Bun, driving the OS poller (epoll) through
 * FFI. Names are asyncio's in camelCase; times are in seconds; Python's exceptions are Error
 * subclasses of the same names.
 *
 * @module
 */
export {
  BaseEventLoop,
  type Awaitable,
  type CreateTaskOptions,
  type ExceptionContext,
  type ExceptionHandler,
  type TaskFactory,
} from "./loop/base_loop.ts";
export { type BytesLike } from "./loop/core/bytes.ts";
export { type FileLike, fileObjToFd } from "./loop/core/file_like.ts";
export { SelectorEventLoop } from "./loop/selector/selector_loop.ts";
export { ProactorEventLoop } from "./loop/proactor/proactor_loop.ts";
export type { CompletionTarget, Proactor } from "./loop/proactor/proactor.ts";
export { EVENT_READ, EVENT_WRITE, type Selector } from "./loop/selector/selector.ts";
export type { ReadinessLoop } from "./loop/core/readiness_loop.ts";
export type {
  AbstractEventLoop, AbstractFuture, AbstractHandle, AbstractTask, AbstractTimerHandle,
} from "./loop/core/abstract_loop.ts";
export type { EventLoop } from "./loop/event_loop.ts";
export type { AcceptingServer, PipeTransportMaker, TransportLoop } from "./loop/transports/transport_loop.ts";
export type { ExecutorLoop } from "./loop/concurrency/executor.ts";
export { Handle, TimerHandle } from "./loop/core/handles.ts";
export { Future, isFuture, type DoneCallback } from "./loop/core/futures.ts";
export { Task, currentTask, type Coroutine } from "./loop/core/tasks.ts";
export {
  getEventLoop, getRunningLoop, newEventLoop, type NewEventLoopOptions, run, setEventLoop,
  type RunOptions,
} from "./loop/events.ts";
export type { SelectorChoice, SelectorKind } from "./platform/default_selector.ts";
export type { SignalLike } from "./loop/process/signals.ts";
export {
  allTasks, ensureFuture, gather, sleep, waitFor, type GatherOptions, type GatherResults,
  type LoopOption,
} from "./loop/concurrency/coroutines.ts";
export {
  BaseExceptionGroup, BrokenBarrierError, CancelledError, ExceptionGroup, InvalidStateError,
  NotImplementedError, OSError, OverflowError, QueueEmpty, QueueFull, RuntimeError,
  SendfileNotAvailableError, TimeoutError, ValueError,
} from "./loop/core/errors.ts";
export type { SendfileFile, SendfileLoop, SendfileOptions } from "./loop/net/sendfile.ts";
export {
  ALL_COMPLETED, asCompleted, type AsCompleted, type AsCompletedOptions, createTask,
  FIRST_COMPLETED, FIRST_EXCEPTION, type ReturnWhen, shield, wait, type WaitOptions,
} from "./loop/concurrency/wait.ts";
export { Timeout, timeout, timeoutAt, type TimeoutBody } from "./loop/concurrency/timeouts.ts";
export { TaskGroup, type TaskGroupBody } from "./loop/concurrency/taskgroups.ts";
export { Barrier, BoundedSemaphore, Condition, Event, Lock, Semaphore } from "./loop/concurrency/locks.ts";
export { LoopBound } from "./loop/concurrency/loop_bound.ts";
export {
  type Comparator, LifoQueue, PriorityQueue, type PriorityQueueOptions, pythonCompare, Queue,
} from "./loop/concurrency/queues.ts";
export { toThread } from "./loop/concurrency/threads.ts";
export {
  AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC, AI_ADDRCONFIG, AI_ALL, AI_CANONNAME, AI_NUMERICHOST,
  AI_NUMERICSERV, AI_PASSIVE, AI_V4MAPPED, inetNtop, inetPton, IPPROTO_IP, IPPROTO_IPV6,
  IPPROTO_TCP, IPPROTO_UDP, IPV6_V6ONLY, isIpAddress, isIpv4Address, isIpv6Address,
  MSG_DONTWAIT, MSG_NOSIGNAL, MSG_PEEK, MSG_TRUNC, MSG_WAITALL, NI_DGRAM, NI_NAMEREQD, NI_NOFQDN,
  NI_NUMERICHOST, NI_NUMERICSERV, SHUT_RD, SHUT_RDWR, SHUT_WR, SO_BROADCAST, SO_ERROR,
  SO_KEEPALIVE, SO_LINGER, SO_RCVBUF, SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF, SO_TYPE,
  SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_RAW, SOCK_SEQPACKET, SOCK_STREAM, Socket,
  socketpair, SOL_SOCKET, SOMAXCONN, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_NODELAY,
  type AddressLike, type SockAddr,
} from "./loop/net/socket.ts";
// Socket families and options of issue 18: netlink(7), packet(7), multicast (Linux-only names
// are undefined elsewhere, as Python's socket module lacks them there).
export {
  AF_NETLINK, AF_PACKET, ETH_P_ALL, htonl, htons, ifIndextoname, ifNametoindex,
  IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP,
  IP_MULTICAST_IF, IP_MULTICAST_LOOP, IP_MULTICAST_TTL, ipMreq, ipMreqn, ipv6Mreq,
  IPV6_JOIN_GROUP, IPV6_LEAVE_GROUP, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_IF,
  IPV6_MULTICAST_LOOP, NETLINK_ADD_MEMBERSHIP, NETLINK_AUDIT, NETLINK_CONNECTOR, NETLINK_CRYPTO,
  NETLINK_DNRTMSG, NETLINK_DROP_MEMBERSHIP, NETLINK_ECRYPTFS, NETLINK_FIB_LOOKUP,
  NETLINK_FIREWALL, NETLINK_GENERIC, NETLINK_IP6_FW, NETLINK_ISCSI, NETLINK_KOBJECT_UEVENT,
  NETLINK_NETFILTER, NETLINK_NFLOG, NETLINK_RDMA, NETLINK_ROUTE, NETLINK_SCSITRANSPORT,
  NETLINK_SELINUX, NETLINK_SMC, NETLINK_SOCK_DIAG, NETLINK_USERSOCK, NETLINK_XFRM, ntohl, ntohs,
  PACKET_BROADCAST, PACKET_FASTROUTE, PACKET_HOST, PACKET_LOOPBACK, PACKET_MULTICAST,
  PACKET_OTHERHOST, PACKET_OUTGOING, type PacketAddress, RTMGRP_IPV4_IFADDR, RTMGRP_IPV4_MROUTE,
  RTMGRP_IPV4_ROUTE, RTMGRP_IPV4_RULE, RTMGRP_IPV6_IFADDR, RTMGRP_IPV6_IFINFO, RTMGRP_IPV6_MROUTE,
  RTMGRP_IPV6_PREFIX, RTMGRP_IPV6_ROUTE, RTMGRP_LINK, RTMGRP_NEIGH, RTMGRP_NOTIFY, RTMGRP_TC,
  SO_BINDTODEVICE, SOL_NETLINK,
} from "./loop/net/socket.ts";
export {
  EAI_ADDRFAMILY, EAI_AGAIN, EAI_BADFLAGS, EAI_FAIL, EAI_FAMILY, EAI_MEMORY, EAI_NODATA,
  EAI_NONAME, EAI_OVERFLOW, EAI_SERVICE, EAI_SOCKTYPE, EAI_SYSTEM, gaierror, type AddrInfo,
  type GetAddrInfoOptions,
} from "./loop/net/dns.ts";
export {
  BaseProtocol, BufferedProtocol, DatagramProtocol, Protocol, SubprocessProtocol,
  type BaseProtocolLike, type BufferedProtocolLike, type DatagramProtocolLike,
  type ProtocolFactory, type ProtocolLike, type SubprocessProtocolLike,
} from "./loop/transports/protocols.ts";
export type {
  BaseTransport, DatagramTransport, ExtraInfo, ReadTransport, SubprocessTransport, Transport,
  WriteTransport,
} from "./loop/transports/base.ts";
export type { AddressOf, Inet6Family, InetFamily, UnixFamily } from "./ffi/families.ts";
export type { FlowControl } from "./loop/transports/flow_control.ts";
export type { StreamTransport } from "./loop/transports/stream_base.ts";
export { Server } from "./loop/net/server.ts";
export type {
  ConnectAcceptedSocketOptions, CreateConnectionOptions, CreateServerOptions,
  CreateUnixConnectionOptions, CreateUnixServerOptions,
} from "./loop/net/connections.ts";
export type { DatagramEndpointOptions } from "./loop/net/datagram_endpoint.ts";
export {
  DEFAULT_LIMIT, IncompleteReadError, LimitOverrunError, openConnection, openUnixConnection,
  startServer, startUnixServer, StreamReader, StreamReaderProtocol, StreamWriter,
  type ClientConnectedCallback, type Separator, type StreamOptions, type StreamReaderOptions,
  type StreamStartTlsOptions,
} from "./loop/streams/streams.ts";
export type { StartTlsOptions } from "./loop/tls/start_tls.ts";
export {
  type Executor, ImportError, type ShutdownOptions, type Submission, task, WorkerPoolExecutor,
  type WorkerTask,
} from "./loop/concurrency/executor.ts";
export { ReadPipeTransport, WritePipeTransport } from "./loop/selector/unix_pipes.ts";
export {
  BaseSubprocessTransport, DEVNULL, PIPE, STDOUT, UnixSubprocessTransport, type StdioOption,
  type SubprocessOptions,
} from "./loop/process/subprocess.ts";
export {
  createSubprocessExec, createSubprocessShell, Process, SubprocessStreamProtocol,
  type ProcessOptions,
} from "./loop/process/process.ts";
export type { ExecArgs } from "./loop/process/subprocess_options.ts";
export {
  CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED, CertificateError, createDefaultContext, opensslVersion,
  PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER, Purpose, SSLCertVerificationError, SSLContext,
  SSLEOFError, SSLError, SSLObject, SSLZeroReturnError, TLSVersion, tlsObjectCounts,
  type DefaultContextOptions, type KeyPassword, type NameTuple, type PeerCert, type PurposeName,
  type SSLProtocolKind, type VerifyMode,
} from "./loop/tls/ssl.ts";
export {
  SSL_HANDSHAKE_TIMEOUT, SSL_SHUTDOWN_TIMEOUT, SSLProtocol, SSLProtocolTransport,
  type SSLProtocolOptions,
} from "./loop/tls/sslproto.ts";
export {
  IN_ACCESS, IN_ALL_EVENTS, IN_ATTRIB, IN_CLOSE, IN_CLOSE_NOWRITE, IN_CLOSE_WRITE, IN_CREATE,
  IN_DELETE, IN_DELETE_SELF, IN_DONT_FOLLOW, IN_EXCL_UNLINK, IN_IGNORED, IN_ISDIR, IN_MASK_ADD,
  IN_MODIFY, IN_MOVE, IN_MOVE_SELF, IN_MOVED_FROM, IN_MOVED_TO, IN_ONESHOT, IN_ONLYDIR, IN_OPEN,
  IN_Q_OVERFLOW, IN_UNMOUNT, Inotify, type InotifyEvent, inotifyMaskNames, parseInotifyEvents,
} from "./ffi/inotify.ts";
export {
  ECHO, ICANON, isatty, ISIG, localFlags, setRaw, TCSADRAIN, TCSAFLUSH, TCSANOW, tcgetattr,
  tcsetattr, type TerminalMode,
} from "./ffi/termios.ts";
// Files, devices and pipes by fd (issue 18 §1): Python's os/fcntl fd calls over the loop's FFI,
// an fd as streams, an fd's readiness as an async iterator.
export { BlockingIOError } from "./loop/core/errors.ts";
export { type BufferLike, os, type OsModule } from "./ffi/os_module.ts";
export { fcntl, type FcntlModule } from "./ffi/fcntl_module.ts";
export { openFd, type OpenFdOptions, openReadFd, openWriteFd } from "./loop/streams/fd_streams.ts";
export { FdEvents, type FdEventsOptions, readableEvents, writableEvents } from "./loop/streams/fd_readiness.ts";
// Web-platform interop (issue 18 §3): Web streams views of a connection; AbortSignal options.
export {
  type ReadableStreamOptions, toReadableStream, toWritableStream, type WritableStreamOptions,
} from "./loop/streams/web_streams.ts";
export { WebStreamProtocol, type WebStreamProtocolOptions } from "./loop/streams/web_stream_protocol.ts";
export type { AbortSignalOption } from "./loop/core/abort.ts";
export type { WaitForOptions } from "./loop/concurrency/coroutines.ts";
