//! Room membership: who belongs to which room, in which role, and since when. Joining drops
//! the joiner's pending access request in the same transaction.

use super::{affected, StoreError};
use crate::domain::Millis;
use sqlx::AnyPool;

/// A member of a room.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub user_id: i64,
    pub name: String,
    pub role: String,
    pub joined_at: Millis,
}

/// Queries on `room_members`.
#[derive(Clone, Copy, Debug)]
pub struct Members<'a> {
    pub(super) pool: &'a AnyPool,
}

impl Members<'_> {
    /// The user's role in the room, if a member.
    pub async fn role(&self, room_id: i64, user_id: i64) -> Result<Option<String>, StoreError> {
        let role: Option<(String,)> =
            sqlx::query_as("SELECT role FROM room_members WHERE room_id = $1 AND user_id = $2")
                .bind(room_id)
                .bind(user_id)
                .fetch_optional(self.pool)
                .await?;
        Ok(role.map(|(r,)| r))
    }

    /// Adds a member (and drops their pending access request); `false` if already a member.
    pub async fn add(
        &self,
        room_id: i64,
        user_id: i64,
        role: &str,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let added = sqlx::query(
            "INSERT INTO room_members (room_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (room_id, user_id) DO NOTHING",
        )
        .bind(room_id)
        .bind(user_id)
        .bind(role)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM access_requests WHERE user_id = $2 \
             AND slug = (SELECT slug FROM rooms WHERE id = $1)",
        )
        .bind(room_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(affected(added))
    }

    /// Ends a membership; an end-to-end room starts a new key epoch in the same transaction,
    /// so that nothing written after it is readable with keys the member held.
    pub async fn remove(&self, room_id: i64, user_id: i64) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query("DELETE FROM room_members WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let removed = affected(result);
        if removed {
            super::room_epoch_keys::next_epoch(&mut tx, room_id).await?;
        }
        tx.commit().await?;
        Ok(removed)
    }

    pub async fn set_role(
        &self,
        room_id: i64,
        user_id: i64,
        role: &str,
    ) -> Result<bool, StoreError> {
        let result =
            sqlx::query("UPDATE room_members SET role = $1 WHERE room_id = $2 AND user_id = $3")
                .bind(role)
                .bind(room_id)
                .bind(user_id)
                .execute(self.pool)
                .await?;
        Ok(affected(result))
    }

    pub async fn list(&self, room_id: i64) -> Result<Vec<MemberRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT m.user_id, u.name, m.role, m.joined_at FROM room_members m \
             JOIN users u ON u.id = m.user_id WHERE m.room_id = $1 ORDER BY u.name_key",
        )
        .bind(room_id)
        .fetch_all(self.pool)
        .await?)
    }

    /// The member's read pointer (the last sequence number they marked read), if a member.
    pub async fn last_read(&self, room_id: i64, user_id: i64) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT last_read_seq FROM room_members WHERE room_id = $1 AND user_id = $2",
        )
        .bind(room_id)
        .bind(user_id)
        .fetch_optional(self.pool)
        .await?;
        Ok(row.map(|(seq,)| seq))
    }

    /// The members among these case-folded names, with their ids (names as stored): who a
    /// message's `@name`s mention.
    pub async fn named(
        &self,
        room_id: i64,
        name_keys: &[String],
    ) -> Result<Vec<MemberRow>, StoreError> {
        if name_keys.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = super::placeholders(2, name_keys.len());
        let sql = format!(
            "SELECT m.user_id, u.name, m.role, m.joined_at FROM room_members m \
             JOIN users u ON u.id = m.user_id WHERE m.room_id = $1 AND u.name_key IN ({placeholders})"
        );
        let mut query = sqlx::query_as(&sql).bind(room_id);
        for key in name_keys {
            query = query.bind(key);
        }
        Ok(query.fetch_all(self.pool).await?)
    }
}
