/**
 * poll(2) vs epoll selector (issue 8): the cost of one readiness round as the number of idle
 * watched fds grows. poll hands the kernel the whole pollfd array on every call and we scan it;
 * epoll keeps the interest set in the kernel and returns only what is ready.
 *
 *   deno run -A bench/selectors.ts [--reps=5] [--idle=10,1000] [--ms=400]
 *   bun bench/selectors.ts          [--reps=5] [--idle=10,1000] [--ms=400]
 *
 * Each configuration: `idle` socketpairs watched for reading that never become ready, plus 10
 * busy socketpairs where a byte bounces between the two ends forever (both ends watched, so 10
 * of the 20 busy fds are ready on every round). Three numbers per configuration:
 * - none ready: µs per `poll()` with every fd registered and none ready (busy pairs quiet) —
 *   the selector's pure per-call cost;
 * - selector: µs per round of `poll()` + reading and re-sending the ready bytes, through the
 *   Selector directly (no loop), so the number is the selector's own cost plus 10 recv + 10
 *   send syscalls, which are the same for both;
 * - loop: messages per second through a whole event loop (addReader callbacks), the same
 *   traffic, for `ms` milliseconds.
 * The median of --reps repetitions, implementations interleaved per repetition (the VM drifts).
 */
import { EVENT_READ, newEventLoop, type Selector, type Socket, socketpair } from "../mod.ts";
import { EpollSelector } from "../platform/linux.ts";
import { PollSelector } from "../platform/poll.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const isBun = typeof g.Bun !== "undefined";
const RUNTIME = isBun ? "bun" : "deno";
const argv: string[] = isBun ? g.process.argv.slice(2) : g.Deno.args;
function opt(name: string, dflt: string): string {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
}
const REPS = Number(opt("reps", "5"));
const IDLE = opt("idle", "10,1000").split(",").map(Number);
const MS = Number(opt("ms", "400"));
const BUSY = 10;

type Kind = "epoll" | "poll";
const make = (kind: Kind): Selector => kind === "epoll" ? new EpollSelector() : new PollSelector();

interface Fixture {
  idle: [Socket, Socket][];
  busy: [Socket, Socket][];
  close(): void;
}

function fixture(idleCount: number): Fixture {
  const mk = () => {
    const p = socketpair();
    p[0].setBlocking(false);
    p[1].setBlocking(false);
    return p;
  };
  const idle = Array.from({ length: idleCount }, mk);
  const busy = Array.from({ length: BUSY }, mk);
  return {
    idle, busy,
    close() {
      for (const [a, b] of [...idle, ...busy]) {
        a.close();
        b.close();
      }
    },
  };
}

const byte = new Uint8Array([1]);
const scratch = new Uint8Array(64);

/** µs per round of poll() + recv/send of the ready bytes, over at least `MS` ms. */
function selectorRound(kind: Kind, fx: Fixture): number {
  const sel = make(kind);
  const sockOf: Socket[] = [];
  try {
    for (const [a] of fx.idle) sel.register(a.fileno(), EVENT_READ);
    for (const [a, b] of fx.busy) {
      sel.register(a.fileno(), EVENT_READ);
      sel.register(b.fileno(), EVENT_READ);
      sockOf[a.fileno()] = a;
      sockOf[b.fileno()] = b;
      a.send(byte); // one byte in flight per pair: b is ready
    }
    let rounds = 0;
    const start = performance.now();
    const end = start + MS;
    let now = start;
    while (now < end) {
      for (let k = 0; k < 64; k++) {
        const n = sel.poll();
        for (let i = 0; i < n; i++) {
          const s = sockOf[sel.readyFds[i]];
          s.recvInto(scratch);
          s.send(byte);
        }
        rounds++;
      }
      now = performance.now();
    }
    // drain the byte still in flight so the next run starts from the same state
    for (const [a, b] of fx.busy) {
      for (const s of [a, b]) {
        try {
          s.recvInto(scratch);
        } catch { /* EAGAIN: not this end */ }
      }
    }
    return ((now - start) * 1000) / rounds;
  } finally {
    sel.close();
  }
}

/** µs per poll() when nothing is ready: the selector's pure per-call cost. */
function emptyPoll(kind: Kind, fx: Fixture): number {
  const sel = make(kind);
  try {
    for (const [a] of fx.idle) sel.register(a.fileno(), EVENT_READ);
    for (const [a, b] of fx.busy) {
      sel.register(a.fileno(), EVENT_READ);
      sel.register(b.fileno(), EVENT_READ);
    }
    let calls = 0;
    const start = performance.now();
    const end = start + MS / 2;
    let now = start;
    while (now < end) {
      for (let k = 0; k < 256; k++) sel.poll();
      calls += 256;
      now = performance.now();
    }
    return ((now - start) * 1000) / calls;
  } finally {
    sel.close();
  }
}

/** Messages per second through an event loop's addReader callbacks. */
async function loopRate(kind: Kind, fx: Fixture): Promise<number> {
  const loop = newEventLoop({ selector: kind });
  let messages = 0;
  try {
    for (const [a] of fx.idle) loop.addReader(a, () => {});
    for (const [a, b] of fx.busy) {
      for (const s of [a, b]) {
        loop.addReader(s, () => {
          s.recvInto(scratch);
          messages++;
          s.send(byte);
        });
      }
      a.send(byte);
    }
    const start = performance.now();
    loop.callLater(MS / 1000, () => loop.stop());
    await loop.runForever();
    const elapsed = performance.now() - start;
    for (const [a, b] of fx.busy) {
      loop.removeReader(a);
      loop.removeReader(b);
      for (const s of [a, b]) {
        try {
          s.recvInto(scratch);
        } catch { /* EAGAIN */ }
      }
    }
    for (const [a] of fx.idle) loop.removeReader(a);
    return messages / (elapsed / 1000);
  } finally {
    loop.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const rows: string[] = [];
for (const idle of IDLE) {
  const fx = fixture(idle);
  const empty: Record<Kind, number[]> = { epoll: [], poll: [] };
  const round: Record<Kind, number[]> = { epoll: [], poll: [] };
  const rate: Record<Kind, number[]> = { epoll: [], poll: [] };
  // warm-up
  for (const k of ["epoll", "poll"] as Kind[]) {
    emptyPoll(k, fx);
    selectorRound(k, fx);
    await loopRate(k, fx);
  }
  for (let r = 0; r < REPS; r++) {
    for (const k of (r % 2 ? ["poll", "epoll"] : ["epoll", "poll"]) as Kind[]) {
      empty[k].push(emptyPoll(k, fx));
      round[k].push(selectorRound(k, fx));
      rate[k].push(await loopRate(k, fx));
    }
  }
  fx.close();
  for (const k of ["epoll", "poll"] as Kind[]) {
    rows.push(
      `| ${RUNTIME} | ${k} | ${idle} idle + ${BUSY} busy pairs | ${median(empty[k]).toFixed(2)} | ` +
        `${median(round[k]).toFixed(1)} | ` +
        `${Math.round(median(rate[k]) / 1000)}k |`,
    );
  }
}
console.log(
  "| runtime | selector | watched | µs per poll(), none ready | µs per busy round (selector) | msgs/s (loop) |",
);
console.log("|---|---|---|---:|---:|---:|");
for (const r of rows) console.log(r);
