//! The audit log writer. Message metadata is queued without waiting and written in batches by
//! one task, so recording every message costs the send path a channel push, not a database
//! write; moderation actions are written before they are acknowledged.

use crate::auth::Identity;
use crate::clock::Clock;
use crate::domain::Principal;
use crate::store::{AuditEntry, Store, StoreError};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{mpsc, oneshot};

/// Entries waiting for the writer before new ones are dropped (and counted).
const QUEUE: usize = 16_384;

/// Entries written per transaction at most.
const BATCH: usize = 512;

enum Queued {
    Entry(AuditEntry),
    Flush(oneshot::Sender<()>),
}

/// The audit log: a queue in front of one writer task.
pub struct AuditLog {
    store: Store,
    clock: Clock,
    tx: mpsc::Sender<Queued>,
    dropped: AtomicU64,
}

/// How audit entries name an identity: `user:<id>` or `guest:<public id>`.
pub fn identity_key(identity: &Identity) -> String {
    match (identity.principal, &identity.public_id) {
        (Principal::Guest(_), Some(public_id)) => format!("guest:{public_id}"),
        (principal, _) => principal.key(),
    }
}

impl AuditLog {
    /// Starts the writer task (it ends when the log is dropped, after writing what is queued).
    pub fn start(store: Store, clock: Clock) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store.clone(), rx));
        Self {
            store,
            clock,
            tx,
            dropped: AtomicU64::new(0),
        }
    }

    /// Queues a message's metadata: when, where, who, from which address, and for a stored
    /// message its sequence number (`detail: "seq <n>"`, so its text can be found later).
    pub fn record_message(&self, identity: &Identity, ip: &str, room: &str, seq: Option<i64>) {
        let entry = AuditEntry {
            ts: self.clock.now_millis(),
            actor: identity.name.clone(),
            identity: Some(identity_key(identity)),
            actor_ip: Some(ip.to_owned()),
            action: "message".into(),
            target: None,
            room: Some(room.to_owned()),
            detail: seq.map(|seq| format!("seq {seq}")),
        };
        if self.tx.try_send(Queued::Entry(entry)).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(dropped, "audit log queue full: message metadata dropped");
            }
        }
    }

    /// Writes an entry now (moderation and admin actions).
    pub async fn record_now(&self, entry: AuditEntry) -> Result<(), StoreError> {
        self.store.audit().write(&[entry]).await
    }

    /// Waits until everything queued so far is written.
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.tx.send(Queued::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

async fn write_batches(store: Store, mut rx: mpsc::Receiver<Queued>) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut waiting = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(item) = next {
            match item {
                Queued::Entry(entry) => batch.push(entry),
                Queued::Flush(done) => waiting.push(done),
            }
            next = if batch.len() < BATCH {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        if !batch.is_empty() {
            if let Err(err) = store.audit().write(&batch).await {
                tracing::error!(error = %err, entries = batch.len(), "could not write audit entries");
            }
            batch.clear();
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}
