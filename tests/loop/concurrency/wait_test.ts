/**
 * shield, wait, asCompleted and the module-level createTask (loop/concurrency/wait.ts) on a real loop,
 * with their errors on bad input.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ALL_COMPLETED, asCompleted, CancelledError, createTask, FIRST_COMPLETED, FIRST_EXCEPTION,
  RuntimeError, shield, sleep, TimeoutError, ValueError, wait,
} from "../../../mod.ts";
import { withLoop } from "../../helpers.ts";

test("createTask runs on the running loop and is a RuntimeError without one", () =>
  withLoop(async (loop) => {
    assert.throws(() => createTask(() => sleep(0)), RuntimeError);
    const v = await loop.runUntilComplete(async () => {
      const t = createTask(() => sleep(0.001, 7), { name: "seven" });
      assert.equal(t.getName(), "seven");
      assert.equal(t.getLoop(), loop);
      return await t;
    });
    assert.equal(v, 7);
  }));

test("shield: cancelling the outer future leaves the inner task running to its result", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const inner = createTask(() => sleep(0.02, "inner"));
      const outer = createTask(() => shield(inner));
      await sleep(0.005);
      outer.cancel();
      await assert.rejects(Promise.resolve(outer), CancelledError);
      assert.equal(inner.cancelled(), false);
      assert.equal(await inner, "inner");
      // A shielded failure reaches the awaiter; a cancelled inner cancels the outer.
      const failing = createTask(async () => {
        await sleep(0.001);
        throw new ValueError("boom");
      });
      await assert.rejects(Promise.resolve(shield(failing)), ValueError);
      const cancelled = createTask(() => sleep(1));
      const s = shield(cancelled);
      cancelled.cancel();
      await assert.rejects(Promise.resolve(s), CancelledError);
      const done = loop.createFuture<number>();
      done.setResult(1);
      assert.equal(shield(done), done);
      assert.throws(() => shield(42 as never), TypeError);
    })));

test("wait: FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED and timeout return [done, pending]", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const a = createTask(() => sleep(0.005, "a"));
      const b = createTask(() => sleep(0.5, "b"));
      let [done, pending] = await wait([a, b], { returnWhen: FIRST_COMPLETED });
      assert.deepEqual([...done], [a]);
      assert.deepEqual([...pending], [b]);
      const bad = createTask(async () => {
        await sleep(0.005);
        throw new ValueError("x");
      });
      [done, pending] = await wait([b, bad], { returnWhen: FIRST_EXCEPTION });
      assert.deepEqual([...done], [bad]);
      assert.ok(pending.has(b));
      assert.ok(bad.exception() instanceof ValueError);
      const t0 = loop.time();
      [done, pending] = await wait([b], { timeout: 0.01 });
      assert.equal(done.size, 0);
      assert.ok(loop.time() - t0 >= 0.009);
      assert.equal(b.cancelled(), false); // wait() never cancels
      b.cancel();
      [done, pending] = await wait([a, b], { returnWhen: ALL_COMPLETED });
      assert.equal(done.size, 2);
      assert.equal(pending.size, 0);
    })));

test("wait rejects bad input with asyncio's errors and the loop goes on", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const f = loop.createFuture();
      await assert.rejects(wait([]), ValueError);
      await assert.rejects(wait([f], { returnWhen: "SOMETIMES" as never }), /Invalid returnWhen/);
      await assert.rejects(wait([Promise.resolve(1)] as never), /createTask/);
      await assert.rejects(wait([() => sleep(0)] as never), TypeError);
      await assert.rejects(wait(f as never), /iterable of futures/);
      await assert.rejects(wait([f], { timeout: "1" as never }), TypeError);
      await assert.rejects(wait([f], { timeout: NaN }), ValueError);
      f.setResult(1);
      const [done] = await wait([f]);
      assert.ok(done.has(f));
    })));

test("asCompleted yields results in completion order, iterated or with for await", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const slow = () => sleep(0.03, "slow");
      const fast = createTask(() => sleep(0.001, "fast"));
      const order: string[] = [];
      for (const p of asCompleted<string>([slow, fast, Promise.resolve("now")])) order.push(await p);
      assert.deepEqual(order, ["now", "fast", "slow"]);
      const a = createTask(() => sleep(0.02, 1)), b = createTask(() => sleep(0.001, 2));
      const seen: number[] = [];
      for await (const v of asCompleted([a, b])) seen.push(v);
      assert.deepEqual(seen, [2, 1]);
      const failing = createTask(async () => {
        await sleep(0.001);
        throw new ValueError("first to finish");
      });
      const later = createTask(() => sleep(0.01, 3));
      await assert.rejects(async () => {
        for await (const _ of asCompleted([later, failing])) assert.fail("nothing before the error");
      }, ValueError);
      await later;
    })));

test("asCompleted: after the timeout each unfinished item throws TimeoutError", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const fast = createTask(() => sleep(0.001, "fast"));
      const slow = createTask(() => sleep(5, "slow"));
      const it = asCompleted([fast, slow], { timeout: 0.3 })[Symbol.iterator]();
      assert.equal(await it.next().value, "fast");
      await assert.rejects(it.next().value!, TimeoutError);
      assert.equal(it.next().done, true);
      assert.equal(slow.cancelled(), false);
      slow.cancel();
      assert.throws(() => asCompleted(fast as never), /iterable of futures/);
      assert.throws(() => asCompleted([fast], { timeout: "x" as never }), TypeError);
    })));
