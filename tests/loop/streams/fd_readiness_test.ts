/**
 * readableEvents/writableEvents (loop/streams/fd_readiness.ts) over real pipes: events as an
 * async iterator, the watch removed on break, close(), and the waiting task's cancellation
 * (how run() ends it), no Promise allocated for an event already pending, a slow consumer
 * pausing the watch instead of spinning, and the errors.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BlockingIOError, CancelledError, os, RuntimeError, run, sleep, ValueError,
} from "../../../mod.ts";
import { readableEvents, writableEvents } from "../../../loop/streams/fd_readiness.ts";
import { stableFdCount, windowsLacks, withLoop } from "../../helpers.ts";

const posix = { skip: windowsLacks("POSIX pipes (os.pipe)") };

/** A non-blocking pipe, closed after `body`. */
async function withPipe(body: (r: number, w: number) => Promise<void>): Promise<void> {
  const [r, w] = os.pipe();
  os.setBlocking(r, false);
  os.setBlocking(w, false);
  try {
    await body(r, w);
  } finally {
    os.close(r);
    os.close(w);
  }
}

test("readableEvents: one step per write, the fd as the value; break removes the reader", posix, async () => {
  await withLoop((loop) =>
    loop.runUntilComplete(() =>
      withPipe(async (r, w) => {
        const got: string[] = [];
        loop.callLater(0.01, () => os.write(w, new Uint8Array([1])));
        for await (const fd of readableEvents(r)) {
          assert.equal(fd, r);
          got.push(String(os.read(fd, 100)));
          if (got.length === 3) break;
          loop.callLater(0.01, () => os.write(w, new Uint8Array([got.length + 1])));
        }
        assert.deepEqual(got, ["1", "2", "3"]);
        assert.equal(loop.removeReader(r), false, "break removed the reader");
      })
    )
  );
});

test("an event already pending: next() returns the same resolved Promise, no allocation", posix, async () => {
  await withLoop((loop) =>
    loop.runUntilComplete(() =>
      withPipe(async (r, w) => {
        const events = readableEvents(r);
        os.write(w, new Uint8Array([1, 2]));
        const p1 = events.next();
        assert.deepEqual(await p1, { done: false, value: r });
        os.read(r, 1); // one byte left: still ready
        const p2 = events.next();
        assert.equal(p1, p2, "the same cached Promise both times");
        assert.equal(loop.removeReader(r), false, "no reader was needed: poll(2) said ready");
        os.read(r, 10);
        const p3 = events.next(); // nothing left: a wait
        assert.notEqual(p3, p1);
        loop.callLater(0.01, () => os.write(w, new Uint8Array([3])));
        assert.deepEqual(await p3, { done: false, value: r });
        events.close();
        assert.equal(loop.removeReader(r), false, "close() removed the reader");
      })
    )
  );
});

test("a consumer that holds a step pauses the watch instead of spinning; the next next() resumes it", posix, async () => {
  await withLoop((loop) =>
    loop.runUntilComplete(() =>
      withPipe(async (r, w) => {
        const events = readableEvents(r);
        loop.callLater(0.01, () => os.write(w, new Uint8Array([1])));
        assert.deepEqual(await events.next(), { done: false, value: r }, "a wait, through the reader");
        await sleep(0.05); // many loop iterations with the fd readable and nobody reading
        assert.equal(loop.removeReader(r), false, "paused: the reader is not registered");
        assert.deepEqual(await events.next(), { done: false, value: r }, "still readable: at once");
        os.read(r, 10);
        loop.callLater(0.01, () => os.write(w, new Uint8Array([2])));
        assert.deepEqual(await events.next(), { done: false, value: r }, "watched again");
        assert.deepEqual([...os.read(r, 10)], [2]);
        await events.return();
      })
    )
  );
});

test("cancelling the waiting task removes the reader; so does run() ending it", posix, async () => {
  const before = await stableFdCount();
  await withLoop((loop) =>
    loop.runUntilComplete(() =>
      withPipe(async (r) => {
        const task = loop.createTask(async () => {
          for await (const _ of readableEvents(r)) assert.fail("nothing was written");
        });
        await sleep(0.01);
        task.cancel();
        await assert.rejects(async () => {
          await task;
        }, CancelledError);
        await sleep(0);
        assert.equal(loop.removeReader(r), false, "the cancelled iteration removed its reader");
      })
    )
  );
  // run() cancels what is left when main returns: the iteration ends and the loop closes clean.
  const [r, w] = os.pipe();
  let ended = "";
  await run(async () => {
    const loop = (await import("../../../mod.ts")).getRunningLoop();
    loop.createTask(async () => {
      try {
        for await (const _ of readableEvents(r)) assert.fail("nothing was written");
      } catch (e) {
        ended = (e as Error).name;
        throw e;
      }
    });
    await sleep(0.01);
  });
  assert.equal(ended, "CancelledError");
  os.close(r);
  os.close(w);
  assert.equal(await stableFdCount(), before);
});

test("writableEvents: writable at once; when the pipe is full, the next step comes once it drains", posix, async () => {
  await withLoop((loop) =>
    loop.runUntilComplete(() =>
      withPipe(async (r, w) => {
        const events = writableEvents(w);
        assert.deepEqual(await events.next(), { done: false, value: w });
        const chunk = new Uint8Array(65536);
        assert.throws(() => {
          for (;;) os.write(w, chunk);
        }, BlockingIOError);
        let drained = false;
        loop.callLater(0.02, () => {
          drained = true;
          for (;;) {
            try {
              os.read(r, 65536);
            } catch {
              break;
            }
          }
        });
        await events.next(); // may be the one pending from before the fill: take it
        if (!drained) await events.next();
        assert.ok(drained, "writable again only after the reader drained the pipe");
        await events.return();
        assert.equal(loop.removeWriter(w), false);
      })
    )
  );
});

test("errors: a bad fd is ValueError, bad options TypeError, no running loop RuntimeError; close() ends a waiting next()", posix, async () => {
  assert.throws(() => readableEvents(-1), ValueError);
  assert.throws(() => readableEvents("3" as unknown as number), ValueError);
  assert.throws(() => readableEvents(0), RuntimeError, "no running loop");
  await withLoop((loop) =>
    loop.runUntilComplete(() =>
      withPipe(async (r, w) => {
        assert.throws(() => readableEvents(r, null as unknown as object), { name: "TypeError", message: /options must be an object/ });
        const events = readableEvents(r);
        const waiting = events.next();
        await assert.rejects(events.next(), { name: "TypeError", message: /still waits/ });
        loop.callLater(0.01, () => events.close());
        assert.deepEqual(await waiting, { done: true, value: undefined });
        assert.deepEqual(await events.next(), { done: true, value: undefined }, "stays done");
        assert.equal(loop.removeReader(r), false);
        // The loop still serves the fd.
        os.write(w, new Uint8Array([7]));
        for await (const fd of readableEvents(r)) {
          assert.deepEqual([...os.read(fd, 10)], [7]);
          break;
        }
      })
    )
  );
});
