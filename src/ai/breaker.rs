//! The circuit breaker in front of the model server: after `threshold` failures in a row it
//! opens for `cool_off`, and every request meanwhile gets the fallback reply at once instead of
//! waiting out a timeout against a server that is down. Then one probe is let through
//! (half-open): its success closes the breaker, its failure opens it again.
//!
//! Time comes from the service's [`Clock`], so tests open and close it without sleeping.

use crate::clock::Clock;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures in a row that open the breaker, and how long it then stays open.
pub const FAILURES_TO_OPEN: u32 = 3;
pub const COOL_OFF: Duration = Duration::from_secs(30);

#[derive(Debug)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe is out; everyone else gets the fallback until it is back.
    Probing,
}

/// Whether the model server is asked. Shared by every generation.
#[derive(Debug)]
pub struct Breaker {
    clock: Clock,
    threshold: u32,
    cool_off: Duration,
    state: Mutex<State>,
}

impl Breaker {
    pub fn new(clock: Clock, threshold: u32, cool_off: Duration) -> Self {
        Self {
            clock,
            threshold: threshold.max(1),
            cool_off,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    /// Whether this request may ask the model (`false`: answer with the fallback). Once the
    /// breaker has cooled off, the first caller becomes the probe.
    pub fn allow(&self) -> bool {
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => true,
            State::Open { until } if self.clock.instant() >= until => {
                *state = State::Probing;
                true
            }
            State::Open { .. } | State::Probing => false,
        }
    }

    /// The model answered: closes the breaker.
    pub fn succeeded(&self) {
        *self.lock() = State::Closed { failures: 0 };
    }

    /// The model failed or hung: counts towards opening (a failed probe opens at once).
    pub fn failed(&self) {
        let mut state = self.lock();
        let failures = match *state {
            State::Closed { failures } => failures + 1,
            State::Open { .. } | State::Probing => self.threshold,
        };
        *state = if failures >= self.threshold {
            State::Open {
                until: self.clock.instant() + self.cool_off,
            }
        } else {
            State::Closed { failures }
        };
    }

    /// Whether requests are being answered with the fallback right now.
    pub fn is_open(&self) -> bool {
        !matches!(*self.lock(), State::Closed { .. })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock leaves a valid state behind: keep using it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_failures_in_a_row_then_lets_one_probe_through() {
        let (clock, hands) = Clock::manual();
        let breaker = Breaker::new(clock, 3, Duration::from_secs(30));
        breaker.failed();
        breaker.failed();
        breaker.succeeded();
        breaker.failed();
        breaker.failed();
        assert!(breaker.allow(), "a success in between resets the count");
        breaker.failed();
        assert!(!breaker.allow());
        hands.advance(Duration::from_secs(30));
        assert!(breaker.allow(), "the probe");
        assert!(!breaker.allow(), "only one probe at a time");
        breaker.failed();
        assert!(!breaker.allow(), "a failed probe opens it again");
        hands.advance(Duration::from_secs(30));
        assert!(breaker.allow());
        breaker.succeeded();
        assert!(breaker.allow() && breaker.allow());
        assert!(!breaker.is_open());
    }
}
