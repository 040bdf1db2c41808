//! Guest identities: a nick and a public id, restored through their session token.

use super::StoreError;
use crate::domain::{Millis, Principal};
use sqlx::AnyPool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GuestRow {
    pub id: i64,
    /// Random, safe to show (audit logs name guests by it).
    pub public_id: String,
    pub nick: String,
    pub created_at: Millis,
}

/// Queries on `guests`.
#[derive(Clone, Copy, Debug)]
pub struct Guests<'a> {
    pub(super) pool: &'a AnyPool,
}

impl Guests<'_> {
    pub async fn create(
        &self,
        public_id: &str,
        nick: &str,
        ip: &str,
        now: Millis,
    ) -> Result<GuestRow, StoreError> {
        let row = sqlx::query_as(
            "INSERT INTO guests (public_id, nick, ip, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $4) RETURNING id, public_id, nick, created_at",
        )
        .bind(public_id)
        .bind(nick)
        .bind(ip)
        .bind(now)
        .fetch_one(self.pool)
        .await?;
        Ok(row)
    }

    pub async fn by_id(&self, id: i64) -> Result<Option<GuestRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT id, public_id, nick, created_at FROM guests WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool)
                .await?,
        )
    }

    /// The nicks guests from `ip` used, most recent first.
    pub async fn recent_nicks(&self, ip: &str, limit: i64) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT nick FROM guests WHERE ip = $1 ORDER BY last_seen_at DESC, id DESC LIMIT $2",
        )
        .bind(ip)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().map(|(nick,)| nick).collect())
    }

    /// Whether the guest has entered a persistent room before (and paid for it).
    pub async fn entered_rooms(&self, id: i64) -> Result<bool, StoreError> {
        let row: Option<(Option<Millis>,)> =
            sqlx::query_as("SELECT in_rooms_since FROM guests WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool)
                .await?;
        Ok(row.is_some_and(|(since,)| since.is_some()))
    }

    /// Records the guest's first step into a persistent room.
    pub async fn enter_rooms(&self, id: i64, now: Millis) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE guests SET in_rooms_since = $1 WHERE id = $2 AND in_rooms_since IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    pub async fn touch(&self, id: i64, ip: &str, now: Millis) -> Result<(), StoreError> {
        sqlx::query("UPDATE guests SET ip = $1, last_seen_at = $2 WHERE id = $3")
            .bind(ip)
            .bind(now)
            .bind(id)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// A guest became an account: what the guest owned becomes the account's, in one
    /// transaction — the ephemeral rooms it hosts, its places (devices) in ephemeral rooms,
    /// and the messages and files it wrote (kept under the guest's id negated, see
    /// `rooms::author_id`), so that its open rooms and its right to edit its own words carry
    /// over.
    pub async fn hand_over(&self, guest_id: i64, user_id: i64) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE rooms SET owner_id = $1, host_guest_id = NULL WHERE host_guest_id = $2",
        )
        .bind(user_id)
        .bind(guest_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE ephemeral_devices SET principal = $1 WHERE principal = $2")
            .bind(Principal::User(user_id).key())
            .bind(Principal::Guest(guest_id).key())
            .execute(&mut *tx)
            .await?;
        // Through the (room, author, client id) index, one probe per room, not a scan.
        sqlx::query(
            "UPDATE messages SET author_id = $1 WHERE author_id = $2 \
             AND room_id IN (SELECT id FROM rooms)",
        )
        .bind(user_id)
        .bind(-guest_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE files SET uploader_id = $1 WHERE uploader_id = $2")
            .bind(user_id)
            .bind(-guest_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
