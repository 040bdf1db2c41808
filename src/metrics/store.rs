//! How long the store's operations take in the database. The store measures itself (it owns a
//! [`StoreTimings`]), so every `Store` — the server's, a command-line tool's — is measured the
//! same way, and the server's registry only exposes what its store measured.
//!
//! Timed are the operations on a message's path: a message commit (its whole transaction:
//! the room's next sequence number, the insert, its attachments, the commit) and a history
//! read. Buckets run from half a millisecond (SQLite on a warm page cache) to SQLite's 5 s busy
//! timeout.

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use std::future::Future;
use std::time::Instant;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// A timed store operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreOp {
    /// A message appended to a room, in one transaction.
    AppendMessage,
    /// A page of a room's history (before, after or between sequence numbers).
    ReadHistory,
}

type Family1 = Family<[(&'static str, &'static str); 1], Histogram, fn() -> Histogram>;

/// Latency histograms of the store's operations. Cheap to clone (they share their series).
#[derive(Clone, Debug)]
pub struct StoreTimings {
    family: Family1,
    append: Histogram,
    history: Histogram,
}

impl Default for StoreTimings {
    fn default() -> Self {
        let family: Family1 = Family::new_with_constructor(|| Histogram::new(BUCKETS));
        let append = family.get_or_create_owned(&[("operation", "append_message")]);
        let history = family.get_or_create_owned(&[("operation", "read_history")]);
        Self {
            family,
            append,
            history,
        }
    }
}

impl StoreTimings {
    /// Runs `operation` and records how long it took (whether it succeeded or not: a failure
    /// after a busy wait is exactly the latency to see).
    pub async fn time<T>(&self, op: StoreOp, operation: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let outcome = operation.await;
        self.record(op, started);
        outcome
    }

    /// Records an operation that began at `started` and just ended.
    pub fn record(&self, op: StoreOp, started: Instant) {
        let histogram = match op {
            StoreOp::AppendMessage => &self.append,
            StoreOp::ReadHistory => &self.history,
        };
        histogram.observe(started.elapsed().as_secs_f64());
    }

    pub(super) fn family(&self) -> Family1 {
        self.family.clone()
    }
}
