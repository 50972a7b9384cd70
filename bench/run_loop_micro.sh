#!/usr/bin/env bash
# Loop micro-benchmark, all four implementations in one run (issue 3), and the ping-pong's bare
# FFI ceiling (bench/pingpong_bare.ts, issue 19):
# aioloop on Deno, aioloop on Bun, asyncio and uvloop (Debian's /usr/bin/python3 + python3-uvloop),
# each pinned to one CPU with taskset, median of REPS interleaved rounds per row; then one markdown table.
# Also prints this machine's syscall cost (a C getpid loop, built into bench/.build/) and the FFI
# call cost in each runtime.
#
#   bash bench/run_loop_micro.sh [REPS]        (default 5; env CPU=1 picks the pinned CPU,
#                                               PY=/usr/bin/python3 the Python with uvloop)
set -euo pipefail
cd "$(dirname "$0")/.."
REPS="${1:-5}"
CPU="${CPU:-1}"
PY="${PY:-/usr/bin/python3}"
BIN="$PWD/node_modules/.bin"
OUT="bench/.build"
mkdir -p "$OUT"
RES="$OUT/loop_micro.jsonl"
: >"$RES"
pin() { taskset -c "$CPU" "$@"; }

echo "== machine: $(nproc) CPUs, $(uname -r), pinned to CPU $CPU, reps=$REPS" >&2
echo "   deno $("$BIN/deno" --version | head -1 | cut -d' ' -f2), bun $("$BIN/bun" --version)," \
  "$("$PY" -c 'import sys, uvloop; print("python", sys.version.split()[0], "uvloop", uvloop.__version__)')" >&2

gcc -O2 -o "$OUT/getpid" bench/getpid.c
echo "== syscall / FFI cost" >&2
pin "$OUT/getpid" >>"$RES"
pin "$BIN/deno" run -A bench/ffi_getpid.ts --json >>"$RES"
pin "$BIN/bun" bench/ffi_getpid.ts --json >>"$RES"

# The VM's speed drifts by tens of percent over a minute, so the implementations take turns:
# REPS rounds, each running every implementation once (one timed repetition after its warm-up);
# the table shows each row's median over the rounds.
for r in $(seq 1 "$REPS"); do
  echo "== round $r/$REPS" >&2
  pin "$BIN/deno" run -A bench/loop_micro.ts --json --reps=1 | tee -a "$RES" >&2
  pin "$BIN/bun" bench/loop_micro.ts --json --reps=1 | tee -a "$RES" >&2
  pin "$PY" bench/loop_micro.py asyncio --json --reps=1 | tee -a "$RES" >&2
  pin "$PY" bench/loop_micro.py uvloop --json --reps=1 | tee -a "$RES" >&2
  pin "$BIN/deno" run -A bench/pingpong_bare.ts --json | tee -a "$RES" >&2
  pin "$BIN/bun" bench/pingpong_bare.ts --json | tee -a "$RES" >&2
done

"$PY" - "$RES" "$REPS" <<'PYEOF'
import json, statistics, sys
rows, ops, ns = [], {}, {}
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    d = json.loads(line)
    if "ns" in d:
        ns[(d["impl"], d["row"])] = d["ns"]
        continue
    if d["row"] not in rows:
        rows.append(d["row"])
    ops.setdefault((d["impl"], d["row"]), []).append(d["ops"])
ops = {k: round(statistics.median(v)) for k, v in ops.items()}
impls = ["aioloop-deno", "aioloop-bun", "asyncio", "uvloop"]
def fmt(x):
    return f"{x:,}" if x is not None else "n/a"
def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "n/a"
print()
print(f"Loop micro-benchmark, ops/s, median of {sys.argv[2]} rounds, each process pinned to one CPU")
print()
print("| benchmark | " + " | ".join(impls) + " | deno/uvloop | bun/uvloop |")
print("|---|" + "---:|" * (len(impls) + 2))
for r in rows:
    v = [ops.get((i, r)) for i in impls]
    print(f"| {r} | " + " | ".join(fmt(x) for x in v)
          + f" | {ratio(v[0], v[3])} | {ratio(v[1], v[3])} |")
bare = [ops.get((i, "add_reader ping-pong 100k")) for i in ("bare-ffi-deno", "bare-ffi-bun", "uvloop")]
print()
print("The ping-pong's ceiling: a bare FFI epoll_wait/recv/send loop, no scheduler (bench/pingpong_bare.ts)")
print()
print("| | bare-ffi-deno | bare-ffi-bun | deno bare/uvloop | bun bare/uvloop |")
print("|---|---:|---:|---:|---:|")
print(f"| add_reader ping-pong 100k | {fmt(bare[0])} | {fmt(bare[1])} | {ratio(bare[0], bare[2])} | {ratio(bare[1], bare[2])} |")
print()
print("Syscall and FFI cost on this machine (ns per call, best of 5)")
print()
print("| call | C | aioloop-deno | aioloop-bun |")
print("|---|---:|---:|---:|")
c = ns.get(("c", "getpid"))
print(f"| getpid (1 syscall) | {c} | {ns.get(('aioloop-deno', 'ffi getpid'))} | {ns.get(('aioloop-bun', 'ffi getpid'))} |")
print(f"| abs (FFI only, no syscall) | – | {ns.get(('aioloop-deno', 'ffi abs (no syscall)'))} | {ns.get(('aioloop-bun', 'ffi abs (no syscall)'))} |")
PYEOF
