//! Access requests: an account asks to join a private room; its owner and admins decide.

use super::{affected, StoreError};
use crate::domain::Millis;
use sqlx::AnyPool;

/// A pending request.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRow {
    pub user_id: i64,
    pub name: String,
    pub created_at: Millis,
}

/// Queries on `access_requests`.
#[derive(Clone, Copy, Debug)]
pub struct AccessRequests<'a> {
    pub(super) pool: &'a AnyPool,
}

impl AccessRequests<'_> {
    /// Records that a user asks to join a private room; `false` if already asked.
    pub async fn add(&self, room_id: i64, user_id: i64, now: Millis) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO access_requests (room_id, user_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (room_id, user_id) DO NOTHING",
        )
        .bind(room_id)
        .bind(user_id)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(affected(result))
    }

    /// Pending requests of a room: user id, name, when.
    pub async fn list(&self, room_id: i64) -> Result<Vec<RequestRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT q.user_id, u.name, q.created_at FROM access_requests q \
             JOIN users u ON u.id = q.user_id WHERE q.room_id = $1 ORDER BY q.created_at",
        )
        .bind(room_id)
        .fetch_all(self.pool)
        .await?)
    }

    pub async fn drop(&self, room_id: i64, user_id: i64) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM access_requests WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(user_id)
            .execute(self.pool)
            .await?;
        Ok(affected(result))
    }
}
