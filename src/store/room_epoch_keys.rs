//! End-to-end rooms' keys by epoch (see `docs/e2ee.md`): each epoch's room key, sealed in a
//! member's browser to each member's agreement key. The server stores the sealed documents and
//! says who holds what; it cannot open any of them.

use super::{affected, StoreError};
use crate::domain::Millis;
use sqlx::{Any, AnyPool, Transaction};

/// A room key sealed to the account reading it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeldKeyRow {
    pub epoch: i64,
    pub sealed: String,
    /// Who sealed it (none once that account is deleted).
    pub sealed_by: Option<String>,
}

/// A current member of an end-to-end room, its public keys and whether it holds the epoch's
/// key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyMemberRow {
    pub user_id: i64,
    pub name: String,
    pub agreement_public: Option<String>,
    pub signing_public: Option<String>,
    pub fingerprint: Option<String>,
    /// 0 or 1.
    pub has_key: i64,
}

/// Why sealed keys were not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKeys {
    /// This many keys were new (the others were already held).
    Stored(u64),
    /// The epoch is not the room's current one.
    StaleEpoch,
    /// The epoch has a key already and the caller holds none of it.
    KeyExists,
    /// The epoch has no key yet and the caller did not seal the new one to itself.
    NotToSelf,
}

/// Starts the room's next epoch if it is end-to-end (inside the caller's transaction, beside
/// the membership change that calls for it).
pub(super) async fn next_epoch(
    tx: &mut Transaction<'_, Any>,
    room_id: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE rooms SET e2e_epoch = e2e_epoch + 1 WHERE id = $1 AND e2e = 1")
        .bind(room_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Queries on `room_epoch_keys`.
#[derive(Clone, Copy, Debug)]
pub struct RoomEpochKeys<'a> {
    pub(super) pool: &'a AnyPool,
}

impl RoomEpochKeys<'_> {
    /// Every key sealed to the user in the room, newest epoch first.
    pub async fn held_by(&self, room_id: i64, user_id: i64) -> Result<Vec<HeldKeyRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT k.epoch, k.sealed, u.name AS sealed_by FROM room_epoch_keys k \
             LEFT JOIN users u ON u.id = k.sealed_by_id \
             WHERE k.room_id = $1 AND k.user_id = $2 ORDER BY k.epoch DESC",
        )
        .bind(room_id)
        .bind(user_id)
        .fetch_all(self.pool)
        .await?)
    }

    /// Whether the user holds a key of this epoch.
    pub async fn holds(&self, room_id: i64, epoch: i64, user_id: i64) -> Result<bool, StoreError> {
        let found: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM room_epoch_keys WHERE room_id = $1 AND epoch = $2 AND user_id = $3",
        )
        .bind(room_id)
        .bind(epoch)
        .bind(user_id)
        .fetch_optional(self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// The room's members, their public keys and whether each holds `epoch`'s key, by name.
    pub async fn members(&self, room_id: i64, epoch: i64) -> Result<Vec<KeyMemberRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT u.id AS user_id, u.name, a.agreement_public, a.signing_public, a.fingerprint, \
               (SELECT COUNT(*) FROM room_epoch_keys k \
                 WHERE k.room_id = m.room_id AND k.epoch = $2 AND k.user_id = m.user_id) AS has_key \
             FROM room_members m JOIN users u ON u.id = m.user_id \
             LEFT JOIN account_keys a ON a.user_id = m.user_id \
             WHERE m.room_id = $1 ORDER BY u.name",
        )
        .bind(room_id)
        .bind(epoch)
        .fetch_all(self.pool)
        .await?)
    }

    /// Stores keys of `epoch` sealed by `sealer` to members (checked by the caller), in one
    /// transaction that re-reads the epoch: the first key of an epoch is whoever's came
    /// first, and a key already held is kept.
    pub async fn store(
        &self,
        room_id: i64,
        epoch: i64,
        sealer: i64,
        keys: &[(i64, String)],
        now: Millis,
    ) -> Result<StoreKeys, StoreError> {
        let mut tx = self.pool.begin().await?;
        // A write first: it takes the room's row lock (PostgreSQL) or the write lock (SQLite)
        // before anything is read, so two members making an epoch's first key at once are
        // taken one after the other and the second finds the first's.
        let current: Option<(i64,)> = sqlx::query_as(
            "UPDATE rooms SET e2e_epoch = e2e_epoch WHERE id = $1 AND e2e = 1 RETURNING e2e_epoch",
        )
        .bind(room_id)
        .fetch_optional(&mut *tx)
        .await?;
        if current.map(|(e,)| e) != Some(epoch) {
            return Ok(StoreKeys::StaleEpoch);
        }
        let (held, by_sealer): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN user_id = $3 THEN 1 ELSE 0 END), 0) \
             FROM room_epoch_keys WHERE room_id = $1 AND epoch = $2",
        )
        .bind(room_id)
        .bind(epoch)
        .bind(sealer)
        .fetch_one(&mut *tx)
        .await?;
        if held > 0 && by_sealer == 0 {
            return Ok(StoreKeys::KeyExists);
        }
        if held == 0 && !keys.iter().any(|(user, _)| *user == sealer) {
            return Ok(StoreKeys::NotToSelf);
        }
        let mut stored = 0;
        for (user_id, sealed) in keys {
            let result = sqlx::query(
                "INSERT INTO room_epoch_keys (room_id, epoch, user_id, sealed, sealed_by_id, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (room_id, epoch, user_id) DO NOTHING",
            )
            .bind(room_id)
            .bind(epoch)
            .bind(user_id)
            .bind(sealed)
            .bind(sealer)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            stored += u64::from(affected(result));
        }
        tx.commit().await?;
        Ok(StoreKeys::Stored(stored))
    }

    /// Drops the keys of current epochs sealed to the user (its account keys were replaced, so
    /// they no longer open); returns the rooms concerned so their members seal again.
    pub async fn forget_current(&self, user_id: i64) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let rooms: Vec<(i64,)> = sqlx::query_as(
            "SELECT k.room_id FROM room_epoch_keys k JOIN rooms r ON r.id = k.room_id \
             WHERE k.user_id = $1 AND k.epoch = r.e2e_epoch",
        )
        .bind(user_id)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM room_epoch_keys WHERE user_id = $1 AND epoch = \
             (SELECT r.e2e_epoch FROM rooms r WHERE r.id = room_epoch_keys.room_id)",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(rooms.into_iter().map(|(id,)| id).collect())
    }

    /// The end-to-end rooms the user is a member of.
    pub async fn rooms_of(&self, user_id: i64) -> Result<Vec<i64>, StoreError> {
        let rooms: Vec<(i64,)> = sqlx::query_as(
            "SELECT r.id FROM rooms r JOIN room_members m ON m.room_id = r.id \
             WHERE m.user_id = $1 AND r.e2e = 1",
        )
        .bind(user_id)
        .fetch_all(self.pool)
        .await?;
        Ok(rooms.into_iter().map(|(id,)| id).collect())
    }
}
