/**
 * Linux: an io_uring(7) Proactor over raw system calls (ffi/io_uring.ts for every layout).
 *
 * - SQEs and CQEs are read and written through typed-array views of the mmap'd rings; the
 *   submission tail and completion head are published with Atomics (release/acquire).
 * - Submissions are batched: an operation only writes its SQE; poll() hands the whole batch to
 *   the kernel with one io_uring_enter, and makes none when nothing is queued and no completion
 *   work waits. CQEs in the ring are reaped without a system call.
 * - Stream receives use multishot recv with a provided buffer ring (one SQE serves a connection
 *   until it is cancelled or the ring runs dry), accepts can be multishot.
 * - Completion work is deferred (IORING_SETUP_DEFER_TASKRUN | SINGLE_ISSUER): the kernel does
 *   not interrupt the JS thread to post each completion (before, a reschedule IPI per batch and
 *   socket-lock contention with the sender's CPU took ~25 % of an echo server's CPU, measured
 *   with perf); it queues the work and sets IORING_SQ_TASKRUN, and poll()'s one
 *   io_uring_enter(GETEVENTS) both submits the batch and runs that work. Kernels without it
 *   (< 6.1) get the plain setup.
 * - Waiting: an idle loop with operations in flight first calls waitBriefly(), one
 *   io_uring_enter that submits the batch and waits up to 50 µs for a completion (under load
 *   the next one is that close; the loop's poll before it leaves the submitting to it). Only
 *   then does it park: an eventfd registered with the ring (IORING_REGISTER_EVENTFD, signalled
 *   when completion work is queued, and only while parked: IORING_CQ_EVENTFD_DISABLED
 *   otherwise; deferred work does not make the ring fd readable) and the wakeup eventfd in a
 *   small epoll set, waited on by the parking thread with ffi/park.ts, as the epoll selector
 *   does. Every io_uring_enter stays on the JS thread (SINGLE_ISSUER).
 * - Every operation owns an id (its user_data), a 256-byte scratch slot for its msghdr, iovec,
 *   sockaddr and timespec, and references to its buffers; all three are released only when its
 *   last CQE arrives, also after a cancel, and close() waits for those CQEs before unmapping.
 */
import {
  EFD_CLOEXEC, EFD_NONBLOCK, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_EVENT_DATA32, EPOLL_EVENT_SIZE,
  EPOLLIN,
} from "../ffi/epoll.ts";
import { LINUX_ERRNO } from "../ffi/errno_linux.ts";
import {
  BUF_REG_SIZE, BUF_RING_TAIL, BUF_SIZE, CQE_SIZE, CQO_CQES, CQO_FLAGS, CQO_HEAD, CQO_RING_ENTRIES,
  CQO_RING_MASK, CQO_TAIL, IORING_ACCEPT_MULTISHOT, IORING_ASYNC_CANCEL_ALL,
  IORING_ASYNC_CANCEL_ANY, IORING_CQ_EVENTFD_DISABLED, IORING_CQE_BUFFER_SHIFT, IORING_CQE_F_BUFFER, IORING_CQE_F_MORE,
  IORING_ENTER_GETEVENTS, IORING_FEAT_EXT_ARG, IORING_FEAT_NODROP, IORING_FEAT_SINGLE_MMAP, IORING_OFF_CQ_RING,
  IORING_OFF_SQ_RING, IORING_OFF_SQES, IORING_OP_ACCEPT, IORING_OP_ASYNC_CANCEL,
  IORING_OP_CONNECT, IORING_OP_POLL_ADD, IORING_OP_READ, IORING_OP_RECV, IORING_OP_RECVMSG,
  IORING_OP_SEND, IORING_OP_SENDMSG, IORING_OP_TIMEOUT, IORING_OP_WRITE,
  IORING_RECV_MULTISHOT, IORING_REGISTER_PBUF_RING, IORING_SETUP_CLAMP, IORING_SETUP_CQSIZE,
  IORING_SETUP_SUBMIT_ALL, IORING_REGISTER_EVENTFD, IORING_SETUP_DEFER_TASKRUN,
  IORING_SETUP_SINGLE_ISSUER, IORING_SETUP_TASKRUN_FLAG, IORING_SQ_CQ_OVERFLOW, IORING_SQ_TASKRUN,
  GEA_TS, GETEVENTS_ARG_SIZE, ioUringEnter, ioUringEnterArg, ioUringRegister, ioUringSetup,
  IOSQE_BUFFER_SELECT, IOVEC_SIZE, MAP_ANONYMOUS, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, type Mapping,
  mmap, munmap, MSG_IOV, MSG_IOVLEN, MSG_NAME, MSG_NAMELEN, P_CQ_ENTRIES, P_CQ_OFF, P_FEATURES,
  P_FLAGS, P_SQ_ENTRIES, P_SQ_OFF, PARAMS_SIZE, PROT_READ, PROT_WRITE, SQE_ADDR, SQE_BUF_GROUP,
  SQE_FD, SQE_FLAGS, SQE_IOPRIO, SQE_LEN, SQE_OFF, SQE_OP_FLAGS, SQE_OPCODE, SQE_SIZE,
  SQE_USER_DATA, SQO_ARRAY, SQO_FLAGS, SQO_HEAD, SQO_RING_ENTRIES, SQO_RING_MASK, SQO_TAIL,
  TIMESPEC_SIZE,
} from "../ffi/io_uring.ts";
import { EAGAIN, errnoName, lastErrno, libc, osError } from "../ffi/libc.ts";
import { openEpollParker, type Parker } from "../ffi/park.ts";
import { bufferAddress } from "../ffi/runtime.ts";
import { OSError } from "../loop/core/errors.ts";
import type { CompletionTarget, Proactor } from "../loop/proactor/proactor.ts";

/** SQ ring size: the most SQEs one iteration can queue before a forced submit. */
const SQ_ENTRIES = 1024;
/** CQ ring size: 4× the SQ, as multishot operations post many CQEs per SQE. */
const CQ_ENTRIES = 4096;
/**
 * Provided receive buffers: count (a power of two) × size. 128 KiB takes a 100 KiB message in
 * one completion (64 KiB took two, and two writes: 56-61 against 62-64 µs of server CPU per
 * echo). The kernel takes buffers in ring order and each goes back as soon as its bytes are
 * copied out, so the count sets how much memory receives cycle through (likely why it matters:
 * 2 MiB can stay in cache, 16 MiB cannot): 16 buffers against 128 made Deno's echo server at 100 KiB go from
 * 46.1 to 37.8 µs of CPU per request (21.6k to 26.3k requests/s, level with its epoll loop),
 * Bun's from 45.8 to 43.6, and changed nothing at 1 and 10 KiB (bench/README.md). A ring that
 * runs dry ends a multishot receive with ENOBUFS; the transport submits it again.
 */
export const PBUF_COUNT = 16; // exported for tests
/** Bytes per provided buffer. */
const PBUF_SIZE = 128 * 1024;
const PBUF_GROUP = 1;

// Per-operation scratch slot (see the module comment): msghdr, iovec, sockaddr_storage,
// socklen_t, timespec.
const SLOT = 256;
const S_MSGHDR = 0, S_IOVEC = 56, S_ADDR = 72, S_ADDRLEN = 200, S_TIMESPEC = 208;
const SLOTS_PER_CHUNK = 1024;

/** user_data of SQEs whose CQEs nobody waits for (cancels). */
const UD_IGNORE = 0;

// Where an operation's completion finds a sockaddr for its target.
const NO_ADDRESS = 0, ADDRESS_IN_MSGHDR = 1, ADDRESS_IN_SOCKLEN = 2;

const TWO32 = 4294967296;

/**
 * waitBriefly()'s bound: how long an idle loop with operations in flight waits on the JS thread,
 * in io_uring_enter, before handing the wait to the parking thread. Under load the next
 * completion is a few µs away (bench/echo: 10 connections, the wait timed out ~15 times in 2 s);
 * the host gets its macrotask turn every millisecond regardless (base_loop.ts), so 50 µs only
 * bounds how late a host callback can run while aioloop waits for a completion.
 */
const BRIEF_WAIT_US = 50;

/** How long close() waits for cancelled operations before giving up on unmapping their memory. */
const CLOSE_DRAIN_SECONDS = 2;

// errno values (<asm-generic/errno-base.h>, <asm-generic/errno.h>).
const { ENOSYS, EPERM, ETIME, EINVAL, EINTR, EBUSY } = LINUX_ERRNO;

/** Buffers of proactors closed with operations the kernel never completed (never freed). */
const stillInKernel: unknown[] = [];

/** Why io_uring cannot be used here, or null if it can; checked once per process. */
let unavailableReason: string | null | undefined;

/**
 * null if this process may create io_uring instances; otherwise a sentence saying why not
 * (ENOSYS: kernel without io_uring or seccomp; EPERM: kernel.io_uring_disabled or a policy).
 */
export function ioUringUnavailableReason(): string | null {
  if (unavailableReason !== undefined) return unavailableReason;
  const params = new Uint8Array(PARAMS_SIZE);
  const fd = ioUringSetup(2, params);
  if (fd >= 0) {
    libc.close(fd);
    unavailableReason = null;
  } else {
    const errno = -fd;
    let why = `io_uring_setup(2) failed with ${errnoName(errno)} (errno ${errno})`;
    if (errno === ENOSYS) why += ": the kernel has no io_uring, or a seccomp filter blocks it";
    else if (errno === EPERM) {
      why += ": io_uring is disabled (sysctl kernel.io_uring_disabled, or a security policy)";
    }
    unavailableReason = why;
  }
  return unavailableReason;
}

function writeU64(u32: Uint32Array, index32: number, value: number): void {
  u32[index32] = value % TWO32;
  u32[index32 + 1] = Math.floor(value / TWO32);
}

/** An io_uring instance driven from the JS thread. */
export class IoUringProactor implements Proactor {
  /**
   * Small stream writes are SEND operations, submitted with everything else at the next
   * poll(): one io_uring_enter per loop iteration instead of a send(2) per write. From 16 KiB a
   * write goes to send(2) at once: the copy a SEND needs (the caller may reuse its array) then
   * costs more than the system call (~0.5 µs to copy 16 KiB against 0.15-1 µs per syscall).
   */
  readonly syncSendMinBytes = 16 * 1024;
  onError: (error: unknown) => void = (e) => {
    throw e;
  };
  completionAddressLength = 0;

  private readonly ringFd: number;
  private readonly maps: Mapping[] = [];
  // SQ ring
  private readonly sqHead: Uint32Array;
  private readonly sqTail: Uint32Array;
  private readonly sqFlags: Uint32Array;
  private readonly sqMask: number;
  private readonly sqEntries: number;
  private readonly sqe8: Uint8Array;
  private readonly sqe16: Uint16Array;
  private readonly sqe32: Uint32Array;
  private sqTailLocal: number;
  private queued = 0;
  // CQ ring
  private readonly cqHead: Uint32Array;
  private readonly cqTail: Uint32Array;
  private readonly cqMask: number;
  private readonly cqe32: Uint32Array;
  private readonly cqeI32: Int32Array;
  /** cq_ring->flags (null: kernel < 5.8, the eventfd is always signalled). */
  private readonly cqFlags: Uint32Array | null;
  // Operations, indexed by id (= user_data).
  private readonly targets: (CompletionTarget | undefined)[] = [undefined];
  private readonly tags: number[] = [0];
  private readonly keep: unknown[] = [undefined];
  private readonly kinds: number[] = [NO_ADDRESS];
  private readonly freeIds: number[] = [];
  private inFlight = 0;
  private readonly slot8: Uint8Array[] = [];
  private readonly slot32: Uint32Array[] = [];
  private readonly slotAddr: number[] = [];
  // Provided buffer ring (null when the kernel refused it).
  private pbufRing: Mapping | null = null;
  private pbufMem: Mapping | null = null;
  private pbufRing32: Uint32Array | null = null;
  private pbufRing16: Uint16Array | null = null;
  /** The provided buffers, all in one mapped region; the kernel picks one per receive. */
  private pbufViews: Uint8Array[] = [];
  /** The region's address: buffer `bid` is at pbufBase + bid * PBUF_SIZE. */
  private pbufBase = 0;
  private pbufTail = 0;
  // Parking
  private readonly epfd: number;
  private readonly wakeFd: number;
  /** Signalled by the kernel when completion work is queued (IORING_REGISTER_EVENTFD). */
  private readonly completionFd: number;
  private parker: Parker | undefined;
  private wakeupPending = false;
  private parking = false;
  private readonly one = new BigUint64Array([1n]);
  private readonly counter = new BigUint64Array(1);
  /**
   * io_uring_getevents_arg for waitBriefly() (null: kernel without EXT_ARG), pointing at its
   * timespec; both in ArrayBuffers of their own, whose memory never moves.
   */
  private readonly briefWaitArg: Uint8Array | null = null;
  private readonly briefWaitTimespec = new BigInt64Array(new ArrayBuffer(TIMESPEC_SIZE));
  private closed = false;
  /** Set by close() when some operation never completed: its memory is left mapped. */
  leakedOperations = 0;

  constructor() {
    const why = ioUringUnavailableReason();
    if (why !== null) throw new OSError(EPERM, "EPERM", `io_uring is unavailable: ${why}`, "io_uring_setup");
    const params = new Uint8Array(PARAMS_SIZE);
    const p32 = new Uint32Array(params.buffer);
    const plain = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL;
    p32[P_FLAGS / 4] = plain | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER |
      IORING_SETUP_TASKRUN_FLAG;
    p32[P_CQ_ENTRIES / 4] = CQ_ENTRIES;
    let fd = ioUringSetup(SQ_ENTRIES, params);
    if (fd === -EINVAL) {
      // Linux < 6.1 has no DEFER_TASKRUN: the kernel posts completions itself.
      params.fill(0);
      p32[P_FLAGS / 4] = plain;
      p32[P_CQ_ENTRIES / 4] = CQ_ENTRIES;
      fd = ioUringSetup(SQ_ENTRIES, params);
    }
    if (fd < 0) throw osError("io_uring_setup", -fd);
    this.ringFd = fd;
    try {
      // io_uring_params fields, inside the struct-sized p32 view: `!` on these reads.
      const features = p32[P_FEATURES / 4]!;
      if (!(features & IORING_FEAT_NODROP)) {
        throw new OSError(22, "EINVAL", "io_uring without IORING_FEAT_NODROP (kernel < 5.5) is not supported");
      }
      const sqOff = (k: number) => p32[(P_SQ_OFF + k) / 4]!;
      const cqOff = (k: number) => p32[(P_CQ_OFF + k) / 4]!;
      this.sqEntries = p32[P_SQ_ENTRIES / 4]!;
      const cqEntries = p32[P_CQ_ENTRIES / 4]!;
      const sqLen = sqOff(SQO_ARRAY) + this.sqEntries * 4;
      const cqLen = cqOff(CQO_CQES) + cqEntries * CQE_SIZE;
      const rw = PROT_READ | PROT_WRITE, shared = MAP_SHARED | MAP_POPULATE;
      let sq: Mapping, cq: Mapping;
      if (features & IORING_FEAT_SINGLE_MMAP) {
        sq = cq = mmap(Math.max(sqLen, cqLen), rw, shared, fd, IORING_OFF_SQ_RING);
        this.maps.push(sq);
      } else {
        sq = mmap(sqLen, rw, shared, fd, IORING_OFF_SQ_RING);
        this.maps.push(sq);
        cq = mmap(cqLen, rw, shared, fd, IORING_OFF_CQ_RING);
        this.maps.push(cq);
      }
      const sqes = mmap(this.sqEntries * SQE_SIZE, rw, shared, fd, IORING_OFF_SQES);
      this.maps.push(sqes);
      const sqBuf = sq.bytes.buffer, cqBuf = cq.bytes.buffer;
      this.sqHead = new Uint32Array(sqBuf, sqOff(SQO_HEAD), 1);
      this.sqTail = new Uint32Array(sqBuf, sqOff(SQO_TAIL), 1);
      this.sqFlags = new Uint32Array(sqBuf, sqOff(SQO_FLAGS), 1);
      this.sqMask = new Uint32Array(sqBuf, sqOff(SQO_RING_MASK), 1)[0]!;
      void SQO_RING_ENTRIES;
      // SQEs are written in ring order, so the indirection array is the identity, set once.
      const array = new Uint32Array(sqBuf, sqOff(SQO_ARRAY), this.sqEntries);
      for (let i = 0; i < this.sqEntries; i++) array[i] = i;
      this.sqTailLocal = this.sqTail[0]!;
      this.sqe8 = sqes.bytes;
      this.sqe16 = new Uint16Array(sqes.bytes.buffer);
      this.sqe32 = new Uint32Array(sqes.bytes.buffer);
      this.cqHead = new Uint32Array(cqBuf, cqOff(CQO_HEAD), 1);
      this.cqTail = new Uint32Array(cqBuf, cqOff(CQO_TAIL), 1);
      this.cqMask = new Uint32Array(cqBuf, cqOff(CQO_RING_MASK), 1)[0]!;
      void CQO_RING_ENTRIES;
      this.cqe32 = new Uint32Array(cqBuf, cqOff(CQO_CQES), cqEntries * CQE_SIZE / 4);
      this.cqeI32 = new Int32Array(cqBuf, cqOff(CQO_CQES), cqEntries * CQE_SIZE / 4);
      this.cqFlags = cqOff(CQO_FLAGS) === 0 ? null : new Uint32Array(cqBuf, cqOff(CQO_FLAGS), 1);
      this.setupBufferRing();
      if (features & IORING_FEAT_EXT_ARG) {
        this.briefWaitTimespec[1] = BigInt(BRIEF_WAIT_US * 1000); // tv_nsec
        this.briefWaitArg = new Uint8Array(new ArrayBuffer(GETEVENTS_ARG_SIZE));
        const ts = bufferAddress(new Uint8Array(this.briefWaitTimespec.buffer));
        writeU64(new Uint32Array(this.briefWaitArg.buffer), GEA_TS / 4, ts);
      }
      this.epfd = libc.epoll_create1(EPOLL_CLOEXEC);
      if (this.epfd < 0) throw osError("epoll_create1");
      this.wakeFd = libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      this.completionFd = libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      try {
        if (this.wakeFd < 0 || this.completionFd < 0) throw osError("eventfd");
        ioUringRegister(fd, IORING_REGISTER_EVENTFD, new Uint8Array(new Int32Array([this.completionFd]).buffer), 1);
        const ev = new Int32Array(EPOLL_EVENT_SIZE / 4);
        for (const watched of [this.completionFd, this.wakeFd]) {
          ev[0] = EPOLLIN;
          ev[EPOLL_EVENT_DATA32] = watched;
          if (libc.epoll_ctl(this.epfd, EPOLL_CTL_ADD, watched, ev) < 0) throw osError("epoll_ctl(eventfd)");
        }
        this.signalCompletions(false);
      } catch (e) {
        for (const efd of [this.wakeFd, this.completionFd, this.epfd]) if (efd >= 0) libc.close(efd);
        throw e;
      }
    } catch (e) {
      for (const m of this.maps) munmap(m);
      if (this.pbufMem) munmap(this.pbufMem);
      libc.close(fd);
      throw e;
    }
  }

  /** Register the provided buffer ring; without it (kernel < 5.19) recvMultishot returns 0. */
  private setupBufferRing(): void {
    const rw = PROT_READ | PROT_WRITE, anon = MAP_PRIVATE | MAP_ANONYMOUS;
    const ring = mmap(PBUF_COUNT * BUF_SIZE, rw, anon, -1, 0);
    const mem = mmap(PBUF_COUNT * PBUF_SIZE, rw, anon, -1, 0);
    const reg = new Uint8Array(BUF_REG_SIZE);
    const reg32 = new Uint32Array(reg.buffer);
    writeU64(reg32, 0, bufferAddress(ring.bytes));
    reg32[2] = PBUF_COUNT;
    new Uint16Array(reg.buffer)[6] = PBUF_GROUP;
    try {
      ioUringRegister(this.ringFd, IORING_REGISTER_PBUF_RING, reg, 1);
    } catch {
      munmap(ring);
      munmap(mem);
      return;
    }
    this.pbufRing = ring;
    this.pbufMem = mem;
    this.pbufRing32 = new Uint32Array(ring.bytes.buffer);
    this.pbufRing16 = new Uint16Array(ring.bytes.buffer);
    this.pbufBase = bufferAddress(mem.bytes);
    for (let bid = 0; bid < PBUF_COUNT; bid++) {
      this.pbufViews.push(mem.bytes.subarray(bid * PBUF_SIZE, (bid + 1) * PBUF_SIZE));
      this.provideBuffer(bid);
    }
    this.publishBuffers();
  }

  /** Put buffer `bid` back at the ring's tail (published by publishBuffers()). */
  private provideBuffer(bid: number): void {
    const i = (this.pbufTail & (PBUF_COUNT - 1)) * (BUF_SIZE / 4);
    writeU64(this.pbufRing32!, i, this.pbufBase + bid * PBUF_SIZE);
    this.pbufRing32![i + 2] = PBUF_SIZE;
    this.pbufRing16![(i + 3) * 2] = bid; // bid: the __u16 at byte 12
    this.pbufTail = (this.pbufTail + 1) & 0xffff;
  }

  private publishBuffers(): void {
    Atomics.store(this.pbufRing16!, BUF_RING_TAIL / 2, this.pbufTail);
  }

  // ---- Operations ----------------------------------------------------------------------------

  private newOp(target: CompletionTarget, tag: number, keep: unknown): number {
    if (this.closed) throw new OSError(9, "EBADF", "the io_uring proactor is closed");
    let id = this.freeIds.pop();
    if (id === undefined) {
      id = this.targets.length;
      this.targets.push(undefined);
      this.tags.push(0);
      this.keep.push(undefined);
      this.kinds.push(NO_ADDRESS);
      if ((id >> 10) >= this.slot8.length) {
        const chunk = new Uint8Array(new ArrayBuffer(SLOT * SLOTS_PER_CHUNK));
        this.slot8.push(chunk);
        this.slot32.push(new Uint32Array(chunk.buffer));
        this.slotAddr.push(bufferAddress(chunk));
      }
    }
    this.targets[id] = target;
    this.tags[id] = tag;
    this.keep[id] = keep;
    this.kinds[id] = NO_ADDRESS;
    this.inFlight++;
    return id;
  }

  private freeOp(id: number): void {
    this.targets[id] = undefined;
    this.keep[id] = undefined;
    this.freeIds.push(id);
    this.inFlight--;
  }

  /** Byte offset of op `id`'s scratch slot in its chunk, and the chunk's address. */
  private slotOffset(id: number): number {
    return (id & (SLOTS_PER_CHUNK - 1)) * SLOT;
  }
  private slotAddress(id: number): number {
    return this.slotAddr[id >> 10]! + this.slotOffset(id);
  }
  // newOp() adds an id's chunk before handing the id out, so a live id's chunk exists (`!`).
  private chunk8(id: number): Uint8Array {
    return this.slot8[id >> 10]!;
  }
  private chunk32(id: number): Uint32Array {
    return this.slot32[id >> 10]!;
  }

  /** Claim the next SQE, zeroed, with opcode, fd and user_data set; returns its u32 index. */
  private sqe(opcode: number, fd: number, userData: number): number {
    if (this.queued >= this.sqEntries || this.sqTailLocal - Atomics.load(this.sqHead, 0) >= this.sqEntries) {
      this.submit();
    }
    // Queued while parked (a task resumed by a host promise submits): end the park, so the
    // loop comes back and submits it.
    if (this.parking && !this.wakeupPending) this.wakeup();
    const index = this.sqTailLocal & this.sqMask;
    this.sqTailLocal = (this.sqTailLocal + 1) >>> 0;
    this.queued++;
    const w = index * (SQE_SIZE / 4);
    this.sqe32.fill(0, w, w + SQE_SIZE / 4);
    this.sqe8[w * 4 + SQE_OPCODE] = opcode;
    this.sqe32[w + SQE_FD / 4] = fd;
    this.sqe32[w + SQE_USER_DATA / 4] = userData;
    return w;
  }

  private setAddrLen(w: number, addr: number, len: number): void {
    writeU64(this.sqe32, w + SQE_ADDR / 4, addr);
    this.sqe32[w + SQE_LEN / 4] = len;
  }

  recv(fd: number, buf: Uint8Array, len: number, target: CompletionTarget, tag: number): number {
    const id = this.newOp(target, tag, buf);
    const w = this.sqe(IORING_OP_RECV, fd, id);
    this.setAddrLen(w, bufferAddress(buf), len);
    return id;
  }

  recvMultishot(fd: number, target: CompletionTarget, tag: number): number {
    if (this.pbufRing === null) return 0;
    const id = this.newOp(target, tag, undefined);
    const w = this.sqe(IORING_OP_RECV, fd, id);
    this.sqe8[w * 4 + SQE_FLAGS] = IOSQE_BUFFER_SELECT;
    this.sqe16[w * 2 + SQE_IOPRIO / 2] = IORING_RECV_MULTISHOT;
    this.sqe16[w * 2 + SQE_BUF_GROUP / 2] = PBUF_GROUP;
    return id;
  }

  send(fd: number, buf: Uint8Array, offset: number, len: number, msgFlags: number,
    target: CompletionTarget, tag: number): number {
    const id = this.newOp(target, tag, buf);
    const w = this.sqe(IORING_OP_SEND, fd, id);
    this.setAddrLen(w, bufferAddress(buf) + offset, len);
    this.sqe32[w + SQE_OP_FLAGS / 4] = msgFlags;
    return id;
  }

  /** Fill op `id`'s msghdr: one iovec over buf[0, len), msg_name at its sockaddr area. */
  private msghdr(id: number, buf: Uint8Array, len: number, nameLen: number): number {
    const off = this.slotOffset(id), base = this.slotAddress(id);
    const s32 = this.chunk32(id), i = off / 4;
    s32.fill(0, i, i + S_ADDR / 4);
    writeU64(s32, i + S_IOVEC / 4, bufferAddress(buf));
    writeU64(s32, i + S_IOVEC / 4 + 2, len);
    if (nameLen > 0) {
      writeU64(s32, i + MSG_NAME / 4, base + S_ADDR);
      s32[i + MSG_NAMELEN / 4] = nameLen;
    }
    writeU64(s32, i + MSG_IOV / 4, base + S_IOVEC);
    writeU64(s32, i + MSG_IOVLEN / 4, 1);
    void IOVEC_SIZE;
    return base + S_MSGHDR;
  }

  sendTo(fd: number, buf: Uint8Array, len: number, addr: Uint8Array | null, addrLen: number,
    target: CompletionTarget, tag: number): number {
    const id = this.newOp(target, tag, buf);
    if (addr !== null && addrLen > 0) this.chunk8(id).set(addr.subarray(0, addrLen), this.slotOffset(id) + S_ADDR);
    const msg = this.msghdr(id, buf, len, addr === null ? 0 : addrLen);
    const w = this.sqe(IORING_OP_SENDMSG, fd, id);
    this.setAddrLen(w, msg, 1);
    return id;
  }

  recvFrom(fd: number, buf: Uint8Array, len: number, target: CompletionTarget, tag: number): number {
    const id = this.newOp(target, tag, buf);
    const msg = this.msghdr(id, buf, len, 128);
    this.kinds[id] = ADDRESS_IN_MSGHDR;
    const w = this.sqe(IORING_OP_RECVMSG, fd, id);
    this.setAddrLen(w, msg, 1);
    return id;
  }

  accept(fd: number, flags: number, multishot: boolean, target: CompletionTarget, tag: number): number {
    const id = this.newOp(target, tag, undefined);
    const w = this.sqe(IORING_OP_ACCEPT, fd, id);
    this.sqe32[w + SQE_OP_FLAGS / 4] = flags;
    if (multishot) {
      this.sqe16[w * 2 + SQE_IOPRIO / 2] = IORING_ACCEPT_MULTISHOT;
    } else {
      // addr: the sockaddr to fill; addr2 (the off field): its socklen_t, in and out.
      const base = this.slotAddress(id);
      this.kinds[id] = ADDRESS_IN_SOCKLEN;
      this.chunk32(id)[(this.slotOffset(id) + S_ADDRLEN) / 4] = 128;
      writeU64(this.sqe32, w + SQE_ADDR / 4, base + S_ADDR);
      writeU64(this.sqe32, w + SQE_OFF / 4, base + S_ADDRLEN);
    }
    return id;
  }

  connect(fd: number, addr: Uint8Array, addrLen: number, target: CompletionTarget, tag: number): number {
    const id = this.newOp(target, tag, undefined);
    this.chunk8(id).set(addr.subarray(0, addrLen), this.slotOffset(id) + S_ADDR);
    const w = this.sqe(IORING_OP_CONNECT, fd, id);
    writeU64(this.sqe32, w + SQE_ADDR / 4, this.slotAddress(id) + S_ADDR);
    // connect takes the address length in the off field (addr2).
    writeU64(this.sqe32, w + SQE_OFF / 4, addrLen);
    return id;
  }

  read(fd: number, buf: Uint8Array, len: number, target: CompletionTarget, tag: number): number {
    const id = this.newOp(target, tag, buf);
    const w = this.sqe(IORING_OP_READ, fd, id);
    this.setAddrLen(w, bufferAddress(buf), len);
    // offset -1: the file's current position, as read(2) (pipes have none).
    this.sqe32[w + SQE_OFF / 4] = 0xffffffff;
    this.sqe32[w + SQE_OFF / 4 + 1] = 0xffffffff;
    return id;
  }

  write(fd: number, buf: Uint8Array, offset: number, len: number, target: CompletionTarget, tag: number): number {
    const id = this.newOp(target, tag, buf);
    const w = this.sqe(IORING_OP_WRITE, fd, id);
    this.setAddrLen(w, bufferAddress(buf) + offset, len);
    this.sqe32[w + SQE_OFF / 4] = 0xffffffff;
    this.sqe32[w + SQE_OFF / 4 + 1] = 0xffffffff;
    return id;
  }

  pollAdd(fd: number, events: number, target: CompletionTarget, tag: number): number {
    const id = this.newOp(target, tag, undefined);
    const w = this.sqe(IORING_OP_POLL_ADD, fd, id);
    this.sqe32[w + SQE_OP_FLAGS / 4] = events; // poll32_events (little-endian layout)
    return id;
  }

  timeout(seconds: number, target: CompletionTarget, tag: number): number {
    const id = this.newOp(target, tag, undefined);
    const s32 = this.chunk32(id), i = (this.slotOffset(id) + S_TIMESPEC) / 4;
    const whole = Math.floor(Math.max(0, seconds));
    writeU64(s32, i, whole);
    writeU64(s32, i + 2, Math.round((Math.max(0, seconds) - whole) * 1e9));
    const w = this.sqe(IORING_OP_TIMEOUT, -1, id);
    this.setAddrLen(w, this.slotAddress(id) + S_TIMESPEC, 1);
    return id;
  }

  cancel(op: number): void {
    if (this.closed || this.targets[op] === undefined) return;
    const w = this.sqe(IORING_OP_ASYNC_CANCEL, -1, UD_IGNORE);
    writeU64(this.sqe32, w + SQE_ADDR / 4, op); // the user_data to match
  }

  // ---- Submitting and reaping ----------------------------------------------------------------

  /** io_uring_enter for everything queued. */
  private submit(): void {
    if (this.queued > 0) this.enter(0);
  }

  /**
   * io_uring_enter with what is queued and `flags`; with `waitArg` (waitBriefly()'s
   * io_uring_getevents_arg), also wait, bounded, for one completion.
   */
  private enter(flags: number, waitArg: Uint8Array | null = null): void {
    Atomics.store(this.sqTail, 0, this.sqTailLocal);
    const r = waitArg === null
      ? ioUringEnter(this.ringFd, this.queued, 0, flags)
      : ioUringEnterArg(this.ringFd, this.queued, 1, flags, waitArg);
    if (r >= 0) {
      this.queued -= r;
      return;
    }
    // EAGAIN/EBUSY: the kernel is short of memory or the CQ is backed up; retry on next poll.
    // ETIME/EINTR: a bounded wait ended without a completion.
    if (-r === EAGAIN || -r === EBUSY || -r === ETIME || -r === EINTR) return;
    throw osError("io_uring_enter", -r);
  }

  flush(): void {
    this.submit();
  }

  poll(deferSubmit = false): number {
    // One system call at most: it submits the batch and runs the completion work waiting.
    // Deferred, none: waitBriefly()'s io_uring_enter does both (and returns at once if that
    // work posts a completion); a kernel without the bounded wait gets no such call.
    if ((!deferSubmit || this.briefWaitArg === null) && (this.queued > 0 ||
      Atomics.load(this.sqFlags, 0) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW))) {
      this.enter(IORING_ENTER_GETEVENTS);
    }
    return this.reap(true);
  }

  /** True if CQEs wait in the ring or completion work waits to be run. */
  private completionsWaiting(): boolean {
    return this.cqHead[0] !== Atomics.load(this.cqTail, 0) ||
      (Atomics.load(this.sqFlags, 0) & IORING_SQ_TASKRUN) !== 0;
  }

  /** Deliver (or, closing, drop) every CQE in the ring. */
  private reap(deliver: boolean): number {
    let head = this.cqHead[0]!;
    const tail = Atomics.load(this.cqTail, 0);
    if (head === tail) return 0;
    const mask = this.cqMask, c32 = this.cqe32, cI32 = this.cqeI32;
    let n = 0, returned = false;
    while (head !== tail) {
      const i = (head & mask) * (CQE_SIZE / 4);
      // A CQE inside the mapped ring (index masked); its user_data is an id newOp() handed out.
      const id = c32[i]!, res = cI32[i + 2]!, flags = c32[i + 3]!;
      head = (head + 1) >>> 0;
      n++;
      if (id === UD_IGNORE) continue;
      const target = this.targets[id];
      if (target === undefined) continue;
      const more = (flags & IORING_CQE_F_MORE) !== 0;
      let buffer: Uint8Array | undefined;
      let bid = -1;
      if (flags & IORING_CQE_F_BUFFER) {
        bid = flags >>> IORING_CQE_BUFFER_SHIFT;
        buffer = this.pbufViews[bid];
      } else if (this.kinds[id] !== NO_ADDRESS && res >= 0) {
        const off = this.slotOffset(id);
        buffer = this.chunk8(id).subarray(off + S_ADDR, off + S_ADDR + 128);
        // accept writes the length to its socklen_t, recvmsg to msg_namelen.
        const at = this.kinds[id] === ADDRESS_IN_SOCKLEN ? S_ADDRLEN : S_MSGHDR + MSG_NAMELEN;
        this.completionAddressLength = this.chunk32(id)[(off + at) / 4]!;
      }
      const tag = this.tags[id]!;
      if (!more) this.freeOp(id);
      if (deliver) {
        try {
          target._ioComplete(tag, res, more, id, buffer);
        } catch (e) {
          this.onError(e);
        }
      }
      if (bid >= 0) {
        this.provideBuffer(bid);
        returned = true;
      }
    }
    Atomics.store(this.cqHead, 0, head);
    if (returned) this.publishBuffers();
    return n;
  }

  hasWork(): boolean {
    return this.queued > 0 || this.inFlight > 0;
  }

  /** How many operations are in flight (tests). */
  get operationsInFlight(): number {
    return this.inFlight;
  }

  // ---- Parking -------------------------------------------------------------------------------

  park(timeoutMs: number): Promise<void> {
    this.signalCompletions(true);
    this.submit();
    // The kernel signals completionFd when completion work is first queued; drained now, it
    // is signalled again by the next (the work list is empty unless completionsWaiting()).
    libc.read(this.completionFd, this.counter, 8);
    if (this.completionsWaiting()) {
      this.signalCompletions(false);
      return Promise.resolve();
    }
    this.parker ??= openEpollParker(this.epfd);
    this.parking = true;
    return this.parker.wait(timeoutMs).then(() => {
      this.parking = false;
      if (this.closed) return;
      this.signalCompletions(false);
      if (this.wakeupPending) {
        libc.read(this.wakeFd, this.counter, 8);
        this.wakeupPending = false;
      }
    });
  }

  /**
   * Turn the completion eventfd's signals on or off (IORING_CQ_EVENTFD_DISABLED). Only a park
   * needs them, so they are off while the loop runs: the kernel signalled the eventfd on every
   * completion flush otherwise (perf: io_eventfd_signal, ~1 % of a 1 KiB echo server's CPU).
   * Turned on before park() looks for waiting work, so none slips between the two.
   */
  private signalCompletions(on: boolean): void {
    if (this.cqFlags === null) return;
    const flags = this.cqFlags[0]!;
    Atomics.store(this.cqFlags, 0, on ? flags & ~IORING_CQ_EVENTFD_DISABLED : flags | IORING_CQ_EVENTFD_DISABLED);
  }

  /**
   * Submit what is queued and wait up to BRIEF_WAIT_US on this thread for a completion; true
   * if completions are now waiting.
   */
  waitBriefly(): boolean {
    if (this.briefWaitArg === null) return false;
    this.enter(IORING_ENTER_GETEVENTS, this.briefWaitArg);
    return this.completionsWaiting();
  }

  wakeup(): void {
    if (this.wakeupPending || this.closed) return;
    this.wakeupPending = true;
    const r = libc.write(this.wakeFd, this.one, 8);
    if (r < 0 && lastErrno() !== EAGAIN) throw osError("write(eventfd)");
  }

  // ---- Closing -------------------------------------------------------------------------------

  close(): void {
    if (this.closed) return;
    if (this.inFlight > 0) this.drainForClose();
    this.closed = true;
    this.parker?.close();
    libc.close(this.wakeFd);
    libc.close(this.completionFd);
    libc.close(this.epfd);
    // Closing the ring fd also unregisters the buffer ring.
    libc.close(this.ringFd);
    for (const m of this.maps) munmap(m);
    if (this.inFlight === 0) {
      if (this.pbufRing) munmap(this.pbufRing);
      if (this.pbufMem) munmap(this.pbufMem);
    } else {
      // The kernel may still write into these: keep them mapped, and the buffers operations
      // and the ring hold alive (a leak, never a corruption).
      this.leakedOperations = this.inFlight;
      stillInKernel.push(this.keep.slice(), this.pbufViews);
    }
    this.targets.length = 0;
    this.keep.length = 0;
  }

  /** Cancel all in flight and collect their CQEs, without delivering them, for a bounded time. */
  private drainForClose(): void {
    const w = this.sqe(IORING_OP_ASYNC_CANCEL, -1, UD_IGNORE);
    this.sqe32[w + SQE_OP_FLAGS / 4] = IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY;
    const tick: CompletionTarget = { _ioComplete() {} };
    const deadline = performance.now() + CLOSE_DRAIN_SECONDS * 1000;
    let timer = 0;
    for (;;) {
      if (timer && this.targets[timer] !== tick) timer = 0; // it fired
      if (this.inFlight - (timer ? 1 : 0) === 0 || performance.now() >= deadline) break;
      // A 50 ms timeout bounds each wait, so a request that ignores the cancel cannot hang us.
      if (!timer) timer = this.timeout(0.05, tick, 0);
      Atomics.store(this.sqTail, 0, this.sqTailLocal);
      const r = ioUringEnter(this.ringFd, this.queued, 1, IORING_ENTER_GETEVENTS);
      if (r > 0) this.queued -= r;
      else if (r < 0 && -r !== ETIME && -r !== EAGAIN) break;
      this.reap(false);
    }
    if (timer) {
      this.cancel(timer);
      Atomics.store(this.sqTail, 0, this.sqTailLocal);
      ioUringEnter(this.ringFd, this.queued, 1, IORING_ENTER_GETEVENTS);
      this.queued = 0;
      this.reap(false);
    }
  }
}
