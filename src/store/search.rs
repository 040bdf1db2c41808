//! What message search reads: the rooms one account may search right now, a room's messages
//! since the search cache last looked, and the page of hits read again before it is shown.
//! Bodies stay sealed here like everywhere in the store; the search service opens them and
//! keeps their text in memory only (see `crate::search`).

use super::StoreError;
use crate::domain::Millis;
use sqlx::AnyPool;

/// A room an account may search, with what the search cache checks itself against.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SearchableRoom {
    pub id: i64,
    pub slug: String,
    pub name: String,
    /// `room`, `pm` or `ephemeral`.
    pub kind: String,
    pub data_key_id: i64,
    /// The room's sequence: messages above what the cache holds are new.
    pub last_seq: i64,
    /// The oldest message still stored (`None`: none is); older ones were cleared or pruned.
    pub first_seq: Option<i64>,
    /// In a conversation, the other member's name.
    pub peer: Option<String>,
}

/// A stored message as the search cache reads it: what it filters on, and the sealed body.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SearchRow {
    pub id: i64,
    pub room_id: i64,
    pub seq: i64,
    pub author_id: i64,
    pub author_name: String,
    pub body: Vec<u8>,
    pub created_at: Millis,
    pub edited_at: Option<Millis>,
    pub deleted_at: Option<Millis>,
}

const ROW: &str =
    "id, room_id, seq, author_id, author_name, body, created_at, edited_at, deleted_at";

/// The columns of [`SearchableRoom`] for rooms `r`; `$1` is the account.
const ROOM: &str = "r.id, r.slug, r.name, r.kind, r.data_key_id, r.last_seq, \
     (SELECT MIN(g.seq) FROM messages g WHERE g.room_id = r.id) AS first_seq";

/// Queries for search.
#[derive(Clone, Copy, Debug)]
pub struct SearchReads<'a> {
    pub(super) pool: &'a AnyPool,
}

impl SearchReads<'_> {
    /// The rooms `user_id` may read right now: persistent rooms they are a member of and not
    /// banned from, conversations they accepted, and live ephemeral rooms they joined from an
    /// admitted device (`principal`: their key in `ephemeral_devices`). Public rooms they are
    /// not a member of are not searched.
    pub async fn rooms_of(
        &self,
        user_id: i64,
        principal: &str,
        now: Millis,
    ) -> Result<Vec<SearchableRoom>, StoreError> {
        let sql = format!(
            "SELECT {ROOM}, \
               (SELECT u.name FROM room_members o JOIN users u ON u.id = o.user_id \
                WHERE o.room_id = r.id AND o.user_id <> $1 AND r.kind = 'pm' LIMIT 1) AS peer \
             FROM rooms r JOIN room_members m ON m.room_id = r.id AND m.user_id = $1 \
             WHERE r.e2e = 0 AND ((r.kind = 'room' AND NOT EXISTS \
                      (SELECT 1 FROM room_bans b WHERE b.room_id = r.id AND b.user_id = $1)) \
                OR (r.kind = 'pm' AND NOT EXISTS \
                      (SELECT 1 FROM pm_invites p WHERE p.room_id = r.id AND p.user_id = $1))) \
             UNION \
             SELECT {ROOM}, NULL AS peer FROM rooms r \
             WHERE r.kind = 'ephemeral' AND (r.expires_at IS NULL OR r.expires_at > $3) \
               AND EXISTS (SELECT 1 FROM ephemeral_devices d WHERE d.room_id = r.id AND d.principal = $2)"
        );
        Ok(sqlx::query_as(&sql)
            .bind(user_id)
            .bind(principal)
            .bind(now)
            .fetch_all(self.pool)
            .await?)
    }

    /// Up to `limit` messages of a room above sequence `after`, oldest first.
    pub async fn after(
        &self,
        room_id: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<SearchRow>, StoreError> {
        let sql = format!(
            "SELECT {ROW} FROM messages WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
        Ok(sqlx::query_as(&sql)
            .bind(room_id)
            .bind(after)
            .bind(limit)
            .fetch_all(self.pool)
            .await?)
    }

    /// For each `(room, upto, since)`: the room's messages at or below sequence `upto` edited
    /// at or after `since` — in one query for all the rooms a search looks at, not one each.
    pub async fn edited_since(
        &self,
        rooms: &[(i64, i64, Millis)],
    ) -> Result<Vec<SearchRow>, StoreError> {
        let Some(earliest) = rooms.iter().map(|&(_, _, since)| since).min() else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT {ROW} FROM messages WHERE edited_at >= $1 AND room_id IN ({})",
            super::placeholders(2, rooms.len())
        );
        let mut query = sqlx::query_as::<_, SearchRow>(&sql).bind(earliest);
        for &(room_id, _, _) in rooms {
            query = query.bind(room_id);
        }
        let rows = query.fetch_all(self.pool).await?;
        // Each room's own window: the query read from the earliest of them.
        Ok(rows
            .into_iter()
            .filter(|row| {
                rooms.iter().any(|&(room_id, upto, since)| {
                    row.room_id == room_id
                        && row.seq <= upto
                        && row.edited_at.is_some_and(|at| at >= since)
                })
            })
            .collect())
    }

    /// The messages at these (room, sequence) places that are still stored, in one query.
    pub async fn at(&self, places: &[(i64, i64)]) -> Result<Vec<SearchRow>, StoreError> {
        if places.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<String> = (0..places.len())
            .map(|i| format!("(room_id = ${} AND seq = ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let sql = format!("SELECT {ROW} FROM messages WHERE {}", wanted.join(" OR "));
        let mut query = sqlx::query_as(&sql);
        for (room_id, seq) in places {
            query = query.bind(*room_id).bind(*seq);
        }
        Ok(query.fetch_all(self.pool).await?)
    }
}
