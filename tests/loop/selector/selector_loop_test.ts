import assert from "node:assert/strict";
import { openSync, closeSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { OSError, RuntimeError, ValueError, socketpair } from "../../../mod.ts";
import { defaultSelectorKind } from "../../../platform/default_selector.ts";
import { captureExceptions, withLoop } from "../../helpers.ts";

const enc = new TextEncoder();

test("addReader fires when data arrives, with its args; removeReader stops it", () =>
  withLoop(async (loop) => {
    const [a, b] = socketpair();
    try {
      a.setBlocking(false);
      const got: string[] = [];
      loop.addReader(a, (tag: string) => {
        got.push(tag + new TextDecoder().decode(a.recv(100)));
        assert.equal(loop.removeReader(a), true);
        loop.stop();
      }, "got:");
      loop.callLater(0.005, () => b.send(enc.encode("ping")));
      await loop.runForever();
      assert.deepEqual(got, ["got:ping"]);
      assert.equal(loop.removeReader(a), false);
    } finally {
      a.close();
      b.close();
    }
  }));

test("addWriter fires while writable; reader and writer on one fd are independent", () =>
  withLoop(async (loop) => {
    const [a, b] = socketpair();
    try {
      let writes = 0, reads = 0;
      loop.addWriter(a.fileno(), () => {
        writes++;
        if (writes === 3) {
          assert.equal(loop.removeWriter(a.fileno()), true);
          b.send(enc.encode("x"));
        }
      });
      loop.addReader(a.fileno(), () => {
        reads++;
        a.recv(10);
        loop.stop();
      });
      await loop.runForever();
      assert.equal(writes, 3);
      assert.equal(reads, 1);
      assert.equal(loop.removeWriter(a), false);
      assert.equal(loop.removeReader(a), true);
    } finally {
      a.close();
      b.close();
    }
  }));

test("adding a second reader replaces (and cancels) the first", () =>
  withLoop(async (loop) => {
    const [a, b] = socketpair();
    try {
      const calls: string[] = [];
      loop.addReader(a, () => calls.push("first"));
      loop.addReader(a, () => {
        calls.push("second");
        a.recv(10);
        loop.removeReader(a);
        loop.stop();
      });
      b.send(enc.encode("x"));
      await loop.runForever();
      assert.deepEqual(calls, ["second"]);
    } finally {
      a.close();
      b.close();
    }
  }));

test("bad fds: negative/non-integer → ValueError, not a file object → ValueError, closed → OSError EBADF", () =>
  withLoop(async (loop) => {
    const noop = () => {};
    assert.throws(() => loop.addReader(-1, noop), ValueError);
    assert.throws(() => loop.addReader(1.5, noop), /Invalid file descriptor: 1.5/);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => loop.addReader({} as any, noop), /Invalid file object/);
    // asyncio: ValueError("Invalid file object: 'x'") (selectors._fileobj_to_fd).
    // deno-lint-ignore no-explicit-any
    assert.throws(() => loop.addReader("x" as any, noop), (e) => e instanceof ValueError && /Invalid file object: "x"/.test(e.message));
    // deno-lint-ignore no-explicit-any
    assert.throws(() => loop.addWriter("3" as any, noop), ValueError);
    assert.throws(() => loop.removeReader(-5), ValueError);
    const [a, b] = socketpair();
    const fd = a.fileno();
    a.close();
    b.close();
    assert.throws(() => loop.addReader(fd, noop), (e: unknown) => {
      assert.ok(e instanceof OSError);
      assert.equal(e.errno, 9);
      assert.equal(e.code, "EBADF");
      assert.equal(e.strerror, "Bad file descriptor");
      return true;
    });
    // deno-lint-ignore no-explicit-any
    assert.throws(() => loop.addReader(0, "nope" as any), /callable object was expected by addReader/);
    assert.equal(loop.removeReader(fd), false);
    assert.equal(loop.removeWriter(12345), false);
    // The loop still runs after all of that.
    await loop.runUntilComplete(Promise.resolve());
  }));

test("a regular file cannot be watched: OSError EPERM from epoll (kqueue watches it)", () =>
  withLoop((loop) => {
    const dir = mkdtempSync(join(tmpdir(), "aioloop-"));
    const fd = openSync(join(dir, "f"), "w");
    try {
      if (defaultSelectorKind() === "kqueue") {
        // kqueue(2): EVFILT_READ on a vnode is accepted (readable while not at end of file).
        loop.addReader(fd, () => {});
        assert.equal(loop.removeReader(fd), true);
        return;
      }
      assert.throws(() => loop.addReader(fd, () => {}), (e: unknown) =>
        e instanceof OSError && e.code === "EPERM");
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true });
    }
  }));

test("an exception in a reader goes to the handler; other fds keep their data flowing", () =>
  withLoop(async (loop) => {
    const seen = captureExceptions(loop);
    const [a, b] = socketpair();
    const [c, d] = socketpair();
    try {
      const received: string[] = [];
      loop.addReader(a, () => {
        a.recv(10);
        loop.removeReader(a);
        throw new Error("reader failed");
      });
      loop.addReader(c, () => {
        received.push(new TextDecoder().decode(c.recv(10)));
        if (received.length === 2) loop.stop();
        else d.send(enc.encode("two"));
      });
      b.send(enc.encode("x"));
      d.send(enc.encode("one"));
      await loop.runForever();
      assert.deepEqual(received, ["one", "two"]);
      assert.equal(seen.length, 1);
      assert.match(String(seen[0].exception), /reader failed/);
      assert.ok(seen[0].handle);
    } finally {
      loop.removeReader(c);
      for (const s of [a, b, c, d]) s.close();
    }
  }));

test("an fd closed while watched, and its number reused, can be watched again", () =>
  withLoop(async (loop) => {
    const [a, b] = socketpair();
    const fd = a.fileno();
    loop.addReader(fd, () => {});
    a.close(); // the kernel drops it from the epoll set
    b.close();
    const [c, d] = socketpair(); // likely reuses fd's number
    try {
      let read = false;
      loop.addWriter(c, () => {
        loop.removeWriter(c);
      });
      loop.addReader(c, () => {
        read = true;
        c.recv(10);
        loop.stop();
      });
      d.send(enc.encode("z"));
      await loop.runForever();
      assert.equal(read, true);
      assert.equal(loop.removeReader(c), true);
      loop.removeReader(fd);
    } finally {
      c.close();
      d.close();
    }
  }));

test("removeReader on a closed loop returns false; addReader raises RuntimeError", async () => {
  const [a, b] = socketpair();
  try {
    await withLoop((loop) => {
      loop.addReader(a, () => {});
      loop.close();
      assert.equal(loop.removeReader(a), false);
      assert.throws(() => loop.addReader(a, () => {}), RuntimeError);
    });
  } finally {
    a.close();
    b.close();
  }
});

test("test_add_reader_or_writer_transport_fd: a live transport's fd is refused with RuntimeError; once it closed, allowed", () =>
  withLoop(async (loop) => {
    const [rsock, wsock] = socketpair();
    try {
      const [tr] = await loop.runUntilComplete(loop.createConnection(() => ({}), null, null, { sock: rsock }));
      const used = (e: unknown) => e instanceof RuntimeError && /File descriptor \d+ is used by transport/.test(e.message);
      const cb = () => {};
      const fd = rsock.fileno();
      assert.throws(() => loop.addReader(rsock, cb), used);
      assert.throws(() => loop.addReader(fd, cb), used);
      assert.throws(() => loop.removeReader(rsock), used);
      assert.throws(() => loop.removeReader(fd), used);
      assert.throws(() => loop.addWriter(rsock, cb), used);
      assert.throws(() => loop.addWriter(fd, cb), used);
      assert.throws(() => loop.removeWriter(rsock), used);
      assert.throws(() => loop.removeWriter(fd), used);
      // The transport still works: its own watcher was not replaced.
      let got = "";
      tr.setProtocol({ dataReceived: (d: Uint8Array) => (got += new TextDecoder().decode(d)) });
      wsock.send(enc.encode("still mine"));
      await loop.runUntilComplete(async () => {
        for (let i = 0; i < 500 && got === ""; i++) await new Promise<void>((r) => loop.callLater(0.002, () => r()));
      });
      assert.equal(got, "still mine");
      tr.close();
      // Closing: the fd is no longer the transport's to guard.
      assert.equal(loop.removeReader(fd), false);
    } finally {
      wsock.close();
    }
  }));
