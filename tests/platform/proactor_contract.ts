/**
 * The Proactor contract (loop/proactor/proactor.ts: the rules in its module comment and each method) as
 * cases run against any implementation through the public interface only, with real sockets
 * and pipes: io_uring (tests/platform/proactor_contract_test.ts) and a JS model, together with models
 * that break one rule each, to show the cases catch it. The cases are a list, not only
 * registered tests, so a test can run them against a proactor that must fail.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { LINUX_ERRNO } from "../../ffi/errno_linux.ts";
import { closeFd, libc, setNonBlocking } from "../../ffi/libc.ts";
import { POLLIN, POLLOUT } from "../../ffi/poll.ts";
import { collectGarbage, isWindows } from "../../ffi/runtime.ts";
import { decodeSockaddr, encodeSockaddr } from "../../ffi/sockaddr.ts";
import type { CompletionTarget, Proactor } from "../../loop/proactor/proactor.ts";
import {
  AF_INET, NotImplementedError, OSError, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_STREAM, Socket, socketpair,
} from "../../mod.ts";
import { fdCountSettled, hostDelay, stableFdCount } from "../helpers.ts";
import { pattern, sha256 } from "../net_helpers.ts";

const { ETIME, ECANCELED, ECONNREFUSED, ENOTSOCK, EBADF } = LINUX_ERRNO;
const enc = new TextEncoder(), dec = new TextDecoder();

/** One completion as a target saw it (its buffer copied: it is valid only during the call). */
export interface Completion {
  tag: number;
  res: number;
  more: boolean;
  op: number;
  buffer: Uint8Array | undefined;
  addressLength: number;
  /** Delivered from inside poll(), as the rules require. */
  fromPoll: boolean;
}

/** What a case gets: the proactor under test and helpers that release what they open. */
export interface Env {
  p: Proactor;
  /** poll() that marks the completions it delivers as coming from poll(). */
  poll(): number;
  /** A target recording its completions. */
  recorder(): Recorder;
  /** A connected non-blocking stream socketpair. */
  pair(): [Socket, Socket];
  /** A socket, non-blocking, closed after the case. */
  socket(type: number): Socket;
  /** poll(), parking between polls, until `cond` holds (fails after `ms`). */
  until(cond: () => boolean, what: string, ms?: number): Promise<void>;
  /** Keep polling for `ms`: for "nothing more arrives". */
  idle(ms: number): Promise<void>;
}

/** A CompletionTarget that records each completion. */
export class Recorder implements CompletionTarget {
  readonly done: Completion[] = [];
  constructor(private readonly env: { p: Proactor; polling: boolean }) {}
  _ioComplete(tag: number, res: number, more: boolean, op: number, buffer: Uint8Array | undefined): void {
    this.done.push({
      tag, res, more, op, buffer: buffer?.slice(), addressLength: this.env.p.completionAddressLength,
      fromPoll: this.env.polling,
    });
  }
  /** The completions of `op` (ids are reused once an operation completed: one recorder per
   * operation where that matters), checking the rules every operation keeps: delivered from poll(),
   * at most one final one, and nothing after it. */
  of(op: number): Completion[] {
    const cs = this.done.filter((c) => c.op === op);
    cs.forEach((c, i) => {
      assert.ok(c.fromPoll, `op ${op}: completion delivered outside poll()`);
      if (!c.more) assert.equal(i, cs.length - 1, `op ${op}: completion after its final one`);
    });
    return cs;
  }
  /** The one completion of single-shot `op`. */
  only(op: number): Completion {
    const cs = this.of(op);
    assert.equal(cs.length, 1, `op ${op}: ${cs.length} completions`);
    assert.equal(cs[0].more, false);
    return cs[0];
  }
}

/** A contract case: a title and a body run with a fresh proactor. */
export interface ProactorCase {
  title: string;
  body: (env: Env) => Promise<void>;
  /** Why the case cannot run on Windows (it needs POSIX pipes), if so. */
  posixOnly?: string;
}

/** IOCP's pipes are overlapped named pipes, which these cases do not make. */
const POSIX_PIPES = "needs POSIX pipes (IOCP's overlapped pipes: tests/windows/proactor_cases.ts)";

function loopbackAddress(sock: Socket): [Uint8Array, number] {
  const buf = new Uint8Array(new ArrayBuffer(128));
  return [buf, encodeSockaddr(AF_INET, sock.getsockname() as [string, number], buf, "test")];
}

function listener(env: Env): Socket {
  const s = env.socket(SOCK_STREAM);
  s.bind(["127.0.0.1", 0]);
  s.listen(16);
  return s;
}

/** Read everything a non-blocking socket has now (empty if nothing). */
function drain(s: Socket): Uint8Array[] {
  const got: Uint8Array[] = [];
  for (;;) {
    try {
      const c = s.recv(1 << 16);
      if (c.byteLength === 0) return got;
      got.push(c);
    } catch {
      return got;
    }
  }
}

/** The cases of the contract. */
export const proactorCases: ProactorCase[] = [
  {
    title: "recv: one completion with the byte count and tag, the bytes in the buffer, delivered only by poll()",
    async body(env) {
      const [a, b] = env.pair();
      const r = env.recorder(), buf = new Uint8Array(16);
      const op = env.p.recv(a.fileno(), buf, 16, r, 7);
      assert.ok(Number.isInteger(op) && op > 0, `operation id ${op}`);
      assert.equal(env.p.hasWork(), true);
      b.send(enc.encode("hello"));
      for (let i = 0; i < 10; i++) {
        env.p.flush();
        await env.p.park(5);
      }
      assert.equal(r.done.length, 0, "a completion arrived without poll()");
      await env.until(() => r.done.length > 0, "the receive");
      const c = r.only(op);
      assert.deepEqual([c.tag, c.res], [7, 5]);
      assert.equal(dec.decode(buf.subarray(0, 5)), "hello");
      await env.idle(20);
      r.only(op);
      assert.equal(env.p.hasWork(), false, "nothing queued or in flight after the completion");
    },
  },
  {
    title: "recv at end of stream completes with 0; read/write on a pipe, and read at EOF",
    posixOnly: POSIX_PIPES,
    async body(env) {
      const [a, b] = env.pair();
      const r = env.recorder();
      const op = env.p.recv(a.fileno(), new Uint8Array(8), 8, r, 1);
      b.shutdown(1);
      await env.until(() => r.done.length > 0, "EOF");
      assert.equal(r.only(op).res, 0);
      const fds = new Int32Array(2);
      assert.equal(libc.pipe(new Uint8Array(fds.buffer)), 0);
      try {
        setNonBlocking(fds[0], true);
        setNonBlocking(fds[1], true);
        const w = env.recorder(), rd = env.recorder(), rdEof = env.recorder(), into = new Uint8Array(32);
        const readOp = env.p.read(fds[0], into, 32, rd, 2);
        const writeOp = env.p.write(fds[1], enc.encode("xxpipe dataxx"), 2, 9, w, 3);
        await env.until(() => w.done.length > 0 && rd.done.length > 0, "pipe write and read");
        assert.equal(w.only(writeOp).res, 9);
        const got = rd.only(readOp);
        assert.equal(dec.decode(into.subarray(0, got.res)), "pipe data");
        closeFd(fds[1]);
        fds[1] = -1;
        const eof = env.p.read(fds[0], into, 32, rdEof, 4);
        await env.until(() => rdEof.of(eof).length > 0, "pipe EOF");
        assert.equal(rdEof.only(eof).res, 0);
      } finally {
        for (const fd of fds) if (fd >= 0) closeFd(fd);
      }
    },
  },
  {
    title: "errors come back as -errno completions: recv on a pipe (ENOTSOCK), read on an fd that is not open (EBADF)",
    posixOnly: POSIX_PIPES,
    async body(env) {
      const fds = new Int32Array(2);
      assert.equal(libc.pipe(new Uint8Array(fds.buffer)), 0);
      closeFd(fds[1]);
      const r1 = env.recorder(), r2 = env.recorder();
      let notSock = 0;
      try {
        notSock = env.p.recv(fds[0], new Uint8Array(8), 8, r1, 1);
        await env.until(() => r1.done.length > 0, "the failed receive");
      } finally {
        closeFd(fds[0]);
      }
      assert.equal(r1.only(notSock).res, -ENOTSOCK);
      const notOpen = 1 << 30; // above any fd limit: never open, unlike a just-closed number
      if (env.p.associateHandle) {
        assert.throws(() => env.p.associateHandle!(notOpen), OSError);
        return;
      }
      const badFd = env.p.read(notOpen, new Uint8Array(8), 8, r2, 2);
      await env.until(() => r2.done.length > 0, "the failed read");
      assert.equal(r2.only(badFd).res, -EBADF);
    },
  },
  {
    title: "send: batched until flush(), then the bytes arrive and it completes with the count",
    async body(env) {
      const [a, b] = env.pair();
      const r = env.recorder();
      const op = env.p.send(a.fileno(), enc.encode("--batched--"), 2, 7, 0, r, 9);
      await hostDelay(10);
      // A proactor without a submission queue (IOCP) says so, and is exempt from batching.
      if (!env.p.submitsAtOnce) assert.deepEqual(drain(b), [], "a submission reached the kernel before flush/poll/park");
      env.p.flush();
      let got = "";
      for (let i = 0; i < 200 && got.length < 7; i++) {
        got += drain(b).map((c) => dec.decode(c)).join("");
        if (got.length < 7) await hostDelay(5);
      }
      assert.equal(got, "batched");
      await env.until(() => r.done.length > 0, "the send's completion");
      assert.deepEqual([r.only(op).tag, r.only(op).res], [9, 7]);
    },
  },
  {
    title: "a 4 MiB send whose buffer the caller dropped stays referenced until it completes: every byte arrives",
    async body(env) {
      const [a, b] = env.pair();
      let r = env.recorder();
      const data = pattern(4 << 20), digest = sha256(data);
      let sent = 0;
      const got: Uint8Array[] = [];
      let received = 0;
      // Each send may be partial: submit the rest from a fresh copy the test does not keep.
      let op = env.p.send(a.fileno(), data.slice(), 0, data.length, 0, r, 0);
      for (let i = 0; i < 2000 && received < data.length; i++) {
        collectGarbage();
        env.poll();
        for (const c of drain(b)) {
          got.push(c);
          received += c.byteLength;
        }
        const cs = r.of(op);
        if (cs.length > 0) {
          assert.ok(cs[0].res > 0, `send: ${cs[0].res}`);
          sent += cs[0].res;
          r = env.recorder(); // a fresh one per operation: ids are reused once completed
          if (sent < data.length) op = env.p.send(a.fileno(), data.slice(sent), 0, data.length - sent, 0, r, 0);
        }
        await env.p.park(2);
      }
      assert.equal(received, data.length);
      assert.equal(sha256(...got), digest);
    },
  },
  {
    title: "a receive's buffer is kept alive by the proactor until its completion, across collections",
    async body(env) {
      const [a, b] = env.pair();
      const r = env.recorder();
      let finalized = false;
      const registry = new FinalizationRegistry(() => (finalized = true));
      const op = (() => {
        const buf = new Uint8Array(64); // referenced only by the proactor from here on
        registry.register(buf, "recv buffer");
        return env.p.recv(a.fileno(), buf, 64, r, 0);
      })();
      env.p.flush();
      for (let i = 0; i < 5; i++) {
        collectGarbage();
        await hostDelay(2);
      }
      assert.equal(finalized, false, "the buffer of an operation in flight was collected");
      b.send(enc.encode("late"));
      await env.until(() => r.done.length > 0, "the receive");
      assert.equal(r.only(op).res, 4);
    },
  },
  {
    title: "recvMultishot (where supported): the bytes come in completions marked `more` until EOF ends it once",
    async body(env) {
      const [a, b] = env.pair();
      const r = env.recorder();
      const op = env.p.recvMultishot(a.fileno(), r, 5);
      if (op === 0) return; // this proactor cannot: the caller uses recv()
      let sent = "";
      for (const word of ["one", "two", "three"]) {
        b.send(enc.encode(word));
        sent += word;
        const bytes = () => r.done.reduce((n, c) => n + Math.max(0, c.res), 0);
        await env.until(() => bytes() >= sent.length, `multishot bytes of "${word}"`);
      }
      const cs = r.of(op);
      for (const c of cs) {
        assert.equal(c.more, true);
        assert.equal(c.tag, 5);
        assert.ok(c.buffer !== undefined && c.buffer.byteLength >= c.res);
      }
      assert.equal(cs.map((c) => dec.decode(c.buffer!.subarray(0, c.res))).join(""), sent);
      b.shutdown(1);
      await env.until(() => r.of(op).some((c) => !c.more), "the final completion");
      assert.equal(r.of(op).at(-1)!.res, 0);
      await env.idle(20);
      r.of(op);
    },
  },
  {
    title: "UDP sendTo/recvFrom: the datagram, its sender's address in the completion, and sendTo on a connected socket",
    async body(env) {
      const u1 = env.socket(SOCK_DGRAM), u2 = env.socket(SOCK_DGRAM);
      u1.bind(["127.0.0.1", 0]);
      u2.bind(["127.0.0.1", 0]);
      const rr = env.recorder(), sr = env.recorder(), buf = new Uint8Array(100);
      const recvOp = env.p.recvFrom(u2.fileno(), buf, 100, rr, 1);
      const [to, toLen] = loopbackAddress(u2);
      const sendOp = env.p.sendTo(u1.fileno(), enc.encode("dgram"), 5, to, toLen, sr, 2);
      await env.until(() => rr.done.length > 0 && sr.done.length > 0, "the datagram");
      assert.equal(sr.only(sendOp).res, 5);
      const c = rr.only(recvOp);
      assert.equal(c.res, 5);
      assert.equal(dec.decode(buf.subarray(0, 5)), "dgram");
      assert.ok(c.addressLength > 0);
      assert.deepEqual(decodeSockaddr(c.buffer!, c.addressLength), u1.getsockname());
      u1.connect(u2.getsockname() as [string, number]);
      const rr2 = env.recorder(), sr2 = env.recorder();
      const again = env.p.recvFrom(u2.fileno(), buf, 100, rr2, 3);
      const connected = env.p.sendTo(u1.fileno(), enc.encode("conn"), 4, null, 0, sr2, 4);
      await env.until(() => rr2.done.length > 0 && sr2.done.length > 0, "the connected datagram");
      assert.equal(sr2.only(connected).res, 4);
      assert.equal(rr2.only(again).res, 4);
    },
  },
  {
    title: "accept: the new fd, and the peer's address in the completion",
    async body(env) {
      const srv = listener(env);
      const r = env.recorder();
      const op = env.p.accept(srv.fileno(), SOCK_NONBLOCK | SOCK_CLOEXEC, false, r, 6);
      const cli = env.socket(SOCK_STREAM);
      cli.setBlocking(true);
      cli.connect(srv.getsockname() as [string, number]);
      await env.until(() => r.done.length > 0, "the accept");
      const c = r.only(op);
      assert.ok(c.res >= 0, `accept: ${c.res}`);
      const conn = srv._adopt(c.res); // a Socket, so that this runs on Winsock too
      try {
        assert.deepEqual(decodeSockaddr(c.buffer!, c.addressLength), cli.getsockname());
        assert.equal(conn.send(enc.encode("hi")), 2);
        cli.setBlocking(false);
        await env.until(() => drain(cli).length > 0, "bytes over the accepted fd");
      } finally {
        conn.close();
      }
    },
  },
  {
    title: "multishot accept: one submission accepts each connection (more) until cancelled, which ends it once",
    async body(env) {
      const srv = listener(env);
      const r = env.recorder();
      const op = env.p.accept(srv.fileno(), SOCK_NONBLOCK | SOCK_CLOEXEC, true, r, 8);
      const conns: Socket[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          const cli = env.socket(SOCK_STREAM);
          cli.setBlocking(true);
          cli.connect(srv.getsockname() as [string, number]);
          await env.until(() => r.done.length > i, `connection ${i}`);
        }
        for (const c of r.of(op)) {
          assert.equal(c.more, true);
          assert.ok(c.res >= 0);
          conns.push(srv._adopt(c.res));
        }
        assert.equal(conns.length, 3);
        env.p.cancel(op);
        await env.until(() => r.of(op).some((c) => !c.more), "the cancelled accept's final completion");
        assert.equal(r.of(op).length, 4);
        assert.equal(r.of(op)[3].res, -ECANCELED);
        await env.idle(20);
        r.of(op);
      } finally {
        for (const conn of conns) conn.close();
      }
    },
  },
  {
    title: "connect: 0 when the listener takes it, -ECONNREFUSED where nobody listens",
    async body(env) {
      const srv = listener(env);
      const r = env.recorder();
      const cli = env.socket(SOCK_STREAM);
      const [addr, len] = loopbackAddress(srv);
      const op = env.p.connect(cli.fileno(), addr, len, r, 1);
      addr.fill(0); // copied at once
      await env.until(() => r.done.length > 0, "the connect");
      assert.equal(r.only(op).res, 0);
      assert.deepEqual(cli.getpeername(), srv.getsockname());
      const closed = env.socket(SOCK_STREAM);
      closed.bind(["127.0.0.1", 0]); // bound, not listening: refused
      const [deadAddr, deadLen] = loopbackAddress(closed);
      const r2 = env.recorder();
      const refused = env.p.connect(env.socket(SOCK_STREAM).fileno(), deadAddr, deadLen, r2, 2);
      await env.until(() => r2.done.length > 0, "the refused connect");
      assert.equal(r2.only(refused).res, -ECONNREFUSED);
    },
  },
  {
    title: "pollAdd: one-shot readiness with the revents where pollsReadiness; NotImplementedError where not",
    async body(env) {
      const [a, b] = env.pair();
      const r = env.recorder();
      if (env.p.pollsReadiness === false) {
        assert.throws(() => env.p.pollAdd(a.fileno(), POLLIN, r, 0), NotImplementedError);
        return;
      }
      const op = env.p.pollAdd(a.fileno(), POLLIN, r, 1);
      await env.idle(20);
      assert.equal(r.done.length, 0, "readable before any data");
      b.send(enc.encode("x"));
      await env.until(() => r.done.length > 0, "POLLIN");
      assert.ok(r.only(op).res & POLLIN);
      await env.idle(20);
      r.only(op); // one-shot, although the byte is still unread
      const rw = env.recorder();
      const w = env.p.pollAdd(a.fileno(), POLLOUT, rw, 2);
      await env.until(() => rw.done.length > 0, "POLLOUT");
      assert.ok(rw.only(w).res & POLLOUT);
    },
  },
  {
    title: "timeout: -ETIME once, not before it is due; cancelled early: -ECANCELED once",
    async body(env) {
      const r = env.recorder();
      const start = performance.now();
      const op = env.p.timeout(0.05, r, 1);
      const never = env.p.timeout(30, r, 2);
      await env.until(() => r.of(op).length > 0, "the timeout");
      assert.ok(performance.now() - start >= 40, `fired after ${performance.now() - start} ms`);
      assert.equal(r.only(op).res, -ETIME);
      assert.equal(r.of(never).length, 0);
      env.p.cancel(never);
      await env.until(() => r.of(never).length > 0, "the cancelled timeout");
      assert.equal(r.only(never).res, -ECANCELED);
      await env.idle(20);
      r.only(never);
    },
  },
  {
    title: "cancel of a pending receive: one -ECANCELED completion, and no byte is swallowed",
    async body(env) {
      const [a, b] = env.pair();
      const r = env.recorder(), buf = new Uint8Array(16);
      const op = env.p.recv(a.fileno(), buf, 16, r, 1);
      await env.idle(10);
      env.p.cancel(op);
      await env.until(() => r.done.length > 0, "the cancelled receive");
      assert.equal(r.only(op).res, -ECANCELED);
      await env.idle(20);
      r.only(op);
      b.send(enc.encode("after"));
      const r2 = env.recorder();
      const next = env.p.recv(a.fileno(), buf, 16, r2, 2);
      await env.until(() => r2.done.length > 0, "the next receive");
      assert.equal(dec.decode(buf.subarray(0, r2.only(next).res)), "after");
    },
  },
  {
    title: "operation ids are positive and distinct while in flight; each of 50 cancelled operations completes once",
    async body(env) {
      const r = env.recorder();
      const ops = Array.from({ length: 50 }, (_, i) => env.p.timeout(60, r, i));
      assert.equal(new Set(ops).size, 50);
      for (const op of ops) assert.ok(Number.isInteger(op) && op > 0);
      await env.idle(5);
      for (const op of ops) env.p.cancel(op);
      await env.until(() => r.done.length >= 50, "50 cancellations");
      await env.idle(20);
      ops.forEach((op, i) => {
        const c = r.only(op);
        assert.deepEqual([c.tag, c.res], [i, -ECANCELED]);
      });
      assert.equal(r.done.length, 50);
      assert.equal(env.p.hasWork(), false);
    },
  },
  {
    title: "a target that throws goes to onError; the other completions of that poll() are still delivered",
    async body(env) {
      const errors: unknown[] = [];
      env.p.onError = (e) => errors.push(e);
      const boom = new Error("target failed");
      const thrower: CompletionTarget = {
        _ioComplete() {
          throw boom;
        },
      };
      const r = env.recorder();
      env.p.timeout(0, thrower, 1);
      const ok = env.p.timeout(0, r, 2);
      await hostDelay(5);
      await env.until(() => r.done.length > 0 && errors.length > 0, "both timeouts");
      assert.deepEqual(errors, [boom]);
      assert.equal(r.only(ok).res, -ETIME);
    },
  },
  {
    title: "park() ends on wakeup() and on a completion; it delivers nothing itself",
    async body(env) {
      const woken = performance.now();
      setTimeout(() => env.p.wakeup(), 20);
      await env.p.park(10_000);
      assert.ok(performance.now() - woken < 5000, "wakeup() did not end park()");
      const [a, b] = env.pair();
      const r = env.recorder();
      const op = env.p.recv(a.fileno(), new Uint8Array(8), 8, r, 1);
      setTimeout(() => b.send(enc.encode("x")), 20);
      const start = performance.now();
      for (let i = 0; i < 50 && r.done.length === 0; i++) {
        await env.p.park(10_000);
        env.poll();
      }
      assert.ok(performance.now() - start < 5000, "a completion did not end park()");
      assert.equal(r.only(op).res, 1);
    },
  },
  {
    title: "close() with operations in flight: nothing is delivered after it, no buffer is written; close is idempotent",
    async body(env) {
      const [a, b] = env.pair();
      const r = env.recorder(), buf = new Uint8Array(16);
      env.p.recv(a.fileno(), buf, 16, r, 1);
      env.p.timeout(0.01, r, 2);
      env.p.send(b.fileno(), new Uint8Array(8 << 20), 0, 8 << 20, 0, r, 3); // a stays unread
      await env.idle(5);
      const before = r.done.length;
      env.p.close();
      env.p.close();
      collectGarbage();
      // The receive is gone: bytes now stay in the socket, the buffer untouched.
      a.setBlocking(false);
      drain(a);
      b.close();
      await hostDelay(20);
      assert.equal(r.done.length, before, "a completion was delivered by or after close()");
      assert.deepEqual([...buf], new Array(16).fill(0), "a cancelled receive wrote its buffer after close()");
    },
  },
];

/** Run one case on a fresh proactor from `create`, releasing the proactor and sockets after it. */
export async function runProactorCase(create: () => Proactor, c: ProactorCase): Promise<void> {
  const p = create();
  const state = { p, polling: false };
  const opened: Socket[] = [];
  const env: Env = {
    p,
    poll() {
      state.polling = true;
      try {
        return p.poll();
      } finally {
        state.polling = false;
      }
    },
    recorder: () => new Recorder(state),
    pair() {
      const pr = socketpair();
      for (const s of pr) s.setBlocking(false);
      opened.push(...pr);
      return pr;
    },
    socket(type) {
      const s = new Socket(AF_INET, type | SOCK_NONBLOCK);
      opened.push(s);
      return s;
    },
    async until(cond, what, ms = 5000) {
      const deadline = performance.now() + ms;
      for (;;) {
        env.poll();
        if (cond()) return;
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(`timed out waiting for ${what}`);
        await p.park(Math.max(1, Math.min(20, Math.ceil(left))));
      }
    },
    async idle(ms) {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        env.poll();
        await p.park(Math.max(1, Math.ceil(end - performance.now())));
      }
      env.poll();
    },
  };
  try {
    await c.body(env);
  } finally {
    p.close();
    for (const s of opened) if (s.fileno() >= 0) s.close();
  }
}

/** Register every case as a test named `[name] …`, skipped with `skip` (a reason) if given. */
export function proactorContract(name: string, create: () => Proactor, skip: string | false = false): void {
  for (const c of proactorCases) {
    test(`[${name}] ${c.title}`, { skip: skip || (isWindows && c.posixOnly) || false }, () => runProactorCase(create, c));
  }
  test(`[${name}] close() releases every fd the proactor opened, also with operations in flight`, { skip }, async () => {
    const [a, b] = socketpair();
    a.setBlocking(false);
    const before = await stableFdCount();
    try {
      for (let i = 0; i < 5; i++) {
        const p = create();
        p.recv(a.fileno(), new Uint8Array(8), 8, { _ioComplete() {} }, 0);
        p.timeout(60, { _ioComplete() {} }, 0);
        p.flush();
        p.close();
      }
      assert.equal(await fdCountSettled(before), before);
    } finally {
      a.close();
      b.close();
    }
  });
}
