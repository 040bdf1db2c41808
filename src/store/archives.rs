//! Archives: the sealed transcript an ephemeral room becomes when its timer runs out, kept for
//! the admin audit after the room itself is gone.

use super::StoreError;
use crate::domain::Millis;
use sqlx::AnyPool;

/// The transcript of an expired ephemeral room, sealed with that room's data key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ArchiveRow {
    pub id: i64,
    pub room_id: i64,
    pub code: String,
    pub host_id: i64,
    pub data_key_id: i64,
    pub messages: i64,
    pub transcript: Vec<u8>,
    pub created_at: Millis,
    pub expired_at: Millis,
}

/// What archiving an expired room stores: the room's identity, host, key and age, and its
/// sealed transcript.
pub struct NewArchive<'a> {
    pub room_id: i64,
    pub host_id: i64,
    pub data_key_id: i64,
    pub created_at: Millis,
    pub code: &'a str,
    pub messages: i64,
    pub transcript: Vec<u8>,
    pub expired_at: Millis,
}

const ARCHIVE_COLUMNS: &str =
    "id, room_id, code, host_id, data_key_id, messages, transcript, created_at, expired_at";

/// Queries on `archives`.
#[derive(Clone, Copy, Debug)]
pub struct Archives<'a> {
    pub(super) pool: &'a AnyPool,
}

impl Archives<'_> {
    /// Stores an expired room's archive and deletes the room with its messages and devices, in
    /// one transaction. The data key stays: the archive is sealed with it.
    pub async fn archive_room(&self, archive: NewArchive<'_>) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO archives (room_id, code, host_id, data_key_id, messages, transcript, created_at, expired_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(archive.room_id)
        .bind(archive.code)
        .bind(archive.host_id)
        .bind(archive.data_key_id)
        .bind(archive.messages)
        .bind(archive.transcript)
        .bind(archive.created_at)
        .bind(archive.expired_at)
        .fetch_one(&mut *tx)
        .await?;
        for sql in [
            "DELETE FROM messages WHERE room_id = $1",
            "DELETE FROM ephemeral_devices WHERE room_id = $1",
            "DELETE FROM rooms WHERE id = $1",
        ] {
            sqlx::query(sql)
                .bind(archive.room_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    pub async fn by_id(&self, id: i64) -> Result<Option<ArchiveRow>, StoreError> {
        let sql = format!("SELECT {ARCHIVE_COLUMNS} FROM archives WHERE id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.pool)
            .await?)
    }

    /// Archives, newest first.
    pub async fn page(&self, limit: i64, before_id: i64) -> Result<Vec<ArchiveRow>, StoreError> {
        let sql = format!(
            "SELECT {ARCHIVE_COLUMNS} FROM archives WHERE id < $1 ORDER BY id DESC LIMIT $2"
        );
        Ok(sqlx::query_as(&sql)
            .bind(before_id)
            .bind(limit)
            .fetch_all(self.pool)
            .await?)
    }
}
