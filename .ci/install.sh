#!/usr/bin/env bash
# Installs the system and language packages CI needs (idempotent; apt, pip and npm only).
set -euo pipefail
need_apt=()
command -v valgrind >/dev/null || need_apt+=(valgrind)
command -v gcc >/dev/null || need_apt+=(gcc)
command -v g++ >/dev/null || need_apt+=(g++)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# Autobahn TestSuite (installs itself into ~/.cache on first use; ~30 s).
source .ci/autobahn-lib.sh
"$AUTOBAHN" install
