//! Sessions: a token stands for a user or a guest until it expires or is revoked. Only the
//! SHA-256 of a token is stored, so a copy of the database does not hand out live sessions.

use super::{affected, StoreError};
use crate::domain::{Millis, Principal};
use sqlx::AnyPool;

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub token_hash: String,
    pub principal: Principal,
    pub expires_at: Millis,
    /// The browser or client that first used it (its `User-Agent`), once known.
    pub user_agent: Option<String>,
}

/// One of an account's live sessions, as its owner lists them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwnSessionRow {
    pub token_hash: String,
    pub ip: String,
    pub user_agent: Option<String>,
    pub created_at: Millis,
    pub last_seen_at: Option<Millis>,
    pub expires_at: Millis,
}

type RawSession = (String, Option<i64>, Option<i64>, Millis, Option<String>);

/// Queries on `sessions`.
#[derive(Clone, Copy, Debug)]
pub struct Sessions<'a> {
    pub(super) pool: &'a AnyPool,
}

impl Sessions<'_> {
    pub async fn create(
        &self,
        token_hash: &str,
        principal: Principal,
        ip: &str,
        now: Millis,
        expires_at: Millis,
    ) -> Result<(), StoreError> {
        let (user_id, guest_id) = match principal {
            Principal::User(id) => (Some(id), None),
            Principal::Guest(id) => (None, Some(id)),
        };
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, guest_id, ip, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(guest_id)
        .bind(ip)
        .bind(now)
        .bind(expires_at)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// The live (unexpired) session with this token hash.
    pub async fn live(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<SessionRow>, StoreError> {
        let raw: Option<RawSession> = sqlx::query_as(
            "SELECT token_hash, user_id, guest_id, expires_at, user_agent FROM sessions \
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.pool)
        .await?;
        Ok(
            raw.and_then(|(token_hash, user_id, guest_id, expires_at, user_agent)| {
                let principal = match (user_id, guest_id) {
                    (Some(id), None) => Principal::User(id),
                    (None, Some(id)) => Principal::Guest(id),
                    _ => return None,
                };
                Some(SessionRow {
                    token_hash,
                    principal,
                    expires_at,
                    user_agent,
                })
            }),
        )
    }

    /// Moves a session's expiry to `expires_at` if it is still live at `now`; `false` when it
    /// has expired or is gone (an expired session is never brought back).
    pub async fn extend_live(
        &self,
        token_hash: &str,
        now: Millis,
        expires_at: Millis,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE sessions SET expires_at = $1, last_seen_at = $3 \
             WHERE token_hash = $2 AND expires_at > $3",
        )
        .bind(expires_at)
        .bind(token_hash)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(affected(result))
    }

    /// Records the client a session is used from, the first time it is known.
    pub async fn note_agent(&self, token_hash: &str, user_agent: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sessions SET user_agent = $1 WHERE token_hash = $2 AND user_agent IS NULL",
        )
        .bind(user_agent)
        .bind(token_hash)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// An account's live sessions, most recently used first.
    pub async fn of_user(
        &self,
        user_id: i64,
        now: Millis,
    ) -> Result<Vec<OwnSessionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT token_hash, ip, user_agent, created_at, last_seen_at, expires_at \
             FROM sessions WHERE user_id = $1 AND expires_at > $2 \
             ORDER BY COALESCE(last_seen_at, created_at) DESC, created_at DESC",
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(self.pool)
        .await?)
    }

    /// Revokes every session of an account but `keep`; returns the revoked hashes.
    pub async fn delete_of_user_except(
        &self,
        user_id: i64,
        keep: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2 RETURNING token_hash",
        )
        .bind(user_id)
        .bind(keep)
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().map(|(hash,)| hash).collect())
    }

    pub async fn delete(&self, token_hash: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.pool)
            .await?;
        Ok(affected(result))
    }

    /// Deletes every session of a user and returns their hashes (to close live connections).
    pub async fn delete_of_user(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("DELETE FROM sessions WHERE user_id = $1 RETURNING token_hash")
                .bind(user_id)
                .fetch_all(self.pool)
                .await?;
        Ok(rows.into_iter().map(|(hash,)| hash).collect())
    }

    /// Deletes every session of a guest and returns their hashes.
    pub async fn delete_of_guest(&self, guest_id: i64) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("DELETE FROM sessions WHERE guest_id = $1 RETURNING token_hash")
                .bind(guest_id)
                .fetch_all(self.pool)
                .await?;
        Ok(rows.into_iter().map(|(hash,)| hash).collect())
    }

    /// The address of an identity's newest session.
    pub async fn last_ip(&self, principal: Principal) -> Result<Option<String>, StoreError> {
        let (column, id) = match principal {
            Principal::User(id) => ("user_id", id),
            Principal::Guest(id) => ("guest_id", id),
        };
        let sql =
            format!("SELECT ip FROM sessions WHERE {column} = $1 ORDER BY created_at DESC LIMIT 1");
        let row: Option<(String,)> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.pool)
            .await?;
        Ok(row.map(|(ip,)| ip))
    }

    /// Removes expired sessions; returns how many.
    pub async fn purge_expired(&self, now: Millis) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(self.pool)
            .await?;
        Ok(result.rows_affected())
    }
}
