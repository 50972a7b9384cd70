/**
 * transport.setProtocol() on a stream socket while data streams in: between a Protocol and a
 * BufferedProtocol, directly and in loop.startTls's way (pauseReading, setProtocol, resume a
 * callback later). Every byte must reach exactly one protocol, once, in order.
 *
 * Why: the io_uring transport has a receive in flight whenever it reads (a multishot receive
 * into its own buffers for a Protocol, a one-shot into getBuffer()'s buffer for a
 * BufferedProtocol), so a swap lands between a receive's start and its completion; and bytes
 * received while paused wait in the transport, to be delivered to whatever protocol is current
 * on resume (startTls swaps in SSLProtocol, a BufferedProtocol without dataReceived). The
 * selector transport reads within the readiness callback, so it must simply agree.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type BaseEventLoop, socketpair, type Transport } from "../../../mod.ts";
import { ProactorSocketTransport } from "../../../loop/proactor/proactor_socket.ts";
import { isWindows } from "../../../ffi/runtime.ts";
import { concat, withLoop } from "../../helpers.ts";
import { pattern } from "../../net_helpers.ts";

const TOTAL = 4 * 1024 * 1024;

/** How the receiver swaps: setProtocol alone, between pauseReading and resumeReading, or both. */
type Way = "direct" | "paused" | "both";

/** The receiving side: two protocols sharing one record of what arrived, swapping in turn. */
class Receiver {
  readonly chunks: Uint8Array[] = [];
  readonly done;
  transport!: Transport;
  swaps = 0;
  /** Swaps made while the io_uring transport had a receive in flight. */
  swapsInFlight = 0;
  private calls = 0;
  private readonly plain: object;
  private readonly buffered: object;

  constructor(private readonly loop: BaseEventLoop, private readonly way: Way) {
    this.done = loop.createFuture<Error | null>();
    const connectionMade = (t: Transport) => {
      this.transport = t;
    };
    const connectionLost = (exc: Error | null) => this.done.setResult(exc);
    this.plain = {
      connectionMade,
      dataReceived: (d: Uint8Array) => {
        this.chunks.push(d.slice());
        this.received();
      },
      eofReceived() {},
      connectionLost,
    };
    // No dataReceived, as SSLProtocol. Buffers of changing sizes, some smaller than a receive.
    const sizes = [97, 1024, 7000, 65536];
    let buf = new Uint8Array(sizes[0]);
    this.buffered = {
      getBuffer: (_hint: number) => {
        buf = new Uint8Array(sizes[this.calls % sizes.length]);
        buf.fill(0xee); // bytes never received must not pass for data
        return buf;
      },
      bufferUpdated: (n: number) => {
        this.chunks.push(buf.slice(0, n));
        this.received();
      },
      eofReceived() {},
      connectionLost,
    };
  }

  get first(): object {
    return this.plain;
  }

  /** Every second delivery swaps protocols: directly, the startTls way, or in turn. */
  private received(): void {
    if (++this.calls % 2 !== 0) return;
    const t = this.transport;
    const next = t.getProtocol() === this.plain ? this.buffered : this.plain;
    // deno-lint-ignore no-explicit-any
    if (t instanceof ProactorSocketTransport && (t as any)._readOp !== 0) this.swapsInFlight++;
    const paused = this.way === "both" ? this.swaps % 2 === 1 : this.way === "paused";
    this.swaps++;
    if (!paused) {
      t.setProtocol(next);
    } else {
      t.pauseReading();
      t.setProtocol(next);
      this.loop.callSoon(() => t.resumeReading());
    }
  }
}

const ways: [Way, string][] = [
  ["direct", "setProtocol alone"],
  ["paused", "between pauseReading and a later resumeReading (startTls)"],
  ["both", "both ways in turn"],
];
for (const [way, what] of ways) {
  test(`setProtocol between a Protocol and a BufferedProtocol mid-stream, ${what}: every byte once, in order`, () =>
    withLoop(async (loop) => {
      const [a, b] = socketpair();
      const payload = pattern(TOTAL);
      await loop.runUntilComplete(async () => {
        const receiver = new Receiver(loop, way);
        await loop.createConnection(() => receiver.first as never, null, null, { sock: a });
        const [sender] = await loop.createConnection(() => ({}), null, null, { sock: b });
        // Many writes, so the receiving side sees many receives (several per loop iteration).
        for (let off = 0; off < TOTAL; off += 16 * 1024) sender.write(payload.subarray(off, off + 16 * 1024));
        sender.close();
        assert.equal(await receiver.done, null);
        const got = concat(receiver.chunks);
        assert.equal(got.byteLength, TOTAL, `received ${got.byteLength} of ${TOTAL} bytes`);
        const at = got.findIndex((v, i) => v !== payload[i]);
        assert.equal(at, -1, `first wrong byte at ${at}`);
        assert.ok(receiver.swaps >= 10, `only ${receiver.swaps} swaps`);
        // Only a multishot receive (io_uring) is still in flight during its own callback; IOCP
        // has none (recvMultishot is 0 there), so a WSARecv is issued after each delivery.
        if (receiver.transport instanceof ProactorSocketTransport && !isWindows) {
          assert.ok(receiver.swapsInFlight > 0, "no swap happened with a receive in flight");
        }
      });
    }));
}
