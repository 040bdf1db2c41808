//! Stored messages that do not decrypt: a tampered or damaged row, or one sealed under a data
//! key that was replaced. Such a row must not take its whole room down with it, so history
//! hands it out marked `undecryptable` (no text) and this keeps the record: each row is logged
//! the first time it is seen and counted once, so an operator sees how many rows are damaged
//! without a log line per read.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// How many distinct damaged rows are remembered (to log and count each once); rows beyond
/// that are logged and counted at every read, so memory stays bounded whatever is written into
/// the database.
const REMEMBERED: usize = 100_000;

/// The damaged rows seen since start-up. Cheap to clone.
#[derive(Clone, Default)]
pub struct Undecryptable(Arc<Inner>);

#[derive(Default)]
struct Inner {
    seen: Mutex<HashSet<i64>>,
    count: AtomicU64,
}

impl Undecryptable {
    /// Records that message `id` (seq `seq` of room `room_id`) did not open; logs and counts
    /// it the first time.
    pub fn report(&self, id: i64, room_id: i64, seq: i64) {
        let first = {
            let mut seen = self.0.seen.lock().unwrap_or_else(PoisonError::into_inner);
            if seen.contains(&id) {
                false
            } else {
                if seen.len() < REMEMBERED {
                    seen.insert(id);
                }
                true
            }
        };
        if first {
            let total = self.0.count.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::error!(
                message_id = id,
                room_id,
                seq,
                undecryptable_total = total,
                "a stored message does not decrypt (tampered or damaged); it is shown as undecryptable"
            );
        }
    }

    /// How many distinct stored messages were found not to decrypt since start-up.
    pub fn count(&self) -> u64 {
        self.0.count.load(Ordering::Relaxed)
    }
}
