#!/usr/bin/env bash
# Autobahn, strict, server role, for the engine over std::net (crates/wspc/examples).
# Groups 1-10 here; 12/13 (deflate) run against `wspc serve`, which uses the same engine.
set -euo pipefail
source .ci/autobahn-lib.sh
ab_server wspc-engine 9301 ./target/release/examples/echo_server 127.0.0.1:9301
