/**
 * The loop's set of pending tasks (asyncio's _scheduled_tasks WeakSet): what allTasks() lists.
 *
 * It holds tasks weakly. A pending task is kept alive by whatever will wake it — the Future it
 * awaits (through that Future's done-callbacks), a timer, an fd watcher, a host Promise — so a
 * task that nothing references can never resume: it is collected, and reported then as
 * "Task was destroyed but it is pending!" through the loop's exception handler, as asyncio's
 * Task.__del__ does. A strong set would keep such a task, and all it references, forever.
 *
 * A WeakRef plus a FinalizationRegistry entry costs about a microsecond per task (V8, JSC),
 * several times what a short-lived task costs otherwise. So a new task is first held strongly
 * ("young"), and the loop calls age() when it goes idle, yields to the host (at least every
 * millisecond under load) or stops: the tasks still pending then are moved to weak entries.
 * A task that finishes before that — most of them — never pays for the weak entry; one that
 * nothing can wake is reported at most one age() plus one garbage collection late.
 */
import type { AbstractEventLoop } from "./abstract_loop.ts";

/**
 * What the registry needs of a task (loop/core/tasks.ts's Task). The task keeps its entry in
 * a slot it only knows as `{ repr }` (it renames it), so that tasks.ts need not import this file.
 */
export interface RegisteredTask {
  done(): boolean;
  _registryEntry: { repr: string } | undefined;
}

/** What the registry keeps of one pending task; it must not reference the task strongly. */
export class TaskEntry<T extends RegisteredTask> {
  constructor(
    readonly ref: WeakRef<T>,
    readonly registry: TaskRegistry<T>,
    /** The task's toString() for the report (the task itself is gone by then). */
    public repr: string,
  ) {}
}

/** Reports a pending task that was collected; finished tasks are unregistered first. */
const collected = new FinalizationRegistry<TaskEntry<RegisteredTask>>((entry) => {
  const { registry } = entry;
  if (!registry.old.delete(entry) || registry.loop.isClosed()) return;
  registry.loop.callExceptionHandler({
    message: "Task was destroyed but it is pending!",
    repr: entry.repr,
  });
});

/** The pending tasks of one loop: new ones held strongly until age(), then weakly. */
export class TaskRegistry<T extends RegisteredTask> {
  private readonly young = new Set<T>();
  /** @ignore Weak entries of the tasks that were pending at an age(). */
  readonly old: Set<TaskEntry<T>> = new Set();

  constructor(/** @ignore */ readonly loop: AbstractEventLoop) {}

  /** Track a new task until remove(). */
  add(task: T): void {
    this.young.add(task);
  }

  /** `task` is done: stop tracking it. Idempotent. */
  remove(task: T): void {
    if (this.young.delete(task)) return;
    const entry = task._registryEntry;
    if (entry instanceof TaskEntry && this.old.delete(entry)) collected.unregister(entry);
  }

  /** Hold the tasks added since the last age() weakly from now on. */
  age(): void {
    if (this.young.size === 0) return;
    for (const task of this.young) {
      const entry = new TaskEntry(new WeakRef(task), this, String(task));
      task._registryEntry = entry;
      this.old.add(entry);
      collected.register(task, entry, entry);
    }
    this.young.clear();
  }

  /** The tracked tasks that are still alive and not done. */
  live(): T[] {
    const tasks: T[] = [];
    for (const task of this.young) if (!task.done()) tasks.push(task);
    for (const entry of this.old) {
      const task = entry.ref.deref();
      if (task !== undefined && !task.done()) tasks.push(task);
    }
    return tasks;
  }
}
