#!/usr/bin/env bash
# Autobahn, strict, both roles, for the engine over std::net (crates/wspc/examples).
set -euo pipefail
source .ci/autobahn-lib.sh
ab_server wspc-engine 9301 ./target/release/examples/echo_server 127.0.0.1:9301
ab_client wspc-engine 9302 ./target/release/examples/autobahn_client
