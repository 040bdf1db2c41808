//! A room as the room services hand it out: the store's row with its flags and kind typed, so
//! nothing above this layer reads a column's encoding (`0`/`1` flags, kind as text).

use crate::domain::{Millis, Principal, RoomKind};
use crate::store::RoomRow;

/// A stored room of any kind.
#[derive(Debug, Clone)]
pub struct Room {
    pub id: i64,
    /// Its wire name: a slug, `pm:<id>:<id>` or `e:<CODE>`.
    pub slug: String,
    pub name: String,
    pub topic: Option<String>,
    pub private: bool,
    /// The owner of a persistent room, the opener of a conversation, the host of an ephemeral
    /// room (the one kind a guest may own).
    pub owner: Principal,
    pub data_key_id: i64,
    pub allow_images: bool,
    pub allow_videos: bool,
    pub allow_audio: bool,
    /// Any other file (documents, archives, …).
    pub allow_files: bool,
    /// The AI companion answers messages that mention it here.
    pub ai_mentions: bool,
    /// Guests may join this public room (when the server lets guests into rooms at all).
    pub allow_guests: bool,
    pub slow_mode_secs: i64,
    pub retention_days: Option<i64>,
    pub last_seq: i64,
    pub created_at: Millis,
    /// Ephemeral rooms: when the activated room closes.
    pub expires_at: Option<Millis>,
    /// Messages are end-to-end encrypted: the server stores and relays envelopes it cannot
    /// open (chosen at creation, never changed).
    pub e2e: bool,
    /// An end-to-end room's current key epoch (0 in a server-side room).
    pub epoch: i64,
    kind: RoomKind,
}

impl Room {
    pub fn kind(&self) -> RoomKind {
        self.kind
    }
}

impl From<RoomRow> for Room {
    fn from(row: RoomRow) -> Self {
        Self {
            kind: row.kind(),
            owner: row.owner(),
            id: row.id,
            slug: row.slug,
            name: row.name,
            topic: row.topic,
            private: row.private != 0,
            data_key_id: row.data_key_id,
            allow_images: row.allow_images != 0,
            allow_videos: row.allow_videos != 0,
            allow_audio: row.allow_audio != 0,
            allow_files: row.allow_files != 0,
            // The companion cannot read an end-to-end room, and guests have no keys.
            ai_mentions: row.ai_mentions != 0 && row.e2e == 0,
            allow_guests: row.allow_guests != 0 && row.e2e == 0,
            slow_mode_secs: row.slow_mode_secs,
            retention_days: row.retention_days,
            last_seq: row.last_seq,
            created_at: row.created_at,
            expires_at: row.expires_at,
            e2e: row.e2e != 0,
            epoch: row.e2e_epoch,
        }
    }
}
