/**
 * Port of CPython 3.12's test_asyncio/test_server.py: startServer/startUnixServer with
 * serveForever cancelled from a client handler, and Server.waitClosed() waiting for the
 * server's connections. CPython's clients run in threads with blocking sockets; here they are
 * node:net clients on the host's event loop, which our loop yields to. asyncio's private
 * _attach/_detach are replaced by a real connection opened and closed.
 */
import assert from "node:assert/strict";
import * as net from "node:net";
import { test } from "node:test";
import {
  type BaseEventLoop, CancelledError, getRunningLoop, RuntimeError, type Server, sleep,
  startServer, startUnixServer, type StreamReader, type StreamWriter,
} from "../../mod.ts";
import { unixSocketPath, fdLeakCheck, withLoop } from "./utils.ts";

const leakCheck = fdLeakCheck();

const HELLO_MSG = "1".repeat(1024 * 5) + "\n";

/** A node:net client: connect, send HELLO_MSG, wait for one byte back, close. */
function helloClient(address: net.NetConnectOpts): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(address, () => sock.write(HELLO_MSG));
    sock.setTimeout(10_000, () => reject(new Error("client timed out")));
    sock.once("data", (d) => {
      sock.end();
      resolve(String(d));
    });
    sock.on("error", reject);
  });
}

async function startServerCase(
  loop: BaseEventLoop,
  makeServer: (serve: (r: StreamReader, w: StreamWriter) => Promise<void>) => Promise<Server>,
  address: (srv: Server) => net.NetConnectOpts,
): Promise<void> {
  const serve = async (reader: StreamReader, writer: StreamWriter) => {
    await reader.readline();
    main.cancel(); // the task below: this runs once it serves
    writer.write(new Uint8Array([0x31]));
    writer.close();
    await writer.waitClosed();
  };
  const srv = await loop.runUntilComplete(() => makeServer(serve));
  assert.ok(!srv.isServing());
  let answer: Promise<string> | undefined;
  const main = loop.createTask(async () => {
    // `async with srv:` is try/finally close + waitClosed.
    try {
      await srv.startServing();
      assert.ok(srv.isServing());
      answer = helloClient(address(srv)); // CPython's client thread waits for isServing()
      await srv.serveForever();
    } finally {
      srv.close();
      await srv.waitClosed();
    }
  });
  await assert.rejects(loop.runUntilComplete(main), CancelledError);
  assert.equal(await answer!, "1");
  assert.deepEqual(srv.sockets, []);
  assert.ok(!srv.isServing());
  await assert.rejects(loop.runUntilComplete(() => srv.serveForever()), /is closed/);
}

test("BaseStartServer.test_start_server_1", () =>
  withLoop((loop) =>
    startServerCase(
      loop,
      (serve) => startServer(serve, "127.0.0.1", 0, { startServing: false }),
      (srv) => ({ host: "127.0.0.1", port: (srv.sockets![0].getsockname() as [string, number])[1] }),
    )
  ));

test("SelectorStartServerTests.test_start_unix_server_1", () =>
  withLoop(async (loop) => {
    const { path, cleanup } = unixSocketPath();
    try {
      await startServerCase(
        loop,
        (serve) => startUnixServer(serve, path, { startServing: false }),
        () => ({ path }),
      );
    } finally {
      cleanup();
    }
  }));

/** A node:net client that stays connected until its close() is called. */
function idleClient(port: number): Promise<{ close(): void }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1", () => resolve({ close: () => sock.destroy() }));
    sock.on("error", reject);
  });
}

test("TestServer2.test_wait_closed_basic", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      // CPython counts a connection with the private _attach/_detach; here a real client is
      // attached while its handler runs, and detached when the handler closes its writer at the
      // client's EOF (a stream transport stays half-open after EOF until its writer closes, as
      // asyncio's StreamReaderProtocol keeps it).
      let connected = 0;
      const srv = await startServer(async (reader, writer) => {
        connected++;
        await reader.read();
        writer.close();
      }, "127.0.0.1", 0);
      try {
        const port = (srv.sockets![0].getsockname() as [string, number])[1];
        // No connection, not closed: waitClosed() blocks.
        const task1 = loop.createTask(srv.waitClosed());
        await sleep(0);
        assert.ok(!task1.done());
        // A connection, not closed: blocks.
        const client = await idleClient(port);
        for (let i = 0; i < 5000 && connected === 0; i++) await sleep(0.001);
        assert.equal(connected, 1);
        const task2 = loop.createTask(srv.waitClosed());
        await sleep(0);
        assert.ok(!task1.done());
        assert.ok(!task2.done());
        // Closed, but a connection is still open: blocks.
        srv.close();
        await sleep(0);
        const task3 = loop.createTask(srv.waitClosed());
        await sleep(0);
        assert.ok(!task1.done());
        assert.ok(!task2.done());
        assert.ok(!task3.done());
        // The last connection goes: every waiter is released.
        client.close();
        await task1;
        await task2;
        await task3;
        await srv.waitClosed();
      } finally {
        srv.close();
      }
    })
  ));

test("TestServer2.test_wait_closed_race", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      let serverWriter: StreamWriter | undefined;
      const srv = await startServer((_r, w) => {
        serverWriter = w;
      }, "127.0.0.1", 0);
      try {
        const port = (srv.sockets![0].getsockname() as [string, number])[1];
        const task = loop.createTask(srv.waitClosed());
        await sleep(0);
        assert.ok(!task.done());
        const client = await idleClient(port);
        while (serverWriter === undefined) await sleep(0.001);
        // Close the server and its last connection in the same iteration.
        const running = getRunningLoop();
        running.callSoon(() => srv.close());
        running.callSoon(() => serverWriter!.close());
        await srv.waitClosed();
        await task;
        client.close();
      } finally {
        srv.close();
      }
    })
  ));

test("BaseStartServer.test_start_server_1 (serveForever on a closed server)", () =>
  withLoop(async (loop) => {
    // The part of test_start_server_1 that does not depend on item 15.15: a closed server's
    // serveForever() is a RuntimeError naming it, and isServing() is false.
    const srv = await loop.runUntilComplete(() => startServer(async () => {}, "127.0.0.1", 0));
    srv.close();
    assert.ok(!srv.isServing());
    await assert.rejects(loop.runUntilComplete(() => srv.serveForever()), (e: unknown) =>
      e instanceof RuntimeError && /is closed/.test((e as Error).message));
  }));

leakCheck();
