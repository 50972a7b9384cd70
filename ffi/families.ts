/**
 * Address families as types, so that a socket's addresses are typed by its family: AF_INET,
 * AF_INET6 and AF_UNIX (ffi/socket_constants.ts) are numbers carrying a compile-time brand, a
 * `Socket` made with one of them remembers it (`Socket<InetFamily>`), and `AddressOf<F>` is what
 * getsockname(), getpeername(), accept() and recvfrom() return for it: `[host, port]` for
 * AF_INET without a cast. The brand exists only for the compiler; the values are the OS's
 * plain numbers (they differ between OSes, so no literal type can stand for them). A family
 * given as a plain number gets the general SockAddr.
 */
import type { SockAddr } from "./sockaddr.ts";

/** The AF_INET value's type (IPv4): addresses are `[host, port]`. */
export type InetFamily = number & { readonly __addressFamily: "AF_INET" };
/** The AF_INET6 value's type (IPv6): addresses are `[host, port, flowinfo, scopeId]`. */
export type Inet6Family = number & { readonly __addressFamily: "AF_INET6" };
/** The AF_UNIX value's type: addresses are a path, abstract-namespace bytes, or "" unbound. */
export type UnixFamily = number & { readonly __addressFamily: "AF_UNIX" };

/**
 * The address a socket of family `F` reports (Python's socket module's shapes): per family for
 * AF_INET, AF_INET6 and AF_UNIX, and for a union of them the union of theirs (so `[1]` is the
 * port of an AF_INET | AF_INET6 address); SockAddr for any other number.
 */
export type AddressOf<F extends number> = F extends InetFamily ? [host: string, port: number]
  : F extends Inet6Family ? [host: string, port: number, flowinfo: number, scopeId: number]
  : F extends UnixFamily ? string | Uint8Array
  : SockAddr;
