/**
 * Living inside the host runtime (docs/DESIGN.md, "Two loops in one thread"): while aioloop
 * runs or is parked, the host's own timers, promises and servers keep working; a parked loop
 * uses ~0 % CPU; fd readiness, due timers and callSoonThreadsafe from host callbacks wake it
 * promptly.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { runScriptCommand } from "../../ffi/runtime.ts";
import { type BaseEventLoop, newEventLoop, sleep, socketpair } from "../../mod.ts";
import { fdCountSettled, hostDelay, openFdCount, stableFdCount, withLoop } from "../helpers.ts";

test("host timers keep firing while the loop is parked", () =>
  withLoop(async (loop) => {
    let ticks = 0;
    const interval = setInterval(() => ticks++, 5);
    try {
      await loop.runUntilComplete(() => sleep(0.3));
    } finally {
      clearInterval(interval);
    }
    assert.ok(ticks >= 20, `only ${ticks} host ticks in 300 ms`);
  }));

test("host timers keep firing while the loop is busy with callbacks", () =>
  withLoop(async (loop) => {
    let ticks = 0;
    const interval = setInterval(() => ticks++, 5);
    const end = loop.time() + 0.3;
    let spins = 0;
    const spin = () => {
      spins++;
      if (loop.time() < end) loop.callSoon(spin);
      else loop.stop();
    };
    loop.callSoon(spin);
    try {
      await loop.runForever();
    } finally {
      clearInterval(interval);
    }
    assert.ok(spins > 1000, `loop made only ${spins} iterations`);
    assert.ok(ticks >= 20, `only ${ticks} host ticks in 300 ms of busy loop`);
  }));

test("a host HTTP server and fetch keep working beside a running aioloop", () =>
  withLoop(async (loop) => {
    const server = createServer((_req, res) => res.end("hello from host"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const bodies = await loop.runUntilComplete(async () => {
        const out: string[] = [];
        for (let i = 0; i < 5; i++) {
          // The task awaits host I/O (a native Promise) while the loop keeps its own timers.
          const [res] = await Promise.all([fetch(`http://127.0.0.1:${port}/`), sleep(0.01)]);
          out.push(await res.text());
        }
        return out;
      });
      assert.deepEqual(bodies, Array(5).fill("hello from host"));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }));

/**
 * A saturating ping-pong on the loop (both ends of a socketpair readers, each sending the byte
 * back at once: the loop never runs out of ready callbacks) while `body` runs as host code.
 */
async function whileLoopBusy<T>(loop: BaseEventLoop, body: () => Promise<T>): Promise<[T, number]> {
  const [a, b] = socketpair();
  a.setBlocking(false);
  b.setBlocking(false);
  const byte = new Uint8Array([1]);
  const inbox = new Uint8Array(1);
  let trips = 0;
  loop.addReader(a, () => {
    a.recvInto(inbox, 1);
    trips++;
    a.send(byte);
  });
  loop.addReader(b, () => {
    b.recvInto(inbox, 1);
    b.send(byte);
  });
  a.send(byte);
  const running = loop.runForever();
  try {
    return [await body(), trips];
  } finally {
    loop.stop();
    await running;
    loop.removeReader(a);
    loop.removeReader(b);
    a.close();
    b.close();
  }
}

test("a host node:http server answers fetch promptly while the loop is saturated", () =>
  withLoop(async (loop) => {
    const server = createServer((_req, res) => res.end("hello from host"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const [times, trips] = await whileLoopBusy(loop, async () => {
        const ms: number[] = [];
        for (let i = 0; i < 20; i++) {
          const start = performance.now();
          const res = await fetch(`http://127.0.0.1:${port}/`);
          assert.equal(await res.text(), "hello from host");
          ms.push(performance.now() - start);
        }
        return ms;
      });
      // Loose bounds (a loaded host stalls for tens of ms): on Deno, setImmediate turns left
      // the runtime's I/O reactor to every 61st scheduler poll, ~125-450 ms a request.
      const total = times.reduce((x, y) => x + y, 0);
      assert.ok(times.every((t) => t < 1000), `a request took ${Math.max(...times).toFixed(0)} ms`);
      assert.ok(total < 2000, `20 requests took ${total.toFixed(0)} ms beside a busy loop`);
      assert.ok(trips > 1000, `the loop made only ${trips} round trips meanwhile`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }));

test("the host's turns release what they opened when the loop stops", async () => {
  const loop = newEventLoop();
  try {
    await loop.runUntilComplete(() => sleep(0.02)); // the parker (Bun: a Worker) exists from now on
    const before = await stableFdCount();
    // Busy long enough for many host turns (on Deno they open a loopback connection).
    await whileLoopBusy(loop, () => hostDelay(50));
    assert.equal(await fdCountSettled(before), before);
  } finally {
    loop.close();
  }
});

test("a loop that stays parked lets go of what its host turns opened", () =>
  withLoop(async (loop) => {
    await loop.runUntilComplete(() => sleep(0.02)); // the parker (Bun: a Worker) exists from now on
    const before = await stableFdCount();
    const parkedCount = await loop.runUntilComplete(async () => {
      // Busy with callbacks for 50 ms: host turns (Deno: a loopback connection) ...
      const busy = loop.createFuture<void>();
      const end = loop.time() + 0.05;
      const spin = () => loop.time() < end ? loop.callSoon(spin) : busy.setResult();
      loop.callSoon(spin);
      await busy;
      // ... then parked, the loop still running (up to 3 s: a loaded host's fds settle late).
      let n = openFdCount();
      for (let i = 0; i < 60 && n !== before; i++) {
        await sleep(0.05);
        n = openFdCount();
      }
      return n;
    });
    assert.equal(parkedCount, before);
  }));

test("a saturated loop without permission to listen on 127.0.0.1 still gives the host its turns", async () => {
  // Deno with --allow-ffi only: the turns cannot open their loopback connection and sleep on a
  // runtime thread instead (ffi/host_turn.ts); Bun runs the script as it is.
  const { spawnSync } = await import("node:child_process");
  const script = new URL("../fixtures/busy_without_net.ts", import.meta.url).pathname;
  const [exe, ...args] = runScriptCommand(script);
  const r = spawnSync(exe, args.map((a) => (a === "-A" ? "--allow-ffi" : a)), {
    timeout: 20000,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"], // no terminal: a permission prompt would fail, not wait
  });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  const m = /busy trips=(\d+) ticks=(\d+)/.exec(r.stdout);
  assert.ok(m, `unexpected output: ${r.stdout}`);
  assert.ok(Number(m[1]) > 1000, `the loop made only ${m[1]} round trips in 300 ms`);
  assert.ok(Number(m[2]) >= 20, `only ${m[2]} host ticks in 300 ms of busy loop`);
});

test("a parked loop uses almost no CPU", () =>
  withLoop(async (loop) => {
    // Park once first: on Bun the first park starts the parking Worker, whose start-up (loading
    // its modules in a fresh isolate) is a one-time cost, not the parked loop's.
    await loop.runUntilComplete(() => sleep(0.05));
    const before = process.cpuUsage();
    const wallStart = performance.now();
    await loop.runUntilComplete(() => sleep(0.5));
    const wall = (performance.now() - wallStart) * 1000; // µs
    const used = process.cpuUsage(before);
    const share = (used.user + used.system) / wall;
    assert.ok(share < 0.1, `parked loop used ${(share * 100).toFixed(1)} % CPU`);
  }));

test("fd readiness wakes a parked loop promptly", () =>
  withLoop(async (loop) => {
    const [a, b] = socketpair();
    try {
      let wokeAfter = -1;
      let sentAt = 0;
      loop.addReader(a, () => {
        wokeAfter = performance.now() - sentAt;
        a.recv(10);
        loop.stop();
      });
      // Far-future timer: only the fd can end the park.
      loop.callLater(30, () => loop.stop());
      setTimeout(() => {
        sentAt = performance.now();
        b.send(new Uint8Array([1]));
      }, 50);
      await loop.runForever();
      // Generous bounds: what is tested is that the fd ends the park (the timer is 30 s away);
      // the latency itself is bench/park_latency.ts's job, and a busy CI host stalls for tens of ms.
      assert.ok(wokeAfter >= 0 && wokeAfter < 250, `woke ${wokeAfter} ms after the write`);
    } finally {
      loop.removeReader(a);
      a.close();
      b.close();
    }
  }));

test("callSoonThreadsafe and stop() from host callbacks wake a parked loop", () =>
  withLoop(async (loop) => {
    let ranAfter = -1;
    let calledAt = 0;
    loop.callLater(30, () => {}); // keeps the park long
    setTimeout(() => {
      calledAt = performance.now();
      loop.callSoonThreadsafe(() => {
        ranAfter = performance.now() - calledAt;
      });
    }, 30);
    setTimeout(() => loop.stop(), 80);
    const start = performance.now();
    await loop.runForever();
    const total = performance.now() - start;
    assert.ok(ranAfter >= 0 && ranAfter < 250, `callback ran ${ranAfter} ms after the call`);
    assert.ok(total < 1000, `stop() from a host timer took ${total} ms to end the run`);
  }));

test("a promise resolved by host code resumes a task promptly", () =>
  withLoop(async (loop) => {
    const result = await loop.runUntilComplete(async () => {
      const v = await new Promise<string>((resolve) => setTimeout(() => resolve("host"), 20));
      await sleep(0);
      return v;
    });
    assert.equal(result, "host");
  }));

test("a due timer ends a park on time", () =>
  withLoop(async (loop) => {
    const start = loop.time();
    let firedAt = 0;
    loop.callLater(0.1, () => {
      firedAt = loop.time() - start;
      loop.stop();
    });
    await loop.runForever();
    // Never early; late only by a host stall, not by a park that overslept its deadline.
    assert.ok(firedAt >= 0.1 && firedAt < 0.35, `100 ms timer fired at ${firedAt * 1000} ms`);
  }));

test("the process exits by itself after a loop parked and closed", async () => {
  // Run a child that parks a loop, closes it and returns: if the parking thread or a pending
  // op stayed referenced, the child would hang and the timeout would kill it.
  const { spawnSync } = await import("node:child_process");
  const script = new URL("../fixtures/park_and_exit.ts", import.meta.url).pathname;
  const [exe, ...args] = runScriptCommand(script);
  const r = spawnSync(exe, args, { timeout: 20000, encoding: "utf8" });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  assert.match(r.stdout, /parked and closed/);
  await hostDelay(0);
});
