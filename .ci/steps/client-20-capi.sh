#!/usr/bin/env bash
# Autobahn, strict, both roles, through the Windows component model (crates/wspc-capi):
# server role: the C echo server (crates/wspc-capi/examples/c/echo_server.c) linked with
# libwebsocket.so; client role: the Rust example driving the safe component model.
set -euo pipefail
source .ci/autobahn-lib.sh
# Groups 1-10 only: the component, like websocket.dll, negotiates no extension, so the
# permessage-deflate groups (12, 13) do not apply to it.
AB_CASES='1.*,2.*,3.*,4.*,5.*,6.*,7.*,8.*,9.*,10.*'
ab_client wspc-capi 9304 ./target/release/examples/component_autobahn_client
