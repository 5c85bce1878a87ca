#!/usr/bin/env bash
# Installs the system and language packages CI needs (idempotent; apt, pip and npm only).
set -euo pipefail
need_apt=()
command -v valgrind >/dev/null || need_apt+=(valgrind)
command -v gcc >/dev/null || need_apt+=(gcc)
command -v g++ >/dev/null || need_apt+=(g++)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
# The C library's tests: the header under clang too, the installed library through CMake.
command -v clang >/dev/null || need_apt+=(clang)
command -v cmake >/dev/null || need_apt+=(cmake)
# Headless browser for the console test, Node for it and for the `ws` interop peer.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# Node packages (playwright-core drives chromium; ws is an interop peer), pinned by
# .ci/node/package-lock.json, installed into the git-ignored .ci/node/node_modules.
(cd .ci/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
# Autobahn TestSuite (installs itself into ~/.cache on first use; ~30 s).
source .ci/autobahn-lib.sh
"$AUTOBAHN" install
# Python `websockets` for the interop tests of crates/wspc-tokio and crates/wspc-cli
# (pinned; idempotent).
if ! python3 -c 'import websockets, sys; sys.exit(websockets.__version__ != "15.0.1")' 2>/dev/null; then
  python3 -m pip install -q --disable-pip-version-check websockets==15.0.1
fi
