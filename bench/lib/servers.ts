/**
 * Server processes for the benchmark runners (bench/echo.ts, bench/tls/run_tls.ts): a free
 * port, a server started pinned to a CPU and ready, and every child killed when the runner
 * exits or is interrupted.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import process from "node:process";

/** Children still running; killed on exit and on Ctrl-C. */
export const live: Set<ChildProcess> = new Set();

/** Kill every child still running. */
export function killAll(): void {
  for (const child of live) child.kill("SIGKILL");
  live.clear();
}
process.on("SIGINT", () => {
  killAll();
  process.exit(130);
});
process.on("exit", killAll);

/** A port nobody listens on right now (the kernel's pick for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Start `cmd` (its "PORT" argument replaced by `port`) pinned to `cpu` in `cwd`; resolves once
 * it printed a line "ready", rejects otherwise (after stopping it) with stderr's telling line.
 */
export function startServer(
  cmd: string[],
  port: number,
  cpu: string,
  cwd: string,
): Promise<ChildProcess> {
  const argv = cmd.map((a) => (a === "PORT" ? String(port) : a));
  const child = spawn("taskset", ["-c", cpu, ...argv], {
    cwd,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  let out = "", err = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail("did not print \"ready\" within 20 s"), 20_000);
    function fail(why: string): void {
      clearTimeout(timer);
      stopServer(child);
      // The first line naming an error says most; else the last lines of stderr.
      // Colours (ESC [ … m) stripped first.
      // deno-lint-ignore no-control-regex
      const lines = err.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim())
        .filter(Boolean);
      const first = lines.findIndex((l) => /error/i.test(l));
      const tail = (first >= 0 ? lines.slice(first, first + 2) : lines.slice(-3)).join(" | ");
      reject(new Error(tail ? `${why}: ${tail}` : why));
    }
    child.stdout!.on("data", (d: Uint8Array) => {
      out += String(d);
      if (/^ready$/m.test(out)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr!.on("data", (d: Uint8Array) => {
      err = (err + String(d)).slice(-4000);
    });
    child.on("exit", (code, signal) => fail(`exited (${signal ?? code}) before "ready"`));
    child.on("error", (e) => fail(String(e)));
  });
}

/** SIGTERM a server, SIGKILL after 2 s; resolves once it exited. */
export async function stopServer(child: ChildProcess): Promise<void> {
  if (!live.has(child)) return;
  live.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
  await exited;
  clearTimeout(timer);
}

/** Clock ticks per second of /proc/<pid>/stat's times (sysconf(_SC_CLK_TCK)). */
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;

/**
 * CPU time a process has used so far, in seconds: utime + stime, fields 14 and 15 of
 * /proc/<pid>/stat (proc(5)), counted over all its threads. Unlike requests/s this hardly
 * moves when other processes share the server's CPU, so it compares servers on a busy machine.
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from 3 on
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}
