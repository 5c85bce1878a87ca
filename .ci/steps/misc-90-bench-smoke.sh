#!/usr/bin/env bash
# Benchmarks are built and run briefly, never timed (issue 8): the criterion benches of
# the workspace compile, and bench/compare.sh runs every workload against every server
# for a fraction of a second, failing only if a server did not echo correctly.
set -euo pipefail
cargo bench --workspace --no-run
command -v taskset >/dev/null || { echo "misc-90: taskset missing (util-linux)"; exit 1; }
STRICT=1 DURATION=1 WARMUP=0.5 ROUNDS=1 MEM_CONNS=100 \
  BENCH_OUT=target/bench-smoke bash bench/compare.sh
