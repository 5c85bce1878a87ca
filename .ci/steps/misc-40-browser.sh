#!/usr/bin/env bash
# The wspc console page in headless Chromium (Node + playwright-core + Debian's
# /usr/bin/chromium): load it from `wspc serve`, send, see the echo, close with 4000.
# WSPC_REQUIRE_TOOLS makes a missing node/chromium/playwright-core a failure, not a skip.
set -euo pipefail
WSPC_REQUIRE_TOOLS=1 cargo test -p wspc-cli --test browser -- --nocapture
