/**
 * TLS echo servers on aioloop (bench/tls/run_tls.ts): a Protocol on loop.createServer(ssl), a
 * BufferedProtocol (decrypted straight into a buffer it reuses) the same way, or streams on
 * startServer(ssl) with drain().
 *
 *   deno run -A bench/tls/aioloop_tls_server.ts protocol|buffered|streams PORT CERT KEY
 *   bun bench/tls/aioloop_tls_server.ts protocol|buffered|streams PORT CERT KEY
 *
 * Prints "ready" once listening on 127.0.0.1:PORT.
 */
import process from "node:process";
import {
  BufferedProtocol, getRunningLoop, Protocol, run, type SelectorEventLoop, SSLContext, type StreamReader,
  type StreamWriter, startServer, type Transport,
} from "../../mod.ts";

const READ_SIZE = 256 * 1024;
const [kind, portArg, cert, key] = process.argv.slice(2);
const port = Number(portArg);
if (!["protocol", "buffered", "streams"].includes(kind) || !Number.isInteger(port) || !key) {
  throw new Error("usage: aioloop_tls_server.ts protocol|buffered|streams PORT CERT KEY");
}

class EchoProtocol extends Protocol {
  private transport: Transport | null = null;
  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }
  override dataReceived(data: Uint8Array): void {
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
    // Encrypted at once by write(), so the buffer is free again when it returns.
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
    // The peer went away: close below.
  } finally {
    writer.close();
  }
}

await run(async () => {
  const loop = getRunningLoop() as SelectorEventLoop;
  const ssl = new SSLContext("server");
  ssl.loadCertChain(cert, key);
  const server = kind === "protocol"
    ? await loop.createServer(() => new EchoProtocol(), "127.0.0.1", port, { ssl })
    : kind === "buffered"
    ? await loop.createServer(() => new BufferedEchoProtocol(), "127.0.0.1", port, { ssl })
    : await startServer(echoStream, "127.0.0.1", port, { ssl });
  console.log("ready");
  await server.serveForever();
});
