//! Ignore lists: whom each account ignores, by case-folded name.

use super::{affected, StoreError};
use crate::domain::Millis;
use sqlx::AnyPool;

/// Queries on `ignores`.
#[derive(Clone, Copy, Debug)]
pub struct Ignores<'a> {
    pub(super) pool: &'a AnyPool,
}

impl Ignores<'_> {
    pub async fn of(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT ignored_key FROM ignores WHERE user_id = $1 ORDER BY ignored_key",
        )
        .bind(user_id)
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().map(|(key,)| key).collect())
    }

    /// `false` if already ignored.
    pub async fn add(&self, user_id: i64, key: &str, now: Millis) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO ignores (user_id, ignored_key, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, ignored_key) DO NOTHING",
        )
        .bind(user_id)
        .bind(key)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(affected(result))
    }

    /// `false` if it was not ignored.
    pub async fn remove(&self, user_id: i64, key: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM ignores WHERE user_id = $1 AND ignored_key = $2")
            .bind(user_id)
            .bind(key)
            .execute(self.pool)
            .await?;
        Ok(affected(result))
    }
}
