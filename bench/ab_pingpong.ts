/**
 * Before/after for changes worth a few per cent: loop_micro's "add_reader ping-pong" row run on
 * two or more checkouts of aioloop *in one process*, the trees taking turns every ~0.3 s, and
 * the median of each pair's own ratio. Process to process, this VM's speed drifts by ±20 % in
 * a minute (bench/README.md), more than such a change; runs ~0.3 s apart in one process share
 * most of the drift. Give the same tree twice to see the resolution: on this VM, 41 rounds of
 * one tree against a copy of itself gave 0.998× (single pairs 0.69–1.40×), so a change under
 * ~3 % does not show.
 *
 * Each tree gets its own copy of the benchmark function (a module written to a temporary
 * directory that imports that tree's mod.ts), so that no call site sees two trees' classes:
 * one shared function would be polymorphic and slow both trees alike.
 *
 *   taskset -c 1 deno run -A bench/ab_pingpong.ts TREE_A TREE_B [--rounds=25] [--trips=100000]
 *   taskset -c 1 bun bench/ab_pingpong.ts TREE_A TREE_B [--rounds=25]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { median } from "./lib/stats.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const argv: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const option = (name: string, fallback: number) =>
  Number(argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const trees = argv.filter((a) => !a.startsWith("--")).map((t) => resolve(t));
if (trees.length < 2) throw new Error("usage: ab_pingpong.ts TREE_A TREE_B [...] [--rounds=25] [--trips=100000]");
const ROUNDS = option("rounds", 25);
const TRIPS = option("trips", 100_000);

/** loop_micro.ts's pingPong, bound to one tree's mod.ts. */
const benchSource = (modUrl: string) => `
import { newEventLoop, socketpair } from ${JSON.stringify(modUrl)};
export async function pingPong(n) {
  const loop = newEventLoop();
  const [a, b] = socketpair();
  a.setBlocking(false);
  b.setBlocking(false);
  const byte = new Uint8Array([120]), inbox = new Uint8Array(1);
  let trips = 0;
  loop.addReader(a, () => { a.recvInto(inbox, 1); if (++trips < n) a.send(byte); else loop.stop(); });
  loop.addReader(b, () => { b.recvInto(inbox, 1); b.send(byte); });
  const t0 = performance.now();
  a.send(byte);
  await loop.runForever();
  const seconds = (performance.now() - t0) / 1000;
  loop.removeReader(a);
  loop.removeReader(b);
  a.close();
  b.close();
  loop.close();
  if (trips !== n) throw new Error("ping-pong: " + trips + " of " + n);
  return n / seconds;
}
`;

const dir = mkdtempSync(join(tmpdir(), "aioloop-ab-"));
type Bench = { pingPong(n: number): Promise<number> };
let benches: Bench[];
try {
  benches = await Promise.all(trees.map((tree, i) => {
    const file = join(dir, `tree${i}.js`);
    writeFileSync(file, benchSource(pathToFileURL(join(tree, "mod.ts")).href));
    return import(pathToFileURL(file).href) as Promise<Bench>;
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

for (const b of benches) for (let i = 0; i < 2; i++) await b.pingPong(TRIPS); // warm-up
const rates: number[][] = trees.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  // The order rotates each round, so that no tree always runs first after the other.
  for (let k = 0; k < trees.length; k++) {
    const i = (k + r) % trees.length;
    rates[i]!.push(await benches[i]!.pingPong(TRIPS));
  }
}

console.log(`add_reader ping-pong ${TRIPS} round trips, ${ROUNDS} rounds in one process, trees in turn`);
console.log("| tree | median round trips/s | median of paired ratios to the first | range |");
console.log("|---|---:|---:|---:|");
trees.forEach((tree, i) => {
  const ratios = rates[i]!.map((v, k) => v / rates[0]![k]!);
  console.log(
    `| ${tree} | ${Math.round(median(rates[i]!)).toLocaleString("en-US")} | ${median(ratios).toFixed(3)}x | ` +
      `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}x |`,
  );
});
