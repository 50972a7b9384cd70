/**
 * Python's builtin exceptions that the C layer raises, as Error subclasses of the same names:
 * OSError for a failed system call, ValueError/OverflowError for an argument a C-level codec
 * refuses (as Python's socket module does), RuntimeError and NotImplementedError for a library
 * or call the host does not offer. They live here, at the bottom, so that ffi/ imports nothing
 * above it; loop/core/errors.ts re-exports them beside asyncio's own exceptions, and everything
 * above ffi/ imports them from there.
 *
 * Each sets `name` so that `String(err)` and stack traces read like Python's class names.
 */

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

/**
 * A non-blocking fd would block (Python's BlockingIOError, an OSError with errno EAGAIN): what
 * os.read/os.write raise on an O_NONBLOCK fd with nothing to read or no room to write.
 */
export class BlockingIOError extends OSError {
  /** The Python class name. */
  override name = "BlockingIOError";
}
