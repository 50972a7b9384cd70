// asyncio's "Display the current date with call_later()": print the date every second for
// five seconds (AIOLOOP_DEMO_SECONDS shortens it), then stop the loop.
import { type BaseEventLoop, getEventLoop } from "../mod.ts";

/** AIOLOOP_DEMO_SECONDS, or 5; Deno without --allow-env refuses the read: then 5 too. */
function demoSeconds(): number {
  try {
    return Number(globalThis.process?.env?.AIOLOOP_DEMO_SECONDS ?? 5);
  } catch {
    return 5;
  }
}
const seconds = demoSeconds();
const interval = Math.min(1, seconds / 5);

function displayDate(endTime: number, loop: BaseEventLoop) {
  console.log(new Date().toISOString());
  if (loop.time() + interval < endTime) {
    loop.callLater(interval, displayDate, endTime, loop);
  } else {
    loop.stop();
  }
}

const loop = getEventLoop();

// Schedule the first call to displayDate()
const endTime = loop.time() + seconds;
loop.callSoon(displayDate, endTime, loop);

// Runs until interrupted by loop.stop()
await loop.runForever();
loop.close();
