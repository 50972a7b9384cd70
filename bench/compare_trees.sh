#!/usr/bin/env bash
# Before/after: the loop micro-benchmark and the echo benchmark of another checkout of aioloop
# (OLD, e.g. `git worktree add /tmp/old <rev>`) against this one, runs of the two trees taken in
# turn so that the VM's drift hits both alike; medians per row, and after/before ratios.
#
#   bash bench/compare_trees.sh OLD [ROUNDS]     (default 9 rounds; env CPU=1 pins the micro runs,
#                                                 ECHO_ROUNDS=3 for the echo part, 0 skips it)
#
# Each tree runs its own bench/loop_micro.ts and bench/echo.ts with this tree's Deno and Bun
# (node_modules/.bin). Rows only one tree has are shown with a dash.
set -euo pipefail
cd "$(dirname "$0")/.."
NEW="$PWD"
OLD="$(cd "${1:?usage: bash bench/compare_trees.sh OLD_TREE [ROUNDS]}" && pwd)"
ROUNDS="${2:-9}"
ECHO_ROUNDS="${ECHO_ROUNDS:-3}"
CPU="${CPU:-1}"
BIN="$NEW/node_modules/.bin"
OUT="$NEW/bench/.build"
mkdir -p "$OUT"
MICRO="$OUT/compare_micro.jsonl"
ECHO="$OUT/compare_echo.jsonl"
: >"$MICRO"
: >"$ECHO"
[[ -e "$OLD/node_modules" ]] || ln -s "$NEW/node_modules" "$OLD/node_modules"

# Tag each JSON line with the tree it came from.
tag() { sed "s/^{/{\"tree\":\"$1\",/"; }
# The checkout of tree "old" or "new".
dir_of() { if [[ $1 == old ]]; then echo "$OLD"; else echo "$NEW"; fi; }

for r in $(seq 1 "$ROUNDS"); do
  echo "== micro round $r/$ROUNDS" >&2
  for tree in old new; do
    dir=$(dir_of $tree)
    (cd "$dir" && taskset -c "$CPU" "$BIN/deno" run -A bench/loop_micro.ts --json --reps=1 | tag $tree >>"$MICRO")
    (cd "$dir" && taskset -c "$CPU" "$BIN/bun" bench/loop_micro.ts --json --reps=1 | tag $tree >>"$MICRO")
  done
done
for r in $(seq 1 "$ECHO_ROUNDS"); do
  echo "== echo round $r/$ECHO_ROUNDS" >&2
  for tree in old new; do
    dir=$(dir_of $tree)
    (cd "$dir" && "$BIN/deno" run -A bench/echo.ts --runs=1 --sizes=1024,102400 \
      --only=c,aioloop-protocol-deno,aioloop-protocol-bun,aioloop-streams-deno,aioloop-streams-bun >/dev/null &&
      tag $tree <bench/.build/echo_results.jsonl >>"$ECHO")
  done
done

python3 - "$MICRO" "$ECHO" <<'PYEOF'
import json, statistics, sys

def lines(path):
    for line in open(path):
        if line.startswith("{"):
            yield json.loads(line)

def fmt(x):
    return f"{x:,.0f}" if x is not None else "–"

def ratio(a, b):
    return f"{b / a:.2f}" if a and b else "–"

ops, rows = {}, []
for d in lines(sys.argv[1]):
    if "ops" not in d:
        continue
    if d["row"] not in rows:
        rows.append(d["row"])
    ops.setdefault((d["tree"], d["impl"], d["row"]), []).append(d["ops"])
med = {k: statistics.median(v) for k, v in ops.items()}
print("\nLoop micro-benchmark, ops/s, medians over the rounds\n")
print("| row | deno before | deno after | after/before | bun before | bun after | after/before |")
print("|---|---:|---:|---:|---:|---:|---:|")
for row in rows:
    cells = []
    for impl in ("aioloop-deno", "aioloop-bun"):
        a, b = med.get(("old", impl, row)), med.get(("new", impl, row))
        cells += [fmt(a), fmt(b), ratio(a, b)]
    print(f"| {row} | " + " | ".join(cells) + " |")

runs, keys = {}, []
for d in lines(sys.argv[2]):
    key = (d["server"], d["size"])
    if key not in keys:
        keys.append(key)
    runs.setdefault((d["tree"],) + key, []).append(d)
if keys:
    print("\nEcho, requests/s and server CPU µs per request, medians over the rounds\n")
    print("| server | size | req/s before | req/s after | after/before | CPU before | CPU after |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for key in keys:
        a, b = runs.get(("old",) + key, []), runs.get(("new",) + key, [])
        if not a or not b:
            continue
        ra, rb = (statistics.median(x["rps"] for x in v) for v in (a, b))
        ca, cb = (statistics.median(x.get("cpu_us") or 0 for x in v) for v in (a, b))
        print(f"| {key[0]} | {key[1]} | {fmt(ra)} | {fmt(rb)} | {ratio(ra, rb)} | {ca:.1f} | {cb:.1f} |")
PYEOF
