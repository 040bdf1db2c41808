#!/usr/bin/env bash
# The benchmark: builds release binaries, installs the reference peer, runs the matrix for
# Parlor (native and Socket.IO framings) and the Node socket.io peer in the same run — server
# pinned to core 0, generator to core 1 — and writes bench/REPORT.md.
#
#   bench/run.sh                      full matrix, ≈ 11 min on 2 cores (see bench/analysis.md)
#   bench/run.sh --quick              N ∈ 100, 1 000 only (≈ 7 min)
#   bench/run.sh --targets parlor-native --sizes "100 10000"      a part of the matrix
#   bench/run.sh --no-build           use the binaries already built
#
# Per target, room size N and number of senders (1, 10): one fresh server, one fleet of N
# clients, a rate sweep (a sweep ends in overload, which must not weigh on the next one); at the
# largest N the first fleet's idle memory is measured before its sweep. Then send → ack latency
# in the lobby and, for Parlor, in a persistent room.
# Loopback only; every run is bounded by `timeout`; progress goes to the terminal, JSON lines
# to bench/results/results.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(parlor-native parlor-socketio socketio)
sizes=(100 1000 10000)
build=true
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) sizes=(100 1000) ;;
    --targets) read -r -a targets <<<"$2"; shift ;;
    --sizes) read -r -a sizes <<<"$2"; shift ;;
    --no-build) build=false ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
largest=${sizes[-1]}

ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((largest + 200)) ]; then
  echo "only $(ulimit -n) file descriptors per process; $largest clients need $((largest + 200))" >&2
  exit 1
fi

bin="${CARGO_TARGET_DIR:-target}/release"
if $build; then
  echo "== building release binaries"
  cargo build --release --locked -p parlor -p parlor-bench
fi
if [[ " ${targets[*]} " == *" socketio "* ]]; then
  (cd bench/peers/node && npm ci --no-audit --no-fund --loglevel=error)
fi

out=bench/results
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"
began=$(date +%s)

server_pid=""
server_data=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
  if [ -n "$server_data" ]; then
    rm -rf "$server_data"
    server_data=""
  fi
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
    server_data=$(mktemp -d /tmp/parlor-bench.XXXXXX)
    PARLOR_LISTEN="127.0.0.1:$port" PARLOR_DATA_DIR="$server_data" PARLOR_LOG=warn \
      PARLOR_RATE_LIMIT_MESSAGES=1000000000 PARLOR_MAX_FRAME_BYTES=65536 PARLOR_SHUTDOWN_GRACE_SECS=2 \
      PARLOR_MAX_CONNECTIONS_PER_IP=0 PARLOR_REGISTRATIONS_PER_IP=1000000 \
      taskset -c 0 "$bin/parlor" serve 2>>"$out/parlor.log" &
    server_pid=$!
    wait_http "$url/health" || return 1
  else
    taskset -c 0 node bench/peers/node/server.mjs "$port" >>"$out/peer.log" 2>&1 &
    server_pid=$!
    wait_http "$url/socket.io/?EIO=4&transport=polling" || return 1
  fi
  sleep 1 # let the fresh server settle before its baseline memory is read
}

elapsed() { local s=$(($(date +%s) - began)); printf '%d:%02d' $((s / 60)) $((s % 60)); }

# gen SECONDS loadgen-args… : one bounded generator run; JSON to the results, progress to stderr
gen() {
  local limit=$1
  shift
  timeout "$limit" taskset -c 1 "$bin/loadgen" "$@" --url "$url" --server-pid "$server_pid" >>"$results"
}

server_of() { [ "$1" = socketio ] && echo peer || echo parlor; }

runs=$(( ${#targets[@]} * ${#sizes[@]} * 2 + ${#targets[@]} + 2 ))
for t in "${targets[@]}"; do
  if [ "$t" != socketio ]; then runs=$((runs + 1)); fi
done
run=0
say() { run=$((run + 1)); echo "== [$run/$runs, $(elapsed)] $*"; }

for target in "${targets[@]}"; do
  for n in "${sizes[@]}"; do
    # At 10 000 clients one message is 10 000 deliveries: start where a few messages a second
    # are offered, so the sweep finds the latency-bound rate instead of starting above it.
    start=20000
    [ "$n" -ge 10000 ] && start=2000
    for senders in 1 10; do
      extra=()
      limit=400
      if [ "$n" = "$largest" ] && [ "$senders" = 1 ]; then extra=(--idle); limit=1200; fi
      say "fan-out: $target, $n clients, $senders sender(s)${extra[0]:+, idle memory first}"
      if start_server "$(server_of "$target")"; then
        gen "$limit" sweep --target "$target" --clients "$n" --senders "$senders" --start "$start" \
          ${extra[@]+"${extra[@]}"} || echo "   sweep failed or timed out" >&2
      fi
      stop_server
    done
  done
  say "send → ack latency, lobby: $target"
  if start_server "$(server_of "$target")"; then
    gen 120 ack --target "$target" --clients 1000 --rate 200 --secs 5 || echo "   ack failed" >&2
  fi
  stop_server
  if [ "$target" != socketio ]; then
    say "send → ack latency, persistent room (stored before the ack): $target"
    if start_server parlor; then
      gen 120 ack --target "$target" --clients 100 --rate 200 --secs 5 --room bench-persisted \
        || echo "   persisted ack failed" >&2
    fi
    stop_server
  fi
done

# Uploads (Parlor only): the same uploaders with 5 MiB and 20 MiB files; memory should not follow.
for mib in 5 20; do
  say "uploads: 8 uploaders, ${mib} MiB files"
  if start_server parlor; then
    gen 300 uploads --uploaders 8 --files 4 --file-mib "$mib" || echo "   uploads failed" >&2
  fi
  stop_server
done

wall=$(($(date +%s) - began))
echo "{\"kind\":\"run\",\"wall_secs\":$wall,\"sizes\":\"${sizes[*]}\",\"targets\":\"${targets[*]}\"}" >>"$results"
python3 bench/report.py "$results" > bench/REPORT.md
echo "== wrote bench/REPORT.md after $(elapsed)"
