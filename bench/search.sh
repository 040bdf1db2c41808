#!/usr/bin/env bash
# Message search (issue 16): what the in-memory search cache costs per million messages and
# how long a search takes, cold (the first search of a room reads and opens all its messages)
# and warm; writes bench/SEARCH.md.
#
#   bench/search.sh                         1 000 000 messages in 10 rooms
#   bench/search.sh --messages 100000       a smaller run
#   bench/search.sh --no-build              use the binaries already built
#
# A fresh data directory is filled by `examples/search_fill.rs` (sealed exactly as the server
# seals, in large transactions), then the release server is started on it, pinned to core 0,
# and `bench/search_measure.py` (core 1) logs in, searches over REST and reads the server's
# RSS from /proc before and after. SQLite; loopback only; every step bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
source bench/common.sh

messages=1000000
rooms=10
build=true
while [ $# -gt 0 ]; do
  case "$1" in
    --messages) messages=$2; shift 2 ;;
    --rooms) rooms=$2; shift 2 ;;
    --no-build) build=false; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

bin="${CARGO_TARGET_DIR:-target}/release"
if $build; then
  echo "== building release binaries"
  cargo build --release --locked -p parlor --bin parlor --example search_fill
fi
measured_commit

dir=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

echo "== filling $messages messages in $rooms rooms"
fill_started=$(date +%s)
timeout 3600 "$bin/examples/search_fill" "$dir" "$rooms" "$messages"
fill_secs=$(( $(date +%s) - fill_started ))
db_bytes=$(du -cb "$dir"/parlor.db* | tail -1 | cut -f1)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "== starting the server on port $port"
PARLOR_DATA_DIR="$dir" PARLOR_LISTEN="127.0.0.1:$port" PARLOR_LOG=warn PARLOR_RATE_LIMIT_MESSAGES=1000 \
  PARLOR_SEARCH_CACHE_MB="${SEARCH_CACHE_MB:-1024}" \
  taskset -c 0 "$bin/parlor" serve 2>>"$dir/parlor.log" &
pid=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/health/live" >/dev/null && break
  sleep 0.1
done

echo "== measuring"
timeout 1800 taskset -c 1 python3 bench/search_measure.py \
  --url "http://127.0.0.1:$port" --pid "$pid" --messages "$messages" --rooms "$rooms" \
  --fill-secs "$fill_secs" --db-bytes "$db_bytes" --commit "$commit" --out bench/SEARCH.md
echo "== wrote bench/SEARCH.md"
