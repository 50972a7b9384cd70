/**
 * The three echo shapes the aioloop bench servers run (bench/echo/aioloop_server.ts, plain
 * TCP; bench/tls/aioloop_tls_server.ts, TLS): a Protocol, a BufferedProtocol that reuses one
 * buffer, and a streams handler with drain() — the shapes bench/echo/py_server.py writes for
 * asyncio and uvloop.
 */
import {
  BufferedProtocol, Protocol, type StreamReader, type StreamWriter, type Transport,
} from "../../mod.ts";

/** What one read may take: asyncio's max_size. */
const READ_SIZE = 256 * 1024;

/** Echo on a Protocol: each received array goes straight back. */
export class EchoProtocol extends Protocol {
  private transport: Transport | null = null;
  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }
  override dataReceived(data: Uint8Array): void {
    // `data` is ours to keep (protocols.ts), so it can be handed to write() as it is.
    this.transport!.write(data);
  }
}

/** Echo on a BufferedProtocol: one receive buffer per connection, reused for every read. */
export class BufferedEchoProtocol extends BufferedProtocol {
  private transport: Transport | null = null;
  private readonly buffer = new Uint8Array(READ_SIZE);
  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }
  getBuffer(_sizeHint: number): Uint8Array {
    return this.buffer;
  }
  bufferUpdated(nbytes: number): void {
    // write() sends (or encrypts) at once and copies only what it could not pass on, so the
    // buffer is free again when it returns.
    this.transport!.write(this.buffer.subarray(0, nbytes));
  }
}

/** Echo on streams: read, write, drain, until EOF or a reset. */
export async function echoStream(reader: StreamReader, writer: StreamWriter): Promise<void> {
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
