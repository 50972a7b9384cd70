/**
 * toReadableStream/toWritableStream (loop/streams/web_streams.ts) over real loopback
 * connections and a child's pipes: Response, TextDecoderStream, gzip through
 * CompressionStream/DecompressionStream and back, back-pressure both ways, cancel/abort/close,
 * errors, bad arguments; fds counted.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type BaseEventLoop, createSubprocessExec, openConnection, PIPE, type Server, sleep, startServer,
  type StreamReader, type StreamWriter, toReadableStream, toWritableStream, ValueError,
} from "../../../mod.ts";
import { children } from "../../children.ts";
import { fdCountSettled, stableFdCount, withLoop } from "../../helpers.ts";
import { pattern, sha256 } from "../../net_helpers.ts";

const encoder = new TextEncoder();

function portOf(server: Server): number {
  return (server.sockets[0]!.getsockname() as [string, number])[1];
}

/**
 * Run `body` on a new loop with a loopback server whose connections go to `handler`, and a
 * client connection to it; the server is closed afterwards and no fd may be left.
 */
async function withConnection(
  handler: (reader: StreamReader, writer: StreamWriter) => Promise<void>,
  body: (reader: StreamReader, writer: StreamWriter, loop: BaseEventLoop) => Promise<void>,
): Promise<void> {
  const before = await stableFdCount();
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const handlers: Promise<void>[] = [];
      const server = await startServer((r, w) => {
        const done = handler(r, w).finally(() => w.close());
        done.catch(() => {}); // looked at below, after the client's body
        handlers.push(done);
      }, "127.0.0.1", 0);
      try {
        const [reader, writer] = await openConnection("127.0.0.1", portOf(server));
        try {
          await body(reader, writer, loop);
        } finally {
          writer.close();
        }
        for (const outcome of await Promise.allSettled(handlers)) {
          if (outcome.status === "rejected") throw outcome.reason;
        }
      } finally {
        server.close();
        await server.waitClosed();
      }
    })
  );
  assert.equal(await fdCountSettled(before), before);
}

/** Write `chunks` with a pause between them, so the reader sees them apart. */
async function writeSlowly(writer: StreamWriter, chunks: Uint8Array[]): Promise<void> {
  for (const c of chunks) {
    writer.write(c);
    await writer.drain();
    await sleep(0.005);
  }
}

test("new Response(toReadableStream(reader)).text() reads the connection to EOF", () =>
  withConnection(
    (_r, w) => writeSlowly(w, ["hello ", "web ", "streams\n"].map((s) => encoder.encode(s))),
    async (reader) => {
      assert.equal(await new Response(toReadableStream(reader)).text(), "hello web streams\n");
    },
  ));

test("through TextDecoderStream: a character split across reads is decoded whole", () =>
  withConnection(
    (_r, w) => {
      const bytes = encoder.encode("π ≈ 3.14159 — ✓\n");
      return writeSlowly(w, [bytes.subarray(0, 1), bytes.subarray(1, 9), bytes.subarray(9)]);
    },
    async (reader) => {
      const parts: string[] = [];
      await toReadableStream(reader, { chunkSize: 4 }).pipeThrough(new TextDecoderStream()).pipeTo(
        new WritableStream({ write: (s) => void parts.push(s) }),
      );
      assert.equal(parts.join(""), "π ≈ 3.14159 — ✓\n");
      assert.ok(parts.length > 1, "read in several chunks");
    },
  ));

test("gzip through CompressionStream to a server that decompresses with DecompressionStream and sends it back", () => {
  const data = pattern(3 * 1024 * 1024 + 7);
  return withConnection(
    // The server: gunzip what comes, send it back, EOF (writeEof) when the input ends.
    (r, w) => toReadableStream(r).pipeThrough(new DecompressionStream("gzip")).pipeTo(toWritableStream(w)),
    async (reader, writer) => {
      const source = new ReadableStream<Uint8Array<ArrayBuffer>>({
        start(c) {
          const bytes = data as Uint8Array<ArrayBuffer>;
          for (let i = 0; i < bytes.length; i += 100_000) c.enqueue(bytes.subarray(i, i + 100_000));
          c.close();
        },
      });
      const [, back] = await Promise.all([
        source.pipeThrough(new CompressionStream("gzip")).pipeTo(toWritableStream(writer)),
        new Response(toReadableStream(reader)).arrayBuffer(),
      ]);
      assert.equal(back.byteLength, data.length);
      assert.equal(sha256(new Uint8Array(back)), sha256(data));
    },
  );
});

test("a child's pipes: gzip -c fed by a WritableStream, its stdout read back through DecompressionStream", async () => {
  const before = await stableFdCount();
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const data = pattern(1024 * 1024);
      await using proc = await createSubprocessExec(...children.gzip, { stdin: PIPE, stdout: PIPE });
      const input = new Blob([data as Uint8Array<ArrayBuffer>]).stream();
      const [, out] = await Promise.all([
        input.pipeTo(toWritableStream(proc.stdin!)), // close: EOF on the pipe, gzip finishes
        new Response(toReadableStream(proc.stdout!).pipeThrough(new DecompressionStream("gzip"))).arrayBuffer(),
      ]);
      assert.equal(sha256(new Uint8Array(out)), sha256(data));
      assert.equal(await proc.wait(), 0);
    })
  );
  assert.equal(await fdCountSettled(before), before);
});

test("back-pressure: the writable waits for drain while the peer does not read; the readable reads only on demand", () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const total = 32 * 1024 * 1024;
  let received = 0;
  return withConnection(
    async (r, w) => {
      await released; // read nothing until told
      for (let c = await r.read(1 << 20); c.length > 0; c = await r.read(1 << 20)) received += c.length;
      // Then send 4 MiB the client does not read at first.
      w.write(pattern(4 * 1024 * 1024));
      await w.drain();
    },
    async (reader, writer) => {
      const sink = toWritableStream(writer).getWriter();
      const chunk = new Uint8Array(64 * 1024);
      let accepted = 0;
      const pump = (async () => {
        for (let sent = 0; sent < total; sent += chunk.length) {
          await sink.ready;
          await sink.write(chunk);
          accepted += chunk.length;
        }
        await sink.close();
      })();
      await sleep(0.3);
      const [low, high] = writer.transport.getWriteBufferLimits();
      assert.ok(accepted < total, `all ${total} bytes accepted while the peer read nothing`);
      assert.ok(writer.transport.getWriteBufferSize() <= high + chunk.length, `buffered ${writer.transport.getWriteBufferSize()}, high ${high}`);
      assert.ok(low <= high);
      release();
      await pump;
      // The 4 MiB arrive; the reader's buffer fills to its limit and the transport pauses.
      for (let i = 0; i < 500 && writer.transport.isReading(); i++) await sleep(0.01);
      const state = reader as unknown as { _end: number; _start: number };
      const bufferedBefore = state._end - state._start;
      assert.ok(bufferedBefore > 0 && bufferedBefore < 4 * 1024 * 1024, `buffered ${bufferedBefore}`);
      assert.equal(writer.transport.isReading(), false, "reading paused: the reader's buffer is full");
      // A readable that nobody reads pulls nothing (highWaterMark 0).
      const readable = toReadableStream(reader);
      await sleep(0.1);
      assert.equal(state._end - state._start, bufferedBefore, "the readable read ahead");
      const body = await new Response(readable).arrayBuffer();
      assert.equal(body.byteLength, 4 * 1024 * 1024);
      assert.equal(received, total);
    },
  );
});

test("readable.cancel() closes the connection; the peer sees EOF", () => {
  let peerSaw: Uint8Array | undefined;
  return withConnection(
    async (r, w) => {
      w.write(encoder.encode("first\n"));
      peerSaw = await r.read();
    },
    async (reader, writer) => {
      const readable = toReadableStream(reader);
      const rd = readable.getReader();
      const first = await rd.read();
      assert.equal(new TextDecoder().decode(first.value), "first\n");
      const pending = rd.read(); // a pull in flight when cancel comes
      await rd.cancel("done with it");
      assert.deepEqual(await pending, { done: true, value: undefined });
      assert.ok(writer.transport.isClosing());
      await writer.waitClosed();
      await sleep(0.02);
      assert.deepEqual(peerSaw, new Uint8Array(0));
    },
  );
});

test("writable.abort() aborts the transport; close with { close: 'close' } closes the connection", async () => {
  await withConnection(
    (r) => r.read().then(() => undefined),
    async (_reader, writer) => {
      const sink = toWritableStream(writer);
      await sink.abort(new Error("no more"));
      assert.ok(writer.transport.isClosing());
    },
  );
  await withConnection(
    async (r, w) => {
      w.write(await r.read());
    },
    async (_reader, writer) => {
      const sink = toWritableStream(writer, { close: "close" });
      const w = sink.getWriter();
      await w.write(encoder.encode("bye"));
      await w.close();
      assert.ok(writer.isClosing());
      await writer.waitClosed(); // already closed: close() waited for it
    },
  );
});

test("errors propagate: a reader's exception errors the readable", () =>
  withConnection(
    (r) => r.read().then(() => undefined),
    async (reader) => {
      const readable = toReadableStream(reader);
      setTimeout(() => reader.setException(new RangeError("reader failed")), 20);
      await assert.rejects(
        new Response(readable).text(),
        (e) => e instanceof Error && e.name === "RangeError" && e.message === "reader failed",
      );
    },
  ));

test("errors propagate: a write to a closed connection errors the writable; a non-bytes chunk is a TypeError", () =>
  withConnection(
    (r) => r.read().then(() => undefined),
    async (_reader, writer) => {
      const bad = toWritableStream(writer).getWriter();
      await assert.rejects(
        bad.write("text" as unknown as Uint8Array),
        (e) => e instanceof TypeError && /Uint8Array/.test(e.message),
      );
      writer.close();
      await writer.waitClosed();
      const late = toWritableStream(writer).getWriter();
      await assert.rejects(
        late.write(encoder.encode("late")),
        (e) => e instanceof Error && /Connection lost/.test(e.message),
      );
    },
  ));

test("bad arguments: TypeError for a non-reader/writer, ValueError for a bad chunkSize or close mode", () => {
  assert.throws(() => toReadableStream(null as unknown as StreamReader), TypeError);
  assert.throws(() => toWritableStream({} as unknown as StreamWriter), TypeError);
  return withConnection(
    async () => {},
    async (reader, writer) => {
      assert.throws(() => toReadableStream(reader, { chunkSize: 0 }), ValueError);
      assert.throws(() => toReadableStream(reader, { chunkSize: 1.5 }), ValueError);
      assert.throws(() => toWritableStream(writer, { close: "later" as "eof" }), ValueError);
      // The connection is still usable.
      assert.equal(await new Response(toReadableStream(reader)).text(), "");
    },
  );
});
