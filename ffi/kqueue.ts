/**
 * kqueue(2)'s constants and `struct kevent` layouts for macOS and FreeBSD, and the real system
 * calls behind platform/darwin.ts.
 *
 * Sources, cited per item below:
 * - macOS: <sys/event.h> (xnu bsd/sys/event.h), kqueue(2) man page; <sys/errno.h>.
 * - FreeBSD: <sys/event.h> (sys/sys/event.h, 12.0 and later), kqueue(2); <sys/errno.h>.
 *
 * Nothing here runs on Linux except the layout helpers and constants, which the tests check
 * against byte layouts written out from those headers (tests/platform/kqueue_test.ts). The system calls
 * are bound only when a KqueueSelector is created on macOS or FreeBSD.
 */
import { release } from "node:os";
import { OSError } from "./errors.ts";
import { openParker, type Parker } from "./park.ts";
import { tableFor } from "./os/current.ts";
import {
  arch, nativeBytes, openLibrary, osName, readCString, type SymbolSpec,
} from "./runtime.ts";

// ---- Filters (struct kevent.filter) ------------------------------------------------------------

// The same on macOS and FreeBSD (<sys/event.h>: "#define EVFILT_READ (-1)" …).
export const EVFILT_READ = -1;
export const EVFILT_WRITE = -2;
export const EVFILT_PROC = -5;
export const EVFILT_SIGNAL = -6;
/** EVFILT_USER differs: macOS <sys/event.h> (-10); FreeBSD <sys/event.h> (-11). */
export const EVFILT_USER_DARWIN = -10;
export const EVFILT_USER_FREEBSD = -11;

// ---- Flags (struct kevent.flags), identical on macOS and FreeBSD <sys/event.h> -----------------

/** add event to kq (implies enable) */
export const EV_ADD = 0x0001;
/** delete event from kq */
export const EV_DELETE = 0x0002;
/** enable event */
export const EV_ENABLE = 0x0004;
/** disable event (not reported) */
export const EV_DISABLE = 0x0008;
/** only report one occurrence */
export const EV_ONESHOT = 0x0010;
/** clear event state after reporting */
export const EV_CLEAR = 0x0020;
/** force EV_ERROR on success, data = 0 */
export const EV_RECEIPT = 0x0040;
/** returned: EOF detected */
export const EV_EOF = 0x8000;
/** returned: error, data contains errno */
export const EV_ERROR = 0x4000;

// ---- Filter flags (struct kevent.fflags) -------------------------------------------------------

/** EVFILT_USER: on input, trigger the event (macOS and FreeBSD <sys/event.h>: 0x01000000). */
export const NOTE_TRIGGER = 0x01000000;
/** EVFILT_PROC: process exited (macOS and FreeBSD <sys/event.h>: 0x80000000). */
export const NOTE_EXIT = 0x80000000;
/**
 * EVFILT_PROC, macOS only (<sys/event.h>: 0x04000000): return the wait(2) status in `data`.
 * FreeBSD always puts the exit status in `data` for NOTE_EXIT (kqueue(2)).
 */
export const NOTE_EXITSTATUS = 0x04000000;

// ---- struct kevent ---------------------------------------------------------------------------

/**
 * The two 64-bit layouts of `struct kevent`. Field offsets are the same in both:
 *
 *   macOS <sys/event.h> (under #pragma pack(4), which moves nothing here):
 *     uintptr_t ident @0; int16_t filter @8; uint16_t flags @10; uint32_t fflags @12;
 *     intptr_t data @16; void *udata @24                                  → 32 bytes
 *   FreeBSD ≤ 11 (now `struct kevent_freebsd11`): the same fields, data an intptr_t → 32 bytes
 *   FreeBSD ≥ 12 <sys/event.h>: the same, data an __int64_t, then __uint64_t ext[4] @32
 *                                                                          → 64 bytes
 * FreeBSD 12 kept the old layout for old binaries through symbol versioning
 * (kevent@FBSD_1.0); dlsym("kevent") gives the default, kevent@FBSD_1.5, the 64-byte one.
 */
export interface KeventLayout {
  readonly name: "kevent32" | "kevent64-freebsd12";
  readonly size: 32 | 64;
}
export const KEVENT_32: KeventLayout = { name: "kevent32", size: 32 };
export const KEVENT_64_FREEBSD12: KeventLayout = { name: "kevent64-freebsd12", size: 64 };

export const KEVENT_IDENT = 0;
export const KEVENT_FILTER = 8;
export const KEVENT_FLAGS = 10;
export const KEVENT_FFLAGS = 12;
export const KEVENT_DATA = 16;
export const KEVENT_UDATA = 24;
export const KEVENT_EXT = 32;

/** One kevent as plain values (tests and rare paths; the hot path uses KeventArray). */
export interface Kevent {
  ident: number;
  filter: number;
  flags: number;
  fflags: number;
  data: number;
  udata: number;
}

/**
 * An array of `struct kevent` in one buffer, read and written through typed views, so a busy
 * loop allocates nothing per event. 64-bit fields are split into two 32-bit halves: every
 * target (x86-64, AArch64) is little-endian, so the low half comes first. Idents (fds, pids,
 * signal numbers) and data (byte counts, errno, exit status) fit in 53 bits.
 */
export class KeventArray {
  readonly bytes: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  private readonly i16: Int16Array;
  private readonly u16: Uint16Array;
  private readonly stride32: number;
  private readonly stride16: number;

  constructor(readonly layout: KeventLayout, readonly capacity: number) {
    this.bytes = new Uint8Array(layout.size * capacity);
    this.u32 = new Uint32Array(this.bytes.buffer);
    this.i32 = new Int32Array(this.bytes.buffer);
    this.i16 = new Int16Array(this.bytes.buffer);
    this.u16 = new Uint16Array(this.bytes.buffer);
    this.stride32 = layout.size / 4;
    this.stride16 = layout.size / 2;
  }

  /** EV_SET(&kev[i], ident, filter, flags, fflags, data, udata), ext[] zeroed (FreeBSD 12). */
  set(i: number, ident: number, filter: number, flags: number, fflags = 0, data = 0, udata = 0) {
    const w = i * this.stride32, h = i * this.stride16;
    this.u32[w] = ident >>> 0;
    this.u32[w + 1] = Math.floor(ident / 0x1_0000_0000);
    this.i16[h + KEVENT_FILTER / 2] = filter;
    this.u16[h + KEVENT_FLAGS / 2] = flags;
    this.u32[w + KEVENT_FFLAGS / 4] = fflags >>> 0;
    this.u32[w + KEVENT_DATA / 4] = data >>> 0;
    this.i32[w + KEVENT_DATA / 4 + 1] = Math.floor(data / 0x1_0000_0000);
    this.u32[w + KEVENT_UDATA / 4] = udata >>> 0;
    this.u32[w + KEVENT_UDATA / 4 + 1] = Math.floor(udata / 0x1_0000_0000);
    for (let k = KEVENT_EXT / 4; k < this.stride32; k++) this.u32[w + k] = 0;
  }

  // The readers below take an entry index below the count kevent returned (≤ capacity), so
  // every word they read is inside the views: `!` on the reads.
  ident(i: number): number {
    const w = i * this.stride32;
    return this.u32[w]! + this.u32[w + 1]! * 0x1_0000_0000;
  }
  filter(i: number): number {
    return this.i16[i * this.stride16 + KEVENT_FILTER / 2]!;
  }
  flags(i: number): number {
    return this.u16[i * this.stride16 + KEVENT_FLAGS / 2]!;
  }
  fflags(i: number): number {
    return this.u32[i * this.stride32 + KEVENT_FFLAGS / 4]!;
  }
  /** `data`, a signed 64-bit value. */
  data(i: number): number {
    const w = i * this.stride32 + KEVENT_DATA / 4;
    return this.i32[w + 1]! * 0x1_0000_0000 + this.u32[w]!;
  }
  udata(i: number): number {
    const w = i * this.stride32 + KEVENT_UDATA / 4;
    return this.u32[w]! + this.u32[w + 1]! * 0x1_0000_0000;
  }
  /** Entry `i` as an object. */
  get(i: number): Kevent {
    return {
      ident: this.ident(i), filter: this.filter(i), flags: this.flags(i),
      fflags: this.fflags(i), data: this.data(i), udata: this.udata(i),
    };
  }
  /** Overwrite fields of entry `i` (what the kernel does to an eventlist entry). */
  write(i: number, kev: Kevent): void {
    this.set(i, kev.ident, kev.filter, kev.flags, kev.fflags, kev.data, kev.udata);
  }
}

/** `struct timespec` (16 bytes on 64-bit macOS and FreeBSD: time_t tv_sec; long tv_nsec). */
export const TIMESPEC_SIZE = 16;

// ---- errno (BSD numbering) ---------------------------------------------------------------------

/**
 * The errno values kevent(2) and kqueue(2) report, from macOS and FreeBSD <sys/errno.h>, where
 * these are equal. (EAGAIN is 35 there, not Linux's 11, and EOPNOTSUPP differs between the two,
 * so only the values below are named.)
 */
export const BSD_ERRNO = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EBADF: 9, ENOMEM: 12, EACCES: 13, EFAULT: 14,
  EEXIST: 17, EINVAL: 22, EMFILE: 24, EPIPE: 32, EAGAIN: 35,
} as const;
const bsdErrnoNames: Record<number, string> = Object.fromEntries(
  Object.entries(BSD_ERRNO).map(([name, num]) => [num, name]),
);

/** The symbolic name of a BSD errno value. */
export function bsdErrnoName(errno: number): string {
  return bsdErrnoNames[errno] ?? `E${errno}`;
}

// ---- The system, as platform/darwin.ts sees it ---------------------------------------------------

/**
 * The calls a KqueueSelector makes. The real one binds libc; tests inject a fake that behaves as
 * kqueue(2) describes. All calls follow C: -1 means "see errno()".
 */
export interface KqueueSystem {
  readonly layout: KeventLayout;
  /** EVFILT_USER on this OS. */
  readonly evfiltUser: number;
  /** fflags for EVFILT_PROC that make `data` hold the exit status. */
  readonly procExitFflags: number;
  kqueue(): number;
  /** kevent(kq, changelist, nchanges, eventlist, nevents, timeout); null timeout: no limit. */
  kevent(
    kq: number,
    changes: Uint8Array | null,
    nchanges: number,
    events: Uint8Array | null,
    nevents: number,
    timeout: BigInt64Array | null,
  ): number;
  close(fd: number): number;
  errno(): number;
  strerror(errno: number): string;
  /** A Parker that returns when `kq` has events pending, without taking them. */
  openParker(kq: number): Parker;
}

/** An OSError for a BSD errno. */
export function kqueueOsError(system: KqueueSystem, context: string, errno = system.errno()) {
  return new OSError(errno, bsdErrnoName(errno), system.strerror(errno), context);
}

/** The C library on this OS: macOS <libSystem>, FreeBSD libc.so.7. */
export function kqueueLibcPath(os: string = osName): string {
  return tableFor(os, arch).libc;
}

/** The kevent layout of this OS (FreeBSD's changed in 12.0). */
export function keventLayoutFor(os: string, osRelease: string): KeventLayout {
  if (os !== "freebsd") return KEVENT_32;
  return parseInt(osRelease, 10) >= 12 ? KEVENT_64_FREEBSD12 : KEVENT_32;
}

const kqueueSymbols = {
  // kqueue(2): int kqueue(void)
  kqueue: { args: [], result: "i32" },
  // kevent(2): int kevent(int kq, const struct kevent *changelist, int nchanges,
  //                       struct kevent *eventlist, int nevents, const struct timespec *timeout)
  kevent: { args: ["i32", "buffer", "i32", "buffer", "i32", "buffer"], result: "i32" },
  // close(2)
  close: { args: ["i32"], result: "i32" },
  // errno is `(*__error())` on macOS (<sys/errno.h>) and FreeBSD (<sys/errno.h>).
  __error: { args: [], result: "pointer" },
  // strerror(3)
  strerror: { args: ["i32"], result: "pointer" },
} as const satisfies Record<string, SymbolSpec>;

/** The C names kqueueSystem() binds (tests check them against each OS's symbol list). */
export const kqueueSymbolNames: readonly string[] = Object.keys(kqueueSymbols);

let realSystem: KqueueSystem | undefined;

/** The real kqueue calls of this OS (macOS or FreeBSD), bound on first use. */
export function kqueueSystem(): KqueueSystem {
  if (realSystem) return realSystem;
  if (osName !== "darwin" && osName !== "freebsd") {
    throw new Error(`kqueue is not available on ${osName}`);
  }
  const libPath = kqueueLibcPath();
  const lib = openLibrary(libPath, kqueueSymbols).symbols;
  // errno is thread-local and the JS thread never changes: one view serves every read.
  const errnoView = new Int32Array(nativeBytes(lib.__error(), 4).buffer);
  const system: KqueueSystem = {
    layout: keventLayoutFor(osName, release()),
    evfiltUser: osName === "freebsd" ? EVFILT_USER_FREEBSD : EVFILT_USER_DARWIN,
    procExitFflags: osName === "darwin" ? NOTE_EXIT | NOTE_EXITSTATUS : NOTE_EXIT,
    kqueue: () => lib.kqueue(),
    kevent: (kq, changes, nchanges, events, nevents, timeout) =>
      lib.kevent(kq, changes, nchanges, events, nevents, timeout),
    close: (fd) => lib.close(fd),
    errno: () => errnoView[0]!,
    strerror: (errno) => readCString(lib.strerror(errno)),
    openParker: (kq) => openNestedParker(system, kq, libPath),
  };
  realSystem = system;
  return system;
}

/**
 * A Parker for a kqueue that does not take its events: the parking thread waits on a second
 * kqueue that holds one EVFILT_READ knote on the first (a kqueue fd is readable while events
 * are pending: kqueue(2)). Level-triggered, so the JS thread's own kevent() still collects
 * everything, including EV_CLEAR and EV_ONESHOT events that a direct wait would have consumed.
 */
function openNestedParker(system: KqueueSystem, kq: number, libPath: string): Parker {
  const outer = system.kqueue();
  if (outer < 0) throw kqueueOsError(system, "kqueue (parking)");
  const change = new KeventArray(system.layout, 1);
  change.set(0, kq, EVFILT_READ, EV_ADD);
  if (system.kevent(outer, change.bytes, 1, null, 0, null) < 0) {
    const err = kqueueOsError(system, "kevent(EV_ADD kqueue fd for parking)");
    system.close(outer);
    throw err;
  }
  const parker = openParker({ kind: "kevent", fd: outer, libPath });
  return {
    wait: (timeoutMs) => parker.wait(timeoutMs),
    close: () => {
      parker.close();
      system.close(outer);
    },
  };
}
