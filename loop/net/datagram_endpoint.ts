/**
 * createDatagramEndpoint for the selector loop (asyncio base_events'
 * create_datagram_endpoint): UDP over IPv4/IPv6 and Unix datagram sockets.
 */
import { type KeysOf, refuseUnknownOptions } from "../core/options.ts";
import { unlinkSync, lstatSync } from "node:fs";
import { checkPortRange, getaddrinfo } from "./dns.ts";
import { OSError, ValueError } from "../core/errors.ts";
import type { DatagramProtocolLike, ProtocolFactory } from "../transports/protocols.ts";
import type { TransportLoop } from "../transports/transport_loop.ts";
import {
  type AddressLike, AF_UNIX, AF_UNSPEC, SO_BROADCAST, SO_REUSEPORT, SOCK_DGRAM, SOL_SOCKET, Socket,
} from "./socket.ts";
import { type DatagramTransport, whenConnected } from "../transports/base.ts";

/** Options of createDatagramEndpoint (asyncio's keyword arguments). */
export interface DatagramEndpointOptions {
  /** [host, port] (or a path for AF_UNIX) to bind to. */
  localAddr?: AddressLike | null | undefined;
  /** [host, port] (or a path for AF_UNIX) to connect to: sendto() then needs no address. */
  remoteAddr?: AddressLike | null | undefined;
  /** Address family (AF_INET, AF_INET6, AF_UNIX); default: from the addresses. */
  family?: number | undefined;
  /** Protocol number for getaddrinfo; default 0. */
  proto?: number | undefined;
  /** AI_* flags for getaddrinfo; default 0. */
  flags?: number | undefined;
  /** SO_REUSEPORT: let other sockets bind the same address; default false. */
  reusePort?: boolean | undefined;
  /** SO_BROADCAST: allow sending to broadcast addresses; default false. */
  allowBroadcast?: boolean | undefined;
  /** An existing datagram socket to use instead of the addresses. */
  sock?: Socket | undefined;
}

/** @ignore The keys of DatagramEndpointOptions, for refuseUnknownOptions(). */
export const DATAGRAM_ENDPOINT_OPTION_KEYS: KeysOf<DatagramEndpointOptions> = {
  localAddr: true, remoteAddr: true, family: true, proto: true, flags: true, reusePort: true,
  allowBroadcast: true, sock: true,
};

/** asyncio create_datagram_endpoint. */
export async function createDatagramEndpoint<P extends DatagramProtocolLike>(
  loop: TransportLoop,
  protocolFactory: ProtocolFactory<P>,
  options: DatagramEndpointOptions = {},
): Promise<[DatagramTransport, P]> {
  refuseUnknownOptions(options, DATAGRAM_ENDPOINT_OPTION_KEYS, "createDatagramEndpoint()");
  if (typeof protocolFactory !== "function") {
    throw new TypeError("protocolFactory must be a function returning a protocol");
  }
  const { localAddr, remoteAddr, sock: given } = options;
  for (const [addr, what] of [[localAddr, "localAddr"], [remoteAddr, "remoteAddr"]] as const) {
    if (Array.isArray(addr)) checkPortRange(addr[1], `createDatagramEndpoint() ${what}`);
  }
  let sock: Socket;
  let remote: unknown = null;
  if (given !== undefined) {
    if (!(given instanceof Socket)) throw new TypeError("sock must be a Socket");
    if (given.type !== SOCK_DGRAM) throw new ValueError(`A datagram socket was expected, got ${given}`);
    const extras = Object.entries(options).filter(([k, v]) => k !== "sock" && v !== undefined);
    if (extras.length > 0) {
      throw new ValueError(
        `socket modifier keyword arguments can not be used when sock is specified. ` +
          `(${extras.map(([k]) => k).join(", ")})`,
      );
    }
    sock = given;
    sock.setBlocking(false);
  } else {
    [sock, remote] = await openDatagramSocket(loop, options);
  }
  const protocol = protocolFactory();
  const waiter = loop.createFuture();
  const transport = loop._makeDatagramTransport(sock, protocol, remote, waiter);
  return whenConnected(transport, protocol, waiter);
}

/**
 * A non-blocking datagram socket bound and connected as the options say, and the remote address
 * the transport sends to (null: none). With allowBroadcast the socket is not connected (asyncio):
 * the transport names remoteAddr on every send instead.
 */
async function openDatagramSocket(
  loop: TransportLoop,
  options: DatagramEndpointOptions,
): Promise<[Socket, unknown]> {
  const { localAddr, remoteAddr } = options;
  const family = options.family ?? AF_UNSPEC, proto = options.proto ?? 0;
  const flags = options.flags ?? 0;
  if (family === AF_UNIX) {
    for (const a of [localAddr, remoteAddr]) {
      if (a !== undefined && typeof a !== "string") {
        throw new TypeError(`string is expected for an AF_UNIX address, got ${JSON.stringify(a)}`);
      }
    }
    const sock = new Socket(AF_UNIX, SOCK_DGRAM, proto);
    try {
      sock.setBlocking(false);
      if (typeof localAddr === "string") {
        if (!localAddr.startsWith("\0")) removeStaleSocket(localAddr);
        sock.bind(localAddr);
      }
      if (typeof remoteAddr === "string") await loop.sockConnect(sock, remoteAddr);
      return [sock, remoteAddr ?? null];
    } catch (e) {
      sock.close();
      throw e;
    }
  }
  if (localAddr === undefined && remoteAddr === undefined) {
    if (family === AF_UNSPEC) throw new ValueError("unexpected address family");
    const sock = new Socket(family, SOCK_DGRAM, proto);
    sock.setBlocking(false);
    return [sock, null];
  }
  // Resolve both ends, then try each family they have in common, as asyncio does.
  const resolve = async (addr: unknown, what: string) => {
    if (addr === undefined) return null;
    // asyncio wants exactly a 2-tuple here, also for AF_INET6 (flowinfo and scope id come from
    // getaddrinfo).
    if (!Array.isArray(addr) || addr.length !== 2) {
      throw new TypeError(`2-tuple is expected: ${what} must be [host, port], got ${JSON.stringify(addr)}`);
    }
    const infos = await getaddrinfo(loop, addr[0], addr[1], { family, type: SOCK_DGRAM, proto, flags });
    if (infos.length === 0) throw new OSError(0, "EAI_NONAME", "getaddrinfo() returned empty list");
    return infos;
  };
  const [locals, remotes] = await Promise.all([
    resolve(localAddr, "localAddr"),
    resolve(remoteAddr, "remoteAddr"),
  ]);
  const pairs: [number, number, unknown, unknown][] = [];
  const families = new Set([...(locals ?? []), ...(remotes ?? [])].map((i) => i[0]));
  for (const af of families) {
    const l = locals?.find((i) => i[0] === af);
    const r = remotes?.find((i) => i[0] === af);
    if ((locals && !l) || (remotes && !r)) continue;
    pairs.push([af, (l ?? r)![2], l?.[4], r?.[4]]);
  }
  if (pairs.length === 0) throw new ValueError("can not get address information");
  const errors: unknown[] = [];
  for (const [af, pr, laddr, raddr] of pairs) {
    const sock = new Socket(af, SOCK_DGRAM, pr);
    try {
      if (options.reusePort) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
      if (options.allowBroadcast) sock.setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
      sock.setBlocking(false);
      if (laddr !== undefined) sock.bind(laddr as AddressLike);
      if (raddr === undefined) return [sock, null];
      if (options.allowBroadcast) return [sock, raddr];
      await loop.sockConnect(sock, raddr as AddressLike);
      return [sock, sock.getpeername()];
    } catch (e) {
      sock.close();
      if (!(e instanceof OSError)) throw e;
      errors.push(e);
    }
  }
  // asyncio reports the first family's failure.
  throw errors[0];
}

function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Nothing there.
  }
}
