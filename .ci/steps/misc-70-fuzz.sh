#!/usr/bin/env bash
# Fuzzing (issue 16): every cargo-fuzz target in fuzz/ for 60 s, two at a time (one per
# core), from the committed seeds. A crash, a hang or a broken invariant fails CI; the
# input is left in fuzz/artifacts/TARGET/ (printed below): add it to fuzz/seeds/TARGET
# and to a regression test. ~7 min on the 2-core CI machine, build included.
set -euo pipefail
command -v rustup >/dev/null || { echo "misc-70: rustup missing"; exit 1; }
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
FUZZ_LOGS="$PWD/target/fuzz-logs" bash fuzz/run.sh "${FUZZ_SECONDS:-60}"
