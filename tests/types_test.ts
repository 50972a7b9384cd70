/**
 * The public types are precise: these assertions are checked at compile time by `deno check`
 * and `tsc --noEmit` (scripts/check.sh); at run time the test only runs the code they type.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type BaseEventLoop, type Future, gather, type GatherResults, getRunningLoop, newEventLoop,
  type Protocol, type ProtocolLike, type ReadTransport, SelectorEventLoop, sleep,
  type StreamReader, type StreamWriter, type Task, type Transport,
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
