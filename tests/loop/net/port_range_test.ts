/**
 * Ports outside 0-65535 are refused with OverflowError before any socket is made (issue 15
 * item 13; Python: `OverflowError: connect(): port must be 0-65535.`), on every path that takes
 * one. Before, 70000 reached getaddrinfo, which keeps the low 16 bits: port 4464.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { OverflowError } from "../../../loop/core/errors.ts";
import {
  AF_INET, openConnection, SOCK_DGRAM, SOCK_STREAM, Socket, startServer,
} from "../../../mod.ts";
import { fdCountSettled, stableFdCount, withLoop } from "../../helpers.ts";

const overflow = (e: unknown) => e instanceof OverflowError && /port must be 0-65535/.test(e.message);

test("createConnection/openConnection, createServer/startServer and createDatagramEndpoint refuse ports over 65535", async () => {
  const before = await stableFdCount();
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      // A listener on 70000 & 0xffff would have been connected to.
      await assert.rejects(openConnection("127.0.0.1", 70000), overflow);
      await assert.rejects(loop.createConnection(() => ({}), "127.0.0.1", -1), overflow);
      await assert.rejects(loop.createConnection(() => ({}), "127.0.0.1", "70000"), overflow);
      await assert.rejects(
        loop.createConnection(() => ({}), "127.0.0.1", 80, { localAddr: ["127.0.0.1", 65536] }),
        overflow,
      );
      await assert.rejects(startServer(() => {}, "127.0.0.1", 73616), overflow);
      await assert.rejects(loop.createServer(() => ({}), null, 65536), overflow);
      await assert.rejects(loop.createDatagramEndpoint(() => ({}), { localAddr: ["127.0.0.1", 70000] }), overflow);
      await assert.rejects(loop.createDatagramEndpoint(() => ({}), { remoteAddr: ["127.0.0.1", 70000] }), overflow);
      // The loop goes on: a real port still works.
      const srv = await loop.createServer(() => ({}), "127.0.0.1", 0);
      srv.close();
    })
  );
  assert.equal(await fdCountSettled(before), before, "no socket was left open");
});

test("sockConnect, Socket.bind/connect/sendto and a datagram transport's sendto refuse ports over 65535", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const s = new Socket(AF_INET, SOCK_STREAM);
      const u = new Socket(AF_INET, SOCK_DGRAM);
      try {
        s.setBlocking(false);
        await assert.rejects(loop.sockConnect(s, ["127.0.0.1", 70000]), overflow);
        assert.throws(() => s.bind(["127.0.0.1", 70000]), overflow);
        assert.throws(() => s.connect(["127.0.0.1", -5]), overflow);
        assert.throws(() => u.sendto(new Uint8Array(1), ["127.0.0.1", 70000]), overflow);
      } finally {
        s.close();
        u.close();
      }
      const [t] = await loop.createDatagramEndpoint(() => ({}), { localAddr: ["127.0.0.1", 0] });
      try {
        assert.throws(() => t.sendto(new Uint8Array(1), ["127.0.0.1", 70000]), overflow);
      } finally {
        t.close();
      }
    })
  ));
