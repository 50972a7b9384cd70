// Watch a directory with inotify(7) through addReader: the raw-fd job neither Deno's nor Bun's
// own file watchers give you (every event, in order, with rename cookies, on one fd).
//
//   deno run -A examples/watch_directory.ts [DIR]      bun examples/watch_directory.ts [DIR]
//
// Prints one line per event ("IN_CREATE notes.txt") until the directory itself is deleted or
// moved away, or SIGINT/SIGTERM arrives. In your own project import from "aioloop" (Bun) or
// "jsr:@aioloop/aioloop" (Deno) instead of "../mod.ts".
import process from "node:process";
import {
  getEventLoop, IN_CLOSE_WRITE, IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_IGNORED, IN_MODIFY,
  IN_MOVE_SELF, IN_MOVED_FROM, IN_MOVED_TO, Inotify, inotifyMaskNames,
} from "../mod.ts";

const dir = process.argv[2] ?? ".";
const loop = getEventLoop();

const inotify = new Inotify(); // inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
inotify.addWatch(
  dir,
  IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |
    IN_DELETE_SELF | IN_MOVE_SELF,
);

function onEvents(): void {
  for (const event of inotify.read()) {
    const cookie = event.cookie !== 0 ? ` (cookie ${event.cookie})` : "";
    console.log(`${inotifyMaskNames(event.mask)} ${event.name}${cookie}`.trimEnd());
    // A deleted directory's watch ends with IN_IGNORED, which the kernel queues after
    // IN_DELETE_SELF, possibly for a later read (inotify(7)): stop on that. A directory moved
    // away keeps its watch, so IN_MOVE_SELF is the end there.
    if (event.mask & (IN_MOVE_SELF | IN_IGNORED)) loop.stop();
  }
}

// The inotify fd becomes readable when events are queued.
loop.addReader(inotify, onEvents);
for (const signame of ["SIGINT", "SIGTERM"]) loop.addSignalHandler(signame, () => loop.stop());

console.log(`watching ${dir}`);
try {
  await loop.runForever();
} finally {
  loop.removeReader(inotify);
  inotify.close();
  loop.close();
}
