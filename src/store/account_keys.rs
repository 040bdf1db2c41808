//! Accounts' end-to-end keys (see `docs/e2ee.md`): public keys, and private keys wrapped in the
//! browser. Nothing here can be opened by the server.

use super::StoreError;
use crate::domain::Millis;
use sqlx::AnyPool;

/// An account's keys as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountKeysRow {
    pub user_id: i64,
    pub agreement_public: String,
    pub signing_public: String,
    pub password_wrapped: String,
    pub recovery_wrapped: String,
    /// Hex SHA-256 of both public keys.
    pub fingerprint: String,
    pub updated_at: Millis,
}

const COLUMNS: &str = "user_id, agreement_public, signing_public, password_wrapped, \
                       recovery_wrapped, fingerprint, updated_at";

/// Queries on `account_keys`.
#[derive(Clone, Copy, Debug)]
pub struct AccountKeys<'a> {
    pub(super) pool: &'a AnyPool,
}

impl AccountKeys<'_> {
    pub async fn of(&self, user_id: i64) -> Result<Option<AccountKeysRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM account_keys WHERE user_id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_optional(self.pool)
            .await?)
    }

    /// Sets or replaces an account's keys.
    pub async fn put(&self, row: &AccountKeysRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO account_keys (user_id, agreement_public, signing_public, \
             password_wrapped, recovery_wrapped, fingerprint, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (user_id) DO UPDATE SET agreement_public = excluded.agreement_public, \
             signing_public = excluded.signing_public, password_wrapped = excluded.password_wrapped, \
             recovery_wrapped = excluded.recovery_wrapped, fingerprint = excluded.fingerprint, \
             updated_at = excluded.updated_at",
        )
        .bind(row.user_id)
        .bind(&row.agreement_public)
        .bind(&row.signing_public)
        .bind(&row.password_wrapped)
        .bind(&row.recovery_wrapped)
        .bind(&row.fingerprint)
        .bind(row.updated_at)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Replaces the wrapped documents of keys that exist (the same private keys, wrapped
    /// anew); `false` when the account has no keys.
    pub async fn rewrap(
        &self,
        user_id: i64,
        password_wrapped: Option<&str>,
        recovery_wrapped: Option<&str>,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE account_keys SET password_wrapped = COALESCE($1, password_wrapped), \
             recovery_wrapped = COALESCE($2, recovery_wrapped), updated_at = $3 \
             WHERE user_id = $4",
        )
        .bind(password_wrapped)
        .bind(recovery_wrapped)
        .bind(now)
        .bind(user_id)
        .execute(self.pool)
        .await?;
        Ok(super::affected(result))
    }
}
