/**
 * TLS (createConnection/createServer with ssl, streams with ssl) over the system OpenSSL,
 * against peers this project did not write: `openssl s_server`, `openssl s_client`, and
 * Python's ssl module (tests/fixtures/tls_peer.py); and aioloop against itself in one loop
 * (both ends TLS), or against plain-TCP peers in the same loop that misbehave (silent, closing
 * mid-handshake, sending garbage or half a ClientHello). Certificates come from
 * tests/tls_certs.ts. On Windows there is no Python: those peers' tests are skipped there.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import {
  type BaseEventLoop, CERT_NONE, CERT_REQUIRED, createDefaultContext, gather, NotImplementedError,
  openConnection, openUnixConnection, OSError, RuntimeError, sleep, SSLCertVerificationError,
  SSLContext, SSLError, type SSLObject, SSLProtocol, startServer, type StreamReader,
  type ReadTransport, type StreamWriter, TimeoutError, tlsObjectCounts, type Transport, ValueError,
  waitFor,
} from "../../../mod.ts";
import { isWindows, runScriptCommand } from "../../../ffi/runtime.ts";
import {
  assertClosedSince, captureExceptions, concat, openNow, windowsLacks, withLoop,
} from "../../helpers.ts";
import { addToSystemStore, removeFromSystemStore } from "../../windows/win.ts";
import { pattern, PYTHON, sha256 } from "../../net_helpers.ts";
import { certFile as f, clientContext, OPENSSL, removeTlsCerts, serverContext } from "../../tls_certs.ts";

const TLS_PEER = fileURLToPath(new URL("../../fixtures/tls_peer.py", import.meta.url));
after(removeTlsCerts);

const noPython = { skip: windowsLacks("python3 (no Python under Wine)") };
const noUnix = { skip: windowsLacks("AF_UNIX sockets (none in Wine's Winsock)") };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---- Peers ------------------------------------------------------------------------------------

interface Peer {
  port: number;
  output(): string;
  stop(): Promise<void>;
}

/** Start a child process and resolve once its stdout matches `ready` (group 1: the port). */
function startPeer(cmd: string, args: string[], ready: RegExp): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "", resolved = false;
    const onData = (d: unknown) => {
      out += d;
      const m = ready.exec(out);
      if (m && !resolved) {
        resolved = true;
        resolve({
          port: Number(m[1]),
          output: () => out,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              child.on("exit", () => done());
              child.stdin!.end();
              child.kill();
            }),
        });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => {
      if (!resolved) reject(new Error(`${cmd} ${args[0]} exited early (${code}): ${out}`));
    });
  });
}

/**
 * `openssl s_server -rev` (it echoes each line reversed) on an ephemeral loopback port. -rev
 * also keeps it from reading its stdin: on Windows it cannot poll a pipe and would block in
 * that read, serving nobody.
 */
function sServer(cert: string, key: string, ...extra: string[]): Promise<Peer> {
  return startPeer(OPENSSL, ["s_server", "-accept", "127.0.0.1:0", "-rev", "-cert", f(cert), "-key", f(key),
    ...extra], /ACCEPT 127\.0\.0\.1:(\d+)/);
}

function tlsPeerServer(mode: string, ...args: string[]): Promise<Peer> {
  return startPeer(PYTHON, [TLS_PEER, mode, ...args], /READY (\d+)/);
}

/**
 * Run a command to completion: [exit code, stdout, stderr]. Its stdin gets `input` and then EOF
 * (`openssl s_client -quiet` goes on after that EOF; on Windows, where it cannot poll a pipe, it
 * would block reading a stdin that stays open).
 */
function run(cmd: string, args: string[], input?: Uint8Array): Promise<[number, string, string]> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "", err = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (err += d));
    child.on("exit", (code) => resolve([code ?? -1, out, err]));
    child.stdin!.end(input);
  });
}

function runTlsPeer(mode: string, ...args: (string | number)[]): Promise<string> {
  return run(PYTHON, [TLS_PEER, mode, ...args.map(String)]).then(([code, out, err]) => {
    if (code !== 0) throw new Error(`tls_peer ${mode} exited ${code}: ${err}`);
    return out.trim();
  });
}

// ---- Protocols --------------------------------------------------------------------------------

/** Collects what arrives; `done` resolves on connectionLost. */
class Collector {
  chunks: Uint8Array[] = [];
  transport!: Transport;
  lost: Error | null | undefined;
  eof = false;
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
  eofReceived() {
    this.eof = true;
  }
  connectionLost(exc: Error | null) {
    this.lost = exc;
    if (!this.done.done()) this.done.setResult(exc);
  }
  get text() {
    return decoder.decode(concat(this.chunks));
  }
  get size() {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }
}

/** Echoes; closes once it has echoed `closeAfter` bytes (if given). */
class Echo {
  transport!: Transport;
  echoed = 0;
  static made = 0;
  static lost: (Error | null)[] = [];
  constructor(private closeAfter = Infinity) {}
  connectionMade(t: Transport) {
    Echo.made++;
    this.transport = t;
  }
  dataReceived(d: Uint8Array) {
    this.transport.write(d);
    this.echoed += d.length;
    if (this.echoed >= this.closeAfter) this.transport.close();
  }
  connectionLost(exc: Error | null) {
    Echo.lost.push(exc);
  }
}

function portOf(server: { sockets: { getsockname(): unknown }[] | null }): number {
  return (server.sockets![0].getsockname() as [string, number])[1];
}

async function expectRefused(
  loop: BaseEventLoop,
  promise: Promise<unknown>,
  verifyCode: number,
  message: RegExp,
): Promise<SSLCertVerificationError> {
  let caught: unknown;
  try {
    await loop.runUntilComplete(promise);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SSLCertVerificationError, `expected SSLCertVerificationError, got ${caught}`);
  assert.ok(caught instanceof SSLError && caught instanceof OSError);
  assert.equal(caught.verifyCode, verifyCode, caught.message);
  assert.match(caught.verifyMessage, message);
  assert.match(caught.message, /^\[SSL: CERTIFICATE_VERIFY_FAILED\] certificate verify failed: /);
  return caught;
}

/** Plain TCP (no TLS): closes its connection once it has received something. */
class CloseOnData {
  transport!: Transport;
  connectionMade(t: Transport) {
    this.transport = t;
  }
  dataReceived() {
    this.transport.close();
  }
}

/**
 * A plain TCP client in `loop`: sends `bytes` to 127.0.0.1:`port`, then closes if `close`, and
 * resolves with its Collector once the connection is lost (failing after 10 s).
 */
async function rawClient(loop: BaseEventLoop, port: number, bytes: Uint8Array, close = false): Promise<Collector> {
  const [t, p] = await loop.createConnection(() => new Collector(loop), "127.0.0.1", port);
  t.write(bytes);
  if (close) t.close();
  const timer = loop.callLater(10, () => {
    if (!p.done.done()) p.done.setException(new Error("the peer did not close the connection within 10 s"));
  });
  await p.done;
  timer.cancel();
  return p;
}

/** A real ClientHello: what an aioloop TLS client sends first (over a fake transport). */
function clientHello(loop: BaseEventLoop): Uint8Array {
  const wire = new CompletionWire();
  const proto = new SSLProtocol(loop, new Collector(loop), clientContext(), { serverHostname: "localhost" });
  proto.connectionMade(wire as unknown as Transport);
  const hello = concat(wire.out);
  proto.connectionLost(null);
  assert.equal(hello[0], 0x16, "a TLS handshake record");
  return hello;
}

// ---- Client side ------------------------------------------------------------------------------

test("client: verified handshake with openssl s_server: ALPN h2, cipher, peercert, sslObject, echo, close_notify", () =>
  withLoop(async (loop) => {
    const peer = await loop.runUntilComplete(
      sServer("server.pem", "server.key", "-alpn", "h2,http/1.1"),
    );
    try {
      const ctx = clientContext(["h2", "http/1.1"]);
      const [t, p] = await loop.runUntilComplete(
        loop.createConnection(() => new Collector(loop), "127.0.0.1", peer.port, { ssl: ctx }),
      );
      assert.equal(t.getExtraInfo("sslcontext"), ctx);
      const obj = t.getExtraInfo("sslObject") as SSLObject;
      assert.equal(obj.selectedAlpnProtocol(), "h2");
      assert.equal(obj.version(), "TLSv1.3");
      assert.equal(obj.serverHostname, "127.0.0.1");
      const [name, version, bits] = t.getExtraInfo("cipher") as [string, string, number];
      assert.match(name, /^TLS_/);
      assert.equal(version, "TLSv1.3");
      assert.ok(bits >= 128);
      const cert = t.getExtraInfo("peercert") as { subject: unknown; issuer: unknown; subjectAltName: unknown };
      assert.deepEqual(cert.subject, [[["commonName", "localhost"]]]);
      assert.deepEqual(cert.issuer, [[["commonName", "aioloop test CA"]]]);
      assert.deepEqual(cert.subjectAltName, [
        ["DNS", "localhost"], ["IP Address", "127.0.0.1"], ["IP Address", "0:0:0:0:0:0:0:1"],
      ]);
      assert.ok((obj.getpeercert(true) as Uint8Array).length > 100);
      assert.deepEqual((t.getExtraInfo("peername") as unknown[]).slice(0, 2), ["127.0.0.1", peer.port]);
      assert.equal(t.canWriteEof(), false);
      assert.throws(() => t.writeEof(), NotImplementedError);
      t.write(encoder.encode("hello aioloop\n"));
      while (!p.text.includes("\n") && p.lost === undefined) {
        await loop.runUntilComplete(loop.createTask(async () => {
          await new Promise((r) => setTimeout(r, 5));
        }));
      }
      assert.equal(p.text, "pooloia olleh\n");
      t.close();
      assert.equal(await loop.runUntilComplete(p.done), null);
      // A second connection by name, offering only http/1.1.
      const [t2, p2] = await loop.runUntilComplete(
        loop.createConnection(() => new Collector(loop), "localhost", peer.port, {
          ssl: clientContext(["http/1.1"]),
          family: 2,
        }),
      );
      assert.equal((t2.getExtraInfo("sslObject") as SSLObject).selectedAlpnProtocol(), "http/1.1");
      t2.close();
      assert.equal(await loop.runUntilComplete(p2.done), null);
    } finally {
      await peer.stop();
    }
  }));

/**
 * Send `data` in 256 KiB writes with drain() while reading the echo back: the echo. Flow
 * control holds across the TLS layer: drain() keeps the write buffer bounded.
 */
async function echoedThrough(reader: StreamReader, writer: StreamWriter, data: Uint8Array): Promise<Uint8Array> {
  const sending = (async () => {
    for (let i = 0; i < data.length; i += 256 * 1024) {
      writer.write(data.subarray(i, i + 256 * 1024));
      await writer.drain();
      assert.ok(writer.transport.getWriteBufferSize() <= 64 * 1024 + 256 * 1024 + 8192);
    }
  })();
  const received = await reader.readexactly(data.length);
  await sending;
  return received;
}

/** A streams server's client handler: echo in 64 KiB reads, with drain(), until EOF. */
async function echoStream(reader: StreamReader, writer: StreamWriter): Promise<void> {
  for (;;) {
    const chunk = await reader.read(1 << 16);
    if (chunk.length === 0) break;
    writer.write(chunk);
    await writer.drain();
  }
  writer.close();
}

test("client: 10 MiB echoed through a Python asyncio ssl server via openConnection(ssl), checksummed", noPython, () =>
  withLoop(async (loop) => {
    const peer = await loop.runUntilComplete(tlsPeerServer("echo-server", f("server.pem"), f("server.key")));
    try {
      const data = pattern(10 << 20);
      const got = await loop.runUntilComplete(async () => {
        const [reader, writer] = await openConnection("127.0.0.1", peer.port, {
          ssl: clientContext(),
          serverHostname: "localhost",
        });
        assert.equal((writer.getExtraInfo("sslObject") as SSLObject).serverHostname, "localhost");
        const received = await echoedThrough(reader, writer, data);
        writer.close();
        await writer.waitClosed();
        return received;
      });
      assert.equal(got.length, data.length);
      assert.equal(sha256(got), sha256(data));
    } finally {
      await peer.stop();
    }
  }));

test("client: an expired certificate is refused by default (verifyCode 10)", () =>
  withLoop(async (loop) => {
    const peer = await loop.runUntilComplete(sServer("expired.pem", "expired.key"));
    try {
      const f2 = () => new Collector(loop);
      await expectRefused(loop, loop.createConnection(f2, "127.0.0.1", peer.port, { ssl: clientContext() }),
        10, /^certificate has expired$/);
    } finally {
      await peer.stop();
    }
  }));

test("client: a self-signed certificate without its CA loaded is refused (verifyCode 18); ssl: true uses the system store", () =>
  withLoop(async (loop) => {
    const peer = await loop.runUntilComplete(sServer("self.pem", "self.key"));
    const ours = await loop.runUntilComplete(sServer("server.pem", "server.key"));
    try {
      const f2 = () => new Collector(loop);
      await expectRefused(loop, loop.createConnection(f2, "127.0.0.1", peer.port, { ssl: clientContext() }),
        18, /^self-signed certificate$/);
      await expectRefused(loop, loop.createConnection(f2, "127.0.0.1", peer.port, { ssl: true }),
        18, /^self-signed certificate$/);
      // ssl: true = createDefaultContext(): the system CAs do not know the test CA.
      await expectRefused(loop, loop.createConnection(f2, "127.0.0.1", ours.port, { ssl: true }),
        20, /^unable to get local issuer certificate$/);
    } finally {
      await peer.stop();
      await ours.stop();
    }
  }));

test("client: on Windows, createDefaultContext() trusts the system certificate stores: the test CA added to the user's CA store verifies s_server", {
  skip: isWindows ? false : "the Windows certificate stores exist only on Windows",
}, () =>
  withLoop(async (loop) => {
    const peer = await loop.runUntilComplete(sServer("server.pem", "server.key"));
    const f2 = () => new Collector(loop);
    try {
      const pem = readFileSync(f("ca.pem"), "utf8").replace(/-----[A-Z ]+-----|\s/g, "");
      const der = Uint8Array.from(atob(pem), (ch) => ch.charCodeAt(0));
      addToSystemStore("CA", der);
      try {
        // A new default context reads the stores (`ssl: true` reuses one made earlier).
        const [t, p] = await loop.runUntilComplete(loop.createConnection(f2, "127.0.0.1", peer.port, {
          ssl: createDefaultContext(),
          serverHostname: "localhost",
        }));
        t.close();
        assert.equal(await loop.runUntilComplete(p.done), null);
      } finally {
        assert.ok(removeFromSystemStore("CA", der), "the CA was still in the store");
      }
      // Out of the store again: not trusted.
      await expectRefused(loop, loop.createConnection(f2, "127.0.0.1", peer.port, { ssl: createDefaultContext() }),
        20, /^unable to get local issuer certificate$/);
    } finally {
      await peer.stop();
    }
  }));

test("client: a wrong host name is refused (verifyCode 62); serverHostname '' accepts it", () =>
  withLoop(async (loop) => {
    const peer = await loop.runUntilComplete(sServer("server.pem", "server.key"));
    try {
      const f2 = () => new Collector(loop);
      const e = await expectRefused(loop, loop.createConnection(f2, "127.0.0.1", peer.port, {
        ssl: clientContext(),
        serverHostname: "wrong.example",
      }), 62, /^Hostname mismatch, certificate is not valid for 'wrong\.example'\.$/);
      assert.equal(e.reason, "CERTIFICATE_VERIFY_FAILED");
      // An IP address is checked against the IP SANs.
      await expectRefused(loop, loop.createConnection(f2, "127.0.0.1", peer.port, {
        ssl: clientContext(),
        serverHostname: "127.0.0.2",
      }), 64, /IP address mismatch/);
      const [t, p] = await loop.runUntilComplete(loop.createConnection(f2, "127.0.0.1", peer.port, {
        ssl: clientContext(),
        serverHostname: "",
      }));
      assert.equal((t.getExtraInfo("sslObject") as SSLObject).serverHostname, null);
      t.close();
      assert.equal(await loop.runUntilComplete(p.done), null);
    } finally {
      await peer.stop();
    }
  }));

test("client: a server that drops the connection mid-handshake fails createConnection with ECONNRESET", () =>
  withLoop(async (loop) => {
    // A plain TCP server in this loop: it reads the ClientHello, then closes.
    const server = await loop.createServer(() => new CloseOnData(), "127.0.0.1", 0);
    const before = tlsObjectCounts();
    try {
      await assert.rejects(
        loop.runUntilComplete(loop.createConnection(() => new Collector(loop), "127.0.0.1", portOf(server), {
          ssl: clientContext(),
        })),
        (e: unknown) => e instanceof OSError && e.code === "ECONNRESET" && !(e instanceof SSLError),
      );
      await loop.runUntilComplete(async () => {});
      const now = tlsObjectCounts();
      assert.equal(now.sslNew - before.sslNew, now.sslFree - before.sslFree);
    } finally {
      server.close();
    }
  }));

test("client: sslHandshakeTimeout aborts a handshake the server never answers", () =>
  withLoop(async (loop) => {
    // A plain TCP server in this loop that accepts and never answers.
    const held: Transport[] = [];
    const server = await loop.createServer(() => ({ connectionMade: (t: Transport) => held.push(t) }),
      "127.0.0.1", 0);
    try {
      const t0 = performance.now();
      await assert.rejects(
        loop.runUntilComplete(loop.createConnection(() => new Collector(loop), "127.0.0.1", portOf(server), {
          ssl: clientContext(),
          sslHandshakeTimeout: 0.3,
        })),
        (e: unknown) => e instanceof OSError && e.code === "ECONNABORTED" &&
          /SSL handshake is taking longer than 0.3 seconds/.test(e.message),
      );
      const elapsed = performance.now() - t0;
      assert.ok(elapsed >= 250 && elapsed < 3000, `took ${elapsed} ms`);
      assert.equal(held.length, 1);
    } finally {
      for (const t of held) t.close();
      server.close();
    }
  }));

// ---- Server side ------------------------------------------------------------------------------

test("server: openssl s_client verifies an aioloop TLS server, negotiates ALPN http/1.1, gets its data echoed", () =>
  withLoop(async (loop) => {
    const seen: (string | null)[] = [];
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${"x".repeat(i % 50)}\n`).join("");
    const payload = encoder.encode(lines);
    const server = await loop.createServer(() => {
      const e = new Echo(payload.length);
      const made = e.connectionMade.bind(e);
      e.connectionMade = (t: Transport) => {
        seen.push((t.getExtraInfo("sslObject") as SSLObject).selectedAlpnProtocol());
        made(t);
      };
      return e;
    }, "127.0.0.1", 0, { ssl: serverContext(["h2", "http/1.1"]) });
    const [code, out, err] = await loop.runUntilComplete(run(OPENSSL, [
      "s_client", "-connect", `127.0.0.1:${portOf(server)}`, "-CAfile", f("ca.pem"),
      "-verify_return_error", "-servername", "localhost", "-verify_hostname", "localhost",
      "-alpn", "http/1.1", "-quiet",
    ], payload));
    assert.equal(code, 0, err);
    assert.equal(out, lines);
    assert.deepEqual(seen, ["http/1.1"]);
    server.close();
    await loop.runUntilComplete(server.waitClosed());
  }));

test("server: a Python asyncio ssl client echoes 10 MiB through startServer(ssl) with ALPN h2, checksummed", noPython, () =>
  withLoop(async (loop) => {
    const exceptions = captureExceptions(loop);
    const server = await loop.runUntilComplete(() => startServer(echoStream, "127.0.0.1", 0, { ssl: serverContext(["h2", "http/1.1"]) }));
    const out = await loop.runUntilComplete(
      runTlsPeer("echo-client", portOf(server), f("ca.pem"), "localhost", 10 << 20, "h2"),
    );
    assert.equal(out, `${sha256(pattern(10 << 20))} ${10 << 20} TLSv1.3 h2`);
    server.close();
    await loop.runUntilComplete(server.waitClosed());
    assert.deepEqual(exceptions, []);
  }));

test("aioloop on both sides: 10 MiB echoed through openConnection(ssl) and startServer(ssl), ALPN h2, checksummed", () =>
  withLoop(async (loop) => {
    const exceptions = captureExceptions(loop);
    const server = await loop.runUntilComplete(() => startServer(echoStream, "127.0.0.1", 0, { ssl: serverContext(["h2", "http/1.1"]) }));
    const data = pattern(10 << 20);
    const [got, alpn] = await loop.runUntilComplete(async () => {
      const [reader, writer] = await openConnection("127.0.0.1", portOf(server), {
        ssl: clientContext(["h2"]),
        serverHostname: "localhost",
      });
      const received = await echoedThrough(reader, writer, data);
      const alpn = (writer.getExtraInfo("sslObject") as SSLObject).selectedAlpnProtocol();
      writer.close();
      await writer.waitClosed();
      return [received, alpn] as const;
    });
    assert.equal(alpn, "h2");
    assert.equal(got.length, data.length);
    assert.equal(sha256(got), sha256(data));
    server.close();
    await loop.runUntilComplete(server.waitClosed());
    assert.deepEqual(exceptions, []);
  }));

test("server: a peer sending garbage instead of a ClientHello is closed quietly; serving goes on", () =>
  withLoop(async (loop) => {
    const exceptions = captureExceptions(loop);
    const made = Echo.made;
    const server = await loop.createServer(() => new Echo(), "127.0.0.1", 0, { ssl: serverContext() });
    const before = tlsObjectCounts();
    // A plain TCP client sends an HTTP request; the server must close (or reset) the connection.
    const garbage = await loop.runUntilComplete(rawClient(loop, portOf(server),
      encoder.encode("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")));
    assert.ok(garbage.lost === null || (garbage.lost instanceof OSError && garbage.lost.code === "ECONNRESET"),
      `the garbage client's connection ended with ${garbage.lost}`);
    assert.equal(Echo.made, made, "the user's protocol never saw connectionMade");
    // The server still serves real clients.
    const [t, p] = await loop.runUntilComplete(loop.createConnection(() => new Collector(loop),
      "127.0.0.1", portOf(server), { ssl: clientContext() }));
    t.write(encoder.encode("still here"));
    while (p.size < 10 && p.lost === undefined) await loop.runUntilComplete(loop.createTask(async () => {
      await new Promise((r) => setTimeout(r, 5));
    }));
    assert.equal(p.text, "still here");
    t.close();
    await loop.runUntilComplete(p.done);
    const deadline = performance.now() + 5000;
    while (server.activeConnections > 0 && performance.now() < deadline) {
      await loop.runUntilComplete(new Promise((r) => setTimeout(r, 5)));
    }
    assert.equal(server.activeConnections, 0);
    const now = tlsObjectCounts();
    assert.equal(now.sslNew - before.sslNew, now.sslFree - before.sslFree);
    assert.deepEqual(exceptions, []);
    server.close();
  }));

test("server: a client dropping mid-handshake (half a ClientHello) is cleaned up quietly", () =>
  withLoop(async (loop) => {
    const exceptions = captureExceptions(loop);
    const made = Echo.made;
    const hello = clientHello(loop);
    const before = tlsObjectCounts();
    const server = await loop.createServer(() => new Echo(), "127.0.0.1", 0, { ssl: serverContext() });
    // A plain TCP client sends the first half of a real ClientHello, then closes.
    const half = await loop.runUntilComplete(rawClient(loop, portOf(server),
      hello.subarray(0, hello.length >> 1), true));
    assert.equal(half.lost, null);
    const deadline = performance.now() + 5000;
    while (tlsObjectCounts().sslFree - before.sslFree < 1 && performance.now() < deadline) {
      await loop.runUntilComplete(new Promise((r) => setTimeout(r, 5)));
    }
    const now = tlsObjectCounts();
    assert.equal(now.sslNew - before.sslNew, 1);
    assert.equal(now.sslFree - before.sslFree, 1);
    assert.equal(server.activeConnections, 0);
    assert.equal(Echo.made, made);
    assert.deepEqual(exceptions, []);
    server.close();
  }));

/**
 * A server protocol writing `data` in 64 KiB chunks while the transport lets it (flow control),
 * closing when all is written; notes pauses and the largest write buffer it saw.
 */
class Pump {
  static readonly chunk = 64 * 1024;
  t!: Transport;
  sent = 0;
  paused = false;
  pauses = 0;
  maxBuffered = 0;
  constructor(private readonly data: Uint8Array, private readonly onLost: () => void = () => {}) {}
  connectionMade(t: Transport) {
    this.t = t;
    this.pump();
  }
  pump() {
    const total = this.data.length;
    while (!this.paused && this.sent < total) {
      this.t.write(this.data.subarray(this.sent, this.sent + Pump.chunk));
      this.sent += Pump.chunk;
      this.maxBuffered = Math.max(this.maxBuffered, this.t.getWriteBufferSize());
    }
    if (this.sent >= total && !this.paused) this.t.close();
  }
  pauseWriting() {
    this.pauses++;
    this.paused = true;
  }
  resumeWriting() {
    this.paused = false;
    this.pump();
  }
  connectionLost() {
    this.onLost();
  }
}

test("flow control across TLS: a slow Python reader pauses the writer; buffers stay bounded; 8 MiB arrive intact", noPython, () =>
  withLoop(async (loop) => {
    const total = 8 << 20;
    const data = pattern(total);
    const finished = loop.createFuture<void>();
    let pump!: Pump;
    const server = await loop.createServer(() => (pump = new Pump(data, () => {
      if (!finished.done()) finished.setResult();
    })), "127.0.0.1", 0, { ssl: serverContext() });
    const out = await loop.runUntilComplete(runTlsPeer("slow-reader", portOf(server), f("ca.pem"), 1));
    assert.equal(out, `${sha256(data)} ${total}`);
    await loop.runUntilComplete(finished);
    assert.ok(pump.pauses > 0, "pauseWriting was called");
    // One chunk past the high-water mark at most (plus TLS record overhead).
    assert.ok(pump.maxBuffered <= 64 * 1024 + Pump.chunk + 4096, `max buffered ${pump.maxBuffered}`);
    server.close();
  }));

test("flow control across TLS, aioloop on both sides: a client not reading holds the server's writer back; 16 MiB arrive intact", () =>
  withLoop(async (loop) => {
    // More than the loopback connection's kernel buffers hold (several MB each way).
    const total = 16 << 20;
    const data = pattern(total);
    let pump: Pump | undefined;
    const server = await loop.createServer(() => (pump = new Pump(data)), "127.0.0.1", 0, { ssl: serverContext() });
    const [t, p] = await loop.runUntilComplete(loop.createConnection(() => new Collector(loop), "127.0.0.1",
      portOf(server), { ssl: clientContext() }));
    t.pauseReading();
    await loop.runUntilComplete(() => sleep(1));
    assert.ok(pump!.paused && pump!.sent < total, `the writer went on: sent ${pump!.sent} of ${total}`);
    assert.ok(p.size < total / 2, `the paused client received ${p.size}`);
    t.resumeReading();
    assert.equal(await loop.runUntilComplete(p.done), null);
    assert.equal(p.size, total);
    assert.equal(sha256(concat(p.chunks)), sha256(data));
    // One chunk past the high-water mark at most (plus TLS record overhead).
    assert.ok(pump!.maxBuffered <= 64 * 1024 + Pump.chunk + 4096, `max buffered ${pump!.maxBuffered}`);
    server.close();
  }));

test("close() right after 8 MiB of writes to a peer not reading: every byte arrives, then EOF, and the close is clean (test_flush_before_shutdown)", () =>
  withLoop(async (loop) => {
    // The writes pile up past the engine's output ring (the socket transport pauses the TLS
    // layer); close() must send them all before close_notify, not drop what waits.
    const total = 8 << 20;
    const data = pattern(total);
    let reader: Collector | undefined;
    const server = await loop.createServer(() => (reader = new Collector(loop)), "127.0.0.1", 0, {
      ssl: serverContext(),
    });
    const [t, p] = await loop.runUntilComplete(loop.createConnection(() => new Collector(loop), "127.0.0.1",
      portOf(server), { ssl: clientContext() }));
    await loop.runUntilComplete(() => sleep(0.05));
    reader!.transport.pauseReading();
    t.write(data);
    t.close();
    assert.ok(t.isClosing());
    await loop.runUntilComplete(() => sleep(0.3));
    assert.ok(reader!.size < total, `the paused server received ${reader!.size}`);
    reader!.transport.resumeReading();
    // Bounded well below the 30 s shutdown timeout the old code waited for.
    const [clientLost] = await loop.runUntilComplete(() => waitFor(gather(p.done, reader!.done), 10));
    assert.equal(clientLost, null);
    assert.equal(reader!.size, total);
    assert.equal(sha256(concat(reader!.chunks)), sha256(data));
    assert.ok(reader!.eof, "the server saw no close_notify");
    server.close();
  }));

test("getExtraInfo: the TLS transport gives the socket's peername and sockname, also after the peer closed and the connection was lost", () =>
  withLoop(async (loop) => {
    const server = await loop.createServer(() => new Echo(0), "127.0.0.1", 0, { ssl: serverContext() });
    const [t, p] = await loop.runUntilComplete(loop.createConnection(() => new Collector(loop), "127.0.0.1",
      portOf(server), { ssl: clientContext() }));
    t.write(encoder.encode("x")); // the server echoes it and closes at once
    assert.equal(await loop.runUntilComplete(p.done), null);
    assert.deepEqual(t.getExtraInfo("peername"), ["127.0.0.1", portOf(server)]);
    const sockname = t.getExtraInfo("sockname") as [string, number];
    assert.equal(sockname[0], "127.0.0.1");
    assert.ok(sockname[1] > 0);
    assert.equal(t.getExtraInfo("nothing", "default"), "default");
    server.close();
  }));

test("close() while the app paused reading mid-transfer: the peer's close_notify is still seen, the close is clean", () =>
  withLoop(async (loop) => {
    const total = 16 << 20;
    let pump: Pump | undefined;
    const server = await loop.createServer(() => (pump = new Pump(pattern(total))), "127.0.0.1", 0, {
      ssl: serverContext(),
    });
    // Reading is paused from inside dataReceived, while the data flows.
    class PausingCollector extends Collector {
      override dataReceived(d: Uint8Array) {
        super.dataReceived(d);
        this.transport.pauseReading();
      }
    }
    const [t, p] = await loop.runUntilComplete(loop.createConnection(() => new PausingCollector(loop),
      "127.0.0.1", portOf(server), { ssl: clientContext() }));
    // Until the server's writer is held back: the client's side holds all it can.
    await loop.runUntilComplete(async () => {
      while (!pump!.paused) await sleep(0.01);
      await sleep(0.2);
    });
    t.close();
    // The received bytes are dropped; the server answers close_notify with its own.
    assert.equal(await loop.runUntilComplete(() => waitFor(p.done, 10)), null);
    server.close();
  }));

// ---- Both sides, resources ---------------------------------------------------------------------

test("1,000 TLS connections opened and closed leak no fd and no OpenSSL object; every close is clean", () =>
  withLoop(async (loop) => {
    const sctx = serverContext(), cctx = clientContext();
    const server = await loop.createServer(() => new Echo(), "127.0.0.1", 0, { ssl: sctx });
    const port = portOf(server);
    // Park once first: the loop's parking thread (a Worker, with fds of its own) starts then.
    await loop.runUntilComplete(() => sleep(0.01));
    const openBefore = await openNow();
    const listener = server.sockets![0].fileno();
    const before = tlsObjectCounts();
    Echo.lost = [];
    const clientLost: (Error | null | undefined)[] = [];
    const one = async () => {
      const [t, p] = await loop.createConnection(() => new Collector(loop), "127.0.0.1", port, {
        ssl: cctx,
        serverHostname: "localhost",
      });
      t.write(encoder.encode("ping"));
      while (p.size < 4 && p.lost === undefined) {
        const w = loop.createFuture<void>();
        loop.callLater(0.001, () => w.setResult());
        await w;
      }
      t.close();
      clientLost.push(await p.done);
    };
    await loop.runUntilComplete(async () => {
      const workers = Array.from({ length: 20 }, async () => {
        for (let i = 0; i < 50; i++) await one();
      });
      await Promise.all(workers);
      const deadline = performance.now() + 10000;
      while (server.activeConnections > 0 && performance.now() < deadline) {
        const w = loop.createFuture<void>();
        loop.callLater(0.005, () => w.setResult());
        await w;
      }
    });
    const now = tlsObjectCounts();
    assert.equal(now.sslNew - before.sslNew, 2000);
    assert.equal(now.sslFree - before.sslFree, 2000);
    assert.equal(now.bioPairNew - before.bioPairNew, 2000);
    assert.equal(now.bioPairFree - before.bioPairFree, 2000);
    assert.equal(clientLost.length, 1000);
    assert.ok(clientLost.every((e) => e === null));
    assert.equal(Echo.lost.length, 1000);
    assert.ok(Echo.lost.every((e) => e === null), String(Echo.lost.find((e) => e !== null)));
    server.close();
    await loop.runUntilComplete(server.waitClosed());
    await assertClosedSince(openBefore, listener); // the listening socket is gone too
  }));

/**
 * A fake socket transport whose receives complete as on io_uring or IOCP: the buffer from the
 * protocol's getBuffer() is lent to the "kernel" when the receive is submitted, and the bytes
 * land in it before the loop reports the completion with bufferUpdated().
 */
class CompletionWire {
  out: Uint8Array[] = [];
  closed = false;
  /** True: model a readiness loop, whose reads write getBuffer()'s buffer within the call. */
  _readsInCall = false;
  write(d: Uint8Array) {
    this.out.push(d.slice());
  }
  close() {
    this.closed = true;
  }
  abort() {
    this.closed = true;
  }
  isClosing() {
    return this.closed;
  }
  pauseReading() {}
  resumeReading() {}
  getExtraInfo(_name: string, defaultValue?: unknown) {
    return defaultValue;
  }
  /** Move up to `max` queued bytes into `buf`; the byte count. */
  land(buf: Uint8Array, max: number): number {
    const bytes = concat(this.out);
    const n = Math.min(bytes.length, max, buf.length);
    buf.set(bytes.subarray(0, n));
    this.out = n < bytes.length ? [bytes.slice(n)] : [];
    return n;
  }
}

/**
 * A client and a server SSLProtocol joined by two CompletionWires; pump() moves bytes both ways
 * (receives complete whatever pauseReading() asked, as those already in flight on a completion
 * loop do, up to getBuffer()'s size at a time) until neither side has anything to send.
 * `readsInCall`: the wires say they write getBuffer()'s buffer within the read call, so the
 * protocols receive straight into their engines' input rings.
 */
function wiredPair(loop: BaseEventLoop, clientApp: object, serverApp: object, readsInCall: boolean) {
  const client = new SSLProtocol(loop, clientApp, clientContext(), { serverHostname: "localhost" });
  const server = new SSLProtocol(loop, serverApp, serverContext(), { serverSide: true });
  const toServer = new CompletionWire(), toClient = new CompletionWire();
  toServer._readsInCall = toClient._readsInCall = readsInCall;
  client.connectionMade(toServer as unknown as Transport);
  server.connectionMade(toClient as unknown as Transport);
  const pump = () => {
    for (let moved = true; moved;) {
      const nServer = toServer.land(server.getBuffer(-1), Infinity);
      if (nServer > 0) server.bufferUpdated(nServer);
      const nClient = toClient.land(client.getBuffer(-1), Infinity);
      if (nClient > 0) client.bufferUpdated(nClient);
      moved = nServer + nClient > 0;
    }
  };
  const close = () => {
    client.connectionLost(null);
    server.connectionLost(null);
  };
  return { client, server, toServer, toClient, pump, close };
}

test("SSLProtocol: each connection's receive buffer stays its own until bufferUpdated (receives completing together)", () =>
  withLoop((loop) => {
    const exceptions = captureExceptions(loop);
    const data = pattern(64 * 1024);
    const received = new Collector(loop);
    const sender = {
      connectionMade: (t: Transport) => t.write(data),
      dataReceived: (d: Uint8Array) => received.dataReceived(d),
    };
    const client = new SSLProtocol(loop, sender, clientContext(), { serverHostname: "localhost" });
    const server = new SSLProtocol(loop, new Echo(), serverContext(), { serverSide: true });
    const toServer = new CompletionWire(), toClient = new CompletionWire();
    client.connectionMade(toServer as unknown as Transport);
    server.connectionMade(toClient as unknown as Transport);
    // Each round both connections have a receive in flight, and what each peer sent (at most
    // 4 KiB, so both directions stay busy) lands in both buffers before either completion is
    // reported: what a completion loop does when two receives complete in one batch.
    for (let round = 0; round < 1000 && received.size < data.length; round++) {
      if (toServer.closed || toClient.closed) break;
      const clientBuf = client.getBuffer(-1), serverBuf = server.getBuffer(-1);
      const nServer = toServer.land(serverBuf, 4096);
      const nClient = toClient.land(clientBuf, 4096);
      if (nServer > 0) server.bufferUpdated(nServer);
      if (nClient > 0) client.bufferUpdated(nClient);
    }
    assert.deepEqual(exceptions, []);
    assert.equal(toServer.closed || toClient.closed, false, "a side failed the connection");
    assert.equal(sha256(concat(received.chunks)), sha256(data));
    client.connectionLost(null);
    server.connectionLost(null);
  }));

// Both ways a transport may receive: into the engine's ring within the read call (readiness
// loops), or into the connection's own buffer lent to the kernel (completion loops).
for (const readsInCall of [true, false]) {
  const mode = readsInCall ? " (receiving into the ring)" : " (receiving into a lent buffer)";
  test(`SSLProtocol${mode}: writes past the engine's output ring while the transport paused it wait as plaintext, then all go`, () =>
    withLoop((loop) => {
      const exceptions = captureExceptions(loop);
      // 3 MiB in one write and then 1 MiB more: both far past the 256 KiB output ring.
      const data = pattern(4 << 20);
      const received = new Collector(loop);
      let userPaused = 0, userResumed = 0;
      let userTransport!: Transport;
      const sender = {
        connectionMade: (t: Transport) => (userTransport = t),
        pauseWriting: () => userPaused++,
        resumeWriting: () => userResumed++,
      };
      const { client, toServer, pump, close } = wiredPair(loop, sender, received, readsInCall);
      pump();
      assert.ok(userTransport, "handshake done");
      // The socket transport below says its buffer is full: nothing may reach it now.
      client.pauseWriting();
      const sentBefore = toServer.out.length;
      userTransport.write(data.subarray(0, 3 << 20));
      userTransport.write(data.subarray(3 << 20));
      assert.equal(toServer.out.length, sentBefore, "no output while paused");
      assert.ok(userTransport.getWriteBufferSize() >= 4 << 20, "the writes are counted as buffered");
      assert.equal(userPaused, 1, "the user's protocol is paused");
      client.resumeWriting();
      pump();
      assert.equal(userTransport.getWriteBufferSize(), 0);
      assert.equal(userResumed, 1);
      assert.equal(sha256(concat(received.chunks)), sha256(data));
      assert.deepEqual(exceptions, []);
      close();
    }));

  test(`SSLProtocol${mode}: bytes arriving while the user paused reading wait past the engine's input ring, in order`, () =>
    withLoop(async (loop) => {
      const exceptions = captureExceptions(loop);
      const data = pattern(2 << 20);
      const received = new Collector(loop);
      let senderTransport!: Transport;
      const { server, toServer, pump, close } = wiredPair(
        loop, { connectionMade: (t: Transport) => (senderTransport = t) }, received, readsInCall);
      pump();
      // Into the engine's input ring (256 + 32 KiB) or the connection's own 256 KiB buffer.
      assert.equal(server.getBuffer(-1).byteLength, (readsInCall ? 288 : 256) * 1024);
      received.transport.pauseReading();
      senderTransport.write(data);
      pump();
      assert.equal(toServer.out.length, 0, "the server took all 2 MiB in");
      assert.equal(received.size, 0, "nothing delivered while paused");
      received.transport.resumeReading();
      await loop.runUntilComplete(() => sleep(0));
      assert.equal(received.size, data.length);
      assert.equal(sha256(concat(received.chunks)), sha256(data));
      assert.deepEqual(exceptions, []);
      close();
    }));

  test(`SSLProtocol${mode}: close() while reading is paused and bytes wait past the engine's input ring: the peer's close_notify still gets through`, () =>
    withLoop((loop) => {
      const exceptions = captureExceptions(loop);
      const received = new Collector(loop);
      let senderTransport!: Transport;
      const { toServer, toClient, pump, close } = wiredPair(
        loop, { connectionMade: (t: Transport) => (senderTransport = t) }, received, readsInCall);
      pump();
      received.transport.pauseReading();
      senderTransport.write(pattern(2 << 20));
      pump();
      assert.equal(toServer.out.length, 0, "the server took all 2 MiB in");
      // The server's user closes: its close_notify goes out, the client answers with its own
      // (and closes), which must reach the server's engine behind the bytes still waiting.
      received.transport.close();
      pump();
      assert.ok(toServer.closed, "the client finished its shutdown");
      assert.ok(toClient.closed, "the server never saw the client's close_notify");
      assert.equal(received.size, 0, "bytes after close() are dropped");
      assert.deepEqual(exceptions, []);
      close();
    }));
}

test("server and clients in one loop: 4 TLS connections echo 256 KiB each at once, every byte intact", () =>
  withLoop(async (loop) => {
    const exceptions = captureExceptions(loop);
    const data = pattern(256 * 1024);
    const server = await loop.createServer(() => new Echo(), "127.0.0.1", 0, { ssl: serverContext() });
    const one = async () => {
      const [t, p] = await loop.createConnection(() => new Collector(loop), "127.0.0.1", portOf(server), {
        ssl: clientContext(),
      });
      t.write(data);
      while (p.size < data.length && p.lost === undefined) await sleep(0.005);
      t.close();
      await p.done;
      return [sha256(concat(p.chunks)), p.lost] as const;
    };
    const results = await loop.runUntilComplete(() => Promise.all([one(), one(), one(), one()]));
    for (const [digest, lost] of results) {
      assert.equal(lost, null);
      assert.equal(digest, sha256(data));
    }
    assert.deepEqual(exceptions, []);
    server.close();
  }));

test("Unix sockets: createUnixServer(ssl) and createUnixConnection(ssl, serverHostname)", noUnix, () =>
  withLoop(async (loop) => {
    const path = f("tls.sock");
    const server = await loop.createUnixServer(() => new Echo(), path, { ssl: serverContext() });
    await assert.rejects(
      loop.createUnixConnection(() => new Collector(loop), path, { ssl: clientContext() }),
      (e: unknown) => e instanceof ValueError && /serverHostname/.test(e.message),
    );
    const [t, p] = await loop.runUntilComplete(loop.createUnixConnection(() => new Collector(loop), path, {
      ssl: clientContext(),
      serverHostname: "localhost",
    }));
    t.write(encoder.encode("over unix"));
    while (p.size < 9 && p.lost === undefined) await loop.runUntilComplete(new Promise((r) => setTimeout(r, 5)));
    assert.equal(p.text, "over unix");
    t.close();
    assert.equal(await loop.runUntilComplete(p.done), null);
    server.close();
  }));

// ---- The peer's EOF without close_notify ------------------------------------------------------

const TLS_EOF_PEER = fileURLToPath(new URL("../../fixtures/tls_eof_peer.py", import.meta.url));

/** Wait (in a coroutine, up to 10 s) until `peer` printed a line matching `line`. */
async function peerSaid(peer: Peer, line: RegExp): Promise<void> {
  for (let i = 0; i < 1000 && !line.test(peer.output()); i++) await sleep(0.01);
  assert.match(peer.output(), line);
}

// CPython test_streams test_open_unix_connection_no_loop_ssl: the server answers and closes
// its Unix socket without close_notify. asyncio does not unwrap after the peer's EOF; writing a
// close_notify there failed with EPIPE and read() rejected with it instead of the data and EOF.
test("Unix sockets: a server closing without close_notify: read() returns its data then EOF; nothing is written after its EOF (test_open_unix_connection_no_loop_ssl)", noPython, () =>
  withLoop(async (loop) => {
    const path = f("eof-http.sock");
    const peer = await startPeer(PYTHON, [TLS_EOF_PEER, "unix_http", path, f("server.pem"), f("server.key")], /READY (\d+)/);
    const seen = captureExceptions(loop);
    try {
      await loop.runUntilComplete(async () => {
        const ctx = clientContext();
        ctx.checkHostname = false;
        ctx.verifyMode = CERT_NONE;
        const [reader, writer] = await openUnixConnection(path, { ssl: ctx, serverHostname: "" });
        writer.write(encoder.encode("GET / HTTP/1.0\r\n\r\n"));
        const data = decoder.decode(await reader.read());
        assert.ok(data.endsWith("\r\n\r\nTest message"), data);
        writer.close();
        await writer.waitClosed();
      });
      assert.deepEqual(seen, []);
    } finally {
      await peer.stop();
    }
  }));

// CPython test_ssl test_shutdown_timeout_handler_not_set: the server half-closes TCP (no
// close_notify) while the client has paused reading; once it resumes it gets the rest, then
// a clean connectionLost(null), and sends nothing after the server's EOF.
test("client: a TCP EOF without close_notify while reading is paused: the rest arrives on resume, the close is clean, no close_notify follows (test_shutdown_timeout_handler_not_set)", noPython, () =>
  withLoop(async (loop) => {
    const peer = await startPeer(PYTHON, [TLS_EOF_PEER, "shut_wr", f("server.pem"), f("server.key")], /READY (\d+)/);
    const seen = captureExceptions(loop);
    try {
      let extra: string | null = null;
      const lost = loop.createFuture<Error | null>();
      class Proto {
        transport!: Transport;
        connectionMade(t: Transport) {
          this.transport = t;
        }
        dataReceived(d: Uint8Array) {
          if (decoder.decode(d) === "hello") {
            this.transport.write(encoder.encode("world"));
            this.transport.pauseReading();
          } else {
            extra = decoder.decode(d);
          }
        }
        connectionLost(exc: Error | null) {
          lost.setResult(exc);
        }
      }
      await loop.runUntilComplete(async () => {
        const [t] = await loop.createConnection(() => new Proto(), "127.0.0.1", peer.port, {
          ssl: clientContext(),
          serverHostname: "localhost",
        });
        await peerSaid(peer, /EOF_SENT/);
        await sleep(0.05);
        t.resumeReading();
        assert.equal(await lost, null);
        t.close();
        assert.equal(extra, "extra bytes");
        await peerSaid(peer, /AFTER_EOF -?\d+/);
      });
      assert.match(peer.output(), /GOT world/);
      assert.match(peer.output(), /AFTER_EOF 0\b/, "nothing may be sent after the peer's EOF");
      assert.deepEqual(seen, []);
    } finally {
      await peer.stop();
    }
  }));

test("SSLContext: Python's rules and errors", () => {
  const c = new SSLContext("client");
  assert.equal(c.verifyMode, CERT_REQUIRED);
  assert.equal(c.checkHostname, true);
  assert.throws(() => (c.verifyMode = CERT_NONE), ValueError);
  c.checkHostname = false;
  c.verifyMode = CERT_NONE;
  c.checkHostname = true;
  assert.equal(c.verifyMode, CERT_REQUIRED);
  assert.equal(c.minimumVersion, 0x0303);
  c.minimumVersion = 0x0304;
  assert.equal(c.minimumVersion, 0x0304);
  const s = new SSLContext("server");
  assert.equal(s.verifyMode, CERT_NONE);
  assert.equal(s.checkHostname, false);
  assert.throws(() => s.loadCertChain(f("missing.pem")),
    (e: unknown) => e instanceof OSError && e.code === "ENOENT");
  assert.throws(() => s.loadCertChain(f("server.pem"), f("server-enc.key"), "wrong"), SSLError);
  s.loadCertChain(f("server.pem"), f("server-enc.key"), "s3cret");
  s.loadCertChain(f("server.pem"), f("server-enc.key"), () => "s3cret");
  assert.throws(() => s.loadCertChain(f("server.pem"), f("self.key")), SSLError);
  assert.throws(() => c.loadVerifyLocations(), TypeError);
  assert.throws(() => c.setAlpnProtocols([""]), ValueError);
  assert.throws(() => new SSLContext("both" as "client"), ValueError);
  assert.equal(createDefaultContext().verifyMode, CERT_REQUIRED);
  assert.throws(() => c.loadDefaultCerts("codeSigning" as "serverAuth"), TypeError);
});

test("argument errors name the problem", () =>
  withLoop(async (loop) => {
    const f2 = () => new Collector(loop);
    await assert.rejects(loop.createConnection(f2, "127.0.0.1", 1, { serverHostname: "x" }),
      /serverHostname is only meaningful with ssl/);
    await assert.rejects(loop.createConnection(f2, "127.0.0.1", 1, { sslHandshakeTimeout: 1 }),
      /sslHandshakeTimeout is only meaningful with ssl/);
    await assert.rejects(loop.createConnection(f2, "127.0.0.1", 1, { ssl: true, sslHandshakeTimeout: -1 }),
      ValueError);
    // No host to check the certificate against: asyncio's ValueError.
    const { socketpair } = await import("../../../mod.ts");
    const [a, b] = socketpair();
    try {
      await assert.rejects(loop.createConnection(f2, null, null, { sock: a, ssl: true }),
        (e: unknown) => e instanceof ValueError && /serverHostname/.test(e.message));
    } finally {
      a.close();
      b.close();
    }
    await assert.rejects(loop.createServer(f2, "127.0.0.1", 0, { ssl: clientContext() }), ValueError);
    // deno-lint-ignore no-explicit-any
    await assert.rejects(loop.createServer(f2, "127.0.0.1", 0, { ssl: true as any }), TypeError);
  }));

// CPython test_sslproto test_handshake_timeout_zero/_negative (and the shutdown twins); asyncio
// refuses these options on every API, and refuses them without ssl.
test("sslHandshakeTimeout/sslShutdownTimeout: 0, negative or NaN is a ValueError naming the option, everywhere; without ssl too", () =>
  withLoop(async (loop) => {
    const proto = () => new Collector(loop);
    for (const key of ["sslHandshakeTimeout", "sslShutdownTimeout"] as const) {
      for (const bad of [0, -1, -0.5, NaN]) {
        assert.throws(() => new SSLProtocol(loop, proto(), clientContext(), { serverHostname: "localhost", [key]: bad }),
          (e: unknown) => e instanceof ValueError && e.message === `${key} should be a positive number, got ${bad}`,
          `SSLProtocol ${key}=${bad}`);
      }
      assert.throws(() => new SSLProtocol(loop, proto(), clientContext(), { [key]: "1" as unknown as number }),
        (e: unknown) => e instanceof TypeError && e.message.includes(key));
      const bad = { [key]: 0 };
      const positive = `${key} should be a positive number, got 0`;
      const isPositive = (e: unknown) => e instanceof ValueError && e.message === positive;
      const isOnlyWithSsl = (e: unknown) =>
        e instanceof ValueError && e.message === `${key} is only meaningful with ssl`;
      await assert.rejects(loop.createConnection(proto, "127.0.0.1", 1, { ssl: clientContext(), ...bad }), isPositive);
      await assert.rejects(loop.createServer(proto, "127.0.0.1", 0, { ssl: serverContext(), ...bad }), isPositive);
      await assert.rejects(loop.createServer(proto, "127.0.0.1", 0, { [key]: 5 }), isOnlyWithSsl);
      await assert.rejects(loop.runUntilComplete(() => openConnection("127.0.0.1", 1, { ssl: clientContext(), ...bad })),
        isPositive);
      await assert.rejects(loop.runUntilComplete(() => openConnection("127.0.0.1", 1, { [key]: 5 })), isOnlyWithSsl);
      await assert.rejects(loop.runUntilComplete(() => startServer(() => {}, "127.0.0.1", 0, { ssl: serverContext(), ...bad })),
        isPositive);
      if (!isWindows) {
        const path = f("timeouts.sock");
        await assert.rejects(loop.createUnixConnection(proto, path, { ssl: clientContext(), serverHostname: "x", ...bad }),
          isPositive);
        await assert.rejects(loop.createUnixServer(proto, path, { ssl: serverContext(), ...bad }), isPositive);
        await assert.rejects(loop.createUnixServer(proto, path, { [key]: 5 }), isOnlyWithSsl);
      }
    }
    // A positive value is taken.
    new SSLProtocol(loop, proto(), clientContext(), { sslHandshakeTimeout: 0.5, sslShutdownTimeout: 1e9 })
      .connectionLost(null);
  }));

test("without libssl, importing works and the first TLS use says what is missing", async () => {
  const script = fileURLToPath(new URL("../../fixtures/tls_without_libssl.ts", import.meta.url));
  const [exe, ...args] = runScriptCommand(script);
  const child = spawn(exe, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, AIOLOOP_LIBSSL: "/nonexistent/libssl.so.3" },
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const code = await new Promise((r) => child.on("exit", r));
  assert.equal(code, 0, out);
  assert.match(out, /imported/);
  assert.match(out, /RuntimeError: TLS needs OpenSSL 3 .*\/nonexistent\/libssl\.so\.3/);
  // The message names this OS's libraries (OpenSSL 3's own names for its Windows x64 DLLs).
  assert.match(out, isWindows ? /\(libssl-3-x64\.dll and libcrypto-3-x64\.dll\)/ : /\(libssl\.so\.3 and libcrypto\.so\.3\)/);
  assert.ok(RuntimeError);
});

test("a TLS shutdown the peer never answers ends after sslShutdownTimeout: connectionLost(TimeoutError), as asyncio's", () =>
  withLoop(async (loop) => {
    // The server stops reading once connected, so the client's close_notify is never answered.
    const server = await loop.runUntilComplete(() =>
      loop.createServer(() => ({
        connectionMade(t: Transport) {
          (t as ReadTransport).pauseReading();
        },
      }), "127.0.0.1", 0, { ssl: serverContext() })
    );
    const port = (server.sockets[0].getsockname() as [string, number])[1];
    const lost = loop.createFuture<Error | null>();
    const [transport] = await loop.runUntilComplete(() =>
      loop.createConnection(() => ({
        connectionLost(exc: Error | null) {
          lost.setResult(exc);
        },
      }), "127.0.0.1", port, { ssl: clientContext(), serverHostname: "localhost", sslShutdownTimeout: 0.3 })
    );
    transport.close();
    const exc = await loop.runUntilComplete(lost);
    assert.ok(exc instanceof TimeoutError, `connectionLost(${exc})`);
    server.close();
    server.abortClients();
    await loop.runUntilComplete(() => server.waitClosed());
  }));
