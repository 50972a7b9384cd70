/**
 * `using` / `await using` (Symbol.dispose / Symbol.asyncDispose) on what a user closes: Socket,
 * both loop families, Server, the stream, datagram, pipe, subprocess and TLS transports,
 * StreamWriter and Process. Sync dispose is close(); async dispose also waits until closed
 * (connectionLost ran, the server's connections ended, the child was reaped). Real sockets,
 * pipes and children; fds are counted.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { check, libc, O_CLOEXEC } from "../../../ffi/libc.ts";
import { isWindows } from "../../../ffi/runtime.ts";
import {
  AF_INET, type BaseEventLoop, createSubprocessExec, DatagramProtocol, newEventLoop, openConnection, PIPE,
  Protocol, type ReadTransport, RuntimeError, type Server, SOCK_STREAM, Socket, sleep, startServer,
  SubprocessProtocol, type Transport, type WriteTransport,
} from "../../../mod.ts";
import { proactorUnavailableReason } from "../../../platform/default_proactor.ts";
import { clientContext, serverContext } from "../../tls_certs.ts";
import { children, killedReturncode } from "../../children.ts";
import { fdCountSettled, stableFdCount, withLoop } from "../../helpers.ts";
import { overlappedPipe } from "../../windows/win.ts";

/** A datagram protocol that records connectionLost. */
class DatagramLostRecorder extends DatagramProtocol {
  lost = 0;
  override connectionLost(): void {
    this.lost++;
  }
}

/** A protocol that records connectionLost. */
class LostRecorder extends Protocol {
  lost = 0;
  override connectionLost(): void {
    this.lost++;
  }
}

function portOf(server: Server): number {
  return (server.sockets[0]!.getsockname() as [string, number])[1];
}

/** A loopback echo server for the connection tests. */
function echoServer(): Promise<Server> {
  return startServer(async (reader, writer) => {
    for (let chunk = await reader.read(65536); chunk.length > 0; chunk = await reader.read(65536)) {
      writer.write(chunk);
    }
    writer.close();
  }, "127.0.0.1", 0);
}

/** A pipe's read and write ends (Windows: an overlapped named pipe, as asyncio's windows_utils.pipe). */
function pipe(): [number, number] {
  if (isWindows) return overlappedPipe();
  const fds = new Int32Array(2);
  check(libc.pipe2(fds, O_CLOEXEC), "pipe2");
  return [fds[0]!, fds[1]!];
}

test("using a Socket closes it at the end of the scope; await using too", async () => {
  const before = await stableFdCount();
  let s1: Socket;
  {
    using s = new Socket(AF_INET, SOCK_STREAM);
    s1 = s;
    assert.ok(s.fileno() >= 0);
    assert.equal(await fdCountSettled(before + 1), before + 1);
  }
  assert.equal(s1.fileno(), -1);
  {
    await using s = new Socket(AF_INET, SOCK_STREAM);
    s1 = s;
  }
  assert.equal(s1.fileno(), -1);
  assert.equal(await fdCountSettled(before), before);
});

test("using a loop closes it (both families); disposing a running loop is a RuntimeError", async () => {
  const before = await stableFdCount();
  let seen: BaseEventLoop;
  {
    using loop = newEventLoop();
    seen = loop;
    assert.equal(await loop.runUntilComplete(() => sleep(0, 7)), 7);
  }
  assert.ok(seen.isClosed());
  {
    await using loop = newEventLoop();
    seen = loop;
  }
  assert.ok(seen.isClosed());
  const why = proactorUnavailableReason();
  if (why === null) {
    {
      using loop = newEventLoop({ proactor: true });
      seen = loop;
      assert.equal(await loop.runUntilComplete(() => sleep(0.001, 8)), 8);
    }
    assert.ok(seen.isClosed());
    {
      await using loop = newEventLoop({ proactor: true });
      seen = loop;
    }
    assert.ok(seen.isClosed());
  } else {
    console.log(`dispose_test: proactor loop not disposed: ${why}`);
  }
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      assert.throws(() => loop[Symbol.dispose](), RuntimeError);
      assert.equal(loop.isClosed(), false);
    })
  );
  assert.equal(await fdCountSettled(before), before);
});

test("await using a Server: closed and every connection ended; using: closed", async () => {
  const before = await stableFdCount();
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      let server: Server;
      {
        await using s = await echoServer();
        server = s;
        const [reader, writer] = await openConnection("127.0.0.1", portOf(s));
        writer.write(new TextEncoder().encode("hi"));
        assert.equal(new TextDecoder().decode(await reader.readexactly(2)), "hi");
        writer.close(); // the server's handler ends: waitClosed() can finish
      }
      assert.equal(server.sockets.length, 0);
      assert.equal(server.isServing(), false);
      {
        using s = await echoServer();
        server = s;
      }
      assert.equal(server.sockets.length, 0);
      await server.waitClosed();
    })
  );
  assert.equal(await fdCountSettled(before), before);
});

test("await using a stream transport waits for connectionLost; using closes it; the StreamWriter the same", async () => {
  const before = await stableFdCount();
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      await using server = await echoServer();
      const port = portOf(server);
      let proto: LostRecorder;
      let transport: Transport;
      {
        const [t, p] = await loop.createConnection(() => new LostRecorder(), "127.0.0.1", port);
        await using _t = t;
        proto = p;
        transport = t;
      }
      assert.equal(proto.lost, 1, "connectionLost ran before the scope ended");
      assert.ok(transport.isClosing());
      {
        const [t] = await loop.createConnection(() => new LostRecorder(), "127.0.0.1", port);
        using _t = t;
        transport = t;
      }
      assert.ok(transport.isClosing());
      {
        const [reader, w] = await openConnection("127.0.0.1", port);
        await using writer = w;
        writer.write(new TextEncoder().encode("x"));
        assert.equal((await reader.readexactly(1))[0], 0x78);
      }
      {
        const [, w] = await openConnection("127.0.0.1", port);
        using writer = w;
        assert.equal(writer.isClosing(), false);
      }
      await sleep(0.01);
    })
  );
  assert.equal(await fdCountSettled(before), before);
});

test("await using a datagram transport and both pipe transports waits for connectionLost", async () => {
  const before = await stableFdCount();
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const dgram = new DatagramLostRecorder();
      {
        const [t] = await loop.createDatagramEndpoint(() => dgram, { localAddr: ["127.0.0.1", 0] });
        await using _t = t;
      }
      assert.equal(dgram.lost, 1);
      const [r, w] = pipe();
      const readProto = new LostRecorder(), writeProto = new LostRecorder();
      let rt: ReadTransport, wt: WriteTransport;
      {
        [rt] = await loop.connectReadPipe(() => readProto, r);
        [wt] = await loop.connectWritePipe(() => writeProto, w);
        await using _r = rt;
        await using _w = wt;
      }
      assert.equal(readProto.lost, 1);
      assert.equal(writeProto.lost, 1);
      assert.ok(rt.isClosing() && wt.isClosing());
    })
  );
  assert.equal(await fdCountSettled(before), before);
});

test("await using a subprocess transport kills a running child and waits until it is reaped", async () => {
  const before = await stableFdCount();
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const events: string[] = [];
      class P extends SubprocessProtocol {
        override processExited(): void {
          events.push("exited");
        }
        override connectionLost(): void {
          events.push("lost");
        }
      }
      let rc: number | null = null;
      {
        const [t] = await loop.subprocessExec(() => new P(), ...children.sleep(30), { stdout: PIPE });
        await using transport = t;
        rc = transport.getReturncode();
      }
      assert.equal(rc, null, "the child was running at the end of the scope");
      assert.deepEqual(events, ["exited", "lost"]);
    })
  );
  assert.equal(await fdCountSettled(before), before);
});

test("await using a Process kills it if still running and waits for it; using kills it", async () => {
  const before = await stableFdCount();
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      let p: Awaited<ReturnType<typeof createSubprocessExec>>;
      {
        await using proc = await createSubprocessExec(...children.sleep(30), { stdout: PIPE, stdin: PIPE });
        p = proc;
      }
      assert.equal(p.returncode, killedReturncode(9));
      {
        await using proc = await createSubprocessExec(...children.true);
        p = proc;
        assert.equal(await proc.wait(), 0);
      }
      assert.equal(p.returncode, 0, "an exited child is left as it was");
      {
        using proc = await createSubprocessExec(...children.sleep(30));
        p = proc;
      }
      assert.equal(await p.wait(), killedReturncode(9));
    })
  );
  assert.equal(await fdCountSettled(before), before);
});

test("await using a TLS transport sends close_notify and waits until the connection is lost", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      await using server = await startServer(async (reader, writer) => {
        await reader.read();
        writer.close();
      }, "127.0.0.1", 0, { ssl: serverContext() });
      const cctx = clientContext();
      // Park once first: the loop's parking thread (with fds of its own, on Bun) starts then.
      await sleep(0.01);
      const before = await stableFdCount();
      const proto = new LostRecorder();
      {
        const [t] = await loop.createConnection(() => proto, "127.0.0.1", portOf(server), {
          ssl: cctx,
          serverHostname: "localhost",
        });
        await using _t = t;
        assert.ok(t.getExtraInfo("cipher"));
      }
      assert.equal(proto.lost, 1);
      assert.equal(await fdCountSettled(before), before);
    })
  ));
