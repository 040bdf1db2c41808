//! Stored room messages. Bodies arrive here already sealed; the store never sees plaintext.
//! Each room numbers its messages with a sequence that only grows (`rooms.last_seq`), so a
//! client resumes from the last number it saw.

use super::StoreError;
use crate::domain::Millis;
use crate::metrics::{StoreOp, StoreTimings};
use sqlx::AnyPool;

/// A stored message with its sealed body.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub room_id: i64,
    pub seq: i64,
    pub author_id: i64,
    pub author_name: String,
    pub author_role: String,
    pub client_msg_id: Option<String>,
    pub body: Vec<u8>,
    pub created_at: Millis,
}

/// A message to append; `seal` turns the room's next sequence number into the sealed body
/// (the sequence is part of the ciphertext's associated data).
pub struct NewMessage<'a> {
    pub room_id: i64,
    pub author_id: i64,
    pub author_name: &'a str,
    pub author_role: &'a str,
    pub client_msg_id: Option<&'a str>,
    pub created_at: Millis,
    /// Pending uploads of the author's for this room that the message takes.
    pub attachments: &'a [String],
}

/// Whether an append stored a new message or found the one a retry already stored.
#[derive(Debug)]
pub enum Appended {
    New(MessageRow),
    Existing(MessageRow),
    /// An attachment was not one of the author's pending uploads for this room: nothing was
    /// stored.
    AttachmentUnavailable,
}

pub(super) const COLUMNS: &str =
    "id, room_id, seq, author_id, author_name, author_role, client_msg_id, body, created_at";

/// Queries on `messages`.
#[derive(Clone, Copy, Debug)]
pub struct Messages<'a> {
    pub(super) pool: &'a AnyPool,
    pub(super) timings: &'a StoreTimings,
}

impl Messages<'_> {
    /// Appends a message in one transaction: takes the room's next sequence number, seals the
    /// body with it, stores the row and gives it its attachments (all or nothing). A message with the same author and `client_msg_id`
    /// already in the room is returned instead of storing a second one.
    pub async fn append(
        &self,
        new: NewMessage<'_>,
        seal: impl FnOnce(i64) -> Vec<u8>,
    ) -> Result<Appended, StoreError> {
        self.timings
            .time(StoreOp::AppendMessage, self.append_timed(new, seal))
            .await
    }

    async fn append_timed(
        &self,
        new: NewMessage<'_>,
        seal: impl FnOnce(i64) -> Vec<u8>,
    ) -> Result<Appended, StoreError> {
        if let Some(existing) = self.by_client_id(&new).await? {
            return Ok(Appended::Existing(existing));
        }
        let mut tx = self.pool.begin().await?;
        let (seq,): (i64,) = sqlx::query_as(
            "UPDATE rooms SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
        )
        .bind(new.room_id)
        .fetch_one(&mut *tx)
        .await?;
        let sql = format!(
            "INSERT INTO messages (room_id, seq, author_id, author_name, author_role, client_msg_id, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
        );
        let inserted = sqlx::query_as(&sql)
            .bind(new.room_id)
            .bind(seq)
            .bind(new.author_id)
            .bind(new.author_name)
            .bind(new.author_role)
            .bind(new.client_msg_id)
            .bind(seal(seq))
            .bind(new.created_at)
            .fetch_one(&mut *tx)
            .await;
        match inserted {
            Ok(row) => {
                let row: MessageRow = row;
                if !new.attachments.is_empty() {
                    let taken = super::files::Files::attach_in(
                        &mut tx,
                        row.id,
                        new.room_id,
                        new.author_id,
                        new.attachments,
                    )
                    .await?;
                    if taken != new.attachments.len() as u64 {
                        return Ok(Appended::AttachmentUnavailable);
                    }
                }
                tx.commit().await?;
                Ok(Appended::New(row))
            }
            Err(err) => {
                drop(tx);
                match (StoreError::from(err), self.by_client_id(&new).await?) {
                    // A concurrent retry won the race; its message is the one.
                    (StoreError::Conflict(_), Some(existing)) => Ok(Appended::Existing(existing)),
                    (err, _) => Err(err),
                }
            }
        }
    }

    async fn by_client_id(&self, new: &NewMessage<'_>) -> Result<Option<MessageRow>, StoreError> {
        let Some(client_msg_id) = new.client_msg_id else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE room_id = $1 AND author_id = $2 AND client_msg_id = $3"
        );
        Ok(sqlx::query_as(&sql)
            .bind(new.room_id)
            .bind(new.author_id)
            .bind(client_msg_id)
            .fetch_optional(self.pool)
            .await?)
    }

    /// Up to `limit` messages with a sequence number above `after`, oldest first.
    pub async fn after(
        &self,
        room_id: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
        let read = sqlx::query_as(&sql)
            .bind(room_id)
            .bind(after)
            .bind(limit)
            .fetch_all(self.pool);
        Ok(self.timings.time(StoreOp::ReadHistory, read).await?)
    }

    /// Up to `limit` messages with a sequence number below `before`, oldest first (the page
    /// just before `before`).
    pub async fn before(
        &self,
        room_id: i64,
        before: i64,
        limit: i64,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE room_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
        );
        let read = sqlx::query_as(&sql)
            .bind(room_id)
            .bind(before)
            .bind(limit)
            .fetch_all(self.pool);
        let mut rows: Vec<MessageRow> = self.timings.time(StoreOp::ReadHistory, read).await?;
        rows.reverse();
        Ok(rows)
    }

    /// Deletes every message of a room (its sequence keeps counting).
    pub async fn clear(&self, room_id: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM messages WHERE room_id = $1")
            .bind(room_id)
            .execute(self.pool)
            .await?
            .rows_affected())
    }

    /// Deletes a room's messages older than `cutoff`.
    pub async fn prune_before(&self, room_id: i64, cutoff: Millis) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM messages WHERE room_id = $1 AND created_at < $2")
                .bind(room_id)
                .bind(cutoff)
                .execute(self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Deletes the messages of a room at or below a sequence number (the oldest ones).
    pub async fn drop_through(&self, room_id: i64, seq: i64) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM messages WHERE room_id = $1 AND seq <= $2")
                .bind(room_id)
                .bind(seq)
                .execute(self.pool)
                .await?
                .rows_affected(),
        )
    }
}
