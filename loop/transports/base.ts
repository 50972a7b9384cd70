/**
 * The transport interfaces (asyncio.transports): what protocols and users call on a
 * connection. Implementations live beside this file, one per kind of I/O.
 */

/** Common to every transport (asyncio.BaseTransport). */
export interface BaseTransport {
  /** Optional information: "socket", "sockname", "peername", "pipe", … (asyncio get_extra_info). */
  getExtraInfo(name: string, defaultValue?: unknown): unknown;
  /** True once the transport is closing or closed. */
  isClosing(): boolean;
  /** Close after flushing buffered data; the protocol's connectionLost(null) follows. */
  close(): void;
  setProtocol(protocol: unknown): void;
  getProtocol(): unknown;
}

/** The reading side (asyncio.ReadTransport). */
export interface ReadTransport extends BaseTransport {
  isReading(): boolean;
  /** Stop calling dataReceived until resumeReading(). Idempotent. */
  pauseReading(): void;
  resumeReading(): void;
}

/** The writing side (asyncio.WriteTransport). */
export interface WriteTransport extends BaseTransport {
  /** Flow-control marks in bytes: pauseWriting() above `high`, resumeWriting() at `low`. */
  setWriteBufferLimits(high?: number, low?: number): void;
  getWriteBufferLimits(): [number, number];
  getWriteBufferSize(): number;
  /** Write bytes without blocking; what the OS does not take now is buffered. */
  write(data: Uint8Array): void;
  writelines(list: Iterable<Uint8Array>): void;
  /** Close the write side after flushing (half-close). */
  writeEof(): void;
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
  abort(): void;
  getWriteBufferSize(): number;
}

/** A child process (asyncio.SubprocessTransport). */
export interface SubprocessTransport extends BaseTransport {
  getPid(): number;
  getReturncode(): number | null;
  getPipeTransport(fd: number): BaseTransport | null;
  sendSignal(signal: number | string): void;
  terminate(): void;
  kill(): void;
}
