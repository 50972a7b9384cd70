#!/usr/bin/env bash
# Static checks, run by .ci/run before the tests:
#   deno publish --dry-run   JSR's packaging rules, including "no slow types" (explicit types on
#                            every export); runs offline
#   deno doc --lint mod.ts   every export of the public surface has JSDoc and explicit types
#   deno lint                the whole tree, with deno.json's "lint" settings (below)
#   deno check               the whole tree (library, tests, bench, examples) under Deno's types
#   tsc --noEmit             the same tree under TypeScript + bun-types, strict (tsconfig.json)
#   check_imports.ts         no import cycle in loop/, no layer back edge (docs/DESIGN.md, issue 16)
#   strict                   the shipped files under noUncheckedIndexedAccess,
#                            exactOptionalPropertyTypes, noUnusedLocals, … (tsconfig.strict.json, deno.strict.json),
#                            and deno doc mod.ts without internal (@ignore) members
# Usage: npm run check       (after npm install)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/node_modules/.bin"
export NO_COLOR=1
status=0
echo "== deno publish --dry-run"
"$BIN/deno" publish --dry-run --allow-dirty 2>&1 | grep -v '^   file://' || status=1
echo "== deno doc --lint mod.ts"
# (With node_modules present, deno doc warns that it cannot follow @types/node's reference
# paths: noise from bun-types' dependency, not about aioloop. Errors still print.)
doc_out=$("$BIN/deno" doc --lint mod.ts 2>&1 >/dev/null) || status=1
printf '%s\n' "$doc_out" |
  grep -v -e '^Warning Failed resolving types' -e '^    at file://.*/node_modules/' >&2 || true
# deno.json turns off require-await: an async function without an await is how the sock* and
# stream functions turn a synchronous throw on bad arguments into a rejected promise, as a
# coroutine's errors reach the caller only at the await. tests/fixtures/ holds import graphs
# check_imports.ts is tested on, not code.
echo "== deno lint"
"$BIN/deno" lint --quiet || status=1
echo "== deno check ."
"$BIN/deno" check --quiet . || status=1
echo "== tsc --noEmit"
"$BIN/tsc" --noEmit -p tsconfig.json || status=1
echo "== scripts/check_imports.ts"
"$BIN/deno" run --allow-read scripts/check_imports.ts || status=1
# The package ships .ts source, so users' compilers check it with their own settings: the
# shipped files must pass the strict flags projects turn on (bun init's and more), under tsc
# (tsconfig.strict.json) and Deno's checker (deno.strict.json, the same flags).
echo "== strict: tsc -p tsconfig.strict.json, deno check --config deno.strict.json"
"$BIN/tsc" --noEmit -p tsconfig.strict.json || status=1
"$BIN/deno" check --quiet --config deno.strict.json mod.ts loop/ ffi/ platform/ || status=1
# The public docs show the public API only: a member for aioloop's own use is tagged @ignore
# (deno doc drops it; it does not know @internal), so none starting with _ may be listed.
echo "== deno doc mod.ts lists no internal members"
internal=$("$BIN/deno" doc mod.ts 2>/dev/null |
  grep -E '@internal|^ +((abstract|protected|readonly|static|override|get|set) )*_[A-Za-z]' || true)
if [ -n "$internal" ]; then
  printf 'tag these @ignore:\n%s\n' "$internal" >&2
  status=1
fi
exit $status
