/**
 * The public types are precise: these assertions are checked at compile time by `deno check`
 * and `tsc --noEmit` (scripts/check.sh); at run time the test only runs the code they type.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AF_INET, type BaseEventLoop, createSubprocessExec, type Future, gather, type GatherResults,
  type getRunningLoop, type Inet6Family, type InetFamily, newEventLoop, openConnection, PIPE,
  type Protocol, type ProtocolLike, type ReadTransport, SelectorEventLoop, type Server, sleep,
  type SockAddr, SOCK_DGRAM, Socket, socketpair, type SSLContext, startServer, StreamReader,
  StreamReaderProtocol, StreamWriter, SubprocessProtocol, type Task, type Transport,
  type UnixFamily, type WriteTransport,
} from "../mod.ts";

/** True only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
function expectType<_T extends true>(): void {}

/** A protocol written against the interface: every callback is typed where it is declared. */
class Echo implements ProtocolLike {
  transport: Transport | null = null;
  connectionMade(transport: Transport): void {
    this.transport = transport;
  }
  dataReceived(data: Uint8Array): void {
    this.transport?.write(data);
  }
}

test("runUntilComplete, createTask, createFuture and gather carry their result types", async () => {
  const loop = newEventLoop();
  try {
    const n = await loop.runUntilComplete(async () => 42);
    expectType<Equal<typeof n, number>>();
    assert.equal(n, 42);

    const results = await loop.runUntilComplete(async () => {
      const task = loop.createTask(async () => "text");
      expectType<Equal<typeof task, Task<string>>>();
      const future = loop.createFuture<boolean>();
      expectType<Equal<typeof future, Future<boolean>>>();
      loop.callSoon(() => future.setResult(true));
      const both = gather(task, future, sleep(0.001, 7));
      expectType<Equal<typeof both, Future<[string, boolean, number]>>>();
      expectType<Equal<GatherResults<[Task<string>, Future<boolean>]>, [string, boolean]>>();
      return await both;
    });
    expectType<Equal<typeof results, [string, boolean, number]>>();
    assert.deepEqual(results, ["text", true, 7]);
  } finally {
    loop.close();
  }
});

test("protocol and stream types are what callbacks receive", () => {
  expectType<Equal<Parameters<Echo["connectionMade"]>[0], Transport>>();
  expectType<Equal<Parameters<Protocol["dataReceived"]>[0], Uint8Array>>();
  expectType<Equal<ReturnType<StreamReader["readline"]>, Promise<Uint8Array>>>();
  expectType<Equal<ReturnType<StreamWriter["drain"]>, Promise<void>>>();
  expectType<Equal<ReturnType<ReadTransport["isReading"]>, boolean>>();
  assert.equal(typeof Echo, "function");
});

test("newEventLoop() is typed as the loop it may return: either family, as BaseEventLoop", () => {
  // Either family may come back (AIOLOOP_LOOP=proactor, or Windows), so the declared type is
  // their common base, which has every public method; no cast between the loop classes.
  expectType<Equal<ReturnType<typeof newEventLoop>, BaseEventLoop>>();
  expectType<Equal<ReturnType<typeof getRunningLoop>, BaseEventLoop>>();
  const loop = newEventLoop({ selector: "poll" });
  try {
    assert.ok(loop instanceof SelectorEventLoop);
    expectType<Equal<typeof loop.sockAccept, BaseEventLoop["sockAccept"]>>();
  } finally {
    loop.close();
  }
});

// ---- Options, addresses, extra info, StreamWriter over a write pipe (issue 18 §4) ----------

test("a misspelt subprocess option is a compile error and a TypeError naming it", async () => {
  const loop = newEventLoop();
  try {
    await loop.runUntilComplete(async () => {
      await assert.rejects(
        // @ts-expect-error: stdOut is not an option (stdout is)
        createSubprocessExec("true", { stdOut: PIPE }),
        { name: "TypeError", message: 'createSubprocessExec() got an unexpected option "stdOut" (did you mean "stdout"?)' },
      );
      await assert.rejects(
        // @ts-expect-error: an unknown key after the arguments too
        createSubprocessExec("echo", "a", { stdout: PIPE, shel: true }),
        { name: "TypeError", message: 'createSubprocessExec() got an unexpected option "shel"' },
      );
      await assert.rejects(
        // @ts-expect-error: the loop-level call checks the same
        loop.subprocessExec(() => new SubprocessProtocol(), "true", { stdErr: PIPE }),
        /subprocessExec\(\) got an unexpected option "stdErr"/,
      );
      // The loop goes on: a well-spelt call runs the child.
      const proc = await createSubprocessExec("echo", "typed", { stdout: PIPE });
      const [out] = await proc.communicate();
      assert.equal(new TextDecoder().decode(out ?? undefined), "typed\n");
    });
  } finally {
    loop.close();
  }
});

test("an AF_INET socket's addresses are [host, port] without a cast; AF_INET6's are 4-tuples", async () => {
  const a = new Socket(AF_INET, SOCK_DGRAM), b = new Socket(AF_INET, SOCK_DGRAM);
  try {
    expectType<Equal<typeof a, Socket<InetFamily>>>();
    a.bind(["127.0.0.1", 0]);
    b.bind(["127.0.0.1", 0]);
    const [host, port] = a.getsockname();
    expectType<Equal<typeof port, number>>();
    expectType<Equal<ReturnType<Socket<Inet6Family>["getsockname"]>, [host: string, port: number, flowinfo: number, scopeId: number]>>();
    expectType<Equal<ReturnType<Socket<UnixFamily>["getpeername"]>, string | Uint8Array>>();
    // A family given as a plain number: the general SockAddr.
    expectType<Equal<ReturnType<Socket["getsockname"]>, SockAddr>>();
    b.sendto(new TextEncoder().encode("hi"), [host, port]);
    const [data, from] = a.recvfrom(16);
    expectType<Equal<typeof from, [host: string, port: number] | null>>();
    assert.equal(new TextDecoder().decode(data), "hi");
    assert.deepEqual(from, ["127.0.0.1", b.getsockname()[1]]);
  } finally {
    a.close();
    b.close();
  }
});

test("startServer's sockets are AF_INET | AF_INET6: [1] is the port; getExtraInfo is typed by key", async () => {
  const loop = newEventLoop();
  try {
    await loop.runUntilComplete(async () => {
      const server = await startServer(async (_r, w) => w.close(), "127.0.0.1", 0);
      expectType<Equal<typeof server, Server<InetFamily | Inet6Family>>>();
      const port = server.sockets[0]!.getsockname()[1];
      expectType<Equal<typeof port, number>>();
      const [, writer] = await openConnection("127.0.0.1", port);
      const peer = writer.getExtraInfo("peername");
      expectType<Equal<typeof peer, SockAddr | undefined>>();
      const sock = writer.getExtraInfo("socket");
      expectType<Equal<typeof sock, Socket | undefined>>();
      const ctx = writer.getExtraInfo("sslcontext", null);
      expectType<Equal<typeof ctx, SSLContext | null>>();
      expectType<Equal<ReturnType<Transport["getExtraInfo"]>, unknown>>(); // the catch-all
      assert.deepEqual(peer, ["127.0.0.1", port]);
      assert.ok(sock instanceof Socket);
      assert.equal(ctx, null);
      assert.equal(writer.getExtraInfo("no such key", 7), 7);
      writer.close();
      await writer.waitClosed();
      server.close();
      await server.waitClosed();
    });
  } finally {
    loop.close();
  }
});

test("datagram protocols receive a SockAddr they can send back to", async () => {
  const loop = newEventLoop();
  try {
    await loop.runUntilComplete(async () => {
      const [server] = await loop.createDatagramEndpoint(() => ({
        datagramReceived(data: Uint8Array, addr: SockAddr) {
          server.sendto(data.slice().reverse(), addr); // an echo: no cast between the two
        },
      }), { localAddr: ["127.0.0.1", 0] });
      const echoed = loop.createFuture<[Uint8Array, SockAddr]>();
      const [client] = await loop.createDatagramEndpoint(() => ({
        datagramReceived(data: Uint8Array, addr: SockAddr) {
          echoed.setResult([data, addr]);
        },
      }), { remoteAddr: server.getExtraInfo("sockname") });
      client.sendto(new TextEncoder().encode("abc"));
      const [data, addr] = await echoed;
      assert.equal(new TextDecoder().decode(data), "cba");
      assert.deepEqual(addr, server.getExtraInfo("sockname"));
      client.close();
      server.close();
    });
  } finally {
    loop.close();
  }
});

test("StreamWriter over connectWritePipe's WriteTransport, without a cast", async () => {
  const loop = newEventLoop();
  const [rsock, wsock] = socketpair();
  try {
    await loop.runUntilComplete(async () => {
      rsock.setBlocking(false);
      const reader = new StreamReader({ loop });
      const [transport, protocol] = await loop.connectWritePipe(
        () => new StreamReaderProtocol(reader, null, loop),
        wsock.detach(),
      );
      const writer = new StreamWriter(transport, protocol, null, loop);
      expectType<Equal<typeof writer, StreamWriter<WriteTransport>>>();
      expectType<Equal<typeof writer.transport, WriteTransport>>();
      // startTls needs a two-way Transport: a compile error on a write pipe's writer.
      const _noTlsOverAPipe = (ctx: SSLContext) =>
        // @ts-expect-error: 'this' is StreamWriter<WriteTransport>, not StreamWriter<Transport>
        writer.startTls(ctx);
      void _noTlsOverAPipe;
      writer.write(new TextEncoder().encode("over the pipe\n"));
      await writer.drain();
      const got = await loop.sockRecv(rsock, 64);
      assert.equal(new TextDecoder().decode(got), "over the pipe\n");
      writer.close();
      await writer.waitClosed();
    });
  } finally {
    rsock.close();
    loop.close();
  }
});
