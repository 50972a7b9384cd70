/**
 * The cost of an FFI call in this runtime, as aioloop binds it (ffi/runtime.ts openLibrary):
 * getpid(2) (FFI + one syscall) and abs(3) (FFI only, no kernel entry). Best of 5 runs, ns/call.
 *
 *   deno run -A bench/ffi_getpid.ts [--json]      bun bench/ffi_getpid.ts [--json]
 */
import { openLibrary } from "../ffi/runtime.ts";
import { libcPath } from "../ffi/libc.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const isBun = typeof g.Bun !== "undefined";
const IMPL = isBun ? "aioloop-bun" : "aioloop-deno";
const argv: string[] = isBun ? g.process.argv.slice(2) : g.Deno.args;
const JSON_OUT = argv.includes("--json");

const { getpid, abs } = openLibrary(libcPath, {
  getpid: { args: [], result: "i32" },
  abs: { args: ["i32"], result: "i32" },
}).symbols;

function measure(name: string, f: (i: number) => number, n: number): number {
  let best = Infinity;
  let sink = 0;
  for (let r = 0; r < 6; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) sink += f(i);
    const ns = ((performance.now() - t0) * 1e6) / n;
    if (r > 0 && ns < best) best = ns; // run 0 is the JIT warm-up
  }
  if (sink === 0.5) console.log(name); // keep the calls alive
  return best;
}

const rows: [string, number][] = [
  ["ffi getpid", measure("getpid", () => getpid(), 2_000_000)],
  ["ffi abs (no syscall)", measure("abs", (i) => abs(i & 0xffff), 5_000_000)],
];
for (const [row, ns] of rows) {
  if (JSON_OUT) console.log(JSON.stringify({ impl: IMPL, row, ns: Math.round(ns * 10) / 10 }));
  else console.log(`${IMPL}: ${row.padEnd(22)} ${ns.toFixed(1)} ns/call`);
}
