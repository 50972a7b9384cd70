/**
 * Picks this OS's Proactor (completion I/O engine). The only module above platform/ that names
 * one: io_uring on Linux; I/O completion ports on Windows (platform/windows.ts).
 *
 * Only this OS's engine is loaded (a dynamic import at module load): the io_uring module binds
 * Linux's C library when imported, which does not exist on Windows.
 */
import { isWindows, osName } from "../ffi/runtime.ts";
import { NotImplementedError } from "../loop/core/errors.ts";
import type { Proactor } from "../loop/proactor/proactor.ts";

interface Engine {
  unavailableReason(): string | null;
  create(): Proactor;
}

const engine: Engine | null = isWindows
  ? await import("./windows.ts").then((m) => ({
    unavailableReason: m.iocpUnavailableReason,
    create: () => new m.IocpProactor(),
  }))
  : osName === "linux"
  ? await import("./io_uring.ts").then((m) => ({
    unavailableReason: () => {
      const why = m.ioUringUnavailableReason();
      return why === null ? null : `io_uring is unavailable: ${why}`;
    },
    create: () => new m.IoUringProactor(),
  }))
  : null;

/**
 * True where the proactor loop is the default event loop: Windows, as in asyncio (its
 * selector loop needs readiness polling, which IOCP does not give).
 */
export const proactorIsDefault: boolean = isWindows;

/** null if this OS and kernel can run a Proactor here; otherwise why not, in one sentence. */
export function proactorUnavailableReason(): string | null {
  if (engine === null) {
    return `aioloop has no proactor for ${osName} yet (io_uring on Linux and IOCP on Windows are supported)`;
  }
  return engine.unavailableReason();
}

/** A new Proactor for this OS; NotImplementedError (with the reason) where there is none. */
export function defaultProactor(): Proactor {
  const why = proactorUnavailableReason();
  if (why !== null) throw new NotImplementedError(`the proactor event loop cannot run here: ${why}`);
  return engine!.create();
}
