/**
 * WebStreamProtocol (loop/streams/web_stream_protocol.ts): a transport+protocol pair as
 * `readable`/`writable` Web streams, over real loopback connections: an echo server built from
 * pipeTo, gzip through CompressionStream/DecompressionStream and back, Response and
 * TextDecoderStream, back-pressure both ways, cancel/abort, errors; fds counted.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type BaseEventLoop, type Server, sleep, ValueError, WebStreamProtocol } from "../../../mod.ts";
import { fdCountSettled, stableFdCount, withLoop } from "../../helpers.ts";
import { pattern, sha256 } from "../../net_helpers.ts";

const encoder = new TextEncoder();

function portOf(server: Server): number {
  return (server.sockets[0]!.getsockname() as [string, number])[1];
}

/**
 * Run `body` with a server whose connections are WebStreamProtocols handed to `serve`, and a
 * client WebStreamProtocol connected to it; no fd may be left.
 */
async function withPair(
  serve: (conn: WebStreamProtocol) => void,
  body: (client: WebStreamProtocol, loop: BaseEventLoop, served: WebStreamProtocol[]) => Promise<void>,
): Promise<void> {
  const before = await stableFdCount();
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const served: WebStreamProtocol[] = [];
      const server = await loop.createServer(() => {
        const conn = new WebStreamProtocol();
        served.push(conn);
        serve(conn);
        return conn;
      }, "127.0.0.1", 0);
      try {
        const [transport, client] = await loop.createConnection(() => new WebStreamProtocol(), "127.0.0.1", portOf(server));
        try {
          await body(client, loop, served);
        } finally {
          transport.close();
        }
      } finally {
        server.close();
        server.closeClients();
        await server.waitClosed();
      }
    })
  );
  assert.equal(await fdCountSettled(before), before);
}

/** The echo server: what comes in goes back out; the peer's EOF becomes ours. */
function echo(conn: WebStreamProtocol): void {
  conn.readable.pipeTo(conn.writable).catch(() => {});
}

test("gzip through CompressionStream to an echo server built from readable.pipeTo(writable), and back through DecompressionStream", () =>
  withPair(echo, async (client) => {
    const data = pattern(2 * 1024 * 1024 + 3) as Uint8Array<ArrayBuffer>;
    const [, back] = await Promise.all([
      new Blob([data]).stream().pipeThrough(new CompressionStream("gzip")).pipeTo(client.writable),
      new Response(client.readable.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer(),
    ]);
    assert.equal(sha256(new Uint8Array(back)), sha256(data));
  }));

test("Response and TextDecoderStream read a WebStreamProtocol's readable to the peer's EOF", () =>
  withPair(echo, async (client) => {
    const w = client.writable.getWriter();
    const text = "ünïcödé ✓ over a socket\n";
    const bytes = encoder.encode(text);
    const reading = client.readable.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (s) => void parts.push(s) }),
    );
    const parts: string[] = [];
    for (const [from, to] of [[0, 1], [1, 3], [3, bytes.length]] as const) {
      await w.write(bytes.subarray(from, to)); // "ü" is split between the first two writes
      await sleep(0.005);
    }
    await w.close(); // EOF to the server, whose echo ends with EOF back
    await reading;
    assert.equal(parts.join(""), text);
  }));

test("back-pressure: an unread readable pauses the transport's reading; writes wait while the peer reads nothing", () =>
  withPair(() => {/* the server reads nothing at first */}, async (client, _loop, served) => {
    // The writable: the server does not read, so the producer is held.
    const w = client.writable.getWriter();
    const chunk = new Uint8Array(64 * 1024);
    let accepted = 0;
    const total = 32 * 1024 * 1024;
    const pump = (async () => {
      for (let sent = 0; sent < total; sent += chunk.length) {
        await w.ready;
        await w.write(chunk);
        accepted += chunk.length;
      }
      await w.close();
    })();
    await sleep(0.3);
    assert.ok(accepted < total, "every byte accepted while the peer read nothing");
    const [, high] = client.transport!.getWriteBufferLimits();
    assert.ok(client.transport!.getWriteBufferSize() <= high + chunk.length);
    // The server's readable, unread, has paused its transport's reading.
    const conn = served[0]!;
    for (let i = 0; i < 500 && conn.transport!.isReading(); i++) await sleep(0.01);
    assert.equal(conn.transport!.isReading(), false, "the server's reading paused");
    // Now read it all: the pump finishes.
    let got = 0;
    for await (const c of conn.readable) got += c.byteLength;
    await pump;
    assert.equal(got, total);
  }));

test("readable.cancel() closes the transport; writable.abort() aborts it", async () => {
  await withPair(echo, async (client) => {
    await client.readable.cancel("enough");
    assert.ok(client.transport!.isClosing());
  });
  await withPair(echo, async (client) => {
    await client.writable.abort(new Error("stop"));
    assert.ok(client.transport!.isClosing());
  });
});

test("errors: a write after the connection is lost, a non-bytes chunk, a bad highWaterMark", async () => {
  assert.throws(() => new WebStreamProtocol({ highWaterMark: 0 }), ValueError);
  assert.throws(() => new WebStreamProtocol({ highWaterMark: "big" as unknown as number }), ValueError);
  await withPair(echo, async (client) => {
    const w = client.writable.getWriter();
    await assert.rejects(w.write("text" as unknown as Uint8Array), (e) => e instanceof TypeError && /Uint8Array/.test(e.message));
  });
  const abortOnFirstData = (conn: WebStreamProtocol) =>
    void conn.readable.getReader().read().then(() => conn.transport?.abort());
  await withPair(abortOnFirstData, async (client) => {
    // The server aborts after the first bytes: the client's readable ends, a later write fails.
    const w0 = client.writable.getWriter();
    await w0.write(encoder.encode("x"));
    w0.releaseLock();
    const reader = client.readable.getReader();
    await reader.read().catch(() => undefined);
    // Writing to the closed peer draws a reset; from then on every write fails.
    const w = client.writable.getWriter();
    let failure: unknown;
    for (let i = 0; i < 300 && failure === undefined; i++) {
      try {
        await w.write(encoder.encode("late"));
        await sleep(0.01);
      } catch (e) {
        failure = e;
      }
    }
    assert.ok(failure instanceof Error && /Connection lost|reset|Broken pipe/i.test(failure.message), String(failure));
    assert.ok(client.transport!.isClosing());
  });
});
