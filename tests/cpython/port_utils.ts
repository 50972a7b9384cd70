/**
 * Helpers for the ported CPython test modules of futures, tasks, wait_for, streams,
 * subprocesses and TLS: what CPython's test_utils offers those tests (run_briefly, exceptions
 * reported at garbage collection, a self-signed certificate, an HTTP server and blocking TLS
 * peers in a Python child process), on top of tests/helpers.ts.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { collectGarbage } from "../../ffi/runtime.ts";
import {
  type BaseEventLoop, CERT_NONE, type ExceptionContext, Future, sleep, SSLContext,
} from "../../mod.ts";
import { captureExceptions } from "../helpers.ts";
import { PYTHON } from "../net_helpers.ts";

/**
 * Call `make(loop)` (which should leave only garbage behind), then collect garbage and turn the
 * loop until the exception handler saw something or `rounds` passed; returns what it saw.
 */
export async function reportsAfterGc(
  loop: BaseEventLoop,
  make: (loop: BaseEventLoop) => void,
  rounds = 20,
): Promise<ExceptionContext[]> {
  const seen = captureExceptions(loop);
  await loop.runUntilComplete(async () => {
    make(loop);
    await sleep(0.001);
  });
  for (let i = 0; i < rounds && seen.length === 0; i++) {
    if (!collectGarbage()) throw new Error("this test needs gc (Deno: --v8-flags=--expose-gc)");
    await loop.runUntilComplete(() => sleep(0.005));
  }
  return seen;
}

/** The UTF-8 bytes of `s`. */
export function b(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** `bytes` decoded as UTF-8. */
export function str(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/**
 * Wait until `fut` is done without retrieving its outcome: what `await asyncio.wait([fut])`
 * does in the CPython cases that only need the task finished.
 */
export function waitDone(fut: Future<unknown>): Future<void> {
  const done = new Future<void>(fut.getLoop());
  fut.addDoneCallback(() => {
    if (!done.done()) done.setResult();
  });
  return done;
}

// ---- Certificates (CPython's test_utils ONLYCERT/ONLYKEY and dummy_ssl_context) ---------------

let certDir: string | undefined;

/**
 * A self-signed certificate for localhost/127.0.0.1 and its key, made once per process by the
 * openssl CLI in a temp dir (removed at exit): [certFile, keyFile].
 */
function selfSignedCert(): [string, string] {
  if (certDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "aioloop-cpython-tls-"));
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "30",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ], { stdio: ["ignore", "ignore", "pipe"] });
    certDir = dir;
  }
  return [join(certDir, "cert.pem"), join(certDir, "key.pem")];
}

/** A server context with selfSignedCert() (CPython's test_utils.simple_server_sslcontext). */
export function serverSslContext(): SSLContext {
  const ctx = new SSLContext("server");
  ctx.loadCertChain(...selfSignedCert());
  return ctx;
}

/** A client context that checks nothing (CPython's test_utils.dummy_ssl_context). */
export function dummySslContext(): SSLContext {
  const ctx = new SSLContext("client");
  ctx.checkHostname = false;
  ctx.verifyMode = CERT_NONE;
  return ctx;
}

// ---- An HTTP peer in another process (CPython's test_utils.run_test_server) -------------------

// As CPython's SSLWSGIServer, a TLS connection is closed without close_notify (no unwrap()).
const HTTP_PEER = String.raw`
import socket, ssl, sys, threading
kind, cert, key = sys.argv[1], sys.argv[2], sys.argv[3]
if kind.startswith("unix:"):
    srv = socket.socket(socket.AF_UNIX); srv.bind(kind[5:]); addr = kind[5:]
else:
    srv = socket.socket(); srv.bind(("127.0.0.1", 0)); addr = srv.getsockname()[1]
srv.listen(16)
ctx = None
if cert != "-":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(cert, key)
def serve(conn):
    try:
        if ctx: conn = ctx.wrap_socket(conn, server_side=True)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk: return
            data += chunk
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nTest message")
    except Exception:
        pass
    finally:
        conn.close()
def accept():
    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
threading.Thread(target=accept, daemon=True).start()
print("READY", addr, flush=True)
sys.stdin.read()
`;

/** A running HTTP peer: its address for openConnection / openUnixConnection, and stop(). */
export interface HttpPeer {
  host: string;
  port: number;
  /** The Unix socket path, for a Unix peer. */
  path: string;
  stop(): Promise<void>;
}

/**
 * Start a Python HTTP/1.0 server in a child process answering every request with "Test
 * message", over TCP on 127.0.0.1 or on the Unix socket `unixPath`, with TLS if `tls`.
 */
export function startHttpPeer(options: { unixPath?: string; tls?: boolean } = {}): Promise<HttpPeer> {
  const [cert, key] = options.tls ? selfSignedCert() : ["-", "-"];
  const kind = options.unixPath ? `unix:${options.unixPath}` : "tcp";
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ["-c", HTTP_PEER, kind, cert, key], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /READY (\S+)/.exec(out);
      if (!m) return;
      resolve({
        host: "127.0.0.1",
        port: options.unixPath ? 0 : Number(m[1]),
        path: options.unixPath ?? "",
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.on("exit", () => done());
            child.stdin!.end();
          }),
      });
    });
    child.on("exit", (code) => reject(new Error(`HTTP peer exited early (${code})`)));
  });
}

/** A fresh path for a Unix socket in the temp dir. */
export function unixSocketPath(): string {
  return join(tmpdir(), `aioloop-cpy-${process.pid}-${Math.random().toString(36).slice(2)}.sock`);
}

// ---- Blocking Python peers (CPython test_ssl's TestThreadedServer / tcp_server) ---------------

const PY_SERVER = String.raw`
import socket, ssl, sys, threading, time
CERT, KEY, BACKLOG, CLIENTS = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def server_ctx():
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain(CERT, KEY); return c
def recv_all(sock, n):
    buf = b""
    while len(buf) < n:
        data = sock.recv(n - len(buf))
        if not data: break
        buf += data
    return buf
def expect(cond, what):
    if not cond: raise AssertionError(what)
def say(*words):
    print(*words, flush=True)
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(BACKLOG)
exec(sys.argv[5])
def run(conn):
    conn.settimeout(60)
    try:
        serve(conn)
        say("SERVED")
    except Exception as e:
        say("ERROR", type(e).__name__, str(e).replace("\n", " "))
    finally:
        conn.close()
def accept():
    threads = []
    for _ in range(CLIENTS):
        c, _ = srv.accept()
        t = threading.Thread(target=run, args=(c,), daemon=True); t.start(); threads.append(t)
    for t in threads: t.join()
    say("DONE")
threading.Thread(target=accept, daemon=True).start()
say("READY", srv.getsockname()[1])
sys.stdin.read()
`;

/** A Python server in a child process: its port, what it printed, and stop(). */
export interface PyServer {
  port: number;
  /** Lines printed so far: "SERVED" per connection served, "ERROR <type> <msg>", "DONE". */
  lines(): string[];
  /** Resolves once a line matching `re` was printed (rejects after `timeout` seconds). */
  waitFor(re: RegExp, timeout?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Start a blocking Python TCP server on 127.0.0.1 serving `clients` connections, each in its
 * own thread, with `serve(sock)` defined by `code` (which may use server_ctx(), recv_all(),
 * expect() and say(); CERT/KEY are selfSignedCert()).
 */
export function startPyServer(
  code: string,
  options: { clients?: number; backlog?: number } = {},
): Promise<PyServer> {
  const [cert, key] = selfSignedCert();
  const args = [cert, key, String(options.backlog ?? 1), String(options.clients ?? 1), code];
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ["-c", PY_SERVER, ...args], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    const waiters: (() => void)[] = [];
    child.stdout!.on("data", (d) => {
      out += d;
      for (const w of waiters.splice(0)) w();
      const m = /READY (\d+)/.exec(out);
      if (!m) return;
      const lines = () => out.split("\n").filter((l) => l !== "" && !l.startsWith("READY"));
      resolve({
        port: Number(m[1]),
        lines,
        waitFor: (re, timeout = 30) =>
          new Promise((ok, fail) => {
            const end = Date.now() + timeout * 1000;
            const check = () => {
              const hit = lines().find((l) => re.test(l));
              if (hit !== undefined) return ok(hit);
              if (Date.now() > end || child.exitCode !== null) {
                return fail(new Error(`no line ${re} from the Python server: ${lines()}`));
              }
              waiters.push(check);
              setTimeout(check, 50);
            };
            check();
          }),
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.on("exit", () => done());
            child.stdin!.end();
          }),
      });
    });
    child.on("exit", (code) => reject(new Error(`Python server exited early (${code}): ${out}`)));
  });
}
