/**
 * ProactorEventLoop: completion I/O over an injected Proactor (io_uring on Linux, IOCP on
 * Windows) — asyncio's proactor_events.py. Sockets are driven by submitted operations whose
 * completions resolve the next step: ProactorSocketTransport for streams. The sock* coroutines,
 * the accept loop of servers, datagram and pipe transports depend on whether the proactor
 * polls readiness: that is decided once, in the constructor, by the ProactorIo strategy it picks
 * (loop/proactor/proactor_io.ts).
 *
 * addReader/addWriter work too, through one-shot POLL_ADD operations re-armed after each
 * callback (level-triggered, as epoll's and asyncio's add_reader: a callback that leaves data
 * unread is called again). A Proactor without readiness polling would raise NotImplementedError
 * there, as asyncio's IOCP loop does.
 *
 * The networking methods mirror SelectorEventLoop's list one for one; the address-resolution
 * and server plumbing is shared (loop/net/connections.ts, loop/net/datagram_endpoint.ts), and
 * reaches this loop's transports through the TransportLoop hooks (_makeSocketTransport,
 * _startServing, …), as asyncio's base_events reaches _make_socket_transport.
 */
import { LINUX_ERRNO } from "../../ffi/errno_linux.ts";
import { POLLIN, POLLOUT } from "../../ffi/poll.ts";
import { defaultProactor } from "../../platform/default_proactor.ts";
import { BaseEventLoop } from "../base_loop.ts";
import type { AbstractFuture } from "../core/abstract_loop.ts";
import { asBytes, type BytesLike } from "../core/bytes.ts";
import { describe } from "../core/describe.ts";
import { ValueError } from "../core/errors.ts";
import { type FileLike, fileObjToFd } from "../core/file_like.ts";
import { type Callback, type Handle, makeHandle } from "../core/handles.ts";
import type { CompletionTarget, Proactor } from "./proactor.ts";
import type {
  BaseProtocolLike, BufferedProtocolLike, DatagramProtocolLike, ProtocolFactory, ProtocolLike,
} from "../transports/protocols.ts";
import { userFd } from "../selector/selector_loop.ts";
import type { AddressLike, SockAddr, Socket } from "../net/socket.ts";
import type { DatagramTransport, ReadTransport, Transport, WriteTransport } from "../transports/base.ts";
import { type Attempt, checkCount, checkResolved, checkSocket, WOULD_BLOCK } from "../net/sock_ops.ts";
import { type SendfileFile, type SendfileOptions, sockSendfile, type WhenWritable } from "../net/sendfile.ts";
import { ProactorSocketTransport } from "./proactor_socket.ts";
import type { SocketTransportOptions } from "../transports/socket_base.ts";
import type { AcceptingServer, PipeTransportMaker } from "../transports/transport_loop.ts";
import { OperationIo, pollFailed, type ProactorIo, ReadinessIo } from "./proactor_io.ts";

/** A watcher direction: an index into the per-direction tables below. */
type Dir = 0 | 1;
const READ: Dir = 0, WRITE: Dir = 1;
const POLL_EVENTS: readonly [number, number] = [POLLIN, POLLOUT];
const { ECANCELED } = LINUX_ERRNO;

/** A Future settled by one operation's completion (the sock* coroutines). */
class OperationFuture<T> implements CompletionTarget {
  op = 0;
  constructor(
    readonly fut: AbstractFuture<T>,
    readonly finish: (res: number, buffer: Uint8Array | undefined) => T,
  ) {}
  _ioComplete(_tag: number, res: number, _more: boolean, _op: number, buffer: Uint8Array | undefined): void {
    this.op = 0;
    if (this.fut.done()) return;
    try {
      this.fut.setResult(this.finish(res, buffer));
    } catch (e) {
      this.fut.setException(e);
    }
  }
}

/** An event loop driven by a completion Proactor (asyncio.ProactorEventLoop). */
export class ProactorEventLoop extends BaseEventLoop implements CompletionTarget {
  /** @ignore */ readonly _proactor: Proactor;
  /** @ignore Readiness-and-retry (io_uring) or operations (IOCP): see proactor_io.ts. */
  private readonly _io: ProactorIo;
  // addReader/addWriter: by direction, indexed by fd.
  private readonly _watchers: [(Handle | undefined)[], (Handle | undefined)[]] = [[], []];
  private readonly _pollOps: [number[], number[]] = [[], []];
  private _rearm: number[] = [];
  private _watched = 0;

  /** A loop over `proactor`, or over this OS's default (io_uring on Linux). */
  constructor(proactor: Proactor = defaultProactor()) {
    super();
    this._proactor = proactor;
    this._io = proactor.pollsReadiness === false ? new OperationIo(this) : new ReadinessIo(this);
    proactor.onError = (exception) =>
      this.callExceptionHandler({ message: "Exception in an I/O completion callback", exception });
  }

  // ---- Readiness callbacks (POLL_ADD) --------------------------------------------------------

  /** Call `callback(...args)` whenever `fd` is readable (asyncio add_reader). */
  addReader<A extends unknown[]>(fd: FileLike, callback: (...args: A) => unknown, ...args: A) {
    this._addWatcher(userFd(this, fd), READ, callback as Callback, args, "addReader");
  }

  /** Stop watching `fd` for reading; false if it was not watched (asyncio remove_reader). */
  removeReader(fd: FileLike): boolean {
    return this._removeWatcher(userFd(this, fd), READ);
  }

  /** Call `callback(...args)` whenever `fd` is writable (asyncio add_writer). */
  addWriter<A extends unknown[]>(fd: FileLike, callback: (...args: A) => unknown, ...args: A) {
    this._addWatcher(userFd(this, fd), WRITE, callback as Callback, args, "addWriter");
  }

  /** Stop watching `fd` for writing; false if it was not watched (asyncio remove_writer). */
  removeWriter(fd: FileLike): boolean {
    return this._removeWatcher(userFd(this, fd), WRITE);
  }

  /** @ignore addReader for the loop's own users (readiness-driven transports): unchecked. */
  _addReader<A extends unknown[]>(fd: number, callback: (...args: A) => unknown, ...args: A): void {
    this._addWatcher(fd, READ, callback as Callback, args, "addReader");
  }

  /** @ignore addWriter for the loop's own users: unchecked. */
  _addWriter<A extends unknown[]>(fd: number, callback: (...args: A) => unknown, ...args: A): void {
    this._addWatcher(fd, WRITE, callback as Callback, args, "addWriter");
  }

  /** @ignore removeReader for the loop's own users: unchecked. */
  _removeReader(fd: number): boolean {
    return this._removeWatcher(fd, READ);
  }

  /** @ignore removeWriter for the loop's own users: unchecked. */
  _removeWriter(fd: number): boolean {
    return this._removeWatcher(fd, WRITE);
  }

  /** Watch `fileobj` in direction `dir` with a POLL_ADD operation. */
  private _addWatcher(fileobj: FileLike, dir: Dir, callback: Callback, args: unknown[], method: string) {
    const fd = fileObjToFd(fileobj);
    this._checkClosed();
    if (typeof callback !== "function") {
      throw new TypeError(`a callable object was expected by ${method}(), got ${describe(callback)}`);
    }
    const table = this._watchers[dir];
    const old = table[fd];
    if (old === undefined) this._watched++;
    else old.cancel();
    table[fd] = makeHandle(callback, args, this);
    if (!this._pollOps[dir][fd]) this._pollOps[dir][fd] = this._proactor.pollAdd(fd, POLL_EVENTS[dir], this, fd * 2 + dir);
  }

  /** Stop watching `fileobj` in direction `dir`; false if it was not watched. */
  private _removeWatcher(fileobj: FileLike, dir: Dir): boolean {
    const fd = fileObjToFd(fileobj);
    if (this.isClosed()) return false;
    const table = this._watchers[dir];
    const h = table[fd];
    if (h === undefined) return false;
    h.cancel();
    table[fd] = undefined;
    this._watched--;
    const op = this._pollOps[dir][fd];
    if (op) {
      this._pollOps[dir][fd] = 0;
      this._proactor.cancel(op);
    }
    return true;
  }

  /** @ignore A POLL_ADD completed: run the watcher; re-arm it before the next poll. */
  _ioComplete(tag: number, res: number, _more: boolean, op: number): void {
    const fd = tag >> 1, dir: Dir = tag & 1 ? WRITE : READ;
    if (this._pollOps[dir][fd] !== op) return; // removed, or replaced, meanwhile
    this._pollOps[dir][fd] = 0;
    const h = this._watchers[dir][fd];
    if (h === undefined || res === -ECANCELED) return;
    this._ready.push(h);
    this._rearm.push(tag);
  }

  // ---- Networking: each method is asyncio's; shared plumbing in the file named ---------------

  /** @ignore Submit one operation and wait for its completion; cancelling the wait cancels it. */
  async _operation<T>(
    start: (target: CompletionTarget) => number,
    finish: (res: number, buffer: Uint8Array | undefined) => T,
  ): Promise<T> {
    this._checkClosed();
    const target = new OperationFuture<T>(this.createFuture<T>(), finish);
    target.op = start(target);
    try {
      return await target.fut;
    } finally {
      // Cancelled (or the loop stopped waiting): the kernel must let go of the buffers too.
      if (target.op !== 0) this._proactor.cancel(target.op);
    }
  }

  /**
   * @ignore Where the proactor polls readiness (io_uring): try the call now, as asyncio's
   * selector loop does, and while it would block wait for readiness with a POLL_ADD and try
   * again. The system call is thus made at the task's first step (an operation would reach the
   * kernel only at the next poll, one iteration later: CPython's test_sock_client_racing blocks
   * on the peer right after one sleep(0)).
   */
  async _whenReady<T>(fd: number, events: number, attempt: Attempt<T>, waitFirst = false): Promise<T> {
    if (!waitFirst) {
      const first = attempt();
      if (first !== WOULD_BLOCK) return first;
    }
    for (;;) {
      await this._operation((t) => this._proactor.pollAdd(fd, events, t, 0), pollFailed);
      const r = attempt();
      if (r !== WOULD_BLOCK) return r;
    }
  }

  /** Receive up to `nbytes` (asyncio sock_recv); an empty array means the peer closed. */
  async sockRecv(sock: Socket, nbytes: number): Promise<Uint8Array> {
    const fd = checkSocket(sock, "sockRecv");
    checkCount(nbytes, "sockRecv() nbytes");
    const buf = new Uint8Array(new ArrayBuffer(nbytes));
    const n = await this._io.recvInto(sock, fd, buf, "recv");
    return n === nbytes ? buf : buf.subarray(0, n);
  }

  /** Receive into `buf`; resolves to the byte count (asyncio sock_recv_into). */
  async sockRecvInto(sock: Socket, buf: BytesLike): Promise<number> {
    const fd = checkSocket(sock, "sockRecvInto");
    const bytes = asBytes(buf, "sockRecvInto() buffer");
    return await this._io.recvInto(sock, fd, bytes, "recv_into");
  }

  /** Receive a datagram and its sender (asyncio sock_recvfrom). */
  async sockRecvfrom(sock: Socket, bufsize: number): Promise<[Uint8Array, SockAddr]> {
    checkCount(bufsize, "sockRecvfrom() bufsize");
    const buf = new Uint8Array(new ArrayBuffer(bufsize));
    const [n, addr] = await this.sockRecvfromInto(sock, buf);
    return [n === bufsize ? buf : buf.subarray(0, n), addr];
  }

  /** Receive a datagram into `buf` (at most `nbytes`, 0: all): [count, sender]. */
  async sockRecvfromInto(sock: Socket, buf: BytesLike, nbytes = 0): Promise<[number, SockAddr]> {
    const fd = checkSocket(sock, "sockRecvfromInto");
    const bytes = asBytes(buf, "sockRecvfromInto() buffer");
    checkCount(nbytes, "sockRecvfromInto() nbytes");
    if (nbytes > bytes.byteLength) throw new ValueError("sockRecvfromInto(): buffer too small for requested bytes");
    return await this._io.recvfromInto(sock, fd, bytes, nbytes || bytes.byteLength);
  }

  /**
   * Send all of `data` (asyncio sock_sendall). `data` is not copied: leave it unchanged until
   * the returned Promise settles.
   */
  async sockSendall(sock: Socket, data: BytesLike): Promise<void> {
    const fd = checkSocket(sock, "sockSendall");
    return await this._io.sendall(sock, fd, asBytes(data));
  }

  /** Send a datagram to `address` (asyncio sock_sendto). */
  async sockSendto(sock: Socket, data: BytesLike, address: AddressLike): Promise<number> {
    const fd = checkSocket(sock, "sockSendto");
    return await this._io.sendto(sock, fd, asBytes(data), address);
  }

  /**
   * Connect to an already resolved address (asyncio sock_connect): for AF_INET/AF_INET6 the host
   * must be an IP literal (ValueError otherwise). On io_uring connect(2) is called at once and
   * only its completion is awaited (writability, then SO_ERROR), as on the selector loop.
   */
  async sockConnect(sock: Socket, address: AddressLike): Promise<void> {
    const fd = checkSocket(sock, "sockConnect");
    checkResolved(sock, address);
    return await this._io.connect(sock, fd, address);
  }

  /** Accept a connection: resolves to [socket, address] (asyncio sock_accept). */
  async sockAccept(sock: Socket): Promise<[Socket, SockAddr]> {
    const fd = checkSocket(sock, "sockAccept");
    return await this._io.accept(sock, fd);
  }

  /**
   * Send a regular file's [offset, offset + count) (count null: to its end) to a connected
   * non-blocking stream socket; resolves to the bytes sent (asyncio sock_sendfile;
   * loop/net/sendfile.ts). sendfile(2) on Linux, waiting with POLL_ADD; elsewhere reading and
   * sending unless `fallback` is false (then SendfileNotAvailableError).
   */
  sockSendfile(
    sock: Socket,
    file: SendfileFile,
    offset = 0,
    count: number | null = null,
    options: SendfileOptions = {},
  ): Promise<number> {
    return sockSendfile(this, sock, file, offset, count, options, this._whenWritable);
  }

  private readonly _whenWritable: WhenWritable = (fd, attempt) => this._whenReady(fd, POLLOUT, attempt);

  /** @ignore Accept on `listener` for `server` (asyncio _start_serving). */
  _startServing(server: AcceptingServer, listener: Socket): () => void {
    return this._io.startServing(server, listener);
  }

  /** @ignore A transport for a datagram socket (asyncio _make_datagram_transport). */
  _makeDatagramTransport(
    sock: Socket,
    protocol: DatagramProtocolLike,
    address: unknown,
    waiter: AbstractFuture<unknown>,
  ): DatagramTransport {
    return this._io.makeDatagramTransport(sock, protocol, address, waiter);
  }

  /** @ignore The pipe transports of subprocesses. */
  _subprocessPipes(): Promise<PipeTransportMaker> {
    return this._io.subprocessPipes();
  }

  /** Wrap the read end of a pipe (asyncio connect_read_pipe); IOCP: an overlapped pipe handle. */
  connectReadPipe<P extends ProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    pipe: FileLike,
  ): Promise<[ReadTransport, P]> {
    return this._io.connectReadPipe(protocolFactory, pipe);
  }

  /** Wrap the write end of a pipe (asyncio connect_write_pipe); IOCP: an overlapped pipe handle. */
  connectWritePipe<P extends BaseProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    pipe: FileLike,
  ): Promise<[WriteTransport, P]> {
    return this._io.connectWritePipe(protocolFactory, pipe);
  }

  /** @ignore A transport for a connected stream socket (asyncio _make_socket_transport). */
  _makeSocketTransport(
    sock: Socket,
    protocol: ProtocolLike | BufferedProtocolLike,
    options: SocketTransportOptions = {},
  ): Transport {
    return new ProactorSocketTransport(this, sock, protocol, options);
  }

  // ---- The I/O hooks -------------------------------------------------------------------------

  /** @ignore Re-arm the watchers that fired, then deliver the completions already posted. */
  protected _pollIo(idleNext = false): void {
    if (this._rearm.length > 0) this._rearmWatchers();
    this._proactor.poll(idleNext && this._proactor.waitBriefly !== undefined);
  }

  /** Submit a new POLL_ADD for each watcher whose last one completed. */
  private _rearmWatchers(): void {
    const tags = this._rearm;
    this._rearm = [];
    for (const tag of tags) {
      const fd = tag >> 1, dir: Dir = tag & 1 ? WRITE : READ;
      if (this._watchers[dir][fd] !== undefined && !this._pollOps[dir][fd]) {
        this._pollOps[dir][fd] = this._proactor.pollAdd(fd, POLL_EVENTS[dir], this, tag);
      }
    }
  }

  /** @ignore True while an operation is queued or in flight. */
  protected _hasIoInterest(): boolean {
    return this._rearm.length > 0 || this._proactor.hasWork();
  }

  /** @ignore The proactor's short wait on this thread, when it has one and operations are in flight. */
  protected override _waitIoBriefly(): boolean {
    if (this._proactor.waitBriefly === undefined || !this._proactor.hasWork()) return false;
    if (this._rearm.length > 0) this._rearmWatchers();
    return this._proactor.waitBriefly();
  }

  /** @ignore Wait off the JS thread for a completion, a wakeup or `timeoutMs`. */
  protected _parkIo(timeoutMs: number): Promise<void> {
    if (this._rearm.length > 0) this._rearmWatchers();
    return this._proactor.park(timeoutMs);
  }

  /** @ignore End a park in progress. */
  protected _wakeIo(): void {
    this._proactor.wakeup();
  }

  /** @ignore Drop the watchers and close the proactor. */
  protected _closeIo(): void {
    for (const table of this._watchers) {
      for (const h of table) h?.cancel();
      table.length = 0;
    }
    this._pollOps[0].length = 0;
    this._pollOps[1].length = 0;
    this._rearm = [];
    this._watched = 0;
    this._proactor.close();
  }
}

