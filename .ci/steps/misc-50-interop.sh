#!/usr/bin/env bash
# permessage-deflate interop (issue 7): Python `websockets` and Node `ws` as clients of
# `wspc serve` and as servers for `wspc connect`, asserting compression was negotiated.
# WSPC_REQUIRE_TOOLS makes a missing python package or node module a failure.
set -euo pipefail
WSPC_REQUIRE_TOOLS=1 cargo test -p wspc-cli --test interop -- --nocapture
