/** Every script in examples/ runs to completion on this runtime and prints what it should. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { runScriptCommand } from "../ffi/runtime.ts";

function runExample(name: string, env: Record<string, string> = {}) {
  const script = new URL(`../examples/${name}`, import.meta.url).pathname;
  const [exe, ...args] = runScriptCommand(script);
  const r = spawnSync(exe, args, {
    encoding: "utf8",
    timeout: 30000,
    env: { ...process.env, ...env },
  });
  assert.equal(r.status, 0, `${name} failed (status ${r.status}): ${r.stderr}`);
  return r.stdout;
}

test("hello_world.ts prints Hello World and stops", () => {
  assert.equal(runExample("hello_world.ts"), "Hello World\n");
});

test("display_date.ts prints the date five times at even intervals, then stops", () => {
  const start = Date.now();
  const out = runExample("display_date.ts", { AIOLOOP_DEMO_SECONDS: "0.5" });
  const dates = out.trim().split("\n").map((l) => Date.parse(l));
  assert.equal(dates.length, 5, out);
  for (const d of dates) assert.ok(d >= start - 1000 && d <= Date.now(), `odd date in ${out}`);
  for (let i = 1; i < dates.length; i++) {
    const gap = dates[i] - dates[i - 1];
    assert.ok(gap >= 95 && gap < 400, `gap ${gap} ms between lines`);
  }
});

test("watch_fd.ts receives abc through addReader", () => {
  assert.equal(runExample("watch_fd.ts"), "Received: abc\n");
});
