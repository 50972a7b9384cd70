// asyncio's "Hello World with call_soon()": schedule a callback that prints and stops the loop.
import { type BaseEventLoop, getEventLoop } from "../mod.ts";

function helloWorld(loop: BaseEventLoop) {
  console.log("Hello World");
  loop.stop();
}

const loop = getEventLoop();

// Schedule a call to helloWorld()
loop.callSoon(helloWorld, loop);

// Runs until interrupted by loop.stop()
await loop.runForever();
loop.close();
