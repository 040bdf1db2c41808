//! Ephemeral 1-on-1 rooms (rooms of kind `ephemeral`): the devices each is locked to and its
//! timer. The archives their transcripts become are in `archives.rs`.

use super::{RoomRow, StoreError};
use crate::domain::{Millis, Principal};
use sqlx::AnyPool;

/// A device an ephemeral room is locked to, and who used it last.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceRow {
    pub device_hash: String,
    pub principal: String,
    pub name: String,
    pub joined_at: Millis,
}

/// Most devices an ephemeral room admits.
pub const MAX_DEVICES: i64 = 2;

/// Queries on ephemeral rooms: their devices (`ephemeral_devices`) and timers.
#[derive(Clone, Copy, Debug)]
pub struct EphemeralRooms<'a> {
    pub(super) pool: &'a AnyPool,
}

impl EphemeralRooms<'_> {
    pub async fn devices(&self, room_id: i64) -> Result<Vec<DeviceRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT device_hash, principal, name, joined_at FROM ephemeral_devices \
             WHERE room_id = $1 ORDER BY joined_at",
        )
        .bind(room_id)
        .fetch_all(self.pool)
        .await?)
    }

    /// Admits a device while the room holds fewer than [`MAX_DEVICES`], or records who uses a
    /// device it already admitted. `false`: the room is locked to other devices.
    ///
    /// One transaction that first writes the room's row: two nodes admitting two new devices
    /// at once take turns (PostgreSQL locks the row; SQLite the database), so the count the
    /// second one sees includes the first — never three devices.
    pub async fn admit_device(
        &self,
        room_id: i64,
        device_hash: &str,
        principal: Principal,
        name: &str,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE rooms SET id = id WHERE id = $1")
            .bind(room_id)
            .execute(&mut *tx)
            .await?;
        let updated = sqlx::query(
            "UPDATE ephemeral_devices SET principal = $1, name = $2 WHERE room_id = $3 AND device_hash = $4",
        )
        .bind(principal.key())
        .bind(name)
        .bind(room_id)
        .bind(device_hash)
        .execute(&mut *tx)
        .await?;
        let admitted = if updated.rows_affected() > 0 {
            true
        } else {
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
            .execute(&mut *tx)
            .await?;
            inserted.rows_affected() > 0
        };
        tx.commit().await?;
        Ok(admitted)
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
        .fetch_optional(self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// Starts an ephemeral room's timer; `false` if it was already running.
    pub async fn activate(&self, room_id: i64, expires_at: Millis) -> Result<bool, StoreError> {
        let result =
            sqlx::query("UPDATE rooms SET expires_at = $1 WHERE id = $2 AND expires_at IS NULL")
                .bind(expires_at)
                .bind(room_id)
                .execute(self.pool)
                .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Ephemeral rooms due: activated ones whose timer ran out, and ones never activated that
    /// were created before `stale_before`.
    pub async fn due(&self, now: Millis, stale_before: Millis) -> Result<Vec<RoomRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM rooms WHERE kind = 'ephemeral' \
             AND (expires_at <= $1 OR (expires_at IS NULL AND created_at < $2))",
            super::rooms::COLUMNS
        );
        Ok(sqlx::query_as(&sql)
            .bind(now)
            .bind(stale_before)
            .fetch_all(self.pool)
            .await?)
    }

    /// A host's live ephemeral rooms, newest first.
    pub async fn hosted_by(
        &self,
        host: Principal,
        now: Millis,
    ) -> Result<Vec<RoomRow>, StoreError> {
        let (column, id) = match host {
            Principal::User(id) => ("owner_id", id),
            Principal::Guest(id) => ("host_guest_id", id),
        };
        let sql = format!(
            "SELECT {} FROM rooms WHERE kind = 'ephemeral' AND {column} = $1 \
             AND (expires_at IS NULL OR expires_at > $2) ORDER BY id DESC",
            super::rooms::COLUMNS
        );
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .bind(now)
            .fetch_all(self.pool)
            .await?)
    }

    /// The soonest timer of an activated ephemeral room.
    pub async fn next_expiry(&self) -> Result<Option<Millis>, StoreError> {
        let next: (Option<Millis>,) = sqlx::query_as(
            "SELECT MIN(expires_at) FROM rooms WHERE kind = 'ephemeral' AND expires_at IS NOT NULL",
        )
        .fetch_one(self.pool)
        .await?;
        Ok(next.0)
    }
}
