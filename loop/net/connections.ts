/**
 * Opening stream connections and servers (asyncio base_events' create_connection,
 * create_server, connect_accepted_socket and unix_events' create_unix_connection/
 * create_unix_server), for every loop. Every argument is checked where it is first seen, naming
 * it.
 */
import { lstatSync, statSync, unlinkSync } from "node:fs";
import { checkPortRange, getaddrinfo } from "./dns.ts";
import { ExceptionGroup, OSError, ValueError } from "../core/errors.ts";
import type { Future } from "../core/futures.ts";
import type { ProtocolFactory, ProtocolLike } from "../transports/protocols.ts";
import type { BaseEventLoop } from "../base_loop.ts";
import { Server } from "./server.ts";
import { staggeredRace } from "./staggered.ts";
import { createDefaultContext, SSLContext } from "../tls/ssl.ts";
import { SSLProtocol } from "../tls/sslproto.ts";
import {
  AF_UNIX, AF_INET6, AF_UNSPEC, AI_PASSIVE, IPPROTO_IPV6, IPV6_V6ONLY, SO_REUSEADDR, SO_REUSEPORT,
  SOCK_STREAM, SOL_SOCKET, Socket,
  type AddressLike,
} from "./socket.ts";
import { type Transport, whenConnected } from "../transports/base.ts";
import { checkSignal, runAbortable } from "../core/abort.ts";

/** Options of createConnection (asyncio's keyword arguments). */
export interface CreateConnectionOptions {
  /**
   * TLS: an SSLContext, or true for a default client context (createDefaultContext():
   * verified against the system CA store, host name checked).
   */
  ssl?: SSLContext | boolean | null;
  /** Address family for getaddrinfo (AF_INET, AF_INET6); default AF_UNSPEC. */
  family?: number;
  /** Protocol number for getaddrinfo; default 0. */
  proto?: number;
  /** AI_* flags for getaddrinfo; default 0. */
  flags?: number;
  /** An already connected stream socket to use instead of host/port. */
  sock?: Socket;
  /** [host, port] to bind the socket to before connecting. */
  localAddr?: [string, number];
  /**
   * TLS only: the name to check the server's certificate against and to send as SNI; default
   * `host`. An empty string turns host name matching off — a serious risk: anyone holding any
   * certificate the CAs vouch for can then impersonate the server.
   */
  serverHostname?: string | null;
  /** TLS only: seconds the handshake may take before the connection aborts (default 60). */
  sslHandshakeTimeout?: number;
  /** TLS only: seconds to wait for the peer's close_notify after close() (default 30). */
  sslShutdownTimeout?: number;
  /**
   * Happy Eyeballs (RFC 8305): start the next address's attempt when the previous one fails or
   * after this many seconds (0.25 is RFC 8305's recommendation), the first connected wins and
   * the rest are cancelled. Default null: one address after the other. Implies interleave 1.
   */
  happyEyeballsDelay?: number | null;
  /**
   * Reorder the resolved addresses by family, alternating: first `interleave` addresses of the
   * first family, then one of each family in turn (asyncio's interleave). Default 0: as resolved.
   */
  interleave?: number | null;
  /**
   * When every address fails: an ExceptionGroup of each attempt's error (bind and connect),
   * instead of one OSError (asyncio's all_errors). Default false.
   */
  allErrors?: boolean;
  /**
   * Aborting it cancels the connect (resolving, connecting, the TLS handshake): the call fails
   * with CancelledError, `cause` the signal's reason, and the socket is closed.
   */
  signal?: AbortSignal;
}

/** Options of createServer (asyncio's keyword arguments). */
export interface CreateServerOptions {
  /** Address family for getaddrinfo (AF_INET, AF_INET6); default AF_UNSPEC (all). */
  family?: number;
  /** AI_* flags for getaddrinfo; default AI_PASSIVE. */
  flags?: number;
  /** An already bound socket to listen on instead of host/port. */
  sock?: Socket;
  /** listen(2) backlog; default 100. */
  backlog?: number;
  /** TLS: a server SSLContext (new SSLContext("server") with loadCertChain()). */
  ssl?: SSLContext | null;
  /** TLS only: seconds each handshake may take (default 60). */
  sslHandshakeTimeout?: number;
  /** TLS only: seconds to wait for a client's close_notify after close() (default 30). */
  sslShutdownTimeout?: number;
  /** SO_REUSEADDR; default true on Unix. */
  reuseAddress?: boolean;
  /** SO_REUSEPORT; default false. */
  reusePort?: boolean;
  /** Start accepting at once (default true). */
  startServing?: boolean;
}

/** Options of createUnixConnection. */
export interface CreateUnixConnectionOptions {
  /** As createConnection's; with no host to default to, serverHostname is required. */
  ssl?: SSLContext | boolean | null;
  /** An already connected AF_UNIX stream socket to use instead of a path. */
  sock?: Socket;
  /** TLS only: the name to check the server's certificate against and send as SNI. */
  serverHostname?: string | null;
  /** TLS only: seconds the handshake may take (default 60). */
  sslHandshakeTimeout?: number;
  /** TLS only: seconds to wait for the peer's close_notify after close() (default 30). */
  sslShutdownTimeout?: number;
  /** As createConnection's: aborting it cancels the connect with CancelledError. */
  signal?: AbortSignal;
}

/** Options of createUnixServer. */
export interface CreateUnixServerOptions {
  /** An already bound AF_UNIX stream socket to listen on instead of a path. */
  sock?: Socket;
  /** listen(2) backlog; default 100. */
  backlog?: number;
  /** TLS: a server SSLContext. */
  ssl?: SSLContext | null;
  /** TLS only: seconds each handshake may take (default 60). */
  sslHandshakeTimeout?: number;
  /** TLS only: seconds to wait for a client's close_notify after close() (default 30). */
  sslShutdownTimeout?: number;
  /** Start accepting at once (default true). */
  startServing?: boolean;
  /** Remove the socket file when the server closes (default true, as asyncio 3.13). */
  cleanupSocket?: boolean;
}

/** Options of connectAcceptedSocket (asyncio's keyword arguments). */
export interface ConnectAcceptedSocketOptions {
  /** TLS, server side: a server SSLContext (new SSLContext("server") with loadCertChain()). */
  ssl?: SSLContext | null;
  /** TLS only: seconds the handshake may take (default 60). */
  sslHandshakeTimeout?: number;
  /** TLS only: seconds to wait for the peer's close_notify after close() (default 30). */
  sslShutdownTimeout?: number;
}

/** The TLS settings of one connection: the SSLProtocol's side and options. */
interface ConnectionTls {
  context: SSLContext;
  serverSide: boolean;
  /** Client side: the name to check and send as SNI. */
  serverHostname: string | null;
  sslHandshakeTimeout?: number;
  sslShutdownTimeout?: number;
}

interface SslOptions {
  ssl?: SSLContext | boolean | null;
  serverHostname?: string | null;
  sslHandshakeTimeout?: number;
  sslShutdownTimeout?: number;
}

// ssl: true shares one default context: loading the system CA store once is enough.
let defaultClientContext: SSLContext | null = null;

function checkSslTimeouts(options: SslOptions): void {
  for (const key of ["sslHandshakeTimeout", "sslShutdownTimeout"] as const) {
    const value = options[key];
    if (value === undefined) continue;
    if (!options.ssl) throw new ValueError(`${key} is only meaningful with ssl`);
    if (typeof value !== "number" || !(value > 0)) {
      throw new ValueError(`${key} should be a positive number, got ${String(value)}`);
    }
  }
}

/** Check createConnection's TLS options where they are first seen (asyncio's order). */
function clientTls(options: SslOptions, host: string | null): ConnectionTls | null {
  const { ssl, serverHostname } = options;
  checkSslTimeouts(options);
  if (!ssl) {
    if (serverHostname !== undefined && serverHostname !== null) {
      throw new ValueError("serverHostname is only meaningful with ssl");
    }
    return null;
  }
  let context: SSLContext;
  if (ssl === true) context = defaultClientContext ??= createDefaultContext();
  else if (ssl instanceof SSLContext) context = ssl;
  else throw new TypeError("ssl must be an SSLContext, true, or null");
  let name = serverHostname;
  if (name === undefined || name === null) {
    if (!host) throw new ValueError("You must set serverHostname when using ssl without a host");
    name = host;
  }
  if (typeof name !== "string") throw new TypeError("serverHostname must be a string");
  return {
    context,
    serverSide: false,
    serverHostname: name === "" ? null : name,
    sslHandshakeTimeout: options.sslHandshakeTimeout,
    sslShutdownTimeout: options.sslShutdownTimeout,
  };
}

/** Check the TLS options of a server or of an accepted connection: the server side's. */
function serverTls(options: SslOptions): ConnectionTls | null {
  checkSslTimeouts(options);
  const ssl = options.ssl;
  if (!ssl) return null;
  if (!(ssl instanceof SSLContext)) throw new TypeError("ssl argument must be an SSLContext or null");
  if (ssl.protocol !== "server") {
    throw new ValueError('ssl must be a server context (new SSLContext("server")) for a server');
  }
  return {
    context: ssl,
    serverSide: true,
    serverHostname: null,
    sslHandshakeTimeout: options.sslHandshakeTimeout,
    sslShutdownTimeout: options.sslShutdownTimeout,
  };
}

/** createServer's factory: with TLS, each accepted connection gets a TLS layer. */
function serverFactory<P extends ProtocolLike>(
  loop: BaseEventLoop,
  options: SslOptions,
  protocolFactory: ProtocolFactory<P>,
): ProtocolFactory<ProtocolLike> {
  const tls = serverTls(options);
  if (tls === null) return protocolFactory;
  // asyncio makes the user's protocol at accept time and calls its connectionMade after the
  // handshake; the socket transport's protocol is the TLS layer.
  return () => tlsLayer(loop, protocolFactory(), tls) as unknown as ProtocolLike;
}

/** The TLS layer between a socket transport and `protocol` (asyncio _make_ssl_transport). */
function tlsLayer(
  loop: BaseEventLoop,
  protocol: ProtocolLike,
  tls: ConnectionTls,
  waiter?: Future<unknown>,
): SSLProtocol {
  return new SSLProtocol(loop, protocol, tls.context, {
    serverSide: tls.serverSide,
    serverHostname: tls.serverHostname,
    waiter,
    sslHandshakeTimeout: tls.sslHandshakeTimeout,
    sslShutdownTimeout: tls.sslShutdownTimeout,
  });
}

function checkFactory(factory: unknown): void {
  if (typeof factory !== "function") {
    throw new TypeError("protocolFactory must be a function returning a protocol");
  }
}

function checkStreamSocket(sock: Socket): void {
  if (!(sock instanceof Socket)) throw new TypeError("sock must be a Socket");
  if (sock.type !== SOCK_STREAM) throw new ValueError(`A Stream Socket was expected, got ${sock}`);
}

/** The sock of a Unix connection or server: an AF_UNIX stream socket, one message either way. */
function checkUnixStreamSocket(sock: Socket): void {
  if (!(sock instanceof Socket)) throw new TypeError("sock must be a Socket");
  if (sock.family !== AF_UNIX || sock.type !== SOCK_STREAM) {
    throw new ValueError(`A UNIX Domain Stream Socket was expected, got ${sock}`);
  }
}

/** happyEyeballsDelay: seconds >= 0; interleave: an integer >= 0 (TypeError/ValueError). */
function checkHappyEyeballs({ happyEyeballsDelay: delay, interleave }: CreateConnectionOptions): void {
  if (delay !== undefined && delay !== null) {
    if (typeof delay !== "number") throw new TypeError(`happyEyeballsDelay must be a number of seconds, got ${typeof delay}`);
    if (!(delay >= 0) || !Number.isFinite(delay)) {
      throw new ValueError(`happyEyeballsDelay must be a finite number of seconds >= 0, got ${delay}`);
    }
  }
  if (interleave !== undefined && interleave !== null) {
    if (typeof interleave !== "number" || !Number.isInteger(interleave)) {
      throw new TypeError(`interleave must be an integer, got ${String(interleave)}`);
    }
    if (interleave < 0) throw new ValueError(`interleave must be >= 0, got ${interleave}`);
  }
}

/** Turn the failures of every address tried into one error, as asyncio does. */
function combinedError(errors: unknown[]): unknown {
  if (errors.length === 1) return errors[0];
  const messages = errors.map(String);
  if (messages.every((m) => m === messages[0])) return errors[0];
  const first = errors.find((e) => e instanceof OSError) as OSError | undefined;
  const combined = new OSError(
    first?.errno ?? 0,
    first?.code ?? "EIO",
    `Multiple exceptions: ${messages.join(", ")}`,
  );
  (combined as OSError & { errors: unknown[] }).errors = errors;
  return combined;
}

/**
 * Wrap a connected socket in a transport (under a TLS layer when `tls` is given) and wait
 * until the protocol saw connectionMade — after the handshake, with TLS.
 */
async function connectTransport<P extends ProtocolLike>(
  loop: BaseEventLoop,
  sock: Socket,
  protocolFactory: ProtocolFactory<P>,
  tls: ConnectionTls | null = null,
): Promise<[Transport, P]> {
  const protocol = protocolFactory();
  const waiter = loop.createFuture();
  if (tls === null) {
    return whenConnected(loop._makeSocketTransport(sock, protocol, { waiter }), protocol, waiter);
  }
  let sslProtocol: SSLProtocol;
  try {
    sslProtocol = tlsLayer(loop, protocol, tls, waiter);
  } catch (e) {
    sock.close();
    throw e;
  }
  await whenConnected(loop._makeSocketTransport(sock, sslProtocol), protocol, waiter);
  return [sslProtocol._userTransport, protocol];
}

/** asyncio create_connection for the selector loop. */
export async function createConnection<P extends ProtocolLike>(
  loop: BaseEventLoop,
  protocolFactory: ProtocolFactory<P>,
  host: string | null = null,
  port: number | string | null = null,
  options: CreateConnectionOptions = {},
): Promise<[Transport, P]> {
  if (options.signal !== undefined) {
    const { signal, ...rest } = options;
    const checked = checkSignal(signal, "createConnection()");
    return runAbortable(loop, checked, () => createConnection(loop, protocolFactory, host, port, rest));
  }
  checkFactory(protocolFactory);
  checkPortRange(port, "createConnection()");
  if (options.localAddr) checkPortRange(options.localAddr[1], "createConnection() localAddr");
  checkHappyEyeballs(options);
  const tls = clientTls(options, host);
  let sock = options.sock;
  if (host !== null || port !== null) {
    if (sock !== undefined) {
      throw new ValueError("host/port and sock can not be specified at the same time");
    }
    const family = options.family ?? AF_UNSPEC, proto = options.proto ?? 0;
    const flags = options.flags ?? 0;
    // Through loop.getaddrinfo, as asyncio's _ensure_resolved: a loop (or test) replacing it is heard.
    const infos = await loop.getaddrinfo(host, port, { family, type: SOCK_STREAM, proto, flags });
    if (infos.length === 0) throw new OSError(0, "EAI_NONAME", "getaddrinfo() returned empty list");
    const localInfos = options.localAddr
      ? await loop.getaddrinfo(options.localAddr[0], options.localAddr[1], {
        family, type: SOCK_STREAM, proto, flags,
      })
      : null;
    const delay = options.happyEyeballsDelay ?? null;
    const interleave = options.interleave ?? (delay !== null ? 1 : 0);
    const ordered = interleave ? interleaveAddrinfos(infos, interleave) : infos;
    // Each attempt's errors, in order (a failed bind adds its own before the connect's).
    const perAttempt: unknown[][] = [];
    const attempts = ordered.map((info) => () => connectOne(loop, info, localInfos, perAttempt));
    if (delay === null) {
      for (const attempt of attempts) {
        try {
          sock = await attempt();
          break;
        } catch (e) {
          if (!(e instanceof OSError)) throw e;
        }
      }
    } else {
      const race = await staggeredRace(loop, attempts, delay, (late) => late.close());
      // Not a connection failure (asyncio lets those out of the race too).
      const unexpected = race.errors.find((e) => e !== undefined && !(e instanceof OSError));
      if (unexpected !== undefined) throw unexpected;
      sock = race.winner;
    }
    const errors = perAttempt.flat();
    if (sock === undefined) {
      if (options.allErrors) throw new ExceptionGroup("create_connection failed", errors);
      throw combinedError(errors);
    }
  } else {
    if (sock === undefined) {
      throw new ValueError("host and port was not specified and no sock specified");
    }
    checkStreamSocket(sock);
    sock.setBlocking(false);
  }
  return await connectTransport(loop, sock, protocolFactory, tls);
}

/**
 * asyncio connect_accepted_socket: a transport and protocol for a stream socket connected
 * outside the loop (accepted with sockAccept or Socket.accept()); with `ssl`, the server side
 * of a TLS connection, ready once the handshake is done.
 */
export async function connectAcceptedSocket<P extends ProtocolLike>(
  loop: BaseEventLoop,
  protocolFactory: ProtocolFactory<P>,
  sock: Socket,
  options: ConnectAcceptedSocketOptions = {},
): Promise<[Transport, P]> {
  checkFactory(protocolFactory);
  checkStreamSocket(sock);
  const tls = serverTls(options);
  try {
    sock.getpeername();
  } catch (e) {
    // Not connected (never, or a listening socket: ENOTCONN), or closed.
    if (!(e instanceof OSError)) throw e;
    throw new ValueError(`A connected Stream Socket was expected, got ${sock} (${e.strerror})`);
  }
  sock.setBlocking(false);
  return await connectTransport(loop, sock, protocolFactory, tls);
}

type AddrInfoTuple = [number, number, number, string, unknown];

/**
 * One address's attempt (asyncio _connect_sock): a non-blocking socket, bound to a local
 * address of its family if `localInfos`, connected. Its errors go to a new entry of
 * `perAttempt` (every failed bind, then the connect's), the last one is thrown; the socket is
 * closed on any failure or cancellation.
 */
async function connectOne(
  loop: BaseEventLoop,
  [af, type, pr, , address]: AddrInfoTuple,
  localInfos: AddrInfoTuple[] | null,
  perAttempt: unknown[][],
): Promise<Socket> {
  const mine: unknown[] = [];
  perAttempt.push(mine);
  const sock = new Socket(af, type, pr);
  try {
    sock.setBlocking(false);
    if (localInfos) bindLocal(sock, af, localInfos, mine);
    await loop.sockConnect(sock, address as AddressLike);
    return sock;
  } catch (e) {
    sock.close();
    if (e instanceof OSError && !mine.includes(e)) mine.push(e);
    throw e;
  }
}

/** Bind to the first local address of `family` that takes it; each failure is added to `errors`. */
function bindLocal(sock: Socket, family: number, localInfos: AddrInfoTuple[], errors: unknown[]): void {
  for (const [af, , , , laddr] of localInfos) {
    if (af !== family) continue;
    try {
      sock.bind(laddr as AddressLike);
      return;
    } catch (e) {
      if (!(e instanceof OSError)) throw e;
      errors.push(new OSError(e.errno, e.code, `error while attempting to bind on address ` +
        `${JSON.stringify(laddr)}: ${e.strerror}`));
    }
  }
  if (errors.length > 0) throw errors[errors.length - 1];
  throw new OSError(0, "EADDRNOTAVAIL", `no matching local address with family=${family} found`);
}

/**
 * The addresses reordered by family, alternating (asyncio _interleave_addrinfos): the first
 * `firstFamilyCount` - 1 of the first family, then one of each family in turn.
 */
export function interleaveAddrinfos<I extends readonly unknown[]>(infos: readonly I[], firstFamilyCount = 1): I[] {
  const byFamily = new Map<unknown, I[]>();
  for (const info of infos) {
    const list = byFamily.get(info[0]);
    if (list) list.push(info);
    else byFamily.set(info[0], [info]);
  }
  const lists = [...byFamily.values()];
  const out: I[] = [];
  if (firstFamilyCount > 1 && lists.length > 0) out.push(...lists[0].splice(0, firstFamilyCount - 1));
  for (let i = 0; lists.some((l) => i < l.length); i++) {
    for (const l of lists) if (i < l.length) out.push(l[i]);
  }
  return out;
}

/** asyncio create_server for the selector loop. */
export async function createServer<P extends ProtocolLike>(
  loop: BaseEventLoop,
  protocolFactory: ProtocolFactory<P>,
  host: string | string[] | null = null,
  port: number | string | null = null,
  options: CreateServerOptions = {},
): Promise<Server> {
  checkFactory(protocolFactory);
  checkPortRange(port, "createServer()");
  const factory = serverFactory(loop, options, protocolFactory);
  const backlog = options.backlog ?? 100;
  if (!Number.isInteger(backlog) || backlog < 0) {
    throw new ValueError(`backlog must be a non-negative integer, got ${backlog}`);
  }
  let sockets: Socket[];
  if (host !== null || port !== null) {
    if (options.sock !== undefined) {
      throw new ValueError("host/port and sock can not be specified at the same time");
    }
    const hosts = host === null || host === "" ? [null] : Array.isArray(host) ? host : [host];
    const flags = (options.flags ?? 0) | AI_PASSIVE;
    const family = options.family ?? AF_UNSPEC;
    const lists = await Promise.all(hosts.map((h) =>
      getaddrinfo(loop, h, port, { family, type: SOCK_STREAM, flags })
    ));
    const seen = new Set<string>();
    sockets = [];
    try {
      for (const [af, type, proto, , address] of lists.flat()) {
        const key = JSON.stringify([af, address]);
        if (seen.has(key)) continue;
        seen.add(key);
        const sock = new Socket(af, type, proto);
        sockets.push(sock);
        if (options.reuseAddress ?? true) sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
        if (options.reusePort) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
        // One socket per family: keep the IPv6 one from also claiming the IPv4 port.
        if (af === AF_INET6) sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1);
        try {
          sock.bind(address as AddressLike);
        } catch (e) {
          if (!(e instanceof OSError)) throw e;
          throw new OSError(e.errno, e.code, `error while attempting to bind on address ` +
            `${JSON.stringify(address)}: ${e.strerror}`);
        }
      }
    } catch (e) {
      for (const s of sockets) s.close();
      throw e;
    }
  } else {
    if (options.sock === undefined) {
      throw new ValueError("Neither host/port nor sock were specified");
    }
    checkStreamSocket(options.sock);
    sockets = [options.sock];
  }
  for (const s of sockets) s.setBlocking(false);
  const server = new Server(loop, sockets, factory, backlog);
  if (options.startServing ?? true) server._startServing();
  return server;
}

/** asyncio create_unix_connection. */
export async function createUnixConnection<P extends ProtocolLike>(
  loop: BaseEventLoop,
  protocolFactory: ProtocolFactory<P>,
  path: string | null = null,
  options: CreateUnixConnectionOptions = {},
): Promise<[Transport, P]> {
  if (options.signal !== undefined) {
    const { signal, ...rest } = options;
    const checked = checkSignal(signal, "createUnixConnection()");
    return runAbortable(loop, checked, () => createUnixConnection(loop, protocolFactory, path, rest));
  }
  checkFactory(protocolFactory);
  // No host name to default to: with ssl, serverHostname must be given.
  const tls = clientTls(options, null);
  let sock = options.sock;
  if (path !== null) {
    if (sock !== undefined) throw new ValueError("path and sock can not be specified at the same time");
    if (typeof path !== "string") throw new TypeError("path must be a string");
    sock = new Socket(AF_UNIX, SOCK_STREAM, 0);
    try {
      sock.setBlocking(false);
      await loop.sockConnect(sock, path);
    } catch (e) {
      sock.close();
      throw e;
    }
  } else {
    if (sock === undefined) throw new ValueError("no path and sock were specified");
    checkUnixStreamSocket(sock);
    sock.setBlocking(false);
  }
  return await connectTransport(loop, sock, protocolFactory, tls);
}

/**
 * How to remove the socket file `sock` is bound to when its server closes (asyncio 3.13
 * _stop_serving): only if the file is still the one bound now (same device and inode), not one
 * another server has bound at that path since. Undefined for an unbound or abstract socket.
 */
function socketFileCleanup(sock: Socket): (() => void) | undefined {
  const path = sock.getsockname();
  if (typeof path !== "string" || path === "" || path.startsWith("\0")) return undefined;
  let bound: { dev: number; ino: number };
  try {
    bound = statSync(path);
  } catch {
    return undefined; // bound through another directory name, or already removed
  }
  return () => {
    try {
      const now = statSync(path);
      if (now.dev === bound.dev && now.ino === bound.ino) unlinkSync(path);
    } catch {
      // Already removed by someone else.
    }
  };
}

/** asyncio create_unix_server. */
export async function createUnixServer<P extends ProtocolLike>(
  loop: BaseEventLoop,
  protocolFactory: ProtocolFactory<P>,
  path: string | null = null,
  options: CreateUnixServerOptions = {},
): Promise<Server> {
  checkFactory(protocolFactory);
  const factory = serverFactory(loop, options, protocolFactory);
  const backlog = options.backlog ?? 100;
  let sock = options.sock;
  if (path !== null) {
    if (sock !== undefined) throw new ValueError("path and sock can not be specified at the same time");
    if (typeof path !== "string") throw new TypeError("path must be a string");
    // A stale socket file from an earlier run is removed, as asyncio does; anything else stays.
    if (!path.startsWith("\0")) {
      try {
        if (lstatSync(path).isSocket()) unlinkSync(path);
      } catch {
        // No such file: nothing to clean.
      }
    }
    sock = new Socket(AF_UNIX, SOCK_STREAM, 0);
    try {
      sock.bind(path);
    } catch (e) {
      sock.close();
      if (e instanceof OSError && e.code === "EADDRINUSE") {
        throw new OSError(e.errno, e.code, `Address ${JSON.stringify(path)} is already in use`);
      }
      throw e;
    }
  } else {
    if (sock === undefined) throw new ValueError("path was not specified, and no sock specified");
    checkUnixStreamSocket(sock);
  }
  sock.setBlocking(false);
  const onClosed = (options.cleanupSocket ?? true) ? socketFileCleanup(sock) : undefined;
  const server = new Server(loop, [sock], factory, backlog, onClosed);
  if (options.startServing ?? true) server._startServing();
  return server;
}
