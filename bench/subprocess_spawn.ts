/**
 * Subprocess spawn-to-exit rate on aioloop (issue 5): N children of /bin/true in a row, each
 * started with createSubprocessExec and awaited, through the public API only (../mod.ts).
 * subprocess_spawn.py does the same on asyncio, subprocess_spawn_deno_command.ts and
 * subprocess_spawn_bun_spawn.ts on the runtimes' own APIs; subprocess_spawn_run.sh runs them
 * all in one go and prints one table.
 *
 *   deno run -A bench/subprocess_spawn.ts [--json] [--n=200] [--reps=3]
 *   bun bench/subprocess_spawn.ts         [--json] [--n=200] [--reps=3]
 *
 * Rows: "exit only" (stdin/stdout/stderr on /dev/null, then wait()) and "stdout pipe"
 * (stdout piped and read to EOF with communicate(), then the exit). ops = children per second,
 * median of --reps repetitions after a warm-up of n/10 children.
 */
import { createSubprocessExec, DEVNULL, newEventLoop, PIPE } from "../mod.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const isBun = typeof g.Bun !== "undefined";
const IMPL = isBun ? "aioloop-bun" : "aioloop-deno";
const argv: string[] = isBun ? g.process.argv.slice(2) : g.Deno.args;
const opt = (name: string, dflt: string) =>
  argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt;
const JSON_OUT = argv.includes("--json");
const N = Number(opt("n", "200"));
const REPS = Number(opt("reps", "3"));

async function exitOnly(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const proc = await createSubprocessExec("/bin/true", {
      stdin: DEVNULL, stdout: DEVNULL, stderr: DEVNULL,
    });
    if ((await proc.wait()) !== 0) throw new Error("child failed");
  }
}

async function stdoutPipe(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const proc = await createSubprocessExec("/bin/true", { stdin: DEVNULL, stdout: PIPE });
    await proc.communicate();
    if (proc.returncode !== 0) throw new Error("child failed");
  }
}

const rows: [string, (n: number) => Promise<void>][] = [
  ["exit only", exitOnly],
  ["stdout pipe", stdoutPipe],
];

const loop = newEventLoop();
for (const [row, body] of rows) {
  await loop.runUntilComplete(() => body(Math.max(1, Math.floor(N / 10))));
  const rates: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    await loop.runUntilComplete(() => body(N));
    rates.push(N / ((performance.now() - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  const ops = Math.round(rates[Math.floor(rates.length / 2)]);
  console.log(JSON_OUT ? JSON.stringify({ impl: IMPL, row, ops }) : `${IMPL} ${row}: ${ops} children/s`);
}
loop.close();
