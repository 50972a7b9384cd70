/**
 * Web Streams views of the asyncio streams, so an aioloop connection, pipe or child's output
 * plugs into what Deno and Bun take: `new Response(readable)`, `pipeTo`/`pipeThrough`,
 * TextDecoderStream, CompressionStream.
 *
 * toReadableStream(reader): a pull source with highWaterMark 0, so nothing is read ahead of
 * the consumer: each pull is one StreamReader.read(), whose own buffer limit pauses the
 * transport (asyncio's back-pressure). EOF closes the stream; a read error errors it; cancel()
 * closes the reader's transport, as Deno's `conn.readable.cancel()` closes the connection.
 *
 * toWritableStream(writer): each chunk is written, then drain() is awaited, so a fast producer
 * waits for the transport's write buffer to fall under its low-water mark. close() sends EOF
 * (writeEof, a half-close: the peer can still answer) where the transport can, else closes it;
 * `{ close: "close" }` closes the connection and waits until it is closed. abort() aborts the
 * transport (unsent data dropped). A write error errors the stream.
 *
 * Both run on the loop that owns the reader/writer: use them while that loop runs.
 */
import { describe } from "../core/describe.ts";
import { ValueError } from "../core/errors.ts";
import type { StreamReader, StreamWriter } from "./streams.ts";

/** Options of toReadableStream(). */
export interface ReadableStreamOptions {
  /** The most bytes one pull reads (one StreamReader.read(n)); default 65536. */
  chunkSize?: number;
}

/** Options of toWritableStream(). */
export interface WritableStreamOptions {
  /**
   * What the stream's close() does: "eof" (default) sends EOF with writeEof() where the
   * transport can (else closes it); "close" closes the connection and waits until it is closed.
   */
  close?: "eof" | "close";
}

/**
 * A ReadableStream of the bytes `reader` reads, pulled on demand (see the module comment).
 * TypeError if `reader` has no read(); ValueError for a chunkSize that is not a positive
 * integer.
 */
export function toReadableStream(
  reader: StreamReader,
  options: ReadableStreamOptions = {},
): ReadableStream<Uint8Array<ArrayBuffer>> {
  if (reader === null || typeof reader !== "object" || typeof reader.read !== "function") {
    throw new TypeError(`toReadableStream() needs a StreamReader, got ${describe(reader)}`);
  }
  const chunkSize = options.chunkSize ?? 65536;
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) {
    throw new ValueError(`toReadableStream() chunkSize must be a positive integer, got ${describe(chunkSize)}`);
  }
  let cancelled = false;
  // Typed over ArrayBuffer (what the reader's chunks are in), as the Web streams the result is
  // piped into (DecompressionStream, TextDecoderStream) take BufferSource.
  return new ReadableStream<Uint8Array<ArrayBuffer>>({
    async pull(controller) {
      const chunk = await reader.read(chunkSize);
      if (cancelled) return; // the stream is gone: what came is dropped
      if (chunk.length === 0) controller.close();
      else controller.enqueue(chunk as Uint8Array<ArrayBuffer>);
    },
    cancel() {
      cancelled = true;
      reader._readTransport()?.close();
    },
  }, { highWaterMark: 0 });
}

/**
 * A WritableStream that writes each chunk to `writer` and waits for drain() (see the module
 * comment). A chunk that is not a Uint8Array errors the stream with TypeError. TypeError if
 * `writer` has no write(); ValueError for an unknown `close` option.
 */
export function toWritableStream(writer: StreamWriter, options: WritableStreamOptions = {}): WritableStream<Uint8Array> {
  if (writer === null || typeof writer !== "object" || typeof writer.write !== "function") {
    throw new TypeError(`toWritableStream() needs a StreamWriter, got ${describe(writer)}`);
  }
  const mode = options.close ?? "eof";
  if (mode !== "eof" && mode !== "close") {
    throw new ValueError(`toWritableStream() close must be "eof" or "close", got ${describe(mode)}`);
  }
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      if (!(chunk instanceof Uint8Array)) {
        throw new TypeError(`a WritableStream of a StreamWriter takes Uint8Array chunks, got ${describe(chunk)}`);
      }
      writer.write(chunk);
      await writer.drain();
    },
    async close() {
      if (mode === "eof" && writer.canWriteEof()) {
        writer.writeEof(); // sent after what is buffered
        // A pipe's writeEof closes it: then wait until it is closed, as for "close".
        if (writer.isClosing()) await writer.waitClosed();
        return;
      }
      writer.close();
      await writer.waitClosed();
    },
    abort() {
      writer.transport.abort();
    },
  });
}
