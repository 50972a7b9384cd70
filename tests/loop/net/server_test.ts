/**
 * Server's lifetime as asyncio 3.12 defines it (issue 15 item 5, CPython test_server): waitClosed()
 * resolves once the server is closed AND every connection it accepted is gone, in either order;
 * closeClients()/abortClients() (asyncio 3.13) end those connections; `sockets` is empty once
 * closed. A Unix server removes its socket file when it closes, but only if the file is still
 * its own (issue 15 item 7).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  AF_INET, AF_UNIX, type BaseEventLoop, type Server, SOCK_STREAM, Socket, startServer, startUnixServer,
  type Transport,
} from "../../../mod.ts";
import { windowsLacks, withLoop } from "../../helpers.ts";

function onLoop<T>(body: (loop: BaseEventLoop) => Promise<T>): Promise<T> {
  return withLoop((loop) => loop.runUntilComplete(() => body(loop)));
}

function sleepOn(loop: BaseEventLoop, seconds = 0): Promise<void> {
  return new Promise((resolve) => loop.callLater(seconds, resolve));
}

/** Keeps its connection open until the peer's EOF; counts what it was told. */
class Holder {
  transport!: Transport;
  lost: unknown = "open";
  connectionMade(t: Transport) {
    this.transport = t;
  }
  connectionLost(exc: unknown) {
    this.lost = exc;
  }
}

/** A client side that notes when the server ended the connection. */
class Client {
  transport!: Transport;
  eof = false;
  lost: unknown = "open";
  connectionMade(t: Transport) {
    this.transport = t;
  }
  eofReceived() {
    this.eof = true;
  }
  connectionLost(exc: unknown) {
    this.lost = exc;
  }
}

function portOf(server: Server): number {
  return (server.sockets[0].getsockname() as [string, number])[1];
}

/** A server on 127.0.0.1 whose connections' protocols are Holders, kept in `held` as accepted. */
async function holdingServer(loop: BaseEventLoop): Promise<{ srv: Server; held: Holder[] }> {
  const held: Holder[] = [];
  const srv = await loop.createServer(() => {
    const h = new Holder();
    held.push(h);
    return h;
  }, "127.0.0.1", 0);
  return { srv, held };
}

async function until(loop: BaseEventLoop, cond: () => boolean, what: string): Promise<void> {
  const end = loop.time() + 5;
  while (!cond()) {
    if (loop.time() > end) throw new Error(`timed out waiting for ${what}`);
    await sleepOn(loop, 0.005);
  }
}

test("test_wait_closed_basic: waitClosed waits for close() and for the last connection, in either order", () =>
  onLoop(async (loop) => {
    const { srv, held } = await holdingServer(loop);
    try {
      // Not closed, no connections: waits.
      const task1 = loop.createTask(() => srv.waitClosed());
      await sleepOn(loop);
      assert.equal(task1.done(), false);
      // Not closed, one connection: waits.
      const [ct] = await loop.createConnection(() => new Client(), "127.0.0.1", portOf(srv));
      await until(loop, () => srv.activeConnections === 1, "the server's transport");
      const task2 = loop.createTask(() => srv.waitClosed());
      await sleepOn(loop);
      assert.equal(task1.done(), false);
      assert.equal(task2.done(), false);
      // Closed, a connection still open: waits.
      srv.close();
      await sleepOn(loop, 0.05);
      const task3 = loop.createTask(() => srv.waitClosed());
      await sleepOn(loop, 0.05);
      assert.equal(task1.done() || task2.done() || task3.done(), false, "a client is still connected");
      // Closed, no connections: every waiter resolves, and later calls return at once.
      ct.close();
      await task1;
      await task2;
      await task3;
      await srv.waitClosed();
      assert.equal(held[0].lost, null);
    } finally {
      srv.close();
    }
  }));

test("test_wait_closed_race: close() and the last connection's end in the same iteration", () =>
  onLoop(async (loop) => {
    const srv = await loop.createServer(() => new Holder(), "127.0.0.1", 0);
    const waiting = loop.createTask(() => srv.waitClosed());
    await sleepOn(loop);
    assert.equal(waiting.done(), false);
    const [ct] = await loop.createConnection(() => new Client(), "127.0.0.1", portOf(srv));
    await until(loop, () => srv.activeConnections === 1, "the server's transport");
    loop.callSoon(() => srv.close());
    loop.callSoon(() => ct.close());
    await srv.waitClosed();
    await waiting;
    assert.equal(srv.activeConnections, 0);
  }));

test("waitClosed after close() with no connection returns at once; sockets is [] after close", () =>
  onLoop(async (loop) => {
    const srv = await loop.createServer(() => new Holder(), "127.0.0.1", 0);
    assert.equal(srv.sockets.length, 1);
    srv.close();
    assert.deepEqual(srv.sockets, []);
    const t = loop.createTask(() => srv.waitClosed());
    await sleepOn(loop);
    assert.equal(t.done(), true);
  }));

for (const method of ["closeClients", "abortClients"] as const) {
  test(`Server.${method}() ends every accepted connection, so waitClosed() returns`, () =>
    onLoop(async (loop) => {
      const { srv, held } = await holdingServer(loop);
      const clients: Client[] = [];
      for (let i = 0; i < 3; i++) {
        const [, c] = await loop.createConnection(() => new Client(), "127.0.0.1", portOf(srv));
        clients.push(c);
      }
      await until(loop, () => srv.activeConnections === 3, "three server transports");
      if (method === "closeClients") held[0].transport.write(new TextEncoder().encode("bye"));
      srv.close();
      srv[method]();
      await srv.waitClosed();
      assert.equal(srv.activeConnections, 0);
      for (const h of held) assert.equal(h.lost, null);
      await until(loop, () => clients.every((c) => c.lost !== "open"), "the clients to see the end");
      for (const c of clients) {
        if (method === "closeClients") assert.equal(c.lost, null, "closed cleanly: EOF, not a reset");
        c.transport.close();
      }
    }));
}

test("serveForever cancelled closes the server and waits for its connections", () =>
  onLoop(async (loop) => {
    const srv = await startServer(async (_r, w) => {
      await sleepOn(loop, 0.2);
      w.close();
    }, "127.0.0.1", 0);
    const serving = loop.createTask(() => srv.serveForever());
    await sleepOn(loop);
    const [ct, cp] = await loop.createConnection(() => new Client(), "127.0.0.1", portOf(srv));
    await until(loop, () => srv.activeConnections === 1, "the server's transport");
    const start = loop.time();
    serving.cancel();
    await assert.rejects(async () => await serving);
    assert.deepEqual(srv.sockets, []);
    assert.ok(loop.time() - start >= 0.1, "waited for the handler to close its connection");
    assert.equal(srv.activeConnections, 0);
    await until(loop, () => cp.eof, "EOF at the client");
    ct.close();
  }));

function withDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "aioloop-srv-"));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test("test_unix_server_cleanup_replaced: close() leaves a socket file another socket bound since", {
  skip: windowsLacks("AF_UNIX sockets"),
}, () =>
  withDir((dir) =>
    onLoop(async () => {
      const path = join(dir, "sock");
      const srv = await startUnixServer(() => {}, path);
      unlinkSync(path);
      const other = new Socket(AF_UNIX, SOCK_STREAM);
      try {
        other.bind(path);
        srv.close();
        await srv.waitClosed();
        assert.ok(existsSync(path), "the other socket's file stays");
      } finally {
        other.close();
      }
    })
  ));

test("test_unix_server_sock_cleanup: a server made from a bound sock removes its file on close", {
  skip: windowsLacks("AF_UNIX sockets"),
}, () =>
  withDir((dir) =>
    onLoop(async () => {
      const path = join(dir, "sock");
      const sock = new Socket(AF_UNIX, SOCK_STREAM);
      sock.bind(path);
      const srv = await startUnixServer(() => {}, null, { sock });
      srv.close();
      await srv.waitClosed();
      assert.equal(existsSync(path), false);
    })
  ));

test("test_unix_server_cleanup_prevented: cleanupSocket false keeps the file", {
  skip: windowsLacks("AF_UNIX sockets"),
}, () =>
  withDir((dir) =>
    onLoop(async () => {
      const path = join(dir, "sock");
      const srv = await startUnixServer(() => {}, path, { cleanupSocket: false });
      srv.close();
      await srv.waitClosed();
      assert.ok(existsSync(path));
      const sock = new Socket(AF_UNIX, SOCK_STREAM);
      const path2 = join(dir, "sock2");
      sock.bind(path2);
      const srv2 = await startUnixServer(() => {}, null, { sock, cleanupSocket: false });
      srv2.close();
      await srv2.waitClosed();
      assert.ok(existsSync(path2));
    })
  ));

test("accepted connections share one frozen sockname array, the listener's address; each has its own peername", () =>
  onLoop(async (loop) => {
    const { srv, held } = await holdingServer(loop);
    // Plain sockets as clients: a client transport would read its own sockname in between.
    const clients = [0, 1].map(() => new Socket(AF_INET, SOCK_STREAM));
    try {
      for (const c of clients) c.connect(srv.sockets[0].getsockname() as [string, number]);
      await until(loop, () => held.length === 2 && held.every((h) => h.transport), "two accepted");
      const [a, b] = held.map((h) => h.transport.getExtraInfo("sockname") as [string, number]);
      assert.deepEqual(a, srv.sockets[0].getsockname());
      assert.equal(a, b);
      assert.ok(Object.isFrozen(a));
      assert.throws(() => {
        (a as unknown as number[])[1] = 1;
      }, TypeError);
      const peers = held.map((h) => h.transport.getExtraInfo("peername"));
      assert.deepEqual(new Set(peers.map(String)), new Set(clients.map((c) => String(c.getsockname()))));
      assert.notEqual(peers[0], peers[1]);
    } finally {
      for (const c of clients) c.close();
      srv.close();
      await srv.waitClosed();
    }
  }));
