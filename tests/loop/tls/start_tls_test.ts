/**
 * loop.startTls and StreamWriter.startTls (asyncio start_tls): a plain TCP exchange, then TLS
 * on the same connection, with aioloop on both sides in one loop (the client side and the
 * server side upgrade together), over real sockets; and what goes wrong: bad arguments (the
 * connection goes on in plain text), a transport already closing, a failed handshake, a peer
 * that never speaks TLS (sslHandshakeTimeout).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import {
  type BaseEventLoop, OSError, openConnection, RuntimeError, sleep, SSLCertVerificationError,
  SSLContext, type StreamReader, type StreamWriter, startServer, type Transport, ValueError,
} from "../../../mod.ts";
import { captureExceptions, fdCountSettled, stableFdCount, withLoop } from "../../helpers.ts";
import { pattern, sha256 } from "../../net_helpers.ts";
import { clientContext, removeTlsCerts, serverContext } from "../../tls_certs.ts";

after(removeTlsCerts);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A line protocol that upgrades: plain until it has seen "STARTTLS\n"; then the server side
 * answers "OK\n" and both sides call loop.startTls. Collects what arrives after the upgrade.
 */
class Upgrading {
  transport!: Transport;
  tlsTransport: Transport | null = null;
  plain = "";
  received: Uint8Array[] = [];
  made = 0;
  eof = false;
  readonly lost;
  readonly upgraded;
  readonly sawOk;

  constructor(readonly loop: BaseEventLoop, private readonly server: boolean) {
    this.lost = loop.createFuture<Error | null>();
    this.upgraded = loop.createFuture<Transport>();
    this.sawOk = loop.createFuture<void>();
  }
  connectionMade(t: Transport) {
    this.made++;
    this.transport = t;
  }
  dataReceived(d: Uint8Array) {
    if (this.tlsTransport !== null || this.upgraded.done()) {
      this.received.push(d);
      return;
    }
    this.plain += decoder.decode(d);
    if (this.server && this.plain === "STARTTLS\n") {
      this.transport.write(encoder.encode("OK\n"));
      startTlsInto(this, serverContext(), { serverSide: true });
    } else if (!this.server && this.plain === "OK\n") {
      this.sawOk.setResult();
    }
  }
  eofReceived() {
    this.eof = true;
  }
  connectionLost(exc: Error | null) {
    if (!this.lost.done()) this.lost.setResult(exc);
  }
  get size() {
    return this.received.reduce((n, c) => n + c.length, 0);
  }
}

/** Upgrade `p` in the background; `p.upgraded` settles with the outcome. */
function startTlsInto(
  p: Upgrading,
  ctx: SSLContext,
  options: { serverSide?: boolean; serverHostname?: string; sslHandshakeTimeout?: number },
): void {
  p.loop.startTls(p.transport, p, ctx, options).then((t) => {
    p.tlsTransport = t;
    p.upgraded.setResult(t);
  }, (e) => p.upgraded.setException(e));
}

function portOf(server: { sockets: { getsockname(): unknown }[] | null }): number {
  return (server.sockets![0].getsockname() as [string, number])[1];
}

test("loop.startTls: a plain TCP connection upgraded on both sides in one loop; 1 MiB each way; clean close; fds back", async () => {
  // Counted before the loop exists and after it closed: the loop's parking thread starts at
  // its first park, which this transfer may or may not reach. The certificates are made first:
  // the openssl CLI runs through execFileSync at their first use, and Bun's first synchronous
  // spawn opens an epoll fd and an eventfd it keeps for the life of the process.
  clientContext();
  const fds = await stableFdCount();
  await withLoop(async (loop) => {
    const seen = captureExceptions(loop);
    const servers: Upgrading[] = [];
    const server = await loop.runUntilComplete(() =>
      loop.createServer(() => {
        const p = new Upgrading(loop, true);
        servers.push(p);
        return p;
      }, "127.0.0.1", 0)
    );
    const data = pattern(1 << 20);
    await loop.runUntilComplete(async () => {
      const [t, client] = await loop.createConnection(() => new Upgrading(loop, false), "127.0.0.1", portOf(server));
      t.write(encoder.encode("STARTTLS\n"));
      await client.sawOk;
      const tls = await loop.startTls(t, client, clientContext(), { serverHostname: "localhost" });
      client.tlsTransport = tls;
      assert.notEqual(tls, t);
      assert.ok(tls.getExtraInfo("sslObject"), "the new transport is a TLS one");
      assert.ok(tls.getExtraInfo("peercert"), "the server's certificate was checked");
      assert.deepEqual(tls.getExtraInfo("peername"), t.getExtraInfo("peername"));
      const srv = servers[0];
      const srvTls = await srv.upgraded;
      assert.ok(srvTls.getExtraInfo("sslObject"));
      // Each side echoes nothing: it sends its own megabyte and receives the other's.
      tls.write(data);
      srvTls.write(data);
      for (let i = 0; i < 2000 && (client.size < data.length || srv.size < data.length); i++) await sleep(0.005);
      assert.equal(sha256(...client.received), sha256(data));
      assert.equal(sha256(...srv.received), sha256(data));
      tls.close();
      assert.equal(await client.lost, null);
      assert.equal(await srv.lost, null);
      assert.equal(srv.eof, true, "the server's protocol saw the client's close_notify as EOF");
      assert.equal(client.made, 1, "connectionMade once: startTls does not call it again");
      assert.equal(srv.made, 1);
      srvTls.close();
    });
    server.close();
    await loop.runUntilComplete(() => server.waitClosed());
    assert.deepEqual(seen, []);
  });
  assert.equal(await fdCountSettled(fds), fds);
});

test("StreamWriter.startTls: openConnection and startServer upgrade in place; the same reader and writer go on over TLS", () =>
  withLoop(async (loop) => {
    const seen = captureExceptions(loop);
    const handled = loop.createFuture<string>();
    const handle = async (reader: StreamReader, writer: StreamWriter) => {
      try {
        assert.equal(decoder.decode(await reader.readline()), "STARTTLS\n");
        writer.write(encoder.encode("OK\n"));
        await writer.startTls(serverContext());
        assert.ok(writer.getExtraInfo("sslObject"));
        const line = await reader.readline();
        writer.write(encoder.encode(`echo ${decoder.decode(line)}`));
        await writer.drain();
        // After the client's close_notify: EOF.
        assert.equal((await reader.read()).length, 0);
        writer.close();
        handled.setResult("done");
      } catch (e) {
        handled.setException(e);
      }
    };
    const server = await loop.runUntilComplete(() => startServer(handle, "127.0.0.1", 0));
    await loop.runUntilComplete(async () => {
      const [reader, writer] = await openConnection("127.0.0.1", portOf(server));
      const plainTransport = writer.transport;
      writer.write(encoder.encode("STARTTLS\n"));
      assert.equal(decoder.decode(await reader.readline()), "OK\n");
      assert.equal(writer.getExtraInfo("sslObject"), undefined);
      await writer.startTls(clientContext(), { serverHostname: "localhost" });
      assert.notEqual(writer.transport, plainTransport);
      assert.ok(writer.getExtraInfo("peercert"));
      writer.write(encoder.encode("over tls\n"));
      assert.equal(decoder.decode(await reader.readline()), "echo over tls\n");
      writer.close();
      await writer.waitClosed();
      assert.equal(await handled, "done");
    });
    server.close();
    await loop.runUntilComplete(() => server.waitClosed());
    assert.deepEqual(seen, []);
  }));

test("loop.startTls refuses bad arguments before touching the connection, which goes on in plain text", () =>
  withLoop(async (loop) => {
    const servers: Upgrading[] = [];
    const server = await loop.runUntilComplete(() =>
      loop.createServer(() => {
        const p = new Upgrading(loop, false);
        servers.push(p);
        return p;
      }, "127.0.0.1", 0)
    );
    await loop.runUntilComplete(async () => {
      const [t, p] = await loop.createConnection(() => new Upgrading(loop, false), "127.0.0.1", portOf(server));
      const ctx = clientContext();
      const host = { serverHostname: "localhost" };
      // asyncio's test_start_tls_wrong_args, and the same for each option.
      await assert.rejects(loop.startTls(null as unknown as Transport, p, null as unknown as SSLContext),
        (e: unknown) => e instanceof TypeError && /SSLContext, got/.test(e.message));
      await assert.rejects(loop.startTls(null as unknown as Transport, p, ctx, host),
        (e: unknown) => e instanceof TypeError && /is not supported by startTls/.test(e.message));
      await assert.rejects(loop.startTls({ write() {} } as unknown as Transport, p, ctx, host),
        (e: unknown) => e instanceof TypeError && /is not supported/.test(e.message));
      await assert.rejects(loop.startTls(t, null as unknown as Upgrading, ctx, host), TypeError);
      await assert.rejects(loop.startTls(t, p, ctx, { serverHostname: 5 as unknown as string }), TypeError);
      await assert.rejects(loop.startTls(t, p, ctx, { serverSide: "yes" as unknown as boolean }), TypeError);
      await assert.rejects(loop.startTls(t, p, ctx),
        (e: unknown) => e instanceof ValueError && /serverHostname is required/.test(e.message));
      await assert.rejects(loop.startTls(t, p, ctx, { ...host, sslHandshakeTimeout: 0 }),
        (e: unknown) => e instanceof ValueError && e.message === "sslHandshakeTimeout should be a positive number, got 0");
      await assert.rejects(loop.startTls(t, p, ctx, { ...host, sslShutdownTimeout: -1 }),
        (e: unknown) => e instanceof ValueError && e.message === "sslShutdownTimeout should be a positive number, got -1");
      // A server context on the client side: OpenSSL's rule, as Python's.
      await assert.rejects(loop.startTls(t, p, serverContext(), host), ValueError);
      // The connection is untouched: plain text still flows both ways.
      t.write(encoder.encode("still plain"));
      for (let i = 0; i < 400 && (servers.length === 0 || servers[0].plain.length < 11); i++) await sleep(0.005);
      assert.equal(servers[0].plain, "still plain");
      assert.equal(t.getProtocol(), p);
      t.close();
      assert.equal(await p.lost, null);
      // A transport already closing.
      await assert.rejects(loop.startTls(t, p, ctx, host),
        (e: unknown) => e instanceof RuntimeError && /Transport is closing/.test(e.message));
    });
    server.close();
  }));

test("loop.startTls: a failed handshake (certificate not trusted) rejects, closes the connection and tells the protocol", () =>
  withLoop(async (loop) => {
    captureExceptions(loop);
    const servers: Upgrading[] = [];
    const server = await loop.runUntilComplete(() =>
      loop.createServer(() => {
        const p = new Upgrading(loop, true);
        servers.push(p);
        return p;
      }, "127.0.0.1", 0)
    );
    await loop.runUntilComplete(async () => {
      const [t, p] = await loop.createConnection(() => new Upgrading(loop, false), "127.0.0.1", portOf(server));
      t.write(encoder.encode("STARTTLS\n"));
      await p.sawOk;
      // No CA loaded: the server's certificate cannot be verified.
      await assert.rejects(loop.startTls(t, p, new SSLContext("client"), { serverHostname: "localhost" }),
        (e: unknown) => e instanceof SSLCertVerificationError && e.verifyCode === 20);
      assert.equal(t.isClosing(), true);
      assert.ok((await p.lost) instanceof SSLCertVerificationError, "connectionLost got the handshake's error");
      // The server side's handshake fails too (the client's alert, or its close).
      await assert.rejects(async () => await servers[0].upgraded, OSError);
      await servers[0].lost;
    });
    server.close();
  }));

test("loop.startTls: a peer that never speaks TLS fails after sslHandshakeTimeout (ECONNABORTED); the loop serves on", () =>
  withLoop(async (loop) => {
    captureExceptions(loop);
    const servers: Upgrading[] = [];
    // A plain server: it answers OK but never starts TLS.
    const server = await loop.runUntilComplete(() =>
      loop.createServer(() => {
        const p = new Upgrading(loop, false);
        servers.push(p);
        return p;
      }, "127.0.0.1", 0)
    );
    await loop.runUntilComplete(async () => {
      const [t, p] = await loop.createConnection(() => new Upgrading(loop, false), "127.0.0.1", portOf(server));
      const start = loop.time();
      await assert.rejects(
        loop.startTls(t, p, clientContext(), { serverHostname: "localhost", sslHandshakeTimeout: 0.3 }),
        (e: unknown) => e instanceof OSError && e.code === "ECONNABORTED" && /longer than 0.3 seconds/.test(e.message),
      );
      const took = loop.time() - start;
      assert.ok(took >= 0.29 && took < 5, `took ${took} s`);
      assert.ok((await p.lost) instanceof OSError);
      // The plain peer saw the ClientHello as data, then the connection end.
      await servers[0].lost;
      assert.equal(servers[0].plain.charCodeAt(0), 0x16, "a TLS handshake record reached the plain peer");
      // The loop still makes connections.
      const [t2, p2] = await loop.createConnection(() => new Upgrading(loop, false), "127.0.0.1", portOf(server));
      t2.close();
      assert.equal(await p2.lost, null);
    });
    server.close();
  }));

test("loop.startTls over a TLS transport: TLS in TLS (asyncio ≥ 3.11), data both ways", () =>
  withLoop(async (loop) => {
    const seen = captureExceptions(loop);
    const servers: Upgrading[] = [];
    const server = await loop.runUntilComplete(() =>
      loop.createServer(() => {
        const p = new Upgrading(loop, true);
        servers.push(p);
        return p;
      }, "127.0.0.1", 0, { ssl: serverContext() })
    );
    await loop.runUntilComplete(async () => {
      const [outer, p] = await loop.createConnection(() => new Upgrading(loop, false), "127.0.0.1", portOf(server), {
        ssl: clientContext(),
        serverHostname: "localhost",
      });
      outer.write(encoder.encode("STARTTLS\n"));
      await p.sawOk;
      const inner = await loop.startTls(outer, p, clientContext(), { serverHostname: "localhost" });
      p.tlsTransport = inner;
      const srvInner = await servers[0].upgraded;
      const data = pattern(256 * 1024);
      inner.write(data);
      srvInner.write(data.subarray(0, 1000));
      for (let i = 0; i < 2000 && (servers[0].size < data.length || p.size < 1000); i++) await sleep(0.005);
      assert.equal(sha256(...servers[0].received), sha256(data));
      assert.equal(sha256(...p.received), sha256(data.subarray(0, 1000)));
      inner.close();
      assert.equal(await p.lost, null);
      srvInner.close();
      await servers[0].lost;
    });
    server.close();
    assert.deepEqual(seen, []);
  }));
