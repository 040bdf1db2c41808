//! Data keys (DEKs), stored only wrapped by the master key, with the id of the master key that
//! wrapped them so a rotation can find every key it still has to re-wrap.

use super::StoreError;
use crate::domain::Millis;
use sqlx::AnyPool;

/// One stored, wrapped data key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WrappedKey {
    pub id: i64,
    pub kek_id: String,
    pub wrapped: Vec<u8>,
}

/// Queries on `data_keys`.
#[derive(Clone, Copy, Debug)]
pub struct DataKeys<'a> {
    pub(super) pool: &'a AnyPool,
}

impl DataKeys<'_> {
    pub async fn insert(
        &self,
        kek_id: &str,
        wrapped: &[u8],
        now: Millis,
    ) -> Result<i64, StoreError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO data_keys (kek_id, wrapped, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(kek_id)
        .bind(wrapped)
        .bind(now)
        .fetch_one(self.pool)
        .await?;
        Ok(id)
    }

    pub async fn by_id(&self, id: i64) -> Result<Option<WrappedKey>, StoreError> {
        Ok(
            sqlx::query_as("SELECT id, kek_id, wrapped FROM data_keys WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool)
                .await?,
        )
    }

    /// Up to `limit` stored keys with an id above `after`, by id: the start-up check reads
    /// every key, a page at a time.
    pub async fn page(&self, after: i64, limit: i64) -> Result<Vec<WrappedKey>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, kek_id, wrapped FROM data_keys WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool)
        .await?)
    }

    /// How many keys each master key wraps, by master key id.
    pub async fn count_by_master(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(
            sqlx::query_as(
                "SELECT kek_id, COUNT(*) FROM data_keys GROUP BY kek_id ORDER BY kek_id",
            )
            .fetch_all(self.pool)
            .await?,
        )
    }

    /// Every key not wrapped by `kek_id`.
    pub async fn not_wrapped_by(&self, kek_id: &str) -> Result<Vec<WrappedKey>, StoreError> {
        Ok(
            sqlx::query_as("SELECT id, kek_id, wrapped FROM data_keys WHERE kek_id <> $1")
                .bind(kek_id)
                .fetch_all(self.pool)
                .await?,
        )
    }

    /// Stores re-wrapped keys in one transaction; each row changes only if it is still wrapped
    /// by the key it was read under. Returns how many rows changed.
    pub async fn rewrap(
        &self,
        rewrapped: &[(WrappedKey, Vec<u8>)],
        new_kek_id: &str,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut changed = 0;
        for (old, wrapped) in rewrapped {
            changed += sqlx::query(
                "UPDATE data_keys SET kek_id = $1, wrapped = $2 WHERE id = $3 AND kek_id = $4",
            )
            .bind(new_kek_id)
            .bind(wrapped.as_slice())
            .bind(old.id)
            .bind(&old.kek_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(changed)
    }

    pub async fn delete(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM data_keys WHERE id = $1")
            .bind(id)
            .execute(self.pool)
            .await?;
        Ok(())
    }
}
