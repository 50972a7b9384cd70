/**
 * The Bun parking thread (see park.ts): makes one blocking wait (epoll_wait, poll or kevent) on
 * behalf of the JS thread. It only observes readiness; it never consumes events.
 */
import { type MessagePort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { parkControl as K } from "./park.ts";
import { openLibrary } from "./runtime.ts";

const control: Int32Array = workerData.control;
const port: MessagePort = workerData.port;
const libPath: string = workerData.libPath;
const scratch = new Uint8Array(K.EVENT_SCRATCH);
const timespec = new BigInt64Array(K.TIMESPEC_SIZE / 8);

// Each kind is bound on first use: kevent does not exist on Linux, epoll_wait nowhere else.
// deno-lint-ignore no-explicit-any
let epollWait: ((...a: any[]) => number) | undefined;
// deno-lint-ignore no-explicit-any
let poll: ((...a: any[]) => number) | undefined;
// deno-lint-ignore no-explicit-any
let kevent: ((...a: any[]) => number) | undefined;
let pollfds: Uint8Array = new Uint8Array(0);
let pollGeneration = 0;

function waitOnce(): void {
  const timeoutMs = control[K.TIMEOUT]!;
  switch (control[K.KIND]) {
    case K.KIND_EPOLL:
      epollWait ??= openLibrary(libPath, {
        epoll_wait: { args: ["i32", "buffer", "i32", "i32"], result: "i32" },
      }).symbols.epoll_wait;
      epollWait(control[K.FD], scratch, 1, timeoutMs);
      break;
    case K.KIND_POLL:
      poll ??= openLibrary(libPath, {
        poll: { args: ["buffer", "usize", "i32"], result: "i32" },
      }).symbols.poll;
      // The JS thread replaced the shared pollfd copy with a bigger one: take the newest.
      while (pollGeneration !== control[K.POLL_GENERATION]) {
        const m = receiveMessageOnPort(port);
        if (!m) break;
        pollfds = m.message as Uint8Array;
        pollGeneration++;
      }
      poll(pollfds, control[K.COUNT], timeoutMs);
      break;
    case K.KIND_KEVENT:
      kevent ??= openLibrary(libPath, {
        kevent: { args: ["i32", "buffer", "i32", "buffer", "i32", "buffer"], result: "i32" },
      }).symbols.kevent;
      if (timeoutMs >= 0) {
        timespec[0] = BigInt(Math.floor(timeoutMs / 1000));
        timespec[1] = BigInt((timeoutMs % 1000) * 1_000_000);
      }
      kevent(control[K.FD], null, 0, scratch, 1, timeoutMs >= 0 ? timespec : null);
      break;
  }
}

for (;;) {
  Atomics.wait(control, K.STATE, K.IDLE);
  const state = Atomics.load(control, K.STATE);
  if (state === K.EXIT) break;
  if (state === K.WAITING) {
    waitOnce();
    // Not a plain store: an EXIT that close() wrote during the wait must survive it.
    Atomics.compareExchange(control, K.STATE, K.WAITING, K.IDLE);
    Atomics.notify(control, K.STATE);
  }
}
