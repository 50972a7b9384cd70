/**
 * The Bun thread of ffi/iocp_park.ts: makes one GetQueuedCompletionStatusEx (ioapiset.h) per
 * request, into the shared entry array, and reports how many entries it dequeued.
 */
import { workerData } from "node:worker_threads";
import { iocpParkControl as K } from "./iocp_park.ts";
import { openLibrary } from "./runtime.ts";

const control: Int32Array = workerData.control;
const entries: Uint8Array = workerData.entries;
const capacity: number = workerData.capacity;
const removed = new Uint32Array(1);

const { GetQueuedCompletionStatusEx } = openLibrary("kernel32.dll", {
  GetQueuedCompletionStatusEx: {
    args: ["usize", "buffer", "u32", "buffer", "u32", "i32"], result: "i32",
  },
}).symbols;

for (;;) {
  Atomics.wait(control, K.STATE, K.IDLE);
  const state = Atomics.load(control, K.STATE);
  if (state === K.EXIT) break;
  if (state === K.WAITING) {
    removed[0] = 0;
    // FALSE with WAIT_TIMEOUT: nothing dequeued. dwMilliseconds -1 is INFINITE (0xFFFFFFFF).
    const ok = GetQueuedCompletionStatusEx(
      control[K.PORT]!, entries, capacity, removed, control[K.TIMEOUT]! >>> 0, 0,
    );
    control[K.COUNT] = ok ? removed[0] : 0;
    Atomics.store(control, K.STATE, K.IDLE);
    Atomics.notify(control, K.STATE);
  }
}
