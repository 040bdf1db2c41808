//! Who may say something, and how often. Every message takes this path, whatever the room:
//! the lobby, a stored room, a conversation or a whisper. A muted identity is refused, a
//! session past its rate is refused, and what is said is recorded in the audit log (when, by
//! whom, from where, in which room; never the text) and counted for `/metrics`.

use crate::auth::{Identity, SessionId};
use crate::clock::Clock;
use crate::core::CoreError;
use crate::domain::{Millis, RateWindow};
use crate::metrics::{MessageKind, Metrics};
use crate::moderation::Moderation;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// What makes a message that is not stored unique: its id and time.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Utterance {
    pub id: String,
    pub ts: Millis,
}

/// The rules every message passes. Cheap to clone.
#[derive(Clone)]
pub struct Speech {
    moderation: Arc<Moderation>,
    clock: Clock,
    rates: Arc<Mutex<HashMap<SessionId, RateWindow>>>,
    rate_limit: usize,
    rate_window: Duration,
    next_id: Arc<AtomicU64>,
    metrics: Metrics,
}

impl Speech {
    pub fn new(
        moderation: Arc<Moderation>,
        clock: Clock,
        rate_limit: usize,
        rate_window: Duration,
        metrics: Metrics,
    ) -> Self {
        // Ids stay unique across restarts because they start from the clock.
        let first_id = u64::try_from(clock.now_millis()).unwrap_or(0) * 1000;
        Self {
            moderation,
            clock,
            rates: Arc::default(),
            rate_limit,
            rate_window,
            next_id: Arc::new(AtomicU64::new(first_id)),
            metrics,
        }
    }

    /// Refuses to let a muted identity write (or show itself typing).
    pub fn not_muted(&self, identity: &Identity) -> Result<(), CoreError> {
        match self.moderation.mute_on(&identity.name_key()) {
            Some(_) => Err(CoreError::Muted),
            None => Ok(()),
        }
    }

    /// Refuses a muted identity, or a session that has sent its rate's worth of messages.
    pub fn may_speak(&self, identity: &Identity) -> Result<(), CoreError> {
        self.not_muted(identity)?;
        let mut rates = self.rates.lock().unwrap_or_else(PoisonError::into_inner);
        let window = rates
            .entry(identity.session.clone())
            .or_insert_with(|| RateWindow::new(self.rate_limit, self.rate_window));
        let now = self.clock.instant();
        if window.try_acquire(now) {
            Ok(())
        } else {
            Err(CoreError::RateLimited(Some(window.retry_after(now))))
        }
    }

    /// A message that is not stored (lobby, whisper) may be said: it is audited under `place`
    /// and gets its id and time.
    pub fn utter(
        &self,
        identity: &Identity,
        ip: IpAddr,
        place: &str,
        kind: MessageKind,
    ) -> Result<Utterance, CoreError> {
        self.may_speak(identity)?;
        self.record(identity, ip, place, None, kind);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed).to_string();
        Ok(Utterance {
            id,
            ts: self.clock.now_millis(),
        })
    }

    /// Audits and counts a message that was said (a stored one, once stored, with its
    /// sequence number).
    pub fn record(
        &self,
        identity: &Identity,
        ip: IpAddr,
        place: &str,
        seq: Option<i64>,
        kind: MessageKind,
    ) {
        self.moderation
            .audit_log()
            .record_message(identity, &ip.to_string(), place, seq);
        self.metrics.message(kind);
    }

    /// Drops the rate windows nobody has used for a while (upkeep).
    pub fn forget_idle(&self) {
        let now = self.clock.instant();
        self.rates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, window| !window.is_idle(now));
    }
}
