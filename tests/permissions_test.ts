/**
 * Deno's permissions, as README's "Permissions" paragraph states them: the loop's timers,
 * sockets, signals, subprocesses (inheriting this process's environment) and TLS need only
 * --allow-ffi (tests/fixtures/ffi_only.ts, run with nothing else). On Bun, which has no
 * permissions, the same script runs, and a child sees process.env changes made in JS.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { isWindows } from "../ffi/runtime.ts";

const root = new URL("..", import.meta.url).pathname;
const fixture = join(root, "tests", "fixtures", "ffi_only.ts");
const bin = join(root, "node_modules", ".bin");

function runFixture(exe: string, args: string[]): string {
  const r = spawnSync(exe, [...args, fixture], {
    cwd: root,
    encoding: "utf8",
    timeout: 60000,
    env: { ...process.env, NO_COLOR: "1", AIOLOOP_PERMISSION_PROBE: "from parent" },
  });
  assert.equal(r.status, 0, `${exe} ${args.join(" ")} failed (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const skip = isWindows ? "POSIX subprocess and signals (sh, kill, SIGUSR1)" : false;

test("Deno with only --allow-ffi: timers, TCP, signals, subprocess with the inherited env, TLS", { skip }, () => {
  const out = runFixture(join(bin, "deno"), ["run", "--allow-ffi", "--no-prompt"]);
  assert.equal(out, [
    "timer ok", "echo ok", "signal ok", "child env: from parent|", "tls context ok", "",
  ].join("\n"));
});

test("Bun: the same script; a child inherits process.env as changed in JS", { skip }, () => {
  const out = runFixture(join(bin, "bun"), []);
  assert.equal(out, [
    "timer ok", "echo ok", "signal ok", "child env: from parent|set here", "tls context ok", "",
  ].join("\n"));
});
