/**
 * `fcntl`: Python's fcntl.fcntl and fcntl.ioctl, camelCased, with the F_* commands of this OS
 * (ffi/os/). ioctl(fd, request, arg) takes an int or a Uint8Array that the call fills in
 * place (Python's mutable-buffer form): a TUN device's TUNSETIFF with a struct ifreq, a
 * terminal's TIOCGWINSZ with a struct winsize. Arguments are checked first (TypeError naming
 * the argument); a failed call is OSError with errno (ffi/files.ts).
 */
import { ValueError } from "./errors.ts";
import { fcntlBuffer, fcntlInt, ioctlBuffer, ioctlInt } from "./files.ts";
import { osTable } from "./os/current.ts";
import { bytesArg, intArg } from "./os_module.ts";

/** The functions and constants of {@link fcntl} (Python's fcntl module, fcntl and ioctl). */
export interface FcntlModule {
  /**
   * fcntl(2) command `cmd` on `fd`. With an int `arg` (default 0), the call's result (flags
   * for F_GETFL, a new fd for F_DUPFD …). With bytes (at most 1024, e.g. a struct flock), a
   * copy of them as the call left them, as Python returns. OSError (EBADF, EINVAL …).
   */
  fcntl(fd: number, cmd: number, arg?: number): number;
  /** fcntl(2) with a struct: see the int form. */
  fcntl(fd: number, cmd: number, arg: Uint8Array): Uint8Array;
  /**
   * ioctl(2) `request` on `fd` with an int `arg` (default 0) or a Uint8Array the call reads and
   * fills in place (a struct ifreq, a struct winsize …): the call's result, usually 0. OSError
   * (ENOTTY for a request the device does not know, EBADF, EPERM …).
   */
  ioctl(fd: number, request: number, arg?: number | Uint8Array): number;
  /** fcntl(2): duplicate `fd` to the lowest free fd ≥ arg. */
  readonly F_DUPFD: number;
  /** fcntl(2): as F_DUPFD, the new fd close-on-exec. */
  readonly F_DUPFD_CLOEXEC: number;
  /** fcntl(2): the fd flags (FD_CLOEXEC). */
  readonly F_GETFD: number;
  /** fcntl(2): set the fd flags. */
  readonly F_SETFD: number;
  /** fcntl(2): the file status flags (O_NONBLOCK, O_APPEND, the access mode). */
  readonly F_GETFL: number;
  /** fcntl(2): set the file status flags (O_NONBLOCK, O_APPEND …). */
  readonly F_SETFL: number;
  /** The close-on-exec fd flag (F_GETFD/F_SETFD). */
  readonly FD_CLOEXEC: number;
}

/** Python's limit on fcntl/ioctl's immutable buffer argument. */
const MAX_FCNTL_BUFFER = 1024;

/** An ioctl request: an unsigned long in C; negative ints are taken as their unsigned 32-bit value, as Python's. */
function requestArg(request: unknown): number {
  if (typeof request !== "number" || !Number.isInteger(request)) {
    intArg("fcntl.ioctl", "request", request); // throws the TypeError
  }
  const r = request as number;
  if (r < -0x80000000 || r > 0xffffffff) intArg("fcntl.ioctl", "request", r); // OverflowError
  return r >>> 0;
}

function fcntlCall(fd: number, cmd: number, arg?: number | Uint8Array): number | Uint8Array {
  intArg("fcntl.fcntl", "fd", fd);
  intArg("fcntl.fcntl", "cmd", cmd);
  if (arg === undefined) return fcntlInt(fd, cmd, 0);
  if (typeof arg === "number") return fcntlInt(fd, cmd, intArg("fcntl.fcntl", "arg", arg));
  const bytes = bytesArg("fcntl.fcntl", "arg (an integer or bytes)", arg);
  if (bytes.length > MAX_FCNTL_BUFFER) throw new ValueError("fcntl.fcntl: arg is longer than 1024 bytes");
  const copy = bytes.slice();
  fcntlBuffer(fd, cmd, copy);
  return copy;
}

const C = osTable.constants;

/** Python's fcntl module: fcntl(), ioctl() and the F_* commands (see {@link FcntlModule}). */
export const fcntl: FcntlModule = Object.freeze({
  fcntl: fcntlCall as FcntlModule["fcntl"],
  ioctl(fd: number, request: number, arg: number | Uint8Array = 0): number {
    intArg("fcntl.ioctl", "fd", fd);
    const req = requestArg(request);
    if (typeof arg === "number") return ioctlInt(fd, req, intArg("fcntl.ioctl", "arg", arg));
    if (!(arg instanceof Uint8Array)) {
      throw new TypeError(
        `fcntl.ioctl: arg must be an integer or a Uint8Array to fill in place, got ${arg === null ? "null" : typeof arg}`,
      );
    }
    return ioctlBuffer(fd, req, arg);
  },
  F_DUPFD: C.F_DUPFD!,
  F_DUPFD_CLOEXEC: C.F_DUPFD_CLOEXEC!,
  F_GETFD: C.F_GETFD!,
  F_SETFD: C.F_SETFD!,
  F_GETFL: C.F_GETFL!,
  F_SETFL: C.F_SETFL!,
  FD_CLOEXEC: C.FD_CLOEXEC!,
});
