/**
 * A KqueueSystem (ffi/kqueue.ts) over libkqueue, a userspace kqueue(2) for Linux built on epoll
 * (github.com/mheily/libkqueue; its <sys/event.h> is the FreeBSD ≤ 11 ABI: the 32-byte struct
 * kevent, EVFILT_USER -11). With it, platform/darwin.ts's KqueueSelector runs under the whole
 * loop on Linux with kqueue's semantics for registration, EV_RECEIPT errors, EV_EOF and the
 * EVFILT_USER waker: `AIOLOOP_SELECTOR=kqueue` on Linux (platform/default_selector.ts) and
 * tests/platform/libkqueue_test.ts. AIOLOOP_LIBKQUEUE names the library (default libkqueue.so.0).
 *
 * What differs from macOS/FreeBSD is parking. libkqueue's kqueue fd is the write end of a pipe
 * (src/linux/platform.c), which no poller can watch, and it has no nested kqueues, so the
 * second-kqueue parker of ffi/kqueue.ts cannot work. This parker poll(2)s instead the fds of the
 * enabled EVFILT_READ/EVFILT_WRITE knotes, tracked from every changelist (the selector adds them
 * level-triggered, as poll is), plus a pipe written when an EVFILT_USER NOTE_TRIGGER is
 * submitted; like the real parker it only observes, and the selector's own kevent() collects.
 */
import {
  EV_ADD, EV_DELETE, EV_DISABLE, EV_ENABLE, EVFILT_READ, EVFILT_USER_FREEBSD, EVFILT_WRITE,
  KEVENT_32, KeventArray, type KqueueSystem, NOTE_EXIT, NOTE_TRIGGER,
} from "./kqueue.ts";
import { lastErrno, libc } from "./libc.ts";
import { openParker } from "./park.ts";
import { POLLFD_SIZE, POLLIN, POLLOUT, systemLibcPath } from "./poll.ts";
import { openLibrary, osName, readCString, readEnv } from "./runtime.ts";

/** The library tried when AIOLOOP_LIBKQUEUE is unset (Debian's and the upstream build's soname). */
export const LIBKQUEUE_DEFAULT = "libkqueue.so.0";

/** AIOLOOP_LIBKQUEUE, or libkqueue.so.0. */
export function libkqueuePath(): string {
  return readEnv("AIOLOOP_LIBKQUEUE") || LIBKQUEUE_DEFAULT;
}

/** libkqueue's kqueue(2) and kevent(2): the same prototypes as the BSD calls. */
const symbols = {
  kqueue: { args: [], result: "i32" },
  kevent: { args: ["i32", "buffer", "i32", "buffer", "i32", "buffer"], result: "i32" },
} as const;

const systems = new Map<string, KqueueSystem>();

/**
 * The KqueueSystem over libkqueue at `path`, one per path for the process; throws dlopen's
 * Error if it cannot be loaded.
 *
 * Its first kqueue() also makes libkqueue's process-wide close-detection epoll fd and eventfd,
 * which live until exit (src/linux/platform.c, "Lazily create the process-global
 * close-detection epoll"). One kqueue is made and closed here, so those two fds exist before
 * any loop does and a loop's close() returns the process to the fds it had before.
 */
export function libkqueueSystem(path: string = libkqueuePath()): KqueueSystem {
  let system = systems.get(path);
  if (system === undefined) {
    system = openLibkqueue(path);
    const kq = system.kqueue();
    if (kq >= 0) system.close(kq);
    systems.set(path, system);
  }
  return system;
}

function openLibkqueue(path: string): KqueueSystem {
  const lib = openLibrary(path, symbols).symbols;
  /** Per kqueue: the enabled read/write knotes (ident → filter bits) and the trigger pipe. */
  const watched = new Map<
    number,
    { fds: Map<number, number>; wake: Int32Array; parking: boolean }
  >();
  const poke = new Uint8Array(1);
  const drain = new Uint8Array(64);

  /**
   * Follow `changes` into kq's set of enabled read/write knotes. A NOTE_TRIGGER pokes the pipe
   * always (a wakeup() before park() must end it); a change to the set pokes it only while a
   * park is polling the old set, so the park starts over on the new one.
   */
  function track(kq: number, changes: Uint8Array, n: number): void {
    const w = watched.get(kq);
    if (w === undefined || n === 0) return;
    const list = new KeventArray(KEVENT_32, n);
    list.bytes.set(changes.subarray(0, n * KEVENT_32.size));
    let setChanged = false;
    const before = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const filter = list.filter(i), flags = list.flags(i), fd = list.ident(i);
      if (filter === EVFILT_USER_FREEBSD && (list.fflags(i) & NOTE_TRIGGER) !== 0) {
        libc.write(w.wake[1], poke, 1);
      }
      const bit = filter === EVFILT_READ ? POLLIN : filter === EVFILT_WRITE ? POLLOUT : 0;
      if (bit === 0) continue;
      const had = w.fds.get(fd) ?? 0;
      if (!before.has(fd)) before.set(fd, had);
      const now = (flags & (EV_DELETE | EV_DISABLE)) !== 0 ? had & ~bit
        : (flags & (EV_ADD | EV_ENABLE)) !== 0 ? had | bit
        : had;
      if (now === 0) w.fds.delete(fd);
      else w.fds.set(fd, now);
    }
    // Net changes only: a delete and re-add of one knote in a batch leaves the set as it was.
    for (const [fd, had] of before) if ((w.fds.get(fd) ?? 0) !== had) setChanged = true;
    if (setChanged && w.parking) libc.write(w.wake[1], poke, 1);
  }

  const system: KqueueSystem = {
    layout: KEVENT_32,
    evfiltUser: EVFILT_USER_FREEBSD,
    procExitFflags: NOTE_EXIT,
    kqueue() {
      const kq = lib.kqueue();
      if (kq < 0) return kq;
      const wake = new Int32Array(2);
      // O_NONBLOCK | O_CLOEXEC (Linux's numbers: libkqueue runs on Linux only).
      if (libc.pipe2(wake, 0o4000 | 0o2000000) < 0) {
        libc.close(kq);
        return -1;
      }
      watched.set(kq, { fds: new Map(), wake, parking: false });
      return kq;
    },
    kevent(kq, changes, nchanges, events, nevents, timeout) {
      // A collecting call takes any pending trigger: drain its pipe first, so a trigger after
      // this call still wakes the next park and one before it is not seen twice. Before
      // track(): the pokes this call's own changes make are for a park under way, not stale.
      const w = nevents > 0 ? watched.get(kq) : undefined;
      if (w !== undefined) while (libc.read(w.wake[0], drain, drain.byteLength) > 0) { /* drained */ }
      if (changes !== null) track(kq, changes, nchanges);
      return lib.kevent(kq, changes, nchanges, events, nevents, timeout);
    },
    close(fd) {
      const w = watched.get(fd);
      if (w !== undefined) {
        watched.delete(fd);
        libc.close(w.wake[0]);
        libc.close(w.wake[1]);
      }
      return libc.close(fd);
    },
    errno: () => lastErrno(),
    strerror: (errno) => readCString(libc.strerror(errno)),
    openParker(kq) {
      const w = watched.get(kq)!;
      let bytes = new Uint8Array(0);
      const parker = openParker({
        kind: "poll",
        libPath: systemLibcPath,
        pollSet: () => {
          const n = 1 + w.fds.size;
          if (bytes.byteLength !== n * POLLFD_SIZE) bytes = new Uint8Array(n * POLLFD_SIZE);
          const i32 = new Int32Array(bytes.buffer), i16 = new Int16Array(bytes.buffer);
          let k = 0;
          const put = (fd: number, ev: number) => {
            i32[k * 2] = fd;
            i16[k * 4 + 2] = ev;
            i16[k * 4 + 3] = 0;
            k++;
          };
          put(w.wake[0]!, POLLIN);
          for (const [fd, ev] of w.fds) put(fd, ev);
          return { bytes, count: n };
        },
      });
      return {
        // Both parkers take the poll set synchronously inside wait(): from then until the
        // wait ends, a change to the set must poke the pipe (see track()).
        wait: async (timeoutMs) => {
          w.parking = true;
          try {
            await parker.wait(timeoutMs);
          } finally {
            w.parking = false;
          }
        },
        close: () => parker.close(),
      };
    },
  };
  return system;
}

// AIOLOOP_SELECTOR=kqueue on Linux: load libkqueue now (see libkqueueSystem). A failure is
// left for createSelector("kqueue") to report, with its advice.
if (osName === "linux" && readEnv("AIOLOOP_SELECTOR") === "kqueue") {
  try {
    libkqueueSystem();
  } catch { /* reported by createSelector */ }
}
