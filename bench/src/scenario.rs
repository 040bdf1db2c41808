//! The measurements: open-loop fan-out steps and the rate sweep, idle memory per connection,
//! and send → ack latency. Each prints JSON lines that `bench/report.py` turns into a report.

use crate::fleet::{Fleet, Plan};
use crate::procfs;
use crate::wire::Target;
use serde_json::{json, Value};
use std::rc::Rc;
use std::time::Duration;

/// What every scenario needs to know about the run.
#[derive(Clone, Debug)]
pub struct Setup {
    pub url: String,
    pub target: Target,
    pub clients: usize,
    pub senders: usize,
    pub payload: usize,
    pub server_pid: Option<u32>,
    pub nick_prefix: String,
}

/// Connects the fleet and starts every client's task; senders are the first `senders`.
pub async fn start_fleet(setup: &Setup) -> anyhow::Result<Rc<Fleet>> {
    let fleet = Fleet::new(setup.target, setup.payload, setup.clients, setup.senders);
    let sockets = fleet
        .connect(&setup.url, setup.clients, 64, &setup.nick_prefix)
        .await?;
    for (i, socket) in sockets.into_iter().enumerate() {
        let sender = (i < setup.senders).then_some(i as u32);
        tokio::task::spawn_local(Rc::clone(&fleet).run_client(socket, i, sender));
    }
    // Let join notices and presence settle before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(fleet)
}

/// One open-loop step at `deliveries_per_s`; returns its JSON result.
pub async fn step(
    fleet: &Fleet,
    setup: &Setup,
    step: u32,
    deliveries_per_s: f64,
    secs: f64,
    p99_limit_ms: f64,
) -> Value {
    let sends_per_s = deliveries_per_s / setup.clients as f64;
    let start_us = fleet.now_us() + 20_000;
    let end_us = start_us + (secs * 1e6) as u64;
    let cpu = (
        procfs::cpu_seconds(setup.server_pid),
        procfs::cpu_seconds(None),
    );
    fleet.start_step(Plan {
        step,
        per_sender_rate: sends_per_s / setup.senders as f64,
        start_us,
        end_us,
        with_ack: false,
    });
    tokio::time::sleep(Duration::from_micros(end_us - fleet.now_us())).await;
    let expected = |fleet: &Fleet| fleet.sent.get() * setup.clients as u64;
    let drain_deadline = fleet.now_us() + 3_000_000;
    while fleet.stats.borrow().delivered < expected(fleet) && fleet.now_us() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats = fleet.stats.borrow();
    let wall = (fleet.now_us() - start_us) as f64 / 1e6;
    let server_cpu = delta(procfs::cpu_seconds(setup.server_pid), cpu.0);
    let lost = expected(fleet).saturating_sub(stats.delivered);
    let p99_ms = stats.percentile_us(0.99) as f64 / 1000.0;
    let ok =
        lost == 0 && stats.errors == 0 && fleet.disconnected.get() == 0 && p99_ms <= p99_limit_ms;
    json!({
        "kind": "fanout_step",
        "target": setup.target.label(),
        "clients": setup.clients,
        "senders": setup.senders,
        "step": step,
        "offered_deliveries_per_s": deliveries_per_s.round(),
        "sent": fleet.sent.get(),
        "expected": expected(fleet),
        "delivered": stats.delivered,
        "delivered_per_s": (stats.delivered as f64 / secs).round(),
        "lost": lost,
        "duplicates": stats.duplicates,
        "out_of_order": stats.out_of_order,
        "errors": stats.errors,
        "disconnected": fleet.disconnected.get(),
        "latency_ms": latency_ms(&stats.latency_us),
        "server_cpu_s": server_cpu,
        "server_cpu_s_per_million": server_cpu.map(|cpu| cpu / (stats.delivered.max(1) as f64 / 1e6)),
        "generator_cpu_s": delta(procfs::cpu_seconds(None), cpu.1),
        "wall_s": wall,
        "ok": ok,
    })
}

/// Raises the rate by `factor` until a step fails (p99 over the limit, or any loss), then
/// measures at 50 % and 80 % of the highest passing rate.
pub async fn sweep(
    setup: &Setup,
    start: f64,
    max: f64,
    factor: f64,
    secs: f64,
    p99_limit_ms: f64,
) -> anyhow::Result<()> {
    let fleet = start_fleet(setup).await?;
    // An unreported warm-up (JIT compilers, lazily grown buffers) before the first real step.
    step(&fleet, setup, 1, start / 2.0, 2.0, f64::INFINITY).await;
    let (mut rate, mut best, mut lossless): (f64, Option<Value>, Option<Value>) =
        (start, None, None);
    let (mut step_no, mut latency_failed) = (2, false);
    while rate <= max {
        let result = step(&fleet, setup, step_no, rate, secs, p99_limit_ms).await;
        println!("{result}");
        step_no += 1;
        let delivered = result["delivered_per_s"].as_f64().unwrap_or(0.0);
        let keeps_up = result["lost"] == 0 && result["errors"] == 0 && delivered >= 0.95 * rate;
        if !keeps_up || fleet.disconnected.get() > 0 {
            break;
        }
        if result["ok"] == true && !latency_failed {
            best = Some(result.clone());
        } else {
            latency_failed = true;
        }
        lossless = Some(result.clone());
        // Past the latency limit, keep going only to find the lossless ceiling, within reason.
        if result["latency_ms"]["p99"].as_f64().unwrap_or(f64::MAX) > 2_000.0 {
            break;
        }
        rate *= factor;
    }
    let max_delivered = best
        .as_ref()
        .and_then(|b| b["delivered_per_s"].as_f64())
        .unwrap_or(0.0);
    let mut summary = json!({
        "kind": "fanout_max",
        "target": setup.target.label(),
        "clients": setup.clients,
        "senders": setup.senders,
        "max_delivered_per_s": max_delivered,
        "max_lossless_per_s": lossless.as_ref().and_then(|b| b["delivered_per_s"].as_f64()).unwrap_or(0.0),
        "lossless_p99_ms": lossless.as_ref().map(|b| b["latency_ms"]["p99"].clone()),
        "server_cpu_s_per_million": best.as_ref().and_then(|b| b.get("server_cpu_s_per_million").cloned()),
        "generator_cpu_s_at_max": best.as_ref().and_then(|b| b.get("generator_cpu_s").cloned()),
        "hit_ceiling": rate > max,
    });
    for (label, share) in [("at_50", 0.5), ("at_80", 0.8)] {
        if max_delivered > 0.0 && fleet.disconnected.get() == 0 {
            let result = step(
                &fleet,
                setup,
                step_no,
                max_delivered * share,
                secs,
                f64::INFINITY,
            )
            .await;
            step_no += 1;
            summary[label] = json!({ "latency_ms": result["latency_ms"], "lost": result["lost"], "delivered_per_s": result["delivered_per_s"] });
        }
    }
    println!("{summary}");
    Ok(())
}

/// A fixed-rate run that fails (non-zero exit) on any loss: the CI smoke test.
pub async fn fixed(setup: &Setup, deliveries_per_s: f64, secs: f64) -> anyhow::Result<bool> {
    let fleet = start_fleet(setup).await?;
    let result = step(&fleet, setup, 1, deliveries_per_s, secs, f64::INFINITY).await;
    println!("{result}");
    Ok(result["lost"] == 0
        && result["errors"] == 0
        && result["disconnected"] == 0
        && result["delivered"].as_u64() > Some(0))
}

/// Memory per idle connection: server RSS and kernel slab before, with N idle clients, after
/// a broadcast burst, and idle again.
pub async fn idle(setup: &Setup, settle_secs: u64) -> anyhow::Result<()> {
    let pid = setup
        .server_pid
        .ok_or_else(|| anyhow::anyhow!("--server-pid is required"))?;
    let reading = || {
        (
            procfs::rss_kib(pid).unwrap_or(0),
            procfs::slab_kib().unwrap_or(0),
        )
    };
    let baseline = reading();
    let fleet = start_fleet(setup).await?;
    let settle = Duration::from_secs(settle_secs);
    tokio::time::sleep(settle).await;
    let report = |phase: &str, (rss, slab): (u64, u64)| {
        let n = setup.clients.max(1) as f64;
        json!({
            "kind": "idle_memory",
            "target": setup.target.label(),
            "phase": phase,
            "connections": setup.clients,
            "baseline_rss_kib": baseline.0,
            "rss_kib": rss,
            "user_bytes_per_conn": ((rss as f64 - baseline.0 as f64) * 1024.0 / n).round(),
            "kernel_bytes_per_conn": ((slab as f64 - baseline.1 as f64) * 1024.0 / n).round(),
            "disconnected": fleet.disconnected.get(),
        })
    };
    println!("{}", report("idle", reading()));
    let burst = step(&fleet, setup, 1, 200_000.0, 2.0, f64::INFINITY).await;
    println!("{}", report("after_burst", reading()));
    println!("{burst}");
    tokio::time::sleep(settle).await;
    println!("{}", report("idle_again", reading()));
    Ok(())
}

/// Send → ack latency of one client sending `rate` messages/s into a room of `clients`.
pub async fn ack(setup: &Setup, rate: f64, secs: f64) -> anyhow::Result<()> {
    let fleet = start_fleet(setup).await?;
    let start_us = fleet.now_us() + 20_000;
    let end_us = start_us + (secs * 1e6) as u64;
    fleet.start_step(Plan {
        step: 1,
        per_sender_rate: rate,
        start_us,
        end_us,
        with_ack: true,
    });
    tokio::time::sleep(Duration::from_micros(end_us - start_us + 1_000_000)).await;
    let acks = fleet.ack_latency_us.borrow();
    println!(
        "{}",
        json!({
            "kind": "ack_latency",
            "target": setup.target.label(),
            "clients": setup.clients,
            "rate": rate,
            "sent": fleet.sent.get(),
            "acked": acks.len(),
            "latency_ms": latency_ms(&acks),
        })
    );
    Ok(())
}

fn latency_ms(histogram: &hdrhistogram::Histogram<u64>) -> Value {
    let at = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    json!({ "p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "p999": at(0.999), "max": histogram.max() as f64 / 1000.0 })
}

fn delta(now: Option<f64>, before: Option<f64>) -> Option<f64> {
    Some(now? - before?)
}
