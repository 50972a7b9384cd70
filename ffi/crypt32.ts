/**
 * crypt32.dll: the Windows system certificate stores, read as CPython's ssl.enum_certificates
 * reads them, so that a default TLS context on Windows trusts what Windows trusts (OpenSSL
 * itself knows nothing of these stores). Bound on first use (never on a POSIX system).
 *
 * Prototypes and constants are the Windows SDK's (wincrypt.h). HCERTSTORE and PCCERT_CONTEXT
 * are pointers; BOOL and DWORD results are `i32`/`u32`.
 */
import { kernel32, wideString } from "./kernel32.ts";
import {
  isNullPointer, isWindows, nativeBytes, type NativePointer, openLibrary, osName, pointerFromAddress,
  readCString, readPointer, type SymbolSpec,
} from "./runtime.ts";

const symbols = {
  // HCERTSTORE CertOpenSystemStoreW(HCRYPTPROV_LEGACY hProv, LPCWSTR szSubsystemProtocol):
  // the current user's view of a system store, which takes in the local machine's. (CPython
  // opens a collection of more locations: group policy, enterprise, services, users.)
  CertOpenSystemStoreW: { args: ["usize", "buffer"], result: "pointer" },
  // BOOL CertCloseStore(HCERTSTORE hCertStore, DWORD dwFlags)
  CertCloseStore: { args: ["pointer", "u32"], result: "i32" },
  // PCCERT_CONTEXT CertEnumCertificatesInStore(HCERTSTORE, PCCERT_CONTEXT pPrevCertContext):
  // frees the previous context it is given.
  CertEnumCertificatesInStore: { args: ["pointer", "pointer"], result: "pointer" },
  // BOOL CertGetEnhancedKeyUsage(PCCERT_CONTEXT, DWORD dwFlags, PCERT_ENHKEY_USAGE pUsage,
  //   DWORD *pcbUsage)
  CertGetEnhancedKeyUsage: { args: ["pointer", "u32", "buffer", "buffer"], result: "i32" },
} as const satisfies Record<string, SymbolSpec>;

type Crypt32 = ReturnType<typeof openLibrary<typeof symbols>>["symbols"];
let bound: Crypt32 | undefined;

/** crypt32's functions, bound on the first call (Error off Windows). */
function crypt32(): Crypt32 {
  if (bound) return bound;
  if (!isWindows) throw new Error(`crypt32.dll exists only on Windows, not ${osName}`);
  bound = openLibrary("crypt32.dll", symbols).symbols;
  return bound;
}

/** `X509_ASN_ENCODING` 0x1 (a certificate's dwCertEncodingType bit). */
export const X509_ASN_ENCODING = 0x1;
const CERT_FIND_EXT_ONLY_ENHKEY_USAGE_FLAG = 0x2;
const CERT_FIND_PROP_ONLY_ENHKEY_USAGE_FLAG = 0x4;
/** winerror.h: `CRYPT_E_NOT_FOUND` 0x80092004: no enhanced key usage (valid for all uses). */
const CRYPT_E_NOT_FOUND = 0x80092004;

// `typedef struct _CERT_CONTEXT { DWORD dwCertEncodingType; BYTE *pbCertEncoded;
// DWORD cbCertEncoded; PCERT_INFO pCertInfo; HCERTSTORE hCertStore; }` (x64 offsets).
const CERT_ENCODING_TYPE = 0, CERT_ENCODED = 8, CERT_ENCODED_LENGTH = 16;

/** The DER bytes of a CERT_CONTEXT (a view of its memory) and its encoding type. */
export function certificateBytes(cert: NativePointer): { encoding: number; der: Uint8Array } {
  const view = new DataView(nativeBytes(cert, 24).slice().buffer);
  return {
    encoding: view.getUint32(CERT_ENCODING_TYPE, true),
    der: nativeBytes(readPointer(cert, CERT_ENCODED), view.getUint32(CERT_ENCODED_LENGTH, true)),
  };
}

/** Open the system store `name` ("ROOT", "CA", ...) for the current user. */
function openSystemStore(name: string): NativePointer {
  const store = crypt32().CertOpenSystemStoreW(0, wideString(name));
  if (isNullPointer(store)) {
    throw new Error(`CertOpenSystemStoreW(${name}) failed: error ${kernel32().GetLastError()}`);
  }
  return store;
}

/**
 * The extended key usages a certificate is trusted for, as CPython's enum_certificates reads
 * them: the store's property first, then the certificate's extension; true when neither
 * restricts it (CRYPT_E_NOT_FOUND).
 */
function keyUsage(cert: NativePointer): Set<string> | true {
  const c = crypt32();
  for (const flags of [CERT_FIND_PROP_ONLY_ENHKEY_USAGE_FLAG, CERT_FIND_EXT_ONLY_ENHKEY_USAGE_FLAG]) {
    const size = new Uint32Array(1);
    if (!c.CertGetEnhancedKeyUsage(cert, flags, null, size)) {
      const error = kernel32().GetLastError();
      if (error === CRYPT_E_NOT_FOUND) continue;
      throw new Error(`CertGetEnhancedKeyUsage failed: error ${error}`);
    }
    // `typedef struct _CTL_USAGE { DWORD cUsageIdentifier; LPSTR *rgpszUsageIdentifier; }`
    const usage = new Uint8Array(size[0]!);
    if (!c.CertGetEnhancedKeyUsage(cert, flags, usage, size)) {
      const error = kernel32().GetLastError();
      if (error === CRYPT_E_NOT_FOUND) continue;
      throw new Error(`CertGetEnhancedKeyUsage failed: error ${error}`);
    }
    const view = new DataView(usage.buffer);
    const count = view.getUint32(0, true);
    const oids = new Set<string>();
    if (count === 0) return oids;
    const list = pointerFromAddress(view.getBigUint64(8, true));
    for (let i = 0; i < count; i++) {
      const oid = readPointer(list, i * 8);
      if (!isNullPointer(oid)) oids.add(readCString(oid));
    }
    return oids;
  }
  return true;
}

/**
 * The DER encodings of the X.509 certificates in the system store `name` that are trusted for
 * `purpose` (an extended key usage OID), as CPython's SSLContext.load_default_certs picks them
 * (ssl.py _load_windows_store_certs).
 */
export function systemStoreCertificates(name: string, purpose: string): Uint8Array[] {
  const c = crypt32();
  const store = openSystemStore(name);
  const out: Uint8Array[] = [];
  try {
    for (let cert = c.CertEnumCertificatesInStore(store, null); !isNullPointer(cert);
      cert = c.CertEnumCertificatesInStore(store, cert)) {
      const { encoding, der } = certificateBytes(cert);
      if ((encoding & X509_ASN_ENCODING) === 0) continue;
      const trust = keyUsage(cert);
      if (trust !== true && !trust.has(purpose)) continue;
      out.push(der.slice());
    }
  } finally {
    c.CertCloseStore(store, 0);
  }
  return out;
}
