#!/usr/bin/env bash
# `wspc serve` at scale, smoke-tested with the load tools of docs/performance.md
# ("Serving at scale"): fan-out from one publisher to 300 subscribers on one server and
# spread over three servers joined by a real redis-server, and 2,000 idle connections.
# Fails if a subscriber missed a message, got one twice or out of order, or a tool
# failed — never on a timing. About 20 s.
set -euo pipefail
B=./target/release
[ -x "$B/examples/fanout" ] || cargo build --release -q -p wspc-cli --example fanout
command -v redis-server >/dev/null || { echo "misc-60: redis-server missing (.ci/install.sh)"; exit 1; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 not listening"; exit 1; }
check() { # JSON line from `fanout broadcast`
  python3 -c 'import json,sys; r=json.loads(sys.stdin.readline()); print(r); sys.exit(0 if r["errors"]==0 and r["delivered"]==r["expected"] and r["delivered"]>0 else 1)'
}

"$B/wspc" serve --listen 127.0.0.1:19181 --mode broadcast 2>target/misc-60-serve.log & pids+=($!)
wait_port 19181
"$B/examples/fanout" broadcast --url ws://127.0.0.1:19181/t --subscribers 300 --window 4 --duration 1 --warmup 0.5 | check

redis-server --bind 127.0.0.1 --port 19189 --save '' --appendonly no >/dev/null 2>&1 & pids+=($!)
wait_port 19189
for i in 2 3 4; do
  "$B/wspc" serve --listen 127.0.0.1:1918$i --mode broadcast --broker redis://127.0.0.1:19189 2>>target/misc-60-serve.log & pids+=($!)
  wait_port 1918$i
done
"$B/examples/fanout" broadcast --url ws://127.0.0.1:19182/t --url ws://127.0.0.1:19183/t \
  --url ws://127.0.0.1:19184/t --subscribers 300 --window 4 --duration 1 --warmup 0.5 | check

"$B/examples/fanout" idle --url ws://127.0.0.1:19181/idle --connections 2000 --hold 0.5 --silent | grep -q "ready 2000"
echo "misc-60: fan-out (1 and 3 servers over Redis) and 2,000 idle connections OK"
