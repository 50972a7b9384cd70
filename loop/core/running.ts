/**
 * The loop currently running in this thread (asyncio's _running_loop), and the loop
 * getEventLoop() hands out when none is running.
 */
import type { BaseEventLoop } from "../base_loop.ts";

let running: BaseEventLoop | null = null;

/** @ignore */
export function setRunningLoop(loop: BaseEventLoop | null): void {
  running = loop;
}

/** The running loop, or null (asyncio _get_running_loop). */
export function getRunningLoopOrNull(): BaseEventLoop | null {
  return running;
}

let eventLoopGetter: (() => BaseEventLoop) | null = null;

/**
 * @ignore events.ts hands its getEventLoop over here: futures.ts needs it (a Future made
 * without a loop) but cannot import events.ts, which imports the loops, which import futures.ts.
 */
export function setEventLoopGetter(getter: () => BaseEventLoop): void {
  eventLoopGetter = getter;
}

/** @ignore getEventLoop(), for modules that events.ts imports. */
export function currentEventLoop(): BaseEventLoop {
  if (eventLoopGetter === null) throw new Error("loop/events.ts was not loaded");
  return eventLoopGetter();
}
