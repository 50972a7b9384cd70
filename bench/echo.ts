/**
 * Echo benchmark (the networking issue): every echo server in bench/echo/ against one C load
 * client, side by side, as one markdown table.
 *
 *   bash bench/run_echo.sh [options]            (= node_modules/.bin/deno run -A bench/echo.ts)
 *   node_modules/.bin/bun bench/echo.ts [options]
 *
 * Options: --runs=3 (median of this many runs per row), --duration=2 (seconds per run, after a
 * 0.5 s warm-up), --sizes=1024,10240,102400 (message bytes), --conns=10 (connections),
 * --only=c,uvloop-protocol,… / --skip=… (server names, see SERVERS), --server-cpu=0,
 * --client-cpu=1, --dear-syscalls=N (run every server under bench/echo/dear_syscalls.c, which
 * makes each of its system calls run N seccomp BPF instructions first: 8000 brings a C getpid
 * from ~0.14 µs to ~0.95 µs here, the 1.05 µs docs/DESIGN.md records on another of these VMs).
 *
 * Each server runs pinned to one CPU (taskset), the load client (bench/echo/load_client.c,
 * built here with gcc into bench/.build/) to the other. A server that does not print "ready"
 * within 20 s, or fails a short smoke run, is skipped with its error in a note under the table
 * (the aioloop rows, before the socket transports exist). Every server is killed at the end,
 * also on Ctrl-C. Raw results go to bench/.build/echo_results.jsonl. A second table gives, for
 * each io_uring row, its requests/s over its epoll twin's taken in the same round (the two run
 * back to back), median and range over the rounds: steadier than comparing medians. A third
 * table puts each aioloop server against issue 19's targets, per size and runtime, from
 * same-round ratios (medians over the rounds): Protocol / C (≥ 0.95) and / the runtime's
 * native server (Deno.listen, Bun.listen; ≥ 1), BufferedProtocol / C (≥ 1), streams / uvloop
 * streams (≥ 1), each also as server CPU per request (the reference's over this one's).
 *
 *   bash bench/run_echo.sh --sizes=1024,10240,102400 --only=c,uvloop-streams,Deno.listen,Bun.listen,aioloop-protocol-deno,aioloop-protocol-bun,aioloop-buffered-deno,aioloop-buffered-bun,aioloop-streams-deno,aioloop-streams-bun
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import { dirname } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { cpuSeconds, freePort, killAll, live, startServer, stopServer } from "./lib/servers.ts";
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
const DURATION = Number(opt("duration", "2"));
const SIZES = opt("sizes", "1024,10240,102400").split(",").map(Number);
const CONNS = Number(opt("conns", "10"));
const WARMUP = 0.5; // seconds of load before the client starts counting
const ONLY = opt("only", "").split(",").filter(Boolean);
const SKIP = opt("skip", "").split(",").filter(Boolean);
const SERVER_CPU = opt("server-cpu", "0");
const CLIENT_CPU = opt("client-cpu", "1");
const DEAR_SYSCALLS = Number(opt("dear-syscalls", "0"));

/** Every server: a name for the table and the command that starts it (PORT is substituted). */
const SERVERS: { name: string; cmd: string[] }[] = [
  { name: "c", cmd: [`${BUILD}/c_echo_server`, "PORT"] },
  { name: "uvloop-protocol", cmd: [PY, "bench/echo/py_server.py", "uvloop", "protocol", "PORT"] },
  { name: "uvloop-streams", cmd: [PY, "bench/echo/py_server.py", "uvloop", "streams", "PORT"] },
  { name: "asyncio-protocol", cmd: [PY, "bench/echo/py_server.py", "asyncio", "protocol", "PORT"] },
  { name: "asyncio-streams", cmd: [PY, "bench/echo/py_server.py", "asyncio", "streams", "PORT"] },
  {
    name: "aioloop-protocol-deno",
    cmd: [`${BIN}/deno`, "run", "-A", "bench/echo/aioloop_server.ts", "protocol", "PORT"],
  },
  {
    name: "aioloop-buffered-deno",
    cmd: [`${BIN}/deno`, "run", "-A", "bench/echo/aioloop_server.ts", "buffered", "PORT"],
  },
  {
    name: "aioloop-streams-deno",
    cmd: [`${BIN}/deno`, "run", "-A", "bench/echo/aioloop_server.ts", "streams", "PORT"],
  },
  { name: "aioloop-protocol-bun", cmd: [`${BIN}/bun`, "bench/echo/aioloop_server.ts", "protocol", "PORT"] },
  { name: "aioloop-buffered-bun", cmd: [`${BIN}/bun`, "bench/echo/aioloop_server.ts", "buffered", "PORT"] },
  { name: "aioloop-streams-bun", cmd: [`${BIN}/bun`, "bench/echo/aioloop_server.ts", "streams", "PORT"] },
  // The same aioloop servers on the io_uring ProactorEventLoop (AIOLOOP_LOOP=proactor).
  {
    name: "aioloop-protocol-deno-uring",
    cmd: ["env", "AIOLOOP_LOOP=proactor", `${BIN}/deno`, "run", "-A", "bench/echo/aioloop_server.ts", "protocol", "PORT"],
  },
  {
    name: "aioloop-buffered-deno-uring",
    cmd: ["env", "AIOLOOP_LOOP=proactor", `${BIN}/deno`, "run", "-A", "bench/echo/aioloop_server.ts", "buffered", "PORT"],
  },
  {
    name: "aioloop-streams-deno-uring",
    cmd: ["env", "AIOLOOP_LOOP=proactor", `${BIN}/deno`, "run", "-A", "bench/echo/aioloop_server.ts", "streams", "PORT"],
  },
  {
    name: "aioloop-protocol-bun-uring",
    cmd: ["env", "AIOLOOP_LOOP=proactor", `${BIN}/bun`, "bench/echo/aioloop_server.ts", "protocol", "PORT"],
  },
  {
    name: "aioloop-buffered-bun-uring",
    cmd: ["env", "AIOLOOP_LOOP=proactor", `${BIN}/bun`, "bench/echo/aioloop_server.ts", "buffered", "PORT"],
  },
  {
    name: "aioloop-streams-bun-uring",
    cmd: ["env", "AIOLOOP_LOOP=proactor", `${BIN}/bun`, "bench/echo/aioloop_server.ts", "streams", "PORT"],
  },
  { name: "node:net-deno", cmd: [`${BIN}/deno`, "run", "-A", "bench/echo/node_net_server.ts", "PORT"] },
  { name: "node:net-bun", cmd: [`${BIN}/bun`, "bench/echo/node_net_server.ts", "PORT"] },
  { name: "Deno.listen", cmd: [`${BIN}/deno`, "run", "-A", "bench/echo/deno_listen_server.ts", "PORT"] },
  { name: "Bun.listen", cmd: [`${BIN}/bun`, "bench/echo/bun_listen_server.ts", "PORT"] },
];

interface Result {
  rps: number;
  p50_us: number;
  p99_us: number;
  /** The server's CPU time (user + system, all threads) per request, in µs. */
  cpu_us?: number;
}

/** One run of one server at one size, as written to echo_results.jsonl. */
type RoundResult = Result & { server: string; round: number; size: number };

function log(line: string): void {
  process.stderr.write(line + "\n");
}

function build(): void {
  spawnSync("mkdir", ["-p", BUILD]);
  for (const src of ["echo/load_client", "echo/c_echo_server", "echo/dear_syscalls", "getpid"]) {
    const name = src.split("/").pop()!;
    const r = spawnSync("gcc", ["-O2", "-o", `${BUILD}/${name}`, `${ROOT}/bench/${src}.c`], {
      stdio: "inherit",
    });
    if (r.status !== 0) throw new Error(`gcc failed on bench/${src}.c`);
  }
}

/** A server's command, under the syscall-cost wrapper when --dear-syscalls is given. */
function serverCommand(cmd: string[]): string[] {
  return DEAR_SYSCALLS > 0 ? [`${BUILD}/dear_syscalls`, String(DEAR_SYSCALLS), ...cmd] : cmd;
}

/** The cost of one system call (C getpid loop), in ns, under the wrapper with `insns`. */
function getpidNs(insns: number): number {
  const r = spawnSync(`${BUILD}/dear_syscalls`, [String(insns), `${BUILD}/getpid`, "500000"], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`getpid under dear_syscalls failed: ${r.stderr}`);
  return JSON.parse(r.stdout).ns;
}

/** One load-client run pinned to CLIENT_CPU; rejects with the client's error. */
function load(port: number, size: number, duration: number, conns: number, warmup: number) {
  return new Promise<Result>((resolve, reject) => {
    const child = spawn("taskset", [
      "-c", CLIENT_CPU, `${BUILD}/load_client`, "127.0.0.1", String(port), `--conns=${conns}`,
      `--size=${size}`, `--duration=${duration}`, `--warmup=${warmup}`,
    ], { stdio: ["ignore", "pipe", "pipe"] });
    live.add(child);
    let out = "", err = "";
    child.stdout!.on("data", (d: Uint8Array) => (out += String(d)));
    child.stderr!.on("data", (d: Uint8Array) => (err += String(d)));
    child.on("exit", (code) => {
      live.delete(child);
      if (code === 0) resolve(JSON.parse(out));
      else reject(new Error(err.trim() || `load_client exited with ${code}`));
    });
  });
}

function sizeLabel(n: number): string {
  return n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`;
}

function version(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return (r.stdout ?? "").trim().split("\n")[0] ?? "?";
}

async function main(): Promise<void> {
  build();
  const servers = SERVERS.filter((s) =>
    (ONLY.length === 0 || ONLY.includes(s.name)) && !SKIP.includes(s.name)
  );
  const results = new Map<string, Result[]>(); // `${server} ${size}` → one Result per round
  const failed = new Map<string, string>(); // server → why it was dropped (did not start)
  const notes: string[] = []; // runs that failed; the server stays in later rounds
  const raw: RoundResult[] = []; // every run, in order
  // Rounds go over every server in turn (a fresh process each round), so a burst of load from
  // elsewhere on the machine lands on one run of several servers, not on every run of one.
  for (let round = 1; round <= RUNS; round++) {
    for (const server of servers) {
      if (failed.has(server.name)) continue;
      const port = await freePort();
      let child: ChildProcess;
      try {
        child = await startServer(serverCommand(server.cmd), port, SERVER_CPU, ROOT);
      } catch (e) {
        failed.set(server.name, `skipped, ${(e as Error).message}`);
        log(`== ${server.name}: skipped (${(e as Error).message})`);
        continue;
      }
      let step = "smoke run";
      try {
        await load(port, 1024, 0.3, 2, 0.1); // does it echo at all?
        for (const size of SIZES) {
          step = sizeLabel(size);
          const cpuBefore = cpuSeconds(child.pid!);
          const res = await load(port, size, DURATION, CONNS, WARMUP);
          // The server worked through the warm-up too: spread its CPU over both periods.
          res.cpu_us = (cpuSeconds(child.pid!) - cpuBefore) * 1e6 / (res.rps * (DURATION + WARMUP));
          const key = `${server.name} ${size}`;
          results.set(key, [...(results.get(key) ?? []), res]);
          raw.push({ server: server.name, round, size, ...res });
          log(`== round ${round}/${RUNS} ${server.name} ${sizeLabel(size)}: ${res.rps} req/s, ` +
            `p50 ${res.p50_us} µs, p99 ${res.p99_us} µs`);
        }
      } catch (e) {
        // Kept for the next round: one stall should show in the notes, not hide the row.
        notes.push(`${server.name}: round ${round}, ${step} failed: ${(e as Error).message}`);
        log(`== round ${round}/${RUNS} ${server.name}: ${step} failed (${(e as Error).message})`);
      } finally {
        await stopServer(child);
      }
    }
  }
  const rows = new Map<string, Result>();
  for (const [key, runs] of results) {
    rows.set(key, {
      rps: median(runs.map((x) => x.rps)),
      p50_us: median(runs.map((x) => x.p50_us)),
      p99_us: median(runs.map((x) => x.p99_us)),
      cpu_us: median(runs.map((x) => x.cpu_us ?? NaN)),
    });
  }
  for (const [name, why] of failed) notes.push(`${name}: ${why}`);
  writeFileSync(`${BUILD}/echo_results.jsonl`, raw.map((r) => JSON.stringify(r)).join("\n") + "\n");

  const out: string[] = [];
  out.push("");
  out.push(`Echo benchmark: ${CONNS} connections ping-ponging one message each, median of ${RUNS} ` +
    `runs of ${DURATION} s; server pinned to CPU ${SERVER_CPU}, C load client to CPU ` +
    `${CLIENT_CPU}; ${os.cpus().length} CPUs, Linux ${os.release()}; ` +
    `deno ${version(`${BIN}/deno`, ["--version"]).split(" ")[1]}, ` +
    `bun ${version(`${BIN}/bun`, ["--version"])}, ` +
    `${version(PY, ["-c", "import sys,uvloop;print('python',sys.version.split()[0],'uvloop',uvloop.__version__)"])}.`);
  if (DEAR_SYSCALLS > 0) {
    out.push("");
    out.push(`Every server ran under bench/echo/dear_syscalls.c with ${DEAR_SYSCALLS} BPF ` +
      `instructions per system call: a C getpid took ${getpidNs(DEAR_SYSCALLS).toFixed(0)} ns ` +
      `under it, ${getpidNs(0).toFixed(0)} ns without.`);
  }
  out.push("");
  out.push("| server | size | requests/s | p50 µs | p99 µs | vs C | server CPU µs/req |");
  out.push("|---|---:|---:|---:|---:|---:|---:|");
  for (const size of SIZES) {
    const c = rows.get(`c ${size}`);
    for (const server of servers) {
      const r = rows.get(`${server.name} ${size}`);
      if (r === undefined) continue;
      const ratio = c ? `${(r.rps / c.rps).toFixed(2)}x` : "n/a";
      const n = results.get(`${server.name} ${size}`)!.length;
      const name = n < RUNS ? `${server.name} (${n} of ${RUNS} runs)` : server.name;
      out.push(`| ${name} | ${sizeLabel(size)} | ${Math.round(r.rps).toLocaleString("en")} | ` +
        `${r.p50_us.toFixed(0)} | ${r.p99_us.toFixed(0)} | ${ratio} | ${r.cpu_us!.toFixed(1)} |`);
    }
  }
  out.push("");
  out.push("p99 on a shared VM mostly measures the scheduler: a few-ms tail is another process " +
    "holding the CPU, so compare requests/s and p50 first. Server CPU µs/req (utime + stime " +
    "of the server process over the run, warm-up included) is the steadiest column when the " +
    "machine is not idle.");
  out.push(...uringRatios(servers.map((s) => s.name), raw));
  out.push(...targetRatios(raw));
  if (notes.length > 0) {
    out.push("");
    for (const n of notes) out.push(`- ${n}`);
  }
  console.log(out.join("\n"));
}

/**
 * Table lines: each io_uring row's requests/s over its epoll twin's (the name without "-uring")
 * in the same round, median and range over the rounds where both ran.
 */
function uringRatios(names: string[], raw: RoundResult[]): string[] {
  const rps = new Map<string, number>(); // `${server} ${size} ${round}` → requests/s
  for (const r of raw) rps.set(`${r.server} ${r.size} ${r.round}`, r.rps);
  const lines: string[] = [];
  for (const uring of names.filter((n) => n.endsWith("-uring") && names.includes(n.slice(0, -6)))) {
    const epoll = uring.slice(0, -6);
    for (const size of SIZES) {
      const ratios: number[] = [];
      for (let round = 1; round <= RUNS; round++) {
        const a = rps.get(`${uring} ${size} ${round}`), b = rps.get(`${epoll} ${size} ${round}`);
        if (a !== undefined && b !== undefined) ratios.push(a / b);
      }
      if (ratios.length === 0) continue;
      const lo = Math.min(...ratios).toFixed(2), hi = Math.max(...ratios).toFixed(2);
      lines.push(`| ${uring} / ${epoll} | ${sizeLabel(size)} | ${median(ratios).toFixed(2)} | ` +
        `${lo}–${hi} | ${ratios.length} |`);
    }
  }
  if (lines.length === 0) return [];
  return ["", "io_uring loop over epoll loop, requests/s taken in the same round:", "",
    "| servers | size | median ratio | range | rounds |", "|---|---|---:|---:|---:|", ...lines];
}

/** Issue 19's targets: [label, server, reference, goal]; `*` is the runtime (deno, bun). */
const TARGETS: [string, string, string, number][] = [
  ["Protocol / C", "aioloop-protocol-*", "c", 0.95],
  ["Protocol / native", "aioloop-protocol-*", "native-*", 1],
  ["BufferedProtocol / C", "aioloop-buffered-*", "c", 1],
  ["streams / uvloop streams", "aioloop-streams-*", "uvloop-streams", 1],
];
const NATIVE: Record<string, string> = { deno: "Deno.listen", bun: "Bun.listen" };

/**
 * Table lines: for each target, size and runtime, the server's requests/s over its reference's
 * in the same round, median over the rounds where both ran (and whether it meets the goal).
 */
function targetRatios(raw: RoundResult[]): string[] {
  const byKey = new Map<string, RoundResult>(); // `${server} ${size} ${round}` → that run
  for (const r of raw) byKey.set(`${r.server} ${r.size} ${r.round}`, r);
  const lines: string[] = [];
  for (const [label, serverPattern, refPattern, goal] of TARGETS) {
    for (const runtime of ["deno", "bun"]) {
      const server = serverPattern.replace("*", runtime);
      const ref = refPattern === "native-*" ? NATIVE[runtime] : refPattern;
      const cells = SIZES.map((size) => {
        const ratios: number[] = [], cpu: number[] = [];
        for (let round = 1; round <= RUNS; round++) {
          const a = byKey.get(`${server} ${size} ${round}`), b = byKey.get(`${ref} ${size} ${round}`);
          if (a === undefined || b === undefined) continue;
          ratios.push(a.rps / b.rps);
          cpu.push(b.cpu_us! / a.cpu_us!);
        }
        if (ratios.length === 0) return "n/a";
        const m = median(ratios);
        return `${m.toFixed(2)}x${m >= goal ? "" : " (short)"}, CPU ${median(cpu).toFixed(2)}x`;
      });
      if (cells.every((c) => c === "n/a")) continue;
      lines.push(`| ${label} (≥ ${goal}) | ${runtime} | ${cells.join(" | ")} |`);
    }
  }
  if (lines.length === 0) return [];
  return ["", "Against issue 19's targets: requests/s over the reference's in the same round, and " +
    "CPU: the reference's server CPU per request over this server's (above 1: this one spends " +
    "less per request; steadier than requests/s on a loaded machine); medians over the rounds:", "",
    `| ratio | runtime | ${SIZES.map(sizeLabel).join(" | ")} |`,
    `|---|---|${SIZES.map(() => "---:").join("|")}|`, ...lines];
}

try {
  await main();
} finally {
  killAll();
}
