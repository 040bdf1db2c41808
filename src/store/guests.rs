//! Guest identities: a nick and a public id, restored through their session token.

use super::StoreError;
use crate::domain::Millis;
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

    pub async fn touch(&self, id: i64, ip: &str, now: Millis) -> Result<(), StoreError> {
        sqlx::query("UPDATE guests SET ip = $1, last_seen_at = $2 WHERE id = $3")
            .bind(ip)
            .bind(now)
            .bind(id)
            .execute(self.pool)
            .await?;
        Ok(())
    }
}
