/**
 * Where the fd ping-pong's time goes between a bare FFI loop and the event loop (issue 19 §3),
 * one piece at a time, in one process. Each rung is the same 100k round trips of one byte over a
 * socketpair (Linux):
 *
 *   1. bare FFI: epoll_wait(0), then recv and send for each ready fd (bench/pingpong_bare.ts);
 *   2. + one microtask hop per epoll_wait (`await undefined`): what any loop pays that lets the
 *      coroutines a callback resumed run before it polls again (asyncio's ordering; README,
 *      "Known differences from asyncio" for the Promise side);
 *   3. + aioloop's epoll Selector and Socket methods in place of the bare libc calls;
 *   4. the event loop: two addReader callbacks under runForever (loop_micro.ts's row), which
 *      adds the ready queue, the handles, the timer check and the host turns.
 *
 * Off the ladder, rung 2 with the hop made by queueMicrotask (a step function that queues
 * itself) instead of an `await`: the cheapest hop JavaScript has.
 *
 * The rungs take turns within each round (the order rotates), so the VM's drift (±20 % within a
 * minute) hits them alike; the table gives each rung's median, the time per event (two events
 * per round trip), and the median over rounds of each rung's own ratio to rung 1 in that round.
 * Beside it, the cost of a microtask hop in a loop that makes no system call: after a system
 * call the same hop costs several times more (cold caches), so the in-process difference
 * between rungs is the figure that counts.
 *
 *   taskset -c 1 deno run -A bench/pingpong_ladder.ts [--rounds=15]
 *   taskset -c 1 bun bench/pingpong_ladder.ts [--rounds=15]
 */
import { socketpair } from "../mod.ts";
import { EPOLL_EVENT_DATA32, EPOLL_EVENT_STRIDE32 } from "../ffi/epoll.ts";
import { libc } from "../ffi/libc.ts";
import { EVENT_READ } from "../loop/selector/selector.ts";
import { createSelector } from "../platform/default_selector.ts";
import { median } from "./lib/stats.ts";
import { once, pingPong } from "./loop_micro.ts";
import { barePingPong, epollPair } from "./pingpong_bare.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const IMPL = typeof g.Bun !== "undefined" ? "aioloop-bun" : "aioloop-deno";
const argv: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const ROUNDS = Number(argv.find((a) => a.startsWith("--rounds="))?.split("=")[1] ?? 15);
const TRIPS = 100_000;

/** Rung 2 with a queueMicrotask hop: the bare loop as a step function that queues itself. */
function microtaskStepPingPong(): Promise<number> {
  const { a, ep, events, close } = epollPair();
  const byte = new Uint8Array([120]), inbox = new Uint8Array(1);
  let trips = 0;
  return new Promise<number>((resolve) => {
    const t0 = performance.now();
    const step = () => {
      const n = libc.epoll_wait(ep, events, 64, 0);
      for (let i = 0; i < n; i++) {
        const fd = events[i * EPOLL_EVENT_STRIDE32 + EPOLL_EVENT_DATA32]!;
        libc.recv(fd, inbox, 1, 0);
        if (fd === a && ++trips === TRIPS) {
          resolve(TRIPS / ((performance.now() - t0) / 1000));
          return;
        }
        libc.send(fd, byte, 1, 0);
      }
      queueMicrotask(step);
    };
    libc.send(a, byte, 1, 0);
    queueMicrotask(step);
  }).finally(close);
}

/** Rung 3: the bare loop's shape over aioloop's Selector and Socket; round trips/s. */
async function selectorPingPong(): Promise<number> {
  const selector = createSelector("epoll");
  const [a, b] = socketpair();
  a.setBlocking(false);
  b.setBlocking(false);
  const fdA = a.fileno();
  selector.register(fdA, EVENT_READ);
  selector.register(b.fileno(), EVENT_READ);
  const byte = new Uint8Array([120]), inbox = new Uint8Array(1);
  let trips = 0;
  const t0 = performance.now();
  a.send(byte);
  outer: for (;;) {
    const n = selector.poll();
    for (let i = 0; i < n; i++) {
      const fd = selector.readyFds[i]!;
      const sock = fd === fdA ? a : b;
      sock.recvInto(inbox, 1);
      if (fd === fdA && ++trips === TRIPS) break outer;
      sock.send(byte);
    }
    await undefined;
  }
  const seconds = (performance.now() - t0) / 1000;
  selector.close();
  a.close();
  b.close();
  return TRIPS / seconds;
}

/** Rung 4: loop_micro.ts's "add_reader ping-pong 100k" on a fresh loop; round trips/s. */
async function loopPingPong(): Promise<number> {
  return TRIPS / await once(pingPong, TRIPS);
}

/** ns per `await undefined` in an async loop that makes no system call. */
async function isolatedHopNs(): Promise<number> {
  const hops = 2_000_000;
  let sum = 0;
  const t0 = performance.now();
  for (let i = 0; i < hops; i++) {
    sum += i;
    await undefined;
  }
  const ns = (performance.now() - t0) * 1e6 / hops;
  return sum < 0 ? -1 : ns; // reading `sum` keeps the loop's work from being optimized away
}

const RUNGS: [string, () => Promise<number>][] = [
  ["1. bare FFI: epoll_wait, recv, send", () => barePingPong(false)],
  ["2. + a microtask hop per epoll_wait", () => barePingPong(true)],
  ["3. + aioloop's Selector and Socket methods", selectorPingPong],
  ["4. the event loop (addReader, runForever)", loopPingPong],
  ["(2 with the hop by queueMicrotask)", microtaskStepPingPong],
];
/** The rungs the table chains (the last entry is printed apart). */
const LADDER = RUNGS.length - 1;

for (const [, run] of RUNGS) await run(); // warm-up
const rates: number[][] = RUNGS.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < RUNGS.length; k++) {
    const i = (r + k) % RUNGS.length;
    rates[i]!.push(await RUNGS[i]![1]());
  }
}
const hops: number[] = [];
for (let r = 0; r < 5; r++) hops.push(await isolatedHopNs());

const nsPerEvent = (roundTrips: number) => 1e9 / roundTrips / 2;
console.log(`${IMPL}: the ping-pong from a bare FFI loop to the event loop, ${ROUNDS} rounds of ${TRIPS} round trips`);
console.log("| rung | round trips/s | ns per event | + ns per event | ratio to rung 1 (median of rounds) |");
console.log("|---|---:|---:|---:|---:|");
let previousNs = 0;
RUNGS.forEach(([name], i) => {
  const rate = median(rates[i]!);
  const ns = nsPerEvent(rate);
  const ratio = median(rates[i]!.map((x, r) => x / rates[0]![r]!));
  // Rungs add to the one before; the off-ladder variant is set against rung 1.
  const added = i === 0 ? "–" : (ns - (i < LADDER ? previousNs : nsPerEvent(median(rates[0]!)))).toFixed(0);
  console.log(`| ${name} | ${Math.round(rate).toLocaleString("en")} | ${ns.toFixed(0)} | ${added} | ${ratio.toFixed(3)}× |`);
  previousNs = ns;
});
console.log(`\nA microtask hop in a loop with no system call: ${median(hops).toFixed(0)} ns (median of 5 runs of 2M).`);
