#!/usr/bin/env bash
# Autobahn, strict, client role, for the engine over std::net (crates/wspc/examples).
# Groups 1-10 here; 12/13 (deflate) run with the tokio client, which uses the same engine.
set -euo pipefail
source .ci/autobahn-lib.sh
ab_client wspc-engine 9302 ./target/release/examples/autobahn_client
