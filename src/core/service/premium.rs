//! Premium accounts: who has it, until when, and every change to it made visible at once.
//!
//! Premium is one property of an account, `premium_until` (UTC milliseconds; `None` without
//! premium). It is active while that moment lies ahead, computed from the server's [`Clock`]
//! whenever asked, so an expiry needs no job: a lapsed premium simply reads inactive. Premium
//! "forever" is [`PREMIUM_FOREVER`], the last millisecond of the year 9999, rather than a
//! second marker: "active" stays one comparison everywhere, and clients still read a date.
//!
//! Changes come from the admin panel ([`Premium::change`], admins and root) and from payments
//! (`core::service::payments`). Either way the account's open connections, on every node and
//! every framing, hear `premium_changed` at once — a paywall disappears without a reload — and
//! the change is in the audit log (who, what, until).
//!
//! This service does not decide what premium unlocks: the AI companion asks
//! [`Premium::premium_active`] (or reads `store.users().premium_until(id)`).

use crate::clock::Clock;
use crate::core::event::Event;
use crate::core::{Bus, CoreError, Directive};
use crate::domain::{Millis, Name, Principal, Role};
use crate::error::{ErrorBody, ErrorCode};
use crate::moderation::{Actor, Moderation};
use crate::store::{Grant, Store, StoreError};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// Premium that does not end: 9999-12-31T23:59:59.999Z. Any end at or past it reads "forever".
pub const PREMIUM_FOREVER: Millis = 253_402_300_799_999;

// Below 2^53, so JavaScript numbers (the web app, most JSON clients) hold it exactly.
const _: () = assert!(PREMIUM_FOREVER < (1_i64 << 53));

/// The longest period one grant or payment adds: ten years.
pub const MAX_PERIOD_DAYS: u64 = 3650;

const DAY_MILLIS: Millis = 24 * 3600 * 1000;

/// An account's premium as clients see it: in `GET /api/user/@me`, the admin panel and the
/// `premium_changed` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PremiumStatus {
    /// When premium ends (UTC millis); `null` without premium. 253402300799999 is "forever".
    #[schema(value_type = Option<i64>)]
    pub premium_until: Option<Millis>,
    /// Whether premium is in force now.
    pub active: bool,
}

impl PremiumStatus {
    /// The status of an account whose premium ends at `premium_until`, at `now`.
    pub fn at(premium_until: Option<Millis>, now: Millis) -> Self {
        Self {
            premium_until,
            active: premium_until.is_some_and(|until| until > now),
        }
    }

    fn event(self) -> Event {
        Event::PremiumChanged {
            premium_until: self.premium_until,
            active: self.active,
        }
    }
}

/// What an admin does to an account's premium.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PremiumChange {
    /// Adds days: to the running period, or from now (like a payment).
    Extend { days: u64 },
    /// Ends premium at exactly this moment (earlier or later than before).
    Until(Millis),
    /// Premium that does not end.
    Forever,
    /// No premium any more.
    Revoke,
}

/// Why a premium change or a payment was refused; each with its stable code.
#[derive(Debug, thiserror::Error)]
pub enum PremiumError {
    #[error("premium is granted and revoked by admins")]
    Forbidden,
    #[error("no such account")]
    NoSuchAccount,
    #[error("{0}")]
    Invalid(String),
    /// A payment webhook call without a valid signature.
    #[error("the signature is missing or does not match")]
    InvalidSignature,
    /// A payment webhook call signed outside the tolerance.
    #[error("the signature's timestamp is too far from the server's time")]
    StaleSignature,
    /// The simple payment form's shared secret does not match.
    #[error("the secret does not match")]
    WrongSecret,
    /// A payment naming an account that does not exist (the event is recorded all the same).
    #[error("no account by that name or id")]
    UnknownAccount,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl PremiumError {
    pub fn code(&self) -> ErrorCode {
        match self {
            PremiumError::Forbidden => ErrorCode::Forbidden,
            PremiumError::NoSuchAccount => ErrorCode::NotFound,
            PremiumError::Invalid(_) => ErrorCode::InvalidPayload,
            PremiumError::InvalidSignature => ErrorCode::InvalidSignature,
            PremiumError::StaleSignature => ErrorCode::StaleSignature,
            PremiumError::WrongSecret => ErrorCode::InvalidCredentials,
            PremiumError::UnknownAccount => ErrorCode::UnknownAccount,
            PremiumError::Store(StoreError::Database(_)) => ErrorCode::Unavailable,
            PremiumError::Store(_) => ErrorCode::Internal,
            PremiumError::Core(err) => err.code(),
        }
    }

    /// The reply body (for the REST edge). Internal failures are logged here and described to
    /// nobody.
    pub fn body(&self) -> ErrorBody {
        match self {
            PremiumError::Core(err) => err.body(),
            _ if matches!(self.code(), ErrorCode::Internal | ErrorCode::Unavailable) => {
                tracing::error!(error = %self, "premium change failed");
                ErrorBody::new(self.code(), "the server could not complete the request")
            }
            _ => ErrorBody::new(self.code(), self.to_string()),
        }
    }
}

/// Premium: reads, changes, their live event and audit entry.
pub struct Premium {
    store: Store,
    moderation: Arc<Moderation>,
    bus: Arc<dyn Bus>,
    clock: Clock,
}

impl Premium {
    pub fn new(store: Store, moderation: Arc<Moderation>, bus: Arc<dyn Bus>, clock: Clock) -> Self {
        Self {
            store,
            moderation,
            bus,
            clock,
        }
    }

    /// When the account's premium ends (`None`: none, or no such account).
    pub async fn premium_until(&self, user_id: i64) -> Result<Option<Millis>, StoreError> {
        self.store.users().premium_until(user_id).await
    }

    /// Whether the account has premium at `now` (the companion passes its own clock reading,
    /// so one decision uses one moment).
    pub async fn premium_active(&self, user_id: i64, now: Millis) -> Result<bool, StoreError> {
        Ok(PremiumStatus::at(self.premium_until(user_id).await?, now).active)
    }

    /// The account's premium now.
    pub async fn status(&self, user_id: i64) -> Result<PremiumStatus, StoreError> {
        let until = self.premium_until(user_id).await?;
        Ok(PremiumStatus::at(until, self.clock.now_millis()))
    }

    /// An admin grants, extends or revokes an account's premium (admins and root only: premium
    /// stands for money, so moderators, who keep order, do not hand it out).
    pub async fn change(
        &self,
        actor: &Actor<'_>,
        name: &Name,
        change: PremiumChange,
    ) -> Result<PremiumStatus, PremiumError> {
        if actor.identity.role < Role::Admin {
            return Err(PremiumError::Forbidden);
        }
        let user = self
            .store
            .users()
            .by_name_key(&name.key())
            .await?
            .ok_or(PremiumError::NoSuchAccount)?;
        let now = self.clock.now_millis();
        let users = self.store.users();
        let until = match change {
            PremiumChange::Extend { days } => {
                users.grant_premium(user.id, extension(days, now)?).await?
            }
            PremiumChange::Until(until) => {
                users.set_premium_until(user.id, Some(until)).await?;
                Some(until)
            }
            PremiumChange::Forever => {
                users
                    .set_premium_until(user.id, Some(PREMIUM_FOREVER))
                    .await?;
                Some(PREMIUM_FOREVER)
            }
            PremiumChange::Revoke => {
                users.set_premium_until(user.id, None).await?;
                None
            }
        };
        let status = PremiumStatus::at(until, now);
        let detail = match change {
            PremiumChange::Revoke => "revoked".to_owned(),
            PremiumChange::Extend { days } => {
                format!("extended by {days} days; {}", until_text(until))
            }
            PremiumChange::Until(_) | PremiumChange::Forever => {
                format!("set; {}", until_text(until))
            }
        };
        self.moderation
            .record(actor, "premium", Some(&user.name), Some(&detail))
            .await
            .map_err(CoreError::from)?;
        self.announce(user.id, status);
        Ok(status)
    }

    /// Tells every open connection of the account, on every node, its premium now.
    pub(crate) fn announce(&self, user_id: i64, status: PremiumStatus) {
        self.bus.direct(Directive::Tell {
            principal: Principal::User(user_id),
            event: status.event(),
        });
    }

    pub(crate) fn now(&self) -> Millis {
        self.clock.now_millis()
    }
}

/// `days` of premium from `now` (or from the end of a running period).
pub(crate) fn extension(days: u64, now: Millis) -> Result<Grant, PremiumError> {
    if !(1..=MAX_PERIOD_DAYS).contains(&days) {
        return Err(PremiumError::Invalid(format!(
            "a period is 1 to {MAX_PERIOD_DAYS} days"
        )));
    }
    Ok(Grant::Extend {
        now,
        period: days as Millis * DAY_MILLIS,
        forever: PREMIUM_FOREVER,
    })
}

/// How the audit log words an end of premium.
pub(crate) fn until_text(until: Option<Millis>) -> String {
    match until {
        None => "no premium".to_owned(),
        Some(until) if until >= PREMIUM_FOREVER => "until forever".to_owned(),
        Some(until) => format!("until {until}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn premium_is_active_only_before_its_end() {
        assert!(!PremiumStatus::at(None, 1_000).active);
        assert!(PremiumStatus::at(Some(1_001), 1_000).active);
        assert!(!PremiumStatus::at(Some(1_000), 1_000).active);
        assert!(PremiumStatus::at(Some(PREMIUM_FOREVER), 4_102_444_800_000).active);
    }

    #[test]
    fn periods_are_bounded_days() {
        assert!(extension(0, 0).is_err());
        assert!(extension(MAX_PERIOD_DAYS + 1, 0).is_err());
        assert_eq!(
            extension(2, 5).unwrap(),
            Grant::Extend {
                now: 5,
                period: 2 * DAY_MILLIS,
                forever: PREMIUM_FOREVER
            }
        );
    }
}
