//! Changing stored messages: `edit`, `delete`, `react` and `unreact`. Each names a message by
//! its room and sequence number; the lobby keeps nothing to change, so naming it is a payload
//! error here, at the edge, like a sequence number below 1 or a reaction that is no emoji.

use super::{Apply, Decode, Limits};
use crate::core::service::{Changed, Reacted};
use crate::core::{Chat, Connection, CoreError};
use crate::domain::{is_reaction_emoji, MessageText, RoomName};
use serde::Deserialize;
use serde_json::Value;

/// A stored message: its room (not the lobby) and its sequence number there.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRef {
    pub room: RoomName,
    pub seq: i64,
}

impl MessageRef {
    pub fn parse(room: RoomName, seq: i64) -> Result<Self, CoreError> {
        if room.is_lobby() {
            return Err(CoreError::InvalidPayload(
                "room: the lobby is not stored; its messages cannot be changed".into(),
            ));
        }
        if seq < 1 {
            return Err(CoreError::InvalidPayload(
                "seq: a message's sequence number (1 or more)".into(),
            ));
        }
        Ok(Self { room, seq })
    }
}

/// Replace the text of one's own message.
#[derive(Debug, Clone, PartialEq)]
pub struct EditMessage {
    pub message: MessageRef,
    pub text: MessageText,
}

/// Delete a message (one's own; others' for room owners and admins, and staff).
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteMessage {
    pub message: MessageRef,
}

/// Give (`react`) or take back (`unreact`) an emoji reaction.
#[derive(Debug, Clone, PartialEq)]
pub struct React {
    pub message: MessageRef,
    pub emoji: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    room: RoomName,
    seq: i64,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    emoji: Option<String>,
}

fn wire(data: Value, field: Option<&str>) -> Result<(MessageRef, Option<String>), CoreError> {
    let wire: Wire = super::shape(data)?;
    let (value, other) = match field {
        Some("text") => (wire.text, wire.emoji.map(|_| "emoji")),
        Some(_) => (wire.emoji, wire.text.map(|_| "text")),
        None => (
            None,
            wire.text.map(|_| "text").or(wire.emoji.map(|_| "emoji")),
        ),
    };
    if let Some(other) = other {
        return Err(CoreError::InvalidPayload(format!(
            "unknown field `{other}`"
        )));
    }
    if let (Some(field), None) = (field, &value) {
        return Err(CoreError::InvalidPayload(format!(
            "missing field `{field}`"
        )));
    }
    Ok((MessageRef::parse(wire.room, wire.seq)?, value))
}

impl Decode for EditMessage {
    fn decode(data: Value, limits: &Limits) -> Result<Self, CoreError> {
        let (message, text) = wire(data, Some("text"))?;
        let text = MessageText::parse(&text.unwrap_or_default(), limits.max_message_chars)?;
        Ok(Self { message, text })
    }
}

impl Decode for DeleteMessage {
    fn decode(data: Value, _: &Limits) -> Result<Self, CoreError> {
        let (message, _) = wire(data, None)?;
        Ok(Self { message })
    }
}

impl Decode for React {
    fn decode(data: Value, _: &Limits) -> Result<Self, CoreError> {
        let (message, emoji) = wire(data, Some("emoji"))?;
        let emoji = emoji.unwrap_or_default();
        if !is_reaction_emoji(&emoji) {
            return Err(CoreError::InvalidPayload(
                "emoji: 1 to 8 characters of emoji, no letters, digits or spaces".into(),
            ));
        }
        Ok(Self { message, emoji })
    }
}

impl Apply for EditMessage {
    type Reply = Changed;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Changed, CoreError> {
        let identity = conn.identified()?;
        chat.changes.edit(identity, &self.message, &self.text).await
    }
}

impl Apply for DeleteMessage {
    type Reply = Changed;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Changed, CoreError> {
        let identity = conn.identified()?;
        chat.changes
            .delete(identity, conn.ip(), &self.message)
            .await
    }
}

/// `react`.
#[derive(Debug, Clone, PartialEq)]
pub struct Give(pub React);

/// `unreact`.
#[derive(Debug, Clone, PartialEq)]
pub struct TakeBack(pub React);

impl Decode for Give {
    fn decode(data: Value, limits: &Limits) -> Result<Self, CoreError> {
        React::decode(data, limits).map(Self)
    }
}

impl Decode for TakeBack {
    fn decode(data: Value, limits: &Limits) -> Result<Self, CoreError> {
        React::decode(data, limits).map(Self)
    }
}

impl Apply for Give {
    type Reply = Reacted;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Reacted, CoreError> {
        let identity = conn.identified()?;
        chat.changes.react(identity, &self.0, true).await
    }
}

impl Apply for TakeBack {
    type Reply = Reacted;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Reacted, CoreError> {
        let identity = conn.identified()?;
        chat.changes.react(identity, &self.0, false).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Command, Limits};
    use crate::core::CoreError;
    use serde_json::json;

    const LIMITS: Limits = Limits {
        max_message_chars: 10,
    };

    #[test]
    fn message_changes_decode_into_typed_values() {
        let Ok(Command::Edit(edit)) = Command::parse(
            "edit",
            json!({"room": "r1", "seq": 3, "text": " hi "}),
            &LIMITS,
        ) else {
            panic!("an edit");
        };
        assert_eq!((edit.message.seq, edit.text.as_str()), (3, "hi"));
        assert!(matches!(
            Command::parse(
                "react",
                json!({"room": "r1", "seq": 1, "emoji": "👍"}),
                &LIMITS
            ),
            Ok(Command::React(_))
        ));
        assert!(matches!(
            Command::parse("delete", json!({"room": "r1", "seq": 1}), &LIMITS),
            Ok(Command::Delete(_))
        ));
    }

    #[test]
    fn the_lobby_bad_numbers_and_words_are_refused_at_the_edge() {
        for (name, data) in [
            ("edit", json!({"room": "lobby", "seq": 1, "text": "x"})),
            ("edit", json!({"room": "r1", "seq": 0, "text": "x"})),
            ("edit", json!({"room": "r1", "seq": 1})),
            (
                "edit",
                json!({"room": "r1", "seq": 1, "text": "x", "emoji": "👍"}),
            ),
            ("delete", json!({"room": "r1", "seq": -4})),
            ("delete", json!({"room": "r1", "seq": 1, "text": "x"})),
            ("react", json!({"room": "r1", "seq": 1, "emoji": "ok"})),
            (
                "react",
                json!({"room": "r1", "seq": 1, "emoji": "<img src=x>"}),
            ),
            ("unreact", json!({"room": "r1", "seq": 1})),
            ("react", json!({"room": "r1", "seq": "1", "emoji": "👍"})),
        ] {
            assert!(
                matches!(
                    Command::parse(name, data.clone(), &LIMITS),
                    Err(CoreError::InvalidPayload(_))
                ),
                "{name} {data}"
            );
        }
        assert!(matches!(
            Command::parse(
                "edit",
                json!({"room": "r1", "seq": 1, "text": "x".repeat(11)}),
                &LIMITS
            ),
            Err(CoreError::Message(_))
        ));
    }
}
