//! Persistent rooms, their members and room bans.

use super::{affected, Store, StoreError};
use crate::domain::{Millis, RoomKind};

/// A stored room.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoomRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub topic: Option<String>,
    /// Flags are 0/1 integers: the one boolean form both engines share through sqlx's `Any`.
    pub private: i64,
    pub owner_id: i64,
    pub data_key_id: i64,
    pub allow_images: i64,
    pub allow_videos: i64,
    pub slow_mode_secs: i64,
    pub retention_days: Option<i64>,
    pub last_seq: i64,
    pub created_at: Millis,
    /// `room`, `pm` or `ephemeral` (see [`RoomKind`]).
    pub kind: String,
    /// Ephemeral rooms: when the activated room closes.
    pub expires_at: Option<Millis>,
}

impl RoomRow {
    pub fn kind(&self) -> RoomKind {
        self.kind.parse().unwrap_or(RoomKind::Room)
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
    pub owner_id: i64,
    pub data_key_id: i64,
    pub created_at: Millis,
}

/// The settings an owner or admin may change.
#[derive(Debug, Clone)]
pub struct RoomSettings {
    pub name: String,
    pub topic: Option<String>,
    pub private: bool,
    pub allow_images: bool,
    pub allow_videos: bool,
    pub slow_mode_secs: i64,
    pub retention_days: Option<i64>,
}

/// A room as one user sees it in the room list: the room and that user's relation to it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedRoom {
    #[sqlx(flatten)]
    pub room: RoomRow,
    pub role: Option<String>,
    /// Pending access requests of this user (0 or 1).
    pub requested: i64,
    /// Usable invites bound to this user's e-mail.
    pub invited: i64,
}

/// A member of a room.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub user_id: i64,
    pub name: String,
    pub role: String,
    pub joined_at: Millis,
}

/// The room columns; none of them is ambiguous in the joins below.
pub(super) const COLUMNS: &str =
    "id, slug, name, topic, private, owner_id, data_key_id, allow_images, \
    allow_videos, slow_mode_secs, retention_days, last_seq, created_at, kind, expires_at";

impl Store {
    /// Creates the room, with its creator as owner when it is a persistent room, in one
    /// transaction.
    pub async fn create_room(&self, new: NewRoom<'_>) -> Result<RoomRow, StoreError> {
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "INSERT INTO rooms (slug, name, topic, private, owner_id, data_key_id, created_at, kind) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
        );
        let room: RoomRow = sqlx::query_as(&sql)
            .bind(new.slug)
            .bind(new.name)
            .bind(new.topic)
            .bind(i64::from(new.private))
            .bind(new.owner_id)
            .bind(new.data_key_id)
            .bind(new.created_at)
            .bind(new.kind.as_str())
            .fetch_one(&mut *tx)
            .await?;
        if new.kind != RoomKind::Room {
            tx.commit().await?;
            return Ok(room);
        }
        sqlx::query(
            "INSERT INTO room_members (room_id, user_id, role, joined_at) VALUES ($1, $2, 'owner', $3)",
        )
        .bind(room.id)
        .bind(new.owner_id)
        .bind(new.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(room)
    }

    pub async fn room_by_id(&self, id: i64) -> Result<Option<RoomRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM rooms WHERE id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn room_by_slug(&self, slug: &str) -> Result<Option<RoomRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM rooms WHERE slug = $1");
        Ok(sqlx::query_as(&sql)
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Every public room, and every private room the user is a member of, has asked to join
    /// or holds an unexpired invite bound to their e-mail for. Private rooms the user has no
    /// relation to are not listed.
    pub async fn rooms_for_user(
        &self,
        user_id: i64,
        email_key: Option<&str>,
        now: Millis,
    ) -> Result<Vec<ListedRoom>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS}, m.role AS role, \
               (SELECT COUNT(*) FROM access_requests q WHERE q.room_id = r.id AND q.user_id = $1) AS requested, \
               (SELECT COUNT(*) FROM invites i WHERE i.room_id = r.id AND i.email_key = $2 \
                       AND i.revoked = 0 AND i.expires_at > $3 \
                       AND (i.max_uses IS NULL OR i.uses < i.max_uses)) AS invited \
             FROM rooms r LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = $1 \
             WHERE r.kind = 'room' AND NOT EXISTS (SELECT 1 FROM room_bans b WHERE b.room_id = r.id AND b.user_id = $1) \
             ORDER BY r.slug"
        );
        let rows: Vec<ListedRoom> = sqlx::query_as(&sql)
            .bind(user_id)
            .bind(email_key.unwrap_or(""))
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .filter(|l| l.room.private == 0 || l.role.is_some() || l.requested > 0 || l.invited > 0)
            .collect())
    }

    /// The user's role in the room, if a member.
    pub async fn member_role(
        &self,
        room_id: i64,
        user_id: i64,
    ) -> Result<Option<String>, StoreError> {
        let role: Option<(String,)> =
            sqlx::query_as("SELECT role FROM room_members WHERE room_id = $1 AND user_id = $2")
                .bind(room_id)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(role.map(|(r,)| r))
    }

    /// Adds a member (and drops their pending access request); `false` if already a member.
    pub async fn add_member(
        &self,
        room_id: i64,
        user_id: i64,
        role: &str,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let added = sqlx::query(
            "INSERT INTO room_members (room_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (room_id, user_id) DO NOTHING",
        )
        .bind(room_id)
        .bind(user_id)
        .bind(role)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM access_requests WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(affected(added))
    }

    pub async fn remove_member(&self, room_id: i64, user_id: i64) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM room_members WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(affected(result))
    }

    pub async fn set_member_role(
        &self,
        room_id: i64,
        user_id: i64,
        role: &str,
    ) -> Result<bool, StoreError> {
        let result =
            sqlx::query("UPDATE room_members SET role = $1 WHERE room_id = $2 AND user_id = $3")
                .bind(role)
                .bind(room_id)
                .bind(user_id)
                .execute(&self.pool)
                .await?;
        Ok(affected(result))
    }

    pub async fn members(&self, room_id: i64) -> Result<Vec<MemberRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT m.user_id, u.name, m.role, m.joined_at FROM room_members m \
             JOIN users u ON u.id = m.user_id WHERE m.room_id = $1 ORDER BY u.name_key",
        )
        .bind(room_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Bans a user from the room: removes their membership and request, in one transaction.
    pub async fn ban_from_room(
        &self,
        room_id: i64,
        user_id: i64,
        banned_by: i64,
        now: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for sql in [
            "DELETE FROM room_members WHERE room_id = $1 AND user_id = $2",
            "DELETE FROM access_requests WHERE room_id = $1 AND user_id = $2",
        ] {
            sqlx::query(sql)
                .bind(room_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO room_bans (room_id, user_id, banned_by, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (room_id, user_id) DO NOTHING",
        )
        .bind(room_id)
        .bind(user_id)
        .bind(banned_by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn unban_from_room(&self, room_id: i64, user_id: i64) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM room_bans WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(affected(result))
    }

    pub async fn is_banned_from_room(
        &self,
        room_id: i64,
        user_id: i64,
    ) -> Result<bool, StoreError> {
        let found: Option<(i64,)> =
            sqlx::query_as("SELECT user_id FROM room_bans WHERE room_id = $1 AND user_id = $2")
                .bind(room_id)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    pub async fn update_room_settings(
        &self,
        room_id: i64,
        settings: &RoomSettings,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE rooms SET name = $1, topic = $2, private = $3, allow_images = $4, \
             allow_videos = $5, slow_mode_secs = $6, retention_days = $7 WHERE id = $8",
        )
        .bind(&settings.name)
        .bind(settings.topic.as_deref())
        .bind(i64::from(settings.private))
        .bind(i64::from(settings.allow_images))
        .bind(i64::from(settings.allow_videos))
        .bind(settings.slow_mode_secs)
        .bind(settings.retention_days)
        .bind(room_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes the room; its members, bans, invites, requests and messages go with it.
    pub async fn delete_room(&self, room_id: i64) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for table in [
            "messages",
            "room_members",
            "pm_invites",
            "ephemeral_devices",
            "room_bans",
            "invites",
            "access_requests",
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
    pub async fn rooms_owned_by(&self, user_id: i64) -> Result<Vec<RoomRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM rooms WHERE owner_id = $1 ORDER BY id");
        Ok(sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Every stored room of every kind, newest first (for the admin panel).
    pub async fn all_rooms(&self) -> Result<Vec<RoomRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM rooms ORDER BY id DESC");
        Ok(sqlx::query_as(&sql).fetch_all(&self.pool).await?)
    }

    /// Rooms with a history retention, for the upkeep that prunes them.
    pub async fn rooms_with_retention(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT id, retention_days FROM rooms WHERE retention_days IS NOT NULL")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Records that a user asks to join a private room; `false` if already asked.
    pub async fn request_access(
        &self,
        room_id: i64,
        user_id: i64,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO access_requests (room_id, user_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (room_id, user_id) DO NOTHING",
        )
        .bind(room_id)
        .bind(user_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(affected(result))
    }

    /// Pending requests of a room: user id, name, when.
    pub async fn access_requests(
        &self,
        room_id: i64,
    ) -> Result<Vec<(i64, String, Millis)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT q.user_id, u.name, q.created_at FROM access_requests q \
             JOIN users u ON u.id = q.user_id WHERE q.room_id = $1 ORDER BY q.created_at",
        )
        .bind(room_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn drop_access_request(
        &self,
        room_id: i64,
        user_id: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM access_requests WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(affected(result))
    }
}
