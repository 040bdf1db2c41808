//! One ordering lock per stored room. A room's messages are stored and published under its
//! lock, and a join subscribes, reads history and queues its reply under the same lock, so a
//! client sees every message exactly once and in sequence order: what its join reply holds,
//! then live events after it. Ephemeral rooms also admit devices one at a time under it, and
//! close under it when they expire.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// The locks of the rooms in use. Cheap to clone.
#[derive(Clone, Default)]
pub struct RoomLocks(Arc<Mutex<HashMap<String, Arc<AsyncMutex<()>>>>>);

impl RoomLocks {
    /// Waits for the room's lock (by its stored name).
    pub async fn lock(&self, room: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(locks.entry(room.to_owned()).or_default())
        };
        lock.lock_owned().await
    }

    /// Forgets the locks nobody holds or waits for (upkeep).
    pub fn prune(&self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, lock| Arc::strong_count(lock) > 1);
    }
}
