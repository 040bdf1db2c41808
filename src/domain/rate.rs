//! A sliding-window rate limit: at most `limit` events in any `window`.
//!
//! The caller passes the current instant, so the rule is tested without sleeping.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Remembers the instants of the last `limit` accepted events.
#[derive(Debug)]
pub struct RateWindow {
    limit: usize,
    window: Duration,
    accepted: VecDeque<Instant>,
}

impl RateWindow {
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            // Grows with use: a generous limit must not reserve its whole size up front.
            accepted: VecDeque::new(),
        }
    }

    /// Records an event at `now` if it fits the limit; returns whether it was accepted.
    pub fn try_acquire(&mut self, now: Instant) -> bool {
        self.forget_before(now);
        if self.accepted.len() >= self.limit {
            return false;
        }
        self.accepted.push_back(now);
        true
    }

    /// Whether the window is full at `now` (the next event would be refused), without
    /// recording anything.
    pub fn is_full(&mut self, now: Instant) -> bool {
        self.forget_before(now);
        self.accepted.len() >= self.limit
    }

    /// How long until the oldest event leaves the window.
    pub fn retry_after(&self, now: Instant) -> Duration {
        self.accepted.front().map_or(Duration::ZERO, |&oldest| {
            self.window.saturating_sub(now.duration_since(oldest))
        })
    }

    fn forget_before(&mut self, now: Instant) {
        while let Some(&oldest) = self.accepted.front() {
            if now.duration_since(oldest) >= self.window {
                self.accepted.pop_front();
            } else {
                break;
            }
        }
    }

    /// Whether nothing was accepted within the last window (the window can be forgotten).
    pub fn is_idle(&self, now: Instant) -> bool {
        self.accepted
            .back()
            .is_none_or(|&last| now.duration_since(last) >= self.window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_limit_reserves_nothing_up_front() {
        let mut window = RateWindow::new(usize::MAX, Duration::from_secs(5));
        assert!(window.try_acquire(Instant::now()));
    }

    #[test]
    fn allows_the_limit_then_refuses_until_the_window_slides() {
        let start = Instant::now();
        let mut window = RateWindow::new(6, Duration::from_secs(5));
        for i in 0..6 {
            assert!(window.try_acquire(start + Duration::from_millis(i * 100)));
        }
        assert!(!window.try_acquire(start + Duration::from_secs(4)));
        assert!(window.try_acquire(start + Duration::from_secs(5)));
        assert!(!window.try_acquire(start + Duration::from_millis(5050)));
    }
}
