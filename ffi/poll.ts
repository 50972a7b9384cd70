/**
 * poll(2)'s constants and `struct pollfd` layout, plus the few calls the poll Selector needs
 * that ffi/libc.ts does not bind.
 *
 * Sources: POSIX <poll.h>; Linux <asm-generic/poll.h> and poll(2); macOS and FreeBSD
 * <sys/poll.h>. The event bits below have the same values on all three.
 */
import { osTable } from "./os/current.ts";
import { openLibrary, osName, posixSymbols, type SymbolSpec } from "./runtime.ts";

// Event bits (<asm-generic/poll.h>; <sys/poll.h> on macOS and FreeBSD: identical values).
export const POLLIN = 0x001;
export const POLLPRI = 0x002;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
/** revents only: `fd` is not open (poll(2)). */
export const POLLNVAL = 0x020;

/**
 * `struct pollfd { int fd; short events; short revents; }` (<poll.h>): 8 bytes on every ABI
 * aioloop targets, no padding. As an Int32Array, slot `2i` is `fd`; as an Int16Array, slot
 * `4i + 2` is `events` and `4i + 3` is `revents`. Typed arrays use the machine's byte order,
 * which is the order the kernel reads.
 */
export const POLLFD_SIZE = 8;
export const POLLFD_FD32 = 0;
export const POLLFD_EVENTS16 = 2;
export const POLLFD_REVENTS16 = 3;

/** The C library that holds poll(2) on this OS (ffi/os/). */
export const systemLibcPath: string = osTable.libc;

/** pipe2(2) flags for the waker pipe: this OS's O_NONBLOCK | O_CLOEXEC (macOS: see wakerPipe). */
export const PIPE_FLAGS: number = osTable.constants.O_NONBLOCK! | osTable.constants.O_CLOEXEC!;

const pollSymbols = {
  // int poll(struct pollfd *fds, nfds_t nfds, int timeout). nfds_t is unsigned long on Linux
  // and FreeBSD, unsigned int on macOS; `len` passes either exactly (see runtime.ts).
  poll: { args: ["buffer", "len", "i32"], result: "i32" },
  // int pipe(int fildes[2])
  pipe: { args: ["buffer"], result: "i32" },
} as const satisfies Record<string, SymbolSpec>;

/** poll(2) and pipe(2), bound once per process. */
export const pollLib = posixSymbols(systemLibcPath, pollSymbols);

let pipe2Lib: { pipe2: (fds: Int32Array, flags: number) => number } | undefined;

/**
 * Open the waker pipe into `fds` ([read end, write end]); returns 0 or -1 (errno set).
 * Linux and FreeBSD: pipe2 with O_NONBLOCK | O_CLOEXEC. macOS: plain pipe(2), because fcntl(2)
 * is variadic and Apple's arm64 ABI passes variadic arguments on the stack, which an FFI
 * binding with fixed arguments cannot do. A blocking pipe is still safe for the waker: at most
 * one byte is outstanding (wakeups coalesce) and it is read only after poll reported POLLIN.
 */
export function wakerPipe(fds: Int32Array): number {
  if (osName === "darwin") return pollLib.pipe(fds);
  pipe2Lib ??= openLibrary(systemLibcPath, {
    pipe2: { args: ["buffer", "i32"], result: "i32" },
  }).symbols;
  return pipe2Lib.pipe2(fds, PIPE_FLAGS);
}

// ---- Linux only: what epoll refuses -----------------------------------------------------------

/**
 * statx(2) (glibc ≥ 2.28), used on Linux to give the poll Selector epoll's answer for files that
 * are always ready. Its layout is the same on every Linux architecture, unlike `struct stat`.
 * `int statx(int dirfd, const char *pathname, int flags, unsigned int mask, struct statx *buf)`.
 */
const statxSymbols = {
  statx: { args: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
} as const satisfies Record<string, SymbolSpec>;

/** AT_EMPTY_PATH (<fcntl.h>, Linux): operate on `dirfd` itself when `pathname` is "". */
export const AT_EMPTY_PATH = 0x1000;
/** STATX_TYPE (<linux/stat.h>): we only need the file type bits of stx_mode. */
export const STATX_TYPE = 0x0001;
/** sizeof(struct statx) (<linux/stat.h>): 0x100 bytes. */
export const STATX_SIZE = 0x100;
/** offsetof(struct statx, stx_mode) (<linux/stat.h>): u32 mask, blksize; u64 attributes;
 * u32 nlink, uid, gid; then __u16 stx_mode at 0x1c. */
export const STATX_MODE_OFFSET = 0x1c;
// File type bits (<linux/stat.h>, the same in POSIX <sys/stat.h>).
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;

let statxLib: { statx: (...a: unknown[]) => number } | undefined;
const emptyPath = new Uint8Array(1); // "" (a lone NUL)
const statxBuf = new Uint8Array(STATX_SIZE);
const statxMode = new Uint16Array(statxBuf.buffer, STATX_MODE_OFFSET, 1);

/**
 * Linux: the S_IFMT bits of `fd`'s file type, or -1 with errno set (EBADF for a closed fd).
 * One syscall that both validates the fd and tells a regular file from a socket.
 */
export function linuxFileType(fd: number): number {
  statxLib ??= openLibrary("libc.so.6", statxSymbols).symbols;
  if (statxLib.statx(fd, emptyPath, AT_EMPTY_PATH, STATX_TYPE, statxBuf) < 0) return -1;
  return statxMode[0]! & S_IFMT;
}
