//! Uploaded files' metadata. The bytes live sealed in the object store under the same id; this
//! table says what they are, who sent them where, and which message holds them.
//!
//! Rows have no foreign keys on purpose: when a room, a message or an account goes, its files'
//! rows stay behind as the record of objects still to delete, and the sweep
//! ([`Files::doomed`]) finds them, the object goes first, then the row. A crash in between
//! leaves a row to retry, never an object nobody knows about.

use super::placeholders;
use super::StoreError;
use crate::domain::Millis;
use sqlx::{Any, AnyPool, Transaction};

/// A stored file's metadata.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FileRow {
    pub id: String,
    /// `None`: a lobby file.
    pub room_id: Option<i64>,
    pub data_key_id: i64,
    /// An account's id; negative: a guest's id, negated (as messages' authors).
    pub uploader_id: i64,
    pub uploader_name: String,
    pub uploader_ip: String,
    /// The name the uploader gave: display only.
    pub name: String,
    pub size: i64,
    pub mime: String,
    pub kind: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub duration_ms: Option<i64>,
    /// SHA-256 of the plaintext, hex.
    pub digest: String,
    /// The thumbnail's MIME type, when there is one.
    pub thumbnail: Option<String>,
    pub attached: i64,
    pub message_id: Option<i64>,
    pub created_at: Millis,
}

/// A file to record once its bytes are stored.
pub type NewFile = FileRow;

/// What the sweep needs to delete a file.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DoomedFile {
    pub id: String,
    pub room_id: Option<i64>,
    pub data_key_id: i64,
    pub thumbnail: Option<String>,
}

const COLUMNS: &str = "id, room_id, data_key_id, uploader_id, uploader_name, uploader_ip, name, \
    size, mime, kind, width, height, duration_ms, digest, thumbnail, attached, message_id, created_at";

/// Queries on `files`.
#[derive(Clone, Copy, Debug)]
pub struct Files<'a> {
    pub(super) pool: &'a AnyPool,
}

impl Files<'_> {
    pub async fn insert(&self, file: &NewFile) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO files (id, room_id, data_key_id, uploader_id, uploader_name, uploader_ip, \
             name, size, mime, kind, width, height, duration_ms, digest, thumbnail, attached, \
             message_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
        )
        .bind(&file.id)
        .bind(file.room_id)
        .bind(file.data_key_id)
        .bind(file.uploader_id)
        .bind(&file.uploader_name)
        .bind(&file.uploader_ip)
        .bind(&file.name)
        .bind(file.size)
        .bind(&file.mime)
        .bind(&file.kind)
        .bind(file.width)
        .bind(file.height)
        .bind(file.duration_ms)
        .bind(&file.digest)
        .bind(file.thumbnail.as_deref())
        .bind(file.attached)
        .bind(file.message_id)
        .bind(file.created_at)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// A file that is still held: not doomed, and neither its room nor its message is gone
    /// (those wait for the sweep, but nobody reads them meanwhile).
    pub async fn by_id(&self, id: &str) -> Result<Option<FileRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM files f WHERE id = $1 AND doomed = 0 \
             AND (room_id IS NULL OR EXISTS (SELECT 1 FROM rooms r WHERE r.id = f.room_id)) \
             AND (message_id IS NULL OR EXISTS (SELECT 1 FROM messages m WHERE m.id = f.message_id))"
        );
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.pool)
            .await?)
    }

    /// The files held by these messages, each message's in the order its sender listed them.
    pub async fn of_messages(&self, message_ids: &[i64]) -> Result<Vec<FileRow>, StoreError> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM files WHERE doomed = 0 AND message_id IN ({}) \
             ORDER BY message_id, position",
            placeholders(1, message_ids.len())
        );
        let mut query = sqlx::query_as(&sql);
        for id in message_ids {
            query = query.bind(*id);
        }
        Ok(query.fetch_all(self.pool).await?)
    }

    /// How many files, and how many bytes, an uploader stored since `since`.
    pub async fn uploaded_since(
        &self,
        uploader_id: i64,
        since: Millis,
    ) -> Result<(i64, i64), StoreError> {
        Ok(sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files \
             WHERE uploader_id = $1 AND created_at >= $2",
        )
        .bind(uploader_id)
        .bind(since)
        .fetch_one(self.pool)
        .await?)
    }

    /// The bytes a room's files take.
    pub async fn room_bytes(&self, room_id: i64) -> Result<i64, StoreError> {
        let (bytes,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files WHERE room_id = $1 AND doomed = 0",
        )
        .bind(room_id)
        .fetch_one(self.pool)
        .await?;
        Ok(bytes)
    }

    /// Gives pending uploads to a stored message, inside the message's transaction: each must
    /// be the author's, for this room, and not held yet. Returns how many were taken.
    pub(super) async fn attach_in(
        tx: &mut Transaction<'_, Any>,
        message_id: i64,
        room_id: i64,
        uploader_id: i64,
        ids: &[String],
    ) -> Result<u64, StoreError> {
        let mut taken = 0;
        for (position, id) in (0_i64..).zip(ids) {
            taken += sqlx::query(
                "UPDATE files SET attached = 1, message_id = $1, position = $2 WHERE id = $3 \
                 AND room_id = $4 AND uploader_id = $5 AND attached = 0 AND doomed = 0",
            )
            .bind(message_id)
            .bind(position)
            .bind(id)
            .bind(room_id)
            .bind(uploader_id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        }
        Ok(taken)
    }

    /// Gives pending lobby uploads to a (live, unstored) lobby message; all or none.
    pub async fn attach_to_lobby(
        &self,
        uploader_id: i64,
        ids: &[String],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "UPDATE files SET attached = 1 WHERE room_id IS NULL AND uploader_id = $1 \
             AND attached = 0 AND doomed = 0 AND id IN ({})",
            placeholders(2, ids.len())
        );
        let mut query = sqlx::query(&sql).bind(uploader_id);
        for id in ids {
            query = query.bind(id);
        }
        let taken = query.execute(&mut *tx).await?.rows_affected();
        if taken != ids.len() as u64 {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Marks every file of an uploader for deletion (their account is going).
    pub async fn doom_uploader(&self, uploader_id: i64) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("UPDATE files SET doomed = 1 WHERE uploader_id = $1")
                .bind(uploader_id)
                .execute(self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Up to `limit` files to delete: doomed ones; pending uploads from before
    /// `pending_before`; lobby files from before `lobby_before`; files whose message or room
    /// is gone.
    pub async fn doomed(
        &self,
        pending_before: Millis,
        lobby_before: Millis,
        limit: i64,
    ) -> Result<Vec<DoomedFile>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, room_id, data_key_id, thumbnail FROM files f WHERE doomed = 1 \
             OR (attached = 0 AND created_at < $1) \
             OR (room_id IS NULL AND created_at < $2) \
             OR (room_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM rooms r WHERE r.id = f.room_id)) \
             OR (message_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = f.message_id)) \
             LIMIT $3",
        )
        .bind(pending_before)
        .bind(lobby_before)
        .bind(limit)
        .fetch_all(self.pool)
        .await?)
    }

    /// Forgets a file whose object is deleted.
    pub async fn delete(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM files WHERE id = $1")
            .bind(id)
            .execute(self.pool)
            .await?;
        Ok(())
    }
}
