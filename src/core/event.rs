//! Events: what the core tells clients. Every framing encodes these (once per broadcast).

use crate::auth::{Identity, IdentityKind};
use crate::domain::{Millis, Role};
use crate::error::ErrorBody;
use crate::rooms::{ConversationView, RoomView};
use serde::{Deserialize, Serialize};

/// How a user appears to others: in member lists, as a message author, as a typist.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub name: String,
    pub kind: IdentityKind,
    pub role: Role,
    /// A moderator verified this account.
    pub verified: bool,
    /// The AI companion's account. Sent only when `true`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bot: bool,
}

impl From<&Identity> for UserView {
    fn from(identity: &Identity) -> Self {
        Self {
            name: identity.name.clone(),
            kind: identity.kind(),
            role: identity.role,
            verified: identity.verified,
            bot: false,
        }
    }
}

/// A chat message as delivered.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MessageEvent {
    pub room: String,
    pub id: String,
    pub ts: Millis,
    pub author: UserView,
    /// Empty in an end-to-end room (see `envelope`).
    pub text: String,
    /// An end-to-end room's message: the envelope only members open (`docs/e2ee.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope: Option<crate::domain::Envelope>,
    /// The message's place in its persistent room (absent in the lobby).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    /// The sender's idempotency id, echoed so the sender can match its own messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    /// A stored message whose body does not decrypt (a damaged row): `text` is empty. Sent only
    /// when `true`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub undecryptable: bool,
    /// The files the message holds (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::files::FileView>,
    /// When its author last edited it (absent: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<Millis>,
    /// A deleted message's tombstone: no text, files, reactions or reply. Sent only when
    /// `true`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// The message this one answers, quoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<crate::rooms::ReplyView>,
    /// Emoji reactions (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<crate::rooms::ReactionView>,
    /// The members it mentions (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// It calls on everyone in the room (`@here`, `@room`). Sent only when `true`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mentions_everyone: bool,
}

/// One server event. Serialized as `{"event": "<name>", "data": {…}}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum Event {
    MemberJoined {
        room: String,
        user: UserView,
    },
    MemberLeft {
        room: String,
        user: UserView,
    },
    /// How many are present in a room too large for a join/leave event per member; sent
    /// every few seconds while the number changes.
    MemberCount {
        room: String,
        count: usize,
    },
    /// (Boxed: the largest event by far, and the one moved most.)
    Message(Box<MessageEvent>),
    /// The room list the account sees changed (a room was created, renamed, deleted, made
    /// public or private, or the account's access to one changed): read `GET /api/rooms`
    /// again. It names no room, so it tells nobody about rooms they may not see.
    RoomsChanged {},
    /// A stored message's author changed its text.
    MessageEdited {
        room: String,
        seq: i64,
        text: String,
        /// An end-to-end room's new envelope (`text` is empty).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        envelope: Option<crate::domain::Envelope>,
        edited_at: Millis,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        mentions: Vec<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        mentions_everyone: bool,
    },
    /// A stored message was deleted; `by` names who, when it was not its author.
    MessageDeleted {
        room: String,
        seq: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// Someone gave (`on`) or took back a reaction; `count` is the emoji's count now.
    Reaction {
        room: String,
        seq: i64,
        emoji: String,
        user: String,
        on: bool,
        count: i64,
    },
    Typing {
        room: String,
        user: UserView,
        active: bool,
    },
    /// A room's settings changed.
    RoomUpdated {
        room: RoomView,
    },
    /// Every message of the room was deleted.
    HistoryCleared {
        room: String,
    },
    /// This connection is no longer in the room (and why).
    RoomRemoved {
        room: String,
        reason: RemovedReason,
    },
    /// To a room's owner and admins: someone asks to join.
    AccessRequested {
        room: String,
        user: String,
    },
    /// To a requester: the answer.
    AccessDecided {
        room: String,
        approved: bool,
    },
    /// To one member: a conversation appeared or changed for them (invited, accepted, or
    /// shown again by a new message).
    ConversationUpdated {
        conversation: ConversationView,
    },
    /// A private message that is not stored (a guest is one of the two). Both the sender's
    /// and the recipient's connections get it.
    Whisper {
        id: String,
        ts: Millis,
        from: UserView,
        to: String,
        text: String,
    },
    /// A moderation notice where the action happened (kick, ban, mute, verify, …).
    Notice {
        room: String,
        text: String,
    },
    /// To a user an admin moved: open this room.
    Moved {
        room: String,
        by: String,
    },
    /// Someone's role or verified badge changed: to the rooms they are in, and to them.
    UserUpdated {
        user: UserView,
    },
    /// An account changed its name (`from` → `user.name`): to the rooms it is in. Its own
    /// connections close instead (`closing: renamed`) and come back under the new name.
    UserRenamed {
        from: String,
        user: UserView,
    },
    /// To every account: an account replaced its end-to-end keys (a new safety number). Clients
    /// that knew the old keys warn before trusting the new ones (`docs/e2ee.md`).
    KeysChanged {
        user: String,
        fingerprint: String,
        safety_number: String,
    },
    /// To the members of an end-to-end room: its keys changed (a new epoch, a member who needs
    /// the key, keys stored). Read `GET /api/rooms/{room}/e2e` again (`docs/e2ee.md`).
    RoomKeys {
        room: String,
        epoch: i64,
    },
    /// To one account's connections: its preferences as now stored (another device changed
    /// them).
    PreferencesChanged(crate::domain::Preferences),
    /// To one account: its premium was granted, extended or revoked (see
    /// `core::service::premium`). `premium_until` is `None` without premium.
    PremiumChanged {
        premium_until: Option<Millis>,
        active: bool,
    },
    /// To one user: the next piece of the AI companion's reply `message_id` in their
    /// conversation `room` with it. The stored reply later carries the same id as its
    /// `client_msg_id`.
    AiDelta {
        room: String,
        message_id: String,
        text: String,
        /// Where the piece starts in the reply, in UTF-16 code units.
        at: usize,
    },
    /// To one user: their request to the companion waits; `position` 1 is next.
    AiQueued {
        room: String,
        message_id: String,
        position: usize,
    },
    /// To one user: their free messages to the companion are spent; the model was not asked.
    AiLimitReached {
        room: String,
        free_messages: u32,
    },
    Error(ErrorBody),
    Closing {
        reason: CloseReason,
        /// Never crosses nodes (a closing is written where the connection is).
        #[serde(skip_deserializing)]
        message: &'static str,
        /// What a moderator gave as the reason (kicks and bans), if anything.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
}

impl Event {
    /// The event's wire name (Socket.IO sends it beside the data).
    pub fn name(&self) -> &'static str {
        match self {
            Event::MemberJoined { .. } => "member_joined",
            Event::MemberLeft { .. } => "member_left",
            Event::MemberCount { .. } => "member_count",
            Event::Message(_) => "message",
            Event::RoomsChanged {} => "rooms_changed",
            Event::MessageEdited { .. } => "message_edited",
            Event::MessageDeleted { .. } => "message_deleted",
            Event::Reaction { .. } => "reaction",
            Event::Typing { .. } => "typing",
            Event::RoomUpdated { .. } => "room_updated",
            Event::HistoryCleared { .. } => "history_cleared",
            Event::RoomRemoved { .. } => "room_removed",
            Event::AccessRequested { .. } => "access_requested",
            Event::AccessDecided { .. } => "access_decided",
            Event::ConversationUpdated { .. } => "conversation_updated",
            Event::Whisper { .. } => "whisper",
            Event::Notice { .. } => "notice",
            Event::UserUpdated { .. } => "user_updated",
            Event::UserRenamed { .. } => "user_renamed",
            Event::PreferencesChanged(_) => "preferences_changed",
            Event::KeysChanged { .. } => "keys_changed",
            Event::RoomKeys { .. } => "room_keys",
            Event::PremiumChanged { .. } => "premium_changed",
            Event::Moved { .. } => "moved",
            Event::AiDelta { .. } => "ai_delta",
            Event::AiQueued { .. } => "ai_queued",
            Event::AiLimitReached { .. } => "ai_limit_reached",
            Event::Error(_) => "error",
            Event::Closing { .. } => "closing",
        }
    }

    /// The case-folded name of who wrote or did this, for events an ignore list filters.
    pub fn author_key(&self) -> Option<String> {
        match self {
            Event::Message(message) => Some(message.author.name.to_ascii_lowercase()),
            Event::Typing { user, .. } => Some(user.name.to_ascii_lowercase()),
            Event::Reaction { user, .. } => Some(user.to_ascii_lowercase()),
            Event::Whisper { from, .. } => Some(from.name.to_ascii_lowercase()),
            Event::ConversationUpdated { conversation } => {
                Some(conversation.peer.to_ascii_lowercase())
            }
            _ => None,
        }
    }

    /// The `{"event", "data"}` envelope as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Only the `data` part as JSON.
    pub fn data_json(&self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut map)) => map
                .remove("data")
                .map(|data| data.to_string())
                .unwrap_or_else(|| "{}".into()),
            _ => "{}".into(),
        }
    }

    pub fn closing(reason: CloseReason) -> Self {
        Self::closing_with(reason, None)
    }

    pub fn closing_with(reason: CloseReason, detail: Option<String>) -> Self {
        Event::Closing {
            reason,
            message: reason.message(),
            detail,
        }
    }
}

/// Why a connection is no longer in a room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovedReason {
    /// The member left (from another tab or through the API).
    Left,
    /// An owner or admin removed them.
    Removed,
    /// An owner or admin banned them from the room.
    Banned,
    /// The room was deleted.
    Deleted,
    /// The ephemeral room's time ran out.
    Expired,
    /// The room stopped admitting guests, and this connection is a guest's.
    GuestsNotAllowed,
}

/// Why the server closes a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    Shutdown,
    SlowConsumer,
    SessionRevoked,
    /// The session expired while the connection was open (it was not renewed in time).
    SessionExpired,
    /// A moderator kicked this identity (it may come back).
    Kicked,
    /// A moderator banned this identity or its address.
    Banned,
    /// The client sent a frame larger than the server accepts.
    FrameTooLarge,
    /// The client sent a text frame that is not UTF-8.
    InvalidText,
    /// The client broke the WebSocket protocol.
    ProtocolError,
    /// The connection did not identify within `identify_timeout_secs`.
    IdentifyTimeout,
    /// The account changed its name: come back (same session) under the new one.
    Renamed,
}

impl CloseReason {
    /// The reason as the `closing` event names it.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Shutdown => "shutdown",
            CloseReason::SlowConsumer => "slow_consumer",
            CloseReason::SessionRevoked => "session_revoked",
            CloseReason::SessionExpired => "session_expired",
            CloseReason::Kicked => "kicked",
            CloseReason::Banned => "banned",
            CloseReason::FrameTooLarge => "frame_too_large",
            CloseReason::InvalidText => "invalid_text",
            CloseReason::ProtocolError => "protocol_error",
            CloseReason::IdentifyTimeout => "identify_timeout",
            CloseReason::Renamed => "renamed",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            CloseReason::Shutdown => "the server is shutting down",
            CloseReason::SlowConsumer => "the connection could not keep up with its events",
            CloseReason::SessionRevoked => "the session was revoked",
            CloseReason::SessionExpired => "the session expired",
            CloseReason::Kicked => "a moderator removed you from the chat",
            CloseReason::Banned => "you are banned from this chat",
            CloseReason::FrameTooLarge => "a frame was larger than the server accepts",
            CloseReason::InvalidText => "a text frame was not valid UTF-8",
            CloseReason::ProtocolError => "the WebSocket protocol was broken",
            CloseReason::IdentifyTimeout => "the connection did not identify in time",
            CloseReason::Renamed => "your name changed; reconnect to carry on under the new one",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialize_as_tagged_envelopes() {
        let event = Event::closing(CloseReason::Shutdown);
        assert_eq!(
            event.to_json(),
            r#"{"event":"closing","data":{"reason":"shutdown","message":"the server is shutting down"}}"#
        );
        assert_eq!(event.name(), "closing");
        use CloseReason::*;
        for reason in [
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
        ] {
            // Metrics label closes with the name clients see.
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
        }
        assert_eq!(
            event.data_json(),
            r#"{"message":"the server is shutting down","reason":"shutdown"}"#
        );
    }
}
