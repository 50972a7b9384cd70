/**
 * Any Unix: a poll(2) Selector with a self-pipe waker — the fallback where neither epoll nor
 * kqueue exists, and a second real implementation that keeps the Selector contract honest.
 * On Linux it is chosen with `newEventLoop({ selector: "poll" })` or AIOLOOP_SELECTOR=poll.
 *
 * The kernel keeps no interest set: every poll() hands it the whole pollfd array, so a call
 * costs O(watched fds) in the kernel and in the scan below (bench/selectors.ts shows it grow).
 * In exchange, register/modify/unregister are plain array edits with no syscall, except the one
 * check that register makes so bad fds fail where they are first seen.
 *
 * Differences from epoll, and how the contract is kept:
 * - A closed fd stays in the array; poll reports POLLNVAL for it. epoll forgets a closed fd
 *   (epoll(7), Q6), so we do the same: the entry's fd becomes -1 (poll(2): "the field is
 *   ignored") until modify() or unregister() is called for it. Unlike epoll, a registration
 *   follows the fd *number*: an fd closed and reopened between two polls is watched as before.
 * - epoll refuses regular files and directories (EPERM: they are always ready). poll(2) would
 *   report them ready forever and the loop would spin, so on Linux register() refuses them
 *   too, with the same error, making this selector a drop-in for epoll there.
 * - Parking polls a copy of the array off the JS thread (ffi/park.ts, kind "poll"). A copy does
 *   not see later edits, so register/modify during a park wake it up; the loop then parks again
 *   with the new set.
 */
import {
  EEXIST, ENOENT, EAGAIN, EINTR, EPERM, lastErrno, libc, osError,
} from "../ffi/libc.ts";
import { openParker, type Parker, type PollSet } from "../ffi/park.ts";
import {
  linuxFileType, POLLERR, POLLFD_EVENTS16, POLLFD_FD32, POLLFD_REVENTS16, POLLFD_SIZE, POLLHUP,
  POLLIN, pollLib, POLLNVAL, POLLOUT, S_IFDIR, S_IFREG, systemLibcPath, wakerPipe,
} from "../ffi/poll.ts";
import { osName } from "../ffi/runtime.ts";
import { EVENT_READ, EVENT_WRITE, type Selector } from "../loop/selector/selector.ts";

const INITIAL_CAPACITY = 64;
/** fcntl(2) F_GETFD: 1 on Linux (<asm-generic/fcntl.h>), macOS and FreeBSD (<sys/fcntl.h>). */
const F_GETFD = 1;

function interestToPoll(events: number): number {
  return ((events & EVENT_READ) ? POLLIN : 0) | ((events & EVENT_WRITE) ? POLLOUT : 0);
}

export class PollSelector implements Selector {
  // Grown together with the pollfd array: every watched fd may be ready at once.
  readyFds = new Int32Array(INITIAL_CAPACITY);
  readyEvents = new Uint8Array(INITIAL_CAPACITY);
  // The pollfd array: `count` entries; entry 0 is the waker's read end.
  private bytes = new Uint8Array(INITIAL_CAPACITY * POLLFD_SIZE);
  private fds32 = new Int32Array(this.bytes.buffer);
  private shorts = new Int16Array(this.bytes.buffer);
  private count = 0;
  /** fd → its entry index; undefined when not registered. */
  private readonly entryOf: (number | undefined)[] = [];
  /** entry index → the registered fd (the pollfd's own fd is -1 once the fd is forgotten). */
  private readonly fdOf: number[] = [];
  private readonly wakeRead: number;
  private readonly wakeWrite: number;
  private readonly wakeBuf = new Uint8Array(64);
  private readonly one = new Uint8Array([1]);
  private parker: Parker | undefined;
  private parked = false;
  private wakeupPending = false;
  private closed = false;
  private readonly pollSet = (): PollSet => ({ bytes: this.bytes, count: this.count });
  private readonly unpark = () => {
    this.parked = false;
  };

  constructor() {
    const ends = new Int32Array(2);
    if (wakerPipe(ends) < 0) throw osError("pipe");
    this.wakeRead = ends[0]!;
    this.wakeWrite = ends[1]!;
    this.addEntry(this.wakeRead, POLLIN);
  }

  private addEntry(fd: number, pollEvents: number): void {
    const i = this.count;
    if ((i + 1) * POLLFD_SIZE > this.bytes.length) this.grow();
    this.fds32[i * 2 + POLLFD_FD32] = fd;
    this.shorts[i * 4 + POLLFD_EVENTS16] = pollEvents;
    this.shorts[i * 4 + POLLFD_REVENTS16] = 0;
    this.entryOf[fd] = i;
    this.fdOf[i] = fd;
    this.count = i + 1;
  }

  private grow(): void {
    const bigger = new Uint8Array(this.bytes.length * 2);
    bigger.set(this.bytes);
    this.bytes = bigger;
    this.fds32 = new Int32Array(bigger.buffer);
    this.shorts = new Int16Array(bigger.buffer);
    const entries = bigger.length / POLLFD_SIZE;
    this.readyFds = new Int32Array(entries);
    this.readyEvents = new Uint8Array(entries);
  }

  /** Raise where epoll would: EBADF for a closed fd, EPERM (Linux) for an always-ready file. */
  private checkWatchable(fd: number): void {
    if (osName === "linux") {
      const type = linuxFileType(fd);
      if (type < 0) throw osError(`poll register(fd ${fd})`);
      if (type === S_IFREG || type === S_IFDIR) {
        throw osError(`poll register(fd ${fd}): a regular file or directory is always ready`, EPERM);
      }
    } else if (libc.fcntl(fd, F_GETFD, 0) < 0) {
      throw osError(`poll register(fd ${fd})`);
    }
  }

  register(fd: number, events: number): void {
    if (this.entryOf[fd] !== undefined) throw osError(`poll register(fd ${fd})`, EEXIST);
    this.checkWatchable(fd);
    this.addEntry(fd, interestToPoll(events));
    if (this.parked) this.wakeup();
  }

  modify(fd: number, events: number): void {
    const i = this.entryOf[fd];
    if (i === undefined) throw osError(`poll modify(fd ${fd})`, ENOENT);
    this.fds32[i * 2 + POLLFD_FD32] = fd; // watch it again if POLLNVAL had made us forget it
    this.shorts[i * 4 + POLLFD_EVENTS16] = interestToPoll(events);
    if (this.parked) this.wakeup();
  }

  unregister(fd: number): void {
    const i = this.entryOf[fd];
    if (i === undefined || fd === this.wakeRead) return;
    // Move the last entry into the hole: order in the array does not matter to poll(2).
    const last = --this.count;
    if (i !== last) {
      // Entries 0..count are filled: `last` (the old count - 1) is one.
      const movedFd = this.fdOf[last]!;
      this.fds32[i * 2 + POLLFD_FD32] = this.fds32[last * 2 + POLLFD_FD32]!;
      this.shorts[i * 4 + POLLFD_EVENTS16] = this.shorts[last * 4 + POLLFD_EVENTS16]!;
      this.fdOf[i] = movedFd;
      this.entryOf[movedFd] = i;
    }
    this.entryOf[fd] = undefined;
  }

  poll(): number {
    const n = pollLib.poll(this.bytes, this.count, 0);
    if (n <= 0) {
      if (n < 0 && lastErrno() !== EINTR) throw osError("poll");
      return 0;
    }
    const fds32 = this.fds32, shorts = this.shorts, fdOf = this.fdOf;
    const readyFds = this.readyFds, readyEvents = this.readyEvents;
    let out = 0;
    // poll returns how many entries have revents set: stop scanning once all are found.
    for (let i = 0, found = 0; found < n && i < this.count; i++) {
      const r = shorts[i * 4 + POLLFD_REVENTS16]!; // i < count: a filled entry
      if (r === 0) continue;
      found++;
      if (i === 0) {
        this.drainWakeup();
        continue;
      }
      if (r & POLLNVAL) {
        fds32[i * 2 + POLLFD_FD32] = -1; // closed: forget it, as epoll does
        continue;
      }
      // As Python's selectors and linux.ts: an error or hangup wakes both directions, so
      // whoever watches the fd gets to see the failure from its own read() or write().
      let ready = 0;
      if (r & (POLLIN | POLLERR | POLLHUP)) ready |= EVENT_READ;
      if (r & (POLLOUT | POLLERR | POLLHUP)) ready |= EVENT_WRITE;
      readyFds[out] = fdOf[i]!;
      readyEvents[out++] = ready;
    }
    return out;
  }

  park(timeoutMs: number): Promise<void> {
    this.parker ??= openParker({ kind: "poll", pollSet: this.pollSet, libPath: systemLibcPath });
    this.parked = true;
    return this.parker.wait(timeoutMs).then(this.unpark);
  }

  wakeup(): void {
    if (this.wakeupPending || this.closed) return;
    this.wakeupPending = true;
    const r = libc.write(this.wakeWrite, this.one, 1);
    if (r < 0 && lastErrno() !== EAGAIN) throw osError("write(waker pipe)");
  }

  private drainWakeup(): void {
    // At most a byte or two is outstanding (wakeups coalesce), so one read empties the pipe.
    libc.read(this.wakeRead, this.wakeBuf, this.wakeBuf.length);
    this.wakeupPending = false;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.parker?.close();
    libc.close(this.wakeRead);
    libc.close(this.wakeWrite);
  }
}
