/**
 * Parking on an I/O completion port: one GetQueuedCompletionStatusEx run off the JS thread.
 *
 * Unlike epoll, poll and kevent (ffi/park.ts), a completion port cannot be watched without
 * consuming it: the wait dequeues the completions it reports. So this parker hands back what it
 * dequeued: `entries` holds `count` OVERLAPPED_ENTRY records after each wait, and the proactor
 * delivers those before it asks the port again (platform/windows.ts).
 *
 * - Bun: a Worker (node:worker_threads) blocked in Atomics.wait makes the call into shared
 *   memory, then Atomics.notify wakes the JS thread's Atomics.waitAsync (as ffi/park.ts does).
 * - Deno: a `nonblocking: true` binding runs the call on a runtime thread. (Deno's Windows build
 *   does not start under Wine 8.0, so this path has not run; see docs/windows.md.)
 */
import { Worker } from "node:worker_threads";
import { OVERLAPPED_ENTRY_SIZE } from "./kernel32.ts";
import { openLibrary, runtimeName } from "./runtime.ts";

/** How many completions one wait may dequeue. */
export const PARK_ENTRIES = 64;

// Shared control block (Int32Array slots) of the Bun worker.
const STATE = 0, PORT = 1, TIMEOUT = 2, COUNT = 3;
const IDLE = 0, WAITING = 1, EXIT = 2;
/** Slot layout and states, shared with iocp_park_worker.ts. */
export const iocpParkControl = { STATE, PORT, TIMEOUT, COUNT, IDLE, WAITING, EXIT, SLOTS: 4 };

/** A blocking GetQueuedCompletionStatusEx made on the JS thread's behalf. */
export interface IocpParker {
  /** After a wait: the OVERLAPPED_ENTRY records it dequeued (`count` of them). */
  readonly entries: Uint8Array;
  /** Wait up to `timeoutMs` (-1: INFINITE); resolves to how many entries were dequeued. */
  wait(timeoutMs: number): Promise<number>;
  /** True while a wait is in progress. */
  readonly waiting: boolean;
  /**
   * Block the JS thread until the wait in progress returns (call after posting a wakeup),
   * at most `timeoutMs`; the dequeued count, or -1 if it did not return or cannot be awaited.
   */
  finishSync(timeoutMs: number): number;
  close(): void;
}

/** A parker for completion port `port` (a HANDLE value). */
export function openIocpParker(port: number): IocpParker {
  return runtimeName === "bun" ? new WorkerIocpParker(port) : new NonBlockingIocpParker(port);
}

class WorkerIocpParker implements IocpParker {
  readonly entries = new Uint8Array(new SharedArrayBuffer(PARK_ENTRIES * OVERLAPPED_ENTRY_SIZE));
  private readonly control = new Int32Array(new SharedArrayBuffer(iocpParkControl.SLOTS * 4));
  private worker: Worker | undefined;
  waiting = false;

  constructor(port: number) {
    this.control[PORT] = port;
  }

  wait(timeoutMs: number): Promise<number> {
    const c = this.control;
    // Spawned on first use: a loop that never parks never pays for a thread.
    this.worker ??= new Worker(new URL("./iocp_park_worker.ts", import.meta.url), {
      workerData: { control: c, entries: this.entries, capacity: PARK_ENTRIES },
    });
    // A waiting worker keeps the process alive (the loop is running); an idle one must not.
    this.worker.ref();
    this.waiting = true;
    c[TIMEOUT] = timeoutMs;
    c[COUNT] = 0;
    Atomics.store(c, STATE, WAITING);
    Atomics.notify(c, STATE);
    const result = Atomics.waitAsync(c, STATE, WAITING);
    const done = result.async ? result.value : Promise.resolve();
    return done.then(() => this.finished());
  }

  private finished(): number {
    if (!this.waiting) return 0; // finishSync() took the result already
    this.waiting = false;
    this.worker?.unref();
    return this.control[COUNT]!;
  }

  finishSync(timeoutMs: number): number {
    if (!this.waiting) return 0;
    if (Atomics.wait(this.control, STATE, WAITING, timeoutMs) === "timed-out") return -1;
    return this.finished();
  }

  close(): void {
    if (!this.worker) return;
    Atomics.store(this.control, STATE, EXIT);
    Atomics.notify(this.control, STATE);
    this.worker.terminate();
    this.worker = undefined;
    this.waiting = false;
  }
}

class NonBlockingIocpParker implements IocpParker {
  // Written by a runtime thread while the JS thread runs: explicit ArrayBuffers, outside the
  // moving heap (see ffi/park.ts on V8's small on-heap typed arrays).
  readonly entries = new Uint8Array(new ArrayBuffer(PARK_ENTRIES * OVERLAPPED_ENTRY_SIZE));
  private readonly removed = new Uint32Array(new ArrayBuffer(128), 0, 1);
  // deno-lint-ignore no-explicit-any
  private readonly call: (...a: any[]) => Promise<number>;
  waiting = false;

  constructor(private readonly port: number) {
    this.call = openLibrary("kernel32.dll", {
      GetQueuedCompletionStatusEx: {
        args: ["usize", "buffer", "u32", "buffer", "u32", "i32"], result: "i32", nonblocking: true,
      },
    }).symbols.GetQueuedCompletionStatusEx;
  }

  async wait(timeoutMs: number): Promise<number> {
    this.waiting = true;
    this.removed[0] = 0;
    const ok = await this.call(this.port, this.entries, PARK_ENTRIES, this.removed, timeoutMs >>> 0, 0);
    this.waiting = false;
    return ok ? this.removed[0] : 0;
  }

  /** A runtime thread's call cannot be awaited synchronously. */
  finishSync(_timeoutMs: number): number {
    return this.waiting ? -1 : 0;
  }

  close(): void {}
}
