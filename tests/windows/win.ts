/** kernel32 pieces the Windows cases use directly (named pipes, handle checks). */
export {
  FILE_FLAG_FIRST_PIPE_INSTANCE, FILE_FLAG_OVERLAPPED, GENERIC_READ, GENERIC_WRITE, kernel32,
  OPEN_EXISTING, PIPE_ACCESS_DUPLEX, PIPE_REJECT_REMOTE_CLIENTS, PIPE_TYPE_BYTE, wideString,
} from "../../ffi/kernel32.ts";
import { kernel32 } from "../../ffi/kernel32.ts";
import { openLibrary } from "../../ffi/runtime.ts";

/** CloseHandle(handle): nonzero on success, 0 (GetLastError set) if it was not open. */
export function CloseHandle(handle: number): number {
  return kernel32().CloseHandle(handle);
}

/** The open handle values of this process (GetHandleInformation succeeds only for those). */
export function openHandles(): Set<number> {
  const k = kernel32(), flags = new Uint32Array(1), out = new Set<number>();
  for (let h = 4; h < 65536; h += 4) if (k.GetHandleInformation(h, flags)) out.add(h);
  return out;
}

// winternl.h: NTSTATUS NtQueryObject(HANDLE, OBJECT_INFORMATION_CLASS, PVOID, ULONG, PULONG).
const ObjectTypeInformation = 2;
type Ntdll = { NtQueryObject(h: number, cls: number, buf: Uint8Array, len: number, ret: Uint32Array): number };
let ntdll: Ntdll | undefined;

/**
 * The kind of object `handle` is ("Thread", "File", "IoCompletion", "Event"…), for messages
 * about handles a test left open; "?" if it cannot be asked. NtQueryObject writes an
 * OBJECT_TYPE_INFORMATION whose name (UTF-16, NUL-terminated) ends the bytes it returns, and
 * whose first USHORT is that name's length in bytes.
 */
export function handleTypeName(handle: number): string {
  ntdll ??= openLibrary("ntdll.dll", {
    NtQueryObject: { args: ["usize", "u32", "buffer", "u32", "buffer"], result: "i32" },
  }).symbols as unknown as Ntdll;
  const buf = new Uint8Array(1024), ret = new Uint32Array(1);
  if (ntdll!.NtQueryObject(handle, ObjectTypeInformation, buf, buf.byteLength, ret) !== 0) return "?";
  const nameBytes = buf[0] | (buf[1] << 8), end = ret[0] - 2;
  if (end - nameBytes < 0 || end > buf.byteLength) return "?";
  return String.fromCharCode(...new Uint16Array(buf.slice(end - nameBytes, end).buffer));
}
