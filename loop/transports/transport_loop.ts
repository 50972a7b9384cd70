/**
 * TransportLoop: what the code that makes transports — connections and servers
 * (loop/net/connections.ts, server.ts), datagram endpoints, subprocesses — asks of an event
 * loop beyond AbstractEventLoop and runInExecutor (name resolution): the few sock_* calls it builds on, and each loop family's own
 * transports and accept loop (asyncio's _make_socket_transport, _make_datagram_transport,
 * _start_serving and the pipe transports of _make_subprocess_transport).
 *
 * Both loop families implement every hook; none returns null for the caller to fall back on.
 * SelectorEventLoop (loop/selector/) answers with readiness transports; ProactorEventLoop
 * (loop/proactor/) with whatever its proactor does, decided once when it is built. The shared
 * code above only ever names this interface, so it imports neither family.
 */
import type { SockAddr } from "../../ffi/sockaddr.ts";
import type { AbstractFuture } from "../core/abstract_loop.ts";
import type { ExecutorLoop } from "../concurrency/executor.ts";
import type { AddrInfo, GetAddrInfoOptions } from "../net/dns.ts";
import type { AddressLike, Socket } from "../net/socket.ts";
import type { BaseTransport, DatagramTransport, Transport } from "./base.ts";
import type { BufferedProtocolLike, DatagramProtocolLike, ProtocolLike } from "./protocols.ts";
import type { SocketTransportOptions } from "./socket_base.ts";

/** What a loop family's accept loop needs of the Server it accepts for (loop/net/server.ts). */
export interface AcceptingServer {
  /** @ignore How many connections to accept per readiness event (the listen backlog). */
  readonly _backlog: number;
  /** @ignore True while the server still accepts on `listener` (not closed, not stopped). */
  _acceptsOn(listener: Socket): boolean;
  /** @ignore Wrap an accepted non-blocking socket in a transport, with a protocol from the factory. */
  _acceptConnection(conn: Socket, addr: SockAddr): void;
}

/** Wraps a child's pipe end `fd` (writing: the child's stdin) in a pipe transport. */
export type PipeTransportMaker = (fd: number, protocol: ProtocolLike, writing: boolean) => BaseTransport;

/** An event loop as transports are made on it (asyncio base_events' view of its subclasses). */
export interface TransportLoop extends ExecutorLoop {
  /** Resolve host/port without blocking the loop (asyncio getaddrinfo). */
  getaddrinfo(host: string | null, port: number | string | null, options?: GetAddrInfoOptions): Promise<AddrInfo[]>;
  /** Connect a non-blocking socket to a resolved address (asyncio sock_connect). */
  sockConnect(sock: Socket, address: AddressLike): Promise<void>;
  /** @ignore A transport for a connected stream socket (asyncio _make_socket_transport). */
  _makeSocketTransport(
    sock: Socket,
    protocol: ProtocolLike | BufferedProtocolLike,
    options?: SocketTransportOptions,
  ): Transport;
  /** @ignore A transport for a datagram socket (asyncio _make_datagram_transport). */
  _makeDatagramTransport(
    sock: Socket,
    protocol: DatagramProtocolLike,
    address: unknown,
    waiter: AbstractFuture<unknown>,
  ): DatagramTransport;
  /**
   * @ignore Accept connections on the listening `listener` for `server` (asyncio
   * _start_serving); returns how to stop.
   */
  _startServing(server: AcceptingServer, listener: Socket): () => void;
  /**
   * @ignore How this loop wraps a subprocess's pipe ends. Asynchronous because the POSIX pipe
   * transports are loaded on first use: they bind fstat when loaded, which a loop on Windows
   * must not need.
   */
  _subprocessPipes(): Promise<PipeTransportMaker>;
}
