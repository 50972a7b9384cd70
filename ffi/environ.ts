/**
 * This process's environment as `NAME=value` strings, for a child that inherits it (posix_spawn's
 * envp, as Python passes os.environ). Each runtime keeps the current environment in a different
 * place:
 * - Bun: `process.env`. Assignments to it stay in JS (they do not reach the C library's
 *   environ), so a child must get them from there. Bun has no permissions to ask.
 * - Deno: the C library's `environ` (environ(7)), which `Deno.env.set()` updates (setenv(3)).
 *   Read through FFI, it needs no `--allow-env`: spawning a child needs only `--allow-ffi`,
 *   as every other part of the loop. macOS has no exported `environ` symbol for dlopen'd code:
 *   `_NSGetEnviron()` (<crt_externs.h>) returns its address there.
 */
import { osTable } from "./os/current.ts";
import { runtimeName } from "./runtime.ts";

// deno-lint-ignore no-explicit-any
const globalAny = globalThis as any;

/** The environment a child inherits when no `env` is given. */
export function inheritedEnvironment(): string[] {
  if (runtimeName === "bun") {
    const env: Record<string, string | undefined> = globalAny.process.env;
    return Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
  }
  return denoEnviron();
}

/** The strings of the C library's environ, on Deno. */
function denoEnviron(): string[] {
  const Deno = globalAny.Deno;
  const darwin = osTable.os === "darwin";
  // `environ` as a static: Deno gives its address (a char ***); so does _NSGetEnviron().
  const lib = Deno.dlopen(
    osTable.libc,
    darwin ? { _NSGetEnviron: { parameters: [], result: "pointer" } } : { environ: { type: "pointer" } },
  );
  try {
    const address = darwin ? lib.symbols._NSGetEnviron() : lib.symbols.environ;
    const envp = new Deno.UnsafePointerView(address).getPointer(0); // char **, NULL-terminated
    const out: string[] = [];
    if (envp === null) return out;
    const view = new Deno.UnsafePointerView(envp);
    for (let at = 0;; at += 8) {
      const entry = view.getPointer(at);
      if (entry === null) return out;
      out.push(Deno.UnsafePointerView.getCString(entry));
    }
  } finally {
    lib.close();
  }
}
