/**
 * The Bun parking thread (see park.ts): waits in epoll_wait on behalf of the JS thread.
 * It only observes readiness; it never consumes events.
 */
import { workerData } from "node:worker_threads";
import { EPOLL_EVENT_SIZE } from "./epoll.ts";
import { parkControl as K } from "./park.ts";
import { openLibrary } from "./runtime.ts";

const control: Int32Array = workerData.control;
const { epoll_wait } = openLibrary(workerData.libcPath, {
  epoll_wait: { args: ["i32", "buffer", "i32", "i32"], result: "i32" },
}).symbols;
const scratch = new Uint8Array(EPOLL_EVENT_SIZE);

for (;;) {
  Atomics.wait(control, K.STATE, K.IDLE);
  const state = Atomics.load(control, K.STATE);
  if (state === K.EXIT) break;
  if (state === K.WAITING) {
    epoll_wait(control[K.FD], scratch, 1, control[K.TIMEOUT]);
    Atomics.store(control, K.STATE, K.IDLE);
    Atomics.notify(control, K.STATE);
  }
}
