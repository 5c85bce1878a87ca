#!/usr/bin/env bash
# Autobahn, strict, server role, all 517 cases (including 12.*/13.*, permessage-deflate)
# through the C echo server on libwebsocket.so with the wspc extension property
# WSPC_PERMESSAGE_DEFLATE_PROPERTY_TYPE set (`--deflate`). server-20-capi.sh runs the same
# server without it (exactly Windows' behaviour, groups 1-10).
set -euo pipefail
source .ci/autobahn-lib.sh
AB_CASES="$AB_ALL"
# server-20-capi.sh built target/release/capi/echo_server (same lane, runs first); build it
# again if this step runs alone.
if [ ! -x target/release/capi/echo_server ]; then
  cargo build --release -p wspc-capi --lib
  mkdir -p target/release/capi
  gcc -std=c11 -O2 -Wall -Wextra -Werror -pthread -I crates/wspc-capi/include \
    crates/wspc-capi/examples/c/echo_server.c -L target/release -lwebsocket \
    -Wl,-rpath,"$PWD/target/release" -o target/release/capi/echo_server
fi
ab_server wspc-capi-deflate 9308 ./target/release/capi/echo_server 127.0.0.1:9308 --deflate
