/**
 * Python's exceptions as Error subclasses of the same names, as asyncio raises them: asyncio's
 * own (CancelledError, InvalidStateError, the queue and barrier errors, the exception groups) and
 * the builtins, re-exported from ffi/errors.ts (which defines those the C layer raises, so that
 * ffi/ does not import loop/). The bottom layer of loop/: every file above imports its errors
 * from here.
 *
 * Each sets `name` so that `String(err)` and stack traces read like Python's class names.
 */
import { RuntimeError, ValueError } from "../../ffi/errors.ts";

export {
  BlockingIOError, NotImplementedError, OSError, OverflowError, RuntimeError, ValueError,
} from "../../ffi/errors.ts";

/**
 * The sendfile system call cannot be used for this socket and file (asyncio
 * SendfileNotAvailableError, a RuntimeError): loop.sockSendfile/sendfile with fallback false.
 */
export class SendfileNotAvailableError extends RuntimeError {
  /** The Python class name. */
  override name = "SendfileNotAvailableError";
}

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
