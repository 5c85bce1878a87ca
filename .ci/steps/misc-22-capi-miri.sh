#!/usr/bin/env bash
# Miri on the Rust tests of crates/wspc-capi that it can run: tests/ffi.rs (the C ABI
# called from Rust with every structure and out-pointer at an odd address: the unsafe
# code, unaligned accesses, use after free, leaks), tests/component.rs (the component
# model) and tests/model.rs (the model-based property test, few sequences). Not the C
# programs (processes) nor the compression tests (zlib-rs is far too slow to interpret).
# Application pointers travel through the safe component as addresses (exposed
# provenance, deliberately), hence permissive provenance.
set -euo pipefail
rustup component add --toolchain nightly miri rust-src
export MIRIFLAGS=-Zmiri-permissive-provenance
export PROPTEST_CASES=${PROPTEST_CASES:-8}
cargo +nightly miri test -p wspc-capi --test ffi --test component --test model
