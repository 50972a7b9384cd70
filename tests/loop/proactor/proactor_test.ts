/**
 * The io_uring proactor loop's own promises, beyond the shared networking suites (which run on
 * it with AIOLOOP_LOOP=proactor): cancel and close while operations are in flight — no crash, no
 * buffer written after its completion, no leaked fd, connectionLost exactly once — and
 * addReader/addWriter through POLL_ADD with level-triggered behaviour. The rules of the
 * Proactor interface itself are checked through its public methods by the contract suite
 * (tests/platform/proactor_contract.ts, run in tests/platform/proactor_contract_test.ts); what stays here is the
 * loop and its transports on io_uring, and io_uring details no other proactor has.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { collectGarbage } from "../../../ffi/runtime.ts";
import {
  CancelledError, newEventLoop, NotImplementedError, type Socket, socketpair, type Transport,
} from "../../../mod.ts";
import { proactorUnavailableReason } from "../../../platform/default_proactor.ts";
import { ProactorEventLoop } from "../../../loop/proactor/proactor_loop.ts";
import { IoUringProactor, PBUF_COUNT } from "../../../platform/io_uring.ts";
import { ProactorSocketTransport } from "../../../loop/proactor/proactor_socket.ts";
import { concat, fdCountSettled, hostDelay, stableFdCount } from "../../helpers.ts";
import { pattern, sha256 } from "../../net_helpers.ts";

const why = proactorUnavailableReason();
const skip = why ?? false;
if (why) console.log(`proactor_test: ${why}`);

/** The loop's proactor, which on Linux is io_uring's (its counters are what these tests read). */
function uring(loop: ProactorEventLoop): IoUringProactor {
  const proactor = loop._proactor;
  assert.ok(proactor instanceof IoUringProactor, "the default proactor on Linux is io_uring's");
  return proactor;
}
const inFlight = (loop: ProactorEventLoop) => uring(loop).operationsInFlight;

test("newEventLoop({proactor: true}) is a ProactorEventLoop, or says clearly why it cannot be", () => {
  if (why !== null) {
    assert.throws(() => newEventLoop({ proactor: true }), (e: unknown) =>
      e instanceof NotImplementedError && /io_uring is unavailable: io_uring_setup\(2\) failed/.test(e.message));
    return;
  }
  const loop = newEventLoop({ proactor: true });
  try {
    assert.ok(loop instanceof ProactorEventLoop);
  } finally {
    loop.close();
  }
});

class Recorder {
  lost: (Error | null)[] = [];
  data: Uint8Array[] = [];
  transport!: Transport;
  connectionMade(t: Transport) {
    this.transport = t;
  }
  dataReceived(d: Uint8Array) {
    this.data.push(d);
  }
  connectionLost(exc: Error | null) {
    this.lost.push(exc);
  }
}

/** Poll every 2 ms, at most `tries` times, until `recorders` together received `total` bytes. */
async function untilReceived(recorders: Recorder[], total: number, tries: number): Promise<void> {
  const received = () => recorders.reduce((m, r) => m + r.data.reduce((k, c) => k + c.byteLength, 0), 0);
  for (let i = 0; i < tries && received() < total; i++) await new Promise((r) => setTimeout(r, 2));
}

/**
 * A ProactorSocketTransport on one end of a fresh socketpair, once connectionMade ran; the
 * other end (`peer`) is non-blocking for the loop's sock* calls.
 */
async function transportOnPair(
  loop: ProactorEventLoop,
  protocol: ConstructorParameters<typeof ProactorSocketTransport>[2],
): Promise<{ t: ProactorSocketTransport; sock: Socket; peer: Socket }> {
  const [a, peer] = socketpair();
  a.setBlocking(false);
  peer.setBlocking(false);
  const waiter = loop.createFuture();
  const t = new ProactorSocketTransport(loop, a, protocol, { waiter });
  await loop.runUntilComplete(waiter);
  return { t, sock: a, peer };
}

test("abort with a receive and a 4 MiB send in flight: connectionLost once, no fd left, ops drained", { skip }, async () => {
  const before = await stableFdCount();
  const loop = new ProactorEventLoop();
  try {
    const recorders: Recorder[] = [];
    const peers = [];
    for (let i = 0; i < 20; i++) {
      const p = new Recorder();
      recorders.push(p);
      const { t, peer } = await transportOnPair(loop, p);
      peers.push(peer);
      t.write(new Uint8Array(4 << 20)); // the peer never reads: a SEND stays in flight
      assert.ok(t.getWriteBufferSize() > 0);
    }
    await loop.runUntilComplete(async () => await new Promise((r) => setTimeout(r, 5)));
    assert.ok(inFlight(loop) >= 40, `receives and sends in flight: ${inFlight(loop)}`);
    for (const p of recorders) {
      p.transport.abort();
      p.transport.abort();
      p.transport.close();
    }
    collectGarbage(); // the write buffers are only reachable through the proactor now
    await loop.runUntilComplete(async () => {
      for (let i = 0; i < 200 && inFlight(loop) > 0; i++) await new Promise((r) => setTimeout(r, 2));
    });
    assert.equal(inFlight(loop), 0, "every cancelled operation completed");
    for (const p of recorders) assert.deepEqual(p.lost, [null]);
    for (const b of peers) b.close();
  } finally {
    loop.close();
  }
  assert.equal(await fdCountSettled(before), before, "no fd leaked (socket, ring, eventfd, epoll)");
});

test("write() copies: the caller reuses its array at once, across 200 writes of mixed sizes in one iteration", { skip }, async () => {
  // The io_uring transport sends at the loop's next io_uring_enter, from staging buffers it
  // reuses as sends complete: the peer must get what was written, not what the array held later.
  const loop = new ProactorEventLoop();
  try {
    const p = new Recorder();
    const { t, peer: b } = await transportOnPair(loop, p);
    const scratch = new Uint8Array(100_000);
    const expected: number[] = [];
    let total = 0;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 50; i++) {
        const n = [1, 700, 10_000, 65_536, 70_000][(round + i) % 5];
        const fill = (round * 50 + i) % 251;
        scratch.fill(fill, 0, n);
        t.write(scratch.subarray(0, n));
        scratch.fill(255, 0, n); // reused before any send could have run
        for (let k = 0; k < n; k++) expected.push(fill);
        total += n;
      }
      await loop.runUntilComplete(Promise.resolve()); // some sends complete, chunks come back
    }
    const got: Uint8Array[] = [];
    let received = 0;
    while (received < total) {
      const chunk = await loop.runUntilComplete(loop.sockRecv(b, 1 << 20));
      got.push(chunk);
      received += chunk.byteLength;
    }
    const all = concat(got);
    assert.equal(received, total);
    const firstBad = expected.findIndex((v, k) => all[k] !== v);
    assert.equal(firstBad, -1, `byte ${firstBad} differs`);
    t.close();
    b.close();
  } finally {
    loop.close();
  }
});

test("kept receives stay intact across 32 MiB while the provided buffers are reused under them", { skip }, async () => {
  const loop = new ProactorEventLoop();
  try {
    const p = new Recorder();
    const { t, peer: b } = await transportOnPair(loop, p);
    const data = pattern(32 * 1024 * 1024);
    await loop.runUntilComplete(async () => {
      const sent = loop.sockSendall(b, data);
      await untilReceived([p], data.length, 1000);
      await sent;
    });
    // Each completion holds at most PBUF_SIZE bytes: 32 MiB takes over 4× PBUF_COUNT of them,
    // so every buffer was provided again several times while earlier chunks were kept.
    assert.ok(p.data.length > 4 * PBUF_COUNT, `${p.data.length} receives`);
    assert.equal(sha256(...p.data), sha256(data), "every kept chunk still holds its bytes");
    for (const c of p.data) assert.ok(c.buffer.byteLength <= 16 * c.byteLength, "pin bound");
    t.close();
    b.close();
  } finally {
    loop.close();
  }
});

test("more connections receiving at once than the ring has buffers: the dry ring ends receives, they start again, every byte arrives", { skip }, async () => {
  const loop = new ProactorEventLoop();
  const proactor = loop._proactor;
  // Count multishot submissions: past one per connection, receives were started again.
  let submitted = 0;
  const recvMultishot = proactor.recvMultishot.bind(proactor);
  proactor.recvMultishot = (...args: Parameters<typeof recvMultishot>) => {
    submitted++;
    return recvMultishot(...args);
  };
  try {
    const n = 4 * PBUF_COUNT;
    const pairs: { t: ProactorSocketTransport; peer: Socket; r: Recorder }[] = [];
    for (let i = 0; i < n; i++) {
      const r = new Recorder();
      pairs.push({ r, ...await transportOnPair(loop, r) });
    }
    const data = pattern(96 * 1024);
    // Every peer's bytes are waiting before the loop runs again: each connection's next
    // completion wants a buffer at once, four times more than the ring holds.
    for (const { peer } of pairs) assert.equal(peer.send(data), data.length);
    await loop.runUntilComplete(untilReceived(pairs.map(({ r }) => r), n * data.length, 500));
    for (const { r } of pairs) assert.equal(sha256(...r.data), sha256(data));
    assert.ok(submitted > n, `${submitted} multishot receives for ${n} connections`);
    for (const { t, peer } of pairs) {
      t.close();
      peer.close();
    }
  } finally {
    loop.close();
  }
});

test("a BufferedProtocol's tiny buffer lent to the kernel survives garbage collections mid-receive", { skip }, async () => {
  // A 16-byte Uint8Array may start life inside the JS heap; the receive is in flight in the
  // kernel while collections run, and every byte must still land where the protocol looks.
  const loop = new ProactorEventLoop();
  try {
    const got: number[] = [];
    let done: () => void = () => {};
    const finished = new Promise<void>((r) => (done = r));
    const protocol = {
      buf: new Uint8Array(16),
      connectionMade(_t: Transport) {},
      getBuffer(_hint: number) {
        return this.buf;
      },
      bufferUpdated(n: number) {
        for (let i = 0; i < n; i++) got.push(this.buf[i]);
        if (got.length % 512 < 16) collectGarbage();
      },
      eofReceived() {
        done();
      },
      connectionLost() {},
    };
    const { t, peer: b } = await transportOnPair(loop, protocol);
    const data = pattern(8 * 1024);
    await loop.runUntilComplete(async () => {
      for (let off = 0; off < data.length; off += 512) {
        collectGarbage(); // while the 16-byte receive is in flight
        await loop.sockSendall(b, data.subarray(off, off + 512));
        await new Promise((r) => setTimeout(r, 0));
      }
      b.shutdown(1);
      await finished;
    });
    assert.equal(sha256(new Uint8Array(got)), sha256(data));
    t.close();
    b.close();
  } finally {
    loop.close();
  }
});

test("close() of a loop with operations in flight drains them before unmapping", { skip }, async () => {
  const before = await stableFdCount();
  const loop = new ProactorEventLoop();
  const { sock: a, peer: b } = await transportOnPair(loop, new Recorder());
  const buf = new Uint8Array(16);
  const pending = loop.createTask(() => loop.sockRecvInto(b, buf));
  await loop.runUntilComplete(async () => await new Promise((r) => setTimeout(r, 5)));
  assert.ok(inFlight(loop) >= 2);
  pending.cancel();
  await loop.runUntilComplete(async () => await new Promise((r) => setTimeout(r, 5)));
  loop.close(); // a's multishot receive is still in flight: close must cancel and wait for it
  assert.equal(uring(loop).leakedOperations, 0);
  assert.equal(pending.cancelled(), true);
  a.send(new Uint8Array([1, 2, 3])); // would land in buf if the receive were still alive
  await hostDelay(10);
  a.close();
  b.close();
  assert.deepEqual([...buf], new Array(16).fill(0), "a cancelled receive never wrote its buffer");
  assert.equal(await fdCountSettled(before), before);
});

test("a cancelled sockRecv gives up its buffer only after the kernel let go of it", { skip }, async () => {
  const loop = new ProactorEventLoop();
  const [a, b] = socketpair();
  a.setBlocking(false);
  try {
    await loop.runUntilComplete(async () => {
      const task = loop.createTask(() => loop.sockRecv(a, 1024));
      await new Promise((r) => setTimeout(r, 2));
      task.cancel();
      await assert.rejects(Promise.resolve(task), CancelledError);
      collectGarbage();
      for (let i = 0; i < 100 && inFlight(loop) > 0; i++) await new Promise((r) => setTimeout(r, 1));
      assert.equal(inFlight(loop), 0);
      // The socket still works: the next receive sees the bytes, none was swallowed.
      b.send(new TextEncoder().encode("after cancel"));
      assert.equal(new TextDecoder().decode(await loop.sockRecv(a, 1024)), "after cancel");
    });
  } finally {
    a.close();
    b.close();
    loop.close();
  }
});

test("addReader is level-triggered over POLL_ADD; removeReader/removeWriter report", { skip }, async () => {
  const loop = new ProactorEventLoop();
  const [a, b] = socketpair();
  a.setBlocking(false);
  try {
    let calls = 0;
    const done = loop.createFuture();
    // Never reads: a level-triggered watcher is called again and again.
    loop.addReader(a, () => {
      if (++calls === 3) done.setResult(null);
    });
    b.send(new Uint8Array([1]));
    await loop.runUntilComplete(done);
    assert.equal(loop.removeReader(a), true);
    assert.equal(loop.removeReader(a), false);
    const writable = loop.createFuture();
    loop.addWriter(a.fileno(), () => writable.done() || writable.setResult("w"));
    assert.equal(await loop.runUntilComplete(writable), "w");
    assert.equal(loop.removeWriter(a), true);
    await loop.runUntilComplete(async () => await new Promise((r) => setTimeout(r, 2)));
    assert.equal(inFlight(loop), 0, "removed watchers leave no POLL_ADD behind");
  } finally {
    a.close();
    b.close();
    loop.close();
  }
});

test("sockConnect/sockAccept/sockSendall/sockRecv and UDP sockSendto/sockRecvfrom as io_uring operations", { skip }, async () => {
  const { AF_INET, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_STREAM, Socket } = await import("../../../mod.ts");
  const loop = new ProactorEventLoop();
  try {
    await loop.runUntilComplete(async () => {
      const srv = new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
      srv.bind(["127.0.0.1", 0]);
      srv.listen();
      const cli = new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
      const accepting = loop.createTask(() => loop.sockAccept(srv));
      await loop.sockConnect(cli, srv.getsockname() as [string, number]);
      const [conn, peer] = await accepting;
      assert.deepEqual(peer, cli.getsockname());
      const big = new Uint8Array(3 << 20).map((_, i) => i & 0xff);
      const sending = loop.createTask(() => loop.sockSendall(cli, big));
      let got = 0;
      while (got < big.length) got += (await loop.sockRecv(conn, 1 << 16)).length;
      await sending;
      assert.equal(got, big.length);
      for (const s of [srv, cli, conn]) s.close();
      const u1 = new Socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK), u2 = new Socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK);
      u1.bind(["127.0.0.1", 0]);
      u2.bind(["127.0.0.1", 0]);
      const receiving = loop.createTask(() => loop.sockRecvfrom(u2, 100));
      assert.equal(await loop.sockSendto(u1, new TextEncoder().encode("dgram"), u2.getsockname() as [string, number]), 5);
      const [data, from] = await receiving;
      assert.equal(new TextDecoder().decode(data), "dgram");
      assert.deepEqual(from, u1.getsockname());
      u1.close();
      u2.close();
    });
  } finally {
    loop.close();
  }
});

/** Sends one byte back for every byte it receives: with two on a pair, a ping-pong. */
class Bouncer extends Recorder {
  rounds = 0;
  override dataReceived(d: Uint8Array) {
    this.rounds++;
    this.transport.write(d);
  }
}

test("under a steady ping-pong the loop waits for completions on its own thread, and the host still gets its turns", { skip }, async () => {
  const loop = new ProactorEventLoop();
  let ticks = 0;
  const interval = setInterval(() => ticks++, 5);
  try {
    const a = new Bouncer(), b = new Bouncer();
    const pair = socketpair();
    const ta = new ProactorSocketTransport(loop, pair[0], a, {});
    const tb = new ProactorSocketTransport(loop, pair[1], b, {});
    // deno-lint-ignore no-explicit-any
    const proactor = loop._proactor as any;
    const park = proactor.park.bind(proactor);
    let parks = 0;
    proactor.park = (ms: number) => {
      parks++;
      return park(ms);
    };
    loop.callSoon(() => ta.write(new Uint8Array([7])));
    loop.callLater(0.3, () => loop.stop());
    await loop.runForever();
    const rounds = a.rounds + b.rounds;
    assert.ok(rounds > 1000, `only ${rounds} bounces in 300 ms`);
    // Each bounce leaves the loop idle until the next completion, a few µs away: waiting for
    // it in io_uring_enter (one system call) instead of parking (a thread hop).
    assert.ok(parks < rounds / 100, `${parks} parks for ${rounds} bounces`);
    assert.ok(ticks >= 20, `only ${ticks} host ticks in 300 ms of ping-pong`);
    ta.abort();
    tb.abort();
    await loop.runUntilComplete(async () => await new Promise((r) => setTimeout(r, 5)));
  } finally {
    clearInterval(interval);
    loop.close();
  }
});

test("a parked loop wakes as soon as a receive completes: the completion eventfd is signalled while parked", { skip }, async () => {
  const loop = new ProactorEventLoop();
  try {
    const arrived = loop.createFuture<number>();
    const p = new (class extends Recorder {
      override dataReceived(d: Uint8Array) {
        super.dataReceived(d);
        if (!arrived.done()) arrived.setResult(performance.now());
      }
    })();
    const { t, peer } = await transportOnPair(loop, p);
    // Nothing is due for 5 s: only the completion can end the park (the brief wait is long over
    // when the host timer sends, 50 ms in).
    const guard = loop.callLater(5, () => arrived.done() || arrived.setResult(-1));
    let sentAt = 0;
    setTimeout(() => {
      sentAt = performance.now();
      peer.send(new Uint8Array([1, 2, 3]));
    }, 50);
    const at = await loop.runUntilComplete(arrived);
    guard.cancel();
    assert.ok(at > 0, "the receive never woke the parked loop");
    assert.ok(at - sentAt < 1000, `woke ${at - sentAt} ms after the send`);
    t.close();
    peer.close();
    await loop.runUntilComplete(async () => await new Promise((r) => setTimeout(r, 5)));
  } finally {
    loop.close();
  }
});

test("without a bounded wait (kernel < 5.11, no IORING_FEAT_EXT_ARG) poll(deferSubmit) still submits: nothing is left to a wait that cannot happen", { skip }, async () => {
  const loop = new ProactorEventLoop();
  try {
    // deno-lint-ignore no-explicit-any
    const proactor = loop._proactor as any;
    proactor.briefWaitArg = null; // what the constructor leaves on such a kernel
    assert.equal(proactor.waitBriefly(), false);
    let fired = 0;
    proactor.timeout(0, { _ioComplete: () => fired++ }, 0);
    // The loop's idle path: poll(deferSubmit), then (no bounded wait) it would park. Polling
    // alone must see the timeout complete, so it has to have been submitted.
    for (let i = 0; i < 50 && fired === 0; i++) {
      proactor.poll(true);
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.equal(fired, 1, "the timeout was never submitted");
  } finally {
    loop.close();
  }
});
