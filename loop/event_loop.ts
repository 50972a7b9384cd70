/**
 * EventLoop: the whole public surface of an event loop (asyncio.AbstractEventLoop): the core
 * of loop/core/abstract_loop.ts, the transport hooks of loop/transports/transport_loop.ts, and
 * the networking, TLS, pipe, subprocess, signal and executor methods. The high-level APIs that
 * use a loop's networking — streams (loop/streams/) and asyncio.subprocess (loop/process/
 * process.ts) — type their loop with it; BaseEventLoop implements it, and both loop families
 * inherit that.
 *
 * It lives at the top of loop/, beside base_loop.ts, because its signatures name the option
 * and result types of every layer below; nothing below may import it.
 */
import type { Inet6Family, InetFamily, UnixFamily } from "../ffi/families.ts";
import type { BytesLike } from "./core/bytes.ts";
import type { FileLike } from "./core/file_like.ts";
import type { Executor } from "./concurrency/executor.ts";
import type {
  ConnectAcceptedSocketOptions, CreateConnectionOptions, CreateServerOptions, CreateUnixConnectionOptions,
  CreateUnixServerOptions,
} from "./net/connections.ts";
import type { DatagramEndpointOptions } from "./net/datagram_endpoint.ts";
import type { SendfileFile, SendfileLoop, SendfileOptions } from "./net/sendfile.ts";
import type { Server } from "./net/server.ts";
import type { AddressLike, SockAddr, Socket } from "./net/socket.ts";
import type { SignalLike } from "./process/signals.ts";
import type { SubprocessOptions } from "./process/subprocess.ts";
import type { ExecArgs } from "./process/subprocess_options.ts";
import type { SSLContext } from "./tls/ssl.ts";
import type { StartTlsOptions } from "./tls/start_tls.ts";
import type {
  DatagramTransport, ReadTransport, SubprocessTransport, Transport, WriteTransport,
} from "./transports/base.ts";
import type {
  BaseProtocolLike, BufferedProtocolLike, DatagramProtocolLike, ProtocolFactory, ProtocolLike,
  SubprocessProtocolLike,
} from "./transports/protocols.ts";
import type { TransportLoop } from "./transports/transport_loop.ts";

/** An event loop with all of asyncio's methods (asyncio.AbstractEventLoop). */
export interface EventLoop extends TransportLoop, SendfileLoop {
  // ---- Executor
  /** Use `executor` for runInExecutor(null, …) (asyncio set_default_executor). */
  setDefaultExecutor(executor: Executor): void;

  // ---- Name resolution and connections
  /** Reverse-resolve a socket address (asyncio getnameinfo). */
  getnameinfo(
    sockaddr: readonly [string, number] | readonly [string, number, number, number],
    flags?: number,
  ): Promise<[string, string]>;
  /** Open a TCP connection (asyncio create_connection). */
  createConnection<P extends ProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    host?: string | null,
    port?: number | string | null,
    options?: CreateConnectionOptions,
  ): Promise<[Transport, P]>;
  /** Wrap a connected stream socket in a transport (asyncio connect_accepted_socket). */
  connectAcceptedSocket<P extends ProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    sock: Socket,
    options?: ConnectAcceptedSocketOptions,
  ): Promise<[Transport, P]>;
  /** Listen on TCP (asyncio create_server). */
  createServer<P extends ProtocolLike, F extends number = InetFamily | Inet6Family>(
    protocolFactory: ProtocolFactory<P>,
    host?: string | string[] | null,
    port?: number | string | null,
    options?: CreateServerOptions<F>,
  ): Promise<Server<F>>;
  /** Connect to a Unix stream socket (asyncio create_unix_connection). */
  createUnixConnection<P extends ProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    path?: string | null,
    options?: CreateUnixConnectionOptions,
  ): Promise<[Transport, P]>;
  /** Listen on a Unix stream socket (asyncio create_unix_server). */
  createUnixServer<P extends ProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    path?: string | null,
    options?: CreateUnixServerOptions,
  ): Promise<Server<UnixFamily>>;
  /** Upgrade an open connection to TLS (asyncio start_tls). */
  startTls(
    transport: Transport,
    protocol: ProtocolLike | BufferedProtocolLike,
    sslcontext: SSLContext,
    options?: StartTlsOptions,
  ): Promise<Transport>;
  /** Open a datagram endpoint (asyncio create_datagram_endpoint), the addresses in `options`. */
  createDatagramEndpoint<P extends DatagramProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    options?: DatagramEndpointOptions,
  ): Promise<[DatagramTransport, P]>;
  /** asyncio's positional form: the local and remote addresses, then the other options. */
  createDatagramEndpoint<P extends DatagramProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    localAddr: AddressLike | null | undefined,
    remoteAddr?: AddressLike | null,
    options?: DatagramEndpointOptions,
  ): Promise<[DatagramTransport, P]>;
  /** Send a regular file through `transport` (asyncio sendfile). */
  sendfile(
    transport: Transport,
    file: SendfileFile,
    offset?: number,
    count?: number | null,
    options?: SendfileOptions,
  ): Promise<number>;

  // ---- Socket calls (asyncio sock_*)
  /** Receive up to `nbytes` bytes (asyncio sock_recv). */
  sockRecv(sock: Socket, nbytes: number): Promise<Uint8Array>;
  /** Receive into `buf`; resolves to the byte count (asyncio sock_recv_into). */
  sockRecvInto(sock: Socket, buf: BytesLike): Promise<number>;
  /** Receive a datagram and its sender (asyncio sock_recvfrom). */
  sockRecvfrom(sock: Socket, bufsize: number): Promise<[Uint8Array, SockAddr]>;
  /** Receive a datagram into `buf` (asyncio sock_recvfrom_into). */
  sockRecvfromInto(sock: Socket, buf: BytesLike, nbytes?: number): Promise<[number, SockAddr]>;
  /** Send a datagram to `address` (asyncio sock_sendto). */
  sockSendto(sock: Socket, data: BytesLike, address: AddressLike): Promise<number>;
  /** Accept a connection (asyncio sock_accept). */
  sockAccept(sock: Socket): Promise<[Socket, SockAddr]>;
  // sockSendall and sockSendfile: SendfileLoop's (loop/net/sendfile.ts).

  // ---- Pipes and subprocesses
  /** Wrap the read end of a pipe in a read transport (asyncio connect_read_pipe). */
  connectReadPipe<P extends ProtocolLike>(protocolFactory: ProtocolFactory<P>, pipe: FileLike): Promise<[ReadTransport, P]>;
  /** Wrap the write end of a pipe in a write transport (asyncio connect_write_pipe). */
  connectWritePipe<P extends BaseProtocolLike>(protocolFactory: ProtocolFactory<P>, pipe: FileLike): Promise<[WriteTransport, P]>;
  /** Start `program` with `args`, then an optional options object (asyncio subprocess_exec). */
  subprocessExec<P extends SubprocessProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    program: string,
    ...rest: ExecArgs<SubprocessOptions>
  ): Promise<[SubprocessTransport, P]>;
  /** Run `cmd` through the OS's shell (asyncio subprocess_shell). */
  subprocessShell<P extends SubprocessProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    cmd: string,
    options?: SubprocessOptions,
  ): Promise<[SubprocessTransport, P]>;

  // ---- Signals
  /** Run `callback(...args)` on the loop when signal `sig` arrives (asyncio add_signal_handler). */
  addSignalHandler<A extends unknown[]>(sig: SignalLike, callback: (...args: A) => unknown, ...args: A): void;
  /** Remove the handler for `sig`; false if there was none (asyncio remove_signal_handler). */
  removeSignalHandler(sig: SignalLike): boolean;
}
