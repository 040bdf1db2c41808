#!/usr/bin/env bash
# The benchmark: builds release binaries, installs the reference peer, runs the matrix for
# Parlor (native and Socket.IO framings), the Node socket.io peer and the floor writer in the
# same run — server pinned to core 0, generator to core 1 — then the two-node scenario, and
# writes bench/REPORT.md.
#
# The floor writer (`loadgen floor-server`, bench/src/floor/) is the least a server can do for
# a fan-out — one thread writing one encoded frame into every member's socket, no chat logic —
# measured with the same generator: Parlor's p99 over the floor's at the same rate is what
# Parlor's own work adds (the report's "Against the floor writer").
#
#   bench/run.sh                      full matrix, ≈ 19 min on 2 cores (see bench/analysis.md;
#                                     the floor writer adds ≈ 4 min)
#   bench/run.sh --quick              N ∈ 100, 1 000 only (≈ 12 min)
#   bench/run.sh --targets parlor-native --sizes "100 10000"      a part of the matrix
#   bench/run.sh --targets "parlor-native floor" --sizes 10000 --no-two-node
#                                     Parlor against the floor at 10 000 clients only
#   bench/run.sh --two-node-only      only the two-node scenario (≈ 3 min)
#   bench/run.sh --no-two-node        the matrix without it
#   bench/run.sh --no-build           use the binaries already built
#
# Per target, room size N and number of senders (1, 10): one fresh server, one fleet of N
# clients, a rate sweep (a sweep ends in overload, which must not weigh on the next one); at the
# largest N the first fleet's idle memory is measured before its sweep. Then send → ack latency
# in the lobby and, for Parlor, in a persistent room.
#
# The two-node scenario: a lobby of 1 000 clients with 10 senders (a) on one node with the
# in-process bus, (b) on one node fanning out through Redis, (c) on two nodes sharing one
# Redis, 500 clients each (senders alternate between them). Each gets a sweep; (c) runs
# first, and 80 % of its maximum is the rate at which all three then run three fixed 10-second
# steps: latency and server CPU per delivery at one rate. Redis runs on core 0 beside the
# node(s), and its CPU time is reported apart.
# The nodes share one SQLite file in WAL mode (the lobby stores nothing; the multi-node tests
# run on SQLite the same way) and one master key.
#
# Last, the web app's first screen in Chromium over emulated round trips (bench/web.sh).
#
# Loopback only; every run is bounded by `timeout`; progress goes to the terminal, JSON lines
# to bench/results/results.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
source bench/common.sh

targets=(parlor-native parlor-socketio socketio floor) # floor: the floor writer
sizes=(100 1000 10000)
build=true
two_node=yes # yes, no or only
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) sizes=(100 1000) ;;
    --two-node-only) two_node=only ;;
    --no-two-node) two_node=no ;;
    --targets) read -r -a targets <<<"$2"; shift ;;
    --sizes) read -r -a sizes <<<"$2"; shift ;;
    --no-build) build=false ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ "$two_node" = only ]; then targets=() sizes=(); fi
largest=0
if [ ${#sizes[@]} -gt 0 ]; then largest=${sizes[-1]}; fi
most=$largest # clients in one fleet
if [ "$two_node" != no ] && [ "$most" -lt 1000 ]; then most=1000; fi

raise_fd_limit "$most"
install_missing_tools
build_release "$build"
if [[ " ${targets[*]-} " == *" socketio "* ]]; then
  (cd bench/peers/node && npm ci --no-audit --no-fund --loglevel=error)
fi

measured_commit

out=bench/results
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"
: > "$out/floor.log" # the floor writer's counts, one JSON line per server; the report sums them
began=$(date +%s)

# What runs now: one server (or the nodes of a cluster, and their Redis).
server_pids=()
urls=()
server_dirs=()
redis_pid=""
stop_server() {
  local pid
  for pid in ${server_pids[@]+"${server_pids[@]}"}; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in ${server_pids[@]+"${server_pids[@]}"}; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$redis_pid" ]; then
    kill -TERM "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  rm -rf ${server_dirs[@]+"${server_dirs[@]}"}
  server_pids=() urls=() server_dirs=() redis_pid=""
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

# start_parlor [VAR=value…] → one more Parlor node on core 0, with these settings on top
start_parlor() {
  local port data
  port=$(free_port)
  data=$(mktemp -d /tmp/parlor-bench.XXXXXX)
  server_dirs+=("$data")
  env PARLOR_LISTEN="127.0.0.1:$port" PARLOR_DATA_DIR="$data" PARLOR_LOG=warn \
    PARLOR_RATE_LIMIT_MESSAGES=1000000000 PARLOR_MAX_FRAME_BYTES=65536 PARLOR_SHUTDOWN_GRACE_SECS=2 \
    PARLOR_MAX_CONNECTIONS_PER_IP=0 PARLOR_REGISTRATIONS_PER_IP=1000000 "$@" \
    taskset -c 0 "$bin/parlor" serve 2>>"$out/parlor.log" &
  server_pids+=($!)
  urls+=("http://127.0.0.1:$port")
  wait_http "http://127.0.0.1:$port/health"
}

# start_server parlor|peer|floor → one server (sets server_pids and urls)
start_server() {
  if [ "$1" = parlor ]; then
    start_parlor || return 1
  elif [ "$1" = floor ]; then
    local port
    port=$(free_port)
    taskset -c 0 "$bin/loadgen" floor-server --listen "127.0.0.1:$port" 2>>"$out/floor.log" &
    server_pids+=($!)
    urls+=("http://127.0.0.1:$port")
    wait_http "http://127.0.0.1:$port/health" || return 1
  else
    local port
    port=$(free_port)
    taskset -c 0 node bench/peers/node/server.mjs "$port" >>"$out/peer.log" 2>&1 &
    server_pids+=($!)
    urls+=("http://127.0.0.1:$port")
    wait_http "http://127.0.0.1:$port/socket.io/?EIO=4&transport=polling" || return 1
  fi
  sleep 1 # let the fresh server settle before its baseline memory is read
}

# start_cluster NODES → NODES Parlor nodes on one Redis (core 0, in memory only), one SQLite
# file and one master key; with NODES = 1, a single node that fans out through Redis.
start_cluster() {
  local port key shared i
  port=$(free_port)
  taskset -c 0 redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    --loglevel warning >>"$out/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 1 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$port" ping >/dev/null 2>&1 || { echo "redis-server did not come up" >&2; return 1; }
  key=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
  shared=$(mktemp -d /tmp/parlor-bench-db.XXXXXX)
  server_dirs+=("$shared")
  for i in $(seq 1 "$1"); do
    start_parlor PARLOR_REDIS_URL="redis://127.0.0.1:$port/" PARLOR_NODE_ID="bench-$i" \
      PARLOR_MASTER_KEY="$key" DATABASE_URL="sqlite://$shared/parlor.db" || return 1
  done
  sleep 1
}

elapsed() { local s=$(($(date +%s) - began)); printf '%d:%02d' $((s / 60)) $((s % 60)); }

# gen SECONDS loadgen-args… : one bounded generator run against what runs now; JSON to the
# results, progress to stderr
gen() {
  local limit=$1 i
  shift
  local at=()
  for i in "${!urls[@]}"; do at+=(--url "${urls[$i]}" --server-pid "${server_pids[$i]}"); done
  if [ -n "$redis_pid" ]; then at+=(--redis-pid "$redis_pid"); fi
  timeout "$limit" taskset -c 1 "$bin/loadgen" "$@" "${at[@]}" >>"$results"
}

server_of() {
  case "$1" in
    socketio) echo peer ;;
    floor) echo floor ;;
    *) echo parlor ;;
  esac
}
# Persistent rooms (and accounts) exist only in Parlor.
has_rooms() { [[ "$1" == parlor-* ]]; }

# Stored messages at rates a room's group commit has to carry: 10 senders, 100 members, 10 s
# per step, on SQLite and — when PostgreSQL's binaries are installed — on a throwaway
# PostgreSQL cluster with its default durability (fsync, synchronous commit) on core 0 beside
# the server. Labelled runs: the report shows them in their own table.
stored_messages() {
  local rate
  for rate in 200 5000; do
    say "stored messages, SQLite: $rate/s from 10 senders"
    if start_server parlor; then
      gen 120 ack --target parlor-native --clients 100 --senders 10 --rate "$rate" --secs 10 \
        --room bench-persisted --label "stored-sqlite" || echo "   stored run failed" >&2
    fi
    stop_server
  done
  local pg_bin
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    echo "   PostgreSQL is not installed: no PostgreSQL figure" >&2
    return 0
  fi
  local pg_dir pg_port pg_run=()
  pg_dir=$(mktemp -d /tmp/parlor-bench-pg.XXXXXX)
  pg_port=$(free_port)
  if [ "$(id -u)" = 0 ]; then chown postgres "$pg_dir"; pg_run=(runuser -u postgres --); fi
  "${pg_run[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
  "${pg_run[@]}" taskset -c 0 "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
    -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1" start >/dev/null
  for rate in 200 2000 5000; do
    say "stored messages, PostgreSQL: $rate/s from 10 senders"
    "${pg_run[@]}" "$pg_bin/psql" -h "$pg_dir" -p "$pg_port" -U postgres -qc "CREATE DATABASE bench_$rate" >/dev/null
    if start_parlor PARLOR_DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/bench_$rate"; then
      gen 120 ack --target parlor-native --clients 100 --senders 10 --rate "$rate" --secs 10 \
        --room bench-persisted --label "stored-postgres" || echo "   stored run failed" >&2
    fi
    stop_server
  done
  "${pg_run[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}

runs=0
if [ "$two_node" != only ]; then
  runs=$(( ${#targets[@]} * ${#sizes[@]} * 2 + ${#targets[@]} + 2 ))
  for t in "${targets[@]}"; do
    if has_rooms "$t"; then runs=$((runs + 1)); fi
    if [ "$t" = parlor-native ]; then runs=$((runs + 5)); fi # stored_messages
  done
fi
if [ "$two_node" != no ]; then runs=$((runs + 3)); fi
run=0
say() { run=$((run + 1)); echo "== [$run/$runs, $(elapsed)] $*"; }

for target in ${targets[@]+"${targets[@]}"}; do
  for n in "${sizes[@]}"; do
    # At 10 000 clients one message is 10 000 deliveries: start where a few messages a second
    # are offered, so the sweep finds the latency-bound rate instead of starting above it.
    # There a step is also long enough for 10 messages (at most 30 s): a p99 over three fan-outs
    # is the slowest of three, and moved by a third between two runs of the same binary.
    start=20000
    steps=()
    [ "$n" -ge 10000 ] && start=2000 && steps=(--min-sends 10 --max-step-secs 30)
    for senders in 1 10; do
      extra=()
      limit=400
      if [ "$n" = "$largest" ] && [ "$senders" = 1 ]; then extra=(--idle); limit=1200; fi
      say "fan-out: $target, $n clients, $senders sender(s)${extra[0]:+, idle memory first}"
      if start_server "$(server_of "$target")"; then
        gen "$limit" sweep --target "$target" --clients "$n" --senders "$senders" --start "$start" \
          ${steps[@]+"${steps[@]}"} ${extra[@]+"${extra[@]}"} || echo "   sweep failed or timed out" >&2
      fi
      stop_server
    done
  done
  say "send → ack latency, lobby: $target"
  if start_server "$(server_of "$target")"; then
    gen 120 ack --target "$target" --clients 1000 --rate 200 --secs 5 || echo "   ack failed" >&2
  fi
  stop_server
  if has_rooms "$target"; then
    say "send → ack latency, persistent room (stored before the ack): $target"
    if start_server parlor; then
      gen 120 ack --target "$target" --clients 100 --rate 200 --secs 5 --room bench-persisted \
        || echo "   persisted ack failed" >&2
    fi
    stop_server
  fi
  if [ "$target" = parlor-native ]; then
    stored_messages
  fi
done

# Uploads (Parlor only): the same uploaders with 5 MiB and 20 MiB files; memory should not follow.
if [ "$two_node" != only ]; then
  for mib in 5 20; do
    say "uploads: 8 uploaders, ${mib} MiB files"
    if start_server parlor; then
      gen 300 uploads --uploaders 8 --files 4 --file-mib "$mib" || echo "   uploads failed" >&2
    fi
    stop_server
  done
fi

# Two nodes through Redis (see the top): each setup gets its sweep, then three fixed 10-second
# steps on fresh fleets at 80 % of the two-node maximum — (c) runs first and sets that rate.
if [ "$two_node" != no ]; then
  shape=(--target parlor-native --clients 1000 --senders 10)
  rate=""
  # eighty LABEL → 80 % of that sweep's maximum (its `at_80` step's rate), or nothing
  eighty() {
    python3 -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
at = [r.get("at_80") for r in rows if r.get("kind") == "fanout_max" and r.get("label") == sys.argv[2]]
print(round(at[-1]["offered_deliveries_per_s"]) if at and at[-1] else "")' "$results" "$1"
  }
  # two_node_setup LABEL START-COMMAND…
  two_node_setup() {
    local label=$1
    shift
    if "$@"; then
      gen 400 sweep "${shape[@]}" --start 20000 --label "$label" || echo "   sweep failed or timed out" >&2
      if [ "$label" = two-node ]; then rate=$(eighty two-node); fi
      if [ -n "$rate" ]; then
        echo "   3 × 10 s at $rate deliveries/s on fresh fleets"
        for _ in 1 2 3; do
          sleep 1
          gen 120 fixed "${shape[@]}" --deliveries-per-s "$rate" --secs 10 --label "$label" \
            || echo "   a fixed step lost messages or timed out" >&2
        done
      fi
    fi
    stop_server
  }
  say "two nodes through Redis: 1 000 clients (500 per node), 10 senders"
  two_node_setup two-node start_cluster 2
  say "one node, in-process bus: 1 000 clients, 10 senders"
  two_node_setup one-node start_server parlor
  say "one node through Redis: 1 000 clients, 10 senders"
  two_node_setup one-node-redis start_cluster 1
fi

# The web app's first screen (Chromium over emulated round trips): bench/WEB.md, which the
# report includes.
if [ "$two_node" != only ]; then
  echo "== [$(elapsed)] the web app's first screen"
  bash bench/web.sh --no-build || echo "   the first-screen measurement failed" >&2
fi

wall=$(($(date +%s) - began))
echo "{\"kind\":\"run\",\"wall_secs\":$wall,\"sizes\":\"${sizes[*]-}\",\"targets\":\"${targets[*]-}\",\"two_node\":\"$two_node\",\"commit\":\"$commit\"}" >>"$results"
python3 bench/report.py "$results" > bench/REPORT.md
echo "== wrote bench/REPORT.md after $(elapsed)"
