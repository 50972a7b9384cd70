/**
 * CPython 3.12 test_asyncio/test_ssl.py, ported: TLS servers and clients through streams and
 * protocols against blocking Python peers in a child process (CPython runs them in threads:
 * TestThreadedServer/TestThreadedClient), handshake timeouts and failures, clean shutdown,
 * data flushed before shutdown, trailing data after the peer's close_notify or EOF, and
 * connectAcceptedSocket (issue 15 item 10). The start_tls cases are ported with startTls by the
 * TLS part of the port. Left-out cases are listed in tests/cpython/README.md.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import * as aioloop from "../../mod.ts";
import {
  AF_INET, type BaseEventLoop, createDefaultContext, gather, openConnection, OSError, Protocol,
  sleep, SOCK_STREAM, Socket, SSLCertVerificationError, SSLContext, startServer, TimeoutError,
  type Transport, waitFor,
} from "../../mod.ts";
import { captureExceptions, libkqueueClearsSocketError, withLoop } from "../helpers.ts";
import { PYTHON } from "../net_helpers.ts";
import {
  b, dummySslContext, type PyServer, serverSslContext, startPyServer, str,
} from "./port_utils.ts";

const BUF_MULTIPLIER = 1; // CPython: 1 (4 under ASAN)
const A_DATA = new Uint8Array(1024 * BUF_MULTIPLIER).fill(65);
const B_DATA = new Uint8Array(1024 * BUF_MULTIPLIER).fill(66);
const SHORT_TIMEOUT = 30;

async function withPyServer(
  code: string,
  options: { clients?: number; backlog?: number },
  body: (loop: BaseEventLoop, srv: PyServer) => Promise<void>,
): Promise<void> {
  const srv = await startPyServer(code, options);
  try {
    await withLoop((loop) => body(loop, srv));
  } finally {
    await srv.stop();
  }
}

test("TestSSL.test_create_server_ssl_1", () =>
  withLoop(async (loop) => {
    const TOTAL_CNT = 25;
    let cnt = 0;
    const handleClient = async (reader: aioloop.StreamReader, writer: aioloop.StreamWriter) => {
      assert.deepEqual(await reader.readexactly(A_DATA.length), A_DATA);
      writer.write(b("OK"));
      assert.deepEqual(await reader.readexactly(B_DATA.length), B_DATA);
      writer.writelines([b("SP"), b("A"), b("M")]);
      await writer.drain();
      writer.close();
      cnt++;
    };
    // The clients: blocking Python sockets in one child process, one thread each.
    const clientCode = (port: number) => `
import socket, ssl, threading
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
def recv_all(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d: break
        buf += d
    return buf
errors = []
def client():
    try:
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", ${port}), timeout=60))
        s.sendall(b"A" * ${A_DATA.length})
        assert recv_all(s, 2) == b"OK"
        s.sendall(b"B" * ${B_DATA.length})
        assert recv_all(s, 4) == b"SPAM"
        s.close()
    except Exception as e:
        errors.append(repr(e))
ts = [threading.Thread(target=client) for _ in range(${TOTAL_CNT})]
for t in ts: t.start()
for t in ts: t.join()
print("ERRORS", errors, flush=True)
`;
    await loop.runUntilComplete(async () => {
      const srv = await startServer(handleClient, "127.0.0.1", 0, {
        family: AF_INET, ssl: serverSslContext(), sslHandshakeTimeout: SHORT_TIMEOUT,
      });
      try {
        const port = (srv.sockets![0].getsockname() as [string, number])[1];
        const out = await waitFor(runPython(clientCode(port)), 300);
        assert.match(out, /ERRORS \[\]/);
      } finally {
        loop.callSoon(() => srv.close());
        await srv.waitClosed();
      }
    });
    assert.equal(cnt, TOTAL_CNT);
  }));

/** Run Python `code` to its end; resolves to its stdout. */
function runPython(code: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ["-c", code], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.on("exit", (c) => (c === 0 ? resolve(out) : reject(new Error(`python exited ${c}: ${out}`))));
  });
}

const ECHO_AB_SERVER = `
def serve(sock):
    sock = server_ctx().wrap_socket(sock, server_side=True)
    expect(recv_all(sock, ${A_DATA.length}) == b"A" * ${A_DATA.length}, "A_DATA")
    sock.sendall(b"OK")
    expect(recv_all(sock, ${B_DATA.length}) == b"B" * ${B_DATA.length}, "B_DATA")
    sock.sendall(b"SPAM")
    sock.close()
`;

test("TestSSL.test_create_connection_ssl_1", async () => {
  const TOTAL_CNT = 25;
  for (const viaSock of [false, true]) {
    await withPyServer(ECHO_AB_SERVER, { clients: TOTAL_CNT, backlog: TOTAL_CNT }, async (loop, srv) => {
      loop.setExceptionHandler(null);
      let cnt = 0;
      const client = async () => {
        let sock: Socket | undefined;
        if (viaSock) {
          sock = new Socket(AF_INET, SOCK_STREAM);
          sock.setBlocking(false);
          await loop.sockConnect(sock, ["127.0.0.1", srv.port]);
        }
        const [reader, writer] = viaSock
          ? await openConnection(null, null, { sock, ssl: dummySslContext(), serverHostname: "" })
          : await openConnection("127.0.0.1", srv.port, {
            ssl: dummySslContext(), serverHostname: "", sslHandshakeTimeout: SHORT_TIMEOUT,
          });
        writer.write(A_DATA);
        assert.equal(str(await reader.readexactly(2)), "OK");
        writer.write(B_DATA);
        assert.equal(str(await reader.readexactly(4)), "SPAM");
        cnt++;
        writer.close();
        try {
          await writer.waitClosed();
        } catch (e) {
          if (!(e instanceof OSError)) throw e;
        }
      };
      await loop.runUntilComplete(() => gather(...Array.from({ length: TOTAL_CNT }, () => client)));
      assert.equal(cnt, TOTAL_CNT);
    });
  }
});

const SWALLOW_SERVER = `
def serve(sock):
    try:
        recv_all(sock, 1024 * 1024)
        say("EOF")
    except ConnectionResetError:
        say("ABORTED")
`;

test("TestSSL.test_create_connection_ssl_slow_handshake", () =>
  withPyServer(SWALLOW_SERVER, {}, async (loop, srv) => {
    loop.setExceptionHandler(() => {});
    await assert.rejects(
      loop.runUntilComplete(async () => {
        const [, writer] = await openConnection("127.0.0.1", srv.port, {
          ssl: dummySslContext(), serverHostname: "", sslHandshakeTimeout: 1.0,
        });
        writer.close();
      }),
      (e: unknown) => e instanceof OSError && e.code === "ECONNABORTED" &&
        /SSL handshake.*is taking longer/.test(e.message),
    );
  }));

test("TestSSL.test_create_connection_ssl_failed_certificate", () =>
  withPyServer(`
def serve(sock):
    try:
        server_ctx().wrap_socket(sock, server_side=True)
    except (ssl.SSLError, OSError):
        pass
`, {}, async (loop, srv) => {
    loop.setExceptionHandler(() => {});
    const ctx = new SSLContext("client"); // verifies, and nobody signed the server's certificate
    ctx.checkHostname = false;
    await assert.rejects(
      loop.runUntilComplete(() =>
        openConnection("127.0.0.1", srv.port, {
          ssl: ctx, serverHostname: "", sslHandshakeTimeout: SHORT_TIMEOUT,
        })
      ),
      SSLCertVerificationError,
    );
  }));

test("TestSSL.test_ssl_handshake_timeout", () =>
  withPyServer(SWALLOW_SERVER, {}, async (loop, srv) => {
    const messages = captureExceptions(loop);
    await assert.rejects(
      loop.runUntilComplete(() =>
        waitFor(
          loop.createConnection(() => new Protocol(), "127.0.0.1", srv.port, {
            ssl: dummySslContext(), serverHostname: "", sslHandshakeTimeout: 10.0,
          }),
          0.5,
        )
      ),
      TimeoutError,
    );
    // The server sees the connection go away (CPython: ConnectionAbortedError in its thread).
    assert.match(await srv.waitFor(/^(EOF|ABORTED)$/), /EOF|ABORTED/);
    // Cancelling a handshake must not log an error (bpo-23197).
    await loop.runUntilComplete(() => sleep(0.05));
    assert.deepEqual(messages, []);
  }));

test("TestSSL.test_ssl_handshake_connection_lost", () =>
  withPyServer(`
def serve(sock):
    sock.recv(1024)
`, {}, async (loop, srv) => {
    loop.setExceptionHandler(() => {});
    let made = false, lost = false;
    class ClientProto extends Protocol {
      override connectionMade(): void {
        made = true;
      }
      override connectionLost(): void {
        lost = true;
      }
    }
    await assert.rejects(
      loop.runUntilComplete(() =>
        loop.createConnection(() => new ClientProto(), "127.0.0.1", srv.port, {
          ssl: dummySslContext(), serverHostname: "",
        })
      ),
      (e: unknown) => e instanceof OSError && e.code === "ECONNRESET",
    );
    assert.equal(lost, false, "connectionLost() without a connection");
    assert.equal(made, false, "connectionMade() for a failed handshake");
  }));

test("TestSSL.test_ssl_connect_accepted_socket", () =>
  withLoop(async (loop) => {
    // A server made of one accepted socket given to connectAcceptedSocket with TLS; the
    // client a blocking-style exchange through the loop's own sock* calls and a TLS client.
    const listener = new Socket(AF_INET, SOCK_STREAM);
    listener.bind(["127.0.0.1", 0]);
    listener.listen(1);
    listener.setBlocking(false);
    const port = (listener.getsockname() as [string, number])[1];
    const message = b("test\n");
    await loop.runUntilComplete(async () => {
      const serving = loop.createTask(async () => {
        const [conn] = await loop.sockAccept(listener);
        class Echo extends Protocol {
          transport!: Transport;
          override connectionMade(t: Transport): void {
            this.transport = t;
          }
          override dataReceived(data: Uint8Array): void {
            this.transport.write(data);
            this.transport.close();
          }
        }
        await loop.connectAcceptedSocket(() => new Echo(), conn, { ssl: serverSslContext() });
      });
      const [reader, writer] = await openConnection("127.0.0.1", port, {
        ssl: dummySslContext(), serverHostname: "",
      });
      await serving;
      writer.write(message);
      assert.deepEqual(await reader.readexactly(message.length), message);
      writer.close();
    });
    listener.close();
  }));

test("TestSSL.test_create_connection_memory_leak", () =>
  withPyServer(`
def serve(sock):
    sock = server_ctx().wrap_socket(sock, server_side=True)
    sock.sendall(b"O")
    data = recv_all(sock, ${100 * 1024})
    expect(len(data) == ${100 * 1024}, "HELLO_MSG length")
    sock = sock.unwrap()
`, {}, async (loop, srv) => {
    // CPython also checks the client context is collected (weakref); JS cannot observe that
    // synchronously. What is ported: connectionMade once, the data, and EOF after unwrap().
    const HELLO_MSG = new Uint8Array(100 * 1024).fill(49);
    const onData = loop.createFuture<Uint8Array>();
    const onEof = loop.createFuture<boolean>();
    let conMade = 0;
    class ClientProto extends Protocol {
      tr!: Transport;
      override connectionMade(tr: Transport): void {
        this.tr = tr;
        conMade++;
        assert.equal(conMade, 1);
      }
      override dataReceived(data: Uint8Array): void {
        onData.setResult(data);
      }
      override eofReceived(): boolean | void {
        onEof.setResult(true);
      }
    }
    await loop.runUntilComplete(() =>
      waitFor(async () => {
        await sleep(0.5);
        const [tr] = await loop.createConnection(() => new ClientProto(), "127.0.0.1", srv.port, {
          ssl: dummySslContext(), serverHostname: "",
        });
        assert.equal(str(await onData), "O");
        tr.write(HELLO_MSG);
        await onEof;
        tr.close();
      }, SHORT_TIMEOUT)
    );
    assert.equal(await srv.waitFor(/^(SERVED|ERROR.*)$/), "SERVED", srv.lines().join(" / "));
  }));

test("TestSSL.test_shutdown_cleanly", () =>
  withPyServer(`
def serve(sock):
    sock = server_ctx().wrap_socket(sock, server_side=True)
    expect(recv_all(sock, ${A_DATA.length}) == b"A" * ${A_DATA.length}, "A_DATA")
    sock.sendall(b"OK")
    sock = sock.unwrap()
`, { clients: 25, backlog: 25 }, async (loop, srv) => {
    let cnt = 0;
    const client = async () => {
      const [reader, writer] = await openConnection("127.0.0.1", srv.port, {
        ssl: dummySslContext(), serverHostname: "", sslHandshakeTimeout: SHORT_TIMEOUT,
      });
      writer.write(A_DATA);
      assert.equal(str(await reader.readexactly(2)), "OK");
      assert.equal(str(await reader.read()), "");
      cnt++;
      writer.close();
      try {
        await writer.waitClosed();
      } catch (e) {
        if (!(e instanceof OSError)) throw e;
      }
    };
    await loop.runUntilComplete(() => gather(...Array.from({ length: 25 }, () => client)));
    assert.equal(cnt, 25);
  }));

test("TestSSL.test_flush_before_shutdown", () =>
  withPyServer(`
def serve(sock):
    sock = server_ctx().wrap_socket(sock, server_side=True)
    expect(recv_all(sock, 4) == b"ping", "ping")
    sock.sendall(b"pong")
    time.sleep(0.5)
    data = recv_all(sock, ${128 * 1024 * 32})
    expect(len(data) == ${128 * 1024 * 32}, "all data before the shutdown: %d" % len(data))
`, {}, async (loop, srv) => {
    // CPython pauses the private SSL protocol's writing to pile the writes up before close();
    // here the 4 MiB is written at once and close() follows: every byte must still go out.
    const CHUNK = 128 * 1024, SIZE = 32;
    await loop.runUntilComplete(async () => {
      const [reader, writer] = await openConnection("127.0.0.1", srv.port, {
        ssl: dummySslContext(), serverHostname: "",
      });
      writer.write(b("ping"));
      assert.equal(str(await reader.readexactly(4)), "pong");
      for (let i = 0; i < SIZE; i++) writer.write(new Uint8Array(CHUNK).fill(120));
      writer.close();
      try {
        await writer.waitClosed();
        assert.equal(str(await reader.read()), "");
      } catch (e) {
        if (!(e instanceof OSError)) throw e;
      }
    });
    assert.equal(await srv.waitFor(/^(SERVED|ERROR.*)$/), "SERVED", srv.lines().join(" / "));
  }));

test("TestSSL.test_remote_shutdown_receives_trailing_data", async () => {
  const CHUNK = 128 * 1024, SIZE = 32;
  // CPython fills the client's write backlog through a private hook; here the client writes
  // 4 MiB the server does not read until it sent close_notify (or EOF): they must all arrive.
  // Over memory BIOs, as CPython's: send close_notify without waiting for the peer's, then
  // read everything the peer still sends, then its close_notify.
  const closeNotifyServer = `
def serve(sock):
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = server_ctx().wrap_bio(incoming, outgoing, server_side=True)
    while True:
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            if outgoing.pending: sock.sendall(outgoing.read())
            incoming.write(sock.recv(16384))
        else:
            if outgoing.pending: sock.sendall(outgoing.read())
            break
    while True:
        try:
            data = obj.read(4)
        except ssl.SSLWantReadError:
            incoming.write(sock.recv(16384))
        else:
            break
    expect(data == b"ping", "ping")
    obj.write(b"pong")
    sock.sendall(outgoing.read())
    time.sleep(0.2)
    try:
        obj.unwrap()
        expect(False, "unwrap() did not wait for the peer")
    except ssl.SSLWantReadError:
        pass
    sock.sendall(outgoing.read())
    n = 0
    while True:
        try:
            n += len(obj.read(16384))
        except ssl.SSLWantReadError:
            incoming.write(sock.recv(16384))
        except ssl.SSLZeroReturnError:
            break
    expect(n == ${CHUNK * SIZE}, "received %d" % n)
    obj.unwrap()
`;
  const eofServer = `
def serve(sock):
    sock = server_ctx().wrap_socket(sock, server_side=True)
    expect(recv_all(sock, 4) == b"ping", "ping")
    sock.sendall(b"pong")
    time.sleep(0.2)
    sock.shutdown(socket.SHUT_WR)
    data = recv_all(sock, ${CHUNK * SIZE})
    expect(len(data) == ${CHUNK * SIZE}, "received %d" % len(data))
`;
  for (const code of [eofServer, closeNotifyServer]) {
    await withPyServer(code, {}, async (loop, srv) => {
      await loop.runUntilComplete(async () => {
        const [reader, writer] = await openConnection("127.0.0.1", srv.port, {
          ssl: dummySslContext(), serverHostname: "",
        });
        writer.write(b("ping"));
        assert.equal(str(await reader.readexactly(4)), "pong");
        for (let i = 0; i < SIZE; i++) writer.write(new Uint8Array(CHUNK).fill(120));
        try {
          assert.equal(str(await reader.read()), ""); // the server's close_notify, or EOF
        } catch (e) {
          if (!(e instanceof OSError && ["EPIPE", "ECONNRESET"].includes(e.code))) throw e;
        }
        await srv.waitFor(/^(SERVED|ERROR.*)$/, 60);
        writer.close();
        try {
          await writer.waitClosed();
        } catch (e) {
          if (!(e instanceof OSError)) throw e;
        }
      });
      assert.equal(await srv.waitFor(/^(SERVED|ERROR.*)$/), "SERVED", srv.lines().join(" / "));
    });
  }
});

test("TestSSL.test_connect_timeout_warning", { skip: libkqueueClearsSocketError }, () =>
  withLoop(async (loop) => {
    // A bound socket that does not listen: the connection is refused (or times out). asyncio
    // checks no ResourceWarning is emitted; here: the error, and no exception reported.
    const s = new Socket(AF_INET, SOCK_STREAM);
    s.bind(["127.0.0.1", 0]);
    const port = (s.getsockname() as [string, number])[1];
    const messages = captureExceptions(loop);
    try {
      await assert.rejects(
        loop.runUntilComplete(() =>
          waitFor(loop.createConnection(() => new Protocol(), "127.0.0.1", port, { ssl: true }), 0.1)
        ),
        (e: unknown) => e instanceof TimeoutError || (e instanceof OSError && e.code === "ECONNREFUSED"),
      );
      await loop.runUntilComplete(() => sleep(0.01));
      assert.deepEqual(messages, []);
    } finally {
      s.close();
    }
  }));

test("TestSSL.test_handshake_timeout_handler_leak", () =>
  withLoop(async (loop) => {
    // A listener that never accepts: the TLS handshake never starts and waitFor times out.
    // CPython checks the context is freed; here that the loop holds no timer or task for it.
    const s = new Socket(AF_INET, SOCK_STREAM);
    s.bind(["127.0.0.1", 0]);
    s.listen(1);
    const port = (s.getsockname() as [string, number])[1];
    try {
      await assert.rejects(
        loop.runUntilComplete(() =>
          waitFor(loop.createConnection(() => new Protocol(), "127.0.0.1", port, {
            ssl: createDefaultContext(),
          }), 0.1)
        ),
        (e: unknown) => e instanceof TimeoutError || (e instanceof OSError && e.code === "ECONNREFUSED"),
      );
      await loop.runUntilComplete(() => sleep(0.01));
      assert.equal(aioloop.allTasks(loop).size, 0);
      const timers = (loop as unknown as { _timers: { size: number } })._timers;
      assert.equal(timers.size, 0, "a handshake timer is left behind");
      // The connection waiting in the backlog was closed: past its ClientHello, EOF.
      s.setBlocking(false);
      await loop.runUntilComplete(async () => {
        const [conn] = await loop.sockAccept(s);
        try {
          while ((await waitFor(loop.sockRecv(conn, 65536), 5)).byteLength > 0) { /* the ClientHello */ }
        } finally {
          conn.close();
        }
      });
    } finally {
      s.close();
    }
  }));

test("TestSSL.test_shutdown_timeout_handler_leak", () =>
  withPyServer(`
def serve(sock):
    sock = server_ctx().wrap_socket(sock, server_side=True)
    sock.recv(32)
`, {}, async (loop, srv) => {
    await loop.runUntilComplete(async () => {
      const fut = loop.createFuture<void>();
      class P extends Protocol {
        override connectionLost(): void {
          fut.setResult();
        }
      }
      const [tr] = await loop.createConnection(() => new P(), "127.0.0.1", srv.port, {
        ssl: dummySslContext(), serverHostname: "",
      });
      tr.close();
      await fut;
    });
    // CPython checks the context is freed; here: no shutdown timer is left on the loop.
    await loop.runUntilComplete(() => sleep(0.01));
    const timers = (loop as unknown as { _timers: { size: number } })._timers;
    assert.equal(timers.size, 0, "a shutdown timer is left behind");
  }));

test("TestSSL.test_shutdown_timeout_handler_not_set", () =>
  withPyServer(`
def serve(sock):
    sock = server_ctx().wrap_socket(sock, server_side=True)
    sock.sendall(b"hello")
    expect(sock.recv(1024) == b"world", "world")
    sock.sendall(b"extra bytes")
    sock.shutdown(socket.SHUT_WR)
    say("EOF SENT")
    expect(sock.recv(1024) == b"", "EOF from the client")
`, {}, async (loop, srv) => {
    let extra: string | undefined;
    await loop.runUntilComplete(async () => {
      const fut = loop.createFuture<void>();
      class P extends Protocol {
        transport!: Transport;
        override connectionMade(t: Transport): void {
          this.transport = t;
        }
        override dataReceived(data: Uint8Array): void {
          if (str(data) === "hello") {
            this.transport.write(b("world"));
            this.transport.pauseReading(); // incoming data then stays in the TLS object
          } else extra = str(data);
        }
        override connectionLost(exc: Error | null): void {
          if (exc === null) fut.setResult();
          else fut.setException(exc);
        }
      }
      const [tr] = await loop.createConnection(() => new P(), "127.0.0.1", srv.port, {
        ssl: dummySslContext(), serverHostname: "",
      });
      while (!srv.lines().includes("EOF SENT")) await sleep(0.01);
      tr.resumeReading();
      await fut;
      tr.close();
    });
    assert.equal(extra, "extra bytes");
  }));

