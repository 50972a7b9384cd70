/**
 * Loop micro-benchmark (issue 3): the event loop's per-callback, per-timer and per-I/O-event
 * cost, through the public API only (../mod.ts). bench/loop_micro.py writes the same rows for
 * asyncio and uvloop; bench/run_loop_micro.sh runs all four side by side.
 *
 *   deno run -A bench/loop_micro.ts [--json] [--reps=5] [--only=row,row] [--scale=1]
 *   bun bench/loop_micro.ts         [--json] [--reps=5] [--only=row,row] [--scale=1]
 *
 * Every row times scheduling plus running (what a program pays), reports ops/s = N / seconds,
 * and takes the median of --reps repetitions, each on a fresh loop, after one untimed warm-up
 * repetition at a tenth of the size (so the JIT has seen the code; CPython gets the same).
 */
import { allTasks, type BaseEventLoop, newEventLoop, sleep, socketpair } from "../mod.ts";
import { median } from "./lib/stats.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const isBun = typeof g.Bun !== "undefined";
const IMPL = isBun ? "aioloop-bun" : "aioloop-deno";
const argv: string[] = isBun ? g.process.argv.slice(2) : g.Deno.args;

function opt(name: string): string | undefined {
  const hit = argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (hit === undefined) return undefined;
  const eq = hit.indexOf("=");
  return eq < 0 ? "" : hit.slice(eq + 1);
}

const JSON_OUT = opt("json") !== undefined;
const REPS = Number(opt("reps") ?? 5);
const SCALE = Number(opt("scale") ?? 1);
const ONLY = opt("only")?.split(",").filter(Boolean);

const now = () => performance.now() / 1000;

// ---- rows ---------------------------------------------------------------------------------------

/** Schedule n callSoon up front; the last one stops the loop. */
async function callSoonPrequeued(loop: BaseEventLoop, n: number): Promise<number> {
  let count = 0;
  const cb = () => {
    count++;
  };
  const stop = () => loop.stop();
  const t0 = now();
  for (let i = 0; i < n - 1; i++) loop.callSoon(cb);
  loop.callSoon(stop);
  await loop.runForever();
  const dt = now() - t0;
  if (count !== n - 1) throw new Error(`call_soon: ran ${count} of ${n - 1}`);
  return dt;
}

/** Each callback schedules the next; the n-th stops the loop. */
async function callSoonChained(loop: BaseEventLoop, n: number): Promise<number> {
  let left = n;
  const cb = () => {
    if (--left > 0) loop.callSoon(cb);
    else loop.stop();
  };
  const t0 = now();
  loop.callSoon(cb);
  await loop.runForever();
  const dt = now() - t0;
  if (left !== 0) throw new Error(`call_soon chained: ${left} left`);
  return dt;
}

/**
 * One byte bounced between the two ends of a socketpair, n round trips, addReader on both.
 * Both sides receive with recvInto into one preallocated buffer (Python: recv_into), the
 * zero-allocation way a reader is written when speed matters.
 */
export async function pingPong(loop: BaseEventLoop, n: number): Promise<number> {
  const [a, b] = socketpair();
  a.setBlocking(false);
  b.setBlocking(false);
  const byte = new Uint8Array([120]);
  const inbox = new Uint8Array(1);
  let trips = 0;
  loop.addReader(a, () => {
    a.recvInto(inbox, 1);
    if (++trips < n) a.send(byte);
    else loop.stop();
  });
  loop.addReader(b, () => {
    b.recvInto(inbox, 1);
    b.send(byte);
  });
  const t0 = now();
  a.send(byte);
  await loop.runForever();
  const dt = now() - t0;
  loop.removeReader(a);
  loop.removeReader(b);
  a.close();
  b.close();
  if (trips !== n) throw new Error(`ping-pong: ${trips} of ${n}`);
  return dt;
}

/** n callAt all due already (when = the loop's now); run until every one fired. */
async function callAtAllDue(loop: BaseEventLoop, n: number): Promise<number> {
  let fired = 0;
  const cb = () => {
    if (++fired === n) loop.stop();
  };
  const t0 = now();
  const when = loop.time();
  for (let i = 0; i < n; i++) loop.callAt(when, cb);
  await loop.runForever();
  const dt = now() - t0;
  if (fired !== n) throw new Error(`call_at: ${fired} of ${n}`);
  return dt;
}

/**
 * n callLater with delays spread over [0, 10 ms) (a fixed pseudo-random pattern, the same in
 * loop_micro.py), cancel 9 of every 10, run until the remaining tenth fired.
 */
async function callLaterCancel90(loop: BaseEventLoop, n: number): Promise<number> {
  const keep = Math.ceil(n / 10);
  let fired = 0;
  const cb = () => {
    if (++fired === keep) loop.stop();
  };
  const t0 = now();
  const handles = new Array(n);
  for (let i = 0; i < n; i++) handles[i] = loop.callLater(((i * 7919) % 1000) / 100000, cb);
  for (let i = 0; i < n; i++) if (i % 10 !== 0) handles[i].cancel();
  await loop.runForever();
  const dt = now() - t0;
  if (fired !== keep) throw new Error(`call_later: ${fired} of ${keep}`);
  return dt;
}

/**
 * n pseudo-random numbers in [0, 1): a 32-bit LCG (Numerical Recipes' constants) from `seed`,
 * the same sequence as loop_micro.py's `randoms`. Made before the clock starts.
 */
function randoms(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x / 4294967296;
  }
  return out;
}

/** n callAt with deadlines spread at random over the past second (all due); run until all fired. */
async function callAtRandom(loop: BaseEventLoop, n: number): Promise<number> {
  const u = randoms(n, 1);
  let fired = 0;
  const cb = () => {
    if (++fired === n) loop.stop();
  };
  const t0 = now();
  const base = loop.time() - 1;
  for (let i = 0; i < n; i++) loop.callAt(base + u[i], cb);
  await loop.runForever();
  const dt = now() - t0;
  if (fired !== n) throw new Error(`call_at random: ${fired} of ${n}`);
  return dt;
}

/** callAtRandom, then cancel 9 of every 10 (i % 10 !== 0); run until the remaining tenth fired. */
async function callAtRandomCancel90(loop: BaseEventLoop, n: number): Promise<number> {
  const u = randoms(n, 2);
  const keep = Math.ceil(n / 10);
  let fired = 0;
  const cb = () => {
    if (++fired === keep) loop.stop();
  };
  const t0 = now();
  const base = loop.time() - 1;
  const handles = new Array(n);
  for (let i = 0; i < n; i++) handles[i] = loop.callAt(base + u[i], cb);
  for (let i = 0; i < n; i++) if (i % 10 !== 0) handles[i].cancel();
  await loop.runForever();
  const dt = now() - t0;
  if (fired !== keep) throw new Error(`call_at random cancelled: ${fired} of ${keep}`);
  return dt;
}

/**
 * n callLater(d_i, cb, i), d_i random in [0, 10 ms). While the loop runs, each of the first n/2
 * callbacks to fire reschedules one timer that has not fired yet, as an idle timeout reset on
 * activity does: it cancels it and calls callLater again for it with a fresh random delay in
 * [0, 10 ms). The target is the highest index whose original timer is still pending (state 0).
 * Run until n callbacks fired (every index exactly once); ops = n.
 */
async function callLaterReschedule(loop: BaseEventLoop, n: number): Promise<number> {
  const u = randoms(n + (n >> 1), 3);
  const half = n >> 1;
  const state = new Uint8Array(n); // 0 pending, 1 fired, 2 rescheduled
  const handles = new Array(n);
  let fired = 0, rescheduled = 0, target = n - 1;
  const cb = (i: number) => {
    state[i] = 1;
    if (rescheduled < half) {
      while (state[target] !== 0) target--;
      handles[target].cancel();
      handles[target] = loop.callLater(u[n + rescheduled] / 100, cb, target);
      state[target] = 2;
      rescheduled++;
    }
    if (++fired === n) loop.stop();
  };
  const t0 = now();
  for (let i = 0; i < n; i++) handles[i] = loop.callLater(u[i] / 100, cb, i);
  await loop.runForever();
  const dt = now() - t0;
  if (fired !== n || rescheduled !== half) {
    throw new Error(`call_later rescheduled: ${fired} of ${n}, ${rescheduled} of ${half}`);
  }
  return dt;
}

/** n tasks of an empty coroutine created up front; run until the last one finished. */
async function createTasks(loop: BaseEventLoop, n: number): Promise<number> {
  const coro = async () => {};
  const t0 = now();
  let last;
  for (let i = 0; i < n; i++) last = loop.createTask(coro);
  await loop.runUntilComplete(last!);
  const dt = now() - t0;
  if (allTasks(loop).size !== 0) throw new Error("create_task: tasks left");
  return dt;
}

/** 100 tasks, each awaiting sleep(0) n/100 times: n task wake-ups. */
async function sleep0Tasks(loop: BaseEventLoop, n: number): Promise<number> {
  const per = Math.ceil(n / 100);
  let wakeups = 0;
  const coro = async () => {
    for (let i = 0; i < per; i++) {
      await sleep(0);
      wakeups++;
    }
  };
  const t0 = now();
  const tasks = [];
  for (let i = 0; i < 100; i++) tasks.push(loop.createTask(coro));
  for (const t of tasks) await loop.runUntilComplete(t);
  const dt = now() - t0;
  if (wakeups !== per * 100) throw new Error(`sleep(0): ${wakeups} of ${per * 100}`);
  return dt;
}

/** allTasks() called n/1000 times with 1000 pending tasks: n tasks listed. */
async function allTasks1k(loop: BaseEventLoop, n: number): Promise<number> {
  const gate = loop.createFuture<void>();
  const waiter = async () => {
    await gate;
  };
  for (let i = 0; i < 1000; i++) loop.createTask(waiter);
  await loop.runUntilComplete(() => sleep(0));
  const calls = Math.ceil(n / 1000);
  let listed = 0;
  const t0 = now();
  for (let i = 0; i < calls; i++) listed += allTasks(loop).size;
  const dt = now() - t0;
  gate.setResult();
  await loop.runUntilComplete(() => sleep(0));
  if (listed !== calls * 1000) throw new Error(`all_tasks: ${listed} of ${calls * 1000}`);
  return dt;
}

type Bench = (loop: BaseEventLoop, n: number) => Promise<number>;
const ROWS: [string, Bench, number][] = [
  ["call_soon 1M pre-queued", callSoonPrequeued, 1_000_000],
  ["call_soon chained 1M", callSoonChained, 1_000_000],
  ["add_reader ping-pong 100k", pingPong, 100_000],
  ["call_at 100k all-due", callAtAllDue, 100_000],
  ["call_at 1M all-due", callAtAllDue, 1_000_000],
  ["call_later 1M 90% cancelled", callLaterCancel90, 1_000_000],
  ["call_at 100k random", callAtRandom, 100_000],
  ["call_at 1M random", callAtRandom, 1_000_000],
  ["call_at 1M random 90% cancelled", callAtRandomCancel90, 1_000_000],
  ["call_later 1M over 10 ms, half rescheduled while running", callLaterReschedule, 1_000_000],
  ["create_task 100k", createTasks, 100_000],
  ["sleep(0) 100 tasks 100k", sleep0Tasks, 100_000],
  ["all_tasks 1k live 1M", allTasks1k, 1_000_000],
];

// ---- driver -------------------------------------------------------------------------------------

/** Run row `fn` once on a fresh loop; seconds. */
export async function once(fn: Bench, n: number): Promise<number> {
  const loop = newEventLoop();
  try {
    return await fn(loop, n);
  } finally {
    loop.close();
  }
}

async function main(): Promise<void> {
  const results: { row: string; ops: number; all: number[] }[] = [];
  for (const [row, fn, size] of ROWS) {
    if (ONLY && !ONLY.some((o) => row.startsWith(o))) continue;
    const n = Math.max(10, Math.round(size * SCALE));
    await once(fn, Math.max(10, Math.round(n / 10))); // warm-up, untimed
    const all: number[] = [];
    for (let r = 0; r < REPS; r++) all.push(n / (await once(fn, n)));
    const ops = Math.round(median(all));
    results.push({ row, ops, all });
    if (JSON_OUT) console.log(JSON.stringify({ impl: IMPL, row, ops }));
  }

  if (!JSON_OUT) {
    const w = Math.max(...results.map((r) => r.row.length));
    console.log(`${IMPL}: median of ${REPS} (ops/s; min..max)`);
    for (const r of results) {
      const lo = Math.round(Math.min(...r.all)), hi = Math.round(Math.max(...r.all));
      console.log(`  ${r.row.padEnd(w)}  ${String(r.ops).padStart(11)}   (${lo}..${hi})`);
    }
  }
}

if (import.meta.main) await main();
