/**
 * refuseUnknownOptions(): the run-time half of typed options objects. TypeScript refuses an
 * unknown key in an object literal, but JavaScript callers, spread objects and `as` casts get
 * past it, and a misspelt key (`stdOut` for `stdout`) would otherwise be ignored without a
 * word, where Python refuses an unexpected keyword argument with TypeError. Each public
 * function lists its keys as a `KeysOf<Options>` table, so the compiler keeps the list and the
 * interface in step. Optional properties of the option interfaces also accept `undefined`
 * (treated as absent), for callers compiled with exactOptionalPropertyTypes.
 */

import { describe } from "./describe.ts";

/** @ignore Every key of `O`, each mapped to true: a run-time list of an options interface. */
export type KeysOf<O> = { readonly [K in keyof Required<O>]: true };

/**
 * @ignore TypeError unless `options` is undefined or a plain object whose own keys are all
 * in `known`; the message names the function and the first unknown key (with the known key it
 * most likely meant, if one differs only in case or underscores).
 */
export function refuseUnknownOptions<O>(options: O | undefined, known: KeysOf<O>, what: string): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${what}: options must be an object, got ${describe(options)}`);
  }
  // for-in, not Object.keys(): no array per call, and most calls pass {} or a key or two.
  for (const key in options) {
    if (!Object.hasOwn(options, key) || Object.hasOwn(known, key)) continue;
    const squash = (k: string) => k.toLowerCase().replaceAll("_", "");
    const meant = Object.keys(known).find((k) => squash(k) === squash(key));
    throw new TypeError(
      `${what} got an unexpected option ${JSON.stringify(key)}` +
        (meant === undefined ? "" : ` (did you mean ${JSON.stringify(meant)}?)`),
    );
  }
}
