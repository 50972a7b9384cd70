/**
 * The receive arena (loop/transports/receive_arena.ts): the chunks protocols keep are never
 * overwritten by later reads, and a kept chunk keeps at most 16× its size alive.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { socketpair, type Transport } from "../../../mod.ts";
import { MAX_READ, receiveArena } from "../../../loop/transports/receive_arena.ts";
import { concat, withLoop } from "../../helpers.ts";
import { pattern, sha256 } from "../../net_helpers.ts";

/** What a read of `n` bytes (all equal to `fill`) hands the protocol. */
function fakeRead(n: number, fill: number): Uint8Array {
  assert.ok(n <= receiveArena.spaceLimit);
  receiveArena.space.fill(fill, 0, n);
  return receiveArena.takeReceived(n);
}

test("every read size: the chunk holds the bytes read, and later reads leave it alone", () => {
  const sizes = [1, 100, 1023, 1024, 1025, 4096, 10_240, 32_767, 32_768, 65_536, 102_400, 131_072];
  const kept: [Uint8Array, number][] = [];
  for (let round = 0; round < 40; round++) {
    for (const [i, n] of sizes.entries()) {
      const fill = (round * sizes.length + i) % 251 + 1;
      kept.push([fakeRead(n, fill), fill]);
    }
  }
  for (const [chunk, fill] of kept) {
    assert.ok(chunk.every((b) => b === fill), `a ${chunk.byteLength}-byte chunk was overwritten`);
  }
});

test("a kept chunk keeps at most 16 times its size alive; small reads own their bytes", () => {
  for (const n of [1, 500, 1023]) {
    const chunk = fakeRead(n, 7);
    assert.equal(chunk.buffer.byteLength, n, `a ${n}-byte read gets its own exact copy`);
  }
  for (const n of [1024, 1025, 2049, 5000, 10_240, 16_385, 32_767, 32_768, 40_000, 65_537, 131_072, MAX_READ / 2]) {
    for (let i = 0; i < 20; i++) {
      const chunk = fakeRead(n, 9);
      assert.ok(
        chunk.buffer.byteLength <= 16 * n,
        `${n}-byte chunk pins ${chunk.buffer.byteLength} bytes`,
      );
    }
  }
});

test("a read as large as the recent ones fits whole; the limit stays in [32 KiB, 256 KiB]", () => {
  for (const n of [40_000, 102_400, 131_072, 70_000, 250_000, 33_000]) {
    for (let i = 0; i < 30; i++) {
      const limit = receiveArena.spaceLimit;
      assert.ok(limit >= 32 * 1024 && limit <= MAX_READ, `spaceLimit ${limit}`);
      // The first reads after a change of size may be cut at the limit; then they fit.
      const got = fakeRead(Math.min(limit, n), 3).byteLength;
      if (i >= 20) assert.equal(got, n, `${n}-byte reads: cut at ${limit}`);
    }
  }
});

test("a read that filled its room makes room for the largest read next", () => {
  for (let i = 0; i < 30; i++) fakeRead(40_000, 5); // the room needed shrinks to 40 KB
  while (receiveArena.spaceLimit > 60_000) fakeRead(40_000, 5);
  fakeRead(receiveArena.spaceLimit, 5); // all the room: more may have been waiting
  assert.ok(receiveArena.spaceLimit === MAX_READ, `spaceLimit ${receiveArena.spaceLimit}`);
});

test("keep(): a copy the protocol owns, sized and pooled by the same policy", () => {
  const source = pattern(MAX_READ);
  for (const n of [1, 1000, 3000, 20_000, 100_000, MAX_READ]) {
    const copy = receiveArena.keep(source, n);
    assert.deepEqual(copy, source.subarray(0, n));
    assert.ok(copy.buffer !== source.buffer, "a copy, not a view of the reused buffer");
    assert.ok(copy.buffer.byteLength <= 16 * n);
    source[0] ^= 0xff; // the source is reused: the copy must not follow it
    assert.notEqual(copy[0], source[0]);
    source[0] ^= 0xff;
  }
});

test("a protocol that keeps every chunk of 24 MiB in mixed write sizes gets every byte, in order", () =>
  withLoop(async (loop) => {
    const [a, b] = socketpair();
    const chunks: Uint8Array[] = [];
    const done = loop.createFuture<void>();
    const protocol = {
      connectionMade(_t: Transport) {},
      dataReceived(d: Uint8Array) {
        chunks.push(d);
      },
      eofReceived() {
        done.setResult();
      },
      connectionLost() {},
    };
    const waiter = loop.createFuture<void>();
    loop._makeSocketTransport(a, protocol, { waiter });
    await loop.runUntilComplete(waiter);
    // The writer alternates tiny, medium and large writes, one per loop iteration, so the
    // reader's reads of every class interleave.
    const data = pattern(24 * 1024 * 1024);
    const writeSizes = [7, 1500, 9000, 70_000, 300_000, 33_000];
    b.setBlocking(false);
    let offset = 0, k = 0;
    const pump = () => {
      const n = Math.min(writeSizes[k % writeSizes.length], data.length - offset);
      try {
        offset += b.send(data.subarray(offset, offset + n));
        k++;
      } catch {
        loop.callLater(0.001, pump); // the socket is full: the reader drains it
        return;
      }
      if (offset < data.length) loop.callSoon(pump);
      else b.shutdown(1);
    };
    pump();
    await loop.runUntilComplete(done);
    const sizes = new Set(chunks.map((c) => (c.byteLength < 1024 ? "own" : c.byteLength < 32768 ? "pooled" : "view")));
    assert.equal(sha256(concat(chunks)), sha256(data));
    assert.ok(chunks.length > 100, `${chunks.length} reads`);
    assert.ok(sizes.size >= 2, `reads of several classes (${[...sizes]})`);
    b.close();
  }));
