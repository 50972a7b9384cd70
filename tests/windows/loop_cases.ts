/**
 * The IOCP Proactor under a real event loop: ProactorEventLoop's scheduler, timers and parking
 * over an IocpProactor, driving the proactor's operations directly (no Socket, no transports).
 * The public API over the same loop is network_cases.ts's and process_cases.ts's.
 */
import { ProactorEventLoop } from "../../loop/proactor/proactor_loop.ts";
import type { Future } from "../../loop/core/futures.ts";
import type { CompletionTarget } from "../../loop/proactor/proactor.ts";
import { WIN_AF_INET, WIN_SOCK_STREAM, ws2 } from "../../ffi/ws2_32.ts";
import { encodeSockaddr } from "../../ffi/sockaddr.ts";
import { AF_INET } from "../../ffi/socket_constants.ts";
import { IocpProactor, winsock } from "../../platform/windows.ts";
import { assert, assertEquals } from "./proactor_cases.ts";
import type { Case } from "./run.ts";

/** The proactor loop over an IocpProactor, driving the proactor's operations directly. */
class IocpLoop extends ProactorEventLoop {
  constructor() {
    super(new IocpProactor());
  }
  get proactor(): IocpProactor {
    return this._proactor as IocpProactor;
  }

  /** One operation as a Future of its result (as ProactorEventLoop's sock* methods do). */
  operation(start: (target: CompletionTarget) => number): Promise<number> {
    const fut: Future<number> = this.createFuture<number>();
    let op = 0;
    op = start({
      _ioComplete(_tag, res) {
        op = 0;
        if (!fut.done()) fut.setResult(res);
      },
    });
    return (async () => {
      try {
        return await fut;
      } finally {
        if (op !== 0) this.proactor.cancel(op);
      }
    })();
  }
}

/** A tiny echo protocol over the proactor: connectionLost is counted, as a transport's is. */
class EchoConnection implements CompletionTarget {
  lost = 0;
  private readonly buf = new Uint8Array(new ArrayBuffer(4096));
  private readOp = 0;
  private closed = false;
  constructor(private readonly loop: IocpLoop, readonly sock: number) {
    this.read();
  }
  private read(): void {
    this.readOp = this.loop.proactor.recv(this.sock, this.buf, this.buf.length, this, 1);
  }
  _ioComplete(tag: number, res: number): void {
    if (tag !== 1) return;
    this.readOp = 0;
    if (res <= 0) return this.close();
    const copy = this.buf.slice(0, res);
    this.loop.proactor.send(this.sock, copy, 0, res, 0, { _ioComplete: () => {} }, 2);
    this.read();
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.readOp !== 0) this.loop.proactor.cancel(this.readOp);
    this.loop.callSoon(() => {
      this.lost++;
      this.loop.proactor.releaseHandle(this.sock);
      winsock.close(this.sock);
    });
  }
}

export const loopCases: Case[] = [
  ["loop: callLater timers fire in order while the loop parks on the port", async () => {
    const loop = new IocpLoop();
    try {
      const order: number[] = [];
      const done = loop.createFuture<void>();
      loop.callLater(0.05, () => order.push(2));
      loop.callLater(0.01, () => order.push(1));
      loop.callLater(0.08, () => {
        order.push(3);
        done.setResult(undefined);
      });
      const started = performance.now();
      await loop.runUntilComplete(done);
      assertEquals(order.join(","), "1,2,3", "timer order");
      assert(performance.now() - started >= 70, "the timers waited");
    } finally {
      loop.close();
    }
  }],

  ["loop: callSoonThreadsafe from a host timer wakes the parked loop", async () => {
    const loop = new IocpLoop();
    try {
      const fut = loop.createFuture<number>();
      setTimeout(() => loop.callSoonThreadsafe(() => fut.setResult(performance.now())), 40);
      const started = performance.now();
      const at = await loop.runUntilComplete(fut);
      const woke = performance.now() - at;
      assert(at - started >= 30, "it waited for the host timer");
      assert(woke < 200, `woke ${woke.toFixed(1)} ms after the call`);
    } finally {
      loop.close();
    }
  }],

  ["loop: TCP echo server with tasks; connectionLost once per connection", async () => {
    const loop = new IocpLoop();
    const ls = winsock.socket(WIN_AF_INET, WIN_SOCK_STREAM);
    const port = winsock.bindLoopback(ls);
    ws2().listen(ls, 16);
    const conns: EchoConnection[] = [];
    try {
      await loop.runUntilComplete((async () => {
        // Server: accept two connections.
        const serving = (async () => {
          for (let i = 0; i < 2; i++) {
            const s = await loop.operation((t) => loop.proactor.accept(ls, 0, false, t, 0));
            assert(s > 0, `accept ${s}`);
            conns.push(new EchoConnection(loop, s));
          }
        })();
        const client = async (text: string) => {
          const c = winsock.socket(WIN_AF_INET, WIN_SOCK_STREAM);
          const addr = new Uint8Array(new ArrayBuffer(128));
          const len = encodeSockaddr(AF_INET, ["127.0.0.1", port], addr, "test");
          assertEquals(await loop.operation((t) => loop.proactor.connect(c, addr, len, t, 0)), 0, "connect");
          const msg = new TextEncoder().encode(text);
          const out = new Uint8Array(new ArrayBuffer(msg.length));
          out.set(msg);
          assertEquals(await loop.operation((t) => loop.proactor.send(c, out, 0, out.length, 0, t, 0)), msg.length, "send");
          const inbox = new Uint8Array(new ArrayBuffer(256));
          let got = 0;
          while (got < msg.length) {
            const n = await loop.operation((t) => loop.proactor.recv(c, inbox.subarray(got), 256 - got, t, 0));
            assert(n > 0, `recv ${n}`);
            got += n;
          }
          assertEquals(new TextDecoder().decode(inbox.subarray(0, got)), text, "echo");
          ws2().shutdown(c, 1);
          return c;
        };
        const [c1, c2] = await Promise.all([client("hello from one"), client("and from two")]);
        await serving;
        // Both server sides see EOF and close once; a second close() is a no-op.
        while (conns.some((c) => c.lost === 0)) await new Promise<void>((ok) => loop.callLater(0.01, () => ok()));
        for (const c of conns) c.close();
        await new Promise<void>((ok) => loop.callLater(0.02, () => ok()));
        for (const s of [c1, c2]) {
          loop.proactor.releaseHandle(s);
          winsock.close(s);
        }
      })());
      assertEquals(conns.map((c) => c.lost).join(","), "1,1", "connectionLost counts");
    } finally {
      loop.proactor.releaseHandle(ls);
      winsock.close(ls);
      loop.close();
    }
  }],

  ["loop: a task cancelled while its recv is in flight cancels the operation", async () => {
    const loop = new IocpLoop();
    const ls = winsock.socket(WIN_AF_INET, WIN_SOCK_STREAM);
    const port = winsock.bindLoopback(ls);
    ws2().listen(ls, 4);
    const c = winsock.socket(WIN_AF_INET, WIN_SOCK_STREAM);
    try {
      await loop.runUntilComplete((async () => {
        const accepting = loop.operation((t) => loop.proactor.accept(ls, 0, false, t, 0));
        const addr = new Uint8Array(new ArrayBuffer(128));
        const len = encodeSockaddr(AF_INET, ["127.0.0.1", port], addr, "test");
        await loop.operation((t) => loop.proactor.connect(c, addr, len, t, 0));
        const s = await accepting;
        const inbox = new Uint8Array(new ArrayBuffer(64));
        const task = loop.createTask(() => loop.operation((t) => loop.proactor.recv(s, inbox, 64, t, 0)));
        await new Promise<void>((ok) => loop.callLater(0.02, () => ok()));
        assertEquals(loop.proactor.inFlight, 1, "the recv is in flight");
        task.cancel();
        let cancelled = false;
        try {
          await task;
        } catch (e) {
          cancelled = (e as Error).name === "CancelledError";
        }
        assert(cancelled, "the task was cancelled");
        while (loop.proactor.inFlight > 0) await new Promise<void>((ok) => loop.callLater(0.01, () => ok()));
        loop.proactor.releaseHandle(s);
        winsock.close(s);
      })());
    } finally {
      for (const s of [c, ls]) {
        loop.proactor.releaseHandle(s);
        winsock.close(s);
      }
      loop.close();
    }
  }],
];
