import assert from "node:assert/strict";
import { test } from "node:test";
import { check, errnoName, isNonBlocking, libc, libcPath, setNonBlocking } from "../../ffi/libc.ts";
import { openLibrary } from "../../ffi/runtime.ts";
import { OSError, Socket, socketpair, ValueError } from "../../mod.ts";

test("a failing call becomes an OSError with errno, code and strerror", () => {
  assert.throws(() => check(libc.close(-1), "close"), (e: unknown) => {
    assert.ok(e instanceof OSError);
    assert.equal(e.errno, 9);
    assert.equal(e.code, "EBADF");
    assert.equal(e.strerror, "Bad file descriptor");
    assert.equal(e.message, "[Errno 9] Bad file descriptor (close)");
    return true;
  });
});

test("errno names come from the kernel headers", () => {
  assert.equal(errnoName(111), "ECONNREFUSED");
  assert.equal(errnoName(98), "EADDRINUSE");
  assert.equal(errnoName(11), "EAGAIN");
  assert.equal(errnoName(99999), "E99999");
});

test("setNonBlocking toggles O_NONBLOCK; Socket exposes it as setBlocking/getBlocking", () => {
  const [a, b] = socketpair();
  try {
    assert.equal(a.getBlocking(), true);
    a.setBlocking(false);
    assert.equal(a.getBlocking(), false);
    assert.equal(isNonBlocking(a.fileno()), true);
    setNonBlocking(a.fileno(), false);
    assert.equal(a.getBlocking(), true);
  } finally {
    a.close();
    b.close();
  }
});

test("Socket send/recv move bytes; EAGAIN on an empty non-blocking socket; closed socket is a ValueError", () => {
  const [a, b] = socketpair();
  a.setBlocking(false);
  assert.equal(b.send(new Uint8Array([1, 2, 3])), 3);
  assert.deepEqual([...a.recv(10)], [1, 2, 3]);
  assert.throws(() => a.recv(10), (e: unknown) => e instanceof OSError && e.code === "EAGAIN");
  // deno-lint-ignore no-explicit-any
  assert.throws(() => a.send("text" as any), /bytes-like/);
  assert.throws(() => a.recv(-1), ValueError);
  b.close();
  assert.equal(a.recv(10).length, 0, "EOF after the peer closed");
  assert.throws(() => a.send(new Uint8Array([1])), (e: unknown) => e instanceof OSError && e.code === "EPIPE");
  a.close();
  a.close();
  assert.equal(a.fileno(), -1);
  assert.throws(() => a.recv(1), ValueError);
  assert.throws(() => new Socket(12345, 1), (e: unknown) => e instanceof OSError && e.code === "EAFNOSUPPORT");
});

test("a `len` argument reaches C as the exact 64-bit size (Deno passes it as i32)", () => {
  // strnlen(s, n) on bytes with no NUL returns n exactly: garbage in the upper 32 bits of the
  // length register would make it read on and return more (or fault).
  const strnlen = openLibrary(libcPath, {
    strnlen: { args: ["buffer", "len"], result: "i32" },
  }).symbols.strnlen;
  const bytes = new Uint8Array(4096).fill(65);
  for (let i = 0; i < 200000; i++) {
    const n = (i * 2654435761) % 4000;
    const got = strnlen(bytes, n);
    if (got !== n) assert.fail(`strnlen(len=${n}) returned ${got}`);
  }
});
