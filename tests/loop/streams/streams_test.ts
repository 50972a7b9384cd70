import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CancelledError, OSError, RuntimeError, sleep, ValueError } from "../../../mod.ts";
import type { BaseEventLoop } from "../../../loop/base_loop.ts";
import type { Server } from "../../../loop/net/server.ts";
import {
  IncompleteReadError, LimitOverrunError, openConnection, openUnixConnection, startServer,
  startUnixServer, StreamReader, StreamReaderProtocol, StreamWriter,
} from "../../../loop/streams/streams.ts";
import type { Transport } from "../../../loop/transports/base.ts";
import { captureExceptions, libkqueueClearsSocketError, windowsLacks, withLoop } from "../../helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string) => enc.encode(s);
const s = (u: Uint8Array) => dec.decode(u);

/** One loop iteration. */
function tick(loop: BaseEventLoop): Promise<void> {
  const f = loop.createFuture<void>();
  loop.callSoon(() => f.setResult());
  return f.then(() => undefined);
}

/** A Transport that records what is done to it (unit tests of the stream logic only). */
class FakeTransport implements Transport {
  written: Uint8Array[] = [];
  calls: string[] = [];
  closing = false;
  reading = true;
  protocol: StreamReaderProtocol | null = null;
  bufferSize = 0;
  constructor(private loop: BaseEventLoop, private extra: Record<string, unknown> = {}) {}
  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    return name in this.extra ? this.extra[name] : defaultValue;
  }
  isClosing(): boolean {
    return this.closing;
  }
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.calls.push("close");
    this.loop.callSoon(() => this.protocol?.connectionLost(null));
  }
  setProtocol(protocol: unknown): void {
    this.protocol = protocol as StreamReaderProtocol;
  }
  getProtocol(): unknown {
    return this.protocol;
  }
  [Symbol.dispose](): void {
    this.close();
  }
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
  isReading(): boolean {
    return this.reading;
  }
  pauseReading(): void {
    this.reading = false;
    this.calls.push("pauseReading");
  }
  resumeReading(): void {
    this.reading = true;
    this.calls.push("resumeReading");
  }
  setWriteBufferLimits(): void {}
  getWriteBufferLimits(): [number, number] {
    return [16384, 65536];
  }
  getWriteBufferSize(): number {
    return this.bufferSize;
  }
  write(data: Uint8Array): void {
    this.written.push(data.slice());
  }
  writelines(list: Iterable<Uint8Array>): void {
    for (const d of list) this.write(d);
  }
  writeEof(): void {
    this.calls.push("writeEof");
  }
  canWriteEof(): boolean {
    return true;
  }
  abort(): void {
    this.close();
  }
}

/** A reader/protocol/writer trio over a FakeTransport, connected. */
function fakeConnection(loop: BaseEventLoop, limit?: number) {
  const reader = new StreamReader({ limit, loop });
  const protocol = new StreamReaderProtocol(reader, null, loop);
  const transport = new FakeTransport(loop);
  transport.setProtocol(protocol);
  protocol.connectionMade(transport);
  const writer = new StreamWriter(transport, protocol, reader, loop);
  return { reader, protocol, transport, writer };
}

test("read(n) returns what is buffered, waits when empty, and returns empty at EOF", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const reader = new StreamReader({ loop });
      reader.feedData(b("hello world"));
      assert.equal(s(await reader.read(5)), "hello");
      assert.equal(s(await reader.read(100)), " world");
      assert.equal((await reader.read(0)).byteLength, 0);
      loop.callSoon(() => reader.feedData(b("later")));
      assert.equal(s(await reader.read(100)), "later");
      loop.callSoon(() => reader.feedEof());
      assert.equal((await reader.read(100)).byteLength, 0);
      assert.equal(reader.atEof(), true);
    })
  ));

test("read() with no size reads until EOF, across many chunks", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const reader = new StreamReader({ loop, limit: 4 });
      const parts = ["ab", "cdefgh", "", "ijklmnopq", "r"];
      let i = 0;
      const feed = () => {
        if (i < parts.length) {
          reader.feedData(b(parts[i++]));
          loop.callSoon(feed);
        } else reader.feedEof();
      };
      loop.callSoon(feed);
      assert.equal(s(await reader.read()), "abcdefghijklmnopqr");
      assert.equal((await reader.read()).byteLength, 0);
    })
  ));

test("feedData copies its argument; bytes from a protocol are taken as they are", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const { reader, protocol } = fakeConnection(loop);
      const chunk = b("abc");
      reader.feedData(chunk);
      chunk[0] = 0x7a;
      assert.equal(s(await reader.read(10)), "abc");
      const owned = b("xyz");
      protocol.dataReceived(owned);
      const got = await reader.read(10);
      assert.equal(s(got), "xyz");
      assert.equal(got.buffer, owned.buffer, "no copy on the protocol path");
    })
  ));

test("readexactly joins chunks and raises IncompleteReadError with the partial bytes at EOF", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const reader = new StreamReader({ loop });
      for (const [i, part] of ["12", "345", "6789", "0"].entries()) {
        loop.callLater(0.001 * (i + 1), () => reader.feedData(b(part)));
      }
      assert.equal(s(await reader.readexactly(4)), "1234");
      assert.equal(s(await reader.readexactly(6)), "567890");
      assert.equal((await reader.readexactly(0)).byteLength, 0);
      await assert.rejects(reader.readexactly(-1), ValueError);
      reader.feedData(b("ab"));
      reader.feedEof();
      const err = await reader.readexactly(5).then(() => null, (e) => e);
      assert.ok(err instanceof IncompleteReadError);
      assert.equal(s(err.partial), "ab");
      assert.equal(err.expected, 5);
      assert.equal(err.message, "2 bytes read on a total of 5 expected bytes");
      assert.equal(reader.atEof(), true);
    })
  ));

test("readuntil finds a separator split across chunks, and the one ending first of several", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const reader = new StreamReader({ loop });
      const parts = ["GET / HTTP/1.1\r", "\nHost: x\r\n\r", "\nbody"];
      parts.forEach((p, i) => loop.callLater(0.001 * (i + 1), () => reader.feedData(b(p))));
      assert.equal(s(await reader.readuntil(b("\r\n"))), "GET / HTTP/1.1\r\n");
      assert.equal(s(await reader.readuntil("\r\n\r\n")), "Host: x\r\n\r\n");
      reader.feedData(b("a;b,c"));
      assert.equal(s(await reader.readuntil([b(","), b(";")])), "body" + "a;");
      assert.equal(s(await reader.readuntil([",", "b,"])), "b,");
      await assert.rejects(reader.readuntil(b("")), ValueError);
      await assert.rejects(reader.readuntil([]), ValueError);
      reader.feedEof();
      const err = await reader.readuntil("!").then(() => null, (e) => e);
      assert.ok(err instanceof IncompleteReadError);
      assert.equal(s(err.partial), "c");
      assert.equal(err.expected, null);
    })
  ));

test("readuntil past the limit raises LimitOverrunError and keeps the bytes", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const reader = new StreamReader({ loop, limit: 5 });
      reader.feedData(b("0123456789\nrest"));
      const found = await reader.readuntil("\n").then(() => null, (e) => e);
      assert.ok(found instanceof LimitOverrunError);
      assert.equal(found.consumed, 10);
      assert.match(found.message, /Separator is found, but chunk is longer than limit/);
      assert.equal(s(await reader.read(20)), "0123456789\nrest", "nothing was consumed");

      reader.feedData(b("abcdefgh"));
      const notFound = await reader.readuntil("\n").then(() => null, (e) => e);
      assert.ok(notFound instanceof LimitOverrunError);
      assert.equal(notFound.consumed, 8);
      assert.match(notFound.message, /Separator is not found, and chunk exceed the limit/);
    })
  ));

test("readline returns lines, the partial last line at EOF, then empty", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const reader = new StreamReader({ loop });
      loop.callSoon(() => reader.feedData(b("one\ntw")));
      loop.callLater(0.002, () => reader.feedData(b("o\nthree")));
      loop.callLater(0.004, () => reader.feedEof());
      assert.equal(s(await reader.readline()), "one\n");
      assert.equal(s(await reader.readline()), "two\n");
      assert.equal(s(await reader.readline()), "three");
      assert.equal((await reader.readline()).byteLength, 0);
    })
  ));

test("readline over the limit raises ValueError and drops that line only", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const reader = new StreamReader({ loop, limit: 4 });
      reader.feedData(b("toolongline\nok\n"));
      await assert.rejects(reader.readline(), ValueError);
      assert.equal(s(await reader.readline()), "ok\n");
      reader.feedData(b("xxxxxxxxxx"));
      await assert.rejects(reader.readline(), ValueError);
      reader.feedData(b("y\n"));
      reader.feedEof();
      assert.equal(s(await reader.readline()), "y\n", "the whole overlong chunk was dropped");
    })
  ));

test("for await iterates lines until EOF", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const reader = new StreamReader({ loop });
      loop.callSoon(() => {
        reader.feedData(b("a\nb"));
        loop.callSoon(() => {
          reader.feedData(b("\nc"));
          reader.feedEof();
        });
      });
      const lines: string[] = [];
      for await (const line of reader) lines.push(s(line));
      assert.deepEqual(lines, ["a\n", "b\n", "c"]);
    })
  ));

test("reading pauses past 2*limit buffered bytes and resumes at limit", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const { reader, transport } = fakeConnection(loop, 10);
      reader.feedData(new Uint8Array(20));
      assert.deepEqual(transport.calls, []);
      reader.feedData(new Uint8Array(1));
      assert.deepEqual(transport.calls, ["pauseReading"]);
      reader.feedData(new Uint8Array(30)); // still paused: no second call
      await reader.read(30);
      assert.deepEqual(transport.calls, ["pauseReading"], "21 bytes left: still paused");
      await reader.read(11);
      assert.deepEqual(transport.calls, ["pauseReading", "resumeReading"]);
      assert.equal((await reader.readexactly(10)).byteLength, 10);
    })
  ));

test("a reader waiting on a paused transport resumes it (readuntil needing > 2*limit)", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const { reader, transport } = fakeConnection(loop, 4);
      reader.feedData(b("abcdefghi"));
      assert.equal(transport.reading, false);
      const p = reader.readexactly(12);
      await tick(loop);
      assert.equal(transport.reading, true);
      reader.feedData(b("jkl"));
      assert.equal(s(await p), "abcdefghijkl");
    })
  ));

test("setException fails the waiting read and every later one", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const reader = new StreamReader({ loop });
      const boom = new OSError(104, "ECONNRESET", "Connection reset by peer");
      loop.callSoon(() => reader.setException(boom));
      await assert.rejects(reader.read(10), (e) => e === boom);
      await assert.rejects(reader.readline(), (e) => e === boom);
      await assert.rejects(reader.readexactly(1), (e) => e === boom);
      assert.equal(reader.exception(), boom);
    })
  ));

test("two readers waiting at once is a RuntimeError; a cancelled read leaves the reader usable", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const reader = new StreamReader({ loop });
      const first = reader.read(10);
      await assert.rejects(reader.read(10), RuntimeError);
      reader.feedData(b("x"));
      assert.equal(s(await first), "x");

      const task = loop.createTask(() => reader.readexactly(3));
      await tick(loop);
      task.cancel();
      await assert.rejects(task.then(), CancelledError);
      reader.feedData(b("abc"));
      assert.equal(s(await reader.readexactly(3)), "abc");
    })
  ));

test("a read cancelled after its bytes came (wakeup queued) leaves them for the next read", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const reader = new StreamReader({ loop });
      const task = loop.createTask(() => reader.read(10));
      await tick(loop);
      // The bytes wake the read, then cancel() comes before the read's task resumes: as in
      // asyncio, CancelledError is raised at the await and the bytes stay buffered.
      reader.feedData(b("kept"));
      task.cancel();
      await assert.rejects(task.then(), CancelledError);
      assert.equal(s(await reader.read(10)), "kept");
      // read() errors are rejections, never synchronous throws.
      const waiting = reader.read(1);
      const second = reader.read(1);
      await assert.rejects(second, RuntimeError);
      reader.feedEof();
      assert.equal((await waiting).byteLength, 0);
    })
  ));

test("drain waits between pauseWriting and resumeWriting; write/writelines reach the transport", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const { protocol, transport, writer } = fakeConnection(loop);
      writer.write(b("a"));
      writer.writelines([b("b"), b("c")]);
      assert.deepEqual(transport.written.map(s), ["a", "b", "c"]);
      await writer.drain(); // not paused: at once
      protocol.pauseWriting();
      let drained = false;
      const d1 = writer.drain().then(() => (drained = true));
      const d2 = writer.drain();
      await tick(loop);
      await tick(loop);
      assert.equal(drained, false);
      protocol.resumeWriting();
      await d1;
      await d2;
      assert.equal(writer.canWriteEof(), true);
      writer.writeEof();
      assert.deepEqual(transport.calls, ["writeEof"]);
    })
  ));

test("connection lost: paused drains fail with its error, later drains with ECONNRESET", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const { protocol, reader, writer } = fakeConnection(loop);
      protocol.pauseWriting();
      const pending = writer.drain();
      const boom = new OSError(32, "EPIPE", "Broken pipe");
      protocol.connectionLost(boom);
      await assert.rejects(pending, (e) => e === boom);
      await assert.rejects(reader.read(1), (e) => e === boom);
      await assert.rejects(writer.waitClosed(), (e) => e === boom);

      const second = fakeConnection(loop);
      second.protocol.connectionLost(null);
      await assert.rejects(
        second.writer.drain(),
        (e) => e instanceof OSError && e.code === "ECONNRESET",
      );
      await second.writer.waitClosed();
      assert.equal(second.reader.atEof(), true);
    })
  ));

test("waitClosed() asked before the connection is lost settles when it is lost; one close waiter per connection", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const { protocol, writer } = fakeConnection(loop);
      let settled = false;
      const closed = writer.waitClosed().then(() => (settled = true));
      await tick(loop);
      assert.equal(settled, false, "still open");
      assert.equal(protocol._getCloseWaiter(), protocol._getCloseWaiter());
      const reset = new OSError(104, "ECONNRESET", "Connection reset by peer");
      protocol.connectionLost(reset);
      await assert.rejects(closed, (e) => e === reset);
      protocol.connectionLost(null); // a second report changes nothing
      await assert.rejects(writer.waitClosed(), (e) => e === reset);
    })
  ));

test("close() then waitClosed(); eofReceived feeds EOF and keeps the transport writable", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const { protocol, reader, transport, writer } = fakeConnection(loop);
      protocol.dataReceived(b("tail"));
      assert.equal(protocol.eofReceived(), true);
      assert.equal(s(await reader.read()), "tail");
      assert.equal(writer.isClosing(), false);
      writer.close();
      assert.equal(writer.isClosing(), true);
      await writer.waitClosed();
      assert.deepEqual(transport.calls, ["close"]);
      assert.equal(writer.transport, transport);
      assert.equal(writer.getExtraInfo("peername", "none"), "none");
    })
  ));

test("clientConnectedCb: an async callback runs as a Task; its exception is reported and closes", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const seen = captureExceptions(loop);
      const order: string[] = [];
      const done = loop.createFuture<void>();
      const cb = async (reader: StreamReader, writer: StreamWriter) => {
        order.push("cb started");
        const line = await reader.readline();
        writer.write(line);
        throw new Error("handler failed");
      };
      const reader = new StreamReader({ loop });
      const protocol = new StreamReaderProtocol(reader, cb, loop);
      const transport = new FakeTransport(loop);
      transport.setProtocol(protocol);
      const origClose = transport.close.bind(transport);
      transport.close = () => {
        origClose();
        done.setResult();
      };
      protocol.connectionMade(transport);
      order.push("connectionMade returned");
      protocol.dataReceived(b("hi\n"));
      await done;
      assert.deepEqual(order, ["connectionMade returned", "cb started"]);
      assert.deepEqual(transport.written.map(s), ["hi\n"]);
      assert.equal(seen.length, 1);
      assert.equal(seen[0].message, "Unhandled exception in client_connected_cb");
      assert.equal((seen[0].exception as Error).message, "handler failed");
      assert.equal(seen[0].transport, transport);
    })
  ));

test("clientConnectedCb: a plain function runs inside connectionMade", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      let got: [StreamReader, StreamWriter] | null = null;
      const reader = new StreamReader({ loop });
      const protocol = new StreamReaderProtocol(reader, (r, w) => {
        got = [r, w];
      }, loop);
      const transport = new FakeTransport(loop);
      protocol.connectionMade(transport);
      assert.ok(got !== null);
      const [r, w] = got as [StreamReader, StreamWriter];
      assert.equal(r, reader);
      assert.equal(w.transport, transport);
      await tick(loop);
    })
  ));

// ---- Over real sockets: TCP on loopback and Unix sockets --------------------------------------

const PY = "/usr/bin/python3";

function portOf(server: Server): number {
  return (server.sockets![0].getsockname() as [string, number])[1];
}

async function closeServer(server: Server): Promise<void> {
  server.close();
  await server.waitClosed();
}

/** Bytes 0..n-1 of a fixed pattern, and its checksum, to check long transfers end to end. */
function pattern(offset: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = ((offset + i) * 7 + 3) & 0xff;
  return out;
}
function checksum(sum: number, data: Uint8Array): number {
  for (let i = 0; i < data.length; i++) sum = (sum * 31 + data[i]) >>> 0;
  return sum;
}

/** Resolve on the loop with [exit code, stdout, stderr] of a child process. */
function runChild(loop: BaseEventLoop, args: string[]) {
  const child = spawn(PY, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  const firstLine = loop.createFuture<string>();
  const exited = loop.createFuture<[number | null, string, string]>();
  child.stdout!.on("data", (d: Uint8Array) => {
    out += String(d);
    const nl = out.indexOf("\n");
    if (nl >= 0 && !firstLine.done()) loop.callSoonThreadsafe(() => firstLine.setResult(out.slice(0, nl)));
  });
  child.stderr!.on("data", (d: Uint8Array) => (err += String(d)));
  child.on("exit", (code) => {
    loop.callSoonThreadsafe(() => {
      if (!firstLine.done()) firstLine.setException(new Error(`python exited ${code}: ${err}`));
      exited.setResult([code, out, err]);
    });
  });
  return { child, firstLine, exited };
}

test("TCP: startServer echo and openConnection; lines, exact reads and separators across chunks", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const server = await startServer(async (reader, writer) => {
        try {
          const head = await reader.readuntil("\r\n\r\n");
          const len = Number(/Length: (\d+)/.exec(s(head))![1]);
          const body = await reader.readexactly(len);
          const line = await reader.readline();
          writer.write(b(`head=${head.byteLength} body=${s(body)} line=${s(line)}`));
          await writer.drain();
        } finally {
          writer.close();
        }
      }, "127.0.0.1", 0);
      const [reader, writer] = await openConnection("127.0.0.1", portOf(server));
      assert.equal((writer.getExtraInfo("peername") as [string, number])[1], portOf(server));
      // Every piece is its own write, after a pause, so the server sees them in separate reads.
      for (const piece of ["POST / HTTP/1.1\r", "\nLength: 11\r\n", "\r", "\nhello", " world", "tail\n"]) {
        writer.write(b(piece));
        await writer.drain();
        await sleep(0.003);
      }
      assert.equal(s(await reader.read()), "head=31 body=hello world line=tail\n");
      assert.equal(reader.atEof(), true);
      writer.close();
      await writer.waitClosed();
      await closeServer(server);
    })
  ));

test("TCP: 10 MiB through drain() to a slow reader keeps both buffers bounded", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const TOTAL = 10 * 1024 * 1024, CHUNK = 64 * 1024, LIMIT = 64 * 1024;
      let maxServerBuffered = 0, serverPaused = false;
      const server = await startServer(async (reader, writer) => {
        try {
          await sleep(0.05); // let the writer fill every buffer first
          // Nothing reads yet, so the transport must pause; give it up to 5 s more (under Wine
          // on a loaded machine the writer had not filled 2·limit after 50 ms in 4 of 4 runs).
          for (let waited = 0; writer.transport.isReading() && waited < 5; waited += 0.01) await sleep(0.01);
          serverPaused = !writer.transport.isReading();
          let count = 0, sum = 0;
          for (;;) {
            // deno-lint-ignore no-explicit-any
            const r = reader as any;
            maxServerBuffered = Math.max(maxServerBuffered, r._end - r._start);
            const data = await reader.read(CHUNK);
            if (data.byteLength === 0) break;
            count += data.byteLength;
            sum = checksum(sum, data);
            if (count < TOTAL / 4) await sleep(0.0005); // slow for the first quarter
          }
          writer.write(b(`${count} ${sum}\n`));
          await writer.drain();
        } finally {
          writer.close();
        }
      }, "127.0.0.1", 0, { limit: LIMIT });
      const [reader, writer] = await openConnection("127.0.0.1", portOf(server));
      let sum = 0, maxWriteBuffer = 0;
      for (let off = 0; off < TOTAL; off += CHUNK) {
        const data = pattern(off, CHUNK);
        sum = checksum(sum, data);
        writer.write(data);
        maxWriteBuffer = Math.max(maxWriteBuffer, writer.transport.getWriteBufferSize());
        await writer.drain();
      }
      writer.writeEof();
      assert.equal(s(await reader.readline()), `${TOTAL} ${sum}\n`);
      assert.equal(serverPaused, true, "the server's reader paused its transport");
      const [, high] = writer.transport.getWriteBufferLimits();
      assert.ok(maxWriteBuffer <= high + CHUNK, `write buffer peaked at ${maxWriteBuffer}`);
      // 2·limit before pausing, plus at most one recv (256 KiB) that crossed the mark.
      assert.ok(maxServerBuffered <= 2 * LIMIT + 256 * 1024, `reader peaked at ${maxServerBuffered}`);
      writer.close();
      await writer.waitClosed();
      await closeServer(server);
    })
  ));

/** `n` bytes of a stream whose byte at offset k is a hash of k (no short period). */
function streamBytes(offset: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.imul(offset + i, 0x9e3779b1) >>> 24;
  return out;
}

test("TCP: every read() result keeps its bytes while later reads arrive (reads of 3 KiB to 250 KiB)", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      // Large reads reach the reader as views of the receive arena's slabs, which later reads
      // fill after them; small ones as pooled copies. Nothing handed out may change later.
      const sizes = [102_400, 40_000, 250_000, 3_000, 70_000, 131_072, 33_000, 102_400, 102_400, 40_000];
      const kept: [number, Uint8Array][] = [];
      const received = loop.createFuture<number>();
      const server = await startServer(async (reader, writer) => {
        let off = 0;
        for (;;) {
          const data = await reader.read(256 * 1024);
          if (data.byteLength === 0) break;
          kept.push([off, data]);
          off += data.byteLength;
        }
        received.setResult(off);
        writer.close();
      }, "127.0.0.1", 0);
      const [, writer] = await openConnection("127.0.0.1", portOf(server));
      let total = 0;
      for (let round = 0; round < 6; round++) {
        for (const n of sizes) {
          writer.write(streamBytes(total, n));
          total += n;
          await writer.drain();
          await sleep(0.001); // most messages arrive as one read of their size
        }
      }
      writer.writeEof();
      assert.equal(await received, total);
      assert.ok(kept.length >= sizes.length, `${kept.length} reads`);
      for (const [off, data] of kept) {
        const want = streamBytes(off, data.byteLength);
        const bad = data.findIndex((x, i) => x !== want[i]); // (deepEqual's diff of 100 KB takes a minute)
        assert.equal(bad, -1, `the ${data.byteLength} bytes read at ${off} changed at ${bad}`);
      }
      writer.close();
      await writer.waitClosed();
      await closeServer(server);
    })
  ));

test("TCP: EOF and half-close — the client writes, sends EOF, then reads the reply", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      let serverSawEof = false;
      const server = await startServer(async (reader, writer) => {
        const data = await reader.read(); // until the client's EOF
        serverSawEof = reader.atEof();
        await sleep(0.01); // the client's write side is closed, its read side still open
        writer.write(b("pong:" + s(data)));
        writer.close();
      }, "127.0.0.1", 0);
      const [reader, writer] = await openConnection("127.0.0.1", portOf(server));
      assert.equal(writer.canWriteEof(), true);
      writer.write(b("ping"));
      writer.writeEof();
      assert.equal(s(await reader.read()), "pong:ping");
      assert.equal(reader.atEof(), true);
      assert.equal(serverSawEof, true);
      writer.close();
      await writer.waitClosed();
      await closeServer(server);
    })
  ));

test("TCP: a failing handler is reported and closes only its connection; the server goes on", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const seen = captureExceptions(loop);
      const server = await startServer(async (reader, writer) => {
        const line = await reader.readline();
        if (s(line) === "fail\n") throw new Error("handler failed");
        writer.write(line);
        writer.close();
      }, "127.0.0.1", 0);
      const [r1, w1] = await openConnection("127.0.0.1", portOf(server));
      w1.write(b("fail\n"));
      assert.equal((await r1.read()).byteLength, 0, "closed by the server");
      assert.equal(seen.length, 1);
      assert.equal(seen[0].message, "Unhandled exception in client_connected_cb");
      const [r2, w2] = await openConnection("127.0.0.1", portOf(server));
      w2.write(b("ok\n"));
      assert.equal(s(await r2.read()), "ok\n");
      for (const w of [w1, w2]) {
        w.close();
        await w.waitClosed();
      }
      await closeServer(server);
    })
  ));

test("TCP: writing to a peer that went away fails drain(); connecting to a closed port fails", { skip: libkqueueClearsSocketError }, () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const failure = loop.createFuture<unknown>();
      const server = await startServer(async (_reader, writer) => {
        try {
          for (let i = 0; i < 10_000; i++) {
            writer.write(new Uint8Array(64 * 1024));
            await writer.drain();
          }
          failure.setResult(null);
        } catch (e) {
          failure.setResult(e);
        } finally {
          writer.close();
        }
      }, "127.0.0.1", 0);
      const port = portOf(server);
      const [, writer] = await openConnection("127.0.0.1", port);
      writer.close();
      await writer.waitClosed();
      const err = await failure;
      assert.ok(err instanceof OSError, `drain failed with ${err}`);
      assert.ok(["ECONNRESET", "EPIPE"].includes((err as OSError).code), (err as OSError).code);
      await closeServer(server);
      await assert.rejects(
        openConnection("127.0.0.1", port),
        (e) => e instanceof OSError && e.code === "ECONNREFUSED",
      );
    })
  ));

test("Unix sockets: startUnixServer and openUnixConnection; the socket file goes with the server", { skip: windowsLacks("AF_UNIX sockets (none in Wine's Winsock)") }, () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const dir = mkdtempSync(join(tmpdir(), "aioloop-streams-"));
      const path = join(dir, "echo.sock");
      try {
        const server = await startUnixServer(async (reader, writer) => {
          for await (const line of reader) {
            writer.write(line);
            await writer.drain();
          }
          writer.close();
        }, path);
        const [reader, writer] = await openUnixConnection(path);
        writer.write(b("one\ntw"));
        await sleep(0.002);
        writer.write(b("o\nthree"));
        writer.writeEof();
        const lines: string[] = [];
        for await (const line of reader) lines.push(s(line));
        assert.deepEqual(lines, ["one\n", "two\n", "three"]);
        writer.close();
        await writer.waitClosed();
        await closeServer(server);
        assert.equal(existsSync(path), false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    })
  ));

const PY_SERVER = `
import asyncio
async def handle(r, w):
    while True:
        line = await r.readline()
        if not line:
            break
        if line.startswith(b"bytes "):
            data = await r.readexactly(int(line[6:]))
            w.write(b"%d %d\\n" % (len(data), sum(data)))
        else:
            w.write(line.upper())
        await w.drain()
    w.write(b"bye\\n")
    w.close()
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(srv.sockets[0].getsockname()[1], flush=True)
    async with srv:
        await srv.serve_forever()
asyncio.run(main())
`;

test("Python asyncio streams server as the peer of openConnection", { skip: windowsLacks("python3 (no Python under Wine)") }, () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const py = runChild(loop, ["-c", PY_SERVER]);
      try {
        const port = Number(await py.firstLine);
        const [reader, writer] = await openConnection("127.0.0.1", port);
        writer.write(b("hel"));
        await sleep(0.002);
        writer.write(b("lo\nworld\n"));
        assert.equal(s(await reader.readline()), "HELLO\n");
        assert.equal(s(await reader.readline()), "WORLD\n");
        const blob = pattern(0, 3 * 1024 * 1024 + 17);
        let total = 0;
        for (const x of blob) total += x;
        writer.write(b(`bytes ${blob.byteLength}\n`));
        for (let off = 0; off < blob.byteLength; off += 100_000) {
          writer.write(blob.subarray(off, off + 100_000));
          await writer.drain();
        }
        assert.equal(s(await reader.readuntil("\n")), `${blob.byteLength} ${total}\n`);
        writer.writeEof();
        assert.equal(s(await reader.read()), "bye\n");
        writer.close();
        await writer.waitClosed();
      } finally {
        py.child.kill();
        await py.exited;
      }
    })
  ));

const PY_CLIENT = `
import asyncio, sys
async def main():
    r, w = await asyncio.open_connection("127.0.0.1", int(sys.argv[1]))
    w.write(b"hello\\nwor")
    await w.drain()
    await asyncio.sleep(0.005)
    w.write(b"ld\\n")
    assert await r.readline() == b"HELLO\\n"
    assert await r.readline() == b"WORLD\\n"
    blob = bytes(range(256)) * 8192
    w.write(b"LEN %d\\n" % len(blob))
    w.write(blob)
    await w.drain()
    assert await r.readuntil(b"\\n") == b"%d %d\\n" % (len(blob), sum(blob))
    w.write_eof()
    assert await r.read() == b"done\\n"
    w.close()
    await w.wait_closed()
    print("ok", flush=True)
asyncio.run(main())
`;

test("Python asyncio streams client as the peer of startServer", { skip: windowsLacks("python3 (no Python under Wine)") }, () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const served = loop.createFuture<void>();
      const server = await startServer(async (reader, writer) => {
        try {
          for (;;) {
            const line = await reader.readline();
            if (line.byteLength === 0) break;
            const text = s(line);
            if (text.startsWith("LEN ")) {
              const data = await reader.readexactly(Number(text.slice(4)));
              let total = 0;
              for (const x of data) total += x;
              writer.write(b(`${data.byteLength} ${total}\n`));
            } else writer.write(b(text.toUpperCase()));
            await writer.drain();
          }
          writer.write(b("done\n"));
          writer.close();
          await writer.waitClosed();
          served.setResult();
        } catch (e) {
          served.setException(e);
        }
      }, "127.0.0.1", 0);
      const py = runChild(loop, ["-c", PY_CLIENT, String(portOf(server))]);
      const [code, out, err] = await py.exited;
      assert.equal(code, 0, err);
      assert.equal(out, "ok\n");
      await served;
      await closeServer(server);
    })
  ));
