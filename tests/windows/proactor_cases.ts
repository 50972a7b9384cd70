/**
 * The IOCP Proactor against real sockets, pipes and the completion port: loopback TCP and UDP,
 * named pipes, timeouts, wakeups, and cancelling or closing while operations are in flight.
 */
import { LINUX_ERRNO } from "../../ffi/errno_linux.ts";
import {
  CloseHandle, FILE_FLAG_FIRST_PIPE_INSTANCE, FILE_FLAG_OVERLAPPED, GENERIC_READ, GENERIC_WRITE,
  kernel32, OPEN_EXISTING, PIPE_ACCESS_DUPLEX, PIPE_REJECT_REMOTE_CLIENTS, PIPE_TYPE_BYTE,
  wideString,
} from "./win.ts";
import { collectGarbage } from "../../ffi/runtime.ts";
import { decodeSockaddr, encodeSockaddr } from "../../ffi/sockaddr.ts";
import { AF_INET, AF_INET6, SOCK_CLOEXEC, SOCK_NONBLOCK } from "../../ffi/socket_constants.ts";
import { SD_SEND, WIN_AF_INET, WIN_AF_INET6, WIN_SOCK_DGRAM, WIN_SOCK_STREAM, ws2 } from "../../ffi/ws2_32.ts";
import type { CompletionTarget } from "../../loop/proactor/proactor.ts";
import { abandonedOperations, errnoOf, IocpProactor, unknownErrors, winsock } from "../../platform/windows.ts";
import type { Case } from "./run.ts";

// Linux errno values the proactor reports (<asm-generic/errno.h>).
const { ETIME, ECONNRESET, ECONNREFUSED, ECANCELED, EINVAL, EPIPE } = LINUX_ERRNO;

export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}
export function assertEquals<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) {
    const show = (v: unknown) => typeof v === "string" ? JSON.stringify(v) : String(v);
    throw new Error(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

interface Completion {
  tag: number;
  res: number;
  more: boolean;
  op: number;
  buffer: Uint8Array | undefined;
  addressLength: number;
}

/** A CompletionTarget that records what it is given (copying the completion's buffer). */
class Recorder implements CompletionTarget {
  readonly done: Completion[] = [];
  constructor(private readonly proactor: IocpProactor) {}
  _ioComplete(tag: number, res: number, more: boolean, op: number, buffer: Uint8Array | undefined): void {
    this.done.push({ tag, res, more, op, buffer: buffer?.slice(), addressLength: this.proactor.completionAddressLength });
  }
  byTag(tag: number): Completion[] {
    return this.done.filter((c) => c.tag === tag);
  }
}

/** Poll, and park between polls, until `cond` holds. */
async function until(p: IocpProactor, cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    p.poll();
    if (cond()) return;
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`timed out waiting for ${what}`);
    await p.park(Math.max(1, Math.min(200, Math.ceil(left))));
  }
}

/** The loop's encoding of 127.0.0.1:port (or [::1]:port). */
function loopback(port: number, v6 = false): [Uint8Array, number] {
  const buf = new Uint8Array(new ArrayBuffer(128));
  const len = v6
    ? encodeSockaddr(AF_INET6, ["::1", port, 0, 0], buf, "test")
    : encodeSockaddr(AF_INET, ["127.0.0.1", port], buf, "test");
  return [buf, len];
}

function bytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(new ArrayBuffer(n));
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** A listening loopback TCP socket and its port. */
function listener(v6 = false): [number, number] {
  const s = winsock.socket(v6 ? WIN_AF_INET6 : WIN_AF_INET, WIN_SOCK_STREAM);
  let port: number;
  if (v6) {
    const addr = new Uint8Array(28);
    addr[0] = WIN_AF_INET6;
    addr[23] = 1; // ::1
    assertEquals(ws2().bind(s, addr, 28), 0, "bind ::1");
    const name = new Uint8Array(128), len = new Int32Array([128]);
    ws2().getsockname(s, name, len);
    port = (name[2] << 8) | name[3];
  } else {
    port = winsock.bindLoopback(s);
  }
  assertEquals(ws2().listen(s, 16), 0, "listen");
  return [s, port];
}

/** A connected TCP pair through the proactor: [client, server side]. */
async function tcpPair(p: IocpProactor, v6 = false): Promise<[number, number, number]> {
  const [ls, port] = listener(v6);
  const r = new Recorder(p);
  p.accept(ls, SOCK_NONBLOCK | SOCK_CLOEXEC, false, r, 1);
  const c = winsock.socket(v6 ? WIN_AF_INET6 : WIN_AF_INET, WIN_SOCK_STREAM);
  const [addr, len] = loopback(port, v6);
  p.connect(c, addr, len, r, 2);
  await until(p, () => r.done.length === 2, "accept and connect");
  const accepted = r.byTag(1)[0], connected = r.byTag(2)[0];
  assertEquals(connected.res, 0, "connect result");
  assert(accepted.res > 0, `accept result ${accepted.res}`);
  const peer = decodeSockaddr(accepted.buffer!, accepted.addressLength)!;
  assertEquals(peer[0], v6 ? "::1" : "127.0.0.1", "accepted peer host");
  return [c, accepted.res, ls];
}

function closeAll(p: IocpProactor, ...sockets: number[]): void {
  for (const s of sockets) {
    p.releaseHandle(s);
    winsock.close(s);
  }
}

export const proactorCases: Case[] = [
  ["GetLastError is still the failed call's after the FFI return", () => {
    for (let i = 0; i < 3; i++) {
      assertEquals(CloseHandle(0x7ffff0), 0, "CloseHandle(bogus)");
      assertEquals(kernel32().GetLastError(), 6, "ERROR_INVALID_HANDLE");
    }
  }],

  ["park() ends on wakeup(); host timers run meanwhile", async () => {
    const p = new IocpProactor();
    try {
      let fired = 0;
      const t = setInterval(() => fired++, 5);
      const started = performance.now();
      setTimeout(() => p.wakeup(), 60);
      await p.park(-1);
      const waited = performance.now() - started;
      clearInterval(t);
      assert(waited >= 40 && waited < 2000, `parked ${waited.toFixed(0)} ms`);
      assert(fired >= 3, `host interval fired ${fired} times while parked`);
      // Many wakeups coalesce into one packet; the next park then still waits.
      p.wakeup();
      p.wakeup();
      await p.park(1000);
      p.poll();
      const again = performance.now();
      await p.park(50);
      const second = performance.now() - again;
      assert(second >= 30, `second park returned after ${second.toFixed(0)} ms (a stale wakeup?)`);
    } finally {
      p.close();
    }
  }],

  ["park(50) returns after about 50 ms with nothing to do", async () => {
    const p = new IocpProactor();
    try {
      const started = performance.now();
      await p.park(50);
      const waited = performance.now() - started;
      assert(waited >= 40 && waited < 1000, `parked ${waited.toFixed(0)} ms`);
    } finally {
      p.close();
    }
  }],

  ["timeout() completes with -ETIME; a cancelled one with -ECANCELED", async () => {
    const p = new IocpProactor();
    try {
      const r = new Recorder(p);
      const started = performance.now();
      p.timeout(0.03, r, 1);
      const second = p.timeout(10, r, 2);
      p.cancel(second);
      await until(p, () => r.done.length === 2, "two timeouts");
      assertEquals(r.byTag(2)[0].res, -ECANCELED, "cancelled timeout");
      assertEquals(r.byTag(1)[0].res, -ETIME, "expired timeout");
      assert(performance.now() - started >= 25, "the timeout waited");
      assert(!p.hasWork(), "nothing left in flight");
    } finally {
      p.close();
    }
  }],

  ["TCP over IPv4: AcceptEx, ConnectEx, WSASend/WSARecv echo, EOF", async () => {
    const p = new IocpProactor();
    const [c, s, ls] = await tcpPair(p);
    try {
      const r = new Recorder(p);
      const msg = bytes(1000);
      const inbox = new Uint8Array(new ArrayBuffer(4096));
      p.recv(s, inbox, inbox.length, r, 1);
      p.send(c, msg, 0, msg.length, 0x4000, r, 2);
      await until(p, () => r.byTag(1).length === 1, "server recv");
      assertEquals(r.byTag(2)[0].res, 1000, "client sent");
      const got = r.byTag(1)[0].res;
      assert(got > 0 && got <= 1000, `server got ${got}`);
      // Echo back what arrived.
      p.send(s, inbox, 0, got, 0, r, 3);
      const back = new Uint8Array(new ArrayBuffer(4096));
      p.recv(c, back, back.length, r, 4);
      await until(p, () => r.byTag(4).length === 1, "client recv");
      assertEquals(r.byTag(4)[0].res, got, "echoed bytes");
      for (let i = 0; i < got; i++) assertEquals(back[i], msg[i], `byte ${i}`);
      // Half-close: the server's next recv is EOF (0).
      assertEquals(ws2().shutdown(c, SD_SEND), 0, "shutdown(SD_SEND)");
      p.recv(s, inbox, inbox.length, r, 5);
      await until(p, () => r.byTag(5).length === 1, "EOF");
      assertEquals(r.byTag(5)[0].res, 0, "recv after the peer's FIN");
    } finally {
      closeAll(p, c, s, ls);
      p.close();
    }
  }],

  ["TCP over IPv6 loopback (AF_INET6 translated both ways)", async () => {
    const p = new IocpProactor();
    const [c, s, ls] = await tcpPair(p, true);
    try {
      const r = new Recorder(p);
      const inbox = new Uint8Array(new ArrayBuffer(64));
      p.recv(s, inbox, 64, r, 1);
      p.send(c, bytes(10), 0, 10, 0, r, 2);
      await until(p, () => r.byTag(1).length === 1, "recv");
      assertEquals(r.byTag(1)[0].res, 10, "bytes over v6");
    } finally {
      closeAll(p, c, s, ls);
      p.close();
    }
  }],

  ["TCP: 4 MiB each way with one send in flight at a time, bytes intact", async () => {
    const p = new IocpProactor();
    const [c, s, ls] = await tcpPair(p);
    try {
      const total = 4 << 20;
      const data = bytes(total, 7);
      const received = new Uint8Array(new ArrayBuffer(total));
      let sent = 0, got = 0, sending = false, receiving = false;
      const chunk = new Uint8Array(new ArrayBuffer(65536));
      const target: CompletionTarget = {
        _ioComplete(tag, res) {
          if (res < 0) throw new Error(`op ${tag} failed: ${res}`);
          if (tag === 1) {
            sending = false;
            sent += res;
          } else {
            receiving = false;
            received.set(chunk.subarray(0, res), got);
            got += res;
            if (res === 0) throw new Error("early EOF");
          }
        },
      };
      p.onError = (e) => {
        throw e;
      };
      const step = () => {
        if (!sending && sent < total) {
          sending = true;
          p.send(c, data, sent, Math.min(256 * 1024, total - sent), 0, target, 1);
        }
        if (!receiving && got < total) {
          receiving = true;
          p.recv(s, chunk, chunk.length, target, 2);
        }
        return sent === total && got === total;
      };
      await until(p, step, "4 MiB transfer", 15_000);
      for (let i = 0; i < total; i += 4093) assertEquals(received[i], data[i], `byte ${i}`);
      assertEquals(received[total - 1], data[total - 1], "last byte");
    } finally {
      closeAll(p, c, s, ls);
      p.close();
    }
  }],

  ["TCP: connecting to a closed port completes with -ECONNREFUSED", async () => {
    const p = new IocpProactor();
    const [ls, port] = listener();
    closeAll(p, ls); // the port is now free: nothing listens there
    const c = winsock.socket(WIN_AF_INET, WIN_SOCK_STREAM);
    try {
      const r = new Recorder(p);
      const [addr, len] = loopback(port);
      p.connect(c, addr, len, r, 1);
      await until(p, () => r.done.length === 1, "refused connect");
      assertEquals(r.done[0].res, -ECONNREFUSED, "connect result");
    } finally {
      closeAll(p, c);
      p.close();
    }
  }],

  ["TCP: when the bind ConnectEx needs fails, connect completes with the bind's error, not ConnectEx's EINVAL", async () => {
    // The proactor binds an unbound socket to the wildcard address of the target's family
    // before ConnectEx. Here that bind cannot work (an IPv6 address for an IPv4 socket); when
    // the ephemeral ports run out, bind's EADDRINUSE is the same case. ConnectEx on the socket
    // left unbound would say WSAEINVAL ("an unbound socket"), which names neither.
    const p = new IocpProactor();
    const c = winsock.socket(WIN_AF_INET, WIN_SOCK_STREAM);
    const probe = winsock.socket(WIN_AF_INET, WIN_SOCK_STREAM);
    try {
      const wildcard6 = new Uint8Array(28);
      wildcard6[0] = WIN_AF_INET6;
      assertEquals(ws2().bind(probe, wildcard6, 28), -1, "bind of an IPv6 address on an IPv4 socket");
      const bindErrno = errnoOf(ws2().WSAGetLastError());
      assert(bindErrno !== EINVAL, `bind's own error is not EINVAL (${bindErrno})`);
      const r = new Recorder(p);
      const [addr, len] = loopback(9, true);
      p.connect(c, addr, len, r, 1);
      await until(p, () => r.done.length === 1, "connect that could not bind");
      assertEquals(r.done[0].res, -bindErrno, "connect result");
    } finally {
      closeAll(p, c, probe);
      p.close();
    }
  }],

  ["TCP: the peer's reset shows as -ECONNRESET or EOF, never a hang", async () => {
    const p = new IocpProactor();
    const [c, s, ls] = await tcpPair(p);
    try {
      const r = new Recorder(p);
      const inbox = new Uint8Array(new ArrayBuffer(64));
      p.recv(s, inbox, 64, r, 1);
      // SO_LINGER {on, 0 s} then close: an abortive close (RST), winsock2.h struct linger.
      const linger = new Uint16Array([1, 0]);
      ws2().setsockopt(c, 0xffff, 0x0080, new Uint8Array(linger.buffer), 4);
      closeAll(p, c);
      await until(p, () => r.done.length === 1, "recv on a reset connection");
      const res = r.done[0].res;
      assert(res === -ECONNRESET || res === 0, `recv result ${res}`);
    } finally {
      closeAll(p, s, ls);
      p.close();
    }
  }],

  ["UDP: WSASendTo/WSARecvFrom with the sender's address; a cut datagram", async () => {
    const p = new IocpProactor();
    const a = winsock.socket(WIN_AF_INET, WIN_SOCK_DGRAM);
    const b = winsock.socket(WIN_AF_INET, WIN_SOCK_DGRAM);
    try {
      const portA = winsock.bindLoopback(a), portB = winsock.bindLoopback(b);
      const r = new Recorder(p);
      const inbox = new Uint8Array(new ArrayBuffer(2048));
      p.recvFrom(b, inbox, inbox.length, r, 1);
      const [toB, toBLen] = loopback(portB);
      const msg = bytes(1200, 3);
      p.sendTo(a, msg, msg.length, toB, toBLen, r, 2);
      await until(p, () => r.byTag(1).length === 1, "datagram");
      const c1 = r.byTag(1)[0];
      assertEquals(c1.res, 1200, "datagram size");
      assertEquals(inbox[1199], msg[1199], "last byte");
      const from = decodeSockaddr(c1.buffer!, c1.addressLength)!;
      assertEquals(from[0], "127.0.0.1", "sender host");
      assertEquals(from[1], portA, "sender port");
      assertEquals(r.byTag(2)[0].res, 1200, "sent");
      // A datagram larger than the buffer: Linux semantics, the first bytes and no error.
      const small = new Uint8Array(new ArrayBuffer(100));
      p.recvFrom(b, small, 100, r, 3);
      p.sendTo(a, msg, 500, toB, toBLen, r, 4);
      await until(p, () => r.byTag(3).length === 1, "cut datagram");
      assertEquals(r.byTag(3)[0].res, 100, "cut datagram result");
      assertEquals(small[99], msg[99], "cut datagram bytes");
    } finally {
      closeAll(p, a, b);
      p.close();
    }
  }],

  ["cancel() of a pending recv: -ECANCELED exactly once, buffer intact after GC", async () => {
    const p = new IocpProactor();
    const [c, s, ls] = await tcpPair(p);
    try {
      const r = new Recorder(p);
      let inbox: Uint8Array | undefined = new Uint8Array(new ArrayBuffer(65536));
      const op = p.recv(s, inbox, inbox.length, r, 1);
      inbox = undefined; // only the proactor holds it now
      collectGarbage();
      p.cancel(op);
      p.cancel(op); // twice: harmless
      await until(p, () => r.done.length === 1, "cancelled recv");
      assertEquals(r.done[0].res, -ECANCELED, "cancelled recv result");
      // The socket still works afterwards.
      const again = new Uint8Array(new ArrayBuffer(16));
      p.recv(s, again, 16, r, 2);
      p.send(c, bytes(5), 0, 5, 0, r, 3);
      await until(p, () => r.byTag(2).length === 1, "recv after cancel");
      assertEquals(r.byTag(2)[0].res, 5, "recv after cancel");
      await new Promise((ok) => setTimeout(ok, 50));
      p.poll();
      assertEquals(r.byTag(1).length, 1, "one completion for the cancelled recv");
    } finally {
      closeAll(p, c, s, ls);
      p.close();
    }
  }],

  ["closing a socket under a pending recv and send: each completes once, with an error", async () => {
    const p = new IocpProactor();
    const [c, s, ls] = await tcpPair(p);
    try {
      const r = new Recorder(p);
      p.recv(s, new Uint8Array(new ArrayBuffer(4096)), 4096, r, 1);
      // Fill the send path so that a send stays pending: the peer never reads.
      const big = bytes(8 << 20);
      p.send(s, big, 0, big.length, 0, r, 2);
      closeAll(p, s);
      await until(p, () => r.done.length === 2, "both operations after closesocket");
      for (const done of r.done) assert(done.res < 0 || done.tag === 2, `tag ${done.tag} result ${done.res}`);
      assert(!p.hasWork(), "nothing in flight");
    } finally {
      closeAll(p, c, ls);
      p.close();
    }
  }],

  ["a bare closesocket() under pending I/O: close() still returns, memory kept, no crash", async () => {
    // Windows completes a closed socket's pending operations; Wine 8.0 leaves them pending.
    // Either way close() must return (bounded wait) and never free memory still lent out.
    const p = new IocpProactor();
    const [c, s, ls] = await tcpPair(p);
    const r = new Recorder(p);
    p.recv(s, new Uint8Array(new ArrayBuffer(4096)), 4096, r, 1);
    const big = bytes(8 << 20);
    p.send(s, big, 0, big.length, 0, r, 2); // stays pending: the peer does not read
    const before = abandonedOperations();
    ws2().closesocket(s); // no releaseHandle(): the caller forgot
    await new Promise((ok) => setTimeout(ok, 300));
    p.poll();
    const completed = r.done.length;
    const started = performance.now();
    p.close();
    assert(performance.now() - started < 5000, "close() is bounded");
    assertEquals(p.inFlight, 0, "in flight after close");
    assertEquals(abandonedOperations() - before, 2 - completed, "abandoned operations");
    console.log(`     (${completed} of the recv and send completed after closesocket; ${2 - completed} abandoned)`);
    closeAll(p, c, ls);
  }],

  ["close() with accept, recv, send and a timer in flight: no leak, no delivery", async () => {
    const p = new IocpProactor();
    const [c, s, ls] = await tcpPair(p);
    const r = new Recorder(p);
    p.accept(ls, 0, false, r, 1);
    p.recv(s, new Uint8Array(new ArrayBuffer(4096)), 4096, r, 2);
    p.recv(c, new Uint8Array(new ArrayBuffer(4096)), 4096, r, 3);
    p.timeout(30, r, 4);
    assertEquals(p.inFlight, 4, "in flight before close");
    const port = p.portHandle;
    p.close();
    p.close(); // idempotent
    assertEquals(p.inFlight, 0, "in flight after close");
    assertEquals(r.done.length, 0, "close() delivers nothing");
    assertEquals(CloseHandle(port), 0, "the port handle is closed already");
    assert(winsock.isOpen(c) && winsock.isOpen(s), "the caller's sockets stay the caller's");
    closeAll(p, c, s, ls);
    assert(!winsock.isOpen(c), "closed");
  }],

  ["close() while parked: the parked wait ends, completions it took are released", async () => {
    const p = new IocpProactor();
    const [c, s, ls] = await tcpPair(p);
    const r = new Recorder(p);
    p.recv(s, new Uint8Array(new ArrayBuffer(64)), 64, r, 1);
    const parked = p.park(-1);
    await new Promise((ok) => setTimeout(ok, 30));
    p.close();
    await parked;
    assertEquals(p.inFlight, 0, "in flight after close");
    assertEquals(r.done.length, 0, "nothing delivered");
    closeAll(p, c, s, ls);
  }],

  ["a target that throws goes to onError; the others still get theirs", async () => {
    const p = new IocpProactor();
    try {
      const errors: unknown[] = [];
      p.onError = (e) => errors.push(e);
      const r = new Recorder(p);
      p.timeout(0, { _ioComplete: () => { throw new Error("boom"); } }, 1);
      p.timeout(0, r, 2);
      await until(p, () => r.done.length === 1, "second timeout");
      assertEquals(errors.length, 1, "errors reported");
    } finally {
      p.close();
    }
  }],

  ["named pipe: overlapped ReadFile/WriteFile both ways, EOF when the writer closes", async () => {
    const p = new IocpProactor();
    const k = kernel32();
    const name = wideString(`\\\\.\\pipe\\aioloop-test-${k.GetCurrentProcessId()}-${Date.now()}`);
    const server = Number(k.CreateNamedPipeW(name,
      PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
      PIPE_TYPE_BYTE | PIPE_REJECT_REMOTE_CLIENTS, 1, 65536, 65536, 0, null));
    assert(server > 0 && server !== 0xffffffff, `CreateNamedPipeW: error ${k.GetLastError()}`);
    const client = Number(k.CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING,
      FILE_FLAG_OVERLAPPED, 0));
    assert(client > 0 && client !== 0xffffffff, `CreateFileW: error ${k.GetLastError()}`);
    let clientOpen = true;
    try {
      const r = new Recorder(p);
      const inbox = new Uint8Array(new ArrayBuffer(1024));
      p.read(server, inbox, 1024, r, 1);
      const msg = bytes(300, 9);
      p.write(client, msg, 0, 300, r, 2);
      await until(p, () => r.byTag(1).length === 1, "pipe read");
      assertEquals(r.byTag(1)[0].res, 300, "pipe bytes");
      assertEquals(inbox[299], msg[299], "pipe last byte");
      assertEquals(r.byTag(2)[0].res, 300, "pipe write");
      const back = new Uint8Array(new ArrayBuffer(1024));
      p.read(client, back, 1024, r, 3);
      p.write(server, msg, 100, 50, r, 4);
      await until(p, () => r.byTag(3).length === 1, "reverse read");
      assertEquals(r.byTag(3)[0].res, 50, "reverse bytes");
      assertEquals(back[0], msg[100], "write() honours the offset");
      // The client end closes: the server's pending read ends with EOF (0), its write EPIPE.
      p.read(server, inbox, 1024, r, 5);
      p.releaseHandle(client);
      CloseHandle(client);
      clientOpen = false;
      await until(p, () => r.byTag(5).length === 1, "EOF on the pipe");
      assertEquals(r.byTag(5)[0].res, 0, "read after the writer closed");
      p.write(server, msg, 0, 10, r, 6);
      await until(p, () => r.byTag(6).length === 1, "write to a closed pipe");
      assertEquals(r.byTag(6)[0].res, -EPIPE, "write after the reader closed");
      assertEquals([...unknownErrors].join(","), "", "errors with no errno mapping");
    } finally {
      if (clientOpen) CloseHandle(client);
      p.releaseHandle(server);
      CloseHandle(server);
      p.close();
    }
  }],

  ["multishot accept: one submission accepts until cancelled", async () => {
    const p = new IocpProactor();
    const [ls, port] = listener();
    const clients: number[] = [];
    try {
      const r = new Recorder(p);
      const op = p.accept(ls, 0, true, r, 1);
      for (let i = 0; i < 3; i++) {
        const c = winsock.socket(WIN_AF_INET, WIN_SOCK_STREAM);
        clients.push(c);
        const [addr, len] = loopback(port);
        p.connect(c, addr, len, r, 2);
      }
      await until(p, () => r.byTag(1).length === 3, "three accepts");
      assert(r.byTag(1).every((d) => d.more && d.res > 0 && d.op === op), "each accept, more to come");
      p.cancel(op);
      await until(p, () => r.byTag(1).length === 4, "the final completion");
      const last = r.byTag(1)[3];
      assertEquals(last.res, -ECANCELED, "final result");
      assertEquals(last.more, false, "final more");
      closeAll(p, ...r.byTag(1).slice(0, 3).map((d) => d.res));
    } finally {
      closeAll(p, ls, ...clients);
      p.close();
    }
  }],
];
