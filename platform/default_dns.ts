/**
 * Picks this OS's side of name resolution for loop/net/dns.ts (loop/net/resolver_calls.ts):
 * Winsock's resolver and error numbers on Windows, glibc's numbers elsewhere. Both modules bind
 * their libraries on first use, so importing either is safe on every OS.
 */
import { isWindows } from "../ffi/runtime.ts";
import type { ResolverCalls } from "../loop/net/resolver_calls.ts";
import { posixResolverCalls } from "./posix_dns.ts";
import { windowsResolverCalls } from "./windows_dns.ts";

/** Name resolution's OS side on this OS. */
export const resolverCalls: ResolverCalls = isWindows ? windowsResolverCalls : posixResolverCalls;
