#!/usr/bin/env bash
# Autobahn, strict, server role, for the tokio adapter (crates/wspc-tokio): its echo
# server example, permessage-deflate accepted. Groups 1-10 here; 12/13 (deflate) run
# against `wspc serve` (same adapter and engine) in another step.
set -euo pipefail
source .ci/autobahn-lib.sh
ab_server wspc-tokio 9305 ./target/release/examples/tokio_echo_server 127.0.0.1:9305
