/**
 * Shared pieces of the port of CPython's event-loop tests (events, base_events, sock_lowlevel,
 * server, unix_events): the protocols test_events.py defines (MyProto & co, with their state
 * checks), a small HTTP-ish test server like asyncio's test_utils.run_test_server (here a
 * node:net server in this same process: a peer this project did not write), and the
 * run_until / run_briefly helpers. The loop comes from tests/helpers.ts (withLoop), which
 * honours AIOLOOP_SELECTOR and AIOLOOP_LOOP, so each case runs on epoll, poll and io_uring.
 */
import { Buffer } from "node:buffer";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as dgram from "node:dgram";
import * as net from "node:net";
import { tmpdir } from "node:os";
import process from "node:process";
import { threadId } from "node:worker_threads";
import { join } from "node:path";
import { check, libc, O_CLOEXEC } from "../../ffi/libc.ts";
import { stableFdCount, withLoop as helpersWithLoop } from "../helpers.ts";
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type BaseEventLoop, type BaseTransport, type DatagramTransport, type Future, newEventLoop,
  ProactorEventLoop, sleep, type SubprocessTransport, task, type Transport,
} from "../../mod.ts";

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The error thrown by a protocol callback called in the wrong state (asyncio's _assert_state). */
function assertState(state: unknown, expected: unknown[]): void {
  const s = JSON.stringify(state);
  if (!expected.some((e) => JSON.stringify(e) === s)) {
    throw new Error(`state: ${s}, expected: ${JSON.stringify(expected)}`);
  }
}

/** test_events.MyBaseProto: counts bytes, checks the callback order, resolves connected/done. */
export class MyBaseProto {
  transport: Transport | null = null;
  state = "INITIAL";
  nbytes = 0;
  connected: Future<void> | null = null;
  done: Future<void> | null = null;
  constructor(loop?: BaseEventLoop) {
    if (loop) {
      this.connected = loop.createFuture<void>();
      this.done = loop.createFuture<void>();
    }
  }
  connectionMade(transport: Transport): void {
    this.transport = transport;
    assertState(this.state, ["INITIAL"]);
    this.state = "CONNECTED";
    this.connected?.setResult();
  }
  dataReceived(data: Uint8Array): void {
    assertState(this.state, ["CONNECTED"]);
    this.nbytes += data.length;
  }
  eofReceived(): boolean | void {
    assertState(this.state, ["CONNECTED"]);
    this.state = "EOF";
  }
  connectionLost(_exc: Error | null): void {
    assertState(this.state, ["CONNECTED", "EOF"]);
    this.state = "CLOSED";
    this.done?.setResult();
  }
}

/** test_events.MyProto: sends an HTTP request as soon as it is connected. */
export class MyProto extends MyBaseProto {
  override connectionMade(transport: Transport): void {
    super.connectionMade(transport);
    transport.write(enc("GET / HTTP/1.0\r\nHost: example.com\r\n\r\n"));
  }
}

/** test_events.MyDatagramProto. */
export class MyDatagramProto {
  transport!: DatagramTransport;
  state = "INITIAL";
  nbytes = 0;
  done: Future<void> | null = null;
  constructor(loop?: BaseEventLoop) {
    if (loop) this.done = loop.createFuture<void>();
  }
  connectionMade(transport: DatagramTransport): void {
    this.transport = transport;
    assertState(this.state, ["INITIAL"]);
    this.state = "INITIALIZED";
  }
  datagramReceived(data: Uint8Array, _addr: unknown): void {
    assertState(this.state, ["INITIALIZED"]);
    this.nbytes += data.length;
  }
  errorReceived(_exc: Error): void {
    assertState(this.state, ["INITIALIZED"]);
  }
  connectionLost(_exc: Error | null): void {
    assertState(this.state, ["INITIALIZED"]);
    this.state = "CLOSED";
    this.done?.setResult();
  }
}

/** test_events.MyReadPipeProto: the state is the list of states passed through. */
export class MyReadPipeProto {
  state: string[] = ["INITIAL"];
  nbytes = 0;
  transport: BaseTransport | null = null;
  done: Future<void> | null = null;
  constructor(loop?: BaseEventLoop) {
    if (loop) this.done = loop.createFuture<void>();
  }
  connectionMade(transport: BaseTransport): void {
    this.transport = transport;
    assertState(this.state, [["INITIAL"]]);
    this.state.push("CONNECTED");
  }
  dataReceived(data: Uint8Array): void {
    assertState(this.state, [["INITIAL", "CONNECTED"]]);
    this.nbytes += data.length;
  }
  eofReceived(): void {
    assertState(this.state, [["INITIAL", "CONNECTED"]]);
    this.state.push("EOF");
  }
  connectionLost(_exc: Error | null): void {
    if (!this.state.includes("EOF")) this.state.push("EOF"); // a missed EOF is allowed
    assertState(this.state, [["INITIAL", "CONNECTED", "EOF"]]);
    this.state.push("CLOSED");
    this.done?.setResult();
  }
}

/** test_events.MyWritePipeProto. */
export class MyWritePipeProto {
  state = "INITIAL";
  transport: BaseTransport | null = null;
  done: Future<void> | null = null;
  constructor(loop?: BaseEventLoop) {
    if (loop) this.done = loop.createFuture<void>();
  }
  connectionMade(transport: BaseTransport): void {
    this.transport = transport;
    assertState(this.state, ["INITIAL"]);
    this.state = "CONNECTED";
  }
  connectionLost(_exc: Error | null): void {
    assertState(this.state, ["CONNECTED"]);
    this.state = "CLOSED";
    this.done?.setResult();
  }
}

/** test_events.MySubprocessProtocol; gotData[fd] is a callback hook instead of asyncio.Event. */
export class MySubprocessProtocol {
  state = "INITIAL";
  transport: SubprocessTransport | null = null;
  readonly connected: Future<void>;
  readonly completed: Future<void>;
  readonly disconnects: Future<Error | null>[];
  data: Record<number, string> = { 1: "", 2: "" };
  returncode: number | null = null;
  constructor(loop: BaseEventLoop) {
    this.connected = loop.createFuture<void>();
    this.completed = loop.createFuture<void>();
    this.disconnects = [0, 1, 2].map(() => loop.createFuture<Error | null>());
  }
  connectionMade(transport: SubprocessTransport): void {
    this.transport = transport;
    assertState(this.state, ["INITIAL"]);
    this.state = "CONNECTED";
    this.connected.setResult();
  }
  connectionLost(_exc: Error | null): void {
    assertState(this.state, ["CONNECTED"]);
    this.state = "CLOSED";
    this.completed.setResult();
  }
  pipeDataReceived(fd: number, data: Uint8Array): void {
    assertState(this.state, ["CONNECTED"]);
    this.data[fd] += dec(data);
  }
  pipeConnectionLost(fd: number, exc: Error | null): void {
    assertState(this.state, ["CONNECTED"]);
    if (exc) this.disconnects[fd].setException(exc);
    else this.disconnects[fd].setResult(exc);
  }
  processExited(): void {
    assertState(this.state, ["CONNECTED"]);
    this.returncode = this.transport!.getReturncode();
  }
}

/**
 * Run the loop in 1 ms steps until `pred()` holds (asyncio test_utils.run_until); an Error
 * naming `what` after `timeout` seconds.
 */
export async function runUntil(
  loop: BaseEventLoop,
  pred: () => unknown,
  timeout = 30,
  what = "condition",
): Promise<void> {
  const deadline = performance.now() + timeout * 1000;
  while (!pred()) {
    if (performance.now() > deadline) throw new Error(`runUntil: timed out waiting for ${what}`);
    await loop.runUntilComplete(() => sleep(0.001));
  }
}

/**
 * Run the loop briefly, as CPython's test_utils.run_briefly: a task with an empty coroutine;
 * its done-callback stops the loop one iteration later. So what was queued before runs, and
 * what that queues, and no more.
 */
export function runBriefly(loop: BaseEventLoop): Promise<void> {
  return loop.runUntilComplete(async () => {});
}

/** A running test server: its address, and close(). */
export interface TestServer {
  /** [host, port] for TCP, the socket path for Unix. */
  address: [string, number] | string;
  close(): Promise<void>;
}

/**
 * asyncio test_utils.run_test_server / run_test_unix_server: answers each request (whatever
 * arrives first) with a short HTTP/1.0 response, then closes the connection. A node:net
 * server, so it runs on the host runtime's own event loop, which aioloop's loop yields to.
 */
export async function runTestServer(unix = false): Promise<TestServer> {
  const conns = new Set<net.Socket>();
  const server = net.createServer((s) => {
    conns.add(s);
    s.on("close", () => conns.delete(s));
    s.on("error", () => {});
    serveHttp(s);
  });
  let dir: string | undefined;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if (unix) {
      dir = mkdtempSync(join(tmpdir(), "aioloop-cpy-"));
      server.listen(join(dir, "sock"), resolve);
    } else {
      server.listen(0, "127.0.0.1", resolve);
    }
  });
  const a = server.address();
  const address: [string, number] | string = typeof a === "string"
    ? a
    : [a!.address, a!.port];
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of conns) s.destroy(); // a client the test left open must not hang close
        server.close(() => {
          if (dir) rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}

/**
 * One request on `s`: "POST /loop" with a Content-Length echoes its body back after the
 * response headers (as asyncio's test server's /loop); anything else gets "Test message".
 */
function serveHttp(s: net.Socket): void {
  let head = Buffer.alloc(0);
  let bodyLeft = -1;
  s.on("data", (d: Buffer) => {
    if (bodyLeft < 0) {
      head = Buffer.concat([head, d]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const headers = head.subarray(0, end).toString("latin1");
      const body = head.subarray(end + 4);
      const len = /^POST \/loop /.test(headers) ? /Content-Length: (\d+)/i.exec(headers) : null;
      if (len === null) {
        s.end("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nTest message");
        bodyLeft = 0;
        return;
      }
      bodyLeft = Number(len[1]);
      s.write(`HTTP/1.0 200 OK\r\nContent-Length: ${bodyLeft}\r\n\r\n`);
      d = body;
    }
    if (bodyLeft === 0) return;
    const part = d.subarray(0, bodyLeft);
    bodyLeft -= part.length;
    s.write(part);
    if (bodyLeft === 0) s.end();
  });
}

/** asyncio test_utils.run_udp_echo_server: a node:dgram socket on 127.0.0.1 echoing datagrams. */
export async function runUdpEchoServer(): Promise<{ address: [string, number]; close(): Promise<void> }> {
  const sock = dgram.createSocket("udp4");
  sock.on("message", (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
  await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", resolve));
  const a = sock.address();
  return {
    address: [a.address, a.port],
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}

/** A fresh path for a Unix socket in its own temporary directory, and how to remove it. */
export function unixSocketPath(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "aioloop-cpy-"));
  return { path: join(dir, "sock"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** os.pipe(): [readFd, writeFd], close-on-exec. */
export function osPipe(): [number, number] {
  const fds = new Int32Array(2);
  check(libc.pipe2(fds, O_CLOEXEC), "pipe2");
  return [fds[0], fds[1]];
}

/** os.write(fd, data) for a pipe or pty end; returns the count written. */
export function osWrite(fd: number, data: Uint8Array): number {
  return check(libc.write(fd, data, data.length), "write");
}

/** os.read(fd, n). */
export function osRead(fd: number, n: number): Uint8Array {
  const buf = new Uint8Array(n);
  const got = check(libc.read(fd, buf, n), "read");
  return buf.subarray(0, got);
}

/** os.close(fd). */
export function osClose(fd: number): void {
  check(libc.close(fd), "close");
}

/** Whether `promise` settles within `ms` host milliseconds (for a case that must not hang). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** This module's URL, for task(utilsUrl, "argAndThread") in the executor cases. */
export const utilsUrl: string = import.meta.url;

/** Run on an executor Worker: `[arg, threadId]`, so a test can see it ran off the loop's thread. */
export function argAndThread(arg: string): [string, number] {
  return [arg, threadId];
}

let proactorDefault: boolean | undefined;

/**
 * True when newEventLoop() makes the completion-based loop (AIOLOOP_LOOP=proactor: io_uring),
 * for the few cases whose known defect is specific to one loop family.
 */
export function onProactor(): boolean {
  if (proactorDefault === undefined) {
    const loop = newEventLoop();
    proactorDefault = loop instanceof ProactorEventLoop;
    loop.close();
  }
  return proactorDefault;
}

/** Paths of the test certificates made by testCerts() (asyncio's test_utils key files). */
export interface TestCerts {
  /** The signing CA (SIGNING_CA). */
  ca: string;
  /** A leaf for DNS:localhost only, signed by the CA (SIGNED_CERTFILE); key in signedKey. */
  signed: string;
  signedKey: string;
  /** A self-signed certificate for 127.0.0.1 (ONLYCERT), key in onlyKey. */
  only: string;
  onlyKey: string;
}

let certs: TestCerts | undefined;

/**
 * Make (once per process) a CA, a leaf it signs for DNS:localhost only, and a self-signed
 * certificate, with the openssl command, in a temporary directory removed at exit.
 */
export function testCerts(): TestCerts {
  if (certs) return certs;
  const dir = mkdtempSync(join(tmpdir(), "aioloop-cpy-certs-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => {
    const r = spawnSync("openssl", args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  writeFileSync(f("ext.cnf"), [
    "[req]", "distinguished_name = dn", "[dn]",
    "[ca]", "basicConstraints = critical, CA:true", "keyUsage = critical, keyCertSign, cRLSign",
    "[leaf]", "basicConstraints = CA:false", "subjectAltName = DNS:localhost",
    "[only]", "basicConstraints = CA:false", "subjectAltName = IP:127.0.0.1",
  ].join("\n") + "\n");
  openssl("req", "-x509", ...ec, "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "30",
    "-subj", "/CN=aioloop cpython-port CA", "-config", f("ext.cnf"), "-extensions", "ca");
  openssl("req", "-new", ...ec, "-keyout", f("signed.key"), "-out", f("signed.csr"),
    "-subj", "/CN=localhost", "-config", f("ext.cnf"));
  openssl("x509", "-req", "-in", f("signed.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"),
    "-CAcreateserial", "-out", f("signed.pem"), "-days", "30", "-extfile", f("ext.cnf"),
    "-extensions", "leaf");
  openssl("req", "-x509", ...ec, "-keyout", f("only.key"), "-out", f("only.pem"), "-days", "30",
    "-subj", "/CN=127.0.0.1", "-config", f("ext.cnf"), "-extensions", "only");
  certs = {
    ca: f("ca.pem"), signed: f("signed.pem"), signedKey: f("signed.key"),
    only: f("only.pem"), onlyKey: f("only.key"),
  };
  return certs;
}

/**
 * The host keeps some fds for good once first used: the first Worker (the executor; the
 * resolver) costs Deno 8 and Bun 2 that stay after the loop closed and the Worker ended (the
 * same count however many loops and Workers follow), Bun's first spawnSync 3. Use each once
 * before the first count.
 */
async function warmUpOnce(): Promise<void> {
  spawnSync("true"); // Bun's first spawnSync keeps an epoll fd and an eventfd (testCerts uses it)
  const loop = newEventLoop();
  try {
    await loop.runUntilComplete(loop.runInExecutor(null, task(utilsUrl, "argAndThread"), "warm-up"));
    await loop.runUntilComplete(loop.getaddrinfo("localhost", 0));
  } finally {
    loop.close();
  }
}

/**
 * Fd accounting for a ported file: call once at the top (it registers a first case that takes
 * the count) and call the returned function at the bottom (it registers a last case: every
 * loop, socket, pipe and child the cases made is closed, so the count is back).
 */
export function fdLeakCheck(): () => void {
  let baseline = -1;
  test("fd count before this file's cases", async () => {
    await warmUpOnce();
    baseline = await stableFdCount();
  });
  return () =>
    test("no fd left open by this file's cases", async () => {
      // A leak raises the count; earlier files' children may still be releasing theirs.
      const now = await stableFdCount();
      assert.ok(now <= baseline, `${now - baseline} fd(s) more than before this file's cases`);
    });
}

/**
 * tests/helpers.ts withLoop, plus asyncio's tearDown: one short run of the loop before it is
 * closed, so transports a case closed at its end get to close their sockets (their close
 * completes in a loop callback, which close() would otherwise drop).
 */
export function withLoop<T>(body: (loop: BaseEventLoop) => Promise<T> | T): Promise<T> {
  return helpersWithLoop(async (loop) => {
    const result = await body(loop);
    if (!loop.isClosed() && !loop.isRunning()) await runBriefly(loop);
    return result;
  });
}
