//! The audit log: one row per moderation or admin action.

use super::StoreError;
use crate::domain::Millis;
use sqlx::AnyPool;

/// What one audit entry records.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub ts: Millis,
    /// The actor's name as shown.
    pub actor: String,
    /// `user:<id>` or `guest:<public id>`.
    pub identity: Option<String>,
    pub actor_ip: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub room: Option<String>,
    pub detail: Option<String>,
}

/// Which audit entries to read. Absent fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub ip: Option<String>,
    /// `user:<id>` or `guest:<public id>`.
    pub identity: Option<String>,
    pub actor: Option<String>,
    pub room: Option<String>,
    pub action: Option<String>,
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    /// Entries with an id below this (the cursor of the next page).
    pub before: i64,
    pub limit: i64,
}

/// A stored audit entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub ts: Millis,
    pub actor: String,
    pub identity: Option<String>,
    pub actor_ip: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub room: Option<String>,
    pub detail: Option<String>,
}

/// Queries on `audit_log`.
#[derive(Clone, Copy, Debug)]
pub struct Audit<'a> {
    pub(super) pool: &'a AnyPool,
}

impl Audit<'_> {
    /// Writes many entries in one transaction.
    pub async fn write(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for entry in entries {
            sqlx::query(
                "INSERT INTO audit_log (ts, actor, identity, actor_ip, action, target, room, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(entry.ts)
            .bind(&entry.actor)
            .bind(entry.identity.as_deref())
            .bind(entry.actor_ip.as_deref())
            .bind(&entry.action)
            .bind(entry.target.as_deref())
            .bind(entry.room.as_deref())
            .bind(entry.detail.as_deref())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The newest entries matching `filter` first: a page of `limit` below id `before`.
    pub async fn page(&self, filter: &AuditFilter) -> Result<Vec<AuditRow>, StoreError> {
        let mut sql = String::from(
            "SELECT id, ts, actor, identity, actor_ip, action, target, room, detail FROM audit_log \
             WHERE id < $1 AND ts >= $2 AND ts <= $3",
        );
        let mut texts: Vec<String> = Vec::new();
        let mut with = |clause: &str, value: String| {
            texts.push(value);
            sql.push_str(&clause.replace('?', &format!("${}", texts.len() + 3)));
        };
        if let Some(ip) = &filter.ip {
            with(" AND actor_ip = ?", ip.clone());
        }
        if let Some(identity) = &filter.identity {
            with(" AND identity = ?", identity.clone());
        }
        if let Some(actor) = &filter.actor {
            with(" AND LOWER(actor) = ?", actor.to_lowercase());
        }
        if let Some(room) = &filter.room {
            with(" AND room = ?", room.clone());
        }
        if let Some(action) = &filter.action {
            with(" AND action = ?", action.clone());
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", texts.len() + 4));
        let mut query = sqlx::query_as(&sql)
            .bind(filter.before)
            .bind(filter.from.unwrap_or(0))
            .bind(filter.to.unwrap_or(i64::MAX));
        for value in texts {
            query = query.bind(value);
        }
        Ok(query.bind(filter.limit).fetch_all(self.pool).await?)
    }
}
