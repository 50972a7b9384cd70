#!/usr/bin/env bash
# The demo: asyncio's event loop examples and a directory watcher (examples/), run on Deno and
# then on Bun. (raw_keys.ts needs a terminal and chat_server.ts clients: run those yourself.)
# Usage: npm run demo            (after npm install)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/node_modules/.bin"
for runtime in deno bun; do
  if [ "$runtime" = deno ]; then run=("$BIN/deno" run -A); else run=("$BIN/bun"); fi
  echo "=== $runtime: hello world with callSoon"
  "${run[@]}" examples/hello_world.ts
  echo "=== $runtime: the date every second with callLater (3 s)"
  AIOLOOP_DEMO_SECONDS=3 "${run[@]}" examples/display_date.ts
  echo "=== $runtime: watch a file descriptor with addReader"
  "${run[@]}" examples/watch_fd.ts
  echo "=== $runtime: watch a directory with inotify through addReader (until it is removed)"
  dir=$(mktemp -d)
  "${run[@]}" examples/watch_directory.ts "$dir" &
  pid=$!
  sleep 1
  echo hello >"$dir/notes.txt"
  mv "$dir/notes.txt" "$dir/renamed.txt"
  rm "$dir/renamed.txt"
  rmdir "$dir"
  wait "$pid"
  echo "=== $runtime: SIGINT/SIGTERM handlers (the demo sends itself SIGTERM after 1 s)"
  "${run[@]}" examples/signals.ts &
  pid=$!
  sleep 1
  kill -TERM "$pid"
  wait "$pid"
done
