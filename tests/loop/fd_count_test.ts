/**
 * tests/helpers.ts's fd counting, which every leak check relies on: Linux's /proc/self/fd, and
 * /dev/fd where there is no /proc (macOS, FreeBSD). Both listings exist on Linux (/dev/fd links
 * to /proc/self/fd), so the BSD path is run here against real fds too.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { closeFd, libc } from "../../ffi/libc.ts";
import { countFdsIn, fdDirectory, openFdCount, removeTree, windowsLacks } from "../helpers.ts";

test("fdDirectory: /proc/self/fd where it exists, else /dev/fd", () => {
  assert.equal(fdDirectory(() => true), "/proc/self/fd");
  assert.equal(fdDirectory((p) => p !== "/proc/self/fd"), "/dev/fd");
  assert.equal(fdDirectory(() => false), "/dev/fd");
});

/** Run `body` while another thread opens and closes an fd over and over. */
async function withFdChurn(body: () => void): Promise<void> {
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(new URL("../fixtures/fd_churn_worker.ts", import.meta.url), {
    workerData: { flag },
  });
  const exited = new Promise((resolve) => worker.once("exit", resolve));
  try {
    await new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    // Start while the thread is on a CPU (two rounds seen just now), not merely started.
    const end = performance.now() + 1000;
    for (const start = Atomics.load(flag, 1); Atomics.load(flag, 1) < start + 2;) {
      if (performance.now() > end) break;
    }
    body();
  } finally {
    Atomics.store(flag, 0, 1);
    await exited;
  }
}

/**
 * One pass of `counts`, repeated until a pass agrees (at most 200 passes); that pass, or the
 * last. Other threads open and close fds between two listings (earlier tests' workers and
 * children end a little after their test in a shared process), so two listings taken back to
 * back may differ by what changed between them; a listing that counts differently from the
 * others differs in every pass and still fails the assertion.
 */
function agreeingCounts(...counts: (() => number)[]): number[] {
  let pass: number[] = [];
  for (let i = 0; i < 200; i++) {
    pass = counts.map((count) => count());
    if (pass.every((n) => n === pass[0])) break;
  }
  return pass;
}

/** F_DUPFD: 0 on Linux (<asm-generic/fcntl.h>), macOS and FreeBSD (<sys/fcntl.h>). */
const F_DUPFD = 0;
/**
 * Where the pipe's fds are moved: above the numbers this process uses (a listing's own directory
 * fd and other threads' new fds take the lowest free numbers, so they could reuse a low number
 * the test just closed), below the smallest common RLIMIT_NOFILE (256 on macOS).
 */
const HIGH_FD = 200;

/** Which of `fds` a listing of `dir` shows. */
function listedOf(dir: string, fds: number[]): number[] {
  const names = new Set(readdirSync(dir));
  return fds.filter((fd) => names.has(String(fd)));
}

test("/dev/fd counts what /proc/self/fd counts, and follows a pipe opened and closed", {
  skip: windowsLacks("/dev/fd"),
}, () => withFdChurn(() => {
  // Linux has both listings; macOS and FreeBSD only /dev/fd.
  const dirs = existsSync("/proc/self/fd") ? ["/dev/fd", "/proc/self/fd"] : ["/dev/fd"];
  const counts = agreeingCounts(...dirs.map((dir) => () => countFdsIn(dir)), openFdCount);
  assert.deepEqual(counts, counts.map(() => counts[0]), `${dirs.join(", ")}, openFdCount()`);
  // Followed by number, not by count: another thread's fds come and go meanwhile.
  const pipe = new Int32Array(2);
  assert.equal(libc.pipe(pipe), 0);
  const fds = [...pipe].map((fd) => libc.fcntl(fd, F_DUPFD, HIGH_FD));
  closeFd(pipe[0]);
  closeFd(pipe[1]);
  try {
    assert.ok(fds.every((fd) => fd >= HIGH_FD), `fcntl(F_DUPFD) gave ${fds}`);
    for (const dir of dirs) assert.deepEqual(listedOf(dir, fds), fds, dir);
  } finally {
    for (const fd of fds) if (fd >= 0) closeFd(fd);
  }
  for (const dir of dirs) assert.deepEqual(listedOf(dir, fds), [], dir);
}));

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
