/**
 * createConnection's happyEyeballsDelay, interleave and allErrors (asyncio 3.12), with real
 * sockets: addresses come from a replaced loop.getaddrinfo (public, as CPython's tests do) and
 * point at a listener, a closed port, or a listener whose backlog is full (a connect to it stays
 * in progress: Linux drops the SYN), so each attempt's fate is known.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AF_INET, AF_INET6, type BaseEventLoop, ExceptionGroup, OSError, Protocol, SOCK_NONBLOCK,
  SOCK_STREAM, Socket, ValueError,
} from "../../../mod.ts";
import { fdCountSettled, libkqueueClearsSocketError, stableFdCount, withLoop } from "../../helpers.ts";
import { hasIpv6 } from "../../net_helpers.ts";

type Info = [number, number, number, string, [string, number]];

function fakeGetaddrinfo(loop: BaseEventLoop, infos: Info[]): void {
  // deno-lint-ignore no-explicit-any
  (loop as any).getaddrinfo = () => Promise.resolve(infos);
}

const v4 = (port: number): Info => [AF_INET, SOCK_STREAM, 6, "", ["127.0.0.1", port]];
const v6 = (port: number): Info => [AF_INET6, SOCK_STREAM, 6, "", ["::1", port]];

/** A port nothing listens on, for `family`. */
function closedPort(family: number = AF_INET): number {
  const s = new Socket(family, SOCK_STREAM);
  s.bind([family === AF_INET ? "127.0.0.1" : "::1", 0]);
  const port = (s.getsockname() as [string, number])[1];
  s.close();
  return port;
}

/** A listener on 127.0.0.1 (accepting nothing itself: the kernel completes handshakes). */
function listener(): { sock: Socket; port: number } {
  const sock = new Socket(AF_INET, SOCK_STREAM);
  sock.bind(["127.0.0.1", 0]);
  sock.listen(8);
  return { sock, port: (sock.getsockname() as [string, number])[1] };
}

/** A listener with listen(0) and its queue filled: a further connect stays in progress. */
async function fullListener(): Promise<{ port: number; close(): void }> {
  const srv = new Socket(AF_INET, SOCK_STREAM);
  srv.bind(["127.0.0.1", 0]);
  srv.listen(0);
  const port = (srv.getsockname() as [string, number])[1];
  const fillers: Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    s.connectEx(["127.0.0.1", port]);
    fillers.push(s);
  }
  await new Promise((r) => setTimeout(r, 100));
  return { port, close: () => [...fillers, srv].forEach((s) => s.close()) };
}

function connect(loop: BaseEventLoop, options: Record<string, unknown>) {
  return loop.runUntilComplete(loop.createConnection(() => new Protocol(), "example.com", 80, options));
}

test("happyEyeballsDelay: an attempt that hangs is overtaken after the delay by the next address, and cancelled (its socket closed)", async () => {
  const before = await stableFdCount();
  const full = await fullListener();
  const good = listener();
  try {
    await withLoop(async (loop) => {
      fakeGetaddrinfo(loop, [v4(full.port), v4(good.port)]);
      const start = performance.now();
      const [tr] = await connect(loop, { happyEyeballsDelay: 0.2 });
      const took = (performance.now() - start) / 1000;
      assert.deepEqual((tr.getExtraInfo("peername") as [string, number])[1], good.port);
      assert.ok(took >= 0.18 && took < 3, `connected after ${took.toFixed(3)} s`);
      tr.close();
      await loop.runUntilComplete(sleepOn(loop, 0.01));
    });
  } finally {
    full.close();
    good.sock.close();
  }
  assert.equal(await fdCountSettled(before), before);
});

function sleepOn(loop: BaseEventLoop, seconds: number): Promise<void> {
  return new Promise((resolve) => loop.callLater(seconds, resolve));
}

test("happyEyeballsDelay: a refused attempt starts the next at once, not after the delay", { skip: libkqueueClearsSocketError }, () =>
  withLoop(async (loop) => {
    const good = listener();
    try {
      fakeGetaddrinfo(loop, [v4(closedPort()), v4(closedPort()), v4(good.port)]);
      const start = performance.now();
      const [tr] = await connect(loop, { happyEyeballsDelay: 10 });
      assert.ok(performance.now() - start < 5000);
      assert.equal((tr.getExtraInfo("peername") as [string, number])[1], good.port);
      tr.close();
      await loop.runUntilComplete(sleepOn(loop, 0.01));
    } finally {
      good.sock.close();
    }
  }));

test("happyEyeballsDelay: ::1 refused and 127.0.0.1 listening connects over IPv4", {
  skip: (hasIpv6() ? false : "no IPv6 loopback") || libkqueueClearsSocketError,
}, () =>
  withLoop(async (loop) => {
    const good = listener();
    try {
      fakeGetaddrinfo(loop, [v6(closedPort(AF_INET6)), v4(good.port)]);
      const [tr] = await connect(loop, { happyEyeballsDelay: 0.25 });
      assert.deepEqual(tr.getExtraInfo("peername"), ["127.0.0.1", good.port]);
      tr.close();
      await loop.runUntilComplete(sleepOn(loop, 0.01));
    } finally {
      good.sock.close();
    }
  }));

test("allErrors: every attempt's error in an ExceptionGroup, in the interleaved order (with and without happyEyeballsDelay)", {
  skip: (hasIpv6() ? false : "no IPv6 loopback") || libkqueueClearsSocketError,
}, () =>
  withLoop(async (loop) => {
    const [a, b] = [closedPort(), closedPort()];
    const c = closedPort(AF_INET6);
    fakeGetaddrinfo(loop, [v4(a), v4(b), v6(c)]);
    const ports = (e: unknown) => (e as ExceptionGroup).exceptions.map((x) => Number(/(\d+)\D*$/.exec(String(x))![1]));
    for (const options of [{ interleave: 1 }, { happyEyeballsDelay: 0.05 }, {}]) {
      await assert.rejects(connect(loop, { ...options, allErrors: true }), (e: unknown) => {
        assert.ok(e instanceof ExceptionGroup, String(e));
        assert.ok(e.exceptions.every((x) => x instanceof OSError && x.code === "ECONNREFUSED"));
        assert.deepEqual(ports(e), "interleave" in options || "happyEyeballsDelay" in options ? [a, c, b] : [a, b, c]);
        return true;
      });
    }
    // Without allErrors: one OSError naming them all.
    await assert.rejects(connect(loop, { interleave: 1 }), (e: unknown) =>
      e instanceof OSError && !(e instanceof ExceptionGroup) && /Multiple exceptions/.test(e.message));
  }));

test("allErrors: a localAddr that cannot be bound puts the bind error in the group", () =>
  withLoop(async (loop) => {
    const busy = listener();
    const good = listener();
    try {
      fakeGetaddrinfo(loop, [v4(good.port)]);
      // localAddr resolves through the same replaced getaddrinfo: give it the busy port.
      // deno-lint-ignore no-explicit-any
      (loop as any).getaddrinfo = (host: unknown) =>
        Promise.resolve(host === "example.com" ? [v4(good.port)] : [v4(busy.port)]);
      await assert.rejects(
        connect(loop, { localAddr: ["127.0.0.1", busy.port], allErrors: true }),
        (e: unknown) =>
          e instanceof ExceptionGroup && e.exceptions.length >= 1 &&
          e.exceptions.every((x) => x instanceof OSError) &&
          /error while attempting to bind/.test(String((e.exceptions[0] as Error).message)),
      );
    } finally {
      busy.sock.close();
      good.sock.close();
    }
  }));

test("happyEyeballsDelay / interleave: bad values are TypeError/ValueError before any socket", () =>
  withLoop(async (loop) => {
    fakeGetaddrinfo(loop, [v4(closedPort())]);
    await assert.rejects(connect(loop, { happyEyeballsDelay: -1 }), ValueError);
    await assert.rejects(connect(loop, { happyEyeballsDelay: "0.25" }), TypeError);
    await assert.rejects(connect(loop, { interleave: 1.5 }), TypeError);
    await assert.rejects(connect(loop, { interleave: -1 }), ValueError);
  }));
