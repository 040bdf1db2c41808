//! The audit log: one row per moderation or admin action.

use super::{Store, StoreError};
use crate::domain::Millis;

/// What one audit entry records.
pub struct AuditEntry<'a> {
    pub ts: Millis,
    pub actor: &'a str,
    pub actor_ip: Option<&'a str>,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub room: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// A stored audit entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub ts: Millis,
    pub actor: String,
    pub actor_ip: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub room: Option<String>,
    pub detail: Option<String>,
}

impl Store {
    pub async fn audit(&self, entry: AuditEntry<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (ts, actor, actor_ip, action, target, room, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(entry.ts)
        .bind(entry.actor)
        .bind(entry.actor_ip)
        .bind(entry.action)
        .bind(entry.target)
        .bind(entry.room)
        .bind(entry.detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest entries first, a page of `limit` before `before_id`.
    pub async fn audit_page(
        &self,
        before_id: i64,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, ts, actor, actor_ip, action, target, room, detail FROM audit_log \
             WHERE id < $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(before_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
