//! Brute-force brakes: failed logins per account-and-address, per address and per account,
//! wrong room codes per address (sharing the address's failed-login budget), and
//! registrations per address, each in a sliding window. A limit only ever delays: when the
//! window slides it lifts by itself, and a failure from an attacker's address does not count
//! against the same account from another address (only the much larger per-account limit
//! does), so nobody can lock a real user out for good.
//!
//! A failed login spends the budget of the account it names, however it names it (user name
//! or e-mail address): the login layer resolves the identifier first and hands over a
//! [`LoginBudget`]. An identifier that matches no account spends its own (case-folded) budget,
//! so guessing costs all the same; a key login names no account until it succeeds, so its
//! failures spend only the address's budget.
//!
//! With several nodes the windows are shared ([`SharedWindows`], kept in Redis), so an attacker
//! gains nothing by spreading attempts over nodes. Each node keeps its own windows as well and
//! obeys the stricter of the two: while Redis is unreachable, every node still brakes alone.

use super::AuthError;
use crate::clock::Clock;
use crate::domain::{Millis, RateWindow};
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// Sliding windows every node shares, by family and key: `limit` events per `window`, timed
/// by the deciding node's clock.
pub trait SharedWindows: Send + Sync {
    /// How long `key` must wait, if its window is full (`None` too when the store does not
    /// answer: the node's own window still applies).
    fn wait<'a>(
        &'a self,
        window: &'a Window,
        key: &'a str,
        now: Millis,
    ) -> BoxFuture<'a, Option<Duration>>;
    /// Records an event (unless the window is full).
    fn record<'a>(&'a self, window: &'a Window, key: &'a str, now: Millis) -> BoxFuture<'a, ()>;
    /// Forgets a key's events.
    fn forget<'a>(&'a self, window: &'a Window, key: &'a str) -> BoxFuture<'a, ()>;
}

/// One family of windows, as a shared store sees it.
#[derive(Clone, Debug)]
pub struct Window {
    /// Names the family in the store (`login-ip`, …).
    pub family: &'static str,
    pub limit: usize,
    pub length: Duration,
}

/// The limits, from configuration.
#[derive(Clone, Debug)]
pub struct ThrottleSettings {
    pub login_attempts_per_account: usize,
    pub login_attempts_per_ip: usize,
    pub login_window: Duration,
    pub registrations_per_ip: usize,
    pub registration_window: Duration,
}

/// Whose failed-login budget an attempt spends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginBudget {
    /// The account the identifier resolved to (by name or by e-mail).
    Account(i64),
    /// A case-folded identifier that matches no account.
    Unknown(String),
    /// No account at all (a login key): only the address's budget.
    AddressOnly,
}

impl LoginBudget {
    fn key(&self) -> Option<String> {
        match self {
            LoginBudget::Account(id) => Some(format!("account:{id}")),
            LoginBudget::Unknown(folded) => Some(format!("login:{folded}")),
            LoginBudget::AddressOnly => None,
        }
    }
}

/// One family of sliding windows, keyed by text: this node's, and the shared ones when set.
struct Windows {
    shape: Window,
    by_key: Mutex<HashMap<String, RateWindow>>,
}

/// When something happens, on both clocks the windows use.
#[derive(Clone, Copy)]
struct Now {
    instant: Instant,
    millis: Millis,
}

impl Windows {
    fn new(family: &'static str, limit: usize, length: Duration) -> Self {
        Self {
            shape: Window {
                family,
                limit,
                length,
            },
            by_key: Mutex::default(),
        }
    }

    /// How long `key` must wait, if its window is full here or cluster-wide.
    async fn wait(
        &self,
        shared: Option<&dyn SharedWindows>,
        key: &str,
        now: Now,
    ) -> Option<Duration> {
        let here = {
            let mut by_key = self.by_key.lock().unwrap_or_else(PoisonError::into_inner);
            by_key.get_mut(key).and_then(|window| {
                window
                    .is_full(now.instant)
                    .then(|| window.retry_after(now.instant))
            })
        };
        let everywhere = match shared {
            Some(shared) => shared.wait(&self.shape, key, now.millis).await,
            None => None,
        };
        here.max(everywhere)
    }

    async fn record(&self, shared: Option<&dyn SharedWindows>, key: &str, now: Now) {
        self.by_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key.to_owned())
            .or_insert_with(|| RateWindow::new(self.shape.limit, self.shape.length))
            .try_acquire(now.instant);
        if let Some(shared) = shared {
            shared.record(&self.shape, key, now.millis).await;
        }
    }

    async fn forget(&self, shared: Option<&dyn SharedWindows>, key: &str) {
        self.by_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
        if let Some(shared) = shared {
            shared.forget(&self.shape, key).await;
        }
    }

    fn forget_idle(&self, now: Instant) {
        self.by_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, window| !window.is_idle(now));
    }
}

/// Every brake of the identity layer.
pub struct Throttles {
    clock: Clock,
    shared: OnceLock<Arc<dyn SharedWindows>>,
    login_pair: Windows,
    login_ip: Windows,
    login_account: Windows,
    registration_ip: Windows,
}

fn pair(account: &str, ip: &str) -> String {
    format!("{account}\n{ip}")
}

fn throttled(wait: Duration) -> AuthError {
    AuthError::Throttled(wait.as_secs().max(1))
}

impl Throttles {
    pub fn new(settings: &ThrottleSettings, clock: Clock) -> Self {
        let per_account = settings.login_attempts_per_account;
        Self {
            clock,
            shared: OnceLock::new(),
            login_pair: Windows::new("login-pair", per_account, settings.login_window),
            login_ip: Windows::new(
                "login-ip",
                settings.login_attempts_per_ip,
                settings.login_window,
            ),
            login_account: Windows::new("login-account", per_account * 10, settings.login_window),
            registration_ip: Windows::new(
                "registration-ip",
                settings.registrations_per_ip,
                settings.registration_window,
            ),
        }
    }

    /// Shares the windows with the other nodes (once, at start-up).
    pub fn share(&self, shared: Arc<dyn SharedWindows>) {
        let _ = self.shared.set(shared);
    }

    fn shared(&self) -> Option<&dyn SharedWindows> {
        self.shared.get().map(|shared| shared.as_ref())
    }

    fn now(&self) -> Now {
        Now {
            instant: self.clock.instant(),
            millis: self.clock.now_millis(),
        }
    }

    /// Refuses a login attempt while any of its windows is full.
    pub async fn check_login(&self, budget: &LoginBudget, ip: &str) -> Result<(), AuthError> {
        let (now, shared) = (self.now(), self.shared());
        let mut waits = vec![self.login_ip.wait(shared, ip, now).await];
        if let Some(account) = budget.key() {
            waits.push(self.login_pair.wait(shared, &pair(&account, ip), now).await);
            waits.push(self.login_account.wait(shared, &account, now).await);
        }
        match waits.into_iter().flatten().max() {
            Some(wait) => Err(throttled(wait)),
            None => Ok(()),
        }
    }

    pub async fn login_failed(&self, budget: &LoginBudget, ip: &str) {
        let (now, shared) = (self.now(), self.shared());
        if let Some(account) = budget.key() {
            self.login_pair
                .record(shared, &pair(&account, ip), now)
                .await;
            self.login_account.record(shared, &account, now).await;
        }
        self.login_ip.record(shared, ip, now).await;
    }

    /// A success from an address clears that account's failures from it.
    pub async fn login_succeeded(&self, budget: &LoginBudget, ip: &str) {
        if let Some(account) = budget.key() {
            let key = pair(&account, ip);
            self.login_pair.forget(self.shared(), &key).await;
        }
    }

    /// Refuses a guess at a secret — a room code — while the address is over its budget of
    /// failed guesses (the same budget as failed logins from that address).
    pub async fn check_guess(&self, ip: &str) -> Result<(), AuthError> {
        match self.login_ip.wait(self.shared(), ip, self.now()).await {
            Some(wait) => Err(throttled(wait)),
            None => Ok(()),
        }
    }

    pub async fn guess_failed(&self, ip: &str) {
        self.login_ip.record(self.shared(), ip, self.now()).await;
    }

    /// Counts a registration attempt; refuses it when the address has used its share.
    pub async fn registration(&self, ip: &str) -> Result<(), AuthError> {
        let (now, shared) = (self.now(), self.shared());
        if let Some(wait) = self.registration_ip.wait(shared, ip, now).await {
            return Err(throttled(wait));
        }
        self.registration_ip.record(shared, ip, now).await;
        Ok(())
    }

    /// Drops windows nobody has used for a while.
    pub fn forget_idle(&self) {
        let now = self.clock.instant();
        for windows in [
            &self.login_pair,
            &self.login_ip,
            &self.login_account,
            &self.registration_ip,
        ] {
            windows.forget_idle(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttles() -> Throttles {
        throttles_on(Clock::system())
    }

    fn throttles_on(clock: Clock) -> Throttles {
        Throttles::new(
            &ThrottleSettings {
                login_attempts_per_account: 2,
                login_attempts_per_ip: 5,
                login_window: Duration::from_secs(60),
                registrations_per_ip: 1,
                registration_window: Duration::from_secs(60),
            },
            clock,
        )
    }

    const ANN: LoginBudget = LoginBudget::Account(1);
    const BOB: LoginBudget = LoginBudget::Account(2);

    #[tokio::test]
    async fn failures_from_one_address_do_not_lock_the_account_elsewhere() {
        let t = throttles();
        t.login_failed(&ANN, "6.6.6.6").await;
        t.login_failed(&ANN, "6.6.6.6").await;
        assert!(matches!(
            t.check_login(&ANN, "6.6.6.6").await,
            Err(AuthError::Throttled(_))
        ));
        assert!(
            t.check_login(&ANN, "1.2.3.4").await.is_ok(),
            "the real user elsewhere"
        );
        assert!(
            t.check_login(&BOB, "6.6.6.6").await.is_ok(),
            "other accounts from that address"
        );
    }

    #[tokio::test]
    async fn a_limit_lifts_when_the_window_slides() {
        let (clock, hand) = Clock::manual();
        let t = throttles_on(clock);
        t.login_failed(&ANN, "6.6.6.6").await;
        t.login_failed(&ANN, "6.6.6.6").await;
        assert!(t.check_login(&ANN, "6.6.6.6").await.is_err());
        hand.advance(Duration::from_secs(60));
        assert!(t.check_login(&ANN, "6.6.6.6").await.is_ok());
    }

    #[tokio::test]
    async fn key_logins_spend_only_the_address_budget() {
        let t = throttles();
        for n in 0..30 {
            t.login_failed(&LoginBudget::AddressOnly, &format!("10.0.0.{n}"))
                .await;
        }
        assert!(
            t.check_login(&LoginBudget::AddressOnly, "10.0.1.1")
                .await
                .is_ok(),
            "no shared budget for every key account"
        );
        for _ in 0..5 {
            t.login_failed(&LoginBudget::AddressOnly, "6.6.6.6").await;
        }
        assert!(t
            .check_login(&LoginBudget::AddressOnly, "6.6.6.6")
            .await
            .is_err());
    }

    #[tokio::test]
    async fn registrations_are_counted_per_address() {
        let t = throttles();
        assert!(t.registration("1.1.1.1").await.is_ok());
        assert!(t.registration("1.1.1.1").await.is_err());
        assert!(t.registration("2.2.2.2").await.is_ok());
    }
}
