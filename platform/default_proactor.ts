/**
 * Picks this OS's Proactor (completion I/O engine). The only module above platform/ that names
 * one: io_uring on Linux; I/O completion ports on Windows (platform/windows.ts).
 */
import { osName } from "../ffi/runtime.ts";
import { NotImplementedError } from "../loop/errors.ts";
import type { Proactor } from "../loop/proactor.ts";
import { ioUringUnavailableReason, IoUringProactor } from "./io_uring.ts";
import { IocpProactor } from "./windows.ts";

const isWindows = osName === "win32" || osName === "windows";

/** null if this OS and kernel can run a Proactor here; otherwise why not, in one sentence. */
export function proactorUnavailableReason(): string | null {
  if (isWindows) return null;
  if (osName !== "linux") {
    return `aioloop has no proactor for ${osName} yet (io_uring on Linux and IOCP on Windows are supported)`;
  }
  const why = ioUringUnavailableReason();
  return why === null ? null : `io_uring is unavailable: ${why}`;
}

/** A new Proactor for this OS; NotImplementedError (with the reason) where there is none. */
export function defaultProactor(): Proactor {
  const why = proactorUnavailableReason();
  if (why !== null) throw new NotImplementedError(`the proactor event loop cannot run here: ${why}`);
  return isWindows ? new IocpProactor() : new IoUringProactor();
}
