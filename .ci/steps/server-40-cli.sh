#!/usr/bin/env bash
# Autobahn, strict, server role, all 517 cases (including 12.*/13.*, permessage-deflate),
# against the command-line server exactly as a user starts it: `wspc serve`.
set -euo pipefail
source .ci/autobahn-lib.sh
AB_CASES="$AB_ALL"
ab_server wspc-cli 9307 ./target/release/wspc serve --listen 127.0.0.1:9307
