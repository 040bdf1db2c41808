//! How many of their free companion messages each user has spent, so the trial survives
//! restarts. Taking one is a single statement: two messages at once cannot both take the last.

use super::StoreError;
use sqlx::AnyPool;

/// Queries on `ai_usage`.
#[derive(Clone, Copy, Debug)]
pub struct AiUsage<'a> {
    pub(super) pool: &'a AnyPool,
}

impl AiUsage<'_> {
    /// Spends one free message if fewer than `limit` are spent; `false` when none is left.
    pub async fn take(&self, user_id: i64, limit: u32) -> Result<bool, StoreError> {
        if limit == 0 {
            return Ok(false);
        }
        let taken = sqlx::query(
            "INSERT INTO ai_usage (user_id, used) VALUES ($1, 1) \
             ON CONFLICT (user_id) DO UPDATE SET used = ai_usage.used + 1 \
             WHERE ai_usage.used < $2",
        )
        .bind(user_id)
        .bind(i64::from(limit))
        .execute(self.pool)
        .await?;
        Ok(taken.rows_affected() > 0)
    }

    /// Gives back a message that got no real answer (the model failed: the fallback is free).
    pub async fn give_back(&self, user_id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE ai_usage SET used = used - 1 WHERE user_id = $1 AND used > 0")
            .bind(user_id)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// How many free messages the user has spent.
    pub async fn used(&self, user_id: i64) -> Result<u32, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT used FROM ai_usage WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(self.pool)
            .await?;
        Ok(row.map_or(0, |(used,)| u32::try_from(used).unwrap_or(u32::MAX)))
    }
}
