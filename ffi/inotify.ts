/**
 * inotify(7): watch files and directories for changes through one fd that an event loop can
 * watch with addReader. Linux only; the symbols are bound at the first call, so importing this
 * module costs nothing elsewhere.
 *
 * Flag values and `struct inotify_event` follow glibc's <sys/inotify.h> (identical on x86-64
 * and AArch64).
 */
import { OSError } from "./errors.ts";
import { check, EAGAIN, EINTR, lastErrno, libc, libcPath, osError } from "./libc.ts";
import { type Bound, openLibrary, osName, type SymbolSpec } from "./runtime.ts";

const symbols = {
  // inotify_init1(2), inotify_add_watch(2), inotify_rm_watch(2)
  inotify_init1: { args: ["i32"], result: "i32" },
  inotify_add_watch: { args: ["i32", "buffer", "u32"], result: "i32" },
  inotify_rm_watch: { args: ["i32", "i32"], result: "i32" },
} as const satisfies Record<string, SymbolSpec>;

let bound: Bound<typeof symbols> | null = null;

function lib(): Bound<typeof symbols> {
  if (bound === null) {
    if (osName !== "linux") {
      throw new OSError(38, "ENOSYS", "Function not implemented", `inotify needs Linux, not ${osName}`);
    }
    bound = openLibrary(libcPath, symbols).symbols;
  }
  return bound;
}

// Events (<sys/inotify.h>): what happened. Also the `mask` bits addWatch() takes.
/** File was accessed (read). */
export const IN_ACCESS = 0x00000001;
/** File was modified (write). */
export const IN_MODIFY = 0x00000002;
/** Metadata changed (permissions, timestamps, owner, link count). */
export const IN_ATTRIB = 0x00000004;
/** A file opened for writing was closed. */
export const IN_CLOSE_WRITE = 0x00000008;
/** A file not opened for writing was closed. */
export const IN_CLOSE_NOWRITE = 0x00000010;
/** File was opened. */
export const IN_OPEN = 0x00000020;
/** A file was moved out of the watched directory. */
export const IN_MOVED_FROM = 0x00000040;
/** A file was moved into the watched directory. */
export const IN_MOVED_TO = 0x00000080;
/** A file was created in the watched directory. */
export const IN_CREATE = 0x00000100;
/** A file was deleted from the watched directory. */
export const IN_DELETE = 0x00000200;
/** The watched file or directory itself was deleted. */
export const IN_DELETE_SELF = 0x00000400;
/** The watched file or directory itself was moved. */
export const IN_MOVE_SELF = 0x00000800;
/** IN_CLOSE_WRITE | IN_CLOSE_NOWRITE. */
export const IN_CLOSE = 0x00000018;
/** IN_MOVED_FROM | IN_MOVED_TO. */
export const IN_MOVE = 0x000000c0;
/** Every event above. */
export const IN_ALL_EVENTS = 0x00000fff;
// Bits only the kernel sets in an event's mask.
/** The filesystem holding the watched object was unmounted. */
export const IN_UNMOUNT = 0x00002000;
/** The event queue overflowed (wd is -1): events were lost. */
export const IN_Q_OVERFLOW = 0x00004000;
/** The watch was removed (inotify_rm_watch, or its object is gone). */
export const IN_IGNORED = 0x00008000;
/** The event's subject is a directory. */
export const IN_ISDIR = 0x40000000;
// Bits only addWatch() takes.
/** Watch `path` only if it is a directory. */
export const IN_ONLYDIR = 0x01000000;
/** Do not follow `path` if it is a symbolic link. */
export const IN_DONT_FOLLOW = 0x02000000;
/** No events for children once they are unlinked from the watched directory. */
export const IN_EXCL_UNLINK = 0x04000000;
/** Add to an existing watch's mask instead of replacing it. */
export const IN_MASK_ADD = 0x20000000;
/** Remove the watch after its first event. */
export const IN_ONESHOT = 0x80000000;

// inotify_init1(2) flags: IN_NONBLOCK = O_NONBLOCK, IN_CLOEXEC = O_CLOEXEC (<bits/inotify.h>).
const IN_NONBLOCK = 0o4000;
const IN_CLOEXEC = 0o2000000;

/**
 * struct inotify_event (<sys/inotify.h>):
 *   int wd; uint32_t mask; uint32_t cookie; uint32_t len; char name[];
 * 16 bytes, then `len` bytes of name padded with NULs (len 0: the event is about the watched
 * object itself).
 */
const EVENT_HEADER_SIZE = 16;

/** One inotify event (struct inotify_event). */
export interface InotifyEvent {
  /** The watch descriptor addWatch() returned (-1 with IN_Q_OVERFLOW). */
  wd: number;
  /** IN_* bits: what happened, plus IN_ISDIR, IN_IGNORED, IN_Q_OVERFLOW, IN_UNMOUNT. */
  mask: number;
  /** Pairs an IN_MOVED_FROM with its IN_MOVED_TO (0 otherwise). */
  cookie: number;
  /** The file's name inside the watched directory, "" for the watched object itself. */
  name: string;
}

const decoder = new TextDecoder();

/**
 * Decode the struct inotify_event records in `bytes` (what a read(2) of an inotify fd returns;
 * the kernel never splits a record across reads). Raises nothing; a truncated tail is ignored.
 */
export function parseInotifyEvents(bytes: Uint8Array): InotifyEvent[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const events: InotifyEvent[] = [];
  let off = 0;
  while (off + EVENT_HEADER_SIZE <= bytes.length) {
    const wd = view.getInt32(off, true);
    const mask = view.getUint32(off + 4, true);
    const cookie = view.getUint32(off + 8, true);
    const len = view.getUint32(off + 12, true);
    const start = off + EVENT_HEADER_SIZE;
    if (start + len > bytes.length) break;
    let end = start;
    while (end < start + len && bytes[end] !== 0) end++;
    events.push({ wd, mask, cookie, name: decoder.decode(bytes.subarray(start, end)) });
    off = start + len;
  }
  return events;
}

/** The names of the IN_* bits set in `mask` ("IN_CREATE|IN_ISDIR"), for logs. */
export function inotifyMaskNames(mask: number): string {
  const names: string[] = [];
  for (const [name, bit] of MASK_NAMES) if ((mask & bit) !== 0) names.push(name);
  return names.join("|");
}

const MASK_NAMES: [string, number][] = [
  ["IN_ACCESS", IN_ACCESS], ["IN_MODIFY", IN_MODIFY], ["IN_ATTRIB", IN_ATTRIB],
  ["IN_CLOSE_WRITE", IN_CLOSE_WRITE], ["IN_CLOSE_NOWRITE", IN_CLOSE_NOWRITE],
  ["IN_OPEN", IN_OPEN], ["IN_MOVED_FROM", IN_MOVED_FROM], ["IN_MOVED_TO", IN_MOVED_TO],
  ["IN_CREATE", IN_CREATE], ["IN_DELETE", IN_DELETE], ["IN_DELETE_SELF", IN_DELETE_SELF],
  ["IN_MOVE_SELF", IN_MOVE_SELF], ["IN_UNMOUNT", IN_UNMOUNT], ["IN_Q_OVERFLOW", IN_Q_OVERFLOW],
  ["IN_IGNORED", IN_IGNORED], ["IN_ISDIR", IN_ISDIR],
];

const encoder = new TextEncoder();

/**
 * An inotify instance: a non-blocking, close-on-exec fd (inotify_init1(IN_NONBLOCK |
 * IN_CLOEXEC)) to hand to `loop.addReader(inotify, callback)`; call read() in the callback.
 * The constructor raises OSError (EMFILE: too many instances; ENOSYS: not Linux).
 */
export class Inotify {
  private fd: number;
  private readonly buffer = new Uint8Array(64 * 1024);

  constructor() {
    this.fd = check(lib().inotify_init1(IN_NONBLOCK | IN_CLOEXEC), "inotify_init1");
  }

  /** The inotify fd (what addReader watches); -1 once closed. */
  fileno(): number {
    return this.fd;
  }

  /**
   * Watch `path` for the IN_* events in `mask` (inotify_add_watch(2)); returns the watch
   * descriptor events carry as `wd`. Watching a path again replaces its mask (or adds to it
   * with IN_MASK_ADD) and returns the same wd. OSError: ENOENT (no such path), EACCES, ENOSPC
   * (the user's watch limit, /proc/sys/fs/inotify/max_user_watches), EBADF after close().
   */
  addWatch(path: string, mask: number): number {
    const cpath = encoder.encode(path + "\0");
    return check(lib().inotify_add_watch(this.fd, cpath, mask >>> 0), `inotify_add_watch ${path}`);
  }

  /**
   * Stop watching `wd` (inotify_rm_watch(2)); an IN_IGNORED event follows. OSError EINVAL for
   * an unknown wd.
   */
  rmWatch(wd: number): void {
    check(lib().inotify_rm_watch(this.fd, wd), "inotify_rm_watch");
  }

  /**
   * Every event queued now (read(2) until EAGAIN); [] if none. Call it from the addReader
   * callback. OSError if the read fails otherwise (EBADF after close()).
   */
  read(): InotifyEvent[] {
    const events: InotifyEvent[] = [];
    for (;;) {
      const n = libc.read(this.fd, this.buffer, this.buffer.length);
      if (n < 0) {
        const errno = lastErrno();
        if (errno === EINTR) continue;
        if (errno === EAGAIN) return events;
        throw osError("read inotify");
      }
      if (n === 0) return events;
      for (const e of parseInotifyEvents(this.buffer.subarray(0, n))) events.push(e);
    }
  }

  /** Close the fd (every watch ends with it). Idempotent; remove its reader first. */
  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    libc.close(fd);
  }
}
