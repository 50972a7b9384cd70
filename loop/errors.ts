/**
 * Python's exceptions as Error subclasses of the same names, as asyncio raises them.
 *
 * Each sets `name` so that `String(err)` and stack traces read like Python's class names.
 */

/** Raised inside a task or future that was cancelled (asyncio.CancelledError). */
export class CancelledError extends Error {
  override name = "CancelledError";
}

/** A Future/Task method called in the wrong state (asyncio.InvalidStateError). */
export class InvalidStateError extends Error {
  override name = "InvalidStateError";
}

/** An operation exceeded its deadline (asyncio.TimeoutError, the builtin TimeoutError). */
export class TimeoutError extends Error {
  override name = "TimeoutError";
}

/** Misuse of the loop: closed, already running, not running (Python's RuntimeError). */
export class RuntimeError extends Error {
  override name = "RuntimeError";
}

/** An argument of the right type but an unacceptable value (Python's ValueError). */
export class ValueError extends Error {
  override name = "ValueError";
}

/** An operation the loop or platform does not offer (Python's NotImplementedError). */
export class NotImplementedError extends Error {
  override name = "NotImplementedError";
}

/**
 * A failed system call (Python's OSError): `errno` is the number, `code` its symbolic name
 * (`"ECONNREFUSED"`), `strerror` the C library's text for it.
 */
export class OSError extends Error {
  override name = "OSError";
  readonly errno: number;
  readonly code: string;
  readonly strerror: string;
  constructor(errno: number, code: string, strerror: string, context?: string) {
    super(`[Errno ${errno}] ${strerror}${context ? ` (${context})` : ""}`);
    this.errno = errno;
    this.code = code;
    this.strerror = strerror;
  }
}
