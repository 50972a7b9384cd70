/**
 * Queue, LifoQueue and PriorityQueue (loop/concurrency/queues.ts): order, blocking put/get, join/taskDone,
 * PriorityQueue's Python-like default ordering and comparator, and errors on bad input.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  createTask, LifoQueue, PriorityQueue, pythonCompare, Queue, QueueEmpty, QueueFull,
  RuntimeError, sleep, ValueError, waitFor, TimeoutError,
} from "../../../mod.ts";
import { withLoop } from "../../helpers.ts";

test("Queue: FIFO order, LifoQueue: LIFO, PriorityQueue: lowest first", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const items = [1, 3, 2];
      for (const [Q, want] of [[Queue, [1, 3, 2]], [LifoQueue, [2, 3, 1]], [PriorityQueue, [1, 2, 3]]] as const) {
        const q = new Q<number>();
        for (const i of items) await q.put(i);
        const got = [];
        while (!q.empty()) got.push(await q.get());
        assert.deepEqual(got, want, Q.name);
      }
    })));

test("PriorityQueue compares numbers, strings and arrays like Python tuples, or by a comparator", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const q = new PriorityQueue<[number, string]>();
      for (const item of [[2, "b"], [1, "z"], [2, "a"], [0, "x"]] as [number, string][]) q.putNowait(item);
      const got = [];
      while (!q.empty()) got.push(q.getNowait());
      assert.deepEqual(got, [[0, "x"], [1, "z"], [2, "a"], [2, "b"]]);
      assert.equal(pythonCompare([1, 2], [1, 2, 0]) < 0, true);
      assert.equal(pythonCompare("a", "b") < 0, true);
      assert.equal(pythonCompare(1n, 0.5) > 0, true);
      assert.throws(() => pythonCompare(1, "1"), /'<' not supported between instances of number and string/);
      // Unorderable items: the TypeError of Python's heappush, and the queue still works.
      const bad = new PriorityQueue<unknown>();
      bad.putNowait([1, {}]);
      assert.throws(() => bad.putNowait([1, {}]), TypeError);
      const byLength = new PriorityQueue<string>(0, { compare: (a, b) => a.length - b.length });
      for (const s of ["ccc", "a", "bb"]) byLength.putNowait(s);
      assert.deepEqual([byLength.getNowait(), byLength.getNowait(), byLength.getNowait()], ["a", "bb", "ccc"]);
      assert.throws(() => new PriorityQueue(0, { compare: 5 as never }), TypeError);
    })));

test("a bounded queue blocks put() until a get() makes room; get() waits for an item", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const q = new Queue<number>(1);
      assert.equal(q.maxsize, 1);
      q.putNowait(1);
      assert.ok(q.full());
      assert.throws(() => q.putNowait(2), QueueFull);
      const putter = createTask(() => q.put(2));
      await sleep(0.005);
      assert.equal(putter.done(), false);
      assert.equal(await q.get(), 1);
      await putter;
      assert.equal(q.getNowait(), 2);
      assert.throws(() => q.getNowait(), QueueEmpty);
      const getter = createTask(() => q.get());
      await sleep(0.005);
      assert.equal(getter.done(), false);
      q.putNowait(3);
      assert.equal(await getter, 3);
      // A get() abandoned by waitFor's timeout leaves no waiter behind: the next put goes to
      // the next get().
      await assert.rejects(waitFor(q.get(), 0.005), TimeoutError);
      q.putNowait(4);
      assert.equal(await q.get(), 4);
    })));

test("join() waits until taskDone() was called for every item put", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const q = new Queue<number>();
      await q.join(); // nothing put: returns at once
      let sum = 0;
      for (let i = 1; i <= 4; i++) q.putNowait(i);
      const workers = [0, 1].map(() =>
        createTask(async () => {
          for (;;) {
            const item = await q.get();
            await sleep(0.001);
            sum += item;
            q.taskDone();
          }
        })
      );
      await q.join();
      assert.equal(sum, 10);
      for (const w of workers) w.cancel();
      assert.throws(() => q.taskDone(), ValueError);
      assert.match(String(q), /^<Queue maxsize=0/);
    })));

test("String(queue) shows its items in storage order, as asyncio's str", () => {
  const q = new Queue<unknown>();
  q.putNowait(1);
  q.putNowait("a");
  q.putNowait([2, "b"]);
  q.getNowait();
  q.putNowait(3); // the ring buffer's contents, after a shift
  assert.equal(String(q), "<Queue maxsize=0 _queue=['a', [2, 'b'], 3] tasks=4>");
  assert.equal(q.qsize(), 3);
  assert.equal(q.getNowait(), "a"); // showing them did not reorder them
  const lifo = new LifoQueue<number>(2);
  lifo.putNowait(1);
  lifo.putNowait(2);
  assert.equal(String(lifo), "<LifoQueue maxsize=2 _queue=[1, 2] tasks=2>");
  const pq = new PriorityQueue<number>();
  for (const i of [3, 1, 2]) pq.putNowait(i);
  assert.equal(String(pq), "<PriorityQueue maxsize=0 _queue=[1, 3, 2] tasks=3>"); // heap order
});

test("queues refuse bad input, and one loop's queue is a RuntimeError on another loop", () =>
  withLoop(async (loop) => {
    assert.throws(() => new Queue("3" as never), TypeError);
    assert.throws(() => new Queue(NaN), ValueError);
    const q = new Queue<number>();
    await loop.runUntilComplete(async () => {
      const t = createTask(() => q.get()); // binds q to this loop
      await sleep(0);
      t.cancel();
    });
    await withLoop((other) =>
      other.runUntilComplete(async () => {
        await assert.rejects(q.get(), /bound to a different event loop/);
      })
    );
    await assert.rejects(q.get(), RuntimeError); // no loop running at all
  }));
