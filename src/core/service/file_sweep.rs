//! The handle that wakes the file sweep ([`super::Files::sweep`]) and marks files for it. The
//! services that delete rooms, history, ephemeral rooms and accounts hold one, so they never
//! wait for objects to be deleted: they say something went, and the sweep follows.

use crate::store::{Store, StoreError};
use std::sync::Arc;
use tokio::sync::Notify;

/// Wakes the sweep, and marks files for it. Handed to the services that delete rooms,
/// messages and accounts.
#[derive(Clone)]
pub struct FileSweep {
    store: Store,
    wake: Arc<Notify>,
}

impl FileSweep {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Something that held files is gone: sweep now rather than at the next round.
    pub fn soon(&self) {
        self.wake.notify_one();
    }

    /// An account is being deleted: its uploads go, wherever they are.
    pub async fn uploader_gone(&self, user_id: i64) -> Result<(), StoreError> {
        self.store.files().doom_uploader(user_id).await?;
        self.soon();
        Ok(())
    }

    pub async fn woken(&self) {
        self.wake.notified().await;
    }
}
