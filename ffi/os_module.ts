/**
 * `os`: the fd functions of Python's os module, camelCased — open, read, readinto, write, close,
 * pipe, openpty, ttyname, isatty, get/setBlocking, get/setInheritable — and its O_* flags with
 * this OS's values (ffi/os/). For devices, ptys and pipes in a script that has only Deno's
 * --allow-ffi; the loop's transports and openFd() take the fds they return.
 *
 * Each call checks its arguments first (TypeError naming the argument, OverflowError for an
 * int out of C's range, ValueError for a path with a NUL), then makes the system call
 * (ffi/files.ts): OSError with errno on failure, BlockingIOError when a non-blocking fd would
 * block. As in Python, new fds are close-on-exec ("non-inheritable", PEP 446): open() adds
 * O_CLOEXEC, pipe() and openpty() set it.
 */
import { OverflowError, ValueError } from "./errors.ts";
import {
  closeFdChecked, fcntlInt, makePipe, makePty, openPath, readFd, requirePosix, ttyname, writeFd,
} from "./files.ts";
import {
  EINVAL, F_GETFD, F_SETFD, FD_CLOEXEC, isNonBlocking, O_CLOEXEC, osError, setNonBlocking,
} from "./libc.ts";
import { osTable } from "./os/current.ts";
import { isatty } from "./termios.ts";

/** What `os.write` and `os.readinto` take: bytes in any typed array, DataView or ArrayBuffer. */
export type BufferLike = ArrayBufferView | ArrayBuffer;

/** The functions and constants of {@link os} (Python's os module, the fd part). */
export interface OsModule {
  /**
   * Open `path` with `flags` (O_RDONLY, O_WRONLY or O_RDWR, or'ed with O_CREAT, O_NONBLOCK …)
   * and, for a new file, permission bits `mode` (default 0o777, less the umask); the new fd,
   * close-on-exec. OSError: ENOENT, EACCES, ENXIO …
   */
  open(path: string | Uint8Array, flags: number, mode?: number): number;
  /**
   * Read at most `n` bytes from `fd`: a Uint8Array of what was read, empty at end of file.
   * OSError EINVAL for a negative `n`, as Python; BlockingIOError (EAGAIN) if `fd` is non-blocking and has nothing to read; OSError (EBADF, EIO …).
   */
  read(fd: number, n: number): Uint8Array;
  /** Read into `buffer` (filled from its start, up to its length): the count, 0 at end of file. Errors as read. */
  readinto(fd: number, buffer: BufferLike): number;
  /**
   * Write `data` to `fd`: the number of bytes written, which may be fewer. BlockingIOError
   * (EAGAIN) if `fd` is non-blocking and full; OSError (EBADF, EPIPE …).
   */
  write(fd: number, data: BufferLike): number;
  /** Close `fd`. OSError EBADF if it is not open. */
  close(fd: number): void;
  /** A new pipe: [read end, write end], both close-on-exec and blocking. */
  pipe(): [number, number];
  /**
   * A new pseudo-terminal: [controller, terminal] (Python's [master, slave]), both close-on-exec
   * and blocking; the terminal side starts in canonical mode with echo (see setRaw).
   */
  openpty(): [number, number];
  /** The path of the terminal open on `fd` ("/dev/pts/3"). OSError ENOTTY if it is not a terminal. */
  ttyname(fd: number): string;
  /** True if `fd` is a terminal. */
  isatty(fd: number): boolean;
  /** Set (true) or clear (false) blocking mode: O_NONBLOCK cleared or set. OSError EBADF. */
  setBlocking(fd: number, blocking: boolean): void;
  /** False when O_NONBLOCK is set on `fd`. OSError EBADF. */
  getBlocking(fd: number): boolean;
  /** Whether a child process inherits `fd` (close-on-exec cleared). OSError EBADF. */
  setInheritable(fd: number, inheritable: boolean): void;
  /** True when `fd` is not close-on-exec. OSError EBADF. */
  getInheritable(fd: number): boolean;
  /** open(2) flag: read only. */
  readonly O_RDONLY: number;
  /** open(2) flag: write only. */
  readonly O_WRONLY: number;
  /** open(2) flag: read and write. */
  readonly O_RDWR: number;
  /** open(2) flag: every write appends. */
  readonly O_APPEND: number;
  /** open(2) flag: create the file if it does not exist. */
  readonly O_CREAT: number;
  /** open(2) flag: with O_CREAT, fail (EEXIST) if it exists. */
  readonly O_EXCL: number;
  /** open(2) flag: truncate a regular file to length 0. */
  readonly O_TRUNC: number;
  /** open(2) flag: a terminal does not become the process's controlling terminal. */
  readonly O_NOCTTY: number;
  /** open(2) flag: non-blocking reads and writes (what the loop's transports want). */
  readonly O_NONBLOCK: number;
  /** open(2) flag: close on exec (open() adds it anyway). */
  readonly O_CLOEXEC: number;
  /** open(2) flag: writes complete with data and metadata on disk. */
  readonly O_SYNC: number;
  /** open(2) flag: writes complete with data on disk. */
  readonly O_DSYNC: number;
  /** open(2) flag: fail (ENOTDIR) unless a directory. */
  readonly O_DIRECTORY: number;
  /** open(2) flag: fail (ELOOP) on a symbolic link. */
  readonly O_NOFOLLOW: number;
}

/** A short description of `value` for an error message. */
function what(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  if (typeof value === "string") return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  return `${typeof value} ${String(value)}`;
}

/** `value` as a C int, or TypeError/OverflowError naming `fn`'s argument `name`. */
export function intArg(fn: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${fn}: ${name} must be an integer, got ${what(value)}`);
  }
  if (value < -0x80000000 || value > 0x7fffffff) {
    throw new OverflowError(`${fn}: ${name} ${value} does not fit in a C int`);
  }
  return value;
}

/** The bytes of `value` as a Uint8Array view, or TypeError naming `fn`'s argument `name`. */
export function bytesArg(fn: string, name: string, value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new TypeError(`${fn}: ${name} must be bytes (a Uint8Array, typed array or ArrayBuffer), got ${what(value)}`);
}

function boolArg(fn: string, name: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new TypeError(`${fn}: ${name} must be a boolean, got ${what(value)}`);
  return value;
}

const encoder = new TextEncoder();

/** `path` as NUL-terminated bytes; ValueError for an embedded NUL, as Python. */
function pathArg(fn: string, path: unknown): Uint8Array {
  let bytes: Uint8Array;
  if (typeof path === "string") bytes = encoder.encode(path);
  else if (path instanceof Uint8Array) bytes = path;
  else throw new TypeError(`${fn}: path must be a string or a Uint8Array, got ${what(path)}`);
  if (bytes.includes(0)) throw new ValueError(`${fn}: embedded null byte in path`);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** The largest count one read(2)/write(2) is asked for: results are read as 32-bit (ffi/runtime.ts). */
const MAX_COUNT = 0x7fffffff;

const C = osTable.constants;

/**
 * Python's os module, the fd part (see {@link OsModule}): `os.open`, `os.read`, `os.write`,
 * `os.close`, `os.pipe`, `os.openpty`, `os.setBlocking` … and the O_* flags.
 */
export const os: OsModule = Object.freeze({
  open(path: string | Uint8Array, flags: number, mode: number = 0o777): number {
    const bytes = pathArg("os.open", path);
    intArg("os.open", "flags", flags);
    intArg("os.open", "mode", mode);
    const name = typeof path === "string" ? path : new TextDecoder().decode(path);
    return openPath(bytes, flags | O_CLOEXEC, mode, `open ${JSON.stringify(name)}`);
  },
  read(fd: number, n: number): Uint8Array {
    intArg("os.read", "fd", fd);
    if (typeof n !== "number" || !Number.isInteger(n)) {
      throw new TypeError(`os.read: n must be an integer, got ${what(n)}`);
    }
    // Python's os.read says EINVAL too (read(2) of a negative count).
    if (n < 0) throw osError(`os.read: n must be >= 0, got ${n}`, EINVAL);
    const buf = new Uint8Array(Math.min(n, MAX_COUNT));
    const got = readFd(fd, buf, buf.length);
    // A short read keeps only what it needs, as Python's bytes would.
    return got === buf.length ? buf : got * 2 < buf.length ? buf.slice(0, got) : buf.subarray(0, got);
  },
  readinto(fd: number, buffer: BufferLike): number {
    intArg("os.readinto", "fd", fd);
    const view = bytesArg("os.readinto", "buffer", buffer);
    return readFd(fd, view, Math.min(view.length, MAX_COUNT));
  },
  write(fd: number, data: BufferLike): number {
    intArg("os.write", "fd", fd);
    const view = bytesArg("os.write", "data", data);
    return writeFd(fd, view, Math.min(view.length, MAX_COUNT));
  },
  close(fd: number): void {
    closeFdChecked(intArg("os.close", "fd", fd));
  },
  pipe: makePipe,
  openpty: makePty,
  ttyname(fd: number): string {
    return ttyname(intArg("os.ttyname", "fd", fd));
  },
  isatty(fd: number): boolean {
    intArg("os.isatty", "fd", fd);
    requirePosix("os.isatty");
    return isatty(fd);
  },
  setBlocking(fd: number, blocking: boolean): void {
    intArg("os.setBlocking", "fd", fd);
    requirePosix("os.setBlocking");
    setNonBlocking(fd, !boolArg("os.setBlocking", "blocking", blocking));
  },
  getBlocking(fd: number): boolean {
    intArg("os.getBlocking", "fd", fd);
    requirePosix("os.getBlocking");
    return !isNonBlocking(fd);
  },
  setInheritable(fd: number, inheritable: boolean): void {
    intArg("os.setInheritable", "fd", fd);
    const flags = fcntlInt(fd, F_GETFD, 0);
    const wanted = boolArg("os.setInheritable", "inheritable", inheritable)
      ? flags & ~FD_CLOEXEC
      : flags | FD_CLOEXEC;
    if (wanted !== flags) fcntlInt(fd, F_SETFD, wanted);
  },
  getInheritable(fd: number): boolean {
    return (fcntlInt(intArg("os.getInheritable", "fd", fd), F_GETFD, 0) & FD_CLOEXEC) === 0;
  },
  O_RDONLY: C.O_RDONLY!,
  O_WRONLY: C.O_WRONLY!,
  O_RDWR: C.O_RDWR!,
  O_APPEND: C.O_APPEND!,
  O_CREAT: C.O_CREAT!,
  O_EXCL: C.O_EXCL!,
  O_TRUNC: C.O_TRUNC!,
  O_NOCTTY: C.O_NOCTTY!,
  O_NONBLOCK: C.O_NONBLOCK!,
  O_CLOEXEC: C.O_CLOEXEC!,
  O_SYNC: C.O_SYNC!,
  O_DSYNC: C.O_DSYNC!,
  O_DIRECTORY: C.O_DIRECTORY!,
  O_NOFOLLOW: C.O_NOFOLLOW!,
});
