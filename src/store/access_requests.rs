//! Access requests: an account asks to join a private room by its address; the room's owner
//! and admins decide.
//!
//! Requests are kept by address (slug), not by room, and are recorded whether or not a room
//! holds the address: the requester's own view of a request (listed until approved or expired)
//! must be the same for a private room as for an address nobody holds. What a room's
//! moderators see of them is filtered here, in one place ([`PENDING_FOR_ROOM`]): requests made
//! since the room exists, not denied, from accounts neither banned from nor in the room.

use super::{affected, StoreError};
use crate::domain::Millis;
use sqlx::AnyPool;

/// A pending request as a room's moderators see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRow {
    pub user_id: i64,
    pub name: String,
    pub created_at: Millis,
}

/// A request as its requester sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwnRequestRow {
    pub slug: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// The room a request may be decided by, as the queries need it.
#[derive(Debug, Clone, Copy)]
pub struct RequestedRoom<'a> {
    pub id: i64,
    pub slug: &'a str,
    pub created_at: Millis,
}

/// The conditions under which a room's moderators see the request `q` (binds: `$1` slug,
/// `$2` room id, `$3` the room's creation, `$4` now).
const PENDING_FOR_ROOM: &str = "q.slug = $1 AND q.dismissed = 0 AND q.expires_at > $4 \
     AND q.created_at >= $3 \
     AND NOT EXISTS (SELECT 1 FROM room_bans b WHERE b.room_id = $2 AND b.user_id = q.user_id) \
     AND NOT EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = $2 AND m.user_id = q.user_id)";

/// Queries on `access_requests`.
#[derive(Clone, Copy, Debug)]
pub struct AccessRequests<'a> {
    pub(super) pool: &'a AnyPool,
}

impl AccessRequests<'_> {
    /// Records that a user asks to join whatever room holds `slug`; `false` if a request of
    /// theirs for it is still in force (asked before, denied or not). An expired one is
    /// replaced.
    pub async fn ask(
        &self,
        slug: &str,
        user_id: i64,
        now: Millis,
        expires_at: Millis,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO access_requests (slug, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (slug, user_id) DO UPDATE SET created_at = excluded.created_at, \
               expires_at = excluded.expires_at, dismissed = 0 \
             WHERE access_requests.expires_at <= excluded.created_at",
        )
        .bind(slug)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(self.pool)
        .await?;
        Ok(affected(result))
    }

    /// The owner and admins to tell about a new request: those of the private room holding
    /// `slug`, unless the requester is banned from it. Empty when no such room exists, and
    /// the same one query either way.
    pub async fn moderators_to_tell(
        &self,
        slug: &str,
        user_id: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT m.user_id FROM rooms r JOIN room_members m ON m.room_id = r.id \
             WHERE r.slug = $1 AND r.kind = 'room' AND r.private = 1 \
               AND m.role IN ('owner', 'admin') \
               AND NOT EXISTS (SELECT 1 FROM room_bans b WHERE b.room_id = r.id AND b.user_id = $2) \
             ORDER BY m.user_id",
        )
        .bind(slug)
        .bind(user_id)
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The requests a room's owner and admins may decide, oldest first.
    pub async fn pending_for(
        &self,
        room: RequestedRoom<'_>,
        now: Millis,
    ) -> Result<Vec<RequestRow>, StoreError> {
        let sql = format!(
            "SELECT q.user_id, u.name, q.created_at FROM access_requests q \
             JOIN users u ON u.id = q.user_id WHERE {PENDING_FOR_ROOM} ORDER BY q.created_at, u.name"
        );
        Ok(sqlx::query_as(&sql)
            .bind(room.slug)
            .bind(room.id)
            .bind(room.created_at)
            .bind(now)
            .fetch_all(self.pool)
            .await?)
    }

    /// The user's requests in force, by address.
    pub async fn of_user(
        &self,
        user_id: i64,
        now: Millis,
    ) -> Result<Vec<OwnRequestRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT slug, created_at, expires_at FROM access_requests \
             WHERE user_id = $1 AND expires_at > $2 ORDER BY slug",
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(self.pool)
        .await?)
    }

    /// Settles a request the room's moderators may see: approved, it is deleted (the caller
    /// adds the member); denied, it is dismissed — hidden from them and left to expire, so the
    /// requester's view stays that of an unanswered request. `false` if there was none.
    pub async fn settle(
        &self,
        room: RequestedRoom<'_>,
        user_id: i64,
        approve: bool,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let sql = match approve {
            true => format!("DELETE FROM access_requests WHERE user_id = $5 AND slug IN \
                 (SELECT q.slug FROM access_requests q WHERE q.user_id = $5 AND {PENDING_FOR_ROOM})"),
            false => format!("UPDATE access_requests SET dismissed = 1 WHERE user_id = $5 AND slug IN \
                 (SELECT q.slug FROM access_requests q WHERE q.user_id = $5 AND {PENDING_FOR_ROOM})"),
        };
        let result = sqlx::query(&sql)
            .bind(room.slug)
            .bind(room.id)
            .bind(room.created_at)
            .bind(now)
            .bind(user_id)
            .execute(self.pool)
            .await?;
        Ok(affected(result))
    }

    /// Deletes requests past their expiry (upkeep); returns how many.
    pub async fn purge_expired(&self, now: Millis) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM access_requests WHERE expires_at <= $1")
            .bind(now)
            .execute(self.pool)
            .await?;
        Ok(result.rows_affected())
    }
}
