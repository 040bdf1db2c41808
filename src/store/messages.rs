//! Stored room messages. Bodies arrive here already sealed; the store never sees plaintext.
//! Each room numbers its messages with a sequence that only grows (`rooms.last_seq`), so a
//! client resumes from the last number it saw.

use super::appender::{Appender, Seal, Submitted};
use super::StoreError;
use crate::domain::Millis;
use crate::metrics::{StoreOp, StoreTimings};
use sqlx::{Any, AnyPool, Transaction};

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
    /// When the author last changed the text (its body was resealed in place).
    pub edited_at: Option<Millis>,
    /// When the message was deleted: its body is empty, a tombstone keeps its place.
    pub deleted_at: Option<Millis>,
    /// The sequence number of the message this one answers, in the same room.
    pub reply_to: Option<i64>,
}

/// A message to append (see [`Messages::submit`]).
pub struct NewMessage {
    pub room_id: i64,
    pub author_id: i64,
    pub author_name: String,
    pub author_role: &'static str,
    pub client_msg_id: Option<String>,
    pub created_at: Millis,
    /// Pending uploads of the author's for this room that the message takes.
    pub attachments: Vec<String>,
    /// The message answered (a sequence number the caller checked exists).
    pub reply_to: Option<i64>,
    /// Accounts the message mentions (0: everyone in the room), recorded with it.
    pub mentions: Vec<i64>,
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

pub(super) const COLUMNS: &str = "id, room_id, seq, author_id, author_name, author_role, \
    client_msg_id, body, created_at, edited_at, deleted_at, reply_to";

/// Queries on `messages`.
#[derive(Clone, Copy, Debug)]
pub struct Messages<'a> {
    pub(super) pool: &'a AnyPool,
    pub(super) timings: &'a StoreTimings,
    pub(super) appender: &'a Appender,
}

impl Messages<'_> {
    /// Submits a message to the store's group commit (see [`super::appender`]): it takes the
    /// room's next sequence number, is sealed with it (`seal`), stored and given its
    /// attachments, all or nothing, in the transaction of the messages submitted with it. A
    /// message with the same author and `client_msg_id` already in the room is answered
    /// instead of storing a second one. Messages of a room are numbered in the order they
    /// were submitted; this resolves once it is queued, and [`Submitted::stored`] once it is
    /// committed.
    pub async fn submit(&self, new: NewMessage, seal: Seal) -> Result<Submitted, StoreError> {
        self.appender.submit(new, seal, self.timings).await
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

    /// The message at `seq` of a room (a tombstone too), if stored.
    pub async fn by_seq(&self, room_id: i64, seq: i64) -> Result<Option<MessageRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM messages WHERE room_id = $1 AND seq = $2");
        Ok(sqlx::query_as(&sql)
            .bind(room_id)
            .bind(seq)
            .fetch_optional(self.pool)
            .await?)
    }

    /// The messages of a room at these sequence numbers (those still stored), in any order:
    /// the originals a page's replies quote.
    pub async fn by_seqs(&self, room_id: i64, seqs: &[i64]) -> Result<Vec<MessageRow>, StoreError> {
        if seqs.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE room_id = $1 AND seq IN ({})",
            super::placeholders(2, seqs.len())
        );
        let mut query = sqlx::query_as(&sql).bind(room_id);
        for seq in seqs {
            query = query.bind(seq);
        }
        Ok(query.fetch_all(self.pool).await?)
    }

    /// Replaces a live message's sealed body with a new one (sealed by the caller for the same
    /// room and sequence number), stamps the edit and records its mentions anew, in one
    /// transaction. The old body is overwritten, not kept. `false` when the message is gone
    /// or deleted.
    pub async fn edit(
        &self,
        room_id: i64,
        seq: i64,
        body: Vec<u8>,
        edited_at: Millis,
        mentions: &[i64],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let edited: Option<(i64,)> = sqlx::query_as(
            "UPDATE messages SET body = $1, edited_at = $2 \
             WHERE room_id = $3 AND seq = $4 AND deleted_at IS NULL RETURNING id",
        )
        .bind(body)
        .bind(edited_at)
        .bind(room_id)
        .bind(seq)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id,)) = edited else {
            return Ok(false);
        };
        sqlx::query("DELETE FROM message_mentions WHERE message_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        super::mentions::record(&mut tx, id, room_id, seq, mentions).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes a message's content in one transaction: the body is wiped to nothing (a
    /// tombstone keeps the room's order and what replies point at), and its reactions,
    /// mentions and files go (the files are doomed for the sweep). `None` when the message is
    /// gone or already deleted; otherwise the row as it is now (its author and place; the body
    /// empty).
    pub async fn delete(
        &self,
        room_id: i64,
        seq: i64,
        deleted_at: Millis,
    ) -> Result<Option<MessageRow>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Written first, so the transaction holds the write lock from its first statement.
        let sql = format!(
            "UPDATE messages SET body = $1, deleted_at = $2, edited_at = NULL, reply_to = NULL \
             WHERE room_id = $3 AND seq = $4 AND deleted_at IS NULL RETURNING {COLUMNS}"
        );
        let Some(row): Option<MessageRow> = sqlx::query_as(&sql)
            .bind(Vec::<u8>::new())
            .bind(deleted_at)
            .bind(room_id)
            .bind(seq)
            .fetch_optional(&mut *tx)
            .await?
        else {
            // Gone, or someone else's delete committed first: theirs is the one.
            return Ok(None);
        };
        for sql in [
            "DELETE FROM message_reactions WHERE message_id = $1",
            "DELETE FROM message_mentions WHERE message_id = $1",
            "UPDATE files SET doomed = 1 WHERE message_id = $1",
        ] {
            sqlx::query(sql).bind(row.id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Some(row))
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

/// Takes the room's row for the rest of `tx` — SQLite's write lock, PostgreSQL's row lock —
/// and returns the room's last sequence number. Until `tx` ends nobody else numbers a message
/// in the room, so a batch numbers its messages itself and writes the last number once
/// ([`set_last_seq`]): one statement per message instead of two. A room that is gone is
/// `sqlx::Error::RowNotFound`.
pub(super) async fn lock_seq(
    tx: &mut Transaction<'_, Any>,
    room_id: i64,
) -> Result<i64, StoreError> {
    let (seq,): (i64,) =
        sqlx::query_as("UPDATE rooms SET last_seq = last_seq WHERE id = $1 RETURNING last_seq")
            .bind(room_id)
            .fetch_one(&mut **tx)
            .await?;
    Ok(seq)
}

/// Records the last number a batch gave in a room it locked with [`lock_seq`].
pub(super) async fn set_last_seq(
    tx: &mut Transaction<'_, Any>,
    room_id: i64,
    seq: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE rooms SET last_seq = $1 WHERE id = $2")
        .bind(seq)
        .bind(room_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Stores one message as number `seq` of its room (locked with [`lock_seq`]) inside `tx`: the
/// sealed body, its mentions and attachments. A retry of a stored message meets the unique
/// (room, author, client_msg_id) index, writes nothing and is answered with the original, so
/// the common case, a new message, is one statement and no read, and a retry needs no
/// savepoint to be undone. Only [`Appended::New`] took the number. An error is a statement
/// that failed, which may have left `tx` unusable.
pub(super) async fn insert(
    tx: &mut Transaction<'_, Any>,
    new: &NewMessage,
    seq: i64,
    seal: Seal,
) -> Result<Appended, StoreError> {
    let sql = format!(
        "INSERT INTO messages (room_id, seq, author_id, author_name, author_role, client_msg_id, body, created_at, reply_to) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (room_id, author_id, client_msg_id) DO NOTHING RETURNING {COLUMNS}"
    );
    let row: Option<MessageRow> = sqlx::query_as(&sql)
        .bind(new.room_id)
        .bind(seq)
        .bind(new.author_id)
        .bind(&new.author_name)
        .bind(new.author_role)
        .bind(&new.client_msg_id)
        .bind(seal(seq))
        .bind(new.created_at)
        .bind(new.reply_to)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else {
        return match by_client_id(tx, new).await? {
            Some(existing) => Ok(Appended::Existing(existing)),
            None => Err(StoreError::Conflict("messages.client_msg_id".into())),
        };
    };
    super::mentions::record(tx, row.id, row.room_id, row.seq, &new.mentions).await?;
    if !new.attachments.is_empty() {
        let taken = super::files::Files::attach_in(
            tx,
            row.id,
            new.room_id,
            new.author_id,
            &new.attachments,
        )
        .await?;
        if taken != new.attachments.len() as u64 {
            return Ok(Appended::AttachmentUnavailable);
        }
    }
    Ok(Appended::New(row))
}

/// The message a retry already stored, by its author's `client_msg_id`.
pub(super) async fn by_client_id(
    tx: &mut Transaction<'_, Any>,
    new: &NewMessage,
) -> Result<Option<MessageRow>, StoreError> {
    let Some(client_msg_id) = &new.client_msg_id else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE room_id = $1 AND author_id = $2 AND client_msg_id = $3"
    );
    Ok(sqlx::query_as(&sql)
        .bind(new.room_id)
        .bind(new.author_id)
        .bind(client_msg_id)
        .fetch_optional(&mut **tx)
        .await?)
}
