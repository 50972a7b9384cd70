/**
 * Socket (Python's socket.socket over FFI) and ffi/sockaddr.ts: struct layouts byte by byte,
 * inet_pton/inet_ntop against CPython (glibc) as the oracle, and real sockets on loopback:
 * TCP over IPv4 and IPv6, UDP, Unix stream and datagram, a Python peer, errors, fd leaks.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isWindows } from "../../../ffi/runtime.ts";
import {
  decodeSockaddr, encodeSockaddr, inetNtop6, inetPton4, inetPton6, interfaceIndex,
  SOCKADDR_STORAGE_SIZE,
} from "../../../ffi/sockaddr.ts";
import {
  AF_INET, AF_INET6, AF_UNIX, inetNtop, inetPton, IPPROTO_IPV6, IPPROTO_TCP, IPV6_V6ONLY,
  isIpAddress, MSG_PEEK, SHUT_WR, SO_ERROR, SO_KEEPALIVE, SO_LINGER, SO_RCVBUF, SO_REUSEADDR,
  SO_TYPE, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_STREAM, Socket, socketpair, SOL_SOCKET, TCP_NODELAY,
} from "../../../loop/net/socket.ts";
import { OSError, OverflowError, ValueError } from "../../../loop/core/errors.ts";
import { fdCountSettled, stableFdCount, windowsLacks } from "../../helpers.ts";
import { hasIpv6, PYTHON } from "../../net_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const ipv6 = hasIpv6();
const noPython = windowsLacks("python3 (no Python under Wine)");
const noUnix = windowsLacks("AF_UNIX sockets (none in Wine's Winsock)");
/**
 * An interface name that if_nametoindex knows: Linux's loopback "lo"; on Windows the loopback's
 * NDIS name, "loopback_0" on Windows itself and "loopback_1" under Wine 8.0 (measured).
 */
const loopbackName = !isWindows ? "lo" : ["loopback_0", "loopback_1"]
  .find((n) => interfaceIndex(enc.encode(n + "\0")) > 0) ?? "loopback_0";
if (!ipv6) console.log("socket_test: no IPv6 on this kernel (bind ::1 failed); IPv6 tests skip");

function osErr(code: string) {
  return (e: unknown) => e instanceof OSError && e.code === code;
}

/** A listening TCP socket on `host`, port chosen by the kernel. */
function listener(family: number, host: string): Socket {
  const s = new Socket(family, SOCK_STREAM);
  s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  s.bind([host, 0]);
  s.listen();
  return s;
}

// ---- sockaddr layouts ---------------------------------------------------------------------------

test("sockaddr_in: 16 bytes, family in host order, port and address in network order", () => {
  const out = new Uint8Array(SOCKADDR_STORAGE_SIZE).fill(0xee);
  assert.equal(encodeSockaddr(AF_INET, ["127.0.0.1", 8080], out), 16);
  assert.deepEqual([...out.subarray(0, 16)], [2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(decodeSockaddr(out, 16), ["127.0.0.1", 8080]);
  encodeSockaddr(AF_INET, ["", 1], out);
  assert.deepEqual([...out.subarray(2, 8)], [0, 1, 0, 0, 0, 0], "'' is INADDR_ANY");
  encodeSockaddr(AF_INET, ["<broadcast>", 65535], out);
  assert.deepEqual([...out.subarray(2, 8)], [0xff, 0xff, 255, 255, 255, 255], "'<broadcast>' is INADDR_BROADCAST");
});

test("sockaddr_in6: 28 bytes, flowinfo in network order, scope id in host order", () => {
  const out = new Uint8Array(SOCKADDR_STORAGE_SIZE).fill(0xee);
  assert.equal(encodeSockaddr(AF_INET6, ["::1", 8080, 0x12345, 3], out), 28);
  assert.deepEqual([...out.subarray(0, 28)], [
    10, 0, 0x1f, 0x90, 0, 0x01, 0x23, 0x45,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    3, 0, 0, 0,
  ]);
  assert.deepEqual(decodeSockaddr(out, 28), ["::1", 8080, 0x12345, 3]);
  assert.equal(encodeSockaddr(AF_INET6, ["fe80::1%1", 80], out), 28, "a numeric %zone");
  assert.deepEqual(decodeSockaddr(out, 28), ["fe80::1", 80, 0, 1]);
  encodeSockaddr(AF_INET6, [`fe80::1%${loopbackName}`, 80], out);
  assert.equal((decodeSockaddr(out, 28) as number[])[3] > 0, true, "an interface name as zone");
  encodeSockaddr(AF_INET6, ["", 7], out);
  assert.deepEqual(decodeSockaddr(out, 28), ["::", 7, 0, 0], "'' is in6addr_any");
});

test("sockaddr_un: path NUL-terminated, abstract names keep every byte, unnamed decodes as ''", () => {
  const out = new Uint8Array(SOCKADDR_STORAGE_SIZE).fill(0xee);
  assert.equal(encodeSockaddr(AF_UNIX, "/tmp/s", out), 2 + 6);
  assert.deepEqual([...out.subarray(0, 9)], [1, 0, ...enc.encode("/tmp/s"), 0]);
  assert.equal(decodeSockaddr(out, 110), "/tmp/s", "decoding stops at the NUL");
  assert.equal(encodeSockaddr(AF_UNIX, "\0abc", out), 2 + 4);
  assert.equal(decodeSockaddr(out, 6), "\0abc");
  assert.equal(encodeSockaddr(AF_UNIX, "x".repeat(108), out), 110, "108 bytes fit without a NUL");
  assert.equal(decodeSockaddr(out, 2), "");
  assert.equal(decodeSockaddr(out, 0), null);
});

test("inet_pton rejects what glibc rejects and accepts every RFC 4291 text form", () => {
  const b = new Uint8Array(16);
  for (const bad of ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "127.1", "0x7f.0.0.1", "a.b.c.d"]) {
    assert.equal(inetPton4(bad, b), false, bad);
  }
  for (const bad of ["", ":", ":1", "1:", ":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::",
    "::1.2.3", "::1.2.3.4:5", "g::", "1:2:3:4:5:6:7:1.2.3.4", "::ffff:1.2.3.04", "1.2.3.4"]) {
    assert.equal(inetPton6(bad, b), false, bad);
  }
  assert.deepEqual([...inetPton(AF_INET6, "1:2:3:4:5:6:7::")], [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]);
  assert.deepEqual([...inetPton(AF_INET6, "::ffff:1.2.3.4")], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]);
  assert.deepEqual([...inetPton(AF_INET6, "1:2:3:4:5:6:1.2.3.4")].slice(10), [0, 6, 1, 2, 3, 4]);
  assert.deepEqual([...inetPton(AF_INET6, "ABCD::Ef")].slice(0, 2), [0xab, 0xcd]);
  assert.deepEqual([...inetPton(AF_INET, "255.0.10.1")], [255, 0, 10, 1]);
  assert.throws(() => inetPton(AF_INET, "1.2.3"), ValueError);
  assert.equal(inetNtop(AF_INET, new Uint8Array([10, 0, 0, 255])), "10.0.0.255");
  assert.ok(isIpAddress("::1") && isIpAddress("fe80::1%eth0") && isIpAddress("8.8.8.8"));
  assert.ok(!isIpAddress("localhost") && !isIpAddress("") && !isIpAddress("::1%") && !isIpAddress("1.2.3.4%1"));
});

test("inet_ntop prints IPv6 exactly as glibc (checked against CPython's socket.inet_ntop)", { skip: noPython }, () => {
  const cases: number[][] = [
    [...Array(16).fill(0)], [...Array(15).fill(0), 1], [...Array(15).fill(0), 2],
    [...Array(12).fill(0), 1, 2, 3, 4], [...Array(10).fill(0), 0xff, 0xff, 1, 2, 3, 4],
    [0, 1, ...Array(14).fill(0)], [0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
    [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], // equal runs: the first wins
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 1, 2, 3, 4], // not mapped
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 1, 2, 3, 4],
    [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
  ];
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let i = 0; i < 300; i++) {
    // Mostly zero groups, so that runs of every length and position appear.
    const words = Array.from({ length: 8 }, () => (rand() % 3 === 0 ? rand() & 0xffff : 0));
    cases.push(words.flatMap((w) => [w >> 8, w & 0xff]));
  }
  const hex = cases.map((c) => c.map((x) => x.toString(16).padStart(2, "0")).join("")).join(" ");
  const expected = execFileSync(PYTHON, [
    "-c",
    "import socket,sys\nfor h in sys.argv[1].split(): print(socket.inet_ntop(socket.AF_INET6, bytes.fromhex(h)))",
    hex,
  ], { encoding: "utf8" }).trim().split("\n");
  assert.equal(expected.length, cases.length);
  for (let i = 0; i < cases.length; i++) {
    const bytes = new Uint8Array(cases[i]);
    const text = inetNtop6(bytes);
    assert.equal(text, expected[i], `bytes ${cases[i]}`);
    assert.deepEqual([...inetPton(AF_INET6, text)], cases[i], `round trip of ${text}`);
  }
});

test("bad addresses are TypeError, ValueError or OverflowError naming the problem", () => {
  const s = new Socket(AF_INET, SOCK_DGRAM);
  const s6 = new Socket(AF_INET6, SOCK_DGRAM);
  try {
    // deno-lint-ignore no-explicit-any
    const any = (x: unknown) => x as any;
    assert.throws(() => s.bind(any("127.0.0.1")), (e: unknown) => e instanceof TypeError && /\[host, port\]/.test(e.message));
    assert.throws(() => s.bind(any(["127.0.0.1"])), TypeError);
    assert.throws(() => s.bind(any([127, 0])), /host must be a string/);
    assert.throws(() => s.bind(["localhost", 0]), (e: unknown) =>
      e instanceof ValueError && /IPv4 address literal, got 'localhost'/.test(e.message) && /getaddrinfo/.test(e.message));
    assert.throws(() => s.bind(["::1", 0]), /IPv6 address: use an AF_INET6 socket/);
    assert.throws(() => s6.bind(["127.0.0.1", 0]), /IPv4 address: use an AF_INET socket, or '::ffff:127.0.0.1'/);
    assert.throws(() => s.bind(["127.0.0.1", 70000]), (e: unknown) => e instanceof OverflowError && /0-65535/.test(e.message));
    assert.throws(() => s.bind(["127.0.0.1", -1]), OverflowError);
    assert.throws(() => s.bind(any(["127.0.0.1", "80"])), (e: unknown) => e instanceof TypeError && /port must be an integer/.test(e.message));
    assert.throws(() => s6.bind(["::1", 0, 1 << 20]), /flowinfo/);
    assert.throws(() => s6.bind(["fe80::1%nosuchif0", 0]), /unknown network interface 'nosuchif0'/);
    assert.throws(() => s.sendto(new Uint8Array(1), ["example.com", 53]), ValueError);
    assert.throws(() => encodeSockaddr(12345, ["x", 1], new Uint8Array(128)), /family 12345 is not supported/);
  } finally {
    s.close();
    s6.close();
  }
});

test("bad AF_UNIX addresses are TypeError or ValueError naming the problem", { skip: noUnix }, () => {
  const u = new Socket(AF_UNIX, SOCK_DGRAM);
  try {
    // deno-lint-ignore no-explicit-any
    const any = (x: unknown) => x as any;
    assert.throws(() => u.bind("/tmp/" + "x".repeat(200)), /AF_UNIX path too long/);
    assert.throws(() => u.bind(any(["/tmp/x", 0])), /AF_UNIX address must be a path string/);
    assert.throws(() => u.bind("/tmp/a\0b"), /NUL byte/);
  } finally {
    u.close();
  }
});

// ---- real sockets ------------------------------------------------------------------------------

for (const [family, host, name] of [[AF_INET, "127.0.0.1", "IPv4"], [AF_INET6, "::1", "IPv6"]] as const) {
  test(`TCP over ${name}: bind, listen, connect, accept, send/recv, names, shutdown`, { skip: family === AF_INET6 && !ipv6 }, async () => {
    const before = await stableFdCount();
    const srv = listener(family, host);
    const addr = srv.getsockname() as [string, number];
    assert.equal(addr[0], host);
    assert.ok(addr[1] > 0);
    const cli = new Socket(family, SOCK_STREAM);
    cli.connect(family === AF_INET ? [host, addr[1]] : [host, addr[1], 0, 0]);
    const [conn, peer] = srv.accept();
    try {
      assert.deepEqual(peer, cli.getsockname());
      assert.deepEqual(conn.getpeername(), cli.getsockname());
      assert.deepEqual(cli.getpeername(), srv.getsockname());
      assert.equal(conn.family, family);
      assert.equal(conn.type, SOCK_STREAM);
      assert.equal(conn.getBlocking(), true, "accepted from a blocking listener: blocking");
      cli.sendall(enc.encode("hello world"));
      assert.equal(dec.decode(conn.recv(5, MSG_PEEK)), "hello");
      const buf = new Uint8Array(32);
      assert.equal(conn.recvInto(buf, 5), 5);
      assert.equal(dec.decode(buf.subarray(0, 5)), "hello");
      assert.equal(dec.decode(conn.recv(100)), " world");
      assert.throws(() => conn.recvInto(new Uint8Array(2), 3), /buffer too small/);
      cli.shutdown(SHUT_WR);
      assert.equal(conn.recv(10).length, 0, "EOF after the peer's SHUT_WR");
      assert.equal(conn.send(enc.encode("back")), 4, "the other direction still works");
      assert.equal(dec.decode(cli.recv(10)), "back");
      assert.match(String(conn), new RegExp(`^<Socket fd=${conn.fileno()}, family=${family === AF_INET ? "AF_INET" : "AF_INET6"}, type=SOCK_STREAM, proto=0, laddr=.*, raddr=.*>$`));
      assert.equal(Object.prototype.toString.call(conn), "[object Socket]");
    } finally {
      conn.close();
      cli.close();
      srv.close();
    }
    assert.equal(await fdCountSettled(before), before);
  });
}

test("IPv6 socket with IPV6_V6ONLY off accepts IPv4-mapped peers", { skip: !ipv6 }, () => {
  const srv = new Socket(AF_INET6, SOCK_STREAM);
  try {
    srv.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 0);
    assert.equal(srv.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY), 0);
    srv.bind(["", 0]);
    srv.listen(1);
    const port = srv.getsockname()[1];
    const cli = new Socket(AF_INET, SOCK_STREAM);
    cli.connect(["127.0.0.1", port]);
    const [conn, peer] = srv.accept();
    assert.equal((peer as [string, number, number, number])[0], "::ffff:127.0.0.1");
    conn.close();
    cli.close();
  } finally {
    srv.close();
  }
});

test("accept: EAGAIN on a non-blocking listener; the accepted socket is non-blocking too", () => {
  const srv = listener(AF_INET, "127.0.0.1");
  try {
    srv.setBlocking(false);
    assert.throws(() => srv.accept(), osErr("EAGAIN"));
    const cli = new Socket(AF_INET, SOCK_STREAM);
    cli.connect(srv.getsockname() as [string, number]);
    const [conn] = srv.accept();
    assert.equal(conn.getBlocking(), false);
    assert.throws(() => conn.recv(1), osErr("EAGAIN"));
    conn.close();
    cli.close();
  } finally {
    srv.close();
  }
});

test("non-blocking connect: EINPROGRESS (or at once), then SO_ERROR is 0; connectEx returns errnos", () => {
  const srv = listener(AF_INET, "127.0.0.1");
  const addr = srv.getsockname() as [string, number];
  const cli = new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  try {
    assert.equal(cli.type, SOCK_STREAM, "type without the flags, as Python reports it");
    assert.equal(cli.getBlocking(), false);
    try {
      cli.connect(addr);
    } catch (e) {
      assert.ok(e instanceof OSError && e.code === "EINPROGRESS", String(e));
    }
    const [conn] = srv.accept();
    assert.equal(cli.getsockopt(SOL_SOCKET, SO_ERROR), 0);
    // A repeated connect() after a non-blocking one completed: Linux may answer 0 (the pending
    // connect's success) or EISCONN. Either way: no exception.
    assert.ok([0, 106 /* EISCONN */].includes(cli.connectEx(addr)));
    conn.close();
  } finally {
    cli.close();
    srv.close();
  }
});

test("errors: ECONNREFUSED on a closed port, EADDRINUSE on a bound port, closed socket", async () => {
  const before = await stableFdCount();
  const probe = new Socket(AF_INET, SOCK_STREAM);
  probe.bind(["127.0.0.1", 0]);
  const freePort = (probe.getsockname() as [string, number])[1];
  probe.close();
  const cli = new Socket(AF_INET, SOCK_STREAM);
  assert.throws(() => cli.connect(["127.0.0.1", freePort]), (e: unknown) =>
    e instanceof OSError && e.code === "ECONNREFUSED" && e.errno === 111 && /Connection refused/.test(e.message));
  cli.close();
  const cli2 = new Socket(AF_INET, SOCK_STREAM);
  assert.equal(cli2.connectEx(["127.0.0.1", freePort]), 111);
  cli2.close();

  const srv = listener(AF_INET, "127.0.0.1");
  const other = new Socket(AF_INET, SOCK_STREAM);
  assert.throws(() => other.bind(srv.getsockname() as [string, number]), (e: unknown) =>
    e instanceof OSError && e.code === "EADDRINUSE" && /bind to 127\.0\.0\.1:/.test(e.message));
  other.close();
  srv.close();

  const s = new Socket(AF_INET, SOCK_DGRAM);
  s.close();
  s.close();
  assert.equal(s.fileno(), -1);
  assert.match(String(s), /^<Socket \[closed\] fd=-1, family=AF_INET, type=SOCK_DGRAM, proto=0>$/);
  for (const op of [() => s.bind(["127.0.0.1", 0]), () => s.recv(1), () => s.send(new Uint8Array(1)),
    () => s.getsockname(), () => s.accept(), () => s.setBlocking(false), () => s.shutdown(SHUT_WR)]) {
    assert.throws(op, ValueError);
  }
  const lone = new Socket(AF_INET, SOCK_STREAM);
  assert.throws(() => lone.getpeername(), osErr("ENOTCONN"));
  lone.close();
  assert.equal(await fdCountSettled(before), before);
});

test("socket options: int options round-trip, raw bytes with buflen", () => {
  const s = new Socket(AF_INET, SOCK_STREAM);
  try {
    assert.equal(s.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, true);
    assert.equal(s.getsockopt(SOL_SOCKET, SO_REUSEADDR), 1);
    s.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1);
    assert.equal(s.getsockopt(SOL_SOCKET, SO_KEEPALIVE), 1);
    s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
    assert.notEqual(s.getsockopt(IPPROTO_TCP, TCP_NODELAY), 0);
    s.setsockopt(SOL_SOCKET, SO_RCVBUF, 65536);
    assert.ok(s.getsockopt(SOL_SOCKET, SO_RCVBUF) >= 65536);
    // struct linger { int l_onoff; int l_linger; } (<bits/socket.h>): 8 bytes.
    s.setsockopt(SOL_SOCKET, SO_LINGER, new Uint8Array(new Int32Array([1, 5]).buffer));
    const linger = new Int32Array(s.getsockopt(SOL_SOCKET, SO_LINGER, 8).slice().buffer);
    assert.deepEqual([...linger], [1, 5]);
    assert.throws(() => s.getsockopt(SOL_SOCKET, SO_LINGER, 5000), /buflen out of range/);
    assert.throws(() => s.setsockopt(SOL_SOCKET, 9999, 1), osErr("ENOPROTOOPT"));
  } finally {
    s.close();
  }
});

test("UDP: sendto/recvfrom, recvfromInto, connected send/recv, both call forms of sendto", () => {
  const a = new Socket(AF_INET, SOCK_DGRAM);
  const b = new Socket(AF_INET, SOCK_DGRAM);
  try {
    a.bind(["127.0.0.1", 0]);
    b.bind(["127.0.0.1", 0]);
    const aAddr = a.getsockname() as [string, number];
    assert.equal(b.sendto(enc.encode("one"), aAddr), 3);
    assert.equal(b.sendto(enc.encode("two"), 0, aAddr), 3);
    const [d1, from1] = a.recvfrom(100);
    assert.equal(dec.decode(d1), "one");
    assert.deepEqual(from1, b.getsockname());
    const buf = new Uint8Array(10);
    const [n, from2] = a.recvfromInto(buf);
    assert.equal(dec.decode(buf.subarray(0, n)), "two");
    assert.deepEqual(from2, b.getsockname());
    b.connect(aAddr);
    b.send(enc.encode("three"));
    assert.equal(dec.decode(a.recv(100)), "three");
    a.setBlocking(false);
    assert.throws(() => a.recvfrom(10), osErr("EAGAIN"));
  } finally {
    a.close();
    b.close();
  }
});

test("UDP over IPv6 reports [host, port, flowinfo, scopeId]", { skip: !ipv6 }, () => {
  const a = new Socket(AF_INET6, SOCK_DGRAM);
  const b = new Socket(AF_INET6, SOCK_DGRAM);
  try {
    a.bind(["::1", 0]);
    const aAddr = a.getsockname() as [string, number, number, number];
    assert.equal(aAddr.length, 4);
    b.sendto(enc.encode("six"), [aAddr[0], aAddr[1]]);
    const [data, from] = a.recvfrom(10);
    assert.equal(dec.decode(data), "six");
    // b was bound implicitly to "::", port N; the datagram came from ::1, port N.
    assert.deepEqual(from, ["::1", b.getsockname()[1], 0, 0]);
  } finally {
    a.close();
    b.close();
  }
});

test("Unix stream over a filesystem path and an abstract name; Unix datagram senders", { skip: noUnix }, () => {
  const dir = mkdtempSync(join(tmpdir(), "aioloop-sock-"));
  try {
    for (const path of [join(dir, "s.sock"), `\0aioloop-test-${Math.random()}`]) {
      const srv = new Socket(AF_UNIX, SOCK_STREAM);
      srv.bind(path);
      srv.listen();
      assert.equal(srv.getsockname(), path);
      const cli = new Socket(AF_UNIX, SOCK_STREAM);
      cli.connect(path);
      const [conn, peer] = srv.accept();
      assert.equal(peer, "", "an unbound client has no name");
      assert.equal(cli.getpeername(), path);
      cli.sendall(enc.encode("over unix"));
      assert.equal(dec.decode(conn.recv(100)), "over unix");
      conn.close();
      cli.close();
      srv.close();
    }
    const a = new Socket(AF_UNIX, SOCK_DGRAM);
    const b = new Socket(AF_UNIX, SOCK_DGRAM);
    const c = new Socket(AF_UNIX, SOCK_DGRAM);
    a.bind(join(dir, "a.sock"));
    b.bind(join(dir, "b.sock"));
    b.sendto(enc.encode("from b"), join(dir, "a.sock"));
    assert.deepEqual(a.recvfrom(100).map((x) => x instanceof Uint8Array ? dec.decode(x) : x), ["from b", join(dir, "b.sock")]);
    c.sendto(enc.encode("from c"), join(dir, "a.sock"));
    const [, fromC] = a.recvfrom(100);
    assert.equal(fromC, null, "an unbound sender's address is null (Python: None)");
    c.bind("");
    assert.match(c.getsockname() as string, /^\0[0-9a-f]{5}$/, "bind('') autobinds an abstract name");
    a.close();
    b.close();
    c.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("Socket(fileno) reads family, type and proto from the fd; detach gives the fd up", { skip: noUnix }, () => {
  const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM);
  const fd = a.detach();
  assert.equal(a.fileno(), -1);
  const again = new Socket(undefined, undefined, undefined, fd);
  assert.equal(again.family, AF_UNIX);
  assert.equal(again.type, SOCK_DGRAM);
  assert.equal(again.proto, 0);
  b.send(enc.encode("x"));
  assert.equal(dec.decode(again.recv(1)), "x");
  again.close();
  b.close();
  const [c, d] = socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
  assert.equal(c.getBlocking(), false);
  assert.equal(c.type, SOCK_STREAM);
  c.close();
  d.close();
});

test("Socket(fileno) of TCP sockets over IPv4 and IPv6: family, type and proto from the fd", () => {
  for (const family of ipv6 ? [AF_INET, AF_INET6] : [AF_INET]) {
    const s = new Socket(family, SOCK_STREAM);
    const again = new Socket(undefined, undefined, undefined, s.detach());
    assert.equal(again.family, family);
    assert.equal(again.type, SOCK_STREAM);
    assert.equal(again.proto, IPPROTO_TCP, "the protocol the OS chose for proto 0");
    again.close();
  }
  const [a, b] = socketpair(undefined, SOCK_STREAM | SOCK_NONBLOCK);
  assert.equal(a.getBlocking(), false);
  const adopted = new Socket(undefined, undefined, undefined, a.detach());
  assert.equal(adopted.family, isWindows ? AF_INET : AF_UNIX, "socketpair()'s default family");
  b.send(enc.encode("y"));
  adopted.setBlocking(true);
  assert.equal(dec.decode(adopted.recv(1)), "y");
  adopted.close();
  b.close();
});

// ---- a Python peer -----------------------------------------------------------------------------

/** Start `code` under python3; resolve with the child and its first stdout line. */
function startPython(code: string, ...args: string[]): Promise<[ChildProcess, string]> {
  const child = spawn(PYTHON, ["-u", "-c", code, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve([child, out.slice(0, nl)]);
    });
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`python exited early with ${code}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.on("exit", (code) => resolve(code)));
}

const pythonEchoServer = `
import socket
srv = socket.create_server(("127.0.0.1", 0))
print(srv.getsockname()[1])
conn, _ = srv.accept()
while True:
    data = conn.recv(65536)
    if not data: break
    conn.sendall(data)
conn.close()
`;

test("a Python echo server talks to our blocking Socket", { skip: noPython }, async () => {
  const [child, port] = await startPython(pythonEchoServer);
  const s = new Socket(AF_INET, SOCK_STREAM);
  try {
    s.connect(["127.0.0.1", Number(port)]);
    const payload = new Uint8Array(200_000).map((_, i) => i * 7);
    s.sendall(payload);
    s.shutdown(SHUT_WR);
    const chunks: Uint8Array[] = [];
    for (let d = s.recv(65536); d.length > 0; d = s.recv(65536)) chunks.push(d);
    const got = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of chunks) got.set(c, (off += c.length) - c.length);
    assert.deepEqual(got, payload);
  } finally {
    s.close();
  }
  assert.equal(await exited(child), 0);
});

test("a Python client talks to our Socket server (TCP) and to our UDP socket", { skip: noPython }, async () => {
  const srv = listener(AF_INET, "127.0.0.1");
  const udp = new Socket(AF_INET, SOCK_DGRAM);
  udp.bind(["127.0.0.1", 0]);
  const port = (srv.getsockname() as [string, number])[1];
  const udpPort = (udp.getsockname() as [string, number])[1];
  const child = spawn(PYTHON, ["-u", "-c", `
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"ping from python")
print(c.recv(100).decode())
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"dgram", ("127.0.0.1", int(sys.argv[2])))
print(u.recv(100).decode())
`, String(port), String(udpPort)], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (chunk) => (out += chunk));
  try {
    // Blocking calls are fine here: the peer is another process.
    const [conn, peer] = srv.accept();
    assert.equal((peer as [string, number])[0], "127.0.0.1");
    assert.equal(dec.decode(conn.recv(100)), "ping from python");
    conn.sendall(enc.encode("pong from aioloop"));
    conn.close();
    const [data, from] = udp.recvfrom(100);
    assert.equal(dec.decode(data), "dgram");
    udp.sendto(enc.encode("dgram reply"), from as [string, number]);
    assert.equal(await exited(child), 0);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(out, "pong from aioloop\ndgram reply\n");
  } finally {
    srv.close();
    udp.close();
  }
});

test("no fd leaks: 200 connect/accept/close rounds return to the starting count", async () => {
  const before = await stableFdCount();
  const srv = listener(AF_INET, "127.0.0.1");
  const addr = srv.getsockname() as [string, number];
  for (let i = 0; i < 200; i++) {
    const cli = new Socket(AF_INET, SOCK_STREAM);
    cli.connect(addr);
    const [conn] = srv.accept();
    conn.close();
    cli.close();
  }
  srv.close();
  assert.equal(await fdCountSettled(before), before);
});

test("send, recv and close are bound to their socket: detached calls work, each read gives the same function", () => {
  const [a, b] = socketpair();
  try {
    const { send } = a;
    const recv = b.recv;
    assert.equal(a.send, send, "the bound method is kept on the socket");
    assert.notEqual(a.send, b.send, "each socket has its own");
    assert.equal(send(new Uint8Array([1, 2, 3])), 3);
    assert.deepEqual([...recv(10)], [1, 2, 3]);
    // Replacing one on an instance (as a test double would) touches that socket only.
    const calls: number[] = [];
    a.close = () => void calls.push(1);
    a.close();
    assert.deepEqual(calls, [1]);
    assert.notEqual(a.fileno(), -1, "the replacement ran, not Socket.close");
    Socket.prototype.close.call(a);
    assert.equal(a.fileno(), -1, "the prototype's method is still callable with call()");
    const close = b.close;
    close();
    assert.equal(b.fileno(), -1);
  } finally {
    Socket.prototype.close.call(a);
    b.close();
  }
});

test("IPv4 texts are right across the text cache: repeated, distinct, and past its size", () => {
  for (let i = 0; i < 5000; i++) {
    const bytes = new Uint8Array([10, (i >> 16) & 255, (i >> 8) & 255, i & 255]);
    assert.equal(inetNtop(AF_INET, bytes), `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  }
  assert.equal(inetNtop(AF_INET, new Uint8Array([127, 0, 0, 1])), "127.0.0.1");
  assert.equal(inetNtop(AF_INET, new Uint8Array([127, 0, 0, 1])), "127.0.0.1");
  const out = new Uint8Array(SOCKADDR_STORAGE_SIZE);
  encodeSockaddr(AF_INET, ["192.168.1.200", 80], out);
  assert.deepEqual(decodeSockaddr(out, 16), ["192.168.1.200", 80]);
  assert.deepEqual(decodeSockaddr(out, 16), ["192.168.1.200", 80]);
});
