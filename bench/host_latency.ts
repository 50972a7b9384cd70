/**
 * The host runtime beside a busy loop (issue 19 §1): does the runtime's own HTTP server still
 * answer promptly while aioloop is saturated, and what does giving it turns cost the loop?
 *
 *   deno run -A bench/host_latency.ts [--requests=200] [--rounds=3] [--seconds=2] [--json]
 *   bun bench/host_latency.ts         [--requests=200] [--rounds=3] [--seconds=2] [--json]
 *
 * The loop's work is a saturating ping-pong: a socketpair, both ends non-blocking with
 * addReader, each reader recvInto()s one byte and sends it back (bench/loop_micro.ts's row,
 * unbounded). The host serves HTTP in the same process (Deno.serve / Bun.serve: this is a
 * bench, so it may ask which runtime it is on) and is asked, one request at a time, by
 * - `fetch`: fetch() from this same process, on the same JS thread as the loop;
 * - `outside`: bench/host_latency_client.py, a separate process on one keep-alive connection
 *   (/usr/bin/python3, or $PY).
 * Each is measured with the loop idle (running, parked: nothing to do) and busy. A control
 * row sends the outside client's requests to the same server in a process of its own
 * (bench/host_latency_server.ts) while the loop is busy: this process then serves nothing, so
 * the rate it loses there is what the traffic itself costs a loop on this machine (the client
 * and the other server running beside it), which the `outside` row pays as well.
 *
 * Columns: p50/p99 request latency (every round's requests pooled); ping-pong round trips per
 * second of wall time and per second of the JS thread's CPU time (CLOCK_THREAD_CPUTIME_ID;
 * medians over rounds); "kept": the per-CPU-second rate over the no-traffic one of the same
 * round (median over rounds); "CPU in host turns": the share of the JS thread's CPU time spent
 * in the loop's host turns, the host's own work included (HostTurns.give, timed by patching the
 * loop's private instance: diagnostics only); for the traffic rows, the host turns per request
 * and the JS thread's µs in them per request (the host's own work for a request, mostly).
 * Rates per CPU-second, because on a machine shared
 * with other work the wall-time rate follows how much CPU the scheduler grants (a process with
 * more runnable threads gets more), not the loop. "No traffic" is the ping-pong alone, in
 * short windows alternating with "setImmediate turns": the ping-pong alone with the turns the
 * loop had before issue 19 (one setImmediate turn per millisecond, patched in the same way);
 * "kept" on the no-traffic row is the median ratio of those pairs: what the turns cost a loop
 * the host does not need.
 * Run it unpinned: Bun's fetch client has a thread of its own, and the outside client is a
 * process of its own; pinned to the loop's CPU they would wait for the busy loop's time slice.
 */
import { spawn } from "node:child_process";
import { setImmediate } from "node:timers";
import { type BaseEventLoop, newEventLoop, socketpair } from "../mod.ts";
import { threadCpuMicros } from "../ffi/host_turn.ts";
import { hostServer, serverCommand } from "./host_latency_server.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const isBun = typeof g.Bun !== "undefined";
const IMPL = isBun ? "aioloop-bun" : "aioloop-deno";
const argv: string[] = isBun ? g.process.argv.slice(2) : g.Deno.args;
const arg = (name: string, def: number) =>
  Number(argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? def);
const REQUESTS = arg("requests", 200);
const ROUNDS = arg("rounds", 3);
/** No-traffic windows per round, alternating the loop's turns and setImmediate turns. */
const PAIRS = 5;
const SECONDS = arg("seconds", 2);
const NO_TRAFFIC = "busy loop, no traffic";
const BEFORE = "busy loop, no traffic, setImmediate turns";
const ELSEWHERE = "busy loop, outside client of another process";
const JSON_OUT = argv.includes("--json");
const PY = (isBun ? g.process.env.PY : g.Deno.env.get("PY")) ?? "/usr/bin/python3";

/** The loop's saturating ping-pong; `stop()` ends it and returns the round trips made. */
function startPingPong(loop: BaseEventLoop): { stop(): Promise<number> } {
  const [a, b] = socketpair();
  a.setBlocking(false);
  b.setBlocking(false);
  const byte = new Uint8Array([120]);
  const inbox = new Uint8Array(1);
  let trips = 0;
  loop.addReader(a, () => {
    a.recvInto(inbox, 1);
    trips++;
    a.send(byte);
  });
  loop.addReader(b, () => {
    b.recvInto(inbox, 1);
    b.send(byte);
  });
  a.send(byte);
  const running = loop.runForever();
  return {
    async stop() {
      const done = trips;
      loop.stop();
      await running;
      loop.removeReader(a);
      loop.removeReader(b);
      a.close();
      b.close();
      return done;
    },
  };
}

/** Run the loop with nothing to do (it parks) until `stop()`. */
function startIdle(loop: BaseEventLoop): { stop(): Promise<number> } {
  const running = loop.runForever();
  return {
    async stop() {
      loop.stop();
      await running;
      return 0;
    },
  };
}

/** hostServer() in a process of its own (the control row's server); `close()` ends it. */
async function serverElsewhere(): Promise<{ port: number; close(): Promise<void> }> {
  const [exe, args] = serverCommand();
  const child = spawn(exe, args, { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Uint8Array) => {
      out += new TextDecoder().decode(d);
      if (out.includes("\n")) resolve(Number(out.trim()));
    });
    child.on("close", (code: number) => reject(new Error(`server process exited ${code}`)));
  });
  return {
    port,
    close() {
      child.stdin.end();
      return exited;
    },
  };
}

async function fetchRequests(port: number, n: number): Promise<number[]> {
  const url = `http://127.0.0.1:${port}/`;
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(url);
    await res.text();
    ms.push(performance.now() - t0);
  }
  return ms;
}

/**
 * Start the outside client for `n` requests; `go()` lets it send them and resolves to their
 * latencies. Started before its row, so that the row does not time a process start-up.
 */
async function outsideClient(port: number, n: number): Promise<{ go(): Promise<number[]> }> {
  const script = new URL("./host_latency_client.py", import.meta.url).pathname;
  const child = spawn(PY, [script, String(port), String(n)]);
  let out = "";
  let err = "";
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on("data", (d: Uint8Array) => {
    out += new TextDecoder().decode(d);
    if (out.startsWith("ready\n")) onReady();
  });
  child.stderr.on("data", (d: Uint8Array) => (err += new TextDecoder().decode(d)));
  const exited = new Promise<number[]>((resolve, reject) => {
    child.on("close", (code: number) => {
      onReady();
      if (code !== 0) reject(new Error(`client exited ${code}: ${err}`));
      else resolve(JSON.parse(out.slice("ready\n".length)).ms);
    });
  });
  await ready;
  return {
    go() {
      child.stdin.write("go\n");
      return exited;
    },
  };
}

async function outsideRequests(port: number, n: number): Promise<number[]> {
  return await (await outsideClient(port, n)).go();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

interface Row {
  impl: string;
  row: string;
  requests: number;
  p50?: number;
  p99?: number;
  /** Median ping-pong round trips/s while the row's requests ran. */
  rate?: number;
  /** Median round trips per CPU-second of the JS thread. */
  cpuRate?: number;
  /** Median over rounds of the row's cpuRate over the same round's no-traffic cpuRate. */
  kept?: number;
  /** Median share of the JS thread's CPU time spent in host turns. */
  inTurns?: number;
  /** Traffic rows: median host turns per request, and µs of the JS thread in turns per request. */
  turnsPerRequest?: number;
  turnUsPerRequest?: number;
}

/** What one row's window measured. */
interface Measured {
  /** Ping-pong round trips per second of wall time. */
  rate: number;
  /** Round trips per second of the JS thread's CPU time: robust to a machine shared with others. */
  cpuRate: number;
  /** The share of the JS thread's CPU time spent in host turns (the host's work included). */
  inTurns: number;
  /** Host turns given (each turn of a hand-over counted) and the JS thread's µs in them. */
  turns: number;
  turnUs: number;
}

/**
 * Run `start`'s work with the loop's own host turns or (`before`) those it had before issue 19,
 * one setImmediate turn each time one is due, and time the turns on the JS thread's CPU clock.
 * Reaches into the loop's private HostTurns (diagnostics; a bench may).
 */
function withTurns(
  loop: BaseEventLoop,
  before: boolean,
  start: () => { stop(): Promise<number> },
): { stop(): Promise<Measured> } {
  // deno-lint-ignore no-explicit-any
  const turns = (loop as any)._hostTurns;
  const own = turns.give;
  let inTurns = 0;
  let turnCount = 0;
  const host = turns.host;
  const ownTurn = host.turn;
  host.turn = () => {
    turnCount++;
    return ownTurn.call(host);
  };
  turns.give = async () => {
    const c0 = threadCpuMicros();
    if (before) {
      await new Promise((resolve) => setImmediate(resolve));
      turns.lastTurnEnd = performance.now();
    } else {
      await own.call(turns);
    }
    inTurns += threadCpuMicros() - c0;
  };
  const t0 = performance.now();
  const c0 = threadCpuMicros();
  const work = start();
  return {
    stop: async () => {
      const wall = (performance.now() - t0) / 1000;
      const cpu = (threadCpuMicros() - c0) / 1e6;
      const trips = await work.stop();
      delete turns.give; // the prototype's give again
      host.turn = ownTurn;
      return {
        rate: trips / wall,
        cpuRate: trips / cpu,
        inTurns: inTurns / 1e6 / cpu,
        turns: turnCount,
        turnUs: inTurns,
      };
    },
  };
}

const hostDelay = (ms: number) => new Promise((r) => setTimeout(r, ms));

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];

const server = hostServer();
const elsewhere = await serverElsewhere();
const loop = newEventLoop();
// Per row: the latencies of every round, and each round's rate over that round's no-traffic rate.
const latencies = new Map<string, number[]>();
const rates = new Map<string, number[]>();
const kept = new Map<string, number[]>();
const turnShare = new Map<string, number[]>();
const cpuRates = new Map<string, number[]>();
const turnsPerRequest = new Map<string, number[]>();
const turnUsPerRequest = new Map<string, number[]>();
const push = <T>(m: Map<string, T[]>, k: string, ...v: T[]) => m.set(k, [...(m.get(k) ?? []), ...v]);
/** One round of a busy traffic row: its rates, the share kept against `quietRate`, its turns. */
function recordBusy(row: string, w: Measured, quietRate: number): void {
  push(rates, row, w.rate);
  push(cpuRates, row, w.cpuRate);
  push(kept, row, w.cpuRate / quietRate);
  push(turnShare, row, w.inTurns);
  push(turnsPerRequest, row, w.turns / REQUESTS);
  push(turnUsPerRequest, row, w.turnUs / REQUESTS);
}
try {
  // Warm both clients and the server up.
  await fetchRequests(server.port, 50);
  await outsideRequests(server.port, 50);
  await outsideRequests(elsewhere.port, 50);
  // The machine's speed drifts (and other work shares it), so each round measures the
  // no-traffic rate next to the traffic rows, and the share kept is a same-round ratio.
  for (let round = 0; round < ROUNDS; round++) {
    // No traffic: short windows, alternately with the loop's turns and with setImmediate turns,
    // each pair's ratio taken on its own.
    let quietRate = 0;
    for (let pair = 0; pair < PAIRS; pair++) {
      const measured: number[] = [];
      for (const before of [false, true]) {
        const work = withTurns(loop, before, () => startPingPong(loop));
        await hostDelay((SECONDS * 1000) / PAIRS);
        const w = await work.stop();
        const row = before ? BEFORE : NO_TRAFFIC;
        push(rates, row, w.rate);
        push(cpuRates, row, w.cpuRate);
        push(turnShare, row, w.inTurns);
        measured.push(w.cpuRate);
      }
      push(kept, NO_TRAFFIC, measured[0] / measured[1]);
      quietRate += measured[0] / PAIRS;
    }
    for (const client of ["fetch", "outside"]) {
      for (const busy of [false, true]) {
        const row = `${busy ? "busy" : "idle"} loop, ${client}`;
        const outside = client === "outside" ? await outsideClient(server.port, REQUESTS) : null;
        const work = withTurns(loop, false, () => busy ? startPingPong(loop) : startIdle(loop));
        await hostDelay(20); // let the loop park, or the ping-pong get going
        push(latencies, row, ...await (outside ? outside.go() : fetchRequests(server.port, REQUESTS)));
        const w = await work.stop();
        if (busy) recordBusy(row, w, quietRate);
      }
    }
    // The control: the outside client's same traffic, served by another process. This
    // process then does none of the work, so what the loop loses here it loses to the traffic
    // itself (the client's and the server's CPU beside it on a 2-core machine), not to its turns.
    const outside = await outsideClient(elsewhere.port, REQUESTS);
    const work = withTurns(loop, false, () => startPingPong(loop));
    await hostDelay(20);
    push(latencies, ELSEWHERE, ...await outside.go());
    recordBusy(ELSEWHERE, await work.stop(), quietRate);
  }
} finally {
  loop.close();
  await server.close();
  await elsewhere.close();
}

const rows: Row[] = [
  BEFORE, NO_TRAFFIC, "idle loop, fetch", "busy loop, fetch", "idle loop, outside", "busy loop, outside", ELSEWHERE,
]
  .map((row) => {
    const ms = (latencies.get(row) ?? []).sort((x, y) => x - y);
    const r = rates.get(row);
    const k = kept.get(row);
    const t = turnShare.get(row);
    const c = cpuRates.get(row);
    return {
      impl: IMPL,
      row,
      requests: ms.length,
      p50: ms.length ? percentile(ms, 0.5) : undefined,
      p99: ms.length ? percentile(ms, 0.99) : undefined,
      rate: r ? median(r) : undefined,
      cpuRate: c ? median(c) : undefined,
      kept: k ? median(k) : undefined,
      inTurns: t ? median(t) : undefined,
      turnsPerRequest: turnsPerRequest.has(row) ? median(turnsPerRequest.get(row)!) : undefined,
      turnUsPerRequest: turnUsPerRequest.has(row) ? median(turnUsPerRequest.get(row)!) : undefined,
    };
  });

if (JSON_OUT) {
  for (const r of rows) console.log(JSON.stringify(r));
} else {
  const f = (x: number | undefined, d = 2) => (x === undefined ? "–" : x.toFixed(d));
  console.log(
    `${IMPL}: host HTTP server beside the loop; ${ROUNDS} rounds of ${REQUESTS} sequential requests per row`,
  );
  console.log("| row | p50 ms | p99 ms | ping-pong/s | per CPU-s | kept | CPU in host turns | turns / request | turn µs / request |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    const n = (x: number | undefined) => (x === undefined ? "–" : Math.round(x).toLocaleString("en-US"));
    const k = r.kept === undefined ? "–" : `${(r.kept * 100).toFixed(0)} %`;
    const t = r.inTurns === undefined ? "–" : `${(r.inTurns * 100).toFixed(1)} %`;
    console.log(
      `| ${r.row} | ${f(r.p50)} | ${f(r.p99)} | ${n(r.rate)} | ${n(r.cpuRate)} | ${k} | ${t} | ` +
        `${f(r.turnsPerRequest, 1)} | ${f(r.turnUsPerRequest, 0)} |`,
    );
  }
}
