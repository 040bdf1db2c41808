//! The AI companion's memory: each user's recent turns with it, sealed. Bodies arrive here
//! already sealed with the data key of the user's conversation with the bot; the store never
//! sees plaintext (like `messages.rs`). Turns are numbered per user with a sequence that only
//! grows, so the order survives trimming and restarts.

use super::StoreError;
use crate::domain::Millis;
use sqlx::AnyPool;

/// One remembered turn, its body sealed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemoryRow {
    pub seq: i64,
    /// `user` or `assistant`.
    pub speaker: String,
    pub body: Vec<u8>,
    pub created_at: Millis,
}

/// A turn to remember; `seal` turns the turn's sequence number into the sealed body (the
/// number is part of the ciphertext's associated data, so rows cannot be swapped).
pub struct NewTurn<'a> {
    pub speaker: &'a str,
    pub seal: Box<dyn FnOnce(i64) -> Vec<u8> + Send + 'a>,
}

/// Queries on `ai_memory`.
#[derive(Clone, Copy, Debug)]
pub struct AiMemory<'a> {
    pub(super) pool: &'a AnyPool,
}

impl AiMemory<'_> {
    /// A user's remembered turns, oldest first.
    pub async fn of(&self, user_id: i64) -> Result<Vec<MemoryRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT seq, speaker, body, created_at FROM ai_memory WHERE user_id = $1 ORDER BY seq",
        )
        .bind(user_id)
        .fetch_all(self.pool)
        .await?)
    }

    /// Appends turns in order and keeps only the newest `keep`, in one transaction (an
    /// exchange is remembered whole or not at all).
    pub async fn append(
        &self,
        user_id: i64,
        turns: Vec<NewTurn<'_>>,
        keep: usize,
        now: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // A write first (it changes nothing): on SQLite a transaction that reads before it
        // writes fails busy once another writer commits in between; on PostgreSQL it holds
        // the user's row, so two appends for one user number their turns one after the other.
        sqlx::query("UPDATE users SET id = id WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let (last,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM ai_memory WHERE user_id = $1")
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await?;
        let mut seq = last;
        for turn in turns {
            seq += 1;
            sqlx::query(
                "INSERT INTO ai_memory (user_id, seq, speaker, body, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(user_id)
            .bind(seq)
            .bind(turn.speaker)
            .bind((turn.seal)(seq))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        sqlx::query("DELETE FROM ai_memory WHERE user_id = $1 AND seq <= $2")
            .bind(user_id)
            .bind(seq.saturating_sub(keep))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets everything about a user; returns how many turns went.
    pub async fn forget(&self, user_id: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM ai_memory WHERE user_id = $1")
            .bind(user_id)
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
