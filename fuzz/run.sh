#!/usr/bin/env bash
# Runs fuzz targets for a fixed time each, two at a time (one per core), and fails if
# any of them finds a crash, a hang or an invariant violation.
#
#   fuzz/run.sh SECONDS [TARGET...]       (default: every target in fuzz/Cargo.toml)
#
# Each target starts from its committed seeds (fuzz/seeds/TARGET, minimized) plus the
# working corpus (fuzz/corpus/TARGET, git-ignored, kept between runs). A crashing input
# is left in fuzz/artifacts/TARGET/; once fixed, move it to fuzz/regressions/TARGET/,
# which every run replays first (the regression test). Logs and a one-line summary per target (executions, coverage) go to
# $FUZZ_LOGS (default target/fuzz-logs). Needs nightly and cargo-fuzz.
# Knobs: FUZZ_JOBS (default 2), FUZZ_NICE (default 0), FUZZ_BUILD=0 (skip the build).
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^wspc-fuzz$')
fi
jobs=${FUZZ_JOBS:-2}
logs=${FUZZ_LOGS:-../target/fuzz-logs}
mkdir -p "$logs"
if [ "${FUZZ_BUILD:-1}" = 1 ]; then
  cargo +nightly fuzz build -O
fi

run_one() {
  local t=$1 log="$logs/$1.log" rc=0
  mkdir -p "corpus/$t" "seeds/$t" "artifacts/$t"
  # Inputs that once failed (fuzz/regressions/TARGET) are replayed first, with the seeds.
  local extra=()
  [ -d "regressions/$t" ] && extra=("regressions/$t")
  # -timeout: an input that takes over 10 s is a hang; -rss_limit_mb: a leak or a
  # reservation that follows an announced length fails the run.
  nice -n "${FUZZ_NICE:-0}" cargo +nightly fuzz run -O "$t" "corpus/$t" "seeds/$t" "${extra[@]}" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 >"$log" 2>&1 || rc=$?
  local execs cov
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
  if [ $rc -eq 0 ]; then
    echo "fuzz $t: ok, ${execs:-?} executions in ${secs}s, ${cov:-no coverage line}, corpus $(ls "corpus/$t" | wc -l)"
  else
    echo "fuzz $t: FAILED (exit $rc) after ${execs:-?} executions; log $log; artifacts:"
    ls -1 "artifacts/$t" | sed 's/^/  /'
    grep -E 'panicked|ERROR: libFuzzer|SUMMARY' "$log" | head -n 5 | sed 's/^/  /' || true
  fi
  return $rc
}

status=0
pids=()
names=()
for t in "${targets[@]}"; do
  while [ "${#pids[@]}" -ge "$jobs" ]; do
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  done
  run_one "$t" &
  pids+=($!)
  names+=("$t")
done
for p in "${pids[@]}"; do
  wait "$p" || status=1
done
exit $status
