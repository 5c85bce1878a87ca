#!/usr/bin/env bash
# wspc side by side with the WebSocket crates people pick today (issue 8).
#
#   bench/compare.sh               throughput (all workloads, ROUNDS rounds) + idle memory
#   bench/compare.sh --callgrind   instructions per echoed message under callgrind
#   bench/compare.sh --all         all three
#   bench/compare.sh --only throughput|memory|callgrind[,...]
#
# Builds everything in release (the wspc workspace's `wspc` CLI and the separate
# bench/compare package with the peer servers), pins every server to core 0 and the load
# generator (`wspc bench`) to core 1, and prints a markdown report that is also written
# to target/bench/compare.md (raw results: target/bench/compare-raw.jsonl).
#
# Knobs (environment):
#   DURATION=5 WARMUP=1      seconds per measurement and of warm-up before it
#   ROUNDS=3                 alternating rounds (every server once per workload per round)
#   WORKLOADS="c100-p1-s20 c10-p1-s1024 c100-p1-s16384 c100-p16-s20 c1-p1-s16777216"
#   SERVERS="wspc-serve wspc-tokio wspc-tokio-feed fastwebsockets tokio-tungstenite tokio-websockets"
#   MEM_CONNS=1000           idle connections for the memory measurement
#   MEM_SETTLE=2             seconds idle before measuring (deflate compressors park at 1 s)
#   CG_COUNT=10000           echoes per callgrind run (runs with CG_COUNT and 2×CG_COUNT)
#   CG_WORKLOADS="c10-p1-s20 c10-p1-s16384"
#   SERVER_CPU=0 CLIENT_CPU=1
#   BUILD=0                  skip the release builds (use what target/ holds)
#   BENCH_OUT=target/bench   where the report and raw results go
# A smoke run (about two minutes, build excluded; what CI runs, .ci/steps/misc-90-bench-smoke.sh):
#   DURATION=1 WARMUP=0.5 ROUNDS=1 MEM_CONNS=100 bench/compare.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
ROUNDS=${ROUNDS:-3}
WORKLOADS=${WORKLOADS:-"c100-p1-s20 c10-p1-s1024 c100-p1-s16384 c100-p16-s20 c1-p1-s16777216"}
SERVERS=${SERVERS:-"wspc-serve wspc-tokio wspc-tokio-feed fastwebsockets tokio-tungstenite tokio-websockets"}
MEM_CONNS=${MEM_CONNS:-1000}
MEM_SETTLE=${MEM_SETTLE:-2}
CG_COUNT=${CG_COUNT:-10000}
CG_WORKLOADS=${CG_WORKLOADS:-"c10-p1-s20 c10-p1-s16384"}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

sections="throughput,memory"
while [ $# -gt 0 ]; do
  case "$1" in
    --callgrind) sections="callgrind" ;;
    --all) sections="throughput,memory,callgrind" ;;
    --only) shift; sections="$1" ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
has() { [[ ",$sections," == *",$1,"* ]]; }

OUT="${BENCH_OUT:-$ROOT/target/bench}"
mkdir -p "$OUT"
RAW="$OUT/compare-raw.jsonl"
: >"$RAW"
export CARGO_TERM_COLOR=never

if [ "${BUILD:-1}" != 0 ]; then
  echo "compare.sh: building (release) ..." >&2
  cargo build --release -q -p wspc-cli --bin wspc
  CARGO_TARGET_DIR="$ROOT/target/compare" \
    cargo build --release -q --manifest-path bench/compare/Cargo.toml
fi
WSPC="$ROOT/target/release/wspc"
CMP="$ROOT/target/compare/release"
if [[ " $SERVERS " == *" wspc-serve "* ]] && ! "$WSPC" serve --help >/dev/null 2>&1; then
  echo "compare.sh: this wspc has no serve command; leaving wspc-serve out" >&2
  SERVERS=$(echo " $SERVERS " | sed 's/ wspc-serve / /; s/^ *//; s/ *$//')
fi

# The command line of each server; $1 is the listen address, $2 "deflate" to enable
# permessage-deflate where the server supports it (only the wspc ones do here).
server_cmd() {
  local name=$1 addr=$2 deflate=${3:-}
  case "$name" in
    raw) echo "$CMP/echo-raw $addr" ;;
    wspc-serve)
      if [ "$deflate" = deflate ]; then echo "$WSPC serve --listen $addr"
      else echo "$WSPC serve --listen $addr --no-deflate"; fi ;;
    wspc-tokio)
      if [ "$deflate" = deflate ]; then echo "$CMP/echo-wspc-tokio $addr --deflate"
      else echo "$CMP/echo-wspc-tokio $addr"; fi ;;
    wspc-tokio-feed) echo "$CMP/echo-wspc-tokio $addr --feed" ;;
    fastwebsockets) echo "$CMP/echo-fastwebsockets $addr" ;;
    tokio-tungstenite) echo "$CMP/echo-tungstenite $addr" ;;
    tokio-websockets) echo "$CMP/echo-tokio-websockets $addr" ;;
    *) echo "compare.sh: unknown server $name" >&2; return 1 ;;
  esac
}

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT

wait_port() {
  local port=$1 i
  for i in $(seq 1 400); do
    if port_busy "$port"; then return 0; fi
    sleep 0.05
  done
  echo "compare.sh: nothing listens on $port" >&2
  return 1
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The next port after $1 on which nothing listens yet (other programs on this machine
# may hold some).
next_port() {
  local p=$(( $1 + 1 ))
  while port_busy "$p"; do p=$((p + 1)); done
  echo "$p"
}

# start_server NAME PORT [deflate] [wrapper...]  -> sets SPID
start_server() {
  local name=$1 port=$2 deflate=${3:-}
  shift 3 || shift $#
  if port_busy "$port"; then
    echo "compare.sh: port $port is already in use" >&2
    return 1
  fi
  local cmd
  cmd=$(server_cmd "$name" "127.0.0.1:$port" "$deflate")
  # shellcheck disable=SC2086
  taskset -c "$SERVER_CPU" "$@" $cmd >/dev/null 2>>"$OUT/servers.log" &
  SPID=$!
  PIDS+=("$SPID")
  wait_port "$port"
}

stop_server() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

parse_workload() { # cN-pN-sN -> C P S
  local w=$1
  C=${w#c}; C=${C%%-*}
  P=${w#*-p}; P=${P%%-*}
  S=${w##*-s}
}

run_bench() { # server port workload [extra args...] -> JSON on stdout
  local server=$1 port=$2 w=$3
  shift 3
  # Under callgrind a server runs ~50× slower: allow BENCH_TIMEOUT seconds then.
  local limit=${BENCH_TIMEOUT:-}
  parse_workload "$w"
  local url="ws://127.0.0.1:$port/" mode=()
  if [ "$server" = raw ]; then url="127.0.0.1:$port"; mode=(--raw); fi
  [ -n "$limit" ] || limit=$(python3 -c "print(int($DURATION + $WARMUP + 60))")
  taskset -c "$CLIENT_CPU" timeout "$limit" "$WSPC" bench "$url" -c "$C" -p "$P" -s "$S" \
    "${mode[@]}" "$@" --json 2>>"$OUT/bench.log" || echo '{"error": "bench failed"}'
}

start=$(date +%s)
{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "cpu=$(lscpu | sed -n 's/^Model name: *//p')"
  echo "kernel=$(uname -r)"
  echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "settings=$DURATION s per measurement after $WARMUP s of warm-up, $ROUNDS rounds"
} >"$OUT/compare-meta.txt"

if has throughput; then
  # Every server listens for the whole run on its own port; only the measured one is busy.
  port=23300
  declare -A PORT
  for s in raw $SERVERS; do
    port=$(next_port "$port")
    PORT[$s]=$port
    start_server "$s" "$port" "" || PORT[$s]=1 # its runs then fail and are reported
  done
  all=(raw $SERVERS)
  for r in $(seq 1 "$ROUNDS"); do
    # Rotate the order every round so that no server is always first or last.
    k=$(( (r - 1) % ${#all[@]} ))
    order=("${all[@]:$k}" "${all[@]:0:$k}")
    for w in $WORKLOADS; do
      for s in "${order[@]}"; do
        echo "compare.sh: round $r/$ROUNDS $w $s" >&2
        res=$(run_bench "$s" "${PORT[$s]}" "$w" --duration "$DURATION" --warmup "$WARMUP" | tail -n 1)
        [ -n "$res" ] || res='{"error": "no output"}'
        echo "{\"section\":\"throughput\",\"round\":$r,\"workload\":\"$w\",\"server\":\"$s\",\"result\":$res}" >>"$RAW"
      done
    done
  done
  cleanup
  PIDS=()
  sleep 0.5
fi

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

if has memory; then
  port=23400
  for s in $SERVERS; do
    [ "$s" = wspc-tokio-feed ] && continue # same memory as wspc-tokio
    modes="plain plain+echo"
    case "$s" in wspc-serve|wspc-tokio) modes="$modes deflate deflate+echo deflate-nct+echo" ;; esac
    for m in $modes; do
      port=$(next_port "$port")
      deflate=""
      args=()
      case "$m" in
        deflate-nct*) deflate=deflate; args+=(--deflate-nct) ;;
        deflate*) deflate=deflate; args+=(--deflate) ;;
      esac
      case "$m" in *+echo) args+=(--echo) ;; esac
      echo "compare.sh: memory $s $m" >&2
      start_server "$s" "$port" "$deflate" || continue
      sleep 0.3
      before=$(rss_kib "$SPID")
      coproc IC { taskset -c "$CLIENT_CPU" "$CMP/idle-clients" "127.0.0.1:$port" "$MEM_CONNS" "${args[@]}" 2>>"$OUT/bench.log"; }
      ready=""
      read -r -t 120 ready <&"${IC[0]}" || true
      # Past the 1 s after which an idle deflate compressor is parked.
      sleep "$MEM_SETTLE"
      after=$(rss_kib "$SPID")
      eval "exec ${IC[1]}>&-"
      wait "$IC_PID" 2>/dev/null || true
      stop_server "$SPID"
      echo "{\"section\":\"memory\",\"server\":\"$s\",\"mode\":\"$m\",\"conns\":$MEM_CONNS,\"ready\":\"$ready\",\"rss_before_kib\":${before:-0},\"rss_after_kib\":${after:-0}}" >>"$RAW"
    done
  done
fi

if has callgrind; then
  command -v valgrind >/dev/null || { echo "compare.sh: valgrind not installed" >&2; exit 1; }
  port=23500
  for w in $CG_WORKLOADS; do
    for s in raw $SERVERS; do
      for mult in 1 2; do
        port=$(next_port "$port")
        n=$((CG_COUNT * mult))
        f="$OUT/callgrind.$s.$w.$mult.out"
        rm -f "$f"
        echo "compare.sh: callgrind $s $w count=$n" >&2
        start_server "$s" "$port" "" valgrind --tool=callgrind --callgrind-out-file="$f" || continue
        res=$(BENCH_TIMEOUT=1200 run_bench "$s" "$port" "$w" --count "$n" | tail -n 1)
        stop_server "$SPID"
        ir=$(sed -n 's/^summary: *//p' "$f" 2>/dev/null | head -n 1)
        echo "{\"section\":\"callgrind\",\"server\":\"$s\",\"workload\":\"$w\",\"count\":$n,\"ir\":${ir:-0},\"result\":${res:-null}}" >>"$RAW"
      done
    done
  done
fi

echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/compare-meta.txt"
echo "elapsed_s=$(( $(date +%s) - start ))" >>"$OUT/compare-meta.txt"
python3 "$ROOT/bench/report.py" "$RAW" "$OUT/compare-meta.txt" | tee "$OUT/compare.md"
