/**
 * Per-event cost of the three ways to serve a raw fd (issue 18 §1): addReader callbacks,
 * readableEvents (the async iterator), and openReadFd/openWriteFd streams. Two pipes in one
 * loop play ping-pong: each side waits for one byte, reads it and writes one byte to the
 * other; ops = round trips per second, the median of --reps fresh loops after a warm-up.
 *
 *   deno run -A bench/fd_events.ts [--n=20000] [--reps=5]     bun bench/fd_events.ts ...
 *
 * Pin it (taskset -c 1) and compare rows of the same run: the host's speed drifts.
 */
import process from "node:process";
import {
  BlockingIOError, newEventLoop, openReadFd, openWriteFd, os, readableEvents, type BaseEventLoop,
} from "../mod.ts";

const arg = (name: string, dflt: number) => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.split("=")[1]) : dflt;
};
const N = arg("n", 20000);
const REPS = arg("reps", 5);
const one = new Uint8Array([1]);
const buf = new Uint8Array(16);

/** Two non-blocking pipes: [a read, a write, b read, b write]. */
function pipes(): [number, number, number, number] {
  const [ar, aw] = os.pipe(), [br, bw] = os.pipe();
  for (const fd of [ar, aw, br, bw]) os.setBlocking(fd, false);
  return [ar, aw, br, bw];
}

async function addReaderStyle(loop: BaseEventLoop, n: number): Promise<void> {
  const [ar, aw, br, bw] = pipes();
  let left = n;
  const done = loop.createFuture<void>();
  loop.addReader(ar, () => {
    os.readinto(ar, buf);
    if (--left === 0) done.setResult();
    else os.write(bw, one);
  });
  loop.addReader(br, () => {
    os.readinto(br, buf);
    os.write(aw, one);
  });
  os.write(aw, one);
  await done;
  loop.removeReader(ar);
  loop.removeReader(br);
  for (const fd of [ar, aw, br, bw]) os.close(fd);
}

/** Read one byte whenever `fd` is readable, `count` times, answering on `reply`. */
async function echoSide(fd: number, reply: number, count: number): Promise<void> {
  let left = count;
  for await (const _ of readableEvents(fd)) {
    try {
      os.readinto(fd, buf);
    } catch (e) {
      if (e instanceof BlockingIOError) continue;
      throw e;
    }
    if (--left === 0) break;
    os.write(reply, one);
  }
}

async function iteratorStyle(loop: BaseEventLoop, n: number): Promise<void> {
  const [ar, aw, br, bw] = pipes();
  const a = loop.createTask(() => echoSide(ar, bw, n));
  const b = loop.createTask(() => echoSide(br, aw, n));
  os.write(aw, one);
  await a;
  os.write(bw, one); // b waits for one more byte to end its count
  await b;
  for (const fd of [ar, aw, br, bw]) os.close(fd);
}

async function streamsStyle(loop: BaseEventLoop, n: number): Promise<void> {
  const [ar, aw, br, bw] = pipes();
  const [ra, wa, rb, wb] = [await openReadFd(ar), await openWriteFd(aw), await openReadFd(br), await openWriteFd(bw)];
  // a reads n bytes and answers all but the last; b answers each of the n - 1 it gets.
  const side = async (r: typeof ra, w: typeof wa, count: number, answerLast: boolean) => {
    for (let i = 0; i < count; i++) {
      await r.readexactly(1);
      if (answerLast || i + 1 < count) w.write(one);
    }
  };
  const a = loop.createTask(() => side(ra, wb, n, false));
  const b = loop.createTask(() => side(rb, wa, n - 1, true));
  wa.write(one);
  await a;
  await b;
  for (const w of [wa, wb]) w.close();
  await Promise.all([wa.waitClosed(), wb.waitClosed()]);
  // The readers see EOF and close their fds once the writers are gone.
  await Promise.all([ra.read(), rb.read()]);
}

const styles: [string, (loop: BaseEventLoop, n: number) => Promise<void>][] = [
  ["addReader callbacks", addReaderStyle],
  ["readableEvents iterator", iteratorStyle],
  ["openReadFd/openWriteFd streams", streamsStyle],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const rows: string[] = [];
for (const [name, body] of styles) {
  const rates: number[] = [];
  for (let rep = -1; rep < REPS; rep++) {
    const loop = newEventLoop();
    const n = rep < 0 ? Math.max(1, Math.floor(N / 10)) : N;
    const start = performance.now();
    await loop.runUntilComplete(() => body(loop, n));
    const seconds = (performance.now() - start) / 1000;
    loop.close();
    if (rep >= 0) rates.push(n / seconds);
  }
  rows.push(`| ${name} | ${Math.round(median(rates)).toLocaleString("en")} |`);
}
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";
console.log(`pipe ping-pong, ${N} round trips, median of ${REPS} (${runtime})\n`);
console.log("| style | round trips/s |\n|---|---|");
for (const row of rows) console.log(row);
