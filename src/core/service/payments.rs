//! Payments: a payment provider's word that an account paid, turned into premium once.
//!
//! The REST edge (`api/payments.rs`) authenticates the call — the webhook's HMAC signature and
//! its timestamp, or the simple form's shared secret — and parses the event into a
//! [`Payment`]. Here the event is settled: recorded under the provider's event id in the same
//! transaction that grants the premium, so a retried or replayed event finds its first record
//! and grants nothing twice; then the account's open pages are told (`premium_changed`).
//!
//! Every call is written to the audit log with its outcome (`action: "payment"`, the caller's
//! address, the account, the event id) — refusals included, through [`Payments::refused`].
//! Never the secret or the signature.

use super::premium::{extension, until_text, Premium, PremiumError, PremiumStatus};
use super::premium::{MAX_PERIOD_DAYS, PREMIUM_FOREVER};
use crate::domain::{Millis, Name};
use crate::error::ErrorCode;
use crate::moderation::Moderation;
use crate::store::{AuditEntry, Grant, NewPaymentEvent, Recorded, Store, UserRow};
use serde::Serialize;
use std::net::IpAddr;
use std::sync::Arc;
use utoipa::ToSchema;

/// The account a payment is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountRef {
    Name(Name),
    /// The account's id (`user:<id>` in the admin panel).
    Id(i64),
}

impl AccountRef {
    /// As the event named it (kept with the event, and in the audit log when no account has it).
    fn as_sent(&self) -> String {
        match self {
            AccountRef::Name(name) => name.to_string(),
            AccountRef::Id(id) => format!("user:{id}"),
        }
    }
}

/// How much premium a payment buys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentGrant {
    /// Days more (1–3650): added to a running period, or from now.
    Days(u64),
    /// Premium at least until this moment (UTC millis).
    Until(Millis),
}

/// One authenticated payment event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    /// The provider's event id, which makes the event count once (`None` for the simple form,
    /// which has none: every call grants).
    pub event_id: Option<String>,
    pub account: Option<AccountRef>,
    /// `None` for an event of another type than a successful payment: recorded, no grant.
    pub grant: Option<PaymentGrant>,
}

/// How the payment arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// `POST /api/payments/webhook`.
    Webhook,
    /// `POST /api/payment/success`.
    Simple,
}

impl Channel {
    fn as_str(self) -> &'static str {
        match self {
            Channel::Webhook => "webhook",
            Channel::Simple => "simple",
        }
    }
}

/// What became of a payment event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Premium granted or extended.
    Granted,
    /// An event of another type: recorded, nothing granted.
    Ignored,
    /// Seen before (same event id): nothing changed.
    Duplicate,
}

/// The answer to a settled payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Settled {
    pub outcome: Outcome,
    /// The event id was seen before; nothing was granted this time.
    pub duplicate: bool,
    /// The account's premium after a grant (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub premium: Option<PremiumStatus>,
}

/// Payments settled into premium.
pub struct Payments {
    premium: Arc<Premium>,
    store: Store,
    moderation: Arc<Moderation>,
}

impl Payments {
    pub fn new(premium: Arc<Premium>, store: Store, moderation: Arc<Moderation>) -> Self {
        Self {
            premium,
            store,
            moderation,
        }
    }

    /// Settles an authenticated payment: recorded once by event id, premium granted in the
    /// same transaction, the account's pages told, the call audited. A payment for an account
    /// that does not exist is recorded and audited too, and answered `UnknownAccount`.
    pub async fn settle(
        &self,
        payment: Payment,
        channel: Channel,
        ip: IpAddr,
    ) -> Result<Settled, PremiumError> {
        let now = self.premium.now();
        let user = match &payment.account {
            Some(account) => self.account(account).await?,
            None => None,
        };
        let grant = match payment.grant {
            Some(PaymentGrant::Days(days)) => Some(extension(days, now)?),
            Some(PaymentGrant::Until(until)) => Some(until_grant(until)?),
            None => None,
        };
        let sent = payment.account.as_ref().map(AccountRef::as_sent);
        let target = user.as_ref().map(|u| u.name.clone()).or(sent.clone());
        let first = match (&grant, &user) {
            (None, _) => "ignored",
            (Some(_), None) => "unknown_account",
            (Some(_), Some(_)) => "granted",
        };
        let user_id = user.as_ref().map(|u| u.id);
        let recorded = match &payment.event_id {
            Some(event_id) => {
                let event = NewPaymentEvent {
                    event_id,
                    user_id,
                    account: sent.as_deref().unwrap_or(""),
                    outcome: first,
                    received_at: now,
                };
                self.store
                    .payments()
                    .record_once(&event, grant.filter(|_| user.is_some()))
                    .await?
            }
            None => Recorded::New {
                premium_until: match (user_id, grant) {
                    (Some(id), Some(grant)) => self.store.users().grant_premium(id, grant).await?,
                    _ => None,
                },
            },
        };
        let event_id = payment.event_id.as_deref();
        let (outcome, status) = match recorded {
            Recorded::Seen { outcome } => {
                let detail = format!("duplicate of an event that was {outcome}");
                self.audit(channel, ip, event_id, target.as_deref(), &detail)
                    .await?;
                return Ok(Settled {
                    outcome: Outcome::Duplicate,
                    duplicate: true,
                    premium: None,
                });
            }
            Recorded::New { premium_until } => {
                let status = PremiumStatus::at(premium_until, now);
                let detail = match first {
                    "granted" => format!("granted; {}", until_text(premium_until)),
                    other => other.to_owned(),
                };
                self.audit(channel, ip, event_id, target.as_deref(), &detail)
                    .await?;
                (first, status)
            }
        };
        match (outcome, user_id) {
            ("granted", Some(id)) => {
                self.premium.announce(id, status);
                Ok(Settled {
                    outcome: Outcome::Granted,
                    duplicate: false,
                    premium: Some(status),
                })
            }
            ("unknown_account", _) => Err(PremiumError::UnknownAccount),
            _ => Ok(Settled {
                outcome: Outcome::Ignored,
                duplicate: false,
                premium: None,
            }),
        }
    }

    /// Audits a call refused before its event was believed (a bad or stale signature, a wrong
    /// secret, an event that does not parse) with the code it is answered: the address and
    /// why, nothing it claimed.
    pub async fn refused(&self, channel: Channel, ip: IpAddr, code: ErrorCode) {
        let detail = format!("refused: {}", code.as_str());
        if let Err(err) = self.audit(channel, ip, None, None, &detail).await {
            tracing::error!(error = %err, "could not audit a refused payment call");
        }
    }

    async fn account(&self, account: &AccountRef) -> Result<Option<UserRow>, PremiumError> {
        let users = self.store.users();
        Ok(match account {
            AccountRef::Name(name) => users.by_name_key(&name.key()).await?,
            AccountRef::Id(id) => users.by_id(*id).await?,
        })
    }

    async fn audit(
        &self,
        channel: Channel,
        ip: IpAddr,
        event_id: Option<&str>,
        target: Option<&str>,
        outcome: &str,
    ) -> Result<(), PremiumError> {
        let event = event_id
            .map(|id| format!(" event {id}:"))
            .unwrap_or_default();
        self.moderation
            .audit_log()
            .record_now(AuditEntry {
                ts: self.premium.now(),
                actor: "payments".into(),
                identity: None,
                actor_ip: Some(ip.to_string()),
                action: "payment".into(),
                target: target.map(str::to_owned),
                room: None,
                detail: Some(format!("{}{event} {outcome}", channel.as_str())),
            })
            .await?;
        Ok(())
    }
}

/// Premium until a given moment: in the future, at most "forever".
fn until_grant(until: Millis) -> Result<Grant, PremiumError> {
    if !(0..=PREMIUM_FOREVER).contains(&until) {
        return Err(PremiumError::Invalid(format!(
            "paid_until is a time in milliseconds up to {PREMIUM_FOREVER}; periods are at most {MAX_PERIOD_DAYS} days"
        )));
    }
    Ok(Grant::AtLeast(until))
}
