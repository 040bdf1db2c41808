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

use super::AuthError;
use crate::clock::Clock;
use crate::domain::RateWindow;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

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

/// One family of sliding windows, keyed by text.
struct Windows {
    limit: usize,
    window: Duration,
    by_key: Mutex<HashMap<String, RateWindow>>,
}

impl Windows {
    fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            by_key: Mutex::default(),
        }
    }

    /// How long `key` must wait, if its window is full.
    fn wait(&self, key: &str, now: Instant) -> Option<Duration> {
        let mut by_key = self.by_key.lock().unwrap_or_else(PoisonError::into_inner);
        let window = by_key.get_mut(key)?;
        window.is_full(now).then(|| window.retry_after(now))
    }

    fn record(&self, key: &str, now: Instant) {
        let mut by_key = self.by_key.lock().unwrap_or_else(PoisonError::into_inner);
        by_key
            .entry(key.to_owned())
            .or_insert_with(|| RateWindow::new(self.limit, self.window))
            .try_acquire(now);
    }

    fn forget(&self, key: &str) {
        self.by_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
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
            login_pair: Windows::new(per_account, settings.login_window),
            login_ip: Windows::new(settings.login_attempts_per_ip, settings.login_window),
            login_account: Windows::new(per_account * 10, settings.login_window),
            registration_ip: Windows::new(
                settings.registrations_per_ip,
                settings.registration_window,
            ),
        }
    }

    /// Refuses a login attempt while any of its windows is full.
    pub fn check_login(&self, budget: &LoginBudget, ip: &str) -> Result<(), AuthError> {
        let now = self.clock.instant();
        let account = budget.key();
        let waits = [
            account
                .as_ref()
                .and_then(|account| self.login_pair.wait(&pair(account, ip), now)),
            self.login_ip.wait(ip, now),
            account
                .as_ref()
                .and_then(|account| self.login_account.wait(account, now)),
        ];
        match waits.into_iter().flatten().max() {
            Some(wait) => Err(throttled(wait)),
            None => Ok(()),
        }
    }

    pub fn login_failed(&self, budget: &LoginBudget, ip: &str) {
        let now = self.clock.instant();
        if let Some(account) = budget.key() {
            self.login_pair.record(&pair(&account, ip), now);
            self.login_account.record(&account, now);
        }
        self.login_ip.record(ip, now);
    }

    /// A success from an address clears that account's failures from it.
    pub fn login_succeeded(&self, budget: &LoginBudget, ip: &str) {
        if let Some(account) = budget.key() {
            self.login_pair.forget(&pair(&account, ip));
        }
    }

    /// Refuses a guess at a secret — a room code — while the address is over its budget of
    /// failed guesses (the same budget as failed logins from that address).
    pub fn check_guess(&self, ip: &str) -> Result<(), AuthError> {
        match self.login_ip.wait(ip, self.clock.instant()) {
            Some(wait) => Err(throttled(wait)),
            None => Ok(()),
        }
    }

    pub fn guess_failed(&self, ip: &str) {
        self.login_ip.record(ip, self.clock.instant());
    }

    /// Counts a registration attempt; refuses it when the address has used its share.
    pub fn registration(&self, ip: &str) -> Result<(), AuthError> {
        let now = self.clock.instant();
        if let Some(wait) = self.registration_ip.wait(ip, now) {
            return Err(throttled(wait));
        }
        self.registration_ip.record(ip, now);
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

    #[test]
    fn failures_from_one_address_do_not_lock_the_account_elsewhere() {
        let t = throttles();
        t.login_failed(&ANN, "6.6.6.6");
        t.login_failed(&ANN, "6.6.6.6");
        assert!(matches!(
            t.check_login(&ANN, "6.6.6.6"),
            Err(AuthError::Throttled(_))
        ));
        assert!(
            t.check_login(&ANN, "1.2.3.4").is_ok(),
            "the real user elsewhere"
        );
        assert!(
            t.check_login(&BOB, "6.6.6.6").is_ok(),
            "other accounts from that address"
        );
    }

    #[test]
    fn a_limit_lifts_when_the_window_slides() {
        let (clock, hand) = Clock::manual();
        let t = throttles_on(clock);
        t.login_failed(&ANN, "6.6.6.6");
        t.login_failed(&ANN, "6.6.6.6");
        assert!(t.check_login(&ANN, "6.6.6.6").is_err());
        hand.advance(Duration::from_secs(60));
        assert!(t.check_login(&ANN, "6.6.6.6").is_ok());
    }

    #[test]
    fn key_logins_spend_only_the_address_budget() {
        let t = throttles();
        for n in 0..30 {
            t.login_failed(&LoginBudget::AddressOnly, &format!("10.0.0.{n}"));
        }
        assert!(
            t.check_login(&LoginBudget::AddressOnly, "10.0.1.1").is_ok(),
            "no shared budget for every key account"
        );
        for _ in 0..5 {
            t.login_failed(&LoginBudget::AddressOnly, "6.6.6.6");
        }
        assert!(t.check_login(&LoginBudget::AddressOnly, "6.6.6.6").is_err());
    }

    #[test]
    fn registrations_are_counted_per_address() {
        let t = throttles();
        assert!(t.registration("1.1.1.1").is_ok());
        assert!(t.registration("1.1.1.1").is_err());
        assert!(t.registration("2.2.2.2").is_ok());
    }
}
