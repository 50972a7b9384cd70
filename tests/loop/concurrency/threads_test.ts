/**
 * toThread (loop/concurrency/threads.ts): a task(...) reference runs on the default executor's Worker
 * threads with its arguments; errors come back as the function's own; bad input is refused.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ImportError, RuntimeError, sleep, task, toThread } from "../../../mod.ts";
import { tasksUrl } from "../../fixtures/executor_tasks.ts";
import { withLoop } from "../../helpers.ts";

test("toThread runs a module's export on a worker thread while the loop keeps running", { timeout: 60000 }, () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      assert.equal(await toThread(task(tasksUrl, "add"), 2, 3), 5);
      // A blocking call off the loop's thread: loop timers keep firing meanwhile.
      let ticks = 0;
      const ticker = loop.createTask(async () => {
        for (;;) {
          await sleep(0.01);
          ticks++;
        }
      });
      assert.equal(await toThread(task(tasksUrl, "blockMs"), 200), 200);
      ticker.cancel();
      assert.ok(ticks >= 3, `the loop ran ${ticks} 10 ms ticks during a 200 ms blocking call`);
    })));

test("toThread: the function's error, ImportError, TypeError for a plain function, RuntimeError without a loop", { timeout: 60000 }, () =>
  withLoop(async (loop) => {
    await loop.runUntilComplete(async () => {
      await assert.rejects(toThread(task(tasksUrl, "fail"), "bad"), (e: unknown) =>
        e instanceof RangeError && e.message === "bad");
      await assert.rejects(toThread(task(tasksUrl, "noSuchExport")), ImportError);
      await assert.rejects(toThread(() => 1), /cannot cross to a Worker thread/);
      assert.equal(await toThread(task(tasksUrl, "add"), 1, 1), 2); // the pool still works
    });
    await assert.rejects(toThread(task(tasksUrl, "add"), 1, 2), RuntimeError);
  }));
