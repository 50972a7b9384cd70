/**
 * The readiness accept loop (loop/selector/selector_server.ts), which both the selector loop and
 * the io_uring proactor loop use for their servers: what it does when accept(2) fails. The
 * listener here is a real readable socket whose accept() fails as told, so the loop's watcher
 * fires as it would on a listening socket with a connection queued.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { LINUX_ERRNO } from "../../../ffi/errno_linux.ts";
import { osError } from "../../../ffi/libc.ts";
import { isWindows } from "../../../ffi/runtime.ts";
import { type BaseEventLoop, type Socket, sleep, socketpair } from "../../../mod.ts";
import { serveByReadiness } from "../../../loop/selector/selector_server.ts";
import type { AcceptingServer } from "../../../loop/transports/transport_loop.ts";
import { captureExceptions, withLoop } from "../../helpers.ts";

const skip = isWindows ? "the IOCP loop accepts with operations (loop/proactor/proactor_server.ts)" : false;

/** A server that records what it is handed and accepts on `listener` while `open`. */
function recordingServer(listener: Socket): AcceptingServer & { accepted: unknown[]; open: boolean } {
  return {
    _backlog: 4,
    accepted: [],
    open: true,
    _acceptsOn(l: Socket) {
      return this.open && l === listener;
    },
    _acceptConnection(conn: Socket, addr: unknown) {
      this.accepted.push([conn, addr]);
    },
  };
}

/** A readable socket whose accept() throws what `fail` returns (undefined: nothing to accept). */
function failingListener(fail: () => Error | undefined): [Socket, Socket] {
  const [a, b] = socketpair();
  a.setBlocking(false);
  b.send(new Uint8Array([1])); // `a` stays readable: the watcher fires on every poll
  a.accept = () => {
    throw fail() ?? osError("accept", LINUX_ERRNO.EAGAIN);
  };
  return [a, b];
}

async function onLoop(body: (loop: BaseEventLoop) => Promise<void>): Promise<void> {
  await withLoop((loop) => loop.runUntilComplete(() => body(loop)));
}

test("EMFILE on accept: reported once as 'out of system resource', the listener rests, then resumes while the server accepts", { skip }, async () => {
  await onLoop(async (loop) => {
    const seen = captureExceptions(loop);
    let calls = 0;
    const [listener, peer] = failingListener(() => (calls++ === 0 ? osError("accept", LINUX_ERRNO.EMFILE) : undefined));
    const server = recordingServer(listener);
    const stop = serveByReadiness(loop, server, listener);
    try {
      await sleep(0.1);
      assert.equal(seen.length, 1);
      assert.equal(seen[0].message, "socket.accept() out of system resource");
      assert.equal(seen[0].socket, listener);
      assert.equal(calls, 1, "resting: the readable listener is not watched");
      await sleep(1.2); // ACCEPT_RETRY_DELAY is 1 s
      assert.ok(calls > 1, "watched again after the delay");
      assert.equal(seen.length, 1, "EAGAIN afterwards is no error");
      assert.deepEqual(server.accepted, []);
    } finally {
      stop();
      listener.close();
      peer.close();
    }
  });
});

test("EMFILE on accept after the server stopped accepting: the listener is not watched again", { skip }, async () => {
  await onLoop(async (loop) => {
    const seen = captureExceptions(loop);
    let calls = 0;
    const [listener, peer] = failingListener(() => {
      calls++;
      return osError("accept", LINUX_ERRNO.EMFILE);
    });
    const server = recordingServer(listener);
    serveByReadiness(loop, server, listener);
    try {
      await sleep(0.1);
      server.open = false; // closed meanwhile
      await sleep(1.2);
      assert.equal(calls, 1);
      assert.equal(seen.length, 1);
      assert.equal(loop.removeReader(listener), false, "no watcher left behind");
    } finally {
      listener.close();
      peer.close();
    }
  });
});

test("ECONNABORTED is skipped, other errors are reported and the listener stays watched", { skip }, async () => {
  await onLoop(async (loop) => {
    const seen = captureExceptions(loop);
    const errors = [LINUX_ERRNO.ECONNABORTED, LINUX_ERRNO.EPERM];
    let calls = 0;
    const [listener, peer] = failingListener(() => {
      const errno = errors[calls++];
      return errno === undefined ? undefined : osError("accept", errno);
    });
    const stop = serveByReadiness(loop, recordingServer(listener), listener);
    try {
      await sleep(0.1);
      assert.equal(seen.length, 1, "EPERM reported, ECONNABORTED not");
      assert.equal((seen[0].exception as { code?: string }).code, "EPERM");
      assert.ok(calls > 2, "still watched after a non-resource error");
    } finally {
      stop();
      listener.close();
      peer.close();
    }
  });
});
