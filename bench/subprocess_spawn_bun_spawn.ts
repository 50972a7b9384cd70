/**
 * Bun.spawn for comparison with bench/subprocess_spawn.ts (same rows, same output format).
 *
 *   bun bench/subprocess_spawn_bun_spawn.ts [--json] [--n=200] [--reps=3]
 */
// deno-lint-ignore no-explicit-any
const Bun = (globalThis as any).Bun;
// deno-lint-ignore no-explicit-any
const argv: string[] = (globalThis as any).process.argv.slice(2);
const opt = (name: string, dflt: string) =>
  argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt;
const JSON_OUT = argv.includes("--json");
const N = Number(opt("n", "200"));
const REPS = Number(opt("reps", "3"));
const IMPL = "Bun.spawn";

async function exitOnly(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const proc = Bun.spawn(["/bin/true"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    if ((await proc.exited) !== 0) throw new Error("child failed");
  }
}

async function stdoutPipe(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const proc = Bun.spawn(["/bin/true"], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
    await new Response(proc.stdout).arrayBuffer();
    if ((await proc.exited) !== 0) throw new Error("child failed");
  }
}

const rows: [string, (n: number) => Promise<void>][] = [
  ["exit only", exitOnly],
  ["stdout pipe", stdoutPipe],
];
for (const [row, body] of rows) {
  await body(Math.max(1, Math.floor(N / 10)));
  const rates: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    await body(N);
    rates.push(N / ((performance.now() - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  const ops = Math.round(rates[Math.floor(rates.length / 2)]);
  console.log(JSON_OUT ? JSON.stringify({ impl: IMPL, row, ops }) : `${IMPL} ${row}: ${ops} children/s`);
}
