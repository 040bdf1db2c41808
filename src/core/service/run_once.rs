//! Tasks that must run on one node of a cluster, not on each: expiring ephemeral rooms (each
//! is archived once) and sweeping files. Before a round, a node takes or renews the task's
//! lease in the database; a node that does not hold it skips the round. A holder that dies
//! stops renewing, and another node takes the task over once [`LEASE`] has passed.
//!
//! On one node this costs one small write per round and changes nothing else.

use crate::clock::Clock;
use crate::store::Store;
use std::time::Duration;

/// How long a lease lasts without renewal: a few maintenance rounds.
pub const LEASE: Duration = Duration::from_secs(180);

/// Which node this is, and the leases it takes.
#[derive(Clone)]
pub struct RunOnce {
    store: Store,
    node: String,
    clock: Clock,
}

impl RunOnce {
    pub fn new(store: Store, node: String, clock: Clock) -> Self {
        Self { store, node, clock }
    }

    /// Whether this node runs `task` now (its lease taken or renewed). A database that cannot
    /// say means no: the task waits for a round where it can.
    pub async fn mine(&self, task: &str) -> bool {
        let now = self.clock.now_millis();
        let until = now + i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX / 2);
        match self.store.leases().hold(task, &self.node, now, until).await {
            Ok(held) => held,
            Err(err) => {
                tracing::warn!(error = %err, task, "could not take a task's lease");
                false
            }
        }
    }
}
