//! `loadgen`: a load generator for Parlor and any Socket.IO server.
//!
//! It runs on one thread (pin it with `taskset`), opens N WebSocket clients, has M of them send
//! at a fixed open-loop rate, and reports end-to-end latency (HDR histogram), loss, duplicates,
//! reordering, and the CPU time of the server and of itself as JSON lines. `bench/run.sh` runs
//! the whole matrix and `bench/report.py` writes `bench/REPORT.md`.

mod fleet;
mod procfs;
mod rawws;
mod scenario;
mod stats;
mod wire;

use clap::{Args, Parser, Subcommand};
use scenario::Setup;

#[derive(Parser)]
#[command(
    name = "loadgen",
    about = "Open-loop WebSocket / Socket.IO load generator"
)]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Args, Clone)]
struct Common {
    /// Server base URL, e.g. http://127.0.0.1:8080
    #[arg(long)]
    url: String,
    #[arg(long, value_enum)]
    target: wire::Target,
    #[arg(long, default_value_t = 100)]
    clients: usize,
    #[arg(long, default_value_t = 1)]
    senders: usize,
    /// Message text size in bytes.
    #[arg(long, default_value_t = 100)]
    payload: usize,
    /// Server process id, for its CPU time and memory.
    #[arg(long)]
    server_pid: Option<u32>,
}

#[derive(Subcommand)]
enum Scenario {
    /// Raise the delivery rate until p99 exceeds the limit or a message is lost.
    Sweep {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 50_000.0)]
        start: f64,
        #[arg(long, default_value_t = 4_000_000.0)]
        max: f64,
        #[arg(long, default_value_t = 1.5)]
        factor: f64,
        #[arg(long, default_value_t = 4.0)]
        step_secs: f64,
        #[arg(long, default_value_t = 50.0)]
        p99_ms: f64,
    },
    /// One step at a fixed rate; exits non-zero on any loss (the CI smoke run).
    Fixed {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 5_000.0)]
        deliveries_per_s: f64,
        #[arg(long, default_value_t = 3.0)]
        secs: f64,
    },
    /// Memory per idle connection, after a burst, and idle again.
    Idle {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 5)]
        settle_secs: u64,
    },
    /// Send → ack latency of one sender.
    Ack {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 200.0)]
        rate: f64,
        #[arg(long, default_value_t = 5.0)]
        secs: f64,
    },
}

fn setup(common: &Common) -> Setup {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() % 10_000)
        .unwrap_or(0);
    Setup {
        url: common.url.trim_end_matches('/').to_owned(),
        target: common.target,
        clients: common.clients,
        senders: common.senders.min(common.clients),
        payload: common.payload,
        server_pid: common.server_pid,
        nick_prefix: format!("lg{stamp}_"),
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    let passed = local.block_on(&runtime, async move {
        match cli.scenario {
            Scenario::Sweep {
                common,
                start,
                max,
                factor,
                step_secs,
                p99_ms,
            } => scenario::sweep(&setup(&common), start, max, factor, step_secs, p99_ms)
                .await
                .map(|()| true),
            Scenario::Fixed {
                common,
                deliveries_per_s,
                secs,
            } => scenario::fixed(&setup(&common), deliveries_per_s, secs).await,
            Scenario::Idle {
                common,
                settle_secs,
            } => scenario::idle(&setup(&common), settle_secs)
                .await
                .map(|()| true),
            Scenario::Ack { common, rate, secs } => scenario::ack(&setup(&common), rate, secs)
                .await
                .map(|()| true),
        }
    })?;
    if !passed {
        anyhow::bail!("messages were lost or refused");
    }
    Ok(())
}
