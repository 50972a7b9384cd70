#!/usr/bin/env bash
# The fd ping-pong alone (issue 19 §3), its implementations taking turns within seconds:
# loop_micro's "add_reader ping-pong 100k" row on aioloop (Deno, Bun) and uvloop, and the bare
# FFI loop (bench/pingpong_bare.ts), each a fresh process pinned to one CPU, median of 3
# repetitions after a warm-up. run_loop_micro.sh runs every row of one implementation before
# the next, so on this VM (whose speed drifts by tens of percent within a minute) the rows being
# compared run up to a minute apart; here they run ~2 s apart, and the table gives, besides the
# medians, the median over rounds of each round's own ratio.
#
#   bash bench/run_pingpong.sh [ROUNDS]       (default 11; env CPU=1, PY=/usr/bin/python3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-11}"
CPU="${CPU:-1}"
PY="${PY:-/usr/bin/python3}"
BIN="$PWD/node_modules/.bin"
OUT="bench/.build"
mkdir -p "$OUT"
RES="$OUT/pingpong.jsonl"
: >"$RES"
pin() { taskset -c "$CPU" "$@"; }
ROW="--only=add_reader"

for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r/$ROUNDS" >&2
  {
    pin "$BIN/deno" run -A bench/loop_micro.ts --json --reps=3 "$ROW"
    pin "$BIN/bun" bench/loop_micro.ts --json --reps=3 "$ROW"
    pin "$PY" bench/loop_micro.py uvloop --json --reps=3 "$ROW"
    pin "$BIN/deno" run -A bench/pingpong_bare.ts --json
    pin "$BIN/bun" bench/pingpong_bare.ts --json
  } | sed "s/^{/{\"round\": $r, /" | tee -a "$RES" >&2
done

"$PY" - "$RES" "$ROUNDS" <<'PYEOF'
import json, statistics, sys
by_round = {}
for line in open(sys.argv[1]):
    if line.startswith("{"):
        d = json.loads(line)
        by_round.setdefault(d["round"], {})[d["impl"]] = d["ops"]
impls = ["aioloop-deno", "aioloop-bun", "uvloop", "bare-ffi-deno", "bare-ffi-bun"]
rounds = [v for v in by_round.values() if all(i in v for i in impls)]
med = lambda xs: statistics.median(xs)
print()
print(f"add_reader ping-pong 100k, round trips/s: median of {len(rounds)} rounds, the implementations "
      "in turn within each round, each pinned to one CPU")
print()
print("| | " + " | ".join(impls) + " |")
print("|---|" + "---:|" * len(impls))
print("| median | " + " | ".join(f"{round(med([r[i] for r in rounds])):,}" for i in impls) + " |")
print("| min–max | " + " | ".join(f"{min(r[i] for r in rounds):,}–{max(r[i] for r in rounds):,}" for i in impls) + " |")
print()
print("| ratio | median of the rounds' own ratios | range |")
print("|---|---:|---:|")
for a, b in [("aioloop-deno", "uvloop"), ("aioloop-bun", "uvloop"), ("bare-ffi-deno", "uvloop"),
             ("bare-ffi-bun", "uvloop"), ("aioloop-deno", "bare-ffi-deno"), ("aioloop-bun", "bare-ffi-bun")]:
    xs = [r[a] / r[b] for r in rounds]
    print(f"| {a} / {b} | {med(xs):.2f}x | {min(xs):.2f}–{max(xs):.2f}x |")
PYEOF
