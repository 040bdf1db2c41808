//! Payment events, once each: the provider's event id is the key, so a webhook delivered
//! twice (a retry, a replay of a captured request within the signature's tolerance) finds its
//! first row and grants nothing again.

use super::premium::{grant_on, Grant};
use super::StoreError;
use crate::domain::Millis;
use sqlx::AnyPool;

/// One payment event as first received.
#[derive(Debug, Clone)]
pub struct NewPaymentEvent<'a> {
    /// The provider's id of the event (`evt_…`).
    pub event_id: &'a str,
    /// The account it named, when one has that name or id.
    pub user_id: Option<i64>,
    /// The account as the event named it.
    pub account: &'a str,
    /// What became of it: `granted`, `unknown_account`, `ignored`.
    pub outcome: &'a str,
    pub received_at: Millis,
}

/// Queries on `payment_events`.
#[derive(Clone, Copy, Debug)]
pub struct Payments<'a> {
    pub(super) pool: &'a AnyPool,
}

/// What recording an event found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The first delivery: recorded, and premium granted when asked (its new end; `None` when
    /// nothing was granted).
    New { premium_until: Option<Millis> },
    /// Delivered before; nothing changed. The first delivery's outcome.
    Seen { outcome: String },
}

impl Payments<'_> {
    /// Records an event unless its id is known and, for a new one naming an account, grants
    /// `grant` in the same transaction: a payment is recorded exactly when it was granted.
    pub async fn record_once(
        &self,
        event: &NewPaymentEvent<'_>,
        grant: Option<Grant>,
    ) -> Result<Recorded, StoreError> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO payment_events (event_id, user_id, account, outcome, received_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event.event_id)
        .bind(event.user_id)
        .bind(event.account)
        .bind(event.outcome)
        .bind(event.received_at)
        .execute(&mut *tx)
        .await?;
        if !super::affected(inserted) {
            let (outcome,): (String,) =
                sqlx::query_as("SELECT outcome FROM payment_events WHERE event_id = $1")
                    .bind(event.event_id)
                    .fetch_one(&mut *tx)
                    .await?;
            tx.rollback().await?;
            return Ok(Recorded::Seen { outcome });
        }
        let premium_until = match (event.user_id, grant) {
            (Some(user_id), Some(grant)) => grant_on(&mut *tx, user_id, grant).await?,
            _ => None,
        };
        tx.commit().await?;
        Ok(Recorded::New { premium_until })
    }
}
