/**
 * The loop's set of pending tasks (asyncio's _scheduled_tasks WeakSet): what allTasks() lists.
 *
 * It holds tasks weakly. A pending task is kept alive by whatever will wake it — the Future it
 * awaits (through that Future's done-callbacks), a timer, an fd watcher, a host Promise — so a
 * task that nothing references can never resume: it is collected, and reported then as
 * "Task was destroyed but it is pending!" through the loop's exception handler, as asyncio's
 * Task.__del__ does. A strong set would keep such a task, and all it references, forever.
 */
import type { BaseEventLoop } from "./base_loop.ts";
import type { Task } from "./tasks.ts";

/** What the registry keeps of one pending task; it must not reference the task strongly. */
export interface TaskEntry {
  readonly ref: WeakRef<Task<unknown>>;
  readonly registry: TaskRegistry;
  /** The task's toString() for the report (the task itself is gone by then). */
  repr: string;
}

/** Reports a pending task that was collected; finished tasks are unregistered first. */
const collected = new FinalizationRegistry<TaskEntry>((entry) => {
  const { registry } = entry;
  if (!registry.entries.delete(entry) || registry.loop.isClosed()) return;
  registry.loop.callExceptionHandler({
    message: "Task was destroyed but it is pending!",
    repr: entry.repr,
  });
});

/** The pending tasks of one loop, held weakly. */
export class TaskRegistry {
  /** @internal */ readonly entries: Set<TaskEntry> = new Set();

  constructor(/** @internal */ readonly loop: BaseEventLoop) {}

  /** Track `task` until remove(); returns the entry to pass to remove(). */
  add(task: Task<unknown>): TaskEntry {
    const entry: TaskEntry = { ref: new WeakRef(task), registry: this, repr: "" };
    this.entries.add(entry);
    collected.register(task, entry, entry);
    return entry;
  }

  /** `entry`'s task is done: stop tracking it. Idempotent. */
  remove(entry: TaskEntry): void {
    if (this.entries.delete(entry)) collected.unregister(entry);
  }

  /** The tracked tasks that are still alive and not done. */
  live(): Task<unknown>[] {
    const tasks: Task<unknown>[] = [];
    for (const entry of this.entries) {
      const task = entry.ref.deref();
      if (task !== undefined && !task.done()) tasks.push(task);
    }
    return tasks;
  }
}
