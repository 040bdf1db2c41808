#!/usr/bin/env bash
# What the AI companion costs the rest of the chat: a lobby of 1 000 native clients at a fixed
# delivery rate (the `loadgen fixed` step, one sender, 10 s), (a) with the companion configured
# but idle and (b) while K registered users talk to it, each writing again as soon as the bot's
# previous reply is stored, and a fake Ollama server (bench/fake_model.py) streams every reply
# at a realistic pace. (a) and (b) alternate (a b, then b a, …), four rounds each per rate, on
# one server; the target is p99 in (b) within 10 % of (a).
#
#   bench/companion.sh                         build, then 190 000, 380 000 and 20 000 deliveries/s
#   bench/companion.sh --no-build --rates 380000 --rounds 5 --users 16
#
# Options: --no-build, --rates "R…" (deliveries/s; 380 000 is half the 1 000-client one-sender
# maximum in bench/REPORT.md, but fills the server's core on a 2-core VM), --rounds N (4),
# --users K (8), --secs S (10, per fixed step), --clients N (1000), --tokens-per-s T (40, per
# stream), --tokens LOW-HIGH (60-120), --ai-concurrency N (K: every conversation streams at once).
# On a shared machine, run it with `nice -n -19` (and see "other CPU %" in the summary).
#
# The server runs on core 0; both generators and the fake model on core 1 (their CPU is in
# the results: the fixed step's `generator_cpu_s` and `other_cpu_s`, the model's below).
# Loopback only; every step is bounded by `timeout`. JSON lines go to
# bench/results/companion.jsonl, the summary to bench/COMPANION.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
source bench/common.sh

build=true
rates=(190000 380000 20000)
rounds=4
users=8
secs=10
clients=1000
tokens_per_s=40
tokens=60-120
concurrency=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=false ;;
    --rates) read -r -a rates <<<"$2"; shift ;;
    --rounds) rounds=$2; shift ;;
    --users) users=$2; shift ;;
    --secs) secs=$2; shift ;;
    --clients) clients=$2; shift ;;
    --tokens-per-s) tokens_per_s=$2; shift ;;
    --tokens) tokens=$2; shift ;;
    --ai-concurrency) concurrency=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
concurrency=${concurrency:-$users}

raise_fd_limit "$clients"
build_release "$build"
measured_commit

out=bench/results
mkdir -p "$out"
results="$out/companion.jsonl"
: >"$results"
began=$(date +%s)
elapsed() { local s=$(($(date +%s) - began)); printf '%d:%02d' $((s / 60)) $((s % 60)); }

model_pid="" server_pid="" companion_pid="" data="" stop_file=""
cleanup() {
  local pid
  for pid in $companion_pid $server_pid $model_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $companion_pid $server_pid $model_pid; do wait "$pid" 2>/dev/null || true; done
  [ -n "$data" ] && rm -rf "$data"
  [ -n "$stop_file" ] && rm -f "$stop_file"
  return 0
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() {
  for _ in $(seq 1 100); do
    curl -fs "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "nothing answers at $1" >&2
  return 1
}
# CPU seconds of a process so far (all its threads), from /proc
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
model_stat() { curl -fs "$model_url/stats" | python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])" || echo 0; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }

# The fake model server, on the generators' core.
model_port=$(free_port)
model_url="http://127.0.0.1:$model_port"
taskset -c 1 python3 bench/fake_model.py --port "$model_port" \
  --tokens-per-s "$tokens_per_s" --tokens "$tokens" >>"$out/fake_model.log" 2>&1 &
model_pid=$!
wait_http "$model_url/health"

# The server, on core 0: run.sh's lobby settings plus the companion, with brakes that let
# K users write all they want.
port=$(free_port)
url="http://127.0.0.1:$port"
data=$(mktemp -d /tmp/parlor-companion.XXXXXX)
env PARLOR_LISTEN="127.0.0.1:$port" PARLOR_DATA_DIR="$data" PARLOR_LOG=warn \
  PARLOR_RATE_LIMIT_MESSAGES=1000000000 PARLOR_MAX_FRAME_BYTES=65536 PARLOR_SHUTDOWN_GRACE_SECS=2 \
  PARLOR_MAX_CONNECTIONS_PER_IP=0 PARLOR_REGISTRATIONS_PER_IP=1000000 \
  PARLOR_AI_PROVIDER=ollama PARLOR_AI_BASE_URL="$model_url" PARLOR_AI_MODEL=bench \
  PARLOR_AI_FREE_MESSAGES=1000000 PARLOR_AI_MESSAGES_PER_MINUTE=1000 \
  PARLOR_AI_CONCURRENCY="$concurrency" PARLOR_AI_QUEUE=64 \
  taskset -c 0 "$bin/parlor" serve 2>>"$out/parlor-companion.log" &
server_pid=$!
wait_http "$url/health"
sleep 1

# fixed LABEL RATE: one lobby step on a fresh fleet; its JSON line (with the label) to the results
fixed() {
  timeout 120 taskset -c 1 "$bin/loadgen" fixed --url "$url" --server-pid "$server_pid" \
    --target parlor-native --clients "$clients" --deliveries-per-s "$2" --secs "$secs" \
    --label "$1" >>"$results" || echo "   the step lost messages, failed or timed out" >&2
}

# busy RATE: the companion's users start, replies stream, the same step runs, the users stop.
busy() {
  stop_file=$(mktemp -u /tmp/parlor-companion-stop.XXXXXX)
  local model_cpu replies_before
  model_cpu=$(cpu_of "$model_pid")
  replies_before=$(model_stat replies)
  timeout 600 taskset -c 1 "$bin/loadgen" companion --url "$url" --server-pid "$server_pid" \
    --users "$users" --secs 500 --stop-file "$stop_file" >>"$results" &
  companion_pid=$!
  # Every user has had a whole reply: the conversations are in their steady state.
  for _ in $(seq 1 600); do
    [ "$(model_stat replies)" -ge $((replies_before + users)) ] && break
    kill -0 "$companion_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$companion_pid" 2>/dev/null; then
    # The companion alone for a few seconds: the server's CPU for K conversations.
    local cpu tokens_before
    cpu=$(cpu_of "$server_pid")
    tokens_before=$(model_stat tokens)
    sleep 5
    printf '{"kind":"companion_alone","rate":%s,"secs":5,"server_cpu_s":%s,"tokens":%s}\n' "$1" \
      "$(minus "$(cpu_of "$server_pid")" "$cpu")" "$(($(model_stat tokens) - tokens_before))" >>"$results"
    fixed busy "$1"
  else
    echo "   the companion users stopped before the step" >&2
  fi
  touch "$stop_file"
  wait "$companion_pid" || echo "   the companion run reported lost replies or refusals" >&2
  companion_pid=""
  rm -f "$stop_file"
  stop_file=""
  printf '{"kind":"fake_model","rate":%s,"cpu_s":%s,"stats":%s}\n' "$1" \
    "$(minus "$(cpu_of "$model_pid")" "$model_cpu")" "$(curl -fs "$model_url/stats")" >>"$results"
}

for rate in "${rates[@]}"; do
  for round in $(seq 1 "$rounds"); do
    # a b, then b a: neither setup always runs second.
    order=(idle busy)
    [ $((round % 2)) = 0 ] && order=(busy idle)
    for setup in "${order[@]}"; do
      if [ "$setup" = idle ]; then
        echo "== [$(elapsed)] $rate deliveries/s, round $round/$rounds: (a) companion idle"
        fixed idle "$rate"
      else
        echo "== [$(elapsed)] $rate deliveries/s, round $round/$rounds: (b) $users users talking to the companion"
        busy "$rate"
      fi
      sleep 1
    done
  done
done

echo "== [$(elapsed)] summary → bench/COMPANION.md"
python3 - "$results" "$commit" "$users" "$concurrency" "$tokens_per_s" "$tokens" "$clients" "$secs" \
  <<'EOF' >bench/COMPANION.md
import json, statistics, sys
path, commit, users, concurrency, tps, tokens, clients, secs = sys.argv[1:]
rows = [json.loads(l) for l in open(path) if l.startswith("{")]
steps = [r for r in rows if r.get("kind") == "fanout_step"]
talks = [r for r in rows if r.get("kind") == "companion"]
models = [r for r in rows if r.get("kind") == "fake_model"]
alone = [r for r in rows if r.get("kind") == "companion_alone"]
med = lambda xs: statistics.median(xs) if xs else float("nan")
f = lambda x, d=1: "–" if x is None or x != x else f"{x:,.{d}f}"
print("# The AI companion's cost to the chat\n")
print("Generated by `bench/companion.sh` (its header says how to run it; hand-written notes, if any, follow the tables).\n")
print(f"Commit {commit}. One server on core 0 (SQLite, `PARLOR_AI_PROVIDER=ollama`, "
      f"`PARLOR_AI_CONCURRENCY={concurrency}`, `PARLOR_AI_QUEUE=64`); on core 1 the lobby generator, "
      f"the companion users and `bench/fake_model.py` ({tps} tokens/s per stream, {tokens} tokens per reply). "
      f"Each step: a fresh lobby of {clients} native clients, one sender, {secs} s at a fixed rate. "
      f"(a) the companion configured but idle; (b) {users} registered users talking to it "
      "(each writes again as soon as the bot's reply is stored). (a) and (b) alternate: a b, b a, a b, …\n")
print("## Lobby delivery latency\n")
print("| rate (deliveries/s) | round | setup | delivered | lost | p50 ms | p99 ms | p99.9 ms | max ms | server CPU % | generator CPU % | other CPU % |")
print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
rates = []
for r in steps:
    if r["offered_deliveries_per_s"] not in rates:
        rates.append(r["offered_deliveries_per_s"])
rounds = {}
for r in steps:
    key = (r["offered_deliveries_per_s"], r["label"])
    rounds[key] = rounds.get(key, 0) + 1
    pct = lambda s: None if s is None else 100 * s / r["wall_s"]
    l = r["latency_ms"]
    print(f"| {r['offered_deliveries_per_s']:,.0f} | {rounds[key]} | {'(a) idle' if r['label'] == 'idle' else '(b) busy'} | "
          f"{r['delivered']:,} | {r['lost']:,} | {f(l['p50'], 2)} | {f(l['p99'], 2)} | {f(l['p999'], 2)} | {f(l['max'], 2)} | "
          f"{f(pct(r.get('server_cpu_s')))} | {f(pct(r.get('generator_cpu_s')))} | {f(pct(r.get('other_cpu_s')))} |")
print("\n## Medians over the rounds\n")
print("| rate (deliveries/s) | p50 (a) | p50 (b) | p99 (a) | p99 (b) | p99 (b)/(a) | target ≤ 1.10 | server CPU-µs per delivery (a) → (b) |")
print("|---:|---:|---:|---:|---:|---:|---|---:|")
for rate in rates:
    a = [r for r in steps if r["offered_deliveries_per_s"] == rate and r["label"] == "idle"]
    b = [r for r in steps if r["offered_deliveries_per_s"] == rate and r["label"] == "busy"]
    p = lambda rs, q: med([r["latency_ms"][q] for r in rs])
    per = lambda rs: med([r["server_cpu_s"] / max(r["delivered"], 1) * 1e6 for r in rs if r.get("server_cpu_s") is not None])
    ratio = p(b, "p99") / p(a, "p99") if a and b and p(a, "p99") else float("nan")
    verdict = "met" if ratio <= 1.10 else "missed" if ratio > 1.10 else "–"
    print(f"| {rate:,.0f} | {f(p(a, 'p50'), 2)} | {f(p(b, 'p50'), 2)} | {f(p(a, 'p99'), 2)} | {f(p(b, 'p99'), 2)} | "
          f"{f(ratio, 2)} | {verdict} | {f(per(a), 2)} → {f(per(b), 2)} |")
quiet = lambda r: r.get("other_cpu_s") is not None and r["other_cpu_s"] / r["wall_s"] <= 0.10
print("\nThe machine may be shared (**other CPU %** above: other processes, and in (b) the fake model "
      "and the companion's users, ≈ 4–5 % of a core). Only the steps during which everything else took at most "
      "10 % of a core:\n")
print("| rate (deliveries/s) | steps (a) | steps (b) | p50 (a) | p50 (b) | p99 (a) | p99 (b) | p99 (b)/(a) |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
for rate in rates:
    a = [r for r in steps if r["offered_deliveries_per_s"] == rate and r["label"] == "idle" and quiet(r)]
    b = [r for r in steps if r["offered_deliveries_per_s"] == rate and r["label"] == "busy" and quiet(r)]
    p = lambda rs, q: med([r["latency_ms"][q] for r in rs])
    ratio = p(b, "p99") / p(a, "p99") if a and b else float("nan")
    print(f"| {rate:,.0f} | {len(a)} | {len(b)} | {f(p(a, 'p50'), 2)} | {f(p(b, 'p50'), 2)} | {f(p(a, 'p99'), 2)} | "
          f"{f(p(b, 'p99'), 2)} | {f(ratio, 2)} |")
print("\n## The companion's conversations during (b)\n")
print("Each row is one background run, from the users' start through the lobby step to their stop; "
      "**server CPU % alone** is the server's CPU during 5 s of conversations with no lobby, "
      "just before the step, with the tokens/s the model streamed then; **model CPU %** is "
      "`fake_model.py`'s over the whole run.\n")
print("| run | secs | replies | replies/s | ai_delta pieces | pieces/s | pieces per reply | reply ms mean (p99) | first piece ms mean (p99) | refusals | timeouts | server CPU % alone (tokens/s) | model CPU % |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
for i, r in enumerate(talks):
    model = models[i] if i < len(models) else {}
    still = alone[i] if i < len(alone) else {}
    pct = lambda s: None if s is None else 100 * s / r["secs"]
    still_pct = None if "server_cpu_s" not in still else 100 * still["server_cpu_s"] / still["secs"]
    still_tps = None if "tokens" not in still else still["tokens"] / still["secs"]
    errors = ", ".join(f"{k} {v}" for k, v in r["errors"].items()) or "none"
    print(f"| {i + 1} | {f(r['secs'])} | {r['replies']} | {f(r['replies_per_s'], 2)} | {r['ai_delta']:,} | {f(r['ai_delta_per_s'])} | "
          f"{f(r['pieces_per_reply'])} | {f(r['reply_ms_mean'], 0)} ({f(r['reply_ms']['p99'], 0)}) | "
          f"{f(r['first_piece_ms_mean'], 0)} ({f(r['first_piece_ms']['p99'], 0)}) | {errors} | {r['timeouts']} | "
          f"{f(still_pct)} ({f(still_tps, 0)}) | {f(pct(model.get('cpu_s')))} |")
EOF
cat bench/COMPANION.md
