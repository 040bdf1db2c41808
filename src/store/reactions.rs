//! Emoji reactions to stored messages: who reacted with what. Reactions are metadata like a
//! message's author (stored in the clear, never the text), limited per message and per user,
//! and go with the message when it is deleted.

use super::StoreError;
use crate::domain::Millis;
use sqlx::AnyPool;

/// Distinct emoji one message may carry.
pub const MAX_EMOJI_PER_MESSAGE: i64 = 20;
/// Reactions one user may put on one message.
pub const MAX_REACTIONS_PER_USER: i64 = 10;

/// One reaction, with the reacting account's current name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReactionRow {
    pub message_id: i64,
    pub emoji: String,
    pub name: String,
}

/// What a reaction change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reacted {
    /// Changed; the emoji's count on the message is now this.
    Changed(i64),
    /// Nothing to do (already there, or not there to remove); the count as it stands.
    Unchanged(i64),
    /// No such live message.
    NoMessage,
    /// A limit would be passed: nothing stored.
    TooMany,
}

/// Queries on `message_reactions`.
#[derive(Clone, Copy, Debug)]
pub struct Reactions<'a> {
    pub(super) pool: &'a AnyPool,
}

impl Reactions<'_> {
    /// Adds a user's reaction to the live message at `seq`, within the limits, in one
    /// transaction.
    pub async fn add(
        &self,
        room_id: i64,
        seq: i64,
        user_id: i64,
        emoji: &str,
        now: Millis,
    ) -> Result<Reacted, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(message_id) = live_message(&mut tx, room_id, seq).await? else {
            return Ok(Reacted::NoMessage);
        };
        let (mine, same, distinct, emoji_there): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT \
               (SELECT COUNT(*) FROM message_reactions WHERE message_id = $1 AND user_id = $2), \
               (SELECT COUNT(*) FROM message_reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3), \
               (SELECT COUNT(DISTINCT emoji) FROM message_reactions WHERE message_id = $1), \
               (SELECT COUNT(*) FROM message_reactions WHERE message_id = $1 AND emoji = $3)",
        )
        .bind(message_id)
        .bind(user_id)
        .bind(emoji)
        .fetch_one(&mut *tx)
        .await?;
        if same > 0 {
            return Ok(Reacted::Unchanged(emoji_there));
        }
        if mine >= MAX_REACTIONS_PER_USER || (emoji_there == 0 && distinct >= MAX_EMOJI_PER_MESSAGE)
        {
            return Ok(Reacted::TooMany);
        }
        sqlx::query(
            "INSERT INTO message_reactions (message_id, user_id, emoji, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(message_id)
        .bind(user_id)
        .bind(emoji)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let count = count_in(&mut tx, message_id, emoji).await?;
        tx.commit().await?;
        Ok(Reacted::Changed(count))
    }

    /// Takes a user's reaction back from the live message at `seq`.
    pub async fn remove(
        &self,
        room_id: i64,
        seq: i64,
        user_id: i64,
        emoji: &str,
    ) -> Result<Reacted, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(message_id) = live_message(&mut tx, room_id, seq).await? else {
            return Ok(Reacted::NoMessage);
        };
        let removed = sqlx::query(
            "DELETE FROM message_reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3",
        )
        .bind(message_id)
        .bind(user_id)
        .bind(emoji)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let count = count_in(&mut tx, message_id, emoji).await?;
        tx.commit().await?;
        Ok(if removed > 0 {
            Reacted::Changed(count)
        } else {
            Reacted::Unchanged(count)
        })
    }

    /// The reactions of these messages (live ones only), oldest first per message.
    pub async fn of_messages(&self, message_ids: &[i64]) -> Result<Vec<ReactionRow>, StoreError> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT r.message_id, r.emoji, u.name FROM message_reactions r \
             JOIN users u ON u.id = r.user_id JOIN messages m ON m.id = r.message_id \
             WHERE r.message_id IN ({}) AND m.deleted_at IS NULL \
             ORDER BY r.message_id, r.created_at, r.emoji",
            super::placeholders(1, message_ids.len())
        );
        let mut query = sqlx::query_as(&sql);
        for id in message_ids {
            query = query.bind(id);
        }
        Ok(query.fetch_all(self.pool).await?)
    }
}

/// The id of the live (not deleted) message at `seq` of a room, locked for the transaction
/// that changes its reactions. The statement is a write that changes nothing: it takes the
/// write lock first (a SQLite transaction that reads before it writes cannot take the lock
/// once another writer has committed, and fails busy), and it holds the row against a
/// concurrent delete on PostgreSQL, so a reaction never outlives its message.
async fn live_message(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    room_id: i64,
    seq: i64,
) -> Result<Option<i64>, StoreError> {
    let row: Option<(i64,)> = sqlx::query_as(
        "UPDATE messages SET reply_to = reply_to \
         WHERE room_id = $1 AND seq = $2 AND deleted_at IS NULL RETURNING id",
    )
    .bind(room_id)
    .bind(seq)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|(id,)| id))
}

async fn count_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    message_id: i64,
    emoji: &str,
) -> Result<i64, StoreError> {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM message_reactions WHERE message_id = $1 AND emoji = $2",
    )
    .bind(message_id)
    .bind(emoji)
    .fetch_one(&mut **tx)
    .await?;
    Ok(count)
}
