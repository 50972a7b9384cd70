/**
 * The C library functions aioloop calls, bound once per process, plus errno handling.
 *
 * Which functions exist, under which C names, and every errno and fcntl number come from this
 * OS's table (ffi/os/current.ts): the calls every POSIX C library has are bound at import on
 * Linux, macOS and FreeBSD; the Linux extras (epoll, eventfd) and accept4/pipe2 only where the
 * table says they exist. Signatures follow the man pages (section 2/3); see the note in
 * runtime.ts on why ssize_t results are declared `i32`.
 */
import { OSError } from "./errors.ts";
import { linuxErrnoMessages } from "./errno_linux.ts";
import { osTable } from "./os/current.ts";
import type { OsTable } from "./os/table.ts";
import {
  type Bound, isWindows, nativeBytes, openLibrary, readCString, type SymbolSpec,
} from "./runtime.ts";

/**
 * fcntl(2) is variadic: its third argument is an int for F_GETFL/F_SETFL/F_GETFD/F_SETFD. The
 * x86-64 and Linux AArch64 ABIs pass a variadic int exactly like a fixed one, so it is bound as
 * fcntl(int, int, int). Apple's arm64 ABI puts every variadic argument on the stack instead,
 * while a fixed argument goes in the next free register (x2): binding it as above would make
 * F_SETFL read whatever lies on the stack. There it is bound with six unused 64-bit arguments
 * after the two named ones, filling x2..x7, so the ninth (the value, a full 8-byte slot as
 * va_arg reads it) lands at the bottom of the stack, where the callee's va_arg looks.
 * ioctl(2) and open(2), variadic too, are bound nowhere in aioloop; binding one (or any other
 * variadic call) needs the same padding there: tests/ffi/os_tables_test.ts fails on any variadic
 * symbol bound at import on Apple arm64 without it.
 */
function fcntlSpec(table: OsTable): SymbolSpec {
  return table.has.variadicOnStack
    ? { args: ["i32", "i32", "usize", "usize", "usize", "usize", "usize", "usize", "usize"], result: "i32" }
    : { args: ["i32", "i32", "i32"], result: "i32" };
}

/** The functions of the C library of `table`'s OS that are bound at import, keyed by use. */
export function libcSymbols(table: OsTable) {
  return {
    // read(2), write(2), close(2), pipe(2), getpid(2)
    read: { args: ["i32", "buffer", "len"], result: "i32" },
    write: { args: ["i32", "buffer", "len"], result: "i32" },
    close: { args: ["i32"], result: "i32" },
    fcntl: fcntlSpec(table),
    pipe: { args: ["buffer"], result: "i32" },
    getpid: { args: [], result: "i32" },
    // socket(2), socketpair(2), send(2), recv(2)
    socket: { args: ["i32", "i32", "i32"], result: "i32" },
    socketpair: { args: ["i32", "i32", "i32", "buffer"], result: "i32" },
    send: { args: ["i32", "buffer", "len", "i32"], result: "i32" },
    recv: { args: ["i32", "buffer", "len", "i32"], result: "i32" },
    // The BSD socket calls: struct sockaddr* arguments are `buffer`s holding the encoded
    // address (ffi/sockaddr.ts); socklen_t (a u32 on every OS here) is passed by value as `u32`
    // and by pointer as a 4-byte `buffer`. bind(2), listen(2), accept(2), connect(2)
    bind: { args: ["i32", "buffer", "u32"], result: "i32" },
    listen: { args: ["i32", "i32"], result: "i32" },
    accept: { args: ["i32", "buffer", "buffer"], result: "i32" },
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
    // if_indextoname(3): an interface index → its name, written into a buffer of IF_NAMESIZE
    // (16) bytes; returns that buffer, or NULL if there is no such interface
    if_indextoname: { args: ["u32", "buffer"], result: "pointer" },
    // gai_strerror(3): the text of a getaddrinfo error code (<netdb.h> EAI_*)
    gai_strerror: { args: ["i32"], result: "pointer" },
    // errno(3): the per-thread errno lives at glibc's __errno_location() or BSD's __error();
    // strerror(3) for its text.
    errnoLocation: { args: [], result: "pointer", name: table.symbols.errnoLocation },
    strerror: { args: ["i32"], result: "pointer" },
    // accept4(2), pipe2(2): Linux and FreeBSD (table.has)
    accept4: { args: ["i32", "buffer", "buffer", "i32"], result: "i32" },
    pipe2: { args: ["buffer", "i32"], result: "i32" },
    // epoll(7): epoll_create1(2), epoll_ctl(2), epoll_wait(2); eventfd(2): Linux only
    epoll_create1: { args: ["i32"], result: "i32" },
    epoll_ctl: { args: ["i32", "i32", "i32", "buffer"], result: "i32" },
    epoll_wait: { args: ["i32", "buffer", "i32", "i32"], result: "i32" },
    eventfd: { args: ["u32", "i32"], result: "i32" },
    // lseek(2): off_t (64-bit on every OS here) passed as `usize`; the off_t result is declared
    // i32 (runtime.ts), so only its -1 and errno are read (seekFile).
    lseek: { args: ["i32", "usize", "i32"], result: "i32" },
    // pread(2): read at an offset (off_t as `usize`) without moving the file position
    pread: { args: ["i32", "buffer", "len", "usize"], result: "i32" },
    // sendfile(2), Linux only (table.has.sendfile): out_fd, in_fd, off_t *offset (an 8-byte
    // buffer the kernel reads and advances), size_t count; the ssize_t result as i32 (callers
    // pass count < 2^31).
    sendfile: { args: ["i32", "i32", "buffer", "usize"], result: "i32" },
  } as const satisfies Record<string, SymbolSpec>;
}

/** Whether `key` of libcSymbols() exists on `table`'s OS (the rest are never bound there). */
export function libcHas(table: OsTable, key: string): boolean {
  switch (key) {
    case "accept4": return table.has.accept4;
    case "pipe2": return table.has.pipe2;
    case "epoll_create1": case "epoll_ctl": case "epoll_wait": return table.has.epoll;
    case "eventfd": return table.has.eventfd;
    case "sendfile": return table.has.sendfile;
    default: return true;
  }
}

/**
 * `symbols` of `path`, bound now, except those `has` refuses, which throw an Error naming
 * themselves when called (on Windows, where there is no such library, every one of them).
 */
export function bindSymbols<S extends Record<string, SymbolSpec>>(
  path: string,
  symbols: S,
  has: (key: string) => boolean = () => true,
  osLabel: string = osTable.os,
): Bound<S> {
  const wanted: Record<string, SymbolSpec> = {};
  const stubs: Record<string, () => never> = {};
  for (const [key, spec] of Object.entries(symbols)) {
    if (!isWindows && has(key)) {
      wanted[key] = spec;
    } else {
      const what = isWindows ? "aioloop does not bind POSIX C library calls on Windows" : `${osLabel} has no such call`;
      stubs[key] = () => {
        throw new Error(`${spec.name ?? key}(): ${what}`);
      };
    }
  }
  const bound = Object.keys(wanted).length > 0 ? openLibrary(path, wanted).symbols : {};
  return { ...stubs, ...bound } as Bound<S>;
}

type LibcSymbols = ReturnType<typeof libcSymbols>;
const rawLibc = bindSymbols(osTable.libc, libcSymbols(osTable), (key) => libcHas(osTable, key));

/** The C library's file name on this OS (its dlopen name). */
export const libcPath: string = osTable.libc;

/**
 * Bound libc functions. Results follow C: -1 (or a negative value) means "see errno".
 * On Windows nothing is bound (importing this module must work there: platform/windows.ts and
 * ffi/ws2_32.ts carry the Windows calls); calling any of these throws an Error naming it, as
 * does a call this OS lacks (accept4 on macOS, epoll off Linux).
 */
export const libc: Bound<LibcSymbols> = osTable.has.variadicOnStack
  ? {
    ...rawLibc,
    fcntl: (fd: number, cmd: number, arg: number) => rawLibc.fcntl(fd, cmd, 0, 0, 0, 0, 0, 0, arg),
  }
  : rawLibc;

// errno is thread-local; the JS thread never changes, so one view of its address serves every
// read with no FFI call: `errnoView[0]` right after a failing call is that call's errno.
const errnoView = isWindows
  ? new Int32Array(1)
  : new Int32Array(nativeBytes(libc.errnoLocation(), 4).buffer);

/** The calling thread's errno, read right after a failing call. */
export function lastErrno(): number {
  return errnoView[0];
}

/** errno number → name of `table`'s OS (the first name where two share a number). */
export function errnoNamesOf(table: OsTable): Record<number, string> {
  const names: Record<number, string> = {};
  for (const [name, num] of Object.entries(table.errno)) names[num] ??= name;
  return names;
}
const errnoNames = errnoNamesOf(osTable);

/** The symbolic name of an errno value ("EBADF"), or "E<number>" if unknown. */
export function errnoName(errno: number): string {
  return errnoNames[errno] ?? `E${errno}`;
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

// errno values the loop reacts to: this OS's numbers (ffi/os/).
const E = osTable.errno;
/** EINTR of this OS. */
export const EINTR: number = E.EINTR;
/** EBADF of this OS. */
export const EBADF: number = E.EBADF;
/** EAGAIN (= EWOULDBLOCK) of this OS: 11 on Linux, 35 on BSD. */
export const EAGAIN: number = E.EAGAIN;
/** ENOENT of this OS. */
export const ENOENT: number = E.ENOENT;
/** EINVAL of this OS. */
export const EINVAL: number = E.EINVAL;
/** EPERM of this OS. */
export const EPERM: number = E.EPERM;
/** EEXIST of this OS. */
export const EEXIST: number = E.EEXIST;
/** EPIPE of this OS. */
export const EPIPE: number = E.EPIPE;
/** ECONNRESET of this OS. */
export const ECONNRESET: number = E.ECONNRESET;
/** EISCONN of this OS. */
export const EISCONN: number = E.EISCONN;
/** ECONNREFUSED of this OS. */
export const ECONNREFUSED: number = E.ECONNREFUSED;
/** EALREADY of this OS. */
export const EALREADY: number = E.EALREADY;
/** EINPROGRESS of this OS. */
export const EINPROGRESS: number = E.EINPROGRESS;
/** EIO of this OS. */
export const EIO: number = E.EIO;
/** ESRCH of this OS. */
export const ESRCH: number = E.ESRCH;
/** ECONNABORTED of this OS: 103 on Linux, 53 on BSD. */
export const ECONNABORTED: number = E.ECONNABORTED;
/** ETIMEDOUT of this OS: 110 on Linux, 60 on BSD. */
export const ETIMEDOUT: number = E.ETIMEDOUT;

// fcntl(2) commands and flags: this OS's <fcntl.h>.
const C = osTable.constants;
/** fcntl(2) F_GETFD. */
export const F_GETFD: number = C.F_GETFD!;
/** fcntl(2) F_SETFD. */
export const F_SETFD: number = C.F_SETFD!;
/** fcntl(2) F_GETFL. */
export const F_GETFL: number = C.F_GETFL!;
/** fcntl(2) F_SETFL. */
export const F_SETFL: number = C.F_SETFL!;
/** The close-on-exec fd flag. */
export const FD_CLOEXEC: number = C.FD_CLOEXEC!;
/** O_NONBLOCK of this OS (0o4000 on Linux, 4 on BSD). */
export const O_NONBLOCK: number = C.O_NONBLOCK!;
/** O_CLOEXEC of this OS. */
export const O_CLOEXEC: number = C.O_CLOEXEC!;

/** Set FD_CLOEXEC on `fd` (where socket/pipe/accept cannot take a close-on-exec flag). */
export function setCloseOnExec(fd: number): number {
  return libc.fcntl(fd, F_SETFD, FD_CLOEXEC);
}

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

/** True where Linux's sendfile(2) is bound (libc.sendfile); elsewhere nothing is. */
export const hasSendfile: boolean = !isWindows && osTable.has.sendfile;

/** lseek(2) whence SEEK_SET: 0 in every C library here (<unistd.h>). */
const SEEK_SET = 0;

/**
 * Set `fd`'s file position to `position` (lseek(2), SEEK_SET); OSError on failure. False where
 * no C library is bound (Windows): the position is then left where it was.
 */
export function seekFile(fd: number, position: number): boolean {
  if (isWindows) return false;
  // The result is an off_t truncated to 32 bits (runtime.ts): a position past 2 GiB can read
  // as -1 too, so errno, cleared first, decides.
  errnoView[0] = 0;
  if (libc.lseek(fd, position, SEEK_SET) === -1 && errnoView[0] !== 0) throw osError("lseek");
  return true;
}
