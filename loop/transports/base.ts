/**
 * The transport interfaces (asyncio.transports): what protocols and users call on a
 * connection. Implementations live beside this file, one per kind of I/O.
 */

import type { AddressLike, SockAddr } from "../../ffi/sockaddr.ts";
import type { AbstractFuture } from "../core/abstract_loop.ts";
import type { FileLike } from "../core/file_like.ts";
import type { Socket } from "../net/socket.ts";
import type { PeerCert, SSLContext, SSLObject } from "../tls/ssl.ts";

/**
 * The known keys of getExtraInfo() and their values (asyncio's get_extra_info names; aioloop
 * spells ssl_object "sslObject"). A transport has the keys of its kind: socket transports and
 * datagram endpoints "socket", "sockname", "peername"; TLS transports also "sslcontext",
 * "sslObject", "peercert", "cipher", "compression"; pipe transports "pipe"; subprocess
 * transports "pid".
 */
export interface ExtraInfo {
  /** The transport's socket. */
  socket: Socket;
  /** The socket's own address, read when the transport was made. */
  sockname: SockAddr;
  /** The connected peer's address. */
  peername: SockAddr;
  /** The pipe's file object or fd (connectReadPipe/connectWritePipe). */
  pipe: FileLike;
  /** The TLS transport's SSLContext. */
  sslcontext: SSLContext;
  /** The TLS connection's SSLObject. */
  sslObject: SSLObject;
  /** The same SSLObject under asyncio's name. */
  ssl_object: SSLObject;
  /** The peer's certificate as Python's getpeercert() dict ({} if unverified), or null. */
  peercert: PeerCert | Record<string, never> | null;
  /** (name, protocol version, secret bits) of the cipher in use, or null. */
  cipher: [string, string, number] | null;
  /** The compression algorithm in use: always null (OpenSSL 3 has none). */
  compression: string | null;
  /** The child's process id (subprocess transports). */
  pid: number;
}

/**
 * The extra-info table a transport keeps: the known keys typed (undefined where the transport
 * could not tell, e.g. the peername of a socket already disconnected), any other key allowed.
 */
export type ExtraInfoTable = { [K in keyof ExtraInfo]?: ExtraInfo[K] | undefined } & Record<string, unknown>;

/** Common to every transport (asyncio.BaseTransport). */
export interface BaseTransport {
  /**
   * Optional information (asyncio get_extra_info): a known key (ExtraInfo) gives its type, or
   * undefined (or `defaultValue`) where this transport does not have it.
   */
  getExtraInfo<K extends keyof ExtraInfo>(name: K): ExtraInfo[K] | undefined;
  /** A known key, with the value to return where the transport does not have it. */
  getExtraInfo<K extends keyof ExtraInfo, D>(name: K, defaultValue: D): ExtraInfo[K] | D;
  /** Any other key: unknown, or `defaultValue`. */
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
  /** Send `data` to `addr` (or, omitted or null, to the connected remote address). */
  sendto(data: Uint8Array, addr?: AddressLike | null): void;
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
  waiter: AbstractFuture<unknown>,
): Promise<[T, P]> {
  try {
    await waiter;
  } catch (e) {
    transport.close();
    throw e;
  }
  return [transport, protocol];
}
