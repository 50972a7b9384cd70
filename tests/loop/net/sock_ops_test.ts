/**
 * The loop's sock* methods (asyncio sock_*; loop/net/sock_ops.ts on the selector loop, the proactor's own
 * operations on the proactor loop) on real sockets (TCP v4/v6, UDP, Unix) and a
 * Python peer; waiting, big sends to a slow reader, cancellation leaving no watcher, errors,
 * and no fd leaks.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CancelledError, OSError, ValueError } from "../../../loop/core/errors.ts";
import type { BaseEventLoop } from "../../../loop/base_loop.ts";
import {
  AF_INET, AF_INET6, AF_UNIX, SO_RCVBUF, SO_REUSEADDR, SO_SNDBUF, SOCK_DGRAM, SOCK_NONBLOCK,
  SOCK_STREAM, Socket, socketpair, SOL_SOCKET,
} from "../../../loop/net/socket.ts";
import {
  captureExceptions, fdCountSettled, libkqueueClearsSocketError, stableFdCount, windowsLacks, withLoop,
} from "../../helpers.ts";
import { hasIpv6, PYTHON } from "../../net_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const ipv6 = hasIpv6();
if (!ipv6) console.log("sock_ops_test: no IPv6 on this kernel (bind ::1 failed); IPv6 tests skip");

/** A non-blocking listening socket on `host` (port chosen by the kernel). */
function listener(family: number, host: string): Socket {
  const s = new Socket(family, SOCK_STREAM | SOCK_NONBLOCK);
  s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  s.bind([host, 0]);
  s.listen();
  return s;
}

/** Run `body` as a task on a fresh loop until it completes. */
function onLoop<T>(body: (loop: BaseEventLoop) => Promise<T>): Promise<T> {
  return withLoop((loop) => loop.runUntilComplete(() => body(loop)));
}

function nextTick(loop: BaseEventLoop, seconds = 0): Promise<void> {
  return new Promise((resolve) => loop.callLater(seconds, resolve));
}

for (const [family, host, name] of [[AF_INET, "127.0.0.1", "IPv4"], [AF_INET6, "::1", "IPv6"]] as const) {
  test(`sockConnect/sockAccept/sockSendall/sockRecv over TCP ${name}`, { skip: family === AF_INET6 && !ipv6 }, async () => {
    const before = await stableFdCount();
    await onLoop(async (loop) => {
      const srv = listener(family, host);
      const cli = new Socket(family, SOCK_STREAM);
      cli.setBlocking(false);
      try {
        const accepting = loop.createTask(() => loop.sockAccept(srv));
        await loop.sockConnect(cli, srv.getsockname()!);
        const [conn, peer] = await accepting;
        assert.deepEqual(peer, cli.getsockname());
        assert.equal(conn.getBlocking(), false, "sockAccept gives a non-blocking socket");
        try {
          const reading = loop.createTask(() => loop.sockRecv(conn, 100));
          await nextTick(loop, 0.01);
          assert.equal(reading.done(), false, "sockRecv waits for data");
          await loop.sockSendall(cli, enc.encode("hello"));
          assert.equal(dec.decode(await reading), "hello");
          await loop.sockSendall(conn, enc.encode("into"));
          const buf = new Uint8Array(16);
          const n = await loop.sockRecvInto(cli, buf);
          assert.equal(dec.decode(buf.subarray(0, n)), "into");
          cli.close();
          assert.equal((await loop.sockRecv(conn, 10)).length, 0, "EOF after the peer closed");
          assert.equal(loop.removeReader(conn), false, "no reader left behind");
        } finally {
          conn.close();
        }
      } finally {
        cli.close();
        srv.close();
      }
    });
    assert.equal(await fdCountSettled(before), before);
  });
}

test("sockSendall sends 12 MB to a slow reader, waiting for writability as needed", () =>
  onLoop(async (loop) => {
    const srv = listener(AF_INET, "127.0.0.1");
    const cli = new Socket(AF_INET, SOCK_STREAM);
    cli.setBlocking(false);
    // Small buffers so that the sender really has to wait many times.
    cli.setsockopt(SOL_SOCKET, SO_SNDBUF, 16384);
    const accepting = loop.sockAccept(srv);
    await loop.sockConnect(cli, srv.getsockname()!);
    const [conn] = await accepting;
    conn.setsockopt(SOL_SOCKET, SO_RCVBUF, 16384);
    try {
      const size = 12 * 1024 * 1024;
      const payload = new Uint8Array(size);
      for (let i = 0; i < size; i++) payload[i] = (i * 31 + (i >> 12)) & 0xff;
      // Waiting is seen the same way on every loop (a selector waits for writability, a
      // proactor for its send operation): the send is still unfinished once data arrives.
      let writableWaits = 0;
      const sending = loop.createTask(() => loop.sockSendall(cli, payload));
      const received = new Uint8Array(size);
      let got = 0, reads = 0;
      while (got < size) {
        const chunk = await loop.sockRecv(conn, 65536);
        if (!sending.done()) writableWaits++;
        assert.ok(chunk.length > 0, "no early EOF");
        received.set(chunk, got);
        got += chunk.length;
        // The slow part: pause now and then so the sender's buffer fills up.
        if (++reads % 16 === 0) await nextTick(loop, 0.001);
      }
      await sending;
      assert.equal(got, size);
      assert.ok(received.every((b, i) => b === payload[i]), "bytes arrive intact and in order");
      assert.ok(writableWaits >= 1, `the sender waited (unfinished at ${writableWaits} reads)`);
      assert.equal(loop.removeWriter(cli), false, "no writer left behind");
    } finally {
      conn.close();
      cli.close();
      srv.close();
    }
  }));

test("UDP: sockSendto, sockRecvfrom and sockRecvfromInto wait for datagrams", () =>
  onLoop(async (loop) => {
    const a = new Socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK);
    const b = new Socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK);
    try {
      a.bind(["127.0.0.1", 0]);
      b.bind(["127.0.0.1", 0]);
      const waiting = loop.createTask(() => loop.sockRecvfrom(a, 100));
      await nextTick(loop, 0.005);
      assert.equal(waiting.done(), false);
      assert.equal(await loop.sockSendto(b, enc.encode("datagram"), a.getsockname()!), 8);
      const [data, from] = await waiting;
      assert.equal(dec.decode(data), "datagram");
      assert.deepEqual(from, b.getsockname());
      loop.callLater(0.005, () => a.sendto(enc.encode("back"), b.getsockname()!));
      const buf = new Uint8Array(64);
      const [n, from2] = await loop.sockRecvfromInto(b, buf, 10);
      assert.equal(dec.decode(buf.subarray(0, n)), "back");
      assert.deepEqual(from2, a.getsockname());
      await assert.rejects(loop.sockRecvfromInto(b, buf, 65), /buffer too small/);
    } finally {
      a.close();
      b.close();
    }
  }));

test("Unix stream and datagram sockets through the sock* functions", { skip: windowsLacks("AF_UNIX sockets (none in Wine's Winsock)") }, () =>
  onLoop(async (loop) => {
    const dir = mkdtempSync(join(tmpdir(), "aioloop-sockops-"));
    try {
      const path = join(dir, "srv.sock");
      const srv = new Socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
      srv.bind(path);
      srv.listen();
      const cli = new Socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
      const accepting = loop.sockAccept(srv);
      await loop.sockConnect(cli, path);
      const [conn, peer] = await accepting;
      assert.equal(peer, "");
      await loop.sockSendall(conn, enc.encode("unix"));
      assert.equal(dec.decode(await loop.sockRecv(cli, 10)), "unix");
      conn.close();
      cli.close();
      srv.close();

      const [x, y] = socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK);
      loop.callLater(0.002, () => y.send(enc.encode("pair")));
      const [d, from] = await loop.sockRecvfrom(x, 10);
      assert.equal(dec.decode(d), "pair");
      assert.equal(from, null, "a socketpair peer has no address (Python: None)");
      x.close();
      y.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }));

test("cancelling a waiting sockRecv, sockAccept or sockSendall leaves no watcher registered", () =>
  withLoop(async (loop) => {
    const seen = captureExceptions(loop);
    await loop.runUntilComplete(async () => {
      const [a, b] = socketpair(undefined, SOCK_STREAM | SOCK_NONBLOCK);
      const [c, d] = socketpair(undefined, SOCK_STREAM | SOCK_NONBLOCK);
      const srv = listener(AF_INET, "127.0.0.1");
      try {
        const recv = loop.createTask(() => loop.sockRecv(a, 10));
        const accept = loop.createTask(() => loop.sockAccept(srv));
        const big = new Uint8Array(64 * 1024 * 1024); // more than any socket buffer holds
        const send = loop.createTask(() => loop.sockSendall(c, big)); // nobody reads d
        await nextTick(loop, 0.01);
        for (const t of [recv, accept, send]) {
          assert.equal(t.done(), false, "still waiting");
          t.cancel();
        }
        for (const t of [recv, accept, send]) await assert.rejects(Promise.resolve(t), CancelledError);
        assert.equal(loop.removeReader(a), false, "sockRecv's reader is gone");
        assert.equal(loop.removeReader(srv), false, "sockAccept's reader is gone");
        assert.equal(loop.removeWriter(c), false, "sockSendall's writer is gone");
        // The socket is still usable afterwards.
        loop.callLater(0.002, () => b.send(enc.encode("later")));
        assert.equal(dec.decode(await loop.sockRecv(a, 10)), "later");
      } finally {
        for (const s of [a, b, c, d, srv]) s.close();
      }
    });
    assert.deepEqual(seen, []);
  }));

test("errors: ECONNREFUSED, host names, blocking and closed sockets, EADDRINUSE", { skip: libkqueueClearsSocketError }, async () => {
  const before = await stableFdCount();
  await onLoop(async (loop) => {
    const probe = new Socket(AF_INET, SOCK_STREAM);
    probe.bind(["127.0.0.1", 0]);
    const closedPort = (probe.getsockname() as [string, number])[1];
    probe.close();

    const cli = new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    await assert.rejects(loop.sockConnect(cli, ["127.0.0.1", closedPort]), (e: unknown) =>
      e instanceof OSError && e.code === "ECONNREFUSED" && e.errno === 111);
    assert.equal(loop.removeWriter(cli), false, "no writer left after the failure");
    cli.close();

    const cli2 = new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    await assert.rejects(loop.sockConnect(cli2, ["localhost", 80]), (e: unknown) =>
      e instanceof ValueError && /address must be resolved/.test(e.message) && /'localhost'/.test(e.message));
    // deno-lint-ignore no-explicit-any
    await assert.rejects(loop.sockConnect(cli2, "127.0.0.1:80" as any), TypeError);
    cli2.close();

    const [blocking, other] = socketpair();
    for (const op of [
      () => loop.sockRecv(blocking, 1), () => loop.sockRecvInto(blocking, new Uint8Array(1)),
      () => loop.sockSendall(blocking, new Uint8Array(1)), () => loop.sockAccept(blocking),
      () => loop.sockConnect(blocking, "/nonexistent"), () => loop.sockRecvfrom(blocking, 1),
      () => loop.sockSendto(blocking, new Uint8Array(1), "/nonexistent"),
    ]) {
      await assert.rejects(op(), (e: unknown) => e instanceof ValueError && e.message === "the socket must be non-blocking");
    }
    blocking.setBlocking(false);
    blocking.close();
    await assert.rejects(loop.sockRecv(blocking, 1), (e: unknown) => e instanceof ValueError && /closed socket/.test(e.message));
    await assert.rejects(loop.sockSendall(blocking, new Uint8Array(1)), ValueError);
    other.close();
    // deno-lint-ignore no-explicit-any
    await assert.rejects(loop.sockRecv("not a socket" as any, 1), TypeError);

    const srv = listener(AF_INET, "127.0.0.1");
    const dup = new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    assert.throws(() => dup.bind(srv.getsockname()!), (e: unknown) => e instanceof OSError && e.code === "EADDRINUSE");
    dup.close();
    srv.close();
  });
  assert.equal(await fdCountSettled(before), before);
});

test("a peer that is gone: sockSendall reports EPIPE or ECONNRESET, never SIGPIPE", { skip: windowsLacks("AF_UNIX socketpair (a TCP pair's first send succeeds)") }, () =>
  onLoop(async (loop) => {
    const [p, q] = socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
    q.close();
    await assert.rejects(loop.sockSendall(p, new Uint8Array(10)), (e: unknown) =>
      e instanceof OSError && (e.code === "EPIPE" || e.code === "ECONNRESET"));
    p.close();
  }));

// ---- a Python peer -----------------------------------------------------------------------------

function startPython(code: string, ...args: string[]): [ChildProcess, Promise<string>, Promise<number | null>] {
  const child = spawn(PYTHON, ["-u", "-c", code, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
    });
    child.on("exit", () => reject(new Error(`python exited before printing: ${out}`)));
  });
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return [child, firstLine, exit];
}

test("a Python asyncio-free echo server and client talk to the sock* functions", { skip: windowsLacks("python3 (no Python under Wine)") }, () =>
  onLoop(async (loop) => {
    // Python echoes; we connect with sockConnect and stream 2 MB through it.
    const [, portLine, serverExit] = startPython(`
import socket
srv = socket.create_server(("127.0.0.1", 0))
print(srv.getsockname()[1])
conn, _ = srv.accept()
while data := conn.recv(65536):
    conn.sendall(data)
conn.close()
`);
    const port = Number(await portLine);
    const s = new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    try {
      await loop.sockConnect(s, ["127.0.0.1", port]);
      const payload = new Uint8Array(2 * 1024 * 1024).map((_, i) => (i * 13) & 0xff);
      const sending = loop.createTask(() => loop.sockSendall(s, payload));
      const back = new Uint8Array(payload.length);
      let got = 0;
      while (got < payload.length) {
        const chunk = await loop.sockRecv(s, 65536);
        assert.ok(chunk.length > 0);
        back.set(chunk, got);
        got += chunk.length;
      }
      await sending;
      assert.deepEqual(back, payload);
    } finally {
      s.close();
    }
    assert.equal(await serverExit, 0);

    // Python connects to our sockAccept server and sends a line; we answer.
    const srv = listener(AF_INET, "127.0.0.1");
    try {
      const [, reply, clientExit] = startPython(`
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"hi from python")
print(c.recv(100).decode())
`, String((srv.getsockname() as [string, number])[1]));
      const [conn] = await loop.sockAccept(srv);
      assert.equal(dec.decode(await loop.sockRecv(conn, 100)), "hi from python");
      await loop.sockSendall(conn, enc.encode("hi from aioloop"));
      assert.equal(await reply, "hi from aioloop");
      assert.equal(await clientExit, 0);
      conn.close();
    } finally {
      srv.close();
    }
  }));
