//! Room invites: links with an expiry, an optional use limit and an optional e-mail binding.
//! Only the SHA-256 of an invite's token is stored.

use super::{affected, StoreError};
use crate::domain::Millis;
use sqlx::AnyPool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InviteRow {
    pub id: i64,
    pub room_id: i64,
    pub created_by: i64,
    pub email_key: Option<String>,
    pub max_uses: Option<i64>,
    pub uses: i64,
    pub expires_at: Millis,
    /// 0 or 1.
    pub revoked: i64,
    pub created_at: Millis,
}

pub struct NewInvite<'a> {
    pub room_id: i64,
    pub token_hash: &'a str,
    pub created_by: i64,
    pub email_key: Option<&'a str>,
    pub max_uses: Option<i64>,
    pub expires_at: Millis,
    pub created_at: Millis,
}

const COLUMNS: &str =
    "id, room_id, created_by, email_key, max_uses, uses, expires_at, revoked, created_at";

/// Queries on `invites`.
#[derive(Clone, Copy, Debug)]
pub struct Invites<'a> {
    pub(super) pool: &'a AnyPool,
}

impl Invites<'_> {
    pub async fn create(&self, new: NewInvite<'_>) -> Result<InviteRow, StoreError> {
        let sql = format!(
            "INSERT INTO invites (room_id, token_hash, created_by, email_key, max_uses, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
        );
        Ok(sqlx::query_as(&sql)
            .bind(new.room_id)
            .bind(new.token_hash)
            .bind(new.created_by)
            .bind(new.email_key)
            .bind(new.max_uses)
            .bind(new.expires_at)
            .bind(new.created_at)
            .fetch_one(self.pool)
            .await?)
    }

    pub async fn by_token_hash(&self, token_hash: &str) -> Result<Option<InviteRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM invites WHERE token_hash = $1");
        Ok(sqlx::query_as(&sql)
            .bind(token_hash)
            .fetch_optional(self.pool)
            .await?)
    }

    pub async fn of_room(&self, room_id: i64) -> Result<Vec<InviteRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM invites WHERE room_id = $1 ORDER BY id");
        Ok(sqlx::query_as(&sql)
            .bind(room_id)
            .fetch_all(self.pool)
            .await?)
    }

    /// Spends one use of a live invite and makes the user a member, in one transaction.
    /// `false` when the invite is no longer usable (expired, used up or revoked).
    pub async fn redeem(
        &self,
        invite_id: i64,
        user_id: i64,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let spent = sqlx::query(
            "UPDATE invites SET uses = uses + 1 WHERE id = $1 AND revoked = 0 AND expires_at > $2 \
             AND (max_uses IS NULL OR uses < max_uses)",
        )
        .bind(invite_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if !affected(spent) {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO room_members (room_id, user_id, role, joined_at) \
             SELECT room_id, $1, 'member', $2 FROM invites WHERE id = $3 \
             ON CONFLICT (room_id, user_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(now)
        .bind(invite_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM access_requests WHERE user_id = $1 AND slug = \
             (SELECT r.slug FROM invites i JOIN rooms r ON r.id = i.room_id WHERE i.id = $2)",
        )
        .bind(user_id)
        .bind(invite_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn revoke(&self, room_id: i64, invite_id: i64) -> Result<bool, StoreError> {
        let result = sqlx::query("UPDATE invites SET revoked = 1 WHERE id = $1 AND room_id = $2")
            .bind(invite_id)
            .bind(room_id)
            .execute(self.pool)
            .await?;
        Ok(affected(result))
    }
}
