/**
 * Python's exceptions as Error subclasses of the same names, as asyncio raises them.
 *
 * Each sets `name` so that `String(err)` and stack traces read like Python's class names.
 */

/** Raised inside a task or future that was cancelled (asyncio.CancelledError). */
export class CancelledError extends Error {
  /** The Python class name. */
  override name = "CancelledError";
}

/** A Future/Task method called in the wrong state (asyncio.InvalidStateError). */
export class InvalidStateError extends Error {
  /** The Python class name. */
  override name = "InvalidStateError";
}

/** An operation exceeded its deadline (asyncio.TimeoutError, the builtin TimeoutError). */
export class TimeoutError extends Error {
  /** The Python class name. */
  override name = "TimeoutError";
}

/** Misuse of the loop: closed, already running, not running (Python's RuntimeError). */
export class RuntimeError extends Error {
  /** The Python class name. */
  override name = "RuntimeError";
}

/**
 * The sendfile system call cannot be used for this socket and file (asyncio
 * SendfileNotAvailableError, a RuntimeError): loop.sockSendfile/sendfile with fallback false.
 */
export class SendfileNotAvailableError extends RuntimeError {
  /** The Python class name. */
  override name = "SendfileNotAvailableError";
}

/** An argument of the right type but an unacceptable value (Python's ValueError). */
export class ValueError extends Error {
  /** The Python class name. */
  override name = "ValueError";
}

/** A number too large or small for where it goes, e.g. a port outside 0-65535 (Python's OverflowError). */
export class OverflowError extends Error {
  /** The Python class name. */
  override name = "OverflowError";
}

/** An operation the loop or platform does not offer (Python's NotImplementedError). */
export class NotImplementedError extends Error {
  /** The Python class name. */
  override name = "NotImplementedError";
}

/**
 * A failed system call (Python's OSError): `errno` is the number, `code` its symbolic name
 * (`"ECONNREFUSED"`), `strerror` the C library's text for it.
 */
export class OSError extends Error {
  /** The Python class name. */
  override name = "OSError";
  /** The error number (`errno`), e.g. 111. */
  readonly errno: number;
  /** The errno's symbolic name, e.g. "ECONNREFUSED". */
  readonly code: string;
  /** The C library's text for the errno, e.g. "Connection refused". */
  readonly strerror: string;
  /** An OSError for `errno`; `context` names the call that failed. */
  constructor(errno: number, code: string, strerror: string, context?: string) {
    super(`[Errno ${errno}] ${strerror}${context ? ` (${context})` : ""}`);
    this.errno = errno;
    this.code = code;
    this.strerror = strerror;
  }
}

/** Queue.getNowait() on an empty queue (asyncio.QueueEmpty). */
export class QueueEmpty extends Error {
  /** The Python class name. */
  override name = "QueueEmpty";
}

/** Queue.putNowait() on a full queue (asyncio.QueueFull). */
export class QueueFull extends Error {
  /** The Python class name. */
  override name = "QueueFull";
}

/** Barrier.wait() on a barrier that was aborted or reset (asyncio.BrokenBarrierError). */
export class BrokenBarrierError extends Error {
  /** The Python class name. */
  override name = "BrokenBarrierError";
}

/**
 * Several exceptions raised together (Python's BaseExceptionGroup). It is an AggregateError, so
 * `errors` holds the same list as `exceptions`; `message` is the text given, without Python's
 * " (n sub-exceptions)" suffix, which toString() adds.
 */
export class BaseExceptionGroup extends AggregateError {
  /** The Python class name. */
  override name = "BaseExceptionGroup";
  /** The exceptions in the group, in the order given (Python's `exceptions`). */
  readonly exceptions: readonly unknown[];
  /** A group of `exceptions` (not empty) described by `message`. */
  constructor(message: string, exceptions: Iterable<unknown>) {
    if (typeof message !== "string") {
      throw new TypeError(`an exception group's message must be a string, got ${typeof message}`);
    }
    const list = exceptions === null || exceptions === undefined ? exceptions : [...exceptions];
    if (!Array.isArray(list)) throw new TypeError("an exception group needs a list of exceptions");
    if (list.length === 0) throw new ValueError("an exception group needs at least one exception");
    super(list, message);
    this.exceptions = Object.freeze(list);
  }

  /** `Name: message (n sub-exceptions)`, as Python prints a group. */
  override toString(): string {
    const n = this.exceptions.length;
    return `${this.name}: ${this.message} (${n} sub-exception${n === 1 ? "" : "s"})`;
  }
}

/**
 * Python's ExceptionGroup: what a TaskGroup raises when its tasks (or its body) fail. JavaScript
 * has no BaseException/Exception split, so every group aioloop raises is an ExceptionGroup.
 */
export class ExceptionGroup extends BaseExceptionGroup {
  /** The Python class name. */
  override name = "ExceptionGroup";
}
