/**
 * The platform seam of name resolution (loop/net/dns.ts), one implementation per OS family in
 * platform/ (posix_dns.ts, windows_dns.ts), chosen by platform/default_dns.ts:
 * - the OS's getaddrinfo error numbers, their names and texts, which gaierror carries;
 * - on Windows, the OS's own resolver (Winsock's GetAddrInfoW/GetNameInfoW), whose answers are
 *   the ones to give there, as CPython gives them. Elsewhere dns.ts answers with glibc's rules
 *   over the host runtime's resolver (node:dns) and needs no native call.
 * Everything here is plain data: the native calls block, so dns.ts runs them on an executor
 * thread, naming them by module URL and export (the worker imports the module itself).
 */
import type { SockAddr } from "../../ffi/sockaddr.ts";

/** This OS's getaddrinfo error numbers: <netdb.h>'s (glibc, negative), or ws2tcpip.h's. */
export interface EaiNumbers {
  /** Bad flags. */ readonly EAI_BADFLAGS: number;
  /** Name or service not known. */ readonly EAI_NONAME: number;
  /** Temporary failure in name resolution. */ readonly EAI_AGAIN: number;
  /** Non-recoverable failure. */ readonly EAI_FAIL: number;
  /** No address for the name. */ readonly EAI_NODATA: number;
  /** Family not supported. */ readonly EAI_FAMILY: number;
  /** Socket type not supported. */ readonly EAI_SOCKTYPE: number;
  /** Service not supported for the socket type. */ readonly EAI_SERVICE: number;
  /** Out of memory. */ readonly EAI_MEMORY: number;
}

/** A native answer: `[family, type, proto, canonname, sockaddr]` rows, or an EAI_* code. */
export type NativeAddrInfo = [number, number, number, string, SockAddr][] | { error: number };
/** A native reverse answer: `[host, service]`, or an EAI_* code. */
export type NativeNameInfo = [string, string] | { error: number };

/** The OS's own resolver (Windows): blocking calls, in the loop's AF_/AI_/NI_ numbering. */
export interface NativeResolver {
  /** The URL of the module exporting the two calls, for an executor worker to import. */
  readonly module: string;
  /** The export names of the calls in that module. */
  readonly exports: { readonly getaddrinfo: string; readonly getnameinfo: string };
  /** getaddrinfo(host, service, hints) with CPython's argument forms (null: None). */
  getaddrinfo(host: string | null, service: string | null, family: number, type: number, proto: number, flags: number): NativeAddrInfo;
  /** getnameinfo of `[host, port, flowinfo?, scopeId?]` (`host` an IP literal of `family`). */
  getnameinfo(family: number, sockaddr: [string, number] | [string, number, number, number], flags: number): NativeNameInfo;
}

/** One OS's side of name resolution. */
export interface ResolverCalls {
  /** The error numbers. */
  readonly eai: EaiNumbers;
  /** The EAI_* names this OS has, by number (gaierror.code). */
  readonly eaiNames: Readonly<Record<number, string>>;
  /** The error's text: gai_strerror(3), or CPython's "getaddrinfo failed" where there is none. */
  strerror(eai: number): string;
  /** The OS's own resolver where its answers are the ones to give (Windows); else null. */
  readonly native: NativeResolver | null;
}
