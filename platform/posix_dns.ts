/**
 * Name resolution's OS side on POSIX systems (loop/net/resolver_calls.ts): glibc's EAI_*
 * numbers (<netdb.h>, ffi/socket_constants.ts) and gai_strerror(3)'s texts. No native resolver:
 * loop/net/dns.ts gives glibc's answers itself, over the host runtime's resolver.
 */
import { libc } from "../ffi/libc.ts";
import { readCString } from "../ffi/runtime.ts";
import {
  EAI_ADDRFAMILY, EAI_AGAIN, EAI_BADFLAGS, EAI_FAIL, EAI_FAMILY, EAI_MEMORY, EAI_NODATA, EAI_NONAME,
  EAI_OVERFLOW, EAI_SERVICE, EAI_SOCKTYPE, EAI_SYSTEM,
} from "../ffi/socket_constants.ts";
import type { ResolverCalls } from "../loop/net/resolver_calls.ts";

/** glibc's getaddrinfo errors; the resolving is loop/net/dns.ts's. */
export const posixResolverCalls: ResolverCalls = {
  eai: {
    EAI_BADFLAGS, EAI_NONAME, EAI_AGAIN, EAI_FAIL, EAI_NODATA, EAI_FAMILY, EAI_SOCKTYPE, EAI_SERVICE,
    EAI_MEMORY,
  },
  eaiNames: {
    [EAI_BADFLAGS]: "EAI_BADFLAGS", [EAI_NODATA]: "EAI_NODATA", [EAI_NONAME]: "EAI_NONAME",
    [EAI_AGAIN]: "EAI_AGAIN", [EAI_FAIL]: "EAI_FAIL", [EAI_FAMILY]: "EAI_FAMILY",
    [EAI_SOCKTYPE]: "EAI_SOCKTYPE", [EAI_SERVICE]: "EAI_SERVICE", [EAI_MEMORY]: "EAI_MEMORY",
    [EAI_ADDRFAMILY]: "EAI_ADDRFAMILY", [EAI_SYSTEM]: "EAI_SYSTEM", [EAI_OVERFLOW]: "EAI_OVERFLOW",
  },
  strerror: (eai) => readCString(libc.gai_strerror(eai)),
  native: null,
};
