/**
 * asyncio.TaskGroup: tasks that live and die together inside one block.
 *
 * Python writes `async with asyncio.TaskGroup() as tg: tg.create_task(...)`; here the block is
 * a function: `await new TaskGroup().run(async (tg) => { tg.createTask(...) })`. run() returns
 * once the block and every task of the group have finished, with the block's value. The first
 * task that fails cancels the other tasks and the block (the parent task); the failures, and
 * the block's own exception, are then thrown together as one ExceptionGroup (an AggregateError
 * with `exceptions`). Cancelled tasks are not failures. The semantics are asyncio 3.12's.
 */
import type { BaseEventLoop, CreateTaskOptions } from "../base_loop.ts";
import { CancelledError, ExceptionGroup, RuntimeError } from "../core/errors.ts";
import { getRunningLoop } from "../events.ts";
import type { Future } from "../core/futures.ts";
import { checkBody } from "./loop_bound.ts";
import { type Coroutine, currentTask, type Task } from "../core/tasks.ts";

/** What a task group's block is: called with the group, returns the block's value. */
export type TaskGroupBody<T> = (tg: TaskGroup) => T | PromiseLike<T>;

/** A group of tasks that end together (asyncio.TaskGroup); one group runs one block. */
export class TaskGroup {
  private _entered = false;
  private _exiting = false;
  private _aborting = false;
  private _loop: BaseEventLoop | undefined;
  private _parentTask: Task | undefined;
  private _parentCancelRequested = false;
  private readonly _tasks = new Set<Task<unknown>>();
  private readonly _errors: unknown[] = [];
  private _onCompleted: Future<boolean> | null = null;
  private readonly _onTaskDone = (task: Future<unknown>) => this._taskDone(task as Task<unknown>);

  /**
   * Run `body(this)` in the current task, then wait for every task of the group; resolves to
   * the body's value. Rejects with an ExceptionGroup of the failures if a task (or the body)
   * failed, with CancelledError if the parent task was cancelled from outside, with
   * RuntimeError if not called from a task or if this group already ran.
   */
  async run<T>(body: TaskGroupBody<T>): Promise<T> {
    checkBody(body, "TaskGroup.run");
    this._enter();
    let result: T;
    try {
      result = await body(this);
    } catch (e) {
      await this._exit(e, true);
      throw e; // _exit had nothing else to throw: the body's exception goes on
    }
    await this._exit(undefined, false);
    return result;
  }

  /**
   * Start `coro` as a task of the group (asyncio create_task). RuntimeError outside run(),
   * once the group has finished, or while it is cancelling its tasks after a failure.
   */
  createTask<T>(coro: Coroutine<T>, options: CreateTaskOptions = {}): Task<T> {
    if (!this._entered) throw new RuntimeError(`${this} has not been entered`);
    if (this._exiting && this._tasks.size === 0) throw new RuntimeError(`${this} is finished`);
    if (this._aborting) throw new RuntimeError(`${this} is shutting down`);
    const task = this._loop!.createTask(coro, options);
    if (task.done()) this._taskDone(task);
    else {
      this._tasks.add(task);
      task.addDoneCallback(this._onTaskDone);
    }
    return task;
  }

  /** `<TaskGroup tasks=2 errors=1 cancelling entered>`, as asyncio's repr. */
  toString(): string {
    let info = "";
    if (this._tasks.size > 0) info += ` tasks=${this._tasks.size}`;
    if (this._errors.length > 0) info += ` errors=${this._errors.length}`;
    if (this._aborting) info += " cancelling";
    else if (this._entered) info += " entered";
    return `<TaskGroup${info}>`;
  }

  /** Bind the group to the running loop and the current task (asyncio __aenter__). */
  private _enter(): void {
    if (this._entered) throw new RuntimeError(`${this} has already been entered`);
    this._loop ??= getRunningLoop();
    this._parentTask = currentTask();
    if (this._parentTask === undefined) {
      throw new RuntimeError(`${this} cannot determine the parent task`);
    }
    this._entered = true;
  }

  /** Wait for the tasks, then throw what the block must end with (asyncio __aexit__). */
  private async _exit(error: unknown, failed: boolean): Promise<void> {
    this._exiting = true;
    let propagateCancellation: unknown = failed && error instanceof CancelledError ? error : null;
    // The group cancelled its parent itself: that request is undone and not passed on, unless
    // someone else cancelled the parent too.
    if (this._parentCancelRequested && this._parentTask!.uncancel() === 0) {
      propagateCancellation = null;
    }
    if (failed && !this._aborting) this._abort();
    while (this._tasks.size > 0) {
      this._onCompleted ??= this._loop!.createFuture<boolean>();
      try {
        await this._onCompleted;
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
        // The parent was cancelled while waiting: cancel the tasks and pass it on at the end.
        if (!this._aborting) {
          propagateCancellation = e;
          this._abort();
        }
      }
      this._onCompleted = null;
    }
    if (propagateCancellation !== null && this._errors.length === 0) throw propagateCancellation;
    if (failed && !(error instanceof CancelledError)) this._errors.push(error);
    if (this._errors.length > 0) {
      throw new ExceptionGroup("unhandled errors in a TaskGroup", this._errors.splice(0));
    }
  }

  /** Cancel every task of the group that is not done. */
  private _abort(): void {
    this._aborting = true;
    for (const t of this._tasks) if (!t.done()) t.cancel();
  }

  /** A task of the group ended: collect its failure; the first one cancels the rest. */
  private _taskDone(task: Task<unknown>): void {
    this._tasks.delete(task);
    if (this._onCompleted !== null && this._tasks.size === 0 && !this._onCompleted.done()) {
      this._onCompleted.setResult(true);
    }
    if (task.cancelled()) return;
    const exc = task.exception();
    if (exc === undefined) return;
    this._errors.push(exc);
    const parent = this._parentTask!;
    if (parent.done()) {
      this._loop!.callExceptionHandler({
        message: `Task ${task} has errored out but its parent task ${parent} is already completed`,
        exception: exc,
        task,
      });
      return;
    }
    if (!this._aborting && !this._parentCancelRequested) {
      // The first failure: cancel the other tasks and the block.
      this._abort();
      this._parentCancelRequested = true;
      parent.cancel();
    }
  }
}
