/**
 * The selector socket transport over real socketpairs: callbacks in order and exactly once,
 * flow control both ways, half-close, abort, failures that stay contained.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { RuntimeError, ValueError, socketpair, type Transport } from "../../../mod.ts";
import { type BaseEventLoop, OSError, type Socket } from "../../../mod.ts";
import { captureExceptions, concat, windowsLacks, withLoop } from "../../helpers.ts";
import { pattern, sha256 } from "../../net_helpers.ts";

/** A protocol that records every callback. */
class Recorder {
  events: string[] = [];
  chunks: Uint8Array[] = [];
  transport: Transport | undefined;
  lostWith: Error | null | undefined = undefined;
  keepOpenOnEof = false;
  onData?: (d: Uint8Array) => void;
  constructor(private readonly loop?: BaseEventLoop, private readonly stopOnLost = false) {}
  connectionMade(t: Transport) {
    this.events.push("made");
    this.transport = t;
  }
  dataReceived(d: Uint8Array) {
    this.events.push("data");
    this.chunks.push(d);
    this.onData?.(d);
  }
  eofReceived() {
    this.events.push("eof");
    return this.keepOpenOnEof;
  }
  connectionLost(exc: Error | null) {
    this.events.push("lost");
    this.lostWith = exc;
    if (this.stopOnLost) this.loop?.stop();
  }
  pauseWriting() {
    this.events.push("pause");
  }
  resumeWriting() {
    this.events.push("resume");
  }
  received(): Uint8Array {
    return concat(this.chunks);
  }
}

function makeTransport(loop: BaseEventLoop, sock: Socket, protocol: object) {
  sock.setBlocking(false);
  const waiter = loop.createFuture();
  // The loop's own stream transport: selector or proactor (AIOLOOP_LOOP=proactor).
  const t = loop._makeSocketTransport(sock, protocol as Recorder, { waiter });
  return { t, waiter };
}

test("callbacks come in order, once each: made, data, eof, lost; the fd is closed after", () =>
  withLoop(async (loop) => {
    const [a, b] = socketpair();
    const p = new Recorder(loop, true);
    const { t, waiter } = makeTransport(loop, a, p);
    const fd = a.fileno();
    await loop.runUntilComplete(waiter);
    assert.deepEqual(p.events, ["made"]);
    assert.equal(t.getExtraInfo("socket"), a);
    assert.equal(t.getExtraInfo("nope", "dflt"), "dflt");
    b.send(new TextEncoder().encode("hello"));
    b.close();
    await loop.runForever();
    assert.deepEqual(p.events, ["made", "data", "eof", "lost"]);
    assert.equal(new TextDecoder().decode(p.received()), "hello");
    assert.equal(p.lostWith, null);
    assert.equal(t.isClosing(), true);
    assert.equal(a.fileno(), -1, "the transport closed its socket");
    assert.equal(loop.removeReader(fd), false, "no reader left behind");
  }));

test("writes go out at once and in order; 8 MiB to a slow reader pauses and resumes the protocol", () =>
  withLoop(async (loop) => {
    const [a, b] = socketpair();
    const p = new Recorder(loop);
    const { t, waiter } = makeTransport(loop, a, p);
    await loop.runUntilComplete(waiter);
    const data = pattern(8 * 1024 * 1024);
    let maxBuffered = 0;
    // The protocol obeys pauseWriting: it writes 64 KiB chunks only while not paused.
    let offset = 0, paused = false;
    p.pauseWriting = () => {
      paused = true;
      p.events.push("pause");
    };
    p.resumeWriting = () => {
      paused = false;
      p.events.push("resume");
      pump();
    };
    const pump = () => {
      while (!paused && offset < data.length) {
        t.write(data.subarray(offset, offset + 65536));
        offset += 65536;
        maxBuffered = Math.max(maxBuffered, t.getWriteBufferSize());
      }
      if (offset >= data.length) t.close();
    };
    pump();
    // The reader drains slowly from the other end, on a timer.
    b.setBlocking(false);
    const got: Uint8Array[] = [];
    const drain = () => {
      for (;;) {
        let chunk: Uint8Array;
        try {
          chunk = b.recv(32768);
        } catch (e) {
          if (e instanceof OSError && e.code === "EAGAIN") break;
          throw e;
        }
        if (chunk.length === 0) {
          loop.stop();
          return;
        }
        got.push(chunk);
        if (got.length % 8 === 0) break; // slow: at most 256 KiB per tick
      }
      loop.callLater(0.001, drain);
    };
    loop.callLater(0.01, drain);
    await loop.runForever();
    const received = concat(got);
    assert.equal(received.length, data.length);
    assert.equal(sha256(received), sha256(data), "bytes lost or reordered");
    assert.ok(p.events.includes("pause") && p.events.includes("resume"), p.events.join());
    const [, high] = t.getWriteBufferLimits();
    assert.ok(maxBuffered <= high + 65536, `buffer reached ${maxBuffered}, high-water ${high}`);
    b.close();
  }));

test("pauseReading stops dataReceived until resumeReading; isReading reports it", () =>
  withLoop(async (loop) => {
    const [a, b] = socketpair();
    const p = new Recorder(loop);
    const { t, waiter } = makeTransport(loop, a, p);
    await loop.runUntilComplete(waiter);
    assert.equal(t.isReading(), true);
    t.pauseReading();
    t.pauseReading(); // idempotent
    assert.equal(t.isReading(), false);
    b.send(new Uint8Array([1, 2, 3]));
    await loop.runUntilComplete(async () => {
      for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 2));
    });
    assert.deepEqual(p.chunks, []);
    t.resumeReading();
    p.onData = () => loop.stop();
    await loop.runForever();
    assert.deepEqual([...p.received()], [1, 2, 3]);
    t.close();
    b.close();
    await loop.runUntilComplete(Promise.resolve());
  }));

test("writeEof half-closes: the peer sees EOF and can still answer; write after it is a RuntimeError", () =>
  withLoop(async (loop) => {
    const [a, b] = socketpair();
    const p = new Recorder(loop, true);
    const { t, waiter } = makeTransport(loop, a, p);
    await loop.runUntilComplete(waiter);
    assert.equal(t.canWriteEof(), true);
    t.write(new TextEncoder().encode("request"));
    t.writeEof();
    assert.throws(() => t.write(new Uint8Array([1])), RuntimeError);
    b.setBlocking(false);
    // write() sends asynchronously (asyncio's contract; the io_uring loop sends at its next
    // iteration), so the peer reads while the loop runs.
    assert.equal(new TextDecoder().decode(await loop.runUntilComplete(loop.sockRecv(b, 100))), "request");
    assert.equal((await loop.runUntilComplete(loop.sockRecv(b, 100))).length, 0, "peer sees EOF");
    b.send(new TextEncoder().encode("answer"));
    b.close();
    await loop.runForever();
    assert.equal(new TextDecoder().decode(p.received()), "answer");
    assert.deepEqual(p.events, ["made", "data", "eof", "lost"]);
  }));

test("eofReceived returning true keeps the transport open for writing", () =>
  withLoop(async (loop) => {
    const [a, b] = socketpair();
    const p = new Recorder(loop);
    p.keepOpenOnEof = true;
    const { t, waiter } = makeTransport(loop, a, p);
    await loop.runUntilComplete(waiter);
    b.shutdown(1); // SHUT_WR: EOF for the transport
    await loop.runUntilComplete(async () => {
      while (!p.events.includes("eof")) await new Promise((r) => setTimeout(r, 1));
    });
    assert.equal(t.isClosing(), false);
    t.write(new TextEncoder().encode("still here"));
    b.setBlocking(false);
    assert.equal(new TextDecoder().decode(await loop.runUntilComplete(loop.sockRecv(b, 100))), "still here");
    t.close();
    await loop.runUntilComplete(Promise.resolve());
    await loop.runUntilComplete(Promise.resolve());
    assert.deepEqual(p.events, ["made", "eof", "lost"]);
    b.close();
  }));

test("close() flushes buffered data first; abort() drops it; connectionLost once either way", () =>
  withLoop(async (loop) => {
    for (const how of ["close", "abort"] as const) {
      const [a, b] = socketpair();
      const p = new Recorder(loop, true);
      const { t, waiter } = makeTransport(loop, a, p);
      await loop.runUntilComplete(waiter);
      // More than a loopback pair's buffers take: Linux's non-blocking send(2) takes a few
      // hundred KiB, but under Wine an overlapped WSASend keeps feeding Linux's autotuned
      // buffers, which took 2 MiB whole (about 4 MB before the peer reads).
      const data = pattern(16 * 1024 * 1024);
      t.write(data);
      assert.ok(t.getWriteBufferSize() > 0, "the socket buffer cannot take 16 MiB at once");
      if (how === "close") t.close();
      else t.abort();
      t.close(); // idempotent
      b.setBlocking(false);
      const got: Uint8Array[] = [];
      const drain = () => {
        try {
          for (;;) {
            const c = b.recv(65536);
            if (c.length === 0) return;
            got.push(c);
          }
        } catch {
          loop.callLater(0.001, drain);
        }
      };
      loop.callSoon(drain);
      await loop.runForever();
      await loop.runUntilComplete(async () => {
        await new Promise((r) => setTimeout(r, 10));
        drain();
      });
      const n = concat(got).length;
      if (how === "close") assert.equal(n, data.length, "close() must flush everything");
      else assert.ok(n < data.length, "abort() must drop the buffer");
      assert.deepEqual(p.events.filter((e) => e === "lost"), ["lost"]);
      assert.equal(p.lostWith, null);
      b.close();
    }
  }));

test("writing to a closed peer ends with connectionLost(EPIPE), not the exception handler", {
  skip: windowsLacks("AF_UNIX socketpair (a TCP pair's first send succeeds, so \"peer gone\" is not EPIPE at once)"),
}, () =>
  withLoop(async (loop) => {
    const seen = captureExceptions(loop);
    const [a, b] = socketpair();
    const p = new Recorder(loop, true);
    const { t, waiter } = makeTransport(loop, a, p);
    await loop.runUntilComplete(waiter);
    t.pauseReading(); // only the write can notice the peer is gone
    b.close();
    t.write(new Uint8Array([1]));
    await loop.runForever();
    assert.ok(p.lostWith instanceof OSError);
    assert.equal((p.lostWith as OSError).code, "EPIPE");
    assert.equal(seen.length, 0);
    // Writes after the loss are dropped quietly.
    t.write(new Uint8Array([2]));
  }));

test("an exception in dataReceived goes to the handler and closes only that connection", () =>
  withLoop(async (loop) => {
    const seen = captureExceptions(loop);
    const [a, b] = socketpair();
    const [c, d] = socketpair();
    const bad = new Recorder(loop);
    bad.onData = () => {
      throw new Error("protocol bug");
    };
    const good = new Recorder(loop);
    const x = makeTransport(loop, a, bad);
    const y = makeTransport(loop, c, good);
    await loop.runUntilComplete(y.waiter);
    await loop.runUntilComplete(x.waiter);
    b.send(new Uint8Array([1]));
    d.send(new Uint8Array([2]));
    good.onData = () => loop.stop();
    await loop.runForever();
    await loop.runUntilComplete(Promise.resolve());
    assert.equal(seen.length, 1);
    assert.match(String(seen[0].exception), /protocol bug/);
    assert.equal(seen[0].transport, x.t);
    assert.ok(bad.events.includes("lost"));
    assert.match(String(bad.lostWith), /protocol bug/);
    assert.equal(y.t.isClosing(), false);
    assert.deepEqual([...good.received()], [2]);
    y.t.close();
    b.close();
    d.close();
    await loop.runUntilComplete(Promise.resolve());
  }));

test("a BufferedProtocol receives straight into its own buffer", () =>
  withLoop(async (loop) => {
    const [a, b] = socketpair();
    const store = new Uint8Array(1 << 20);
    let filled = 0;
    const events: string[] = [];
    const proto = {
      connectionMade() {
        events.push("made");
      },
      getBuffer(hint: number) {
        events.push(`get:${hint}`);
        return store.subarray(filled, filled + 4096);
      },
      bufferUpdated(n: number) {
        filled += n;
        if (filled === 10000) loop.stop();
      },
      connectionLost() {
        events.push("lost");
      },
    };
    const { t, waiter } = makeTransport(loop, a, proto);
    await loop.runUntilComplete(waiter);
    b.send(pattern(10000));
    await loop.runForever();
    assert.equal(sha256(store.subarray(0, 10000)), sha256(pattern(10000)));
    assert.ok(events.includes("get:-1"));
    t.close();
    b.close();
    await loop.runUntilComplete(Promise.resolve());
    assert.equal(events.at(-1), "lost");
  }));

test("bad arguments: write of a non-buffer, bad water marks", () =>
  withLoop(async (loop) => {
    const [a, b] = socketpair();
    const { t, waiter } = makeTransport(loop, a, new Recorder(loop));
    await loop.runUntilComplete(waiter);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => t.write("text" as any), /bytes-like/);
    assert.throws(() => t.setWriteBufferLimits(10, 20), ValueError);
    assert.throws(() => t.setWriteBufferLimits(-1), ValueError);
    t.setWriteBufferLimits(1000);
    assert.deepEqual(t.getWriteBufferLimits(), [250, 1000]);
    t.setWriteBufferLimits(undefined, 100);
    assert.deepEqual(t.getWriteBufferLimits(), [100, 400]);
    t.write(new Uint8Array(0)); // nothing to do
    t.close();
    b.close();
    await loop.runUntilComplete(Promise.resolve());
  }));
