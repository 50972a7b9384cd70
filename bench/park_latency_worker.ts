/**
 * park_latency.ts's writer thread: every ~1 ms (after the main thread took the previous sample)
 * it stamps CLOCK_MONOTONIC into shared memory and writes one byte to a socket fd, so the main
 * thread can time "fd became ready" → "reader callback ran" with one clock across threads.
 */
import { openLibrary } from "../ffi/runtime.ts";

const { clock_gettime, write } = openLibrary("libc.so.6", {
  clock_gettime: { args: ["i32", "buffer"], result: "i32" },
  write: { args: ["i32", "buffer", "usize"], result: "i32" },
}).symbols;
const CLOCK_MONOTONIC = 1;
const ts = new BigInt64Array(2);
const byte = new Uint8Array([119]);

// deno-lint-ignore no-explicit-any
(self as any).onmessage = (e: MessageEvent) => {
  const { fd, ctl, stamp, count, gapMs } = e.data as {
    fd: number; ctl: Int32Array; stamp: Float64Array; count: number; gapMs: number;
  };
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < count; i++) {
    Atomics.wait(ctl, 0, 1); // until the main thread consumed the previous byte
    Atomics.wait(sleeper, 0, 0, gapMs); // let the main loop go idle and park
    clock_gettime(CLOCK_MONOTONIC, ts);
    stamp[0] = Number(ts[0]) * 1e9 + Number(ts[1]);
    Atomics.store(ctl, 0, 1);
    write(fd, byte, 1);
  }
  // deno-lint-ignore no-explicit-any
  (self as any).postMessage("done");
};
