//! Rooms of every kind (`room`, `pm`, `ephemeral`): creating, finding, listing, changing
//! settings and deleting them with everything that hangs off them. Members, bans, requests and
//! messages have their own files.

use super::StoreError;
use crate::domain::{Millis, Principal, RoomKind};
use sqlx::AnyPool;

/// A stored room.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoomRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub topic: Option<String>,
    /// Flags are 0/1 integers: the one boolean form both engines share through sqlx's `Any`.
    pub private: i64,
    /// The owning account; none when a guest hosts the room (`host_guest_id`).
    pub owner_id: Option<i64>,
    /// The guest hosting an ephemeral room.
    pub host_guest_id: Option<i64>,
    pub data_key_id: i64,
    pub allow_images: i64,
    pub allow_videos: i64,
    pub allow_audio: i64,
    pub allow_files: i64,
    /// The AI companion answers `@name` mentions here (0 or 1).
    pub ai_mentions: i64,
    /// Guests may join this public room (0 or 1).
    pub allow_guests: i64,
    pub slow_mode_secs: i64,
    pub retention_days: Option<i64>,
    pub last_seq: i64,
    pub created_at: Millis,
    /// `room`, `pm` or `ephemeral` (see [`RoomKind`]).
    pub kind: String,
    /// Ephemeral rooms: when the activated room closes.
    pub expires_at: Option<Millis>,
    /// Messages are end-to-end encrypted (0 or 1; chosen at creation, never changed).
    pub e2e: i64,
    /// An end-to-end room's current key epoch (0 in a server-side room).
    pub e2e_epoch: i64,
}

impl RoomRow {
    pub fn kind(&self) -> RoomKind {
        self.kind.parse().unwrap_or(RoomKind::Room)
    }

    /// Who owns the room: an account, or the guest hosting an ephemeral room. (The schema
    /// holds exactly one of the two.)
    pub fn owner(&self) -> Principal {
        match (self.owner_id, self.host_guest_id) {
            (Some(id), _) => Principal::User(id),
            (None, Some(id)) => Principal::Guest(id),
            (None, None) => Principal::User(0),
        }
    }
}

/// The owner columns' values for an owner.
fn owner_columns(owner: Principal) -> (Option<i64>, Option<i64>) {
    match owner {
        Principal::User(id) => (Some(id), None),
        Principal::Guest(id) => (None, Some(id)),
    }
}

/// What creating a room needs.
#[derive(Debug)]
pub struct NewRoom<'a> {
    pub kind: RoomKind,
    pub slug: &'a str,
    pub name: &'a str,
    pub topic: Option<&'a str>,
    pub private: bool,
    /// An account; a guest only hosts an ephemeral room.
    pub owner: Principal,
    pub data_key_id: i64,
    pub created_at: Millis,
    /// End-to-end encrypted (its first epoch is 1).
    pub e2e: bool,
}

/// The settings an owner or admin may change.
#[derive(Debug, Clone)]
pub struct RoomSettings {
    pub name: String,
    pub topic: Option<String>,
    pub private: bool,
    pub allow_images: bool,
    pub allow_videos: bool,
    pub allow_audio: bool,
    pub allow_files: bool,
    pub ai_mentions: bool,
    pub allow_guests: bool,
    pub slow_mode_secs: i64,
    pub retention_days: Option<i64>,
}

/// A room as one user sees it in the room list: the room and that user's relation to it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedRoom {
    #[sqlx(flatten)]
    pub room: RoomRow,
    pub role: Option<String>,
    /// Usable invites bound to this user's e-mail.
    pub invited: i64,
    /// Others' messages above the member's read pointer (0 for non-members).
    pub unread: i64,
    /// Of those, the ones that mention the member (or everyone).
    pub mentions: i64,
}

/// A room found by its name, with everything deciding whether one user may see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SeenRoom {
    #[sqlx(flatten)]
    pub room: RoomRow,
    /// The user's role, if a member.
    pub role: Option<String>,
    /// Whether the user is banned from the room (0 or 1).
    pub banned: i64,
    /// Whether the user has yet to accept the conversation (0 or 1).
    pub pm_pending: i64,
}

/// The room columns; none of them is ambiguous in the joins below.
pub(super) const COLUMNS: &str =
    "id, slug, name, topic, private, owner_id, host_guest_id, data_key_id, allow_images, \
    allow_videos, allow_audio, allow_files, ai_mentions, allow_guests, slow_mode_secs, \
    retention_days, last_seq, created_at, kind, expires_at, e2e, e2e_epoch";

/// Queries on `rooms`.
#[derive(Clone, Copy, Debug)]
pub struct Rooms<'a> {
    pub(super) pool: &'a AnyPool,
    /// For [`Rooms::seen_by`], on every stored message's path (see `Store::reader`).
    pub(super) reader: &'a AnyPool,
}

impl Rooms<'_> {
    /// Creates the room, with its creator as owner when it is a persistent room, in one
    /// transaction.
    pub async fn create(&self, new: NewRoom<'_>) -> Result<RoomRow, StoreError> {
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "INSERT INTO rooms (slug, name, topic, private, owner_id, host_guest_id, data_key_id, \
             created_at, kind, e2e, e2e_epoch) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
             RETURNING {COLUMNS}"
        );
        let (owner_id, host_guest_id) = owner_columns(new.owner);
        let room: RoomRow = sqlx::query_as(&sql)
            .bind(new.slug)
            .bind(new.name)
            .bind(new.topic)
            .bind(i64::from(new.private))
            .bind(owner_id)
            .bind(host_guest_id)
            .bind(new.data_key_id)
            .bind(new.created_at)
            .bind(new.kind.as_str())
            .bind(i64::from(new.e2e))
            .fetch_one(&mut *tx)
            .await?;
        let (RoomKind::Room, Principal::User(owner_id)) = (new.kind, new.owner) else {
            tx.commit().await?;
            return Ok(room);
        };
        sqlx::query(
            "INSERT INTO room_members (room_id, user_id, role, joined_at) VALUES ($1, $2, 'owner', $3)",
        )
        .bind(room.id)
        .bind(owner_id)
        .bind(new.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(room)
    }

    pub async fn by_id(&self, id: i64) -> Result<Option<RoomRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM rooms WHERE id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.pool)
            .await?)
    }

    pub async fn by_slug(&self, slug: &str) -> Result<Option<RoomRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM rooms WHERE slug = $1");
        Ok(sqlx::query_as(&sql)
            .bind(slug)
            .fetch_optional(self.pool)
            .await?)
    }

    /// The room with this name and the user's relation to it, in one query whether or not the
    /// room exists, so that finding a hidden room costs what finding none does.
    pub async fn seen_by(&self, slug: &str, user_id: i64) -> Result<Option<SeenRoom>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS}, m.role AS role, \
               (SELECT COUNT(*) FROM room_bans b WHERE b.room_id = r.id AND b.user_id = $2) AS banned, \
               (SELECT COUNT(*) FROM pm_invites p WHERE p.room_id = r.id AND p.user_id = $2) AS pm_pending \
             FROM rooms r LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = $2 \
             WHERE r.slug = $1"
        );
        Ok(sqlx::query_as(&sql)
            .bind(slug)
            .bind(user_id)
            .fetch_optional(self.reader)
            .await?)
    }

    /// Every public room, and every private room the user is a member of or holds an
    /// unexpired invite bound to their e-mail for. Private rooms the user has no relation to
    /// are not listed — not even those they asked to join (their requests are listed by
    /// address, see `AccessRequests::of_user`).
    pub async fn listed_for(
        &self,
        user_id: i64,
        email_key: Option<&str>,
        now: Millis,
    ) -> Result<Vec<ListedRoom>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS}, m.role AS role, \
               (SELECT COUNT(*) FROM invites i WHERE i.room_id = r.id AND i.email_key = $2 \
                       AND i.revoked = 0 AND i.expires_at > $3 \
                       AND (i.max_uses IS NULL OR i.uses < i.max_uses)) AS invited, \
               (SELECT COUNT(*) FROM messages g WHERE g.room_id = r.id AND g.seq > m.last_read_seq \
                       AND g.author_id <> $1 AND g.deleted_at IS NULL) AS unread, \
               (SELECT COUNT(*) FROM message_mentions mm JOIN messages g ON g.id = mm.message_id \
                       WHERE mm.room_id = r.id AND (mm.user_id = $1 OR mm.user_id = 0) \
                       AND mm.seq > m.last_read_seq AND g.author_id <> $1) AS mentions \
             FROM rooms r LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = $1 \
             WHERE r.kind = 'room' AND NOT EXISTS (SELECT 1 FROM room_bans b WHERE b.room_id = r.id AND b.user_id = $1) \
             ORDER BY r.slug"
        );
        let rows: Vec<ListedRoom> = sqlx::query_as(&sql)
            .bind(user_id)
            .bind(email_key.unwrap_or(""))
            .bind(now)
            .fetch_all(self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .filter(|l| l.room.private == 0 || l.role.is_some() || l.invited > 0)
            .collect())
    }

    pub async fn update_settings(
        &self,
        room_id: i64,
        settings: &RoomSettings,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE rooms SET name = $1, topic = $2, private = $3, allow_images = $4, \
             allow_videos = $5, allow_audio = $6, allow_files = $7, slow_mode_secs = $8, \
             retention_days = $9, ai_mentions = $10, allow_guests = $11 WHERE id = $12",
        )
        .bind(&settings.name)
        .bind(settings.topic.as_deref())
        .bind(i64::from(settings.private))
        .bind(i64::from(settings.allow_images))
        .bind(i64::from(settings.allow_videos))
        .bind(i64::from(settings.allow_audio))
        .bind(i64::from(settings.allow_files))
        .bind(settings.slow_mode_secs)
        .bind(settings.retention_days)
        .bind(i64::from(settings.ai_mentions))
        .bind(i64::from(settings.allow_guests))
        .bind(room_id)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Deletes the room; its members, bans, invites and messages go with it. Access requests
    /// are kept by address, not by room: they stay until they expire, as requests for an
    /// address nobody holds do.
    pub async fn delete(&self, room_id: i64) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for table in [
            "messages",
            "room_members",
            "pm_invites",
            "ephemeral_devices",
            "room_bans",
            "invites",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE room_id = $1"))
                .bind(room_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM rooms WHERE id = $1")
            .bind(room_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The rooms of every kind an account owns (or hosts).
    pub async fn owned_by(&self, user_id: i64) -> Result<Vec<RoomRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM rooms WHERE owner_id = $1 ORDER BY id");
        Ok(sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_all(self.pool)
            .await?)
    }

    /// Every stored room of every kind, newest first (for the admin panel).
    pub async fn all(&self) -> Result<Vec<RoomRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM rooms ORDER BY id DESC");
        Ok(sqlx::query_as(&sql).fetch_all(self.pool).await?)
    }

    /// Rooms with a history retention, for the upkeep that prunes them.
    pub async fn with_retention(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT id, retention_days FROM rooms WHERE retention_days IS NOT NULL")
                .fetch_all(self.pool)
                .await?,
        )
    }
}
