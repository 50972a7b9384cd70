/**
 * How a ProactorEventLoop does its socket calls, accepts, datagrams and pipes — chosen once,
 * when the loop is built, from what its Proactor can do:
 * - ReadinessIo, where the proactor polls readiness (io_uring): every call is tried at once and,
 *   while it would block, waited for with a POLL_ADD and tried again, as the selector loop does;
 *   servers, datagram endpoints and pipes use the readiness transports, whose addReader/addWriter
 *   the loop serves with POLL_ADD operations. A call made this way happens at the task's first
 *   step, and a cancelled call has taken no bytes (a cancelled RECV operation may have completed
 *   with data the caller never sees).
 * - OperationIo, where it cannot (IOCP): every call is an operation whose completion settles the
 *   caller's Future, and the transports are the proactor ones (loop/proactor/proactor_*.ts).
 * asyncio has one class per platform (proactor_events + windows_events); here one loop class
 * holds one of these, so nothing else asks which kind of proactor it has.
 */
import { EAGAIN, osError } from "../../ffi/libc.ts";
import { POLLIN, POLLOUT } from "../../ffi/poll.ts";
import { decodeSockaddr, encodeSockaddr, formatAddress, SOCKADDR_STORAGE_SIZE } from "../../ffi/sockaddr.ts";
import { MSG_DONTWAIT, MSG_NOSIGNAL, SOCK_CLOEXEC, SOCK_NONBLOCK } from "../../ffi/socket_constants.ts";
import type { AbstractEventLoop, AbstractFuture } from "../core/abstract_loop.ts";
import type { FileLike } from "../core/file_like.ts";
import {
  acceptAttempt, type Attempt, connectResult, connectStarted, recvAttempt, recvfromAttempt, sendallAttempt, WOULD_BLOCK,
} from "../net/sock_ops.ts";
import type { AddressLike, SockAddr, Socket } from "../net/socket.ts";
import { SelectorDatagramTransport } from "../selector/selector_datagram.ts";
import { serveByReadiness } from "../selector/selector_server.ts";
import type { DatagramTransport, ReadTransport, WriteTransport } from "../transports/base.ts";
import type { BaseProtocolLike, DatagramProtocolLike, ProtocolFactory, ProtocolLike } from "../transports/protocols.ts";
import type { AcceptingServer, PipeTransportMaker } from "../transports/transport_loop.ts";
import type { CompletionTarget, ProactorHost } from "./proactor.ts";
import { ProactorDatagramTransport } from "./proactor_datagram.ts";
import {
  connectReadPipeOperations, connectWritePipeOperations, ProactorReadPipeTransport, ProactorWritePipeTransport,
} from "./proactor_pipes.ts";
import { ListenerAccepts } from "./proactor_server.ts";

/** What the strategies use of their ProactorEventLoop. */
export interface ProactorIoLoop extends AbstractEventLoop, ProactorHost {
  /** Submit one operation and wait for its completion; cancelling the wait cancels it. */
  _operation<T>(
    start: (target: CompletionTarget) => number,
    finish: (res: number, buffer: Uint8Array | undefined) => T,
  ): Promise<T>;
  /** Try `attempt` (unless `waitFirst`); while it would block, wait for `events` with a POLL_ADD. */
  _whenReady<T>(fd: number, events: number, attempt: Attempt<T>, waitFirst?: boolean): Promise<T>;
}

/** The socket calls, accepts, datagram and pipe transports of a ProactorEventLoop. */
export interface ProactorIo {
  /** recv(2) into `buf` (at most its length); `name` names the call in errors. */
  recvInto(sock: Socket, fd: number, buf: Uint8Array, name: string): Promise<number>;
  /** recvfrom(2) of at most `size` bytes into `buf`. */
  recvfromInto(sock: Socket, fd: number, buf: Uint8Array, size: number): Promise<[number, SockAddr]>;
  /** Send all of `bytes`. */
  sendall(sock: Socket, fd: number, bytes: Uint8Array): Promise<void>;
  /** sendto(2) to `address`. */
  sendto(sock: Socket, fd: number, bytes: Uint8Array, address: AddressLike): Promise<number>;
  /** connect(2) to a resolved `address`, until it is established. */
  connect(sock: Socket, fd: number, address: AddressLike): Promise<void>;
  /** accept(2) one connection. */
  accept(sock: Socket, fd: number): Promise<[Socket, SockAddr]>;
  /** Accept on `listener` for `server`; returns how to stop (TransportLoop._startServing). */
  startServing(server: AcceptingServer, listener: Socket): () => void;
  /** The datagram transport (TransportLoop._makeDatagramTransport). */
  makeDatagramTransport(
    sock: Socket,
    protocol: DatagramProtocolLike,
    address: unknown,
    waiter: AbstractFuture<unknown>,
  ): DatagramTransport;
  /** The pipe transports of subprocesses (TransportLoop._subprocessPipes). */
  subprocessPipes(): Promise<PipeTransportMaker>;
  /** asyncio connect_read_pipe. */
  connectReadPipe<P extends ProtocolLike>(protocolFactory: ProtocolFactory<P>, pipe: FileLike): Promise<[ReadTransport, P]>;
  /** asyncio connect_write_pipe. */
  connectWritePipe<P extends BaseProtocolLike>(protocolFactory: ProtocolFactory<P>, pipe: FileLike): Promise<[WriteTransport, P]>;
}

/** A POLL_ADD's completion: an error (the poll could not be armed) or readiness. */
export function pollFailed(res: number): void {
  if (res < 0) throw osError("poll", -res);
}

/** io_uring: system calls tried at once, POLL_ADD while they would block; readiness transports. */
export class ReadinessIo implements ProactorIo {
  constructor(private readonly loop: ProactorIoLoop) {}

  recvInto(sock: Socket, fd: number, buf: Uint8Array, name: string): Promise<number> {
    return this.loop._whenReady(fd, POLLIN, recvAttempt(sock, buf, name));
  }

  recvfromInto(sock: Socket, fd: number, buf: Uint8Array, size: number): Promise<[number, SockAddr]> {
    return this.loop._whenReady(fd, POLLIN, () => recvfromAttempt(sock, buf, size));
  }

  sendall(sock: Socket, fd: number, bytes: Uint8Array): Promise<void> {
    return this.loop._whenReady(fd, POLLOUT, sendallAttempt(sock, bytes));
  }

  sendto(sock: Socket, fd: number, bytes: Uint8Array, address: AddressLike): Promise<number> {
    return this.loop._whenReady(fd, POLLOUT, () => {
      const r = sock._sendtoRaw(bytes, MSG_DONTWAIT, address);
      if (r >= 0) return r;
      if (r === -EAGAIN) return WOULD_BLOCK;
      throw osError(`sendto ${formatAddress(address)}`, -r);
    });
  }

  /** connect(2) at once; only its completion is awaited (writability, then SO_ERROR). */
  async connect(sock: Socket, fd: number, address: AddressLike): Promise<void> {
    if (connectStarted(sock, address)) return;
    return await this.loop._whenReady(fd, POLLOUT, () => connectResult(sock, address), true);
  }

  /**
   * accept4(2) at once and a POLL_ADD for POLLIN while none is queued, not an ACCEPT
   * operation: on Linux 6.18 an ACCEPT submitted while a cancelled one on the same listener was
   * still in flight was never woken by the next connection (test_sock_client_racing), the
   * connection waiting in the queue; POLL_ADD waiters are not exclusive and are all woken.
   */
  accept(sock: Socket, fd: number): Promise<[Socket, SockAddr]> {
    return this.loop._whenReady(fd, POLLIN, () => acceptAttempt(sock));
  }

  startServing(server: AcceptingServer, listener: Socket): () => void {
    return serveByReadiness(this.loop, server, listener);
  }

  makeDatagramTransport(
    sock: Socket,
    protocol: DatagramProtocolLike,
    address: unknown,
    waiter: AbstractFuture<unknown>,
  ): DatagramTransport {
    return new SelectorDatagramTransport(this.loop, sock, protocol, address, waiter);
  }

  async subprocessPipes(): Promise<PipeTransportMaker> {
    const { readinessPipes } = await import("../selector/unix_pipes.ts");
    return readinessPipes(this.loop);
  }

  async connectReadPipe<P extends ProtocolLike>(protocolFactory: ProtocolFactory<P>, pipe: FileLike): Promise<[ReadTransport, P]> {
    const { connectReadPipe } = await import("../selector/unix_pipes.ts");
    return await connectReadPipe(this.loop, protocolFactory, pipe);
  }

  async connectWritePipe<P extends BaseProtocolLike>(protocolFactory: ProtocolFactory<P>, pipe: FileLike): Promise<[WriteTransport, P]> {
    const { connectWritePipe } = await import("../selector/unix_pipes.ts");
    return await connectWritePipe(this.loop, protocolFactory, pipe);
  }
}

/** IOCP: every call an operation; the proactor transports. */
export class OperationIo implements ProactorIo {
  constructor(private readonly loop: ProactorIoLoop) {}

  recvInto(_sock: Socket, fd: number, buf: Uint8Array, name: string): Promise<number> {
    return this.loop._operation((t) => this.loop._proactor.recv(fd, buf, buf.byteLength, t, 0), (res) => {
      if (res < 0) throw osError(name, -res);
      return res;
    });
  }

  recvfromInto(_sock: Socket, fd: number, buf: Uint8Array, size: number): Promise<[number, SockAddr]> {
    const proactor = this.loop._proactor;
    return this.loop._operation((t) => proactor.recvFrom(fd, buf, size, t, 0), (res, addr) => {
      if (res < 0) throw osError("recvfrom", -res);
      return [res, decodeSockaddr(addr!, proactor.completionAddressLength)];
    });
  }

  async sendall(_sock: Socket, fd: number, bytes: Uint8Array): Promise<void> {
    const total = bytes.byteLength;
    let sent = 0;
    while (sent < total) {
      const at = sent;
      sent += await this.loop._operation(
        (t) => this.loop._proactor.send(fd, bytes, at, total - at, MSG_NOSIGNAL, t, 0),
        (res) => {
          if (res < 0) throw osError("send", -res);
          return res;
        },
      );
    }
  }

  sendto(sock: Socket, fd: number, bytes: Uint8Array, address: AddressLike): Promise<number> {
    const addr = new Uint8Array(SOCKADDR_STORAGE_SIZE);
    const len = encodeSockaddr(sock.family, address, addr, "sockSendto()");
    return this.loop._operation((t) => this.loop._proactor.sendTo(fd, bytes, bytes.byteLength, addr, len, t, 0), (res) => {
      if (res < 0) throw osError(`sendto ${formatAddress(address)}`, -res);
      return res;
    });
  }

  connect(sock: Socket, fd: number, address: AddressLike): Promise<void> {
    const addr = new Uint8Array(SOCKADDR_STORAGE_SIZE);
    const len = encodeSockaddr(sock.family, address, addr, "connect()");
    return this.loop._operation((t) => this.loop._proactor.connect(fd, addr, len, t, 0), (res) => {
      if (res < 0) throw osError(`connect to ${formatAddress(address)}`, -res);
    });
  }

  accept(sock: Socket, fd: number): Promise<[Socket, SockAddr]> {
    const proactor = this.loop._proactor;
    return this.loop._operation((t) => proactor.accept(fd, SOCK_CLOEXEC | SOCK_NONBLOCK, false, t, 0), (res, addr) => {
      if (res < 0) throw osError("accept", -res);
      return [sock._adopt(res), decodeSockaddr(addr!, proactor.completionAddressLength)];
    });
  }

  startServing(server: AcceptingServer, listener: Socket): () => void {
    const accepts = new ListenerAccepts(this.loop, server, listener);
    accepts.start();
    return () => accepts.stop();
  }

  makeDatagramTransport(
    sock: Socket,
    protocol: DatagramProtocolLike,
    address: unknown,
    waiter: AbstractFuture<unknown>,
  ): DatagramTransport {
    return new ProactorDatagramTransport(this.loop, sock, protocol, address, waiter);
  }

  /** IOCP drives a child's pipe ends with operations (overlapped handles). */
  subprocessPipes(): Promise<PipeTransportMaker> {
    const loop = this.loop;
    return Promise.resolve((fd, protocol, writing) =>
      writing
        ? new ProactorWritePipeTransport(loop, fd, fd, protocol)
        : new ProactorReadPipeTransport(loop, fd, fd, protocol)
    );
  }

  connectReadPipe<P extends ProtocolLike>(protocolFactory: ProtocolFactory<P>, pipe: FileLike): Promise<[ReadTransport, P]> {
    return connectReadPipeOperations(this.loop, protocolFactory, pipe);
  }

  connectWritePipe<P extends BaseProtocolLike>(protocolFactory: ProtocolFactory<P>, pipe: FileLike): Promise<[WriteTransport, P]> {
    return connectWritePipeOperations(this.loop, protocolFactory, pipe);
  }
}
