//! Reads for data exports (`parlor export` and "download my data"): what one account left across
//! the tables — the rooms it wrote in and its own messages there, its memberships, sessions and
//! uploads, and the audit entries by or about it. Messages, uploads and audit entries are read a
//! page at a time (keyed on what the previous page ended with), so exporting a busy account never
//! holds all of it at once. Nothing here writes.
//!
//! These queries cut across tables on purpose: each answers "what of this account's is in
//! there", which no single aggregate's file is about. Reads an export shares with the rest of
//! the server (a room's pages, its members, an ignore list) stay where they are.

use super::audit::AuditRow;
use super::files::FileRow;
use super::messages::{MessageRow, COLUMNS as MESSAGE_COLUMNS};
use super::rooms::{RoomRow, COLUMNS as ROOM_COLUMNS};
use super::StoreError;
use crate::domain::Millis;
use sqlx::AnyPool;

/// A room (of any kind) an account belongs to, with its place there.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MembershipRow {
    #[sqlx(flatten)]
    pub room: RoomRow,
    pub role: String,
    pub joined_at: Millis,
    /// 1 when the account closed (or declined) the conversation.
    pub hidden: i64,
    /// 1 when the account has yet to accept the conversation.
    pub pending: i64,
    /// A conversation's other member.
    pub peer: Option<String>,
}

/// A live session of an account: when it began, until when it runs, and the address it was
/// opened from (never its token, not even hashed).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    pub ip: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// A file an account uploaded, with the address of the room it was uploaded for (none: the
/// lobby).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UploadRow {
    #[sqlx(flatten)]
    pub file: FileRow,
    pub room: Option<String>,
}

/// The file columns, qualified for a join with `rooms`.
const FILE_COLUMNS: &str = "f.id, f.room_id, f.data_key_id, f.uploader_id, f.uploader_name, \
    f.uploader_ip, f.name, f.size, f.mime, f.kind, f.width, f.height, f.duration_ms, f.digest, \
    f.thumbnail, f.attached, f.message_id, f.created_at";

/// Queries for exports.
#[derive(Clone, Copy, Debug)]
pub struct ExportReads<'a> {
    pub(super) pool: &'a AnyPool,
}

impl ExportReads<'_> {
    /// Every room, of any kind, holding a stored message by `author_id`.
    pub async fn authored_rooms(&self, author_id: i64) -> Result<Vec<RoomRow>, StoreError> {
        let sql = format!(
            "SELECT {ROOM_COLUMNS} FROM rooms \
             WHERE id IN (SELECT room_id FROM messages WHERE author_id = $1) ORDER BY id"
        );
        Ok(sqlx::query_as(&sql)
            .bind(author_id)
            .fetch_all(self.pool)
            .await?)
    }

    /// Up to `limit` of `author_id`'s messages in a room with a sequence number above
    /// `after`, oldest first.
    pub async fn authored(
        &self,
        room_id: i64,
        author_id: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE room_id = $1 AND author_id = $2 \
             AND seq > $3 ORDER BY seq LIMIT $4"
        );
        Ok(sqlx::query_as(&sql)
            .bind(room_id)
            .bind(author_id)
            .bind(after)
            .bind(limit)
            .fetch_all(self.pool)
            .await?)
    }

    /// The rooms and conversations an account is a member of, by address.
    pub async fn memberships(&self, user_id: i64) -> Result<Vec<MembershipRow>, StoreError> {
        let sql = format!(
            "SELECT {ROOM_COLUMNS}, m.role AS role, m.joined_at AS joined_at, m.hidden AS hidden, \
               (SELECT COUNT(*) FROM pm_invites p WHERE p.room_id = r.id AND p.user_id = $1) AS pending, \
               (SELECT u.name FROM room_members o JOIN users u ON u.id = o.user_id \
                 WHERE r.kind = 'pm' AND o.room_id = r.id AND o.user_id <> $1 LIMIT 1) AS peer \
             FROM rooms r JOIN room_members m ON m.room_id = r.id AND m.user_id = $1 \
             ORDER BY r.slug"
        );
        Ok(sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_all(self.pool)
            .await?)
    }

    /// An account's live sessions, oldest first.
    pub async fn sessions(&self, user_id: i64) -> Result<Vec<SessionRecord>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT ip, created_at, expires_at FROM sessions WHERE user_id = $1 \
             ORDER BY created_at, token_hash",
        )
        .bind(user_id)
        .fetch_all(self.pool)
        .await?)
    }

    /// Up to `limit` of the files `uploader_id` uploaded that are still held (as
    /// `Files::by_id` counts them), by id above `after`.
    pub async fn uploads(
        &self,
        uploader_id: i64,
        after: &str,
        limit: i64,
    ) -> Result<Vec<UploadRow>, StoreError> {
        let sql = format!(
            "SELECT {FILE_COLUMNS}, r.slug AS room FROM files f LEFT JOIN rooms r ON r.id = f.room_id \
             WHERE f.uploader_id = $1 AND f.id > $2 AND f.doomed = 0 \
             AND (f.room_id IS NULL OR r.id IS NOT NULL) \
             AND (f.message_id IS NULL OR EXISTS (SELECT 1 FROM messages g WHERE g.id = f.message_id)) \
             ORDER BY f.id LIMIT $3"
        );
        Ok(sqlx::query_as(&sql)
            .bind(uploader_id)
            .bind(after)
            .bind(limit)
            .fetch_all(self.pool)
            .await?)
    }

    /// Up to `limit` audit entries with an id above `after`, oldest first: those `identity`
    /// (`user:<id>`) made, and those naming `name_key` as their target (alone, or as
    /// `<name> @ <address>`) since `since` — the account's creation, so that entries about an
    /// earlier holder of the same name are not its.
    pub async fn audit(
        &self,
        identity: &str,
        name_key: &str,
        since: Millis,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let with_address = format!("{} @ %", like_escaped(name_key));
        Ok(sqlx::query_as(
            "SELECT id, ts, actor, identity, actor_ip, action, target, room, detail FROM audit_log \
             WHERE id > $1 AND (identity = $2 OR (ts >= $3 AND \
               (LOWER(target) = $4 OR LOWER(target) LIKE $5 ESCAPE '\\'))) \
             ORDER BY id LIMIT $6",
        )
        .bind(after)
        .bind(identity)
        .bind(since)
        .bind(name_key)
        .bind(with_address)
        .bind(limit)
        .fetch_all(self.pool)
        .await?)
    }
}

/// `text` with `LIKE`'s wildcards (and the escape character) escaped.
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
