#!/usr/bin/env bash
# wspc-tokio builds without its built-in crypto provider (feature `ring` off): an
# application that installs its own rustls CryptoProvider does not have to carry ring
# (without any provider the client returns Error::TlsConfig, never panics; unit-tested
# in src/tls/mod.rs). A check, not a build: ~15-30 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo check -p wspc-tokio --no-default-features
