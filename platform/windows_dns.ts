/**
 * getaddrinfo/getnameinfo on Windows: Winsock's GetAddrInfoW and GetNameInfoW (ffi/ws2_32.ts),
 * the functions CPython's socket module calls there (as their ANSI forms), in the loop's Linux
 * vocabulary: AF_INET6 is 10 in the loop and 23 in ws2def.h, and the AI_* / NI_* flags are
 * translated to ws2def.h's bits. Errors are Winsock's EAI_* codes (ws2tcpip.h: WSA error
 * numbers, e.g. EAI_NONAME = WSAHOST_NOT_FOUND 11001), returned as `{ error }` for loop/net/dns.ts
 * to raise as gaierror. Both functions block (the system resolver, the services file), so
 * loop/net/dns.ts runs them on a worker thread of the loop's default executor when they may reach
 * the resolver (asyncio runs socket.getaddrinfo in its default executor too); the module is
 * therefore plain data in, plain data out. windowsResolverCalls is this OS's side of the name
 * resolution seam (loop/net/resolver_calls.ts), picked by platform/default_dns.ts.
 */
import {
  ADDRINFOW_ADDR, ADDRINFOW_ADDRLEN, ADDRINFOW_CANONNAME, ADDRINFOW_FAMILY, ADDRINFOW_NEXT,
  ADDRINFOW_PROTOCOL, ADDRINFOW_SIZE, ADDRINFOW_SOCKTYPE, NI_MAXHOST, NI_MAXSERV, WIN_AF_INET6,
  WIN_AI_ADDRCONFIG, WIN_AI_ALL, WIN_AI_CANONNAME, WIN_AI_NUMERICHOST, WIN_AI_NUMERICSERV,
  WIN_AI_PASSIVE, WIN_AI_V4MAPPED, WIN_EAI_AGAIN, WIN_EAI_BADFLAGS, WIN_EAI_FAIL, WIN_EAI_FAMILY,
  WIN_EAI_MEMORY, WIN_EAI_NONAME, WIN_EAI_SERVICE, WIN_EAI_SOCKTYPE, WIN_NI_DGRAM, WIN_NI_NAMEREQD,
  WIN_NI_NOFQDN, WIN_NI_NUMERICHOST, WIN_NI_NUMERICSERV, ws2,
} from "../ffi/ws2_32.ts";
import type { ResolverCalls } from "../loop/net/resolver_calls.ts";
import {
  bufferAddress, isNullPointer, type NativePointer, nativeBytes, pointerAddress, pointerFromAddress,
  readPointer,
} from "../ffi/runtime.ts";
import { decodeSockaddr, encodeSockaddr, type SockAddr } from "../ffi/sockaddr.ts";
import {
  AF_INET6, AI_ADDRCONFIG, AI_ALL, AI_CANONNAME, AI_NUMERICHOST, AI_NUMERICSERV, AI_PASSIVE,
  AI_V4MAPPED, NI_DGRAM, NI_NAMEREQD, NI_NOFQDN, NI_NUMERICHOST, NI_NUMERICSERV,
} from "../ffi/socket_constants.ts";

/** One answer, as loop/net/dns.ts returns it: `[family, type, proto, canonname, sockaddr]`. */
export type WinAddrInfo = [number, number, number, string, SockAddr];
/** A Winsock EAI_* code (ws2tcpip.h), for loop/net/dns.ts to raise as gaierror. */
export interface WinGaiError {
  error: number;
}

const aiFlags: readonly [linux: number, windows: number][] = [
  [AI_PASSIVE, WIN_AI_PASSIVE], [AI_CANONNAME, WIN_AI_CANONNAME],
  [AI_NUMERICHOST, WIN_AI_NUMERICHOST], [AI_NUMERICSERV, WIN_AI_NUMERICSERV],
  [AI_V4MAPPED, WIN_AI_V4MAPPED], [AI_ALL, WIN_AI_ALL], [AI_ADDRCONFIG, WIN_AI_ADDRCONFIG],
];
const niFlags: readonly [linux: number, windows: number][] = [
  [NI_NUMERICHOST, WIN_NI_NUMERICHOST], [NI_NUMERICSERV, WIN_NI_NUMERICSERV],
  [NI_NOFQDN, WIN_NI_NOFQDN], [NI_NAMEREQD, WIN_NI_NAMEREQD], [NI_DGRAM, WIN_NI_DGRAM],
];

/** The ws2def.h bits of the loop's (Linux) flags; undefined if a bit has no Windows meaning. */
function translateFlags(flags: number, table: readonly [number, number][]): number | undefined {
  let out = 0;
  for (const [linux, windows] of table) {
    if (flags & linux) {
      out |= windows;
      flags &= ~linux;
    }
  }
  return flags === 0 ? out : undefined;
}

/** A NUL-terminated UTF-16 copy of `s` (a PCWSTR), or null. */
function wide(s: string | null): Uint16Array | null {
  if (s === null) return null;
  const w = new Uint16Array(s.length + 1);
  for (let i = 0; i < s.length; i++) w[i] = s.charCodeAt(i);
  return w;
}

function pointerOf(view: ArrayBufferView | null): NativePointer {
  return view === null ? null : pointerFromAddress(BigInt(bufferAddress(view)));
}

/** The NUL-terminated UTF-16 string at `p` (native memory), "" for NULL. */
function readWide(p: NativePointer): string {
  if (isNullPointer(p)) return "";
  const base = pointerAddress(p);
  let s = "";
  for (let i = 0n; ; i += 2n) {
    const b = nativeBytes(pointerFromAddress(base + i), 2);
    const c = b[0]! | (b[1]! << 8);
    if (c === 0) return s;
    s += String.fromCharCode(c);
  }
}

/** The loop's sockaddr for a Winsock one (AF_INET6 23 → 10). */
function sockaddrFromWindows(p: NativePointer, len: number): SockAddr {
  const bytes = nativeBytes(p, len).slice();
  if (bytes[0] === WIN_AF_INET6 && bytes[1] === 0) bytes[0] = AF_INET6;
  return decodeSockaddr(bytes, len);
}

/**
 * GetAddrInfoW(host, port, hints) in the loop's numbering: `host` and `port` as CPython passes
 * them (null for None, a port number already in decimal). Blocks.
 */
export function winGetaddrinfo(
  host: string | null,
  port: string | null,
  family: number,
  type: number,
  proto: number,
  flags: number,
): WinAddrInfo[] | WinGaiError {
  const winFlags = translateFlags(flags, aiFlags);
  // ws2tcpip.h: EAI_BADFLAGS for flags Winsock does not know (GetAddrInfoW says the same).
  if (winFlags === undefined) return { error: WIN_EAI_BADFLAGS };
  const hints = new Int32Array(ADDRINFOW_SIZE / 4);
  hints[0] = winFlags;
  hints[ADDRINFOW_FAMILY / 4] = family === AF_INET6 ? WIN_AF_INET6 : family;
  hints[ADDRINFOW_SOCKTYPE / 4] = type;
  hints[ADDRINFOW_PROTOCOL / 4] = proto;
  const result = new BigUint64Array(1);
  const node = wide(host), service = wide(port);
  const w = ws2();
  const rc = w.GetAddrInfoW(pointerOf(node), pointerOf(service), hints, result);
  if (rc !== 0) return { error: rc };
  const out: WinAddrInfo[] = [];
  const head = pointerFromAddress(result[0]!);
  try {
    for (let p = head; !isNullPointer(p); p = readPointer(p, ADDRINFOW_NEXT)) {
      const info = new DataView(nativeBytes(p, ADDRINFOW_SIZE).slice().buffer);
      const aiFamily = info.getInt32(ADDRINFOW_FAMILY, true);
      out.push([
        aiFamily === WIN_AF_INET6 ? AF_INET6 : aiFamily,
        info.getInt32(ADDRINFOW_SOCKTYPE, true),
        info.getInt32(ADDRINFOW_PROTOCOL, true),
        readWide(readPointer(p, ADDRINFOW_CANONNAME)),
        sockaddrFromWindows(readPointer(p, ADDRINFOW_ADDR), Number(info.getBigUint64(ADDRINFOW_ADDRLEN, true))),
      ]);
    }
  } finally {
    w.FreeAddrInfoW(head);
  }
  return out;
}

/**
 * GetNameInfoW of the socket address `[host, port, flowinfo?, scopeId?]` (`family` AF_INET or
 * AF_INET6, `host` an IP literal) with the loop's NI_* flags: `[host, service]`. Blocks.
 */
export function winGetnameinfo(
  family: number,
  sockaddr: [string, number] | [string, number, number, number],
  flags: number,
): [string, string] | WinGaiError {
  const winFlags = translateFlags(flags, niFlags);
  if (winFlags === undefined) return { error: WIN_EAI_BADFLAGS };
  const addr = new Uint8Array(128);
  const len = encodeSockaddr(family, sockaddr, addr, "getnameinfo");
  if (addr[0] === AF_INET6 && addr[1] === 0) addr[0] = WIN_AF_INET6;
  const hostBuf = new Uint16Array(NI_MAXHOST), serviceBuf = new Uint16Array(NI_MAXSERV);
  const rc = ws2().GetNameInfoW(addr, len, hostBuf, NI_MAXHOST, serviceBuf, NI_MAXSERV, winFlags);
  if (rc !== 0) return { error: rc };
  const text = (b: Uint16Array) => String.fromCharCode(...b.subarray(0, b.indexOf(0)));
  return [text(hostBuf), text(serviceBuf)];
}

/**
 * Winsock's side of name resolution: ws2tcpip.h's EAI_* numbers (WSA error codes; EAI_NODATA is
 * EAI_NONAME there), CPython's "getaddrinfo failed" as the text (Windows has no gai_strerror),
 * and the two calls above as the resolver. Windows has no EAI_ADDRFAMILY, EAI_SYSTEM or
 * EAI_OVERFLOW: they are never raised here.
 */
export const windowsResolverCalls: ResolverCalls = {
  eai: {
    EAI_BADFLAGS: WIN_EAI_BADFLAGS, EAI_NONAME: WIN_EAI_NONAME, EAI_AGAIN: WIN_EAI_AGAIN,
    EAI_FAIL: WIN_EAI_FAIL, EAI_NODATA: WIN_EAI_NONAME, EAI_FAMILY: WIN_EAI_FAMILY,
    EAI_SOCKTYPE: WIN_EAI_SOCKTYPE, EAI_SERVICE: WIN_EAI_SERVICE, EAI_MEMORY: WIN_EAI_MEMORY,
  },
  eaiNames: {
    [WIN_EAI_BADFLAGS]: "EAI_BADFLAGS", [WIN_EAI_NONAME]: "EAI_NONAME", [WIN_EAI_AGAIN]: "EAI_AGAIN",
    [WIN_EAI_FAIL]: "EAI_FAIL", [WIN_EAI_FAMILY]: "EAI_FAMILY", [WIN_EAI_SOCKTYPE]: "EAI_SOCKTYPE",
    [WIN_EAI_SERVICE]: "EAI_SERVICE", [WIN_EAI_MEMORY]: "EAI_MEMORY",
  },
  strerror: () => "getaddrinfo failed",
  native: {
    module: import.meta.url,
    exports: { getaddrinfo: "winGetaddrinfo", getnameinfo: "winGetnameinfo" },
    getaddrinfo: winGetaddrinfo,
    getnameinfo: winGetnameinfo,
  },
};
