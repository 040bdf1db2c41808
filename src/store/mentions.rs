//! Who stored messages mention. Rows are written with the message (see
//! [`Messages::append`](super::Messages::append)); reading them needs no body, so unread
//! mentions are counted above each member's read pointer without opening anything.

use super::StoreError;
use sqlx::AnyPool;

/// The `user_id` of a mention of everyone in the room (`@here`, `@room`).
pub const EVERYONE: i64 = 0;

/// One mention of a message: an account's current name, or none for everyone.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MentionRow {
    pub message_id: i64,
    pub user_id: i64,
    pub name: Option<String>,
}

/// Records who message `message_id` (at `seq` of `room_id`) mentions, in the transaction
/// that stores or edits it.
pub(super) async fn record(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    message_id: i64,
    room_id: i64,
    seq: i64,
    user_ids: &[i64],
) -> Result<(), StoreError> {
    for user_id in user_ids {
        sqlx::query(
            "INSERT INTO message_mentions (message_id, room_id, seq, user_id) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(message_id)
        .bind(room_id)
        .bind(seq)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Queries on `message_mentions`.
#[derive(Clone, Copy, Debug)]
pub struct Mentions<'a> {
    pub(super) pool: &'a AnyPool,
}

impl Mentions<'_> {
    /// The mentions of these messages.
    pub async fn of_messages(&self, message_ids: &[i64]) -> Result<Vec<MentionRow>, StoreError> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT mm.message_id, mm.user_id, u.name FROM message_mentions mm \
             LEFT JOIN users u ON u.id = mm.user_id WHERE mm.message_id IN ({}) \
             ORDER BY mm.message_id, mm.user_id",
            super::placeholders(1, message_ids.len())
        );
        let mut query = sqlx::query_as(&sql);
        for id in message_ids {
            query = query.bind(id);
        }
        Ok(query.fetch_all(self.pool).await?)
    }
}
