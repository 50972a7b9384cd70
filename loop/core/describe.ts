/**
 * describe(): how an error message names a value it refuses ("null", a quoted string, an object's
 * class name, or the type and value), shared by every argument check in loop/. In the bottom
 * layer because checks at every level use it (coroutines, timeouts, both loop families, file
 * objects, subprocess options).
 */

/** @ignore A short description of a value for error messages. */
export function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "string") return JSON.stringify(x);
  if (typeof x === "object") return (x as object).constructor?.name ?? "object";
  return `${typeof x} ${String(x)}`;
}
