/**
 * Linux: an epoll(7) Selector with an eventfd(2) waker.
 *
 * Level-triggered on purpose: the parking thread (ffi/park.ts) observes readiness with its own
 * epoll_wait and must leave the events for the JS thread's poll() to collect.
 */
import {
  EFD_CLOEXEC, EFD_NONBLOCK, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD,
  EPOLL_EVENT_DATA32, EPOLL_EVENT_SIZE, EPOLL_EVENT_STRIDE32, EPOLLERR, EPOLLHUP, EPOLLIN,
  EPOLLOUT,
} from "../ffi/epoll.ts";
import { check, EAGAIN, EINTR, lastErrno, libc, osError } from "../ffi/libc.ts";
import { openEpollParker, type Parker } from "../ffi/park.ts";
import { EVENT_READ, EVENT_WRITE, type Selector } from "../loop/selector/selector.ts";

/** How many events one poll() collects at most; more wait for the next iteration. */
const MAX_EVENTS = 1024;

function interestToEpoll(events: number): number {
  return ((events & EVENT_READ) ? EPOLLIN : 0) | ((events & EVENT_WRITE) ? EPOLLOUT : 0);
}

export class EpollSelector implements Selector {
  readonly readyFds = new Int32Array(MAX_EVENTS);
  readonly readyEvents = new Uint8Array(MAX_EVENTS);
  private readonly epfd: number;
  private readonly wakeFd: number;
  private readonly eventBuf = new Int32Array(MAX_EVENTS * EPOLL_EVENT_STRIDE32);
  private readonly ctlBuf = new Int32Array(EPOLL_EVENT_SIZE / 4);
  private readonly counter = new BigUint64Array(1); // eventfd reads/writes 8 bytes
  private readonly one = new BigUint64Array([1n]);
  private parker: Parker | undefined;
  private wakeupPending = false;
  private closed = false;

  constructor() {
    this.epfd = check(libc.epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
    try {
      this.wakeFd = check(libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd");
    } catch (e) {
      libc.close(this.epfd);
      throw e;
    }
    this.ctl(EPOLL_CTL_ADD, this.wakeFd, EPOLLIN);
  }

  private ctl(op: number, fd: number, epollEvents: number): void {
    const b = this.ctlBuf;
    b[0] = epollEvents;
    b[EPOLL_EVENT_DATA32] = fd;
    b[EPOLL_EVENT_DATA32 + 1] = 0;
    if (libc.epoll_ctl(this.epfd, op, fd, b) < 0) {
      const name = op === EPOLL_CTL_ADD ? "ADD" : op === EPOLL_CTL_MOD ? "MOD" : "DEL";
      throw osError(`epoll_ctl(EPOLL_CTL_${name}, fd ${fd})`);
    }
  }

  register(fd: number, events: number): void {
    this.ctl(EPOLL_CTL_ADD, fd, interestToEpoll(events));
  }

  modify(fd: number, events: number): void {
    this.ctl(EPOLL_CTL_MOD, fd, interestToEpoll(events));
  }

  unregister(fd: number): void {
    // A closed fd has already left the epoll set (epoll(7), Q6), so EBADF/ENOENT are expected.
    const b = this.ctlBuf;
    libc.epoll_ctl(this.epfd, EPOLL_CTL_DEL, fd, b);
  }

  poll(): number {
    const n = libc.epoll_wait(this.epfd, this.eventBuf, MAX_EVENTS, 0);
    if (n < 0) {
      if (lastErrno() === EINTR) return 0;
      throw osError("epoll_wait");
    }
    const buf = this.eventBuf, fds = this.readyFds, evs = this.readyEvents;
    let out = 0;
    for (let i = 0; i < n; i++) {
      const base = i * EPOLL_EVENT_STRIDE32;
      // Entry i < n, inside the MAX_EVENTS-entry buffer epoll_wait filled: `!` on the reads.
      const fd = buf[base + EPOLL_EVENT_DATA32]!;
      if (fd === this.wakeFd) {
        this.drainWakeup();
        continue;
      }
      const e = buf[base]!;
      // As Python's selectors: an error or hangup wakes both directions, so whoever watches
      // the fd gets to see the failure from its own read() or write().
      let ready = 0;
      if (e & (EPOLLIN | EPOLLERR | EPOLLHUP)) ready |= EVENT_READ;
      if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) ready |= EVENT_WRITE;
      fds[out] = fd;
      evs[out++] = ready;
    }
    return out;
  }

  park(timeoutMs: number): Promise<void> {
    this.parker ??= openEpollParker(this.epfd);
    return this.parker.wait(timeoutMs);
  }

  wakeup(): void {
    if (this.wakeupPending || this.closed) return;
    this.wakeupPending = true;
    const r = libc.write(this.wakeFd, this.one, 8);
    if (r < 0 && lastErrno() !== EAGAIN) throw osError("write(eventfd)");
  }

  private drainWakeup(): void {
    libc.read(this.wakeFd, this.counter, 8);
    this.wakeupPending = false;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.parker?.close();
    libc.close(this.wakeFd);
    libc.close(this.epfd);
  }
}
