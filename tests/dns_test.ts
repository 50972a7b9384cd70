/**
 * loop/dns.ts: getaddrinfo/getnameinfo give the answers CPython's socket module gives on this
 * machine (glibc), raise gaierror like it, and never block the loop.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import {
  EAI_ADDRFAMILY, EAI_FAMILY, EAI_NONAME, EAI_SERVICE, EAI_SOCKTYPE, gaierror, getaddrinfo,
  getnameinfo,
} from "../loop/dns.ts";
import { CancelledError, OSError } from "../loop/errors.ts";
import {
  AF_INET, AF_INET6, AF_UNIX, AI_CANONNAME, AI_NUMERICHOST, AI_NUMERICSERV, AI_PASSIVE,
  AI_V4MAPPED, IPPROTO_TCP, IPPROTO_UDP, NI_DGRAM, NI_NAMEREQD, NI_NUMERICHOST, NI_NUMERICSERV,
  SOCK_DGRAM, SOCK_RAW, SOCK_STREAM,
} from "../loop/socket.ts";
import { captureExceptions, withLoop } from "./helpers.ts";

const PYTHON = "/usr/bin/python3";

/** Run CPython's socket.getaddrinfo / getnameinfo on each call; JSON results or [errno]. */
function pythonOracle(calls: unknown[][]): unknown[] {
  const script = `
import json, socket, sys
out = []
for kind, args in json.loads(sys.argv[1]):
    try:
        if kind == "ai":
            out.append([[int(f), int(t), p, c, list(sa)] for f, t, p, c, sa in socket.getaddrinfo(*args)])
        else:
            out.append(list(socket.getnameinfo(tuple(args[0]), args[1])))
    except socket.gaierror as e:
        out.append(["gaierror", e.errno])
print(json.dumps(out))
`;
  return JSON.parse(execFileSync(PYTHON, ["-c", script, JSON.stringify(calls)], { encoding: "utf8" }));
}

async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof gaierror) return ["gaierror", e.errno];
    throw e;
  }
}

test("getaddrinfo matches CPython's socket.getaddrinfo on numeric, null and local hosts", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      // [host, port, family, type, proto, flags] as Python takes them positionally.
      const cases: unknown[][] = [
        ["127.0.0.1", 80], ["127.0.0.1", 80, 0, SOCK_STREAM], ["127.0.0.1", "8080", 0, SOCK_DGRAM],
        ["::1", 443], ["fe80::1%1", 80, 0, SOCK_STREAM], ["::ffff:10.0.0.1", 1, AF_INET6],
        ["127.0.0.1", "http"], ["::1", "domain"], ["127.0.0.1", "domain", 0, SOCK_DGRAM],
        ["127.0.0.1", 80, 0, SOCK_STREAM, IPPROTO_TCP], ["127.0.0.1", 53, 0, 0, IPPROTO_UDP],
        ["127.0.0.1", 0, 0, SOCK_RAW], ["127.0.0.1", null, 0, SOCK_RAW], ["127.0.0.1", null, 0, 0, IPPROTO_UDP],
        ["127.0.0.1", 9, 0, 0, 47], ["127.0.0.1", null, 0, 0, 47], ["127.0.0.1", null, 0, SOCK_RAW, 47], ["127.0.0.1", 70000],
        [null, 80], [null, 80, 0, 0, 0, AI_PASSIVE], [null, "http", AF_INET6, SOCK_STREAM, 0, AI_PASSIVE],
        [null, 5, AF_INET],
        ["localhost", 80], ["localhost", 80, AF_INET, SOCK_STREAM], ["localhost", null, AF_INET, SOCK_STREAM, 0, AI_CANONNAME],
        ["127.0.0.1", 0, 0, 0, 0, AI_CANONNAME], ["127.0.0.1", 80, AF_INET6, SOCK_STREAM, 0, AI_V4MAPPED],
        // errors
        [null, null], ["", 80], ["127.0.0.1", "nosuchservice"], ["127.0.0.1", "http", 0, SOCK_RAW],
        ["127.0.0.1", "domain", 0, 0, 0, AI_NUMERICSERV], ["localhost", 80, 0, 0, 0, AI_NUMERICHOST],
        ["::1", 80, AF_INET], ["127.0.0.1", 80, AF_INET6], ["127.0.0.1", 80, AF_UNIX],
        ["127.0.0.1", 80, 0, SOCK_STREAM, IPPROTO_UDP], ["127.0.0.1", 80, 0, SOCK_RAW, IPPROTO_UDP],
      ];
      const expected = pythonOracle(cases.map((c) => ["ai", c]));
      for (let i = 0; i < cases.length; i++) {
        const [host, port, family, type, proto, flags] = cases[i] as [string, number, number, number, number, number];
        const got = await outcome(getaddrinfo(loop, host, port, { family, type, proto, flags }));
        assert.deepEqual(got, expected[i], `getaddrinfo(${JSON.stringify(cases[i])})`);
      }
    })));

test("gaierror is an OSError with glibc's EAI number, name and text", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      await assert.rejects(getaddrinfo(loop, "127.0.0.1", "nosuchservice"), (e: unknown) => {
        assert.ok(e instanceof gaierror && e instanceof OSError);
        assert.equal(e.name, "gaierror");
        assert.equal(e.errno, EAI_SERVICE);
        assert.equal(e.code, "EAI_SERVICE");
        assert.equal(e.strerror, "Servname not supported for ai_socktype");
        assert.match(e.message, /^\[Errno -8\] Servname not supported for ai_socktype/);
        return true;
      });
      await assert.rejects(getaddrinfo(loop, "localhost", 80, { flags: AI_NUMERICHOST }), (e: unknown) =>
        e instanceof gaierror && e.errno === EAI_NONAME && e.code === "EAI_NONAME" &&
        e.strerror === "Name or service not known");
      await assert.rejects(getaddrinfo(loop, "::1", 80, { family: AF_INET }), (e: unknown) =>
        e instanceof gaierror && e.errno === EAI_ADDRFAMILY);
      await assert.rejects(getaddrinfo(loop, "::1", 80, { family: AF_UNIX }), (e: unknown) =>
        e instanceof gaierror && e.errno === EAI_FAMILY);
      await assert.rejects(getaddrinfo(loop, "::1", 80, { type: 77 }), (e: unknown) =>
        e instanceof gaierror && e.errno === EAI_SOCKTYPE);
      // deno-lint-ignore no-explicit-any
      await assert.rejects(getaddrinfo(loop, 127 as any, 80), TypeError);
      // An unknown name: NONAME from a resolver, AGAIN or NODATA where there is no network.
      await assert.rejects(getaddrinfo(loop, "no-such-host.invalid", 80), (e: unknown) =>
        e instanceof gaierror && [-2, -3, -5].includes(e.errno));
    })));

test("getnameinfo matches CPython's socket.getnameinfo", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const cases: unknown[][] = [
        [["127.0.0.1", 80], 0], [["127.0.0.1", 80], NI_NUMERICHOST | NI_NUMERICSERV],
        [["127.0.0.1", 53], NI_DGRAM], [["127.0.0.2", 65000], 0], [["127.0.0.2", 22], NI_NAMEREQD],
        [["::1", 22, 0, 0], 0], [["::1", 443, 0, 0], NI_NUMERICHOST], [["0:0::1", 1, 0, 0], NI_NUMERICHOST],
        [["localhost", 22], 0], [["127.0.0.1", 12345], NI_NUMERICSERV],
      ];
      const expected = pythonOracle(cases.map((c) => ["ni", c]));
      for (let i = 0; i < cases.length; i++) {
        const [sa, flags] = cases[i] as [[string, number], number];
        const got = await outcome(getnameinfo(loop, sa, flags));
        assert.deepEqual(got, expected[i], `getnameinfo(${JSON.stringify(cases[i])})`);
      }
      // deno-lint-ignore no-explicit-any
      await assert.rejects(getnameinfo(loop, "127.0.0.1" as any), TypeError);
      // deno-lint-ignore no-explicit-any
      await assert.rejects(getnameinfo(loop, ["127.0.0.1", "80"] as any), TypeError);
    })));

test("lookups run off the loop: callbacks and timers keep running while 50 are in flight", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      let soonTicks = 0, timerTicks = 0, settled = 0, running = true;
      const soon = () => {
        soonTicks++;
        if (running) loop.callSoon(soon);
      };
      const timer = () => {
        timerTicks++;
        if (running) loop.callLater(0.0005, timer);
      };
      loop.callSoon(soon);
      loop.callLater(0.0005, timer);
      const lookups = [];
      for (let i = 0; i < 50; i++) {
        const p = i % 2 ? getaddrinfo(loop, "localhost", 80 + i) : getnameinfo(loop, ["127.0.0.1", 80], 0);
        lookups.push(Promise.resolve(p).then((r) => {
          settled++;
          return r;
        }));
      }
      const ticksAtStart = soonTicks;
      assert.equal(settled, 0, "nothing resolved synchronously");
      const results = await Promise.all(lookups);
      running = false;
      assert.equal(results.length, 50);
      assert.ok(soonTicks > ticksAtStart, `the loop ran callbacks during the lookups (${soonTicks})`);
      const t0 = timerTicks;
      await new Promise<void>((resolve) => loop.callLater(0.01, resolve));
      assert.ok(timerTicks >= t0, "timers run");
      assert.deepEqual(results[1], [[AF_INET, SOCK_STREAM, IPPROTO_TCP, "", ["127.0.0.1", 81]],
        [AF_INET, SOCK_DGRAM, IPPROTO_UDP, "", ["127.0.0.1", 81]], [AF_INET, SOCK_RAW, 0, "", ["127.0.0.1", 81]]]);
    })));

test("a cancelled lookup raises CancelledError and its late answer is dropped quietly", () =>
  withLoop(async (loop) => {
    const seen = captureExceptions(loop);
    await loop.runUntilComplete(async () => {
      const task = loop.createTask(() => getaddrinfo(loop, "localhost", 80));
      await new Promise<void>((resolve) => loop.callSoon(resolve));
      task.cancel();
      await assert.rejects(Promise.resolve(task), CancelledError);
      await new Promise<void>((resolve) => loop.callLater(0.05, resolve));
    });
    assert.deepEqual(seen, []);
  }));
