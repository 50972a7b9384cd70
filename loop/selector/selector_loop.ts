/**
 * SelectorEventLoop: readiness I/O over an injected Selector (epoll, kqueue, poll) — asyncio's
 * selector_events.py. Watching raw fds (addReader/addWriter) lives here.
 */
import { defaultSelector } from "../../platform/default_selector.ts";
import { BaseEventLoop } from "../base_loop.ts";
import type { BytesLike } from "../core/bytes.ts";
import { describe } from "../core/describe.ts";
import { OSError } from "../core/errors.ts";
import { type FileLike, fileObjToFd } from "../core/file_like.ts";
import { type Callback, type Handle, makeHandle } from "../core/handles.ts";
import { EVENT_READ, EVENT_WRITE, type Selector } from "./selector.ts";
import type {
  BaseProtocolLike, BufferedProtocolLike, DatagramProtocolLike, ProtocolFactory, ProtocolLike,
} from "../transports/protocols.ts";
import * as sockOps from "../net/sock_ops.ts";
import { type SendfileFile, type SendfileOptions, sockSendfile, type WhenWritable } from "../net/sendfile.ts";
import type { AddressLike, SockAddr, Socket } from "../net/socket.ts";
import { ensureFdNoTransport } from "../transports/transport_table.ts";
import type { DatagramTransport, ReadTransport, Transport, WriteTransport } from "../transports/base.ts";
import type { AbstractFuture } from "../core/abstract_loop.ts";
import type { AcceptingServer, PipeTransportMaker } from "../transports/transport_loop.ts";
import { SelectorDatagramTransport } from "./selector_datagram.ts";
import { serveByReadiness } from "./selector_server.ts";
import { SelectorSocketTransport } from "./selector_socket.ts";
import type { SocketTransportOptions } from "../transports/socket_base.ts";

/**
 * @ignore The fd of a user's addReader/addWriter/removeReader/removeWriter argument: ValueError
 * if it is none, RuntimeError if a live transport owns it (asyncio _ensure_fd_no_transport).
 */
export function userFd(loop: object, fileobj: FileLike): number {
  const fd = fileObjToFd(fileobj);
  ensureFdNoTransport(loop, fd);
  return fd;
}

/** An event loop driven by a readiness Selector (asyncio.SelectorEventLoop). */
export class SelectorEventLoop extends BaseEventLoop {
  /** @ignore */ protected readonly _selector: Selector;
  // Indexed by fd: fds are small integers, so arrays beat Maps on the per-event path.
  private readonly _readers: (Handle | undefined)[] = [];
  private readonly _writers: (Handle | undefined)[] = [];
  private readonly _interest: number[] = [];
  private _watchedFds = 0;

  /** A loop over `selector`, or over this OS's default (epoll on Linux). */
  constructor(selector: Selector = defaultSelector()) {
    super();
    this._selector = selector;
  }

  /** Call `callback(...args)` whenever `fd` is readable (asyncio add_reader). */
  addReader<A extends unknown[]>(fd: FileLike, callback: (...args: A) => unknown, ...args: A) {
    this._addWatcher(userFd(this, fd), EVENT_READ, this._readers, callback as Callback, args, "addReader");
  }

  /**
   * @ignore addReader for the loop's own users (asyncio _add_reader): returns the handle, so
   * that a caller can tell later whether its watcher is still the fd's current one.
   */
  _addReader<A extends unknown[]>(fd: number, callback: (...args: A) => unknown, ...args: A): Handle {
    return this._addWatcher(fd, EVENT_READ, this._readers, callback as Callback, args, "addReader");
  }

  /** @ignore addWriter for the loop's own users (asyncio _add_writer); returns the handle. */
  _addWriter<A extends unknown[]>(fd: number, callback: (...args: A) => unknown, ...args: A): Handle {
    return this._addWatcher(fd, EVENT_WRITE, this._writers, callback as Callback, args, "addWriter");
  }

  /** Stop watching `fd` for reading; false if it was not watched (asyncio remove_reader). */
  removeReader(fd: FileLike): boolean {
    return this._removeWatcher(userFd(this, fd), EVENT_READ, this._readers);
  }

  /** Call `callback(...args)` whenever `fd` is writable (asyncio add_writer). */
  addWriter<A extends unknown[]>(fd: FileLike, callback: (...args: A) => unknown, ...args: A) {
    this._addWatcher(userFd(this, fd), EVENT_WRITE, this._writers, callback as Callback, args, "addWriter");
  }

  /** Stop watching `fd` for writing; false if it was not watched (asyncio remove_writer). */
  removeWriter(fd: FileLike): boolean {
    return this._removeWatcher(userFd(this, fd), EVENT_WRITE, this._writers);
  }

  /** @ignore removeReader for the loop's own users (asyncio _remove_reader): unchecked. */
  _removeReader(fd: number): boolean {
    return this._removeWatcher(fd, EVENT_READ, this._readers);
  }

  /** @ignore removeWriter for the loop's own users (asyncio _remove_writer): unchecked. */
  _removeWriter(fd: number): boolean {
    return this._removeWatcher(fd, EVENT_WRITE, this._writers);
  }

  /**
   * Watch `fileobj` for `event` with `callback(...args)`, replacing the fd's earlier handle in
   * `table` (which is cancelled). TypeError for a non-function callback; RuntimeError if the
   * loop is closed.
   */
  private _addWatcher(
    fileobj: FileLike,
    event: number,
    table: (Handle | undefined)[],
    callback: Callback,
    args: unknown[],
    method: string,
  ): Handle {
    const fd = fileObjToFd(fileobj);
    this._checkClosed();
    if (typeof callback !== "function") {
      throw new TypeError(`a callable object was expected by ${method}(), got ${describe(callback)}`);
    }
    const handle = makeHandle(callback, args, this);
    const mask = this._interest[fd] ?? 0;
    if (mask === 0) {
      this._selector.register(fd, event);
      this._watchedFds++;
    } else if ((mask & event) === 0) {
      this._reregister(fd, mask | event);
    }
    this._interest[fd] = mask | event;
    table[fd]?.cancel();
    table[fd] = handle;
    return handle;
  }

  /** Change an fd's interest; if the kernel forgot it (closed and reused), register it anew. */
  private _reregister(fd: number, mask: number): void {
    try {
      this._selector.modify(fd, mask);
    } catch (e) {
      if (!(e instanceof OSError) || e.code !== "ENOENT") throw e;
      this._selector.register(fd, mask);
    }
  }

  /** Stop watching `fileobj` for `event`; false if it was not watched. */
  private _removeWatcher(
    fileobj: FileLike,
    event: number,
    table: (Handle | undefined)[],
  ): boolean {
    const fd = fileObjToFd(fileobj);
    if (this.isClosed()) return false;
    const mask = this._interest[fd] ?? 0;
    if ((mask & event) === 0) return false;
    const rest = mask & ~event;
    if (rest === 0) {
      this._selector.unregister(fd);
      this._watchedFds--;
    } else {
      try {
        this._selector.modify(fd, rest);
      } catch {
        // The fd was closed behind our back; the kernel already dropped it.
      }
    }
    this._interest[fd] = rest;
    table[fd]!.cancel();
    table[fd] = undefined;
    return true;
  }

  // ---- Networking: each method is asyncio's, implemented in the file named ------------------

  /** Receive up to `nbytes` from a non-blocking socket (asyncio sock_recv; loop/net/sock_ops.ts). */
  sockRecv(sock: Socket, nbytes: number): Promise<Uint8Array> {
    return sockOps.sockRecv(this, sock, nbytes);
  }

  /** Receive into `buf`; resolves to the byte count (asyncio sock_recv_into). */
  sockRecvInto(sock: Socket, buf: BytesLike): Promise<number> {
    return sockOps.sockRecvInto(this, sock, buf);
  }

  /** Receive a datagram and its sender (asyncio sock_recvfrom). */
  sockRecvfrom(sock: Socket, bufsize: number): Promise<[Uint8Array, SockAddr]> {
    return sockOps.sockRecvfrom(this, sock, bufsize);
  }

  /**
   * Receive a datagram into `buf` (at most `nbytes`, 0: all): [count, sender] (asyncio
   * sock_recvfrom_into). OSError from recvfrom(2); ValueError if `nbytes` exceeds `buf`.
   */
  sockRecvfromInto(sock: Socket, buf: BytesLike, nbytes = 0): Promise<[number, SockAddr]> {
    return sockOps.sockRecvfromInto(this, sock, buf, nbytes);
  }

  /** Send all of `data`, waiting for the socket to drain as needed (asyncio sock_sendall). */
  sockSendall(sock: Socket, data: BytesLike): Promise<void> {
    return sockOps.sockSendall(this, sock, data);
  }

  /** Send a datagram to `address` (asyncio sock_sendto). */
  sockSendto(sock: Socket, data: BytesLike, address: AddressLike): Promise<number> {
    return sockOps.sockSendto(this, sock, data, address);
  }

  /** Connect to an already resolved address (asyncio sock_connect). */
  sockConnect(sock: Socket, address: AddressLike): Promise<void> {
    return sockOps.sockConnect(this, sock, address);
  }

  /** Accept a connection: resolves to [socket, address] (asyncio sock_accept). */
  sockAccept(sock: Socket): Promise<[Socket, SockAddr]> {
    return sockOps.sockAccept(this, sock);
  }

  /**
   * Send a regular file's [offset, offset + count) (count null: to its end) to a connected
   * non-blocking stream socket; resolves to the bytes sent (asyncio sock_sendfile;
   * loop/net/sendfile.ts). sendfile(2) on Linux; otherwise, or where it cannot serve the pair,
   * reading and sending unless `fallback` is false (then SendfileNotAvailableError).
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

  private readonly _whenWritable: WhenWritable = (fd, attempt) => sockOps.untilDone(this, fd, sockOps.WRITE, attempt);

  /** @ignore A transport for a connected stream socket (asyncio _make_socket_transport). */
  _makeSocketTransport(
    sock: Socket,
    protocol: ProtocolLike | BufferedProtocolLike,
    options: SocketTransportOptions = {},
  ): Transport {
    return new SelectorSocketTransport(this, sock, protocol, options);
  }

  /** @ignore Accept on `listener` whenever it is readable (asyncio _start_serving). */
  _startServing(server: AcceptingServer, listener: Socket): () => void {
    return serveByReadiness(this, server, listener);
  }

  /** @ignore A transport for a datagram socket (asyncio _make_datagram_transport). */
  _makeDatagramTransport(
    sock: Socket,
    protocol: DatagramProtocolLike,
    address: unknown,
    waiter: AbstractFuture<unknown>,
  ): DatagramTransport {
    return new SelectorDatagramTransport(this, sock, protocol, address, waiter);
  }

  /**
   * Wrap the read end of a pipe, FIFO, tty or character device (an fd or an object with
   * fileno()) in a read transport (asyncio connect_read_pipe). A regular file is a ValueError.
   */
  async connectReadPipe<P extends ProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    pipe: FileLike,
  ): Promise<[ReadTransport, P]> {
    const { connectReadPipe } = await import("./unix_pipes.ts");
    return await connectReadPipe(this, protocolFactory, pipe);
  }

  /** Wrap the write end of a pipe in a write transport (asyncio connect_write_pipe). */
  async connectWritePipe<P extends BaseProtocolLike>(
    protocolFactory: ProtocolFactory<P>,
    pipe: FileLike,
  ): Promise<[WriteTransport, P]> {
    const { connectWritePipe } = await import("./unix_pipes.ts");
    return await connectWritePipe(this, protocolFactory, pipe);
  }

  /** @ignore The readiness pipe transports (loaded on first use: they bind fstat). */
  async _subprocessPipes(): Promise<PipeTransportMaker> {
    const { readinessPipes } = await import("./unix_pipes.ts");
    return readinessPipes(this);
  }

  /** @ignore Collect ready fds with a zero-timeout select and queue their callbacks. */
  protected _pollIo(): void {
    const selector = this._selector;
    const n = selector.poll();
    if (n === 0) return;
    const fds = selector.readyFds, events = selector.readyEvents;
    const ready = this._ready;
    for (let i = 0; i < n; i++) {
      const fd = fds[i]!, ev = events[i]!; // i < n: entries the selector filled
      if (ev & EVENT_READ) {
        const h = this._readers[fd];
        if (h !== undefined) ready.push(h);
      }
      if (ev & EVENT_WRITE) {
        const h = this._writers[fd];
        if (h !== undefined) ready.push(h);
      }
    }
  }

  /** @ignore True while some fd is watched. */
  protected _hasIoInterest(): boolean {
    return this._watchedFds > 0;
  }

  /** @ignore Wait off the JS thread (the parker) for readiness, a wakeup or `timeoutMs`. */
  protected _parkIo(timeoutMs: number): Promise<void> {
    return this._selector.park(timeoutMs);
  }

  /** @ignore End a park in progress (writes the selector's waker). */
  protected _wakeIo(): void {
    this._selector.wakeup();
  }

  /** @ignore Close the selector and stop the parker. */
  protected _closeIo(): void {
    for (const h of this._readers) h?.cancel();
    for (const h of this._writers) h?.cancel();
    this._readers.length = 0;
    this._writers.length = 0;
    this._interest.length = 0;
    this._watchedFds = 0;
    this._selector.close();
  }
}
