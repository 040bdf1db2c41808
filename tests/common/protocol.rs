//! The protocol as the tests read it: acks, events and REST bodies deserialized into structs
//! that mirror `docs/protocol.md`, so a mistyped field is a failure instead of a `Null`.
//!
//! Fixed shapes deny unknown fields: a field the server adds, drops or renames fails the test
//! that reads it until this file (and the protocol document) say so. When the server's own
//! protocol types gain `Deserialize`, swap the definitions here for re-exports of those; the
//! tests only name the types through this module.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

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
}

/// `User`: how an identity appears to others.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub name: String,
    pub kind: Kind,
    pub role: Role,
    pub verified: bool,
}

/// `{"code", "message"}`: the error of a failed ack, an `error` event, and REST errors.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
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
    pub slow_mode_secs: i64,
    pub retention_days: Option<i64>,
    pub last_seq: i64,
    pub created_at: i64,
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
}

// ---- events ----------------------------------------------------------------------------------

/// The data of one event kind, known by its wire name.
pub trait EventData: DeserializeOwned + Clone {
    const NAME: &'static str;
    /// This kind's data, if `event` is of this kind.
    fn pick(event: &Event) -> Option<&Self>;
}

macro_rules! events {
    ($($variant:ident($data:ident) = $name:literal,)*) => {
        /// Every server event, as `{"event": "<name>", "data": {…}}`.
        #[derive(Clone, Debug, PartialEq, Deserialize)]
        #[serde(tag = "event", content = "data", deny_unknown_fields)]
        pub enum Event {
            $(#[serde(rename = $name)] $variant($data),)*
        }

        impl Event {
            pub fn name(&self) -> &'static str {
                match self {
                    $(Event::$variant(_) => $name,)*
                }
            }
        }

        $(impl EventData for $data {
            const NAME: &'static str = $name;
            fn pick(event: &Event) -> Option<&Self> {
                match event {
                    Event::$variant(data) => Some(data),
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        })*
    };
}

events! {
    MemberJoined(MemberJoined) = "member_joined",
    MemberLeft(MemberLeft) = "member_left",
    MemberCount(MemberCount) = "member_count",
    Message(Message) = "message",
    Typing(Typing) = "typing",
    RoomUpdated(RoomUpdated) = "room_updated",
    HistoryCleared(HistoryCleared) = "history_cleared",
    RoomRemoved(RoomRemoved) = "room_removed",
    AccessRequested(AccessRequested) = "access_requested",
    AccessDecided(AccessDecided) = "access_decided",
    ConversationUpdated(ConversationUpdated) = "conversation_updated",
    Whisper(Whisper) = "whisper",
    Notice(Notice) = "notice",
    UserUpdated(UserUpdated) = "user_updated",
    Moved(Moved) = "moved",
    Error(ErrorEvent) = "error",
    Closing(Closing) = "closing",
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberJoined {
    pub room: String,
    pub user: User,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberLeft {
    pub room: String,
    pub user: User,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberCount {
    pub room: String,
    pub count: u64,
}

/// `Message`: the `message` event's data, also an entry of a history page.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    pub room: String,
    pub id: String,
    pub ts: i64,
    pub author: User,
    pub text: String,
    #[serde(default)]
    pub seq: Option<i64>,
    #[serde(default)]
    pub client_msg_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Typing {
    pub room: String,
    pub user: User,
    pub active: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomUpdated {
    pub room: Room,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryCleared {
    pub room: String,
}

/// Why a connection is out of a room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovedReason {
    Left,
    Removed,
    Banned,
    Deleted,
    Expired,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomRemoved {
    pub room: String,
    pub reason: RemovedReason,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRequested {
    pub room: String,
    pub user: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessDecided {
    pub room: String,
    pub approved: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationUpdated {
    pub conversation: Conversation,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Whisper {
    pub id: String,
    pub ts: i64,
    pub from: User,
    pub to: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    pub room: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserUpdated {
    pub user: User,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moved {
    pub room: String,
    pub by: String,
}

/// The `error` event: the reply to a frame that had no `ack`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorEvent {
    pub code: String,
    pub message: String,
}

/// Why the server closes a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    Shutdown,
    SlowConsumer,
    SessionRevoked,
    Kicked,
    Banned,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closing {
    pub reason: CloseReason,
    pub message: String,
    #[serde(default)]
    pub detail: Option<String>,
}

// ---- frames ------------------------------------------------------------------------------

/// A native ack frame: `{"ack", "ok": true, "data"}` or `{"ack", "ok": false, "error"}`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ack {
    pub ack: u64,
    pub ok: bool,
    #[serde(default)]
    pub data: Option<Value>,
    #[serde(default)]
    pub error: Option<ErrorBody>,
}

impl Ack {
    /// The data of a successful ack, read as `T`; panics (showing the frame) otherwise.
    pub fn data<T: DeserializeOwned>(&self) -> T {
        assert!(
            self.ok && self.error.is_none(),
            "expected a successful ack: {self:?}"
        );
        let data = self
            .data
            .clone()
            .unwrap_or_else(|| panic!("a successful ack carries data: {self:?}"));
        from_value(data)
    }

    /// The error of a failed ack; panics (showing the frame) if it succeeded.
    pub fn error(&self) -> &ErrorBody {
        assert!(
            !self.ok && self.data.is_none(),
            "expected a failed ack: {self:?}"
        );
        let error = self
            .error
            .as_ref()
            .unwrap_or_else(|| panic!("a failed ack carries an error: {self:?}"));
        assert!(
            !error.message.is_empty(),
            "an error explains itself: {self:?}"
        );
        error
    }

    /// The error code of a failed ack.
    pub fn code(&self) -> &str {
        &self.error().code
    }
}

/// One native frame from the server.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    Ack(Ack),
    Event(Event),
}

impl Frame {
    /// Reads a native frame strictly: an ack or a known event, nothing else.
    pub fn parse(value: Value) -> Frame {
        if value.get("ack").is_some() {
            Frame::Ack(from_value(value))
        } else {
            Frame::Event(from_value(value))
        }
    }

    pub fn event(&self) -> Option<&Event> {
        match self {
            Frame::Event(event) => Some(event),
            Frame::Ack(_) => None,
        }
    }

    /// This frame's data, if it is an event of kind `T`.
    pub fn data<T: EventData>(&self) -> Option<&T> {
        self.event().and_then(T::pick)
    }

    /// Whether this is an event of kind `T` (and `wanted` holds for it).
    pub fn is<T: EventData>(&self) -> bool {
        self.data::<T>().is_some()
    }
}

/// A frame of the simple `/ws` framing.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum SimpleFrame {
    /// `{"status": true}` or `{"status": false, "code"}`: the reply to the sender.
    Status {
        status: bool,
        #[serde(default)]
        code: Option<String>,
    },
    /// `{"message", "author"}`: a lobby message from someone else.
    Message { message: String, author: String },
    /// `{"event": "join" | "leave", "username"}`.
    Presence { event: String, username: String },
}

/// Reads `value` as `T`, failing with the value and the reason when it does not fit.
pub fn from_value<T: DeserializeOwned>(value: Value) -> T {
    match serde_json::from_value(value.clone()) {
        Ok(typed) => typed,
        Err(err) => panic!("{} does not fit {value}: {err}", std::any::type_name::<T>()),
    }
}

// ---- REST bodies ---------------------------------------------------------------------------

/// `Profile`: `GET /api/user/…` and the `user` of a session.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub username: String,
    pub kind: Kind,
    pub role: Role,
    pub online: bool,
    pub created_at: i64,
    #[serde(default)]
    pub email: Option<String>,
}

/// A new session: `POST /api/login`, `/api/guest`, `/api/register` (with a password),
/// `/api/password`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    pub user: Profile,
    pub token: String,
}

/// A key account's registration: `{"key"}`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyAccount {
    pub key: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Online {
    pub online_clients: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ignores {
    pub ignores: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Member,
    Invited,
    Public,
    Requested,
}

/// One entry of `GET /api/rooms`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomListing {
    pub slug: String,
    pub name: String,
    pub topic: Option<String>,
    pub private: bool,
    pub access: Access,
    pub role: Option<RoomRole>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomList {
    pub rooms: Vec<RoomListing>,
}

/// An invite as its room's moderators see it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    pub id: i64,
    pub email: Option<String>,
    pub max_uses: Option<i64>,
    pub uses: i64,
    pub expires_at: i64,
    pub revoked: bool,
    pub created_at: i64,
}

/// `POST /api/rooms/{slug}/invites`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatedInvite {
    pub token: String,
    pub path: String,
    pub invite: Invite,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conversations {
    pub conversations: Vec<Conversation>,
}

/// An ephemeral room as its host sees it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ephemeral {
    pub code: String,
    pub room: String,
    pub active: bool,
    pub expires_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hosted {
    pub rooms: Vec<Ephemeral>,
}

/// `GET /api/ephemeral/{code}`: what someone holding the code sees.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Door {
    pub code: String,
    pub room: String,
    pub active: bool,
    pub expires_at: Option<i64>,
    pub names: Vec<String>,
    pub places_left: i64,
}

/// `Audit`: one audit log entry.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audit {
    pub id: i64,
    pub ts: i64,
    pub actor: String,
    pub identity: Option<String>,
    pub actor_ip: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub room: Option<String>,
    pub detail: Option<String>,
}

/// `GET /api/admin/audit`: a page, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditPage {
    pub entries: Vec<Audit>,
    pub next: Option<i64>,
}

impl AuditPage {
    pub fn ids(&self) -> Vec<i64> {
        self.entries.iter().map(|e| e.id).collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminUser {
    pub name: String,
    pub identity: String,
    pub role: Role,
    pub verified: bool,
    pub online: bool,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminUsers {
    pub users: Vec<AdminUser>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveConnection {
    pub id: u64,
    pub user: Option<User>,
    pub identity: Option<String>,
    pub ip: String,
    pub rooms: Vec<String>,
    pub since: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connections {
    pub connections: Vec<LiveConnection>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    Room,
    Pm,
    Ephemeral,
}

/// An entry of `GET /api/admin/rooms`: a `Room` with its kind and expiry.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminRoom {
    pub slug: String,
    pub name: String,
    pub topic: Option<String>,
    pub private: bool,
    pub allow_images: bool,
    pub allow_videos: bool,
    pub slow_mode_secs: i64,
    pub retention_days: Option<i64>,
    pub last_seq: i64,
    pub created_at: i64,
    pub role: Option<RoomRole>,
    pub kind: RoomKind,
    pub expires_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminRooms {
    pub rooms: Vec<AdminRoom>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptLine {
    pub seq: i64,
    pub ts: i64,
    pub author: String,
    pub text: String,
}

/// `GET /api/admin/rooms/{slug}/messages`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transcript {
    pub room: String,
    pub messages: Vec<TranscriptLine>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedTranscript {
    pub code: String,
    pub participants: Vec<String>,
    pub messages: Vec<TranscriptLine>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Archive {
    pub id: i64,
    pub code: String,
    pub host_id: i64,
    pub messages: i64,
    pub created_at: i64,
    pub expired_at: i64,
    pub transcript: SealedTranscript,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Archives {
    pub archives: Vec<Archive>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomMember {
    pub name: String,
    pub role: RoomRole,
    pub joined_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomMembers {
    pub members: Vec<RoomMember>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Health {
    pub status: String,
    pub database: String,
}

/// `{"ok": true}` (logout).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OkBody {
    pub ok: bool,
}
