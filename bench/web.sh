#!/usr/bin/env bash
# The web app's first screen (issue 19, item 5): starts the release server on its embedded
# defaults in a fresh data directory (pinned to core 0), loads the app in Chromium (core 1) over
# emulated round trips of 0, 40 and 150 ms — cold (empty cache), then a warm reload — three
# times each, and writes the medians to bench/WEB.md.
#
#   bench/web.sh              builds the release binary first
#   bench/web.sh --no-build   uses the one already built
#
# Needs the test clients' playwright-core (`npm ci` in tests/clients) and Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
source bench/common.sh

build=true
[ "${1:-}" = --no-build ] && build=false
bin="${CARGO_TARGET_DIR:-target}/release"
if $build; then
  echo "== building the release server"
  cargo build --release --locked -p parlor
fi
measured_commit

dir=$(mktemp -d)
log="$dir/server.log"
PARLOR_DATA_DIR="$dir/data" PARLOR_LISTEN=127.0.0.1:0 taskset -c 0 "$bin/parlor" serve 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
url=""
for _ in $(seq 300); do
  url=$(grep -o 'listening on http://[0-9.:]*' "$log" | sed 's/listening on //' || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "the server did not start:" >&2; cat "$log" >&2; exit 1; }

echo "== first screen over emulated round trips ($url)"
runs="$dir/runs.jsonl"
for run in 1 2 3; do
  timeout 300 taskset -c 1 node bench/web_first_screen.mjs "$url" 0 40 150 | tee -a "$runs"
done

python3 - "$runs" "$commit" >bench/WEB.md <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print("# The web app's first screen\n")
print(f"Measured by `bench/web.sh` at commit {sys.argv[2]}: the release server on its embedded")
print("defaults, Chromium with DevTools network emulation (the round trip added to every request,")
print("10 Mbit/s down, 2 Mbit/s up); medians of three runs. *Painted*: from the navigation's start")
print("to the frame that shows the join screen, as the browser records it (Element Timing).")
print("*Seen*: from sending the navigation until the harness, polling the page over the DevTools")
print("protocol, finds the screen visible (its own latency included). The warm reload comes once the")
print("first load has settled (its service worker installed). *Requests* counts every request the")
print("page made before and just after its first screen; *network* those not answered from a cache.\n")
print("| round trip | cold: painted | seen | requests (network) | warm reload: painted | seen | requests (network) |")
print("|---:|---:|---:|---:|---:|---:|---:|")
for rtt in sorted({r["rtt_ms"] for r in rows}):
    at = [r for r in rows if r["rtt_ms"] == rtt]
    med = lambda key, part: statistics.median(r[key][part] for r in at)
    def painted(key):
        values = [r[key].get("painted_ms") for r in at]
        values = [v for v in values if v is not None]
        return f"{statistics.median(values):.0f} ms" if values else "–"
    print(f"| {rtt} ms | {painted('cold')} | {med('cold', 'ms'):.0f} ms | {med('cold', 'requests'):.0f} ({med('cold', 'network'):.0f}) "
          f"| {painted('warm')} | {med('warm', 'ms'):.0f} ms | {med('warm', 'requests'):.0f} ({med('warm', 'network'):.0f}) |")
PY
cat bench/WEB.md
