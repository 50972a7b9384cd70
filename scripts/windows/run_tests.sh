#!/usr/bin/env bash
# The Windows suite (tests/windows/run.ts) on Bun's Windows build under Wine: sets Wine up with
# setup.sh if needed, runs the suite, stops this prefix's wineserver. Exit status: the suite's.
# Usage: bash scripts/windows/run_tests.sh [case-name-filter]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bun_wine="$(bash "$here/setup.sh" | tail -1)"
prefix="$(sed -n 's/^export WINEPREFIX="\([^"]*\)".*/\1/p' "$bun_wine")"
status=0
# Under Wine, Bun's Windows build prints "Internal error: directory mismatch" notes when it
# reads the repo's package.json and tsconfig.json; they are harmless (Bun says so itself).
timeout 900 "$bun_wine" "$repo/tests/windows/run.ts" "$@" || status=$?
WINEPREFIX="$prefix" /usr/lib/wine/wineserver -k 2>/dev/null || true
exit $status
