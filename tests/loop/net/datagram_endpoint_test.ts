/**
 * createDatagramEndpoint's address rules beyond the CPython port: an allowBroadcast endpoint
 * with a remoteAddr is not connected (asyncio), yet sendto() without an address reaches
 * remoteAddr and datagrams from any peer arrive; addresses must be [host, port] pairs.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AF_INET, type BaseEventLoop, DatagramProtocol, OSError, sleep, SOCK_DGRAM, Socket } from "../../../mod.ts";
import { withLoop } from "../../helpers.ts";

/** Run `loop` a little at a time until `done()` (5 s at most). */
async function until(loop: BaseEventLoop, done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await loop.runUntilComplete(() => sleep(0.01));
}

/** The datagrams `sock` (non-blocking) has now. */
function drain(sock: Socket, into: [string, unknown][]): boolean {
  for (;;) {
    try {
      const [data, from] = sock.recvfrom(100);
      into.push([new TextDecoder().decode(data), from]);
    } catch (e) {
      if (e instanceof OSError && e.code === "EAGAIN") return into.length >= 2;
      throw e;
    }
  }
}

class Collect extends DatagramProtocol {
  received: [Uint8Array, unknown][] = [];
  override datagramReceived(data: Uint8Array, addr: unknown): void {
    this.received.push([data, addr]);
  }
}

test("createDatagramEndpoint: allowBroadcast with remoteAddr leaves the socket unconnected, sendto() without an address goes to remoteAddr", () =>
  withLoop(async (loop) => {
    const peer = new Socket(AF_INET, SOCK_DGRAM);
    const other = new Socket(AF_INET, SOCK_DGRAM);
    try {
      peer.bind(["127.0.0.1", 0]);
      other.bind(["127.0.0.1", 0]);
      const peerAddr = peer.getsockname() as [string, number];
      const protocol = new Collect();
      const [transport] = await loop.runUntilComplete(loop.createDatagramEndpoint(() => protocol, {
        localAddr: ["127.0.0.1", 0],
        remoteAddr: peerAddr,
        allowBroadcast: true,
      }));
      const sock = transport.getExtraInfo("socket") as Socket;
      assert.throws(() => sock.getpeername(), OSError);
      assert.equal(transport.getExtraInfo("peername"), undefined);
      transport.sendto(new TextEncoder().encode("one"));
      transport.sendto(new TextEncoder().encode("two"), peerAddr);
      const local = transport.getExtraInfo("sockname") as [string, number];
      peer.setBlocking(false);
      const got: [string, unknown][] = [];
      await until(loop, () => drain(peer, got));
      assert.deepEqual(got, [["one", local], ["two", local]]);
      // Unconnected: a datagram from a third socket is received too.
      other.sendto(new TextEncoder().encode("three"), local);
      await until(loop, () => protocol.received.length > 0);
      assert.equal(protocol.received.length, 1);
      assert.equal(new TextDecoder().decode(protocol.received[0][0]), "three");
      transport.close();
      await loop.runUntilComplete(() => sleep(0));
    } finally {
      peer.close();
      other.close();
    }
  }));

test("createDatagramEndpoint: an address that is not a [host, port] pair is TypeError '2-tuple is expected', before any socket", () =>
  withLoop(async (loop) => {
    for (const bad of [["127.0.0.1", 0, 0, 0], ["127.0.0.1"], "127.0.0.1:0", 5]) {
      for (const key of ["localAddr", "remoteAddr"]) {
        await assert.rejects(
          loop.runUntilComplete(loop.createDatagramEndpoint(() => new Collect(), { [key]: bad })),
          (e: unknown) => e instanceof TypeError && /2-tuple is expected/.test(e.message) && e.message.includes(key),
        );
      }
    }
  }));
