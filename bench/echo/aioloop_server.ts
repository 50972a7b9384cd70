/**
 * Echo servers on aioloop, for the networking benchmark (bench/echo.ts): one on a Protocol
 * (loop.createServer), one on streams (startServer, StreamReader/StreamWriter with drain()),
 * the same two shapes as bench/echo/py_server.py writes for asyncio and uvloop, and one on a
 * BufferedProtocol (the protocol receives into a buffer it reuses, like Deno.listen's and the
 * C server's read loops).
 *
 *   deno run -A bench/echo/aioloop_server.ts protocol|buffered|streams PORT
 *   bun bench/echo/aioloop_server.ts protocol|buffered|streams PORT
 *
 * Prints "ready" once listening on 127.0.0.1:PORT.
 */
import process from "node:process";
import { getRunningLoop, run, startServer } from "../../mod.ts";
import { BufferedEchoProtocol, EchoProtocol, echoStream } from "../lib/echo_protocols.ts";

const [kind, portArg] = process.argv.slice(2);
const port = Number(portArg);
if (!["protocol", "buffered", "streams"].includes(kind) || !Number.isInteger(port)) {
  throw new Error("usage: aioloop_server.ts protocol|buffered|streams PORT");
}

await run(async () => {
  const loop = getRunningLoop();
  const server = kind === "protocol"
    ? await loop.createServer(() => new EchoProtocol(), "127.0.0.1", port)
    : kind === "buffered"
    ? await loop.createServer(() => new BufferedEchoProtocol(), "127.0.0.1", port)
    : await startServer(echoStream, "127.0.0.1", port);
  console.log("ready");
  await server.serveForever();
});
