/**
 * Name resolution without blocking the loop: asyncio's loop.getaddrinfo / loop.getnameinfo,
 * with the answers Python's socket.getaddrinfo / socket.getnameinfo give on glibc.
 *
 * asyncio runs the blocking C calls in a thread pool. Here the host does that: `node:dns`'s
 * lookup() and lookupService() (both Deno and Bun offer them) call the system resolver off the
 * JS thread, so the loop's callbacks and timers keep running during a lookup. What the host does
 * not do is done here as glibc does it:
 * - IP literals and numeric ports never reach the resolver; AI_NUMERICHOST / AI_NUMERICSERV
 *   refuse anything else.
 * - With type/proto 0 each address yields one row per (type, proto): (SOCK_STREAM, IPPROTO_TCP),
 *   (SOCK_DGRAM, IPPROTO_UDP), (SOCK_RAW, 0); a service name keeps only the protocols
 *   /etc/services lists it for (services(5)), and no SOCK_RAW row.
 * - A null host is the loopback addresses (::1, then 127.0.0.1), or with AI_PASSIVE the
 *   wildcard ones (0.0.0.0, then ::), the order glibc returns them in.
 * Not done: SOCK_SEQPACKET/SCTP rows, AI_CANONNAME's true canonical name for host names (the
 * host resolvers do not report it; the name asked for is returned), NI_NOFQDN, AI_ADDRCONFIG for
 * null and numeric hosts (it is passed to the resolver for names only).
 *
 * Failures raise {@link gaierror} (Python's socket.gaierror, an OSError) with glibc's EAI_*
 * number as `errno` (negative, e.g. EAI_NONAME = -2), its name as `code` ("EAI_NONAME") and
 * gai_strerror(3)'s text as `strerror` ("Name or service not known").
 *
 * Where the OS's own resolver is the one to answer (platform/default_dns.ts picks it: on Windows)
 * none of the above is emulated: as CPython there, every call goes to Winsock's
 * getaddrinfo/getnameinfo (GetAddrInfoW/GetNameInfoW, platform/windows_dns.ts), which read the
 * services file and hosts themselves and answer Windows's way (with type and proto 0, one row
 * per address, type and proto 0). Calls that may reach the resolver (a host name; getnameinfo
 * without NI_NUMERICHOST) run on the loop's default executor, as asyncio runs them; IP literals
 * and a null host are answered at once. The EAI_* numbers there are ws2tcpip.h's (Winsock
 * error codes: EAI_NONAME = WSAHOST_NOT_FOUND 11001, EAI_NODATA = EAI_NONAME) and `strerror`
 * is "getaddrinfo failed", CPython's text on Windows, which has no gai_strerror; Windows has no
 * EAI_ADDRFAMILY, EAI_SYSTEM or EAI_OVERFLOW (the constants keep glibc's numbers there and are
 * never raised).
 */
import { type KeysOf, refuseUnknownOptions } from "../core/options.ts";
import dns from "node:dns";
import { readFile } from "node:fs/promises";
import { resolverCalls } from "../../platform/default_dns.ts";
import type { NativeResolver } from "./resolver_calls.ts";
import {
  inetNtop4, inetNtop6, inetPton4, inetPton6, interfaceIndex as nativeInterfaceIndex, isIpv4Address,
  isIpv6Address, type SockAddr,
} from "../../ffi/sockaddr.ts";
import {
  AF_INET, AF_INET6, AF_UNSPEC, AI_ADDRCONFIG, AI_ALL, AI_CANONNAME, AI_NUMERICHOST,
  AI_NUMERICSERV, AI_PASSIVE, AI_V4MAPPED, EAI_ADDRFAMILY, EAI_OVERFLOW, EAI_SYSTEM, IPPROTO_TCP, IPPROTO_UDP, NI_DGRAM, NI_NAMEREQD, NI_NUMERICHOST, NI_NUMERICSERV, SOCK_DGRAM,
  SOCK_RAW, SOCK_STREAM,
} from "../../ffi/socket_constants.ts";
import type { AbstractEventLoop, AbstractFuture } from "../core/abstract_loop.ts";
import type { ExecutorLoop } from "../concurrency/executor.ts";
import { CancelledError, OSError, OverflowError } from "../core/errors.ts";
import { task } from "../concurrency/executor.ts";

export { EAI_ADDRFAMILY, EAI_OVERFLOW, EAI_SYSTEM };
// This OS's getaddrinfo error numbers (platform/default_dns.ts): <netdb.h>'s (glibc), or
// ws2tcpip.h's on Windows.
const { eai } = resolverCalls;
/** Bad `flags` (glibc -1; Windows WSAEINVAL 10022). */
export const EAI_BADFLAGS: number = eai.EAI_BADFLAGS;
/** Name or service not known (glibc -2; Windows WSAHOST_NOT_FOUND 11001). */
export const EAI_NONAME: number = eai.EAI_NONAME;
/** Temporary failure in name resolution (glibc -3; Windows WSATRY_AGAIN 11002). */
export const EAI_AGAIN: number = eai.EAI_AGAIN;
/** Non-recoverable failure (glibc -4; Windows WSANO_RECOVERY 11003). */
export const EAI_FAIL: number = eai.EAI_FAIL;
/** No address for the name (glibc -5; Windows defines it as EAI_NONAME, 11001). */
export const EAI_NODATA: number = eai.EAI_NODATA;
/** Family not supported (glibc -6; Windows WSAEAFNOSUPPORT 10047). */
export const EAI_FAMILY: number = eai.EAI_FAMILY;
/** Socket type not supported (glibc -7; Windows WSAESOCKTNOSUPPORT 10044). */
export const EAI_SOCKTYPE: number = eai.EAI_SOCKTYPE;
/** Service not supported for the socket type (glibc -8; Windows WSATYPE_NOT_FOUND 10109). */
export const EAI_SERVICE: number = eai.EAI_SERVICE;
/** Out of memory (glibc -10; Windows WSA_NOT_ENOUGH_MEMORY 8). */
export const EAI_MEMORY: number = eai.EAI_MEMORY;

/**
 * A failed address lookup (Python's socket.gaierror, a subclass of OSError): `errno` is the
 * EAI_* number from <netdb.h> (negative), `code` its name, `strerror` gai_strerror(3)'s text.
 */
// deno-lint-ignore camelcase
export class gaierror extends OSError {
  /** Always "gaierror". */
  override name = "gaierror";
  /** The error for EAI_* code `eai`; `context` says what was being looked up. */
  constructor(eai: number, context?: string, options?: { cause?: unknown }) {
    super(eai, resolverCalls.eaiNames[eai] ?? `EAI_${Math.abs(eai)}`, resolverCalls.strerror(eai), context);
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** One getaddrinfo answer: `[family, type, proto, canonname, sockaddr]`, as in Python. */
export type AddrInfo = [family: number, type: number, proto: number, canonname: string, sockaddr: SockAddr];

/** getaddrinfo's filters (Python's keyword arguments). */
export interface GetAddrInfoOptions {
  /** AF_UNSPEC (default), AF_INET or AF_INET6. */
  family?: number | undefined;
  /** 0 (default: all), SOCK_STREAM, SOCK_DGRAM or SOCK_RAW. */
  type?: number | undefined;
  /** 0 (default: the type's usual protocol) or IPPROTO_TCP, IPPROTO_UDP, … */
  proto?: number | undefined;
  /** AI_* flags: AI_PASSIVE, AI_CANONNAME, AI_NUMERICHOST, AI_NUMERICSERV, AI_ADDRCONFIG, … */
  flags?: number | undefined;
}

/** @ignore The keys of GetAddrInfoOptions, for refuseUnknownOptions(). */
export const GET_ADDR_INFO_OPTION_KEYS: KeysOf<GetAddrInfoOptions> = {
  family: true, type: true, proto: true, flags: true,
};

// ---- services(5) ------------------------------------------------------------------------------

interface Services {
  /** service name or alias → port, per protocol ("tcp"/"udp") */
  byName: Map<string, Map<string, number>>;
  /** "port/proto" → service name */
  byPort: Map<string, string>;
}

/** Used when /etc/services is missing (minimal containers): the common IANA assignments. */
const fallbackServices = `ftp 21/tcp\nssh 22/tcp\ntelnet 23/tcp\nsmtp 25/tcp mail\n
domain 53/tcp\ndomain 53/udp\nhttp 80/tcp www\npop3 110/tcp\nntp 123/udp\nimap2 143/tcp imap\n
snmp 161/udp\nhttps 443/tcp\nhttps 443/udp\nsubmission 587/tcp\nimaps 993/tcp\npop3s 995/tcp\n`;

function parseServices(text: string): Services {
  const byName = new Map<string, Map<string, number>>();
  const byPort = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") continue;
    const [name = "", portProto = "", ...aliases] = line.split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(portProto);
    if (!m) continue;
    const port = Number(m[1]), proto = m[2]!; // the regexp matched: both groups are there
    for (const n of [name, ...aliases]) {
      let perProto = byName.get(n);
      if (!perProto) byName.set(n, perProto = new Map());
      if (!perProto.has(proto)) perProto.set(proto, port);
    }
    const key = `${port}/${proto}`;
    if (!byPort.has(key)) byPort.set(key, name);
  }
  return { byName, byPort };
}

let servicesPromise: Promise<Services> | undefined;

/** The services database, read once (asynchronously) from /etc/services. */
function services(): Promise<Services> {
  return servicesPromise ??= readFile("/etc/services", "utf8").then(
    parseServices,
    () => parseServices(fallbackServices),
  );
}

// ---- getaddrinfo ----------------------------------------------------------------------------

/** glibc's (type, proto) table for AF_INET/AF_INET6 (gaih_inet_typeproto), minus SCTP/DCCP. */
const typeProtos: readonly { type: number; proto: number; name: string }[] = [
  { type: SOCK_STREAM, proto: IPPROTO_TCP, name: "tcp" },
  { type: SOCK_DGRAM, proto: IPPROTO_UDP, name: "udp" },
  { type: SOCK_RAW, proto: 0, name: "" }, // any protocol; takes no service name
];

interface Row {
  type: number;
  proto: number;
  port: number;
}

/**
 * The (type, proto, port) rows for the requested type/proto and port (service), as glibc's
 * gaih_inet picks them: with type and proto both 0, every table entry (for a service name, those
 * /etc/services lists it for); otherwise only the first entry that matches them. A raw socket
 * takes no service at all, not even a numeric one (EAI_SERVICE).
 */
async function serviceRows(port: unknown, type: number, proto: number, flags: number) {
  const candidates = typeProtos.filter((tp) =>
    (type === 0 || tp.type === type) && (proto === 0 || tp.proto === 0 || tp.proto === proto)
  );
  if (candidates.length === 0) throw new gaierror(type ? EAI_SOCKTYPE : EAI_SERVICE, "getaddrinfo");
  const chosen = type || proto ? candidates.slice(0, 1) : candidates;
  const hasService = port !== null && port !== undefined;
  if (hasService && chosen.length === 1 && chosen[0]!.type === SOCK_RAW) {
    throw new gaierror(EAI_SERVICE, `getaddrinfo port ${String(port)} with SOCK_RAW`);
  }
  const rowProto = (tp: { type: number; proto: number }) => tp.type === SOCK_RAW ? proto : tp.proto;
  let numeric: number | undefined;
  if (!hasService) numeric = 0;
  else if (typeof port === "number") {
    if (!Number.isInteger(port) || port < 0) throw new gaierror(EAI_SERVICE, `getaddrinfo port ${port}`);
    numeric = port & 0xffff; // glibc keeps the low 16 bits (sin_port), as Python shows
  } else if (typeof port === "string") {
    if (/^[0-9]+$/.test(port)) numeric = Number(port) & 0xffff;
  } else {
    throw new TypeError(`getaddrinfo() port must be a number, a string or null, got ${typeof port}`);
  }
  if (numeric !== undefined) {
    return chosen.map((tp): Row => ({ type: tp.type, proto: rowProto(tp), port: numeric }));
  }
  const name = port as string;
  if (flags & AI_NUMERICSERV) throw new gaierror(EAI_NONAME, `getaddrinfo service '${name}'`);
  const perProto = (await services()).byName.get(name);
  const rows: Row[] = [];
  for (const tp of chosen) {
    const p = tp.name === "" ? undefined : perProto?.get(tp.name);
    if (p !== undefined) rows.push({ type: tp.type, proto: tp.proto, port: p });
  }
  if (rows.length === 0) throw new gaierror(EAI_SERVICE, `getaddrinfo service '${name}'`);
  return rows;
}

/** Node-style resolver error codes → EAI_* (node:dns reports c-ares/libuv names). */
function eaiFromHostError(e: unknown): number {
  const code = (e as { code?: unknown })?.code;
  switch (code) {
    case "ENOTFOUND": case "EAI_NONAME": case "ENONAME": return EAI_NONAME;
    case "EAI_AGAIN": case "ETIMEOUT": case "ETIMEDOUT": case "ECONNREFUSED": return EAI_AGAIN;
    case "ENODATA": case "EAI_NODATA": return EAI_NODATA;
    case "EAI_FAMILY": case "EBADFAMILY": return EAI_FAMILY;
    case "ENOMEM": case "EAI_MEMORY": return EAI_MEMORY;
    case "EAI_SERVICE": return EAI_SERVICE;
    default: return EAI_FAIL;
  }
}

/** Settle a loop Future from a host Promise, through the loop (it wakes a parked loop). */
function onLoop<T>(loop: AbstractEventLoop, promise: Promise<T>): AbstractFuture<T> {
  const fut = loop.createFuture<T>();
  promise.then(
    (value) => {
      if (!fut.done() && !loop.isClosed()) fut.setResult(value);
    },
    (error) => {
      if (!fut.done() && !loop.isClosed()) fut.setException(error);
    },
  );
  // Awaiting the Future (not the Promise) lets a Task's cancel() interrupt the wait.
  return fut;
}

async function resolveHost(
  host: string,
  family: number,
  flags: number,
): Promise<{ family: number; address: string }[]> {
  let hints = 0;
  if (flags & AI_ADDRCONFIG) hints |= dns.ADDRCONFIG ?? 0;
  if ((flags & AI_V4MAPPED) && family === AF_INET6) hints |= (dns.V4MAPPED ?? 0) | ((flags & AI_ALL) ? dns.ALL ?? 0 : 0);
  // "verbatim": the resolver's order (glibc's RFC 6724 sort), not IPv4 first.
  const lookupOptions = {
    all: true,
    family: family === AF_INET ? 4 : family === AF_INET6 ? 6 : 0,
    hints,
    order: "verbatim",
    verbatim: true,
  } as dns.LookupAllOptions;
  const answers = await dns.promises.lookup(host, lookupOptions);
  const seen = new Set<string>();
  const out: { family: number; address: string }[] = [];
  for (const a of answers) {
    const fam = a.family === 6 || (a.family as unknown) === "IPv6" ? AF_INET6 : AF_INET;
    const key = `${fam}/${a.address}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (family === AF_UNSPEC || fam === family) out.push({ family: fam, address: a.address });
  }
  if (out.length === 0) throw new gaierror(EAI_NONAME, `getaddrinfo '${host}'`);
  return out;
}

function makeSockaddr(family: number, host: string, port: number): SockAddr {
  if (family === AF_INET) return [host, port];
  const pct = host.indexOf("%");
  let scope = 0;
  if (pct > 0) {
    const zone = host.slice(pct + 1);
    host = host.slice(0, pct);
    scope = /^[0-9]+$/.test(zone) ? Number(zone) >>> 0 : interfaceIndex(zone);
  }
  return [normalizeIpv6(host), port, 0, scope];
}

const nameBuf = new Uint8Array(64);
function interfaceIndex(zone: string): number {
  const { read, written } = new TextEncoder().encodeInto(zone, nameBuf);
  if (read < zone.length || written >= nameBuf.length) throw new gaierror(EAI_NONAME, `getaddrinfo zone '${zone}'`);
  nameBuf[written] = 0;
  const index = nativeInterfaceIndex(nameBuf);
  if (index === 0) throw new gaierror(EAI_NONAME, `getaddrinfo zone '${zone}'`);
  return index;
}

const ipBuf = new Uint8Array(16);
function normalizeIpv6(text: string): string {
  return inetPton6(text, ipBuf) ? inetNtop6(ipBuf) : text;
}
function normalizeIpv4(text: string): string {
  return inetPton4(text, ipBuf) ? inetNtop4(ipBuf) : text;
}

/**
 * Resolve `host` and `port` into socket addresses (asyncio loop.getaddrinfo, Python
 * socket.getaddrinfo): `[family, type, proto, canonname, sockaddr][]`. `host` null means the
 * loopback (or, with AI_PASSIVE, the wildcard) addresses; `port` is a number, a numeric string,
 * a service name ("http") or null. Runs off the JS thread; raises {@link gaierror}.
 */
export async function getaddrinfo(
  loop: ExecutorLoop,
  host: string | null | undefined,
  port: number | string | null | undefined,
  options: GetAddrInfoOptions = {},
): Promise<AddrInfo[]> {
  refuseUnknownOptions(options, GET_ADDR_INFO_OPTION_KEYS, "getaddrinfo()");
  const { family = AF_UNSPEC, type = 0, proto = 0, flags = 0 } = options;
  if (host !== null && host !== undefined && typeof host !== "string") {
    throw new TypeError(`getaddrinfo() host must be a string or null, got ${typeof host}`);
  }
  const native = resolverCalls.native;
  if (native !== null) return await nativeGetaddrinfo(loop, native, host ?? null, port, family, type, proto, flags);
  if (family !== AF_UNSPEC && family !== AF_INET && family !== AF_INET6) {
    throw new gaierror(EAI_FAMILY, `getaddrinfo family ${family}`);
  }
  const nullHost = host === null || host === undefined;
  if (nullHost && (port === null || port === undefined)) {
    throw new gaierror(EAI_NONAME, "getaddrinfo(null, null)");
  }
  const rows = await serviceRows(port, type, proto, flags);

  let addresses: { family: number; address: string }[];
  if (nullHost) {
    addresses = flags & AI_PASSIVE
      ? [{ family: AF_INET, address: "0.0.0.0" }, { family: AF_INET6, address: "::" }]
      : [{ family: AF_INET6, address: "::1" }, { family: AF_INET, address: "127.0.0.1" }];
    if (family !== AF_UNSPEC) addresses = addresses.filter((a) => a.family === family);
  } else if (isIpv4Address(host)) {
    if (family === AF_INET6) {
      if (!(flags & AI_V4MAPPED)) throw new gaierror(EAI_ADDRFAMILY, `getaddrinfo '${host}'`);
      addresses = [{ family: AF_INET6, address: `::ffff:${host}` }];
    } else {
      addresses = [{ family: AF_INET, address: normalizeIpv4(host) }];
    }
  } else if (isIpv6Address(host)) {
    if (family === AF_INET) throw new gaierror(EAI_ADDRFAMILY, `getaddrinfo '${host}'`);
    addresses = [{ family: AF_INET6, address: host }];
  } else if (host === "" || (flags & AI_NUMERICHOST)) {
    throw new gaierror(EAI_NONAME, `getaddrinfo '${host}'`);
  } else {
    try {
      addresses = await onLoop(loop, resolveHost(host, family, flags));
    } catch (e) {
      if (e instanceof gaierror || !(e instanceof Error) || e instanceof CancelledError) throw e;
      throw new gaierror(eaiFromHostError(e), `getaddrinfo '${host}'`, { cause: e });
    }
  }

  const canonname = (flags & AI_CANONNAME) && !nullHost ? host as string : "";
  const result: AddrInfo[] = [];
  for (const a of addresses) {
    for (const r of rows) {
      result.push([
        a.family, r.type, r.proto, result.length === 0 ? canonname : "",
        makeSockaddr(a.family, a.address, r.port),
      ]);
    }
  }
  return result;
}

// ---- getnameinfo ----------------------------------------------------------------------------

/**
 * The host and service names of a socket address (asyncio loop.getnameinfo, Python
 * socket.getnameinfo): `[host, service]`, both strings. The host in `sockaddr` must be an IP
 * literal. Without NI_NUMERICHOST the host is looked up off the JS thread (falling back to the
 * numeric form unless NI_NAMEREQD); the service comes from /etc/services (tcp, or udp with
 * NI_DGRAM) unless NI_NUMERICSERV.
 */
export async function getnameinfo(
  loop: ExecutorLoop,
  sockaddr: readonly [string, number] | readonly [string, number, number, number],
  flags = 0,
): Promise<[host: string, service: string]> {
  if (!Array.isArray(sockaddr) || sockaddr.length < 2 || sockaddr.length > 4) {
    throw new TypeError("getnameinfo() sockaddr must be an array [host, port, flowinfo?, scopeId?]");
  }
  const [host, port] = sockaddr;
  if (typeof host !== "string") throw new TypeError("getnameinfo() host must be a string");
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`getnameinfo() port must be an integer 0-65535, got ${String(port)}`);
  }
  const native = resolverCalls.native;
  if (native !== null) return await nativeGetnameinfo(loop, native, sockaddr, flags);
  let numericHost: string;
  if (isIpv4Address(host)) {
    if (sockaddr.length !== 2) throw new gaierror(EAI_FAMILY, "getnameinfo: IPv4 sockaddr must be [host, port]");
    numericHost = normalizeIpv4(host);
  } else if (isIpv6Address(host)) {
    const pct = host.indexOf("%");
    numericHost = pct < 0 ? normalizeIpv6(host) : normalizeIpv6(host.slice(0, pct)) + host.slice(pct);
  } else {
    throw new gaierror(EAI_NONAME, `getnameinfo '${host}' (the host must be an IP address)`);
  }

  let service: string;
  if (flags & NI_NUMERICSERV) service = String(port);
  else {
    service = (await services()).byPort.get(`${port}/${flags & NI_DGRAM ? "udp" : "tcp"}`) ??
      String(port);
  }
  if (flags & NI_NUMERICHOST) {
    if (flags & NI_NAMEREQD) throw new gaierror(EAI_NONAME, "getnameinfo: NI_NAMEREQD with NI_NUMERICHOST");
    return [numericHost, service];
  }
  let name: string;
  try {
    name = (await onLoop(loop, dns.promises.lookupService(numericHost, port))).hostname;
  } catch (e) {
    if (!(e instanceof Error) || e instanceof CancelledError) throw e;
    const eai = eaiFromHostError(e);
    if (eai !== EAI_NONAME || (flags & NI_NAMEREQD)) {
      throw new gaierror(eai, `getnameinfo '${host}'`, { cause: e });
    }
    name = numericHost; // no name for it: the numeric form, as glibc gives without NI_NAMEREQD
  }
  return [name, service];
}

// ---- The OS's own resolver (Windows: Winsock, platform/windows_dns.ts) ----------------------

/**
 * Run a call of the native resolver: at once when it cannot reach the resolver, else on the
 * loop's default executor (its Future: cancelling the awaiting Task cancels the wait).
 */
async function nativeCall<T>(
  loop: ExecutorLoop,
  native: NativeResolver,
  offLoop: boolean,
  call: "getaddrinfo" | "getnameinfo",
  args: unknown[],
): Promise<T | { error: number }> {
  if (offLoop) return await loop.runInExecutor<T | { error: number }>(null, task(native.module, native.exports[call]), ...args);
  return (native[call] as (...a: unknown[]) => T | { error: number })(...args);
}

async function nativeGetaddrinfo(
  loop: ExecutorLoop,
  native: NativeResolver,
  host: string | null,
  port: unknown,
  family: number,
  type: number,
  proto: number,
  flags: number,
): Promise<AddrInfo[]> {
  // CPython passes an int port to getaddrinfo as its decimal text, a str as is, None as NULL.
  let service: string | null;
  if (port === null || port === undefined) service = null;
  else if (typeof port === "number") {
    if (!Number.isInteger(port)) throw new TypeError(`getaddrinfo() port must be an integer, got ${port}`);
    service = String(port);
  } else if (typeof port === "string") service = port;
  else throw new TypeError(`getaddrinfo() port must be a number, a string or null, got ${typeof port}`);
  const offLoop = host !== null && !isIpv4Address(host) && !isIpv6Address(host);
  const answer = await nativeCall<AddrInfo[]>(loop, native, offLoop, "getaddrinfo", [
    host, service, family, type, proto, flags,
  ]);
  if (!Array.isArray(answer)) throw new gaierror(answer.error, `getaddrinfo '${host}' port ${service}`);
  return answer;
}

async function nativeGetnameinfo(
  loop: ExecutorLoop,
  native: NativeResolver,
  sockaddr: readonly [string, number] | readonly [string, number, number, number],
  flags: number,
): Promise<[host: string, service: string]> {
  const host = sockaddr[0];
  let family: number;
  // CPython first resolves the host with AI_NUMERICHOST: anything but an IP literal fails there.
  if (isIpv4Address(host)) {
    if (sockaddr.length !== 2) throw new gaierror(EAI_FAMILY, "getnameinfo: IPv4 sockaddr must be [host, port]");
    family = AF_INET;
  } else if (isIpv6Address(host)) family = AF_INET6;
  else throw new gaierror(EAI_NONAME, `getnameinfo '${host}' (the host must be an IP address)`);
  const answer = await nativeCall<[string, string]>(loop, native, !(flags & NI_NUMERICHOST), "getnameinfo", [
    family, [...sockaddr], flags,
  ]);
  if (!Array.isArray(answer)) throw new gaierror(answer.error, `getnameinfo '${host}'`);
  return answer;
}

/**
 * @ignore Refuse a port outside 0-65535 (a number, or a string of digits) with OverflowError,
 * as Python's socket calls do (`connect(): port must be 0-65535.`), before any socket is made.
 * getaddrinfo itself keeps glibc's answer (the low 16 bits), as Python's does; the loop's
 * create* methods check first, so that `70000` never becomes port 4464.
 */
export function checkPortRange(port: unknown, what: string): void {
  const n = typeof port === "number" ? port : typeof port === "string" && /^[0-9]+$/.test(port) ? Number(port) : NaN;
  if (Number.isNaN(n)) return; // a service name, null, or a type getaddrinfo reports itself
  if (n < 0 || n > 65535) throw new OverflowError(`${what}: port must be 0-65535, got ${String(port)}`);
}
