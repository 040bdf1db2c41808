//! Upkeep: the work nobody asks for. Every [`MAINTENANCE_INTERVAL`] it purges expired
//! sessions, bans and mutes, prunes messages past their room's retention, and forgets idle
//! throttles, rate windows, slow-mode marks and room locks. Every session renewal interval (a
//! quarter of the session TTL, at most a minute) it renews the sessions of open connections,
//! so that a connection in use never loses its session, and closes the connections of
//! sessions that expired anyway. Every [`CROWD_INTERVAL`] large rooms hear how many are
//! present. Ephemeral rooms close the moment their time is up.
//!
//! All four loops sleep on the service's [`Clock`], so a test on a manual clock sees upkeep
//! run by moving the clock.

use super::{Conversations, Files, LiveRooms, Presence, RoomLocks, RunOnce, Sessions, Speech};
use crate::auth::Auth;
use crate::clock::Clock;
use crate::moderation::Moderation;
use crate::rooms::Rooms;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often expired things are purged.
pub const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(60);
/// How often large rooms hear how many are present.
pub const CROWD_INTERVAL: Duration = Duration::from_secs(5);

/// The services upkeep tends to.
pub struct Upkeep {
    pub(crate) auth: Arc<Auth>,
    pub(crate) moderation: Arc<Moderation>,
    pub(crate) rooms: Arc<Rooms>,
    pub(crate) sessions: Arc<Sessions>,
    pub(crate) live_rooms: Arc<LiveRooms>,
    pub(crate) conversations: Arc<Conversations>,
    pub(crate) presence: Presence,
    pub(crate) speech: Speech,
    pub(crate) files: Arc<Files>,
    /// Ephemeral expiry and the file sweep run on one node of a cluster.
    pub(crate) run_once: RunOnce,
    pub(crate) locks: RoomLocks,
    pub(crate) clock: Clock,
}

impl Upkeep {
    /// Runs the upkeep loops until `stop` is cancelled.
    pub async fn run(&self, stop: CancellationToken) {
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = self.maintain_forever() => {}
            _ = self.renew_sessions_forever() => {}
            _ = self.count_crowds_forever() => {}
            _ = self.expire_rooms_forever() => {}
            _ = self.sweep_files_forever() => {}
        }
    }

    /// Rounds start every interval from the start of the previous one, so time that passed
    /// during a round (a slow database, or a test's clock moved meanwhile) is not waited for
    /// again.
    async fn maintain_forever(&self) {
        loop {
            let started = self.clock.instant();
            self.maintain().await;
            self.clock.sleep(self.left_of_round(started)).await;
        }
    }

    /// What remains of a maintenance interval that started at `started`.
    fn left_of_round(&self, started: std::time::Instant) -> Duration {
        let spent = self.clock.instant().saturating_duration_since(started);
        MAINTENANCE_INTERVAL.saturating_sub(spent)
    }

    /// Keeps open connections' sessions alive; closes those whose sessions expired anyway.
    /// Rounds start every renewal interval from the start of the previous one, however long a
    /// round takes, so a renewed session never has less than `ttl - interval` left.
    async fn renew_sessions_forever(&self) {
        let every = self.sessions.renewal_interval();
        loop {
            let started = self.clock.instant();
            self.sessions.renew_live().await;
            let spent = self.clock.instant().saturating_duration_since(started);
            self.clock.sleep(every.saturating_sub(spent)).await;
        }
    }

    /// One round of upkeep.
    pub async fn maintain(&self) {
        self.auth.forget_idle_throttles();
        if let Err(err) = self.moderation.purge_expired().await {
            tracing::warn!(error = %err, "could not purge expired bans and mutes");
        }
        match self.auth.purge_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "expired sessions removed"),
            Err(err) => tracing::warn!(error = %err, "could not purge expired sessions"),
        }
        match self.rooms.upkeep(self.clock.now_millis()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "messages past their room's retention deleted"),
            Err(err) => tracing::warn!(error = %err, "room upkeep failed"),
        }
        self.locks.prune();
        self.live_rooms.forget_slow_mode();
        self.speech.forget_idle();
    }

    /// Deletes files nothing holds any more: every maintenance round, and right after a
    /// room, its history, an ephemeral room or an account went.
    async fn sweep_files_forever(&self) {
        loop {
            let started = self.clock.instant();
            if self.run_once.mine("file-sweep").await {
                match self.files.sweep().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "files nothing holds any more deleted"),
                    Err(err) => tracing::warn!(error = %err, "file sweep failed"),
                }
            }
            tokio::select! {
                _ = self.clock.sleep(self.left_of_round(started)) => {}
                _ = self.files.sweeper().woken() => {}
            }
        }
    }

    /// Tells each large room, every few seconds, how many are present.
    async fn count_crowds_forever(&self) {
        let mut announced = HashMap::new();
        loop {
            self.presence.announce_crowds(&mut announced);
            self.clock.sleep(CROWD_INTERVAL).await;
        }
    }

    /// Closes each ephemeral room when its timer runs out: sleeps until the next one is due
    /// (at most a maintenance interval), or until a room is activated.
    async fn expire_rooms_forever(&self) {
        loop {
            if !self.run_once.mine("ephemeral-expiry").await {
                // Another node expires rooms; take over if it stops renewing its lease.
                tokio::select! {
                    _ = self.clock.sleep(MAINTENANCE_INTERVAL) => {}
                    _ = self.conversations.timers_changed() => {}
                }
                continue;
            }
            let wait = match self.conversations.expire_due().await {
                Ok(Some(at)) => {
                    Duration::from_millis(u64::try_from(at - self.clock.now_millis()).unwrap_or(0))
                        .min(MAINTENANCE_INTERVAL)
                }
                Ok(None) => MAINTENANCE_INTERVAL,
                Err(err) => {
                    tracing::warn!(error = %err, "could not close expired ephemeral rooms");
                    MAINTENANCE_INTERVAL
                }
            };
            if wait.is_zero() {
                // Due already (or a clock that jumped): go again after a breath, so a room
                // that cannot be closed does not spin the loop.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            tokio::select! {
                _ = self.clock.sleep(wait) => {}
                _ = self.conversations.timers_changed() => {}
            }
        }
    }
}
