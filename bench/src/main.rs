//! `loadgen`: a load generator for Parlor and any Socket.IO server.
//!
//! It runs on one thread (pin it with `taskset`), opens N WebSocket clients, has M of them send
//! at a fixed open-loop rate, and reports end-to-end latency (HDR histogram), loss, duplicates,
//! reordering, memory per connection, and the CPU time of the server and of itself as JSON
//! lines on stdout (progress goes to stderr). `bench/run.sh` runs the whole matrix and
//! `bench/report.py` writes `bench/REPORT.md`.
//!
//! `loadgen floor-server` is not a measurement but the yardstick of one: a minimal fan-out
//! server (see `floor`) that sweeps with `--target floor` measure beside Parlor.

mod fleet;
mod floor;
mod procfs;
mod rawws;
mod rest;
mod scenario;
mod stats;
mod wire;

use clap::{Args, Parser, Subcommand};
use fleet::RampPlan;
use scenario::{CompanionSpec, IdleSpec, Setup, SweepSpec, UploadSpec, LOBBY};

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
    /// Server base URL, e.g. http://127.0.0.1:8080. Several (repeated, or comma-separated)
    /// spread one fleet over the nodes of a cluster: client i connects to URL i mod their
    /// number, so clients and senders alternate between the nodes.
    #[arg(long = "url", required = true, value_delimiter = ',')]
    urls: Vec<String>,
    #[arg(long, value_enum)]
    target: wire::Target,
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Clients that send. `sweep` takes a list (`1,10`) and sweeps once per entry on the same
    /// connections; the other scenarios use the largest.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    senders: Vec<usize>,
    /// Message text size in bytes.
    #[arg(long, default_value_t = 100)]
    payload: usize,
    /// Server process id, for its CPU time and memory. Repeated for several nodes: their CPU
    /// times are summed, memory is read from the first.
    #[arg(long = "server-pid")]
    server_pids: Vec<u32>,
    /// A Redis server's process id: its CPU time is reported apart from the server's.
    #[arg(long)]
    redis_pid: Option<u32>,
    /// A name for the server setup under test (e.g. `two-node`), copied into the results so a
    /// report tells runs of one target apart.
    #[arg(long)]
    label: Option<String>,
    /// Handshakes in flight at once while connecting.
    #[arg(long, default_value_t = 64)]
    connect_parallel: usize,
    /// Clients connected per batch; the fleet waits for presence events to settle in between.
    #[arg(long, default_value_t = 1000)]
    connect_batch: usize,
}

/// The idle-memory measurement's settings (for `idle`, and `sweep --idle`).
#[derive(Subcommand)]
enum Scenario {
    /// Find the highest delivery rate with p99 within the limit and nothing lost.
    Sweep {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        spec: SweepSpec,
        /// Measure idle memory on the fresh connections first (needs a fresh server).
        #[arg(long)]
        idle: bool,
        #[command(flatten)]
        idle_spec: IdleSpec,
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
    /// Memory per idle connection, after a broadcast burst, and idle again.
    Idle {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        idle: IdleSpec,
        /// Parlor clients only identify, without joining the lobby (for comparison).
        #[arg(long)]
        no_join: bool,
    },
    /// Send → ack latency, in the lobby or (with --room) in a persistent room.
    Ack {
        #[command(flatten)]
        common: Common,
        /// Messages per second (all senders together).
        #[arg(long, default_value_t = 200.0)]
        rate: f64,
        #[arg(long, default_value_t = 5.0)]
        secs: f64,
        /// A persistent room slug: the run registers accounts and creates it (Parlor only).
        #[arg(long, default_value = LOBBY)]
        room: String,
    },
    /// Concurrent file uploads (Parlor only): throughput, latency, server memory.
    Uploads {
        /// Server base URL, e.g. http://127.0.0.1:8080
        #[arg(long)]
        url: String,
        /// Server process id, for its memory.
        #[arg(long)]
        server_pid: Option<u32>,
        #[command(flatten)]
        spec: UploadSpec,
    },
    /// Registered users talking to the AI companion in a closed loop (Parlor only, with
    /// `ai_provider` set): replies, streamed pieces, reply times, refusals.
    Companion {
        /// Server base URL, e.g. http://127.0.0.1:8080
        #[arg(long)]
        url: String,
        /// Server process id, for its CPU time.
        #[arg(long)]
        server_pid: Option<u32>,
        #[command(flatten)]
        spec: CompanionSpec,
    },
    /// Not a measurement: the floor writer, a minimal single-threaded fan-out server that
    /// speaks what the generator needs of Parlor's native framing (measure it with
    /// `--target floor`).
    FloorServer {
        #[command(flatten)]
        spec: floor::FloorSpec,
    },
}

impl Scenario {
    fn common(&self) -> Option<&Common> {
        match self {
            Scenario::Sweep { common, .. }
            | Scenario::Fixed { common, .. }
            | Scenario::Idle { common, .. }
            | Scenario::Ack { common, .. } => Some(common),
            Scenario::Uploads { .. }
            | Scenario::Companion { .. }
            | Scenario::FloorServer { .. } => None,
        }
    }
}

fn setup(common: &Common, room: &str) -> Setup {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() % 10_000)
        .unwrap_or(0);
    Setup {
        urls: common
            .urls
            .iter()
            .map(|url| url.trim_end_matches('/').to_owned())
            .collect(),
        target: common.target,
        clients: common.clients,
        senders: common
            .senders
            .iter()
            .copied()
            .max()
            .unwrap_or(1)
            .clamp(1, common.clients.max(1)),
        payload: common.payload,
        server_pids: common.server_pids.clone(),
        redis_pid: common.redis_pid,
        label: common.label.clone(),
        nick_prefix: format!("lg{stamp}_"),
        room: room.to_owned(),
        ramp: RampPlan {
            parallel: common.connect_parallel,
            batch: common.connect_batch,
        },
    }
}

/// Fails early when this process cannot open a socket per client, and warns when the server
/// cannot either: both show up later as mysterious connection failures.
fn check_file_limits(common: &Common) -> anyhow::Result<()> {
    let need = common.clients as u64 + 64;
    if let Some(limit) = procfs::open_files_limit(None) {
        anyhow::ensure!(
            limit >= need,
            "loadgen may open {limit} files but {} clients need about {need}: raise `ulimit -n`",
            common.clients
        );
    }
    // Each node holds its share of the clients.
    let need = common.clients.div_ceil(common.urls.len().max(1)) as u64 + 64;
    for &pid in &common.server_pids {
        if let Some(limit) = procfs::open_files_limit(Some(pid)) {
            if limit < need {
                eprintln!("warning: server {pid} may open only {limit} files; {need} are needed");
            }
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(common) = cli.scenario.common() {
        check_file_limits(common)?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    let passed = local.block_on(&runtime, async move {
        match cli.scenario {
            Scenario::Sweep {
                common,
                spec,
                idle,
                idle_spec,
            } => {
                let setup = setup(&common, LOBBY);
                let idle = idle.then_some(idle_spec);
                scenario::sweep(&setup, &common.senders, &spec, idle.as_ref())
                    .await
                    .map(|()| true)
            }
            Scenario::Fixed {
                common,
                deliveries_per_s,
                secs,
            } => scenario::fixed(&setup(&common, LOBBY), deliveries_per_s, secs).await,
            Scenario::Idle {
                common,
                idle,
                no_join,
            } => {
                let room = if no_join { "" } else { LOBBY };
                scenario::idle(&setup(&common, room), &idle)
                    .await
                    .map(|()| true)
            }
            Scenario::Ack {
                common,
                rate,
                secs,
                room,
            } => scenario::ack(&setup(&common, &room), rate, secs)
                .await
                .map(|()| true),
            Scenario::Uploads {
                url,
                server_pid,
                spec,
            } => scenario::uploads(url.trim_end_matches('/'), server_pid, &spec).await,
            Scenario::Companion {
                url,
                server_pid,
                spec,
            } => scenario::companion(url.trim_end_matches('/'), server_pid, &spec).await,
            Scenario::FloorServer { spec } => floor::serve(&spec).await.map(|()| true),
        }
    })?;
    if !passed {
        anyhow::bail!("messages (or uploads, or companion replies) were lost or refused");
    }
    Ok(())
}
