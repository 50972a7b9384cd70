/**
 * The ProactorEventLoop's two strategies (loop/proactor/proactor_io.ts), chosen once from what
 * its proactor can do. OperationIo — IOCP's way, every call an operation — runs here over the
 * model proactor (tests/fixtures/fake_proactor.ts: real sockets, no readiness polling), so it is
 * exercised on Linux too and not only under Wine; ReadinessIo is the io_uring loop's, which
 * the rest of the suite runs with AIOLOOP_LOOP=proactor. Each hook of the TransportLoop
 * interface must answer with its own family's transport: servers accept with operations,
 * datagram endpoints get the proactor datagram transport, and addReader is refused.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isWindows } from "../../../ffi/runtime.ts";
import {
  AF_INET, DatagramProtocol, NotImplementedError, Protocol, type Socket, SOCK_STREAM, socketpair,
  type Transport, ValueError, waitFor,
} from "../../../mod.ts";
import { Socket as SocketClass } from "../../../loop/net/socket.ts";
import { ProactorEventLoop } from "../../../loop/proactor/proactor_loop.ts";
import { ProactorDatagramTransport } from "../../../loop/proactor/proactor_datagram.ts";
import { ProactorSocketTransport } from "../../../loop/proactor/proactor_socket.ts";
import { SelectorDatagramTransport } from "../../../loop/selector/selector_datagram.ts";
import { FakeProactor } from "../../fixtures/fake_proactor.ts";
import { fdCountSettled, stableFdCount } from "../../helpers.ts";

const skip = isWindows ? "the model proactor uses POSIX non-blocking calls" : false;
const enc = new TextEncoder(), dec = new TextDecoder();

/**
 * Run `body` on a ProactorEventLoop over the model proactor, within 20 s (a loop that picked the
 * wrong strategy waits forever: readiness never comes); every fd it opened is closed after.
 */
async function onOperationLoop(body: (loop: ProactorEventLoop) => Promise<void>): Promise<void> {
  const before = await stableFdCount();
  const loop = new ProactorEventLoop(new FakeProactor());
  try {
    await loop.runUntilComplete(() => waitFor(body(loop), 20));
  } finally {
    loop.close();
  }
  assert.equal(await fdCountSettled(before), before, "every fd released");
}

class Echo extends Protocol {
  transport: Transport | null = null;
  override connectionMade(t: unknown): void {
    this.transport = t as Transport;
  }
  override dataReceived(data: Uint8Array): void {
    this.transport!.write(data);
  }
}

class Collect extends Protocol {
  text = "";
  constructor(private readonly until: number, private readonly done: () => void) {
    super();
  }
  override dataReceived(data: Uint8Array): void {
    this.text += dec.decode(data);
    if (this.text.length >= this.until) this.done();
  }
}

test("OperationIo: a server accepts with operations and its connections are proactor transports; bytes echo", { skip }, async () => {
  await onOperationLoop(async (loop) => {
    const accepted: Echo[] = [];
    const server = await loop.createServer(() => {
      const p = new Echo();
      accepted.push(p);
      return p;
    }, "127.0.0.1", 0);
    const port = (server.sockets[0].getsockname() as [string, number])[1];
    const got = loop.createFuture<void>();
    const [transport, client] = await loop.createConnection(() => new Collect(10, () => got.setResult()), "127.0.0.1", port);
    assert.ok(transport instanceof ProactorSocketTransport);
    transport.write(enc.encode("hello, iocp"));
    await got;
    assert.equal(client.text, "hello, iocp");
    assert.ok(accepted[0].transport instanceof ProactorSocketTransport, "the accepted side too");
    transport.close();
    server.close();
    server.closeClients();
    await server.waitClosed();
  });
});

test("OperationIo: a datagram endpoint is the proactor datagram transport; a datagram goes and comes back", { skip }, async () => {
  await onOperationLoop(async (loop) => {
    const received = loop.createFuture<[string, unknown]>();
    class Receiver extends DatagramProtocol {
      transport: { sendto(d: Uint8Array, a?: unknown): void } | null = null;
      override connectionMade(t: unknown): void {
        this.transport = t as { sendto(d: Uint8Array, a?: unknown): void };
      }
      override datagramReceived(data: Uint8Array, addr: unknown): void {
        if (!received.done()) received.setResult([dec.decode(data), addr]);
      }
    }
    const [server] = await loop.createDatagramEndpoint(() => new Receiver(), { localAddr: ["127.0.0.1", 0] });
    assert.ok(server instanceof ProactorDatagramTransport);
    assert.ok(!(server instanceof SelectorDatagramTransport));
    const addr = server.getExtraInfo("sockname") as [string, number];
    const [client, clientProto] = await loop.createDatagramEndpoint(() => new Receiver(), { remoteAddr: addr });
    assert.ok(client instanceof ProactorDatagramTransport);
    clientProto.transport!.sendto(enc.encode("ping"));
    const [text, from] = await received;
    assert.equal(text, "ping");
    assert.deepEqual(from, client.getExtraInfo("sockname"));
    client.close();
    server.close();
  });
});

test("OperationIo: the sock_* calls are operations (connect, accept, sendall, recv), and their argument errors leave the loop running", { skip }, async () => {
  await onOperationLoop(async (loop) => {
    const listener: Socket = new SocketClass(AF_INET, SOCK_STREAM);
    listener.setBlocking(false);
    listener.bind(["127.0.0.1", 0]);
    listener.listen(4);
    const client: Socket = new SocketClass(AF_INET, SOCK_STREAM);
    client.setBlocking(false);
    try {
      const accepting = loop.sockAccept(listener);
      await loop.sockConnect(client, listener.getsockname() as [string, number]);
      const [conn] = await accepting;
      try {
        await loop.sockSendall(client, enc.encode("over operations"));
        let text = "";
        while (text.length < 15) text += dec.decode(await loop.sockRecv(conn, 64));
        assert.equal(text, "over operations");
        const blocking = socketpair();
        try {
          await assert.rejects(loop.sockRecv(blocking[0], 8), ValueError); // a blocking socket
        } finally {
          blocking[0].close();
          blocking[1].close();
        }
        assert.throws(() => loop.addReader(conn, () => {}), NotImplementedError);
        await loop.sockSendall(conn, enc.encode("still fine"));
        let back = "";
        while (back.length < 10) back += dec.decode(await loop.sockRecv(client, 64));
        assert.equal(back, "still fine");
      } finally {
        conn.close();
      }
    } finally {
      client.close();
      listener.close();
    }
  });
});
