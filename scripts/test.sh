#!/usr/bin/env bash
# Runs every test on Deno and on Bun (the runtimes come from node_modules, see package.json).
# Usage: npm test            (after npm install)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/node_modules/.bin"
status=0
# Runs one stage; a failing stage names its exit status, so that a crash (a signal, 128+N) or Bun's
# "unhandled error between tests" (exit 1 with no failed test) is told apart in CI's summary.
stage() {
  local name="$1"
  shift
  echo "== $name"
  local rc=0
  "$@" || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "== $name: exit status $rc"
    status=1
  fi
}
stage "deno test" "$BIN/deno" test -A --no-check --v8-flags=--expose-gc tests/
stage "bun test" "$BIN/bun" test --timeout 60000 ./tests/
# The same suites on the portable poll(2) selector (issue 8): a second real Selector.
stage "deno test (poll selector)" env AIOLOOP_SELECTOR=poll "$BIN/deno" test -A --no-check --v8-flags=--expose-gc tests/
stage "bun test (poll selector)" env AIOLOOP_SELECTOR=poll "$BIN/bun" test --timeout 60000 ./tests/
# The networking, TLS and process suites again on the io_uring ProactorEventLoop (issue 7): the
# same test files, with every loop they create being a proactor loop (pipes and subprocesses run
# on it through POLL_ADD readiness), and the CPython port (tests/cpython/) whole.
NET="tests/loop/tls/start_tls_test.ts tests/loop/net/connections_test.ts tests/loop/selector/selector_socket_test.ts tests/loop/streams/streams_test.ts tests/loop/net/sock_ops_test.ts tests/loop/tls/ssl_test.ts tests/loop/proactor/proactor_test.ts tests/loop/transports/pipes_test.ts tests/loop/process/subprocess_test.ts tests/loop/process/signals_test.ts tests/loop/net/socket_test.ts tests/loop/net/dns_test.ts tests/loop/transports/receive_arena_test.ts tests/loop/leaks_test.ts tests/loop/core/abort_test.ts tests/loop/transports/dispose_test.ts tests/loop/streams/web_streams_test.ts tests/loop/streams/web_stream_protocol_test.ts tests/loop/streams/fd_streams_test.ts tests/loop/net/netlink_test.ts tests/loop/net/multicast_test.ts tests/cpython/"
stage "deno test (io_uring proactor loop)" env AIOLOOP_LOOP=proactor "$BIN/deno" test -A --no-check --v8-flags=--expose-gc $NET
# shellcheck disable=SC2046 # one argument per test path, each made relative for Bun
stage "bun test (io_uring proactor loop)" env AIOLOOP_LOOP=proactor "$BIN/bun" test --timeout 60000 $(printf './%s ' $NET)
exit $status
