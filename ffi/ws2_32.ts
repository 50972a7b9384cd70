/**
 * ws2_32.dll (Winsock 2): socket calls, the overlapped WSARecv/WSASend family, and the
 * Microsoft extensions AcceptEx and ConnectEx, whose addresses WSAIoctl hands out
 * (SIO_GET_EXTENSION_FUNCTION_POINTER, mswsock.h). Bound on first use, only on Windows.
 *
 * Prototypes and constants are the Windows SDK's (winsock2.h, ws2def.h, ws2ipdef.h, mswsock.h,
 * winerror.h); each cites its header. SOCKET (UINT_PTR) arguments are `usize`; a SOCKET result
 * is `i32`: INVALID_SOCKET (~0) reads as -1 and a valid one is a small handle value (see
 * kernel32.ts). Memory the kernel uses after the call returns (buffers, WSABUF, OVERLAPPED) is
 * passed by address (`usize`), its owner keeping it alive; memory used only during the call is a
 * `buffer`.
 */
import {
  bindFunctionPointer, isNullPointer, isWindows, openLibrary, osName, pointerFromAddress,
  type SymbolSpec,
} from "./runtime.ts";

const symbols = {
  // winsock2.h: int WSAStartup(WORD wVersionRequested, LPWSADATA lpWSAData)
  WSAStartup: { args: ["u32", "buffer"], result: "i32" },
  // winsock2.h: int WSAGetLastError(void)
  WSAGetLastError: { args: [], result: "i32" },
  // winsock2.h: SOCKET WSASocketW(int af, int type, int protocol,
  //   LPWSAPROTOCOL_INFOW lpProtocolInfo, GROUP g, DWORD dwFlags)
  WSASocketW: { args: ["i32", "i32", "i32", "buffer", "u32", "u32"], result: "i32" },
  // winsock2.h: int closesocket(SOCKET s)
  closesocket: { args: ["usize"], result: "i32" },
  // winsock2.h: int bind(SOCKET s, const struct sockaddr *name, int namelen)
  bind: { args: ["usize", "buffer", "i32"], result: "i32" },
  // winsock2.h: int listen(SOCKET s, int backlog)
  listen: { args: ["usize", "i32"], result: "i32" },
  // winsock2.h: int getsockname(SOCKET s, struct sockaddr *name, int *namelen); getpeername
  getsockname: { args: ["usize", "buffer", "buffer"], result: "i32" },
  getpeername: { args: ["usize", "buffer", "buffer"], result: "i32" },
  // winsock2.h: int setsockopt(SOCKET s, int level, int optname, const char *optval, int optlen)
  setsockopt: { args: ["usize", "i32", "i32", "buffer", "i32"], result: "i32" },
  // winsock2.h: int getsockopt(SOCKET s, int level, int optname, char *optval, int *optlen)
  getsockopt: { args: ["usize", "i32", "i32", "buffer", "buffer"], result: "i32" },
  // winsock2.h: int ioctlsocket(SOCKET s, long cmd, u_long *argp) (long is 32 bits on Windows)
  ioctlsocket: { args: ["usize", "i32", "buffer"], result: "i32" },
  // winsock2.h: int shutdown(SOCKET s, int how)
  shutdown: { args: ["usize", "i32"], result: "i32" },
  // winsock2.h: int connect(SOCKET s, const struct sockaddr *name, int namelen)
  connect: { args: ["usize", "buffer", "i32"], result: "i32" },
  // winsock2.h: SOCKET accept(SOCKET s, struct sockaddr *addr, int *addrlen)
  accept: { args: ["usize", "buffer", "buffer"], result: "i32" },
  // winsock2.h: int sendto(SOCKET s, const char *buf, int len, int flags,
  //   const struct sockaddr *to, int tolen)
  sendto: { args: ["usize", "buffer", "i32", "i32", "buffer", "i32"], result: "i32" },
  // winsock2.h: int recvfrom(SOCKET s, char *buf, int len, int flags, struct sockaddr *from,
  //   int *fromlen)
  recvfrom: { args: ["usize", "buffer", "i32", "i32", "buffer", "buffer"], result: "i32" },
  // winsock2.h: int send(SOCKET s, const char *buf, int len, int flags); recv likewise
  send: { args: ["usize", "buffer", "i32", "i32"], result: "i32" },
  recv: { args: ["usize", "buffer", "i32", "i32"], result: "i32" },
  // winsock2.h: int WSAIoctl(SOCKET s, DWORD dwIoControlCode, LPVOID lpvInBuffer,
  //   DWORD cbInBuffer, LPVOID lpvOutBuffer, DWORD cbOutBuffer, LPDWORD lpcbBytesReturned,
  //   LPWSAOVERLAPPED lpOverlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)
  // ws2tcpip.h: INT GetAddrInfoW(PCWSTR pNodeName, PCWSTR pServiceName,
  //   const ADDRINFOW *pHints, PADDRINFOW *ppResult); 0 or an EAI_* (WSA) code, also left for
  //   WSAGetLastError (MSDN "GetAddrInfoW function (ws2tcpip.h)"). The names may be NULL.
  GetAddrInfoW: { args: ["pointer", "pointer", "buffer", "buffer"], result: "i32" },
  // ws2tcpip.h: VOID FreeAddrInfoW(PADDRINFOW pAddrInfo)
  FreeAddrInfoW: { args: ["pointer"], result: "void" },
  // ws2tcpip.h: INT GetNameInfoW(const SOCKADDR *pSockaddr, socklen_t SockaddrLength,
  //   PWCHAR pNodeBuffer, DWORD NodeBufferSize, PWCHAR pServiceBuffer, DWORD ServiceBufferSize,
  //   INT Flags); 0 or an EAI_* (WSA) code; the buffer sizes count WCHARs (MSDN "GetNameInfoW").
  GetNameInfoW: { args: ["buffer", "i32", "buffer", "u32", "buffer", "u32", "i32"], result: "i32" },
  WSAIoctl: {
    args: ["usize", "u32", "buffer", "u32", "buffer", "u32", "buffer", "usize", "usize"],
    result: "i32",
  },
  // winsock2.h: int WSARecv(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
  //   LPDWORD lpNumberOfBytesRecvd, LPDWORD lpFlags, LPWSAOVERLAPPED lpOverlapped,
  //   LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)
  WSARecv: { args: ["usize", "usize", "u32", "usize", "usize", "usize", "usize"], result: "i32" },
  // winsock2.h: int WSASend(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
  //   LPDWORD lpNumberOfBytesSent, DWORD dwFlags, LPWSAOVERLAPPED lpOverlapped,
  //   LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)
  WSASend: { args: ["usize", "usize", "u32", "usize", "u32", "usize", "usize"], result: "i32" },
  // winsock2.h: int WSARecvFrom(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
  //   LPDWORD lpNumberOfBytesRecvd, LPDWORD lpFlags, struct sockaddr *lpFrom, LPINT lpFromlen,
  //   LPWSAOVERLAPPED lpOverlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)
  WSARecvFrom: {
    args: ["usize", "usize", "u32", "usize", "usize", "usize", "usize", "usize", "usize"],
    result: "i32",
  },
  // winsock2.h: int WSASendTo(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
  //   LPDWORD lpNumberOfBytesSent, DWORD dwFlags, const struct sockaddr *lpTo, int iTolen,
  //   LPWSAOVERLAPPED lpOverlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)
  WSASendTo: {
    args: ["usize", "usize", "u32", "usize", "u32", "usize", "i32", "usize", "usize"],
    result: "i32",
  },
  // winsock2.h: BOOL WSAGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED lpOverlapped,
  //   LPDWORD lpcbTransfer, BOOL fWait, LPDWORD lpdwFlags): the Winsock error of a completion.
  WSAGetOverlappedResult: { args: ["usize", "usize", "buffer", "i32", "buffer"], result: "i32" },
} as const satisfies Record<string, SymbolSpec>;

type Ws2 = ReturnType<typeof openLibrary<typeof symbols>>["symbols"];
let bound: Ws2 | undefined;

const iphlpapiSymbols = {
  // netioapi.h (Iphlpapi.dll): NET_IFINDEX if_nametoindex(PCSTR InterfaceName); 0 if unknown
  // (MSDN "if_nametoindex function (netioapi.h)").
  if_nametoindex: { args: ["buffer"], result: "u32" },
  // netioapi.h: PCHAR if_indextoname(NET_IFINDEX InterfaceIndex, PCHAR InterfaceName): the name
  // into a buffer of IF_NAMESIZE (256 there) bytes, NULL if unknown (MSDN "if_indextoname").
  if_indextoname: { args: ["u32", "buffer"], result: "pointer" },
} as const satisfies Record<string, SymbolSpec>;
let iphlpapi: ReturnType<typeof openLibrary<typeof iphlpapiSymbols>>["symbols"] | undefined;

/**
 * if_nametoindex on Windows: the index of the interface named by the NUL-terminated `name`
 * (an NDIS name such as "loopback_0", or its index in decimal), 0 if there is none.
 */
export function ifNameToIndex(name: Uint8Array): number {
  if (!isWindows) throw new Error(`Iphlpapi.dll exists only on Windows, not ${osName}`);
  iphlpapi ??= openLibrary("iphlpapi.dll", iphlpapiSymbols).symbols;
  return iphlpapi.if_nametoindex(name);
}

/**
 * if_indextoname on Windows: writes the NUL-terminated NDIS name of interface `index` into
 * `name` (at least 256 bytes, netioapi.h's IF_NAMESIZE); false if there is no such interface.
 */
export function ifIndexToName(index: number, name: Uint8Array): boolean {
  if (!isWindows) throw new Error(`Iphlpapi.dll exists only on Windows, not ${osName}`);
  iphlpapi ??= openLibrary("iphlpapi.dll", iphlpapiSymbols).symbols;
  return !isNullPointer(iphlpapi.if_indextoname(index, name));
}

/** Winsock's functions, bound (and WSAStartup called) on the first call; Error off Windows. */
export function ws2(): Ws2 {
  if (bound) return bound;
  if (!isWindows) throw new Error(`ws2_32.dll exists only on Windows, not ${osName}`);
  const lib = openLibrary("ws2_32.dll", symbols).symbols;
  // winsock2.h: WSADATA is 408 bytes on x64; the version asked is 2.2 (MAKEWORD(2, 2)).
  const r = lib.WSAStartup(0x0202, new Uint8Array(512));
  if (r !== 0) throw new Error(`WSAStartup(2.2) failed with Winsock error ${r}`);
  bound = lib;
  return bound;
}

// ---- Extension functions (mswsock.h) ---------------------------------------------------------

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => any;

/** mswsock.h: `WSAID_ACCEPTEX` {b5367df1-cbac-11cf-95ca-00805f48a192}, as GUID bytes. */
const WSAID_ACCEPTEX = guid(0xb5367df1, 0xcbac, 0x11cf, [0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92]);
/** mswsock.h: `WSAID_CONNECTEX` {25a207b9-ddf3-4660-8ee9-76e58c74063e}. */
const WSAID_CONNECTEX = guid(0x25a207b9, 0xddf3, 0x4660, [0x8e, 0xe9, 0x76, 0xe5, 0x8c, 0x74, 0x06, 0x3e]);

/** A GUID's 16 bytes as guiddef.h lays it out: Data1 (LE u32), Data2, Data3 (LE u16), Data4[8]. */
function guid(d1: number, d2: number, d3: number, d4: number[]): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint32(0, d1, true);
  v.setUint16(4, d2, true);
  v.setUint16(6, d3, true);
  b.set(d4, 8);
  return b;
}

/**
 * mswsock.h: `BOOL AcceptEx(SOCKET sListenSocket, SOCKET sAcceptSocket, PVOID lpOutputBuffer,
 * DWORD dwReceiveDataLength, DWORD dwLocalAddressLength, DWORD dwRemoteAddressLength,
 * LPDWORD lpdwBytesReceived, LPOVERLAPPED lpOverlapped)`.
 */
const ACCEPTEX_SPEC: SymbolSpec = {
  args: ["usize", "usize", "usize", "u32", "u32", "u32", "usize", "usize"], result: "i32",
};
/**
 * mswsock.h: `BOOL (PASCAL *LPFN_CONNECTEX)(SOCKET s, const struct sockaddr *name, int namelen,
 * PVOID lpSendBuffer, DWORD dwSendDataLength, LPDWORD lpdwBytesSent, LPOVERLAPPED lpOverlapped)`.
 */
const CONNECTEX_SPEC: SymbolSpec = {
  args: ["usize", "usize", "i32", "usize", "u32", "usize", "usize"], result: "i32",
};

/** The extension functions of one Winsock provider (they are the same for TCP over v4 and v6). */
export interface Extensions {
  acceptEx: AnyFn;
  connectEx: AnyFn;
}

let extensions: Extensions | undefined;

/** AcceptEx and ConnectEx, asked of `socket`'s provider once per process. */
export function extensionFunctions(socket: number): Extensions {
  if (extensions) return extensions;
  const lookup = (id: Uint8Array, spec: SymbolSpec, name: string): AnyFn => {
    const out = new BigUint64Array(1);
    const returned = new Uint32Array(1);
    const w = ws2();
    const r = w.WSAIoctl(socket, SIO_GET_EXTENSION_FUNCTION_POINTER, id, 16, out, 8, returned, 0, 0);
    if (r !== 0) throw new Error(`WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER, ${name}) failed: Winsock error ${w.WSAGetLastError()}`);
    return bindFunctionPointer(pointerFromAddress(out[0]), spec);
  };
  extensions = {
    acceptEx: lookup(WSAID_ACCEPTEX, ACCEPTEX_SPEC, "AcceptEx"),
    connectEx: lookup(WSAID_CONNECTEX, CONNECTEX_SPEC, "ConnectEx"),
  };
  return extensions;
}

// ---- Layouts (x64) ----------------------------------------------------------------------------

/** ws2def.h: `typedef struct _WSABUF { ULONG len; CHAR FAR *buf; } WSABUF`: 16 bytes on x64. */
export const WSABUF_SIZE = 16;
export const WSABUF_LEN = 0;
export const WSABUF_BUF = 8;

/** ws2def.h: `SOCKADDR_STORAGE` is 128 bytes. */
export const SOCKADDR_STORAGE_SIZE = 128;
/**
 * ws2ipdef.h: `SOCKADDR_IN6` is 28 bytes (family, port, flowinfo, 16-byte address, scope id);
 * AcceptEx wants each address slot 16 bytes longer than the largest sockaddr (mswsock.h).
 */
export const ACCEPT_ADDRESS_SLOT = 28 + 16;

// ---- Constants --------------------------------------------------------------------------------

// ws2def.h (included by winsock2.h): address families, levels, types, protocols.
/** ws2def.h: `AF_INET` 2. */
export const WIN_AF_INET = 2;
/** ws2def.h: `AF_INET6` 23 (Linux: 10; the proactor translates, see platform/windows.ts). */
export const WIN_AF_INET6 = 23;
/** winsock2.h: `SOCK_STREAM` 1. */
export const WIN_SOCK_STREAM = 1;
/** winsock2.h: `SOCK_DGRAM` 2. */
export const WIN_SOCK_DGRAM = 2;
/** ws2def.h: `IPPROTO_TCP` 6. */
export const WIN_IPPROTO_TCP = 6;
/** ws2def.h: `IPPROTO_UDP` 17. */
export const WIN_IPPROTO_UDP = 17;
/** ws2def.h: `SOL_SOCKET` 0xffff. */
export const WIN_SOL_SOCKET = 0xffff;
/** ws2def.h: `SO_REUSEADDR` 0x0004. */
export const WIN_SO_REUSEADDR = 0x0004;
/** ws2def.h: `SO_KEEPALIVE` 0x0008. */
export const WIN_SO_KEEPALIVE = 0x0008;
/** ws2def.h: `SO_BROADCAST` 0x0020. */
export const WIN_SO_BROADCAST = 0x0020;
/** ws2def.h: `SO_LINGER` 0x0080 (value: `struct linger { u_short l_onoff, l_linger; }`). */
export const WIN_SO_LINGER = 0x0080;
/** ws2def.h: `SO_SNDBUF` 0x1001. */
export const WIN_SO_SNDBUF = 0x1001;
/** ws2def.h: `SO_RCVBUF` 0x1002. */
export const WIN_SO_RCVBUF = 0x1002;
/** ws2def.h: `IPPROTO_IPV6` 41. */
export const WIN_IPPROTO_IPV6 = 41;
/** ws2ipdef.h: `IPV6_V6ONLY` 27. */
export const WIN_IPV6_V6ONLY = 27;
/** ws2def.h: `TCP_NODELAY` 0x0001 (level IPPROTO_TCP). */
export const WIN_TCP_NODELAY = 0x0001;
/** ws2ipdef.h: `TCP_KEEPALIVE` 3 (seconds idle before probes: Linux's TCP_KEEPIDLE). */
export const WIN_TCP_KEEPIDLE = 3;
/** ws2ipdef.h: `TCP_KEEPCNT` 16. */
export const WIN_TCP_KEEPCNT = 16;
/** ws2ipdef.h: `TCP_KEEPINTVL` 17. */
export const WIN_TCP_KEEPINTVL = 17;
/** ws2def.h: `MSG_OOB` 0x1, `MSG_PEEK` 0x2, `MSG_DONTROUTE` 0x4 (Linux's values too). */
export const WIN_MSG_OOB_PEEK_DONTROUTE = 0x7;
/** ws2def.h: `MSG_WAITALL` 0x8 (Linux: 0x100). */
export const WIN_MSG_WAITALL = 0x8;
/** ws2def.h: `SO_TYPE` 0x1008. */
export const WIN_SO_TYPE = 0x1008;
/** ws2def.h: `SO_ERROR` 0x1007. */
export const WIN_SO_ERROR = 0x1007;
/**
 * winsock2.h: `SO_PROTOCOL_INFOW` 0x2005: the socket's WSAPROTOCOL_INFOW (MSDN "SOL_SOCKET
 * socket options", "WSAPROTOCOL_INFOW structure (winsock2.h)"). Windows has no SO_DOMAIN or
 * SO_PROTOCOL; this structure carries both.
 */
export const WIN_SO_PROTOCOL_INFOW = 0x2005;
/**
 * sizeof(WSAPROTOCOL_INFOW) 628 and the offsets of its int fields read here: five DWORDs (20),
 * GUID ProviderId (16), DWORD dwCatalogEntryId, WSAPROTOCOLCHAIN (int ChainLen + 7 DWORDs: 32),
 * int iVersion at 72, then iAddressFamily 76, iMaxSockAddr 80, iMinSockAddr 84, iSocketType 88,
 * iProtocol 92, … and WCHAR szProtocol[256] at 116.
 */
export const WSAPROTOCOL_INFOW_SIZE = 628;
export const WSAPROTOCOL_INFOW_FAMILY = 76;
export const WSAPROTOCOL_INFOW_TYPE = 88;
export const WSAPROTOCOL_INFOW_PROTOCOL = 92;
/** winsock2.h: `SD_SEND` 0x01 (shutdown). */
export const SD_SEND = 1;
/** winsock2.h: `INVALID_SOCKET` (SOCKET)(~0), which an `i32` result reads as -1. */
export const INVALID_SOCKET = -1;
/** winsock2.h: `SOCKET_ERROR` (-1). */
export const SOCKET_ERROR = -1;
/** winsock2.h: `WSA_FLAG_OVERLAPPED` 0x01. */
export const WSA_FLAG_OVERLAPPED = 0x01;
/** winsock2.h: `WSA_FLAG_NO_HANDLE_INHERIT` 0x80 (Windows 7 SP1 and later). */
export const WSA_FLAG_NO_HANDLE_INHERIT = 0x80;
/** winsock2.h: `FIONBIO` _IOW('f', 126, u_long) = 0x8004667e, as a signed 32-bit long. */
export const FIONBIO = 0x8004667e | 0;
/** ws2def.h: `SIO_GET_EXTENSION_FUNCTION_POINTER` _WSAIORW(IOC_WS2, 6) = 0xC8000006. */
export const SIO_GET_EXTENSION_FUNCTION_POINTER = 0xc8000006;
/** mswsock.h: `SO_UPDATE_ACCEPT_CONTEXT` 0x700B. */
export const SO_UPDATE_ACCEPT_CONTEXT = 0x700b;
/** mswsock.h: `SO_UPDATE_CONNECT_CONTEXT` 0x7010. */
export const SO_UPDATE_CONNECT_CONTEXT = 0x7010;
/** ws2def.h: `MSG_PARTIAL` 0x8000 (WSARecvFrom: the datagram was cut to the buffer). */
export const MSG_PARTIAL = 0x8000;

// ---- Name resolution: ws2def.h / ws2tcpip.h -------------------------------------------------

/** ws2def.h: `ADDRINFOW` on x64: ai_flags, ai_family, ai_socktype, ai_protocol (int each),
 * ai_addrlen (size_t), ai_canonname (PWSTR), ai_addr (struct sockaddr *), ai_next. */
export const ADDRINFOW_SIZE = 48;
export const ADDRINFOW_FLAGS = 0;
export const ADDRINFOW_FAMILY = 4;
export const ADDRINFOW_SOCKTYPE = 8;
export const ADDRINFOW_PROTOCOL = 12;
export const ADDRINFOW_ADDRLEN = 16;
export const ADDRINFOW_CANONNAME = 24;
export const ADDRINFOW_ADDR = 32;
export const ADDRINFOW_NEXT = 40;

// ws2def.h: the ai_flags of ADDRINFOW (their Linux values differ from AI_NUMERICSERV on).
/** ws2def.h: `AI_PASSIVE` 0x01. */
export const WIN_AI_PASSIVE = 0x01;
/** ws2def.h: `AI_CANONNAME` 0x02. */
export const WIN_AI_CANONNAME = 0x02;
/** ws2def.h: `AI_NUMERICHOST` 0x04. */
export const WIN_AI_NUMERICHOST = 0x04;
/** ws2def.h: `AI_NUMERICSERV` 0x08. */
export const WIN_AI_NUMERICSERV = 0x08;
/** ws2def.h: `AI_ALL` 0x0100. */
export const WIN_AI_ALL = 0x0100;
/** ws2def.h: `AI_ADDRCONFIG` 0x0400. */
export const WIN_AI_ADDRCONFIG = 0x0400;
/** ws2def.h: `AI_V4MAPPED` 0x0800. */
export const WIN_AI_V4MAPPED = 0x0800;

// ws2def.h: getnameinfo flags.
/** ws2def.h: `NI_NOFQDN` 0x01. */
export const WIN_NI_NOFQDN = 0x01;
/** ws2def.h: `NI_NUMERICHOST` 0x02. */
export const WIN_NI_NUMERICHOST = 0x02;
/** ws2def.h: `NI_NAMEREQD` 0x04. */
export const WIN_NI_NAMEREQD = 0x04;
/** ws2def.h: `NI_NUMERICSERV` 0x08. */
export const WIN_NI_NUMERICSERV = 0x08;
/** ws2def.h: `NI_DGRAM` 0x10. */
export const WIN_NI_DGRAM = 0x10;
/** ws2def.h: `NI_MAXHOST` 1025 and `NI_MAXSERV` 32 (buffer sizes, in characters). */
export const NI_MAXHOST = 1025;
export const NI_MAXSERV = 32;

// ws2tcpip.h: getaddrinfo/getnameinfo errors are Winsock error codes (winerror.h). There is no
// EAI_ADDRFAMILY, EAI_SYSTEM or EAI_OVERFLOW, and EAI_NODATA is defined as EAI_NONAME.
/** ws2tcpip.h: `EAI_AGAIN` = WSATRY_AGAIN 11002. */
export const WIN_EAI_AGAIN = 11002;
/** ws2tcpip.h: `EAI_BADFLAGS` = WSAEINVAL 10022. */
export const WIN_EAI_BADFLAGS = 10022;
/** ws2tcpip.h: `EAI_FAIL` = WSANO_RECOVERY 11003. */
export const WIN_EAI_FAIL = 11003;
/** ws2tcpip.h: `EAI_FAMILY` = WSAEAFNOSUPPORT 10047. */
export const WIN_EAI_FAMILY = 10047;
/** ws2tcpip.h: `EAI_MEMORY` = WSA_NOT_ENOUGH_MEMORY 8. */
export const WIN_EAI_MEMORY = 8;
/** ws2tcpip.h: `EAI_NONAME` = WSAHOST_NOT_FOUND 11001 (and `EAI_NODATA` = EAI_NONAME). */
export const WIN_EAI_NONAME = 11001;
/** ws2tcpip.h: `EAI_SERVICE` = WSATYPE_NOT_FOUND 10109. */
export const WIN_EAI_SERVICE = 10109;
/** ws2tcpip.h: `EAI_SOCKTYPE` = WSAESOCKTNOSUPPORT 10044. */
export const WIN_EAI_SOCKTYPE = 10044;

// winerror.h: Winsock error codes (WSABASEERR 10000 + the BSD number).
export const WSAEINTR = 10004;
export const WSAEBADF = 10009;
export const WSAEACCES = 10013;
export const WSAEFAULT = 10014;
export const WSAEINVAL = 10022;
export const WSAEMFILE = 10024;
export const WSAEWOULDBLOCK = 10035;
export const WSAEINPROGRESS = 10036;
export const WSAEALREADY = 10037;
export const WSAENOTSOCK = 10038;
export const WSAEMSGSIZE = 10040;
export const WSAEDESTADDRREQ = 10039;
export const WSAENOPROTOOPT = 10042;
export const WSAEPROTONOSUPPORT = 10043;
export const WSAESOCKTNOSUPPORT = 10044;
export const WSAEOPNOTSUPP = 10045;
export const WSAEAFNOSUPPORT = 10047;
export const WSAEADDRINUSE = 10048;
export const WSAEADDRNOTAVAIL = 10049;
export const WSAENETDOWN = 10050;
export const WSAENETUNREACH = 10051;
export const WSAENETRESET = 10052;
export const WSAECONNABORTED = 10053;
export const WSAECONNRESET = 10054;
export const WSAENOBUFS = 10055;
export const WSAEISCONN = 10056;
export const WSAENOTCONN = 10057;
export const WSAESHUTDOWN = 10058;
export const WSAETIMEDOUT = 10060;
export const WSAECONNREFUSED = 10061;
export const WSAEHOSTUNREACH = 10065;
