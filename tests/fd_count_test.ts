/**
 * tests/helpers.ts's fd counting, which every leak check relies on: Linux's /proc/self/fd, and
 * /dev/fd where there is no /proc (macOS, FreeBSD). Both listings exist on Linux (/dev/fd links
 * to /proc/self/fd), so the BSD path is run here against real fds too.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { closeFd, libc } from "../ffi/libc.ts";
import { countFdsIn, fdDirectory, openFdCount, removeTree, windowsLacks } from "./helpers.ts";

test("fdDirectory: /proc/self/fd where it exists, else /dev/fd", () => {
  assert.equal(fdDirectory(() => true), "/proc/self/fd");
  assert.equal(fdDirectory((p) => p !== "/proc/self/fd"), "/dev/fd");
  assert.equal(fdDirectory(() => false), "/dev/fd");
});

test("/dev/fd counts what /proc/self/fd counts, and follows a pipe opened and closed", {
  skip: windowsLacks("/dev/fd"),
}, () => {
  // Linux has both listings; macOS and FreeBSD only /dev/fd.
  const proc = existsSync("/proc/self/fd");
  const before = countFdsIn("/dev/fd");
  if (proc) assert.equal(before, countFdsIn("/proc/self/fd"));
  assert.equal(openFdCount(), before);
  const fds = new Int32Array(2);
  assert.equal(libc.pipe(fds), 0);
  try {
    assert.equal(countFdsIn("/dev/fd"), before + 2);
    if (proc) assert.equal(countFdsIn("/proc/self/fd"), before + 2);
  } finally {
    closeFd(fds[0]);
    closeFd(fds[1]);
  }
  assert.equal(countFdsIn("/dev/fd"), before);
});

test("a /dev/fd that lists only 0-2 (FreeBSD without fdescfs) is an error, not a count", () => {
  const dir = mkdtempSync(join(tmpdir(), "aioloop-fd-"));
  try {
    for (const name of ["0", "1", "2"]) writeFileSync(join(dir, name), "");
    assert.throws(() => countFdsIn(dir), /lists only fds 0-2.*mount -t fdescfs fdesc \/dev\/fd/);
    writeFileSync(join(dir, "3"), "");
    assert.equal(countFdsIn(dir), 4);
  } finally {
    removeTree(dir);
  }
});
