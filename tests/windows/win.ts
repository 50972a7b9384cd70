/** kernel32 pieces the Windows cases use directly (named pipes, handle checks). */
export {
  FILE_FLAG_FIRST_PIPE_INSTANCE, FILE_FLAG_OVERLAPPED, GENERIC_READ, GENERIC_WRITE, kernel32,
  OPEN_EXISTING, PIPE_ACCESS_DUPLEX, PIPE_REJECT_REMOTE_CLIENTS, PIPE_TYPE_BYTE, wideString,
} from "../../ffi/kernel32.ts";
import { kernel32 } from "../../ffi/kernel32.ts";

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
