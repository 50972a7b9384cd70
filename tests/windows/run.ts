/**
 * The Windows suite: the IOCP Proactor (platform/windows.ts) on real Winsock and kernel32,
 * run by Bun's Windows build (under Wine on Linux CI: scripts/windows/run_tests.sh).
 *
 * Not a `*_test.ts` file on purpose: the Linux runners (deno test, bun test) must not collect
 * it. It has its own small harness: each case runs with a time limit, failures print their
 * stack, the process exits 1 if any failed. `bun tests/windows/run.ts [name-filter]`.
 */
import { BaseEventLoop } from "../../loop/base_loop.ts";
import { osName, runtimeName } from "../../ffi/runtime.ts";
import { proactorCases } from "./proactor_cases.ts";
import { loopCases } from "./loop_cases.ts";
import { networkCases } from "./network_cases.ts";
import { processCases } from "./process_cases.ts";

export type Case = [name: string, fn: () => Promise<void> | void];

const filter = (globalThis as { process?: { argv: string[] } }).process?.argv[2] ?? "";
const cases: Case[] = [...proactorCases, ...loopCases, ...networkCases, ...processCases].filter(([name]) => name.includes(filter));
let passed = 0, failed = 0;
console.log(`# Windows suite on ${runtimeName} (${osName}), ${cases.length} cases`);
void BaseEventLoop; // the loop layer must import on Windows
for (const [name, fn] of cases) {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(fn),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("timed out after 20 s")), 20_000);
      }),
    ]);
    passed++;
    console.log(`ok   ${name} (${(performance.now() - started).toFixed(0)} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n${e instanceof Error ? e.stack : String(e)}`);
  } finally {
    clearTimeout(timer);
  }
}
console.log(`windows: ${passed} passed, ${failed} failed`);
(globalThis as { process?: { exit(code: number): void } }).process?.exit(failed ? 1 : 0);
