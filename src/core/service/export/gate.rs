//! The brake on "download my data": an export decrypts every message and copies every file of
//! an account, and its scratch copy stays on disk until the download ends. One export per
//! account at a time (a second click while the first runs would only double the work), and a
//! few on a node at once, keep that bounded; anything more is refused at once — with a time to
//! come back — rather than queued behind work that may take minutes.
//!
//! The brake is per node: with several nodes behind a balancer, an account could run one
//! export on each, which still bounds the work per node.

use super::ExportError;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Exports one node makes at once.
pub const EXPORTS_AT_ONCE: usize = 2;

/// Who is exporting now, and the node's places.
pub(super) struct Gate {
    running: Mutex<HashSet<i64>>,
    places: Arc<Semaphore>,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            running: Mutex::default(),
            places: Arc::new(Semaphore::new(EXPORTS_AT_ONCE)),
        }
    }
}

/// An export under way: its account's turn and a place on the node, both given back when it
/// is dropped (after the archive is sent, or abandoned).
pub(super) struct Ticket {
    gate: Arc<Gate>,
    user_id: i64,
    _place: OwnedSemaphorePermit,
}

impl Gate {
    /// A ticket for `user_id`'s export, unless one is running or the node is full.
    pub(super) fn enter(self: &Arc<Self>, user_id: i64) -> Result<Ticket, ExportError> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if running.contains(&user_id) {
            return Err(ExportError::Busy {
                message: "an export of your data is already being made; it downloads as soon \
                          as it is ready",
                retry_after: 60,
            });
        }
        let place =
            Arc::clone(&self.places)
                .try_acquire_owned()
                .map_err(|_| ExportError::Busy {
                    message: "the server is making as many exports as it can at once; try again \
                          in a minute",
                    retry_after: 60,
                })?;
        running.insert(user_id);
        Ok(Ticket {
            gate: Arc::clone(self),
            user_id,
            _place: place,
        })
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.gate
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.user_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_export_per_account_and_a_few_per_node() {
        let gate = Arc::new(Gate::default());
        let first = gate.enter(1).expect("free");
        assert!(matches!(gate.enter(1), Err(ExportError::Busy { .. })));
        let second = gate.enter(2).expect("a second account");
        assert!(
            matches!(gate.enter(3), Err(ExportError::Busy { .. })),
            "the node is full"
        );
        drop(first);
        let again = gate.enter(1).expect("the first export finished");
        drop((second, again));
        assert!(gate.enter(3).is_ok());
    }
}
