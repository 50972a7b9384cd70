/**
 * Parking: waiting for an epoll fd off the JS thread, so the host runtime keeps running its own
 * timers, promises and servers while aioloop has nothing to do.
 *
 * The two runtimes get different mechanisms because each has one that works well and one that
 * does not (measured on this machine, see bench/park_latency.ts and the README):
 * - Deno: a `nonblocking: true` FFI binding of epoll_wait runs the call on a runtime thread and
 *   settles a Promise. A Worker would work too, but Deno leaks ~6 fds for every Worker it
 *   terminates, and a loop must release everything it opened.
 * - Bun: its FFI has no nonblocking mode. A Worker (node:worker_threads) sits in
 *   Atomics.wait; to park, the JS thread posts the fd and timeout into shared memory, the worker
 *   calls epoll_wait, then Atomics.notify wakes the JS thread's Atomics.waitAsync.
 * Either way the wait only observes readiness: epoll is level-triggered, so the JS thread's own
 * epoll_wait(…, 0) afterwards still reports every ready fd.
 */
import { Worker } from "node:worker_threads";
import { EPOLL_EVENT_SIZE } from "./epoll.ts";
import { libcPath } from "./libc.ts";
import { openLibrary, runtimeName } from "./runtime.ts";

/** Waits off the JS thread until the poller fd is ready or `timeoutMs` passes (-1: forever). */
export interface Parker {
  wait(timeoutMs: number): Promise<void>;
  close(): void;
}

/** A Parker for an epoll fd, using the mechanism that suits this runtime. */
export function openEpollParker(epfd: number): Parker {
  return runtimeName === "deno" ? new ThreadPoolParker(epfd) : new WorkerParker(epfd);
}

let nonBlockingEpoll: { epoll_wait: (...a: unknown[]) => Promise<number> } | undefined;

class ThreadPoolParker implements Parker {
  // The runtime thread writes here concurrently with the JS thread's own event buffer.
  private readonly scratch = new Uint8Array(EPOLL_EVENT_SIZE);
  constructor(private readonly epfd: number) {
    nonBlockingEpoll ??= openLibrary(libcPath, {
      epoll_wait: { args: ["i32", "buffer", "i32", "i32"], result: "i32", nonblocking: true },
    }).symbols;
  }
  async wait(timeoutMs: number): Promise<void> {
    await nonBlockingEpoll!.epoll_wait(this.epfd, this.scratch, 1, timeoutMs);
  }
  close(): void {}
}

// Layout of the shared control block (Int32Array slots).
const STATE = 0, FD = 1, TIMEOUT = 2;
// STATE values: the worker waits while IDLE, runs epoll_wait on WAITING, exits on EXIT.
const IDLE = 0, WAITING = 1, EXIT = 2;

class WorkerParker implements Parker {
  private readonly control = new Int32Array(new SharedArrayBuffer(12));
  private worker: Worker | undefined;
  constructor(private readonly epfd: number) {}

  wait(timeoutMs: number): Promise<void> {
    // Spawned on first use: a loop that never parks never pays for a thread.
    this.worker ??= new Worker(new URL("./park_worker.ts", import.meta.url), {
      workerData: { control: this.control, libcPath },
    });
    // A waiting worker keeps the process alive (the loop is running); an idle one must not.
    this.worker.ref();
    const c = this.control;
    c[FD] = this.epfd;
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
  }
}

export const parkControl = { STATE, FD, TIMEOUT, IDLE, WAITING, EXIT };
