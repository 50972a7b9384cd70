/**
 * Socket addresses: Python-shaped addresses ⇄ the C structs the kernel takes, and inet_pton /
 * inet_ntop written in TypeScript (no FFI call, no allocation when encoding into a reused buffer).
 *
 * Layouts come from this OS's table (ffi/os/); all fields naturally aligned, no padding:
 * - Linux (glibc): every sockaddr starts with sa_family_t (u16, host order, __SOCKADDR_COMMON in
 *   <bits/sockaddr.h>). macOS and FreeBSD (<sys/socket.h>, <netinet/in.h>): a `uint8_t sa_len`
 *   (the struct's length) then a `uint8_t sa_family`. The fields after those two bytes agree:
 * - struct sockaddr_in (16 bytes): in_port_t sin_port (u16, network order) @2, struct in_addr
 *   sin_addr (network order) @4, sin_zero[8] @8.
 * - struct sockaddr_in6 (28 bytes): sin6_port @2, uint32_t sin6_flowinfo (network order, RFC 3493
 *   §3.3) @4, struct in6_addr sin6_addr @8, uint32_t sin6_scope_id (host order) @24.
 * - struct sockaddr_un (<sys/un.h>): char sun_path[] @2, 108 bytes on Linux (110 in all), 104 on
 *   BSD (106). Linux also takes "abstract" names: sun_path[0] = '\0', and the name is the bytes
 *   after it up to the address length (unix(7)); BSD has none, so they are refused there.
 * - struct sockaddr_storage: 128 bytes on each, room for any of them.
 *
 * Addresses look like Python's: `["127.0.0.1", 80]` (AF_INET), `["::1", 80, flowinfo, scopeId]`
 * (AF_INET6; `[host, port]` is accepted too), a path string (AF_UNIX, "\0name" for an abstract
 * name). Python's special hosts "" (any address) and "<broadcast>" (AF_INET) are accepted;
 * host names are not (resolve them with getaddrinfo first).
 */
import { OverflowError, ValueError } from "./errors.ts";
import { libc } from "./libc.ts";
import { osTable } from "./os/current.ts";
import type { OsTable } from "./os/table.ts";
import { isWindows } from "./runtime.ts";
import { AF_INET, AF_INET6 } from "./socket_constants.ts";
import { ifNameToIndex } from "./ws2_32.ts";

/** sizeof(struct sockaddr_in). */
export const SOCKADDR_IN_SIZE: number = osTable.layouts.sockaddrIn;
/** sizeof(struct sockaddr_in6). */
export const SOCKADDR_IN6_SIZE: number = osTable.layouts.sockaddrIn6;
/** sizeof(struct sockaddr_un): 110 on Linux, 106 on BSD. */
export const SOCKADDR_UN_SIZE: number = osTable.layouts.sockaddrUn;
/** sizeof(sun_path): 108 on Linux, 104 on BSD. */
export const SUN_PATH_SIZE: number = osTable.layouts.sunPath;
/** Where sun_path starts (after sa_family, or sa_len and sa_family). */
export const SUN_PATH_OFFSET = 2;
/** sizeof(struct sockaddr_storage). */
export const SOCKADDR_STORAGE_SIZE: number = osTable.layouts.sockaddrStorage;

/** A decoded address, as Python returns it (null: the peer has no address, e.g. unbound AF_UNIX). */
export type SockAddr =
  | string
  | [host: string, port: number]
  | [host: string, port: number, flowinfo: number, scopeId: number]
  | Uint8Array
  | null;

/** An address an API accepts (see the module comment). */
export type AddressLike =
  | string
  | Uint8Array
  | readonly [host: string, port: number]
  | readonly [host: string, port: number, flowinfo: number]
  | readonly [host: string, port: number, flowinfo: number, scopeId: number];

const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

// The byte readers below read inside a struct whose length the caller checked: `!` on reads.
function readU32Host(buf: Uint8Array, off: number): number {
  return hostLittleEndian
    ? (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0
    : readU32Network(buf, off);
}

function readU32Network(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

function writeU32Host(out: Uint8Array, off: number, v: number): void {
  if (!hostLittleEndian) return writeU32Network(out, off, v);
  out[off] = v & 0xff;
  out[off + 1] = (v >>> 8) & 0xff;
  out[off + 2] = (v >>> 16) & 0xff;
  out[off + 3] = v >>> 24;
}

function writeU32Network(out: Uint8Array, off: number, v: number): void {
  out[off] = v >>> 24;
  out[off + 1] = (v >>> 16) & 0xff;
  out[off + 2] = (v >>> 8) & 0xff;
  out[off + 3] = v & 0xff;
}

// ---- inet_pton / inet_ntop (inet_pton(3), inet_ntop(3); RFC 4291 §2.2 text forms) ------------

/**
 * Parse dotted-quad IPv4 text into out[off..off+4]; false if it is not exactly four decimal
 * numbers 0-255 without leading zeros (inet_pton's strict form: no "127.1", no octal or hex).
 */
export function inetPton4(s: string, out: Uint8Array, off = 0): boolean {
  const n = s.length;
  let part = 0, digits = 0, parts = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return false; // a leading zero
      part = part * 10 + (c - 48);
      if (part > 255) return false;
      digits++;
    } else if (c === 46 /* . */) {
      if (digits === 0 || parts === 3) return false;
      out[off + parts++] = part;
      part = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  if (digits === 0 || parts !== 3) return false;
  out[off + 3] = part;
  return true;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Parse IPv6 text (RFC 4291 §2.2: eight hex groups, one "::" for a run of zero groups, an
 * optional trailing dotted quad) into out[off..off+16]; false if malformed. No "%zone" here.
 */
export function inetPton6(s: string, out: Uint8Array, off = 0): boolean {
  const n = s.length;
  out.fill(0, off, off + 16);
  if (n === 0) return false;
  let i = 0;
  if (s.charCodeAt(0) === 58 /* : */) {
    if (s.charCodeAt(1) !== 58) return false; // a lone leading colon
    i = 1;
  }
  let tp = 0, colonp = -1, curtok = i, sawDigit = false, val = 0, ndigits = 0;
  while (i < n) {
    const c = s.charCodeAt(i++);
    const d = hexValue(c);
    if (d >= 0) {
      if (++ndigits > 4) return false;
      val = (val << 4) | d;
      sawDigit = true;
      continue;
    }
    if (c === 58 /* : */) {
      curtok = i;
      if (!sawDigit) {
        if (colonp !== -1) return false; // a second "::"
        colonp = tp;
        continue;
      }
      if (i === n) return false; // a trailing single colon
      if (tp + 2 > 16) return false;
      out[off + tp++] = val >> 8;
      out[off + tp++] = val & 0xff;
      sawDigit = false;
      val = 0;
      ndigits = 0;
      continue;
    }
    if (c === 46 /* . */ && tp + 4 <= 16 && inetPton4(s.slice(curtok), out, off + tp)) {
      tp += 4;
      sawDigit = false;
      break; // the dotted quad ran to the end of the string
    }
    return false;
  }
  if (sawDigit) {
    if (tp + 2 > 16) return false;
    out[off + tp++] = val >> 8;
    out[off + tp++] = val & 0xff;
  }
  if (colonp !== -1) {
    if (tp === 16) return false; // "::" must stand for at least one group
    const moved = tp - colonp;
    for (let k = 1; k <= moved; k++) {
      out[off + 16 - k] = out[off + colonp + moved - k]!;
      out[off + colonp + moved - k] = 0;
    }
    tp = 16;
  }
  return tp === 16;
}

/** Dotted-quad text of the 4 bytes at buf[off]. */
export function inetNtop4(buf: Uint8Array, off = 0): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/**
 * IPv6 text of the 16 bytes at buf[off], as glibc's inet_ntop prints it: lower-case hex without
 * leading zeros, the first longest run of two or more zero groups as "::", and a dotted quad
 * for IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) addresses.
 */
export function inetNtop6(buf: Uint8Array, off = 0): string {
  const words = new Array<number>(8);
  for (let i = 0; i < 8; i++) words[i] = (buf[off + 2 * i]! << 8) | buf[off + 2 * i + 1]!;
  let bestBase = -1, bestLen = 0, curBase = -1, curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase === -1) {
        curBase = i;
        curLen = 1;
      } else {
        curLen++;
      }
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
    } else {
      curBase = -1;
    }
  }
  if (bestLen < 2) bestBase = -1;
  let text = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) text += ":";
      continue;
    }
    if (i !== 0) text += ":";
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      text += inetNtop4(buf, off + 12);
      return text;
    }
    text += words[i]!.toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) text += ":";
  return text;
}

/** Packed bytes of an IP address in text (Python socket.inet_pton); ValueError if malformed. */
export function inetPton(family: number, text: string): Uint8Array {
  if (typeof text !== "string") throw new TypeError(`inetPton() needs a string, got ${typeof text}`);
  if (family === AF_INET) {
    const out = new Uint8Array(4);
    if (inetPton4(text, out)) return out;
  } else if (family === AF_INET6) {
    const out = new Uint8Array(16);
    if (inetPton6(text, out)) return out;
  } else {
    throw new ValueError(`inetPton(): unknown address family ${family}`);
  }
  throw new ValueError(`illegal IP address string passed to inetPton: '${text}'`);
}

/** Text of a packed IP address (Python socket.inet_ntop). */
export function inetNtop(family: number, packed: Uint8Array): string {
  if (family === AF_INET) {
    if (packed.length !== 4) throw new ValueError("invalid length of packed IP address string");
    return inetNtop4(packed);
  }
  if (family === AF_INET6) {
    if (packed.length !== 16) throw new ValueError("invalid length of packed IP address string");
    return inetNtop6(packed);
  }
  throw new ValueError(`inetNtop(): unknown address family ${family}`);
}

const probe = new Uint8Array(16);

/** True if `host` is an IPv4 literal. */
export function isIpv4Address(host: string): boolean {
  return typeof host === "string" && inetPton4(host, probe);
}

/** True if `host` is an IPv6 literal, with or without a "%zone" suffix. */
export function isIpv6Address(host: string): boolean {
  if (typeof host !== "string") return false;
  const pct = host.indexOf("%");
  if (pct === 0 || pct === host.length - 1) return false;
  return inetPton6(pct < 0 ? host : host.slice(0, pct), probe);
}

/** True if `host` is an IPv4 or IPv6 address literal (no DNS needed to use it). */
export function isIpAddress(host: string): boolean {
  return isIpv4Address(host) || isIpv6Address(host);
}

// ---- encoding ---------------------------------------------------------------------------------

function describeValue(x: unknown): string {
  if (typeof x === "string") return `'${x}'`;
  if (Array.isArray(x)) return `[${x.map(describeValue).join(", ")}]`;
  if (x instanceof Uint8Array) return `Uint8Array(${x.length})`;
  return String(x);
}

function checkPort(port: unknown, what: string): number {
  if (typeof port !== "number" || !Number.isInteger(port)) {
    throw new TypeError(`${what}: port must be an integer, got ${describeValue(port)}`);
  }
  if (port < 0 || port > 65535) throw new OverflowError(`${what}: port must be 0-65535, got ${port}`);
  return port;
}

function badHost(host: string, ipv4: boolean, what: string): never {
  const want = ipv4 ? "an IPv4 address literal" : "an IPv6 address literal";
  let why = " (resolve host names with getaddrinfo() first)";
  if (ipv4 && isIpv6Address(host)) why = " (that is an IPv6 address: use an AF_INET6 socket)";
  if (!ipv4 && isIpv4Address(host)) {
    why = ` (that is an IPv4 address: use an AF_INET socket, or '::ffff:${host}')`;
  }
  throw new ValueError(`${what}: host must be ${want}, got '${host}'${why}`);
}

const nameBuf = new Uint8Array(64);

/** if_nametoindex(3) of a NUL-terminated name: the C library's, or Iphlpapi.dll's on Windows. */
export function interfaceIndex(name: Uint8Array): number {
  return isWindows ? ifNameToIndex(name) : libc.if_nametoindex(name);
}

/** The interface index of a "%zone" suffix: a number, or an interface name (if_nametoindex(3)). */
function zoneIndex(zone: string, what: string): number {
  if (/^[0-9]+$/.test(zone)) return Number(zone) >>> 0;
  const { read, written } = utf8Encoder.encodeInto(zone, nameBuf);
  if (read < zone.length || written >= nameBuf.length) {
    throw new ValueError(`${what}: unknown network interface '${zone}'`);
  }
  nameBuf[written] = 0;
  const index = interfaceIndex(nameBuf);
  if (index === 0) throw new ValueError(`${what}: unknown network interface '${zone}'`);
  return index;
}

/** Encoding and decoding of socket addresses for one OS's layouts (see the module comment). */
export interface SockaddrCodec {
  /**
   * Encode `address` for `family` into `out` (at least SOCKADDR_STORAGE_SIZE bytes) and return
   * the address length to pass to the kernel. TypeError for a wrongly shaped address, ValueError
   * for a bad value (a host name instead of an IP literal, a port out of range, a long path).
   */
  encode(family: number, address: AddressLike, out: Uint8Array, what?: string): number;
  /** Decode the `len` bytes of a struct sockaddr in `buf` (what accept/recvfrom/getsockname fill). */
  decode(buf: Uint8Array, len: number): SockAddr;
  /** The sa_family field of an encoded address. */
  readFamily(buf: Uint8Array): number;
}

/** The codec for `table`'s OS; the module's own functions use this OS's (tests use every one). */
export function sockaddrCodec(table: OsTable): SockaddrCodec {
  const layouts = table.layouts, hasLen = layouts.sockaddrHasLen;
  const AF_INET = table.constants.AF_INET!, AF_INET6 = table.constants.AF_INET6!;
  const AF_UNIX = table.constants.AF_UNIX!;
  const SOCKADDR_IN_SIZE = layouts.sockaddrIn, SOCKADDR_IN6_SIZE = layouts.sockaddrIn6;
  const SOCKADDR_UN_SIZE = layouts.sockaddrUn, SUN_PATH_SIZE = layouts.sunPath;

  // Linux: a u16 sa_family in host order. BSD: sa_len (the struct's size) then a u8 sa_family.
  function writeFamily(out: Uint8Array, family: number, structSize: number): void {
    if (hasLen) {
      out[0] = structSize;
      out[1] = family;
    } else if (hostLittleEndian) {
      out[0] = family & 0xff;
      out[1] = family >> 8;
    } else {
      out[0] = family >> 8;
      out[1] = family & 0xff;
    }
  }

  function readFamily(buf: Uint8Array): number {
    if (hasLen) return buf[1]!;
    return hostLittleEndian ? buf[0]! | (buf[1]! << 8) : (buf[0]! << 8) | buf[1]!;
  }

  /**
   * Encode `address` for `family` into `out` (at least SOCKADDR_STORAGE_SIZE bytes) and return
   * the address length to pass to the kernel. TypeError for a wrongly shaped address, ValueError
   * for a bad value (a host name instead of an IP literal, a port out of range, a long path).
   */
  function encodeSockaddr(
    family: number,
    address: AddressLike,
    out: Uint8Array,
    what = "address",
  ): number {
    if (family === AF_INET) {
      if (!Array.isArray(address) || address.length !== 2) {
        throw new TypeError(`${what}: AF_INET address must be an array [host, port], got ${describeValue(address)}`);
      }
      const host = address[0];
      if (typeof host !== "string") {
        throw new TypeError(`${what}: host must be a string, got ${describeValue(host)}`);
      }
      const port = checkPort(address[1], what);
      out.fill(0, 0, SOCKADDR_IN_SIZE);
      if (host === "<broadcast>") out.fill(0xff, 4, 8);
      else if (host !== "" && !inetPton4(host, out, 4)) badHost(host, family === AF_INET, what);
      writeFamily(out, AF_INET, SOCKADDR_IN_SIZE);
      out[2] = port >> 8;
      out[3] = port & 0xff;
      return SOCKADDR_IN_SIZE;
    }
    if (family === AF_INET6) {
      if (!Array.isArray(address) || address.length < 2 || address.length > 4) {
        throw new TypeError(
          `${what}: AF_INET6 address must be an array [host, port, flowinfo?, scopeId?], got ${describeValue(address)}`,
        );
      }
      let host = address[0];
      if (typeof host !== "string") {
        throw new TypeError(`${what}: host must be a string, got ${describeValue(host)}`);
      }
      const port = checkPort(address[1], what);
      const flowinfo = address[2] ?? 0, scopeArg = address[3] ?? 0;
      if (typeof flowinfo !== "number" || !Number.isInteger(flowinfo) || flowinfo < 0 || flowinfo > 0xfffff) {
        throw new ValueError(`${what}: flowinfo must be an integer 0-1048575, got ${describeValue(flowinfo)}`);
      }
      if (typeof scopeArg !== "number" || !Number.isInteger(scopeArg) || scopeArg < 0 || scopeArg > 0xffffffff) {
        throw new ValueError(`${what}: scopeId must be an unsigned 32-bit integer, got ${describeValue(scopeArg)}`);
      }
      let scopeId = scopeArg;
      const pct = host.indexOf("%");
      if (pct > 0) {
        const zone = host.slice(pct + 1);
        host = host.slice(0, pct);
        if (zone === "") badHost(address[0] as string, family === AF_INET, what);
        if (scopeId === 0) scopeId = zoneIndex(zone, what);
      }
      out.fill(0, 0, SOCKADDR_IN6_SIZE);
      if (host !== "" && !inetPton6(host, out, 8)) badHost(address[0] as string, family === AF_INET, what);
      writeFamily(out, AF_INET6, SOCKADDR_IN6_SIZE);
      out[2] = port >> 8;
      out[3] = port & 0xff;
      writeU32Network(out, 4, flowinfo);
      writeU32Host(out, 24, scopeId);
      return SOCKADDR_IN6_SIZE;
    }
    if (family === AF_UNIX) {
      let path: Uint8Array;
      if (typeof address === "string") path = utf8Encoder.encode(address);
      else if (address instanceof Uint8Array) path = address;
      else {
        throw new TypeError(`${what}: AF_UNIX address must be a path string, got ${describeValue(address)}`);
      }
      if (path.length > SUN_PATH_SIZE) {
        throw new ValueError(`${what}: AF_UNIX path too long (${path.length} bytes, at most ${SUN_PATH_SIZE})`);
      }
      if (path.length > 0 && path[0] === 0 && !layouts.abstractUnixNames) {
        throw new ValueError(`${what}: AF_UNIX abstract names ('\\0…') are Linux only, not ${table.os}`);
      }
      if (path.length > 0 && path[0] !== 0 && path.indexOf(0) !== -1) {
        throw new ValueError(`${what}: AF_UNIX path contains a NUL byte`);
      }
      writeFamily(out, AF_UNIX, 0);
      out.set(path, SUN_PATH_OFFSET);
      // NUL-terminate a filesystem path when there is room, as the kernel reads up to a NUL.
      if (path.length < SUN_PATH_SIZE) out[SUN_PATH_OFFSET + path.length] = 0;
      const len = SUN_PATH_OFFSET + path.length;
      if (hasLen) out[0] = len; // BSD: sun_len, the used length (SUN_LEN)
      return len;
    }
    throw new ValueError(`${what}: address family ${family} is not supported (AF_INET, AF_INET6, AF_UNIX)`);
  }

  /** Decode the `len` bytes of a struct sockaddr in `buf` (what accept/recvfrom/getsockname fill). */
  function decodeSockaddr(buf: Uint8Array, len: number): SockAddr {
    if (len < 2) return null;
    const family = readFamily(buf);
    if (family === AF_INET && len >= SOCKADDR_IN_SIZE) {
      return [inetNtop4(buf, 4), (buf[2]! << 8) | buf[3]!];
    }
    if (family === AF_INET6 && len >= SOCKADDR_IN6_SIZE) {
      return [inetNtop6(buf, 8), (buf[2]! << 8) | buf[3]!, readU32Network(buf, 4), readU32Host(buf, 24)];
    }
    if (family === AF_UNIX) {
      const pathLen = Math.min(len, SOCKADDR_UN_SIZE) - SUN_PATH_OFFSET;
      if (pathLen <= 0) return "";
      const path = buf.subarray(SUN_PATH_OFFSET, SUN_PATH_OFFSET + pathLen);
      if (path[0] === 0) return utf8Decoder.decode(path); // abstract: every byte counts
      const nul = path.indexOf(0);
      return utf8Decoder.decode(nul === -1 ? path : path.subarray(0, nul));
    }
    return buf.slice(0, len);
  }

  return { encode: encodeSockaddr, decode: decodeSockaddr, readFamily };
}

const codec = sockaddrCodec(osTable);

/** {@link SockaddrCodec.encode} for this OS. */
export const encodeSockaddr: SockaddrCodec["encode"] = codec.encode;
/** {@link SockaddrCodec.decode} for this OS. */
export const decodeSockaddr: SockaddrCodec["decode"] = codec.decode;
/** {@link SockaddrCodec.readFamily} for this OS. */
export const readFamily: SockaddrCodec["readFamily"] = codec.readFamily;

/** "host:port" / "[host]:port" / the path, for messages and logs. */
export function formatAddress(address: SockAddr | AddressLike): string {
  if (Array.isArray(address)) {
    const host = String(address[0]);
    return host.includes(":") ? `[${host}]:${address[1]}` : `${host}:${address[1]}`;
  }
  if (address instanceof Uint8Array) return `<${address.length} bytes>`;
  if (address === null) return "(unnamed)";
  return JSON.stringify(address);
}
