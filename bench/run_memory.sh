#!/usr/bin/env bash
# Memory per idle connection (issue 19 §5): bench/memory_per_conn.ts with the fd limit raised
# to the hard limit first (each server and its client hold one fd per connection).
#
#   bash bench/run_memory.sh [--conns=10000,19000] [--runs=3] [--only=…]
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n "$(ulimit -Hn)"
exec node_modules/.bin/deno run -A bench/memory_per_conn.ts "$@"
