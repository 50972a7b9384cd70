/**
 * Our translation of CPython 3.12's Lib/test/test_asyncio/test_queues.py: `async with
 * TaskGroup() as tg:` is `await new TaskGroup().run(async (tg) => ...)`, Python's str(q) is
 * String(q), and where CPython reads `_getters`, `_putters` or `_unfinished_tasks`, so do these
 * cases (`_unfinishedTasks`). CPython's plain (not async) cases run outside any loop here too.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CancelledError, createTask, Event, LifoQueue, PriorityQueue, Queue, QueueEmpty,
  QueueFull, sleep, type Task, TaskGroup, TimeoutError, ValueError, waitFor,
} from "../../mod.ts";
import { assertRaises, asyncCase } from "./isolated_async.ts";

/** A private field, read as CPython's tests read it. */
// deno-lint-ignore no-explicit-any
const priv = (x: object): any => x;

// ---- QueueBasicTests ----------------------------------------------------------------------

asyncCase("QueueBasicTests.test_str", async () => {
  let q = new Queue<number>();
  assert.ok(String(q).startsWith("<Queue"), String(q));

  // getters
  q = new Queue<number>();
  let getter!: Task<number>;
  await new TaskGroup().run(async (tg) => {
    getter = tg.createTask(() => q.get());
    await sleep(0); // it starts waiting
    assert.ok(String(q).includes("_getters[1]"), String(q));
    q.putNowait(0);
  });
  assert.equal(await getter, 0);

  // putters
  q = new Queue<number>(1);
  let putter!: Task<void>;
  await new TaskGroup().run(async (tg) => {
    q.putNowait(1);
    putter = tg.createTask(() => q.put(2));
    await sleep(0);
    assert.ok(String(q).includes("_putters[1]"), String(q));
    q.getNowait();
  });
  assert.ok(putter.done());

  q = new Queue<number>();
  q.putNowait(1);
  assert.ok(String(q).includes("_queue=[1]"), String(q));
});

asyncCase("QueueBasicTests.test_empty", async () => {
  const q = new Queue<number>();
  assert.ok(q.empty());
  await q.put(1);
  assert.equal(q.empty(), false);
  assert.equal(await q.get(), 1);
  assert.ok(q.empty());
});

asyncCase("QueueBasicTests.test_full", async () => {
  let q = new Queue<number>();
  assert.equal(q.full(), false);
  q = new Queue<number>(1);
  await q.put(1);
  assert.ok(q.full());
});

asyncCase("QueueBasicTests.test_order", async () => {
  const q = new Queue<number>();
  for (const i of [1, 3, 2]) await q.put(i);
  const items = [await q.get(), await q.get(), await q.get()];
  assert.deepEqual(items, [1, 3, 2]);
});

asyncCase("QueueBasicTests.test_maxsize", async () => {
  const q = new Queue<number>(2);
  assert.equal(q.maxsize, 2);
  const haveBeenPut: number[] = [];
  const t = createTask(async () => {
    for (let i = 0; i < 3; i++) {
      await q.put(i);
      haveBeenPut.push(i);
    }
    return true;
  });
  for (let i = 0; i < 2; i++) await sleep(0);
  // The putter is blocked after putting two items.
  assert.deepEqual(haveBeenPut, [0, 1]);
  assert.equal(await q.get(), 0);
  // Let the putter resume and put the last item.
  await sleep(0);
  assert.deepEqual(haveBeenPut, [0, 1, 2]);
  assert.equal(await q.get(), 1);
  assert.equal(await q.get(), 2);
  assert.ok(t.done());
  assert.equal(t.result(), true);
});

// ---- QueueGetTests ------------------------------------------------------------------------

asyncCase("QueueGetTests.test_blocking_get", async () => {
  const q = new Queue<number>();
  q.putNowait(1);
  assert.equal(await q.get(), 1);
});

asyncCase("QueueGetTests.test_get_with_putters", async (loop) => {
  const q = new Queue<number>(1);
  await q.put(1);
  const waiter = loop.createFuture<void>();
  priv(q)._putters.push(waiter);
  assert.equal(await q.get(), 1);
  assert.ok(waiter.done());
  assert.equal(waiter.result(), undefined);
});

asyncCase("QueueGetTests.test_blocking_get_wait", async (loop) => {
  const q = new Queue<number>();
  const started = new Event();
  let finished = false;
  const queueGetTask = createTask(async () => {
    started.set();
    const res = await q.get();
    finished = true;
    return res;
  });
  await started.wait();
  assert.equal(finished, false);
  loop.callLater(0.01, () => q.putNowait(1));
  const res = await queueGetTask;
  assert.ok(finished);
  assert.equal(res, 1);
});

test("QueueGetTests.test_nonblocking_get", () => {
  const q = new Queue<number>();
  q.putNowait(1);
  assert.equal(q.getNowait(), 1);
});

test("QueueGetTests.test_nonblocking_get_exception", () => {
  const q = new Queue<number>();
  assert.throws(() => q.getNowait(), QueueEmpty);
});

asyncCase("QueueGetTests.test_get_cancelled_race", async () => {
  const q = new Queue<string>();
  const t1 = createTask(() => q.get());
  const t2 = createTask(() => q.get());
  await sleep(0);
  t1.cancel();
  await sleep(0);
  assert.ok(t1.done());
  await q.put("a");
  await sleep(0);
  assert.equal(await t2, "a");
});

asyncCase("QueueGetTests.test_get_with_waiting_putters", async () => {
  const q = new Queue<string>(1);
  createTask(() => q.put("a"));
  createTask(() => q.put("b"));
  assert.equal(await q.get(), "a");
  assert.equal(await q.get(), "b");
});

asyncCase("QueueGetTests.test_why_are_getters_waiting", async () => {
  const consumer = async (queue: Queue<number>, numExpected: number) => {
    for (let i = 0; i < numExpected; i++) await queue.get();
  };
  const producer = async (queue: Queue<number>, numItems: number) => {
    for (let i = 0; i < numItems; i++) await queue.put(i);
  };
  const producerNumItems = 5;
  const q = new Queue<number>(1);
  await new TaskGroup().run((tg) => {
    tg.createTask(producer(q, producerNumItems));
    tg.createTask(consumer(q, producerNumItems));
  });
});

asyncCase("QueueGetTests.test_cancelled_getters_not_being_held_in_self_getters", async () => {
  const queue = new Queue<number>(5);
  await assertRaises(waitFor(() => queue.get(), 0.1), TimeoutError);
  assert.equal(priv(queue)._getters.length, 0);
});

// ---- QueuePutTests ------------------------------------------------------------------------

asyncCase("QueuePutTests.test_blocking_put", async () => {
  const q = new Queue<number>();
  await q.put(1); // no maxsize: does not block
  assert.equal(await q.get(), 1);
});

asyncCase("QueuePutTests.test_blocking_put_wait", async (loop) => {
  const q = new Queue<number>(1);
  const started = new Event();
  let finished = false;
  loop.callLater(0.01, () => q.getNowait());
  const queuePutTask = createTask(async () => {
    started.set();
    await q.put(1);
    await q.put(2);
    finished = true;
  });
  await started.wait();
  assert.equal(finished, false);
  await queuePutTask;
  assert.ok(finished);
});

test("QueuePutTests.test_nonblocking_put", () => {
  const q = new Queue<number>();
  q.putNowait(1);
  assert.equal(q.getNowait(), 1);
});

asyncCase("QueuePutTests.test_get_cancel_drop_one_pending_reader", async () => {
  const q = new Queue<number>();
  let reader = createTask(() => q.get());
  await sleep(0);
  q.putNowait(1);
  q.putNowait(2);
  reader.cancel();
  try {
    await reader;
  } catch (e) {
    if (!(e instanceof CancelledError)) throw e;
    reader = createTask(() => q.get()); // try again
    await reader;
  }
  // 2 would mean 1 was dropped.
  assert.equal(reader.result(), 1);
});

asyncCase("QueuePutTests.test_get_cancel_drop_many_pending_readers", async () => {
  const q = new Queue<number>();
  let reader2!: Task<number>, reader3!: Task<number>;
  await new TaskGroup().run(async (tg) => {
    const reader1 = tg.createTask(() => q.get());
    reader2 = tg.createTask(() => q.get());
    reader3 = tg.createTask(() => q.get());
    await sleep(0);
    q.putNowait(1);
    q.putNowait(2);
    reader1.cancel();
    await assertRaises(reader1, CancelledError);
    await reader3;
  });
  // Which concurrent reader gets which item is not defined.
  assert.deepEqual(new Set([reader2.result(), reader3.result()]), new Set([1, 2]));
});

asyncCase("QueuePutTests.test_put_cancel_drop", async () => {
  const q = new Queue<number>(1);
  q.putNowait(1);
  // A second put must block (qsize 1).
  let writer = createTask(() => q.put(2));
  await sleep(0);
  assert.equal(q.getNowait(), 1);
  writer.cancel();
  try {
    await writer;
  } catch (e) {
    if (!(e instanceof CancelledError)) throw e;
    writer = createTask(() => q.put(2)); // try again
    await writer;
  }
  assert.equal(q.getNowait(), 2);
  assert.equal(q.qsize(), 0);
});

test("QueuePutTests.test_nonblocking_put_exception", () => {
  const q = new Queue<number>(1);
  q.putNowait(1);
  assert.throws(() => q.putNowait(2), QueueFull);
});

asyncCase("QueuePutTests.test_float_maxsize", async () => {
  let q = new Queue<number>(1.3);
  q.putNowait(1);
  q.putNowait(2);
  assert.ok(q.full());
  assert.throws(() => q.putNowait(3), QueueFull);
  q = new Queue<number>(1.3);
  await q.put(1);
  await q.put(2);
  assert.ok(q.full());
});

asyncCase("QueuePutTests.test_put_cancelled", async () => {
  const q = new Queue<number>();
  const t = createTask(async () => {
    await q.put(1);
    return true;
  });
  assert.equal(await q.get(), 1);
  assert.ok(t.done());
  assert.equal(t.result(), true);
});

asyncCase("QueuePutTests.test_put_cancelled_race", async () => {
  const q = new Queue<string>(1);
  const putA = createTask(() => q.put("a"));
  const putB = createTask(() => q.put("b"));
  const putC = createTask(() => q.put("X"));
  await sleep(0);
  assert.ok(putA.done());
  assert.equal(putB.done(), false);
  putC.cancel();
  await sleep(0);
  assert.ok(putC.done());
  assert.equal(q.getNowait(), "a");
  await sleep(0);
  assert.equal(q.getNowait(), "b");
  await putB;
});

asyncCase("QueuePutTests.test_put_with_waiting_getters", async () => {
  const q = new Queue<string>();
  const t = createTask(() => q.get());
  await sleep(0);
  await q.put("a");
  assert.equal(await t, "a");
});

asyncCase("QueuePutTests.test_why_are_putters_waiting", async () => {
  const queue = new Queue<number>(2);
  const putter = (item: number) => () => queue.put(item);
  const getter = async () => {
    await sleep(0);
    const num = queue.qsize();
    for (let i = 0; i < num; i++) queue.getNowait();
  };
  await new TaskGroup().run((tg) => {
    tg.createTask(getter);
    for (const item of [0, 1, 2, 3]) tg.createTask(putter(item));
  });
});

asyncCase("QueuePutTests.test_cancelled_puts_not_being_held_in_self_putters", async () => {
  const queue = new Queue<number>(1); // full
  queue.putNowait(1);
  // A task waiting for room to put an item.
  const putTask = createTask(() => queue.put(1));
  await sleep(0);
  // Cancelling it takes its putter out of _putters.
  assert.equal(priv(queue)._putters.length, 1);
  putTask.cancel();
  await assertRaises(putTask, CancelledError);
  assert.equal(priv(queue)._putters.length, 0);
});

asyncCase("QueuePutTests.test_cancelled_put_silence_value_error_exception", async () => {
  const queue = new Queue<number>(1); // full
  queue.putNowait(1);
  const putTask = createTask(() => queue.put(1));
  await sleep(0);
  // getNowait() takes put_task's putter out of _putters; the cancelled put() must not fail
  // removing it again, and end with CancelledError.
  queue.getNowait();
  putTask.cancel();
  await assertRaises(putTask, CancelledError);
});

// ---- LifoQueueTests, PriorityQueueTests ---------------------------------------------------

asyncCase("LifoQueueTests.test_order", async () => {
  const q = new LifoQueue<number>();
  for (const i of [1, 3, 2]) await q.put(i);
  assert.deepEqual([await q.get(), await q.get(), await q.get()], [2, 3, 1]);
});

asyncCase("PriorityQueueTests.test_order", async () => {
  const q = new PriorityQueue<number>();
  for (const i of [1, 3, 2]) await q.put(i);
  assert.deepEqual([await q.get(), await q.get(), await q.get()], [1, 2, 3]);
});

// ---- QueueJoinTests, LifoQueueJoinTests, PriorityQueueJoinTests (_QueueJoinTestMixin) ------

for (const Q of [Queue, LifoQueue, PriorityQueue]) {
  const cls = `${Q.name}JoinTests`;

  test(`${cls}.test_task_done_underflow`, () => {
    const q = new Q();
    assert.throws(() => q.taskDone(), ValueError);
  });

  asyncCase(`${cls}.test_task_done`, async () => {
    const q = new Q<number>();
    for (let i = 0; i < 100; i++) q.putNowait(i);
    let accumulator = 0;
    // Two workers get items and call taskDone() after each; join() returns once all are done.
    let running = true;
    const worker = async () => {
      while (running) {
        const item = await q.get();
        accumulator += item;
        q.taskDone();
      }
    };
    await new TaskGroup().run(async (tg) => {
      const tasks = [tg.createTask(worker), tg.createTask(worker)];
      await q.join();
      assert.equal(accumulator, (99 * 100) / 2);
      // Let the workers end.
      running = false;
      for (let i = 0; i < tasks.length; i++) q.putNowait(0);
    });
  });

  asyncCase(`${cls}.test_join_empty_queue`, async () => {
    const q = new Q();
    // join() returns at once (twice, for insurance).
    await q.join();
    await q.join();
  });

  asyncCase(`${cls}.test_format`, async () => {
    // CPython's _format() is what String() shows between `<Queue ` and `>`.
    const q = new Q();
    assert.equal(String(q), `<${Q.name} maxsize=0>`);
    priv(q)._unfinishedTasks = 2;
    assert.equal(String(q), `<${Q.name} maxsize=0 tasks=2>`);
  });
}
