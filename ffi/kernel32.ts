/**
 * kernel32.dll: the I/O completion port calls, overlapped file I/O and named pipes, with the
 * x64 layouts of OVERLAPPED and OVERLAPPED_ENTRY; processes (CreateProcessW with STARTUPINFOW,
 * PROCESS_INFORMATION and SECURITY_ATTRIBUTES) and the job objects that report their exits. Bound on first use (never on a POSIX system).
 *
 * Prototypes and constants are the Windows SDK's; each cites its header. Type mapping: HANDLE,
 * SOCKET and ULONG_PTR arguments are `usize`; a HANDLE result is `pointer` (a null or a number);
 * BOOL and DWORD results are `i32`/`u32`. Kernel handle values fit in 32 bits (the SDK's
 * documented rule that lets 32- and 64-bit processes share them), so aioloop carries handles
 * and sockets as plain numbers, as it carries fds on POSIX.
 */
import { isWindows, openLibrary, osName, type SymbolSpec } from "./runtime.ts";

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

  // Processes (learn.microsoft.com/windows/win32/api/processthreadsapi/).
  // processthreadsapi.h: BOOL CreateProcessW(LPCWSTR lpApplicationName, LPWSTR lpCommandLine,
  //   LPSECURITY_ATTRIBUTES lpProcessAttributes, LPSECURITY_ATTRIBUTES lpThreadAttributes,
  //   BOOL bInheritHandles, DWORD dwCreationFlags, LPVOID lpEnvironment,
  //   LPCWSTR lpCurrentDirectory, LPSTARTUPINFOW lpStartupInfo,
  //   LPPROCESS_INFORMATION lpProcessInformation). lpCommandLine must be writable.
  CreateProcessW: {
    args: ["buffer", "buffer", "buffer", "buffer", "i32", "u32", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  // processthreadsapi.h: DWORD ResumeThread(HANDLE hThread): the previous suspend count, or
  // (DWORD)-1 on failure.
  ResumeThread: { args: ["usize"], result: "u32" },
  // processthreadsapi.h: BOOL TerminateProcess(HANDLE hProcess, UINT uExitCode)
  TerminateProcess: { args: ["usize", "u32"], result: "i32" },
  // processthreadsapi.h: BOOL GetExitCodeProcess(HANDLE hProcess, LPDWORD lpExitCode):
  // STILL_ACTIVE while the process runs.
  GetExitCodeProcess: { args: ["usize", "buffer"], result: "i32" },
  // processenv.h: HANDLE GetStdHandle(DWORD nStdHandle): null if the process has none.
  GetStdHandle: { args: ["u32"], result: "pointer" },
  // handleapi.h: BOOL DuplicateHandle(HANDLE hSourceProcessHandle, HANDLE hSourceHandle,
  //   HANDLE hTargetProcessHandle, LPHANDLE lpTargetHandle, DWORD dwDesiredAccess,
  //   BOOL bInheritHandle, DWORD dwOptions)
  DuplicateHandle: { args: ["usize", "usize", "usize", "buffer", "u32", "i32", "u32"], result: "i32" },
  // The attribute list of STARTUPINFOEXW (learn.microsoft.com/windows/win32/api/
  // processthreadsapi/nf-processthreadsapi-initializeprocthreadattributelist):
  // processthreadsapi.h: BOOL InitializeProcThreadAttributeList(
  //   LPPROC_THREAD_ATTRIBUTE_LIST lpAttributeList, DWORD dwAttributeCount, DWORD dwFlags,
  //   PSIZE_T lpSize): with a null list, only the size it needs (FALSE, ERROR_INSUFFICIENT_BUFFER).
  InitializeProcThreadAttributeList: { args: ["usize", "u32", "u32", "buffer"], result: "i32" },
  // processthreadsapi.h: BOOL UpdateProcThreadAttribute(LPPROC_THREAD_ATTRIBUTE_LIST
  //   lpAttributeList, DWORD dwFlags, DWORD_PTR Attribute, PVOID lpValue, SIZE_T cbSize,
  //   PVOID lpPreviousValue, PSIZE_T lpReturnSize). The list keeps lpValue's address: its
  //   memory must live until DeleteProcThreadAttributeList.
  UpdateProcThreadAttribute: {
    args: ["usize", "u32", "usize", "usize", "usize", "usize", "usize"], result: "i32",
  },
  // processthreadsapi.h: void DeleteProcThreadAttributeList(LPPROC_THREAD_ATTRIBUTE_LIST)
  DeleteProcThreadAttributeList: { args: ["usize"], result: "void" },
  // Job objects (learn.microsoft.com/windows/win32/api/jobapi2/): the exit notifications.
  // jobapi2.h: HANDLE CreateJobObjectW(LPSECURITY_ATTRIBUTES lpJobAttributes, LPCWSTR lpName)
  CreateJobObjectW: { args: ["buffer", "buffer"], result: "pointer" },
  // jobapi2.h: BOOL SetInformationJobObject(HANDLE hJob,
  //   JOBOBJECTINFOCLASS JobObjectInformationClass, LPVOID lpJobObjectInformation,
  //   DWORD cbJobObjectInformationLength); the enum is an int.
  SetInformationJobObject: { args: ["usize", "i32", "buffer", "u32"], result: "i32" },
  // jobapi2.h: BOOL AssignProcessToJobObject(HANDLE hJob, HANDLE hProcess)
  AssignProcessToJobObject: { args: ["usize", "usize"], result: "i32" },
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

/**
 * minwinbase.h: `typedef struct _SECURITY_ATTRIBUTES { DWORD nLength;
 * LPVOID lpSecurityDescriptor; BOOL bInheritHandle; }`: 24 bytes on x64 (the pointer is
 * aligned to 8). learn.microsoft.com/previous-versions/windows/desktop/legacy/aa379560(v=vs.85)
 */
export const SECURITY_ATTRIBUTES_SIZE = 24;
export const SA_LENGTH = 0;
export const SA_DESCRIPTOR = 8;
export const SA_INHERIT_HANDLE = 16;

/**
 * processthreadsapi.h: `typedef struct _STARTUPINFOW { DWORD cb; LPWSTR lpReserved;
 * LPWSTR lpDesktop; LPWSTR lpTitle; DWORD dwX, dwY, dwXSize, dwYSize, dwXCountChars,
 * dwYCountChars, dwFillAttribute, dwFlags; WORD wShowWindow; WORD cbReserved2;
 * LPBYTE lpReserved2; HANDLE hStdInput, hStdOutput, hStdError; }`: 104 bytes on x64
 * (learn.microsoft.com/windows/win32/api/processthreadsapi/ns-processthreadsapi-startupinfow).
 * Offsets: cb 0, the three strings 8/16/24, the eight DWORDs 32…60 (dwFlags 60), the two WORDs
 * 64/66, lpReserved2 72, the handles 80/88/96.
 */
export const STARTUPINFOW_SIZE = 104;
export const SI_CB = 0;
export const SI_FLAGS = 60;
export const SI_STD_INPUT = 80;
export const SI_STD_OUTPUT = 88;
export const SI_STD_ERROR = 96;

/**
 * winbase.h: `typedef struct _STARTUPINFOEXW { STARTUPINFOW StartupInfo;
 * LPPROC_THREAD_ATTRIBUTE_LIST lpAttributeList; }`: 112 bytes on x64, the list's address at
 * 104 (learn.microsoft.com/windows/win32/api/winbase/ns-winbase-startupinfoexw). CreateProcessW
 * reads it when dwCreationFlags has EXTENDED_STARTUPINFO_PRESENT and cb is its size.
 */
export const STARTUPINFOEXW_SIZE = 112;
export const SIEX_ATTRIBUTE_LIST = 104;

/**
 * processthreadsapi.h: `typedef struct _PROCESS_INFORMATION { HANDLE hProcess;
 * HANDLE hThread; DWORD dwProcessId; DWORD dwThreadId; }`: 24 bytes on x64
 * (learn.microsoft.com/windows/win32/api/processthreadsapi/ns-processthreadsapi-process_information).
 */
export const PROCESS_INFORMATION_SIZE = 24;
export const PI_PROCESS = 0;
export const PI_THREAD = 8;
export const PI_PROCESS_ID = 16;

/**
 * winnt.h: `typedef struct _JOBOBJECT_ASSOCIATE_COMPLETION_PORT { PVOID CompletionKey;
 * HANDLE CompletionPort; }`: 16 bytes (learn.microsoft.com/windows/win32/api/winnt/
 * ns-winnt-jobobject_associate_completion_port). The port then receives the job's messages:
 * the key given here, the message number as the bytes transferred, the process id in place of
 * the OVERLAPPED pointer.
 */
export const JOBOBJECT_ASSOCIATE_COMPLETION_PORT_SIZE = 16;

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

// Processes: winbase.h's process creation flags (learn.microsoft.com/windows/win32/procthread/
// process-creation-flags), processthreadsapi.h's STARTUPINFO flags, processenv.h, winnt.h.
/** winbase.h: `CREATE_SUSPENDED` 0x00000004 (the primary thread waits for ResumeThread). */
export const CREATE_SUSPENDED = 0x4;
/** winbase.h: `CREATE_UNICODE_ENVIRONMENT` 0x00000400 (lpEnvironment holds UTF-16). */
export const CREATE_UNICODE_ENVIRONMENT = 0x400;
/** winbase.h: `EXTENDED_STARTUPINFO_PRESENT` 0x00080000 (lpStartupInfo is a STARTUPINFOEXW). */
export const EXTENDED_STARTUPINFO_PRESENT = 0x80000;
/**
 * winbase.h: `PROC_THREAD_ATTRIBUTE_HANDLE_LIST` = ProcThreadAttributeValue(
 * ProcThreadAttributeHandleList (2), FALSE, TRUE, FALSE) = 0x00020002: the value is an array of
 * HANDLEs, the only inheritable handles the child inherits.
 */
export const PROC_THREAD_ATTRIBUTE_HANDLE_LIST = 0x20002;
/** processthreadsapi.h (winbase.h before): `STARTF_USESTDHANDLES` 0x00000100. */
export const STARTF_USESTDHANDLES = 0x100;
/** minwinbase.h: `STILL_ACTIVE` STATUS_PENDING (259): GetExitCodeProcess of a running process. */
export const STILL_ACTIVE = 259;
/** processenv.h: `STD_INPUT_HANDLE` ((DWORD)-10), as the u32 GetStdHandle takes. */
export const STD_INPUT_HANDLE = 0xfffffff6;
/** processenv.h: `STD_OUTPUT_HANDLE` ((DWORD)-11). */
export const STD_OUTPUT_HANDLE = 0xfffffff5;
/** processenv.h: `STD_ERROR_HANDLE` ((DWORD)-12). */
export const STD_ERROR_HANDLE = 0xfffffff4;
/**
 * GetCurrentProcess()'s pseudo handle, documented as "currently (HANDLE)-1"
 * (learn.microsoft.com/windows/win32/api/processthreadsapi/nf-processthreadsapi-getcurrentprocess).
 */
export const CURRENT_PROCESS = -1;
/** winnt.h: `DUPLICATE_CLOSE_SOURCE` 0x00000001 (DuplicateHandle closes the source handle). */
export const DUPLICATE_CLOSE_SOURCE = 0x1;
/** winnt.h: `DUPLICATE_SAME_ACCESS` 0x00000002. */
export const DUPLICATE_SAME_ACCESS = 0x2;
/** winnt.h: `FILE_SHARE_READ` 0x00000001. */
export const FILE_SHARE_READ = 0x1;
/** winnt.h: `FILE_SHARE_WRITE` 0x00000002. */
export const FILE_SHARE_WRITE = 0x2;
/** winnt.h: `FILE_WRITE_ATTRIBUTES` 0x0100 (lets a pipe client call SetNamedPipeHandleState). */
export const FILE_WRITE_ATTRIBUTES = 0x100;
/** winnt.h: JOBOBJECTINFOCLASS `JobObjectAssociateCompletionPortInformation` = 7. */
export const JobObjectAssociateCompletionPortInformation = 7;
/** winnt.h: `JOB_OBJECT_MSG_EXIT_PROCESS` 7 (a process of the job exited). */
export const JOB_OBJECT_MSG_EXIT_PROCESS = 7;
/** winnt.h: `JOB_OBJECT_MSG_ABNORMAL_EXIT_PROCESS` 8 (it exited with an exception's code). */
export const JOB_OBJECT_MSG_ABNORMAL_EXIT_PROCESS = 8;
/** winerror.h: `ERROR_FILE_NOT_FOUND` 2L. */
export const ERROR_FILE_NOT_FOUND = 2;
/** winerror.h: `ERROR_PATH_NOT_FOUND` 3L. */
export const ERROR_PATH_NOT_FOUND = 3;
/** winerror.h: `ERROR_ACCESS_DENIED` 5L. */
export const ERROR_ACCESS_DENIED = 5;
/** winerror.h: `ERROR_BAD_EXE_FORMAT` 193L. */
export const ERROR_BAD_EXE_FORMAT = 193;
/** winerror.h: `ERROR_FILENAME_EXCED_RANGE` 206L (a command line over 32767 characters). */
export const ERROR_FILENAME_EXCED_RANGE = 206;
/** winerror.h: `ERROR_DIRECTORY` 267L ("The directory name is invalid": a bad cwd). */
export const ERROR_DIRECTORY = 267;

/** A NUL-terminated UTF-16LE string (the W functions' LPCWSTR). */
export function wideString(s: string): Uint16Array {
  const out = new Uint16Array(s.length + 1);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
