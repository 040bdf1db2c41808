//! Room bans: a room's owner or admins keep an account out of one room (global bans are
//! sanctions). Banning removes the membership in the same transaction.

use super::{affected, StoreError};
use crate::domain::Millis;
use sqlx::AnyPool;

/// Queries on `room_bans`.
#[derive(Clone, Copy, Debug)]
pub struct RoomBans<'a> {
    pub(super) pool: &'a AnyPool,
}

impl RoomBans<'_> {
    /// Bans a user from the room and removes their membership, in one transaction. A pending
    /// access request stays (its requester sees it expire as any other); the room's
    /// moderators no longer see it.
    pub async fn ban(
        &self,
        room_id: i64,
        user_id: i64,
        banned_by: i64,
        now: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let removed = sqlx::query("DELETE FROM room_members WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if affected(removed) {
            super::room_epoch_keys::next_epoch(&mut tx, room_id).await?;
        }
        sqlx::query(
            "INSERT INTO room_bans (room_id, user_id, banned_by, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (room_id, user_id) DO NOTHING",
        )
        .bind(room_id)
        .bind(user_id)
        .bind(banned_by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn unban(&self, room_id: i64, user_id: i64) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM room_bans WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(user_id)
            .execute(self.pool)
            .await?;
        Ok(affected(result))
    }

    pub async fn is_banned(&self, room_id: i64, user_id: i64) -> Result<bool, StoreError> {
        let found: Option<(i64,)> =
            sqlx::query_as("SELECT user_id FROM room_bans WHERE room_id = $1 AND user_id = $2")
                .bind(room_id)
                .bind(user_id)
                .fetch_optional(self.pool)
                .await?;
        Ok(found.is_some())
    }
}
