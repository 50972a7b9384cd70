/**
 * TLS settings and the TLS engine (Python's ssl module, the parts asyncio uses): SSLContext,
 * createDefaultContext(), the SSLError family, and SSLObject — one TLS connection as an OpenSSL
 * SSL over in-memory rings (a BIO pair), so it never touches a socket: loop/tls/sslproto.ts feeds it the bytes
 * the transport received and sends what it produced. The same engine serves any transport.
 *
 * OpenSSL is loaded at the first SSLContext, not at import (ffi/libssl.ts).
 */
import { type KeysOf, refuseUnknownOptions } from "../core/options.ts";
import {
  addPemCertificates, bioPairFree, certificateDer, cString, decodeCertificate, ERR_LIB_MASK, ERR_LIB_OFFSET,
  ERR_LIB_SSL, ERR_REASON_MASK, ERR_SYSTEM_FLAG, forgetAlpn, libcrypto, libssl, type PeerCert,
  type BioPair, newBioPair, readPrivateKey, ringCommit, ringPosition, ringRead, ringSpace, selectedAlpn, setAlpn, SSL_CTRL_GET_MAX_PROTO_VERSION,
  SSL_CTRL_GET_MIN_PROTO_VERSION, SSL_CTRL_MODE, SSL_CTRL_SET_MAX_PROTO_VERSION,
  SSL_CTRL_SET_MIN_PROTO_VERSION, SSL_CTRL_SET_TLSEXT_HOSTNAME, SSL_ERROR_SSL, SSL_ERROR_SYSCALL,
  SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE, SSL_ERROR_ZERO_RETURN,
  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, SSL_MODE_ENABLE_PARTIAL_WRITE,
  SSL_OP_CIPHER_SERVER_PREFERENCE, SSL_OP_NO_COMPRESSION, SSL_R_CERTIFICATE_VERIFY_FAILED,
  SSL_RECEIVED_SHUTDOWN, SSL_VERIFY_FAIL_IF_NO_PEER_CERT, SSL_VERIFY_NONE, SSL_VERIFY_PEER,
  sslCtxFree, sslCtxNew, sslFree, sslNew, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION,
  TLS1_VERSION, TLSEXT_NAMETYPE_host_name, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
  X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH,
} from "../../ffi/libssl.ts";
import { osError } from "../../ffi/libc.ts";
import { isNullPointer, type NativePointer, readCString } from "../../ffi/runtime.ts";
import { systemTrustStores } from "../../platform/default_trust_store.ts";
import { OSError, ValueError } from "../core/errors.ts";
import { isIpAddress } from "../net/socket.ts";

export { type NameTuple, opensslVersion, tlsObjectCounts, type PeerCert } from "../../ffi/libssl.ts";

// ---- Errors -----------------------------------------------------------------------------------

const SSL_ERROR_NAMES: Record<number, string> = {
  1: "SSL_ERROR_SSL", 2: "SSL_ERROR_WANT_READ", 3: "SSL_ERROR_WANT_WRITE",
  5: "SSL_ERROR_SYSCALL", 6: "SSL_ERROR_ZERO_RETURN", 8: "SSL_ERROR_EOF",
};

/**
 * A TLS failure reported by OpenSSL (Python's ssl.SSLError, an OSError). `library` and
 * `reason` are OpenSSL's names ("SSL", "WRONG_VERSION_NUMBER"); `errno` is the SSL_ERROR_*
 * number.
 */
export class SSLError extends OSError {
  /** The Python class name. */
  override name = "SSLError";
  /** The OpenSSL library the error came from ("SSL routines"), or null. */
  readonly library: string | null;
  /** OpenSSL's reason text ("wrong version number"), or null. */
  readonly reason: string | null;
  /** An SSLError with an OpenSSL error code and its text. */
  constructor(errno: number, message: string, library: string | null = null, reason: string | null = null) {
    super(errno, SSL_ERROR_NAMES[errno] ?? "SSL_ERROR", message);
    this.message = message;
    this.library = library;
    this.reason = reason;
  }
}

/** The peer closed TLS with close_notify (Python's ssl.SSLZeroReturnError). */
export class SSLZeroReturnError extends SSLError {
  /** The Python class name. */
  override name = "SSLZeroReturnError";
}

/** The connection ended in violation of the protocol (Python's ssl.SSLEOFError). */
export class SSLEOFError extends SSLError {
  /** The Python class name. */
  override name = "SSLEOFError";
}

/**
 * The peer's certificate failed verification (Python's ssl.SSLCertVerificationError):
 * `verifyCode` is OpenSSL's X509_V_ERR_* number, `verifyMessage` its text ("certificate has
 * expired", "Hostname mismatch, certificate is not valid for 'x'.").
 */
export class SSLCertVerificationError extends SSLError {
  /** The Python class name. */
  override name = "SSLCertVerificationError";
  /** X509_V_ERR code of the failed check (10: expired, 18: self-signed, 62: host mismatch). */
  readonly verifyCode: number;
  /** OpenSSL's text for verifyCode ("certificate has expired"). */
  readonly verifyMessage: string;
  /** A verification failure with OpenSSL's code and text. */
  constructor(verifyCode: number, verifyMessage: string) {
    super(
      SSL_ERROR_SSL,
      `[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ${verifyMessage}`,
      "SSL",
      "CERTIFICATE_VERIFY_FAILED",
    );
    this.verifyCode = verifyCode;
    this.verifyMessage = verifyMessage;
  }
}

/** Python's ssl.CertificateError (an alias of SSLCertVerificationError). */
export const CertificateError = SSLCertVerificationError;

// Python's short names of OpenSSL libraries (err.h ERR_LIB_*), for "[SSL: REASON]" messages.
const LIBRARY_NAMES: Record<number, string> = {
  2: "SYS", 3: "BN", 4: "RSA", 6: "EVP", 9: "PEM", 11: "X509", 13: "ASN1", 15: "CRYPTO",
  16: "EC", 20: "SSL", 32: "BIO", 34: "X509V3", 35: "PKCS12", 57: "PROV", 60: "DECODER",
};

/**
 * The error OpenSSL reported (its error queue, emptied here), for an SSL_get_error() result
 * `sslError` (or 0 outside an SSL call). `obj` gives certificate failures their verify result.
 */
export function takeSslError(sslError: number, obj: SSLObject | null, context = ""): Error {
  const c = libcrypto();
  // The queue holds the cause first and its consequences after ("system lib" follows the
  // failed fopen): a system error wins, else the last (most specific to the call) entry.
  let e = 0, system = 0;
  for (let code = c.ERR_get_error() >>> 0; code !== 0; code = c.ERR_get_error() >>> 0) {
    e = code;
    if ((code & ERR_SYSTEM_FLAG) !== 0 && system === 0) system = code;
  }
  if (system !== 0) e = system;
  if (sslError === SSL_ERROR_ZERO_RETURN) {
    return new SSLZeroReturnError(sslError, "TLS/SSL connection has been closed (EOF)");
  }
  if (e === 0) {
    if (sslError === SSL_ERROR_SYSCALL) {
      return new SSLEOFError(8, "EOF occurred in violation of protocol");
    }
    return new SSLError(sslError || SSL_ERROR_SSL, `${context || "TLS operation"} failed`);
  }
  if (e === system) {
    // A failed system call inside OpenSSL (a missing file): errno is the low bits.
    return osError(context || "OpenSSL", e & 0x7fffffff);
  }
  const lib = (e >>> ERR_LIB_OFFSET) & ERR_LIB_MASK;
  const reasonCode = e & ERR_REASON_MASK;
  if (lib === ERR_LIB_SSL && reasonCode === SSL_R_CERTIFICATE_VERIFY_FAILED && obj?._ssl) {
    const code = libssl().SSL_get_verify_result(obj._ssl);
    return new SSLCertVerificationError(code, verifyMessage(code, obj.serverHostname));
  }
  const text = readCString(c.ERR_reason_error_string(e)) || `reason(${reasonCode})`;
  const reason = text.toUpperCase().replace(/[^A-Z0-9]+/g, "_");
  const library = LIBRARY_NAMES[lib] ?? (readCString(c.ERR_lib_error_string(e)) || `lib(${lib})`);
  const where = context ? ` (${context})` : "";
  return new SSLError(sslError || SSL_ERROR_SSL, `[${library}: ${reason}] ${text}${where}`, library, reason);
}

function verifyMessage(code: number, host: string | null): string {
  // Python words the two name checks itself; everything else is OpenSSL's text.
  if (code === X509_V_ERR_HOSTNAME_MISMATCH) {
    return `Hostname mismatch, certificate is not valid for '${host}'.`;
  }
  if (code === X509_V_ERR_IP_ADDRESS_MISMATCH) {
    return `IP address mismatch, certificate is not valid for '${host}'.`;
  }
  return readCString(libcrypto().X509_verify_cert_error_string(code));
}

// ---- Constants ---------------------------------------------------------------------------------

/** Do not ask for or check the peer's certificate (Python's ssl.CERT_NONE). */
export const CERT_NONE = 0;
/** Check the certificate if the peer sends one (ssl.CERT_OPTIONAL). */
export const CERT_OPTIONAL = 1;
/** Require and check the peer's certificate (ssl.CERT_REQUIRED). */
export const CERT_REQUIRED = 2;
/** How peers' certificates are checked: CERT_NONE, CERT_OPTIONAL or CERT_REQUIRED. */
export type VerifyMode = typeof CERT_NONE | typeof CERT_OPTIONAL | typeof CERT_REQUIRED;

/** TLS protocol versions (Python's ssl.TLSVersion; the wire numbers of prov_ssl.h). */
export const TLSVersion = {
  MINIMUM_SUPPORTED: -2,
  TLSv1: TLS1_VERSION,
  TLSv1_1: TLS1_1_VERSION,
  TLSv1_2: TLS1_2_VERSION,
  TLSv1_3: TLS1_3_VERSION,
  MAXIMUM_SUPPORTED: -1,
} as const;

/** A context for clients (ssl.PROTOCOL_TLS_CLIENT) or servers (ssl.PROTOCOL_TLS_SERVER). */
export type SSLProtocolKind = "client" | "server";
/** A client context (Python's ssl.PROTOCOL_TLS_CLIENT): verifies servers by default. */
export const PROTOCOL_TLS_CLIENT: SSLProtocolKind = "client";
/** A server context (Python's ssl.PROTOCOL_TLS_SERVER). */
export const PROTOCOL_TLS_SERVER: SSLProtocolKind = "server";

/** What a default context is for (Python's ssl.Purpose). */
export const Purpose = {
  /** Verify servers: a client context. */
  SERVER_AUTH: "serverAuth",
  /** Verify clients: a server context. */
  CLIENT_AUTH: "clientAuth",
} as const;
/** Purpose.SERVER_AUTH or Purpose.CLIENT_AUTH. */
export type PurposeName = typeof Purpose[keyof typeof Purpose];

/** Each purpose's extended key usage OID (Python's Purpose.*.oid). */
const PURPOSE_OID: Record<PurposeName, string> = {
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
};

/** DER certificates as PEM text. */
function pemOf(ders: Uint8Array[]): string {
  return ders.map((der) => {
    let bin = "";
    for (const b of der) bin += String.fromCharCode(b);
    const b64 = btoa(bin).replace(/.{64}/g, "$&\n");
    return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
  }).join("");
}

// ---- SSLContext --------------------------------------------------------------------------------

// An SSL_CTX lives as long as its SSLContext; every SSL made from it holds its own reference.
const contextRegistry = new FinalizationRegistry<NativePointer>((ctx) => {
  forgetAlpn(ctx);
  sslCtxFree(ctx);
});

/** A password for an encrypted private key: text, bytes, or a function returning either. */
export type KeyPassword = string | Uint8Array | (() => string | Uint8Array);

/**
 * TLS settings shared by many connections (Python's ssl.SSLContext): certificates, trust
 * anchors, verification, ALPN, protocol versions. `new SSLContext("client")` verifies the
 * server's certificate and host name (load trust anchors, or use createDefaultContext());
 * `new SSLContext("server")` needs loadCertChain().
 */
export class SSLContext {
  /** "client" or "server" (Python's SSLContext.protocol). */
  readonly protocol: SSLProtocolKind;
  /** @ignore The SSL_CTX. */
  readonly _ctx: NativePointer;
  private _verifyMode: VerifyMode;
  private _checkHostname: boolean;
  private _alpn: string[] | null = null;

  /** A context for clients (the default, verifying) or servers (Python's ssl.SSLContext). */
  constructor(protocol: SSLProtocolKind = "client") {
    if (protocol !== "client" && protocol !== "server") {
      throw new ValueError(`protocol must be "client" or "server", got ${String(protocol)}`);
    }
    this.protocol = protocol;
    const server = protocol === "server";
    const ctx = sslCtxNew(server);
    if (isNullPointer(ctx)) throw takeSslError(0, null, "SSL_CTX_new");
    this._ctx = ctx;
    contextRegistry.register(this, ctx);
    const s = libssl();
    // As CPython's defaults: no compression (CRIME), the server's cipher order.
    s.SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    // SSL_CTX_set_mode(ctx, m) is SSL_CTX_ctrl(ctx, SSL_CTRL_MODE, m, NULL) (ssl.h).
    s.SSL_CTX_ctrl(ctx, SSL_CTRL_MODE, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, null);
    // TLS 1.2 at least, as Python 3.10+.
    s.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, null);
    this._verifyMode = server ? CERT_NONE : CERT_REQUIRED;
    this._checkHostname = !server;
    this._applyVerify();
  }

  /** CERT_NONE, CERT_OPTIONAL or CERT_REQUIRED (Python's verify_mode). */
  get verifyMode(): VerifyMode {
    return this._verifyMode;
  }

  set verifyMode(mode: VerifyMode) {
    if (mode !== CERT_NONE && mode !== CERT_OPTIONAL && mode !== CERT_REQUIRED) {
      throw new ValueError(`invalid value for verifyMode: ${String(mode)}`);
    }
    if (mode === CERT_NONE && this._checkHostname) {
      throw new ValueError("Cannot set verifyMode to CERT_NONE when checkHostname is enabled.");
    }
    this._verifyMode = mode;
    this._applyVerify();
  }

  /** Match the peer certificate against the server host name (Python's check_hostname). */
  get checkHostname(): boolean {
    return this._checkHostname;
  }

  set checkHostname(on: boolean) {
    // As Python: asking for host name checks turns on verification.
    if (on && this._verifyMode === CERT_NONE) {
      this._verifyMode = CERT_REQUIRED;
      this._applyVerify();
    }
    this._checkHostname = Boolean(on);
  }

  /** The lowest TLS version allowed (a TLSVersion value; Python's minimum_version). */
  get minimumVersion(): number {
    const v = libssl().SSL_CTX_ctrl(this._ctx, SSL_CTRL_GET_MIN_PROTO_VERSION, 0, null);
    return v === 0 ? TLSVersion.MINIMUM_SUPPORTED : v;
  }

  set minimumVersion(version: number) {
    this._setVersion(SSL_CTRL_SET_MIN_PROTO_VERSION, version, "minimumVersion");
  }

  /** The highest TLS version allowed (Python's maximum_version). */
  get maximumVersion(): number {
    const v = libssl().SSL_CTX_ctrl(this._ctx, SSL_CTRL_GET_MAX_PROTO_VERSION, 0, null);
    return v === 0 ? TLSVersion.MAXIMUM_SUPPORTED : v;
  }

  set maximumVersion(version: number) {
    this._setVersion(SSL_CTRL_SET_MAX_PROTO_VERSION, version, "maximumVersion");
  }

  /** Apply a minimum or maximum protocol version through SSL_CTX_ctrl. */
  private _setVersion(cmd: number, version: number, what: string): void {
    const known = Object.values(TLSVersion) as number[];
    if (!known.includes(version)) throw new ValueError(`unsupported ${what}: ${String(version)}`);
    const wire = version < 0 ? 0 : version;
    if (libssl().SSL_CTX_ctrl(this._ctx, cmd, wire, null) !== 1) {
      throw takeSslError(0, null, `set ${what}`);
    }
  }

  /**
   * Load this side's certificate chain (PEM; leaf first) and private key (Python's
   * load_cert_chain). `keyfile` defaults to `certfile`; `password` decrypts the key.
   */
  loadCertChain(certfile: string, keyfile?: string | null, password?: KeyPassword | null): void {
    if (typeof certfile !== "string") throw new TypeError("certfile should be a path string");
    const s = libssl(), c = libcrypto();
    if (s.SSL_CTX_use_certificate_chain_file(this._ctx, cString(certfile)) !== 1) {
      throw takeSslError(0, null, `loading certificate chain ${certfile}`);
    }
    const keyPath = keyfile ?? certfile;
    let pw: Uint8Array | null = null;
    if (password !== undefined && password !== null) {
      const value = typeof password === "function" ? password() : password;
      if (typeof value === "string") pw = new TextEncoder().encode(value);
      else if (value instanceof Uint8Array) pw = value;
      else throw new TypeError("password should be a string, bytes or a function returning one");
    }
    const pkey = readPrivateKey(keyPath, pw);
    if (isNullPointer(pkey)) throw takeSslError(0, null, `loading private key ${keyPath}`);
    try {
      if (s.SSL_CTX_use_PrivateKey(this._ctx, pkey) !== 1) {
        throw takeSslError(0, null, `using private key ${keyPath}`);
      }
    } finally {
      c.EVP_PKEY_free(pkey);
    }
    if (s.SSL_CTX_check_private_key(this._ctx) !== 1) {
      throw takeSslError(0, null, "the private key does not match the certificate");
    }
  }

  /**
   * Trust the CA certificates in `cafile` (PEM), the hashed directory `capath`, and/or the PEM
   * text `cadata` (Python's load_verify_locations).
   */
  loadVerifyLocations(cafile?: string | null, capath?: string | null, cadata?: string | null): void {
    if (cafile == null && capath == null && cadata == null) {
      throw new TypeError("cafile, capath and cadata cannot be all omitted");
    }
    if (cafile != null || capath != null) {
      const ok = libssl().SSL_CTX_load_verify_locations(
        this._ctx,
        cafile == null ? null : cString(cafile),
        capath == null ? null : cString(capath),
      );
      if (ok !== 1) throw takeSslError(0, null, `loading verify locations ${cafile ?? capath}`);
    }
    if (cadata != null) {
      if (addPemCertificates(this._ctx, cadata) === 0) {
        throw new SSLError(SSL_ERROR_SSL, "[X509: NO_CERTIFICATE_OR_CRL_FOUND] no certificate found in cadata");
      }
    }
  }

  /**
   * Trust the system's CA store (Python's load_default_certs): OpenSSL's default verify paths
   * and, on Windows, as CPython there, the certificates of the system stores "CA" and "ROOT"
   * that Windows trusts for `purpose`.
   */
  loadDefaultCerts(purpose: PurposeName = Purpose.SERVER_AUTH): void {
    if (!Object.hasOwn(PURPOSE_OID, purpose)) {
      throw new TypeError(`purpose must be Purpose.SERVER_AUTH or Purpose.CLIENT_AUTH, got ${String(purpose)}`);
    }
    for (const certs of systemTrustStores(PURPOSE_OID[purpose])) addPemCertificates(this._ctx, pemOf(certs));
    this.setDefaultVerifyPaths();
  }

  /** OpenSSL's default verify paths alone (Python's set_default_verify_paths). */
  setDefaultVerifyPaths(): void {
    if (libssl().SSL_CTX_set_default_verify_paths(this._ctx) !== 1) {
      throw takeSslError(0, null, "loading the default CA store");
    }
  }

  /**
   * The ALPN protocols to offer (client) or accept, in order of preference (server), e.g.
   * ["h2", "http/1.1"] (Python's set_alpn_protocols).
   */
  setAlpnProtocols(protocols: readonly string[]): void {
    if (!Array.isArray(protocols)) throw new TypeError("protocols must be a list of strings");
    for (const p of protocols) {
      const n = new TextEncoder().encode(String(p)).byteLength;
      if (n === 0 || n > 255) throw new ValueError(`ALPN protocols must be 1 to 255 bytes, got ${JSON.stringify(p)}`);
    }
    if (!setAlpn(this._ctx, protocols.map(String))) throw takeSslError(0, null, "setting ALPN protocols");
    this._alpn = [...protocols];
  }

  /** The TLS 1.2 cipher list, in OpenSSL's syntax (Python's set_ciphers). */
  setCiphers(ciphers: string): void {
    if (libssl().SSL_CTX_set_cipher_list(this._ctx, cString(ciphers)) !== 1) {
      throw takeSslError(0, null, "No cipher can be selected");
    }
  }

  /** @ignore The TLS engine for one connection. */
  _wrap(serverSide: boolean, serverHostname: string | null): SSLObject {
    if (serverSide && this.protocol === "client") {
      throw new ValueError("Cannot create a server socket with a client (PROTOCOL_TLS_CLIENT) context");
    }
    if (!serverSide && this.protocol === "server") {
      throw new ValueError("Cannot create a client socket with a server (PROTOCOL_TLS_SERVER) context");
    }
    return new SSLObject(this, serverSide, serverHostname);
  }

  /** Push verifyMode and checkHostname into the OpenSSL context. */
  private _applyVerify(): void {
    let mode = SSL_VERIFY_NONE;
    if (this._verifyMode === CERT_OPTIONAL) mode = SSL_VERIFY_PEER;
    else if (this._verifyMode === CERT_REQUIRED) {
      mode = SSL_VERIFY_PEER | (this.protocol === "server" ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    }
    libssl().SSL_CTX_set_verify(this._ctx, mode, null);
  }

  /** A readable description for logs. */
  toString(): string {
    return `<SSLContext ${this.protocol} verifyMode=${this._verifyMode} checkHostname=${this._checkHostname}` +
      `${this._alpn ? ` alpn=${this._alpn.join(",")}` : ""}>`;
  }
}

/** Options of createDefaultContext: trust anchors instead of the system's. */
export interface DefaultContextOptions {
  /** A PEM file of trusted CA certificates. */
  cafile?: string | null | undefined;
  /** A directory of hashed CA certificates. */
  capath?: string | null | undefined;
  /** PEM text of trusted CA certificates. */
  cadata?: string | null | undefined;
}

/** @ignore The keys of DefaultContextOptions, for refuseUnknownOptions(). */
export const DEFAULT_CONTEXT_OPTION_KEYS: KeysOf<DefaultContextOptions> = {
  cafile: true, capath: true, cadata: true,
};

/**
 * A context with secure defaults (Python's ssl.create_default_context): for
 * Purpose.SERVER_AUTH (the default) a client context that verifies the server's certificate
 * and host name against the system CA store (or the given CAs); for Purpose.CLIENT_AUTH a
 * server context.
 */
export function createDefaultContext(
  purpose: PurposeName = Purpose.SERVER_AUTH,
  options: DefaultContextOptions = {},
): SSLContext {
  refuseUnknownOptions(options, DEFAULT_CONTEXT_OPTION_KEYS, "createDefaultContext()");
  if (purpose !== Purpose.SERVER_AUTH && purpose !== Purpose.CLIENT_AUTH) {
    throw new ValueError(`purpose must be Purpose.SERVER_AUTH or Purpose.CLIENT_AUTH, got ${String(purpose)}`);
  }
  const context = new SSLContext(purpose === Purpose.SERVER_AUTH ? "client" : "server");
  const { cafile, capath, cadata } = options;
  if (cafile != null || capath != null || cadata != null) {
    context.loadVerifyLocations(cafile, capath, cadata);
  } else if (context.verifyMode !== CERT_NONE) {
    context.loadDefaultCerts(purpose);
  }
  return context;
}

// ---- SSLObject ---------------------------------------------------------------------------------

/**
 * Bytes of TLS output the engine may hold before SSL_write stops taking more (WANT_MORE) until
 * the protocol moves them to the transport. The ring's pages are touched only as far as
 * output ever reaches: it restarts at its first byte whenever emptied (crypto/bio/bss_bio.c).
 */
const OUTGOING_RING_SIZE = 256 * 1024;
/**
 * Bytes of received TLS input the engine may hold: one receive (asyncio's max_size, 256 KiB)
 * beside the partial record the last read left (a record is at most 16 KiB + 256 bytes).
 */
const INCOMING_RING_SIZE = 256 * 1024 + 32 * 1024;

/** _read/_write: no bytes now: more input is needed, or (_write) the output ring is full. */
export const WANT_MORE = -1;
/** _read: the peer sent close_notify. */
export const CLOSE_NOTIFY = -2;

/**
 * One TLS connection's engine (Python's ssl.SSLObject): an OpenSSL SSL reading its input from
 * and writing its output to ring buffers (a BIO pair, ffi/libssl.ts newBioPair). Made by the TLS protocol
 * (loop/tls/sslproto.ts); users see it as getExtraInfo("sslObject").
 */
export class SSLObject {
  /** The context this object was made from. */
  readonly context: SSLContext;
  /** True on the accepting side of the connection. */
  readonly serverSide: boolean;
  /** The name the certificate is checked against and sent as SNI; null on servers. */
  readonly serverHostname: string | null;
  /** @ignore The SSL, null once freed. */
  _ssl: NativePointer;
  // The engine's input and output rings; the protocol sends straight from the output ring.
  private readonly _bio: BioPair;
  private _outAtRingEnd = false;
  private _space: Uint8Array | null = null;
  private _spaceOffset = -1;
  private _cipher: [string, string, number] | null = null;
  private _version: string | null = null;
  private _alpn: string | null = null;
  private _peercert: PeerCert | Record<string, never> | null = null;
  private _peerDer: Uint8Array | null = null;
  private _handshakeDone = false;

  /** @ignore Use SSLContext._wrap(). */
  constructor(context: SSLContext, serverSide: boolean, serverHostname: string | null) {
    this.context = context;
    this.serverSide = serverSide;
    this.serverHostname = serverSide ? null : serverHostname || null;
    const s = libssl();
    const ssl = sslNew(context._ctx);
    if (isNullPointer(ssl)) throw takeSslError(0, null, "SSL_new");
    const bio = newBioPair(OUTGOING_RING_SIZE, INCOMING_RING_SIZE);
    if (bio === null) {
      sslFree(ssl);
      throw takeSslError(0, null, "BIO_new_bio_pair");
    }
    // The SSL reads and writes the engine half and frees it in SSL_free (SSL_set_bio(3): given
    // as both BIOs, it takes the one reference it is given and one more).
    s.SSL_set_bio(ssl, bio.engine, bio.engine);
    this._ssl = ssl;
    this._bio = bio;
    if (serverSide) {
      s.SSL_set_accept_state(ssl);
      return;
    }
    s.SSL_set_connect_state(ssl);
    const host = this.serverHostname;
    if (host === null) return;
    const ip = isIpAddress(host);
    try {
      // SNI carries names only (RFC 6066 §3). SSL_set_tlsext_host_name(s, name) is
      // SSL_ctrl(s, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, name) (ssl.h).
      if (!ip && s.SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, cString(host)) !== 1) {
        throw takeSslError(0, null, `setting the server name ${JSON.stringify(host)}`);
      }
      if (context.checkHostname) {
        const ok = ip
          ? libcrypto().X509_VERIFY_PARAM_set1_ip_asc(s.SSL_get0_param(ssl), cString(host))
          : s.SSL_set1_host(ssl, cString(host));
        if (ok !== 1) throw takeSslError(0, null, `checking the host name ${JSON.stringify(host)}`);
        if (!ip) s.SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      }
    } catch (e) {
      this._free();
      throw e;
    }
  }

  // ---- Engine (used by loop/tls/sslproto.ts) ----------------------------------------------------

  /**
   * @ignore Give the engine up to `n` bytes the transport received, from `data[offset]`:
   * how many its input ring took (0: full until the engine reads).
   */
  _feed(data: Uint8Array, offset: number, n: number): number {
    const taken = libcrypto().BIO_write(this._bio.network, offset === 0 ? data : data.subarray(offset), n);
    return taken > 0 ? taken : 0;
  }

  /**
   * @ignore The input ring's free run, for the transport to receive into (null: full).
   * Received bytes reach the engine with _commitIncoming(n).
   */
  _incomingSpace(): Uint8Array | null {
    const bio = this._bio;
    const n = ringSpace(bio);
    if (n <= 0) return null;
    const offset = ringPosition(bio.incomingLow, bio.incomingHigh);
    // The same run comes back whenever the engine has read everything (the ring restarts at
    // its first byte then), so its view is kept rather than made per receive.
    if (offset !== this._spaceOffset || n !== this._space?.byteLength) {
      this._space = bio.incoming.subarray(offset, offset + n);
      this._spaceOffset = offset;
    }
    return this._space;
  }

  /** @ignore Give the engine the `n` bytes received at the start of _incomingSpace(). */
  _commitIncoming(n: number): void {
    ringCommit(this._bio, n);
  }

  /** @ignore Step the handshake: true once complete, false while it needs input. */
  _doHandshake(): boolean {
    const s = libssl();
    const r = s.SSL_do_handshake(this._ssl);
    if (r === 1) {
      this._handshakeDone = true;
      this._snapshot();
      return true;
    }
    const err = s.SSL_get_error(this._ssl, r);
    if (err === SSL_ERROR_WANT_READ || err === SSL_ERROR_WANT_WRITE) return false;
    throw takeSslError(err, this);
  }

  /**
   * @ignore Decrypt into `buf[offset, offset+length)`: the byte count, WANT_MORE, or
   * CLOSE_NOTIFY; throws SSLError.
   */
  _read(buf: Uint8Array, offset: number, length: number): number {
    const s = libssl();
    const n = s.SSL_read(this._ssl, offset === 0 ? buf : buf.subarray(offset), length);
    if (n > 0) return n;
    const err = s.SSL_get_error(this._ssl, n);
    if (err === SSL_ERROR_WANT_READ || err === SSL_ERROR_WANT_WRITE) return WANT_MORE;
    if (err === SSL_ERROR_ZERO_RETURN) return CLOSE_NOTIFY;
    throw takeSslError(err, this);
  }

  /** @ignore Encrypt `data`: bytes taken, or WANT_MORE; throws SSLError. */
  _write(data: Uint8Array): number {
    const s = libssl();
    const n = s.SSL_write(this._ssl, data, data.byteLength);
    if (n > 0) return n;
    const err = s.SSL_get_error(this._ssl, n);
    if (err === SSL_ERROR_WANT_READ || err === SSL_ERROR_WANT_WRITE) return WANT_MORE;
    throw takeSslError(err, this);
  }

  /**
   * @ignore The next run of the engine's output as a view of its ring, taken out of the
   * engine (null: none). Hand it to the transport (which sends or copies it) before the engine
   * runs again: the ring's bytes are reused.
   */
  _takeOutgoing(): Uint8Array | null {
    if (this._ssl === null) return null;
    const bio = this._bio;
    const n = ringRead(bio, 0x7fffffff);
    if (n <= 0) return null;
    const offset = ringPosition(bio.outgoingLow, bio.outgoingHigh);
    // A run stops at the ring's end; more may wait at its start.
    this._outAtRingEnd = offset + n === bio.outgoing.byteLength;
    return bio.outgoing.subarray(offset, offset + n);
  }

  /** @ignore True if the last _takeOutgoing() ended at the ring's end (call it again). */
  _outgoingMayContinue(): boolean {
    return this._outAtRingEnd;
  }

  /** @ignore How many bytes of output wait in the engine. */
  _outgoingSize(): number {
    return this._ssl === null ? 0 : libcrypto().BIO_ctrl_pending(this._bio.network);
  }

  /** @ignore Send close_notify (once) and report whether the peer's has arrived. */
  _shutdown(): boolean {
    const s = libssl();
    const r = s.SSL_shutdown(this._ssl);
    if (r === 1) return true;
    if (r === 0) return false;
    const err = s.SSL_get_error(this._ssl, r);
    if (err === SSL_ERROR_WANT_READ || err === SSL_ERROR_WANT_WRITE) return false;
    throw takeSslError(err, this);
  }

  /** @ignore True once the peer's close_notify was read. */
  _peerClosed(): boolean {
    return (libssl().SSL_get_shutdown(this._ssl) & SSL_RECEIVED_SHUTDOWN) !== 0;
  }

  /** @ignore Free the SSL and its BIOs; idempotent. */
  _free(): void {
    const ssl = this._ssl;
    if (ssl === null) return;
    this._ssl = null;
    sslFree(ssl);
    bioPairFree(this._bio);
  }

  /** Record the connection's details (cipher, peer certificate) once the handshake is done. */
  private _snapshot(): void {
    const s = libssl();
    const ssl = this._ssl;
    const cipher = s.SSL_get_current_cipher(ssl);
    if (!isNullPointer(cipher)) {
      this._cipher = [
        readCString(s.SSL_CIPHER_get_name(cipher)),
        readCString(s.SSL_CIPHER_get_version(cipher)),
        s.SSL_CIPHER_get_bits(cipher, null),
      ];
    }
    this._version = readCString(s.SSL_get_version(ssl));
    this._alpn = selectedAlpn(ssl);
    const x509 = s.SSL_get1_peer_certificate(ssl);
    if (!isNullPointer(x509)) {
      try {
        // As Python: an unverified certificate reads as an empty dict.
        this._peercert = this.context.verifyMode === CERT_NONE ? {} : decodeCertificate(x509);
        this._peerDer = certificateDer(x509);
      } finally {
        libcrypto().X509_free(x509);
      }
    }
  }

  // ---- What users ask (Python's SSLObject methods) ------------------------------------------

  /** The peer's certificate as Python's getpeercert() dict ({} if unverified), or null. */
  getpeercert(binaryForm?: false): PeerCert | Record<string, never> | null;
  /** The peer's certificate as DER bytes, or null. */
  getpeercert(binaryForm: true): Uint8Array | null;
  /** The peer's certificate as Python's getpeercert() dict, its DER bytes, or null. */
  getpeercert(binaryForm?: boolean): PeerCert | Record<string, never> | Uint8Array | null;
  getpeercert(binaryForm = false): PeerCert | Record<string, never> | Uint8Array | null {
    if (!this._handshakeDone) throw new ValueError("handshake not done yet");
    return binaryForm ? this._peerDer : this._peercert;
  }

  /** [name, protocol version, secret bits] of the cipher in use, or null before the handshake. */
  cipher(): [string, string, number] | null {
    return this._cipher;
  }

  /** "TLSv1.3", "TLSv1.2", … or null before the handshake. */
  version(): string | null {
    return this._version;
  }

  /** The ALPN protocol agreed on, or null. */
  selectedAlpnProtocol(): string | null {
    return this._alpn;
  }

  /** Always null: compression is off (CRIME). */
  compression(): null {
    return null;
  }

  /** Decrypted bytes buffered in the engine, ready to read. */
  pending(): number {
    return this._ssl === null ? 0 : libssl().SSL_pending(this._ssl);
  }

  /** A readable description for logs. */
  toString(): string {
    return `<SSLObject ${this.serverSide ? "server" : `client ${this.serverHostname ?? ""}`}${
      this._version ? ` ${this._version}` : ""}>`;
  }
}
