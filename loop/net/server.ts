/**
 * Server: listening sockets that accept connections into transports (asyncio.Server and the
 * selector loop's _accept_connection).
 *
 * Lifetime as asyncio 3.12.1 has it: the server counts the transports it accepted (each calls
 * _attach when made and _detach once closed); waitClosed() resolves when the server is closed
 * and that count is 0, whichever comes last. closeClients()/abortClients() are asyncio 3.13's.
 */
import { OSError, RuntimeError } from "../core/errors.ts";
import type { Future } from "../core/futures.ts";
import type { ProtocolFactory, ProtocolLike } from "../transports/protocols.ts";
import type { BaseEventLoop } from "../base_loop.ts";
import { SHUT_RDWR, type Socket } from "./socket.ts";

/** What the server needs of a connection it accepted: a way to end it. */
interface ClientTransport {
  close(): void;
  abort(): void;
}

/** accept(2) failures that mean "out of resources": pause accepting for a while. */
const RESOURCE_ERRORS = new Set(["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM"]);
/** How long to stop accepting after running out of fds (asyncio's ACCEPT_RETRY_DELAY). */
const ACCEPT_RETRY_DELAY = 1;

/** Listening sockets serving a protocol (asyncio.Server). Made by createServer(). */
export class Server {
  private readonly _loop: BaseEventLoop;
  private _sockets: Socket[] | null;
  private readonly _protocolFactory: ProtocolFactory<ProtocolLike>;
  private readonly _backlog: number;
  private readonly _onClosed: (() => void) | undefined;
  private _serving = false;
  /** The open transports of accepted connections. */
  private readonly _clients = new Set<ClientTransport>();
  /** Waiting in waitClosed(); null once closed with no connection left (asyncio: _waiters). */
  private _closedWaiters: Future<void>[] | null = [];
  private _servingForever: Future<void> | undefined;
  /** Listeners served by accept operations (a proactor without readiness): how to stop each. */
  private readonly _acceptStops = new Map<Socket, () => void>();

  /** @internal Use loop.createServer(). */
  constructor(
    loop: BaseEventLoop,
    sockets: Socket[],
    protocolFactory: ProtocolFactory<ProtocolLike>,
    backlog: number,
    onClosed?: () => void,
  ) {
    this._loop = loop;
    this._sockets = sockets;
    this._protocolFactory = protocolFactory;
    this._backlog = backlog;
    this._onClosed = onClosed;
  }

  /** The listening sockets; empty once closed (asyncio Server.sockets). */
  get sockets(): Socket[] {
    return this._sockets === null ? [] : [...this._sockets];
  }

  /** The loop the server runs on (asyncio get_loop). */
  getLoop(): BaseEventLoop {
    return this._loop;
  }

  /** True while accepting connections (asyncio is_serving). */
  isServing(): boolean {
    return this._serving;
  }

  /** Start accepting connections; idempotent (asyncio start_serving). */
  startServing(): Promise<void> {
    this._startServing();
    return Promise.resolve();
  }

  /**
   * Accept connections until the returned promise is cancelled or the server closed (asyncio
   * serve_forever).
   */
  async serveForever(): Promise<void> {
    if (this._servingForever) {
      throw new RuntimeError("server is already being awaited on serveForever()");
    }
    if (this._sockets === null) throw new RuntimeError("server is closed");
    this._startServing();
    this._servingForever = this._loop.createFuture<void>();
    try {
      await this._servingForever;
    } catch (e) {
      // Cancelled: stop listening and wait for the connections to end, then pass it on.
      this.close();
      await this.waitClosed();
      throw e;
    } finally {
      this._servingForever = undefined;
    }
  }

  /**
   * Stop listening: close the listening sockets; `sockets` becomes empty. Connections already
   * accepted stay open (asyncio Server.close): see closeClients()/abortClients().
   */
  close(): void {
    const sockets = this._sockets;
    if (sockets === null) return;
    this._sockets = null;
    for (const sock of sockets) {
      const stop = this._acceptStops.get(sock);
      if (stop !== undefined) stop();
      else if (this._serving) this._loop.removeReader(sock);
      stopListening(sock);
      sock.close();
    }
    this._acceptStops.clear();
    this._serving = false;
    this._onClosed?.();
    const forever = this._servingForever;
    if (forever !== undefined && !forever.done()) forever.cancel();
    if (this._clients.size === 0) this._wakeup();
  }

  /** `using`: close() when the scope ends (the accepted connections stay open). */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * `await using` (asyncio's `async with server`): close(), then waitClosed(), which also waits
   * for every accepted connection to end.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.waitClosed();
  }

  /** Close every accepted connection, after its buffered data is sent (asyncio 3.13 close_clients). */
  closeClients(): void {
    for (const t of [...this._clients]) t.close();
  }

  /** Abort every accepted connection, dropping buffered data (asyncio 3.13 abort_clients). */
  abortClients(): void {
    for (const t of [...this._clients]) t.abort();
  }

  /**
   * Resolve once the server is closed and every connection it accepted has ended, in either
   * order (asyncio 3.12.1 wait_closed): at once if both are already so.
   */
  async waitClosed(): Promise<void> {
    if (this._closedWaiters === null) return;
    const waiter = this._loop.createFuture<void>();
    this._closedWaiters.push(waiter);
    await waiter;
  }

  /** Closed and no connection left: release every waitClosed(), now and later. */
  private _wakeup(): void {
    const waiters = this._closedWaiters;
    this._closedWaiters = null;
    for (const w of waiters ?? []) if (!w.done()) w.setResult();
  }

  /** @internal A transport of an accepted connection was made. */
  _attach(transport: ClientTransport): void {
    this._clients.add(transport);
  }

  /** @internal That transport has closed its socket. */
  _detach(transport: ClientTransport): void {
    if (!this._clients.delete(transport)) return;
    if (this._clients.size === 0 && this._sockets === null) this._wakeup();
  }

  /** How many accepted connections are still open. */
  get activeConnections(): number {
    return this._clients.size;
  }

  /** @internal */
  _startServing(): void {
    if (this._serving || this._sockets === null) return;
    this._serving = true;
    for (const sock of this._sockets) {
      sock.listen(this._backlog);
      const stop = this._loop._serveByOperations(this, sock);
      if (stop !== null) this._acceptStops.set(sock, stop);
      else this._loop.addReader(sock, acceptReady, this, sock);
    }
  }

  /** @internal Accept up to `backlog` pending connections (one readiness event). */
  _acceptReady(listener: Socket): void {
    for (let i = 0; i < this._backlog; i++) {
      let conn: Socket, addr: unknown;
      try {
        [conn, addr] = listener.accept();
      } catch (e) {
        if (e instanceof OSError && (e.code === "EAGAIN" || e.code === "EINTR" ||
          e.code === "ECONNABORTED")) {
          if (e.code === "ECONNABORTED") continue;
          return;
        }
        this._loop.callExceptionHandler({
          message: "socket.accept() out of system resource",
          exception: e,
          socket: listener,
        });
        if (e instanceof OSError && RESOURCE_ERRORS.has(e.code)) {
          this._loop.removeReader(listener);
          this._loop.callLater(ACCEPT_RETRY_DELAY, resumeAccepting, this, listener);
        }
        return;
      }
      this._acceptConnection(conn, addr);
    }
  }

  /** @internal */
  _resumeAccepting(listener: Socket): void {
    if (this._serving && this._sockets?.includes(listener)) {
      this._loop.addReader(listener, acceptReady, this, listener);
    }
  }

  /** @internal Wrap an accepted socket in a transport with a new protocol from the factory. */
  _acceptConnection(conn: Socket, addr: unknown): void {
    let protocol: ProtocolLike;
    try {
      conn.setBlocking(false);
      protocol = this._protocolFactory();
    } catch (exception) {
      this._loop.callExceptionHandler({
        message: "Error on transport creation for incoming connection",
        exception,
        socket: conn,
      });
      conn.close();
      return;
    }
    this._loop._makeSocketTransport(conn, protocol, {
      extra: { peername: addr },
      server: this,
    });
  }
}

function acceptReady(server: Server, listener: Socket): void {
  server._acceptReady(listener);
}

function resumeAccepting(server: Server, listener: Socket): void {
  server._resumeAccepting(listener);
}

/**
 * End `listener`'s listen at once. close() alone may not: an operation in flight (an io_uring
 * POLL_ADD or ACCEPT, until the kernel processes its cancel) holds the socket open, and it goes
 * on accepting connections meanwhile. shutdown(2) of a listening socket disconnects it
 * (Linux net/ipv4/af_inet.c inet_shutdown: TCP_LISTEN goes through disconnect; AF_UNIX refuses
 * connects to a listener shut for reading). Where it fails (not listening, or Winsock's
 * WSAENOTCONN) close() is all there is to do.
 */
function stopListening(listener: Socket): void {
  try {
    listener.shutdown(SHUT_RDWR);
  } catch (e) {
    if (!(e instanceof OSError)) throw e; // nothing to end: see above
  }
}
