/**
 * The public networking API on Windows: ProactorEventLoop over IocpProactor through the same
 * entry points the Linux suites use (createServer/createConnection with protocols, streams,
 * sock* coroutines, createDatagramEndpoint, connectReadPipe/connectWritePipe), their errors,
 * and what closing releases. The Linux suites themselves (the `_test.ts` files under tests/) need node:test's
 * runner and a python3 peer, neither of which runs under Wine here.
 */
import {
  AF_INET, AF_INET6, newEventLoop, NotImplementedError, openConnection, OSError,
  ProactorEventLoop, setEventLoop, Socket, SOCK_STREAM, startServer, ValueError,
} from "../../mod.ts";
import type { DatagramTransport, SockAddr, Transport } from "../../mod.ts";
import { IocpProactor } from "../../platform/windows.ts";
import { kernel32, openHandles, overlappedPipe } from "./win.ts";
import { assert, assertEquals } from "./proactor_cases.ts";
import type { Case } from "./run.ts";

type Loop = ProactorEventLoop;
const enc = new TextEncoder(), dec = new TextDecoder();

/** Run `body` on a fresh default loop (which must be the IOCP proactor loop), then close it. */
async function onLoop(body: (loop: Loop) => Promise<void>): Promise<void> {
  const loop = newEventLoop();
  assert(loop instanceof ProactorEventLoop, "the default loop on Windows is the proactor loop");
  setEventLoop(loop);
  try {
    await loop.runUntilComplete(() => body(loop));
  } finally {
    loop.close();
    setEventLoop(null);
  }
}

/** `n` bytes of a pattern that shows a reordered or dropped chunk. */
function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 10)) & 0xff;
  return b;
}

function sleep(loop: Loop, seconds: number): Promise<void> {
  return new Promise((ok) => loop.callLater(seconds, ok));
}

/** A protocol that echoes, or records, and counts its callbacks. */
class Recording {
  transport: Transport | undefined;
  received: Uint8Array[] = [];
  made = 0;
  eof = 0;
  lost: (Error | null)[] = [];
  readonly closed: Promise<void>;
  private onLost!: () => void;
  constructor(readonly echo = false) {
    this.closed = new Promise((ok) => (this.onLost = ok));
  }
  connectionMade(t: Transport): void {
    this.made++;
    this.transport = t;
  }
  dataReceived(data: Uint8Array): void {
    if (this.echo) this.transport!.write(data);
    else this.received.push(data);
  }
  eofReceived(): boolean | void {
    this.eof++;
    if (this.echo) this.transport!.close();
  }
  connectionLost(exc: Error | null): void {
    this.lost.push(exc);
    this.onLost();
  }
  bytes(): number {
    return this.received.reduce((n, b) => n + b.byteLength, 0);
  }
  joined(): Uint8Array {
    const out = new Uint8Array(this.bytes());
    let at = 0;
    for (const b of this.received) {
      out.set(b, at);
      at += b.byteLength;
    }
    return out;
  }
}

const families: [string, number, string][] = [["IPv4", AF_INET, "127.0.0.1"], ["IPv6", AF_INET6, "::1"]];

export const networkCases: Case[] = [
  ["api: newEventLoop() is a ProactorEventLoop over IOCP; addReader raises NotImplementedError", () => {
    const loop = newEventLoop();
    try {
      assert(loop instanceof ProactorEventLoop, "the default loop on Windows is the proactor loop");
      assert(loop._proactor instanceof IocpProactor, "over an IocpProactor");
      let raised: unknown;
      try {
        loop.addReader(1, () => {});
      } catch (e) {
        raised = e;
      }
      assert(raised instanceof NotImplementedError, `addReader raised ${String(raised)}`);
    } finally {
      loop.close();
    }
  }],

  ...families.map(([name, family, host]): Case => [
    `api: TCP ${name} createServer/createConnection, 1 MiB echoed, connectionLost once each side`,
    () => onLoop(async (loop) => {
      const served: Recording[] = [];
      const server = await loop.createServer(() => {
        const p = new Recording(true);
        served.push(p);
        return p;
      }, host, 0, { family });
      const port = (server.sockets![0].getsockname() as [string, number])[1];
      const [transport, client] = await loop.createConnection(() => new Recording(), host, port);
      const peer = transport.getExtraInfo("peername") as [string, number];
      assertEquals(peer[1], port, "peername port");
      const data = pattern(1 << 20);
      transport.write(data.subarray(0, 1000));
      transport.write(data.subarray(1000)); // queued behind the first send, coalesced
      while (client.bytes() < data.length) await sleep(loop, 0.01);
      assertEquals(client.bytes(), data.length, "bytes echoed");
      assert(client.joined().every((b, i) => b === data[i]), "bytes intact and in order");
      transport.writeEof();
      await client.closed;
      await served[0].closed;
      assertEquals(client.eof, 1, "client saw EOF once");
      assertEquals(client.lost.length, 1, "client connectionLost once");
      assertEquals(served[0].lost.length, 1, "server side connectionLost once");
      assertEquals(served[0].made, 1, "server side connectionMade once");
      assertEquals(server.activeConnections, 0, "server connections after close");
      server.close();
      await server.waitClosed();
    }),
  ]),

  ["api: streams startServer/openConnection, three clients at once", () =>
    onLoop(async () => {
      const server = await startServer(async (reader, writer) => {
        for (;;) {
          const line = await reader.readline();
          if (line.byteLength === 0) break;
          writer.write(enc.encode(dec.decode(line).toUpperCase()));
          await writer.drain();
        }
        writer.close();
        await writer.waitClosed();
      }, "127.0.0.1", 0);
      const port = (server.sockets![0].getsockname() as [string, number])[1];
      const talk = async (i: number) => {
        const [reader, writer] = await openConnection("127.0.0.1", port);
        const replies: string[] = [];
        for (const word of ["alpha", "beta", `client ${i}`]) {
          writer.write(enc.encode(word + "\n"));
          replies.push(dec.decode(await reader.readline()).trim());
        }
        writer.writeEof();
        assertEquals((await reader.read()).byteLength, 0, "EOF after the server closed");
        writer.close();
        await writer.waitClosed();
        return replies.join(",");
      };
      const results = await Promise.all([0, 1, 2].map(talk));
      assertEquals(results[2], "ALPHA,BETA,CLIENT 2", "replies");
      server.close();
      await server.waitClosed();
    })],

  ["api: sockAccept/sockConnect/sockSendall/sockRecv/sockRecvInto", () =>
    onLoop(async (loop) => {
      const listener = new Socket(AF_INET, SOCK_STREAM);
      listener.bind(["127.0.0.1", 0]);
      listener.listen();
      listener.setBlocking(false);
      const address = listener.getsockname() as [string, number];
      const client = new Socket(AF_INET, SOCK_STREAM);
      client.setBlocking(false);
      try {
        const accepting = loop.sockAccept(listener);
        await loop.sockConnect(client, address);
        const [conn, peer] = await accepting;
        assertEquals(JSON.stringify(peer), JSON.stringify(client.getsockname()), "accepted peer address");
        const data = pattern(300_000);
        const sending = loop.sockSendall(client, data);
        const got = new Uint8Array(data.length);
        let n = 0;
        while (n < data.length) {
          const chunk = await loop.sockRecv(conn, 65536);
          assert(chunk.byteLength > 0, "no early EOF");
          got.set(chunk, n);
          n += chunk.byteLength;
        }
        await sending;
        assert(got.every((b, i) => b === data[i]), "bytes intact");
        await loop.sockSendall(conn, enc.encode("pong"));
        const into = new Uint8Array(16);
        assertEquals(await loop.sockRecvInto(client, into), 4, "sockRecvInto count");
        assertEquals(dec.decode(into.subarray(0, 4)), "pong", "sockRecvInto bytes");
        conn.close();
        assertEquals((await loop.sockRecv(client, 10)).byteLength, 0, "EOF once the peer closed");
      } finally {
        client.close();
        listener.close();
      }
    })],

  ["errors: ECONNREFUSED, EADDRINUSE, a closed socket, write after close", () =>
    onLoop(async (loop) => {
      // A port nobody listens on: bind one, then close it.
      const probe = new Socket(AF_INET, SOCK_STREAM);
      probe.bind(["127.0.0.1", 0]);
      const freePort = (probe.getsockname() as [string, number])[1];
      probe.close();
      let refused: unknown;
      try {
        await loop.createConnection(() => new Recording(), "127.0.0.1", freePort);
      } catch (e) {
        refused = e;
      }
      assert(refused instanceof OSError && refused.code === "ECONNREFUSED", `createConnection: ${String(refused)}`);

      const server = await loop.createServer(() => new Recording(true), "127.0.0.1", 0);
      const port = (server.sockets![0].getsockname() as [string, number])[1];
      let inUse: unknown;
      try {
        await loop.createServer(() => new Recording(), "127.0.0.1", port);
      } catch (e) {
        inUse = e;
      }
      assert(inUse instanceof OSError && inUse.code === "EADDRINUSE", `second createServer: ${String(inUse)}`);

      const closed = new Socket(AF_INET, SOCK_STREAM);
      closed.setBlocking(false);
      closed.close();
      let misuse: unknown;
      try {
        await loop.sockRecv(closed, 10);
      } catch (e) {
        misuse = e;
      }
      assert(misuse instanceof ValueError, `sockRecv on a closed socket: ${String(misuse)}`);

      const [transport, client] = await loop.createConnection(() => new Recording(), "127.0.0.1", port);
      transport.close();
      transport.write(enc.encode("dropped")); // after close: dropped, not thrown
      await client.closed;
      transport.write(enc.encode("dropped too"));
      await sleep(loop, 0.02);
      assertEquals(client.lost.length, 1, "connectionLost once");
      assertEquals(client.lost[0], null, "a clean close");
      server.close();
      await server.waitClosed();
    })],

  ["api: UDP createDatagramEndpoint, unconnected server and connected client", () =>
    onLoop(async (loop) => {
      const seen: [string, unknown][] = [];
      const [server] = await loop.createDatagramEndpoint(() => ({
        datagramReceived(data: Uint8Array, addr: SockAddr) {
          seen.push([dec.decode(data), addr]);
          server.sendto(enc.encode(dec.decode(data).split("").reverse().join("")), addr);
        },
      }), { localAddr: ["127.0.0.1", 0] });
      const address = server.getExtraInfo("sockname") as [string, number];
      const replies: string[] = [];
      let lost = 0;
      const [client]: [DatagramTransport, unknown] = await loop.createDatagramEndpoint(() => ({
        datagramReceived(data: Uint8Array) {
          replies.push(dec.decode(data));
        },
        connectionLost() {
          lost++;
        },
      }), { remoteAddr: address });
      for (const word of ["one", "two", "three"]) client.sendto(enc.encode(word));
      while (replies.length < 3) await sleep(loop, 0.01);
      assertEquals(replies.sort().join(","), "eerht,eno,owt", "replies");
      const clientAddr = client.getExtraInfo("sockname") as [string, number];
      assertEquals(JSON.stringify(seen[0][1]), JSON.stringify(clientAddr), "the sender's address");
      let refused: unknown;
      try {
        client.sendto(enc.encode("x"), ["127.0.0.1", 9]);
      } catch (e) {
        refused = e;
      }
      assert(refused instanceof ValueError, "a connected endpoint refuses another address");
      client.close();
      client.close();
      server.close();
      await sleep(loop, 0.02);
      assertEquals(lost, 1, "connectionLost once");
    })],

  ["api: connectReadPipe/connectWritePipe over an overlapped named pipe; EOF; EPIPE", () =>
    onLoop(async (loop) => {
      const [serverEnd, clientEnd] = overlappedPipe();
      const reader = new Recording();
      const [readTransport] = await loop.connectReadPipe(() => reader, serverEnd);
      const writer = new Recording();
      const [writeTransport] = await loop.connectWritePipe(() => writer, clientEnd);
      const data = pattern(200_000);
      writeTransport.write(data.subarray(0, 70_000));
      writeTransport.write(data.subarray(70_000));
      while (reader.bytes() < data.length) await sleep(loop, 0.01);
      assert(reader.joined().every((b, i) => b === data[i]), "bytes intact");
      readTransport.pauseReading();
      assert(!readTransport.isReading(), "paused");
      readTransport.resumeReading();
      writeTransport.close(); // closes the client end: the reader sees EOF
      await reader.closed;
      await writer.closed;
      assertEquals(reader.eof, 1, "eofReceived once");
      assertEquals(reader.lost.length, 1, "reader connectionLost once");
      assertEquals(writer.lost.length, 1, "writer connectionLost once");
      assertEquals(writer.lost[0], null, "writer closed cleanly");

      // The reading end goes away: the next write fails with EPIPE, reported to the protocol.
      const [serverEnd2, clientEnd2] = overlappedPipe();
      const writer2 = new Recording();
      const [wt2] = await loop.connectWritePipe(() => writer2, clientEnd2);
      loop._proactor.closeHandle!(serverEnd2);
      wt2.write(enc.encode("nobody reads this"));
      await writer2.closed;
      const exc = writer2.lost[0] as OSError | null;
      assert(exc instanceof OSError && exc.code === "EPIPE", `write to a closed pipe: ${String(exc)}`);
    })],

  ["close: loop.close() with a connection reading and a server accepting: nothing left in flight", async () => {
    const loop = newEventLoop();
    assert(loop instanceof ProactorEventLoop, "the default loop on Windows is the proactor loop");
    const proactor = loop._proactor as IocpProactor;
    let transport: Transport | undefined;
    let server: { close(): void } | undefined;
    let port = 0;
    try {
      await loop.runUntilComplete(async () => {
        const srv = await loop.createServer(() => new Recording(), "127.0.0.1", 0);
        server = srv;
        const port = (srv.sockets![0].getsockname() as [string, number])[1];
        [transport] = await loop.createConnection(() => new Recording(), "127.0.0.1", port);
        await sleep(loop, 0.02);
      });
      assert(proactor.inFlight >= 3, `reads and the accept in flight: ${proactor.inFlight}`);
    } finally {
      port = proactor.portHandle;
      loop.close();
    }
    assertEquals(proactor.inFlight, 0, "operations in flight after close");
    assert(port > 0, "the port had a handle");
    assertEquals(kernel32().CloseHandle(port), 0, "the port is closed already");
    // The sockets are still the caller's to close (asyncio's loop.close does not close transports).
    const sock = transport!.getExtraInfo("socket") as Socket;
    assert(sock.fileno() > 0, "the connection's socket is still open");
    sock.close();
    server!.close();
  }],

  ["leaks: a loop that served TCP, UDP and pipes leaves no handle open once closed", async () => {
    // Warm up first: Winsock, the parking thread and the extension functions open handles once
    // per process; those are not the loop's.
    await onLoop(async (loop) => {
      const server = await loop.createServer(() => new Recording(true), "127.0.0.1", 0);
      const port = (server.sockets![0].getsockname() as [string, number])[1];
      const [t, p] = await loop.createConnection(() => new Recording(), "127.0.0.1", port);
      t.close();
      await p.closed;
      server.close();
      await sleep(loop, 0.02);
    });
    await new Promise((ok) => setTimeout(ok, 100));
    const before = openHandles();
    await onLoop(async (loop) => {
      const server = await loop.createServer(() => new Recording(true), "127.0.0.1", 0);
      const port = (server.sockets![0].getsockname() as [string, number])[1];
      const [t, p] = await loop.createConnection(() => new Recording(), "127.0.0.1", port);
      t.write(enc.encode("ping"));
      while (p.bytes() < 4) await sleep(loop, 0.01);
      // An open connection, and an accept in flight, when the server closes.
      const [t2, p2] = await loop.createConnection(() => new Recording(), "127.0.0.1", port);
      t.close();
      t2.close();
      await Promise.all([p.closed, p2.closed]);
      server.close();
      await server.waitClosed();
      const [udp] = await loop.createDatagramEndpoint(() => ({}), { localAddr: ["127.0.0.1", 0] });
      udp.close();
      const [a, b] = overlappedPipe();
      const [rt] = await loop.connectReadPipe(() => new Recording(), a);
      const [wt] = await loop.connectWritePipe(() => new Recording(), b);
      rt.close();
      wt.close();
      await sleep(loop, 0.05);
    });
    await new Promise((ok) => setTimeout(ok, 100));
    const leaked = [...openHandles()].filter((h) => !before.has(h));
    assertEquals(leaked.join(","), "", "handles opened by the loop and still open");
  }],
];
