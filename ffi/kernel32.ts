/**
 * kernel32.dll: the I/O completion port calls, overlapped file I/O and named pipes, with the
 * x64 layouts of OVERLAPPED and OVERLAPPED_ENTRY. Bound on first use (never on a POSIX system).
 *
 * Prototypes and constants are the Windows SDK's; each cites its header. Type mapping: HANDLE,
 * SOCKET and ULONG_PTR arguments are `usize`; a HANDLE result is `pointer` (a null or a number);
 * BOOL and DWORD results are `i32`/`u32`. Kernel handle values fit in 32 bits (the SDK's
 * documented rule that lets 32- and 64-bit processes share them), so aioloop carries handles
 * and sockets as plain numbers, as it carries fds on POSIX.
 */
import { openLibrary, osName, type SymbolSpec } from "./runtime.ts";

/** True when this process runs on Windows (natively or under Wine). */
export const isWindows: boolean = osName === "win32" || osName === "windows";

const symbols = {
  // ioapiset.h: HANDLE CreateIoCompletionPort(HANDLE FileHandle, HANDLE ExistingCompletionPort,
  //   ULONG_PTR CompletionKey, DWORD NumberOfConcurrentThreads)
  CreateIoCompletionPort: { args: ["usize", "usize", "usize", "u32"], result: "pointer" },
  // ioapiset.h: BOOL GetQueuedCompletionStatusEx(HANDLE CompletionPort,
  //   LPOVERLAPPED_ENTRY lpCompletionPortEntries, ULONG ulCount, PULONG ulNumEntriesRemoved,
  //   DWORD dwMilliseconds, BOOL fAlertable)
  GetQueuedCompletionStatusEx: {
    args: ["usize", "buffer", "u32", "buffer", "u32", "i32"], result: "i32",
  },
  // ioapiset.h: BOOL PostQueuedCompletionStatus(HANDLE CompletionPort,
  //   DWORD dwNumberOfBytesTransferred, ULONG_PTR dwCompletionKey, LPOVERLAPPED lpOverlapped)
  PostQueuedCompletionStatus: { args: ["usize", "u32", "usize", "usize"], result: "i32" },
  // ioapiset.h: BOOL CancelIoEx(HANDLE hFile, LPOVERLAPPED lpOverlapped)
  CancelIoEx: { args: ["usize", "usize"], result: "i32" },
  // ioapiset.h: BOOL GetOverlappedResult(HANDLE hFile, LPOVERLAPPED lpOverlapped,
  //   LPDWORD lpNumberOfBytesTransferred, BOOL bWait): a completed operation's error.
  GetOverlappedResult: { args: ["usize", "usize", "buffer", "i32"], result: "i32" },
  // handleapi.h: BOOL CloseHandle(HANDLE hObject)
  CloseHandle: { args: ["usize"], result: "i32" },
  // errhandlingapi.h: DWORD GetLastError(void). Read right after the failing call: nothing the
  // runtime does between two FFI calls was seen to change it (tests/windows check).
  GetLastError: { args: [], result: "u32" },
  // fileapi.h: BOOL ReadFile(HANDLE hFile, LPVOID lpBuffer, DWORD nNumberOfBytesToRead,
  //   LPDWORD lpNumberOfBytesRead, LPOVERLAPPED lpOverlapped)
  ReadFile: { args: ["usize", "usize", "u32", "buffer", "usize"], result: "i32" },
  // fileapi.h: BOOL WriteFile(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite,
  //   LPDWORD lpNumberOfBytesWritten, LPOVERLAPPED lpOverlapped)
  WriteFile: { args: ["usize", "usize", "u32", "buffer", "usize"], result: "i32" },
  // winbase.h: HANDLE CreateNamedPipeW(LPCWSTR lpName, DWORD dwOpenMode, DWORD dwPipeMode,
  //   DWORD nMaxInstances, DWORD nOutBufferSize, DWORD nInBufferSize, DWORD nDefaultTimeOut,
  //   LPSECURITY_ATTRIBUTES lpSecurityAttributes)
  CreateNamedPipeW: {
    args: ["buffer", "u32", "u32", "u32", "u32", "u32", "u32", "buffer"], result: "pointer",
  },
  // fileapi.h: HANDLE CreateFileW(LPCWSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
  //   LPSECURITY_ATTRIBUTES lpSecurityAttributes, DWORD dwCreationDisposition,
  //   DWORD dwFlagsAndAttributes, HANDLE hTemplateFile)
  CreateFileW: {
    args: ["buffer", "u32", "u32", "buffer", "u32", "u32", "usize"], result: "pointer",
  },
  // processthreadsapi.h: DWORD GetCurrentProcessId(void)
  GetCurrentProcessId: { args: [], result: "u32" },
  // handleapi.h: BOOL GetHandleInformation(HANDLE hObject, LPDWORD lpdwFlags): fails for a
  // value that is not an open handle (tests use it to list the process's handles)
  GetHandleInformation: { args: ["usize", "buffer"], result: "i32" },
} as const satisfies Record<string, SymbolSpec>;

type Kernel32 = ReturnType<typeof openLibrary<typeof symbols>>["symbols"];
let bound: Kernel32 | undefined;

/** kernel32's functions, bound on the first call (Error off Windows). */
export function kernel32(): Kernel32 {
  if (bound) return bound;
  if (!isWindows) throw new Error(`kernel32.dll exists only on Windows, not ${osName}`);
  bound = openLibrary("kernel32.dll", symbols).symbols;
  return bound;
}

// ---- Layouts (x64) ------------------------------------------------------------------------------

/**
 * minwinbase.h: `typedef struct _OVERLAPPED { ULONG_PTR Internal; ULONG_PTR InternalHigh;
 * union { struct { DWORD Offset; DWORD OffsetHigh; }; PVOID Pointer; }; HANDLE hEvent; }`:
 * 32 bytes. Internal holds the NTSTATUS of the operation (STATUS_PENDING while in flight),
 * InternalHigh the bytes transferred.
 */
export const OVERLAPPED_SIZE = 32;
export const OVERLAPPED_INTERNAL = 0;
export const OVERLAPPED_INTERNAL_HIGH = 8;
export const OVERLAPPED_OFFSET = 16;
export const OVERLAPPED_EVENT = 24;

/**
 * minwinbase.h: `typedef struct _OVERLAPPED_ENTRY { ULONG_PTR lpCompletionKey;
 * LPOVERLAPPED lpOverlapped; ULONG_PTR Internal; DWORD dwNumberOfBytesTransferred; }`:
 * 28 bytes of fields, 32 with the tail padding that aligns the array to 8.
 */
export const OVERLAPPED_ENTRY_SIZE = 32;
export const ENTRY_KEY = 0;
export const ENTRY_OVERLAPPED = 8;
export const ENTRY_INTERNAL = 16;
export const ENTRY_BYTES = 24;

// ---- Constants ------------------------------------------------------------------------------------

/** handleapi.h: `#define INVALID_HANDLE_VALUE ((HANDLE)(LONG_PTR)-1)`. */
export const INVALID_HANDLE_VALUE = -1;
/** winbase.h: `#define INFINITE 0xFFFFFFFF` (a DWORD timeout). */
export const INFINITE = 0xffffffff;

// winerror.h: the system error codes the proactor reacts to.
/** winerror.h: `ERROR_INVALID_HANDLE` 6L. */
export const ERROR_INVALID_HANDLE = 6;
/** winerror.h: `ERROR_HANDLE_EOF` 38L. */
export const ERROR_HANDLE_EOF = 38;
/** winerror.h: `ERROR_NETNAME_DELETED` 64L (the peer reset a connection under an operation). */
export const ERROR_NETNAME_DELETED = 64;
/** winerror.h: `ERROR_INVALID_PARAMETER` 87L. */
export const ERROR_INVALID_PARAMETER = 87;
/** winerror.h: `ERROR_BROKEN_PIPE` 109L (the other end of a pipe closed). */
export const ERROR_BROKEN_PIPE = 109;
/** winerror.h: `ERROR_NO_DATA` 232L ("The pipe is being closed": its reader is gone). */
export const ERROR_NO_DATA = 232;
/** winerror.h: `ERROR_PIPE_NOT_CONNECTED` 233L. */
export const ERROR_PIPE_NOT_CONNECTED = 233;
/** winerror.h: `ERROR_MORE_DATA` 234L (a message or datagram did not fit). */
export const ERROR_MORE_DATA = 234;
/** winerror.h: `WAIT_TIMEOUT` 258L. */
export const WAIT_TIMEOUT = 258;
/** winerror.h: `ERROR_PIPE_CONNECTED` 535L (a client connected before ConnectNamedPipe). */
export const ERROR_PIPE_CONNECTED = 535;
/** winerror.h: `ERROR_OPERATION_ABORTED` 995L (= WSA_OPERATION_ABORTED): cancelled. */
export const ERROR_OPERATION_ABORTED = 995;
/** winerror.h: `ERROR_IO_PENDING` 997L (= WSA_IO_PENDING): the operation was queued. */
export const ERROR_IO_PENDING = 997;
/** winerror.h: `ERROR_NOT_FOUND` 1168L (CancelIoEx: nothing to cancel, it completed). */
export const ERROR_NOT_FOUND = 1168;
/** winerror.h: `ERROR_CONNECTION_REFUSED` 1225L. */
export const ERROR_CONNECTION_REFUSED = 1225;
/** winerror.h: `ERROR_PORT_UNREACHABLE` 1234L (ICMP port unreachable on a UDP socket). */
export const ERROR_PORT_UNREACHABLE = 1234;
/** winerror.h: `ERROR_CONNECTION_ABORTED` 1236L. */
export const ERROR_CONNECTION_ABORTED = 1236;

// Named pipes: winbase.h (open and pipe modes), winnt.h (access rights), fileapi.h.
/** winbase.h: `PIPE_ACCESS_INBOUND` 0x00000001. */
export const PIPE_ACCESS_INBOUND = 0x1;
/** winbase.h: `PIPE_ACCESS_OUTBOUND` 0x00000002. */
export const PIPE_ACCESS_OUTBOUND = 0x2;
/** winbase.h: `PIPE_ACCESS_DUPLEX` 0x00000003. */
export const PIPE_ACCESS_DUPLEX = 0x3;
/** winbase.h: `FILE_FLAG_OVERLAPPED` 0x40000000. */
export const FILE_FLAG_OVERLAPPED = 0x40000000;
/** winbase.h: `FILE_FLAG_FIRST_PIPE_INSTANCE` 0x00080000. */
export const FILE_FLAG_FIRST_PIPE_INSTANCE = 0x00080000;
/** winbase.h: `PIPE_TYPE_BYTE` 0, `PIPE_READMODE_BYTE` 0, `PIPE_WAIT` 0. */
export const PIPE_TYPE_BYTE = 0;
/** winbase.h: `PIPE_REJECT_REMOTE_CLIENTS` 0x00000008. */
export const PIPE_REJECT_REMOTE_CLIENTS = 0x8;
/** winnt.h: `GENERIC_READ` 0x80000000L. */
export const GENERIC_READ = 0x80000000;
/** winnt.h: `GENERIC_WRITE` 0x40000000L. */
export const GENERIC_WRITE = 0x40000000;
/** fileapi.h: `OPEN_EXISTING` 3. */
export const OPEN_EXISTING = 3;

/** A NUL-terminated UTF-16LE string (the W functions' LPCWSTR). */
export function wideString(s: string): Uint16Array {
  const out = new Uint16Array(s.length + 1);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
