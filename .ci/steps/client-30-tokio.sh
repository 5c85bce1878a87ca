#!/usr/bin/env bash
# Autobahn, strict, client role, for the tokio adapter (crates/wspc-tokio): all 517
# cases, including 12.*/13.* (permessage-deflate offered). This is the client that
# runs the deflate groups in CI.
set -euo pipefail
source .ci/autobahn-lib.sh
AB_CASES="$AB_ALL"
ab_client wspc-tokio 9306 ./target/release/examples/tokio_autobahn_client
