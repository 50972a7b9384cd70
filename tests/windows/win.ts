/**
 * kernel32 pieces the Windows cases and the suite files use directly (named pipes, handle
 * checks), and crypt32's system stores (the TLS tests add a CA there). Nothing binds at import:
 * the suite files import this on Linux too.
 */
export {
  FILE_FLAG_FIRST_PIPE_INSTANCE, FILE_FLAG_OVERLAPPED, GENERIC_READ, GENERIC_WRITE, kernel32,
  OPEN_EXISTING, PIPE_ACCESS_DUPLEX, PIPE_REJECT_REMOTE_CLIENTS, PIPE_TYPE_BYTE, wideString,
} from "../../ffi/kernel32.ts";
import {
  CURRENT_PROCESS, DUPLICATE_CLOSE_SOURCE, DUPLICATE_SAME_ACCESS, FILE_FLAG_FIRST_PIPE_INSTANCE, FILE_FLAG_OVERLAPPED, GENERIC_READ, GENERIC_WRITE, kernel32,
  OPEN_EXISTING, OVERLAPPED_SIZE, PIPE_ACCESS_DUPLEX, PIPE_REJECT_REMOTE_CLIENTS, PIPE_TYPE_BYTE,
  wideString,
} from "../../ffi/kernel32.ts";
import { certificateBytes, X509_ASN_ENCODING } from "../../ffi/crypt32.ts";
import { bufferAddress, isNullPointer, type NativePointer, openLibrary } from "../../ffi/runtime.ts";

/**
 * A named pipe opened for overlapped I/O at both ends (as asyncio's windows_utils.pipe makes
 * them for its proactor): [server end, client end], duplex, byte mode, one instance.
 */
export function overlappedPipe(): [number, number] {
  const k = kernel32();
  const name = wideString(`\\\\.\\pipe\\aioloop-test-${k.GetCurrentProcessId()}-${Math.random().toString(36).slice(2)}`);
  const server = Number(k.CreateNamedPipeW(name,
    PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
    PIPE_TYPE_BYTE | PIPE_REJECT_REMOTE_CLIENTS, 1, 65536, 65536, 0, null));
  if (!(server > 0 && server !== 0xffffffff)) throw new Error(`CreateNamedPipeW: error ${k.GetLastError()}`);
  const client = Number(k.CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING,
    FILE_FLAG_OVERLAPPED, 0));
  if (!(client > 0 && client !== 0xffffffff)) {
    const err = k.GetLastError();
    k.CloseHandle(server);
    throw new Error(`CreateFileW: error ${err}`);
  }
  return [server, client];
}

/**
 * An inheritable copy of `handle` in place of it (DuplicateHandle with bInheritHandle TRUE and
 * DUPLICATE_CLOSE_SOURCE): what a child started with bInheritHandles TRUE may inherit.
 */
export function inheritableInstead(handle: number): number {
  const k = kernel32(), out = new BigUint64Array(1);
  if (!k.DuplicateHandle(CURRENT_PROCESS, handle, CURRENT_PROCESS, new Uint8Array(out.buffer), 0, 1,
    DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE)) {
    throw new Error(`DuplicateHandle: error ${k.GetLastError()}`);
  }
  return Number(out[0]);
}

/**
 * Write all of `data` to `handle` and wait for it: WriteFile with an OVERLAPPED (which a
 * handle opened with FILE_FLAG_OVERLAPPED requires), then GetOverlappedResult with bWait
 * TRUE (which, with no event in the OVERLAPPED, waits on the handle itself). For a pipe end
 * no completion port watches: the port would get a completion for this OVERLAPPED.
 */
export function writeAll(handle: number, data: Uint8Array): void {
  const k = kernel32();
  const ov = new Uint8Array(OVERLAPPED_SIZE), done = new Uint32Array(1);
  const copy = data.slice(); // its own buffer, alive until the wait below returns
  const ERROR_IO_PENDING = 997; // winerror.h
  if (!k.WriteFile(handle, bufferAddress(copy), copy.byteLength, done, bufferAddress(ov))) {
    const err = k.GetLastError();
    if (err !== ERROR_IO_PENDING) throw new Error(`WriteFile: error ${err}`);
  }
  if (!k.GetOverlappedResult(handle, bufferAddress(ov), done, 1)) {
    throw new Error(`GetOverlappedResult: error ${k.GetLastError()}`);
  }
  if (done[0] !== copy.byteLength) throw new Error(`WriteFile wrote ${done[0]} of ${copy.byteLength} bytes`);
}

/** CloseHandle(handle): nonzero on success, 0 (GetLastError set) if it was not open. */
export function CloseHandle(handle: number): number {
  return kernel32().CloseHandle(handle);
}

/** The open handle values of this process (GetHandleInformation succeeds only for those). */
export function openHandles(): Set<number> {
  const k = kernel32(), flags = new Uint32Array(1), out = new Set<number>();
  for (let h = 4; h < 65536; h += 4) if (k.GetHandleInformation(h, flags)) out.add(h);
  return out;
}

// winternl.h: NTSTATUS NtQueryObject(HANDLE, OBJECT_INFORMATION_CLASS, PVOID, ULONG, PULONG).
const ObjectNameInformation = 1, ObjectTypeInformation = 2;
type Ntdll = { NtQueryObject(h: number, cls: number, buf: Uint8Array, len: number, ret: Uint32Array): number };
let ntdll: Ntdll | undefined;

/**
 * The kind of object `handle` is ("Thread", "File", "IoCompletion", "Event"…), for messages
 * about handles a test left open; "?" if it cannot be asked. NtQueryObject writes an
 * OBJECT_TYPE_INFORMATION whose name (UTF-16, NUL-terminated) ends the bytes it returns, and
 * whose first USHORT is that name's length in bytes.
 */
export function handleTypeName(handle: number): string {
  const buf = new Uint8Array(1024), ret = new Uint32Array(1);
  if (ntQueryObject().NtQueryObject(handle, ObjectTypeInformation, buf, buf.byteLength, ret) !== 0) return "?";
  const nameBytes = buf[0] | (buf[1] << 8), end = ret[0] - 2;
  if (end - nameBytes < 0 || end > buf.byteLength) return "?";
  return String.fromCharCode(...new Uint16Array(buf.slice(end - nameBytes, end).buffer));
}

/**
 * The kernel object name `handle` refers to ("\Device\NamedPipe\…" for a pipe end), or null
 * if it is not open or has no name: NtQueryObject writes an OBJECT_NAME_INFORMATION, a
 * UNICODE_STRING { USHORT Length (bytes); USHORT MaximumLength; PWSTR Buffer } (16 bytes on
 * x64) whose Buffer points to the name, right after it in the same buffer.
 */
export function handleObjectName(handle: number): string | null {
  const buf = new Uint8Array(2048), ret = new Uint32Array(1);
  if (ntQueryObject().NtQueryObject(handle, ObjectNameInformation, buf, buf.byteLength, ret) !== 0) return null;
  const bytes = buf[0] | (buf[1] << 8);
  if (bytes === 0 || 16 + bytes > buf.byteLength) return null;
  return String.fromCharCode(...new Uint16Array(buf.slice(16, 16 + bytes).buffer));
}

function ntQueryObject(): Ntdll {
  ntdll ??= openLibrary("ntdll.dll", {
    NtQueryObject: { args: ["usize", "u32", "buffer", "u32", "buffer"], result: "i32" },
  }).symbols as unknown as Ntdll;
  return ntdll;
}

// wincrypt.h, for tests that add a CA to a system store: HCERTSTORE CertOpenStore(LPCSTR
// lpszStoreProvider, DWORD dwEncodingType, HCRYPTPROV_LEGACY, DWORD dwFlags, const void *pvPara)
// (the provider is a small integer cast to a pointer); BOOL CertAddEncodedCertificateToStore(
// HCERTSTORE, DWORD dwCertEncodingType, const BYTE *, DWORD, DWORD dwAddDisposition,
// PCCERT_CONTEXT *ppCertContext); BOOL CertDeleteCertificateFromStore(PCCERT_CONTEXT), which
// frees the context.
const CERT_STORE_PROV_SYSTEM_REGISTRY_W = 13;
const CERT_SYSTEM_STORE_CURRENT_USER = 0x10000;
const CERT_STORE_ADD_REPLACE_EXISTING = 3;
const storeCalls = {
  CertOpenStore: { args: ["usize", "u32", "usize", "u32", "buffer"], result: "pointer" },
  CertAddEncodedCertificateToStore: { args: ["pointer", "u32", "buffer", "u32", "u32", "pointer"], result: "i32" },
  CertEnumCertificatesInStore: { args: ["pointer", "pointer"], result: "pointer" },
  CertDeleteCertificateFromStore: { args: ["pointer"], result: "i32" },
  CertCloseStore: { args: ["pointer", "u32"], result: "i32" },
} as const;
let stores: ReturnType<typeof openLibrary<typeof storeCalls>>["symbols"] | undefined;

/**
 * Run `fn` on the current user's registry store `name` ("CA", ...), the one a system store
 * adds to. Opened directly, not as the system store (a collection): under Wine 8.0 a delete
 * through the collection is not written back to the registry.
 */
function withUserStore<T>(name: string, fn: (store: NativePointer, c: NonNullable<typeof stores>) => T): T {
  stores ??= openLibrary("crypt32.dll", storeCalls).symbols;
  const store = stores.CertOpenStore(CERT_STORE_PROV_SYSTEM_REGISTRY_W, 0, 0, CERT_SYSTEM_STORE_CURRENT_USER,
    wideString(name));
  if (isNullPointer(store)) throw new Error(`CertOpenStore(${name}) failed: error ${kernel32().GetLastError()}`);
  try {
    return fn(store, stores);
  } finally {
    stores.CertCloseStore(store, 0);
  }
}

/** Add the DER certificate `der` to the current user's certificate store `name`. */
export function addToSystemStore(name: string, der: Uint8Array): void {
  withUserStore(name, (store, c) => {
    if (!c.CertAddEncodedCertificateToStore(store, X509_ASN_ENCODING, der, der.byteLength,
      CERT_STORE_ADD_REPLACE_EXISTING, null)) {
      throw new Error(`CertAddEncodedCertificateToStore(${name}) failed: error ${kernel32().GetLastError()}`);
    }
  });
}

/** Delete the DER certificate `der` from the current user's store `name`; whether it was there. */
export function removeFromSystemStore(name: string, der: Uint8Array): boolean {
  return withUserStore(name, (store, c) => {
    for (let cert = c.CertEnumCertificatesInStore(store, null); !isNullPointer(cert);
      cert = c.CertEnumCertificatesInStore(store, cert)) {
      const mine = certificateBytes(cert).der;
      if (mine.byteLength !== der.byteLength || !mine.every((b, i) => b === der[i])) continue;
      // It frees `cert`, so the enumeration ends here.
      if (!c.CertDeleteCertificateFromStore(cert)) {
        throw new Error(`CertDeleteCertificateFromStore failed: error ${kernel32().GetLastError()}`);
      }
      return true;
    }
    return false;
  });
}
