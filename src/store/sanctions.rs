//! Bans and mutes. A ban names a user, an address, or both; a mute names a user. Either may
//! expire. Lifting one deletes its row (the audit log keeps the history).

use super::StoreError;
use crate::domain::Millis;
use sqlx::AnyPool;

/// A stored ban or mute.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SanctionRow {
    pub id: i64,
    /// `ban` or `mute`.
    pub kind: String,
    pub name_key: Option<String>,
    pub ip: Option<String>,
    pub reason: Option<String>,
    pub created_by: String,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
}

/// What recording a sanction needs.
pub struct NewSanction<'a> {
    pub kind: &'a str,
    pub name_key: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub created_by: &'a str,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
}

const COLUMNS: &str = "id, kind, name_key, ip, reason, created_by, created_at, expires_at";

/// Queries on `sanctions`.
#[derive(Clone, Copy, Debug)]
pub struct Sanctions<'a> {
    pub(super) pool: &'a AnyPool,
}

impl Sanctions<'_> {
    pub async fn add(&self, new: NewSanction<'_>) -> Result<SanctionRow, StoreError> {
        let sql = format!(
            "INSERT INTO sanctions (kind, name_key, ip, reason, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
        );
        Ok(sqlx::query_as(&sql)
            .bind(new.kind)
            .bind(new.name_key)
            .bind(new.ip)
            .bind(new.reason)
            .bind(new.created_by)
            .bind(new.created_at)
            .bind(new.expires_at)
            .fetch_one(self.pool)
            .await?)
    }

    /// Sanctions still in force at `now`.
    pub async fn active(&self, now: Millis) -> Result<Vec<SanctionRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sanctions WHERE expires_at IS NULL OR expires_at > $1 ORDER BY id"
        );
        Ok(sqlx::query_as(&sql).bind(now).fetch_all(self.pool).await?)
    }

    /// Lifts every sanction of `kind` on a name (bans: also those naming the name and an
    /// address); returns how many were lifted.
    pub async fn lift_by_name(&self, kind: &str, name_key: &str) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM sanctions WHERE kind = $1 AND name_key = $2")
                .bind(kind)
                .bind(name_key)
                .execute(self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Lifts every ban on an address.
    pub async fn lift_ip_bans(&self, ip: &str) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM sanctions WHERE kind = 'ban' AND ip = $1")
                .bind(ip)
                .execute(self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Deletes sanctions that have expired.
    pub async fn purge_expired(&self, now: Millis) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM sanctions WHERE expires_at IS NOT NULL AND expires_at <= $1")
                .bind(now)
                .execute(self.pool)
                .await?
                .rows_affected(),
        )
    }
}
