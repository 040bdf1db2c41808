//! Ephemeral 1-on-1 rooms (rooms of kind `ephemeral`): the devices each is locked to, its
//! timer, and the sealed archives their transcripts become when they expire.

use super::{Principal, RoomRow, Store, StoreError};
use crate::domain::Millis;

/// A device an ephemeral room is locked to, and who used it last.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceRow {
    pub device_hash: String,
    pub principal: String,
    pub name: String,
    pub joined_at: Millis,
}

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

/// What archiving an expired room stores.
pub struct NewArchive<'a> {
    pub room: &'a RoomRow,
    pub code: &'a str,
    pub messages: i64,
    pub transcript: Vec<u8>,
    pub expired_at: Millis,
}

const ARCHIVE_COLUMNS: &str =
    "id, room_id, code, host_id, data_key_id, messages, transcript, created_at, expired_at";

/// Most devices an ephemeral room admits.
pub const MAX_DEVICES: i64 = 2;

impl Store {
    pub async fn devices(&self, room_id: i64) -> Result<Vec<DeviceRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT device_hash, principal, name, joined_at FROM ephemeral_devices \
             WHERE room_id = $1 ORDER BY joined_at",
        )
        .bind(room_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Admits a device while the room holds fewer than [`MAX_DEVICES`], or records who uses a
    /// device it already admitted. `false`: the room is locked to other devices.
    pub async fn admit_device(
        &self,
        room_id: i64,
        device_hash: &str,
        principal: Principal,
        name: &str,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE ephemeral_devices SET principal = $1, name = $2 WHERE room_id = $3 AND device_hash = $4",
        )
        .bind(principal.key())
        .bind(name)
        .bind(room_id)
        .bind(device_hash)
        .execute(&self.pool)
        .await?;
        if updated.rows_affected() > 0 {
            return Ok(true);
        }
        let inserted = sqlx::query(
            "INSERT INTO ephemeral_devices (room_id, device_hash, principal, name, joined_at) \
             SELECT $1, $2, $3, $4, $5 \
             WHERE (SELECT COUNT(*) FROM ephemeral_devices WHERE room_id = $1) < $6",
        )
        .bind(room_id)
        .bind(device_hash)
        .bind(principal.key())
        .bind(name)
        .bind(now)
        .bind(MAX_DEVICES)
        .execute(&self.pool)
        .await?;
        Ok(inserted.rows_affected() > 0)
    }

    /// Whether `principal` uses one of the room's admitted devices.
    pub async fn uses_device(
        &self,
        room_id: i64,
        principal: Principal,
    ) -> Result<bool, StoreError> {
        let found: Option<(String,)> = sqlx::query_as(
            "SELECT device_hash FROM ephemeral_devices WHERE room_id = $1 AND principal = $2",
        )
        .bind(room_id)
        .bind(principal.key())
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// Starts an ephemeral room's timer; `false` if it was already running.
    pub async fn activate_room(
        &self,
        room_id: i64,
        expires_at: Millis,
    ) -> Result<bool, StoreError> {
        let result =
            sqlx::query("UPDATE rooms SET expires_at = $1 WHERE id = $2 AND expires_at IS NULL")
                .bind(expires_at)
                .bind(room_id)
                .execute(&self.pool)
                .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Ephemeral rooms due: activated ones whose timer ran out, and ones never activated that
    /// were created before `stale_before`.
    pub async fn due_ephemeral_rooms(
        &self,
        now: Millis,
        stale_before: Millis,
    ) -> Result<Vec<RoomRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM rooms WHERE kind = 'ephemeral' \
             AND (expires_at <= $1 OR (expires_at IS NULL AND created_at < $2))",
            super::rooms::COLUMNS
        );
        Ok(sqlx::query_as(&sql)
            .bind(now)
            .bind(stale_before)
            .fetch_all(&self.pool)
            .await?)
    }

    /// A host's live ephemeral rooms, newest first.
    pub async fn ephemeral_rooms_of(
        &self,
        owner_id: i64,
        now: Millis,
    ) -> Result<Vec<RoomRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM rooms WHERE kind = 'ephemeral' AND owner_id = $1 \
             AND (expires_at IS NULL OR expires_at > $2) ORDER BY id DESC",
            super::rooms::COLUMNS
        );
        Ok(sqlx::query_as(&sql)
            .bind(owner_id)
            .bind(now)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The soonest timer of an activated ephemeral room.
    pub async fn next_ephemeral_expiry(&self) -> Result<Option<Millis>, StoreError> {
        let next: (Option<Millis>,) = sqlx::query_as(
            "SELECT MIN(expires_at) FROM rooms WHERE kind = 'ephemeral' AND expires_at IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(next.0)
    }

    /// Stores an expired room's archive and deletes the room with its messages and devices, in
    /// one transaction. The data key stays: the archive is sealed with it.
    pub async fn archive_room(&self, archive: NewArchive<'_>) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO archives (room_id, code, host_id, data_key_id, messages, transcript, created_at, expired_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(archive.room.id)
        .bind(archive.code)
        .bind(archive.room.owner_id)
        .bind(archive.room.data_key_id)
        .bind(archive.messages)
        .bind(archive.transcript)
        .bind(archive.room.created_at)
        .bind(archive.expired_at)
        .fetch_one(&mut *tx)
        .await?;
        for sql in [
            "DELETE FROM messages WHERE room_id = $1",
            "DELETE FROM ephemeral_devices WHERE room_id = $1",
            "DELETE FROM rooms WHERE id = $1",
        ] {
            sqlx::query(sql)
                .bind(archive.room.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    pub async fn archive(&self, id: i64) -> Result<Option<ArchiveRow>, StoreError> {
        let sql = format!("SELECT {ARCHIVE_COLUMNS} FROM archives WHERE id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Archives, newest first.
    pub async fn archives(
        &self,
        limit: i64,
        before_id: i64,
    ) -> Result<Vec<ArchiveRow>, StoreError> {
        let sql = format!(
            "SELECT {ARCHIVE_COLUMNS} FROM archives WHERE id < $1 ORDER BY id DESC LIMIT $2"
        );
        Ok(sqlx::query_as(&sql)
            .bind(before_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }
}
