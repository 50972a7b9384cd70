/**
 * ReadinessLoop: the five loop methods that readiness I/O needs — watch an fd for reading or
 * writing, stop watching it, and schedule a callback — and nothing else. The readiness
 * transports, the pipe transports and platform/posix_process.ts's exit watch take a loop typed
 * this narrowly, so they can be read (and faked in a test) without the whole event loop; both
 * loop families implement it (the proactor loop through its poll completions).
 */
import type { FileLike } from "./file_like.ts";

/** What readiness I/O asks of an event loop (asyncio's add_reader family and call_soon). */
export interface ReadinessLoop {
  /** Call `callback(...args)` whenever `fd` is readable (asyncio add_reader). */
  addReader<A extends unknown[]>(fd: FileLike, callback: (...args: A) => unknown, ...args: A): void;
  /** Stop watching `fd` for reading; false if it was not watched (asyncio remove_reader). */
  removeReader(fd: FileLike): boolean;
  /** Call `callback(...args)` whenever `fd` is writable (asyncio add_writer). */
  addWriter<A extends unknown[]>(fd: FileLike, callback: (...args: A) => unknown, ...args: A): void;
  /** Stop watching `fd` for writing; false if it was not watched (asyncio remove_writer). */
  removeWriter(fd: FileLike): boolean;
  /** Call `callback(...args)` soon, from the loop (asyncio call_soon); the handle cancels it. */
  callSoon<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): { cancel(): void };
}
