/**
 * openFd/openReadFd/openWriteFd (loop/streams/fd_streams.ts) over real ptys and pipes: lines
 * both ways, back-pressure through drain(), the streams owning and closing their fds (the
 * writer's duplicate included), a pty's end of input, and the errors (TypeError, ValueError
 * naming the one-way function, OSError EBADF, a regular file refused and left open) with the
 * loop still serving afterwards.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fcntl, os, OSError, ValueError } from "../../../mod.ts";
import { fdCountSettled, stableFdCount, windowsLacks, withLoop } from "../../helpers.ts";
import { pattern, sha256 } from "../../net_helpers.ts";
import { openFd, openReadFd, openWriteFd } from "../../../loop/streams/fd_streams.ts";

const posix = { skip: windowsLacks("ptys and the POSIX pipe transports") };
const enc = new TextEncoder(), dec = new TextDecoder();
const scratch = join(tmpdir(), `aioloop-openfd-${process.pid}`);

/** True while `fd` is open (fcntl F_GETFD answers). */
function isOpen(fd: number): boolean {
  try {
    fcntl.fcntl(fd, fcntl.F_GETFD);
    return true;
  } catch (e) {
    if (e instanceof OSError && e.code === "EBADF") return false;
    throw e;
  }
}

test("openFd on a pty's two sides: lines both ways; writer.close() closes both fds", posix, async () => {
  const before = await stableFdCount();
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const [controller, terminal] = os.openpty();
      const [cr, cw] = await openFd(controller);
      const [tr, tw] = await openFd(terminal);
      assert.equal(os.getBlocking(controller), false, "the streams made it non-blocking");
      cw.write(enc.encode("AT+PING\r")); // a line as a serial terminal sends it
      assert.equal(dec.decode(await tr.readline()), "AT+PING\n", "the terminal's ICRNL turns \\r into \\n");
      tw.write(enc.encode("OK\n"));
      await tw.drain();
      // The controller sees the terminal's echo of the command first, then the reply.
      assert.equal(dec.decode(await cr.readline()), "AT+PING\r\n");
      assert.equal(dec.decode(await cr.readline()), "OK\r\n");
      tw.close();
      await tw.waitClosed();
      assert.equal(isOpen(terminal), false, "the terminal side is closed");
      // With its terminal gone, the controller's read fails with EIO, as asyncio's pipe
      // transport reports it (connection_lost(OSError EIO)).
      await assert.rejects(cr.read(), (e: Error) => e instanceof OSError && (e as OSError).code === "EIO");
      cw.close();
      await cw.waitClosed();
      assert.equal(isOpen(controller), false);
    })
  );
  assert.equal(await fdCountSettled(before), before, "every fd, the writer's duplicate included, is closed");
});

test("openReadFd/openWriteFd over a pipe: 4 MiB through drain() back-pressure, then EOF", posix, async () => {
  const before = await stableFdCount();
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const [r, w] = os.pipe();
      const reader = await openReadFd(r, { limit: 1024 });
      const writer = await openWriteFd(w);
      const data = pattern(4 << 20);
      let paused = 0;
      const sending = (async () => {
        for (let off = 0; off < data.length; off += 256 << 10) {
          writer.write(data.subarray(off, off + (256 << 10)));
          if (writer.transport.getWriteBufferSize() > 0) paused++;
          await writer.drain();
        }
        writer.close();
      })();
      const chunks: Uint8Array[] = [];
      let size = 0;
      for (;;) {
        const chunk = await reader.read(65536);
        if (chunk.length === 0) break;
        chunks.push(chunk);
        size += chunk.length;
      }
      await sending;
      assert.equal(size, data.length);
      assert.equal(sha256(...chunks), sha256(data));
      assert.ok(paused > 0, "the pipe filled, so drain() waited");
      assert.equal(isOpen(r), false, "the reader closed its fd at EOF");
      assert.equal(isOpen(w), false);
    })
  );
  assert.equal(await fdCountSettled(before), before);
});

test("openFd errors: TypeError, ValueError for a one-way fd or a regular file (left open), OSError EBADF; the loop goes on", posix, async () => {
  const before = await stableFdCount();
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const [r, w] = os.pipe();
      await assert.rejects(openFd(r), (e: Error) => e instanceof ValueError && /open for read only.*use openReadFd/.test(e.message));
      await assert.rejects(openFd(w), (e: Error) => e instanceof ValueError && /use openWriteFd/.test(e.message));
      await assert.rejects(openReadFd(w), ValueError);
      await assert.rejects(openWriteFd(r), ValueError);
      await assert.rejects(openFd("3" as unknown as number), { name: "TypeError", message: /openFd: fd must be a non-negative integer/ });
      await assert.rejects(openFd(-1), TypeError);
      await assert.rejects(openReadFd(r, null as unknown as object), { name: "TypeError", message: /openReadFd: options must be an object/ });
      const file = os.open(scratch, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600);
      await assert.rejects(openFd(file), (e: Error) => e instanceof ValueError && /regular file/.test(e.message));
      assert.ok(isOpen(file), "a refused fd stays the caller's, open");
      os.close(file);
      await assert.rejects(openFd(file), (e: Error) => e instanceof OSError && (e as OSError).code === "EBADF");
      // The loop still serves the pipe.
      const reader = await openReadFd(r);
      const writer = await openWriteFd(w);
      writer.write(enc.encode("still here\n"));
      assert.equal(dec.decode(await reader.readline()), "still here\n");
      writer.close();
      assert.equal((await reader.read()).length, 0);
    })
  );
  rmSync(scratch, { force: true });
  assert.equal(await fdCountSettled(before), before);
});
