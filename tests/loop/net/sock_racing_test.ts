/**
 * Connecting and racing socket operations (issue 15 items 1 and 2, CPython
 * test_sock_lowlevel's racing cases): a connect resolves only once the connection exists (a
 * listener whose backlog is full never answers, so the connect must time out), a refused
 * connect does not poison the next one, and a cancelled sock* call leaves the watcher of the
 * call that replaced it alone.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CancelledError, OSError, openConnection, SO_SNDBUF, SOCK_NONBLOCK, SOCK_STREAM, Socket, SOL_SOCKET, TimeoutError,
  waitFor, AF_INET, SHUT_WR,
} from "../../../mod.ts";
import type { BaseEventLoop } from "../../../loop/base_loop.ts";
import { isWindows } from "../../../ffi/runtime.ts";
import { fdCountSettled, libkqueueClearsSocketError, stableFdCount, withLoop } from "../../helpers.ts";

function onLoop<T>(body: (loop: BaseEventLoop) => Promise<T>): Promise<T> {
  return withLoop((loop) => loop.runUntilComplete(() => body(loop)));
}

function sleepOn(loop: BaseEventLoop, seconds = 0): Promise<void> {
  return new Promise((resolve) => loop.callLater(seconds, resolve));
}

/**
 * A loopback listener that accepts nothing, with listen(0), and a few connections filling its
 * accept queue: further SYNs to it are dropped (Linux, tcp_abort_on_overflow=0), so a connect
 * to it stays in progress until it times out.
 */
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
  return {
    port,
    close() {
      for (const s of fillers) s.close();
      srv.close();
    },
  };
}

test("openConnection to a listener whose backlog is full times out in waitFor, leaking no fd", async () => {
  const listener = await fullListener();
  try {
    await onLoop(async () => {
      const start = performance.now();
      // A coroutine function: the task runs it, so the cancellation reaches its sockConnect and
      // the socket is closed (an already running Promise would be left to run: README).
      await assert.rejects(waitFor(() => openConnection("127.0.0.1", listener.port), 1.0), TimeoutError);
      const took = (performance.now() - start) / 1000;
      assert.ok(took >= 0.9, `timed out after ${took.toFixed(3)} s, not 1.0 s`);
      // The issue's own form, a running Promise: times out as well.
      await assert.rejects(waitFor(openConnection("127.0.0.1", listener.port), 0.2), TimeoutError);
    });
  } finally {
    listener.close();
  }
});

test("createConnection cancelled while connecting to a full backlog closes its socket", async () => {
  const listener = await fullListener();
  try {
    // The host opens some fds lazily, on the loop's first long wait (Deno: a socketpair).
    await onLoop((loop) => sleepOn(loop, 0.3));
    const before = await stableFdCount();
    await onLoop(async (loop) => {
      const t = loop.createTask(() => loop.createConnection(() => ({}), "127.0.0.1", listener.port));
      await sleepOn(loop, 0.2);
      assert.equal(t.done(), false, "still connecting");
      t.cancel();
      await assert.rejects(async () => await t, CancelledError);
    });
    assert.equal(await fdCountSettled(before), before, "the connecting socket was closed");
  } finally {
    listener.close();
  }
});

test("sockConnect to a listener whose backlog is full stays pending until cancelled", async () => {
  const listener = await fullListener();
  try {
    await onLoop(async (loop) => {
      const sock = new Socket(AF_INET, SOCK_STREAM);
      sock.setBlocking(false);
      try {
        await assert.rejects(waitFor(loop.sockConnect(sock, ["127.0.0.1", listener.port]), 0.3), TimeoutError);
        assert.throws(() => sock.getpeername(), (e) => e instanceof OSError && e.code === "ENOTCONN");
      } finally {
        sock.close();
      }
    });
  } finally {
    listener.close();
  }
});

test("test_sock_client_connect_racing: a cancelled connect to a closed port, then connects until one succeeds", { skip: libkqueueClearsSocketError }, (t) =>
  onLoop(async (loop) => {
    const listener = new Socket(AF_INET, SOCK_STREAM);
    const sock = new Socket(AF_INET, SOCK_STREAM);
    try {
      listener.bind(["127.0.0.1", 0]);
      const addr = listener.getsockname()!;
      sock.setBlocking(false);
      const first = loop.createTask(() => loop.sockConnect(sock, addr));
      await sleepOn(loop);
      first.cancel();
      await first.then(() => {}, () => {});
      listener.listen(1);
      const errors: string[] = [];
      let connected = false;
      for (let i = 0; i < 128 && !connected; i++) {
        try {
          await loop.sockConnect(sock, addr);
          connected = true;
        } catch (e) {
          assert.ok(e instanceof OSError, String(e));
          errors.push(e.code);
          if (isWindows && e.code === "ECONNABORTED") {
            // CPython's test skips on Windows for any error but WSAEINVAL: there the cancelled
            // ConnectEx (CancelIoEx) leaves the socket's next connect failing with this.
            t.skip("Windows lacks a connect after a cancelled ConnectEx on the same socket (ECONNABORTED)");
            return;
          }
          // Only a refusal (the first attempt's RST) may come before success: anything else
          // means the earlier attempt's state leaked into this one.
          assert.equal(e.code, "ECONNREFUSED", `errors so far: ${errors}`);
        }
      }
      assert.ok(connected, `never connected: ${errors}`);
    } finally {
      sock.close();
      listener.close();
    }
  }));

test("test_sock_client_racing (recv): a cancelled sockRecv does not remove the next sockRecv's reader", () =>
  onLoop(async (loop) => {
    const srv = new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    srv.bind(["127.0.0.1", 0]);
    srv.listen(1);
    const sock = new Socket(AF_INET, SOCK_STREAM);
    sock.setBlocking(false);
    try {
      const accepting = loop.createTask(() => loop.sockAccept(srv));
      await loop.sockConnect(sock, srv.getsockname()!);
      const [conn] = await accepting;
      try {
        const t = loop.createTask(() => loop.sockRecv(sock, 1024));
        await sleepOn(loop);
        t.cancel();
        const again = loop.createTask(() => loop.sockRecv(sock, 1024));
        await sleepOn(loop);
        await loop.sockSendall(conn, new TextEncoder().encode("hello"));
        const data = await waitFor(again, 5);
        assert.equal(new TextDecoder().decode(data), "hello");
        assert.ok(t.cancelled());
      } finally {
        conn.close();
      }
    } finally {
      sock.close();
      srv.close();
    }
  }));

test("test_sock_client_racing (recvInto): a cancelled sockRecvInto does not remove the next one's reader", () =>
  onLoop(async (loop) => {
    const srv = new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    srv.bind(["127.0.0.1", 0]);
    srv.listen(1);
    const sock = new Socket(AF_INET, SOCK_STREAM);
    sock.setBlocking(false);
    try {
      const accepting = loop.createTask(() => loop.sockAccept(srv));
      await loop.sockConnect(sock, srv.getsockname()!);
      const [conn] = await accepting;
      try {
        const buf = new Uint8Array(1024);
        const t = loop.createTask(() => loop.sockRecvInto(sock, buf));
        await sleepOn(loop);
        t.cancel();
        const again = loop.createTask(() => loop.sockRecvInto(sock, buf));
        await sleepOn(loop);
        await loop.sockSendall(conn, new TextEncoder().encode("hello"));
        assert.equal(await waitFor(again, 5), 5);
      } finally {
        conn.close();
      }
    } finally {
      sock.close();
      srv.close();
    }
  }));

test("test_sock_client_racing (accept): a cancelled sockAccept does not remove the next one's reader", () =>
  onLoop(async (loop) => {
    const srv = new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    srv.bind(["127.0.0.1", 0]);
    srv.listen(1);
    const sock = new Socket(AF_INET, SOCK_STREAM);
    sock.setBlocking(false);
    try {
      const t = loop.createTask(() => loop.sockAccept(srv));
      await sleepOn(loop);
      t.cancel();
      const again = loop.createTask(() => loop.sockAccept(srv));
      await sleepOn(loop);
      await loop.sockConnect(sock, srv.getsockname()!);
      const [conn] = await waitFor(again, 5);
      conn.close();
    } finally {
      sock.close();
      srv.close();
    }
  }));

test("test_sock_client_racing (send): a cancelled blocked sockSendall does not stall the next one", () =>
  onLoop(async (loop) => {
    const listener = new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    listener.bind(["127.0.0.1", 0]);
    listener.listen(1);
    const sock = new Socket(AF_INET, SOCK_STREAM);
    try {
      sock.setsockopt(SOL_SOCKET, SO_SNDBUF, 1024);
      sock.setBlocking(false);
      const connecting = loop.createTask(() => loop.sockConnect(sock, listener.getsockname()!));
      // CPython accepts with a blocking accept() here; a loop that submits the connect later
      // (io_uring) would never get to, so accept through the loop.
      const [server] = await loop.sockAccept(listener);
      try {
        await connecting;
        // Fill the send buffer until even 4 bytes would block.
        for (let size = 8192; size >= 4; size = Math.floor(size / 2)) {
          for (;;) {
            try {
              sock.send(new Uint8Array(size).fill(32));
            } catch (e) {
              assert.ok(e instanceof OSError && e.code === "EAGAIN", String(e));
              break;
            }
          }
        }
        const t = loop.createTask(() => loop.sockSendall(sock, new TextEncoder().encode("hello")));
        await sleepOn(loop);
        t.cancel();
        const recvAll = loop.createTask(async () => {
          let rv = "";
          for (;;) {
            const buf = await loop.sockRecv(server, 8192);
            if (buf.byteLength === 0) return rv;
            rv += new TextDecoder().decode(buf).replaceAll(" ", "");
          }
        });
        await waitFor(loop.sockSendall(sock, new TextEncoder().encode("world")), 5);
        sock.shutdown(SHUT_WR);
        const data = await waitFor(recvAll, 5);
        assert.ok(data.endsWith("world"), data);
      } finally {
        server.close();
      }
    } finally {
      sock.close();
      listener.close();
    }
  }));
