//! Where time comes from. Every rule that depends on time (session expiry, timed bans and
//! mutes, rate windows, slow mode, ephemeral rooms, retention, upkeep) reads it from a
//! [`Clock`] handed to it at construction, never from the system directly.
//!
//! Production runs on [`Clock::system`]. Tests build a [`Clock::manual`] and move it forward
//! with [`ManualClock::advance`]: a ban that lifts after an hour lifts the moment the test says
//! an hour has passed, and tasks sleeping on the clock (upkeep, the ephemeral-room timer) wake
//! up as if the time had really gone by. No test has to sleep on the wall clock.

use crate::domain::Millis;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// A source of wall-clock and monotonic time, and of sleeps measured in it. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Clock(Source);

#[derive(Clone, Debug)]
enum Source {
    System,
    Manual(Arc<ManualState>),
}

#[derive(Debug)]
struct ManualState {
    /// The wall-clock and monotonic readings at offset zero.
    start_millis: Millis,
    start_instant: Instant,
    /// How far the test moved the clock, in milliseconds; watchers wake on every move.
    offset: watch::Sender<u64>,
}

/// The handle a test keeps to move a [`Clock::manual`] forward.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<ManualState>);

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    /// The system's clocks: `SystemTime` for timestamps, `tokio::time` for sleeps.
    pub fn system() -> Self {
        Self(Source::System)
    }

    /// A clock that starts at the current system time and only moves when told to.
    pub fn manual() -> (Self, ManualClock) {
        let state = Arc::new(ManualState {
            start_millis: system_millis(),
            start_instant: Instant::now(),
            offset: watch::Sender::new(0),
        });
        (Self(Source::Manual(Arc::clone(&state))), ManualClock(state))
    }

    /// Milliseconds since the Unix epoch, UTC: the one timestamp format of the protocol and
    /// the store.
    pub fn now_millis(&self) -> Millis {
        match &self.0 {
            Source::System => system_millis(),
            Source::Manual(state) => state
                .start_millis
                .saturating_add(state.offset_millis() as i64),
        }
    }

    /// A monotonic reading, for measuring intervals (rate windows, slow mode).
    pub fn instant(&self) -> Instant {
        match &self.0 {
            Source::System => Instant::now(),
            Source::Manual(state) => {
                state.start_instant + Duration::from_millis(state.offset_millis())
            }
        }
    }

    /// Resolves once `duration` has passed on this clock.
    pub async fn sleep(&self, duration: Duration) {
        match &self.0 {
            Source::System => tokio::time::sleep(duration).await,
            Source::Manual(state) => {
                let due = state.offset_millis().saturating_add(millis_of(duration));
                let mut offset = state.offset.subscribe();
                // `wait_for` checks the current value first, so a move that happened between
                // reading `due` and subscribing is not missed.
                let _ = offset.wait_for(|now| *now >= due).await;
            }
        }
    }

    /// Resolves at the wall-clock time `at` (at once if it has passed).
    pub async fn sleep_until_millis(&self, at: Millis) {
        let wait = u64::try_from(at.saturating_sub(self.now_millis())).unwrap_or(0);
        self.sleep(Duration::from_millis(wait)).await;
    }
}

impl ManualState {
    fn offset_millis(&self) -> u64 {
        *self.offset.borrow()
    }
}

impl ManualClock {
    /// The time the clock shows, as [`Clock::now_millis`] reads it.
    pub fn now_millis(&self) -> Millis {
        self.0
            .start_millis
            .saturating_add(self.0.offset_millis() as i64)
    }

    /// Moves the clock forward; every sleep that is now due wakes up.
    pub fn advance(&self, by: Duration) {
        self.0
            .offset
            .send_modify(|offset| *offset = offset.saturating_add(millis_of(by)));
    }
}

fn system_millis() -> Millis {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

fn millis_of(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let (clock, hand) = Clock::manual();
        let (millis, instant) = (clock.now_millis(), clock.instant());
        assert_eq!(clock.now_millis(), millis);
        hand.advance(Duration::from_secs(90));
        assert_eq!(clock.now_millis(), millis + 90_000);
        assert_eq!(clock.instant() - instant, Duration::from_secs(90));
    }

    #[tokio::test]
    async fn sleeps_on_a_manual_clock_end_when_it_passes_their_deadline() {
        let (clock, hand) = Clock::manual();
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep(Duration::from_secs(60)).await }
        });
        // Let the sleep start (and take its deadline) before the clock moves.
        tokio::task::yield_now().await;
        hand.advance(Duration::from_secs(59));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        hand.advance(Duration::from_secs(1));
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("the sleep ends once the clock passes its deadline")
            .unwrap();
    }

    #[tokio::test]
    async fn a_sleep_until_a_past_time_ends_at_once() {
        let (clock, _hand) = Clock::manual();
        let past = clock.now_millis() - 1_000;
        tokio::time::timeout(Duration::from_secs(1), clock.sleep_until_millis(past))
            .await
            .expect("no wait for a time that has passed");
    }
}
