/**
 * createConnection / createServer / Unix / datagram endpoints over real loopback sockets, with
 * peers this project did not write: Python's socket and asyncio modules (child processes) and
 * node:net (the host runtime's own networking, in this same process).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  AF_INET, AF_UNIX, type BaseEventLoop, OSError, sleep, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_STREAM,
  Socket, socketpair, type Transport, ValueError,
} from "../../../mod.ts";
import {
  assertClosedSince, captureExceptions, concat, libkqueueClearsSocketError, openNow, windowsLacks, withLoop,
} from "../../helpers.ts";
import { hasIpv6, pattern, runPeer, sha256, startPeerServer } from "../../net_helpers.ts";

/** Echoes everything; closes after echoing the peer's EOF. */
class EchoProtocol {
  transport!: Transport;
  connectionMade(t: Transport) {
    this.transport = t;
  }
  dataReceived(d: Uint8Array) {
    this.transport.write(d);
  }
  eofReceived() {
    this.transport.close();
  }
}

/** Collects what arrives and resolves `done` on connectionLost. */
class Collector {
  chunks: Uint8Array[] = [];
  transport!: Transport;
  lost: Error | null | undefined;
  readonly done;
  constructor(loop: BaseEventLoop) {
    this.done = loop.createFuture<Error | null>();
  }
  connectionMade(t: Transport) {
    this.transport = t;
  }
  dataReceived(d: Uint8Array) {
    this.chunks.push(d);
  }
  connectionLost(exc: Error | null) {
    this.lost = exc;
    this.done.setResult(exc);
  }
  get size() {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }
}

function portOf(server: { sockets: { getsockname(): unknown }[] | null }): number {
  return (server.sockets![0].getsockname() as [string, number])[1];
}

for (const host of ["127.0.0.1", "::1"]) {
  test(`TCP ${host}: a Python client echoes 1 MiB through an aioloop server, checksummed`, {
    skip: windowsLacks("python3 (no Python under Wine)") ||
      (host === "::1" && !hasIpv6() ? "this kernel has no IPv6 loopback" : false),
  }, () =>
    withLoop(async (loop) => {
      const server = await loop.createServer(() => new EchoProtocol(), host, 0);
      const port = portOf(server);
      const out = await loop.runUntilComplete(runPeer("echo-client", host, port, 1 << 20));
      assert.equal(out, `${sha256(pattern(1 << 20))} ${1 << 20}`);
      server.close();
      await loop.runUntilComplete(server.waitClosed());
    }));

  test(`TCP ${host}: an aioloop client echoes 1 MiB through a Python asyncio server`, {
    skip: windowsLacks("python3 (no Python under Wine)") ||
      (host === "::1" && !hasIpv6() ? "this kernel has no IPv6 loopback" : false),
  }, () =>
    withLoop(async (loop) => {
      const peer = await startPeerServer("echo-server", host);
      try {
        const [t, p] = await loop.runUntilComplete(
          loop.createConnection(() => new Collector(loop), host, peer.port),
        );
        assert.deepEqual((t.getExtraInfo("peername") as unknown[]).slice(0, 2), [host, peer.port]);
        const data = pattern(1 << 20);
        t.write(data);
        t.writeEof();
        await loop.runUntilComplete(p.done);
        assert.equal(p.lost, null);
        assert.equal(sha256(...p.chunks), sha256(data));
      } finally {
        await peer.stop();
      }
    }));
}

test("node:net (the host's own networking) talks to aioloop both ways in one process", () =>
  withLoop(async (loop) => {
    // aioloop server, node:net client.
    const server = await loop.createServer(() => new EchoProtocol(), "127.0.0.1", 0);
    const port = portOf(server);
    const echoed = await loop.runUntilComplete(new Promise<string>((resolve, reject) => {
      const c = net.connect(port, "127.0.0.1", () => c.end("from node:net"));
      let got = "";
      c.on("data", (d) => (got += d));
      c.on("end", () => resolve(got));
      c.on("error", reject);
    }));
    assert.equal(echoed, "from node:net");
    server.close();
    // node:net server, aioloop client.
    const nodeServer = net.createServer((s) => s.on("data", (d) => s.end(d)));
    await new Promise<void>((r) => nodeServer.listen(0, "127.0.0.1", r));
    const nodePort = (nodeServer.address() as net.AddressInfo).port;
    try {
      const [t, p] = await loop.runUntilComplete(
        loop.createConnection(() => new Collector(loop), "127.0.0.1", nodePort),
      );
      t.write(new TextEncoder().encode("from aioloop"));
      await loop.runUntilComplete(p.done);
      assert.equal(new TextDecoder().decode(concat(p.chunks)), "from aioloop");
    } finally {
      await new Promise((r) => nodeServer.close(r));
    }
  }));

test("Unix sockets: a Python client through createUnixServer; createUnixConnection to it", {
  skip: windowsLacks("AF_UNIX sockets (none in Wine's Winsock) and python3 (no Python under Wine)"),
}, () =>
  withLoop(async (loop) => {
    const dir = mkdtempSync(join(tmpdir(), "aioloop-unix-"));
    const path = join(dir, "echo.sock");
    try {
      const server = await loop.createUnixServer(() => new EchoProtocol(), path);
      const out = await loop.runUntilComplete(runPeer("unix-echo-client", path, 300000));
      assert.equal(out, `${sha256(pattern(300000))} 300000`);
      const [t, p] = await loop.runUntilComplete(
        loop.createUnixConnection(() => new Collector(loop), path),
      );
      assert.equal(t.getExtraInfo("peername"), path);
      t.write(pattern(1000));
      t.writeEof();
      await loop.runUntilComplete(p.done);
      assert.equal(sha256(...p.chunks), sha256(pattern(1000)));
      server.close();
      assert.equal(existsSync(path), false, "the socket file is removed on close");
      await assert.rejects(
        loop.runUntilComplete(loop.createUnixConnection(() => new Collector(loop), path)),
        (e: unknown) => e instanceof OSError && (e.code === "ENOENT" || e.code === "ECONNREFUSED"),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }));

test("UDP: a Python client against an aioloop endpoint, and aioloop against a Python server", {
  skip: windowsLacks("python3 (no Python under Wine)"),
}, () =>
  withLoop(async (loop) => {
    const [transport] = await loop.runUntilComplete(loop.createDatagramEndpoint(() => ({
      transport: undefined as unknown as { sendto(d: Uint8Array, a: unknown): void },
      connectionMade(t: { sendto(d: Uint8Array, a: unknown): void }) {
        this.transport = t;
      },
      datagramReceived(data: Uint8Array, addr: unknown) {
        this.transport.sendto(new Uint8Array([...new TextEncoder().encode("re:"), ...data]), addr);
      },
    }), { localAddr: ["127.0.0.1", 0] }));
    const port = (transport.getExtraInfo("sockname") as [string, number])[1];
    const out = await loop.runUntilComplete(runPeer("udp-client", "127.0.0.1", port, 3));
    assert.equal(out, "re:dgram-0,re:dgram-1,re:dgram-2");
    transport.close();

    const peer = await startPeerServer("udp-echo-server", "127.0.0.1");
    try {
      const got = loop.createFuture<string>();
      const [t] = await loop.runUntilComplete(loop.createDatagramEndpoint(() => ({
        datagramReceived(data: Uint8Array) {
          got.setResult(new TextDecoder().decode(data));
        },
      }), { remoteAddr: ["127.0.0.1", peer.port] }));
      t.sendto(new TextEncoder().encode("hello udp"));
      assert.throws(() => t.sendto(new Uint8Array(1), ["127.0.0.1", 1]), ValueError);
      assert.equal(await loop.runUntilComplete(got), "hello udp");
      t.close();
    } finally {
      await peer.stop();
    }
  }));

test("connection refused is OSError ECONNREFUSED; a used port is EADDRINUSE; the loop lives on", { skip: libkqueueClearsSocketError }, () =>
  withLoop(async (loop) => {
    const server = await loop.createServer(() => new EchoProtocol(), "127.0.0.1", 0);
    const port = portOf(server);
    server.close();
    await assert.rejects(
      loop.runUntilComplete(loop.createConnection(() => new Collector(loop), "127.0.0.1", port)),
      (e: unknown) => e instanceof OSError && e.code === "ECONNREFUSED" && e.errno === 111,
    );
    const busy = await loop.createServer(() => new EchoProtocol(), "127.0.0.1", 0);
    await assert.rejects(
      loop.runUntilComplete(loop.createServer(() => new EchoProtocol(), "127.0.0.1", portOf(busy), {
        reuseAddress: false,
      })),
      (e: unknown) => e instanceof OSError && e.code === "EADDRINUSE" && /127\.0\.0\.1/.test(e.message),
    );
    busy.close();
    assert.equal(await loop.runUntilComplete(async () => "still running"), "still running");
  }));

test("argument errors name the problem", () =>
  withLoop(async (loop) => {
    const [a, b] = socketpair();
    try {
      const f = () => new Collector(loop);
      await assert.rejects(loop.createConnection(f, "127.0.0.1", 1, { sock: a }), /host\/port and sock/);
      await assert.rejects(loop.createConnection(f), /no sock specified/);
      // deno-lint-ignore no-explicit-any
      await assert.rejects(loop.createConnection(f, "127.0.0.1", 1, { ssl: "yes" as any }), /ssl must be an SSLContext/);
      await assert.rejects(loop.createConnection(f, "127.0.0.1", 1, { serverHostname: "x" }), /only meaningful with ssl/);
      // deno-lint-ignore no-explicit-any
      await assert.rejects(loop.createConnection(42 as any, "127.0.0.1", 1), TypeError);
      await assert.rejects(loop.createServer(f), /Neither host\/port nor sock/);
      await assert.rejects(loop.createServer(f, "127.0.0.1", 0, { backlog: -1 }), ValueError);
      await assert.rejects(loop.createUnixConnection(f), /no path and sock/);
      const d = () => ({});
      await assert.rejects(loop.createDatagramEndpoint(d), /unexpected address family/);
      await assert.rejects(
        loop.createDatagramEndpoint(d, { sock: a, localAddr: ["127.0.0.1", 0] }),
        /A datagram socket was expected|can not be used when sock/,
      );
    } finally {
      a.close();
      b.close();
    }
  }));

// CPython test_unix_events: test_create_unix_server_path_dgram, *_path_inetsock and
// test_create_unix_connection_path_inetsock (issue 15 item 15): a sock that is not an AF_UNIX
// stream socket is ValueError "A UNIX Domain Stream Socket was expected, got …", whichever way
// it is wrong.
test("a Unix server or connection on a datagram or TCP sock: 'A UNIX Domain Stream Socket was expected'", {
  skip: windowsLacks("AF_UNIX datagram sockets"),
}, () =>
  withLoop(async (loop) => {
    const f = () => new Collector(loop);
    const expected = (e: unknown) =>
      e instanceof ValueError && /^A UNIX Domain Stream Socket was expected, got /.test(e.message);
    for (const sock of [new Socket(AF_UNIX, SOCK_DGRAM), new Socket(AF_INET, SOCK_STREAM)]) {
      try {
        await assert.rejects(loop.createUnixServer(f, null, { sock }), expected);
        await assert.rejects(loop.createUnixConnection(f, null, { sock }), expected);
      } finally {
        sock.close();
      }
    }
    assert.equal(await loop.runUntilComplete(async () => "still running"), "still running");
  }));

test("an accepted connection reset mid-write ends that connection only; half-close is answered", {
  skip: windowsLacks("python3 (no Python under Wine)") ||
    libkqueueClearsSocketError,
}, () =>
  withLoop(async (loop) => {
    const seen = captureExceptions(loop);
    const lost: (Error | null)[] = [];
    const server = await loop.createServer(() => ({
      transport: undefined as unknown as Transport,
      connectionMade(t: Transport) {
        this.transport = t;
        // A steady stream the resetting client will not read.
        const tick = () => {
          if (this.transport.isClosing()) return;
          this.transport.write(pattern(65536));
          loop.callLater(0.001, tick);
        };
        tick();
      },
      connectionLost(exc: Error | null) {
        lost.push(exc);
      },
    }), "127.0.0.1", 0);
    const halfServer = await loop.createServer(() => ({
      transport: undefined as unknown as Transport,
      connectionMade(t: Transport) {
        this.transport = t;
      },
      eofReceived() {
        this.transport.write(new TextEncoder().encode("answer after EOF"));
        this.transport.close();
        return true;
      },
    }), "127.0.0.1", 0);
    const [reset, answer] = await loop.runUntilComplete(Promise.all([
      runPeer("reset-client", "127.0.0.1", portOf(server)),
      runPeer("half-close-client", "127.0.0.1", portOf(halfServer)),
    ]));
    assert.equal(reset, "reset");
    assert.equal(answer, "answer after EOF");
    await loop.runUntilComplete(async () => {
      for (let i = 0; i < 200 && lost.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    });
    assert.equal(lost.length, 1);
    assert.ok(lost[0] instanceof OSError && ["ECONNRESET", "EPIPE"].includes(lost[0].code), String(lost[0]));
    assert.equal(seen.length, 0, "a peer reset is not a loop error");
    server.close();
    halfServer.close();
  }));

test("writing after close() is dropped without an error", () =>
  withLoop(async (loop) => {
    const server = await loop.createServer(() => new EchoProtocol(), "127.0.0.1", 0);
    const [t, p] = await loop.runUntilComplete(
      loop.createConnection(() => new Collector(loop), "127.0.0.1", portOf(server)),
    );
    t.close();
    t.write(new Uint8Array([1, 2, 3]));
    await loop.runUntilComplete(p.done);
    t.write(new Uint8Array([4]));
    assert.equal(p.lost, null);
    server.close();
  }));

test("Server: close() stops listening but keeps accepted connections; sockets becomes empty", { skip: libkqueueClearsSocketError }, () =>
  withLoop(async (loop) => {
    const server = await loop.createServer(() => new EchoProtocol(), "127.0.0.1", 0);
    assert.equal(server.isServing(), true);
    assert.equal(server.sockets!.length, 1);
    const port = portOf(server);
    const [t, p] = await loop.runUntilComplete(
      loop.createConnection(() => new Collector(loop), "127.0.0.1", port),
    );
    await loop.runUntilComplete(async () => {
      while (server.activeConnections === 0) await new Promise((r) => setTimeout(r, 1));
    });
    const closed = loop.createTask(() => server.waitClosed());
    server.close();
    assert.deepEqual(server.sockets, []);
    assert.equal(server.isServing(), false);
    t.write(new TextEncoder().encode("still echoed"));
    await loop.runUntilComplete(async () => {
      while (p.size < 12) await new Promise((r) => setTimeout(r, 1));
    });
    assert.equal(closed.done(), false, "waitClosed() waits for the accepted connection");
    t.close();
    await loop.runUntilComplete(p.done);
    await loop.runUntilComplete(closed);
    await assert.rejects(
      loop.runUntilComplete(loop.createConnection(() => new Collector(loop), "127.0.0.1", port)),
      (e: unknown) => e instanceof OSError && e.code === "ECONNREFUSED",
    );
  }));

test("host null binds every interface, one socket per family", () =>
  withLoop(async (loop) => {
    const server = await loop.createServer(() => new EchoProtocol(), null, 0);
    const families = server.sockets!.map((s) => s.family).sort();
    assert.ok(families.includes(AF_INET));
    if (hasIpv6()) assert.equal(families.length, 2, "an IPv6 socket too");
    server.close();
  }));

test("1 GiB to a slow reader: memory stays bounded when the protocol obeys pauseWriting", {
  skip: windowsLacks("python3 (no Python under Wine)"),
}, () =>
  withLoop(async (loop) => {
    const TOTAL = 1 << 30, CHUNK = 1 << 20;
    const chunk = pattern(CHUNK);
    let maxBuffered = 0, maxRss = 0;
    const rssStart = process.memoryUsage().rss;
    const server = await loop.createServer(() => {
      let sent = 0, paused = false, t: Transport;
      const pump = () => {
        while (!paused && sent < TOTAL) {
          t.write(chunk);
          sent += CHUNK;
          maxBuffered = Math.max(maxBuffered, t.getWriteBufferSize());
        }
        if (sent >= TOTAL) t.close();
      };
      return {
        connectionMade(transport: Transport) {
          t = transport;
          pump();
        },
        pauseWriting() {
          paused = true;
          maxRss = Math.max(maxRss, process.memoryUsage().rss);
        },
        resumeWriting() {
          paused = false;
          pump();
        },
      };
    }, "127.0.0.1", 0);
    const out = await loop.runUntilComplete(runPeer("slow-reader", "127.0.0.1", portOf(server), 0.3));
    const [hash, count] = out.split(" ");
    assert.equal(Number(count), TOTAL);
    const expected = (await import("node:crypto")).createHash("sha256");
    for (let i = 0; i < TOTAL / CHUNK; i++) expected.update(chunk);
    assert.equal(hash, expected.digest("hex"));
    assert.ok(maxBuffered <= 64 * 1024 + CHUNK, `write buffer reached ${maxBuffered} bytes`);
    const growth = (maxRss - rssStart) / (1 << 20);
    assert.ok(growth < 256, `RSS grew ${growth.toFixed(0)} MiB while sending 1 GiB`);
    server.close();
  }));

test("10,000 connections opened and closed leak no fd", () =>
  withLoop(async (loop) => {
    const server = await loop.createServer(() => new EchoProtocol(), "127.0.0.1", 0);
    const port = portOf(server);
    const listener = server.sockets![0].fileno();
    // Park once first, so the loop's parking thread (on Windows a Worker, ffi/iocp_park.ts,
    // started at the first wait) is open before the count.
    await loop.runUntilComplete(async () => await sleep(0.01));
    const before = await openNow();
    await loop.runUntilComplete(async () => {
      for (let i = 0; i < 10000; i++) {
        const [t, p] = await loop.createConnection(() => new Collector(loop), "127.0.0.1", port);
        t.close();
        await p.done;
      }
    });
    server.close();
    await loop.runUntilComplete(async () => {
      while (server.activeConnections > 0) await new Promise((r) => setTimeout(r, 5));
    });
    await assertClosedSince(before, listener); // only the listening socket went
  }));

test("sockname and peername are recorded when the transport is made, not asked later (issue 15 #6)", () =>
  withLoop(async (loop) => {
    const srv = new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    srv.bind(["127.0.0.1", 0]);
    srv.listen(1);
    try {
      const [t, p] = await loop.runUntilComplete(
        loop.createConnection(() => new Collector(loop), "127.0.0.1", portOf({ sockets: [srv] })),
      );
      const [peer] = await loop.runUntilComplete(loop.sockAccept(srv));
      peer.send(new TextEncoder().encode("x"));
      peer.close(); // the peer sends, closes: our transport follows and closes its socket
      await loop.runUntilComplete(p.done);
      assert.deepEqual(t.getExtraInfo("peername"), srv.getsockname());
      const sockname = t.getExtraInfo("sockname") as [string, number];
      assert.equal(sockname[0], "127.0.0.1");
      assert.ok(sockname[1] > 0);
    } finally {
      srv.close();
    }
  }));
