/**
 * Deno.Command for comparison with bench/subprocess_spawn.ts (same rows, same output format).
 *
 *   deno run -A bench/subprocess_spawn_deno_command.ts [--json] [--n=200] [--reps=3]
 */
const argv = Deno.args;
const opt = (name: string, dflt: string) =>
  argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt;
const JSON_OUT = argv.includes("--json");
const N = Number(opt("n", "200"));
const REPS = Number(opt("reps", "3"));
const IMPL = "Deno.Command";

async function exitOnly(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const child = new Deno.Command("/bin/true", { stdin: "null", stdout: "null", stderr: "null" })
      .spawn();
    if (!(await child.status).success) throw new Error("child failed");
  }
}

async function stdoutPipe(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const out = await new Deno.Command("/bin/true", { stdin: "null", stdout: "piped", stderr: "inherit" })
      .output();
    if (!out.success) throw new Error("child failed");
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
