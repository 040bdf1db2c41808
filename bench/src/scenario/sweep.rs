//! The fan-out sweep: the highest delivery rate a room of N clients sustains with p99 within
//! the limit and nothing lost, for each number of senders in turn on the same connections.
//!
//! Steps are short and the search is coarse-then-fine so the whole matrix stays within its
//! time budget: the rate grows by `factor` until a step fails, then bisects (geometrically)
//! between the last pass and the first failure `refine` times. Then it measures latency at
//! 50 % and 80 % of the maximum, and last — because overload may cost connections — raises
//! the rate from the fastest lossless step a few times for the lossless ceiling. When no rate
//! meets the latency limit (10 000 clients), 50 % and 80 % are taken of the lossless ceiling.

use super::idle::{measure as measure_idle, Baseline};
use super::{guests, open_fleet, step, IdleSpec, Setup, StepSpec};
use crate::fleet::Fleet;
use serde_json::{json, Value};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// How a sweep searches (also its command-line options).
#[derive(Clone, Debug, clap::Args)]
pub struct SweepSpec {
    /// First rate in deliveries/s (one message to a room of N is N deliveries).
    #[arg(long, default_value_t = 20_000.0)]
    pub start: f64,
    /// Highest rate tried.
    #[arg(long, default_value_t = 4_000_000.0)]
    pub max: f64,
    /// Rate multiplier between coarse steps.
    #[arg(long, default_value_t = 4.0)]
    pub factor: f64,
    /// Bisection steps between the last passing and the first failing rate.
    #[arg(long, default_value_t = 3)]
    pub refine: u32,
    /// Shortest step, seconds.
    #[arg(long, default_value_t = 2.0)]
    pub step_secs: f64,
    /// Steps last long enough for this many messages (at low rates in big rooms a 2-second
    /// step would hold less than one), up to --max-step-secs.
    #[arg(long, default_value_t = 3.0)]
    pub min_sends: f64,
    #[arg(long, default_value_t = 15.0)]
    pub max_step_secs: f64,
    /// The latency limit a passing step stays within.
    #[arg(long, default_value_t = 50.0)]
    pub p99_ms: f64,
    /// Steps (by --factor) past the fastest lossless one in search of the lossless ceiling.
    #[arg(long, default_value_t = 4)]
    pub lossless_steps: u32,
}

impl SweepSpec {
    /// A step's length at this rate: at least `step_secs` and `min_sends` messages, at most
    /// `max_step_secs`, and a whole number of send periods so the offered rate is exact.
    fn secs_at(&self, deliveries_per_s: f64, clients: usize) -> f64 {
        let sends_per_s = deliveries_per_s / clients.max(1) as f64;
        let wanted = (self.step_secs * sends_per_s).max(self.min_sends).ceil();
        let most = (self.max_step_secs.max(self.step_secs) * sends_per_s).floor();
        wanted.min(most).max(1.0) / sends_per_s
    }
}

/// Sweeps once per entry of `senders`, reusing the connections while enough are open.
/// With `idle`, the fresh fleet's memory is measured first (see [`super::idle`]): connecting
/// thousands of clients to a room costs minutes when the server announces every join to
/// everyone, so one ramp serves both measurements.
pub async fn sweep(
    setup: &Setup,
    senders: &[usize],
    spec: &SweepSpec,
    idle: Option<&IdleSpec>,
) -> anyhow::Result<()> {
    let mut generation = 0;
    let started = Instant::now();
    let baseline = idle.map(|_| Baseline::take(setup)).transpose()?;
    let mut fleet = open_enough(setup, generation).await?;
    if let (Some(idle), Some(baseline)) = (idle, baseline) {
        measure_idle(setup, &fleet, baseline, idle).await;
    }
    // Overloading the server may cost connections (it drops slow consumers); do that only
    // where reconnecting is cheap or nothing comes after.
    let cheap_to_reconnect = started.elapsed() < RECONNECT_BUDGET;
    for (i, &m) in senders.iter().enumerate() {
        if fleet.open() < enough(setup.clients) {
            eprintln!(
                "   {} of {} clients were dropped; reconnecting",
                setup.clients - fleet.open(),
                setup.clients
            );
            fleet.shut_down();
            generation += 1;
            fleet = open_enough(setup, generation).await?;
        }
        let mut sweeper = Sweeper {
            fleet: Rc::clone(&fleet),
            setup,
            spec,
            senders: m.clamp(1, setup.clients),
            steps: 0,
            may_overload: cheap_to_reconnect || i + 1 == senders.len(),
            cheap_to_reconnect,
            open: fleet.open(),
            generation,
        };
        let summary = sweeper.run().await;
        println!("{summary}");
        (fleet, generation) = (sweeper.fleet, sweeper.generation);
    }
    fleet.shut_down();
    Ok(())
}

struct Sweeper<'a> {
    fleet: Rc<Fleet>,
    setup: &'a Setup,
    spec: &'a SweepSpec,
    senders: usize,
    steps: u32,
    /// Whether the lossless search may push the server past what it keeps up with.
    may_overload: bool,
    /// Whether clients the server dropped may be replaced in the middle of the sweep.
    cheap_to_reconnect: bool,
    /// Clients open when the sweep (or its last reconnect) began; fewer means the server
    /// dropped some.
    open: usize,
    /// Reconnects so far, for unique nicks.
    generation: usize,
}

/// A sweep runs on a fleet with at least this many of `clients` open: with thousands of
/// clients a handshake or two may time out while the server announces every join, and
/// reconnecting all of them would cost minutes.
fn enough(clients: usize) -> usize {
    clients - clients / 100
}

/// Opens a fleet for sweeping; fails when fewer than [`enough`] clients connect.
async fn open_enough(setup: &Setup, generation: usize) -> anyhow::Result<Rc<Fleet>> {
    let (fleet, ramp) = open_fleet(setup, &guests(setup, generation)).await;
    if fleet.open() < enough(setup.clients) {
        fleet.shut_down();
        anyhow::bail!(
            "only {} of {} clients connected (first error: {})",
            fleet.open(),
            setup.clients,
            ramp.first_error.as_deref().unwrap_or("none")
        );
    }
    fleet
        .wait_quiet(Duration::from_millis(200), Duration::from_secs(10))
        .await;
    Ok(fleet)
}

/// Messages per client a step may offer when overloading must not cost connections.
const SAFE_BACKLOG: f64 = 500.0;

/// Reconnecting is cheap when opening the fleet took less than this.
const RECONNECT_BUDGET: Duration = Duration::from_secs(30);

/// A step's result with the rate it offered.
type Tried = (f64, Value);

impl Sweeper<'_> {
    async fn run(&mut self) -> Value {
        let started = Instant::now();
        let (n, m) = (self.setup.clients, self.senders);
        eprintln!(
            "   sweep: {} clients, {m} sender{}, from {:.0}/s",
            n,
            if m > 1 { "s" } else { "" },
            self.spec.start
        );
        // An unreported warm-up (JIT compilers, lazily grown buffers) before the first step.
        eprintln!("   warm-up:");
        self.measure(self.spec.start, 1.0, f64::INFINITY).await;

        let mut lossless = None::<Value>;
        let (best, fail, hit_ceiling) = self.search(&mut lossless).await;
        let max = best
            .as_ref()
            .and_then(|(_, b)| b["delivered_per_s"].as_f64())
            .unwrap_or(0.0);
        // Latency at 50 % and 80 % of the maximum — of the lossless one when no rate met the
        // latency limit. Overload may cost connections, so the lossless search comes last
        // unless its result is needed first.
        let at = if max > 0.0 {
            let at = self.at_shares(max, "max").await;
            self.explore_lossless(&mut lossless).await;
            at
        } else {
            self.explore_lossless(&mut lossless).await;
            let lossless_max = lossless
                .as_ref()
                .and_then(|l| l["delivered_per_s"].as_f64());
            self.at_shares(lossless_max.unwrap_or(0.0), "lossless")
                .await
        };

        let best_value = best.as_ref().map(|(_, b)| b);
        let fail_value = fail.as_ref().map(|(_, f)| f);
        let mut summary = json!({
            "kind": "fanout_max",
            "target": self.setup.target.label(),
            "label": self.setup.label,
            "nodes": self.setup.urls.len(),
            "clients": n,
            "open": self.open,
            "senders": m,
            "max_delivered_per_s": max,
            "max_offered_per_s": best.as_ref().map(|(rate, _)| rate.round()),
            "first_failing_per_s": fail.as_ref().map(|(rate, _)| rate.round()),
            "first_failing_p99_ms": fail_value.map(|f| f["latency_ms"]["p99"].clone()),
            "first_failing_lost": fail_value.map(|f| f["lost"].clone()),
            "max_lossless_per_s": lossless.as_ref().and_then(|l| l["delivered_per_s"].as_f64()).unwrap_or(0.0),
            "lossless_p99_ms": lossless.as_ref().map(|l| l["latency_ms"]["p99"].clone()),
            "server_cpu_s_per_million": best_value.and_then(|b| b.get("server_cpu_s_per_million").cloned()),
            "redis_cpu_s_per_million": best_value.and_then(|b| b.get("redis_cpu_s_per_million").cloned()),
            "generator_cpu_s_at_max": best_value.and_then(|b| b.get("generator_cpu_s").cloned()),
            "generator_cpu_share_at_max": best_value.and_then(|b| Some(b["generator_cpu_s"].as_f64()? / b["wall_s"].as_f64()?)),
            "hit_ceiling": hit_ceiling,
            "steps": self.steps,
            "sweep_secs": started.elapsed().as_secs_f64(),
            "dropped": self.fleet.disconnected.get(),
            "close_reasons": self.fleet.close_reasons(),
        });
        for (label, value) in at {
            summary[label] = value;
        }
        eprintln!(
            "   max {max:.0}/s within p99 ≤ {} ms; lossless {:.0}/s ({} steps, {:.0} s)",
            self.spec.p99_ms,
            summary["max_lossless_per_s"].as_f64().unwrap_or(0.0),
            self.steps,
            started.elapsed().as_secs_f64()
        );
        summary
    }

    /// The latency-bound search: coarse steps up by `factor` until one fails, then `refine`
    /// bisections. Returns the best pass, the lowest failure and whether `max` passed.
    async fn search(
        &mut self,
        lossless: &mut Option<Value>,
    ) -> (Option<Tried>, Option<Tried>, bool) {
        let (mut best, mut fail) = (None::<Tried>, None::<Tried>);
        let mut rate = self.spec.start;
        loop {
            let result = self.try_rate(rate, lossless).await;
            if passed(&result) {
                best = Some((rate, result));
                if rate >= self.spec.max {
                    return (best, fail, true);
                }
                if fail.is_some() {
                    break; // the start was lowered: the failure above is one factor up
                }
                rate = (rate * self.spec.factor).min(self.spec.max);
            } else {
                fail = Some((rate, result));
                // A failing start is lowered while a step can still hold `min_sends` messages:
                // below that a step is one message, whose fan-out time is the floor.
                let lower = rate / self.spec.factor;
                let sends = lower / self.open as f64 * self.spec.max_step_secs;
                if best.is_none() && sends >= self.spec.min_sends && self.repair().await {
                    rate = lower;
                    continue;
                }
                break;
            }
        }
        for _ in 0..self.spec.refine {
            let (Some((lo, _)), Some((hi, _))) = (&best, &fail) else {
                break;
            };
            let mid = (lo * hi).sqrt();
            if !self.repair().await {
                break;
            }
            let result = self.try_rate(mid, lossless).await;
            if passed(&result) {
                best = Some((mid, result));
            } else {
                fail = Some((mid, result));
            }
        }
        (best, fail, false)
    }

    /// Measures at 50 % and 80 % of `rate`; `basis` says which maximum that is.
    async fn at_shares(&mut self, rate: f64, basis: &str) -> serde_json::Map<String, Value> {
        let mut at = serde_json::Map::new();
        for (label, share) in [("at_50", 0.5), ("at_80", 0.8)] {
            if rate > 0.0 && self.repair().await {
                let offered = rate * share;
                let secs = self.spec.secs_at(offered, self.open);
                let result = self.measure(offered, secs, f64::INFINITY).await;
                at.insert(label.into(), at_json(basis, &result));
            }
        }
        at
    }

    /// Raises the rate by `factor` from the fastest lossless step while nothing is lost and
    /// the server keeps up (≥ 90 % of the offered rate, p99 under 2 s), up to
    /// `lossless_steps` times, then tries the midpoint below the first step that did not.
    async fn explore_lossless(&mut self, lossless: &mut Option<Value>) {
        let Some(fastest) = lossless.as_ref() else {
            return;
        };
        let mut from = fastest["offered_deliveries_per_s"].as_f64().unwrap_or(0.0);
        if fastest["delivered_per_s"].as_f64().unwrap_or(0.0) < 0.9 * from {
            return; // that step already saturated the server: its rate is the ceiling
        }
        let mut rate = from * self.spec.factor;
        for _ in 0..self.spec.lossless_steps {
            if !self.may_try_overload(rate) || !self.repair().await {
                return;
            }
            if !self.keeps_up(rate, lossless).await {
                let mid = (from * rate).sqrt();
                if self.may_try_overload(mid) && self.repair().await {
                    self.keeps_up(mid, lossless).await;
                }
                return;
            }
            from = rate;
            rate *= self.spec.factor;
        }
    }

    /// A step that may be more than the server keeps up with is tried only when it cannot
    /// cost connections the next sweep needs: it is the last sweep, reconnecting is cheap, or
    /// the backlog it can build per client stays far below a server's queue (Parlor drops a
    /// client whose queue passes 1 024 events).
    fn may_try_overload(&self, rate: f64) -> bool {
        let per_client = rate / self.open.max(1) as f64 * self.spec.secs_at(rate, self.open);
        rate <= self.spec.max && (self.may_overload || per_client <= SAFE_BACKLOG)
    }

    async fn keeps_up(&mut self, rate: f64, lossless: &mut Option<Value>) -> bool {
        let result = self.try_rate(rate, lossless).await;
        let delivered = result["delivered_per_s"].as_f64().unwrap_or(0.0);
        let p99 = result["latency_ms"]["p99"].as_f64().unwrap_or(f64::MAX);
        is_lossless(&result) && delivered >= 0.9 * rate && p99 <= 2_000.0
    }

    /// One reported step; remembers it when it is the fastest lossless one so far.
    async fn try_rate(&mut self, rate: f64, lossless: &mut Option<Value>) -> Value {
        let secs = self.spec.secs_at(rate, self.open);
        let result = self.measure(rate, secs, self.spec.p99_ms).await;
        println!("{result}");
        let faster = |l: &Value| result["delivered_per_s"].as_f64() > l["delivered_per_s"].as_f64();
        if is_lossless(&result) && lossless.as_ref().is_none_or(faster) {
            *lossless = Some(result.clone());
        }
        result
    }

    async fn measure(&mut self, rate: f64, secs: f64, p99_limit_ms: f64) -> Value {
        self.steps += 1;
        let spec = StepSpec {
            deliveries_per_s: rate,
            senders: self.senders,
            secs,
            p99_limit_ms,
        };
        let result = step(&self.fleet, self.setup, spec).await;
        let lat = &result["latency_ms"];
        eprintln!(
            "   {:>10.0}/s for {secs:.1} s → {:>10.0}/s, p50 {:.1} ms, p99 {:.1} ms, lost {}{}",
            rate,
            result["delivered_per_s"].as_f64().unwrap_or(0.0),
            lat["p50"].as_f64().unwrap_or(0.0),
            lat["p99"].as_f64().unwrap_or(0.0),
            result["lost"],
            if p99_limit_ms.is_finite() {
                if passed(&result) {
                    "  pass"
                } else {
                    "  FAIL"
                }
            } else {
                ""
            }
        );
        result
    }

    fn intact(&self) -> bool {
        self.fleet.open() == self.open
    }

    /// After the server dropped clients (an overloaded step can cost all of them): goes on
    /// with the rest when [`enough`] are left, else reconnects when that is cheap. `false`
    /// when the sweep cannot go on.
    async fn repair(&mut self) -> bool {
        if self.intact() {
            return true;
        }
        if self.fleet.open() >= enough(self.setup.clients) {
            self.open = self.fleet.open();
            return true;
        }
        if !self.cheap_to_reconnect {
            return false;
        }
        eprintln!(
            "   {} of {} clients were dropped; reconnecting",
            self.open - self.fleet.open(),
            self.open
        );
        self.fleet.shut_down();
        self.generation += 1;
        match open_enough(self.setup, self.generation).await {
            Ok(fleet) => {
                self.open = fleet.open();
                self.fleet = fleet;
                true
            }
            Err(err) => {
                eprintln!("   reconnecting failed: {err:#}");
                false
            }
        }
    }
}

/// What the summary keeps of a step at a share of the maximum; `basis` says which maximum.
fn at_json(basis: &str, result: &Value) -> Value {
    let field = |name: &str| result[name].clone();
    json!({
        "basis": basis,
        "offered_deliveries_per_s": field("offered_deliveries_per_s"),
        "delivered_per_s": field("delivered_per_s"),
        "latency_ms": field("latency_ms"),
        "latency_same_node_ms": field("latency_same_node_ms"),
        "latency_cross_node_ms": field("latency_cross_node_ms"),
        "lost": field("lost"),
        "duplicates": field("duplicates"),
        "out_of_order": field("out_of_order"),
        "server_cpu_s_per_million": field("server_cpu_s_per_million"),
        "server_cpu_s_per_million_by_node": field("server_cpu_s_per_million_by_node"),
        "redis_cpu_s_per_million": field("redis_cpu_s_per_million"),
        "server_run_queue_wait_s": field("server_run_queue_wait_s"),
        "generator_cpu_s": field("generator_cpu_s"),
        "other_cpu_s": field("other_cpu_s"),
        "wall_s": field("wall_s"),
    })
}

fn passed(result: &Value) -> bool {
    result["ok"] == true
}

fn is_lossless(result: &Value) -> bool {
    result["lost"] == 0 && result["errors"] == 0 && result["disconnected"] == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SweepSpec {
        SweepSpec {
            start: 2_000.0,
            max: 4e6,
            factor: 4.0,
            refine: 3,
            step_secs: 2.0,
            min_sends: 3.0,
            max_step_secs: 15.0,
            p99_ms: 50.0,
            lossless_steps: 2,
        }
    }

    #[test]
    fn steps_hold_a_whole_number_of_messages_within_bounds() {
        let spec = spec();
        // 1 000 clients at 3 536/s: 3.536 messages/s → 8 messages in 2.26 s.
        let secs = spec.secs_at(3_536.0, 1_000);
        assert!((secs * 3.536 - 8.0).abs() < 1e-9, "{secs}");
        // 10 000 clients at 2 000/s: one message every 5 s → 3 messages, 15 s.
        assert!((spec.secs_at(2_000.0, 10_000) - 15.0).abs() < 1e-9);
        // 10 000 clients at 1 000/s: the cap allows one message every 10 s → 1 message.
        assert!((spec.secs_at(1_000.0, 10_000) - 10.0).abs() < 1e-9);
        // Fast rates: the minimum length.
        assert!((spec.secs_at(1e6, 100) - 2.0).abs() < 1e-9);
    }
}
