/**
 * The C library functions aioloop calls, bound once per process, plus errno handling.
 *
 * Signatures follow the Linux man pages (section 2/3) and glibc's headers; see the note in
 * runtime.ts on why ssize_t results are declared `i32`.
 */
import { OSError } from "../loop/errors.ts";
import { linuxErrnoMessages, linuxErrnoNames } from "./errno_linux.ts";
import {
  type Bound, isWindows, nativeBytes, osName, posixSymbols, readCString, type SymbolSpec,
} from "./runtime.ts";

const symbols = {
  // epoll(7): epoll_create1(2), epoll_ctl(2), epoll_wait(2)
  epoll_create1: { args: ["i32"], result: "i32" },
  epoll_ctl: { args: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: { args: ["i32", "buffer", "i32", "i32"], result: "i32" },
  // eventfd(2)
  eventfd: { args: ["u32", "i32"], result: "i32" },
  // read(2), write(2), close(2)
  read: { args: ["i32", "buffer", "len"], result: "i32" },
  write: { args: ["i32", "buffer", "len"], result: "i32" },
  close: { args: ["i32"], result: "i32" },
  // fcntl(2) is variadic; its third argument is an int for F_GETFL/F_SETFL/F_GETFD/F_SETFD,
  // which the x86-64 and AArch64 Linux ABIs pass exactly like a fixed int argument.
  fcntl: { args: ["i32", "i32", "i32"], result: "i32" },
  // socket(2), socketpair(2), send(2), recv(2)
  socket: { args: ["i32", "i32", "i32"], result: "i32" },
  socketpair: { args: ["i32", "i32", "i32", "buffer"], result: "i32" },
  send: { args: ["i32", "buffer", "len", "i32"], result: "i32" },
  recv: { args: ["i32", "buffer", "len", "i32"], result: "i32" },
  // The BSD socket calls, socket(7): struct sockaddr* arguments are `buffer`s holding the
  // encoded address (ffi/sockaddr.ts); socklen_t (<bits/socket.h>: __socklen_t, a u32) is passed
  // by value as `u32` and by pointer as a 4-byte `buffer`.
  // bind(2), listen(2), accept4(2), connect(2)
  bind: { args: ["i32", "buffer", "u32"], result: "i32" },
  listen: { args: ["i32", "i32"], result: "i32" },
  accept4: { args: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  connect: { args: ["i32", "buffer", "u32"], result: "i32" },
  // getsockname(2), getpeername(2)
  getsockname: { args: ["i32", "buffer", "buffer"], result: "i32" },
  getpeername: { args: ["i32", "buffer", "buffer"], result: "i32" },
  // sendto(2), recvfrom(2): ssize_t results, see runtime.ts
  sendto: { args: ["i32", "buffer", "len", "i32", "buffer", "u32"], result: "i32" },
  recvfrom: { args: ["i32", "buffer", "len", "i32", "buffer", "buffer"], result: "i32" },
  // shutdown(2), setsockopt(2), getsockopt(2)
  shutdown: { args: ["i32", "i32"], result: "i32" },
  setsockopt: { args: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { args: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  // if_nametoindex(3): a NUL-terminated interface name → its index, 0 if unknown
  if_nametoindex: { args: ["buffer"], result: "u32" },
  // gai_strerror(3): the text of a getaddrinfo error code (<netdb.h> EAI_*)
  gai_strerror: { args: ["i32"], result: "pointer" },
  // pipe2(2), getpid(2)
  pipe2: { args: ["buffer", "i32"], result: "i32" },
  getpid: { args: [], result: "i32" },
  // errno(3): glibc's per-thread errno lives at __errno_location(); strerror(3) for its text.
  __errno_location: { args: [], result: "pointer" },
  strerror: { args: ["i32"], result: "pointer" },
} as const satisfies Record<string, SymbolSpec>;

/** The C library's file name on this OS. */
export const libcPath: string = osName === "linux" ? "libc.so.6" : "libSystem.B.dylib";

/**
 * Bound libc functions. Results follow C: -1 (or a negative value) means "see errno".
 * On Windows nothing is bound (importing this module must work there: platform/windows.ts and
 * ffi/ws2_32.ts carry the Windows calls); calling any of these throws an Error naming it.
 */
export const libc: Bound<typeof symbols> = posixSymbols(libcPath, symbols);

// errno is thread-local; the JS thread never changes, so one view of its address serves every
// read with no FFI call: `errnoView[0]` right after a failing call is that call's errno.
const errnoView = isWindows
  ? new Int32Array(1)
  : new Int32Array(nativeBytes(libc.__errno_location(), 4).buffer);

/** The calling thread's errno, read right after a failing call. */
export function lastErrno(): number {
  return errnoView[0];
}

/** The symbolic name of an errno value ("EBADF"), or "E<number>" if unknown. */
export function errnoName(errno: number): string {
  return linuxErrnoNames[errno] ?? `E${errno}`;
}

/** An OSError for `errno` (defaults to the current errno), naming the call that failed. */
export function osError(context: string, errno: number = lastErrno()): OSError {
  // Windows: the proactor maps Winsock errors to these (Linux) numbers; no strerror() there,
  // so glibc's text from a table (the name for a number it lacks).
  const message = isWindows
    ? linuxErrnoMessages[errno] ?? errnoName(errno)
    : readCString(libc.strerror(errno));
  return new OSError(errno, errnoName(errno), message, context);
}

/** Throw an OSError for `context` if `result` is negative; otherwise return it. */
export function check(result: number, context: string): number {
  if (result < 0) throw osError(context);
  return result;
}

// errno values the loop reacts to, from <asm-generic/errno-base.h> / <asm-generic/errno.h>.
export const EINTR = 4;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOENT = 2;
export const EINVAL = 22;
export const EPERM = 1;
export const EEXIST = 17;
export const EPIPE = 32;
export const ECONNRESET = 104;
export const EISCONN = 106;
export const ECONNREFUSED = 111;
export const EALREADY = 114;
export const EINPROGRESS = 115;

// fcntl(2) commands and flags from <asm-generic/fcntl.h>.
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const FD_CLOEXEC = 1;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;

/** Set or clear O_NONBLOCK on `fd`. */
export function setNonBlocking(fd: number, nonBlocking: boolean): void {
  const flags = check(libc.fcntl(fd, F_GETFL, 0), "fcntl(F_GETFL)");
  const wanted = nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  if (wanted !== flags) check(libc.fcntl(fd, F_SETFL, wanted), "fcntl(F_SETFL)");
}

/** True when O_NONBLOCK is set on `fd`. */
export function isNonBlocking(fd: number): boolean {
  return (check(libc.fcntl(fd, F_GETFL, 0), "fcntl(F_GETFL)") & O_NONBLOCK) !== 0;
}

/** Close `fd`, raising OSError on failure (EINTR on close is not retried: see close(2)). */
export function closeFd(fd: number): void {
  check(libc.close(fd), "close");
}
