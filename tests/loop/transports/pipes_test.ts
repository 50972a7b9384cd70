/**
 * connectReadPipe/connectWritePipe over real pipes (pipe2), a FIFO, a pty (openpty), character
 * devices epoll cannot watch (/dev/zero, /dev/urandom, /dev/null), and what is refused
 * (a regular file, bad arguments), with the loop still usable afterwards. On Windows the pipes
 * are overlapped named pipes (what the IOCP pipe transports drive, as asyncio's
 * windows_utils.pipe makes them); FIFOs, ptys and /dev devices are skipped by name.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, constants as fsc, mkdtempSync, openSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { check, libc, O_CLOEXEC } from "../../../ffi/libc.ts";
import { isWindows } from "../../../ffi/runtime.ts";
import { openpty } from "../../../ffi/spawn.ts";
import { type BaseEventLoop, OSError, type ReadTransport, sleep, ValueError, type WriteTransport } from "../../../mod.ts";
import { captureExceptions, fdCountSettled, stableFdCount, windowsLacks, withLoop } from "../../helpers.ts";
import { pattern, sha256 } from "../../net_helpers.ts";
import { handleObjectName, kernel32, overlappedPipe, writeAll } from "../../windows/win.ts";

/** A protocol that records every callback. */
class Recorder {
  events: string[] = [];
  chunks: Uint8Array[] = [];
  size = 0;
  lostWith: Error | null | undefined = undefined;
  onData?: (d: Uint8Array) => void;
  onLost?: () => void;
  connectionMade() {
    this.events.push("made");
  }
  dataReceived(d: Uint8Array) {
    if (this.events.at(-1) !== "data") this.events.push("data");
    this.chunks.push(d);
    this.size += d.length;
    this.onData?.(d);
  }
  eofReceived() {
    this.events.push("eof");
  }
  connectionLost(exc: Error | null) {
    this.events.push("lost");
    this.lostWith = exc;
    this.onLost?.();
  }
  pauseWriting() {
    this.events.push("pause");
  }
  resumeWriting() {
    this.events.push("resume");
  }
  received(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/**
 * A pipe for the loop's pipe transports: [readEnd, writeEnd]. A pipe2(O_CLOEXEC) pair; on
 * Windows a named pipe overlapped at both ends (its server end reads, its client end writes).
 */
function pipe(): [number, number] {
  if (isWindows) return overlappedPipe();
  const fds = new Int32Array(2);
  check(libc.pipe2(fds, O_CLOEXEC), "pipe2");
  return [fds[0], fds[1]];
}

/** Write `data` to a pipe end no transport owns: write(2); on Windows WriteFile (win.ts). */
function rawWrite(fd: number, data: Uint8Array): void {
  if (isWindows) writeAll(fd, data);
  else assert.equal(libc.write(fd, data, data.length), data.length);
}

/** Close a pipe end no transport owns: close(2), CloseHandle. */
function rawClose(fd: number): void {
  if (isWindows) assert.ok(kernel32().CloseHandle(fd), `CloseHandle(${fd})`);
  else libc.close(fd);
}

/**
 * What fd `fd` refers to now ("pipe:[1234]"; Windows: the pipe's object name), or null if it is
 * not open.
 */
function fdTarget(fd: number): string | null {
  if (isWindows) return handleObjectName(fd);
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

/**
 * Assert that `fd`, which referred to `target`, was closed. The runtime's own threads may
 * reuse the number at once, so compare what it refers to, not whether it is open.
 */
function assertClosed(fd: number, target: string | null, message: string): void {
  assert.ok(target !== null);
  assert.notEqual(fdTarget(fd), target, message);
}

/** An fd from node:fs wrapped so the transport closes it through node:fs as well. */
function fsFile(path: string, flags: number) {
  const fd = openSync(path, flags);
  return { fd, fileno: () => fd, close: () => closeSync(fd) };
}

/** Inside the running loop: wait until `cond()` holds, checking every millisecond. */
async function until(loop: BaseEventLoop, cond: () => boolean, timeout = 20): Promise<void> {
  const end = loop.time() + timeout;
  while (!cond()) {
    if (loop.time() > end) throw new Error("timed out");
    await sleep(0.001);
  }
}

/** A test body that runs as a task on a fresh loop. */
function inLoop(body: (loop: BaseEventLoop) => Promise<void>): () => Promise<void> {
  return () => withLoop((loop) => loop.runUntilComplete(() => body(loop)));
}

test("a pipe read end: made, data, eof, lost in order; the transport closes the fd", 
  inLoop(async (loop) => {
    const [r, w] = pipe();
    const target = fdTarget(r);
    const p = new Recorder();
    const [t, proto] = await loop.connectReadPipe(() => p, r);
    assert.equal(proto, p);
    assert.deepEqual(p.events, ["made"]);
    assert.equal(t.getExtraInfo("pipe"), r);
    assert.equal(t.isReading(), true);
    rawWrite(w, enc("hello"));
    rawClose(w);
    await until(loop, () => p.events.includes("lost"));
    assert.deepEqual(p.events, ["made", "data", "eof", "lost"]);
    assert.equal(dec(p.received()), "hello");
    assert.equal(p.lostWith, null);
    assertClosed(r, target, "the transport closed the read end");
    // IOCP has no readers to leave behind (removeReader raises NotImplementedError there).
    if (!isWindows) assert.equal(loop.removeReader(r), false, "no reader left behind");
  }));

test("10 MiB through a write pipe into a read pipe, with flow control and checksums", 
  inLoop(async (loop) => {
    const [r, w] = pipe();
    const targets = [fdTarget(r), fdTarget(w)];
    const reader = new Recorder();
    const writer = new Recorder();
    const [rt] = await loop.connectReadPipe(() => reader, r);
    const [wt] = await loop.connectWritePipe(() => writer, w);
    const data = pattern(10 * 1024 * 1024);
    let offset = 0, paused = false, maxBuffered = 0;
    const pump = () => {
      while (!paused && offset < data.length) {
        wt.write(data.subarray(offset, offset + 100_000));
        offset += 100_000;
        maxBuffered = Math.max(maxBuffered, wt.getWriteBufferSize());
      }
      if (offset >= data.length) wt.close();
    };
    writer.pauseWriting = () => {
      paused = true;
      writer.events.push("pause");
    };
    writer.resumeWriting = () => {
      paused = false;
      writer.events.push("resume");
      pump();
    };
    // A slow reader: pause reading on every chunk and resume a little later.
    reader.onData = () => {
      rt.pauseReading();
      assert.equal(rt.isReading(), false);
      loop.callLater(0.0005, () => rt.resumeReading());
    };
    pump();
    await until(loop, () => reader.events.includes("lost") && writer.events.includes("lost"), 60);
    assert.equal(reader.size, data.length);
    assert.equal(sha256(reader.received()), sha256(data), "bytes lost or reordered");
    assert.ok(writer.events.includes("pause") && writer.events.includes("resume"), writer.events.join());
    assert.ok(maxBuffered <= 64 * 1024 + 100_000, `buffer reached ${maxBuffered}`);
    assert.deepEqual(reader.events, ["made", "data", "eof", "lost"]);
    assert.equal(writer.lostWith, null);
    assertClosed(r, targets[0], "read end closed");
    assertClosed(w, targets[1], "write end closed");
  }));

test("a write pipe sees its reader leave: lost(null) when idle, lost(EPIPE) with data queued", 
  inLoop(async (loop) => {
    const exceptions = captureExceptions(loop);
    // Idle: the read end closes, the write transport notices through the poller.
    const [r1, w1] = pipe();
    const w1Target = fdTarget(w1);
    const p1 = new Recorder();
    await loop.connectWritePipe(() => p1, w1);
    rawClose(r1);
    await until(loop, () => p1.events.includes("lost"));
    assert.equal(p1.lostWith, null);
    assertClosed(w1, w1Target, "write end closed");

    // Data queued: more than a pipe holds, then the reader leaves.
    const [r2, w2] = pipe();
    const p2 = new Recorder();
    const [t2] = await loop.connectWritePipe(() => p2, w2);
    t2.write(new Uint8Array(1024 * 1024));
    assert.ok(t2.getWriteBufferSize() > 0);
    rawClose(r2);
    await until(loop, () => p2.events.includes("lost"));
    assert.ok(p2.lostWith instanceof OSError && p2.lostWith.code === "EPIPE", String(p2.lostWith));
    // Writes after the loss are dropped quietly.
    t2.write(enc("more"));
    assert.deepEqual(exceptions, [], "a reader leaving is not reported as an error");
  }));

test("abort() drops queued data and closes at once; close() on a read pipe gives lost(null)", 
  inLoop(async (loop) => {
    const [r, w] = pipe();
    const wp = new Recorder();
    const [wt] = await loop.connectWritePipe(() => wp, w);
    wt.write(new Uint8Array(1024 * 1024));
    wt.abort();
    assert.equal(wt.isClosing(), true);
    const rp = new Recorder();
    const [rt] = await loop.connectReadPipe(() => rp, r);
    await until(loop, () => wp.events.includes("lost"));
    assert.equal(wp.lostWith, null);
    assert.equal(wt.getWriteBufferSize(), 0);
    rt.close();
    rt.close();
    await until(loop, () => rp.events.includes("lost"));
    assert.deepEqual(rp.events.filter((e) => e === "lost"), ["lost"]);
    assert.equal(rp.lostWith, null);
  }));

test("a FIFO: writer and reader transports on the two ends", { skip: windowsLacks("FIFOs (mkfifo)") },
  inLoop(async (loop) => {
    const dir = mkdtempSync(join(tmpdir(), "aioloop-fifo-"));
    try {
      const path = join(dir, "fifo");
      assert.equal(spawnSync("mkfifo", [path]).status, 0);
      // O_NONBLOCK lets the read end open before any writer (fifo(7)).
      const rf = fsFile(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
      const wf = fsFile(path, fsc.O_WRONLY);
      const reader = new Recorder(), writer = new Recorder();
      const [rt] = await loop.connectReadPipe(() => reader, rf);
      const [wt] = await loop.connectWritePipe(() => writer, wf);
      assert.equal(rt.getExtraInfo("pipe"), rf);
      const data = pattern(1024 * 1024);
      wt.write(data);
      wt.close();
      await until(loop, () => reader.events.includes("lost") && writer.events.includes("lost"));
      assert.equal(sha256(reader.received()), sha256(data));
      assert.deepEqual(reader.events, ["made", "data", "eof", "lost"]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  }));

test("a pty: write to the master, read the line from the slave; the master ends with EIO, unreported", { skip: windowsLacks("ptys (openpty)") },
  inLoop(async (loop) => {
    const exceptions = captureExceptions(loop);
    const [master, slave] = openpty();
    const fromMaster = new Recorder(), fromSlave = new Recorder(), toMaster = new Recorder();
    const [mt] = await loop.connectReadPipe(() => fromMaster, master);
    const [st] = await loop.connectReadPipe(() => fromSlave, slave);
    // A second fd on the master for writing (the read transport owns `master`).
    const masterW = libc.fcntl(master, 1030 /* F_DUPFD_CLOEXEC */, 3);
    assert.ok(masterW >= 0);
    const [wt] = await loop.connectWritePipe(() => toMaster, masterW);
    wt.write(enc("typed line\n"));
    await until(loop, () => dec(fromSlave.received()).includes("typed line\n"));
    // The terminal echoes input back to the master side.
    await until(loop, () => dec(fromMaster.received()).includes("typed line"));
    wt.close();
    st.close(); // the last slave fd closes: reads on the master now fail with EIO
    await until(loop, () => fromMaster.events.includes("lost"));
    assert.ok(fromMaster.lostWith instanceof OSError && fromMaster.lostWith.code === "EIO", String(fromMaster.lostWith));
    assert.equal(mt.isClosing(), true);
    assert.deepEqual(exceptions, [], "EIO on a pty master is its normal end");
  }));

test("character devices epoll refuses: /dev/zero and /dev/urandom read, /dev/null written", { skip: windowsLacks("/dev/zero, /dev/urandom and /dev/null") },
  inLoop(async (loop) => {
    for (const path of ["/dev/zero", "/dev/urandom"]) {
      const f = fsFile(path, fsc.O_RDONLY);
      const p = new Recorder();
      const [t] = await loop.connectReadPipe(() => p, f);
      let timerFired = false;
      loop.callLater(0.001, () => (timerFired = true));
      p.onData = () => {
        if (p.size >= 4 * 1024 * 1024) t.close();
      };
      await until(loop, () => p.events.includes("lost"));
      assert.ok(p.size >= 4 * 1024 * 1024, `${path}: ${p.size} bytes`);
      const bytes = p.received();
      if (path === "/dev/zero") assert.ok(bytes.every((b) => b === 0));
      else assert.ok(new Set(bytes.subarray(0, 4096)).size > 200, "random bytes");
      assert.equal(timerFired, true, "timers still run while the device is read");
      assert.deepEqual(p.events, ["made", "data", "lost"]);
    }
    const z = fsFile("/dev/zero", fsc.O_RDONLY);
    const pz = new Recorder();
    const [tz] = await loop.connectReadPipe(() => pz, z);
    tz.pauseReading();
    const sizeAtPause = pz.size;
    await sleep(0.02);
    assert.equal(pz.size, sizeAtPause, "paused: nothing more read");
    pz.onData = () => tz.close();
    tz.resumeReading();
    await until(loop, () => pz.events.includes("lost"));
    assert.ok(pz.size > sizeAtPause, "resumed: read again");

    const n = fsFile("/dev/null", fsc.O_WRONLY);
    const pn = new Recorder();
    const [tn] = await loop.connectWritePipe(() => pn, n);
    for (let i = 0; i < 16; i++) tn.write(pattern(256 * 1024));
    assert.equal(tn.getWriteBufferSize(), 0);
    tn.close();
    await until(loop, () => pn.events.includes("lost"));
    assert.equal(pn.lostWith, null);
  }));

test("a regular file is a ValueError naming the reason; the file stays the caller's", {
  skip: windowsLacks("a poller that refuses regular files (IOCP takes any handle, as asyncio's proactor does)"),
},
  inLoop(async (loop) => {
    const dir = mkdtempSync(join(tmpdir(), "aioloop-file-"));
    try {
      const path = join(dir, "regular");
      writeFileSync(path, "data");
      const f = fsFile(path, fsc.O_RDONLY);
      const before = await stableFdCount();
      let made = 0;
      await assert.rejects(
        loop.connectReadPipe(() => ({ connectionMade: () => made++ }), f),
        (e: Error) => e instanceof ValueError && /regular file/.test(e.message) && /epoll/.test(e.message),
      );
      const fw = fsFile(path, fsc.O_WRONLY);
      await assert.rejects(loop.connectWritePipe(() => ({}), fw), ValueError);
      assert.equal(made, 0, "the factory is not called for a refused pipe");
      assert.equal(fdTarget(f.fd), path, "a refused pipe stays the caller's");
      f.close();
      fw.close();
      assert.equal(await fdCountSettled(before - 1), before - 1);
    } finally {
      rmSync(dir, { recursive: true });
    }
  }));

test("bad arguments are clear errors, raised when awaited; the loop lives on",
  inLoop(async (loop) => {
    let made = 0;
    const factory = () => ({ connectionMade: () => made++ });
    await assert.rejects(loop.connectReadPipe(factory, tmpdir() as never), TypeError);
    await assert.rejects(loop.connectReadPipe(factory, -1), ValueError);
    await assert.rejects(loop.connectWritePipe(factory, -1), ValueError);
    await assert.rejects(loop.connectReadPipe("nope" as never, 0), TypeError);
    await assert.rejects(loop.connectReadPipe(factory, 1_000_000), (e: Error) => e instanceof OSError && (e as OSError).code === "EBADF");
    assert.equal(made, 0, "the factory is not called for a refused pipe");
    // The loop still works.
    const [r, w] = pipe();
    const p = new Recorder();
    await loop.connectReadPipe(() => p, r);
    rawClose(w);
    await until(loop, () => p.events.includes("lost"));
    assert.deepEqual(p.events, ["made", "eof", "lost"]);
  }));

test("failing protocol callbacks are reported and close the pipe; connectionLost still runs once", 
  inLoop(async (loop) => {
    const exceptions = captureExceptions(loop);
    const [r, w] = pipe();
    const target = fdTarget(r);
    const p = new Recorder();
    p.onData = () => {
      throw new Error("boom");
    };
    await loop.connectReadPipe(() => p, r);
    rawWrite(w, enc("x"));
    await until(loop, () => p.events.includes("lost"));
    assert.equal(exceptions.length, 1);
    assert.match(String(exceptions[0].message), /dataReceived/);
    assert.equal((p.lostWith as Error).message, "boom");
    assertClosed(r, target, "read end closed");
    rawClose(w);
  }));

test("many pipes opened and closed leak no fd", 
  inLoop(async (loop) => {
    const before = await stableFdCount();
    for (let i = 0; i < 100; i++) {
      const [r, w] = pipe();
      const rp = new Recorder(), wp = new Recorder();
      const [, ] = await loop.connectReadPipe(() => rp, r);
      const [wt] = await loop.connectWritePipe(() => wp, w);
      wt.write(enc("ping"));
      wt.close();
      await until(loop, () => rp.events.includes("lost") && wp.events.includes("lost"));
    }
    assert.equal(await fdCountSettled(before), before);
  }));

// Type-level check: the transports satisfy the interfaces.
export type _Check = [ReadTransport, WriteTransport];
