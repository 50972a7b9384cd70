/**
 * The one module that knows which JavaScript runtime it runs on.
 *
 * Everything else in aioloop calls native code through {@link openLibrary}, which takes one
 * runtime-neutral symbol description and binds it with `Deno.dlopen` or `bun:ffi`'s `dlopen`.
 *
 * Type vocabulary (kept deliberately small):
 * - `i32`, `u32`, `f64`: plain numbers.
 * - `usize`: a size_t argument, passed as a number.
 * - `len`: a size_t *length* below 2^31 on a hot path (read, write, send, recv). Deno's fast
 *   FFI path takes only 32-bit signed integers: an `i32` argument costs 13 ns, `u32`, `usize`,
 *   `u64` or `f64` 85–95 ns (measured, strnlen loop). So Deno gets `i32`; the C callee still
 *   reads 64 bits, which are exact because V8 produces int32 values with 32-bit register
 *   operations, and those zero the upper half (x86-64: any 32-bit write; AArch64: W registers).
 *   tests/ffi/ffi_test.ts checks this on every run. Bun's FFI is fast for `u64`, so Bun gets that.
 * - `buffer`: a TypedArray (or null) whose bytes the callee reads or writes during the call.
 * - `pointer`: an opaque native address returned by one call and passed to another.
 * 64-bit *results* (ssize_t) are declared `i32`: Deno returns a BigInt for every 64-bit result,
 * which would allocate on the hot path. The low 32 bits of the return register (rax on x86-64,
 * x0 on AArch64) hold the exact value for every result in [-2^31, 2^31); aioloop never asks a
 * single read/write for more than 2^31-1 bytes, so no result falls outside.
 */

/** An opaque native address (a Deno pointer object or a Bun number). */
export type NativePointer = unknown;

export type ArgType = "i32" | "u32" | "usize" | "len" | "f64" | "buffer" | "pointer";
export type ResultType = "i32" | "u32" | "void" | "pointer";

export interface SymbolSpec {
  args: readonly ArgType[];
  result: ResultType;
  /** The C name, when the key differs from it (two bindings of one function). */
  name?: string;
  /** Deno only: run on a runtime thread and return a Promise (used only for parking). */
  nonblocking?: boolean;
}

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => any;
export type Bound<S extends Record<string, SymbolSpec>> = { [K in keyof S]: AnyFn };

// deno-lint-ignore no-explicit-any
const globalAny = globalThis as any;
const denoNs = globalAny.Deno;
const isBun = typeof globalAny.Bun !== "undefined";

/** Which runtime aioloop is running on. */
export const runtimeName: "deno" | "bun" = isBun ? "bun" : "deno";

/**
 * An Error for a package that cannot load here, without a stack: the user needs the one
 * sentence, not frames of aioloop's FFI internals.
 */
function cannotLoad(message: string): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const error = new Error(message);
  Error.stackTraceLimit = limit;
  return error;
}

if (!isBun && (typeof denoNs === "undefined" || typeof denoNs.dlopen !== "function")) {
  throw cannotLoad(
    "aioloop needs Deno (run with --allow-ffi) or Bun: it drives the OS poller through FFI, " +
      "which Node.js does not offer.",
  );
}

// A computed specifier keeps `deno check` from trying to resolve Bun's built-in module.
const bunFfiSpecifier = "bun:ffi";
// deno-lint-ignore no-explicit-any
const bunFfi: any = isBun ? await import(bunFfiSpecifier) : null;

const denoTypes: Record<ArgType | ResultType, string> = {
  i32: "i32", u32: "u32", usize: "usize", len: "i32", f64: "f64", buffer: "buffer",
  pointer: "pointer", void: "void",
};
const bunTypes: Record<ArgType | ResultType, string> = {
  i32: "i32", u32: "u32", usize: "u64", len: "u64", f64: "f64", buffer: "ptr", pointer: "ptr",
  void: "void",
};

/** A loaded native library: its bound symbols and a way to unload it. */
export interface Library<S extends Record<string, SymbolSpec>> {
  symbols: Bound<S>;
  close(): void;
}

/** Open `path` and bind `symbols` (see the module comment for the type vocabulary). */
export function openLibrary<S extends Record<string, SymbolSpec>>(
  path: string,
  symbols: S,
): Library<S> {
  if (isBun) {
    // bun:ffi binds each symbol under its C name: bind that, then expose it under the key.
    const spec: Record<string, { args: string[]; returns: string }> = {};
    for (const [key, s] of Object.entries(symbols)) {
      const cName = s.name ?? key;
      const one = { args: s.args.map((t) => bunTypes[t]), returns: bunTypes[s.result] };
      const seen = spec[cName];
      if (seen && (seen.args.join() !== one.args.join() || seen.returns !== one.returns)) {
        throw new Error(`bun:ffi cannot bind ${cName} with two signatures`);
      }
      spec[cName] = one;
    }
    const lib = bunFfi.dlopen(path, spec);
    const bound: Record<string, AnyFn> = {};
    for (const [key, s] of Object.entries(symbols)) bound[key] = lib.symbols[s.name ?? key];
    return { symbols: bound as Bound<S>, close: () => lib.close() };
  }
  const spec: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(symbols)) {
    spec[key] = {
      name: s.name,
      parameters: s.args.map((t) => denoTypes[t]),
      result: denoTypes[s.result],
      nonblocking: s.nonblocking ?? false,
    };
  }
  const lib = denoNs.dlopen(path, spec);
  return { symbols: lib.symbols, close: () => lib.close() };
}

/** True for a null native pointer in either runtime's representation. */
export function isNullPointer(p: NativePointer): boolean {
  return p === null || p === 0 || p === 0n;
}

/** A view of `length` bytes of native memory at `p` (no copy; valid while the memory is). */
export function nativeBytes(p: NativePointer, length: number): Uint8Array {
  if (isBun) return new Uint8Array(bunFfi.toArrayBuffer(p, 0, length));
  return new Uint8Array(new denoNs.UnsafePointerView(p).getArrayBuffer(length));
}

/** Read the NUL-terminated C string at `p`. */
export function readCString(p: NativePointer): string {
  if (isNullPointer(p)) return "";
  if (isBun) return String(new bunFfi.CString(p));
  return new denoNs.UnsafePointerView(p).getCString();
}

/** Ask the engine for a full garbage collection, where the runtime allows it (tests use this). */
export function collectGarbage(): boolean {
  if (isBun) {
    globalAny.Bun.gc(true);
    return true;
  }
  if (typeof globalAny.gc === "function") {
    globalAny.gc();
    return true;
  }
  return false;
}

/** The value of an environment variable, or undefined (also when permission is missing). */
export function readEnv(name: string): string | undefined {
  try {
    return isBun ? globalAny.process.env[name] : denoNs.env.get(name);
  } catch {
    return undefined;
  }
}

/** The CPU architecture, as struct layouts differ by it (e.g. epoll_event). */
export const arch: "x86_64" | "aarch64" = (() => {
  const a = isBun ? globalAny.process.arch : denoNs.build.arch;
  return a === "arm64" || a === "aarch64" ? "aarch64" : "x86_64";
})();

/** The operating system family, to pick a platform backend. */
export const osName: string = isBun ? globalAny.process.platform : denoNs.build.os;

/** True on Windows, natively or under Wine (Bun says "win32", Deno "windows"). */
export const isWindows: boolean = osName === "win32" || osName === "windows";

/**
 * `symbols` of the POSIX C library `path`, bound now; on Windows, where no such library exists,
 * nothing is bound and each symbol throws an Error naming itself when called. Modules that
 * bind POSIX calls at import use this, so that they (and everything importing them) load on
 * Windows, where the loop reaches the OS through kernel32.ts and ws2_32.ts instead.
 */
export function posixSymbols<S extends Record<string, SymbolSpec>>(path: string, symbols: S): Bound<S> {
  if (!isWindows) return openLibrary(path, symbols).symbols;
  const stubs: Record<string, () => never> = {};
  for (const name of Object.keys(symbols)) {
    stubs[name] = () => {
      throw new Error(`${name}() is a POSIX C library call; aioloop does not bind it on Windows`);
    };
  }
  return stubs as Bound<S>;
}

// ffi/os/ has C library tables for Linux, macOS and FreeBSD (Windows goes its own way:
// ffi/kernel32.ts, ffi/ws2_32.ts); on any other Unix the first failure would be a dlopen
// symbol error deep in FFI, so say it plainly here.
if (!["linux", "darwin", "freebsd", "windows", "win32"].includes(osName)) {
  throw cannotLoad(
    `aioloop has no event loop backend for ${osName}: it runs on Linux (epoll, poll, io_uring), ` +
      "macOS and FreeBSD (kqueue, poll) and Windows (IOCP) under Deno or Bun.",
  );
}

/**
 * The command line that runs `script` on this same runtime (for tests and examples that start
 * a child process): `[executable, ...args]`.
 */
export function runScriptCommand(script: string): string[] {
  const exe = isBun ? globalAny.process.execPath : denoNs.execPath();
  return isBun ? [exe, script] : [exe, "run", "-A", script];
}

/**
 * The command line that runs JavaScript `code` on this same runtime in working directory `cwd`
 * (for tests that need a child program that exists on every OS): `bun --cwd <cwd> -e <code>`,
 * or `deno eval` of a chdir and then `code`. Bun reads the package.json and tsconfig.json of
 * the directory it starts in (under Wine its Windows build then notes "Internal error:
 * directory mismatch" on stderr), hence a directory of the caller's choosing.
 */
export function evalCommand(code: string, cwd: string): string[] {
  const exe = isBun ? globalAny.process.execPath : denoNs.execPath();
  return isBun ? [exe, "--cwd", cwd, "-e", code] : [exe, "eval", `Deno.chdir(${JSON.stringify(cwd)});\n${code}`];
}

/** The numeric address of a native pointer (0n for null). */
export function pointerAddress(p: NativePointer): bigint {
  if (isNullPointer(p)) return 0n;
  if (isBun) return BigInt(p as number);
  return BigInt(denoNs.UnsafePointer.value(p));
}

/** A native pointer for a numeric address (null for 0). */
export function pointerFromAddress(address: bigint): NativePointer {
  if (address === 0n) return null;
  if (isBun) return Number(address);
  return denoNs.UnsafePointer.create(address);
}

/** The pointer stored at `p + offset` (reads one machine word of native memory). */
export function readPointer(p: NativePointer, offset = 0): NativePointer {
  if (isBun) {
    const v = bunFfi.read.ptr(p, offset);
    return v === 0 ? null : v;
  }
  return new denoNs.UnsafePointerView(p).getPointer(offset);
}

/** A native function pointer that calls back into JavaScript, until close(). */
export interface NativeCallback {
  readonly pointer: NativePointer;
  close(): void;
}

/**
 * Make a C function pointer that runs `fn` on the JS thread. Only for callbacks that C code
 * invokes synchronously from inside an FFI call made on this thread (e.g. OpenSSL's ALPN
 * selection during SSL_do_handshake). Argument types as for symbols; results `i32` or `void`.
 */
export function makeCallback(
  args: readonly ArgType[],
  result: ResultType,
  fn: AnyFn,
): NativeCallback {
  if (isBun) {
    const cb = new bunFfi.JSCallback(fn, {
      args: args.map((t) => bunTypes[t]),
      returns: bunTypes[result],
    });
    return { pointer: cb.ptr, close: () => cb.close() };
  }
  const cb = new denoNs.UnsafeCallback(
    { parameters: args.map((t) => denoTypes[t]), result: denoTypes[result] },
    fn,
  );
  return { pointer: cb.pointer, close: () => cb.close() };
}

/**
 * The address of `view`'s first byte, as a number (user-space addresses fit in 2^53). For
 * memory the kernel reads or writes after the call returns (io_uring): the caller keeps `view`
 * reachable until then. Its bytes do not move: an ArrayBuffer's backing store is allocated
 * outside the moving heap in V8 (Deno) and JavaScriptCore (Bun) once its address is taken.
 */
export function bufferAddress(view: ArrayBufferView): number {
  if (isBun) return bunFfi.ptr(view);
  return Number(denoNs.UnsafePointer.value(denoNs.UnsafePointer.of(view)));
}

/**
 * A callable for the native function at `p`, one known only at run time (Winsock hands out
 * ConnectEx's address through WSAIoctl; no DLL exports it). Types as for symbols.
 */
export function bindFunctionPointer(p: NativePointer, spec: SymbolSpec): AnyFn {
  if (isBun) {
    return new bunFfi.CFunction({
      ptr: p,
      args: spec.args.map((t) => bunTypes[t]),
      returns: bunTypes[spec.result],
    });
  }
  const fn = new denoNs.UnsafeFnPointer(p, {
    parameters: spec.args.map((t) => denoTypes[t]),
    result: denoTypes[spec.result],
  });
  return (...args: unknown[]) => fn.call(...args);
}
