/**
 * Upgrading an open connection to TLS (asyncio loop.start_tls): a plain exchange first
 * (STARTTLS in SMTP, IMAP, PostgreSQL, …), then a TLS layer put between the socket transport
 * and the same protocol. loop.startTls in base_loop.ts and StreamWriter.startTls
 * (loop/streams/streams.ts) call this.
 *
 * The socket transport keeps its socket and gets an SSLProtocol as its protocol; the caller's
 * protocol gets a new transport, the TLS one, and must not use the old one again. Reading is
 * paused while the protocols are swapped so that no received byte reaches the wrong one, and
 * the handshake starts at the next iteration, as asyncio does.
 */
import { type KeysOf, refuseUnknownOptions } from "../core/options.ts";
import type { AbstractEventLoop } from "../core/abstract_loop.ts";
import { RuntimeError, ValueError } from "../core/errors.ts";
import type { BufferedProtocolLike, ProtocolLike } from "../transports/protocols.ts";
import { SSLContext } from "./ssl.ts";
import { SSLProtocol, SSLProtocolTransport } from "./sslproto.ts";
import type { Transport } from "../transports/base.ts";
import { SocketTransport } from "../transports/socket_base.ts";

/** Options of startTls (asyncio's keyword arguments). */
export interface StartTlsOptions {
  /** True on the accepting side: wait for the peer's ClientHello (default false). */
  serverSide?: boolean | undefined;
  /**
   * Client side: the name to check the server's certificate against and to send as SNI.
   * Required when the context checks host names; "" turns the check off (as createConnection).
   * Ignored on the server side.
   */
  serverHostname?: string | null | undefined;
  /** Seconds the handshake may take before the connection aborts (default 60). */
  sslHandshakeTimeout?: number | undefined;
  /** Seconds to wait for the peer's close_notify after close() (default 30). */
  sslShutdownTimeout?: number | undefined;
}

/** @ignore The keys of StartTlsOptions, for refuseUnknownOptions(). */
export const START_TLS_OPTION_KEYS: KeysOf<StartTlsOptions> = {
  serverSide: true, serverHostname: true, sslHandshakeTimeout: true, sslShutdownTimeout: true,
};

/**
 * Put TLS over `transport` for `protocol` and resolve with the TLS transport once the handshake
 * is done (asyncio start_tls). On failure the connection is closed and the error thrown.
 */
export async function startTls(
  loop: AbstractEventLoop,
  transport: Transport,
  protocol: ProtocolLike | BufferedProtocolLike,
  sslcontext: SSLContext,
  options: StartTlsOptions = {},
): Promise<Transport> {
  refuseUnknownOptions(options, START_TLS_OPTION_KEYS, "startTls()");
  if (!(sslcontext instanceof SSLContext)) {
    throw new TypeError(`sslcontext is expected to be an instance of SSLContext, got ${String(sslcontext)}`);
  }
  // A stream socket's transport, or a TLS transport (TLS in TLS, as asyncio ≥ 3.11).
  if (!(transport instanceof SocketTransport) && !(transport instanceof SSLProtocolTransport)) {
    throw new TypeError(`transport ${String(transport)} is not supported by startTls()`);
  }
  if (protocol === null || typeof protocol !== "object") {
    throw new TypeError(`protocol must be a protocol object, got ${String(protocol)}`);
  }
  const { serverSide = false, serverHostname = null } = options;
  if (typeof serverSide !== "boolean") throw new TypeError("serverSide must be a boolean");
  if (serverHostname !== null && typeof serverHostname !== "string") {
    throw new TypeError("serverHostname must be a string or null");
  }
  if (!serverSide && serverHostname === null && sslcontext.checkHostname) {
    throw new ValueError("the context checks host names (checkHostname): serverHostname is required");
  }
  if (transport.isClosing()) throw new RuntimeError("Transport is closing");

  const waiter = loop.createFuture<unknown>();
  const sslProtocol = new SSLProtocol(loop, protocol, sslcontext, {
    serverSide,
    serverHostname: serverHostname === "" ? null : serverHostname,
    waiter,
    sslHandshakeTimeout: options.sslHandshakeTimeout,
    sslShutdownTimeout: options.sslShutdownTimeout,
    // The protocol is connected already (to the plain transport): no second connectionMade.
    callConnectionMade: false,
  });
  // Paused before the swap: nothing received reaches SSLProtocol before its connectionMade.
  transport.pauseReading();
  transport.setProtocol(sslProtocol);
  const made = loop.callSoon(connectionMade, sslProtocol, transport);
  const resumed = loop.callSoon(resumeReading, transport);
  try {
    await waiter;
  } catch (e) {
    transport.close();
    made.cancel();
    resumed.cancel();
    throw e;
  }
  return sslProtocol._userTransport;
}

function connectionMade(sslProtocol: SSLProtocol, transport: Transport): void {
  sslProtocol.connectionMade(transport);
}

function resumeReading(transport: Transport): void {
  transport.resumeReading();
}
