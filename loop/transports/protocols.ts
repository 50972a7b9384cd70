/**
 * Protocols: the callbacks a transport calls (asyncio.protocols). Subclass the classes (their
 * methods do nothing by default) or pass any object with the methods you need.
 */
import type { SockAddr } from "../../ffi/sockaddr.ts";
import type {
  BaseTransport, DatagramTransport, SubprocessTransport, Transport,
} from "./base.ts";

/** The callbacks every protocol may implement (asyncio.BaseProtocol). */
export interface BaseProtocolLike {
  /** Called once when the connection is made, with its transport (asyncio connection_made). */
  connectionMade?(transport: BaseTransport): void;
  /**
   * Called once when the connection is lost or closed; `exc` is null on a clean close (asyncio
   * connection_lost).
   */
  connectionLost?(exc: Error | null): void;
  /** The transport's write buffer went over the high-water mark (asyncio pause_writing). */
  pauseWriting?(): void;
  /** The transport's write buffer drained to the low-water mark (asyncio resume_writing). */
  resumeWriting?(): void;
}

/** A streaming protocol (asyncio.Protocol). */
export interface ProtocolLike extends BaseProtocolLike {
  /** Called once when the connection is made, with its transport (asyncio connection_made). */
  connectionMade?(transport: Transport): void;
  /**
   * Bytes arrived; `data` is the protocol's to keep (asyncio data_received). It may be a view
   * into a larger buffer shared with other reads (at most 16× its size, see
   * loop/transports/receive_arena.ts): take `data.slice()` for an ArrayBuffer of its own.
   */
  dataReceived?(data: Uint8Array): void;
  /**
   * The peer sent EOF. Return true to keep the transport open for writing (half-close; asyncio
   * eof_received).
   */
  eofReceived?(): boolean | void;
}

/** A streaming protocol that supplies its own receive buffers (asyncio.BufferedProtocol). */
export interface BufferedProtocolLike extends BaseProtocolLike {
  /** Called once when the connection is made, with its transport (asyncio connection_made). */
  connectionMade?(transport: Transport): void;
  /**
   * Return a buffer to receive into; `sizeHint` is a recommended minimum (-1: any; asyncio
   * get_buffer). Keep it for this connection alone: the proactor loop lends it to the kernel
   * until the receive completes, so a buffer shared between connections can get one
   * connection's bytes written over another's.
   */
  getBuffer(sizeHint: number): Uint8Array;
  /** `nbytes` bytes were written into the buffer from getBuffer() (asyncio buffer_updated). */
  bufferUpdated(nbytes: number): void;
  /**
   * The peer sent EOF. Return true to keep the transport open for writing (asyncio eof_received).
   */
  eofReceived?(): boolean | void;
}

/** A datagram protocol (asyncio.DatagramProtocol). */
export interface DatagramProtocolLike extends BaseProtocolLike {
  /** Called once when the connection is made, with its transport (asyncio connection_made). */
  connectionMade?(transport: DatagramTransport): void;
  /**
   * A datagram arrived from `addr`, decoded as the socket's family gives it ([host, port] for
   * AF_INET; asyncio datagram_received).
   */
  datagramReceived?(data: Uint8Array, addr: SockAddr): void;
  /**
   * A previous send or receive failed (e.g. ICMP port unreachable: ECONNREFUSED; asyncio
   * error_received).
   */
  errorReceived?(exc: Error): void;
}

/** A subprocess protocol (asyncio.SubprocessProtocol). */
export interface SubprocessProtocolLike extends BaseProtocolLike {
  /** Called once when the connection is made, with its transport (asyncio connection_made). */
  connectionMade?(transport: SubprocessTransport): void;
  /** The child wrote `data` to its stdout (fd 1) or stderr (fd 2) (asyncio pipe_data_received). */
  pipeDataReceived?(fd: number, data: Uint8Array): void;
  /** One of the child's pipes closed (asyncio pipe_connection_lost). */
  pipeConnectionLost?(fd: number, exc: Error | null): void;
  /** The child exited (asyncio process_exited). */
  processExited?(): void;
}

/** Base class of all protocols; every method does nothing (asyncio.BaseProtocol). */
export class BaseProtocol implements BaseProtocolLike {
  connectionMade(_transport: BaseTransport): void {}
  connectionLost(_exc: Error | null): void {}
  pauseWriting(): void {}
  resumeWriting(): void {}
}

/** Base class of streaming protocols (asyncio.Protocol). */
export class Protocol extends BaseProtocol implements ProtocolLike {
  override connectionMade(_transport: Transport): void {}
  dataReceived(_data: Uint8Array): void {}
  eofReceived(): boolean | void {}
}

/** Base class of buffered streaming protocols (asyncio.BufferedProtocol). */
export abstract class BufferedProtocol extends BaseProtocol implements BufferedProtocolLike {
  override connectionMade(_transport: Transport): void {}
  abstract getBuffer(sizeHint: number): Uint8Array;
  abstract bufferUpdated(nbytes: number): void;
  /**
   * The peer sent EOF. Return true to keep the transport open for writing (asyncio eof_received).
   */
  eofReceived(): boolean | void {}
}

/** Base class of datagram protocols (asyncio.DatagramProtocol). */
export class DatagramProtocol extends BaseProtocol implements DatagramProtocolLike {
  override connectionMade(_transport: DatagramTransport): void {}
  datagramReceived(_data: Uint8Array, _addr: SockAddr): void {}
  errorReceived(_exc: Error): void {}
}

/** Base class of subprocess protocols (asyncio.SubprocessProtocol). */
export class SubprocessProtocol extends BaseProtocol implements SubprocessProtocolLike {
  override connectionMade(_transport: SubprocessTransport): void {}
  pipeDataReceived(_fd: number, _data: Uint8Array): void {}
  pipeConnectionLost(_fd: number, _exc: Error | null): void {}
  processExited(): void {}
}

/** A factory of protocols, as createConnection/createServer take. */
export type ProtocolFactory<P> = () => P;
