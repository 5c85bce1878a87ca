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
# Real proxies for wspc-tokio's and wspc-cli's proxy tests (configured and started by
# the tests on loopback): tinyproxy and squid (HTTP CONNECT; squid answers wrong
# credentials with 407, tinyproxy with 401), dante (SOCKS5). The daemons are not started
# here; the SOCKS5 username test creates the system user wspc-proxy-test itself.
command -v tinyproxy >/dev/null || need_apt+=(tinyproxy)
[ -x /usr/sbin/squid ] || need_apt+=(squid)
[ -x /usr/sbin/danted ] || need_apt+=(dante-server)
# Redis for the `wspc serve --broker` tests (crates/wspc-cli/tests/scale.rs) and the
# fan-out smoke step; the tests start their own redis-server on a free loopback port.
command -v redis-server >/dev/null || need_apt+=(redis-server)
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
