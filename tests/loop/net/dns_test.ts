/**
 * loop/net/dns.ts: getaddrinfo/getnameinfo give the answers CPython's socket module gives on this
 * machine (glibc), raise gaierror like it, and never block the loop.
 *
 * On Windows there is no CPython to ask (none runs under Wine): the cases are compared with what
 * CPython's socket module gives there, which is Winsock's own answer (getaddrinfo echoes the
 * hints' type and proto, 0 for none, one row per address; errors are ws2tcpip.h's EAI_* WSA
 * codes with the text "getaddrinfo failed"), written out below in the loop's numbering
 * (AF_INET6 = 10). Winsock's echo of the hints is what Wine's conformance tests assert on real
 * Windows (wine dlls/ws2_32/tests/protocol.c, hinttests: SOCK_STREAM with IPPROTO_UDP included;
 * GetAddrInfoW(NULL, NULL) is WSAHOST_NOT_FOUND). Cases whose Windows answer depends on the
 * machine, or where Wine 8 answers differently from Windows, are listed without one, and why.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import {
  EAI_ADDRFAMILY, EAI_AGAIN, EAI_FAMILY, EAI_NODATA, EAI_NONAME, EAI_SERVICE, EAI_SOCKTYPE, gaierror, getaddrinfo,
  getnameinfo,
} from "../../../loop/net/dns.ts";
import { CancelledError, OSError } from "../../../loop/core/errors.ts";
import {
  AF_INET, AF_INET6, AF_UNIX, AI_CANONNAME, AI_NUMERICHOST, AI_NUMERICSERV, AI_PASSIVE,
  AI_V4MAPPED, IPPROTO_TCP, IPPROTO_UDP, NI_DGRAM, NI_NAMEREQD, NI_NUMERICHOST, NI_NUMERICSERV,
  SOCK_DGRAM, SOCK_RAW, SOCK_STREAM,
} from "../../../loop/net/socket.ts";
import { isWindows } from "../../../ffi/runtime.ts";
import { captureExceptions, withLoop } from "../../helpers.ts";

const PYTHON = "/usr/bin/python3";

/** A Windows getnameinfo answer whose host name is the machine's (Windows names 127.0.0.1 after the computer). */
const ANY_NAME = Symbol("any host name");

/**
 * CPython's answers on Windows for the cases below (by JSON of the case), or why a case has none:
 * a string is the reason that case is not compared there.
 */
const windowsAnswers: Record<string, unknown> = {
  '["127.0.0.1",80]': [[AF_INET, 0, 0, "", ["127.0.0.1", 80]]],
  '["127.0.0.1",80,0,1]': [[AF_INET, SOCK_STREAM, 0, "", ["127.0.0.1", 80]]],
  '["127.0.0.1","8080",0,2]': [[AF_INET, SOCK_DGRAM, 0, "", ["127.0.0.1", 8080]]],
  '["::1",443]': [[AF_INET6, 0, 0, "", ["::1", 443, 0, 0]]],
  '["fe80::1%1",80,0,1]': [[AF_INET6, SOCK_STREAM, 0, "", ["fe80::1", 80, 0, 1]]],
  '["::ffff:10.0.0.1",1,10]': [[AF_INET6, 0, 0, "", ["::ffff:10.0.0.1", 1, 0, 0]]],
  '["127.0.0.1","http"]': [[AF_INET, 0, 0, "", ["127.0.0.1", 80]]],
  '["::1","domain"]': [[AF_INET6, 0, 0, "", ["::1", 53, 0, 0]]],
  '["127.0.0.1","domain",0,2]': [[AF_INET, SOCK_DGRAM, 0, "", ["127.0.0.1", 53]]],
  '["127.0.0.1",80,0,1,6]': [[AF_INET, SOCK_STREAM, IPPROTO_TCP, "", ["127.0.0.1", 80]]],
  '["127.0.0.1",53,0,0,17]': [[AF_INET, 0, IPPROTO_UDP, "", ["127.0.0.1", 53]]],
  '["127.0.0.1",0,0,3]': "a port with SOCK_RAW: Wine passes it to glibc, which refuses it (EAI_SERVICE)",
  '["127.0.0.1",null,0,3]': [[AF_INET, SOCK_RAW, 0, "", ["127.0.0.1", 0]]],
  '["127.0.0.1",null,0,0,17]': [[AF_INET, 0, IPPROTO_UDP, "", ["127.0.0.1", 0]]],
  '["127.0.0.1",9,0,0,47]': [[AF_INET, 0, 47, "", ["127.0.0.1", 9]]],
  '["127.0.0.1",null,0,0,47]': [[AF_INET, 0, 47, "", ["127.0.0.1", 0]]],
  '["127.0.0.1",null,0,3,47]': [[AF_INET, SOCK_RAW, 47, "", ["127.0.0.1", 0]]],
  '["127.0.0.1",70000]': "a port over 65535: Wine passes \"70000\" to glibc (port 4464); Windows's parse is not known here",
  '[null,80]': [[AF_INET6, 0, 0, "", ["::1", 80, 0, 0]], [AF_INET, 0, 0, "", ["127.0.0.1", 80]]],
  '[null,80,0,0,0,1]': "the wildcard addresses' order: Wine gives glibc's (0.0.0.0 first)",
  '[null,"http",10,1,0,1]': [[AF_INET6, SOCK_STREAM, 0, "", ["::", 80, 0, 0]]],
  '[null,5,2]': [[AF_INET, 0, 0, "", ["127.0.0.1", 5]]],
  '["localhost",80]': "localhost's addresses: Windows gives ::1 too; under Wine they are the host's /etc/hosts",
  '["localhost",80,2,1]': [[AF_INET, SOCK_STREAM, 0, "", ["127.0.0.1", 80]]],
  '["localhost",null,2,1,0,2]': "localhost's canonical name depends on the machine's hosts setup",
  '["127.0.0.1",0,0,0,0,2]': "AI_CANONNAME of an IP literal: Wine 8 returns the address twice",
  '["127.0.0.1",80,10,1,0,8]': "AI_V4MAPPED of an IPv4 literal: Wine's answer is glibc's",
  '[null,null]': ["gaierror", EAI_NONAME],
  '["",80]': "the empty host is the machine's own addresses on Windows",
  '["127.0.0.1","nosuchservice"]': ["gaierror", EAI_SERVICE],
  '["127.0.0.1","http",0,3]': "a service with SOCK_RAW: Wine passes it to glibc, which refuses it",
  '["127.0.0.1","domain",0,0,0,1024]': "AI_NUMERICSERV with a name: Wine's answer is glibc's",
  '["localhost",80,0,0,0,4]': ["gaierror", EAI_NONAME],
  '["::1",80,2]': "a literal of the other family: Wine 8 returns glibc's EAI_ADDRFAMILY (-9) unmapped",
  '["127.0.0.1",80,10]': "a literal of the other family: Wine 8 returns glibc's EAI_ADDRFAMILY (-9) unmapped",
  '["127.0.0.1",80,1]': ["gaierror", EAI_FAMILY],
  '["127.0.0.1",80,0,1,17]': [[AF_INET, SOCK_STREAM, IPPROTO_UDP, "", ["127.0.0.1", 80]]],
  '["127.0.0.1",80,0,3,17]': [[AF_INET, SOCK_RAW, IPPROTO_UDP, "", ["127.0.0.1", 80]]],
  // getnameinfo: [case, flags]
  '[["127.0.0.1",80],0]': [ANY_NAME, "http"],
  '[["127.0.0.1",80],3]': ["127.0.0.1", "80"],
  '[["127.0.0.1",53],16]': [ANY_NAME, "domain"],
  '[["127.0.0.2",65000],0]': [ANY_NAME, "65000"],
  '[["127.0.0.2",22],8]': "whether 127.0.0.2 has a name depends on the machine",
  '[["::1",22,0,0],0]': "port 22's name: Windows's services file is not the host's, which Wine reads",
  '[["::1",443,0,0],1]': ["::1", "https"],
  '[["0:0::1",1,0,0],1]': "port 1's name: Windows's services file is not the host's, which Wine reads",
  '[["localhost",22],0]': ["gaierror", EAI_NONAME],
  '[["127.0.0.1",12345],2]': [ANY_NAME, "12345"],
};

/** The answers to compare with: CPython's on this machine, or on Windows the table above. */
function expectedAnswers(calls: unknown[][]): { compare: boolean[]; answers: unknown[] } {
  if (!isWindows) return { compare: calls.map(() => true), answers: pythonOracle(calls) };
  const answers = calls.map(([, c]) => {
    const a = windowsAnswers[JSON.stringify(c)];
    assert.ok(a !== undefined, `no Windows answer or reason for ${JSON.stringify(c)}`);
    return a;
  });
  return { compare: answers.map((a) => typeof a !== "string"), answers };
}

/** `got` equals `want`; ANY_NAME in `want` takes any non-empty host name. */
function assertAnswer(got: unknown, want: unknown, what: string) {
  if (Array.isArray(want) && want[0] === ANY_NAME && Array.isArray(got)) {
    assert.equal(typeof got[0], "string", what);
    assert.ok((got[0] as string).length > 0, `${what}: a host name`);
    assert.deepEqual(got.slice(1), want.slice(1), what);
    return;
  }
  assert.deepEqual(got, want, what);
}

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
      const { compare, answers } = expectedAnswers(cases.map((c) => ["ai", c]));
      for (let i = 0; i < cases.length; i++) {
        const [host, port, family, type, proto, flags] = cases[i] as [string, number, number, number, number, number];
        const got = await outcome(getaddrinfo(loop, host, port, { family, type, proto, flags }));
        if (compare[i]) assertAnswer(got, answers[i], `getaddrinfo(${JSON.stringify(cases[i])})`);
      }
    })));

test("gaierror is an OSError with the OS's EAI number and name, and CPython's text", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      await assert.rejects(getaddrinfo(loop, "127.0.0.1", "nosuchservice"), (e: unknown) => {
        assert.ok(e instanceof gaierror && e instanceof OSError);
        assert.equal(e.name, "gaierror");
        assert.equal(e.errno, EAI_SERVICE);
        assert.equal(e.code, "EAI_SERVICE");
        if (isWindows) {
          // ws2tcpip.h: EAI_SERVICE is WSATYPE_NOT_FOUND; CPython's text there (no gai_strerror).
          assert.equal(e.errno, 10109);
          assert.equal(e.strerror, "getaddrinfo failed");
          assert.match(e.message, /^\[Errno 10109\] getaddrinfo failed/);
        } else {
          assert.equal(e.strerror, "Servname not supported for ai_socktype");
          assert.match(e.message, /^\[Errno -8\] Servname not supported for ai_socktype/);
        }
        return true;
      });
      await assert.rejects(getaddrinfo(loop, "localhost", 80, { flags: AI_NUMERICHOST }), (e: unknown) =>
        e instanceof gaierror && e.errno === EAI_NONAME && e.code === "EAI_NONAME" &&
        e.strerror === (isWindows ? "getaddrinfo failed" : "Name or service not known") &&
        e.errno === (isWindows ? 11001 : -2)); // Windows: WSAHOST_NOT_FOUND
      // A literal of the other family: glibc's EAI_ADDRFAMILY; Windows has no such code, and
      // Wine 8 passes glibc's -9 through unmapped, so there is no Windows answer to check here.
      if (!isWindows) {
        await assert.rejects(getaddrinfo(loop, "::1", 80, { family: AF_INET }), (e: unknown) =>
          e instanceof gaierror && e.errno === EAI_ADDRFAMILY);
      }
      await assert.rejects(getaddrinfo(loop, "::1", 80, { family: AF_UNIX }), (e: unknown) =>
        e instanceof gaierror && e.errno === EAI_FAMILY);
      await assert.rejects(getaddrinfo(loop, "::1", 80, { type: 77 }), (e: unknown) =>
        e instanceof gaierror && e.errno === EAI_SOCKTYPE);
      // deno-lint-ignore no-explicit-any
      await assert.rejects(getaddrinfo(loop, 127 as any, 80), TypeError);
      // An unknown name: NONAME from a resolver, AGAIN or NODATA where there is no network.
      await assert.rejects(getaddrinfo(loop, "no-such-host.invalid", 80), (e: unknown) =>
        e instanceof gaierror && [EAI_NONAME, EAI_AGAIN, EAI_NODATA].includes(e.errno));
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
      const { compare, answers } = expectedAnswers(cases.map((c) => ["ni", c]));
      for (let i = 0; i < cases.length; i++) {
        const [sa, flags] = cases[i] as [[string, number], number];
        const got = await outcome(getnameinfo(loop, sa, flags));
        if (compare[i]) assertAnswer(got, answers[i], `getnameinfo(${JSON.stringify(cases[i])})`);
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
      if (isWindows) {
        // Winsock: one row per address, type and proto 0 (no hints); ::1 too where hosts says so.
        const rows = results[1] as unknown[][];
        assert.ok(rows.every((r) => r[1] === 0 && r[2] === 0), JSON.stringify(rows));
        assert.deepEqual(rows.filter((r) => r[0] === AF_INET), [[AF_INET, 0, 0, "", ["127.0.0.1", 81]]]);
      } else {
        assert.deepEqual(results[1], [[AF_INET, SOCK_STREAM, IPPROTO_TCP, "", ["127.0.0.1", 81]],
          [AF_INET, SOCK_DGRAM, IPPROTO_UDP, "", ["127.0.0.1", 81]], [AF_INET, SOCK_RAW, 0, "", ["127.0.0.1", 81]]]);
      }
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
