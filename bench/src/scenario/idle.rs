//! Memory per idle connection: the server's resident memory and the kernel's slab and TCP
//! buffers with N idle clients, after a broadcast burst, and idle again — each divided by the
//! connections that are really open at that moment (the generator's count, checked against the
//! sockets the server process holds). With no room (`--no-join`) clients only identify: the
//! cost of a connection without room membership, for comparison.

use super::{guests, open_fleet, step, Setup, StepSpec};
use crate::fleet::Fleet;
use crate::procfs;
use serde_json::{json, Value};
use std::time::Duration;

/// How the idle measurement runs (also its command-line options).
#[derive(Clone, Debug, clap::Args)]
pub struct IdleSpec {
    /// Seconds to wait after connecting, and after the burst, before reading memory.
    #[arg(long, default_value_t = 5.0)]
    pub settle_secs: f64,
    #[arg(long, default_value_t = 100_000.0)]
    pub burst_deliveries_per_s: f64,
    #[arg(long, default_value_t = 2.0)]
    pub burst_secs: f64,
}

/// One set of memory readings.
#[derive(Clone, Copy, Debug, Default)]
struct Reading {
    rss_kib: u64,
    slab_kib: u64,
    tcp_pages: u64,
}

impl Reading {
    fn take(pid: u32) -> Self {
        Self {
            rss_kib: procfs::rss_kib(pid).unwrap_or(0),
            slab_kib: procfs::slab_kib().unwrap_or(0),
            tcp_pages: procfs::tcp_mem_pages().unwrap_or(0),
        }
    }
}

/// Server memory before any client connected.
#[derive(Clone, Copy, Debug)]
pub struct Baseline {
    pid: u32,
    reading: Reading,
}

impl Baseline {
    /// Reads the server's memory now; call it before the fleet connects.
    pub fn take(setup: &Setup) -> anyhow::Result<Self> {
        let pid = setup
            .server_pid()
            .ok_or_else(|| anyhow::anyhow!("--server-pid is required"))?;
        let reading = Reading::take(pid);
        eprintln!(
            "   baseline: server RSS {:.1} MiB, slab {:.1} MiB",
            reading.rss_kib as f64 / 1024.0,
            reading.slab_kib as f64 / 1024.0
        );
        Ok(Self { pid, reading })
    }
}

/// The idle scenario on its own: baseline, connect, then [`measure`].
pub async fn idle(setup: &Setup, spec: &IdleSpec) -> anyhow::Result<()> {
    let baseline = Baseline::take(setup)?;
    let (fleet, ramp) = open_fleet(setup, &guests(setup, 0)).await;
    anyhow::ensure!(ramp.open > 0, "no client connected");
    measure(setup, &fleet, baseline, spec).await;
    fleet.shut_down();
    Ok(())
}

/// Reads memory with the fleet idle, after a broadcast burst, and idle again.
pub async fn measure(setup: &Setup, fleet: &Fleet, baseline: Baseline, spec: &IdleSpec) {
    fleet
        .wait_quiet(Duration::from_millis(200), Duration::from_secs(30))
        .await;
    let settle = Duration::from_secs_f64(spec.settle_secs);
    let report = |phase: &str| {
        let result = phase_json(setup, fleet, baseline, phase);
        eprintln!(
            "   {phase}: {} open ({} server sockets), RSS {:.1} MiB, {:.0} B/conn user, {:.0} B/conn kernel slab",
            result["connections"],
            result["server_sockets"],
            result["rss_kib"].as_f64().unwrap_or(0.0) / 1024.0,
            result["user_bytes_per_conn"].as_f64().unwrap_or(0.0),
            result["kernel_bytes_per_conn"].as_f64().unwrap_or(0.0),
        );
        println!("{result}");
    };
    tokio::time::sleep(settle).await;
    report("idle");
    if !setup.room.is_empty() {
        let burst = StepSpec {
            deliveries_per_s: spec.burst_deliveries_per_s,
            senders: setup.senders,
            secs: spec.burst_secs,
            p99_limit_ms: f64::INFINITY,
        };
        let burst = step(fleet, setup, burst).await;
        println!("{burst}");
        report("after_burst");
        tokio::time::sleep(settle).await;
        report("idle_again");
    }
}

fn phase_json(setup: &Setup, fleet: &Fleet, baseline: Baseline, phase: &str) -> Value {
    let (pid, baseline) = (baseline.pid, baseline.reading);
    let now = Reading::take(pid);
    let open = fleet.open();
    let per_conn = |now: u64, before: u64, unit: f64| {
        ((now as f64 - before as f64) * unit / open.max(1) as f64).round()
    };
    json!({
        "kind": "idle_memory",
        "target": setup.target.label(),
        "phase": phase,
        "joined": !setup.room.is_empty(),
        "clients": setup.clients,
        "connections": open,
        "server_sockets": procfs::socket_fds(pid),
        "dropped": fleet.disconnected.get(),
        "close_reasons": fleet.close_reasons(),
        "pongs": fleet.pongs.get(),
        "baseline_rss_kib": baseline.rss_kib,
        "rss_kib": now.rss_kib,
        "slab_delta_kib": now.slab_kib as i64 - baseline.slab_kib as i64,
        "user_bytes_per_conn": per_conn(now.rss_kib, baseline.rss_kib, 1024.0),
        "kernel_bytes_per_conn": per_conn(now.slab_kib, baseline.slab_kib, 1024.0),
        "tcp_buffer_bytes_per_conn": per_conn(now.tcp_pages, baseline.tcp_pages, 4096.0),
    })
}
