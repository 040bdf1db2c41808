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


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip().startswith("{")]
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
    w(f"| Parlor | {sh('git', 'rev-parse', '--short', 'HEAD')} (release build), {sh('rustc', '--version')} |")
    w(f"| peer | Node {sh('node', '--version')}, socket.io {peer_version()} |")
    w("| placement | server pinned to core 0, `loadgen` (single-threaded) pinned to core 1, loopback |")
    w("| method | open-loop senders taking turns; latency from the *intended* send time to receipt (HDR histogram); a step passes while p99 ≤ 50 ms and nothing is lost; "
      "the rate rises ×4 per step until a step fails, then bisects three times between the last pass and the first failure (≈ 19 % resolution); "
      "steps last 2 s, or long enough for 3 messages (at most 15 s) |")
    if run:
        w(f"| matrix | {run['targets']}; N ∈ {run['sizes']}; wall time {run['wall_secs'] // 60} min {run['wall_secs'] % 60} s |")
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
    w("")

    analysis = os.path.join(HERE, "analysis.md")
    if os.path.exists(analysis):
        with open(analysis) as f:
            w(f.read())
    print("\n".join(out))


if __name__ == "__main__":
    main()
