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
    return f"{ours / theirs:.1f}×"


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip().startswith("{")]
    maxima = {(r["target"], r["clients"], r["senders"]): r for r in rows if r["kind"] == "fanout_max"}
    idle = [r for r in rows if r["kind"] == "idle_memory"]
    acks = {r["target"]: r for r in rows if r["kind"] == "ack_latency"}
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
    w("| method | open-loop senders; latency from the *intended* send time to receipt (HDR histogram); a rate passes while p99 ≤ 50 ms and nothing is lost; rates rise ×1.5 per step |\n")

    w("## Fan-out: maximum sustained delivery rate\n")
    w("Deliveries are messages received by clients (one send to a room of N counts N). "
      "The first maximum requires p99 ≤ 50 ms and no loss; the lossless maximum only requires that every message arrives and the server keeps up (≥ 95 % of the offered rate), whatever the latency. "
      "p50/p99 in ms at 50 % and 80 % of the maximum; CPU-s/M = server CPU seconds per million deliveries; "
      "gen CPU = generator CPU seconds during the fastest passing step (≈ step length means the generator was the bottleneck).\n")
    sizes = sorted({k[1] for k in maxima})
    for n in sizes:
        for m in sorted({k[2] for k in maxima if k[1] == n}):
            w(f"### {n:,} clients, {m} sender{'s' if m > 1 else ''}\n")
            w("| target | max deliveries/s (p99 ≤ 50 ms) | vs peer | lossless max/s (p99) | vs peer | p50 @50% | p99 @50% | p50 @80% | p99 @80% | CPU-s/M | gen CPU-s |")
            w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            peer = maxima.get((PEER, n, m), {}).get("max_delivered_per_s")
            peer_lossless = maxima.get((PEER, n, m), {}).get("max_lossless_per_s")
            for t in TARGETS:
                r = maxima.get((t, n, m))
                if not r:
                    continue
                a50 = (r.get("at_50") or {}).get("latency_ms", {})
                a80 = (r.get("at_80") or {}).get("latency_ms", {})
                ceiling = " (ceiling)" if r.get("hit_ceiling") else ""
                lossless = f"{fmt(r.get('max_lossless_per_s'))} ({fmt(r.get('lossless_p99_ms'), 0)} ms)"
                w(f"| {t} | {fmt(r['max_delivered_per_s'])}{ceiling} | {ratio(r['max_delivered_per_s'], peer) if t != PEER else ''} "
                  f"| {lossless} | {ratio(r.get('max_lossless_per_s'), peer_lossless) if t != PEER else ''} "
                  f"| {fmt(a50.get('p50'), 1)} | {fmt(a50.get('p99'), 1)} | {fmt(a80.get('p50'), 1)} | {fmt(a80.get('p99'), 1)} "
                  f"| {fmt(r.get('server_cpu_s_per_million'), 2)} | {fmt(r.get('generator_cpu_s_at_max'), 2)} |")
            w("")

    w("## Idle memory per connection\n")
    w("(RSS − baseline) / connections for the server process, and the kernel's share as the `Slab` delta of `/proc/meminfo` / connections (both ends of loopback sockets are counted there, so it over-states one side).\n")
    w("| target | phase | connections | baseline RSS MiB | RSS MiB | user B/conn | kernel B/conn |")
    w("|---|---|---:|---:|---:|---:|---:|")
    for r in idle:
        w(f"| {r['target']} | {r['phase']} | {fmt(r['connections'])} | {fmt(r['baseline_rss_kib'] / 1024, 1)} | {fmt(r['rss_kib'] / 1024, 1)} "
          f"| {fmt(r['user_bytes_per_conn'])} | {fmt(r['kernel_bytes_per_conn'])} |")
    w("")

    w("## Send → ack latency (lobby; 1 000 clients in the room, one sender at 200 msgs/s)\n")
    w("| target | acked / sent | p50 ms | p99 ms | max ms |")
    w("|---|---:|---:|---:|---:|")
    for t in TARGETS:
        r = acks.get(t)
        if r:
            lat = r["latency_ms"]
            w(f"| {t} | {r['acked']} / {r['sent']} | {fmt(lat['p50'], 2)} | {fmt(lat['p99'], 2)} | {fmt(lat['max'], 2)} |")
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
    idle_native = [r for r in idle if r["target"] == "parlor-native" and r["phase"] == "idle"]
    if idle_native:
        r = idle_native[0]
        total = r["user_bytes_per_conn"] + r["kernel_bytes_per_conn"]
        w(f"| memory per idle connection | ≤ 10 KB | {total / 1000:.1f} KB ({r['user_bytes_per_conn'] / 1000:.1f} user + {r['kernel_bytes_per_conn'] / 1000:.1f} kernel) | {'met' if total <= 10_000 else 'missed'} |")
        w(f"| idle server RSS | < 30 MB | {r['baseline_rss_kib'] / 1024:.1f} MiB | {'met' if r['baseline_rss_kib'] * 1024 < 30e6 else 'missed'} |")
    w("")

    analysis = os.path.join(HERE, "analysis.md")
    if os.path.exists(analysis):
        with open(analysis) as f:
            w(f.read())
    print("\n".join(out))


if __name__ == "__main__":
    main()
