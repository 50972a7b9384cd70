/**
 * Heap bytes held by a task parked in `await`, the part of an idle connection's memory that is
 * the scheduler's own (issue 19 §5; bench/memory_per_conn.ts measures whole connections).
 *
 * N tasks each await a pending Future (row "await future") or a StreamReader.read() on a reader
 * nobody feeds (row "await reader.read()", what an idle streams handler does); the heap grows by
 * the tasks, their coroutine frames and whatever Future.then() and read() hold per await. The
 * baseline row ("task only": N finished tasks kept alive) is subtracted by hand if wanted.
 * Needs a forced GC: run with --v8-flags=--expose-gc (Deno) or under Bun (Bun.gc).
 *
 *   deno run -A --v8-flags=--expose-gc bench/memory_await.ts [N]
 *   bun bench/memory_await.ts [N]
 */
import { newEventLoop, StreamReader } from "../mod.ts";
import type { Future } from "../mod.ts";

const N = Number(process.argv[2] ?? 50_000);

function gc(): void {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  if (typeof g.gc === "function") g.gc();
  else if (g.Bun) g.Bun.gc(true);
  else throw new Error("no GC hook: deno needs --v8-flags=--expose-gc");
}

function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

type Row = [string, (loop: ReturnType<typeof newEventLoop>, keep: unknown[]) => void];

const rows: Row[] = [
  ["task only (finished)", (loop, keep) => {
    for (let i = 0; i < N; i++) keep.push(loop.createTask(async () => {}));
  }],
  ["await a never-settled Promise", (loop, keep) => {
    for (let i = 0; i < N; i++) {
      const p = new Promise<void>(() => {});
      keep.push(p, loop.createTask(async () => {
        await p;
      }));
    }
  }],
  ["await future", (loop, keep) => {
    for (let i = 0; i < N; i++) {
      const fut: Future<void> = loop.createFuture<void>();
      keep.push(fut, loop.createTask(async () => {
        await fut;
      }));
    }
  }],
  ["await reader.read()", (loop, keep) => {
    for (let i = 0; i < N; i++) {
      const reader = new StreamReader({ loop });
      keep.push(reader, loop.createTask(async () => {
        await reader.read(65536);
      }));
    }
  }],
];

console.log(`| row (${N} tasks) | heap bytes per task |`);
console.log("|---|---:|");
for (const [name, make] of rows) {
  const loop = newEventLoop();
  const keep: unknown[] = [];
  const before = heap();
  make(loop, keep);
  // Let every task take its first step and park.
  await loop.runUntilComplete(loop.createTask(async () => {
    for (let i = 0; i < 3; i++) await new Promise<void>((r) => setTimeout(r, 0));
  }));
  const after = heap();
  console.log(`| ${name} | ${Math.round((after - before) / N)} |`);
  for (const x of keep) (x as { cancel?: () => void }).cancel?.();
  await loop.runUntilComplete(loop.createTask(async () => {
    for (let i = 0; i < 3; i++) await new Promise<void>((r) => setTimeout(r, 0));
  }));
  loop.close();
}
