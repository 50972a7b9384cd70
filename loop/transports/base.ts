/**
 * The transport interfaces (asyncio.transports): what protocols and users call on a
 * connection. Implementations live beside this file, one per kind of I/O.
 */

import type { Future } from "../core/futures.ts";

/** Common to every transport (asyncio.BaseTransport). */
export interface BaseTransport {
  /** Optional information: "socket", "sockname", "peername", "pipe", … (asyncio get_extra_info). */
  getExtraInfo(name: string, defaultValue?: unknown): unknown;
  /** True once the transport is closing or closed (asyncio is_closing). */
  isClosing(): boolean;
  /** Close after flushing buffered data; the protocol's connectionLost(null) follows. */
  close(): void;
  /** Make `protocol` receive this transport's callbacks from now on (asyncio set_protocol). */
  setProtocol(protocol: unknown): void;
  /** The protocol receiving this transport's callbacks (asyncio get_protocol). */
  getProtocol(): unknown;
  /** `using`: close() when the scope ends. */
  [Symbol.dispose](): void;
  /** `await using`: close(), then wait until the protocol's connectionLost has run. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The reading side (asyncio.ReadTransport). */
export interface ReadTransport extends BaseTransport {
  /** True while dataReceived is being called (asyncio is_reading). */
  isReading(): boolean;
  /** Stop calling dataReceived until resumeReading(). Idempotent. */
  pauseReading(): void;
  /** Resume calling dataReceived after pauseReading() (asyncio resume_reading). Idempotent. */
  resumeReading(): void;
}

/** The writing side (asyncio.WriteTransport). */
export interface WriteTransport extends BaseTransport {
  /** Flow-control marks in bytes: pauseWriting() above `high`, resumeWriting() at `low`. */
  setWriteBufferLimits(high?: number, low?: number): void;
  /** The [low, high] water marks in bytes (asyncio get_write_buffer_limits). */
  getWriteBufferLimits(): [number, number];
  /** Bytes waiting in the write buffer (asyncio get_write_buffer_size). */
  getWriteBufferSize(): number;
  /** Write bytes without blocking; what the OS does not take now is buffered. */
  write(data: Uint8Array): void;
  /** Write every chunk, in order (asyncio writelines). */
  writelines(list: Iterable<Uint8Array>): void;
  /** Close the write side after flushing (half-close). */
  writeEof(): void;
  /** True if writeEof() is supported (asyncio can_write_eof). */
  canWriteEof(): boolean;
  /** Close at once, dropping buffered data; connectionLost(null) follows. */
  abort(): void;
}

/** A bidirectional stream (asyncio.Transport). */
export interface Transport extends ReadTransport, WriteTransport {}

/** A datagram endpoint (asyncio.DatagramTransport). */
export interface DatagramTransport extends BaseTransport {
  /** Send `data` to `addr` (or to the connected remote address when omitted). */
  sendto(data: Uint8Array, addr?: unknown): void;
  /** Close at once, dropping queued datagrams; connectionLost(null) follows. */
  abort(): void;
  /** Bytes of datagrams waiting to be sent. */
  getWriteBufferSize(): number;
}

/** A child process (asyncio.SubprocessTransport). */
export interface SubprocessTransport extends BaseTransport {
  /** The child's process id (asyncio get_pid). */
  getPid(): number;
  /** The exit status, −signal if a signal ended it, null while running (asyncio get_returncode). */
  getReturncode(): number | null;
  /**
   * The transport of the child's fd 0, 1 or 2, or null if it is not a pipe (asyncio
   * get_pipe_transport).
   */
  getPipeTransport(fd: number): BaseTransport | null;
  /** Send `signal` to the child (asyncio send_signal). */
  sendSignal(signal: number | string): void;
  /** Send SIGTERM (asyncio terminate). */
  terminate(): void;
  /** Send SIGKILL (asyncio kill). */
  kill(): void;
}

/**
 * `[transport, protocol]` once `waiter` (settled after the protocol's connectionMade) is done;
 * if it fails, the transport is closed and the error raised (asyncio's create_* methods).
 */
export async function whenConnected<T extends BaseTransport, P>(
  transport: T,
  protocol: P,
  waiter: Future<unknown>,
): Promise<[T, P]> {
  try {
    await waiter;
  } catch (e) {
    transport.close();
    throw e;
  }
  return [transport, protocol];
}
