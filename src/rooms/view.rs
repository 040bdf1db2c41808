//! What the room service hands out: rooms as a caller sees them, and decrypted messages.

use super::Room;
use crate::domain::{Millis, RoomRole};
use crate::store::{InviteRow, ListedRoom, MemberRow, OwnRequestRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A room with its settings, as its members see it.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct RoomView {
    pub slug: String,
    pub name: String,
    pub topic: Option<String>,
    pub private: bool,
    pub allow_images: bool,
    pub allow_videos: bool,
    pub allow_audio: bool,
    /// Any other file: documents, archives, …
    pub allow_files: bool,
    /// The kinds of attachment the room takes (`image`, `video`, `audio`, `file`), from the
    /// four flags above and what the server accepts at all.
    pub accepts: Vec<crate::files::Category>,
    /// The AI companion (when the server has one) answers messages that mention it by name,
    /// reading the room's recent messages for context. Off by default.
    pub ai_mentions: bool,
    /// Guests (no account) may join this public room, when the server lets guests into
    /// rooms (`guests_in_rooms`). On by default.
    pub allow_guests: bool,
    /// Seconds a member waits between messages (0: off). Owners and admins are exempt.
    pub slow_mode_secs: i64,
    /// Messages older than this many days are deleted (none: kept).
    pub retention_days: Option<i64>,
    /// The sequence number of the latest message.
    pub last_seq: i64,
    pub created_at: Millis,
    /// Messages are end-to-end encrypted (see `docs/e2ee.md`); chosen at creation.
    pub e2e: bool,
    /// The current key epoch of an end-to-end room (0 in a server-side room).
    pub epoch: i64,
    /// The caller's role, if a member (`guest`: a guest in a public room, not stored as a
    /// member).
    #[schema(value_type = Option<String>, example = "member")]
    pub role: Option<RoomRole>,
}

impl RoomView {
    pub fn of(room: &Room, role: Option<RoomRole>) -> Self {
        Self {
            slug: room.slug.clone(),
            name: room.name.clone(),
            topic: room.topic.clone(),
            private: room.private,
            allow_images: room.allow_images,
            allow_videos: room.allow_videos,
            allow_audio: room.allow_audio,
            allow_files: room.allow_files,
            accepts: crate::files::policy::accepts(room),
            ai_mentions: room.ai_mentions,
            allow_guests: room.allow_guests,
            slow_mode_secs: room.slow_mode_secs,
            retention_days: room.retention_days,
            last_seq: room.last_seq,
            created_at: room.created_at,
            e2e: room.e2e,
            epoch: room.epoch,
            role,
        }
    }
}

/// The caller's relation to a listed room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// A member (see `role`).
    Member,
    /// An invite bound to the caller's e-mail waits to be used.
    Invited,
    /// A public room the caller can join.
    Public,
}

/// One entry of the room list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RoomListing {
    pub slug: String,
    pub name: String,
    /// Shown to members and for public rooms only.
    pub topic: Option<String>,
    pub private: bool,
    pub access: Access,
    #[schema(value_type = Option<String>, example = "owner")]
    pub role: Option<RoomRole>,
    /// Others' messages above the caller's read pointer (members; 0 otherwise).
    pub unread: i64,
    /// Of those, how many mention the caller (or everyone).
    pub mentions: i64,
}

impl From<ListedRoom> for RoomListing {
    fn from(listed: ListedRoom) -> Self {
        let role = listed.role.as_deref().and_then(|r| r.parse().ok());
        let access = match (role, listed.invited > 0) {
            (Some(_), _) => Access::Member,
            (None, true) => Access::Invited,
            (None, false) => Access::Public,
        };
        let topic_visible = role.is_some() || listed.room.private == 0;
        Self {
            slug: listed.room.slug,
            name: listed.room.name,
            topic: listed.room.topic.filter(|_| topic_visible),
            private: listed.room.private != 0,
            access,
            role,
            unread: listed.unread,
            mentions: listed.mentions,
        }
    }
}

/// A member of a room.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub name: String,
    #[schema(value_type = String, example = "member")]
    pub role: RoomRole,
    pub joined_at: Millis,
}

impl From<MemberRow> for MemberView {
    fn from(row: MemberRow) -> Self {
        Self {
            role: row.role.parse().unwrap_or(RoomRole::Member),
            name: row.name,
            joined_at: row.joined_at,
        }
    }
}

/// An invite as its room's moderators see it (never with its token).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct InviteView {
    pub id: i64,
    pub email: Option<String>,
    pub max_uses: Option<i64>,
    pub uses: i64,
    pub expires_at: Millis,
    pub revoked: bool,
    pub created_at: Millis,
}

impl From<InviteRow> for InviteView {
    fn from(row: InviteRow) -> Self {
        Self {
            id: row.id,
            email: row.email_key,
            max_uses: row.max_uses,
            uses: row.uses,
            expires_at: row.expires_at,
            revoked: row.revoked != 0,
            created_at: row.created_at,
        }
    }
}

/// A pending access request, as the room's owner and admins see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RequestView {
    pub name: String,
    pub created_at: Millis,
}

/// One of the caller's own access requests: only the address they asked for and when, the
/// same whether a private room or nothing holds that address.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OwnRequest {
    pub slug: String,
    pub created_at: Millis,
    /// When it lapses unless approved first.
    pub expires_at: Millis,
}

impl From<OwnRequestRow> for OwnRequest {
    fn from(row: OwnRequestRow) -> Self {
        Self {
            slug: row.slug,
            created_at: row.created_at,
            expires_at: row.expires_at,
        }
    }
}

/// A stored message, decrypted.
#[derive(Clone, Debug)]
pub struct PlainMessage {
    pub id: i64,
    /// An account's id; negative: a guest's id, negated.
    pub author_id: i64,
    pub seq: i64,
    pub author_name: String,
    pub author_role: String,
    pub client_msg_id: Option<String>,
    /// Empty when the stored body does not decrypt, and in an end-to-end room.
    pub text: String,
    /// An end-to-end room's message: the envelope only its members open.
    pub envelope: Option<crate::domain::Envelope>,
    /// The stored body does not decrypt (a tampered or damaged row): there is no text.
    pub undecryptable: bool,
    pub created_at: Millis,
    /// The files the message holds.
    pub attachments: Vec<crate::files::FileView>,
    /// When the author last edited the text.
    pub edited_at: Option<Millis>,
    /// Deleted: a tombstone with no text, files, reactions or reply.
    pub deleted: bool,
    /// The sequence number of the message this one answers.
    pub reply_seq: Option<i64>,
    /// The message this one answers, quoted (filled in with the page).
    pub reply_to: Option<ReplyView>,
    /// Emoji reactions, in the order they were first given.
    pub reactions: Vec<ReactionView>,
    /// The members the message mentions, by their names.
    pub mentions: Vec<String>,
    /// The message calls on everyone in the room (`@here`, `@room`).
    pub mentions_everyone: bool,
}

/// Longest quote of the original a reply carries, in characters.
pub const REPLY_SNIPPET_CHARS: usize = 140;

/// The message a reply answers, as the reply shows it: enough to quote it and jump to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReplyView {
    pub seq: i64,
    pub author: String,
    /// The start of the original's text (at most 140 characters); empty when it was deleted.
    pub text: String,
    /// The original was deleted (or is no longer stored). Sent only when `true`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// Most names a reaction lists (its `count` is exact).
pub const REACTION_NAMES: usize = 50;

/// One emoji's reactions to a message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReactionView {
    pub emoji: String,
    pub count: i64,
    /// Who reacted, earliest first (at most 50 names).
    pub users: Vec<String>,
}

/// Where a conversation stands for the one looking at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConversationState {
    /// Both have accepted: messages flow.
    Open,
    /// The caller opened it; the peer has not accepted yet.
    Pending,
    /// The peer opened it; the caller may accept or decline.
    Invited,
}

/// A private conversation as one of its two members sees it.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct ConversationView {
    /// Its wire name (`pm:<id>:<id>`), used as `room` in every command and endpoint.
    pub room: String,
    /// The other member.
    pub peer: String,
    pub state: ConversationState,
    /// Stored messages from the peer the caller has not marked read.
    pub unread: i64,
    pub last_seq: i64,
    /// End-to-end encrypted (see `docs/e2ee.md`): decided when it was first opened.
    pub e2e: bool,
    /// The current key epoch (0 when not end-to-end).
    pub epoch: i64,
}

/// An ephemeral 1-on-1 room as its host sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EphemeralView {
    /// The code to share.
    pub code: String,
    /// Its wire name (`e:<CODE>`).
    pub room: String,
    /// Whether the host has started its timer (nobody can join before).
    pub active: bool,
    pub expires_at: Option<Millis>,
    pub created_at: Millis,
}

impl EphemeralView {
    pub fn of(room: &Room) -> Self {
        Self {
            code: room.slug.trim_start_matches("e:").to_owned(),
            room: room.slug.clone(),
            active: room.expires_at.is_some(),
            expires_at: room.expires_at,
            created_at: room.created_at,
        }
    }
}

/// What someone holding a code may learn before joining: whether it is open, and display
/// names to pick from.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EphemeralDoor {
    pub code: String,
    pub room: String,
    pub active: bool,
    pub expires_at: Option<Millis>,
    /// Free display names to join under.
    pub names: Vec<String>,
    /// Devices that may still join (0: locked to two others; a device already admitted may
    /// always come back).
    pub places_left: i64,
}

/// The sealed transcript of an expired ephemeral room, opened.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct Transcript {
    pub code: String,
    pub participants: Vec<String>,
    pub messages: Vec<TranscriptLine>,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct TranscriptLine {
    pub seq: i64,
    pub ts: Millis,
    pub author: String,
    pub text: String,
    /// The message did not decrypt when the room was archived: there is no text.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub undecryptable: bool,
    /// The files the message held. They are deleted when the room expires; the archive keeps
    /// what they were.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<ArchivedFile>,
}

/// What an archived message's file was (the file itself is gone).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ArchivedFile {
    pub name: String,
    pub mime: String,
    pub size: i64,
}

/// An archive with its transcript opened.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ArchiveView {
    pub id: i64,
    pub code: String,
    pub host_id: i64,
    pub messages: i64,
    pub created_at: Millis,
    pub expired_at: Millis,
    pub transcript: Transcript,
}
