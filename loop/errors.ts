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
