// asyncio's "Set signal handlers for SIGINT and SIGTERM": run forever until one arrives.
import process from "node:process";
import { getEventLoop } from "../mod.ts";

const loop = getEventLoop();

function askExit(signame: string) {
  console.log(`got signal ${signame}: exit`);
  loop.stop();
}

for (const signame of ["SIGINT", "SIGTERM"]) {
  loop.addSignalHandler(signame, askExit, signame);
}

console.log("Event loop running forever, press CTRL+c to interrupt.");
console.log(`pid ${process.pid}: send SIGINT or SIGTERM to exit.`);
try {
  await loop.runForever();
} finally {
  loop.close();
}
