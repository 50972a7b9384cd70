/**
 * Files, devices and pipes by fd, through the C library: what Python's `os` and `fcntl`
 * modules call (open(2), read(2), write(2), pipe(2), openpty(3), ttyname_r(3), fcntl(2),
 * ioctl(2)), with C's conventions turned into exceptions — OSError with errno, and
 * BlockingIOError for EAGAIN — and EINTR retried as Python does (PEP 475). Numbers in,
 * numbers out: argument checking is the job of ffi/os_module.ts and ffi/fcntl_module.ts.
 * Also reading a regular file by fd for loop.sendfile's fallback (loop/net/sendfile.ts).
 *
 * Going through the C library means any fd works and Deno needs only --allow-ffi: Deno's
 * node:fs knows only the fds it opened itself, and opening a device with it needs all
 * permissions. On Windows no C library is bound: the calls raise NotImplementedError there,
 * except isRegularFile/readAt, which go through node:fs.
 *
 * open(2), fcntl(2) and ioctl(2) are variadic: see ffi/libc.ts on binding them for Apple's
 * arm64 ABI, where the variadic argument goes on the stack. The variants with a buffer
 * argument (ioctl with a struct, fcntl with a struct flock) are separate bindings, each in its
 * own library handle, since bun:ffi binds one signature per C name and handle.
 */
import { fstatSync, readSync } from "node:fs";
import { BlockingIOError, NotImplementedError, type OSError } from "./errors.ts";
import { check, EAGAIN, EINTR, lastErrno, libc, libcPath, O_CLOEXEC, osError, setCloseOnExec } from "./libc.ts";
import { osTable } from "./os/current.ts";
import {
  POLLFD_EVENTS16, POLLFD_FD32, POLLFD_REVENTS16, POLLFD_SIZE, POLLIN, POLLOUT, pollLib,
} from "./poll.ts";
import type { OsTable } from "./os/table.ts";
import { type ArgType, isWindows, openLibrary, type SymbolSpec } from "./runtime.ts";
import { fileType, openpty as rawOpenpty, S_IFREG } from "./spawn.ts";

/** True if `fd` is a regular file; OSError (EBADF, …) if it cannot be asked. */
export function isRegularFile(fd: number): boolean {
  if (isWindows) return viaNodeFs("fstat", () => fstatSync(fd).isFile());
  return fileType(fd) === S_IFREG;
}

/** Read up to `length` bytes at `position` into `buf` (pread(2)): the count, 0 at EOF; OSError. */
export function readAt(fd: number, buf: Uint8Array, length: number, position: number): number {
  if (isWindows) return viaNodeFs("pread", () => readSync(fd, buf, 0, length, position));
  return check(libc.pread(fd, buf, length, position), "pread");
}

/**
 * Windows, where no C library is bound: a node:fs call, its error (an Error with `code`
 * "EBADF" …) raised as the OSError these functions promise.
 */
function viaNodeFs<T>(what: string, call: () => T): T {
  try {
    return call();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const errno = typeof code === "string" ? osTable.errno[code] : undefined;
    if (errno === undefined) throw e;
    throw osError(what, errno);
  }
}

// ---- Bindings -------------------------------------------------------------------------------

/**
 * A variadic C function with `named` fixed arguments and one variadic `value` (ffi/libc.ts):
 * as declared, or, where variadic arguments go on the stack (Apple arm64), with unused 64-bit
 * arguments filling the eight argument registers so that the value lands on the stack.
 */
export function variadicSpec(table: OsTable, named: readonly ArgType[], value: ArgType): SymbolSpec {
  if (!table.has.variadicOnStack) return { args: [...named, value], result: "i32" };
  const pad: ArgType[] = Array(8 - named.length).fill("usize");
  return { args: [...named, ...pad, value === "buffer" ? "buffer" : "usize"], result: "i32" };
}

/** The padding arguments a padded variadic binding takes before its value (0 unpadded). */
const padCount = (named: number) => osTable.has.variadicOnStack ? 8 - named : 0;

type Fn = (...args: unknown[]) => number;

/** Bind one C function on first use, each in its own handle (see the module comment). */
function lazy(name: string, spec: SymbolSpec): () => Fn {
  let fn: Fn | null = null;
  return () => {
    if (isWindows) {
      throw new NotImplementedError(`${name}(): aioloop binds no C library on Windows`);
    }
    fn ??= openLibrary(libcPath, { [name]: { ...spec, name } }).symbols[name] as Fn;
    return fn;
  };
}

// open(2): int open(const char *path, int flags, ... /* mode_t mode */); mode_t is promoted to
// unsigned int through `...`.
const openFn = lazy("open", variadicSpec(osTable, ["buffer", "i32"], "u32"));
// ioctl(2): int ioctl(int fd, unsigned long request, ...): the value an int or a pointer.
const ioctlIntFn = lazy("ioctl", variadicSpec(osTable, ["i32", "usize"], "i32"));
const ioctlBufFn = lazy("ioctl", variadicSpec(osTable, ["i32", "usize"], "buffer"));
// fcntl(2) with a pointer (struct flock, F_GETLK …); the int form is libc.fcntl.
const fcntlBufFn = lazy("fcntl", variadicSpec(osTable, ["i32", "i32"], "buffer"));
// access(2): int access(const char *path, int mode)
const accessFn = lazy("access", { args: ["buffer", "i32"], result: "i32" });
// ttyname_r(3): int ttyname_r(int fd, char *buf, size_t buflen), returns 0 or an errno.
const ttynameFn = lazy("ttyname_r", { args: ["i32", "buffer", "usize"], result: "i32" });

/** Call a padded-or-not variadic binding with its named arguments and value. */
function callVariadic(fn: Fn, named: unknown[], value: unknown): number {
  const pads = padCount(named.length);
  if (pads === 0) return fn(...named, value);
  return fn(...named, ...Array(pads).fill(0), value);
}

/** NotImplementedError naming `name` on Windows, where no C library is bound. */
export function requirePosix(name: string): void {
  if (isWindows) throw new NotImplementedError(`${name}(): aioloop binds no C library on Windows`);
}

// ---- Errors ---------------------------------------------------------------------------------

/** The OSError for the errno just set by `context`: BlockingIOError for EAGAIN, as Python. */
export function fdError(context: string, errno: number = lastErrno()): OSError {
  const error = osError(context, errno);
  if (errno !== EAGAIN) return error;
  return new BlockingIOError(error.errno, error.code, error.strerror, context);
}

/** Run `call` until it does not fail with EINTR (PEP 475); the result, or fdError. */
function retrying(context: string, call: () => number): number {
  for (;;) {
    const result = call();
    if (result >= 0) return result;
    const errno = lastErrno();
    if (errno !== EINTR) throw fdError(context, errno);
  }
}

// ---- Calls ----------------------------------------------------------------------------------

/**
 * open(2) of a NUL-terminated `path`; O_CLOEXEC is the caller's to add. The new fd; errors name
 * `context` (the path, as Python's do).
 */
export function openPath(path: Uint8Array, flags: number, mode: number, context = "open"): number {
  const open = openFn();
  return retrying(context, () => callVariadic(open, [path, flags], mode));
}

/** read(2) up to `length` bytes into `buf`: the count, 0 at EOF. */
export function readFd(fd: number, buf: Uint8Array, length: number): number {
  requirePosix("read");
  return retrying("read", () => libc.read(fd, buf, length));
}

/** write(2) the first `length` bytes of `buf`: the count written. */
export function writeFd(fd: number, buf: Uint8Array, length: number): number {
  requirePosix("write");
  return retrying("write", () => libc.write(fd, buf, length));
}

/** close(2), not retried on EINTR (close(2): the fd is gone either way). */
export function closeFdChecked(fd: number): void {
  requirePosix("close");
  check(libc.close(fd), "close");
}

/** A new pipe [read end, write end], both close-on-exec (pipe2(2), or pipe(2) + fcntl). */
export function makePipe(): [number, number] {
  requirePosix("pipe");
  const fds = new Int32Array(2);
  if (osTable.has.pipe2) {
    check(libc.pipe2(fds, O_CLOEXEC), "pipe2");
  } else {
    check(libc.pipe(fds), "pipe");
    for (const fd of fds) setCloseOnExec(fd);
  }
  const [r = -1, w = -1] = fds;
  return [r, w];
}

/** A new pseudo-terminal [controller, terminal] (openpty(3)), both close-on-exec. */
export function makePty(): [number, number] {
  requirePosix("openpty");
  const [controller, terminal] = rawOpenpty();
  setCloseOnExec(controller);
  setCloseOnExec(terminal);
  return [controller, terminal];
}

/** fcntl(2) with an int argument: its result. */
export function fcntlInt(fd: number, cmd: number, arg: number): number {
  requirePosix("fcntl");
  return retrying("fcntl", () => libc.fcntl(fd, cmd, arg));
}

/** fcntl(2) with a pointer to `buf`, which the call may fill: its result. */
export function fcntlBuffer(fd: number, cmd: number, buf: Uint8Array): number {
  const fcntl = fcntlBufFn();
  return retrying("fcntl", () => callVariadic(fcntl, [fd, cmd], buf));
}

/** ioctl(2) with an int argument: its result. */
export function ioctlInt(fd: number, request: number, arg: number): number {
  const ioctl = ioctlIntFn();
  // A padded binding passes the int in a 64-bit slot, read back as an int by va_arg.
  const value = osTable.has.variadicOnStack ? arg >>> 0 : arg;
  return retrying("ioctl", () => callVariadic(ioctl, [fd, request], value));
}

/** ioctl(2) with a pointer to `buf`, which the call may fill in place: its result. */
export function ioctlBuffer(fd: number, request: number, buf: Uint8Array): number {
  const ioctl = ioctlBufFn();
  return retrying("ioctl", () => callVariadic(ioctl, [fd, request], buf));
}

/** The path of the terminal open on `fd` (ttyname_r(3)); OSError ENOTTY if it is none. */
export function ttyname(fd: number): string {
  const ttynameR = ttynameFn();
  // PATH_MAX (4096, <linux/limits.h>; 1024 on BSD) bounds every path.
  const buf = new Uint8Array(4096);
  const errno = ttynameR(fd, buf, buf.length);
  if (errno !== 0) throw osError("ttyname", errno);
  return new TextDecoder().decode(buf.subarray(0, buf.indexOf(0)));
}

// One struct pollfd (ffi/poll.ts has its layout), reused by readyNow.
const pollfd32 = new Int32Array(POLLFD_SIZE / 4);
const pollfd16 = new Int16Array(pollfd32.buffer);

/**
 * Whether `fd` is readable (or writable) right now: poll(2) with timeout 0, one system call and
 * no allocation. True also for an error, a hang-up or an fd that is not open (POLLERR,
 * POLLHUP, POLLNVAL): the caller's next read or write then reports it.
 */
export function readyNow(fd: number, writing: boolean): boolean {
  pollfd32[POLLFD_FD32] = fd;
  pollfd16[POLLFD_EVENTS16] = writing ? POLLOUT : POLLIN;
  pollfd16[POLLFD_REVENTS16] = 0;
  return pollLib.poll(pollfd32, 1, 0) > 0 && pollfd16[POLLFD_REVENTS16] !== 0;
}

// access(2) mode X_OK (<unistd.h>: 1 on every OS here).
const X_OK = 1;

/**
 * True if `path` names a file this process may execute that is not a directory (what execvp
 * looks for in PATH): access(2) X_OK, then open(2) with O_DIRECTORY, which opens only a
 * directory and so never opens the file itself. Through the C library, so Deno needs no
 * --allow-read for it.
 */
export function isExecutableFile(path: string): boolean {
  const bytes = new TextEncoder().encode(path + "\0");
  if (bytes.indexOf(0) !== bytes.length - 1) return false;
  if (accessFn()(bytes, X_OK) !== 0) return false;
  const C = osTable.constants;
  const fd = callVariadic(openFn(), [bytes, C.O_RDONLY! | C.O_DIRECTORY! | O_CLOEXEC], 0);
  if (fd < 0) return true; // ENOTDIR: not a directory
  libc.close(fd);
  return false;
}
