/**
 * io_uring(7): the three system calls, mmap(2), and the constants and struct layouts aioloop
 * uses, each from <linux/io_uring.h> (uapi; line references are to the 6.x header, whose
 * layouts are stable ABI) unless another header is named. Nothing here keeps state; the ring
 * itself is platform/io_uring.ts.
 *
 * The system calls go through libc's syscall(2) wrapper (glibc has no io_uring functions).
 * syscall() is variadic, but glibc implements it in assembly that only moves integer registers,
 * so binding it with a fixed prototype is exact on x86-64 and AArch64 Linux. Bun cannot bind one
 * C symbol under two names, so each prototype is its own openLibrary() of libc.
 */
import { check, EINTR, lastErrno, libcPath, osError } from "./libc.ts";
import { nativeBytes, type NativePointer, openLibrary, pointerAddress } from "./runtime.ts";

// <asm/unistd_64.h> (x86-64) and <asm-generic/unistd.h> (AArch64): the io_uring calls were
// added after the syscall tables were unified (5.1), so both architectures number them alike.
export const NR_IO_URING_SETUP = 425;
export const NR_IO_URING_ENTER = 426;
export const NR_IO_URING_REGISTER = 427;

// ---- struct io_uring_params (120 bytes) ------------------------------------------------------
// struct io_uring_params { __u32 sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle,
//   features, wq_fd, resv[3]; struct io_sqring_offsets sq_off; struct io_cqring_offsets cq_off; }
export const PARAMS_SIZE = 120;
export const P_SQ_ENTRIES = 0, P_CQ_ENTRIES = 4, P_FLAGS = 8, P_FEATURES = 20;
/** struct io_sqring_offsets at 40: head, tail, ring_mask, ring_entries, flags, dropped, array. */
export const P_SQ_OFF = 40;
export const SQO_HEAD = 0, SQO_TAIL = 4, SQO_RING_MASK = 8, SQO_RING_ENTRIES = 12, SQO_FLAGS = 16,
  SQO_DROPPED = 20, SQO_ARRAY = 24;
/** struct io_cqring_offsets at 80: head, tail, ring_mask, ring_entries, overflow, cqes, flags. */
export const P_CQ_OFF = 80;
export const CQO_HEAD = 0, CQO_TAIL = 4, CQO_RING_MASK = 8, CQO_RING_ENTRIES = 12,
  CQO_OVERFLOW = 16, CQO_CQES = 20, CQO_FLAGS = 24;
/** cq_ring->flags, set by the application: no eventfd signals (5.8+; offset 0 before). */
export const IORING_CQ_EVENTFD_DISABLED = 1 << 0;

// io_uring_setup(2) flags.
export const IORING_SETUP_CQSIZE = 1 << 3; // app defines CQ size
export const IORING_SETUP_CLAMP = 1 << 4; // clamp SQ/CQ ring sizes
export const IORING_SETUP_SUBMIT_ALL = 1 << 7; // continue submit on error
export const IORING_SETUP_COOP_TASKRUN = 1 << 8; // no IPI to run completion work
export const IORING_SETUP_TASKRUN_FLAG = 1 << 9; // sq_ring->flags says when such work waits
export const IORING_SETUP_SINGLE_ISSUER = 1 << 12; // only the creating thread submits
export const IORING_SETUP_DEFER_TASKRUN = 1 << 13; // completion work runs in io_uring_enter(GETEVENTS)

// io_uring_params.features.
export const IORING_FEAT_SINGLE_MMAP = 1 << 0;
export const IORING_FEAT_NODROP = 1 << 1;
export const IORING_FEAT_FAST_POLL = 1 << 5;
export const IORING_FEAT_EXT_ARG = 1 << 8; // io_uring_enter takes IORING_ENTER_EXT_ARG

// mmap(2) offsets of the rings (IORING_OFF_*).
export const IORING_OFF_SQ_RING = 0;
export const IORING_OFF_CQ_RING = 0x8000000;
export const IORING_OFF_SQES = 0x10000000;

/** sq_ring->flags: the kernel holds CQEs that did not fit (IORING_SQ_CQ_OVERFLOW). */
export const IORING_SQ_CQ_OVERFLOW = 1 << 1;
/** sq_ring->flags: completion work waits for an io_uring_enter(GETEVENTS) (IORING_SQ_TASKRUN). */
export const IORING_SQ_TASKRUN = 1 << 2;

// io_uring_enter(2) flags.
export const IORING_ENTER_GETEVENTS = 1 << 0;
/** The last two arguments are a struct io_uring_getevents_arg and its size (5.11+). */
export const IORING_ENTER_EXT_ARG = 1 << 3;

// ---- struct io_uring_getevents_arg (24 bytes) ------------------------------------------------
// { __u64 sigmask @0; __u32 sigmask_sz @8; __u32 min_wait_usec @12 (6.12+, pad before);
//   __u64 ts @16 (a struct __kernel_timespec *, NULL: no timeout) }
export const GETEVENTS_ARG_SIZE = 24;
export const GEA_TS = 16;

// ---- struct io_uring_sqe (64 bytes) -----------------------------------------------------------
export const SQE_SIZE = 64;
/** __u8 opcode at 0, __u8 flags at 1, __u16 ioprio at 2, __s32 fd at 4. */
export const SQE_OPCODE = 0, SQE_FLAGS = 1, SQE_IOPRIO = 2, SQE_FD = 4;
/** union { __u64 off; __u64 addr2; } at 8. */
export const SQE_OFF = 8;
/** union { __u64 addr; __u64 splice_off_in; } at 16. */
export const SQE_ADDR = 16;
/** __u32 len at 24. */
export const SQE_LEN = 24;
/** union { rw_flags, msg_flags, poll32_events, timeout_flags, accept_flags, cancel_flags } at 28. */
export const SQE_OP_FLAGS = 28;
/** __u64 user_data at 32. */
export const SQE_USER_DATA = 32;
/** union { __u16 buf_index; __u16 buf_group; } at 40 (packed). */
export const SQE_BUF_GROUP = 40;

// SQE flags (IOSQE_*).
export const IOSQE_BUFFER_SELECT = 1 << 5;

// Opcodes (enum io_uring_op, in declaration order from IORING_OP_NOP = 0).
export const IORING_OP_NOP = 0;
export const IORING_OP_POLL_ADD = 6;
export const IORING_OP_POLL_REMOVE = 7;
export const IORING_OP_SENDMSG = 9;
export const IORING_OP_RECVMSG = 10;
export const IORING_OP_TIMEOUT = 11;
export const IORING_OP_ACCEPT = 13;
export const IORING_OP_ASYNC_CANCEL = 14;
export const IORING_OP_CONNECT = 16;
export const IORING_OP_READ = 22;
export const IORING_OP_WRITE = 23;
export const IORING_OP_SEND = 26;
export const IORING_OP_RECV = 27;
export const IORING_OP_SHUTDOWN = 34;

/** POLL_ADD in sqe->len: multishot poll, CQEs carry IORING_CQE_F_MORE while it lives. */
export const IORING_POLL_ADD_MULTI = 1 << 0;
/** ASYNC_CANCEL in sqe->cancel_flags: every request matching the key, not just the first. */
export const IORING_ASYNC_CANCEL_ALL = 1 << 0;
/** ASYNC_CANCEL: match any request (with _ALL: cancel everything in flight). */
export const IORING_ASYNC_CANCEL_ANY = 1 << 2;
/** RECV/RECVMSG in sqe->ioprio: multishot receive with provided buffers. */
export const IORING_RECV_MULTISHOT = 1 << 1;
/** ACCEPT in sqe->ioprio: one SQE keeps accepting, a CQE per connection. */
export const IORING_ACCEPT_MULTISHOT = 1 << 0;

// CQE flags.
export const IORING_CQE_F_BUFFER = 1 << 0; // upper 16 bits hold the buffer id
export const IORING_CQE_F_MORE = 1 << 1; // the SQE will post more CQEs
export const IORING_CQE_BUFFER_SHIFT = 16;

// ---- struct io_uring_cqe (16 bytes): __u64 user_data; __s32 res; __u32 flags; -----------------
export const CQE_SIZE = 16;
export const CQE_USER_DATA = 0, CQE_RES = 8, CQE_FLAGS = 12;

// ---- Provided buffer rings ------------------------------------------------------------------
/** io_uring_register(2) opcodes. */
export const IORING_REGISTER_PBUF_RING = 22;
/** io_uring_register(2) opcode: signal this eventfd (an int32 arg) as completions come. */
export const IORING_REGISTER_EVENTFD = 4;
export const IORING_UNREGISTER_PBUF_RING = 23;
/**
 * struct io_uring_buf_reg { __u64 ring_addr; __u32 ring_entries; __u16 bgid; __u16 flags;
 * __u64 resv[3]; } (40 bytes).
 */
export const BUF_REG_SIZE = 40;
/**
 * struct io_uring_buf { __u64 addr; __u32 len; __u16 bid; __u16 resv; } (16 bytes). The ring
 * (struct io_uring_buf_ring) overlays its __u16 tail on bufs[0].resv, at byte 14.
 */
export const BUF_SIZE = 16;
export const BUF_RING_TAIL = 14;

// ---- struct __kernel_timespec { __kernel_time64_t tv_sec; long long tv_nsec; } (16 bytes) ---
export const TIMESPEC_SIZE = 16;

// ---- <bits/socket.h> struct msghdr (56 bytes on LP64) and struct iovec (16 bytes) ------------
// msghdr { void *msg_name @0; socklen_t msg_namelen @8; struct iovec *msg_iov @16;
//   size_t msg_iovlen @24; void *msg_control @32; size_t msg_controllen @40; int msg_flags @48; }
export const MSGHDR_SIZE = 56;
export const MSG_NAME = 0, MSG_NAMELEN = 8, MSG_IOV = 16, MSG_IOVLEN = 24, MSG_FLAGS = 48;
/** iovec { void *iov_base @0; size_t iov_len @8; } */
export const IOVEC_SIZE = 16;

// <poll.h> event bits, as POLL_ADD's poll32_events takes them.
export const POLLIN = 0x001;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;

// mmap(2), <bits/mman-linux.h>.
export const PROT_READ = 0x1, PROT_WRITE = 0x2;
export const MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20, MAP_POPULATE = 0x8000;

const mm = openLibrary(libcPath, {
  mmap: { args: ["pointer", "usize", "i32", "i32", "i32", "usize"], result: "pointer" },
  munmap: { args: ["pointer", "usize"], result: "i32" },
}).symbols;

// MAP_FAILED is (void *)-1.
function isMapFailed(p: NativePointer): boolean {
  const a = pointerAddress(p);
  return a === 0n || a === 0xffffffffffffffffn;
}

/** A mapping: its bytes as a Uint8Array (no copy) and what munmap needs. */
export interface Mapping {
  bytes: Uint8Array;
  pointer: NativePointer;
  length: number;
}

/** mmap(2) `length` bytes; OSError on failure. */
export function mmap(length: number, prot: number, flags: number, fd: number, offset: number): Mapping {
  const p = mm.mmap(null, length, prot, flags, fd, offset);
  if (isMapFailed(p)) throw osError("mmap");
  return { bytes: nativeBytes(p, length), pointer: p, length };
}

/** munmap(2). Every view of the mapping must be unreachable before this. */
export function munmap(m: Mapping): void {
  mm.munmap(m.pointer, m.length);
}

const setupCall = openLibrary(libcPath, {
  syscall: { args: ["i32", "u32", "buffer"], result: "i32" },
}).symbols.syscall;
// Hot: every argument is an i32 (see runtime.ts on Deno's fast path); the sigset pointer and its
// size are passed as 0 (NULL, 0): the values are exact because the registers' upper halves are
// zero.
const enterCall = openLibrary(libcPath, {
  syscall: { args: ["i32", "i32", "i32", "i32", "i32", "i32", "i32"], result: "i32" },
}).symbols.syscall;
// The bounded wait: the same with the getevents arg as a buffer, and its size as a full 64-bit
// word: the seventh argument goes on the stack, where an i32 would leave the slot's upper half
// undefined (and the kernel compares the whole size_t).
const enterArgCall = openLibrary(libcPath, {
  syscall: { args: ["i32", "i32", "i32", "i32", "i32", "buffer", "usize"], result: "i32" },
}).symbols.syscall;
const registerCall = openLibrary(libcPath, {
  syscall: { args: ["i32", "i32", "u32", "buffer", "u32"], result: "i32" },
}).symbols.syscall;

/** io_uring_setup(2): the ring fd, or -errno (the caller decides how to report it). */
export function ioUringSetup(entries: number, params: Uint8Array): number {
  const fd = setupCall(NR_IO_URING_SETUP, entries, params);
  return fd < 0 ? -lastErrno() : fd;
}

/** io_uring_enter(2), retried on EINTR: how many SQEs were consumed, or -errno. */
export function ioUringEnter(fd: number, toSubmit: number, minComplete: number, flags: number): number {
  for (;;) {
    const r = enterCall(NR_IO_URING_ENTER, fd, toSubmit, minComplete, flags, 0, 0);
    if (r >= 0) return r;
    const errno = lastErrno();
    if (errno !== EINTR) return -errno;
  }
}

/**
 * io_uring_enter(2) with IORING_ENTER_EXT_ARG: `arg` is a struct io_uring_getevents_arg (whose
 * ts may bound the wait). Not retried: EINTR and ETIME both just end the wait. Returns how many
 * SQEs were consumed, or -errno.
 */
export function ioUringEnterArg(
  fd: number, toSubmit: number, minComplete: number, flags: number, arg: Uint8Array,
): number {
  const r = enterArgCall(NR_IO_URING_ENTER, fd, toSubmit, minComplete, flags | IORING_ENTER_EXT_ARG, arg,
    GETEVENTS_ARG_SIZE);
  return r >= 0 ? r : -lastErrno();
}

/** io_uring_register(2); OSError on failure. */
export function ioUringRegister(fd: number, opcode: number, arg: Uint8Array, nrArgs: number): void {
  check(registerCall(NR_IO_URING_REGISTER, fd, opcode, arg, nrArgs), `io_uring_register(${opcode})`);
}
