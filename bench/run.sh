#!/usr/bin/env bash
# The benchmark: builds release binaries, installs the reference peer, runs the matrix for
# Parlor (native and Socket.IO framings) and the Node socket.io peer in the same run — server
# pinned to core 0, generator to core 1 — and writes bench/REPORT.md.
#
#   bench/run.sh            full matrix (N ∈ 100, 1 000, 10 000; M ∈ 1, 10; ~30 min)
#   bench/run.sh --quick    N ∈ 100, 1 000 and shorter steps (~8 min)
#
# Loopback only; every run is bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
[ "${1:-}" = "--quick" ] && quick=true
sizes=(100 1000 10000)
step_secs=4
if $quick; then sizes=(100 1000); step_secs=2; fi

ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 20000 ] || echo "warning: only $(ulimit -n) file descriptors; 10 000 clients need 20 000" >&2

echo "== building release binaries"
cargo build --release --locked -p parlor -p parlor-bench
(cd bench/peers/node && npm ci --no-audit --no-fund --loglevel=error)

out=bench/results
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"

server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
  # Let closed sockets leave TIME_WAIT accounting before the next measurement.
  sleep 2
}
trap stop_server EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_http() {
  for _ in $(seq 1 100); do
    curl -fs "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server at $1 did not come up" >&2
  return 1
}

# start_server parlor|peer → sets server_pid and url
start_server() {
  local port
  port=$(free_port)
  url="http://127.0.0.1:$port"
  if [ "$1" = parlor ]; then
    local data
    data=$(mktemp -d /tmp/parlor-bench.XXXXXX)
    PARLOR_LISTEN="127.0.0.1:$port" PARLOR_DATA_DIR="$data" PARLOR_LOG=warn \
      PARLOR_RATE_LIMIT_MESSAGES=1000000000 PARLOR_MAX_FRAME_BYTES=65536 \
      taskset -c 0 target/release/parlor serve 2>>"$out/parlor.log" &
    server_pid=$!
    wait_http "$url/health"
  else
    taskset -c 0 node bench/peers/node/server.mjs "$port" >>"$out/peer.log" 2>&1 &
    server_pid=$!
    sleep 0.5
    wait_http "$url/socket.io/?EIO=4&transport=polling" || true
  fi
}

gen() {
  timeout 600 taskset -c 1 target/release/loadgen "$@" --url "$url" --server-pid "$server_pid" | tee -a "$results"
}

server_of() { [ "$1" = socketio ] && echo peer || echo parlor; }

for target in parlor-native parlor-socketio socketio; do
  for n in "${sizes[@]}"; do
    for m in 1 10; do
      echo "== fan-out: $target, $n clients, $m senders"
      start_server "$(server_of $target)"
      gen sweep --target "$target" --clients "$n" --senders "$m" --start 20000 --step-secs "$step_secs" || echo "sweep failed" >&2
      stop_server
    done
  done
  echo "== idle memory: $target"
  start_server "$(server_of $target)"
  sleep 1
  gen idle --target "$target" --clients "${sizes[-1]}" || echo "idle failed" >&2
  stop_server
  echo "== send → ack latency: $target"
  start_server "$(server_of $target)"
  gen ack --target "$target" --clients 1000 --rate 200 --secs 5 || echo "ack failed" >&2
  stop_server
done

python3 bench/report.py "$results" > bench/REPORT.md
echo "== wrote bench/REPORT.md"
