//! Server events: `{"event": "<name>", "data": {…}}`, one struct per kind.

use super::{Conversation, Preferences, Room, User};
use serde::de::DeserializeOwned;
use serde::Deserialize;

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
    RoomsChanged(RoomsChanged) = "rooms_changed",
    MessageEdited(MessageEdited) = "message_edited",
    MessageDeleted(MessageDeleted) = "message_deleted",
    Reaction(Reaction) = "reaction",
    Typing(Typing) = "typing",
    RoomUpdated(RoomUpdated) = "room_updated",
    HistoryCleared(HistoryCleared) = "history_cleared",
    RoomRemoved(RoomRemoved) = "room_removed",
    AccessRequested(AccessRequested) = "access_requested",
    AccessDecided(AccessDecided) = "access_decided",
    ConversationUpdated(ConversationUpdated) = "conversation_updated",
    Whisper(Whisper) = "whisper",
    UserRenamed(UserRenamed) = "user_renamed",
    KeysChanged(KeysChanged) = "keys_changed",
    RoomKeys(RoomKeys) = "room_keys",
    PreferencesChanged(Preferences) = "preferences_changed",
    Notice(Notice) = "notice",
    UserUpdated(UserUpdated) = "user_updated",
    PremiumChanged(PremiumChanged) = "premium_changed",
    Moved(Moved) = "moved",
    AiDelta(AiDelta) = "ai_delta",
    AiQueued(AiQueued) = "ai_queued",
    AiLimitReached(AiLimitReached) = "ai_limit_reached",
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
    /// An end-to-end room's message (`text` empty).
    #[serde(default)]
    pub envelope: Option<serde_json::Value>,
    #[serde(default)]
    pub seq: Option<i64>,
    #[serde(default)]
    pub client_msg_id: Option<String>,
    /// Present (`true`) only on a stored message that no longer decrypts; `text` is empty.
    #[serde(default)]
    pub undecryptable: bool,
    /// The files the message holds (absent when none).
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    #[serde(default)]
    pub edited_at: Option<i64>,
    /// A deleted message's tombstone (`text` empty).
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub reply_to: Option<ReplyTo>,
    #[serde(default)]
    pub reactions: Vec<Reactions>,
    #[serde(default)]
    pub mentions: Vec<String>,
    #[serde(default)]
    pub mentions_everyone: bool,
}

/// The message a reply answers, quoted.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyTo {
    pub seq: i64,
    pub author: String,
    pub text: String,
    #[serde(default)]
    pub deleted: bool,
}

/// One emoji's reactions to a message.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reactions {
    pub emoji: String,
    pub count: i64,
    pub users: Vec<String>,
}

/// `rooms_changed`: read the room list again (it names no room).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomsChanged {}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageEdited {
    pub room: String,
    pub seq: i64,
    pub text: String,
    #[serde(default)]
    pub envelope: Option<serde_json::Value>,
    pub edited_at: i64,
    #[serde(default)]
    pub mentions: Vec<String>,
    #[serde(default)]
    pub mentions_everyone: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageDeleted {
    pub room: String,
    pub seq: i64,
    #[serde(default)]
    pub by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reaction {
    pub room: String,
    pub seq: i64,
    pub emoji: String,
    pub user: String,
    pub on: bool,
    pub count: i64,
}

/// A file as uploads answer it and messages carry it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    pub id: String,
    pub name: String,
    pub size: i64,
    pub mime: String,
    pub kind: String,
    #[serde(default)]
    pub width: Option<i64>,
    #[serde(default)]
    pub height: Option<i64>,
    #[serde(default)]
    pub duration_ms: Option<i64>,
    pub thumbnail: bool,
    pub url: String,
    #[serde(default)]
    pub thumbnail_url: Option<String>,
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
    GuestsNotAllowed,
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

/// `room_keys`: an end-to-end room's keys changed; read them again.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomKeys {
    pub room: String,
    pub epoch: i64,
}

/// `keys_changed`: an account replaced its end-to-end keys.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysChanged {
    pub user: String,
    pub fingerprint: String,
    pub safety_number: String,
}

/// `user_renamed`: an account took a new name (`from` → `user.name`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRenamed {
    pub from: String,
    pub user: User,
}

/// `premium_changed`: the account's own premium, after an admin or a payment changed it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PremiumChanged {
    pub premium_until: Option<i64>,
    pub active: bool,
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
    #[serde(default)]
    pub retry_after: Option<u64>,
}

/// Why the server closes a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    Shutdown,
    SlowConsumer,
    SessionRevoked,
    SessionExpired,
    Kicked,
    Banned,
    FrameTooLarge,
    InvalidText,
    ProtocolError,
    IdentifyTimeout,
    Renamed,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closing {
    pub reason: CloseReason,
    pub message: String,
    #[serde(default)]
    pub detail: Option<String>,
}

/// A piece of the AI companion's reply `message_id` (the stored reply's `client_msg_id`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiDelta {
    pub room: String,
    pub message_id: String,
    pub text: String,
    pub at: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiQueued {
    pub room: String,
    pub message_id: String,
    pub position: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiLimitReached {
    pub room: String,
    pub free_messages: u32,
}
