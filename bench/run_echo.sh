#!/usr/bin/env bash
# Echo benchmark (the networking issue): every server in bench/echo/ against the C load client,
# one markdown table on stdout, progress on stderr. Options are bench/echo.ts's, e.g.
#
#   bash bench/run_echo.sh                         (3 runs x 2 s per row, 1/10/100 KiB)
#   bash bench/run_echo.sh --runs=5 --only=c,uvloop-protocol,aioloop-protocol-deno
#   bash bench/run_echo.sh --sizes=1024,102400    (message sizes in bytes)
#
# Needs gcc, taskset, and /usr/bin/python3 with uvloop (env PY= picks another Python).
set -euo pipefail
cd "$(dirname "$0")/.."
exec node_modules/.bin/deno run -A bench/echo.ts "$@"
