#!/usr/bin/env bash
# Autobahn, strict, server role, all 517 cases (including 12.*/13.*, permessage-deflate),
# against the axum application on wspc-axum (crates/wspc-axum/examples/axum_echo_server.rs)
# under axum::serve — the extractor path an axum user runs.
set -euo pipefail
source .ci/autobahn-lib.sh
AB_CASES="$AB_ALL"
ab_server wspc-axum 9309 ./target/release/examples/axum_echo_server 127.0.0.1:9309
