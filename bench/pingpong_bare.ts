/**
 * The ceiling for loop_micro's "add_reader ping-pong 100k" row (issue 19 §3): the same byte
 * bounced over a socketpair, 100k round trips, by a bare FFI loop with no scheduler at all:
 * epoll_wait(0), then recv and send for each ready fd (Linux only). What the loop's row costs on
 * top of this is the scheduler's per-event work. Median of 3 after one warm-up, round trips/s.
 *
 *   deno run -A bench/pingpong_bare.ts [--json]      bun bench/pingpong_bare.ts [--json]
 */
import { libc } from "../ffi/libc.ts";
import {
  EPOLL_CTL_ADD, EPOLL_EVENT_DATA32, EPOLL_EVENT_SIZE, EPOLL_EVENT_STRIDE32, EPOLLIN,
} from "../ffi/epoll.ts";
import { AF_UNIX, SOCK_NONBLOCK, SOCK_STREAM } from "../ffi/socket_constants.ts";
import { median } from "./lib/stats.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const isBun = typeof g.Bun !== "undefined";
const IMPL = isBun ? "bare-ffi-bun" : "bare-ffi-deno";
const argv: string[] = isBun ? g.process.argv.slice(2) : g.Deno.args;
const N = 100_000;

/**
 * N round trips; round trips per second. `microtaskHop`: after each epoll_wait's events, one
 * `await undefined`, as the loop lets coroutines run between iterations (bench/pingpong_ladder.ts).
 */
export async function barePingPong(microtaskHop = false): Promise<number> {
  const { a, ep, events, close } = epollPair();
  const byte = new Uint8Array([120]), inbox = new Uint8Array(1);
  let trips = 0;
  const t0 = performance.now();
  libc.send(a, byte, 1, 0);
  outer: for (;;) {
    const n = libc.epoll_wait(ep, events, 64, 0);
    for (let i = 0; i < n; i++) {
      const fd = events[i * EPOLL_EVENT_STRIDE32 + EPOLL_EVENT_DATA32];
      libc.recv(fd, inbox, 1, 0);
      if (fd === a && ++trips === N) break outer;
      libc.send(fd, byte, 1, 0);
    }
    if (microtaskHop) await undefined;
  }
  const seconds = (performance.now() - t0) / 1000;
  close();
  return N / seconds;
}

/** A non-blocking socketpair (a, b) in an epoll set (ep) watching both for reading. */
export interface EpollPair {
  a: number;
  b: number;
  ep: number;
  /** epoll_wait's buffer: 64 events. */
  events: Int32Array;
  close(): void;
}

/** Open an EpollPair. */
export function epollPair(): EpollPair {
  const pair = new Int32Array(2);
  if (libc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair) < 0) throw new Error("socketpair");
  const a = pair[0]!, b = pair[1]!;
  const ep = libc.epoll_create1(0);
  const ctl = new Int32Array(EPOLL_EVENT_SIZE / 4);
  for (const fd of [a, b]) {
    ctl[0] = EPOLLIN;
    ctl[EPOLL_EVENT_DATA32] = fd;
    libc.epoll_ctl(ep, EPOLL_CTL_ADD, fd, ctl);
  }
  const close = () => {
    libc.close(a);
    libc.close(b);
    libc.close(ep);
  };
  return { a, b, ep, events: new Int32Array(64 * EPOLL_EVENT_STRIDE32), close };
}

if (import.meta.main) {
  await barePingPong(); // warm-up
  const ops = Math.round(median([await barePingPong(), await barePingPong(), await barePingPong()]));
  if (argv.includes("--json")) console.log(JSON.stringify({ impl: IMPL, row: "add_reader ping-pong 100k", ops }));
  else console.log(`${IMPL}: add_reader ping-pong 100k  ${ops} round trips/s (median of 3)`);
}
