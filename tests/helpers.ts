/**
 * Shared test helpers: a fresh loop per test, fd counting, collecting exception contexts.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, rmdirSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { isWindows, osName, readEnv } from "../ffi/runtime.ts";
import { handleTypeName, openHandles } from "./windows/win.ts";
import { getRunningLoopOrNull } from "../loop/core/running.ts";
import { baseEventLoopOf } from "../loop/base_loop.ts";
import { type BaseEventLoop, type ExceptionContext, type Future, newEventLoop } from "../mod.ts";

/**
 * A test's skip reason on Windows: `piece`, naming what Windows (or Wine) lacks that the test
 * needs; false elsewhere. Use as `{ skip: windowsLacks("python3 under Wine") }`, so every skip
 * says what is missing and runs everywhere that has it.
 */
export function windowsLacks(piece: string): string | false {
  return isWindows ? `Windows lacks ${piece}` : false;
}

/**
 * A test's skip reason when its loop runs on libkqueue (AIOLOOP_SELECTOR=kqueue on Linux, see
 * ffi/libkqueue.ts): `deviation`, naming where libkqueue differs from kqueue(2) so that the
 * test cannot pass there; false elsewhere (real kqueue, epoll, poll, the proactor loop).
 */
export function libkqueueLacks(deviation: string): string | false {
  const onLibkqueue = osName === "linux" && readEnv("AIOLOOP_SELECTOR") === "kqueue" &&
    readEnv("AIOLOOP_LOOP") !== "proactor";
  return onLibkqueue ? `libkqueue differs from kqueue(2): ${deviation}` : false;
}

/**
 * The skip reason of a test that needs a socket's pending error: on EPOLLERR libkqueue reads it
 * with getsockopt(SO_ERROR) into the event's fflags (src/linux/read.c, write.c), which on Linux
 * clears it, so a refused connect(2) then reads SO_ERROR 0 and looks made, and a reset reaches
 * recv() as a clean EOF. Real kqueue copies so_error without clearing it (tests/platform/
 * libkqueue_test.ts shows the difference).
 */
export const libkqueueClearsSocketError: string | false = libkqueueLacks(
  "it reads and so clears a socket's pending error (SO_ERROR) when it reports EPOLLERR",
);

/**
 * The directory listing this process's open fds: Linux's /proc/self/fd, else /dev/fd (macOS's
 * fdesc file system; FreeBSD's fdescfs). `exists` is injectable so the choice is testable here.
 */
export function fdDirectory(exists: (path: string) => boolean = existsSync): string {
  return exists("/proc/self/fd") ? "/proc/self/fd" : "/dev/fd";
}

/**
 * How many fds the directory `dir` (see fdDirectory) lists. A FreeBSD /dev/fd without fdescfs
 * mounted is plain devfs holding only 0, 1 and 2 (fdescfs(5)), which would make every fd test
 * pass vacuously: that is an Error saying how to mount it. (A process running these tests always
 * has more than three fds: the runtime's own, at least.)
 */
export function countFdsIn(dir: string): number {
  const names = readdirSync(dir);
  if (names.every((n) => n === "0" || n === "1" || n === "2")) {
    throw new Error(
      `${dir} lists only fds 0-2, so it does not show this process's fds: on FreeBSD, mount ` +
        "fdescfs there (mount -t fdescfs fdesc /dev/fd) to run the fd-counting tests",
    );
  }
  return names.length;
}

const fdDir = isWindows ? "" : fdDirectory();

/**
 * How many fds this process has open now (fdDirectory(): /proc/self/fd on Linux, /dev/fd on
 * macOS and FreeBSD; either listing counts the fd that reads it); on Windows, how many handles
 * (GetHandleInformation over the handle values, tests/windows/win.ts), sockets among them,
 * but no Thread handles: those come and go with Bun's and Wine's own threads and a closed
 * loop's parking Worker, which ends a little after close() (measured under Wine: a Thread
 * handle new or gone after a loop closed, in 2 of 4 sock_ops_test runs). The Windows cases
 * (tests/windows) check thread handles themselves, by value.
 */
export function openFdCount(): number {
  if (!isWindows) return countFdsIn(fdDir);
  let n = 0;
  for (const h of openHandles()) if (handleTypeName(h) !== "Thread") n++;
  return n;
}

/**
 * Run `body` with a new loop that is always closed afterwards. A test that failed while its
 * loop was still running gets the loop stopped first, so one failure cannot make every later
 * test in the process fail with "another loop is running".
 */
export async function withLoop<T>(body: (loop: BaseEventLoop) => Promise<T> | T): Promise<T> {
  const loop = newEventLoop();
  try {
    return await body(loop);
  } finally {
    for (let i = 0; i < 100 && loop.isRunning(); i++) {
      loop.stop();
      await hostDelay(10);
    }
    if (!loop.isRunning()) loop.close();
  }
}

/** Install an exception handler on `loop` that records every context it receives. */
export function captureExceptions(loop: BaseEventLoop): ExceptionContext[] {
  const seen: ExceptionContext[] = [];
  loop.setExceptionHandler((_loop, ctx) => {
    seen.push(ctx);
  });
  return seen;
}

/** Resolve after `ms` host milliseconds (a host timer, not the loop's). */
export function hostDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Wait (up to `ms`) until the open fd count is back to `expected`, and return the count. A
 * terminated Worker (Bun's parking thread) releases its own fds a moment after terminate().
 */
export async function fdCountSettled(expected: number, ms = 3000): Promise<number> {
  const end = performance.now() + ms;
  let n = openFdCount();
  while (n !== expected && performance.now() < end) {
    await hostDelay(10);
    n = openFdCount();
  }
  return n;
}

/**
 * The open fd count once it stops changing (two reads 50 ms apart agree): earlier tests' child
 * processes and terminated workers release their fds a little after they end.
 */
export async function stableFdCount(): Promise<number> {
  if (isWindows) await warmUpWinsock();
  let prev = openFdCount();
  for (let i = 0; i < 40; i++) {
    await hostDelay(50);
    const n = openFdCount();
    if (n === prev) return n;
    prev = n;
  }
  return prev;
}

/**
 * Windows: the handles open now that were not in `before` (an openHandles() set), plus `gone`
 * if it is still open, as "value:Type", after waiting up to `ms` for them to close. Thread
 * handles are left out: they come and go with Bun's and Wine's own threads (measured: one open
 * before gone 8 s after a loop closed; a new one after 10,000 connections in 1 run of 3), so
 * handle counts can move either way; what a leak shows is a socket, event or completion port.
 */
export async function handlesLeftSince(before: Set<number>, gone: number, ms = 3000): Promise<string[]> {
  let left: string[] = [];
  for (const end = performance.now() + ms; performance.now() < end;) {
    left = [...openHandles()].filter((h) => !before.has(h) || h === gone)
      .map((h) => `${h}:${handleTypeName(h)}`).filter((name) => !name.endsWith(":Thread"));
    if (left.length === 0) break;
    await hostDelay(10);
  }
  return left;
}

/** What is open: the fd count once stable, and on Windows the handles themselves. */
export interface OpenNow {
  fds: number;
  handles: Set<number>;
}

/** What is open now (not inside runUntilComplete: on Windows stableFdCount() runs a loop). */
export async function openNow(): Promise<OpenNow> {
  const fds = await stableFdCount();
  return { fds, handles: isWindows ? openHandles() : new Set() };
}

/**
 * Everything opened since `before` is closed, and so is `gone` (an fd open in `before`): the
 * fd count exactly on Unix; on Windows the handle sets (handlesLeftSince), not counts, since
 * Bun's and Wine's own handles come and go (a count once came out one short, 34 !== 35, in CI).
 */
export async function assertClosedSince(before: OpenNow, gone?: number): Promise<void> {
  if (isWindows) {
    assert.deepEqual(await handlesLeftSince(before.handles, gone ?? -1), []);
    return;
  }
  const expected = gone === undefined ? before.fds : before.fds - 1;
  assert.equal(await fdCountSettled(expected), expected);
}

/**
 * Delete the directory `dir` and everything in it. Not rmSync(dir, { recursive: true }): in
 * Bun's Windows build under Wine 8.0 that fails with EFAULT even for an empty directory, while
 * unlinkSync and rmdirSync work.
 */
export function removeTree(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) removeTree(path);
    else unlinkSync(path);
  }
  rmdirSync(dir);
}

let winsockWarm = false;

/**
 * Under Wine, the process's first overlapped connect/accept/send/receive leaves 3 handles open
 * for good (seen: 20 → 23 after the first loopback TCP exchange, then 23 → 23 for every later
 * loop); that is Winsock's and Wine's own one-time state, not a loop's. Run one such exchange
 * before the first handle snapshot, so leak checks count only what a test opens: on the
 * running loop when called from a task (a second loop cannot run then), else on a new one.
 */
async function warmUpWinsock(): Promise<void> {
  if (winsockWarm) return;
  const running = getRunningLoopOrNull();
  if (running !== null) {
    await loopbackExchange(baseEventLoopOf(running));
  } else {
    const loop = newEventLoop();
    try {
      await loop.runUntilComplete(() => loopbackExchange(loop));
    } finally {
      loop.close();
    }
  }
  winsockWarm = true;
}

/** One byte over a loopback TCP connection made with the loop's sock* calls. */
async function loopbackExchange(loop: BaseEventLoop): Promise<void> {
  const { AF_INET, SOCK_STREAM, Socket } = await import("../mod.ts");
  const srv = new Socket(AF_INET, SOCK_STREAM);
  const cli = new Socket(AF_INET, SOCK_STREAM);
  try {
    srv.bind(["127.0.0.1", 0]);
    srv.listen(1);
    srv.setBlocking(false);
    cli.setBlocking(false);
    const accepting = loop.createTask(() => loop.sockAccept(srv));
    await loop.sockConnect(cli, srv.getsockname()!);
    const [conn] = await accepting;
    await loop.sockSendall(cli, new Uint8Array([1]));
    await loop.sockRecv(conn, 1);
    conn.close();
  } finally {
    cli.close();
    srv.close();
  }
}

/** The bytes of `chunks`, one after the other, in one array. */
export function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Run the loop until `fut` is done, without throwing its outcome. */
export async function settle(loop: BaseEventLoop, fut: Future<unknown>): Promise<void> {
  const done = loop.createFuture();
  fut.addDoneCallback(() => {
    if (!done.done()) done.setResult(undefined);
  });
  await loop.runUntilComplete(done);
}
