//! Sessions: a token stands for a user or a guest until it expires or is revoked. Only the
//! SHA-256 of a token is stored, so a copy of the database does not hand out live sessions.

use super::{affected, StoreError};
use crate::domain::{Millis, Principal};
use sqlx::AnyPool;
use std::collections::HashSet;

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

/// Sessions renewed per statement (well under SQLite's and PostgreSQL's parameter limits).
const RENEWALS_PER_STATEMENT: usize = 256;

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

    /// [`Self::extend_live`] for many sessions at once: returns the hashes of those renewed
    /// (the rest had expired or are gone). Why: upkeep renews every open connection's session
    /// each round, and one statement per session made 10 000 open connections 10 000
    /// statements a minute, each a round trip to the database. Up to 256 sessions are one
    /// statement; more are several, each committed on its own.
    pub async fn extend_live_many(
        &self,
        token_hashes: &[&str],
        now: Millis,
        expires_at: Millis,
    ) -> Result<HashSet<String>, StoreError> {
        // One statement shape: the last chunk is padded with a hash no token has.
        let list: Vec<String> = (0..RENEWALS_PER_STATEMENT)
            .map(|i| format!("${}", i + 3))
            .collect();
        let sql = format!(
            "UPDATE sessions SET expires_at = $1, last_seen_at = $2 \
             WHERE expires_at > $2 AND token_hash IN ({}) RETURNING token_hash",
            list.join(", ")
        );
        let mut renewed = HashSet::with_capacity(token_hashes.len());
        for chunk in token_hashes.chunks(RENEWALS_PER_STATEMENT) {
            let mut query = sqlx::query_as::<_, (String,)>(&sql)
                .bind(expires_at)
                .bind(now);
            for i in 0..RENEWALS_PER_STATEMENT {
                query = query.bind(chunk.get(i).copied().unwrap_or(""));
            }
            renewed.extend(query.fetch_all(self.pool).await?.into_iter().map(|(h,)| h));
        }
        Ok(renewed)
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

#[cfg(test)]
mod tests {
    use crate::domain::Principal;
    use crate::store::Store;

    #[tokio::test]
    async fn many_sessions_are_renewed_at_once_and_expired_ones_stay_expired() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("parlor.db").display());
        let store = Store::connect(&url).await.unwrap();
        let guest = store
            .guests()
            .create("g1", "guest", "192.0.2.1", 1_000)
            .await
            .unwrap();
        let sessions = store.sessions();
        // More than one statement's worth of live sessions, one expired, one unknown.
        let live: Vec<String> = (0..300).map(|i| format!("live-{i:03}")).collect();
        for hash in &live {
            sessions
                .create(hash, Principal::Guest(guest.id), "192.0.2.1", 1_000, 5_000)
                .await
                .unwrap();
        }
        sessions
            .create(
                "expired",
                Principal::Guest(guest.id),
                "192.0.2.1",
                1_000,
                1_500,
            )
            .await
            .unwrap();
        let mut asked: Vec<&str> = live.iter().map(String::as_str).collect();
        asked.extend(["expired", "unknown"]);

        let renewed = sessions
            .extend_live_many(&asked, 2_000, 9_000)
            .await
            .unwrap();
        assert_eq!(renewed.len(), 300);
        assert!(live.iter().all(|hash| renewed.contains(hash)));
        for hash in [&live[0], &live[255], &live[256], &live[299]] {
            let row = sessions.live(hash, 2_000).await.unwrap().expect(hash);
            assert_eq!(row.expires_at, 9_000, "{hash}");
        }
        assert!(sessions
            .live("expired", 1_000)
            .await
            .unwrap()
            .is_some_and(|r| r.expires_at == 1_500));
        assert!(sessions
            .extend_live_many(&[], 2_000, 9_000)
            .await
            .unwrap()
            .is_empty());
    }
}
