/**
 * Memory per idle connection (issue 19 §5): server RSS growth per connection, for the echo
 * servers of bench/echo/ with N connections that each echoed one 1 KiB message and stay open.
 *
 *   bash bench/run_memory.sh [options]     (raises `ulimit -n` to the hard limit first)
 *   node_modules/.bin/deno run -A bench/memory_per_conn.ts [options]
 *
 * Options: --conns=10000 (a list: --conns=10000,19000), --runs=3 (median of this many rounds,
 * a fresh server each), --settle=30 (seconds between the last connection and the second RSS
 * reading; the first is at 2 s),
 * --only=… / --skip=… (server names, see SERVERS), --cpu=0 (the server's CPU; the client gets
 * the other one), --smaps (a third table: where the growth went, by kind of mapping, from
 * /proc/PID/smaps; see smapsByKind).
 *
 * Per server and round: start it pinned (taskset), open and close 200 warm-up connections
 * (first-use code, pools, JIT), wait 1 s, read VmRSS from /proc/PID/status (proc(5)), open N
 * connections with bench/echo/idle_client.c (each echoes 1 KiB once, then idles), read VmRSS
 * again 2 s and --settle s later. Bytes per connection = RSS growth / N. Kernel socket memory
 * is not in RSS: this is the server's own (heap, objects, buffers). A garbage-collected server
 * is not asked to collect: what a user's process holds is what is measured. Both readings are
 * shown because V8 gives back the young generation it grew during the burst of accepts only
 * once the process has been idle a while: its memory reducer starts 8 s after the burst and
 * runs up to three GCs 0.5 s apart (kLongDelayMs, kShortDelayMs, kMaxNumberOfGCs in V8's
 * src/heap/memory-reducer.cc), hence the default --settle=30, where a reading at 6 s
 * sees none of it. Deno's RSS per connection falls by ~1.3 KB between the two readings.
 *
 * With more than one count (--conns=2000,5000,10000,19000), a second table gives each
 * server's growth fitted as fixed + slope × N over all rounds: the slope is the cost of one more
 * connection, the fixed part what the burst costs whatever N (see fit()).
 *
 * The process and its client each need N + a few fds: N is capped at the fd limit minus 100,
 * with a note. Raw results: bench/.build/memory_results.jsonl.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync, readlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { fitLine, rssBytes } from "./lib/memory.ts";
import { freePort, killAll, live, startServer, stopServer } from "./lib/servers.ts";
import { median } from "./lib/stats.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const BIN = `${ROOT}/node_modules/.bin`;
const BUILD = `${ROOT}/bench/.build`;
const PY = process.env.PY ?? "/usr/bin/python3";

function opt(name: string, dflt: string): string {
  const hit = process.argv.slice(2).find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? dflt : hit.slice(name.length + 3);
}
const RUNS = Number(opt("runs", "3"));
const SETTLE = Number(opt("settle", "30"));
const EARLY = 2; // seconds: the first reading
const ONLY = opt("only", "").split(",").filter(Boolean);
const SKIP = opt("skip", "").split(",").filter(Boolean);
const SMAPS = process.argv.includes("--smaps");
const CPU = opt("cpu", "0");
const CLIENT_CPU = CPU === "0" ? "1" : "0";
const WARMUP_CONNS = 200;

const SERVERS: { name: string; cmd: string[] }[] = [
  { name: "c", cmd: [`${BUILD}/c_echo_server`, "PORT"] },
  { name: "uvloop-protocol", cmd: [PY, "bench/echo/py_server.py", "uvloop", "protocol", "PORT"] },
  { name: "uvloop-streams", cmd: [PY, "bench/echo/py_server.py", "uvloop", "streams", "PORT"] },
  {
    name: "aioloop-protocol-deno",
    cmd: [`${BIN}/deno`, "run", "-A", "bench/echo/aioloop_server.ts", "protocol", "PORT"],
  },
  {
    name: "aioloop-streams-deno",
    cmd: [`${BIN}/deno`, "run", "-A", "bench/echo/aioloop_server.ts", "streams", "PORT"],
  },
  { name: "aioloop-protocol-bun", cmd: [`${BIN}/bun`, "bench/echo/aioloop_server.ts", "protocol", "PORT"] },
  { name: "aioloop-streams-bun", cmd: [`${BIN}/bun`, "bench/echo/aioloop_server.ts", "streams", "PORT"] },
  { name: "Deno.listen", cmd: [`${BIN}/deno`, "run", "-A", "bench/echo/deno_listen_server.ts", "PORT"] },
  { name: "Bun.listen", cmd: [`${BIN}/bun`, "bench/echo/bun_listen_server.ts", "PORT"] },
];

function log(line: string): void {
  process.stderr.write(line + "\n");
}

/** The soft fd limit this process (and so every child) runs with. */
function fdLimit(): number {
  const r = spawnSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" });
  const n = Number(r.stdout.trim());
  return Number.isFinite(n) ? n : 1024;
}

function build(): void {
  spawnSync("mkdir", ["-p", BUILD]);
  for (const src of ["echo/idle_client", "echo/c_echo_server"]) {
    const name = src.split("/").pop()!;
    const r = spawnSync("gcc", ["-O2", "-o", `${BUILD}/${name}`, `${ROOT}/bench/${src}.c`], {
      stdio: "inherit",
    });
    if (r.status !== 0) throw new Error(`gcc failed on bench/${src}.c`);
  }
}

/** The kinds of memory smapsByKind tells apart, in table order. */
const KINDS = ["anonymous", "malloc arenas", "[heap]", "runtime binary", "other files"] as const;

/**
 * Resident bytes of `pid` by kind of mapping (proc(5) smaps): the runtime's executable (its
 * code paged in as new paths run), other files, the brk heap (malloc's main arena), anonymous
 * mappings 64 MiB-aligned at the top of the address space (glibc's per-thread malloc arenas:
 * V8's compiler and GC threads, the runtime's I/O threads), and the other anonymous mappings
 * (the JS heap: V8's 256 KiB pages or JSC's regions, JIT code). The arena test is a heuristic.
 */
function smapsByKind(pid: number): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(KINDS.map((k) => [k, 0]));
  const exe = readlinkSync(`/proc/${pid}/exe`);
  let kind = "anonymous";
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const m = /^([0-9a-f]+)-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m !== null) {
      const [, start, path] = m;
      const lo = parseInt(start, 16);
      if (path === "[heap]") kind = "[heap]";
      else if (path.startsWith("/")) {
        kind = path === exe ? "runtime binary" : "other files";
      } else if (path === "" && lo >= 0x7e0000000000 && lo % 2 ** 26 === 0) kind = "malloc arenas";
      else kind = "anonymous";
    } else if (line.startsWith("Rss:")) {
      out[kind] += Number(line.split(/\s+/)[1]) * 1024;
    }
  }
  return out;
}

const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

/**
 * Open `n` idle connections to `port`; resolves with the client once all are open (close its
 * stdin to let them go, see `release`).
 */
function openIdle(port: number, n: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn("taskset", [
      "-c", CLIENT_CPU, `${BUILD}/idle_client`, "127.0.0.1", String(port), String(n), "1024",
    ], { stdio: ["pipe", "pipe", "pipe"] });
    live.add(child);
    let out = "", err = "";
    child.stdout!.on("data", (d: Uint8Array) => {
      out += String(d);
      if (/^open \d+$/m.test(out)) resolve(child);
    });
    child.stderr!.on("data", (d: Uint8Array) => (err += String(d)));
    child.on("exit", (code) => {
      live.delete(child);
      reject(new Error(err.trim() || `idle_client exited with ${code}`));
    });
  });
}

/** Let the client's connections go, and wait until it exited. */
async function release(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.stdin!.end();
  await exited;
}

interface Sample {
  server: string;
  conns: number;
  before: number;
  after: number;
}

/**
 * Least-squares line through (connections, RSS growth) over every round and count: the slope
 * is what one more connection costs, the intercept what the burst costs whatever the count
 * (a grown young generation, runtime code paged in, JIT; see bench/README.md). The raw figure
 * at N is slope + intercept / N, so the smaller N, the more the fixed part weighs in it.
 */
function fit(samples: Sample[]): { slope: number; fixed: number } | undefined {
  return fitLine(samples.map((r) => ({ x: r.conns, y: r.after - r.before })));
}

function fitTable(names: string[], raw: Sample[]): string[] {
  const out = [
    `Fitted over every round and count (settled reading): RSS growth = fixed + slope × connections.`,
    "",
    "| server | slope, B/conn | fixed, MiB |",
    "|---|---:|---:|",
  ];
  for (const name of names) {
    const f = fit(raw.filter((r) => r.server === name));
    const cells = f === undefined
      ? ["n/a", "n/a"]
      : [Math.round(f.slope).toLocaleString("en"), (f.fixed / 2 ** 20).toFixed(1)];
    out.push(`| ${name} | ${cells.join(" | ")} |`);
  }
  return out;
}

async function main(): Promise<void> {
  build();
  const limit = fdLimit();
  const notes: string[] = [];
  const counts = opt("conns", "10000").split(",").map(Number).map((n) => {
    if (n + 100 <= limit) return n;
    notes.push(`${n} connections asked for, ${limit - 100} measured: the fd limit is ${limit} ` +
      `(\`ulimit -Hn\`; raising it needs CAP_SYS_RESOURCE)`);
    return limit - 100;
  });
  const servers = SERVERS.filter((s) =>
    (ONLY.length === 0 || ONLY.includes(s.name)) && !SKIP.includes(s.name)
  );
  // `${server} ${n} ${0 | 1}` → bytes per connection at the early (0) and settled (1) reading
  const perConn = new Map<string, number[]>();
  const raw: (Sample & { round: number; early: number; byKind?: Record<string, number> })[] = [];
  for (let round = 1; round <= RUNS; round++) {
    for (const n of counts) {
      for (const server of servers) {
        const port = await freePort();
        let child: ChildProcess | undefined;
        try {
          child = await startServer(server.cmd, port, CPU, ROOT);
          await release(await openIdle(port, WARMUP_CONNS));
          await sleep(1);
          const before = rssBytes(child.pid!);
          const mapsBefore = SMAPS ? smapsByKind(child.pid!) : undefined;
          const client = await openIdle(port, n);
          await sleep(EARLY);
          const early = rssBytes(child.pid!);
          await sleep(SETTLE - EARLY);
          const after = rssBytes(child.pid!);
          const byKind = mapsBefore === undefined ? undefined : Object.fromEntries(
            Object.entries(smapsByKind(child.pid!)).map(([k, v]) => [k, v - mapsBefore[k]]),
          );
          await release(client);
          const bytes = [(early - before) / n, (after - before) / n];
          for (const [i, b] of bytes.entries()) {
            const key = `${server.name} ${n} ${i}`;
            perConn.set(key, [...(perConn.get(key) ?? []), b]);
          }
          raw.push({ server: server.name, conns: n, round, before, early, after, byKind });
          log(`== round ${round}/${RUNS} ${server.name} ${n}: ${bytes.map(Math.round).join(" / ")} ` +
            `B/conn (RSS ${(before / 2 ** 20).toFixed(1)} → ${(after / 2 ** 20).toFixed(1)} MiB)`);
        } catch (e) {
          notes.push(`${server.name}, ${n} connections, round ${round}: ${(e as Error).message}`);
          log(`== ${server.name} ${n}: failed (${(e as Error).message})`);
        } finally {
          if (child !== undefined) await stopServer(child);
        }
      }
    }
  }
  writeFileSync(`${BUILD}/memory_results.jsonl`, raw.map((r) => JSON.stringify(r)).join("\n") + "\n");

  const out = ["", `Server RSS growth per idle connection in bytes (each echoed 1 KiB once), median of ${RUNS} ` +
    `rounds, ${EARLY} s and ${SETTLE} s after the last connection; server pinned to CPU ${CPU}; ` +
    `${os.cpus().length} CPUs, Linux ${os.release()}.`, ""];
  const heads = counts.flatMap((n) => [EARLY, SETTLE].map((t) => `${n.toLocaleString("en")} conns, ${t} s`));
  out.push(`| server | ${heads.join(" | ")} |`);
  out.push(`|---|${heads.map(() => "---:").join("|")}|`);
  for (const s of servers) {
    const cells = counts.flatMap((n) => [0, 1].map((i) => {
      const xs = perConn.get(`${s.name} ${n} ${i}`);
      return xs ? Math.round(median(xs)).toLocaleString("en") : "n/a";
    }));
    out.push(`| ${s.name} | ${cells.join(" | ")} |`);
  }
  if (counts.length > 1) out.push("", ...fitTable(servers.map((s) => s.name), raw));
  if (SMAPS) {
    out.push("", `Where the settled growth went, bytes per connection by kind of mapping (smapsByKind), ` +
      `median of the rounds:`, "", `| server | conns | ${KINDS.join(" | ")} |`,
      `|---|---:|${KINDS.map(() => "---:").join("|")}|`);
    for (const s of servers) {
      for (const n of counts) {
        const rows = raw.filter((r) => r.server === s.name && r.conns === n && r.byKind);
        if (rows.length === 0) continue;
        const cells = KINDS.map((k) => Math.round(median(rows.map((r) => r.byKind![k] / n))).toLocaleString("en"));
        out.push(`| ${s.name} | ${n.toLocaleString("en")} | ${cells.join(" | ")} |`);
      }
    }
  }
  if (notes.length > 0) out.push("", ...notes.map((n) => `- ${n}`));
  console.log(out.join("\n"));
}

try {
  await main();
} finally {
  killAll();
}
