/**
 * The sock* coroutines make their system call at the task's first step, on every loop family
 * (CPython's test_sock_lowlevel relies on it: a task started with createTask and one sleep(0)
 * has connected, sent or received before the test blocks on the other end). The io_uring loop
 * once submitted an operation there, which reached the kernel only at the next poll: a blocking
 * accept()/recv() on the peer right after the sleep(0) then hung the process.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AF_INET, OSError, sleep, SOCK_STREAM, Socket, socketpair } from "../../../mod.ts";
import type { BaseEventLoop } from "../../../loop/base_loop.ts";
import { withLoop } from "../../helpers.ts";

function onLoop<T>(body: (loop: BaseEventLoop) => Promise<T>): Promise<T> {
  return withLoop((loop) => loop.runUntilComplete(() => body(loop)));
}

/** `sock`'s waiting bytes without blocking (EAGAIN: none), as text. */
function recvNow(sock: Socket): string {
  try {
    return new TextDecoder().decode(sock.recv(100));
  } catch (e) {
    if (e instanceof OSError && e.code === "EAGAIN") return "<nothing yet>";
    throw e;
  }
}

test("sockConnect: the connect(2) is made at the task's first step (the listener can accept after one sleep(0))", () =>
  onLoop(async (loop) => {
    const listener = new Socket(AF_INET, SOCK_STREAM);
    const sock = new Socket(AF_INET, SOCK_STREAM);
    try {
      listener.bind(["127.0.0.1", 0]);
      listener.listen(1);
      listener.setBlocking(false);
      sock.setBlocking(false);
      const task = loop.createTask(() => loop.sockConnect(sock, listener.getsockname()!));
      await sleep(0);
      // Loopback completes the handshake inside connect(2): the connection is queued already.
      const [server] = listener.accept();
      server.close();
      await task;
    } finally {
      listener.close();
      sock.close();
    }
  }));

test("sockSendall: the bytes are sent at the task's first step (the peer has them after one sleep(0))", () =>
  onLoop(async (loop) => {
    const [a, b] = socketpair();
    try {
      a.setBlocking(false);
      b.setBlocking(false);
      const task = loop.createTask(() => loop.sockSendall(a, new TextEncoder().encode("hello")));
      await sleep(0);
      assert.equal(recvNow(b), "hello");
      await task;
    } finally {
      a.close();
      b.close();
    }
  }));

test("sockRecv / sockRecvInto: bytes already waiting are received at the task's first step", () =>
  onLoop(async (loop) => {
    const [a, b] = socketpair();
    try {
      a.setBlocking(false);
      b.setBlocking(false);
      b.send(new TextEncoder().encode("ping"));
      const recv = loop.createTask(() => loop.sockRecv(a, 100));
      await sleep(0);
      assert.ok(recv.done(), "sockRecv still pending after its first step");
      assert.equal(new TextDecoder().decode(recv.result()), "ping");
      b.send(new TextEncoder().encode("pong"));
      const buf = new Uint8Array(10);
      const into = loop.createTask(() => loop.sockRecvInto(a, buf));
      await sleep(0);
      assert.ok(into.done(), "sockRecvInto still pending after its first step");
      assert.equal(new TextDecoder().decode(buf.subarray(0, into.result())), "pong");
    } finally {
      a.close();
      b.close();
    }
  }));

test("sockAccept: a connection already queued is accepted at the task's first step", () =>
  onLoop(async (loop) => {
    const listener = new Socket(AF_INET, SOCK_STREAM);
    const client = new Socket(AF_INET, SOCK_STREAM);
    try {
      listener.bind(["127.0.0.1", 0]);
      listener.listen(1);
      listener.setBlocking(false);
      client.connect(listener.getsockname()!);
      const task = loop.createTask(() => loop.sockAccept(listener));
      await sleep(0);
      assert.ok(task.done(), "sockAccept still pending after its first step");
      task.result()[0].close();
    } finally {
      listener.close();
      client.close();
    }
  }));
