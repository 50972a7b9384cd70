/**
 * The loop currently running in this thread (asyncio's _running_loop), and the loop
 * getEventLoop() hands out when none is running.
 */
import type { BaseEventLoop } from "./base_loop.ts";

let running: BaseEventLoop | null = null;

/** @internal */
export function setRunningLoop(loop: BaseEventLoop | null): void {
  running = loop;
}

/** The running loop, or null (asyncio _get_running_loop). */
export function getRunningLoopOrNull(): BaseEventLoop | null {
  return running;
}
