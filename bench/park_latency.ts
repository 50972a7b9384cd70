/**
 * Parking benchmark: what a loop with nothing to do costs and how fast it wakes.
 *
 *   deno run -A bench/park_latency.ts [--json] [--samples=2000]
 *   bun bench/park_latency.ts         [--json] [--samples=2000]
 *
 * (a) callSoonThreadsafe wake-up: a host setTimeout callback calls loop.callSoonThreadsafe(cb)
 *     while the loop is parked; latency = until cb runs.
 * (b) fd wake-up: one byte written to a socketpair end the loop watches with addReader, either
 *     from a host setTimeout on the JS thread, or from a Worker thread (timed with
 *     CLOCK_MONOTONIC across threads); latency = until the reader callback runs.
 * (c) CPU used by the whole process (all threads) while the loop is parked for 2 s.
 * (d) host setInterval(1 ms) ticks in 500 ms while the loop is parked, against the same count
 *     with no aioloop loop running.
 * Each sample is taken after the loop had ~1 ms to go idle; "parked" says how many samples
 * found the loop actually parked (read from the loop's internal _parked flag, diagnostics only).
 */
import process from "node:process";
import { type BaseEventLoop, newEventLoop, socketpair } from "../mod.ts";
import { openLibrary } from "../ffi/runtime.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const isBun = typeof g.Bun !== "undefined";
const IMPL = isBun ? "aioloop-bun" : "aioloop-deno";
const argv: string[] = isBun ? g.process.argv.slice(2) : g.Deno.args;
const JSON_OUT = argv.includes("--json");
const SAMPLES = Number(argv.find((a) => a.startsWith("--samples="))?.split("=")[1] ?? 2000);

const { clock_gettime } = openLibrary("libc.so.6", {
  clock_gettime: { args: ["i32", "buffer"], result: "i32" },
}).symbols;
const ts = new BigInt64Array(2);
function monoNs(): number {
  clock_gettime(1, ts);
  return Number(ts[0]) * 1e9 + Number(ts[1]);
}

// deno-lint-ignore no-explicit-any
const isParked = (loop: BaseEventLoop) => (loop as any)._parked === true;
const hostDelay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Lat { samples: number[]; parked: number }

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Run `body` while `loop` runs forever; stop the loop afterwards. */
async function whileRunning<T>(loop: BaseEventLoop, body: () => Promise<T>): Promise<T> {
  const running = loop.runForever();
  try {
    return await body();
  } finally {
    loop.stop();
    await running;
  }
}

// (a)
function threadsafeLatency(loop: BaseEventLoop, n: number): Promise<Lat> {
  return new Promise((resolve) => {
    const samples: number[] = [];
    let parked = 0;
    let t0 = 0;
    const cb = () => {
      samples.push((performance.now() - t0) * 1000);
      if (samples.length >= n) resolve({ samples, parked });
      else setTimeout(fire, 1);
    };
    const fire = () => {
      if (isParked(loop)) parked++;
      t0 = performance.now();
      loop.callSoonThreadsafe(cb);
    };
    setTimeout(fire, 1);
  });
}

// (b), written from a host timer on the JS thread
function fdHostLatency(loop: BaseEventLoop, n: number): Promise<Lat> {
  const [a, b] = socketpair();
  a.setBlocking(false);
  b.setBlocking(false);
  const byte = new Uint8Array([120]);
  return new Promise<Lat>((resolve) => {
    const samples: number[] = [];
    let parked = 0;
    let t0 = 0;
    loop.addReader(a, () => {
      a.recv(1);
      samples.push((performance.now() - t0) * 1000);
      if (samples.length >= n) resolve({ samples, parked });
      else setTimeout(fire, 1);
    });
    const fire = () => {
      if (isParked(loop)) parked++;
      t0 = performance.now();
      b.send(byte);
    };
    setTimeout(fire, 1);
  }).finally(() => {
    loop.removeReader(a);
    a.close();
    b.close();
  });
}

// (b), written from a Worker thread
function fdWorkerLatency(loop: BaseEventLoop, n: number): Promise<Lat> {
  const [a, b] = socketpair();
  a.setBlocking(false);
  const ctl = new Int32Array(new SharedArrayBuffer(4));
  const stamp = new Float64Array(new SharedArrayBuffer(8));
  const worker = new Worker(new URL("./park_latency_worker.ts", import.meta.url), {
    type: "module",
  });
  return new Promise<Lat>((resolve) => {
    const samples: number[] = [];
    loop.addReader(a, () => {
      const t = monoNs();
      a.recv(1);
      samples.push((t - stamp[0]) / 1000);
      // Whether the loop was parked when the byte arrived is not observable from here.
      if (samples.length >= n) resolve({ samples, parked: -1 });
      Atomics.store(ctl, 0, 0);
      Atomics.notify(ctl, 0);
    });
    worker.postMessage({ fd: b.fileno(), ctl, stamp, count: n, gapMs: 1 });
  }).finally(() => {
    worker.terminate();
    loop.removeReader(a);
    a.close();
    b.close();
  });
}

// (c)
async function parkedCpu(ms: number): Promise<number> {
  await hostDelay(50); // let it park
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  await hostDelay(ms);
  const u = process.cpuUsage(u0);
  const wall = performance.now() - t0;
  return ((u.user + u.system) / 1000 / wall) * 100;
}

// (d)
function intervalTicks(ms: number): Promise<number> {
  return new Promise((resolve) => {
    let ticks = 0;
    const id = setInterval(() => ticks++, 1);
    setTimeout(() => {
      clearInterval(id);
      resolve(ticks);
    }, ms);
  });
}

const ticksAlone = await intervalTicks(500);
const loop = newEventLoop();
const rows: { row: string; value: string; json: Record<string, unknown> }[] = [];
function latRow(row: string, r: Lat) {
  const p50 = pct(r.samples, 50), p99 = pct(r.samples, 99), max = pct(r.samples, 100);
  rows.push({
    row,
    value: `p50 ${p50.toFixed(1)} µs, p99 ${p99.toFixed(1)} µs, max ${max.toFixed(0)} µs ` +
      `(${r.samples.length} samples, ${r.parked < 0 ? "parked n/a" : `${r.parked} parked`})`,
    json: { p50_us: +p50.toFixed(1), p99_us: +p99.toFixed(1), max_us: +max.toFixed(1),
      samples: r.samples.length, parked: r.parked },
  });
}
await whileRunning(loop, async () => {
  await hostDelay(20);
  latRow("(a) callSoonThreadsafe from host timer", await threadsafeLatency(loop, SAMPLES));
  latRow("(b) fd ready, written by host timer", await fdHostLatency(loop, SAMPLES));
  latRow("(b) fd ready, written by a Worker", await fdWorkerLatency(loop, SAMPLES));
  const cpu = await parkedCpu(2000);
  rows.push({ row: "(c) CPU while parked 2 s", value: `${cpu.toFixed(2)} %`, json: { cpu_pct: +cpu.toFixed(2) } });
  await hostDelay(20);
  const ticks = await intervalTicks(500);
  rows.push({
    row: "(d) setInterval(1ms) ticks in 500 ms",
    value: `${ticks} while parked (${ticksAlone} with no loop)`,
    json: { ticks, ticks_no_loop: ticksAlone },
  });
});
loop.close();

if (JSON_OUT) {
  for (const r of rows) console.log(JSON.stringify({ impl: IMPL, row: r.row, ...r.json }));
} else {
  const w = Math.max(...rows.map((r) => r.row.length));
  console.log(`${IMPL} park latency`);
  for (const r of rows) console.log(`  ${r.row.padEnd(w)}  ${r.value}`);
}
