/**
 * macOS and FreeBSD: a kqueue(2) Selector with an EVFILT_USER waker.
 *
 * How it uses kqueue (kqueue(2) on both systems; constants and layouts in ffi/kqueue.ts):
 * - Each fd has up to two knotes, EVFILT_READ and EVFILT_WRITE, level-triggered like epoll in
 *   linux.ts: a reader that leaves data behind is told again.
 * - Changes are batched: modify() and unregister() only append to a changelist, which the next
 *   poll() submits in the same kevent() call that collects events — a write-interest toggle
 *   costs no syscall of its own. register() is submitted at once, with EV_RECEIPT, so a bad fd
 *   fails with OSError where it is first seen, as the Selector contract says; any pending
 *   changes go with it, in order, so a batched delete never lands after a re-registration.
 * - A knote exists exactly for each filter in the fd's interest. modify() EV_DELETEs a filter
 *   whose interest goes away, and for each filter it keeps or gains sends EV_DELETE (if it had
 *   one) then EV_ADD: a fresh knote on whatever file the fd names now. An fd closed and reopened
 *   under the same number has lost its knotes (close(2) removes them; the delete then fails
 *   with ENOENT, dropped below), so this re-creates them exactly where epoll would answer
 *   ENOENT and the loop would re-register. It never re-adds or enables an existing knote,
 *   which kqueue(2) allows ("Re-adding an existing event will modify the parameters of the
 *   original event") but libkqueue refuses for sockets and pipes with a stale errno (its
 *   evfilt_read/write_knote_modify fail unless EV_CLEAR), and which libkqueue cannot do for a
 *   closed-and-reused fd, whose knote it never learns is gone (its BUGS.md). The price on
 *   macOS and FreeBSD is one more changelist entry per kept filter and a knote freed and
 *   allocated where EV_DISABLE/EV_ENABLE would reuse it, in the same one kevent() call.
 * - EV_ERROR results of batched changes: ENOENT and EBADF mean the fd was closed and the kernel
 *   already forgot it (as epoll(7) Q6), so they are dropped; any other error marks the fd ready
 *   both ways, so its callbacks meet the error from their own read() or write(). A call that
 *   returned change errors skipped the event scan (both kernels return the errors alone), so
 *   poll() makes one more call, without changes, to collect. For register() every EV_ERROR
 *   becomes an OSError, with the BSD errno name.
 * - EV_EOF is surfaced to readers: on EVFILT_READ the fd is readable (read() returns 0 or the
 *   error); on EVFILT_WRITE it means the peer is gone, so the fd is reported readable too, as
 *   epoll reports EPOLLHUP to both directions. A socket error in fflags wakes the writer too.
 * - The waker is EVFILT_USER with EV_CLEAR: NOTE_TRIGGER wakes a park, and the event clears
 *   itself when poll() collects it — no pipe, and no read() to drain it (EV_CLEAR saves that
 *   syscall). Only the JS thread collects events: parking waits on a second kqueue that watches
 *   this one (ffi/kqueue.ts openNestedParker), so the parking thread never takes an event.
 * - Child exits (EVFILT_PROC, NOTE_EXIT) and signals (EVFILT_SIGNAL) can be watched on the same
 *   kqueue for a subprocess or signal module: see watchChildExit() and watchSignal().
 */
import { EVENT_READ, EVENT_WRITE, type Selector } from "../loop/selector/selector.ts";
import {
  BSD_ERRNO, EV_ADD, EV_CLEAR, EV_DELETE, EV_EOF, EV_ERROR, EV_RECEIPT,
  EVFILT_PROC, EVFILT_READ, EVFILT_SIGNAL, EVFILT_WRITE, KeventArray, kqueueOsError,
  kqueueSystem, type KqueueSystem, NOTE_EXIT, NOTE_TRIGGER, TIMESPEC_SIZE,
} from "../ffi/kqueue.ts";
import type { Parker } from "../ffi/park.ts";

/** How many events one poll() collects at most; more wait for the next iteration. */
const MAX_EVENTS = 1024;
/** Pending changes are flushed early when this many are queued. */
const MAX_CHANGES = 256;
/** The EVFILT_USER ident of the waker (any value; one user event per kqueue). */
const WAKE_IDENT = 0;

/** A child that exited, as reported by EVFILT_PROC/NOTE_EXIT. */
export interface ChildExit {
  pid: number;
  /** The wait(2) status (macOS with NOTE_EXITSTATUS; FreeBSD always). */
  status: number;
}

/** A signal seen by EVFILT_SIGNAL, with how many deliveries since it was last reported. */
export interface SignalSeen {
  signal: number;
  count: number;
}

export class KqueueSelector implements Selector {
  readonly readyFds = new Int32Array(MAX_EVENTS);
  readonly readyEvents = new Uint8Array(MAX_EVENTS);
  /** Children whose exit the last poll() collected (see watchChildExit). */
  readonly childExits: ChildExit[] = [];
  /** Signals the last poll() collected (see watchSignal). */
  readonly signalsSeen: SignalSeen[] = [];

  private readonly system: KqueueSystem;
  private readonly kq: number;
  private readonly events: KeventArray;
  private readonly changes: KeventArray;
  private pendingChanges = 0;
  private readonly zeroTimeout = new BigInt64Array(TIMESPEC_SIZE / 8);
  private readonly trigger: KeventArray;
  /**
   * fd → interest bits (EVENT_READ | EVENT_WRITE); undefined when not registered. Each bit has
   * a knote (EVFILT_READ, EVFILT_WRITE), except a write knote macOS refused with EPIPE.
   */
  private readonly interest: (number | undefined)[] = [];
  // Merging two events of one fd into one ready entry: slotOf[fd] is valid when
  // slotStamp[fd] === batch.
  private readonly slotOf: number[] = [];
  private readonly slotStamp: number[] = [];
  private batch = 0;
  private out = 0;
  /** Events were collected outside poll() (register, park): the next poll() reports them. */
  private carrying = false;
  private parker: Parker | undefined;
  private wakeupPending = false;
  private closed = false;

  /** A kqueue selector over the real system calls, or over `system` (tests inject a fake). */
  constructor(system: KqueueSystem = kqueueSystem()) {
    this.system = system;
    this.events = new KeventArray(system.layout, MAX_EVENTS);
    this.changes = new KeventArray(system.layout, MAX_CHANGES);
    this.trigger = new KeventArray(system.layout, 1);
    this.trigger.set(0, WAKE_IDENT, system.evfiltUser, 0, NOTE_TRIGGER);
    const kq = system.kqueue();
    if (kq < 0) throw kqueueOsError(system, "kqueue");
    this.kq = kq;
    try {
      this.submitNow([[WAKE_IDENT, system.evfiltUser, EV_ADD | EV_CLEAR, 0]], "EVFILT_USER");
    } catch (e) {
      system.close(kq);
      throw e;
    }
  }

  // ---- Changes ---------------------------------------------------------------------------------

  private queueChange(ident: number, filter: number, flags: number, fflags = 0): void {
    if (this.pendingChanges === MAX_CHANGES) this.flush();
    this.changes.set(this.pendingChanges++, ident, filter, flags, fflags);
  }

  /**
   * Submit the pending changes, then `own`, in one kevent() call with EV_RECEIPT on each, and
   * return the errno of each of `own` (0: done). Errors of the pending changes are handled as in
   * poll(). The eventlist has exactly one slot per change, so the kernel returns receipts only,
   * in change order (both kernels skip the event scan once a change produced output); anything
   * else that came back is kept for the next poll().
   */
  private submitNow(own: [number, number, number, number][], what: string): number[] {
    if (this.pendingChanges + own.length > MAX_CHANGES) this.flush();
    const first = this.pendingChanges;
    const changes = this.changes;
    for (let i = 0; i < first; i++) {
      changes.set(i, changes.ident(i), changes.filter(i), changes.flags(i) | EV_RECEIPT, changes.fflags(i));
    }
    for (const [k, [ident, filter, flags, fflags]] of own.entries()) {
      changes.set(first + k, ident, filter, flags | EV_RECEIPT, fflags);
    }
    const total = first + own.length;
    this.pendingChanges = 0;
    const n = this.system.kevent(
      this.kq, changes.bytes, total, this.events.bytes, total, this.zeroTimeout,
    );
    if (n < 0) throw kqueueOsError(this.system, `kevent(${what})`);
    const results = own.map(() => 0);
    this.beginCarry();
    const ev = this.events;
    for (let i = 0; i < n; i++) {
      // Receipts come back in the order of the changes; entry i answers change i.
      const isReceipt = (ev.flags(i) & EV_ERROR) !== 0 && i < total &&
        ev.ident(i) === changes.ident(i) && ev.filter(i) === changes.filter(i);
      if (isReceipt && i >= first) results[i - first] = ev.data(i);
      else this.collect(i);
    }
    return results;
  }

  /** Submit the pending changes now (a full changelist, or before parking). */
  private flush(): void {
    if (this.pendingChanges === 0) return;
    this.beginCarry();
    this.collectFromKernel();
  }

  // ---- The Selector contract ------------------------------------------------------------------

  register(fd: number, events: number): void {
    if (this.interest[fd] !== undefined) {
      throw kqueueOsError(this.system, `kqueue register(fd ${fd})`, BSD_ERRNO.EEXIST);
    }
    const own: [number, number, number, number][] = [];
    if (events & EVENT_READ) own.push([fd, EVFILT_READ, EV_ADD, 0]);
    if (events & EVENT_WRITE) own.push([fd, EVFILT_WRITE, EV_ADD, 0]);
    const errs = own.length > 0 ? this.submitNow(own, `EV_ADD fd ${fd}`) : [];
    let added = 0, failed = 0;
    for (const [k, [, filter]] of own.entries()) {
      const bit = filter === EVFILT_READ ? EVENT_READ : EVENT_WRITE;
      const err = errs[k] ?? 0; // submitNow returns one result per change of `own`
      if (err === 0) added |= bit;
      // macOS refuses EVFILT_WRITE on a pipe whose reader is gone (EPIPE): the fd *is*
      // writable, in that a write() will fail at once, so it is reported ready instead.
      else if (err === BSD_ERRNO.EPIPE && bit === EVENT_WRITE) this.markReady(fd, EVENT_WRITE);
      else failed = failed || err;
    }
    if (failed) {
      if (added & EVENT_READ) this.queueChange(fd, EVFILT_READ, EV_DELETE);
      if (added & EVENT_WRITE) this.queueChange(fd, EVFILT_WRITE, EV_DELETE);
      throw kqueueOsError(this.system, `kevent(EV_ADD, fd ${fd})`, failed);
    }
    this.interest[fd] = events;
  }

  modify(fd: number, events: number): void {
    const had = this.interest[fd];
    if (had === undefined) {
      throw kqueueOsError(this.system, `kqueue modify(fd ${fd})`, BSD_ERRNO.ENOENT);
    }
    // See the module comment: delete what goes or is kept, add what is kept or gained.
    if (had & EVENT_READ) this.queueChange(fd, EVFILT_READ, EV_DELETE);
    if (events & EVENT_READ) this.queueChange(fd, EVFILT_READ, EV_ADD);
    if (had & EVENT_WRITE) this.queueChange(fd, EVFILT_WRITE, EV_DELETE);
    if (events & EVENT_WRITE) this.queueChange(fd, EVFILT_WRITE, EV_ADD);
    this.interest[fd] = events;
  }

  unregister(fd: number): void {
    const had = this.interest[fd];
    if (had === undefined) return;
    if (had & EVENT_READ) this.queueChange(fd, EVFILT_READ, EV_DELETE);
    if (had & EVENT_WRITE) this.queueChange(fd, EVFILT_WRITE, EV_DELETE);
    this.interest[fd] = undefined;
  }

  poll(): number {
    if (!this.carrying) this.beginBatch();
    this.carrying = false;
    this.collectFromKernel();
    return this.out;
  }

  park(timeoutMs: number): Promise<void> {
    // The kernel must know every change before we sleep on it (a newly enabled filter).
    this.flush();
    if (this.carrying && (this.out > 0 || this.childExits.length > 0 || this.signalsSeen.length > 0)) {
      return Promise.resolve();
    }
    this.parker ??= this.system.openParker(this.kq);
    return this.parker.wait(timeoutMs);
  }

  wakeup(): void {
    if (this.wakeupPending || this.closed) return;
    this.wakeupPending = true;
    if (this.system.kevent(this.kq, this.trigger.bytes, 1, null, 0, null) < 0) {
      throw kqueueOsError(this.system, "kevent(NOTE_TRIGGER)");
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.parker?.close();
    this.system.close(this.kq);
  }

  // ---- Child exits and signals -----------------------------------------------------------------

  /**
   * Report `pid`'s exit in `childExits` (EVFILT_PROC, NOTE_EXIT; one-shot: the kernel drops the
   * knote once it fired). OSError ESRCH if the process is already gone — reap it with waitpid.
   */
  watchChildExit(pid: number): void {
    const [err] = this.submitNow([[pid, EVFILT_PROC, EV_ADD, this.system.procExitFflags]], "EVFILT_PROC");
    if (err) throw kqueueOsError(this.system, `kevent(EVFILT_PROC, pid ${pid})`, err);
  }

  /** Stop watching `pid` (batched; an exited child's knote is already gone). */
  unwatchChildExit(pid: number): void {
    this.queueChange(pid, EVFILT_PROC, EV_DELETE);
  }

  /**
   * Report deliveries of `signal` in `signalsSeen` (EVFILT_SIGNAL). kqueue sees a signal after
   * its normal delivery, which still happens: the runtime's own handler keeps running.
   */
  watchSignal(signal: number): void {
    const [err] = this.submitNow([[signal, EVFILT_SIGNAL, EV_ADD, 0]], "EVFILT_SIGNAL");
    if (err) throw kqueueOsError(this.system, `kevent(EVFILT_SIGNAL, ${signal})`, err);
  }

  /** Stop watching `signal` (batched). */
  unwatchSignal(signal: number): void {
    this.queueChange(signal, EVFILT_SIGNAL, EV_DELETE);
  }

  // ---- Collecting events ------------------------------------------------------------------------

  private beginBatch(): void {
    this.batch++;
    this.out = 0;
    this.childExits.length = 0;
    this.signalsSeen.length = 0;
  }

  private beginCarry(): void {
    if (!this.carrying) {
      this.beginBatch();
      this.carrying = true;
    }
  }

  /** One kevent() call: submit the pending changes, collect what is ready, without waiting. */
  private collectFromKernel(): void {
    const nchanges = this.pendingChanges;
    this.pendingChanges = 0;
    // The eventlist has room for an EV_ERROR per change (MAX_CHANGES < MAX_EVENTS): with no
    // room the kernel would stop at the first failing change and return -1 (kqueue(2)).
    const n = this.system.kevent(
      this.kq, this.changes.bytes, nchanges, this.events.bytes, MAX_EVENTS, this.zeroTimeout,
    );
    if (n < 0) {
      // EINTR: the changes were applied before the wait was interrupted (kqueue(2)).
      if (this.system.errno() === BSD_ERRNO.EINTR) return;
      throw kqueueOsError(this.system, "kevent");
    }
    let changeErrors = false;
    for (let i = 0; i < n; i++) {
      if (this.events.flags(i) & EV_ERROR) changeErrors = true;
      this.collect(i);
    }
    // The kernel returned the change errors alone, without scanning: scan now (rare: a change
    // on an fd closed behind our back).
    if (changeErrors && nchanges > 0) this.collectFromKernel();
  }

  /** Decode event `i` of the eventlist into the current batch. */
  private collect(i: number): void {
    const ev = this.events;
    const filter = ev.filter(i), flags = ev.flags(i), ident = ev.ident(i);
    if (flags & EV_ERROR) {
      const errno = ev.data(i);
      if (errno === 0) return; // a receipt
      if (filter !== EVFILT_READ && filter !== EVFILT_WRITE) return; // a stale delete
      // The fd is gone: the kernel forgot it, as epoll does.
      if (errno === BSD_ERRNO.ENOENT || errno === BSD_ERRNO.EBADF) return;
      if (this.interest[ident] !== undefined) this.markReady(ident, EVENT_READ | EVENT_WRITE);
      return;
    }
    if (filter === EVFILT_READ) {
      // EV_EOF with a socket error in fflags: the writer must learn of it too (as EPOLLERR).
      const both = (flags & EV_EOF) !== 0 && ev.fflags(i) !== 0;
      if (this.interest[ident] !== undefined) {
        this.markReady(ident, both ? EVENT_READ | EVENT_WRITE : EVENT_READ);
      }
    } else if (filter === EVFILT_WRITE) {
      // EV_EOF on the write side: the peer is gone, and the reader must hear of it (as EPOLLHUP).
      if (this.interest[ident] !== undefined) {
        this.markReady(ident, (flags & EV_EOF) ? EVENT_READ | EVENT_WRITE : EVENT_WRITE);
      }
    } else if (filter === this.system.evfiltUser) {
      this.wakeupPending = false;
    } else if (filter === EVFILT_PROC) {
      if (ev.fflags(i) & NOTE_EXIT) this.childExits.push({ pid: ident, status: ev.data(i) });
    } else if (filter === EVFILT_SIGNAL) {
      this.signalsSeen.push({ signal: ident, count: ev.data(i) });
    }
  }

  /** Add `bits` to `fd`'s ready entry in this batch, creating the entry if needed. */
  private markReady(fd: number, bits: number): void {
    if (this.slotStamp[fd] === this.batch) {
      this.readyEvents[this.slotOf[fd]!]! |= bits; // stamped this batch: its slot is set
      return;
    }
    if (this.out === MAX_EVENTS) return; // level-triggered: reported again next time
    this.slotStamp[fd] = this.batch;
    this.slotOf[fd] = this.out;
    this.readyFds[this.out] = fd;
    this.readyEvents[this.out++] = bits;
  }
}
