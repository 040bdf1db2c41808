//! Private conversations: rooms of kind `pm` with exactly two members. A member with a row in
//! `pm_invites` has not accepted the conversation yet; a `hidden` member has closed it.

use super::{affected, StoreError};
use crate::domain::Millis;
use sqlx::AnyPool;

/// One conversation as one of its members sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversationRow {
    pub room: String,
    pub peer: String,
    pub last_seq: i64,
    pub last_read_seq: i64,
    /// Stored messages from the peer this member has not read.
    pub unread: i64,
    /// 1 when this member has yet to accept.
    pub invited_me: i64,
    /// 1 when the peer has yet to accept.
    pub awaiting_peer: i64,
    /// 1 when end-to-end encrypted.
    pub e2e: i64,
    pub e2e_epoch: i64,
}

/// Conversations as member `$1` sees them; callers add the `WHERE`.
const CONVERSATION: &str = "SELECT r.slug AS room, u.name AS peer, r.last_seq, m.last_read_seq, r.e2e, r.e2e_epoch, \
       (SELECT COUNT(*) FROM messages g WHERE g.room_id = r.id AND g.seq > m.last_read_seq AND g.author_id <> m.user_id AND g.deleted_at IS NULL) AS unread, \
       (SELECT COUNT(*) FROM pm_invites i WHERE i.room_id = r.id AND i.user_id = m.user_id) AS invited_me, \
       (SELECT COUNT(*) FROM pm_invites i WHERE i.room_id = r.id AND i.user_id = o.user_id) AS awaiting_peer \
     FROM rooms r \
     JOIN room_members m ON m.room_id = r.id AND m.user_id = $1 \
     JOIN room_members o ON o.room_id = r.id AND o.user_id <> $1 \
     JOIN users u ON u.id = o.user_id";

/// Queries on conversations: rooms of kind `pm`, their members and `pm_invites`.
#[derive(Clone, Copy, Debug)]
pub struct Conversations<'a> {
    pub(super) pool: &'a AnyPool,
}

impl Conversations<'_> {
    /// The conversations a user has not closed, most recently active first.
    pub async fn of_user(&self, user_id: i64) -> Result<Vec<ConversationRow>, StoreError> {
        let sql = format!(
            "{CONVERSATION} WHERE r.kind = 'pm' AND m.hidden = 0 ORDER BY r.last_seq DESC, r.id DESC"
        );
        Ok(sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_all(self.pool)
            .await?)
    }

    /// One conversation as `user_id` sees it (also when closed).
    pub async fn of(
        &self,
        room_id: i64,
        user_id: i64,
    ) -> Result<Option<ConversationRow>, StoreError> {
        let sql = format!("{CONVERSATION} WHERE r.id = $2");
        Ok(sqlx::query_as(&sql)
            .bind(user_id)
            .bind(room_id)
            .fetch_optional(self.pool)
            .await?)
    }

    /// Adds both members of a new conversation; the peer must accept before reading it.
    pub async fn add_members(
        &self,
        room_id: i64,
        opener: i64,
        peer: i64,
        now: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for user_id in [opener, peer] {
            sqlx::query(
                "INSERT INTO room_members (room_id, user_id, role, joined_at) VALUES ($1, $2, 'member', $3)",
            )
            .bind(room_id)
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("INSERT INTO pm_invites (room_id, user_id, created_at) VALUES ($1, $2, $3)")
            .bind(room_id)
            .bind(peer)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the user has yet to accept the conversation.
    pub async fn invite_pending(&self, room_id: i64, user_id: i64) -> Result<bool, StoreError> {
        let found: Option<(i64,)> =
            sqlx::query_as("SELECT room_id FROM pm_invites WHERE room_id = $1 AND user_id = $2")
                .bind(room_id)
                .bind(user_id)
                .fetch_optional(self.pool)
                .await?;
        Ok(found.is_some())
    }

    /// Accepts a pending conversation (and shows it); `false` if there was nothing to accept.
    pub async fn accept(&self, room_id: i64, user_id: i64) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let accepted = sqlx::query("DELETE FROM pm_invites WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE room_members SET hidden = 0 WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(affected(accepted))
    }

    /// Closes (`true`) or shows again (`false`) a conversation for one member; returns whether
    /// that changed anything.
    pub async fn set_hidden(
        &self,
        room_id: i64,
        user_id: i64,
        hidden: bool,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE room_members SET hidden = $1 WHERE room_id = $2 AND user_id = $3 AND hidden <> $1",
        )
        .bind(i64::from(hidden))
        .bind(room_id)
        .bind(user_id)
        .execute(self.pool)
        .await?;
        Ok(affected(result))
    }

    /// Whether a member has closed (or declined) the conversation.
    pub async fn is_hidden(&self, room_id: i64, user_id: i64) -> Result<bool, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT hidden FROM room_members WHERE room_id = $1 AND user_id = $2")
                .bind(room_id)
                .bind(user_id)
                .fetch_optional(self.pool)
                .await?;
        Ok(row.is_some_and(|(hidden,)| hidden != 0))
    }

    /// Moves a member's read marker forward (never back).
    pub async fn mark_read(&self, room_id: i64, user_id: i64, seq: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE room_members SET last_read_seq = $1 \
             WHERE room_id = $2 AND user_id = $3 AND last_read_seq < $1",
        )
        .bind(seq)
        .bind(room_id)
        .bind(user_id)
        .execute(self.pool)
        .await?;
        Ok(())
    }
}
