#!/usr/bin/env bash
# wspc side by side with the WebSocket crates people pick today (issues 8 and 13).
#
#   bench/compare.sh                 interleaved throughput, handshakes/s, idle memory (~30 min)
#   bench/compare.sh --interleaved   the throughput table only (~20 min)
#   bench/compare.sh --sequential    the issue-8 layout: 5 s cells, 3 rounds (~10 min per generator)
#   bench/compare.sh --callgrind     instructions per echoed message and per handshake (~20 min)
#   bench/compare.sh --all           all of the above
#   bench/compare.sh --only interleaved|sequential|handshakes|memory|callgrind[,...]
#
# The servers are listed in bench/servers.tsv (adding one is one line there). Every server
# runs pinned to core SERVER_CPU, every load generator to core CLIENT_CPU (taskset). The
# report (markdown) goes to stdout and to $BENCH_OUT/compare.md, the raw results (JSON
# lines) to $BENCH_OUT/compare-raw.jsonl.
#
# Throughput, interleaved: every server listens for the whole run; for each workload, each
# round visits every server in turn (the order rotates per round) and measures it with
# every load generator, DURATION s after WARMUP s; ratios are taken inside each round and
# the report gives their median (and min-max) over the rounds. Sequential: the issue-8
# layout, every workload inside each round, longer cells. Both report, per cell, the busy
# share of the server process, of the generator process, and of both cores (/proc).
#
# Load generators (GENERATORS): `loadgen` (bench/compare/src/bin/loadgen: mio/epoll, one
# thread, shares no code with wspc) and `wspc-bench` (`wspc bench`, tokio); each cell runs
# both, so the report cross-checks one against the other.
#
# Knobs (environment):
#   DURATION WARMUP ROUNDS   per cell and rounds (interleaved: 2, 0.5, 6; sequential: 5, 1, 3)
#   WORKLOADS="c100-p1-s20 c10-p1-s1024 c100-p1-s16384 c100-p16-s20 c1-p1-s16777216"
#   SERVERS="..."            default: every wspc and peer line of bench/servers.tsv
#   GENERATORS="loadgen wspc-bench"
#   HS_COUNT=9900 HS_CONCURRENCY=256 HS_ROUNDS=3   handshakes per cell, at once, rounds
#   MEM_CONNS=1000 MEM_SETTLE=2                    idle connections; seconds idle before reading RSS
#   MEM_SERVERS="..."        servers of the memory section (default: SERVERS)
#   CG_COUNT=10000 CG_HS_COUNT=500                 echoes / handshakes per callgrind run (and 2x)
#   CG_WORKLOADS="c10-p1-s20 c10-p1-s16384 handshake" CG_GEN=loadgen
#   SERVER_CPU=0 CLIENT_CPU=1
#   RT_PRIO=                 e.g. 10: run servers and generators SCHED_FIFO at that priority
#                            (chrt; throughput and handshakes only). On a machine shared with
#                            other work a woken server or generator otherwise waits for a
#                            time slice, and the cells measure the scheduler. Linux caps
#                            real-time tasks at 95 % of each core (sched_rt_runtime_us).
#   PORT_BASE=23300 PORT_SPAN=100                  loopback ports used: PORT_BASE..+SPAN-1
#   BUILD=0                  skip the release builds (use what target/ holds)
#   BENCH_OUT=target/bench   where the report and raw results go
# A smoke run (what CI runs, .ci/steps/misc-90-bench-smoke.sh; about two minutes):
#   DURATION=0.4 WARMUP=0.2 ROUNDS=1 HS_COUNT=200 HS_ROUNDS=1 MEM_CONNS=100 MEM_SETTLE=0.5 \
#     MEM_SERVERS="wspc-serve wspc-tokio fastwebsockets tokio-tungstenite tokio-websockets" bench/compare.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

sections="interleaved,handshakes,memory"
while [ $# -gt 0 ]; do
  case "$1" in
    --interleaved) sections="interleaved" ;;
    --sequential) sections="sequential" ;;
    --handshakes) sections="handshakes" ;;
    --callgrind) sections="callgrind" ;;
    --all) sections="interleaved,sequential,handshakes,memory,callgrind" ;;
    --only) shift; sections="${1//throughput/interleaved}" ;;
    -h|--help) sed -n '2,45p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
has() { [[ ",$sections," == *",$1,"* ]]; }

WORKLOADS=${WORKLOADS:-"c100-p1-s20 c10-p1-s1024 c100-p1-s16384 c100-p16-s20 c1-p1-s16777216"}
GENERATORS=${GENERATORS:-"loadgen wspc-bench"}
HS_COUNT=${HS_COUNT:-9900}
HS_CONCURRENCY=${HS_CONCURRENCY:-256}
HS_ROUNDS=${HS_ROUNDS:-3}
MEM_CONNS=${MEM_CONNS:-1000}
MEM_SETTLE=${MEM_SETTLE:-2}
CG_COUNT=${CG_COUNT:-10000}
CG_HS_COUNT=${CG_HS_COUNT:-500}
CG_WORKLOADS=${CG_WORKLOADS:-"c10-p1-s20 c10-p1-s16384 handshake"}
CG_GEN=${CG_GEN:-loadgen}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PORT_BASE=${PORT_BASE:-23300}
PORT_SPAN=${PORT_SPAN:-100}
RT_PRIO=${RT_PRIO:-}
# What runs a measured process: pinned, and real-time if asked (not under callgrind).
RT=()
[ -n "$RT_PRIO" ] && RT=(chrt -f "$RT_PRIO")

# The server registry.
declare -A ROLE LABEL CMD DCMD
REGISTRY=()
while IFS=$'\t' read -r name role label cmd dcmd; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  ROLE[$name]=$role LABEL[$name]=$label CMD[$name]=$cmd DCMD[$name]=$dcmd
  REGISTRY+=("$name")
done <"$ROOT/bench/servers.tsv"
default_servers=()
for s in "${REGISTRY[@]}"; do [ "${ROLE[$s]}" = raw ] || default_servers+=("$s"); done
SERVERS=${SERVERS:-"${default_servers[*]}"}
RAW=()
for s in "${REGISTRY[@]}"; do [ "${ROLE[$s]}" = raw ] && RAW+=("$s"); done
for s in $SERVERS; do
  [ -n "${ROLE[$s]:-}" ] || { echo "compare.sh: $s is not in bench/servers.tsv" >&2; exit 2; }
done

OUT="${BENCH_OUT:-$ROOT/target/bench}"
mkdir -p "$OUT"
RAWF="$OUT/compare-raw.jsonl"
: >"$RAWF"
: >"$OUT/servers.log"
: >"$OUT/bench.log"
export CARGO_TERM_COLOR=never

if [ "${BUILD:-1}" != 0 ]; then
  echo "compare.sh: building (release) ..." >&2
  cargo build --release -q -p wspc-cli --bin wspc
  CARGO_TARGET_DIR="$ROOT/target/compare" \
    cargo build --release -q --manifest-path bench/compare/Cargo.toml
fi
WSPC="$ROOT/target/release/wspc"
CMP="$ROOT/target/compare/release"

# The command line of server $1 listening on $2; $3 = deflate for its deflate variant.
server_cmd() {
  local c=${CMD[$1]}
  [ "${3:-}" = deflate ] && c=${DCMD[$1]}
  c=${c//\$ADDR/$2}
  c=${c//\$WSPC/$WSPC}
  c=${c//\$CMP/$CMP}
  echo "$c"
}

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local i
  for i in $(seq 1 600); do
    if port_busy "$1"; then return 0; fi
    sleep 0.05
  done
  echo "compare.sh: nothing listens on $1" >&2
  return 1
}

# The next free port of PORT_BASE..PORT_BASE+PORT_SPAN-1, in turn (a stopped server's
# port comes round again only after the others).
NEXT_PORT=0
alloc_port() {
  local i p
  for i in $(seq 1 "$PORT_SPAN"); do
    p=$(( PORT_BASE + NEXT_PORT ))
    NEXT_PORT=$(( (NEXT_PORT + 1) % PORT_SPAN ))
    port_busy "$p" || { PORT_OUT=$p; return 0; }
  done
  echo "compare.sh: no free port in $PORT_BASE..$((PORT_BASE + PORT_SPAN - 1))" >&2
  return 1
}

# start_server NAME [deflate] [wrapper...] -> SPID, SPORT
start_server() {
  local name=$1 deflate=${2:-}
  shift 2 || shift $#
  alloc_port
  SPORT=$PORT_OUT
  local cmd
  cmd=$(server_cmd "$name" "127.0.0.1:$SPORT" "$deflate")
  # shellcheck disable=SC2086
  taskset -c "$SERVER_CPU" "${RT[@]}" "$@" $cmd >/dev/null 2>>"$OUT/servers.log" &
  SPID=$!
  PIDS+=("$SPID")
  wait_port "$SPORT"
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

# gen SERVER PORT PID ARGS... -> one JSON line on stdout, from generator $GEN.
gen() {
  local server=$1 port=$2 pid=$3
  shift 3
  local url="ws://127.0.0.1:$port/" extra=()
  if [ "${ROLE[$server]}" = raw ]; then url="127.0.0.1:$port"; extra+=(--raw); fi
  [ -n "$pid" ] && extra+=(--watch-pid "$pid")
  local cmd=()
  case "$GEN" in
    loadgen) cmd=("$CMP/loadgen") ;;
    wspc-bench) cmd=("$WSPC" bench) ;;
    *) echo "compare.sh: unknown generator $GEN" >&2; return 1 ;;
  esac
  local res
  res=$(taskset -c "$CLIENT_CPU" "${RT[@]}" timeout "${LIMIT:-120}" "${cmd[@]}" "$url" "${extra[@]}" "$@" \
    --json 2>>"$OUT/bench.log" | tail -n 1) || true
  case "$res" in
    \{*) echo "$res" ;;
    *) echo "{\"error\": \"$GEN failed (see bench.log)\"}" ;;
  esac
}

# record SECTION KEY=VALUE... RESULT: one raw line.
record() {
  local section=$1 result=${*: -1} fields="" kv
  for kv in "${@:2:$(($# - 2))}"; do
    fields+=",\"${kv%%=*}\":\"${kv#*=}\""
  done
  echo "{\"section\":\"$section\"$fields,\"result\":$result}" >>"$RAWF"
}

rotate() { # ROUND ITEMS... -> the items rotated by ROUND-1
  local r=$1
  shift
  local a=("$@") k
  k=$(( (r - 1) % ${#a[@]} ))
  echo "${a[@]:$k}" "${a[@]:0:$k}"
}

versions() {
  local lock=bench/compare/Cargo.lock p v out=""
  for p in tokio mio hyper fastwebsockets tokio-tungstenite tungstenite tokio-websockets; do
    v=$(awk -v p="$p" '$0 == "name = \"" p "\"" {getline; gsub(/version = |"/, ""); print; exit}' "$lock")
    [ -n "$v" ] && out+="$p $v, "
  done
  echo "${out%, }"
}

start=$(date +%s)
{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo '+dirty')"
  echo "cpu=$(lscpu | sed -n 's/^Model name: *//p') ($(nproc) CPUs)"
  echo "kernel=$(uname -r)"
  echo "rustc=$(rustc --version)"
  echo "versions=$(versions)"
  echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "server_cpu=$SERVER_CPU"
  echo "client_cpu=$CLIENT_CPU"
  echo "sections=$sections"
  echo "generators=$GENERATORS"
  echo "rt_prio=${RT_PRIO:-none}"
} >"$OUT/compare-meta.txt"

# Throughput: MODE (interleaved|sequential), every server up for the whole section.
throughput() {
  local mode=$1 dur warm rounds
  if [ "$mode" = interleaved ]; then
    dur=${DURATION:-2} warm=${WARMUP:-0.5} rounds=${ROUNDS:-6}
  else
    dur=${DURATION:-5} warm=${WARMUP:-1} rounds=${ROUNDS:-3}
  fi
  echo "${mode}_settings=$dur s per cell after $warm s of warm-up, $rounds rounds" >>"$OUT/compare-meta.txt"
  declare -A PORT PID
  local all=("${RAW[@]}" $SERVERS) s w r g order
  for s in "${all[@]}"; do
    if start_server "$s"; then PORT[$s]=$SPORT PID[$s]=$SPID; else PORT[$s]=1 PID[$s]=""; fi
  done
  local LIMIT
  LIMIT=$(python3 -c "print(int($dur + $warm + 60))")
  cell() { # round workload server
    local r=$1 w=$2 s=$3 gens
    parse_workload "$w"
    read -r -a gens <<<"$(rotate "$r" $GENERATORS)"
    for GEN in "${gens[@]}"; do
      echo "compare.sh: $mode round $r/$rounds $w $s ($GEN)" >&2
      record "$mode" "generator=$GEN" "round=$r" "workload=$w" "server=$s" \
        "$(gen "$s" "${PORT[$s]}" "${PID[$s]}" -c "$C" -p "$P" -s "$S" --duration "$dur" --warmup "$warm")"
    done
  }
  if [ "$mode" = interleaved ]; then
    for w in $WORKLOADS; do
      for r in $(seq 1 "$rounds"); do
        for s in $(rotate "$r" "${all[@]}"); do cell "$r" "$w" "$s"; done
      done
    done
  else
    for r in $(seq 1 "$rounds"); do
      for w in $WORKLOADS; do
        for s in $(rotate "$r" "${all[@]}"); do cell "$r" "$w" "$s"; done
      done
    done
  fi
  for s in "${all[@]}"; do [ -n "${PID[$s]}" ] && stop_server "${PID[$s]}"; done
}

has interleaved && throughput interleaved
has sequential && throughput sequential

if has handshakes; then
  echo "handshake_settings=$HS_COUNT handshakes per cell, $HS_CONCURRENCY at once, $HS_ROUNDS rounds" >>"$OUT/compare-meta.txt"
  declare -A HPORT HPID
  for s in $SERVERS; do
    if start_server "$s"; then HPORT[$s]=$SPORT HPID[$s]=$SPID; else HPORT[$s]=1 HPID[$s]=""; fi
  done
  GEN=loadgen LIMIT=300
  for r in $(seq 1 "$HS_ROUNDS"); do
    for s in $(rotate "$r" $SERVERS); do
      echo "compare.sh: handshakes round $r/$HS_ROUNDS $s" >&2
      record handshakes "generator=$GEN" "round=$r" "server=$s" \
        "$(gen "$s" "${HPORT[$s]}" "${HPID[$s]}" --handshakes "$HS_COUNT" --concurrency "$HS_CONCURRENCY")"
    done
  done
  for s in $SERVERS; do [ -n "${HPID[$s]}" ] && stop_server "${HPID[$s]}"; done
fi

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

if has memory; then
  RT=()
  for s in ${MEM_SERVERS:-$SERVERS}; do
    modes="plain plain+echo"
    [ "${DCMD[$s]}" != - ] && modes="$modes deflate deflate+echo deflate-nct+echo"
    for m in $modes; do
      deflate=""
      args=()
      case "$m" in
        deflate-nct*) deflate=deflate; args+=(--deflate-nct) ;;
        deflate*) deflate=deflate; args+=(--deflate) ;;
      esac
      case "$m" in *+echo) args+=(--echo) ;; esac
      echo "compare.sh: memory $s $m" >&2
      start_server "$s" "$deflate" || continue
      sleep 0.3
      before=$(rss_kib "$SPID")
      coproc IC { taskset -c "$CLIENT_CPU" "$CMP/idle-clients" "127.0.0.1:$SPORT" "$MEM_CONNS" "${args[@]}" 2>>"$OUT/bench.log"; }
      ready=""
      read -r -t 120 ready <&"${IC[0]}" || true
      # Past the 1 s after which an idle deflate compressor is parked.
      sleep "$MEM_SETTLE"
      after=$(rss_kib "$SPID")
      eval "exec ${IC[1]}>&-"
      wait "$IC_PID" 2>/dev/null || true
      stop_server "$SPID"
      echo "{\"section\":\"memory\",\"server\":\"$s\",\"mode\":\"$m\",\"conns\":$MEM_CONNS,\"ready\":\"$ready\",\"rss_before_kib\":${before:-0},\"rss_after_kib\":${after:-0}}" >>"$RAWF"
    done
  done
fi

if has callgrind; then
  command -v valgrind >/dev/null || { echo "compare.sh: valgrind not installed" >&2; exit 1; }
  echo "callgrind_settings=$CG_COUNT and $((2 * CG_COUNT)) echoes, $CG_HS_COUNT and $((2 * CG_HS_COUNT)) handshakes, generator $CG_GEN" >>"$OUT/compare-meta.txt"
  GEN=$CG_GEN LIMIT=1200 RT=()
  for w in $CG_WORKLOADS; do
    for s in "${RAW[@]}" $SERVERS; do
      [ "$w" = handshake ] && [ "${ROLE[$s]}" = raw ] && continue
      for mult in 1 2; do
        f="$OUT/callgrind.$s.$w.$mult.out"
        rm -f "$f"
        start_server "$s" "" valgrind --tool=callgrind --callgrind-out-file="$f" || continue
        if [ "$w" = handshake ]; then
          n=$((CG_HS_COUNT * mult))
          echo "compare.sh: callgrind $s $n handshakes" >&2
          res=$(gen "$s" "$SPORT" "" --handshakes "$n" --concurrency 10)
        else
          n=$((CG_COUNT * mult))
          parse_workload "$w"
          echo "compare.sh: callgrind $s $w count=$n" >&2
          res=$(gen "$s" "$SPORT" "" -c "$C" -p "$P" -s "$S" --count "$n")
        fi
        stop_server "$SPID"
        ir=$(sed -n 's/^summary: *//p' "$f" 2>/dev/null | head -n 1)
        echo "{\"section\":\"callgrind\",\"server\":\"$s\",\"workload\":\"$w\",\"count\":$n,\"ir\":${ir:-0},\"result\":$res}" >>"$RAWF"
      done
    done
  done
fi

echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/compare-meta.txt"
echo "elapsed_s=$(( $(date +%s) - start ))" >>"$OUT/compare-meta.txt"
python3 "$ROOT/bench/report.py" "$RAWF" "$OUT/compare-meta.txt" "$ROOT/bench/servers.tsv" | tee "$OUT/compare.md"
