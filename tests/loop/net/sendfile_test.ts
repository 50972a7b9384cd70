/**
 * loop.sockSendfile / loop.sendfile beyond the CPython port (tests/cpython/sendfile_test.ts):
 * what a bad file, socket or transport gets, that the transport is the user's again afterwards
 * (protocol, reading, water marks), and that the loop and the connection survive each error.
 */
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import {
  AF_INET, type BaseEventLoop, type Future, OSError, Protocol, RuntimeError,
  SendfileNotAvailableError, sleep, SOCK_STREAM, Socket, socketpair, type Transport, ValueError,
} from "../../../mod.ts";
import { isWindows } from "../../../ffi/runtime.ts";
import { fdCountSettled, removeTree, stableFdCount, withLoop } from "../../helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "aioloop-sendfile-unit-"));
process.on("exit", () => removeTree(dir));
const FILE = join(dir, "data");
const DATA = new TextEncoder().encode("0123456789".repeat(10_000));
writeFileSync(FILE, DATA);

class Collect extends Protocol {
  transport: Transport | null = null;
  chunks: Uint8Array[] = [];
  lost: Future<void>;
  constructor(loop: BaseEventLoop) {
    super();
    this.lost = loop.createFuture();
  }
  override connectionMade(t: Transport): void {
    this.transport = t;
  }
  override dataReceived(d: Uint8Array): void {
    this.chunks.push(d.slice());
  }
  override connectionLost(): void {
    this.lost.setResult();
  }
  text(): string {
    return new TextDecoder().decode(Uint8Array.from(this.chunks.flatMap((c) => [...c])));
  }
}

/** A loopback connection: the client transport with its protocol, and the server's protocol. */
async function connection(loop: BaseEventLoop) {
  const srv = new Collect(loop);
  const server = await loop.runUntilComplete(loop.createServer(() => srv, "127.0.0.1", 0));
  const [host, port] = server.sockets![0].getsockname() as [string, number];
  const cli = new Collect(loop);
  const [tr] = await loop.runUntilComplete(loop.createConnection(() => cli, host, port));
  const close = async () => {
    tr.close();
    await loop.runUntilComplete(cli.lost);
    srv.transport?.close();
    server.close();
    await loop.runUntilComplete(server.waitClosed());
  };
  return { tr, cli, srv, close };
}

test("sockSendfile: a file that is not an fd or fileno() object is TypeError, a bad fd ValueError, a closed fd OSError EBADF, a pipe ValueError; the socket still works", async () => {
  const before = await stableFdCount();
  await withLoop(async (loop) => {
    const [a, b] = socketpair();
    try {
      a.setBlocking(false);
      b.setBlocking(false);
      // deno-lint-ignore no-explicit-any
      const call = (file: any) => loop.runUntilComplete(loop.sockSendfile(a, file));
      await assert.rejects(call("data.txt"), (e: unknown) => e instanceof TypeError && /fileno/.test(e.message));
      await assert.rejects(call(-1), ValueError);
      await assert.rejects(call({ fileno: () => "x" }), ValueError);
      const fd = openSync(FILE, "r");
      closeSync(fd);
      await assert.rejects(call(fd), (e: unknown) => e instanceof OSError && e.code === "EBADF");
      const [p0, p1] = socketpair();
      try {
        // Windows: a SOCKET handle is no file descriptor there (node:fs's fds are another
        // number space), so asking what file it is fails with EBADF.
        await assert.rejects(call(p0.fileno()), (e: unknown) =>
          isWindows
            ? e instanceof OSError && e.code === "EBADF"
            : e instanceof ValueError && /regular file/.test(e.message));
      } finally {
        p0.close();
        p1.close();
      }
      await loop.runUntilComplete(loop.sockSendall(a, new TextEncoder().encode("still fine")));
      assert.equal(new TextDecoder().decode(await loop.runUntilComplete(loop.sockRecv(b, 100))), "still fine");
    } finally {
      a.close();
      b.close();
    }
  });
  assert.equal(await fdCountSettled(before), before);
});

test("sockSendfile: an unconnected socket fails with OSError, a file sendfile(2) cannot read falls back and the fallback's read error comes out", () =>
  withLoop(async (loop) => {
    const sock = new Socket(AF_INET, SOCK_STREAM);
    const file = openSync(FILE, "r");
    const appendOnly = openSync(FILE, "a");
    try {
      sock.setBlocking(false);
      await assert.rejects(loop.runUntilComplete(loop.sockSendfile(sock, file)), OSError);
      const [a, b] = socketpair();
      try {
        a.setBlocking(false);
        await assert.rejects(loop.runUntilComplete(loop.sockSendfile(a, appendOnly)), (e: unknown) =>
          e instanceof OSError && e.code === "EBADF");
        await assert.rejects(
          loop.runUntilComplete(loop.sockSendfile(a, appendOnly, 0, null, { fallback: false })),
          SendfileNotAvailableError,
        );
      } finally {
        a.close();
        b.close();
      }
    } finally {
      sock.close();
      closeSync(file);
      closeSync(appendOnly);
    }
  }));

test("sendfile: the transport gets its protocol, reading and water marks back, and reads and writes after it", () =>
  withLoop(async (loop) => {
    const c = await connection(loop);
    const file = openSync(FILE, "r");
    try {
      c.tr.setWriteBufferLimits(1000, 100);
      assert.equal(await loop.runUntilComplete(loop.sendfile(c.tr, file, 5, 20)), 20);
      assert.equal(c.tr.getProtocol(), c.cli);
      assert.ok((c.tr as unknown as { isReading(): boolean }).isReading());
      assert.deepEqual(c.tr.getWriteBufferLimits(), [100, 1000]);
      c.tr.write(new TextEncoder().encode("|tail"));
      c.srv.transport!.write(new TextEncoder().encode("reply"));
      for (let i = 0; i < 200 && (c.cli.text() !== "reply" || !c.srv.text().endsWith("|tail")); i++) {
        await loop.runUntilComplete(() => sleep(0.01));
      }
      assert.equal(c.srv.text(), new TextDecoder().decode(DATA.subarray(5, 25)) + "|tail");
      assert.equal(c.cli.text(), "reply");
    } finally {
      closeSync(file);
      await c.close();
    }
  }));

test("sendfile: bad offset/count, a bad file and a closing transport are refused before anything is sent; the transport still works", () =>
  withLoop(async (loop) => {
    const c = await connection(loop);
    const file = openSync(FILE, "r");
    try {
      // deno-lint-ignore no-explicit-any
      const call = (...args: any[]) => loop.runUntilComplete(loop.sendfile(c.tr, ...(args as [number])));
      await assert.rejects(call(file, -1), ValueError);
      await assert.rejects(call(file, 1.5), TypeError);
      await assert.rejects(call(file, 0, 0), ValueError);
      await assert.rejects(call(file, 0, "10"), TypeError);
      await assert.rejects(call("file"), TypeError);
      // deno-lint-ignore no-explicit-any
      await assert.rejects(loop.runUntilComplete(loop.sendfile({} as any, file)), TypeError);
      c.tr.write(new TextEncoder().encode("ok"));
      for (let i = 0; i < 200 && c.srv.text() !== "ok"; i++) {
        await loop.runUntilComplete(() => sleep(0.01));
      }
      assert.equal(c.srv.text(), "ok");
      c.tr.close();
      await assert.rejects(call(file), (e: unknown) => e instanceof RuntimeError && /closing/.test(e.message));
    } finally {
      closeSync(file);
      await c.close();
    }
  }));
