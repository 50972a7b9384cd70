/**
 * `os` and `fcntl` (ffi/os_module.ts, ffi/fcntl_module.ts) on real files, pipes and ptys:
 * Python's results and errors (OSError with errno, BlockingIOError for EAGAIN, TypeError naming
 * the argument), close-on-exec by default, ioctl filling a buffer in place, the constants from
 * the OS table, and no fd left open. Windows has no C library bound: the calls raise
 * NotImplementedError there (one test checks that; the rest are skipped).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isExecutableFile } from "../../ffi/files.ts";
import { osTable } from "../../ffi/os/current.ts";
import { isWindows } from "../../ffi/runtime.ts";
import {
  BlockingIOError, fcntl, NotImplementedError, os, OSError, OverflowError, ValueError,
} from "../../mod.ts";
import { stableFdCount, windowsLacks } from "../helpers.ts";

const posix = { skip: windowsLacks("a C library bound for os/fcntl") };
const enc = new TextEncoder(), dec = new TextDecoder();
const E = osTable.errno;

/** Run `body` with a temporary directory, removed after. */
function inTempDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "aioloop-os-"));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Assert `fn` throws an OSError (or subclass) with errno `name`. */
function throwsErrno(fn: () => unknown, name: string, cls: typeof OSError = OSError): OSError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof cls, `expected ${cls.name} ${name}, got ${caught}`);
  const err = caught as OSError;
  assert.equal(err.code, name);
  assert.equal(err.errno, E[name]);
  return err;
}

test("os.open/write/read/close on a regular file, with O_CREAT, O_EXCL, O_APPEND; close-on-exec", posix, async () => {
  const before = await stableFdCount();
  inTempDir((dir) => {
    const path = join(dir, "f.txt");
    const fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600);
    assert.equal(os.getInheritable(fd), false, "Python's os.open makes the fd non-inheritable");
    assert.equal(os.write(fd, enc.encode("hello ")), 6);
    os.close(fd);
    throwsErrno(() => os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL), "EEXIST");
    const app = os.open(path, os.O_WRONLY | os.O_APPEND);
    assert.equal(os.write(app, new Uint16Array([0x6f77, 0x6c72])), 4, "any typed array's bytes"); // "world" LE
    os.close(app);
    assert.equal(readFileSync(path, "utf8"), "hello worl");
    const rd = os.open(enc.encode(path), os.O_RDONLY); // a path as bytes, as Python's
    assert.equal(dec.decode(os.read(rd, 5)), "hello");
    const into = new Uint8Array(3);
    assert.equal(os.readinto(rd, into), 3);
    assert.equal(dec.decode(into), " wo");
    assert.equal(dec.decode(os.read(rd, 100)), "rl", "a short read returns only what was read");
    assert.equal(os.read(rd, 100).length, 0, "end of file: empty");
    assert.equal(os.read(rd, 0).length, 0);
    os.close(rd);
    writeFileSync(join(dir, "t"), "0123456789");
    const tr = os.open(join(dir, "t"), os.O_RDWR | os.O_TRUNC);
    assert.equal(os.read(tr, 10).length, 0, "O_TRUNC emptied it");
    os.close(tr);
  });
  assert.equal(await stableFdCount(), before, "no fd left open");
});

test("os.open errors: ENOENT naming the path, ENOTDIR, EISDIR; bad arguments", posix, () => {
  const err = throwsErrno(() => os.open("/nonexistent/aioloop", os.O_RDONLY), "ENOENT");
  assert.match(err.message, /No such file or directory.*\/nonexistent\/aioloop/);
  throwsErrno(() => os.open("/etc/passwd/x", os.O_RDONLY), "ENOTDIR");
  throwsErrno(() => os.open("/", os.O_WRONLY), "EISDIR");
  throwsErrno(() => os.open("/etc/passwd", os.O_RDONLY | os.O_DIRECTORY), "ENOTDIR");
  assert.throws(() => os.open(42 as unknown as string, os.O_RDONLY), { name: "TypeError", message: /os\.open: path must be a string/ });
  assert.throws(() => os.open("/etc/passwd", "r" as unknown as number), { name: "TypeError", message: /os\.open: flags must be an integer/ });
  assert.throws(() => os.open("/etc/passwd", 0, 1.5), { name: "TypeError", message: /mode must be an integer/ });
  assert.throws(() => os.open("a\0b", os.O_RDONLY), ValueError);
  assert.throws(() => os.open("/etc/passwd", 2 ** 40), OverflowError);
});

test("os.read/write/close errors: EBADF, negative n, wrong types", posix, () => {
  const [r, w] = os.pipe();
  os.close(r);
  os.close(w);
  throwsErrno(() => os.read(r, 1), "EBADF");
  throwsErrno(() => os.write(w, new Uint8Array(1)), "EBADF");
  throwsErrno(() => os.close(r), "EBADF");
  throwsErrno(() => os.read(-1, 1), "EBADF");
  throwsErrno(() => os.read(0, -1), "EINVAL"); // as Python's os.read
  assert.throws(() => os.read("0" as unknown as number, 1), { name: "TypeError", message: /os\.read: fd must be an integer/ });
  assert.throws(() => os.read(0, 1.5), { name: "TypeError", message: /os\.read: n must be an integer/ });
  assert.throws(() => os.write(1, "text" as unknown as Uint8Array), { name: "TypeError", message: /os\.write: data must be bytes/ });
  assert.throws(() => os.readinto(0, [1, 2] as unknown as Uint8Array), { name: "TypeError", message: /os\.readinto: buffer must be bytes/ });
  assert.throws(() => os.close(null as unknown as number), { name: "TypeError", message: /os\.close: fd must be an integer, got null/ });
});

test("os.pipe: close-on-exec, blocking; setBlocking(false) makes an empty read BlockingIOError (EAGAIN)", posix, async () => {
  const before = await stableFdCount();
  const [r, w] = os.pipe();
  try {
    assert.equal(os.getInheritable(r), false);
    assert.equal(os.getInheritable(w), false);
    assert.equal(os.getBlocking(r), true);
    os.setBlocking(r, false);
    assert.equal(os.getBlocking(r), false);
    const err = throwsErrno(() => os.read(r, 10), "EAGAIN", BlockingIOError);
    assert.equal(err.name, "BlockingIOError");
    assert.ok(err instanceof OSError, "BlockingIOError is an OSError, as in Python");
    // A full non-blocking pipe refuses a write the same way.
    os.setBlocking(w, false);
    const chunk = new Uint8Array(65536);
    let total = 0;
    assert.throws(() => {
      for (;;) total += os.write(w, chunk);
    }, BlockingIOError);
    assert.ok(total > 0);
    os.setInheritable(w, true);
    assert.equal(os.getInheritable(w), true);
    os.setInheritable(w, false);
    assert.equal(os.getInheritable(w), false);
    assert.throws(() => os.setBlocking(r, 0 as unknown as boolean), { name: "TypeError", message: /blocking must be a boolean/ });
  } finally {
    os.close(r);
    os.close(w);
  }
  throwsErrno(() => os.getBlocking(r), "EBADF");
  throwsErrno(() => os.setInheritable(r, true), "EBADF");
  assert.equal(await stableFdCount(), before);
});

test("os.openpty: a controller and a terminal, close-on-exec; ttyname and isatty; bytes cross both ways", posix, () => {
  const [controller, terminal] = os.openpty();
  try {
    assert.equal(os.getInheritable(controller), false);
    assert.equal(os.getInheritable(terminal), false);
    assert.ok(os.isatty(terminal) && os.isatty(controller));
    assert.match(os.ttyname(terminal), /^\/dev\/(pts\/\d+|tty\w+)$/);
    os.write(controller, enc.encode("ping\n"));
    assert.equal(dec.decode(os.read(terminal, 100)), "ping\n", "canonical mode delivers the line");
    os.write(terminal, enc.encode("pong"));
    // Echo of "ping\r\n" comes first, then pong.
    let got = "";
    while (!got.endsWith("pong")) got += dec.decode(os.read(controller, 100));
    assert.equal(got, "ping\r\npong");
    const [r, w] = os.pipe();
    throwsErrno(() => os.ttyname(r), "ENOTTY");
    assert.equal(os.isatty(r), false);
    os.close(r);
    os.close(w);
  } finally {
    os.close(controller);
    os.close(terminal);
  }
});

test("fcntl.fcntl: F_GETFL/F_SETFL, F_GETFD, F_DUPFD_CLOEXEC; errors", posix, () => {
  const [r, w] = os.pipe();
  try {
    assert.equal(fcntl.fcntl(r, fcntl.F_GETFL) & os.O_NONBLOCK, 0);
    fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_NONBLOCK);
    assert.equal(os.getBlocking(r), false);
    assert.equal(fcntl.fcntl(w, fcntl.F_GETFL) & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR), os.O_WRONLY);
    assert.equal(fcntl.fcntl(r, fcntl.F_GETFD) & fcntl.FD_CLOEXEC, fcntl.FD_CLOEXEC);
    const dup = fcntl.fcntl(w, fcntl.F_DUPFD_CLOEXEC, 100);
    assert.ok(dup >= 100, `the lowest free fd >= 100, got ${dup}`);
    assert.equal(os.getInheritable(dup), false);
    os.write(dup, enc.encode("x"));
    assert.equal(dec.decode(os.read(r, 1)), "x", "the duplicate writes the same pipe");
    os.close(dup);
    // The struct form returns a copy as the call left it (Python's bytes result).
    const arg = new Uint8Array([1, 2, 3]);
    const out = fcntl.fcntl(r, fcntl.F_GETFL, arg);
    assert.deepEqual([...out], [1, 2, 3]);
    assert.notEqual(out, arg);
    throwsErrno(() => fcntl.fcntl(r, 0x7fff), "EINVAL");
    assert.throws(() => fcntl.fcntl(r, fcntl.F_GETFL, new Uint8Array(1025)), ValueError);
    assert.throws(() => fcntl.fcntl(r, "F_GETFL" as unknown as number), { name: "TypeError", message: /fcntl\.fcntl: cmd must be an integer/ });
  } finally {
    os.close(r);
    os.close(w);
  }
  throwsErrno(() => fcntl.fcntl(r, fcntl.F_GETFL), "EBADF");
});

// <asm-generic/ioctls.h>: TIOCGWINSZ 0x5413, TIOCSWINSZ 0x5414, FIONREAD 0x541B; BSD
// <sys/ttycom.h>, <sys/filio.h>: _IOR('t', 104, struct winsize), _IOW('t', 103, …), _IOR('f', 127, int).
const TIOCGWINSZ = osTable.os === "linux" ? 0x5413 : 0x40087468;
const TIOCSWINSZ = osTable.os === "linux" ? 0x5414 : 0x80087467;
const FIONREAD = osTable.os === "linux" ? 0x541b : 0x4004667f;

test("fcntl.ioctl: a struct winsize set and read back in place (TIOCSWINSZ/TIOCGWINSZ); FIONREAD on a pipe", posix, () => {
  const [controller, terminal] = os.openpty();
  try {
    // struct winsize { unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel; } (<asm-generic/termios.h>)
    const set = new Uint8Array(8);
    new DataView(set.buffer).setUint16(0, 42, true);
    new DataView(set.buffer).setUint16(2, 132, true);
    assert.equal(fcntl.ioctl(terminal, TIOCSWINSZ, set), 0);
    const got = new Uint8Array(8).fill(0xff);
    assert.equal(fcntl.ioctl(controller, TIOCGWINSZ, got), 0);
    const view = new DataView(got.buffer);
    assert.deepEqual([view.getUint16(0, true), view.getUint16(2, true)], [42, 132], "filled in place");
    const [r, w] = os.pipe();
    os.write(w, enc.encode("abc\n"));
    const n = new Uint8Array(4);
    assert.equal(fcntl.ioctl(r, FIONREAD, n), 0);
    assert.equal(new DataView(n.buffer).getInt32(0, true), 4, "FIONREAD: 4 bytes wait in the pipe");
    throwsErrno(() => fcntl.ioctl(r, TIOCGWINSZ, got), "ENOTTY");
    throwsErrno(() => fcntl.ioctl(r, TIOCGWINSZ), "ENOTTY"); // the int form
    os.close(r);
    os.close(w);
    assert.throws(() => fcntl.ioctl(terminal, TIOCGWINSZ, "xx" as unknown as Uint8Array), { name: "TypeError", message: /fcntl\.ioctl: arg must be an integer or a Uint8Array/ });
    assert.throws(() => fcntl.ioctl(terminal, null as unknown as number), { name: "TypeError", message: /fcntl\.ioctl: request must be an integer/ });
    assert.throws(() => fcntl.ioctl(terminal, 2 ** 33), OverflowError);
  } finally {
    os.close(controller);
    os.close(terminal);
  }
  throwsErrno(() => fcntl.ioctl(terminal, TIOCGWINSZ, new Uint8Array(8)), "EBADF");
});

test("the O_* and F_* constants are this OS's table values (Linux: the kernel's numbers)", () => {
  const C = osTable.constants;
  for (const name of ["O_RDONLY", "O_WRONLY", "O_RDWR", "O_APPEND", "O_CREAT", "O_EXCL", "O_TRUNC", "O_NOCTTY", "O_NONBLOCK", "O_CLOEXEC", "O_SYNC", "O_DSYNC", "O_DIRECTORY", "O_NOFOLLOW"] as const) {
    assert.equal(os[name], C[name], name);
  }
  for (const name of ["F_DUPFD", "F_DUPFD_CLOEXEC", "F_GETFD", "F_SETFD", "F_GETFL", "F_SETFL", "FD_CLOEXEC"] as const) {
    assert.equal(fcntl[name], C[name], name);
  }
  if (osTable.os === "linux" && osTable.arch === "x86_64") {
    // Python's os module on this host says the same.
    assert.deepEqual(
      [os.O_CREAT, os.O_EXCL, os.O_TRUNC, os.O_APPEND, os.O_SYNC, os.O_DIRECTORY, os.O_NOFOLLOW, fcntl.F_DUPFD_CLOEXEC],
      [0o100, 0o200, 0o1000, 0o2000, 0o4010000, 0o200000, 0o400000, 1030],
    );
  }
  assert.ok(Object.isFrozen(os) && Object.isFrozen(fcntl));
});

test("Windows: os and fcntl calls raise NotImplementedError naming the call", { skip: !isWindows && "only on Windows" }, () => {
  assert.throws(() => os.pipe(), NotImplementedError);
  assert.throws(() => os.open("C:\\x", os.O_RDONLY), NotImplementedError);
  assert.throws(() => fcntl.ioctl(0, 1, 0), NotImplementedError);
  assert.throws(() => os.setBlocking(0, true), NotImplementedError);
  assert.throws(() => os.read(0, 1), { name: "NotImplementedError", message: /read\(\): aioloop binds no C library on Windows/ });
});

test("isExecutableFile (the child's PATH lookup): an executable file yes; a directory, a plain file, nothing: no", posix, () => {
  assert.equal(isExecutableFile("/bin/sh"), true);
  assert.equal(isExecutableFile("/bin"), false, "a directory is searchable (X_OK) but not a program");
  assert.equal(isExecutableFile("/etc/passwd"), false);
  assert.equal(isExecutableFile("/nonexistent/sh"), false);
  assert.equal(isExecutableFile("/bin/s\0h"), false);
});
