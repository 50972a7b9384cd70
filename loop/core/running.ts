/**
 * The loop currently running in this thread (asyncio's _running_loop), and the loop
 * getEventLoop() hands out when none is running.
 */
import type { AbstractEventLoop } from "./abstract_loop.ts";

let running: AbstractEventLoop | null = null;

/** @ignore */
export function setRunningLoop(loop: AbstractEventLoop | null): void {
  running = loop;
}

/** The running loop, or null (asyncio _get_running_loop). */
export function getRunningLoopOrNull(): AbstractEventLoop | null {
  return running;
}

let eventLoopGetter: (() => AbstractEventLoop) | null = null;

/**
 * @ignore events.ts hands its getEventLoop over here: futures.ts needs it (a Future made
 * without a loop) but cannot import events.ts, which imports the loops, which import futures.ts.
 */
export function setEventLoopGetter(getter: () => AbstractEventLoop): void {
  eventLoopGetter = getter;
}

/** @ignore getEventLoop(), for modules that events.ts imports. */
export function currentEventLoop(): AbstractEventLoop {
  if (eventLoopGetter === null) throw new Error("loop/events.ts was not loaded");
  return eventLoopGetter();
}
