/**
 * OpenSSL 3 (libssl.so.3 + libcrypto.so.3) bound by FFI, loaded at first use: importing aioloop
 * on a machine without OpenSSL works, and the first TLS call throws a RuntimeError that says
 * which library failed to load and why.
 *
 * Constants come from the OpenSSL 3.0 headers named beside them. Functions that the headers
 * define as macros are called through what the macro expands to (SSL_ctrl, SSL_CTX_ctrl,
 * BIO_ctrl), with the expansion written next to the call. `unsigned long` error codes are read
 * as u32: an OpenSSL 3 packed error (err.h: ERR_SYSTEM_FLAG is bit 31, ERR_LIB_OFFSET 23,
 * ERR_REASON_MASK 0x7FFFFF) fits in the low 32 bits of the return register.
 *
 * The libraries: this OS's table (ffi/os/) lists where OpenSSL 3 is, pairs tried in order:
 * libssl.so.3/libcrypto.so.3 on Linux, FreeBSD 14's base libssl.so.30/libcrypto.so.30, on macOS
 * Homebrew's openssl@3 (libssl.3.dylib/libcrypto.3.dylib). On Windows OpenSSL 3's own names for
 * x64, libssl-3-x64.dll and libcrypto-3-x64.dll, found by LoadLibrary's search (the program's
 * directory, the system directories, PATH). Windows x64 has one calling convention and is
 * LLP64: `long` and `unsigned long` are 32 bits there, which the i32/u32 results above already
 * assume, and the `long` arguments of the *_ctrl calls only ever carry small values.
 *
 * Environment: AIOLOOP_LIBSSL / AIOLOOP_LIBCRYPTO override the library paths (each replaces
 * its library in every pair).
 */
import { RuntimeError } from "./errors.ts";
import { osTable } from "./os/current.ts";
import type { OsTable } from "./os/table.ts";
import {
  type Bound, isNullPointer, makeCallback, type NativeCallback, nativeBytes, type NativePointer,
  openLibrary, pointerAddress, pointerFromAddress, readCString, readEnv, readPointer,
  isWindows, type SymbolSpec,
} from "./runtime.ts";

const sslSymbols = {
  TLS_client_method: { args: [], result: "pointer" },
  TLS_server_method: { args: [], result: "pointer" },
  SSL_CTX_new: { args: ["pointer"], result: "pointer" },
  SSL_CTX_free: { args: ["pointer"], result: "void" },
  // uint64_t SSL_CTX_set_options(SSL_CTX *, uint64_t): the result (the new options) is unused.
  SSL_CTX_set_options: { args: ["pointer", "usize"], result: "void" },
  SSL_CTX_ctrl: { args: ["pointer", "i32", "usize", "pointer"], result: "i32" },
  SSL_CTX_set_verify: { args: ["pointer", "i32", "pointer"], result: "void" },
  SSL_CTX_set_default_verify_paths: { args: ["pointer"], result: "i32" },
  SSL_CTX_load_verify_locations: { args: ["pointer", "buffer", "buffer"], result: "i32" },
  SSL_CTX_get_cert_store: { args: ["pointer"], result: "pointer" },
  SSL_CTX_use_certificate_chain_file: { args: ["pointer", "buffer"], result: "i32" },
  SSL_CTX_use_PrivateKey: { args: ["pointer", "pointer"], result: "i32" },
  SSL_CTX_check_private_key: { args: ["pointer"], result: "i32" },
  SSL_CTX_set_cipher_list: { args: ["pointer", "buffer"], result: "i32" },
  // Returns 0 on success (unlike most of OpenSSL).
  SSL_CTX_set_alpn_protos: { args: ["pointer", "buffer", "u32"], result: "i32" },
  SSL_CTX_set_alpn_select_cb: { args: ["pointer", "pointer", "pointer"], result: "void" },
  SSL_new: { args: ["pointer"], result: "pointer" },
  SSL_free: { args: ["pointer"], result: "void" },
  SSL_get_SSL_CTX: { args: ["pointer"], result: "pointer" },
  SSL_set_bio: { args: ["pointer", "pointer", "pointer"], result: "void" },
  SSL_set_connect_state: { args: ["pointer"], result: "void" },
  SSL_set_accept_state: { args: ["pointer"], result: "void" },
  SSL_do_handshake: { args: ["pointer"], result: "i32" },
  SSL_read: { args: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_write: { args: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_get_error: { args: ["pointer", "i32"], result: "i32" },
  SSL_shutdown: { args: ["pointer"], result: "i32" },
  SSL_get_shutdown: { args: ["pointer"], result: "i32" },
  SSL_pending: { args: ["pointer"], result: "i32" },
  SSL_ctrl: { args: ["pointer", "i32", "usize", "buffer"], result: "i32" },
  SSL_set1_host: { args: ["pointer", "buffer"], result: "i32" },
  SSL_set_hostflags: { args: ["pointer", "u32"], result: "void" },
  SSL_get0_param: { args: ["pointer"], result: "pointer" },
  // long SSL_get_verify_result(const SSL *): X509_V_* codes, all small.
  SSL_get_verify_result: { args: ["pointer"], result: "i32" },
  SSL_get1_peer_certificate: { args: ["pointer"], result: "pointer" },
  SSL_get_current_cipher: { args: ["pointer"], result: "pointer" },
  SSL_CIPHER_get_name: { args: ["pointer"], result: "pointer" },
  SSL_CIPHER_get_version: { args: ["pointer"], result: "pointer" },
  SSL_CIPHER_get_bits: { args: ["pointer", "buffer"], result: "i32" },
  SSL_get_version: { args: ["pointer"], result: "pointer" },
  SSL_get0_alpn_selected: { args: ["pointer", "buffer", "buffer"], result: "void" },
} as const satisfies Record<string, SymbolSpec>;

const cryptoSymbols = {
  OpenSSL_version: { args: ["i32"], result: "pointer" },
  BIO_s_mem: { args: [], result: "pointer" },
  BIO_new: { args: ["pointer"], result: "pointer" },
  BIO_new_file: { args: ["buffer", "buffer"], result: "pointer" },
  BIO_free: { args: ["pointer"], result: "i32" },
  BIO_read: { args: ["pointer", "buffer", "i32"], result: "i32" },
  BIO_write: { args: ["pointer", "buffer", "i32"], result: "i32" },
  // size_t BIO_ctrl_pending(BIO *): below 2^31 for any buffer aioloop builds.
  BIO_ctrl_pending: { args: ["pointer"], result: "i32" },
  // int BIO_new_bio_pair(BIO **bio1, size_t writebuf1, BIO **bio2, size_t writebuf2)
  // (BIO_s_bio(3)): bio1's writes are read from bio2 and the other way round.
  BIO_new_bio_pair: { args: ["buffer", "usize", "buffer", "usize"], result: "i32" },
  // int BIO_nwrite0(BIO *, char **buf), int BIO_nread(BIO *, char **buf, int num) and
  // int BIO_nwrite(BIO *, char **buf, int num) (BIO_s_bio(3)): BIO_read and BIO_write
  // without the copy.
  BIO_nwrite0: { args: ["pointer", "buffer"], result: "i32" },
  BIO_nread: { args: ["pointer", "buffer", "i32"], result: "i32" },
  BIO_nwrite: { args: ["pointer", "buffer", "i32"], result: "i32" },
  ERR_get_error: { args: [], result: "u32" },
  ERR_peek_last_error: { args: [], result: "u32" },
  ERR_clear_error: { args: [], result: "void" },
  ERR_reason_error_string: { args: ["usize"], result: "pointer" },
  ERR_lib_error_string: { args: ["usize"], result: "pointer" },
  X509_verify_cert_error_string: { args: ["i32"], result: "pointer" },
  PEM_read_bio_PrivateKey: { args: ["pointer", "pointer", "pointer", "buffer"], result: "pointer" },
  PEM_read_bio_X509: { args: ["pointer", "pointer", "pointer", "pointer"], result: "pointer" },
  EVP_PKEY_free: { args: ["pointer"], result: "void" },
  X509_STORE_add_cert: { args: ["pointer", "pointer"], result: "i32" },
  X509_free: { args: ["pointer"], result: "void" },
  X509_get_version: { args: ["pointer"], result: "i32" },
  X509_get_subject_name: { args: ["pointer"], result: "pointer" },
  X509_get_issuer_name: { args: ["pointer"], result: "pointer" },
  X509_get_serialNumber: { args: ["pointer"], result: "pointer" },
  X509_get0_notBefore: { args: ["pointer"], result: "pointer" },
  X509_get0_notAfter: { args: ["pointer"], result: "pointer" },
  X509_get_ext_d2i: { args: ["pointer", "i32", "pointer", "pointer"], result: "pointer" },
  X509_NAME_entry_count: { args: ["pointer"], result: "i32" },
  X509_NAME_get_entry: { args: ["pointer", "i32"], result: "pointer" },
  X509_NAME_ENTRY_set: { args: ["pointer"], result: "i32" },
  X509_NAME_ENTRY_get_object: { args: ["pointer"], result: "pointer" },
  X509_NAME_ENTRY_get_data: { args: ["pointer"], result: "pointer" },
  X509_VERIFY_PARAM_set1_ip_asc: { args: ["pointer", "buffer"], result: "i32" },
  OBJ_obj2nid: { args: ["pointer"], result: "i32" },
  OBJ_nid2ln: { args: ["i32"], result: "pointer" },
  OBJ_obj2txt: { args: ["buffer", "i32", "pointer", "i32"], result: "i32" },
  ASN1_STRING_to_UTF8: { args: ["buffer", "pointer"], result: "i32" },
  ASN1_STRING_get0_data: { args: ["pointer"], result: "pointer" },
  ASN1_STRING_length: { args: ["pointer"], result: "i32" },
  ASN1_TIME_print: { args: ["pointer", "pointer"], result: "i32" },
  i2a_ASN1_INTEGER: { args: ["pointer", "pointer"], result: "i32" },
  i2d_X509_bio: { args: ["pointer", "pointer"], result: "i32" },
  OPENSSL_sk_num: { args: ["pointer"], result: "i32" },
  OPENSSL_sk_value: { args: ["pointer", "i32"], result: "pointer" },
  GENERAL_NAMES_free: { args: ["pointer"], result: "void" },
  // OPENSSL_free(p) is the macro CRYPTO_free(p, OPENSSL_FILE, OPENSSL_LINE) (crypto.h).
  CRYPTO_free: { args: ["pointer", "pointer", "i32"], result: "void" },
} as const satisfies Record<string, SymbolSpec>;

// ---- Constants --------------------------------------------------------------------------------

// ssl.h
export const SSL_ERROR_NONE = 0;
export const SSL_ERROR_SSL = 1;
export const SSL_ERROR_WANT_READ = 2;
export const SSL_ERROR_WANT_WRITE = 3;
export const SSL_ERROR_SYSCALL = 5;
export const SSL_ERROR_ZERO_RETURN = 6;
export const SSL_VERIFY_NONE = 0x00;
export const SSL_VERIFY_PEER = 0x01;
export const SSL_VERIFY_FAIL_IF_NO_PEER_CERT = 0x02;
export const SSL_SENT_SHUTDOWN = 1;
export const SSL_RECEIVED_SHUTDOWN = 2;
export const SSL_CTRL_MODE = 33;
export const SSL_CTRL_SET_TLSEXT_HOSTNAME = 55;
export const SSL_CTRL_SET_MIN_PROTO_VERSION = 123;
export const SSL_CTRL_SET_MAX_PROTO_VERSION = 124;
export const SSL_CTRL_GET_MIN_PROTO_VERSION = 130;
export const SSL_CTRL_GET_MAX_PROTO_VERSION = 131;
export const SSL_MODE_ENABLE_PARTIAL_WRITE = 0x1;
export const SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER = 0x2;
/** SSL_OP_BIT(17) */
export const SSL_OP_NO_COMPRESSION = 1 << 17;
/** SSL_OP_BIT(22) */
export const SSL_OP_CIPHER_SERVER_PREFERENCE = 1 << 22;
/** SSL_FILETYPE_PEM = X509_FILETYPE_PEM (x509.h) */
export const SSL_FILETYPE_PEM = 1;
// tls1.h
export const TLSEXT_NAMETYPE_host_name = 0;
export const SSL_TLSEXT_ERR_OK = 0;
export const SSL_TLSEXT_ERR_ALERT_FATAL = 2;
export const SSL_TLSEXT_ERR_NOACK = 3;
// prov_ssl.h
export const TLS1_VERSION = 0x0301;
export const TLS1_1_VERSION = 0x0302;
export const TLS1_2_VERSION = 0x0303;
export const TLS1_3_VERSION = 0x0304;
// x509v3.h
export const X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS = 0x4;
export const GEN_DNS = 2;
export const GEN_IPADD = 7;
// x509_vfy.h
export const X509_V_OK = 0;
export const X509_V_ERR_HOSTNAME_MISMATCH = 62;
export const X509_V_ERR_IP_ADDRESS_MISMATCH = 64;
// obj_mac.h
export const NID_subject_alt_name = 85;
// sslerr.h
export const SSL_R_CERTIFICATE_VERIFY_FAILED = 134;
// err.h
export const ERR_LIB_SSL = 20;
export const ERR_SYSTEM_FLAG = 0x80000000;
export const ERR_LIB_OFFSET = 23;
export const ERR_LIB_MASK = 0xff;
export const ERR_REASON_MASK = 0x7fffff;
// crypto.h
export const OPENSSL_VERSION = 0;

// ---- Loading ----------------------------------------------------------------------------------

type Ssl = Bound<typeof sslSymbols>;
type Crypto = Bound<typeof cryptoSymbols>;

let loaded: { ssl: Ssl; crypto: Crypto } | null = null;
let loadError: Error | null = null;

/** A libssl/libcrypto pair of dlopen names or paths. */
export interface OpensslNames {
  readonly ssl: string;
  readonly crypto: string;
}

/** Where to look for OpenSSL 3, in order, and how to install it (for the error). */
export interface OpensslPlan {
  readonly candidates: readonly OpensslNames[];
  /** The OS's own names for the pair, before any override: what an error message names. */
  readonly wanted: OpensslNames;
  readonly install: string;
}

/**
 * `table`'s OpenSSL candidates (Windows': OpenSSL's own DLL names), with AIOLOOP_LIBSSL /
 * AIOLOOP_LIBCRYPTO (read through `env`) in place of their library. Both set: that one pair.
 */
export function opensslPlan(
  table: OsTable,
  windows: boolean,
  env: (name: string) => string | undefined,
): OpensslPlan {
  const plan: OsTable["openssl"] = windows
    ? {
      candidates: [{ ssl: "libssl-3-x64.dll", crypto: "libcrypto-3-x64.dll" }],
      install: "Put OpenSSL 3's DLLs for Windows x64 beside the program or on PATH",
    }
    : table.openssl;
  const ssl = env("AIOLOOP_LIBSSL") || undefined, crypto = env("AIOLOOP_LIBCRYPTO") || undefined;
  const candidates = plan.candidates.map((c) => ({ ssl: ssl ?? c.ssl, crypto: crypto ?? c.crypto }));
  // Overridden in every pair: the pairs are now duplicates, one is enough.
  const unique = candidates.filter((c, i) => candidates.findIndex((d) => d.ssl === c.ssl && d.crypto === c.crypto) === i);
  return { candidates: unique, wanted: plan.candidates[0], install: plan.install };
}

/**
 * The first pair of `plan` whose libcrypto and libssl both open through `open`; otherwise a
 * RuntimeError naming every library tried and why it failed, and how to get OpenSSL 3.
 */
export function loadOpenssl<T>(plan: OpensslPlan, open: (path: string, which: "ssl" | "crypto") => T): { ssl: T; crypto: T } {
  const failures: string[] = [];
  for (const names of plan.candidates) {
    let path = names.crypto;
    try {
      const crypto = open(names.crypto, "crypto");
      path = names.ssl;
      return { crypto, ssl: open(names.ssl, "ssl") };
    } catch (e) {
      failures.push(`${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const base = (p: string) => p.slice(p.lastIndexOf("/") + 1);
  throw new RuntimeError(
    `TLS needs OpenSSL 3 (${base(plan.wanted.ssl)} and ${base(plan.wanted.crypto)}), and loading it failed: ` +
      `${failures.join("; ")}. ${plan.install}, or point AIOLOOP_LIBSSL/AIOLOOP_LIBCRYPTO at the ` +
      "libraries.",
  );
}

function load(): { ssl: Ssl; crypto: Crypto } {
  if (loaded !== null) return loaded;
  if (loadError !== null) throw loadError;
  try {
    const libs = loadOpenssl(
      opensslPlan(osTable, isWindows, readEnv),
      (path, which) => openLibrary(path, which === "ssl" ? sslSymbols : cryptoSymbols).symbols,
    );
    loaded = { ssl: libs.ssl as Ssl, crypto: libs.crypto as Crypto };
    return loaded;
  } catch (e) {
    loadError = e as Error;
    throw loadError;
  }
}

/** libssl's functions (loads OpenSSL on first call; RuntimeError if it is missing). */
export function libssl(): Ssl {
  return (loaded ?? load()).ssl;
}

/** libcrypto's functions (loads OpenSSL on first call; RuntimeError if it is missing). */
export function libcrypto(): Crypto {
  return (loaded ?? load()).crypto;
}

// ---- Object accounting ------------------------------------------------------------------------

const counts = { sslNew: 0, sslFree: 0, ctxNew: 0, ctxFree: 0, bioPairNew: 0, bioPairFree: 0 };

/**
 * How many SSL, SSL_CTX and BIO pair objects aioloop created and freed in this process (tests
 * check that every SSL_new has its SSL_free).
 */
export function tlsObjectCounts(): {
  sslNew: number;
  sslFree: number;
  ctxNew: number;
  ctxFree: number;
  bioPairNew: number;
  bioPairFree: number;
} {
  return { ...counts };
}

/**
 * An SSL's two rings: a BIO pair whose `engine` half is the SSL's one BIO, and whose `network`
 * half the TLS protocol feeds received bytes to and takes output from (BIO_s_bio(3)). Output
 * is taken with BIO_nread, which hands out a pointer into the output ring instead of copying;
 * input is written with BIO_write, or received straight into the input ring's free space
 * (BIO_nwrite0, then BIO_nwrite to commit). `outgoing` and `incoming` view the two buffers:
 * OpenSSL allocates them once, in BIO_new_bio_pair, and never moves them
 * (crypto/bio/bss_bio.c). Memory BIOs would zero-fill every byte they take
 * (BUF_MEM_grow_clean; measured ~4 % of a TLS echo server's CPU at 100 KiB messages, both
 * directions) and copy all output out once more.
 * The network half is the caller's to free (bioPairFree); SSL_free frees the engine half.
 */
export interface BioPair {
  engine: NativePointer;
  network: NativePointer;
  outgoing: Uint8Array;
  incoming: Uint8Array;
  /** The rings' addresses as 32-bit halves (ringPosition() works on numbers, not BigInts). */
  outgoingLow: number;
  outgoingHigh: number;
  incomingLow: number;
  incomingHigh: number;
}

const pointerOut = new Uint8Array(8);
const pointerOutWords = new Uint32Array(pointerOut.buffer);

/**
 * A BIO pair whose engine half buffers `outgoingSize` bytes of output and whose network half
 * `incomingSize` bytes of input (null on failure; counted).
 */
export function newBioPair(outgoingSize: number, incomingSize: number): BioPair | null {
  const c = libcrypto();
  const engineOut = new Uint8Array(8), networkOut = new Uint8Array(8);
  if (c.BIO_new_bio_pair(engineOut, outgoingSize, networkOut, incomingSize) !== 1) return null;
  counts.bioPairNew++;
  const engine = outPointer(engineOut), network = outPointer(networkOut);
  // Nothing written yet: each half's free space starts at its buffer's first byte.
  c.BIO_nwrite0(engine, pointerOut);
  // pointerOutWords is the two 32-bit halves of one pointer: both indexes exist.
  const outgoingLow = pointerOutWords[0]!, outgoingHigh = pointerOutWords[1]!;
  const outgoing = nativeBytes(outPointer(pointerOut), outgoingSize);
  c.BIO_nwrite0(network, pointerOut);
  const incomingLow = pointerOutWords[0]!, incomingHigh = pointerOutWords[1]!;
  const incoming = nativeBytes(outPointer(pointerOut), incomingSize);
  return { engine, network, outgoing, incoming, outgoingLow, outgoingHigh, incomingLow, incomingHigh };
}

/**
 * Take up to `max` bytes of output without copying: their count (≤ 0: none); ringPosition()
 * then says where they start in `p.outgoing`. The bytes are consumed: use them before anything
 * else runs the engine.
 */
export function ringRead(p: BioPair, max: number): number {
  return libcrypto().BIO_nread(p.network, pointerOut, max);
}

/**
 * The input ring's contiguous free space: its length (≤ 0: full); ringPosition() then says
 * where it starts in `p.incoming`. Bytes put there count once ringCommit() says so.
 */
export function ringSpace(p: BioPair): number {
  return libcrypto().BIO_nwrite0(p.network, pointerOut);
}

/** Hand the engine `n` bytes put at the start of the last ringSpace(). */
export function ringCommit(p: BioPair, n: number): void {
  libcrypto().BIO_nwrite(p.network, pointerOut, n);
}

/** Where the last ringRead() (or ringSpace()) points, as an offset from (low, high). */
export function ringPosition(low: number, high: number): number {
  return (pointerOutWords[1]! - high) * 0x100000000 + (pointerOutWords[0]! - low);
}

/** Free the network half of a BIO pair (after SSL_free freed the engine half). */
export function bioPairFree(p: BioPair): void {
  libcrypto().BIO_free(p.network);
  counts.bioPairFree++;
}

/** SSL_new, counted. */
export function sslNew(ctx: NativePointer): NativePointer {
  const ssl = libssl().SSL_new(ctx);
  if (!isNullPointer(ssl)) counts.sslNew++;
  return ssl;
}

/** SSL_free, counted (also frees the SSL's BIOs). */
export function sslFree(ssl: NativePointer): void {
  libssl().SSL_free(ssl);
  counts.sslFree++;
}

/** SSL_CTX_new, counted. */
export function sslCtxNew(server: boolean): NativePointer {
  const s = libssl();
  const ctx = s.SSL_CTX_new(server ? s.TLS_server_method() : s.TLS_client_method());
  if (!isNullPointer(ctx)) counts.ctxNew++;
  return ctx;
}

/** SSL_CTX_free, counted. */
export function sslCtxFree(ctx: NativePointer): void {
  libssl().SSL_CTX_free(ctx);
  counts.ctxFree++;
}

// ---- Small helpers ----------------------------------------------------------------------------

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A NUL-terminated UTF-8 copy of `s`, for a `const char *` argument. */
export function cString(s: string): Uint8Array {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.byteLength + 1);
  out.set(bytes);
  return out;
}

/** The OpenSSL version string ("OpenSSL 3.0.x ..."). */
export function opensslVersion(): string {
  return readCString(libcrypto().OpenSSL_version(OPENSSL_VERSION));
}

/** Read everything in a memory BIO as bytes. */
function drainBio(bio: NativePointer): Uint8Array {
  const c = libcrypto();
  const n = c.BIO_ctrl_pending(bio);
  const out = new Uint8Array(n);
  if (n > 0) c.BIO_read(bio, out, n);
  return out;
}

/** Run `fn` with a fresh memory BIO, freed afterwards. */
export function withMemBio<T>(fn: (bio: NativePointer) => T): T {
  const c = libcrypto();
  const bio = c.BIO_new(c.BIO_s_mem());
  if (isNullPointer(bio)) throw new RuntimeError("BIO_new failed");
  try {
    return fn(bio);
  } finally {
    c.BIO_free(bio);
  }
}

/** The pointer a `T **` out-parameter (an 8-byte buffer) received. */
function outPointer(cell: Uint8Array): NativePointer {
  return pointerFromAddress(new DataView(cell.buffer, cell.byteOffset, 8).getBigUint64(0, true));
}

// ---- Certificates -----------------------------------------------------------------------------

/** An RDN list as Python's ssl module gives it: ((("commonName", "x"),), ...). */
export type NameTuple = [string, string][][];

/** The decoded peer certificate (the dict of Python's SSLSocket.getpeercert()). */
export interface PeerCert {
  /** The subject's relative distinguished names. */
  subject: NameTuple;
  /** The issuer's relative distinguished names. */
  issuer: NameTuple;
  /** The X.509 version (3 for v3 certificates). */
  version: number;
  /** The serial number, in upper-case hex. */
  serialNumber: string;
  /** Start of validity, as OpenSSL prints it ("Nov 25 12:00:00 2026 GMT"). */
  notBefore: string;
  /** End of validity, as OpenSSL prints it. */
  notAfter: string;
  /** The subjectAltName entries as [type, value] ("DNS", "IP Address", ...). */
  subjectAltName?: [string, string][];
}

function asn1StringToText(str: NativePointer): string {
  const c = libcrypto();
  const cell = new Uint8Array(8);
  const n = c.ASN1_STRING_to_UTF8(cell, str);
  if (n < 0) {
    c.ERR_clear_error();
    return decoder.decode(nativeBytes(c.ASN1_STRING_get0_data(str), c.ASN1_STRING_length(str)));
  }
  const p = outPointer(cell);
  const text = n === 0 ? "" : decoder.decode(nativeBytes(p, n));
  c.CRYPTO_free(p, null, 0);
  return text;
}

function decodeName(name: NativePointer): NameTuple {
  const c = libcrypto();
  const out: NameTuple = [];
  let lastSet = -1;
  const count = c.X509_NAME_entry_count(name);
  for (let i = 0; i < count; i++) {
    const entry = c.X509_NAME_get_entry(name, i);
    const obj = c.X509_NAME_ENTRY_get_object(entry);
    const nid = c.OBJ_obj2nid(obj);
    let key: string;
    if (nid !== 0) {
      key = readCString(c.OBJ_nid2ln(nid));
    } else {
      const buf = new Uint8Array(128);
      const len = c.OBJ_obj2txt(buf, buf.byteLength, obj, 1);
      key = decoder.decode(buf.subarray(0, Math.max(0, Math.min(len, buf.byteLength - 1))));
    }
    const value = asn1StringToText(c.X509_NAME_ENTRY_get_data(entry));
    const set = c.X509_NAME_ENTRY_set(entry);
    // Entries of one multi-valued RDN share a set number: group them as Python does.
    const last = set === lastSet ? out.at(-1) : undefined;
    if (last) last.push([key, value]);
    else out.push([[key, value]]);
    lastSet = set;
  }
  return out;
}

function bioText(print: (bio: NativePointer) => number): string {
  return withMemBio((bio) => {
    print(bio);
    return decoder.decode(drainBio(bio));
  });
}

function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  if (bytes.length === 16) {
    // As Python's ssl module: all eight groups in upper-case hex, no "::" compression.
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16).toUpperCase());
    return groups.join(":");
  }
  return "<invalid>";
}

/** Decode an X509 into Python's getpeercert() dict. */
export function decodeCertificate(x509: NativePointer): PeerCert {
  const c = libcrypto();
  const cert: PeerCert = {
    subject: decodeName(c.X509_get_subject_name(x509)),
    issuer: decodeName(c.X509_get_issuer_name(x509)),
    version: c.X509_get_version(x509) + 1,
    serialNumber: bioText((bio) => c.i2a_ASN1_INTEGER(bio, c.X509_get_serialNumber(x509))),
    notBefore: bioText((bio) => c.ASN1_TIME_print(bio, c.X509_get0_notBefore(x509))),
    notAfter: bioText((bio) => c.ASN1_TIME_print(bio, c.X509_get0_notAfter(x509))),
  };
  const names = c.X509_get_ext_d2i(x509, NID_subject_alt_name, null, null);
  if (!isNullPointer(names)) {
    const alt: [string, string][] = [];
    const n = c.OPENSSL_sk_num(names);
    for (let i = 0; i < n; i++) {
      // x509v3.h: struct GENERAL_NAME_st { int type; union { ... } d; } — the union (all
      // pointers) starts at offset 8 on LP64.
      const gen = c.OPENSSL_sk_value(names, i);
      const type = new DataView(nativeBytes(gen, 4).slice().buffer).getInt32(0, true);
      const value = readPointer(gen, 8);
      if (type === GEN_DNS) alt.push(["DNS", asn1StringToText(value)]);
      else if (type === GEN_IPADD) {
        const bytes = nativeBytes(c.ASN1_STRING_get0_data(value), c.ASN1_STRING_length(value));
        alt.push(["IP Address", ipText(bytes)]);
      }
    }
    c.GENERAL_NAMES_free(names);
    if (alt.length > 0) cert.subjectAltName = alt;
  }
  return cert;
}

/** The DER encoding of an X509. */
export function certificateDer(x509: NativePointer): Uint8Array {
  return withMemBio((bio) => {
    libcrypto().i2d_X509_bio(bio, x509);
    return drainBio(bio);
  });
}

/** Every certificate in a PEM text, added to the SSL_CTX's trust store; returns how many. */
export function addPemCertificates(ctx: NativePointer, pem: string): number {
  const c = libcrypto();
  const store = libssl().SSL_CTX_get_cert_store(ctx);
  return withMemBio((bio) => {
    const bytes = encoder.encode(pem);
    c.BIO_write(bio, bytes, bytes.byteLength);
    let added = 0;
    for (;;) {
      const x = c.PEM_read_bio_X509(bio, null, null, null);
      if (isNullPointer(x)) break;
      c.X509_STORE_add_cert(store, x);
      c.X509_free(x);
      added++;
    }
    // The loop ends on "no start line": not an error when at least one was read.
    c.ERR_clear_error();
    return added;
  });
}

/** Load a PEM private key, decrypting it with `password` if given; returns an EVP_PKEY. */
export function readPrivateKey(path: string, password: Uint8Array | null): NativePointer {
  const c = libcrypto();
  const bio = c.BIO_new_file(cString(path), cString("r"));
  if (isNullPointer(bio)) return null;
  try {
    // With no callback, OpenSSL's default PEM callback takes `u` as the NUL-terminated
    // password (pem.h: PEM_def_callback); it is read during this call only.
    let pass: Uint8Array | null = null;
    if (password !== null) {
      pass = new Uint8Array(password.byteLength + 1);
      pass.set(password);
    }
    return c.PEM_read_bio_PrivateKey(bio, null, null, pass);
  } finally {
    c.BIO_free(bio);
  }
}

/** The ALPN protocol the handshake chose, or null. */
export function selectedAlpn(ssl: NativePointer): string | null {
  const cell = new Uint8Array(8), len = new Uint8Array(4);
  libssl().SSL_get0_alpn_selected(ssl, cell, len);
  const n = new DataView(len.buffer).getUint32(0, true);
  if (n === 0) return null;
  return decoder.decode(nativeBytes(outPointer(cell), n));
}

// ---- ALPN selection on servers ----------------------------------------------------------------

// One native callback serves every SSL_CTX: it finds the server's list by the SSL_CTX address.
let alpnCallback: NativeCallback | null = null;
const alpnLists = new Map<bigint, string[]>();

/**
 * SSL_CTX_alpn_select_cb_func (ssl.h): int cb(SSL *ssl, const unsigned char **out,
 * unsigned char *outlen, const unsigned char *in, unsigned int inlen, void *arg). Picks the
 * first of the server's protocols the client offered; `*out` points into `in`, which OpenSSL
 * keeps alive for the handshake.
 */
function selectAlpn(
  ssl: NativePointer,
  out: NativePointer,
  outlen: NativePointer,
  inp: NativePointer,
  inlen: number,
  _arg: NativePointer,
): number {
  const ctx = libssl().SSL_get_SSL_CTX(ssl);
  const mine = alpnLists.get(pointerAddress(ctx));
  if (!mine || isNullPointer(inp)) return SSL_TLSEXT_ERR_NOACK;
  const offered = nativeBytes(inp, inlen);
  for (const proto of mine) {
    const want = encoder.encode(proto);
    for (let i = 0; i < offered.length;) {
      const len = offered[i]!; // i < offered.length
      const start = i + 1;
      if (len === want.length && want.every((b, j) => offered[start + j] === b)) {
        new DataView(nativeBytes(out, 8).buffer).setBigUint64(0, pointerAddress(inp) + BigInt(start), true);
        nativeBytes(outlen, 1)[0] = len;
        return SSL_TLSEXT_ERR_OK;
      }
      i = start + len;
    }
  }
  // As CPython: no common protocol means no ALPN answer, not a failed handshake.
  return SSL_TLSEXT_ERR_NOACK;
}

/** Set the server-side ALPN preference list of `ctx` (and the client-side offer). */
export function setAlpn(ctx: NativePointer, protocols: string[]): boolean {
  const parts = protocols.map((p) => encoder.encode(p));
  const wire = new Uint8Array(parts.reduce((n, p) => n + 1 + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    wire[o++] = p.byteLength;
    wire.set(p, o);
    o += p.byteLength;
  }
  const s = libssl();
  if (s.SSL_CTX_set_alpn_protos(ctx, wire, wire.byteLength) !== 0) return false;
  alpnCallback ??= makeCallback(
    ["pointer", "pointer", "pointer", "pointer", "u32", "pointer"],
    "i32",
    selectAlpn,
  );
  alpnLists.set(pointerAddress(ctx), [...protocols]);
  s.SSL_CTX_set_alpn_select_cb(ctx, alpnCallback.pointer, null);
  return true;
}

/** Forget `ctx`'s ALPN list (called when the SSL_CTX is freed). */
export function forgetAlpn(ctx: NativePointer): void {
  alpnLists.delete(pointerAddress(ctx));
}
