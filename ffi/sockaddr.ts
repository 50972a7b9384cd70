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
 * - Linux only, where the table has AF_NETLINK / AF_PACKET: struct sockaddr_nl
 *   (<linux/netlink.h>, netlink(7); 12 bytes): unsigned short nl_pad @2, __u32 nl_pid @4,
 *   __u32 nl_groups @8, host order. struct sockaddr_ll (<linux/if_packet.h>, packet(7); 20
 *   bytes): __be16 sll_protocol @2, int sll_ifindex @4, unsigned short sll_hatype @8, unsigned
 *   char sll_pkttype @10, unsigned char sll_halen @11, unsigned char sll_addr[8] @12.
 *
 * Addresses look like Python's: `["127.0.0.1", 80]` (AF_INET), `["::1", 80, flowinfo, scopeId]`
 * (AF_INET6; `[host, port]` is accepted too), a path string (AF_UNIX, "\0name" for an abstract
 * name). Python's special hosts "" (any address) and "<broadcast>" (AF_INET) are accepted;
 * host names are not (resolve them with getaddrinfo first). AF_NETLINK: `[pid, groups]` (pid 0:
 * the kernel, or "assign me one" in bind; groups a bit mask of RTMGRP_* …). AF_PACKET: Python's
 * `(ifname, proto[, pkttype[, hatype[, addr]]])` as an array, proto in host order.
 */
import { OverflowError, ValueError } from "./errors.ts";
import { libc, osError } from "./libc.ts";
import { osTable } from "./os/current.ts";
import type { OsTable } from "./os/table.ts";
import { isNullPointer, isWindows } from "./runtime.ts";
import { AF_INET, AF_INET6 } from "./socket_constants.ts";
import { ifIndexToName, ifNameToIndex } from "./ws2_32.ts";

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
/** sizeof(struct sockaddr_nl) (<linux/netlink.h>), Linux only. */
export const SOCKADDR_NL_SIZE = 12;
/** sizeof(struct sockaddr_ll) (<linux/if_packet.h>), Linux only. */
export const SOCKADDR_LL_SIZE = 20;
/** sizeof(sll_addr): the longest hardware address an AF_PACKET address holds. */
const SLL_ADDR_SIZE = 8;
/** IF_NAMESIZE (<net/if.h>): an interface name's buffer, NUL included. */
const IF_NAMESIZE = 16;

/** An AF_PACKET address as Python's socket module gives it (packet(7) struct sockaddr_ll). */
export type PacketAddress = [
  ifname: string,
  proto: number,
  pkttype: number,
  hatype: number,
  addr: Uint8Array,
];

/** A decoded address, as Python returns it (null: the peer has no address, e.g. unbound AF_UNIX). */
export type SockAddr =
  | string
  | [host: string, port: number]
  | [host: string, port: number, flowinfo: number, scopeId: number]
  | [pid: number, groups: number]
  | PacketAddress
  | Uint8Array
  | null;

/** An address an API accepts (see the module comment). */
export type AddressLike =
  | string
  | Uint8Array
  | readonly [host: string, port: number]
  | readonly [host: string, port: number, flowinfo: number]
  | readonly [host: string, port: number, flowinfo: number, scopeId: number]
  | readonly [pid: number, groups: number]
  | readonly [ifname: string, proto: number, pkttype?: number, hatype?: number, addr?: Uint8Array];

const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

function readU32Host(buf: Uint8Array, off: number): number {
  return hostLittleEndian
    ? (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0
    : readU32Network(buf, off);
}

function readU32Network(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
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
      out[off + 16 - k] = out[off + colonp + moved - k];
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
  for (let i = 0; i < 8; i++) words[i] = (buf[off + 2 * i] << 8) | buf[off + 2 * i + 1];
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
    text += words[i].toString(16);
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

/** A 16-bit number from host to network (big-endian) byte order (Python socket.htons). */
export function htons(x: number): number {
  const v = checkUnsigned(x, 16, "x", "htons()");
  return hostLittleEndian ? ((v & 0xff) << 8) | (v >> 8) : v;
}

/** A 16-bit number from network to host byte order (Python socket.ntohs). */
export function ntohs(x: number): number {
  const v = checkUnsigned(x, 16, "x", "ntohs()");
  return hostLittleEndian ? ((v & 0xff) << 8) | (v >> 8) : v;
}

/** A 32-bit number from host to network (big-endian) byte order (Python socket.htonl). */
export function htonl(x: number): number {
  const v = checkUnsigned(x, 32, "x", "htonl()");
  if (!hostLittleEndian) return v;
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** A 32-bit number from network to host byte order (Python socket.ntohl). */
export function ntohl(x: number): number {
  checkUnsigned(x, 32, "x", "ntohl()");
  return htonl(x);
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
// netioapi.h's IF_NAMESIZE is 256 on Windows (NDIS names), <net/if.h>'s 16 elsewhere.
const indexNameBuf = new Uint8Array(isWindows ? 256 : IF_NAMESIZE);

/** if_nametoindex(3) of a NUL-terminated name: the C library's, or Iphlpapi.dll's on Windows. */
export function interfaceIndex(name: Uint8Array): number {
  return isWindows ? ifNameToIndex(name) : libc.if_nametoindex(name);
}

/**
 * The index of network interface `name` (Python socket.if_nametoindex; if_nametoindex(3)), e.g.
 * for IPV6_MULTICAST_IF. OSError ENODEV if there is no such interface.
 */
export function ifNametoindex(name: string): number {
  if (typeof name !== "string") {
    throw new TypeError(`ifNametoindex() needs an interface name string, got ${describeValue(name)}`);
  }
  const { read, written } = utf8Encoder.encodeInto(name, nameBuf);
  let index = 0;
  if (read === name.length && written < nameBuf.length && !nameBuf.subarray(0, written).includes(0)) {
    nameBuf[written] = 0;
    index = interfaceIndex(nameBuf);
  }
  if (index === 0) throw osError(`no interface named '${name}'`, osTable.errno["ENODEV"]!);
  return index;
}

/**
 * The name of network interface `index` (Python socket.if_indextoname; if_indextoname(3)).
 * OSError (ENXIO) if there is no such interface. On Windows, Iphlpapi's (an NDIS name such as
 * "loopback_0").
 */
export function ifIndextoname(index: number): string {
  if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index > 0xffffffff) {
    throw new OverflowError(`ifIndextoname(): index must be an unsigned 32-bit integer, got ${describeValue(index)}`);
  }
  if (isWindows) {
    // Iphlpapi's if_indextoname sets no error: no such interface is ENXIO, as in glibc.
    if (!ifIndexToName(index, indexNameBuf)) throw osError(`if_indextoname(${index})`, osTable.errno["ENXIO"]!);
  } else if (isNullPointer(libc.if_indextoname(index, indexNameBuf))) {
    throw osError(`if_indextoname(${index})`);
  }
  const nul = indexNameBuf.indexOf(0);
  return utf8Decoder.decode(indexNameBuf.subarray(0, nul === -1 ? indexNameBuf.length : nul));
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

/** An AF_PACKET address's interface name: "" if there is none (Python's rule), not an error. */
function interfaceName(index: number): string {
  try {
    return ifIndextoname(index >>> 0);
  } catch {
    return "";
  }
}

/** An unsigned integer of `bits` bits (TypeError if not an integer, OverflowError if out of range). */
function checkUnsigned(v: unknown, bits: 8 | 16 | 32, name: string, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new TypeError(`${what}: ${name} must be an integer, got ${describeValue(v)}`);
  }
  const max = 2 ** bits - 1;
  if (v < 0 || v > max) throw new OverflowError(`${what}: ${name} must be 0-${max}, got ${v}`);
  return v;
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
  // Linux only: null elsewhere, where these families are refused like any unknown one.
  const AF_NETLINK = table.constants.AF_NETLINK, AF_PACKET = table.constants.AF_PACKET;
  const supported = ["AF_INET", "AF_INET6", "AF_UNIX"];
  if (AF_NETLINK !== null) supported.push("AF_NETLINK");
  if (AF_PACKET !== null) supported.push("AF_PACKET");
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
    if (hasLen) return buf[1];
    return hostLittleEndian ? buf[0] | (buf[1] << 8) : (buf[0] << 8) | buf[1];
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
    if (family === AF_NETLINK) {
      if (!Array.isArray(address) || address.length !== 2) {
        throw new TypeError(
          `${what}: AF_NETLINK address must be an array [pid, groups], got ${describeValue(address)}`,
        );
      }
      const pid = checkUnsigned(address[0], 32, "pid", what);
      const groups = checkUnsigned(address[1], 32, "groups", what);
      out.fill(0, 0, SOCKADDR_NL_SIZE);
      writeFamily(out, AF_NETLINK, SOCKADDR_NL_SIZE);
      writeU32Host(out, 4, pid);
      writeU32Host(out, 8, groups);
      return SOCKADDR_NL_SIZE;
    }
    if (family === AF_PACKET) return encodePacket(address, out, what);
    throw new ValueError(
      `${what}: address family ${family} is not supported (${supported.join(", ")})`,
    );
  }

  /** struct sockaddr_ll from Python's (ifname, proto[, pkttype[, hatype[, addr]]]). */
  function encodePacket(address: AddressLike, out: Uint8Array, what: string): number {
    if (!Array.isArray(address) || address.length < 2 || address.length > 5) {
      throw new TypeError(
        `${what}: AF_PACKET address must be an array [ifname, proto, pkttype?, hatype?, addr?], got ${describeValue(address)}`,
      );
    }
    const [ifname, proto, pkttype = 0, hatype = 0, addr = new Uint8Array(0)] = address as unknown[];
    if (typeof ifname !== "string") {
      throw new TypeError(`${what}: AF_PACKET interface name must be a string, got ${describeValue(ifname)}`);
    }
    checkUnsigned(proto, 16, "proto", what);
    checkUnsigned(pkttype, 8, "pkttype", what);
    checkUnsigned(hatype, 16, "hatype", what);
    if (!(addr instanceof Uint8Array)) {
      throw new TypeError(`${what}: AF_PACKET hardware address must be a Uint8Array, got ${describeValue(addr)}`);
    }
    if (addr.length > SLL_ADDR_SIZE) {
      throw new ValueError(`${what}: hardware address must be ${SLL_ADDR_SIZE} bytes or less, got ${addr.length}`);
    }
    // Python asks SIOCGIFINDEX and raises its OSError (ENODEV) for an unknown name.
    const ifindex = ifNametoindex(ifname);
    out.fill(0, 0, SOCKADDR_LL_SIZE);
    writeFamily(out, AF_PACKET!, SOCKADDR_LL_SIZE);
    out[2] = (proto as number) >> 8; // sll_protocol: network order
    out[3] = (proto as number) & 0xff;
    writeU32Host(out, 4, ifindex);
    if (hostLittleEndian) {
      out[8] = (hatype as number) & 0xff;
      out[9] = (hatype as number) >> 8;
    } else {
      out[8] = (hatype as number) >> 8;
      out[9] = (hatype as number) & 0xff;
    }
    out[10] = pkttype as number;
    out[11] = addr.length;
    out.set(addr, 12);
    return SOCKADDR_LL_SIZE;
  }

  /** Decode the `len` bytes of a struct sockaddr in `buf` (what accept/recvfrom/getsockname fill). */
  function decodeSockaddr(buf: Uint8Array, len: number): SockAddr {
    if (len < 2) return null;
    const family = readFamily(buf);
    if (family === AF_INET && len >= SOCKADDR_IN_SIZE) {
      return [inetNtop4(buf, 4), (buf[2] << 8) | buf[3]];
    }
    if (family === AF_INET6 && len >= SOCKADDR_IN6_SIZE) {
      return [inetNtop6(buf, 8), (buf[2] << 8) | buf[3], readU32Network(buf, 4), readU32Host(buf, 24)];
    }
    if (family === AF_UNIX) {
      const pathLen = Math.min(len, SOCKADDR_UN_SIZE) - SUN_PATH_OFFSET;
      if (pathLen <= 0) return "";
      const path = buf.subarray(SUN_PATH_OFFSET, SUN_PATH_OFFSET + pathLen);
      if (path[0] === 0) return utf8Decoder.decode(path); // abstract: every byte counts
      const nul = path.indexOf(0);
      return utf8Decoder.decode(nul === -1 ? path : path.subarray(0, nul));
    }
    if (family === AF_NETLINK && len >= SOCKADDR_NL_SIZE) {
      return [readU32Host(buf, 4), readU32Host(buf, 8)];
    }
    if (family === AF_PACKET && len >= 12) {
      const hatype = hostLittleEndian ? buf[8]! | (buf[9]! << 8) : (buf[8]! << 8) | buf[9]!;
      const halen = Math.min(buf[11]!, SLL_ADDR_SIZE, Math.max(0, len - 12));
      return [
        interfaceName(readU32Host(buf, 4)), (buf[2]! << 8) | buf[3]!, buf[10]!, hatype,
        buf.slice(12, 12 + halen),
      ];
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

/** "host:port" / "[host]:port" / the path / "[pid=…, groups=…]", for messages and logs. */
export function formatAddress(address: SockAddr | AddressLike): string {
  if (Array.isArray(address) && typeof address[0] === "number") {
    return `[pid=${address[0]}, groups=${address[1]}]`; // AF_NETLINK
  }
  if (Array.isArray(address) && address.length === 5 && address[4] instanceof Uint8Array) {
    const [ifname, proto, pkttype, hatype, addr] = address as PacketAddress; // AF_PACKET
    const hex = [...addr].map((b) => b.toString(16).padStart(2, "0")).join(":");
    const protoHex = proto.toString(16).padStart(4, "0");
    return `[${ifname}, proto=0x${protoHex}, pkttype=${pkttype}, hatype=${hatype}, addr=${hex}]`;
  }
  if (Array.isArray(address)) {
    const host = String(address[0]);
    return host.includes(":") ? `[${host}]:${address[1]}` : `${host}:${address[1]}`;
  }
  if (address instanceof Uint8Array) return `<${address.length} bytes>`;
  if (address === null) return "(unnamed)";
  return JSON.stringify(address);
}

// ---- Multicast request structs (ip(7), ipv6(7)) ------------------------------------------------

function groupAddress(group: unknown, ipv6: boolean, out: Uint8Array, off: number, what: string): void {
  if (typeof group !== "string") {
    throw new TypeError(`${what}: the group must be an address string, got ${describeValue(group)}`);
  }
  if (!(ipv6 ? inetPton6(group, out, off) : inetPton4(group, out, off))) {
    badHost(group, !ipv6, what);
  }
}

/** An interface index given as a number or a name (if_nametoindex(3)); 0: the kernel picks. */
function interfaceArg(iface: unknown, what: string): number {
  if (typeof iface === "number") {
    if (!Number.isInteger(iface) || iface < 0 || iface > 0x7fffffff) {
      throw new OverflowError(`${what}: interface index must be 0-2147483647, got ${iface}`);
    }
    return iface;
  }
  if (typeof iface !== "string") {
    throw new TypeError(`${what}: interface must be an index or a name, got ${describeValue(iface)}`);
  }
  return zoneIndex(iface, what);
}

/**
 * The bytes of a `struct ip_mreq` (<netinet/in.h>, ip(7): in_addr imr_multiaddr @0, in_addr
 * imr_interface @4, network order) for IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP — what Python
 * code packs with `struct.pack("4s4s", inet_aton(group), inet_aton(iface))`. `iface` is the
 * local IPv4 address of the interface to join on; "0.0.0.0" (the default) lets the kernel pick.
 */
export function ipMreq(group: string, iface = "0.0.0.0"): Uint8Array {
  const out = new Uint8Array(8);
  groupAddress(group, false, out, 0, "ipMreq()");
  if (typeof iface !== "string" || !inetPton4(iface, out, 4)) {
    throw new ValueError(`ipMreq(): the interface must be an IPv4 address literal, got ${describeValue(iface)}`);
  }
  return out;
}

/**
 * The bytes of a Linux `struct ip_mreqn` (<linux/in.h>, ip(7): in_addr imr_multiaddr @0,
 * in_addr imr_address @4, int imr_ifindex @8 in host order; 12 bytes), which Linux takes for
 * IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP and IP_MULTICAST_IF, naming the interface by index (a
 * number or a name such as "lo") rather than by address. Linux only.
 */
export function ipMreqn(
  group: string,
  options: { readonly address?: string; readonly ifindex?: number | string } = {},
): Uint8Array {
  const out = new Uint8Array(12);
  groupAddress(group, false, out, 0, "ipMreqn()");
  const address = options.address ?? "0.0.0.0";
  if (typeof address !== "string" || !inetPton4(address, out, 4)) {
    throw new ValueError(`ipMreqn(): address must be an IPv4 address literal, got ${describeValue(address)}`);
  }
  writeU32Host(out, 8, interfaceArg(options.ifindex ?? 0, "ipMreqn()"));
  return out;
}

/**
 * The bytes of a `struct ipv6_mreq` (<netinet/in.h>, ipv6(7): in6_addr ipv6mr_multiaddr @0,
 * unsigned int ipv6mr_interface @16 in host order; 20 bytes) for IPV6_JOIN_GROUP /
 * IPV6_LEAVE_GROUP — Python's `inet_pton(AF_INET6, group) + struct.pack("@I", ifindex)`.
 * `iface`: an interface index or name ("lo"); 0 (the default) lets the kernel pick.
 */
export function ipv6Mreq(group: string, iface: number | string = 0): Uint8Array {
  const out = new Uint8Array(20);
  groupAddress(group, true, out, 0, "ipv6Mreq()");
  writeU32Host(out, 16, interfaceArg(iface, "ipv6Mreq()"));
  return out;
}
