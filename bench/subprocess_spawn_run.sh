#!/usr/bin/env bash
# Subprocess spawn-to-exit rate (issue 5), every implementation in one run: aioloop on Deno and
# on Bun, Deno.Command, Bun.spawn, asyncio and uvloop (Debian's /usr/bin/python3 +
# python3-uvloop). ROUNDS interleaved rounds (the VM drifts), each running every implementation
# once with --reps=1; the table shows each row's median over the rounds. Not pinned: the
# children need a CPU of their own.
#
#   bash bench/subprocess_spawn_run.sh [ROUNDS]     (default 5; env N=200 children per rep,
#                                                    PY=/usr/bin/python3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-5}"
N="${N:-200}"
PY="${PY:-/usr/bin/python3}"
BIN="$PWD/node_modules/.bin"
OUT="bench/.build"
mkdir -p "$OUT"
RES="$OUT/subprocess_spawn.jsonl"
: >"$RES"
HAVE_UVLOOP=$("$PY" -c 'import uvloop' 2>/dev/null && echo 1 || echo 0)

echo "== machine: $(nproc) CPUs, $(uname -r), N=$N, rounds=$ROUNDS" >&2
echo "   deno $("$BIN/deno" --version | head -1 | cut -d' ' -f2), bun $("$BIN/bun" --version)," \
  "$("$PY" --version)" >&2
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r/$ROUNDS" >&2
  "$BIN/deno" run -A bench/subprocess_spawn.ts --json --reps=1 --n="$N" | tee -a "$RES" >&2
  "$BIN/bun" bench/subprocess_spawn.ts --json --reps=1 --n="$N" | tee -a "$RES" >&2
  "$BIN/deno" run -A bench/subprocess_spawn_deno_command.ts --json --reps=1 --n="$N" | tee -a "$RES" >&2
  "$BIN/bun" bench/subprocess_spawn_bun_spawn.ts --json --reps=1 --n="$N" | tee -a "$RES" >&2
  "$PY" bench/subprocess_spawn.py asyncio --json --reps=1 --n="$N" | tee -a "$RES" >&2
  if [ "$HAVE_UVLOOP" = 1 ]; then
    "$PY" bench/subprocess_spawn.py uvloop --json --reps=1 --n="$N" | tee -a "$RES" >&2
  fi
done

"$PY" - "$RES" "$ROUNDS" "$N" <<'PYEOF'
import json, statistics, sys
rows, ops = [], {}
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    d = json.loads(line)
    if d["row"] not in rows:
        rows.append(d["row"])
    ops.setdefault((d["impl"], d["row"]), []).append(d["ops"])
ops = {k: round(statistics.median(v)) for k, v in ops.items()}
impls = [i for i in ["aioloop-deno", "aioloop-bun", "Deno.Command", "Bun.spawn", "asyncio", "uvloop"]
         if any(k[0] == i for k in ops)]
print()
print(f"Subprocess spawn-to-exit, /bin/true x {sys.argv[3]} in a row, children/s, "
      f"median of {sys.argv[2]} rounds")
print()
print("| row | " + " | ".join(impls) + " |")
print("|---|" + "---:|" * len(impls))
for r in rows:
    print(f"| {r} | " + " | ".join(f"{ops.get((i, r), 0):,}" for i in impls) + " |")
PYEOF
