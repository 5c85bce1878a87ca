#!/usr/bin/env bash
# Miri (issue 16) on the engine's tests that exercise its state machine and codecs at
# small sizes: the unit tests of the frame codec, masking, UTF-8, close codes, the
# extension header parser, the buffer budget and permessage-deflate's codec, plus the
# integration tests of the protocol rules, the close handshake and hostile input. The
# engine forbids `unsafe`, so this checks its dependencies' unsafe code (bytes, simdutf8,
# zlib-rs) as the engine drives it. ~3 min on the CI machine.
set -euo pipefail
cargo +nightly miri --version >/dev/null 2>&1 || rustup component add --toolchain nightly miri rust-src
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-strict-provenance}"
# Exhaustive loops (every 2-byte string, every close code) would take Miri tens of
# minutes; they run natively in `cargo test`.
cargo +nightly miri test -p wspc --lib -- \
  frame:: mask:: utf8:: close:: extension:: budget:: \
  --skip every_two_byte_string --skip sendable_codes_follow --skip windows_names
cargo +nightly miri test -p wspc --test close --test rules
