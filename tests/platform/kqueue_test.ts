/**
 * The kqueue Selector (platform/darwin.ts) checked on a machine without kqueue.
 *
 * What is real here and what is not:
 * - Layout tests: `struct kevent` encode/decode against byte layouts written out by hand from
 *   macOS and FreeBSD <sys/event.h>. Real (pure data).
 * - Contract tests: the shared Selector contract (tests/platform/selector_contract.ts) and the
 *   kqueue-specific tests below run KqueueSelector over FakeKqueue, a model of kqueue(2) in
 *   TypeScript: knotes per (ident, filter), EV_ADD/DELETE/ENABLE/DISABLE/CLEAR/RECEIPT/ONESHOT,
 *   EV_ERROR output with the FreeBSD rule for a full eventlist, EVFILT_USER/NOTE_TRIGGER,
 *   knotes dropped when their fd is closed. Fd readiness comes from real sockets (poll(2) with
 *   timeout 0). These are CONTRACT-ONLY: they check our control flow against the man page, not
 *   against a kernel. The fake parks through the poll parker, so the real parking path (a
 *   second kqueue watching the first, ffi/kqueue.ts openNestedParker) is NOT exercised here.
 * - Type checking: `deno check platform/darwin.ts ffi/kqueue.ts`; both runtimes load and run
 *   the module here, which is all Bun offers (it has no type checker).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { EVENT_READ, EVENT_WRITE, OSError, socketpair } from "../../mod.ts";
import {
  BSD_ERRNO, EV_ADD, EV_CLEAR, EV_DELETE, EV_DISABLE, EV_ENABLE, EV_EOF, EV_ERROR, EV_ONESHOT,
  EV_RECEIPT, EVFILT_PROC, EVFILT_READ, EVFILT_SIGNAL, EVFILT_USER_DARWIN, EVFILT_USER_FREEBSD,
  EVFILT_WRITE, KEVENT_32, KEVENT_64_FREEBSD12, KeventArray, type KeventLayout,
  keventLayoutFor, kqueueLibcPath, type KqueueSystem, NOTE_EXIT, NOTE_EXITSTATUS, NOTE_TRIGGER,
} from "../../ffi/kqueue.ts";
import { libc } from "../../ffi/libc.ts";
import { openParker, type Parker } from "../../ffi/park.ts";
import {
  POLLERR, POLLFD_SIZE, POLLHUP, POLLIN, pollLib, POLLNVAL, POLLOUT, systemLibcPath, wakerPipe,
} from "../../ffi/poll.ts";
import { KqueueSelector } from "../../platform/darwin.ts";
import { pollOnce, selectorContract } from "./selector_contract.ts";

const enc = new TextEncoder();

// ---- Layouts, from the headers ------------------------------------------------------------------

/** Little-endian bytes of an unsigned/signed integer of `n` bytes. */
function le(value: bigint, n: number): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(n * 8, value);
  for (let i = 0; i < n; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

// EV_SET(&kev, 7, EVFILT_READ, EV_ADD | EV_CLEAR, NOTE_TRIGGER, -2, 0x1122334455), written out
// field by field from macOS <sys/event.h> (FreeBSD ≤ 11 is identical):
//   uintptr_t ident @0 (8) | int16_t filter @8 | uint16_t flags @10 | uint32_t fflags @12 |
//   intptr_t data @16 (8) | void *udata @24 (8)                               = 32 bytes
const KEVENT32_EXAMPLE = [
  ...le(7n, 8), // ident
  ...le(-1n, 2), // filter EVFILT_READ (-1)
  ...le(0x21n, 2), // flags EV_ADD 0x0001 | EV_CLEAR 0x0020
  ...le(0x01000000n, 4), // fflags NOTE_TRIGGER
  ...le(-2n, 8), // data
  ...le(0x1122334455n, 8), // udata
];
// FreeBSD ≥ 12 <sys/event.h>: the same first 32 bytes (data is __int64_t), then
//   __uint64_t ext[4] @32                                                     = 64 bytes
const KEVENT64_EXAMPLE = [...KEVENT32_EXAMPLE, ...new Array(32).fill(0)];

test("struct kevent (macOS, FreeBSD ≤ 11): 32 bytes, fields where <sys/event.h> puts them", () => {
  assert.equal(KEVENT_32.size, 32);
  const a = new KeventArray(KEVENT_32, 2);
  a.set(1, 7, EVFILT_READ, EV_ADD | EV_CLEAR, NOTE_TRIGGER, -2, 0x1122334455);
  assert.deepEqual([...a.bytes.subarray(32, 64)], KEVENT32_EXAMPLE);
  assert.deepEqual([...a.bytes.subarray(0, 32)], new Array(32).fill(0), "entry 0 untouched");
});

test("struct kevent (FreeBSD ≥ 12): 64 bytes with ext[4] zeroed by EV_SET", () => {
  assert.equal(KEVENT_64_FREEBSD12.size, 64);
  const a = new KeventArray(KEVENT_64_FREEBSD12, 1);
  a.bytes.fill(0xee); // a reused entry: EV_SET must clear ext[] (FreeBSD's EV_SET does)
  a.set(0, 7, EVFILT_READ, EV_ADD | EV_CLEAR, NOTE_TRIGGER, -2, 0x1122334455);
  assert.deepEqual([...a.bytes], KEVENT64_EXAMPLE);
});

test("decoding a kernel-written kevent: EV_ERROR with errno, big ident, negative data", () => {
  for (const layout of [KEVENT_32, KEVENT_64_FREEBSD12]) {
    const bytes = new Uint8Array(layout.size);
    bytes.set([
      ...le(0x1_0000_0005n, 8), ...le(-2n, 2), ...le(BigInt(EV_ERROR | EV_EOF), 2),
      ...le(0x80000000n, 4), ...le(-9007199254740991n, 8), ...le(0xfffffffffn, 8),
    ]);
    const a = new KeventArray(layout, 1);
    a.bytes.set(bytes);
    assert.deepEqual(a.get(0), {
      ident: 0x1_0000_0005, filter: EVFILT_WRITE, flags: EV_ERROR | EV_EOF, fflags: NOTE_EXIT,
      data: -9007199254740991, udata: 0xfffffffff,
    });
  }
});

test("constants are the headers' values; OS-dependent ones are chosen per OS", () => {
  // <sys/event.h>, macOS and FreeBSD alike.
  assert.deepEqual([EVFILT_READ, EVFILT_WRITE, EVFILT_PROC, EVFILT_SIGNAL], [-1, -2, -5, -6]);
  assert.deepEqual(
    [EV_ADD, EV_DELETE, EV_ENABLE, EV_DISABLE, EV_ONESHOT, EV_CLEAR, EV_RECEIPT, EV_ERROR, EV_EOF],
    [0x1, 0x2, 0x4, 0x8, 0x10, 0x20, 0x40, 0x4000, 0x8000],
  );
  assert.equal(NOTE_TRIGGER, 0x01000000);
  assert.equal(NOTE_EXIT, 0x80000000);
  assert.equal(NOTE_EXITSTATUS, 0x04000000); // macOS only
  // EVFILT_USER: macOS (-10), FreeBSD (-11).
  assert.equal(EVFILT_USER_DARWIN, -10);
  assert.equal(EVFILT_USER_FREEBSD, -11);
  assert.equal(keventLayoutFor("darwin", "23.4.0"), KEVENT_32);
  assert.equal(keventLayoutFor("freebsd", "11.4-RELEASE"), KEVENT_32);
  assert.equal(keventLayoutFor("freebsd", "14.1-RELEASE"), KEVENT_64_FREEBSD12);
  assert.equal(kqueueLibcPath("darwin"), "/usr/lib/libSystem.B.dylib");
  assert.equal(kqueueLibcPath("freebsd"), "libc.so.7");
  // <sys/errno.h>, where macOS and FreeBSD agree.
  assert.deepEqual(
    [BSD_ERRNO.ENOENT, BSD_ERRNO.ESRCH, BSD_ERRNO.EINTR, BSD_ERRNO.EBADF, BSD_ERRNO.EPIPE],
    [2, 3, 4, 9, 32],
  );
  assert.equal(BSD_ERRNO.EAGAIN, 35);
});

// ---- FakeKqueue: kqueue(2) as the man page describes it ------------------------------------

interface Knote {
  ident: number;
  filter: number;
  /** EV_CLEAR / EV_ONESHOT as given at EV_ADD. */
  sticky: number;
  fflags: number;
  enabled: boolean;
  /** EVFILT_USER: triggered and not yet collected. */
  triggered: boolean;
  /** EVFILT_PROC / EVFILT_SIGNAL: a pending injected occurrence. */
  pending: { data: number; fflags: number } | null;
}

interface FakeQueue {
  wakeRead: number;
  wakeWrite: number;
  knotes: Map<string, Knote>;
  parking: number;
}

const STRERROR: Record<number, string> = {
  2: "No such file or directory", 3: "No such process", 9: "Bad file descriptor",
  22: "Invalid argument", 32: "Broken pipe",
};
const F_GETFD = 1;

/** What the selector asked of kevent(2), for the batching tests. */
interface KeventCall {
  nchanges: number;
  nevents: number;
  timeout: "zero" | "none";
  changes: { ident: number; filter: number; flags: number }[];
}

class FakeKqueue implements KqueueSystem {
  readonly evfiltUser: number;
  readonly procExitFflags: number;
  readonly calls: KeventCall[] = [];
  /** pids the fake pretends exist (EVFILT_PROC on others: ESRCH). */
  readonly livePids = new Set<number>();
  /** Make EV_ADD of (fd, filter) fail with this errno, as macOS does with EPIPE. */
  readonly addErrors = new Map<string, number>();
  private readonly queues = new Map<number, FakeQueue>();
  private lastErrno = 0;

  constructor(readonly layout: KeventLayout, os: "darwin" | "freebsd") {
    this.evfiltUser = os === "darwin" ? EVFILT_USER_DARWIN : EVFILT_USER_FREEBSD;
    this.procExitFflags = os === "darwin" ? NOTE_EXIT | NOTE_EXITSTATUS : NOTE_EXIT;
  }

  kqueue(): number {
    // A pipe stands for the kqueue: its read end is the kq's fd, and a byte in it wakes a
    // parked wait when something is triggered while parked.
    const ends = new Int32Array(2);
    if (wakerPipe(ends) < 0) return this.fail(BSD_ERRNO.EMFILE);
    this.queues.set(ends[0], { wakeRead: ends[0], wakeWrite: ends[1], knotes: new Map(), parking: 0 });
    return ends[0];
  }

  close(fd: number): number {
    const q = this.queues.get(fd);
    if (!q) return libc.close(fd);
    this.queues.delete(fd);
    libc.close(q.wakeRead);
    libc.close(q.wakeWrite);
    return 0;
  }

  errno(): number {
    return this.lastErrno;
  }

  strerror(errno: number): string {
    return STRERROR[errno] ?? `Unknown error: ${errno}`;
  }

  /** Pretend `pid` exited with `status`, or `signal` was delivered `count` times. */
  inject(kq: number, ident: number, filter: number, data: number, fflags = 0): void {
    const q = this.queues.get(kq)!;
    const kn = q.knotes.get(`${ident}:${filter}`);
    if (!kn) return; // nobody watches: the kernel would not record it
    kn.pending = { data: (kn.pending?.data ?? 0) + data, fflags };
    this.poke(q);
  }

  knoteCount(kq: number): number {
    return this.queues.get(kq)!.knotes.size;
  }

  private fail(errno: number): number {
    this.lastErrno = errno;
    return -1;
  }

  private poke(q: FakeQueue): void {
    if (q.parking > 0) libc.write(q.wakeWrite, new Uint8Array(1), 1);
  }

  private fdIsOpen(fd: number): boolean {
    return libc.fcntl(fd, F_GETFD, 0) >= 0;
  }

  /** kqueue(2), "changelist": apply one change; 0 or an errno. */
  private apply(q: FakeQueue, ident: number, filter: number, flags: number, fflags: number): number {
    const key = `${ident}:${filter}`;
    const kn = q.knotes.get(key);
    const isFd = filter === EVFILT_READ || filter === EVFILT_WRITE;
    if (isFd && !this.fdIsOpen(ident)) return BSD_ERRNO.EBADF;
    if (filter === this.evfiltUser && kn && (fflags & NOTE_TRIGGER)) kn.triggered = true;
    if (flags & EV_DELETE) {
      if (!kn) return BSD_ERRNO.ENOENT;
      q.knotes.delete(key);
      return 0;
    }
    if (flags & EV_ADD) {
      const injected = this.addErrors.get(key);
      if (injected) return injected;
      if (filter === EVFILT_PROC && !this.livePids.has(ident)) return BSD_ERRNO.ESRCH;
      if (filter === EVFILT_SIGNAL && !(ident >= 1 && ident < 32)) return BSD_ERRNO.EINVAL;
      if (!isFd && filter !== this.evfiltUser && filter !== EVFILT_PROC && filter !== EVFILT_SIGNAL) {
        return BSD_ERRNO.EINVAL;
      }
      if (kn) {
        kn.fflags = fflags;
        // "Re-adding an existing event will modify the parameters of the original event":
        // an existing knote is enabled only by EV_ENABLE (FreeBSD kqueue_register).
        if (flags & EV_ENABLE) kn.enabled = true;
        if (flags & EV_DISABLE) kn.enabled = false;
      } else {
        q.knotes.set(key, {
          ident, filter, sticky: flags & (EV_CLEAR | EV_ONESHOT), fflags,
          enabled: (flags & EV_DISABLE) === 0,
          triggered: filter === this.evfiltUser && (fflags & NOTE_TRIGGER) !== 0, pending: null,
        });
      }
      return 0;
    }
    if (flags & (EV_ENABLE | EV_DISABLE)) {
      if (!kn) return BSD_ERRNO.ENOENT;
      kn.enabled = (flags & EV_ENABLE) !== 0;
      return 0;
    }
    if (filter === this.evfiltUser) return kn ? 0 : BSD_ERRNO.ENOENT;
    return BSD_ERRNO.EINVAL;
  }

  kevent(
    kq: number,
    changes: Uint8Array | null,
    nchanges: number,
    events: Uint8Array | null,
    nevents: number,
    timeout: BigInt64Array | null,
  ): number {
    const q = this.queues.get(kq);
    if (!q) return this.fail(BSD_ERRNO.EBADF);
    const inList = new KeventArray(this.layout, Math.max(nchanges, 1));
    if (changes) inList.bytes.set(changes.subarray(0, nchanges * this.layout.size));
    const outList = new KeventArray(this.layout, Math.max(nevents, 1));
    const call: KeventCall = {
      nchanges, nevents, timeout: timeout === null ? "none" : "zero", changes: [],
    };
    this.calls.push(call);
    if (timeout !== null) assert.ok(timeout[0] === 0n && timeout[1] === 0n, "JS thread polls only");
    let out = 0;
    // The changelist, in order. An error (or EV_RECEIPT) is written to the eventlist as an
    // EV_ERROR entry with the errno in data; with no room left the call fails with that errno
    // and the rest of the changelist is not processed (FreeBSD kern_event.c).
    for (let i = 0; i < nchanges; i++) {
      const kev = inList.get(i);
      call.changes.push({ ident: kev.ident, filter: kev.filter, flags: kev.flags });
      const err = this.apply(q, kev.ident, kev.filter, kev.flags, kev.fflags);
      if (err !== 0 || (kev.flags & EV_RECEIPT)) {
        if (out === nevents) return err ? this.fail(err) : out;
        outList.write(out++, { ...kev, flags: EV_ERROR, data: err });
      }
    }
    if (nchanges > 0) this.poke(q);
    // Both kernels return the change results alone when there are any.
    if (out > 0 || nevents === 0) {
      if (events) events.set(outList.bytes.subarray(0, out * this.layout.size));
      return out;
    }
    assert.ok(timeout !== null, "the JS thread never blocks in kevent()");
    libc.read(q.wakeRead, new Uint8Array(64), 64); // a poke has done its job
    for (const [key, kn] of q.knotes) {
      if (out === nevents) break;
      if (!kn.enabled) continue;
      const ev = this.scan(q, key, kn);
      if (ev) outList.write(out++, { ident: kn.ident, filter: kn.filter, udata: 0, ...ev });
    }
    if (events) events.set(outList.bytes.subarray(0, out * this.layout.size));
    return out;
  }

  /** Is `kn` active? Its output fields if so (and EV_CLEAR / EV_ONESHOT take effect). */
  private scan(
    q: FakeQueue,
    key: string,
    kn: Knote,
  ): { flags: number; fflags: number; data: number } | null {
    if (kn.filter === EVFILT_READ || kn.filter === EVFILT_WRITE) {
      const pfd = new Int32Array(2);
      pfd[0] = kn.ident;
      pfd[1] = kn.filter === EVFILT_READ ? POLLIN | 0x2000 /* POLLRDHUP */ : POLLOUT;
      pollLib.poll(pfd, 1, 0);
      const r = pfd[1] >>> 16;
      if (r & POLLNVAL) {
        q.knotes.delete(key); // close(2) removes the fd's knotes
        return null;
      }
      // EV_EOF: the reading side saw the peer shut down (POLLRDHUP/POLLHUP); the writing side
      // cannot send any more (POLLHUP/POLLERR). A socket error goes in fflags.
      const fflags = (r & POLLERR) ? 54 /* ECONNRESET, BSD <sys/errno.h> */ : 0;
      if (kn.filter === EVFILT_READ) {
        if (!(r & (POLLIN | POLLHUP | POLLERR | 0x2000))) return null;
        return { flags: (r & (POLLHUP | 0x2000)) ? EV_EOF : 0, fflags, data: 1 };
      }
      if (!(r & (POLLOUT | POLLHUP | POLLERR))) return null;
      return { flags: (r & (POLLHUP | POLLERR)) ? EV_EOF : 0, fflags, data: 1 };
    }
    if (kn.filter === this.evfiltUser) {
      if (!kn.triggered) return null;
      if (kn.sticky & EV_CLEAR) kn.triggered = false;
      return { flags: kn.sticky, fflags: kn.fflags & 0x00ffffff, data: 0 };
    }
    if (!kn.pending) return null;
    const { data, fflags } = kn.pending;
    kn.pending = null;
    if (kn.filter === EVFILT_PROC) {
      q.knotes.delete(key); // NOTE_EXIT: the knote is EV_ONESHOT from then on
      return { flags: EV_EOF | EV_ONESHOT, fflags, data };
    }
    return { flags: 0, fflags: 0, data }; // EVFILT_SIGNAL: data = deliveries since last time
  }

  /** Parks through the real poll parker on the fds of the enabled knotes and the poke pipe. */
  openParker(kq: number): Parker {
    const q = this.queues.get(kq)!;
    let bytes = new Uint8Array(0);
    const parker = openParker({
      kind: "poll",
      libPath: systemLibcPath,
      pollSet: () => {
        const entries: [number, number][] = [[q.wakeRead, POLLIN]];
        let due = false;
        for (const kn of q.knotes.values()) {
          if (!kn.enabled) continue;
          if (kn.filter === EVFILT_READ) entries.push([kn.ident, POLLIN]);
          else if (kn.filter === EVFILT_WRITE) entries.push([kn.ident, POLLOUT]);
          else if (kn.triggered || kn.pending) due = true;
        }
        if (due) this.pokeNow(q);
        bytes = new Uint8Array(entries.length * POLLFD_SIZE);
        const i32 = new Int32Array(bytes.buffer), i16 = new Int16Array(bytes.buffer);
        entries.forEach(([fd, ev], i) => {
          i32[i * 2] = fd;
          i16[i * 4 + 2] = ev;
        });
        return { bytes, count: entries.length };
      },
    });
    return {
      wait: async (timeoutMs) => {
        q.parking++;
        try {
          await parker.wait(timeoutMs);
        } finally {
          q.parking--;
        }
      },
      close: () => parker.close(),
    };
  }

  private pokeNow(q: FakeQueue): void {
    libc.write(q.wakeWrite, new Uint8Array(1), 1);
  }
}

// ---- The shared contract, on both layouts ------------------------------------------------------

const FAKES: [string, KeventLayout, "darwin" | "freebsd"][] = [
  ["kqueue-fake macOS", KEVENT_32, "darwin"],
  ["kqueue-fake FreeBSD 12+", KEVENT_64_FREEBSD12, "freebsd"],
];
for (const [name, layout, os] of FAKES) {
  selectorContract(name, () => new KqueueSelector(new FakeKqueue(layout, os)));
}

// ---- kqueue-specific control flow (contract-only) -------------------------------------------

function fakeSelector(layout = KEVENT_32, os: "darwin" | "freebsd" = "darwin") {
  const fake = new FakeKqueue(layout, os);
  const sel = new KqueueSelector(fake);
  // deno-lint-ignore no-explicit-any
  const kq = (sel as any).kq as number;
  return { fake, sel, kq };
}

test("[kqueue-fake] the waker is EVFILT_USER with EV_CLEAR; wakeup() sends NOTE_TRIGGER", () => {
  for (const [, layout, os] of FAKES) {
    const { fake, sel } = fakeSelector(layout, os);
    try {
      const first = fake.calls[0].changes[0];
      assert.deepEqual(first, {
        ident: 0, filter: fake.evfiltUser, flags: EV_ADD | EV_CLEAR | EV_RECEIPT,
      });
      fake.calls.length = 0;
      sel.wakeup();
      sel.wakeup(); // coalesced: no second syscall
      assert.equal(fake.calls.length, 1);
      assert.equal(fake.calls[0].nevents, 0);
      assert.equal(sel.poll(), 0); // collected (and cleared), not reported as an fd
      sel.wakeup();
      assert.equal(fake.calls.length, 3, "after poll() collected it, wakeup() triggers again");
    } finally {
      sel.close();
    }
  }
});

test("[kqueue-fake] register() submits at once with EV_RECEIPT; modify/unregister are batched into the next poll()", () => {
  const { fake, sel } = fakeSelector();
  const [a, b] = socketpair();
  try {
    fake.calls.length = 0;
    sel.register(a.fileno(), EVENT_READ | EVENT_WRITE);
    assert.equal(fake.calls.length, 1);
    assert.deepEqual(fake.calls[0].changes.map((c) => [c.filter, c.flags]), [
      [EVFILT_READ, EV_ADD | EV_RECEIPT],
      [EVFILT_WRITE, EV_ADD | EV_RECEIPT],
    ]);
    assert.equal(fake.calls[0].nevents, 2, "room for the receipts only");
    sel.modify(a.fileno(), EVENT_READ);
    sel.modify(a.fileno(), EVENT_READ | EVENT_WRITE);
    sel.modify(a.fileno(), EVENT_READ);
    assert.equal(fake.calls.length, 1, "no syscall for modify()");
    b.send(enc.encode("x"));
    assert.deepEqual([...pollOnce(sel)], [[a.fileno(), EVENT_READ]]);
    assert.equal(fake.calls.length, 2, "one kevent() both submits and collects");
    // Dropped interest is deleted; kept interest is deleted and added again (a fresh knote on
    // whatever file the fd names now); no change ever re-adds or enables an existing knote.
    assert.deepEqual(fake.calls[1].changes.map((c) => [c.filter, c.flags]), [
      [EVFILT_READ, EV_DELETE], [EVFILT_READ, EV_ADD], [EVFILT_WRITE, EV_DELETE],
      [EVFILT_READ, EV_DELETE], [EVFILT_READ, EV_ADD], [EVFILT_WRITE, EV_ADD],
      [EVFILT_READ, EV_DELETE], [EVFILT_READ, EV_ADD], [EVFILT_WRITE, EV_DELETE],
    ]);
    assert.equal(fake.calls[1].timeout, "zero");
    sel.unregister(a.fileno());
    assert.equal(fake.calls.length, 2);
    assert.equal(sel.poll(), 0);
    assert.deepEqual(fake.calls[2].changes.map((c) => [c.filter, c.flags]), [
      [EVFILT_READ, EV_DELETE],
    ]);
  } finally {
    sel.close();
    a.close();
    b.close();
  }
});

test("[kqueue-fake] a batched delete goes before a re-registration of the same fd", () => {
  const { fake, sel, kq } = fakeSelector();
  const [a, b] = socketpair();
  try {
    sel.register(a.fileno(), EVENT_READ);
    sel.unregister(a.fileno()); // queued
    fake.calls.length = 0;
    sel.register(a.fileno(), EVENT_READ); // must not be undone by the queued delete
    assert.deepEqual(fake.calls[0].changes.map((c) => [c.filter, c.flags]), [
      [EVFILT_READ, EV_DELETE | EV_RECEIPT], [EVFILT_READ, EV_ADD | EV_RECEIPT],
    ]);
    assert.equal(fake.knoteCount(kq), 2); // the waker and a's EVFILT_READ
    b.send(enc.encode("x"));
    assert.deepEqual([...pollOnce(sel)], [[a.fileno(), EVENT_READ]]);
  } finally {
    sel.close();
    a.close();
    b.close();
  }
});

test("[kqueue-fake] EV_ERROR of register() is an OSError with the BSD name; a half-done add is undone", () => {
  const { fake, sel, kq } = fakeSelector();
  const [a, b] = socketpair();
  try {
    fake.addErrors.set(`${a.fileno()}:${EVFILT_WRITE}`, BSD_ERRNO.EINVAL);
    assert.throws(() => sel.register(a.fileno(), EVENT_READ | EVENT_WRITE), (e: unknown) =>
      e instanceof OSError && e.code === "EINVAL" && e.errno === 22 &&
      /kevent\(EV_ADD, fd \d+\)/.test(e.message));
    assert.equal(sel.poll(), 0); // submits the undo of the READ knote
    assert.equal(fake.knoteCount(kq), 1, "only the waker is left");
    fake.addErrors.clear();
    sel.register(a.fileno(), EVENT_READ); // not "already registered"
  } finally {
    sel.close();
    a.close();
    b.close();
  }
});

test("[kqueue-fake] EPIPE for EVFILT_WRITE (macOS, a pipe with no reader) reports the fd writable", () => {
  const { fake, sel } = fakeSelector();
  const [a, b] = socketpair();
  try {
    fake.addErrors.set(`${a.fileno()}:${EVFILT_WRITE}`, BSD_ERRNO.EPIPE);
    sel.register(a.fileno(), EVENT_WRITE);
    assert.deepEqual([...pollOnce(sel)], [[a.fileno(), EVENT_WRITE]]);
  } finally {
    sel.close();
    a.close();
    b.close();
  }
});

test("[kqueue-fake] batched changes on a closed fd fail with EBADF/ENOENT and are dropped", () => {
  const { fake, sel } = fakeSelector();
  const [a, b] = socketpair();
  const [c, d] = socketpair();
  try {
    sel.register(a.fileno(), EVENT_READ);
    sel.register(c.fileno(), EVENT_READ);
    sel.modify(a.fileno(), EVENT_WRITE);
    a.close();
    b.close();
    d.send(enc.encode("x"));
    // The EV_ERROR entries come back alone (the kernel skips the scan): poll() asks again,
    // without changes, so the data is still reported by this poll().
    const calls = fake.calls.length;
    assert.deepEqual([...pollOnce(sel)], [[c.fileno(), EVENT_READ]]);
    assert.equal(fake.calls.length, calls + 2);
    assert.ok(fake.calls[calls].nevents >= fake.calls[calls].nchanges);
    assert.equal(fake.calls[calls + 1].nchanges, 0);
  } finally {
    sel.close();
    c.close();
    d.close();
  }
});

test("[kqueue-fake] EV_EOF on EVFILT_WRITE wakes the reader too; a socket error wakes the writer", () => {
  const { sel } = fakeSelector();
  const [a, b] = socketpair();
  try {
    sel.register(a.fileno(), EVENT_WRITE);
    b.close();
    const ready = pollOnce(sel);
    assert.equal(ready.get(a.fileno()), EVENT_READ | EVENT_WRITE);
  } finally {
    sel.close();
    a.close();
  }
});

test("[kqueue-fake] child exits: EVFILT_PROC/NOTE_EXIT, one-shot; ESRCH for a gone pid", () => {
  for (const [, layout, os] of FAKES) {
    const { fake, sel, kq } = fakeSelector(layout, os);
    try {
      fake.livePids.add(4242);
      sel.watchChildExit(4242);
      const add = fake.calls.at(-1)!;
      assert.deepEqual(add.changes.at(-1), { ident: 4242, filter: EVFILT_PROC, flags: EV_ADD | EV_RECEIPT });
      assert.equal(sel.poll(), 0);
      fake.inject(kq, 4242, EVFILT_PROC, 3 << 8, NOTE_EXIT); // exit(3) as a wait status
      assert.equal(sel.poll(), 0, "no fd is ready");
      assert.deepEqual(sel.childExits, [{ pid: 4242, status: 3 << 8 }]);
      assert.equal(sel.poll(), 0);
      assert.deepEqual(sel.childExits, [], "reported once");
      assert.equal(fake.knoteCount(kq), 1, "the kernel dropped the one-shot knote");
      assert.throws(() => sel.watchChildExit(99999), (e: unknown) =>
        e instanceof OSError && e.code === "ESRCH");
    } finally {
      sel.close();
    }
  }
});

test("[kqueue-fake] signals: EVFILT_SIGNAL reports the signal and how many deliveries", () => {
  const { fake, sel, kq } = fakeSelector(KEVENT_64_FREEBSD12, "freebsd");
  try {
    sel.watchSignal(30);
    fake.inject(kq, 30, EVFILT_SIGNAL, 2);
    assert.equal(sel.poll(), 0);
    assert.deepEqual(sel.signalsSeen, [{ signal: 30, count: 2 }]);
    sel.unwatchSignal(30);
    sel.poll();
    assert.equal(fake.knoteCount(kq), 1);
    assert.throws(() => sel.watchSignal(99), (e: unknown) => e instanceof OSError && e.code === "EINVAL");
  } finally {
    sel.close();
  }
});

test("[kqueue-fake] a child exit during a park ends it, and poll() reports it", async () => {
  const { fake, sel, kq } = fakeSelector();
  try {
    fake.livePids.add(77);
    sel.watchChildExit(77);
    setTimeout(() => fake.inject(kq, 77, EVFILT_PROC, 0, NOTE_EXIT), 20);
    const start = performance.now();
    await sel.park(3000);
    assert.ok(performance.now() - start < 1500);
    sel.poll();
    assert.deepEqual(sel.childExits, [{ pid: 77, status: 0 }]);
  } finally {
    sel.close();
  }
});

test("[kqueue-fake] the JS thread never blocks in kevent(): every collecting call has a zero timeout", async () => {
  const { fake, sel } = fakeSelector();
  const [a, b] = socketpair();
  try {
    sel.register(a.fileno(), EVENT_READ);
    setTimeout(() => b.send(enc.encode("x")), 10);
    await sel.park(2000);
    sel.poll();
    for (const c of fake.calls) {
      if (c.nevents > 0) assert.equal(c.timeout, "zero");
    }
  } finally {
    sel.close();
    a.close();
    b.close();
  }
});

test("platform/darwin.ts loads on this OS without binding kqueue; the real system is refused here", async () => {
  const mod = await import("../../platform/darwin.ts");
  assert.equal(typeof mod.KqueueSelector, "function");
  assert.throws(() => new mod.KqueueSelector(), /kqueue is not available on linux/);
});

test("[kqueue-fake] a whole event loop runs on it: readers, writers, timers, parking", async () => {
  const { newEventLoop } = await import("../../mod.ts");
  const loop = newEventLoop({ selector: new KqueueSelector(new FakeKqueue(KEVENT_32, "darwin")) });
  const [a, b] = socketpair();
  try {
    a.setBlocking(false);
    b.setBlocking(false);
    const got: string[] = [];
    loop.addReader(a, () => {
      got.push(new TextDecoder().decode(a.recv(100)));
      if (got.length === 2) loop.stop();
    });
    loop.addWriter(b, () => {
      loop.removeWriter(b);
      b.send(enc.encode("one"));
    });
    loop.callLater(0.03, () => b.send(enc.encode("two"))); // after a park
    await loop.runForever();
    assert.deepEqual(got, ["one", "two"]);
  } finally {
    loop.close();
    a.close();
    b.close();
  }
});
