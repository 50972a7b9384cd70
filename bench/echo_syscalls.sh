#!/usr/bin/env bash
# System calls per echoed request (issue 7): the aioloop protocol echo server on the epoll
# selector loop and on the io_uring proactor loop, Deno and Bun, counted with
# `perf stat -e raw_syscalls:sys_enter` over every thread of the server while the C load client
# (10 connections) runs 2 s against it. Prints one markdown table.
#
#   bash bench/echo_syscalls.sh [SIZES...]        (default: 1024 10240 102400)
#   KINDS="protocol buffered" bash bench/echo_syscalls.sh   (servers: protocol, buffered, streams)
#
# Needs perf (linux-perf) with tracepoint access (root, or kernel.perf_event_paranoid <= -1), gcc.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/node_modules/.bin"
BUILD="$PWD/bench/.build"
mkdir -p "$BUILD"
gcc -O2 -o "$BUILD/load_client" bench/echo/load_client.c
read -r -a kinds <<<"${KINDS:-protocol}"
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1024 10240 102400)

# One server, one size: "requests/s syscalls-per-request".
measure() {
  local loop=$1 runtime=$2 size=$3 kind=$4 port out spid pstat result calls requests
  port=$(( 20000 + RANDOM % 20000 ))
  out=$(mktemp)
  if [ "$runtime" = deno ]; then
    AIOLOOP_LOOP=$loop taskset -c 0 "$BIN/deno" run -A bench/echo/aioloop_server.ts "$kind" "$port" >"$out" 2>&1 &
  else
    AIOLOOP_LOOP=$loop taskset -c 0 "$BIN/bun" bench/echo/aioloop_server.ts "$kind" "$port" >"$out" 2>&1 &
  fi
  spid=$!
  for _ in $(seq 100); do grep -q ready "$out" && break; sleep 0.1; done
  # Warm up (JIT, buffers) before counting.
  taskset -c 1 "$BUILD/load_client" 127.0.0.1 "$port" --conns=10 --size="$size" --duration=0.5 --warmup=0 >/dev/null
  pstat=$(mktemp)
  perf stat -e raw_syscalls:sys_enter -p "$spid" -o "$pstat" -- sleep 2.3 &
  local perfpid=$!
  sleep 0.1
  result=$(taskset -c 1 "$BUILD/load_client" 127.0.0.1 "$port" --conns=10 --size="$size" --duration=2 --warmup=0)
  wait "$perfpid"
  kill "$spid"; wait "$spid" 2>/dev/null || true
  calls=$(awk '/raw_syscalls/ { gsub(",", "", $1); print $1 }' "$pstat")
  requests=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["requests"])' "$result")
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("%s %.2f" % (format(round(r["rps"]), ","), int(sys.argv[2]) / int(sys.argv[3])))' \
    "$result" "$calls" "$requests"
  rm -f "$out" "$pstat"
}

echo "| server | size | requests/s | syscalls per request |"
echo "|---|---:|---:|---:|"
for size in "${sizes[@]}"; do
  label="$(( size / 1024 )) KiB"
  for kind in "${kinds[@]}"; do
    for runtime in deno bun; do
      for loop in selector proactor; do
        read -r rps per <<<"$(measure "$loop" "$runtime" "$size" "$kind")"
        name="aioloop-$kind-$runtime"; [ "$loop" = proactor ] && name="$name-uring"
        echo "| $name | $label | $rps | $per |"
      done
    done
  done
done
echo
echo "The server was counted over ~2.3 s, the client ran 2 s of it (about 0.1 s idle at each end,"
echo "so the counts run slightly high). Syscalls counted: every thread of the server process."
