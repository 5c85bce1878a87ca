#!/usr/bin/env bash
# Miri (issue 16) on the engine's tests that exercise its state machine and codecs at
# small sizes: the unit tests of the frame codec, masking, UTF-8, close codes, the
# extension header parser, the buffer budget and the RFC 7692 examples (zlib-rs), plus the
# integration tests of the close handshake (connection state machine, both roles). The
# engine forbids `unsafe`, so this checks its dependencies' unsafe code (bytes, simdutf8,
# zlib-rs) as the engine drives it. About 3 min on the CI machine, most of it building the
# Miri sysroot and the engine's dependencies; the tests themselves take ~20 s (measured
# 16 s + 3 s under load; `--test rules`, 22 s more, is left out for the budget).
set -euo pipefail
cargo +nightly miri --version >/dev/null 2>&1 || rustup component add --toolchain nightly miri rust-src
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-strict-provenance}"
# Exhaustive loops (every 2-byte string, every close code) would take Miri tens of
# minutes; they run natively in `cargo test`.
cargo +nightly miri test -p wspc --lib -- \
  frame:: mask:: utf8:: close:: extension:: budget:: rfc7692 \
  --skip every_two_byte_string --skip sendable_codes_follow --skip windows_names
cargo +nightly miri test -p wspc --test close
