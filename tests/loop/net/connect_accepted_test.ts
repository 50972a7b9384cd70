/**
 * loop.connectAcceptedSocket (asyncio connect_accepted_socket, issue 15 item 10): a stream
 * socket connected outside the loop — accepted with sockAccept(), or with a plain blocking
 * Socket.accept() — becomes a transport; with `ssl`, the server side of TLS. Real sockets, data
 * both ways, the fds come back; and the errors, after which the loop and the socket go on.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  AF_INET, AF_UNIX, type BaseEventLoop, OSError, SOCK_DGRAM, SOCK_STREAM, Socket,
  sleep, socketpair, SSLContext, type SSLObject, type Transport, ValueError,
} from "../../../mod.ts";
import {
  assertClosedSince, captureExceptions, concat, openNow, type OpenNow, windowsLacks, withLoop,
} from "../../helpers.ts";
import { pattern } from "../../net_helpers.ts";
import { clientContext, removeTlsCerts, serverContext } from "../../tls_certs.ts";

after(removeTlsCerts);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Greets with `hello` when made, collects what arrives, and ends on connectionLost. */
class Peer {
  transport!: Transport;
  made = 0;
  readonly chunks: Uint8Array[] = [];
  readonly lost;
  constructor(loop: BaseEventLoop, private readonly hello: string) {
    this.lost = loop.createFuture<Error | null>();
  }
  connectionMade(t: Transport) {
    this.made++;
    this.transport = t;
    t.write(encoder.encode(this.hello));
  }
  dataReceived(d: Uint8Array) {
    this.chunks.push(d.slice());
  }
  eofReceived() {
    return false;
  }
  connectionLost(exc: Error | null) {
    if (!this.lost.done()) this.lost.setResult(exc);
  }
  get text(): string {
    return decoder.decode(concat(this.chunks));
  }
  get size(): number {
    return this.chunks.reduce((n, c) => n + c.byteLength, 0);
  }
}

async function until(loop: BaseEventLoop, cond: () => boolean, what: string): Promise<void> {
  const end = loop.time() + 10;
  while (!cond()) {
    if (loop.time() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(0.005);
  }
}

/**
 * What is open with `loop` warmed up: it has parked once (the parking thread is open from the
 * first wait on) and resolved a name (the resolver's worker), so what a test opens after is all
 * that must close.
 */
async function openWithLoopWarm(loop: BaseEventLoop): Promise<OpenNow> {
  await loop.runUntilComplete(async () => {
    await loop.getaddrinfo("127.0.0.1", 1);
    await sleep(0.02);
  });
  return await openNow();
}

function listener(): Socket {
  const sock = new Socket(AF_INET, SOCK_STREAM);
  sock.bind(["127.0.0.1", 0]);
  sock.listen(8);
  return sock;
}

/** Both sides greet, then the client sends `payload`; each side checks what it got. */
async function exchange(
  loop: BaseEventLoop,
  server: Peer,
  client: Peer,
  payload: Uint8Array,
): Promise<void> {
  await until(loop, () => server.size >= 5 && client.size >= 5, "the greetings");
  assert.equal(server.text, "hello");
  assert.equal(client.text, "howdy");
  server.chunks.length = 0;
  client.transport.write(payload);
  await until(loop, () => server.size >= payload.byteLength, "the payload");
  assert.deepEqual(concat(server.chunks), payload);
  client.transport.close();
  assert.equal(await server.lost, null);
  assert.equal(await client.lost, null);
}

test("a TCP connection accepted with sockAccept: data both ways, extra info, fds back", () =>
  withLoop(async (loop) => {
    const seen = captureExceptions(loop);
    const listen = listener();
    listen.setBlocking(false);
    const port = (listen.getsockname() as [string, number])[1];
    const before = await openWithLoopWarm(loop);
    await loop.runUntilComplete(async () => {
      const accepting = loop.createTask(() => loop.sockAccept(listen));
      const client = new Peer(loop, "hello");
      await loop.createConnection(() => client, "127.0.0.1", port);
      const [conn, addr] = await accepting;
      const server = new Peer(loop, "howdy");
      const [transport, protocol] = await loop.connectAcceptedSocket(() => server, conn);
      assert.equal(protocol, server);
      assert.equal(server.made, 1);
      assert.equal(server.transport, transport);
      assert.equal(transport.getExtraInfo("socket"), conn);
      assert.deepEqual(transport.getExtraInfo("peername"), addr);
      assert.deepEqual(transport.getExtraInfo("sockname"), ["127.0.0.1", port]);
      await exchange(loop, server, client, pattern(1 << 20));
    });
    await assertClosedSince(before);
    listen.close();
    assert.deepEqual(seen, []);
  }));

test("a Unix connection accepted by a blocking Socket.accept() outside the loop is made non-blocking and served", {
  skip: windowsLacks("AF_UNIX sockets (none in Wine's Winsock)"),
}, () =>
  withLoop(async (loop) => {
    const dir = mkdtempSync(join(tmpdir(), "aioloop-accepted-"));
    const path = join(dir, "s");
    const listen = new Socket(AF_UNIX, SOCK_STREAM);
    try {
      listen.bind(path);
      listen.listen(1);
      // A blocking connect and accept, as code outside any loop would do it.
      const raw = new Socket(AF_UNIX, SOCK_STREAM);
      raw.connect(path);
      const [conn] = listen.accept();
      assert.equal(conn.getBlocking(), true);
      await loop.runUntilComplete(async () => {
        const server = new Peer(loop, "howdy");
        const [transport] = await loop.connectAcceptedSocket(() => server, conn);
        assert.equal(conn.getBlocking(), false);
        assert.equal(transport.getExtraInfo("sockname"), path);
        const client = new Peer(loop, "hello");
        await loop.createUnixConnection(() => client, null, { sock: raw });
        await exchange(loop, server, client, pattern(300_000));
      });
    } finally {
      listen.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }));

test("with ssl, the accepted connection is the TLS server side: handshake, data both ways, clean close", () =>
  withLoop(async (loop) => {
    const seen = captureExceptions(loop);
    const listen = listener();
    listen.setBlocking(false);
    const port = (listen.getsockname() as [string, number])[1];
    const serverCtx = serverContext(), clientCtx = clientContext();
    const before = await openWithLoopWarm(loop);
    await loop.runUntilComplete(async () => {
      const accepting = loop.createTask(() => loop.sockAccept(listen));
      const client = new Peer(loop, "hello");
      const connecting = loop.createTask(() =>
        loop.createConnection(() => client, "127.0.0.1", port, { ssl: clientCtx, serverHostname: "localhost" })
      );
      const [conn] = await accepting;
      const server = new Peer(loop, "howdy");
      const [transport] = await loop.connectAcceptedSocket(() => server, conn, {
        ssl: serverCtx,
        sslHandshakeTimeout: 10,
        sslShutdownTimeout: 5,
      });
      const [clientTransport] = await connecting;
      // connectionMade ran after the handshake, on the TLS transport.
      assert.equal(server.made, 1);
      assert.equal(server.transport, transport);
      assert.equal(transport.getExtraInfo("sslcontext"), serverCtx);
      const obj = transport.getExtraInfo("sslObject") as SSLObject;
      assert.equal(obj.serverSide, true);
      assert.ok(typeof (clientTransport.getExtraInfo("sslObject") as SSLObject).version() === "string");
      await exchange(loop, server, client, pattern(1 << 20));
    });
    await assertClosedSince(before);
    listen.close();
    assert.deepEqual(seen, []);
  }));

test("with ssl, a peer that never speaks TLS fails after sslHandshakeTimeout; the socket is closed", () =>
  withLoop(async (loop) => {
    captureExceptions(loop);
    const [a, b] = socketpair();
    const aFd = a.fileno();
    const before = await openWithLoopWarm(loop);
    await loop.runUntilComplete(async () => {
      const server = new Peer(loop, "howdy");
      const started = loop.time();
      await assert.rejects(
        loop.connectAcceptedSocket(() => server, a, { ssl: serverContext(), sslHandshakeTimeout: 0.3 }),
        (e: unknown) => e instanceof OSError && e.code === "ECONNABORTED" && /longer than 0.3 seconds/.test(e.message),
      );
      assert.ok(loop.time() - started >= 0.25, "gave up before the handshake timeout");
      assert.equal(server.made, 0);
      await until(loop, () => a.fileno() === -1, "the socket to be closed");
    });
    await assertClosedSince(before, aFd);
    b.close();
  }));

test("errors: not a factory, not a Socket, not a stream socket, not connected, ssl options without ssl or of the wrong kind; the socket and the loop go on", () =>
  withLoop(async (loop) => {
    const [a, b] = socketpair();
    const dgram = new Socket(AF_INET, SOCK_DGRAM);
    const unconnected = new Socket(AF_INET, SOCK_STREAM);
    const listening = listener();
    try {
      await loop.runUntilComplete(async () => {
        const f = () => new Peer(loop, "howdy");
        // deno-lint-ignore no-explicit-any
        const any = (x: unknown) => x as any;
        await assert.rejects(loop.connectAcceptedSocket(any(42), a), TypeError);
        await assert.rejects(loop.connectAcceptedSocket(f, any(a.fileno())), /sock must be a Socket/);
        await assert.rejects(loop.connectAcceptedSocket(f, dgram), (e: unknown) =>
          e instanceof ValueError && /^A Stream Socket was expected, got <Socket/.test(e.message));
        for (const sock of [unconnected, listening]) {
          await assert.rejects(loop.connectAcceptedSocket(f, sock), (e: unknown) =>
            e instanceof ValueError && /^A connected Stream Socket was expected/.test(e.message));
        }
        await assert.rejects(loop.connectAcceptedSocket(f, a, { sslHandshakeTimeout: 1 }), (e: unknown) =>
          e instanceof ValueError && e.message === "sslHandshakeTimeout is only meaningful with ssl");
        await assert.rejects(loop.connectAcceptedSocket(f, a, { sslShutdownTimeout: 1 }), (e: unknown) =>
          e instanceof ValueError && e.message === "sslShutdownTimeout is only meaningful with ssl");
        await assert.rejects(
          loop.connectAcceptedSocket(f, a, { ssl: serverContext(), sslHandshakeTimeout: 0 }),
          /sslHandshakeTimeout should be a positive number/,
        );
        await assert.rejects(loop.connectAcceptedSocket(f, a, { ssl: any(true) }), /must be an SSLContext/);
        await assert.rejects(
          loop.connectAcceptedSocket(f, a, { ssl: new SSLContext("client") }),
          (e: unknown) => e instanceof ValueError && /server context/.test(e.message),
        );
        // None of that touched the socket: it serves now.
        assert.ok(a.fileno() >= 0);
        const server = new Peer(loop, "howdy");
        await loop.connectAcceptedSocket(() => server, a);
        const client = new Peer(loop, "hello");
        await loop.createConnection(() => client, null, null, { sock: b });
        await exchange(loop, server, client, pattern(1000));
      });
      const closed = new Socket(AF_INET, SOCK_STREAM);
      closed.close();
      await assert.rejects(
        loop.runUntilComplete(loop.connectAcceptedSocket(() => new Peer(loop, ""), closed)),
        ValueError,
      );
    } finally {
      a.close();
      b.close();
      dgram.close();
      unconnected.close();
      listening.close();
    }
  }));
