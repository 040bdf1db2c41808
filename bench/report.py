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
FLOOR = "floor"  # the floor writer, `loadgen floor-server` (bench/src/floor/)
TARGETS = ["parlor-native", "parlor-socketio", PEER, FLOOR]
# The two-node scenario's setups (loadgen --label), in the order the report shows them.
SETUPS = [
    ("one-node", "(a) one node, in-process bus"),
    ("one-node-redis", "(b) one node, through Redis"),
    ("two-node", "(c) two nodes, one Redis (500 + 500 clients)"),
]
COST_LIMIT = 1.30  # server CPU per delivery through Redis, against the in-process bus
P99_LIMIT_MS = 50.0
FLOOR_LIMIT = 1.25  # Parlor's p99 over the floor writer's at the same rate, 10 000 clients
FLOOR_CLIENTS = 10000


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


def sweep_steps(rows):
    """The reported steps of each matrix sweep by (target, clients, senders): a sweep prints its
    steps, then its summary. The idle measurement's burst (before the first sweep) is not one."""
    out, pending = {}, {}
    for r in rows:
        if r["kind"] == "idle_memory":
            for key in [k for k in pending if k[0] == r["target"]]:
                del pending[key]
        elif r["kind"] == "fanout_step":
            pending.setdefault((r["target"], r["senders"]), []).append(r)
        elif r["kind"] == "fanout_max":
            mine = pending.pop((r["target"], r["senders"]), [])
            # A step's clients are those open (≥ 99 % of the sweep's); a killed sweep's steps
            # at another size are left out.
            out[(r["target"], r["clients"], r["senders"])] = [x for x in mine if r["clients"] / 2 < x["clients"] <= r["clients"]]
    return out


def by_rate(steps):
    """A sweep's steps by offered rate (a rate tried twice keeps its later step)."""
    return {round(x["offered_deliveries_per_s"]): x for x in steps}


def kept_up(step):
    """Nothing lost or dropped, and delivered at ≥ 90 % of the offered rate."""
    return (step["lost"] == 0 and not step.get("errors") and not step.get("disconnected")
            and step["delivered_per_s"] >= 0.9 * step["offered_deliveries_per_s"])


def p99(step):
    return step["latency_ms"]["p99"]


def floor_log(results):
    """The floor writer's own counts (one JSON line per server it ran), from floor.log beside
    the results, summed; None when there is none."""
    path = os.path.join(os.path.dirname(os.path.abspath(results)), "floor.log")
    try:
        with open(path) as f:
            runs = [json.loads(line) for line in f if line.startswith("{") and '"floor_server"' in line]
    except (OSError, ValueError):
        return None
    if not runs:
        return None
    return {key: sum(r.get(key, 0) for r in runs) for key in ("deliveries", "queued", "queue_writes", "slow_consumers", "write_errors", "refused")}


def floor_verdicts(sweeps, n=FLOOR_CLIENTS):
    """(goal, limit, measured text, met) rows: Parlor native's p99 at n clients against the
    floor writer's (at the rates the floor kept up with) and the Node peer's, at the same rates."""
    out = []
    clients = f"{n:,}".replace(",", " ")
    pairs = []  # (rate, senders, Parlor's step, the other's step)
    for (t, nn, m), steps in sweeps.items():
        if t == FLOOR and nn == n:
            parlor = by_rate(sweeps.get(("parlor-native", n, m), []))
            pairs += [(rate, m, parlor[rate], x) for rate, x in by_rate(steps).items() if rate in parlor and kept_up(x)]
    if pairs:
        rate, m, ours, floor = max(pairs, key=lambda p: p99(p[2]) / max(p99(p[3]), 1e-3))
        worst = p99(ours) / max(p99(floor), 1e-3)
        lost = sum(p[2]["lost"] for p in pairs)
        measured = (f"worst {worst:.2f}× at {rate:,} deliveries/s, {m} sender{'s' if m > 1 else ''} ({p99(ours):.0f} vs {p99(floor):.0f} ms); "
                    f"{len(pairs)} rate{'s' if len(pairs) > 1 else ''}")
        if lost:
            measured += f"; Parlor lost {lost:,}"
        out.append((f"p99 at {clients} clients vs the floor writer at the same rate (rates the floor kept up with)",
                    f"≤ {FLOOR_LIMIT:.2f}×", measured, worst <= FLOOR_LIMIT and not lost))
    pairs = []
    for (t, nn, m), steps in sweeps.items():
        if t == PEER and nn == n:
            parlor = by_rate(sweeps.get(("parlor-native", n, m), []))
            pairs += [(rate, m, parlor[rate], x) for rate, x in by_rate(steps).items() if rate in parlor]
    if pairs:
        lower = sum(1 for p in pairs if p99(p[2]) < p99(p[3]))
        rate, m, ours, peer = max(pairs, key=lambda p: p99(p[2]) / max(p99(p[3]), 1e-3))
        measured = (f"lower at {lower} of {len(pairs)} rates; at most {p99(ours) / max(p99(peer), 1e-3):.2f}× the peer's "
                    f"at {rate:,}/s, {m} sender{'s' if m > 1 else ''} ({p99(ours):.0f} vs {p99(peer):.0f} ms)")
        out.append((f"p99 at {clients} clients vs the Node peer at the same rate", "lower", measured, lower == len(pairs)))
    return out


def floor_section(w, sweeps, counts):
    """The "Against the floor writer" section: every target's step latency beside the floor's
    at the rates both tried, per room size and number of senders."""
    keys = sorted({(n, m) for (t, n, m) in sweeps if t == FLOOR})
    if not keys:
        return
    w("## Against the floor writer\n")
    w("The floor writer (`loadgen floor-server`, `bench/src/floor/`) is the least a server can do for a fan-out: one thread on core 0 like Parlor, "
      "`TCP_NODELAY`, Parlor's native framing, and per `send` the `message` event encoded once and written into every member's socket in one loop — "
      "no chat logic, no queue or task per connection in between; what a socket does not take at once waits in a queue of its own (closed at "
      "1 024 frames, Parlor's limit). The same generator measures it the same way. It bounds latency, not throughput: it writes every frame at once, "
      "one system call per socket per message, where Parlor under load gathers a connection's frames for a few milliseconds, so in small rooms at high "
      "rates Parlor delivers more; in a room of 10 000 each socket has one frame per message and there is nothing to gather. Below, each target's reported sweep steps at the rates the "
      "floor's sweep also tried (the ×4 grid from the first rate is shared; bisections are not): p50 / p99 in ms, and p99 over the floor's. "
      "‡ = the step lost messages, dropped clients or fell below 90 % of the offered rate.\n")
    if counts:
        w(f"Over the run the floor writer handed {counts['deliveries']:,} message frames to sockets; {counts['queued']:,} frames waited in a socket's queue "
          f"({counts['queue_writes']:,} `writev` calls wrote them), {counts['slow_consumers']:,} slow consumers were closed, "
          f"{counts['write_errors']:,} writes failed (`bench/results/floor.log`).\n")
    cell = lambda x: "–" if x is None else f"{x['latency_ms']['p50']:.1f} / {p99(x):.1f}{'' if kept_up(x) else ' ‡'}"
    for n, m in keys:
        floor = by_rate(sweeps[(FLOOR, n, m)])
        others = [(t, by_rate(sweeps.get((t, n, m), []))) for t in TARGETS if t != FLOOR]
        others = [(t, s) for t, s in others if s]
        rates = sorted(r for r in floor if any(r in s for _, s in others))
        if not rates:
            continue
        w(f"### {n:,} clients, {m} sender{'s' if m > 1 else ''}\n")
        w("| deliveries/s offered | floor | " + " | ".join(f"{t} | × floor" for t, _ in others) + " |")
        w("|---:|---:|" + "---:|---:|" * len(others))
        for rate in rates:
            f = floor[rate]
            row = [fmt(rate), cell(f)]
            for _, s in others:
                x = s.get(rate)
                row += [cell(x), f"{p99(x) / p99(f):.2f}×" if x and p99(f) > 0 else "–"]
            w("| " + " | ".join(row) + " |")
        w("")


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
    stored = [r for r in rows if r["kind"] == "ack_latency" and (r.get("label") or "").startswith("stored-")]
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
    sweeps = sweep_steps(rows)
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
    w("| floor | the floor writer, `loadgen floor-server`: one thread writing one encoded frame into every member's socket, no chat logic (see Against the floor writer) |")
    w("| placement | server pinned to core 0 (in the two-node scenario both nodes and `redis-server`), `loadgen` (single-threaded) pinned to core 1, loopback |")
    w("| method | open-loop senders taking turns; latency from the *intended* send time to receipt (HDR histogram); a step passes while p99 ≤ 50 ms and nothing is lost; "
      "the rate rises ×4 per step until a step fails, then bisects three times between the last pass and the first failure (≈ 19 % resolution); "
      "steps last 2 s, or long enough for 3 messages (at most 15 s); at 10 000 clients long enough "
      "for 10 messages (at most 30 s) |")
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

    floor_section(w, sweeps, floor_log(sys.argv[1]))

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

    if stored:
        w("## Stored messages (group commit)\n")
        w("Ten senders in a persistent room of 100 members, 10 s per rate, every message acked after the transaction that stores it "
          "committed (the messages that arrive together share one). SQLite is the embedded default; PostgreSQL runs with its default "
          "durability (fsync and synchronous commit on), pinned to core 0 beside the server, whose CPU column does not include it. "
          "A rate the server cannot carry shows as acks far behind and undelivered messages at the end of the step.\n")
        w("| store | rate/s | acked / sent | ack p50 ms | ack p99 ms | ack max ms | delivered | lost | server CPU ms/msg |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in stored:
            lat = r["latency_ms"]
            w(f"| {r['label'].removeprefix('stored-')} | {fmt(r['rate'])} | {r['acked']} / {r['sent']} | {fmt(lat['p50'], 2)} | {fmt(lat['p99'], 2)} "
              f"| {fmt(lat['max'], 2)} | {fmt(r.get('delivered'))} | {fmt(r.get('lost'))} | {fmt(r.get('server_cpu_ms_per_message'), 3)} |")
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
    sio_1k = best("parlor-socketio", 1000)
    if sio_1k and peer_1k:
        w(f"| Socket.IO framing, 1 000-client room vs Node socket.io | ≥ 10× | {sio_1k / peer_1k:.1f}× | {'met' if sio_1k >= 10 * peer_1k else 'missed'} |")
    def cpu_at_max(target):
        r = max((r for (t, nn, _), r in maxima.items() if t == target and nn == 1000),
                key=lambda r: r["max_delivered_per_s"] or 0, default=None)
        step = (r or {}).get("at_80") or {}
        return step.get("server_cpu_s_per_million")
    sio_cpu, native_cpu = cpu_at_max("parlor-socketio"), cpu_at_max("parlor-native")
    if sio_cpu and native_cpu:
        w(f"| Socket.IO CPU per delivery vs native (1 000 clients, at 80 % of each one's maximum) | ≤ 1.5× | {sio_cpu:.2f} / {native_cpu:.2f} µs = {sio_cpu / native_cpu:.2f}× | {'met' if sio_cpu <= 1.5 * native_cpu else 'missed'} |")
    idle_sio = [r for r in idle if r["target"] == "parlor-socketio" and r["phase"] == "idle" and r.get("joined", True)]
    if idle_sio:
        r = idle_sio[0]
        w(f"| memory per idle Socket.IO connection ({fmt(r['connections'])} open, user) | ≤ 16 KB | {r['user_bytes_per_conn'] / 1000:.1f} KB | {'met' if r['user_bytes_per_conn'] <= 16_000 else 'missed'} |")
    persisted = acks.get(("parlor-native", True))
    if persisted:
        p99 = persisted["latency_ms"]["p99"]
        w(f"| stored message send → ack p99 at {fmt(persisted['rate'])}/s (persistent room) | < 5 ms | {p99:.2f} ms | {'met' if p99 < 5 else 'missed'} |")
    carried = [r for r in stored if r["label"] == "stored-sqlite" and r["acked"] == r["sent"] and not r.get("lost")
               and r["latency_ms"]["p99"] <= 50]
    if any(r["label"] == "stored-sqlite" for r in stored):
        top = max((r["rate"] for r in carried), default=0)
        w(f"| stored messages/s sustained on SQLite (all acked, nothing lost, ack p99 ≤ 50 ms) | ≥ 5 000 | {fmt(top)} | {'met' if top >= 5000 else 'missed'} |")
    for goal, limit, measured, met in floor_verdicts(sweeps):
        w(f"| {goal} | {limit} | {measured} | {'met' if met else 'missed'} |")
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
