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
import { getRunningLoop, run } from "../../mod.ts";
import { BufferedProtocol, Protocol } from "../../loop/protocols.ts";
import type { Transport } from "../../loop/transports/base.ts";
import { type StreamReader, type StreamWriter, startServer } from "../../loop/streams.ts";

const READ_SIZE = 256 * 1024;
const [kind, portArg] = process.argv.slice(2);
const port = Number(portArg);
if (!["protocol", "buffered", "streams"].includes(kind) || !Number.isInteger(port)) {
  throw new Error("usage: aioloop_server.ts protocol|buffered|streams PORT");
}

class EchoProtocol extends Protocol {
  private transport: Transport | null = null;
  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }
  override dataReceived(data: Uint8Array): void {
    // `data` is ours to keep (protocols.ts), so it can be handed to write() as it is.
    this.transport!.write(data);
  }
}

class BufferedEchoProtocol extends BufferedProtocol {
  private transport: Transport | null = null;
  private readonly buffer = new Uint8Array(READ_SIZE);
  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }
  getBuffer(_sizeHint: number): Uint8Array {
    return this.buffer;
  }
  bufferUpdated(nbytes: number): void {
    // write() sends at once and copies only what the socket refused, so the buffer is free
    // again when it returns.
    this.transport!.write(this.buffer.subarray(0, nbytes));
  }
}

async function echoStream(reader: StreamReader, writer: StreamWriter): Promise<void> {
  try {
    for (;;) {
      const data = await reader.read(READ_SIZE);
      if (data.byteLength === 0) break;
      writer.write(data);
      await writer.drain();
    }
  } catch {
    // The peer reset the connection: close below.
  } finally {
    writer.close();
  }
}

// The network methods are typed loosely here so this file does not depend on their exact types.
interface ServerLike {
  serveForever?(): Promise<void>;
}

await run(async () => {
  const loop = getRunningLoop();
  // deno-lint-ignore no-explicit-any
  const server: ServerLike = kind === "protocol"
    ? await (loop as any).createServer(() => new EchoProtocol(), "127.0.0.1", port)
    : kind === "buffered"
    ? await (loop as any).createServer(() => new BufferedEchoProtocol(), "127.0.0.1", port)
    : await startServer(echoStream, "127.0.0.1", port);
  console.log("ready");
  if (typeof server.serveForever === "function") await server.serveForever();
  else await loop.createFuture();
});
