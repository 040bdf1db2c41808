//! The measurements, one file each: the fan-out rate [`sweep`], [`idle`] memory per connection
//! and send → [`ack`] latency (lobby or a persistent room), [`uploads`] throughput and server
//! memory while files stream, conversations with the AI [`companion`] as background load, plus
//! the fixed-rate smoke run here.
//! Each prints JSON lines on stdout that `bench/report.py` turns into a report, and progress
//! lines on stderr.
//!
//! The building block is one open-loop [`step`]: senders send at a fixed rate for a while,
//! receivers record every message; then the step waits (boundedly) for stragglers and for the
//! fleet to go quiet, so the next step starts from an empty pipe.

mod ack;
mod companion;
mod idle;
mod sweep;
mod uploads;

pub use ack::ack;
pub use companion::{companion, CompanionSpec};
pub use idle::{idle, IdleSpec};
pub use sweep::{sweep, SweepSpec};
pub use uploads::{uploads, UploadSpec};

use crate::fleet::{Fleet, Plan, Ramp, RampPlan};
use crate::procfs;
use crate::wire::{Login, Target};
use serde_json::{json, Value};
use std::rc::Rc;
use std::time::Duration;

/// The room every client of a fan-out run joins.
pub const LOBBY: &str = "lobby";

/// How long a step waits after its end for messages still on their way before it counts
/// them as late (they are still recorded if they arrive while the fleet goes quiet).
const DRAIN: Duration = Duration::from_secs(2);

/// What every scenario needs to know about the run.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The nodes' base URLs: client i connects to the i-th modulo their number.
    pub urls: Vec<String>,
    pub target: Target,
    pub clients: usize,
    /// The most clients that send at once in this run.
    pub senders: usize,
    pub payload: usize,
    /// The nodes' process ids: their CPU times are summed.
    pub server_pids: Vec<u32>,
    /// Redis's process id, when the nodes fan out through one: its CPU time is reported apart.
    pub redis_pid: Option<u32>,
    /// The setup's name in the results (`--label`).
    pub label: Option<String>,
    pub nick_prefix: String,
    pub room: String,
    pub ramp: RampPlan,
}

impl Setup {
    /// The first node: REST calls go there (the nodes share one database).
    pub fn url(&self) -> &str {
        self.urls.first().map_or("", String::as_str)
    }

    /// The first node's process id: memory is read there.
    pub fn server_pid(&self) -> Option<u32> {
        self.server_pids.first().copied()
    }
}

/// Guest logins for a fleet; `generation` keeps nicks unique when a run reconnects.
pub fn guests(setup: &Setup, generation: usize) -> Vec<Login> {
    (0..setup.clients)
        .map(|i| Login::Guest(format!("{}{}", setup.nick_prefix, generation * 100_000 + i)))
        .collect()
}

/// Opens a fleet, tolerating clients that fail to connect (see [`Ramp`]); prints the ramp.
pub async fn open_fleet(setup: &Setup, logins: &[Login]) -> (Rc<Fleet>, Ramp) {
    let fleet = Fleet::new(
        setup.target,
        setup.payload,
        &setup.room,
        (logins.len(), setup.senders, setup.urls.len()),
    );
    eprintln!(
        "   connecting {} {} clients to {} node{} ({} at a time, batches of {})",
        logins.len(),
        setup.target.label(),
        setup.urls.len(),
        if setup.urls.len() > 1 { "s" } else { "" },
        setup.ramp.parallel,
        setup.ramp.batch
    );
    let ramp = fleet.ramp(&setup.urls, logins, setup.ramp).await;
    eprintln!(
        "   {} open, {} failed in {:.1} s{}",
        ramp.open,
        ramp.failed,
        ramp.secs,
        ramp.first_error
            .as_ref()
            .map_or(String::new(), |e| format!(" (first error: {e})"))
    );
    println!(
        "{}",
        json!({
            "kind": "ramp",
            "target": setup.target.label(),
            "label": setup.label,
            "clients": logins.len(),
            "open": ramp.open,
            "failed": ramp.failed,
            "dropped": fleet.disconnected.get(),
            "close_reasons": fleet.close_reasons(),
            "first_error": ramp.first_error,
            "secs": ramp.secs,
        })
    );
    (fleet, ramp)
}

/// Opens a fleet in which every client must connect.
pub async fn start_fleet(setup: &Setup, logins: &[Login]) -> anyhow::Result<Rc<Fleet>> {
    let (fleet, ramp) = open_fleet(setup, logins).await;
    if ramp.open < logins.len() {
        fleet.shut_down();
        anyhow::bail!(
            "only {} of {} clients connected ({} failed, {} dropped; first error: {})",
            ramp.open,
            logins.len(),
            ramp.failed,
            fleet.disconnected.get(),
            ramp.first_error.as_deref().unwrap_or("none")
        );
    }
    // Let the last join notices settle before measuring.
    fleet
        .wait_quiet(Duration::from_millis(200), Duration::from_secs(10))
        .await;
    Ok(fleet)
}

/// One open-loop step.
#[derive(Clone, Copy, Debug)]
pub struct StepSpec {
    pub deliveries_per_s: f64,
    pub senders: usize,
    pub secs: f64,
    pub p99_limit_ms: f64,
}

/// Runs one open-loop step at `spec.deliveries_per_s` (every open client receives every
/// message) and returns its JSON result.
pub async fn step(fleet: &Fleet, setup: &Setup, spec: StepSpec) -> Value {
    let receivers = fleet.open().max(1);
    let sends_per_s = spec.deliveries_per_s / receivers as f64;
    let start_us = fleet.now_us() + 20_000;
    let end_us = start_us + (spec.secs * 1e6) as u64;
    let dropped_before = fleet.disconnected.get();
    let cpu = Cpu::take(setup);
    let step = fleet.next_step();
    fleet.start_step(Plan {
        step,
        sends_per_s,
        senders: u32::try_from(spec.senders).unwrap_or(u32::MAX),
        start_us,
        end_us,
        with_ack: false,
    });
    tokio::time::sleep(Duration::from_micros(end_us.saturating_sub(fleet.now_us()))).await;
    let expected = || fleet.sent.get() * receivers as u64;
    let drain_deadline = fleet.now_us() + DRAIN.as_micros() as u64;
    while fleet.stats.borrow().delivered < expected() && fleet.now_us() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let in_time = fleet.stats.borrow().delivered;
    fleet
        .wait_quiet(Duration::from_millis(100), Duration::from_secs(10))
        .await;
    let wall = (fleet.now_us() - start_us) as f64 / 1e6;
    let cpu = Cpu::take(setup).since(&cpu);
    let stats = fleet.stats.borrow();
    let lost = expected().saturating_sub(stats.delivered);
    let dropped = fleet.disconnected.get() - dropped_before;
    let p99_ms = stats.percentile_us(0.99) as f64 / 1000.0;
    let millions = stats.delivered.max(1) as f64 / 1e6;
    let ok = lost == 0 && stats.errors == 0 && dropped == 0 && p99_ms <= spec.p99_limit_ms;
    // A server that falls behind spreads the arrivals over more than the step's length; one
    // that keeps up spreads them only by its latency jitter (allow 10 %).
    let arrival = stats.arrival_secs();
    let window = if arrival <= 1.1 * spec.secs {
        spec.secs
    } else {
        arrival
    };
    json!({
        "kind": "fanout_step",
        "target": setup.target.label(),
        "label": setup.label,
        "clients": receivers,
        "senders": spec.senders,
        "step": step,
        "secs": spec.secs,
        "offered_deliveries_per_s": spec.deliveries_per_s.round(),
        "sent": fleet.sent.get(),
        "expected": expected(),
        "delivered": stats.delivered,
        "late": stats.delivered - in_time,
        "arrival_secs": arrival,
        "delivered_per_s": (stats.delivered as f64 / window).round(),
        "lost": lost,
        "duplicates": stats.duplicates,
        "out_of_order": stats.out_of_order,
        "errors": stats.errors,
        "disconnected": dropped,
        "close_reasons": fleet.close_reasons(),
        "latency_ms": latency_ms(&stats.latency_us),
        "nodes": setup.urls.len(),
        "latency_same_node_ms": (setup.urls.len() > 1).then(|| latency_ms(&stats.same_node_us)),
        "latency_cross_node_ms": (setup.urls.len() > 1).then(|| latency_ms(&stats.cross_node_us)),
        "server_cpu_s": cpu.server,
        "server_cpu_s_by_node": cpu.nodes,
        "server_cpu_s_per_million": cpu.server.map(|s| s / millions),
        "server_cpu_s_per_million_by_node": cpu.nodes.iter().map(|n| n.map(|s| s / millions)).collect::<Vec<_>>(),
        "server_run_queue_wait_s": cpu.waiting,
        "redis_cpu_s": cpu.redis,
        "redis_cpu_s_per_million": cpu.redis.map(|s| s / millions),
        "generator_cpu_s": cpu.generator,
        "other_cpu_s": cpu.others(),
        "wall_s": wall,
        "ok": ok,
    })
}

/// CPU seconds used so far (or, after [`Cpu::since`], during a step): the nodes', summed
/// and each, Redis's, the generator's own, and the whole machine's; and the seconds the
/// nodes' threads waited for a core.
struct Cpu {
    server: Option<f64>,
    nodes: Vec<Option<f64>>,
    waiting: Option<f64>,
    redis: Option<f64>,
    generator: Option<f64>,
    machine: Option<f64>,
}

impl Cpu {
    fn take(setup: &Setup) -> Self {
        let nodes: Vec<_> = setup
            .server_pids
            .iter()
            .map(|&pid| procfs::cpu_seconds(Some(pid)))
            .collect();
        // Summed from the same readings, so the nodes add up to the total.
        let server = if nodes.is_empty() {
            None
        } else {
            nodes.iter().copied().sum()
        };
        let waiting = if setup.server_pids.is_empty() {
            None
        } else {
            (setup.server_pids.iter())
                .map(|&pid| procfs::run_queue_wait_seconds(pid))
                .sum()
        };
        Self {
            server,
            nodes,
            waiting,
            redis: setup
                .redis_pid
                .and_then(|pid| procfs::cpu_seconds(Some(pid))),
            generator: procfs::cpu_seconds(None),
            machine: procfs::machine_busy_seconds(),
        }
    }

    /// What else kept the machine busy: other processes, and interrupts and steal time
    /// not charged to a process (a few percent of a core under network load).
    fn others(&self) -> Option<f64> {
        let ours = self.server.unwrap_or(0.0) + self.redis.unwrap_or(0.0) + self.generator?;
        Some((self.machine? - ours).max(0.0))
    }

    fn since(self, before: &Self) -> Self {
        Self {
            server: delta(self.server, before.server),
            waiting: delta(self.waiting, before.waiting).map(|s| s.max(0.0)),
            nodes: (self.nodes.iter().zip(&before.nodes))
                .map(|(&now, &then)| delta(now, then))
                .collect(),
            redis: delta(self.redis, before.redis),
            generator: delta(self.generator, before.generator),
            machine: delta(self.machine, before.machine),
        }
    }
}

/// A fixed-rate run that fails (non-zero exit) on any loss: the CI smoke test.
pub async fn fixed(setup: &Setup, deliveries_per_s: f64, secs: f64) -> anyhow::Result<bool> {
    let fleet = start_fleet(setup, &guests(setup, 0)).await?;
    let spec = StepSpec {
        deliveries_per_s,
        senders: setup.senders,
        secs,
        p99_limit_ms: f64::INFINITY,
    };
    let mut result = step(&fleet, setup, spec).await;
    result["scenario"] = "fixed".into();
    println!("{result}");
    fleet.shut_down();
    Ok(result["lost"] == 0
        && result["errors"] == 0
        && result["disconnected"] == 0
        && result["delivered"].as_u64() > Some(0))
}

pub fn latency_ms(histogram: &hdrhistogram::Histogram<u64>) -> Value {
    let at = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    json!({ "p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "p999": at(0.999), "max": histogram.max() as f64 / 1000.0 })
}

pub fn delta(now: Option<f64>, before: Option<f64>) -> Option<f64> {
    Some(now? - before?)
}
