/**
 * Picks where this OS keeps the certificates it trusts beyond OpenSSL's default verify paths,
 * for SSLContext.loadDefaultCerts (loop/tls/ssl.ts): on Windows the system stores "CA" and "ROOT"
 * (ffi/crypt32.ts), as CPython's load_default_certs reads them there; elsewhere nothing, since
 * OpenSSL's default paths are the system's store. crypt32 is bound on first use, so importing
 * this module is safe on every OS.
 */
import { systemStoreCertificates } from "../ffi/crypt32.ts";
import { isWindows } from "../ffi/runtime.ts";

/**
 * The DER certificates of each extra system store, one list per store, trusted for `purpose`
 * (an extended key usage OID); an empty list of stores where OpenSSL's paths are the whole store.
 */
export const systemTrustStores: (purpose: string) => Uint8Array[][] = isWindows
  ? (purpose) => ["CA", "ROOT"].map((store) => systemStoreCertificates(store, purpose))
  : () => [];
