/**
 * The Proactor contract suite (tests/platform/proactor_contract.ts) run on this OS's engine (io_uring on
 * Linux; skipped with the reason where it cannot run), on a JS model of a proactor
 * (tests/fixtures/fake_proactor.ts), and on models that each break one rule: those must fail
 * the case that checks that rule, which shows the suite can fail.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isWindows } from "../../ffi/runtime.ts";
import { defaultProactor, proactorUnavailableReason } from "../../platform/default_proactor.ts";
import { CancelsTwice, DeliversFromPark, FakeProactor, LetsTargetsThrow, SubmitsAtOnce } from "../fixtures/fake_proactor.ts";
import { proactorCases, proactorContract, runProactorCase } from "./proactor_contract.ts";

const why = proactorUnavailableReason();
if (why) console.log(`proactor_contract_test: ${why}`);
proactorContract("default proactor", defaultProactor, why ?? false);

const noFake = isWindows ? "the model proactor uses POSIX non-blocking calls" : false;
proactorContract("model proactor", () => new FakeProactor(), noFake);

/** The titles of the cases that fail on proactors from `create`. */
async function failingCases(create: () => FakeProactor): Promise<string[]> {
  const failed: string[] = [];
  for (const c of proactorCases) {
    try {
      await runProactorCase(create, c);
    } catch {
      failed.push(c.title);
    }
  }
  return failed;
}

test("the suite fails on a proactor that delivers completions from park()", { skip: noFake }, async () => {
  const failed = await failingCases(() => new DeliversFromPark());
  assert.ok(failed.some((t) => t.startsWith("recv: one completion")), `failed: ${JSON.stringify(failed)}`);
});

test("the suite fails on a proactor that delivers a cancelled operation's completion twice", { skip: noFake }, async () => {
  const failed = await failingCases(() => new CancelsTwice());
  assert.ok(failed.some((t) => t.startsWith("cancel of a pending receive")), `failed: ${JSON.stringify(failed)}`);
  assert.ok(failed.some((t) => t.startsWith("timeout:")), `failed: ${JSON.stringify(failed)}`);
});

test("the suite fails on a proactor that submits a send before flush()/poll()/park()", { skip: noFake }, async () => {
  const failed = await failingCases(() => new SubmitsAtOnce());
  assert.ok(failed.some((t) => t.startsWith("send: batched")), `failed: ${JSON.stringify(failed)}`);
});

test("the suite fails on a proactor whose throwing target stops the other completions", { skip: noFake }, async () => {
  const failed = await failingCases(() => new LetsTargetsThrow());
  assert.deepEqual(failed.filter((t) => t.startsWith("a target that throws")).length, 1, `failed: ${JSON.stringify(failed)}`);
});

test("the model proactor passes every case when run as the broken models are (so their failures are theirs)", { skip: noFake }, async () => {
  assert.deepEqual(await failingCases(() => new FakeProactor()), []);
});
