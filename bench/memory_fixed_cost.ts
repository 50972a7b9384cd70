/**
 * The engine's own fixed cost in bench/memory_per_conn.ts's figures (issue 19 §5), shown
 * without aioloop: a plain program that keeps N small records alive, each about what an idle
 * Protocol connection holds in aioloop (a 20-field object, four small ones, a two-slot array,
 * ~560 bytes on V8), made in batches across event-loop turns with 1 KiB of garbage each (the
 * echoed message), as a server accepts a burst of connections. Printed per N: RSS growth per
 * record 6 s after the last one, heap used per record after a full GC, and the fit of RSS
 * growth = fixed + slope × N. If RSS per record at N = 10,000 is well above the heap per
 * record while the slope is near it, the rest is the runtime's fixed cost (a grown young
 * generation, code paged in) that no library change removes.
 *
 *   node_modules/.bin/deno run -A bench/memory_fixed_cost.ts [--counts=2000,5000,10000,19000]
 *     (runs each count in a fresh Deno and a fresh Bun, pinned to CPU 0)
 */
import { spawnSync } from "node:child_process";
import { dirname } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { fitLine, rssBytes } from "./lib/memory.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const BIN = `${ROOT}/node_modules/.bin`;
const SELF = fileURLToPath(import.meta.url);
const SETTLE_S = 6;
const WARMUP = 200;
const BATCH = 50; // records per event-loop turn
const CPU = process.env.CPU ?? "0";

/** A full GC: Deno needs --v8-flags=--expose-gc, given to the child below. */
function gc(): void {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  if (typeof g.gc === "function") g.gc();
  else g.Bun.gc(true);
}

/** One connection's worth of objects (shapes as aioloop's, not its code). */
class Transport {
  f0: unknown = null; f1: unknown = null; f2: unknown = null; f3: unknown = null;
  f4: unknown = null; f5: unknown = null; f6 = 0; f7 = 0; f8 = 0; f9 = false; f10 = false;
  f11 = false; f12 = false; f13 = false; f14 = false; f15 = 65536; f16 = 16384; f17 = 0;
  constructor(public sock: Sock, public extra: object) {}
}
class Sock {
  constructor(public fd: number, public family = 2, public type = 1, public blocking = false) {}
}
class Handle {
  constructor(public callback: unknown, public arg: unknown, public cancelled = false) {}
}
class Proto {
  transport: Transport | null = null;
}

function makeRecord(i: number): unknown[] {
  const garbage = new Uint8Array(1024); // the echoed message, dropped
  garbage[0] = i;
  const sock = new Sock(i);
  const t = new Transport(sock, { socket: sock, sockname: undefined, peername: ["127.1.0.1", 30000 + i] });
  const p = new Proto();
  p.transport = t;
  return [t, new Handle(makeRecord, t), p];
}

async function child(n: number): Promise<void> {
  const kept: unknown[] = [];
  const turn = () => new Promise((r) => setTimeout(r, 0));
  for (let i = 0; i < WARMUP; i++) makeRecord(i);
  await new Promise((r) => setTimeout(r, 1000));
  const before = rssBytes(process.pid);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) {
    kept.push(makeRecord(i));
    if (i % BATCH === BATCH - 1) await turn();
  }
  await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
  const after = rssBytes(process.pid);
  gc();
  const heapAfter = process.memoryUsage().heapUsed;
  console.log(JSON.stringify({ n, rss: after - before, heap: heapAfter - heapBefore, kept: kept.length }));
}

function parent(): void {
  const arg = process.argv.slice(2).find((a) => a.startsWith("--counts="));
  const counts = (arg ? arg.slice(9) : "2000,5000,10000,19000").split(",").map(Number);
  const runtimes: [string, string[]][] = [
    ["deno", [`${BIN}/deno`, "run", "-A", "--v8-flags=--expose-gc", SELF, "--child"]],
    ["bun", [`${BIN}/bun`, SELF, "--child"]],
  ];
  const out = ["| runtime | " + counts.map((n) => `${n.toLocaleString("en")}: RSS / heap, B per record`).join(" | ") +
    " | fitted slope, B | fixed, MiB |", "|---|" + counts.map(() => "---:|").join("") + "---:|---:|"];
  for (const [name, cmd] of runtimes) {
    const pts: { n: number; rss: number; heap: number }[] = [];
    for (const n of counts) {
      const r = spawnSync("taskset", ["-c", CPU, ...cmd, String(n)], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`${name} ${n}: ${r.stderr}`);
      pts.push(JSON.parse(r.stdout.trim().split("\n").pop()!));
      process.stderr.write(`${name} ${n}: ${JSON.stringify(pts[pts.length - 1])}\n`);
    }
    const f = fitLine(pts.map((p) => ({ x: p.n, y: p.rss })));
    const fitted = f === undefined ? "n/a | n/a" : `${Math.round(f.slope)} | ${(f.fixed / 2 ** 20).toFixed(1)}`;
    out.push(`| ${name} | ` + pts.map((p) => `${Math.round(p.rss / p.n)} / ${Math.round(p.heap / p.n)}`).join(" | ") +
      ` | ${fitted} |`);
  }
  console.log(out.join("\n"));
}

const at = process.argv.indexOf("--child");
if (at >= 0) await child(Number(process.argv[at + 1]));
else parent();
