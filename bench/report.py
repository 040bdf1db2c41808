#!/usr/bin/env python3
"""Turns loadgen's JSON lines (bench/run.sh) into bench/REPORT.md.

Usage: report.py results.jsonl > REPORT.md
The hand-written analysis in bench/analysis.md (why a target is missed and what would close
it) is appended as it stands.
"""
import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = "socketio-peer"
TARGETS = ["parlor-native", "parlor-socketio", PEER]
# The two-node scenario's setups (loadgen --label), in the order the report shows them.
SETUPS = [
    ("one-node", "(a) one node, in-process bus"),
    ("one-node-redis", "(b) one node, through Redis"),
    ("two-node", "(c) two nodes, one Redis (500 + 500 clients)"),
]
COST_LIMIT = 1.30  # server CPU per delivery through Redis, against the in-process bus
P99_LIMIT_MS = 50.0


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def peer_version():
    path = os.path.join(HERE, "peers/node/node_modules/socket.io/package.json")
    try:
        with open(path) as f:
            return json.load(f)["version"]
    except OSError:
        return "unknown"


def fmt(value, digits=0):
    if value is None:
        return "–"
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}"
    return str(value)


def ratio(ours, theirs):
    if not ours or not theirs:
        return "–"
    r = ours / theirs
    return f"{r:.1f}×" if r >= 0.1 else f"{r:.2f}×"


def others_share(step):
    """The share of a core that other processes (and unattributed interrupts) used during a step."""
    other, wall = step.get("other_cpu_s"), step.get("wall_s")
    return other / wall if other is not None and wall else None


def median(values):
    values = sorted(v for v in values if v is not None)
    return values[len(values) // 2] if values else None


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def fixed_runs(steps, label):
    """The fixed steps at the common rate of one two-node setup."""
    return [x for x in steps if x.get("label") == label and x.get("scenario") == "fixed"]


def cost(steps, label):
    """Mean Parlor CPU-s per million deliveries over a setup's fixed steps."""
    return mean([x.get("server_cpu_s_per_million") for x in fixed_runs(steps, label)])


def two_node_verdicts(steps):
    """(goal, limit, measured text, met) rows for the two-node targets."""
    out = []
    base = cost(steps, "one-node")
    for label, name in (("one-node-redis", "one node through Redis"), ("two-node", "two nodes through Redis")):
        theirs = cost(steps, label)
        if base and theirs:
            out.append((f"server CPU per delivery, {name}, vs the in-process bus (same rate)",
                        f"≤ {COST_LIMIT:.2f}×", f"{theirs / base:.2f}×", theirs / base <= COST_LIMIT))
    p99s = [x["latency_ms"]["p99"] for x in fixed_runs(steps, "two-node")]
    if p99s:
        p99 = median(p99s)
        spread = ", ".join(f"{p:.1f}" for p in p99s)
        out.append(("p99 at 80 % of the two-node maximum (median of the 10-s steps)", f"≤ {P99_LIMIT_MS:.0f} ms",
                    f"{p99:.1f} ms ({spread})", p99 <= P99_LIMIT_MS))
    return out


def two_node_section(w, setups, steps):
    """The "Two nodes through Redis" section."""
    two = setups.get("two-node") or {}
    fixed = fixed_runs(steps, "two-node")
    rate = fixed[0]["offered_deliveries_per_s"] if fixed else None
    clients = two.get("clients") or 1000
    w("## Two nodes through Redis\n")
    w(f"A lobby of {clients:,} native clients with {two.get('senders', 10)} senders, on (a) one node with the in-process bus, (b) one node that fans out through Redis "
      "(every message is published, comes back from Redis and is dropped as the node's own), and (c) two nodes sharing one Redis, one SQLite file "
      "and one master key, every other client (and sender) on each. Every Parlor node and `redis-server` run on core 0, the generator on core 1: "
      "with two cores this measures cost, not scale. Each setup gets a fresh server (and Redis) and the rate sweep above; "
      "(c) runs first, and at 80 % of its maximum each setup then runs three fixed 10-second steps, each on a fresh fleet. "
      "Parlor CPU = the node processes' CPU time (both nodes together in (c)); Redis CPU is `redis-server`'s, apart.\n")
    w("| setup | max deliveries/s (p99 ≤ 50 ms) | p50 @80% | p99 @80% | Parlor CPU-s/M at max | Redis CPU-s/M at max | first fail (p99 ms) | lossless max/s (p99 ms) |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, name in SETUPS:
        r = setups.get(label)
        if not r:
            continue
        a80 = (r.get("at_80") or {}).get("latency_ms", {})
        fail = "–"
        if r.get("first_failing_per_s"):
            fail = f"{fmt(r['first_failing_per_s'])} ({fmt(r.get('first_failing_p99_ms'), 0)})"
            if r.get("first_failing_lost"):
                fail += f", {fmt(r['first_failing_lost'])} lost"
        w(f"| {name} | {fmt(r['max_delivered_per_s'])} | {fmt(a80.get('p50'), 1)} | {fmt(a80.get('p99'), 1)} "
          f"| {fmt(r.get('server_cpu_s_per_million'), 2)} | {fmt(r.get('redis_cpu_s_per_million'), 3)} | {fail} "
          f"| {fmt(r.get('max_lossless_per_s'))} ({fmt(r.get('lossless_p99_ms'), 0)}) |")
    w("")
    w("The sweep's maximum moves by a bisection step (≈ 19 %) from run to run: its 2-second steps near the limit pass or fail on a p99 that "
      "varies by tens of milliseconds between fleets. The fixed steps below are the comparison.\n")
    if rate:
        w(f"At one rate: {rate:,.0f} deliveries/s offered (80 % of the two-node maximum), 3 × 10 s per setup. Latency: median of the steps' percentiles, "
          "the steps' p99 in brackets; with two nodes also apart for messages sent on the receiver's node (same) and on the other (cross). "
          "CPU-s/M = CPU seconds per million deliveries, mean of the steps; waiting for the core = the time the nodes' threads were runnable but "
          "waited for a core (`/proc/<pid>/task/*/schedstat`), per second of the step — in (c) mostly each node waiting for the other; "
          "lost / duplicated / out of order: all steps together; "
          "other load = the share of a core the rest of the machine used meanwhile (other processes, unattributed interrupts, steal), at most.\n")
        w("| setup | p50 ms | p99 ms | p50 / p99 same node | p50 / p99 cross node | Parlor CPU-s/M | per node | vs (a) | Redis CPU-s/M | Parlor + Redis vs (a) | waiting for the core | lost | dup. | out of order | other load |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        base = cost(steps, "one-node")
        for label, name in SETUPS:
            runs = fixed_runs(steps, label)
            if not runs:
                continue
            pct = lambda key, q: median([((x.get(key) or {}).get(q)) for x in runs])
            path = lambda key: f"{fmt(pct(key, 'p50'), 1)} / {fmt(pct(key, 'p99'), 1)}" if pct(key, "p50") is not None else "–"
            cpu = cost(steps, label)
            redis = mean([x.get("redis_cpu_s_per_million") for x in runs])
            per_node = [mean(n) for n in zip(*[x.get("server_cpu_s_per_million_by_node") or [] for x in runs])]
            nodes = " + ".join(f"{n:.3f}" for n in per_node) if len(per_node) > 1 else "–"
            vs = f"{cpu / base:.2f}×" if cpu and base else "–"
            total = f"{(cpu + (redis or 0)) / base:.2f}×" if cpu and base else "–"
            share = max([x for x in (others_share(r) for r in runs) if x is not None], default=None)
            other = f"{share * 100:.0f} %" if share is not None else "–"
            p99s = ", ".join(f"{x['latency_ms']['p99']:.0f}" for x in runs)
            waits = mean([x["server_run_queue_wait_s"] / x["wall_s"] for x in runs if x.get("server_run_queue_wait_s") is not None and x.get("wall_s")])
            waiting = f"{waits * 100:.0f} %" if waits is not None else "–"
            w(f"| {name} | {fmt(pct('latency_ms', 'p50'), 1)} | {fmt(pct('latency_ms', 'p99'), 1)} ({p99s}) | {path('latency_same_node_ms')} | {path('latency_cross_node_ms')} "
              f"| {fmt(cpu, 3)} | {nodes} | {vs} | {fmt(redis, 3)} | {total} | {waiting} "
              f"| {fmt(sum(x['lost'] for x in runs))} | {fmt(sum(x['duplicates'] for x in runs))} | {fmt(sum(x['out_of_order'] for x in runs))} | {other} |")
        w("")
        a, b = cost(steps, "one-node"), cost(steps, "one-node-redis")
        redis_b = mean([x.get("redis_cpu_s_per_million") for x in fixed_runs(steps, "one-node-redis")])
        if a and b:
            # X CPU-s per million deliveries is X µs per delivery, or X·N µs per message to N.
            if abs(b - a) <= 0.03 * a:
                what = "within the steps' spread: encoding, publishing, and receiving and decoding the node's own copy do not show"
            else:
                what = "encoding, publishing, and receiving and decoding the node's own copy"
            w(f"Per message to {clients:,} clients: {a * clients:,.0f} CPU-µs of Parlor on the in-process bus and {b * clients:,.0f} through Redis "
              f"({(b - a) * clients:+,.0f} µs, {what}), plus {(redis_b or 0) * clients:,.0f} µs in `redis-server`.\n")
    w("| goal | limit | measured | verdict |")
    w("|---|---|---|---|")
    for goal, limit, measured, met in two_node_verdicts(steps):
        w(f"| {goal} | {limit} | {measured} | {'met' if met else '**missed**'} |")
    w("")
    # What every step of the three setups saw: a duplicate or a reordered message is a bug
    # whatever the load; loss counts only where the server kept up (at most the maximum).
    w("Every reported step of the three setups: deliveries duplicated or out of order (a server bug at any load), and lost in steps at or below the setup's maximum "
      "(above it, loss is overload: the server closes slow consumers).\n")
    w("| setup | steps | delivered | duplicated | out of order | lost at ≤ max | clients dropped in the sweep (reasons) |")
    w("|---|---:|---:|---:|---:|---:|---|")
    for label, name in SETUPS:
        mine = [x for x in steps if x.get("label") == label]
        if not mine:
            continue
        top = (setups.get(label) or {}).get("max_offered_per_s") or 0
        kept_up = sum(x["lost"] for x in mine if x["offered_deliveries_per_s"] <= top)
        r = setups.get(label) or {}
        reasons = ", ".join(f"{k}: {v}" for k, v in (r.get("close_reasons") or {}).items()) or "none"
        w(f"| {name} | {len(mine)} | {fmt(sum(x['delivered'] for x in mine))} | {fmt(sum(x['duplicates'] for x in mine))} "
          f"| {fmt(sum(x['out_of_order'] for x in mine))} | {fmt(kept_up)} | {fmt(r.get('dropped'))} ({reasons}) |")
    w("")


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip().startswith("{")]
    all_rows = rows
    # The two-node scenario's runs carry a label; the matrix's do not.
    setups = {r["label"]: r for r in rows if r["kind"] == "fanout_max" and r.get("label")}
    labelled_steps = [r for r in rows if r["kind"] == "fanout_step" and r.get("label")]
    rows = [r for r in rows if not r.get("label")]
    maxima = {(r["target"], r["clients"], r["senders"]): r for r in rows if r["kind"] == "fanout_max"}
    idle = [r for r in rows if r["kind"] == "idle_memory"]
    ramps = {}  # the first ramp per target and size: the sweep's (ack runs ramp again later)
    for r in rows:
        if r["kind"] == "ramp":
            ramps.setdefault((r["target"], r["clients"]), r)
    acks = {(r["target"], r.get("persisted", False)): r for r in rows if r["kind"] == "ack_latency"}
    run = next((r for r in rows if r["kind"] == "run"), None)
    uploads = [r for r in rows if r["kind"] == "uploads"]
    out = []
    w = out.append
    w("# Parlor benchmark report\n")
    w(f"Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by `bench/run.sh`; raw data in `bench/results/results.jsonl`.\n")
    w("| | |\n|---|---|")
    w(f"| CPU | {cpu_model()} ({os.cpu_count()} cores) |")
    w(f"| kernel | {platform.release()} |")
    commit = (run or {}).get("commit") or sh("git", "rev-parse", "--short", "HEAD")
    w(f"| Parlor | {commit} (release build), {sh('rustc', '--version')} |")
    w(f"| peer | Node {sh('node', '--version')}, socket.io {peer_version()} |")
    w("| placement | server pinned to core 0 (in the two-node scenario both nodes and `redis-server`), `loadgen` (single-threaded) pinned to core 1, loopback |")
    w("| method | open-loop senders taking turns; latency from the *intended* send time to receipt (HDR histogram); a step passes while p99 ≤ 50 ms and nothing is lost; "
      "the rate rises ×4 per step until a step fails, then bisects three times between the last pass and the first failure (≈ 19 % resolution); "
      "steps last 2 s, or long enough for 3 messages (at most 15 s) |")
    steps = [r for r in all_rows if r["kind"] == "fanout_step"]
    shares = sorted(x for x in (others_share(r) for r in steps) if x is not None)
    if shares:
        busy = sum(1 for x in shares if x > 0.15)
        w(f"| other load | during the fan-out steps the rest of the machine used a median {shares[len(shares) // 2] * 100:.0f} % and at most {shares[-1] * 100:.0f} % of a core "
          f"(other processes, interrupts not charged to a process, steal); {busy} of {len(shares)} steps above 15 % |")
    if run:
        matrix = f"{run['targets']}; N ∈ {run['sizes']}" if run.get("targets") else "the two-node scenario only"
        if run.get("two_node") == "yes":
            matrix += "; the two-node scenario"
        w(f"| matrix | {matrix}; wall time {run['wall_secs'] // 60} min {run['wall_secs'] % 60} s |")
    w("")

    w("## Fan-out: maximum sustained delivery rate\n")
    w("Deliveries are messages received by clients (one send to a room of N counts N). "
      "**max** is the highest delivered rate with p99 ≤ 50 ms and no loss; **lossless** only requires that every message arrives, whatever the latency "
      "(arrivals spread over more than the step's length count at the rate they came in). "
      "p50/p99 in ms at 50 % and 80 % of the maximum; CPU-s/M = server CPU seconds per million deliveries at the maximum; "
      "gen CPU = the generator's share of one core at the maximum (near 100 % means the generator, not the server, was the limit); "
      "first fail = the lowest rate that failed, with its p99; † = no rate met p99 ≤ 50 ms, so 50 % and 80 % are of the lossless maximum.\n")
    sizes = sorted({k[1] for k in maxima})
    for n in sizes:
        ramp_notes = [f"{t}: {fmt(ramps[(t, n)].get('secs'), 1)} s" for t in TARGETS if (t, n) in ramps]
        for m in sorted({k[2] for k in maxima if k[1] == n}):
            w(f"### {n:,} clients, {m} sender{'s' if m > 1 else ''}\n")
            w("| target | max deliveries/s | vs peer | p50 @50% | p99 @50% | p50 @80% | p99 @80% | CPU-s/M | gen CPU | first fail (p99 ms) | lossless max/s (p99 ms) | vs peer |")
            w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            peer = maxima.get((PEER, n, m), {}).get("max_delivered_per_s")
            peer_lossless = maxima.get((PEER, n, m), {}).get("max_lossless_per_s")
            for t in TARGETS:
                r = maxima.get((t, n, m))
                if not r:
                    continue
                a50 = (r.get("at_50") or {}).get("latency_ms", {})
                a80 = (r.get("at_80") or {}).get("latency_ms", {})
                # When no rate met the latency limit, 50 % / 80 % are of the lossless maximum.
                of_lossless = (r.get("at_50") or {}).get("basis") == "lossless"
                mark = " †" if of_lossless else ""
                ceiling = " (ceiling)" if r.get("hit_ceiling") else ""
                share = r.get("generator_cpu_share_at_max")
                gen = f"{share * 100:.0f} %" if share is not None else "–"
                fail = "–"
                if r.get("first_failing_per_s"):
                    fail = f"{fmt(r['first_failing_per_s'])} ({fmt(r.get('first_failing_p99_ms'), 0)})"
                    if r.get("first_failing_lost"):
                        fail += f", {fmt(r['first_failing_lost'])} lost"
                lossless = f"{fmt(r.get('max_lossless_per_s'))} ({fmt(r.get('lossless_p99_ms'), 0)})"
                w(f"| {t} | {fmt(r['max_delivered_per_s'])}{ceiling} | {ratio(r['max_delivered_per_s'], peer) if t != PEER else ''} "
                  f"| {fmt(a50.get('p50'), 1)}{mark} | {fmt(a50.get('p99'), 1)}{mark} | {fmt(a80.get('p50'), 1)}{mark} | {fmt(a80.get('p99'), 1)}{mark} "
                  f"| {fmt(r.get('server_cpu_s_per_million'), 2)} | {gen} | {fail} "
                  f"| {lossless} | {ratio(r.get('max_lossless_per_s'), peer_lossless) if t != PEER else ''} |")
            w("")
        if ramp_notes:
            w(f"Connecting {n:,} clients took {', '.join(ramp_notes)}.\n")

    w("## Idle memory per connection\n")
    w("Measured on a fresh server at the largest room size: clients are identified guests in the lobby (the Node peer's are plain sockets in its one room). "
      "**connections** = clients whose handshake completed and that were still open at the reading (the server's own socket count beside it). "
      "user = (server RSS − RSS before any client connected) / connections; kernel = growth of the kernel's `Slab` (`/proc/meminfo`) / connections — "
      "that counts *both* ends of each loopback connection and everything else on the machine, so the server's share is about half. "
      "Phases: idle after connecting, after a 2-second broadcast burst, idle again.\n")
    w("| target | phase | connections (server sockets) | baseline RSS MiB | RSS MiB | user B/conn | kernel B/conn (both ends) |")
    w("|---|---|---:|---:|---:|---:|---:|")
    for r in idle:
        joined = "" if r.get("joined", True) else " (not in a room)"
        w(f"| {r['target']}{joined} | {r['phase']} | {fmt(r['connections'])} of {fmt(r.get('clients', r['connections']))} ({fmt(r.get('server_sockets'))}) "
          f"| {fmt(r['baseline_rss_kib'] / 1024, 1)} | {fmt(r['rss_kib'] / 1024, 1)} "
          f"| {fmt(r['user_bytes_per_conn'])} | {fmt(r['kernel_bytes_per_conn'])} |")
    w("")

    w("## Send → ack latency\n")
    w("One sender at a fixed rate with an ack on every message: in the lobby (1 000 clients; validated and fanned out, not stored) "
      "and in a persistent room (100 registered clients; acked after the message is stored — the persisted send path). "
      "Delivery p50 is the members' receive latency of the same messages.\n")
    w("| target | room | clients | rate/s | acked / sent | ack p50 ms | ack p99 ms | ack max ms | delivery p50 ms | lost | server CPU ms/msg |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for persisted in (False, True):
        for t in TARGETS:
            r = acks.get((t, persisted))
            if r:
                lat = r["latency_ms"]
                room = "persistent" if persisted else "lobby"
                w(f"| {t} | {room} | {fmt(r['clients'])} | {fmt(r['rate'])} | {r['acked']} / {r['sent']} | {fmt(lat['p50'], 2)} | {fmt(lat['p99'], 2)} | {fmt(lat['max'], 2)} "
                  f"| {fmt((r.get('delivery_latency_ms') or {}).get('p50'), 2)} | {fmt(r.get('lost'))} | {fmt(r.get('server_cpu_ms_per_message'), 2)} |")
    w("")

    if uploads:
        w("## Uploads\n")
        w("Guests upload text files to the lobby over HTTP, all at once, each streamed through type detection and chunk sealing into the "
          "local object store (Parlor only: the reference peer has no files). Latency is request start to the server's answer. "
          "RSS before and at peak: the server's memory; it should not follow the bytes in flight.\n")
        w("| uploaders | files | MiB each | in flight MiB | MiB/s | p50 ms | p99 ms | failed | server RSS before MB | peak MB |")
        w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in uploads:
            mb = lambda kib: fmt(kib / 1024, 1) if kib else "—"
            w(f"| {r['uploaders']} | {r['files']} | {r['file_mib']} | {r['in_flight_mib']} | {fmt(r['mib_per_s'], 1)} | {fmt(r['p50_ms'])} | {fmt(r['p99_ms'])} "
              f"| {r['failed']} | {mb(r.get('server_rss_before_kib'))} | {mb(r.get('server_rss_peak_kib'))} |")
        w("")

    if setups:
        two_node_section(w, setups, labelled_steps)

    w("## Targets\n")
    w("| target | goal | measured | verdict |")
    w("|---|---|---|---|")
    def best(target, n):
        vals = [r["max_delivered_per_s"] for (t, nn, _), r in maxima.items() if t == target and nn == n]
        return max(vals) if vals else None
    native_1k, peer_1k = best("parlor-native", 1000), best(PEER, 1000)
    lossless = lambda target: max([r.get("max_lossless_per_s") or 0 for (t, nn, _), r in maxima.items() if t == target and nn == 1000] or [0])
    if native_1k and peer_1k:
        w(f"| 1 000-client room vs Node socket.io | ≥ 10× | {native_1k / peer_1k:.1f}× | {'met' if native_1k >= 10 * peer_1k else 'missed'} |")
    elif native_1k:
        w(f"| 1 000-client room vs Node socket.io | ≥ 10× | peer never met p99 ≤ 50 ms | met (by the latency rule) |")
    if lossless("parlor-native") and lossless(PEER):
        w(f"| same, lossless throughput regardless of latency | ≥ 10× | {lossless('parlor-native') / lossless(PEER):.1f}× | {'met' if lossless('parlor-native') >= 10 * lossless(PEER) else 'missed'} |")
    if native_1k:
        w(f"| native deliveries/s (1 000 clients) | ≥ 1 000 000 | {native_1k:,.0f} | {'met' if native_1k >= 1e6 else 'missed'} |")
    p99s = [((r.get('at_80') or {}).get('latency_ms') or {}).get('p99') for (t, n, _), r in maxima.items() if t == "parlor-native" and n == 10000]
    p99s = [p for p in p99s if p is not None]
    if p99s:
        worst = max(p99s)
        w(f"| p99 at 80 % of max, 10 000 clients | < 50 ms | {worst:.1f} ms | {'met' if worst < 50 else 'missed'} |")
    elif any(t == "parlor-native" and n == 10000 for (t, n, _) in maxima):
        w("| p99 at 80 % of max, 10 000 clients | < 50 ms | no rate met p99 ≤ 50 ms | missed |")
    idle_native = [r for r in idle if r["target"] == "parlor-native" and r["phase"] == "idle" and r.get("joined", True)]
    if idle_native:
        r = idle_native[0]
        server_kernel = r["kernel_bytes_per_conn"] / 2
        total = r["user_bytes_per_conn"] + server_kernel
        w(f"| memory per idle connection ({fmt(r['connections'])} open) | ≤ 10 KB | {total / 1000:.1f} KB ({r['user_bytes_per_conn'] / 1000:.1f} user + {server_kernel / 1000:.1f} kernel, the server's half) | {'met' if total <= 10_000 else 'missed'} |")
        w(f"| idle server RSS | < 30 MB | {r['baseline_rss_kib'] / 1024:.1f} MiB | {'met' if r['baseline_rss_kib'] * 1024 < 30e6 else 'missed'} |")
    for goal, limit, measured, met in two_node_verdicts(labelled_steps):
        w(f"| {goal} | {limit} | {measured} | {'met' if met else 'missed'} |")
    w("")

    web = os.path.join(HERE, "WEB.md")
    if os.path.exists(web):
        with open(web) as f:
            # Its own title becomes a section of this report.
            w(f.read().replace("# The web app's first screen", "## The web app's first screen", 1))
        w("")

    analysis = os.path.join(HERE, "analysis.md")
    if os.path.exists(analysis):
        with open(analysis) as f:
            w(f.read())
    print("\n".join(out))


if __name__ == "__main__":
    main()
