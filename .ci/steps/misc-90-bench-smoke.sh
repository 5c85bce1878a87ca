#!/usr/bin/env bash
# Benchmarks are built and run briefly, never timed (issues 8 and 13): the criterion
# benches of the workspace compile, and bench/compare.sh runs every workload against
# every server with both load generators (interleaved, one short round), 200 handshakes
# per server and the idle-memory measurement, failing only if a server did not echo or
# upgrade correctly — never on a timing. About 100 s after the builds.
set -euo pipefail
cargo bench --workspace --no-run
command -v taskset >/dev/null || { echo "misc-90: taskset missing (util-linux)"; exit 1; }
STRICT=1 DURATION=0.4 WARMUP=0.2 ROUNDS=1 HS_COUNT=200 HS_ROUNDS=1 \
  MEM_CONNS=100 MEM_SETTLE=0.5 \
  MEM_SERVERS="wspc-serve wspc-tokio fastwebsockets tokio-tungstenite tokio-websockets" \
  BENCH_OUT=target/bench-smoke bash bench/compare.sh
