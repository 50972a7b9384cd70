/**
 * The Windows Proactor: I/O completion ports (asyncio's IocpProactor, windows_events.py).
 *
 * Every operation is an overlapped call (WSARecv, WSASend, WSARecvFrom, WSASendTo, AcceptEx,
 * ConnectEx, ReadFile, WriteFile) on a handle associated with one completion port; its
 * completion is dequeued with GetQueuedCompletionStatusEx and handed to the operation's target.
 * Handles are the "fds" of the Proactor contract: a SOCKET or HANDLE value as a number.
 *
 * Ownership: each operation owns a slot of a slab the proactor allocated (OVERLAPPED, WSABUF,
 * flags, address space: ffi/kernel32.ts and ffi/ws2_32.ts give the layouts), and holds the
 * caller's buffer, until its completion is dequeued: also when it is cancelled, and also when
 * close() gives up waiting (the slot and buffer are then kept for the life of the process, never
 * freed under a kernel that may still write them).
 *
 * How it meets the contract (loop/proactor/proactor.ts):
 * - IOCP has no submission queue: an operation is issued when asked. Its completion is still
 *   delivered only from poll(); a call that fails at once (no packet will come) is queued here
 *   and delivered by the next poll(). flush() has nothing to do.
 * - Results are Linux errno values (negated), as the loop compares them with Linux constants:
 *   Winsock and system errors are mapped by `errnoOf`. Socket addresses in and out use the
 *   loop's encoding (ffi/sockaddr.ts), which differs from Winsock's only in AF_INET6's number
 *   (Linux 10, ws2def.h 23); it is translated at this boundary.
 * - A handle is associated with the port on its first operation. Windows recycles handle
 *   values, so whoever closes a handle this proactor has seen calls releaseHandle() first.
 * - No readiness polling: pollAdd raises NotImplementedError, as asyncio's IOCP loop does for
 *   add_reader. recvMultishot returns 0 (the transport then uses recv). timeout() is kept here
 *   (IOCP has no timer operation) and bounds park().
 * - Parking: GetQueuedCompletionStatusEx on a worker thread (ffi/iocp_park.ts), which hands
 *   back the completions it dequeued; wakeup() posts a packet with PostQueuedCompletionStatus.
 * - Child exits (watchProcess, for platform/windows_process.ts): the children belong to a job
 *   object associated with the port, so the kernel itself posts a JOB_OBJECT_MSG_EXIT_PROCESS
 *   packet when one exits; a parked loop wakes for it like for any completion. Chosen over
 *   asyncio's RegisterWaitForSingleObject, whose callback runs on a thread-pool thread and would
 *   need native code to post to the port (there is no C here, and a JavaScript callback cannot
 *   run on that thread), and over a thread per child blocked in WaitForSingleObject. Seen
 *   working under Wine 8.0 (NEW_PROCESS, then EXIT_PROCESS with the pid).
 */
import { LINUX_ERRNO } from "../ffi/errno_linux.ts";
import {
  ENTRY_BYTES, ENTRY_KEY, ENTRY_OVERLAPPED, ERROR_BROKEN_PIPE, ERROR_CONNECTION_ABORTED,
  ERROR_CONNECTION_REFUSED, ERROR_HANDLE_EOF, ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER,
  ERROR_IO_PENDING, ERROR_MORE_DATA, ERROR_NETNAME_DELETED, ERROR_NO_DATA, ERROR_PIPE_NOT_CONNECTED, ERROR_OPERATION_ABORTED,
  ERROR_PORT_UNREACHABLE, INVALID_HANDLE_VALUE, JOB_OBJECT_MSG_ABNORMAL_EXIT_PROCESS,
  JOB_OBJECT_MSG_EXIT_PROCESS, JOBOBJECT_ASSOCIATE_COMPLETION_PORT_SIZE,
  JobObjectAssociateCompletionPortInformation, kernel32, OVERLAPPED_ENTRY_SIZE,
  OVERLAPPED_INTERNAL, OVERLAPPED_SIZE,
} from "../ffi/kernel32.ts";
import { openIocpParker, type IocpParker } from "../ffi/iocp_park.ts";
import { bufferAddress, isWindows, osName, pointerAddress } from "../ffi/runtime.ts";
import {
  ACCEPT_ADDRESS_SLOT, extensionFunctions, FIONBIO, SO_UPDATE_ACCEPT_CONTEXT,
  SO_UPDATE_CONNECT_CONTEXT, SOCKET_ERROR, WIN_AF_INET, WIN_AF_INET6, WIN_IPPROTO_TCP,
  WIN_SO_TYPE, WIN_SOCK_DGRAM, WIN_SOCK_STREAM, WIN_SOL_SOCKET, ws2, WSA_FLAG_NO_HANDLE_INHERIT,
  WSA_FLAG_OVERLAPPED, WSABUF_BUF, WSABUF_LEN, WSAEADDRINUSE, WSAEADDRNOTAVAIL,
  WSAEAFNOSUPPORT, WSAEALREADY, WSAECONNABORTED, WSAECONNREFUSED, WSAECONNRESET, WSAEFAULT,
  WSAEHOSTUNREACH, WSAEINPROGRESS, WSAEINTR, WSAEINVAL, WSAEISCONN, WSAEMFILE, WSAEMSGSIZE,
  WSAENETDOWN, WSAENETRESET, WSAENETUNREACH, WSAENOBUFS, WSAENOTCONN, WSAENOTSOCK, WSAESHUTDOWN,
  WSAETIMEDOUT, WSAEWOULDBLOCK, WSAEACCES, WSAEBADF, WSAEDESTADDRREQ, WSAENOPROTOOPT,
  WSAEOPNOTSUPP, WSAEPROTONOSUPPORT, WSAESOCKTNOSUPPORT,
} from "../ffi/ws2_32.ts";
import { osError } from "../ffi/libc.ts";
import { NotImplementedError } from "../loop/core/errors.ts";
import type { CompletionTarget, Proactor } from "../loop/proactor/proactor.ts";

// Linux errno values (<asm-generic/errno-base.h>, <asm-generic/errno.h>), the loop's vocabulary.
const { EINTR, EIO, EBADF, EAGAIN, EACCES, EFAULT, EINVAL, EMFILE, EPIPE, ETIME, ENOTSOCK,
  EMSGSIZE, EAFNOSUPPORT, EADDRINUSE, EADDRNOTAVAIL, ENETDOWN, ENETUNREACH, ENETRESET,
  ECONNABORTED, ECONNRESET, ENOBUFS, EISCONN, ENOTCONN, ESHUTDOWN, ETIMEDOUT, ECONNREFUSED,
  EHOSTUNREACH, EALREADY, EINPROGRESS, ECANCELED, EDESTADDRREQ, ENOPROTOOPT, EPROTONOSUPPORT,
  ESOCKTNOSUPPORT, EOPNOTSUPP } = LINUX_ERRNO;
// <bits/socket_type.h>: accept4's flag the loop passes.
const SOCK_NONBLOCK = 0o4000;
// ffi/socket_constants.ts: the loop's (Linux) AF_INET6.
const LINUX_AF_INET6 = 10;

/** Error codes errnoOf() had no errno for (tests print them). */
export const unknownErrors = new Set<number>();

/**
 * The sockets set non-blocking (FIONBIO) in this process. Winsock cannot read that mode back
 * (winsock2.h has no query), so whoever sets it records it here: windows_socket.ts, and the
 * accept completions below; Socket.getBlocking() reads it (windows_socket.ts isNonBlocking).
 */
export const nonBlockingSockets = new Set<number>();

/** A Winsock (winerror.h WSAE*) or system (winerror.h ERROR_*) error as a Linux errno. */
export function errnoOf(code: number): number {
  switch (code) {
    case ERROR_OPERATION_ABORTED: return ECANCELED;
    case ERROR_NETNAME_DELETED: case WSAECONNRESET: return ECONNRESET;
    case ERROR_CONNECTION_REFUSED: case ERROR_PORT_UNREACHABLE: case WSAECONNREFUSED:
      return ECONNREFUSED;
    case ERROR_CONNECTION_ABORTED: case WSAECONNABORTED: return ECONNABORTED;
    case ERROR_BROKEN_PIPE: case ERROR_NO_DATA: case ERROR_PIPE_NOT_CONNECTED: return EPIPE;
    case ERROR_INVALID_HANDLE: case WSAEBADF: return EBADF;
    case ERROR_INVALID_PARAMETER: case WSAEINVAL: return EINVAL;
    case WSAEINTR: return EINTR;
    case WSAEACCES: return EACCES;
    case WSAEFAULT: return EFAULT;
    case WSAEMFILE: return EMFILE;
    case WSAEWOULDBLOCK: return EAGAIN;
    case WSAEINPROGRESS: return EINPROGRESS;
    case WSAEALREADY: return EALREADY;
    case WSAENOTSOCK: return ENOTSOCK;
    case WSAEMSGSIZE: case ERROR_MORE_DATA: return EMSGSIZE;
    case WSAEAFNOSUPPORT: return EAFNOSUPPORT;
    case WSAEADDRINUSE: return EADDRINUSE;
    case WSAEADDRNOTAVAIL: return EADDRNOTAVAIL;
    case WSAENETDOWN: return ENETDOWN;
    case WSAENETUNREACH: return ENETUNREACH;
    case WSAENETRESET: return ENETRESET;
    case WSAENOBUFS: return ENOBUFS;
    case WSAEISCONN: return EISCONN;
    case WSAENOTCONN: return ENOTCONN;
    case WSAESHUTDOWN: return ESHUTDOWN;
    case WSAETIMEDOUT: return ETIMEDOUT;
    case WSAEHOSTUNREACH: return EHOSTUNREACH;
    case WSAEDESTADDRREQ: return EDESTADDRREQ;
    case WSAENOPROTOOPT: return ENOPROTOOPT;
    case WSAEPROTONOSUPPORT: return EPROTONOSUPPORT;
    case WSAESOCKTNOSUPPORT: return ESOCKTNOSUPPORT;
    case WSAEOPNOTSUPP: return EOPNOTSUPP;
    default:
      unknownErrors.add(code);
      return EIO;
  }
}

/** null if IOCP can run here; otherwise why not. */
export function iocpUnavailableReason(): string | null {
  return isWindows ? null : `I/O completion ports are Windows's, and this is ${osName}`;
}

// ---- Operation slots ---------------------------------------------------------------------------

// One slot: OVERLAPPED (32) | WSABUF (16) | flags DWORD | address length INT | 8 spare |
// sockaddr storage (128) | AcceptEx output: local and remote address slots (2 × 44).
const SLOT_WSABUF = OVERLAPPED_SIZE;
const SLOT_FLAGS = SLOT_WSABUF + 16;
const SLOT_ADDRLEN = SLOT_FLAGS + 4;
const SLOT_ADDR = SLOT_ADDRLEN + 12;
const SLOT_ACCEPT = SLOT_ADDR + 128;
const SLOT_SIZE = Math.ceil((SLOT_ACCEPT + 2 * ACCEPT_ADDRESS_SLOT) / 16) * 16;
const SLOTS_PER_SLAB = 64;

const K_RECV = 1, K_SEND = 2, K_RECVFROM = 3, K_SENDTO = 4, K_ACCEPT = 5, K_CONNECT = 6,
  K_READ = 7, K_WRITE = 8, K_TIMEOUT = 9;

/** ntstatus.h: `STATUS_CANCELLED` ((NTSTATUS)0xC0000120L). */
const STATUS_CANCELLED = 0xc0000120;

/** The completion key of wakeup() packets; operations complete with key 0. */
const WAKE_KEY = 1;
/** The completion key of the job object's messages (watchProcess). */
const JOB_KEY = 2;

/** A child whose exit is awaited (watchProcess). */
interface ProcessWatch {
  id: number;
  pid: number;
  target: CompletionTarget;
  tag: number;
}

/** One operation in flight: its slot, the memory it holds, where its completion goes. */
class Operation {
  id = 0;
  kind = 0;
  handle = 0;
  target: CompletionTarget | undefined;
  tag = 0;
  /** The caller's buffer, held until the completion (the kernel may write it until then). */
  buffer: Uint8Array | undefined;
  /** AcceptEx: the socket being accepted into; multishot: accept again after each. */
  acceptSocket = 0;
  acceptFlags = 0;
  multishot = false;
  cancelled = false;
  /** timeout(): when it is due (performance.now() ms). */
  due = 0;
  readonly view: DataView;
  constructor(readonly slab: Uint8Array, readonly offset: number, readonly address: number) {
    this.view = new DataView(slab.buffer, offset, SLOT_SIZE);
  }
}

/** Translate the first u16 (sa_family) between the loop's numbering and Winsock's. */
export function familyToWindows(bytes: Uint8Array, at: number): void {
  if (bytes[at] === LINUX_AF_INET6 && bytes[at + 1] === 0) bytes[at] = WIN_AF_INET6;
}
export function familyFromWindows(bytes: Uint8Array, at: number): void {
  if (bytes[at] === WIN_AF_INET6 && bytes[at + 1] === 0) bytes[at] = LINUX_AF_INET6;
}

/** Operations closed proactors could not see complete: kept, never reused (see module doc). */
const abandoned: Operation[] = [];

/** How many operations closed proactors abandoned (their memory is kept for good). */
export function abandonedOperations(): number {
  return abandoned.length;
}

/** The proactors not yet closed (see releaseFromProactors). */
const openProactors = new Set<IocpProactor>();

/**
 * Release `handle` from every open proactor (releaseHandle): called right before the handle is
 * closed by whoever owns it (platform/windows_socket.ts's close), as Windows recycles handle
 * values and a new socket must not pass for one already associated with a port.
 */
export function releaseFromProactors(handle: number): void {
  for (const p of openProactors) p.releaseHandle(handle);
}

/** An I/O completion port Proactor. */
export class IocpProactor implements Proactor {
  onError: (error: unknown) => void = (e) => console.error(e);
  /** No readiness: pollAdd raises (see the module comment). */
  readonly pollsReadiness = false;
  /** Transports send through WSASend operations only. */
  readonly syncSendMinBytes = Infinity;
  completionAddressLength = 0;

  private port: number;
  private readonly byAddress = new Map<number, Operation>();
  private readonly byId = new Map<number, Operation>();
  private readonly freeSlots: Operation[] = [];
  private readonly slabs: Uint8Array[] = [];
  /** Operations that failed when issued: delivered by the next poll(). */
  private failedAtOnce: [Operation, number][] = [];
  private timers: Operation[] = [];
  private readonly associated = new Set<number>();
  /** Listening socket → its address family (AcceptEx needs a socket of the same family). */
  private readonly listenFamily = new Map<number, number>();
  private readonly entries = new Uint8Array(new ArrayBuffer(64 * OVERLAPPED_ENTRY_SIZE));
  private readonly removed = new Uint32Array(1);
  private parker: IocpParker | undefined;
  /** Completions the parker dequeued, not yet delivered. */
  private parkedCount = 0;
  private wakePosted = false;
  private nextId = 1;
  private closed = false;
  /** The job object of watchProcess's children (0 until the first). */
  private job = 0;
  private readonly watchesByPid = new Map<number, ProcessWatch>();
  private readonly watchesById = new Map<number, ProcessWatch>();
  /** Watches cancelled: their -ECANCELED is delivered by the next poll(). */
  private cancelledWatches: ProcessWatch[] = [];

  constructor() {
    const why = iocpUnavailableReason();
    if (why !== null) throw new NotImplementedError(why);
    const port = kernel32().CreateIoCompletionPort(INVALID_HANDLE_VALUE, 0, 0, 1);
    if (!port) throw new Error(`CreateIoCompletionPort failed: error ${kernel32().GetLastError()}`);
    this.port = Number(port);
    ws2(); // WSAStartup before any socket call
    openProactors.add(this);
  }

  /** The completion port's handle value (tests and diagnostics). */
  get portHandle(): number {
    return this.port;
  }

  /** Operations in flight (tests: nothing may be left after close). */
  get inFlight(): number {
    return this.byId.size;
  }

  /** Children whose exit is awaited (watchProcess). */
  get watchedProcesses(): number {
    return this.watchesById.size;
  }

  /**
   * Call right before closing a handle operations were issued on: cancels every operation in
   * flight on it (their completions, -ECANCELED, still come) and forgets its association, as
   * Windows recycles handle values. Closing alone is not enough under Wine 8.0: closesocket()
   * on a socket with a send and a receive pending left both pending for good there (the
   * "bare closesocket" case in tests/windows), where Windows completes them as aborted.
   */
  releaseHandle(handle: number): void {
    if (this.associated.has(handle) && !this.closed) kernel32().CancelIoEx(handle, 0);
    this.associated.delete(handle);
    this.listenFamily.delete(handle);
  }

  /** releaseHandle() from every open proactor, then CloseHandle (pipe transports). */
  closeHandle(handle: number): void {
    releaseFromProactors(handle);
    kernel32().CloseHandle(handle);
  }

  // ---- Slots ----------------------------------------------------------------------------------

  private take(kind: number, handle: number, target: CompletionTarget | undefined, tag: number): Operation {
    if (this.closed) throw new Error("the proactor is closed");
    let op = this.freeSlots.pop();
    if (op === undefined) {
      const slab = new Uint8Array(new ArrayBuffer(SLOT_SIZE * SLOTS_PER_SLAB));
      this.slabs.push(slab);
      const base = bufferAddress(slab);
      for (let i = SLOTS_PER_SLAB - 1; i > 0; i--) {
        this.freeSlots.push(new Operation(slab, i * SLOT_SIZE, base + i * SLOT_SIZE));
      }
      op = new Operation(slab, 0, base);
    }
    op.slab.fill(0, op.offset, op.offset + SLOT_SIZE);
    op.id = this.nextId;
    this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
    op.kind = kind;
    op.handle = handle;
    op.target = target;
    op.tag = tag;
    op.cancelled = false;
    op.multishot = false;
    op.acceptSocket = 0;
    this.byId.set(op.id, op);
    if (kind !== K_TIMEOUT) this.byAddress.set(op.address, op);
    return op;
  }

  private release(op: Operation): void {
    this.byId.delete(op.id);
    this.byAddress.delete(op.address);
    op.target = undefined;
    op.buffer = undefined;
    op.id = 0;
    this.freeSlots.push(op);
  }

  /**
   * Associate `handle` with the port now rather than at its first operation, so that one that
   * cannot be fails where it was given (the pipe transports' connect): OSError, EBADF for a
   * handle that is not open (ERROR_INVALID_HANDLE).
   */
  associateHandle(handle: number): void {
    this.associate(handle);
  }

  private associate(handle: number): void {
    if (this.associated.has(handle)) return;
    const k = kernel32();
    if (!k.CreateIoCompletionPort(handle, this.port, 0, 0)) {
      const err = k.GetLastError();
      // ERROR_INVALID_PARAMETER: already associated (a handle can have one port, for life).
      if (err !== ERROR_INVALID_PARAMETER) {
        throw osError(`CreateIoCompletionPort(handle ${handle}) (Windows error ${err})`, errnoOf(err));
      }
    }
    this.associated.add(handle);
  }

  /** After an overlapped call returned `ok`: pending or done, the packet will come; else fail. */
  private issued(op: Operation, ok: boolean, lastError: number): number {
    if (!ok && lastError !== ERROR_IO_PENDING) this.failedAtOnce.push([op, lastError]);
    return op.id;
  }

  private setWsabuf(op: Operation, buf: Uint8Array, offset: number, len: number): void {
    op.buffer = buf;
    const v = op.view;
    v.setUint32(SLOT_WSABUF + WSABUF_LEN, len, true);
    v.setBigUint64(SLOT_WSABUF + WSABUF_BUF, BigInt(bufferAddress(buf) + offset), true);
  }

  // ---- Operations -----------------------------------------------------------------------------

  recv(fd: number, buf: Uint8Array, len: number, target: CompletionTarget, tag: number): number {
    this.associate(fd);
    const op = this.take(K_RECV, fd, target, tag);
    this.setWsabuf(op, buf, 0, len);
    const w = ws2();
    const r = w.WSARecv(fd, op.address + SLOT_WSABUF, 1, 0, op.address + SLOT_FLAGS, op.address, 0);
    return this.issued(op, r !== SOCKET_ERROR, r === SOCKET_ERROR ? w.WSAGetLastError() : 0);
  }

  recvMultishot(_fd: number, _target: CompletionTarget, _tag: number): number {
    return 0;
  }

  send(fd: number, buf: Uint8Array, offset: number, len: number, _msgFlags: number,
    target: CompletionTarget, tag: number): number {
    // MSG_NOSIGNAL, the one flag the loop passes, has no meaning here: Windows has no SIGPIPE.
    this.associate(fd);
    const op = this.take(K_SEND, fd, target, tag);
    this.setWsabuf(op, buf, offset, len);
    const w = ws2();
    const r = w.WSASend(fd, op.address + SLOT_WSABUF, 1, 0, 0, op.address, 0);
    return this.issued(op, r !== SOCKET_ERROR, r === SOCKET_ERROR ? w.WSAGetLastError() : 0);
  }

  sendTo(fd: number, buf: Uint8Array, len: number, addr: Uint8Array | null, addrLen: number,
    target: CompletionTarget, tag: number): number {
    this.associate(fd);
    const op = this.take(K_SENDTO, fd, target, tag);
    this.setWsabuf(op, buf, 0, len);
    let to = 0;
    if (addr !== null && addrLen > 0) {
      op.slab.set(addr.subarray(0, Math.min(addrLen, 128)), op.offset + SLOT_ADDR);
      familyToWindows(op.slab, op.offset + SLOT_ADDR);
      to = op.address + SLOT_ADDR;
    }
    const w = ws2();
    const r = w.WSASendTo(fd, op.address + SLOT_WSABUF, 1, 0, 0, to, to ? addrLen : 0, op.address, 0);
    return this.issued(op, r !== SOCKET_ERROR, r === SOCKET_ERROR ? w.WSAGetLastError() : 0);
  }

  recvFrom(fd: number, buf: Uint8Array, len: number, target: CompletionTarget, tag: number): number {
    this.associate(fd);
    const op = this.take(K_RECVFROM, fd, target, tag);
    this.setWsabuf(op, buf, 0, len);
    op.view.setInt32(SLOT_ADDRLEN, 128, true);
    const w = ws2();
    const r = w.WSARecvFrom(fd, op.address + SLOT_WSABUF, 1, 0, op.address + SLOT_FLAGS,
      op.address + SLOT_ADDR, op.address + SLOT_ADDRLEN, op.address, 0);
    return this.issued(op, r !== SOCKET_ERROR, r === SOCKET_ERROR ? w.WSAGetLastError() : 0);
  }

  accept(fd: number, flags: number, multishot: boolean, target: CompletionTarget, tag: number): number {
    this.associate(fd);
    const op = this.take(K_ACCEPT, fd, target, tag);
    op.acceptFlags = flags;
    op.multishot = multishot;
    this.startAccept(op);
    return op.id;
  }

  /** Issue AcceptEx for `op` (again, for a multishot accept). */
  private startAccept(op: Operation): void {
    const w = ws2();
    let family = this.listenFamily.get(op.handle);
    if (family === undefined) {
      const name = new Uint8Array(128), nameLen = new Int32Array([128]);
      family = w.getsockname(op.handle, name, nameLen) === 0 ? name[0] | (name[1] << 8) : WIN_AF_INET;
      this.listenFamily.set(op.handle, family);
    }
    const s = w.WSASocketW(family, WIN_SOCK_STREAM, WIN_IPPROTO_TCP, null, 0,
      WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (s === -1) {
      this.failedAtOnce.push([op, w.WSAGetLastError()]);
      return;
    }
    op.acceptSocket = s;
    const ok = extensionFunctions(op.handle).acceptEx(op.handle, s, op.address + SLOT_ACCEPT, 0,
      ACCEPT_ADDRESS_SLOT, ACCEPT_ADDRESS_SLOT, op.address + SLOT_FLAGS, op.address);
    this.issued(op, ok !== 0, ok ? 0 : w.WSAGetLastError());
  }

  connect(fd: number, addr: Uint8Array, addrLen: number, target: CompletionTarget, tag: number): number {
    const w = ws2();
    // ConnectEx needs a bound socket: bind an unbound one to the wildcard address, port 0.
    const name = new Uint8Array(128), nameLen = new Int32Array([128]);
    let bindError = 0;
    if (w.getsockname(fd, name, nameLen) !== 0) {
      const any = new Uint8Array(128);
      any.set(addr.subarray(0, 2));
      familyToWindows(any, 0);
      if (w.bind(fd, any, any[0] === WIN_AF_INET6 ? 28 : 16) !== 0) bindError = w.WSAGetLastError();
    }
    this.associate(fd);
    const op = this.take(K_CONNECT, fd, target, tag);
    // The connect fails with the bind's error (EADDRINUSE once the ephemeral ports are used
    // up): ConnectEx on the unbound socket would only say WSAEINVAL, which is what a Windows run
    // showed while other processes held ~20,000 loopback ports in TIME_WAIT.
    if (bindError !== 0) return this.issued(op, false, bindError);
    op.slab.set(addr.subarray(0, Math.min(addrLen, 128)), op.offset + SLOT_ADDR);
    familyToWindows(op.slab, op.offset + SLOT_ADDR);
    const ok = extensionFunctions(fd).connectEx(fd, op.address + SLOT_ADDR, addrLen, 0, 0, 0, op.address);
    return this.issued(op, ok !== 0, ok ? 0 : w.WSAGetLastError());
  }

  read(fd: number, buf: Uint8Array, len: number, target: CompletionTarget, tag: number): number {
    this.associate(fd);
    const op = this.take(K_READ, fd, target, tag);
    op.buffer = buf;
    const k = kernel32();
    const ok = k.ReadFile(fd, bufferAddress(buf), len, null, op.address);
    return this.issued(op, ok !== 0, ok ? 0 : k.GetLastError());
  }

  write(fd: number, buf: Uint8Array, offset: number, len: number, target: CompletionTarget, tag: number): number {
    this.associate(fd);
    const op = this.take(K_WRITE, fd, target, tag);
    op.buffer = buf;
    const k = kernel32();
    const ok = k.WriteFile(fd, bufferAddress(buf) + offset, len, null, op.address);
    return this.issued(op, ok !== 0, ok ? 0 : k.GetLastError());
  }

  pollAdd(_fd: number, _events: number, _target: CompletionTarget, _tag: number): number {
    throw new NotImplementedError(
      "readiness callbacks (addReader/addWriter) need a readiness poller; IOCP reports completions only",
    );
  }

  timeout(seconds: number, target: CompletionTarget, tag: number): number {
    const op = this.take(K_TIMEOUT, 0, target, tag);
    op.due = performance.now() + Math.max(0, seconds) * 1000;
    this.timers.push(op);
    return op.id;
  }

  /**
   * Complete (res 0) once the process `processHandle` (id `pid`) has exited: it joins this
   * proactor's job object, whose exit messages come to the port. Call it while the process is
   * still suspended (CREATE_SUSPENDED), so that no exit can happen before it is in the job.
   * Throws (with the Windows error) if the process cannot join the job.
   */
  watchProcess(processHandle: number, pid: number, target: CompletionTarget, tag: number): number {
    if (this.closed) throw new Error("the proactor is closed");
    const k = kernel32();
    if (this.job === 0) {
      const job = Number(pointerAddress(k.CreateJobObjectW(null, null)));
      if (job === 0) throw new Error(`CreateJobObjectW failed: error ${k.GetLastError()}`);
      // JOBOBJECT_ASSOCIATE_COMPLETION_PORT: { CompletionKey, CompletionPort } (kernel32.ts).
      const info = new BigUint64Array([BigInt(JOB_KEY), BigInt(this.port)]);
      if (!k.SetInformationJobObject(job, JobObjectAssociateCompletionPortInformation,
        new Uint8Array(info.buffer), JOBOBJECT_ASSOCIATE_COMPLETION_PORT_SIZE)) {
        const err = k.GetLastError();
        k.CloseHandle(job);
        throw new Error(`SetInformationJobObject(completion port) failed: error ${err}`);
      }
      this.job = job;
    }
    if (!k.AssignProcessToJobObject(this.job, processHandle)) {
      throw new Error(`AssignProcessToJobObject failed: error ${k.GetLastError()}`);
    }
    const watch: ProcessWatch = { id: this.nextId, pid, target, tag };
    this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
    this.watchesByPid.set(pid, watch);
    this.watchesById.set(watch.id, watch);
    return watch.id;
  }

  /** A job message: a watched child exited (other messages and children are not ours). */
  private jobMessage(message: number, pid: number): number {
    if (message !== JOB_OBJECT_MSG_EXIT_PROCESS && message !== JOB_OBJECT_MSG_ABNORMAL_EXIT_PROCESS) return 0;
    const watch = this.watchesByPid.get(pid);
    if (watch === undefined) return 0; // a grandchild (children's children join the job too)
    return this.finishWatch(watch, 0);
  }

  private finishWatch(watch: ProcessWatch, res: number): number {
    this.watchesByPid.delete(watch.pid);
    this.watchesById.delete(watch.id);
    try {
      watch.target._ioComplete(watch.tag, res, false, watch.id, undefined);
    } catch (e) {
      this.onError(e);
    }
    return 1;
  }

  cancel(id: number): void {
    const watch = this.watchesById.get(id);
    if (watch !== undefined) {
      this.watchesById.delete(id);
      this.watchesByPid.delete(watch.pid);
      this.cancelledWatches.push(watch);
      return;
    }
    const op = this.byId.get(id);
    if (op === undefined || op.cancelled) return;
    op.cancelled = true;
    if (op.kind === K_TIMEOUT) {
      // Completes with -ECANCELED at the next poll(), as io_uring's cancelled timeout does.
      op.due = -1;
      return;
    }
    // Not found (ERROR_NOT_FOUND): it completed already and its packet is on the way.
    kernel32().CancelIoEx(op.handle, op.address);
  }

  flush(): void {}

  hasWork(): boolean {
    return this.byId.size > 0 || this.parkedCount > 0 || this.watchesById.size > 0 ||
      this.cancelledWatches.length > 0;
  }

  // ---- Completions ----------------------------------------------------------------------------

  poll(): number {
    if (this.closed) return 0;
    let delivered = 0;
    if (this.failedAtOnce.length > 0) {
      const failed = this.failedAtOnce;
      this.failedAtOnce = [];
      for (const [op, error] of failed) delivered += this.finish(op, error, 0);
    }
    if (this.cancelledWatches.length > 0) {
      const cancelled = this.cancelledWatches;
      this.cancelledWatches = [];
      for (const watch of cancelled) delivered += this.finishWatch(watch, -ECANCELED);
    }
    if (this.parkedCount > 0) {
      const n = this.parkedCount;
      this.parkedCount = 0;
      delivered += this.deliverEntries(this.parker!.entries, n);
    }
    if (this.timers.length > 0) delivered += this.expireTimers();
    const k = kernel32();
    for (;;) {
      // FALSE with WAIT_TIMEOUT when nothing is queued.
      if (!k.GetQueuedCompletionStatusEx(this.port, this.entries, 64, this.removed, 0, 0)) break;
      const n = this.removed[0];
      delivered += this.deliverEntries(this.entries, n);
      if (n < 64) break;
    }
    return delivered;
  }

  private deliverEntries(entries: Uint8Array, n: number): number {
    const v = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
    let delivered = 0;
    for (let i = 0; i < n; i++) {
      const at = i * OVERLAPPED_ENTRY_SIZE;
      const ovAddress = Number(v.getBigUint64(at + ENTRY_OVERLAPPED, true));
      const key = Number(v.getBigUint64(at + ENTRY_KEY, true));
      if (key === JOB_KEY) {
        // The message number comes as the byte count, the process id as the "OVERLAPPED".
        delivered += this.jobMessage(v.getUint32(at + ENTRY_BYTES, true), ovAddress);
        continue;
      }
      if (ovAddress === 0) {
        if (key === WAKE_KEY) this.wakePosted = false;
        continue;
      }
      const op = this.byAddress.get(ovAddress);
      if (op === undefined) continue; // not ours: cannot happen while slots outlive operations
      const bytes = v.getUint32(at + ENTRY_BYTES, true);
      const status = Number(op.view.getBigUint64(OVERLAPPED_INTERNAL, true));
      delivered += this.finish(op, status === 0 ? 0 : this.errorOf(op, status), bytes);
    }
    return delivered;
  }

  /** The Winsock or system error of a completed operation whose NTSTATUS is not success. */
  private errorOf(op: Operation, status: number): number {
    // ntstatus.h: STATUS_CANCELLED 0xC0000120, what CancelIoEx and closing a handle leave: no
    // need to ask (the handle may be closed already, and then the asking would fail).
    if (status === STATUS_CANCELLED) return ERROR_OPERATION_ABORTED;
    const transferred = new Uint32Array(1), flags = new Uint32Array(1);
    if (op.kind === K_READ || op.kind === K_WRITE) {
      const k = kernel32();
      return k.GetOverlappedResult(op.handle, op.address, transferred, 0) ? 0 : k.GetLastError();
    }
    const w = ws2();
    return w.WSAGetOverlappedResult(op.handle, op.address, transferred, 0, flags) ? 0 : w.WSAGetLastError();
  }

  /** Turn one completion into the contract's result, deliver it, release the slot. */
  private finish(op: Operation, error: number, bytes: number): number {
    let res = bytes;
    let buffer: Uint8Array | undefined;
    let more = false;
    if (error !== 0) {
      // A cut datagram is data (Linux recvmsg returns it cut, MSG_TRUNC set); a broken pipe or
      // end of file is EOF to a reader.
      if ((error === WSAEMSGSIZE || error === ERROR_MORE_DATA) && op.kind === K_RECVFROM) res = bytes;
      else if ((error === ERROR_BROKEN_PIPE || error === ERROR_HANDLE_EOF) && op.kind === K_READ) res = 0;
      else res = -errnoOf(error);
    }
    if (op.kind === K_RECVFROM && res >= 0) {
      const at = op.offset + SLOT_ADDR;
      familyFromWindows(op.slab, at);
      this.completionAddressLength = op.view.getInt32(SLOT_ADDRLEN, true);
      buffer = op.slab.subarray(at, at + 128);
    } else if (op.kind === K_ACCEPT) {
      const accepted = this.finishAccept(op, res);
      res = accepted.res;
      buffer = accepted.buffer;
      if (op.multishot && !op.cancelled && res >= 0) more = true;
    } else if (op.kind === K_CONNECT && res >= 0) {
      if (ws2().setsockopt(op.handle, WIN_SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, null, 0) !== 0) {
        res = -errnoOf(ws2().WSAGetLastError());
      }
    }
    const target = op.target!, tag = op.tag, id = op.id;
    if (more) {
      // Multishot accept: the operation goes on (same id) with a fresh AcceptEx.
      this.byAddress.set(op.address, op);
    } else {
      this.release(op);
    }
    try {
      target._ioComplete(tag, res, more, id, buffer);
    } catch (e) {
      this.onError(e);
    }
    if (more && op.id === id && !this.closed) {
      op.slab.fill(0, op.offset, op.offset + SLOT_SIZE);
      // Cancelled from the callback: the final completion (-ECANCELED) comes at the next poll.
      if (op.cancelled) this.failedAtOnce.push([op, ERROR_OPERATION_ABORTED]);
      else this.startAccept(op);
    }
    return 1;
  }

  private finishAccept(op: Operation, res: number): { res: number; buffer: Uint8Array | undefined } {
    const s = op.acceptSocket;
    op.acceptSocket = 0;
    if (s === 0) return { res: res < 0 ? res : -EIO, buffer: undefined };
    const w = ws2();
    if (res < 0) {
      w.closesocket(s);
      return { res, buffer: undefined };
    }
    // mswsock.h: the accepted socket takes the listening socket's properties only after
    // SO_UPDATE_ACCEPT_CONTEXT (getpeername, shutdown and so on need it).
    const listen = new BigUint64Array([BigInt(op.handle)]);
    if (w.setsockopt(s, WIN_SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, new Uint8Array(listen.buffer), 8) !== 0) {
      const err = w.WSAGetLastError();
      w.closesocket(s);
      return { res: -errnoOf(err), buffer: undefined };
    }
    if ((op.acceptFlags & SOCK_NONBLOCK) && w.ioctlsocket(s, FIONBIO, new Uint32Array([1])) === 0) {
      nonBlockingSockets.add(s);
    }
    const at = op.offset + SLOT_ADDR;
    const name = op.slab.subarray(at, at + 128);
    const len = new Int32Array([128]);
    if (w.getpeername(s, name, len) === 0) {
      familyFromWindows(op.slab, at);
      this.completionAddressLength = len[0];
    } else {
      this.completionAddressLength = 0;
    }
    return { res: s, buffer: name };
  }

  private expireTimers(): number {
    const now = performance.now();
    let delivered = 0;
    const due = this.timers.filter((t) => t.due <= now);
    if (due.length === 0) return 0;
    this.timers = this.timers.filter((t) => t.due > now);
    due.sort((a, b) => a.due - b.due);
    for (const op of due) {
      const target = op.target!, tag = op.tag, id = op.id;
      const res = op.cancelled ? -ECANCELED : -ETIME;
      this.release(op);
      try {
        target._ioComplete(tag, res, false, id, undefined);
      } catch (e) {
        this.onError(e);
      }
      delivered++;
    }
    return delivered;
  }

  // ---- Parking --------------------------------------------------------------------------------

  async park(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    if (this.failedAtOnce.length > 0 || this.parkedCount > 0 || this.cancelledWatches.length > 0) return;
    if (this.timers.length > 0) {
      let next = Infinity;
      for (const t of this.timers) next = Math.min(next, t.due);
      const untilTimer = Math.max(0, Math.ceil(next - performance.now()));
      timeoutMs = timeoutMs < 0 ? untilTimer : Math.min(timeoutMs, untilTimer);
    }
    this.parker ??= openIocpParker(this.port);
    const n = await this.parker.wait(timeoutMs);
    if (!this.closed) this.parkedCount += n;
  }

  wakeup(): void {
    if (this.wakePosted || this.closed) return;
    this.wakePosted = true;
    kernel32().PostQueuedCompletionStatus(this.port, 0, WAKE_KEY, 0);
  }

  // ---- Closing --------------------------------------------------------------------------------

  close(): void {
    if (this.closed) return;
    this.closed = true;
    openProactors.delete(this);
    const k = kernel32();
    // A parked wait holds completions it dequeued: end it, and count them as seen.
    if (this.parker?.waiting) {
      k.PostQueuedCompletionStatus(this.port, 0, WAKE_KEY, 0);
      const n = this.parker.finishSync(2000);
      if (n > 0) this.parkedCount += n;
    }
    if (this.parkedCount > 0) this.absorb(this.parker!.entries, this.parkedCount);
    this.parkedCount = 0;
    for (const [op] of this.failedAtOnce) this.drop(op);
    this.failedAtOnce = [];
    for (const op of this.timers) this.drop(op);
    this.timers = [];
    for (const op of this.byId.values()) k.CancelIoEx(op.handle, op.address);
    // Wait (bounded) for every cancelled operation's packet: until then the kernel may write
    // its slot and buffer.
    const deadline = performance.now() + 2000;
    while (this.byId.size > 0 && performance.now() < deadline) {
      if (!k.GetQueuedCompletionStatusEx(this.port, this.entries, 64, this.removed, 50, 0)) continue;
      this.absorb(this.entries, this.removed[0]);
    }
    for (const op of this.byId.values()) abandoned.push(op);
    if (this.byId.size === 0) this.parker?.close();
    // else: the parking thread may still be inside a wait on this port; leave it be.
    this.byId.clear();
    this.byAddress.clear();
    // Children still running go on (asyncio does not kill them when the loop closes); their
    // exits are no longer reported. The job goes away with its last process.
    this.watchesById.clear();
    this.watchesByPid.clear();
    this.cancelledWatches = [];
    if (this.job !== 0) k.CloseHandle(this.job);
    this.job = 0;
    k.CloseHandle(this.port);
    this.port = 0;
    this.associated.clear();
  }

  /** Completions seen while closing: release their memory (and accept sockets), no delivery. */
  private absorb(entries: Uint8Array, n: number): void {
    const v = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
    for (let i = 0; i < n; i++) {
      const at = i * OVERLAPPED_ENTRY_SIZE;
      if (Number(v.getBigUint64(at + ENTRY_KEY, true)) === JOB_KEY) continue; // a pid, no slot
      const op = this.byAddress.get(Number(v.getBigUint64(at + ENTRY_OVERLAPPED, true)));
      if (op !== undefined) this.drop(op);
    }
  }

  private drop(op: Operation): void {
    if (op.acceptSocket !== 0) ws2().closesocket(op.acceptSocket);
    op.acceptSocket = 0;
    this.release(op);
  }
}

/** Socket helpers for Windows code paths that have no Socket class yet (tests, examples). */
export const winsock = {
  /** A new overlapped, non-inheritable socket (Winsock numbering), or throws. */
  socket(family: number, type: number): number {
    const w = ws2();
    const proto = type === WIN_SOCK_DGRAM ? 17 : WIN_IPPROTO_TCP;
    const s = w.WSASocketW(family, type, proto, null, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (s === -1) throw new Error(`WSASocketW failed: Winsock error ${w.WSAGetLastError()}`);
    return s;
  },
  /** bind() to 127.0.0.1:`port` and return the port bound. */
  bindLoopback(s: number, port = 0): number {
    const w = ws2();
    const addr = new Uint8Array(16);
    addr[0] = WIN_AF_INET;
    addr[2] = port >> 8;
    addr[3] = port & 0xff;
    addr.set([127, 0, 0, 1], 4);
    if (w.bind(s, addr, 16) !== 0) throw new Error(`bind failed: Winsock error ${w.WSAGetLastError()}`);
    const name = new Uint8Array(128), len = new Int32Array([128]);
    w.getsockname(s, name, len);
    return (name[2] << 8) | name[3];
  },
  /** True while `s` is an open socket (getsockopt(SO_TYPE) works on it). */
  isOpen(s: number): boolean {
    const v = new Int32Array(1), l = new Int32Array([4]);
    return ws2().getsockopt(s, WIN_SOL_SOCKET, WIN_SO_TYPE, v, l) === 0;
  },
  close(s: number): void {
    ws2().closesocket(s);
  },
};
