//! The protocol as the tests read it: acks, events and REST bodies deserialized into structs
//! that mirror `docs/protocol.md`, so a mistyped field is a failure instead of a `Null`.
//!
//! Fixed shapes deny unknown fields: a field the server adds, drops or renames fails the test
//! that reads it until these files (and the protocol document) say so. When the server's own
//! protocol types gain `Deserialize`, swap the definitions here for re-exports of those; the
//! tests only name the types through this module.

mod events;
mod frames;
mod rest;

pub use events::*;
pub use frames::*;
pub use rest::*;

use serde::Deserialize;

/// An identity's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Guest,
    User,
}

/// A global role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Mod,
    Admin,
    Root,
}

/// A role inside one persistent room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomRole {
    Owner,
    Admin,
    Member,
    /// A guest in a public room (never a stored member).
    Guest,
}

/// `User`: how an identity appears to others.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub name: String,
    pub kind: Kind,
    pub role: Role,
    pub verified: bool,
    /// The AI companion's account (absent for people).
    #[serde(default)]
    pub bot: bool,
}

/// `{"code", "message", "retry_after"?}`: the error of a failed ack, an `error` event, and REST
/// errors; `retry_after` (seconds) only on refusals that lift by themselves.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub retry_after: Option<u64>,
}

/// A REST error response: `{"error": {"code", "message"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

/// `{}`: the ack of commands that answer nothing.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

// ---- acks ------------------------------------------------------------------------------------

/// `identify`'s ack: the identity, and a session token when a new guest was created.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identified {
    pub user: User,
    pub token: Option<String>,
}

/// `join {"room": "lobby"}`'s ack.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LobbyJoined {
    pub room: String,
    pub members: Vec<User>,
    pub member_count: u64,
    pub members_next: Option<String>,
}

/// The ack of a persistent (or ephemeral) room's `join`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomJoined {
    pub room: Room,
    pub members: Vec<User>,
    pub member_count: u64,
    pub members_next: Option<String>,
    pub messages: Vec<Message>,
    pub more: bool,
    /// The caller's read pointer as the join found it (absent without one).
    #[serde(default)]
    pub last_read_seq: Option<i64>,
}

/// `members`' ack: one page of a room's member list.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembersPage {
    pub room: String,
    pub members: Vec<User>,
    pub count: u64,
    pub next: Option<String>,
}

/// The ack of `edit` and `delete` (and of `PATCH …/messages/{seq}`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Changed {
    pub room: String,
    pub seq: i64,
    #[serde(default)]
    pub edited_at: Option<i64>,
}

/// The ack of `react` and `unreact`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reacted {
    pub room: String,
    pub seq: i64,
    pub emoji: String,
    pub count: i64,
}

/// The ack of a lobby `send` and of a `whisper`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sent {
    pub id: String,
    pub ts: i64,
}

/// A stored message's receipt: a room `send`'s ack and `POST …/messages`' body.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Posted {
    pub id: String,
    pub seq: i64,
    pub ts: i64,
    pub duplicate: bool,
}

/// `history`'s ack and `GET /api/rooms/{slug}/messages`' body.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct History {
    pub room: String,
    pub messages: Vec<Message>,
}

impl History {
    pub fn texts(&self) -> Vec<&str> {
        self.messages.iter().map(|m| m.text.as_str()).collect()
    }

    pub fn seqs(&self) -> Vec<i64> {
        self.messages.iter().filter_map(|m| m.seq).collect()
    }
}

impl RoomJoined {
    pub fn texts(&self) -> Vec<&str> {
        self.messages.iter().map(|m| m.text.as_str()).collect()
    }

    pub fn seqs(&self) -> Vec<i64> {
        self.messages.iter().filter_map(|m| m.seq).collect()
    }
}

// ---- rooms and conversations -------------------------------------------------------------

/// `Room`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Room {
    pub slug: String,
    pub name: String,
    pub topic: Option<String>,
    pub private: bool,
    pub allow_images: bool,
    pub allow_videos: bool,
    pub allow_audio: bool,
    pub allow_files: bool,
    /// `image`, `video`, `audio`, `file`: what the room takes.
    pub accepts: Vec<String>,
    pub ai_mentions: bool,
    pub allow_guests: bool,
    pub slow_mode_secs: i64,
    pub retention_days: Option<i64>,
    pub last_seq: i64,
    pub created_at: i64,
    pub e2e: bool,
    pub epoch: i64,
    pub role: Option<RoomRole>,
}

/// Where a conversation stands for the one looking at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationState {
    Open,
    Pending,
    Invited,
}

/// `Conversation`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conversation {
    pub room: String,
    pub peer: String,
    pub state: ConversationState,
    pub unread: i64,
    pub last_seq: i64,
    pub e2e: bool,
    pub epoch: i64,
}
