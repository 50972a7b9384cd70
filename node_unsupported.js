// What Node.js loads for `import "aioloop"` (package.json "exports", condition "node"): aioloop
// drives the OS poller through FFI, which Node has not got. One sentence, no stack.
const limit = Error.stackTraceLimit;
Error.stackTraceLimit = 0;
const error = new Error(
  "aioloop needs Deno (run with --allow-ffi) or Bun: it drives the OS poller through FFI, " +
    "which Node.js does not offer.",
);
Error.stackTraceLimit = limit;
throw error;
