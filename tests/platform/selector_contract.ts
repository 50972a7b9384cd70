/**
 * The Selector contract (loop/selector/selector.ts) as tests, run against every implementation:
 * epoll and poll for real (tests/platform/poll_selector_test.ts), kqueue over a fake kevent that behaves
 * as kqueue(2) describes (tests/platform/kqueue_test.ts). Each test drives the selector directly with
 * real socketpairs, so what is checked is the interface the loop relies on, not the loop.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { EVENT_READ, EVENT_WRITE, OSError, type Selector, type Socket, socketpair } from "../../mod.ts";
import { fdCountSettled, hostDelay, stableFdCount } from "../helpers.ts";

const enc = new TextEncoder();

/** The fds reported ready by one poll(), as fd → EVENT_* bits (each fd at most once). */
export function pollOnce(sel: Selector): Map<number, number> {
  const n = sel.poll();
  const ready = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const fd = sel.readyFds[i];
    assert.ok(!ready.has(fd), `fd ${fd} reported twice in one poll()`);
    ready.set(fd, sel.readyEvents[i]);
  }
  return ready;
}

function pair(): [Socket, Socket] {
  const [a, b] = socketpair();
  a.setBlocking(false);
  b.setBlocking(false);
  return [a, b];
}

/** Run `body` with a fresh selector and socketpairs that are always released. */
async function withSelector(
  create: () => Selector,
  body: (sel: Selector, pairs: () => [Socket, Socket]) => Promise<void> | void,
): Promise<void> {
  const sel = create();
  const opened: Socket[] = [];
  try {
    await body(sel, () => {
      const p = pair();
      opened.push(...p);
      return p;
    });
  } finally {
    sel.close();
    for (const s of opened) if (s.fileno() >= 0) s.close();
  }
}

/** Register the contract tests for one Selector implementation, named `name`. */
export function selectorContract(name: string, create: () => Selector): void {
  const t = (title: string, body: (sel: Selector, pairs: () => [Socket, Socket]) => Promise<void> | void) =>
    test(`[${name}] ${title}`, () => withSelector(create, body));

  t("nothing ready: poll() returns 0; data arrives: the fd is reported readable", (sel, pairs) => {
    const [a, b] = pairs();
    sel.register(a.fileno(), EVENT_READ);
    assert.equal(sel.poll(), 0);
    b.send(enc.encode("x"));
    assert.deepEqual([...pollOnce(sel)], [[a.fileno(), EVENT_READ]]);
  });

  t("level-triggered: unread data is reported again, until it is read", (sel, pairs) => {
    const [a, b] = pairs();
    sel.register(a.fileno(), EVENT_READ);
    b.send(enc.encode("xy"));
    assert.equal(pollOnce(sel).get(a.fileno()), EVENT_READ);
    assert.equal(pollOnce(sel).get(a.fileno()), EVENT_READ);
    a.recv(10);
    assert.equal(sel.poll(), 0);
  });

  t("read and write interest on one fd come back as one entry with both bits", (sel, pairs) => {
    const [a, b] = pairs();
    sel.register(a.fileno(), EVENT_READ | EVENT_WRITE);
    assert.deepEqual([...pollOnce(sel)], [[a.fileno(), EVENT_WRITE]]);
    b.send(enc.encode("x"));
    assert.deepEqual([...pollOnce(sel)], [[a.fileno(), EVENT_READ | EVENT_WRITE]]);
  });

  t("modify() changes the interest both ways; dropped interest is not reported", (sel, pairs) => {
    const [a, b] = pairs();
    const fd = a.fileno();
    sel.register(fd, EVENT_READ);
    b.send(enc.encode("x"));
    sel.modify(fd, EVENT_WRITE);
    assert.deepEqual([...pollOnce(sel)], [[fd, EVENT_WRITE]]);
    sel.modify(fd, EVENT_READ);
    assert.deepEqual([...pollOnce(sel)], [[fd, EVENT_READ]]); // the data is still there
    sel.modify(fd, EVENT_READ | EVENT_WRITE);
    assert.deepEqual([...pollOnce(sel)], [[fd, EVENT_READ | EVENT_WRITE]]);
  });

  t("unregister() stops reports; unknown and repeated unregister() never raise", (sel, pairs) => {
    const [a, b] = pairs();
    sel.register(a.fileno(), EVENT_READ);
    b.send(enc.encode("x"));
    sel.unregister(a.fileno());
    assert.equal(sel.poll(), 0);
    sel.unregister(a.fileno());
    sel.unregister(987654);
    // and it can be registered again
    sel.register(a.fileno(), EVENT_READ);
    assert.equal(pollOnce(sel).get(a.fileno()), EVENT_READ);
  });

  t("register(closed fd) → OSError EBADF; twice → EEXIST; modify(unregistered fd) → ENOENT", (sel, pairs) => {
    const [a, b] = pairs();
    const fd = a.fileno();
    a.close();
    b.close();
    assert.throws(() => sel.register(fd, EVENT_READ), (e: unknown) =>
      e instanceof OSError && e.code === "EBADF" && e.errno === 9);
    const [c] = pairs();
    sel.register(c.fileno(), EVENT_READ);
    assert.throws(() => sel.register(c.fileno(), EVENT_WRITE), (e: unknown) =>
      e instanceof OSError && e.code === "EEXIST");
    const [d] = pairs(); // open, never registered
    assert.throws(() => sel.modify(d.fileno(), EVENT_READ), (e: unknown) =>
      e instanceof OSError && e.code === "ENOENT");
    // a failed register left nothing behind
    assert.equal(sel.poll(), 0);
  });

  t("an fd closed while registered is forgotten: never reported, unregister() still fine", (sel, pairs) => {
    const [a, b] = pairs();
    const [c, d] = pairs();
    const fd = a.fileno();
    sel.register(fd, EVENT_READ | EVENT_WRITE);
    sel.register(c.fileno(), EVENT_READ);
    b.send(enc.encode("x"));
    a.close();
    d.send(enc.encode("y"));
    for (let i = 0; i < 3; i++) {
      assert.deepEqual([...pollOnce(sel)], [[c.fileno(), EVENT_READ]]);
    }
    sel.unregister(fd);
  });

  t("an fd closed and its number reused: modify() watches the new file", (sel, pairs) => {
    const [a, b] = pairs();
    const fd = a.fileno();
    sel.register(fd, EVENT_READ);
    a.close();
    b.close();
    assert.equal(sel.poll(), 0);
    const [c, d] = pairs(); // the lowest free number: fd again
    assert.equal(c.fileno(), fd, "the fd number was reused");
    // The loop's pattern (selector_loop.ts _reregister): modify, and register on ENOENT.
    try {
      sel.modify(fd, EVENT_READ);
    } catch (e) {
      assert.ok(e instanceof OSError && e.code === "ENOENT");
      sel.register(fd, EVENT_READ);
    }
    d.send(enc.encode("z"));
    assert.deepEqual([...pollOnce(sel)], [[fd, EVENT_READ]]);
  });

  t("the peer closing wakes a reader (EOF), and a writer", (sel, pairs) => {
    const [a, b] = pairs();
    const [c, d] = pairs();
    sel.register(a.fileno(), EVENT_READ);
    sel.register(c.fileno(), EVENT_WRITE);
    b.close();
    d.close();
    const ready = pollOnce(sel);
    assert.ok((ready.get(a.fileno())! & EVENT_READ) !== 0, "reader woken by EOF");
    assert.equal(a.recv(10).length, 0);
    assert.ok((ready.get(c.fileno())! & EVENT_WRITE) !== 0, "writer woken");
  });

  t("many fds: every ready one is reported, after unregistering some in the middle", (sel, pairs) => {
    const socks = Array.from({ length: 300 }, () => pairs());
    for (const [a] of socks) sel.register(a.fileno(), EVENT_READ);
    const expected = new Set<number>();
    socks.forEach(([a, b], i) => {
      if (i % 3 === 0) sel.unregister(a.fileno());
      else if (i % 3 === 1) {
        b.send(enc.encode("x"));
        expected.add(a.fileno());
      }
    });
    const ready = pollOnce(sel);
    assert.deepEqual(new Set(ready.keys()), expected);
    for (const bits of ready.values()) assert.equal(bits, EVENT_READ);
  });

  t("park() resolves when an fd becomes ready, and leaves the event for poll()", async (sel, pairs) => {
    const [a, b] = pairs();
    sel.register(a.fileno(), EVENT_READ);
    const start = performance.now();
    setTimeout(() => b.send(enc.encode("x")), 30);
    await sel.park(5000);
    const waited = performance.now() - start;
    assert.ok(waited >= 20 && waited < 2000, `woke after ${waited.toFixed(1)} ms`);
    assert.deepEqual([...pollOnce(sel)], [[a.fileno(), EVENT_READ]]);
  });

  t("park(timeout) returns after about the timeout when nothing happens", async (sel, pairs) => {
    const [a] = pairs();
    sel.register(a.fileno(), EVENT_READ);
    const start = performance.now();
    await sel.park(40);
    const waited = performance.now() - start;
    assert.ok(waited >= 35 && waited < 1000, `parked ${waited.toFixed(1)} ms`);
    assert.equal(sel.poll(), 0);
  });

  t("wakeup() ends a park; the waker is never reported and does not linger", async (sel) => {
    const start = performance.now();
    setTimeout(() => sel.wakeup(), 20);
    await sel.park(5000);
    assert.ok(performance.now() - start < 2000);
    assert.equal(sel.poll(), 0, "the waker is not an fd event");
    // Consumed: the next park waits its full timeout again.
    const again = performance.now();
    await sel.park(40);
    assert.ok(performance.now() - again >= 35, "a consumed wakeup does not end the next park");
  });

  t("wakeup() before park() ends it at once; many wakeups coalesce into one", async (sel) => {
    for (let i = 0; i < 100; i++) sel.wakeup();
    const start = performance.now();
    await sel.park(5000);
    assert.ok(performance.now() - start < 1000);
    assert.equal(sel.poll(), 0);
    const again = performance.now();
    await sel.park(40);
    assert.ok(performance.now() - again >= 35);
    sel.wakeup(); // and it still works after coalescing
    const third = performance.now();
    await sel.park(5000);
    assert.ok(performance.now() - third < 1000);
  });

  t("an fd registered during a park is watched by it", async (sel, pairs) => {
    const [a, b] = pairs();
    const parked = sel.park(3000);
    await hostDelay(20);
    b.send(enc.encode("x"));
    const start = performance.now();
    sel.register(a.fileno(), EVENT_READ);
    await parked;
    assert.ok(performance.now() - start < 1500, "the park saw the new fd");
    assert.equal(pollOnce(sel).get(a.fileno()), EVENT_READ);
  });

  test(`[${name}] close() releases every fd and thread it opened, and is idempotent`, async () => {
    const [a, b] = pair();
    const before = await stableFdCount();
    const sel = create();
    sel.register(a.fileno(), EVENT_READ);
    setTimeout(() => b.send(enc.encode("x")), 10);
    await sel.park(2000); // starts the parking thread where there is one
    sel.close();
    sel.close();
    assert.equal(await fdCountSettled(before), before);
    a.close();
    b.close();
  });
}
