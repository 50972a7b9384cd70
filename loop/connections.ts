/**
 * Opening stream connections and servers (asyncio base_events' create_connection,
 * create_server and unix_events' create_unix_connection/create_unix_server), for the selector
 * loop. Every argument is checked where it is first seen, naming it.
 */
import { lstatSync, unlinkSync } from "node:fs";
import { getaddrinfo } from "./dns.ts";
import { NotImplementedError, OSError, ValueError } from "./errors.ts";
import type { ProtocolFactory, ProtocolLike } from "./protocols.ts";
import type { SelectorEventLoop } from "./selector_loop.ts";
import { Server } from "./server.ts";
import { sockConnect } from "./sock_ops.ts";
import {
  AF_UNIX, AF_INET6, AF_UNSPEC, AI_PASSIVE, IPPROTO_IPV6, IPV6_V6ONLY, SO_REUSEADDR, SO_REUSEPORT,
  SOCK_STREAM, SOL_SOCKET, Socket,
  type AddressLike,
} from "./socket.ts";
import type { Transport } from "./transports/base.ts";
import { SelectorSocketTransport } from "./transports/selector_socket.ts";

/** Options of createConnection (asyncio's keyword arguments). */
export interface CreateConnectionOptions {
  /** TLS: an SSLContext or true. Not available yet (see README). */
  ssl?: unknown;
  family?: number;
  proto?: number;
  flags?: number;
  /** An already connected stream socket to use instead of host/port. */
  sock?: Socket;
  /** [host, port] to bind the socket to before connecting. */
  localAddr?: [string, number];
  /** The host name to check the server's certificate against (TLS only). */
  serverHostname?: string;
}

/** Options of createServer (asyncio's keyword arguments). */
export interface CreateServerOptions {
  family?: number;
  flags?: number;
  /** An already bound socket to listen on instead of host/port. */
  sock?: Socket;
  /** listen(2) backlog; default 100. */
  backlog?: number;
  ssl?: unknown;
  /** SO_REUSEADDR; default true on Unix. */
  reuseAddress?: boolean;
  /** SO_REUSEPORT; default false. */
  reusePort?: boolean;
  /** Start accepting at once (default true). */
  startServing?: boolean;
}

/** Options of createUnixConnection. */
export interface CreateUnixConnectionOptions {
  ssl?: unknown;
  sock?: Socket;
  serverHostname?: string;
}

/** Options of createUnixServer. */
export interface CreateUnixServerOptions {
  sock?: Socket;
  backlog?: number;
  ssl?: unknown;
  startServing?: boolean;
  /** Remove the socket file when the server closes (default true, as asyncio 3.13). */
  cleanupSocket?: boolean;
}

function rejectSsl(ssl: unknown, serverHostname: string | undefined): void {
  if (ssl) {
    throw new NotImplementedError(
      "ssl= is not available yet: TLS support (createConnection/createServer over OpenSSL) " +
        "has not landed; use a plain connection",
    );
  }
  if (serverHostname !== undefined) {
    throw new ValueError("serverHostname is only meaningful with ssl");
  }
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

/** Wrap a connected socket in a transport and wait until the protocol saw connectionMade. */
async function connectTransport<P extends ProtocolLike>(
  loop: SelectorEventLoop,
  sock: Socket,
  protocolFactory: ProtocolFactory<P>,
): Promise<[Transport, P]> {
  const protocol = protocolFactory();
  const waiter = loop.createFuture();
  const transport = new SelectorSocketTransport(loop, sock, protocol, { waiter });
  try {
    await waiter;
  } catch (e) {
    transport.close();
    throw e;
  }
  return [transport, protocol];
}

/** asyncio create_connection for the selector loop. */
export async function createConnection<P extends ProtocolLike>(
  loop: SelectorEventLoop,
  protocolFactory: ProtocolFactory<P>,
  host: string | null = null,
  port: number | string | null = null,
  options: CreateConnectionOptions = {},
): Promise<[Transport, P]> {
  checkFactory(protocolFactory);
  rejectSsl(options.ssl, options.serverHostname);
  let sock = options.sock;
  if (host !== null || port !== null) {
    if (sock !== undefined) {
      throw new ValueError("host/port and sock can not be specified at the same time");
    }
    const family = options.family ?? AF_UNSPEC, proto = options.proto ?? 0;
    const flags = options.flags ?? 0;
    const infos = await getaddrinfo(loop, host, port, { family, type: SOCK_STREAM, proto, flags });
    if (infos.length === 0) throw new OSError(0, "EAI_NONAME", "getaddrinfo() returned empty list");
    const localInfos = options.localAddr
      ? await getaddrinfo(loop, options.localAddr[0], options.localAddr[1], {
        family, type: SOCK_STREAM, proto, flags,
      })
      : null;
    const errors: unknown[] = [];
    for (const [af, type, pr, , address] of infos) {
      const candidate = new Socket(af, type, pr);
      try {
        candidate.setBlocking(false);
        if (localInfos) bindLocal(candidate, af, localInfos);
        await sockConnect(loop, candidate, address as AddressLike);
        sock = candidate;
        break;
      } catch (e) {
        candidate.close();
        errors.push(e);
      }
    }
    if (sock === undefined) throw combinedError(errors);
  } else {
    if (sock === undefined) {
      throw new ValueError("host and port was not specified and no sock specified");
    }
    checkStreamSocket(sock);
    sock.setBlocking(false);
  }
  return await connectTransport(loop, sock, protocolFactory);
}

function bindLocal(
  sock: Socket,
  family: number,
  localInfos: [number, number, number, string, unknown][],
): void {
  let lastError: unknown = new OSError(0, "EADDRNOTAVAIL", `no local address of family ${family}`);
  for (const [af, , , , laddr] of localInfos) {
    if (af !== family) continue;
    try {
      sock.bind(laddr as AddressLike);
      return;
    } catch (e) {
      lastError = e instanceof OSError
        ? new OSError(e.errno, e.code, `error while attempting to bind on address ` +
          `${JSON.stringify(laddr)}: ${e.strerror}`)
        : e;
    }
  }
  throw lastError;
}

/** asyncio create_server for the selector loop. */
export async function createServer<P extends ProtocolLike>(
  loop: SelectorEventLoop,
  protocolFactory: ProtocolFactory<P>,
  host: string | string[] | null = null,
  port: number | string | null = null,
  options: CreateServerOptions = {},
): Promise<Server> {
  checkFactory(protocolFactory);
  rejectSsl(options.ssl, undefined);
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
  const server = new Server(loop, sockets, protocolFactory, backlog);
  if (options.startServing ?? true) server._startServing();
  return server;
}

/** asyncio create_unix_connection. */
export async function createUnixConnection<P extends ProtocolLike>(
  loop: SelectorEventLoop,
  protocolFactory: ProtocolFactory<P>,
  path: string | null = null,
  options: CreateUnixConnectionOptions = {},
): Promise<[Transport, P]> {
  checkFactory(protocolFactory);
  rejectSsl(options.ssl, options.serverHostname);
  let sock = options.sock;
  if (path !== null) {
    if (sock !== undefined) throw new ValueError("path and sock can not be specified at the same time");
    if (typeof path !== "string") throw new TypeError("path must be a string");
    sock = new Socket(AF_UNIX, SOCK_STREAM, 0);
    try {
      sock.setBlocking(false);
      await sockConnect(loop, sock, path);
    } catch (e) {
      sock.close();
      throw e;
    }
  } else {
    if (sock === undefined) throw new ValueError("no path and sock were specified");
    if (sock.family !== AF_UNIX) throw new ValueError(`A UNIX Domain Stream Socket was expected, got ${sock}`);
    checkStreamSocket(sock);
    sock.setBlocking(false);
  }
  return await connectTransport(loop, sock, protocolFactory);
}

/** asyncio create_unix_server. */
export async function createUnixServer<P extends ProtocolLike>(
  loop: SelectorEventLoop,
  protocolFactory: ProtocolFactory<P>,
  path: string | null = null,
  options: CreateUnixServerOptions = {},
): Promise<Server> {
  checkFactory(protocolFactory);
  rejectSsl(options.ssl, undefined);
  const backlog = options.backlog ?? 100;
  let sock = options.sock;
  let cleanupPath: string | undefined;
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
    if ((options.cleanupSocket ?? true) && !path.startsWith("\0")) cleanupPath = path;
  } else {
    if (sock === undefined) throw new ValueError("path was not specified, and no sock specified");
    if (sock.family !== AF_UNIX) throw new ValueError(`A UNIX Domain Stream Socket was expected, got ${sock}`);
    checkStreamSocket(sock);
  }
  sock.setBlocking(false);
  const onClosed = cleanupPath === undefined ? undefined : () => {
    try {
      unlinkSync(cleanupPath!);
    } catch {
      // Already removed by someone else.
    }
  };
  const server = new Server(loop, [sock], protocolFactory, backlog, onClosed);
  if (options.startServing ?? true) server._startServing();
  return server;
}
