//! Premium on accounts: `users.premium_until`, read and changed in single statements.
//!
//! These are more queries on `users` (`store.users().premium_until(id)`), kept apart from the
//! identity queries in `users.rs` because they change for another reason (payments, the admin
//! panel). A change is one `UPDATE … RETURNING`, so two payments arriving at once for the same
//! account both count: each extends what the other left, never a value read before it.

use super::{StoreError, Users};
use crate::domain::Millis;
use sqlx::{Any, Executor};

/// Premium added to an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    /// `period` milliseconds more: added to the running period, or from `now` when there is
    /// none (or it ended). An end at or past `forever` stays as it is.
    Extend {
        now: Millis,
        period: Millis,
        forever: Millis,
    },
    /// Premium until at least this moment (a later end already set stays).
    AtLeast(Millis),
}

impl Users<'_> {
    /// When the account's premium ends (`None`: no premium, or no such account).
    pub async fn premium_until(&self, user_id: i64) -> Result<Option<Millis>, StoreError> {
        let row: Option<(Option<Millis>,)> =
            sqlx::query_as("SELECT premium_until FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(self.pool)
                .await?;
        Ok(row.and_then(|(until,)| until))
    }

    /// Sets (or, with `None`, clears) when the account's premium ends; `false` when there is
    /// no such account.
    pub async fn set_premium_until(
        &self,
        user_id: i64,
        until: Option<Millis>,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query("UPDATE users SET premium_until = $1 WHERE id = $2")
            .bind(until)
            .bind(user_id)
            .execute(self.pool)
            .await?;
        Ok(super::affected(result))
    }

    /// Adds premium to an account (see [`Grant`]). Returns the new end, `None` when there is
    /// no such account.
    pub async fn grant_premium(
        &self,
        user_id: i64,
        grant: Grant,
    ) -> Result<Option<Millis>, StoreError> {
        grant_on(self.pool, user_id, grant).await
    }
}

/// [`Users::grant_premium`] on a connection or inside a transaction (a payment records its
/// event and grants in one).
pub(super) async fn grant_on<'e>(
    executor: impl Executor<'e, Database = Any>,
    user_id: i64,
    grant: Grant,
) -> Result<Option<Millis>, StoreError> {
    let query = match grant {
        Grant::Extend {
            now,
            period,
            forever,
        } => sqlx::query_as(
            "UPDATE users SET premium_until = CASE \
                 WHEN premium_until >= $1 THEN premium_until \
                 WHEN premium_until > $2 THEN premium_until + $3 \
                 ELSE $4 END \
             WHERE id = $5 RETURNING premium_until",
        )
        .bind(forever)
        .bind(now)
        .bind(period)
        .bind(now.saturating_add(period)),
        Grant::AtLeast(until) => sqlx::query_as(
            "UPDATE users SET premium_until = CASE \
                 WHEN premium_until > $1 THEN premium_until ELSE $2 END \
             WHERE id = $3 RETURNING premium_until",
        )
        .bind(until)
        .bind(until),
    };
    let row: Option<(Option<Millis>,)> = query.bind(user_id).fetch_optional(executor).await?;
    Ok(row.and_then(|(until,)| until))
}
