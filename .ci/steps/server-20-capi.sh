#!/usr/bin/env bash
# Autobahn, strict, both roles, through the Windows component model (crates/wspc-capi):
# server role: the C echo server (crates/wspc-capi/examples/c/echo_server.c) linked with
# libwebsocket.so; client role: the Rust example driving the safe component model.
set -euo pipefail
source .ci/autobahn-lib.sh
# Groups 1-10 only: the component, like websocket.dll, negotiates no extension, so the
# permessage-deflate groups (12, 13) do not apply to it.
AB_CASES='1.*,2.*,3.*,4.*,5.*,6.*,7.*,8.*,9.*,10.*'
# .ci/run built the workspace; this also puts libwebsocket.{so,a} in target/release.
cargo build --release -p wspc-capi --lib --examples
mkdir -p target/release/capi
gcc -std=c11 -O2 -Wall -Wextra -Werror -pthread -I crates/wspc-capi/include \
  crates/wspc-capi/examples/c/echo_server.c -L target/release -lwebsocket \
  -Wl,-rpath,"$PWD/target/release" -o target/release/capi/echo_server
ab_server wspc-capi 9303 ./target/release/capi/echo_server 127.0.0.1:9303
