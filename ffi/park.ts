/**
 * Parking: one blocking wait (epoll_wait, poll or kevent) run off the JS thread, so the host
 * runtime keeps running its own timers, promises and servers while aioloop has nothing to do.
 *
 * The two runtimes get different mechanisms because each has one that works well and one that
 * does not (measured on this machine, see bench/park_latency.ts and the README):
 * - Deno: a `nonblocking: true` FFI binding of the wait runs the call on a runtime thread and
 *   settles a Promise. A Worker would work too, but Deno leaks ~6 fds for every Worker it
 *   terminates, and a loop must release everything it opened.
 * - Bun: its FFI has no nonblocking mode. A Worker (node:worker_threads) sits in
 *   Atomics.wait; to park, the JS thread posts the wait's arguments into shared memory, the
 *   worker makes the call, then Atomics.notify wakes the JS thread's Atomics.waitAsync.
 * Either way the wait only observes readiness, it never consumes it: epoll and poll are
 * level-triggered, and a kqueue is waited on through a second kqueue that watches it (see
 * platform/darwin.ts), so the JS thread's own non-blocking wait afterwards sees every event.
 *
 * The kinds of wait (`BlockingWait`):
 * - `epoll`: epoll_wait(fd, scratch, 1, timeoutMs).
 * - `poll`: poll(copy, n, timeoutMs) on a copy of the caller's pollfd array taken when the
 *   wait starts (the JS thread keeps editing its own array; the copy is the thread's alone).
 * - `kevent`: kevent(fd, NULL, 0, scratch, 1, timeout ? &timespec : NULL).
 */
import { Worker } from "node:worker_threads";
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { EPOLL_EVENT_SIZE } from "./epoll.ts";
import { libcPath } from "./libc.ts";
import { POLLFD_SIZE } from "./poll.ts";
import { openLibrary, runtimeName } from "./runtime.ts";

/** Waits off the JS thread until the poller is ready or `timeoutMs` passes (-1: forever). */
export interface Parker {
  wait(timeoutMs: number): Promise<void>;
  close(): void;
}

/** The pollfd array a `poll` wait copies when it starts: `count` entries of `bytes`. */
export interface PollSet {
  readonly bytes: Uint8Array;
  readonly count: number;
}

/** One blocking call the parker can make on the JS thread's behalf. */
export type BlockingWait =
  | { kind: "epoll"; fd: number }
  | { kind: "poll"; pollSet: () => PollSet; libPath: string }
  | { kind: "kevent"; fd: number; libPath: string };

/** A Parker for `wait`, using the mechanism that suits this runtime. */
export function openParker(wait: BlockingWait): Parker {
  return runtimeName === "deno" ? new ThreadPoolParker(wait) : new WorkerParker(wait);
}

/** A Parker for an epoll fd (platform/linux.ts). */
export function openEpollParker(epfd: number): Parker {
  return openParker({ kind: "epoll", fd: epfd });
}

/** Largest size of one returned event among the kinds (epoll_event, FreeBSD 12 kevent). */
const EVENT_SCRATCH = Math.max(EPOLL_EVENT_SIZE, 64);
/** `struct timespec { time_t tv_sec; long tv_nsec; }`: 16 bytes on every 64-bit ABI. */
const TIMESPEC_SIZE = 16;

/** Write `timeoutMs` (≥ 0) into a timespec as [seconds, nanoseconds]. */
function setTimespec(ts: BigInt64Array, timeoutMs: number): void {
  ts[0] = BigInt(Math.floor(timeoutMs / 1000));
  ts[1] = BigInt((timeoutMs % 1000) * 1_000_000);
}

// ---- Deno: nonblocking FFI ---------------------------------------------------------------------

// deno-lint-ignore no-explicit-any
type AsyncFn = (...a: any[]) => Promise<number>;
const nonBlockingCalls = new Map<string, AsyncFn>();

const nonBlockingSpecs = {
  epoll_wait: { args: ["i32", "buffer", "i32", "i32"], result: "i32", nonblocking: true },
  poll: { args: ["buffer", "usize", "i32"], result: "i32", nonblocking: true },
  kevent: {
    args: ["i32", "buffer", "i32", "buffer", "i32", "buffer"], result: "i32", nonblocking: true,
  },
} as const;

/**
 * The nonblocking binding of one wait call, made on first use and shared by every parker. Each
 * call gets its own dlopen: a symbol missing on this OS (kevent on Linux) would fail the lot.
 */
function nonBlockingCall(libPath: string, name: keyof typeof nonBlockingSpecs): AsyncFn {
  const key = `${libPath}:${name}`;
  let fn = nonBlockingCalls.get(key);
  if (!fn) {
    fn = openLibrary(libPath, { [name]: nonBlockingSpecs[name] }).symbols[name] as AsyncFn;
    nonBlockingCalls.set(key, fn);
  }
  return fn;
}

/**
 * Memory a call on a runtime thread may write while the JS thread runs. Always an explicit
 * ArrayBuffer of at least 128 bytes: V8 keeps a typed array of ≤ 64 bytes created by length
 * inside its JS heap, where a GC may move it while the kernel still holds its address.
 */
function offHeap(bytes: number): ArrayBuffer {
  return new ArrayBuffer(Math.max(bytes, 128));
}

class ThreadPoolParker implements Parker {
  // The runtime thread writes here concurrently with the JS thread's own buffers.
  private readonly scratch = new Uint8Array(offHeap(EVENT_SCRATCH));
  private readonly timespec = new BigInt64Array(offHeap(TIMESPEC_SIZE), 0, TIMESPEC_SIZE / 8);
  private pollCopy = new Uint8Array(offHeap(0));
  private readonly call: AsyncFn;

  constructor(private readonly spec: BlockingWait) {
    this.call = spec.kind === "epoll"
      ? nonBlockingCall(libcPath, "epoll_wait")
      : nonBlockingCall(spec.libPath, spec.kind);
  }

  async wait(timeoutMs: number): Promise<void> {
    const spec = this.spec;
    if (spec.kind === "epoll") {
      await this.call(spec.fd, this.scratch, 1, timeoutMs);
    } else if (spec.kind === "poll") {
      const { bytes, count } = spec.pollSet();
      const size = count * POLLFD_SIZE;
      if (this.pollCopy.length < size) this.pollCopy = new Uint8Array(offHeap(size * 2));
      this.pollCopy.set(bytes.subarray(0, size));
      await this.call(this.pollCopy, count, timeoutMs);
    } else {
      if (timeoutMs >= 0) setTimespec(this.timespec, timeoutMs);
      await this.call(spec.fd, null, 0, this.scratch, 1, timeoutMs >= 0 ? this.timespec : null);
    }
  }

  close(): void {}
}

// ---- Bun: a parking Worker -----------------------------------------------------------------------

// Layout of the shared control block (Int32Array slots).
const STATE = 0, KIND = 1, FD = 2, TIMEOUT = 3, COUNT = 4, POLL_GENERATION = 5;
const CONTROL_SLOTS = 6;
// STATE values: the worker waits while IDLE, makes the call on WAITING, exits on EXIT.
const IDLE = 0, WAITING = 1, EXIT = 2;
// KIND values.
const KIND_EPOLL = 1, KIND_POLL = 2, KIND_KEVENT = 3;

class WorkerParker implements Parker {
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4));
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  // poll kind: the copy of the pollfd array, in memory the worker shares. It grows by
  // replacement; the worker picks the new one up from `port` when POLL_GENERATION changes.
  private pollShared = new Uint8Array(new SharedArrayBuffer(0));

  constructor(private readonly spec: BlockingWait) {}

  wait(timeoutMs: number): Promise<void> {
    const spec = this.spec;
    const c = this.control;
    // Spawned on first use: a loop that never parks never pays for a thread.
    if (!this.worker) {
      const { port1, port2 } = new MessageChannel();
      port1.unref(); // only the worker's ref() may keep the process alive
      this.port = port1;
      this.worker = new Worker(new URL("./park_worker.ts", import.meta.url), {
        workerData: {
          control: c,
          port: port2,
          libPath: spec.kind === "epoll" ? libcPath : spec.libPath,
        },
        transferList: [port2],
      });
    }
    if (spec.kind === "poll") {
      const { bytes, count } = spec.pollSet();
      const size = count * POLLFD_SIZE;
      if (this.pollShared.length < size) {
        this.pollShared = new Uint8Array(new SharedArrayBuffer(size * 2));
        this.port!.postMessage(this.pollShared);
        c[POLL_GENERATION]!++;
      }
      this.pollShared.set(bytes.subarray(0, size));
      c[COUNT] = count;
    } else {
      c[FD] = spec.fd;
    }
    c[KIND] = spec.kind === "epoll" ? KIND_EPOLL : spec.kind === "poll" ? KIND_POLL : KIND_KEVENT;
    // A waiting worker keeps the process alive (the loop is running); an idle one must not.
    this.worker.ref();
    c[TIMEOUT] = timeoutMs;
    Atomics.store(c, STATE, WAITING);
    Atomics.notify(c, STATE);
    const result = Atomics.waitAsync(c, STATE, WAITING);
    const done = result.async ? result.value.then(() => {}) : Promise.resolve();
    return done.then(() => this.worker?.unref());
  }

  close(): void {
    if (!this.worker) return;
    Atomics.store(this.control, STATE, EXIT);
    Atomics.notify(this.control, STATE);
    this.worker.terminate();
    this.worker = undefined;
    this.port?.close();
    this.port = undefined;
  }
}

export const parkControl = {
  STATE, KIND, FD, TIMEOUT, COUNT, POLL_GENERATION, IDLE, WAITING, EXIT, KIND_EPOLL, KIND_POLL,
  KIND_KEVENT, EVENT_SCRATCH, TIMESPEC_SIZE,
};
