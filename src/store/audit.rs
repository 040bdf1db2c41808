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

/// The most entries one `INSERT` carries: 8 parameters each, far below SQLite's 32 766 and
/// PostgreSQL's 65 535.
const ROWS_PER_INSERT: usize = 64;

/// How many of `left` entries the next `INSERT` takes: all it may, else the largest power of
/// two that fits. Every statement text is one of seven, so they stay in each connection's
/// statement cache beside the hot queries instead of pushing them out.
fn chunk_len(left: usize) -> usize {
    if left >= ROWS_PER_INSERT {
        ROWS_PER_INSERT
    } else {
        1 << left.ilog2()
    }
}

/// Queries on `audit_log`.
#[derive(Clone, Copy, Debug)]
pub struct Audit<'a> {
    pub(super) pool: &'a AnyPool,
}

impl Audit<'_> {
    /// Writes many entries in one transaction, several per statement: a busy room's message
    /// entries arrive hundreds at a time, and each statement is a round trip to the database
    /// (on SQLite, a hand-off to the connection's worker thread).
    pub async fn write(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut rest = entries;
        while !rest.is_empty() {
            let (chunk, after) = rest.split_at(chunk_len(rest.len()));
            rest = after;
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| format!("({})", super::placeholders(i * 8 + 1, 8)))
                .collect();
            let sql = format!(
                "INSERT INTO audit_log (ts, actor, identity, actor_ip, action, target, room, detail) \
                 VALUES {}",
                rows.join(", ")
            );
            let mut insert = sqlx::query(&sql);
            for entry in chunk {
                insert = insert
                    .bind(entry.ts)
                    .bind(&entry.actor)
                    .bind(entry.identity.as_deref())
                    .bind(entry.actor_ip.as_deref())
                    .bind(&entry.action)
                    .bind(entry.target.as_deref())
                    .bind(entry.room.as_deref())
                    .bind(entry.detail.as_deref());
            }
            insert.execute(&mut *tx).await?;
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

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::*;

    #[test]
    fn a_batch_is_cut_into_few_statement_shapes() {
        let mut shapes = std::collections::BTreeSet::new();
        for total in 1..=300 {
            let (mut left, mut rows) = (total, 0);
            while left > 0 {
                let len = chunk_len(left);
                assert!((1..=left.min(ROWS_PER_INSERT)).contains(&len));
                shapes.insert(len);
                rows += len;
                left -= len;
            }
            assert_eq!(rows, total);
        }
        assert_eq!(shapes.len(), 7, "{shapes:?}");
    }

    #[tokio::test]
    async fn every_entry_of_a_large_batch_is_written_whole_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("parlor.db").display());
        let store = Store::connect(&url).await.unwrap();
        let entries: Vec<AuditEntry> = (0..100)
            .map(|i| AuditEntry {
                ts: 1_000 + i,
                actor: format!("actor {i}"),
                identity: Some(format!("user:{i}")),
                actor_ip: (i % 2 == 0).then(|| "192.0.2.1".to_owned()),
                action: "message".into(),
                target: None,
                room: Some("general".into()),
                detail: Some(format!("seq {i}")),
            })
            .collect();
        store.audit().write(&entries).await.unwrap();
        let mut rows = store
            .audit()
            .page(&AuditFilter {
                before: i64::MAX,
                limit: 1_000,
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        rows.reverse();
        assert_eq!(rows.len(), 100);
        for (i, row) in (0_i64..).zip(&rows) {
            assert_eq!(row.ts, 1_000 + i);
            assert_eq!(row.actor, format!("actor {i}"));
            assert_eq!(row.identity.as_deref(), Some(format!("user:{i}").as_str()));
            assert_eq!(row.actor_ip.is_some(), i % 2 == 0);
            assert_eq!(row.detail.as_deref(), Some(format!("seq {i}").as_str()));
        }
    }
}
