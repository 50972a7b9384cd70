/**
 * TLS echo benchmark (issue 6): aioloop's TLS (OpenSSL over a BIO pair's rings, through FFI) against
 * Deno's and Bun's native TLS servers and Python asyncio/uvloop with the ssl module, in the same
 * run, as one markdown table.
 *
 *   node_modules/.bin/deno run -A bench/tls/run_tls.ts [--runs=3] [--duration=2]
 *     [--sizes=1024,102400] [--conns=10] [--only=name,…] [--server-cpu=0] [--client-cpu=1]
 *
 * Builds bench/tls/tls_load_client.c with gcc (-lssl -lcrypto: needs libssl-dev) and a
 * throwaway self-signed EC P-256 certificate (openssl CLI) into bench/.build/ (never committed).
 * Each round starts every server afresh, in turn, pinned to one CPU; the load client runs
 * pinned to the other (the VM's speed drifts), and each cell is the median over the rounds.
 * Needs /usr/bin/python3 with uvloop (env PY= picks another Python).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { cpuSeconds, freePort, killAll, startServer, stopServer } from "../lib/servers.ts";

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const BIN = `${ROOT}/node_modules/.bin`;
const BUILD = `${ROOT}/bench/.build`;
const CERT = `${BUILD}/tls/cert.pem`, KEY = `${BUILD}/tls/key.pem`;
const PY = process.env.PY ?? "/usr/bin/python3";

function opt(name: string, dflt: string): string {
  const hit = process.argv.slice(2).find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? dflt : hit.slice(name.length + 3);
}
const RUNS = Number(opt("runs", "3"));
const DURATION = Number(opt("duration", "2"));
const SIZES = opt("sizes", "1024,102400").split(",").map(Number);
const CONNS = Number(opt("conns", "10"));
const WARMUP = 0.5; // seconds of load before the client starts counting
const ONLY = opt("only", "").split(",").filter(Boolean);
const SERVER_CPU = opt("server-cpu", "0");
const CLIENT_CPU = opt("client-cpu", "1");

const aioloop = (rt: "deno" | "bun", kind: string) =>
  rt === "deno"
    ? [`${BIN}/deno`, "run", "-A", "bench/tls/aioloop_tls_server.ts", kind, "PORT", CERT, KEY]
    : [`${BIN}/bun`, "bench/tls/aioloop_tls_server.ts", kind, "PORT", CERT, KEY];
const python = (loop: string, kind: string) =>
  [PY, "bench/tls/py_tls_server.py", loop, kind, "PORT", CERT, KEY];

const SERVERS: { name: string; cmd: string[] }[] = [
  { name: "aioloop-protocol-deno", cmd: aioloop("deno", "protocol") },
  { name: "aioloop-buffered-deno", cmd: aioloop("deno", "buffered") },
  { name: "aioloop-streams-deno", cmd: aioloop("deno", "streams") },
  { name: "aioloop-protocol-bun", cmd: aioloop("bun", "protocol") },
  { name: "aioloop-buffered-bun", cmd: aioloop("bun", "buffered") },
  { name: "aioloop-streams-bun", cmd: aioloop("bun", "streams") },
  { name: "Deno.listenTls", cmd: [`${BIN}/deno`, "run", "-A", "bench/tls/deno_tls_server.ts", "PORT", CERT, KEY] },
  { name: "Bun.listen-tls", cmd: [`${BIN}/bun`, "bench/tls/bun_tls_server.ts", "PORT", CERT, KEY] },
  { name: "uvloop-protocol", cmd: python("uvloop", "protocol") },
  { name: "uvloop-streams", cmd: python("uvloop", "streams") },
  { name: "asyncio-protocol", cmd: python("asyncio", "protocol") },
  { name: "asyncio-streams", cmd: python("asyncio", "streams") },
].filter((s) => ONLY.length === 0 || ONLY.includes(s.name));

interface Result {
  rps: number;
  p50_us: number;
  p99_us: number;
  /** The server's CPU time per request (µs), warm-up included. */
  cpu_us?: number;
}


const log = (line: string) => process.stderr.write(line + "\n");

function prepare(): void {
  mkdirSync(`${BUILD}/tls`, { recursive: true });
  const cc = spawnSync("gcc", ["-O2", "-o", `${BUILD}/tls_load_client`, `${ROOT}/bench/tls/tls_load_client.c`,
    "-lssl", "-lcrypto"], { stdio: "inherit" });
  if (cc.status !== 0) throw new Error("gcc failed on bench/tls/tls_load_client.c (needs libssl-dev)");
  const cert = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
    "-nodes", "-keyout", KEY, "-out", CERT, "-days", "7", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], { stdio: ["ignore", "ignore", "inherit"] });
  if (cert.status !== 0) throw new Error("openssl req failed");
}

function load(port: number, size: number, duration: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn("taskset", ["-c", CLIENT_CPU, `${BUILD}/tls_load_client`, "127.0.0.1", String(port),
      `--conns=${CONNS}`, `--size=${size}`, `--duration=${duration}`, `--warmup=${WARMUP}`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "", err = "";
    child.stdout!.on("data", (d: Uint8Array) => (out += String(d)));
    child.stderr!.on("data", (d: Uint8Array) => (err += String(d)));
    child.on("exit", (code) => {
      if (code === 0) resolve(JSON.parse(out) as Result);
      else reject(new Error(err.trim().split("\n")[0] || `load client exited ${code}`));
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const sizeName = (n: number) => (n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`);

prepare();
// Rounds go over every server in turn, a fresh process each round (as bench/echo.ts): a burst
// of load from elsewhere lands on one run of several servers, and the process-to-process
// spread of the JS runtimes (fresh-memory costs, bench/README.md) shows in the median instead
// of one process deciding a row.
const started = new Set<string>();
const notes: string[] = [];
const results = new Map<string, Result[]>();
for (let round = 1; round <= RUNS; round++) {
  for (const s of SERVERS) {
    const port = await freePort();
    let child: ChildProcess;
    try {
      child = await startServer(s.cmd, port, SERVER_CPU, ROOT);
      await load(port, 1024, 0.2); // smoke run
    } catch (e) {
      notes.push(`${s.name} round ${round}: not started (${(e as Error).message})`);
      log(`skipped ${s.name}: ${(e as Error).message}`);
      continue;
    }
    started.add(s.name);
    for (const size of SIZES) {
      try {
        const cpuBefore = cpuSeconds(child.pid!);
        const r = await load(port, size, DURATION);
        r.cpu_us = (cpuSeconds(child.pid!) - cpuBefore) * 1e6 / (r.rps * (DURATION + WARMUP));
        const key = `${s.name}|${size}`;
        results.set(key, [...(results.get(key) ?? []), r]);
        log(`round ${round} ${sizeName(size)} ${s.name}: ${fmt(r.rps)} req/s, p50 ${r.p50_us.toFixed(0)} µs`);
      } catch (e) {
        notes.push(`${s.name} ${sizeName(size)} round ${round}: ${(e as Error).message}`);
      }
    }
    await stopServer(child);
  }
}
killAll();

const cell = (name: string, size: number, f: (r: Result) => number) => {
  const rs = results.get(`${name}|${size}`);
  return rs && rs.length ? median(rs.map(f)) : NaN;
};
const header = ["server", ...SIZES.flatMap((s) => [`${sizeName(s)} req/s`, `${sizeName(s)} p50 µs`, `${sizeName(s)} p99 µs`, `${sizeName(s)} CPU µs/req`])];
const lines = [
  `TLS echo, ${CONNS} connections ping-ponging one message each, TLS 1.3, median of ${RUNS} rounds × ${DURATION} s, a fresh server process each round; ` +
  `server on CPU ${SERVER_CPU}, C load client (OpenSSL) on CPU ${CLIENT_CPU}`,
  "",
  `| ${header.join(" | ")} |`,
  `|---|${header.slice(1).map(() => "---:").join("|")}|`,
];
for (const { name } of SERVERS) {
  if (!started.has(name)) continue;
  const cols = SIZES.flatMap((s) => [
    fmt(cell(name, s, (r) => r.rps)), cell(name, s, (r) => r.p50_us).toFixed(0), cell(name, s, (r) => r.p99_us).toFixed(0),
    cell(name, s, (r) => r.cpu_us!).toFixed(1),
  ]);
  lines.push(`| ${name} | ${cols.join(" | ")} |`);
}
if (notes.length) lines.push("", ...notes.map((n) => `- ${n}`));
console.log(lines.join("\n"));
process.exit(0);
