# Helpers for the conformance steps: start a server, wait for its port, always clean up.
# Usage (sourced): ab_server NAME PORT CMD...   runs autobahn's fuzzingclient against CMD
#                  ab_client NAME PORT CMD...   runs autobahn's fuzzingserver for CMD
AUTOBAHN="$WSPC_SHARED/conformance/autobahn"
# The harness fingerprints an install with the Debian mirror it used, but only reads the
# mirror back from AUTOBAHN_DEBIAN_MIRROR: without it every run re-installs (30 s) and wipes
# the install under any run in progress (the two lanes run at once). Pin it to the mirror
# the install recorded.
export AUTOBAHN_HOME="${AUTOBAHN_HOME:-$HOME/.cache/autobahn-testsuite}"
if [ -z "${AUTOBAHN_DEBIAN_MIRROR:-}" ] && [ -f "$AUTOBAHN_HOME/.installed" ]; then
  AUTOBAHN_DEBIAN_MIRROR=$(sed -n 's/^mirror=//p' "$AUTOBAHN_HOME/.installed")
  export AUTOBAHN_DEBIAN_MIRROR
fi
# Groups 1-10 (RFC 6455) by default; AB_ALL adds 12.*/13.* (permessage-deflate).
AB_CASES="${AB_CASES:-1.*,2.*,3.*,4.*,5.*,6.*,7.*,8.*,9.*,10.*}"
AB_ALL="1.*,2.*,3.*,4.*,5.*,6.*,7.*,8.*,9.*,10.*,12.*,13.*"
AB_REPORTS="${AB_REPORTS:-autobahn-reports}"

ab_server() {
  local name=$1 port=$2; shift 2
  "$@" >"/tmp/ab-$name.log" 2>&1 &
  local pid=$!
  trap "kill $pid 2>/dev/null || true" RETURN
  "$AUTOBAHN" server "ws://127.0.0.1:$port" --cases "$AB_CASES" --agent "$name" \
    --out "$AB_REPORTS/server-$name" --wait 30 --timeout 1200
}

# (The harness's own --agent option does not reach the command in client mode — its
# AUTOBAHN_AGENT=... expansion is run as a command — so the agent goes through env.)
ab_client() {
  local name=$1 port=$2; shift 2
  "$AUTOBAHN" client --port "$port" --cases "$AB_CASES" \
    --out "$AB_REPORTS/client-$name" --timeout 1200 -- env AUTOBAHN_AGENT="$name" "$@"
}
