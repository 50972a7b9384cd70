/**
 * CPython 3.12 test_asyncio/test_streams.py, ported: StreamReader's reads, lines, separators,
 * limits and exceptions (fed by hand), openConnection/openUnixConnection against an HTTP server
 * in another process (CPython's run_test_server, plain and TLS), startServer and
 * startUnixServer, drain() against a peer that closed, waitClosed(), reading a pipe, and the
 * reprs. Left-out cases are listed in tests/cpython/README.md.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, unlinkSync } from "node:fs";
import { test } from "node:test";
import {
  AF_INET, type BaseEventLoop, createSubprocessExec, getEventLoop, IncompleteReadError,
  LimitOverrunError, openConnection, openUnixConnection, OSError, RuntimeError, setEventLoop,
  sleep, SOCK_STREAM, Socket, startServer, startUnixServer, StreamReader, StreamReaderProtocol,
  type StreamWriter, ValueError,
} from "../../mod.ts";
import { check, libc, O_CLOEXEC } from "../../ffi/libc.ts";
import { captureExceptions, withLoop } from "../helpers.ts";
import {
  b, dummySslContext, type HttpPeer, startHttpPeer, str, unixSocketPath, waitDone,
} from "./port_utils.ts";
import { runBriefly } from "./utils.ts";

const DATA = b("line1\nline2\nline3\n");

/** A pipe2(O_CLOEXEC) pair: [readEnd, writeEnd]. */
function pipe(): [number, number] {
  const fds = new Int32Array(2);
  check(libc.pipe2(fds, O_CLOEXEC), "pipe2");
  return [fds[0], fds[1]];
}

/** The bytes buffered in `stream` (CPython's tests read stream._buffer). */
function buffered(stream: StreamReader): string {
  const s = stream as unknown as { _buffer: Uint8Array; _start: number; _end: number };
  return str(s._buffer.subarray(s._start, s._end));
}

function reader(loop: BaseEventLoop, limit?: number): StreamReader {
  return new StreamReader({ loop, limit });
}

// ---- open_connection against run_test_server --------------------------------------------------

async function withHttp(
  options: { unix?: boolean; tls?: boolean },
  body: (loop: BaseEventLoop, peer: HttpPeer) => Promise<void>,
): Promise<void> {
  const path = options.unix ? unixSocketPath() : undefined;
  const peer = await startHttpPeer({ unixPath: path, tls: options.tls });
  try {
    await withLoop((loop) => body(loop, peer));
  } finally {
    await peer.stop();
    if (path && existsSync(path)) unlinkSync(path);
  }
}

function connect(peer: HttpPeer, unix: boolean, ssl = false) {
  const sslOpts = ssl ? { ssl: dummySslContext(), serverHostname: unix ? "" : undefined } : {};
  return unix ? openUnixConnection(peer.path, sslOpts) : openConnection(peer.host, peer.port, sslOpts);
}

for (const unix of [false, true]) {
  const which = unix ? "unix_" : "";

  test(`StreamTests.test_open_${which}connection`, () =>
    withHttp({ unix }, async (loop, peer) => {
      const messages = captureExceptions(loop);
      const [rd, wr] = await loop.runUntilComplete(() => connect(peer, unix));
      wr.write(b("GET / HTTP/1.0\r\n\r\n"));
      assert.equal(str(await loop.runUntilComplete(() => rd.readline())), "HTTP/1.0 200 OK\r\n");
      const rest = str(await loop.runUntilComplete(() => rd.read()));
      assert.ok(rest.endsWith("\r\n\r\nTest message"));
      wr.close();
      await runBriefly(loop);
      assert.deepEqual(messages, []);
    }));

  test(`StreamTests.test_open_${which}connection_no_loop_ssl`,
    () =>
    withHttp({ unix, tls: true }, async (loop, peer) => {
      const messages = captureExceptions(loop);
      const [rd, wr] = await loop.runUntilComplete(() => connect(peer, unix, true));
      wr.write(b("GET / HTTP/1.0\r\n\r\n"));
      const data = str(await loop.runUntilComplete(() => rd.read()));
      assert.ok(data.endsWith("\r\n\r\nTest message"));
      wr.close();
      await runBriefly(loop);
      assert.deepEqual(messages, []);
    }));

  test(`StreamTests.test_open_${which}connection_error`, () =>
    withHttp({ unix }, async (loop, peer) => {
      const messages = captureExceptions(loop);
      const [rd, wr] = await loop.runUntilComplete(() => connect(peer, unix));
      // asyncio calls the protocol's connection_lost(ZeroDivisionError()) by hand.
      const protocol = (wr as unknown as { _protocol: StreamReaderProtocol })._protocol;
      const exc = new RangeError("ZeroDivisionError");
      protocol.connectionLost(exc);
      await assert.rejects(loop.runUntilComplete(() => rd.read()), (e) => e === exc);
      wr.close();
      await runBriefly(loop);
      assert.deepEqual(messages, []);
    }));
}

// ---- StreamReader fed by hand -----------------------------------------------------------------

test("StreamTests.test_feed_empty_data", () =>
  withLoop((loop) => {
    const stream = reader(loop);
    stream.feedData(b(""));
    assert.equal(buffered(stream), "");
  }));

test("StreamTests.test_feed_nonempty_data", () =>
  withLoop((loop) => {
    const stream = reader(loop);
    stream.feedData(DATA);
    assert.equal(buffered(stream), str(DATA));
  }));

test("StreamTests.test_read_zero", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    stream.feedData(DATA);
    assert.equal(str(await loop.runUntilComplete(() => stream.read(0))), "");
    assert.equal(buffered(stream), str(DATA));
  }));

test("StreamTests.test_read", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    const readTask = loop.createTask(() => stream.read(30));
    loop.callSoon(() => stream.feedData(DATA));
    assert.equal(str(await loop.runUntilComplete(readTask)), str(DATA));
    assert.equal(buffered(stream), "");
  }));

test("StreamTests.test_read_line_breaks", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    stream.feedData(b("line1"));
    stream.feedData(b("line2"));
    assert.equal(str(await loop.runUntilComplete(() => stream.read(5))), "line1");
    assert.equal(buffered(stream), "line2");
  }));

test("StreamTests.test_read_eof", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    const readTask = loop.createTask(() => stream.read(1024));
    loop.callSoon(() => stream.feedEof());
    assert.equal(str(await loop.runUntilComplete(readTask)), "");
    assert.equal(buffered(stream), "");
  }));

test("StreamTests.test_read_until_eof", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    const readTask = loop.createTask(() => stream.read(-1));
    loop.callSoon(() => {
      stream.feedData(b("chunk1\n"));
      stream.feedData(b("chunk2"));
      stream.feedEof();
    });
    assert.equal(str(await loop.runUntilComplete(readTask)), "chunk1\nchunk2");
    assert.equal(buffered(stream), "");
  }));

test("StreamTests.test_read_exception", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    stream.feedData(b("line\n"));
    assert.equal(str(await loop.runUntilComplete(() => stream.read(2))), "li");
    stream.setException(new ValueError());
    await assert.rejects(loop.runUntilComplete(() => stream.read(2)), ValueError);
  }));

test("StreamTests.test_invalid_limit", () =>
  withLoop((loop) => {
    assert.throws(() => reader(loop, 0), (e: unknown) => e instanceof ValueError && /imit/.test(e.message));
    assert.throws(() => reader(loop, -1), (e: unknown) => e instanceof ValueError && /imit/.test(e.message));
  }));

test("StreamTests.test_read_limit", () =>
  withLoop(async (loop) => {
    const stream = reader(loop, 3);
    stream.feedData(b("chunk"));
    assert.equal(str(await loop.runUntilComplete(() => stream.read(5))), "chunk");
    assert.equal(buffered(stream), "");
  }));

test("StreamTests.test_readline", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    stream.feedData(b("chunk1 "));
    const readTask = loop.createTask(() => stream.readline());
    loop.callSoon(() => {
      stream.feedData(b("chunk2 "));
      stream.feedData(b("chunk3 "));
      stream.feedData(b("\n chunk4"));
    });
    assert.equal(str(await loop.runUntilComplete(readTask)), "chunk1 chunk2 chunk3 \n");
    assert.equal(buffered(stream), " chunk4");
  }));

test("StreamTests.test_readline_limit_with_existing_data", () =>
  withLoop(async (loop) => {
    let stream = reader(loop, 3);
    stream.feedData(b("li"));
    stream.feedData(b("ne1\nline2\n"));
    await assert.rejects(loop.runUntilComplete(() => stream.readline()), ValueError);
    assert.equal(buffered(stream), "line2\n");

    stream = reader(loop, 3);
    stream.feedData(b("li"));
    stream.feedData(b("ne1"));
    stream.feedData(b("li"));
    await assert.rejects(loop.runUntilComplete(() => stream.readline()), ValueError);
    assert.equal(buffered(stream), "");
  }));

test("StreamTests.test_at_eof", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    assert.equal(stream.atEof(), false);
    stream.feedData(b("some data\n"));
    assert.equal(stream.atEof(), false);
    await loop.runUntilComplete(() => stream.readline());
    assert.equal(stream.atEof(), false);
    stream.feedData(b("some data\n"));
    stream.feedEof();
    await loop.runUntilComplete(() => stream.readline());
    assert.equal(stream.atEof(), true);
  }));

test("StreamTests.test_readline_limit", () =>
  withLoop(async (loop) => {
    let stream = reader(loop, 7);
    loop.callSoon(() => {
      stream.feedData(b("chunk1"));
      stream.feedData(b("chunk2"));
      stream.feedData(b("chunk3\n"));
      stream.feedEof();
    });
    await assert.rejects(loop.runUntilComplete(() => stream.readline()), ValueError);
    assert.equal(buffered(stream), "");

    stream = reader(loop, 7);
    loop.callSoon(() => {
      stream.feedData(b("chunk1"));
      stream.feedData(b("chunk2\n"));
      stream.feedData(b("chunk3\n"));
      stream.feedEof();
    });
    await assert.rejects(loop.runUntilComplete(() => stream.readline()), ValueError);
    assert.equal(buffered(stream), "chunk3\n");

    stream = reader(loop, 7);
    stream.feedData(b("1234567\n"));
    assert.equal(str(await loop.runUntilComplete(() => stream.readline())), "1234567\n");
    assert.equal(buffered(stream), "");
    stream.feedData(b("12345678\n"));
    await assert.rejects(loop.runUntilComplete(() => stream.readline()), ValueError);
    assert.equal(buffered(stream), "");
    stream.feedData(b("12345678"));
    await assert.rejects(loop.runUntilComplete(() => stream.readline()), ValueError);
    assert.equal(buffered(stream), "");
  }));

test("StreamTests.test_readline_nolimit_nowait", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    stream.feedData(DATA.subarray(0, 6));
    stream.feedData(DATA.subarray(6));
    assert.equal(str(await loop.runUntilComplete(() => stream.readline())), "line1\n");
    assert.equal(buffered(stream), "line2\nline3\n");
  }));

test("StreamTests.test_readline_eof", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    stream.feedData(b("some data"));
    stream.feedEof();
    assert.equal(str(await loop.runUntilComplete(() => stream.readline())), "some data");
  }));

test("StreamTests.test_readline_empty_eof", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    stream.feedEof();
    assert.equal(str(await loop.runUntilComplete(() => stream.readline())), "");
  }));

test("StreamTests.test_readline_read_byte_count", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    stream.feedData(DATA);
    await loop.runUntilComplete(() => stream.readline());
    assert.equal(str(await loop.runUntilComplete(() => stream.read(7))), "line2\nl");
    assert.equal(buffered(stream), "ine3\n");
  }));

test("StreamTests.test_readline_exception", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    stream.feedData(b("line\n"));
    assert.equal(str(await loop.runUntilComplete(() => stream.readline())), "line\n");
    stream.setException(new ValueError());
    await assert.rejects(loop.runUntilComplete(() => stream.readline()), ValueError);
    assert.equal(buffered(stream), "");
  }));

test("StreamTests.test_readuntil_separator", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    await assert.rejects(loop.runUntilComplete(() => stream.readuntil(b(""))), (e: unknown) =>
      e instanceof ValueError && /Separator should be/.test(e.message));
  }));

test("StreamTests.test_readuntil_multi_chunks", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    stream.feedData(b("lineAAA"));
    assert.equal(str(await loop.runUntilComplete(() => stream.readuntil(b("AAA")))), "lineAAA");
    assert.equal(buffered(stream), "");
    stream.feedData(b("lineAAA"));
    assert.equal(str(await loop.runUntilComplete(() => stream.readuntil(b("AAA")))), "lineAAA");
    assert.equal(buffered(stream), "");
    stream.feedData(b("lineAAAxxx"));
    assert.equal(str(await loop.runUntilComplete(() => stream.readuntil(b("AAA")))), "lineAAA");
    assert.equal(buffered(stream), "xxx");
  }));

test("StreamTests.test_readuntil_multi_chunks_1", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    const cases: [string[], string][] = [
      [["QWEaa", "XYaa", "a"], "QWEaaXYaaa"],
      [["QWEaa", "XYa", "aa"], "QWEaaXYaaa"],
      [["aaa"], "aaa"],
      [["Xaaa"], "Xaaa"],
      [["XXX", "a", "a", "a"], "XXXaaa"],
    ];
    for (const [chunks, expected] of cases) {
      for (const c of chunks) stream.feedData(b(c));
      assert.equal(str(await loop.runUntilComplete(() => stream.readuntil(b("aaa")))), expected);
      assert.equal(buffered(stream), "");
    }
  }));

test("StreamTests.test_readuntil_eof", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    const data = b("some dataAA");
    stream.feedData(data);
    stream.feedEof();
    await assert.rejects(loop.runUntilComplete(() => stream.readuntil(b("AAA"))), (e: unknown) =>
      e instanceof IncompleteReadError && /undefined expected bytes/.test(e.message) &&
      str(e.partial) === str(data) && e.expected === null);
    assert.equal(buffered(stream), "");
  }));

test("StreamTests.test_readuntil_limit_found_sep", () =>
  withLoop(async (loop) => {
    const stream = reader(loop, 3);
    stream.feedData(b("some dataAA"));
    await assert.rejects(loop.runUntilComplete(() => stream.readuntil(b("AAA"))), (e: unknown) =>
      e instanceof LimitOverrunError && /not found/.test(e.message));
    assert.equal(buffered(stream), "some dataAA");
    stream.feedData(b("A"));
    await assert.rejects(loop.runUntilComplete(() => stream.readuntil(b("AAA"))), (e: unknown) =>
      e instanceof LimitOverrunError && /is found/.test(e.message));
    assert.equal(buffered(stream), "some dataAAA");
  }));

test("StreamTests.test_readexactly_zero_or_less", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    stream.feedData(DATA);
    assert.equal(str(await loop.runUntilComplete(() => stream.readexactly(0))), "");
    assert.equal(buffered(stream), str(DATA));
    await assert.rejects(loop.runUntilComplete(() => stream.readexactly(-1)), (e: unknown) =>
      e instanceof ValueError && /less than zero/.test(e.message));
    assert.equal(buffered(stream), str(DATA));
  }));

test("StreamTests.test_readexactly", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    const n = 2 * DATA.length;
    const readTask = loop.createTask(() => stream.readexactly(n));
    loop.callSoon(() => {
      for (let i = 0; i < 3; i++) stream.feedData(DATA);
    });
    assert.equal(str(await loop.runUntilComplete(readTask)), str(DATA) + str(DATA));
    assert.equal(buffered(stream), str(DATA));
  }));

test("StreamTests.test_readexactly_limit", () =>
  withLoop(async (loop) => {
    const stream = reader(loop, 3);
    stream.feedData(b("chunk"));
    assert.equal(str(await loop.runUntilComplete(() => stream.readexactly(5))), "chunk");
    assert.equal(buffered(stream), "");
  }));

test("StreamTests.test_readexactly_eof", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    const n = 2 * DATA.length;
    const readTask = loop.createTask(() => stream.readexactly(n));
    loop.callSoon(() => {
      stream.feedData(DATA);
      stream.feedEof();
    });
    await assert.rejects(loop.runUntilComplete(readTask), (e: unknown) =>
      e instanceof IncompleteReadError && str(e.partial) === str(DATA) && e.expected === n &&
      e.message === "18 bytes read on a total of 36 expected bytes");
    assert.equal(buffered(stream), "");
  }));

test("StreamTests.test_readexactly_exception", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    stream.feedData(b("line\n"));
    assert.equal(str(await loop.runUntilComplete(() => stream.readexactly(2))), "li");
    stream.setException(new ValueError());
    await assert.rejects(loop.runUntilComplete(() => stream.readexactly(2)), ValueError);
  }));

test("StreamTests.test_exception", () =>
  withLoop((loop) => {
    const stream = reader(loop);
    assert.equal(stream.exception(), null);
    const exc = new ValueError();
    stream.setException(exc);
    assert.equal(stream.exception(), exc);
  }));

test("StreamTests.test_exception_waiter", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    const t1 = loop.createTask(() => stream.readline());
    const t2 = loop.createTask(async () => stream.setException(new ValueError()));
    await loop.runUntilComplete(async () => {
      await waitDone(t1);
      await waitDone(t2);
    });
    assert.throws(() => t1.result(), ValueError);
  }));

test("StreamTests.test_exception_cancel", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    const t = loop.createTask(() => stream.readline());
    await runBriefly(loop);
    t.cancel();
    await runBriefly(loop);
    // Fails if setException() is not careful with the cancelled waiter.
    stream.setException(new RuntimeError("message"));
    await runBriefly(loop);
    assert.doesNotMatch(String(stream), /waiter/);
  }));

// ---- Servers --------------------------------------------------------------------------------

async function handleClient(rd: StreamReader, wr: StreamWriter): Promise<void> {
  const data = await rd.readline();
  wr.write(data);
  await wr.drain();
  wr.close();
  await wr.waitClosed();
}

async function echoClient(open: () => Promise<[StreamReader, StreamWriter]>): Promise<string> {
  const [rd, wr] = await open();
  wr.write(b("hello world!\n"));
  const msgBack = await rd.readline();
  wr.close();
  await wr.waitClosed();
  return str(msgBack);
}

test("StreamTests.test_start_server", () =>
  withLoop(async (loop) => {
    const messages = captureExceptions(loop);
    // A coroutine as client handler, serving an already listening socket.
    const sock = new Socket(AF_INET, SOCK_STREAM);
    sock.bind(["127.0.0.1", 0]);
    sock.listen(100);
    const addr = sock.getsockname() as [string, number];
    let server = await loop.runUntilComplete(() => startServer(handleClient, null, null, { sock }));
    let msg = await loop.runUntilComplete(() => echoClient(() => openConnection(...addr)));
    server.close();
    await loop.runUntilComplete(() => server.waitClosed());
    assert.equal(msg, "hello world!\n");

    // A plain callback that starts a task, on a host and port.
    server = await loop.runUntilComplete(() =>
      startServer((rd, wr) => void loop.createTask(() => handleClient(rd, wr)), "127.0.0.1", 0)
    );
    const port = (server.sockets![0].getsockname() as [string, number])[1];
    msg = await loop.runUntilComplete(() => echoClient(() => openConnection("127.0.0.1", port)));
    server.close();
    await loop.runUntilComplete(() => server.waitClosed());
    assert.equal(msg, "hello world!\n");
    assert.deepEqual(messages, []);
  }));

test("StreamTests.test_start_unix_server", () =>
  withLoop(async (loop) => {
    const messages = captureExceptions(loop);
    for (const asCallback of [false, true]) {
      const path = unixSocketPath();
      const cb = asCallback
        ? (rd: StreamReader, wr: StreamWriter) => void loop.createTask(() => handleClient(rd, wr))
        : handleClient;
      const server = await loop.runUntilComplete(() => startUnixServer(cb, path));
      const msg = await loop.runUntilComplete(() => echoClient(() => openUnixConnection(path)));
      server.close();
      await loop.runUntilComplete(() => server.waitClosed());
      assert.equal(msg, "hello world!\n");
      if (existsSync(path)) unlinkSync(path);
    }
    assert.deepEqual(messages, []);
  }));

test("StreamTests.test_read_all_from_pipe_reader", () =>
  withLoop(async (loop) => {
    // The child writes 4 bytes to the pipe, given as its stdout (aioloop has no pass_fds); the
    // reader's limit is 1, so reading must pause and resume the pipe transport several times.
    const [rfd, wfd] = pipe();
    const stream = new StreamReader({ loop, limit: 1 });
    const protocol = new StreamReaderProtocol(stream, null, loop);
    const [transport] = await loop.runUntilComplete(() => loop.connectReadPipe(() => protocol, rfd));
    try {
      const code = "import os\nos.write(1, b'data')\nos.close(1)\n";
      const proc = await loop.runUntilComplete(() =>
        createSubprocessExec("/usr/bin/python3", "-c", code, { stdout: wfd })
      );
      await loop.runUntilComplete(() => proc.wait());
      libc.close(wfd);
      assert.equal(str(await loop.runUntilComplete(() => stream.read(-1))), "data");
    } finally {
      transport.close();
    }
  }));

test("StreamTests.test_streamreader_constructor_without_loop", () => {
  setEventLoop(null);
  assert.throws(() => new StreamReader(), (e: unknown) =>
    e instanceof RuntimeError && /no current event loop/.test(e.message));
});

test("StreamTests.test_streamreader_constructor_use_running_loop", () =>
  withLoop(async (loop) => {
    const [rd] = await loop.runUntilComplete(async () => [new StreamReader()]);
    assert.equal((rd as unknown as { _loop: unknown })._loop, loop);
  }));

test("StreamTests.test_streamreader_constructor_use_global_loop", () =>
  withLoop((loop) => {
    setEventLoop(loop);
    try {
      const rd = new StreamReader();
      assert.equal((rd as unknown as { _loop: unknown })._loop, loop);
    } finally {
      setEventLoop(null);
    }
  }));

test("StreamTests.test_streamreaderprotocol_constructor_without_loop", () => {
  setEventLoop(null);
  assert.throws(() => new StreamReaderProtocol({} as StreamReader), (e: unknown) =>
    e instanceof RuntimeError && /no current event loop/.test(e.message));
});

test("StreamTests.test_streamreaderprotocol_constructor_use_running_loop", () =>
  withLoop(async (loop) => {
    const [p] = await loop.runUntilComplete(async () => [new StreamReaderProtocol(reader(loop))]);
    assert.equal((p as unknown as { _loop: unknown })._loop, loop);
  }));

test("StreamTests.test_streamreaderprotocol_constructor_use_global_loop", () =>
  withLoop((loop) => {
    setEventLoop(loop);
    try {
      const p = new StreamReaderProtocol(reader(loop));
      assert.equal((p as unknown as { _loop: unknown })._loop, getEventLoop());
    } finally {
      setEventLoop(null);
    }
  }));

test("StreamTests.test_multiple_drain", () =>
  withLoop(async (loop) => {
    // Ten drains waiting on one paused protocol all finish when writing resumes.
    let drained = 0;
    await loop.runUntilComplete(async () => {
      const protocol = new StreamReaderProtocol(reader(loop), null, loop);
      protocol.pauseWriting();
      loop.callLater(0.1, () => protocol.resumeWriting());
      const drainer = async () => {
        await protocol._drainHelper();
        drained++;
      };
      await Promise.all(Array.from({ length: 10 }, drainer));
    });
    assert.equal(drained, 10);
  }));

test("StreamTests.test_drain_raises", () =>
  withLoop(async (loop) => {
    const messages = captureExceptions(loop);
    // A Python peer that accepts one connection and closes it at once.
    const code = "import socket\ns = socket.create_server(('127.0.0.1', 0))\n" +
      "print(s.getsockname()[1], flush=True)\nc, _ = s.accept()\nc.close()\n";
    const child = spawn("/usr/bin/python3", ["-c", code], { stdio: ["ignore", "pipe", "inherit"] });
    const port = await new Promise<number>((resolve) =>
      child.stdout!.once("data", (d) => resolve(Number(String(d).trim())))
    );
    const client = async () => {
      const [, wr] = await openConnection("127.0.0.1", port);
      for (;;) {
        wr.write(b("foo\n"));
        await wr.drain();
      }
    };
    await assert.rejects(loop.runUntilComplete(client), (e: unknown) =>
      e instanceof OSError && ["ECONNRESET", "ECONNABORTED", "EPIPE"].includes(e.code));
    await new Promise((r) => child.exitCode !== null ? r(null) : child.on("exit", r));
    assert.deepEqual(messages, []);
  }));

// ---- repr ------------------------------------------------------------------------------------

test("StreamTests.test___repr__", () =>
  withLoop((loop) => assert.equal(String(reader(loop)), "<StreamReader>")));

test("StreamTests.test___repr__nondefault_limit", () =>
  withLoop((loop) => assert.equal(String(reader(loop, 123)), "<StreamReader limit=123>")));

test("StreamTests.test___repr__eof", () =>
  withLoop((loop) => {
    const stream = reader(loop);
    stream.feedEof();
    assert.equal(String(stream), "<StreamReader eof>");
  }));

test("StreamTests.test___repr__data", () =>
  withLoop((loop) => {
    const stream = reader(loop);
    stream.feedData(b("data"));
    assert.equal(String(stream), "<StreamReader 4 bytes>");
  }));

test("StreamTests.test___repr__exception", () =>
  withLoop((loop) => {
    const stream = reader(loop);
    stream.setException(new RuntimeError());
    assert.match(String(stream), /^<StreamReader exception=RuntimeError.*>$/);
  }));

test("StreamTests.test___repr__waiter", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    const t = loop.createTask(() => stream.read(1));
    await runBriefly(loop);
    assert.match(String(stream), /^<StreamReader waiter/);
    stream.feedData(b("x"));
    await loop.runUntilComplete(t);
    assert.equal(String(stream), "<StreamReader>");
  }));

test("StreamTests.test___repr__transport", () =>
  withLoop(async (loop) => {
    const stream = reader(loop);
    const [rfd, wfd] = pipe();
    const [transport] = await loop.runUntilComplete(() =>
      loop.connectReadPipe(() => new StreamReaderProtocol(stream, null, loop), rfd)
    );
    assert.match(String(stream), /^<StreamReader transport/);
    transport.close();
    libc.close(wfd);
    await runBriefly(loop);
  }));

// ---- waitClosed and the writer's async API ---------------------------------------------------

test("StreamTests.test_wait_closed_on_close", () =>
  withHttp({}, async (loop, peer) => {
    const [rd, wr] = await loop.runUntilComplete(() => openConnection(peer.host, peer.port));
    wr.write(b("GET / HTTP/1.0\r\n\r\n"));
    assert.equal(str(await loop.runUntilComplete(() => rd.readline())), "HTTP/1.0 200 OK\r\n");
    assert.ok(str(await loop.runUntilComplete(() => rd.read())).endsWith("\r\n\r\nTest message"));
    assert.equal(wr.isClosing(), false);
    wr.close();
    assert.equal(wr.isClosing(), true);
    await loop.runUntilComplete(() => wr.waitClosed());
  }));

test("StreamTests.test_wait_closed_on_close_with_unread_data", () =>
  withHttp({}, async (loop, peer) => {
    const [rd, wr] = await loop.runUntilComplete(() => openConnection(peer.host, peer.port));
    wr.write(b("GET / HTTP/1.0\r\n\r\n"));
    assert.equal(str(await loop.runUntilComplete(() => rd.readline())), "HTTP/1.0 200 OK\r\n");
    wr.close();
    await loop.runUntilComplete(() => wr.waitClosed());
  }));

test("StreamTests.test_async_writer_api", () =>
  withHttp({}, async (loop, peer) => {
    const messages = captureExceptions(loop);
    await loop.runUntilComplete(async () => {
      const [rd, wr] = await openConnection(peer.host, peer.port);
      wr.write(b("GET / HTTP/1.0\r\n\r\n"));
      assert.equal(str(await rd.readline()), "HTTP/1.0 200 OK\r\n");
      assert.ok(str(await rd.read()).endsWith("\r\n\r\nTest message"));
      wr.close();
      await wr.waitClosed();
    });
    assert.deepEqual(messages, []);
  }));

test("StreamTests.test_async_writer_api_exception_after_close", () =>
  withHttp({}, async (loop, peer) => {
    const messages = captureExceptions(loop);
    await loop.runUntilComplete(async () => {
      const [rd, wr] = await openConnection(peer.host, peer.port);
      wr.write(b("GET / HTTP/1.0\r\n\r\n"));
      assert.equal(str(await rd.readline()), "HTTP/1.0 200 OK\r\n");
      assert.ok(str(await rd.read()).endsWith("\r\n\r\nTest message"));
      wr.close();
      await assert.rejects(async () => {
        wr.write(b("data"));
        await wr.drain();
      }, (e: unknown) => e instanceof OSError && e.code === "ECONNRESET");
    });
    assert.deepEqual(messages, []);
  }));

test("StreamTests.test_eof_feed_when_closing_writer", () =>
  withHttp({}, async (loop, peer) => {
    const messages = captureExceptions(loop);
    const [rd, wr] = await loop.runUntilComplete(() => openConnection(peer.host, peer.port));
    wr.close();
    await loop.runUntilComplete(() => wr.waitClosed());
    assert.equal(rd.atEof(), true);
    assert.equal(str(await loop.runUntilComplete(() => rd.read())), "");
    assert.deepEqual(messages, []);
  }));

test("StreamTests.test_unhandled_exceptions", () =>
  withLoop(async (loop) => {
    const messages = captureExceptions(loop);
    await loop.runUntilComplete(async () => {
      const server = await startServer(async () => {
        throw new Error("test");
      }, "127.0.0.1", 0);
      const port = (server.sockets![0].getsockname() as [string, number])[1];
      const [, wr] = await openConnection("127.0.0.1", port);
      wr.write(b("test msg"));
      await wr.drain();
      wr.close();
      await wr.waitClosed();
      await sleep(0.05);
      server.close();
      await server.waitClosed();
    });
    assert.ok(messages.length >= 1);
    assert.match(messages[0].message, /Unhandled exception in client_connected_cb|clientConnectedCb/);
  }));

