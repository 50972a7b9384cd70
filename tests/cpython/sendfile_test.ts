/**
 * Port of CPython 3.12's test_asyncio/test_sendfile.py: loop.sockSendfile and loop.sendfile
 * over real loopback connections, plain and TLS, on the default loop family (epoll, poll or
 * io_uring as the environment says). Where CPython replaces the loop's private _sendfile_native
 * to make the native path refuse, these cases replace the public sockSendfile it ends in; a
 * file open for appending only makes sendfile(2) itself refuse before any byte (EBADF).
 */
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import {
  AF_INET, type BaseEventLoop, DatagramProtocol, type Future, OSError, Protocol, RuntimeError,
  SendfileNotAvailableError, SO_RCVBUF, SO_SNDBUF, SOCK_STREAM, Socket, SOL_SOCKET, type Transport,
} from "../../mod.ts";
import { hasSendfile, libc } from "../../ffi/libc.ts";
import { dummySslContext, serverSslContext } from "./port_utils.ts";
import { fdLeakCheck, withLoop } from "./utils.ts";

const leakCheck = fdLeakCheck();

/** 256 KiB and one byte: more than the socket buffers below hold. */
const DATA = new Uint8Array(1024 * 256 + 1).fill("x".charCodeAt(0));
const BUF_SIZE = 4 * 1024;
/** lseek(2) whence SEEK_CUR (<unistd.h>). */
const SEEK_CUR = 1;

const dir = mkdtempSync(join(tmpdir(), "aioloop-sendfile-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const TESTFN = join(dir, "data");
writeFileSync(TESTFN, DATA);

/** A file object as CPython's open(..., 'rb'): fileno() and tell() (the fd's position). */
class TestFile {
  readonly fd: number;
  constructor(path = TESTFN, flags = "r") {
    this.fd = openSync(path, flags);
  }
  fileno(): number {
    return this.fd;
  }
  /** The fd's file position (lseek(2) SEEK_CUR; the file is small, the i32 result exact). */
  tell(): number {
    return libc.lseek(this.fd, 0, SEEK_CUR);
  }
  close(): void {
    closeSync(this.fd);
  }
}

async function withFile(body: (file: TestFile) => Promise<void>): Promise<void> {
  const file = new TestFile();
  try {
    await body(file);
  } finally {
    file.close();
  }
}

/** test_sendfile.MySendfileProto: counts and keeps the bytes, checks the callback order. */
class MySendfileProto extends Protocol {
  transport: Transport | null = null;
  state = "INITIAL";
  nbytes = 0;
  data: Uint8Array[] = [];
  connected: Future<void>;
  done: Future<void>;
  constructor(loop: BaseEventLoop, readonly closeAfter = 0) {
    super();
    this.connected = loop.createFuture();
    this.done = loop.createFuture();
  }
  private assertState(...expected: string[]): void {
    if (!expected.includes(this.state)) throw new Error(`state: ${this.state}, expected: ${expected}`);
  }
  override connectionMade(transport: Transport): void {
    this.transport = transport;
    this.assertState("INITIAL");
    this.state = "CONNECTED";
    this.connected.setResult();
  }
  override eofReceived(): void {
    this.assertState("CONNECTED");
    this.state = "EOF";
  }
  override connectionLost(): void {
    this.assertState("CONNECTED", "EOF");
    this.state = "CLOSED";
    this.done.setResult();
  }
  override dataReceived(data: Uint8Array): void {
    this.assertState("CONNECTED");
    this.nbytes += data.byteLength;
    this.data.push(data.slice());
    if (this.closeAfter && this.nbytes >= this.closeAfter) this.transport!.close();
  }
  bytes(): Uint8Array {
    return concat(this.data);
  }
}

/** test_sendfile.MyProto. */
class MyProto extends Protocol {
  transport: Transport | null = null;
  data: Uint8Array[] = [];
  fut: Future<void>;
  constructor(loop: BaseEventLoop) {
    super();
    this.fut = loop.createFuture();
  }
  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }
  override dataReceived(data: Uint8Array): void {
    this.data.push(data.slice());
  }
  override connectionLost(): void {
    this.transport = null;
    this.fut.setResult();
  }
  bytes(): Uint8Array {
    return concat(this.data);
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function text(s: string, times: number): Uint8Array {
  return new TextEncoder().encode(s.repeat(times));
}

// ---- SockSendfileMixin ------------------------------------------------------------------------

/** A server with a small receive buffer, and a connected non-blocking client with a small send buffer. */
async function prepareSockSendfile(loop: BaseEventLoop): Promise<[Socket, MyProto, () => Promise<void>]> {
  const proto = new MyProto(loop);
  const srvSock = new Socket(AF_INET, SOCK_STREAM);
  srvSock.bind(["127.0.0.1", 0]);
  srvSock.setBlocking(false);
  const server = await loop.runUntilComplete(loop.createServer(() => proto, null, null, { sock: srvSock }));
  srvSock.setsockopt(SOL_SOCKET, SO_RCVBUF, BUF_SIZE);
  const sock = new Socket(AF_INET, SOCK_STREAM);
  sock.setBlocking(false);
  await loop.runUntilComplete(loop.sockConnect(sock, srvSock.getsockname()!));
  sock.setsockopt(SOL_SOCKET, SO_SNDBUF, BUF_SIZE);
  const cleanup = async () => {
    sock.close();
    if (proto.transport !== null) {
      proto.transport.close();
      await loop.runUntilComplete(proto.fut);
    }
    server.close();
    await loop.runUntilComplete(server.waitClosed());
  };
  return [sock, proto, cleanup];
}

test("SockSendfileMixin.test_sock_sendfile_success", () =>
  withLoop((loop) =>
    withFile(async (file) => {
      const [sock, proto, cleanup] = await prepareSockSendfile(loop);
      const ret = await loop.runUntilComplete(loop.sockSendfile(sock, file));
      sock.close();
      await loop.runUntilComplete(proto.fut);
      assert.equal(ret, DATA.byteLength);
      assert.deepEqual(proto.bytes(), DATA);
      assert.equal(file.tell(), DATA.byteLength);
      await cleanup();
    })
  ));

test("SockSendfileMixin.test_sock_sendfile_with_offset_and_count", () =>
  withLoop((loop) =>
    withFile(async (file) => {
      const [sock, proto, cleanup] = await prepareSockSendfile(loop);
      const ret = await loop.runUntilComplete(loop.sockSendfile(sock, file, 1000, 2000));
      sock.close();
      await loop.runUntilComplete(proto.fut);
      assert.deepEqual(proto.bytes(), DATA.subarray(1000, 3000));
      assert.equal(file.tell(), 3000);
      assert.equal(ret, 2000);
      await cleanup();
    })
  ));

test("SockSendfileMixin.test_sock_sendfile_zero_size", () =>
  withLoop((loop) =>
    withFile(async (file) => {
      const [sock, proto, cleanup] = await prepareSockSendfile(loop);
      const empty = join(dir, "empty");
      writeFileSync(empty, new Uint8Array(0));
      const f = new TestFile(empty);
      try {
        const ret = await loop.runUntilComplete(loop.sockSendfile(sock, f, 0, null));
        assert.equal(ret, 0);
      } finally {
        f.close();
      }
      sock.close();
      await loop.runUntilComplete(proto.fut);
      assert.equal(file.tell(), 0);
      await cleanup();
    })
  ));

test("SockSendfileMixin.test_sock_sendfile_mix_with_regular_send", () =>
  withLoop((loop) =>
    withFile(async (file) => {
      const buf = text("mix_regular_send", 4 * 1024); // 64 KiB
      const [sock, proto, cleanup] = await prepareSockSendfile(loop);
      await loop.runUntilComplete(loop.sockSendall(sock, buf));
      const ret = await loop.runUntilComplete(loop.sockSendfile(sock, file));
      await loop.runUntilComplete(loop.sockSendall(sock, buf));
      sock.close();
      await loop.runUntilComplete(proto.fut);
      assert.equal(ret, DATA.byteLength);
      assert.deepEqual(proto.bytes(), concat([buf, DATA, buf]));
      assert.equal(file.tell(), DATA.byteLength);
      await cleanup();
    })
  ));

// ---- SendfileMixin ----------------------------------------------------------------------------

interface Prepared {
  srvProto: MySendfileProto;
  cliProto: MySendfileProto;
  cleanup(): Promise<void>;
}

async function prepareSendfile(
  loop: BaseEventLoop,
  { isSsl = false, closeAfter = 0 } = {},
): Promise<Prepared> {
  const srvProto = new MySendfileProto(loop, closeAfter);
  const srvSock = new Socket(AF_INET, SOCK_STREAM);
  srvSock.bind(["127.0.0.1", 0]);
  srvSock.setBlocking(false);
  const server = await loop.runUntilComplete(loop.createServer(() => srvProto, null, null, {
    sock: srvSock,
    ssl: isSsl ? serverSslContext() : undefined,
  }));
  srvSock.setsockopt(SOL_SOCKET, SO_RCVBUF, BUF_SIZE);
  const cliSock = new Socket(AF_INET, SOCK_STREAM);
  cliSock.connect(srvSock.getsockname()!);
  const cliProto = new MySendfileProto(loop);
  const [tr] = await loop.runUntilComplete(loop.createConnection(() => cliProto, null, null, {
    sock: cliSock,
    ssl: isSsl ? dummySslContext() : undefined,
    serverHostname: isSsl ? "127.0.0.1" : undefined,
  }));
  cliSock.setsockopt(SOL_SOCKET, SO_SNDBUF, BUF_SIZE);
  tr.setWriteBufferLimits(BUF_SIZE);
  const cleanup = async () => {
    srvProto.transport?.close();
    cliProto.transport?.close();
    await loop.runUntilComplete(srvProto.done);
    await loop.runUntilComplete(cliProto.done);
    server.close();
    await loop.runUntilComplete(server.waitClosed());
  };
  return { srvProto, cliProto, cleanup };
}

test("SendfileMixin.test_sendfile_not_supported", () =>
  withLoop((loop) =>
    withFile(async (file) => {
      const [tr] = await loop.runUntilComplete(
        loop.createDatagramEndpoint(() => new DatagramProtocol(), { family: AF_INET }),
      );
      try {
        await assert.rejects(
          // deno-lint-ignore no-explicit-any
          loop.runUntilComplete(loop.sendfile(tr as any, file)),
          (e: unknown) => e instanceof RuntimeError && /not supported/.test(e.message),
        );
        assert.equal(file.tell(), 0);
      } finally {
        tr.close();
      }
    })
  ));

for (const isSsl of [false, true]) {
  const ssl = isSsl ? "ssl_" : "";

  test(`SendfileMixin.test_sendfile${isSsl ? "_ssl" : ""}`, () =>
    withLoop((loop) =>
      withFile(async (file) => {
        const p = await prepareSendfile(loop, { isSsl });
        const ret = await loop.runUntilComplete(loop.sendfile(p.cliProto.transport!, file));
        p.cliProto.transport!.close();
        await loop.runUntilComplete(p.srvProto.done);
        assert.equal(ret, DATA.byteLength);
        assert.equal(p.srvProto.nbytes, DATA.byteLength);
        assert.deepEqual(p.srvProto.bytes(), DATA);
        assert.equal(file.tell(), DATA.byteLength);
        await p.cleanup();
      })
    ));

  test(`SendfileMixin.test_sendfile_${ssl}pre_and_post_data`, () =>
    withLoop((loop) =>
      withFile(async (file) => {
        const p = await prepareSendfile(loop, { isSsl });
        const PREFIX = isSsl ? text("zxcvbnm", 1024) : text("PREFIX__", 1024);
        const SUFFIX = isSsl ? text("0987654321", 1024) : text("--SUFFIX", 1024);
        p.cliProto.transport!.write(PREFIX);
        const ret = await loop.runUntilComplete(loop.sendfile(p.cliProto.transport!, file));
        p.cliProto.transport!.write(SUFFIX);
        p.cliProto.transport!.close();
        await loop.runUntilComplete(p.srvProto.done);
        assert.equal(ret, DATA.byteLength);
        assert.deepEqual(p.srvProto.bytes(), concat([PREFIX, DATA, SUFFIX]));
        assert.equal(file.tell(), DATA.byteLength);
        await p.cleanup();
      })
    ));

  test(`SendfileMixin.test_sendfile_${ssl}partial`, () =>
    withLoop((loop) =>
      withFile(async (file) => {
        const p = await prepareSendfile(loop, { isSsl });
        const ret = await loop.runUntilComplete(loop.sendfile(p.cliProto.transport!, file, 1000, 100));
        p.cliProto.transport!.close();
        await loop.runUntilComplete(p.srvProto.done);
        assert.equal(ret, 100);
        assert.equal(p.srvProto.nbytes, 100);
        assert.deepEqual(p.srvProto.bytes(), DATA.subarray(1000, 1100));
        assert.equal(file.tell(), 1100);
        await p.cleanup();
      })
    ));

  test(`SendfileMixin.test_sendfile_${ssl}close_peer_after_receiving`, () =>
    withLoop((loop) =>
      withFile(async (file) => {
        const p = await prepareSendfile(loop, { isSsl, closeAfter: DATA.byteLength });
        const ret = await loop.runUntilComplete(loop.sendfile(p.cliProto.transport!, file));
        if (!isSsl) p.cliProto.transport!.close();
        await loop.runUntilComplete(p.srvProto.done);
        assert.equal(ret, DATA.byteLength);
        assert.equal(p.srvProto.nbytes, DATA.byteLength);
        assert.deepEqual(p.srvProto.bytes(), DATA);
        assert.equal(file.tell(), DATA.byteLength);
        await p.cleanup();
      })
    ));
}

/**
 * CPython's way to force the fallback: make the native path refuse. The transport's native path
 * ends in the loop's (public) sockSendfile without fallback, so that is what is replaced.
 */
function refuseNative(loop: BaseEventLoop): void {
  Object.defineProperty(loop, "sockSendfile", {
    configurable: true,
    value: () => Promise.reject(new SendfileNotAvailableError("sendfile syscall is not supported")),
  });
}

test("SendfileMixin.test_sendfile_force_fallback", () =>
  withLoop((loop) =>
    withFile(async (file) => {
      const p = await prepareSendfile(loop);
      refuseNative(loop);
      const ret = await loop.runUntilComplete(loop.sendfile(p.cliProto.transport!, file));
      p.cliProto.transport!.close();
      await loop.runUntilComplete(p.srvProto.done);
      assert.equal(ret, DATA.byteLength);
      assert.equal(p.srvProto.nbytes, DATA.byteLength);
      assert.deepEqual(p.srvProto.bytes(), DATA);
      assert.equal(file.tell(), DATA.byteLength);
      await p.cleanup();
    })
  ));

test("SendfileMixin.test_sendfile_force_unsupported_native", () =>
  withLoop((loop) =>
    withFile(async (file) => {
      const p = await prepareSendfile(loop);
      refuseNative(loop);
      await assert.rejects(
        loop.runUntilComplete(loop.sendfile(p.cliProto.transport!, file, 0, null, { fallback: false })),
        (e: unknown) => e instanceof SendfileNotAvailableError && /not supported/.test(e.message),
      );
      p.cliProto.transport!.close();
      await loop.runUntilComplete(p.srvProto.done);
      assert.equal(p.srvProto.nbytes, 0);
      assert.equal(file.tell(), 0);
      await p.cleanup();
    })
  ));

test("SendfileMixin.test_sendfile_no_fallback_for_fallback_transport", () =>
  withLoop((loop) =>
    withFile(async (file) => {
      // CPython uses a mock transport marked FALLBACK; a TLS transport is one.
      const p = await prepareSendfile(loop, { isSsl: true });
      await assert.rejects(
        loop.runUntilComplete(loop.sendfile(p.cliProto.transport!, file, 0, null, { fallback: false })),
        (e: unknown) => e instanceof RuntimeError && /fallback is disabled/.test(e.message),
      );
      assert.equal(file.tell(), 0);
      await p.cleanup();
    })
  ));

test("sendfile: a file sendfile(2) cannot read (opened for appending) is SendfileNotAvailableError without fallback, nothing sent", () =>
  withLoop(async (loop) => {
    const appendOnly = new TestFile(TESTFN, "a");
    try {
      const p = await prepareSendfile(loop);
      await assert.rejects(
        loop.runUntilComplete(loop.sendfile(p.cliProto.transport!, appendOnly, 0, null, { fallback: false })),
        SendfileNotAvailableError,
      );
      // The transport is the user's again, and works.
      p.cliProto.transport!.write(text("after", 1));
      p.cliProto.transport!.close();
      await loop.runUntilComplete(p.srvProto.done);
      assert.equal(new TextDecoder().decode(p.srvProto.bytes()), "after");
      await p.cleanup();
    } finally {
      appendOnly.close();
    }
  }));

test("SendfileMixin.test_sendfile_for_closing_transp", () =>
  withLoop((loop) =>
    withFile(async (file) => {
      const p = await prepareSendfile(loop);
      p.cliProto.transport!.close();
      await assert.rejects(
        loop.runUntilComplete(loop.sendfile(p.cliProto.transport!, file)),
        (e: unknown) => e instanceof RuntimeError && /is closing/.test(e.message),
      );
      await loop.runUntilComplete(p.srvProto.done);
      assert.equal(p.srvProto.nbytes, 0);
      assert.equal(file.tell(), 0);
      await p.cleanup();
    })
  ));

test("SendfileMixin.test_sendfile_close_peer_in_the_middle_of_receiving", () =>
  withLoop((loop) =>
    withFile(async (file) => {
      const p = await prepareSendfile(loop, { closeAfter: 1024 });
      await assert.rejects(loop.runUntilComplete(loop.sendfile(p.cliProto.transport!, file)), OSError);
      await loop.runUntilComplete(p.srvProto.done);
      assert.ok(p.srvProto.nbytes >= 1024 && p.srvProto.nbytes < DATA.byteLength, String(p.srvProto.nbytes));
      const pos = file.tell();
      assert.ok(pos >= 1024 && pos < DATA.byteLength, String(pos));
      assert.ok(p.cliProto.transport!.isClosing());
      await p.cleanup();
    })
  ));

test("SendfileMixin.test_sendfile_fallback_close_peer_in_the_middle_of_receiving", () =>
  withLoop((loop) =>
    withFile(async (file) => {
      refuseNative(loop);
      const p = await prepareSendfile(loop, { closeAfter: 1024 });
      await assert.rejects(loop.runUntilComplete(loop.sendfile(p.cliProto.transport!, file)), OSError);
      await loop.runUntilComplete(p.srvProto.done);
      assert.ok(p.srvProto.nbytes >= 1024 && p.srvProto.nbytes < DATA.byteLength, String(p.srvProto.nbytes));
      const pos = file.tell();
      assert.ok(pos >= 1024 && pos < DATA.byteLength, String(pos));
      await p.cleanup();
    })
  ));

test("SendfileMixin.test_sendfile_prevents_bare_write", { skip: hasSendfile ? false : "sendfile(2) is bound on Linux only" }, () =>
  withLoop((loop) =>
    withFile(async (file) => {
      const p = await prepareSendfile(loop);
      const fut = loop.createFuture<void>();
      const t = loop.createTask(async () => {
        fut.setResult();
        return await loop.sendfile(p.cliProto.transport!, file);
      });
      await loop.runUntilComplete(fut);
      assert.throws(
        () => p.cliProto.transport!.write(text("data", 1)),
        (e: unknown) => e instanceof RuntimeError && /sendfile is in progress/.test(e.message),
      );
      assert.equal(await loop.runUntilComplete(t), DATA.byteLength);
      await p.cleanup();
    })
  ));

leakCheck();
