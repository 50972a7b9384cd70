/**
 * The contract between the proactor loop and a platform's completion engine (io_uring on
 * Linux; IOCP on Windows): operations are submitted with the buffers they use, and each
 * completion is handed to the CompletionTarget given at submission.
 *
 * Rules every Proactor keeps:
 * - A buffer passed to an operation stays referenced (alive, and unmoved: its ArrayBuffer's
 *   bytes are outside the moving heap) until that operation's last completion has been
 *   delivered, also when it is cancelled or the proactor closes.
 * - Submissions are batched: nothing reaches the kernel until poll(), park() or flush() —
 *   except on a proactor without a submission queue (IOCP), which issues each operation when
 *   asked and says so with `submitsAtOnce`. Callers flush either way.
 * - Completions are delivered only from poll(), on the JS thread, in the order the kernel
 *   posted them; a target that throws does not stop the others (the error goes to onError).
 * Operation ids are positive integers, unique while the operation is in flight.
 */

/** Receives the completions of the operations submitted for it. */
export interface CompletionTarget {
  /**
   * Operation `op`, submitted with `tag`, completed: `res` is a byte count, a new fd or 0, or
   * -errno. `more`: a multishot operation will complete again. `buffer`: for recvMultishot the
   * proactor-owned bytes received (res of them), for recvmsg the sender's sockaddr; valid only
   * during this call.
   * @ignore
   */
  _ioComplete(tag: number, res: number, more: boolean, op: number, buffer: Uint8Array | undefined): void;
}

/** A completion I/O engine (io_uring, IOCP): see the rules above. */
export interface Proactor {
  /** Receive into buf[0, len) once (recv(2) semantics: 0 means EOF). */
  recv(fd: number, buf: Uint8Array, len: number, target: CompletionTarget, tag: number): number;
  /**
   * Receive repeatedly into the proactor's own buffers; each completion carries the bytes. 0 if
   * this proactor cannot (the caller then uses recv()).
   */
  recvMultishot(fd: number, target: CompletionTarget, tag: number): number;
  /** send(2) buf[offset, offset+len) with `msgFlags`. */
  send(fd: number, buf: Uint8Array, offset: number, len: number, msgFlags: number,
    target: CompletionTarget, tag: number): number;
  /** sendmsg(2) of one datagram to the encoded sockaddr `addr[0, addrLen)` (addrLen 0: connected). */
  sendTo(fd: number, buf: Uint8Array, len: number, addr: Uint8Array | null, addrLen: number,
    target: CompletionTarget, tag: number): number;
  /** recvmsg(2) of one datagram into buf[0, len); the completion's buffer is the sender's address. */
  recvFrom(fd: number, buf: Uint8Array, len: number, target: CompletionTarget, tag: number): number;
  /** Name length of the sockaddr handed to the current recvFrom/accept completion. */
  readonly completionAddressLength: number;
  /**
   * accept4(2) with `flags` (SOCK_NONBLOCK | SOCK_CLOEXEC); res is the new fd. `multishot`: one
   * submission accepts until cancelled (no peer address then); otherwise the completion's buffer
   * holds the peer's sockaddr.
   */
  accept(fd: number, flags: number, multishot: boolean, target: CompletionTarget, tag: number): number;
  /** connect(2) to the encoded sockaddr `addr[0, addrLen)` (copied at once). */
  connect(fd: number, addr: Uint8Array, addrLen: number, target: CompletionTarget, tag: number): number;
  /** read(2) at the current file position (pipes, ttys). */
  read(fd: number, buf: Uint8Array, len: number, target: CompletionTarget, tag: number): number;
  /** write(2) of buf[offset, offset+len) at the current file position. */
  write(fd: number, buf: Uint8Array, offset: number, len: number, target: CompletionTarget, tag: number): number;
  /** Wait for readiness (POLLIN/POLLOUT bits, as poll(2)); res is the revents. One-shot. */
  pollAdd(fd: number, events: number, target: CompletionTarget, tag: number): number;
  /** Complete after `seconds` (res -ETIME), or early if cancelled. */
  timeout(seconds: number, target: CompletionTarget, tag: number): number;
  /** Ask the kernel to cancel `op`; its completion (often -ECANCELED) still arrives. */
  cancel(op: number): void;
  /** Hand every queued submission to the kernel now (before closing an fd they name). */
  flush(): void;
  /**
   * Submit what is queued and deliver the completions already posted. Returns how many.
   * `deferSubmit`: the loop calls waitBriefly() next unless this delivers something that queues
   * a callback, so submitting and running the kernel's completion work may be left to that
   * wait (one system call per loop iteration instead of up to three); only completions already
   * posted are delivered.
   */
  poll(deferSubmit?: boolean): number;
  /** True while something is queued or in flight. */
  hasWork(): boolean;
  /**
   * false: pollAdd always raises NotImplementedError (IOCP reports completions only), so the loop
   * serves listening sockets, datagrams and pipes with operations. Absent: true.
   */
  readonly pollsReadiness?: boolean;
  /**
   * True where operations are issued when submitted, there being no submission queue to batch
   * them in (IOCP); absent or false: batched until poll(), park() or flush() (io_uring).
   */
  readonly submitsAtOnce?: boolean;
  /**
   * A stream write of at least this many bytes, with no send in flight, tries send(2) at once;
   * smaller ones are submitted as send operations (batched into the next poll()). Infinity:
   * every write is an operation (IOCP: there is no C library send beside it). Absent: 0.
   */
  readonly syncSendMinBytes?: number;
  /**
   * Called right before `fd`, on which operations were issued, is closed by its owner: the
   * proactor cancels what is in flight on it and forgets it (IOCP: handle values are recycled,
   * and a port association is for the handle's life). Absent: nothing to do.
   */
  releaseHandle?(fd: number): void;
  /**
   * Make `fd` ready for operations now, so that a bad one fails where it is given: OSError
   * (IOCP: associate the handle with the port; EBADF if it is not open). Absent: nothing to do.
   */
  associateHandle?(fd: number): void;
  /** Release `fd` (releaseHandle) and close it the OS's way (IOCP: CloseHandle). Absent: close(2). */
  closeHandle?(fd: number): void;
  /** Called with a target's exception (the loop's exception handler). */
  onError: (error: unknown) => void;
  /**
   * Submit what is queued and wait a short, fixed time on the JS thread for a completion (a
   * cheaper wait than park()'s hop to another thread when one is about to arrive); true if
   * completions are now ready for poll(). Absent: the loop goes straight to park().
   */
  waitBriefly?(): boolean;
  /** Wait off the JS thread until a completion, wakeup() or `timeoutMs` (-1: no limit). */
  park(timeoutMs: number): Promise<void>;
  /** End a park() in progress; coalesces. */
  wakeup(): void;
  /**
   * Cancel everything in flight, wait (bounded) for those completions without delivering them,
   * then release the rings, buffers and fds. Idempotent.
   */
  close(): void;
}

/**
 * @ignore What the proactor transports and server need of their loop beyond AbstractEventLoop:
 * its Proactor. The ProactorEventLoop is one; typing against this keeps those files from
 * importing proactor_loop.ts, which imports them.
 */
export interface ProactorHost {
  /** The loop's completion engine. */
  readonly _proactor: Proactor;
}
