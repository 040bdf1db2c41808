//! Changing stored messages: `edit`, `delete`, `react` and `unreact`. Each names a message by
//! its room and sequence number; the lobby keeps nothing to change, so naming it is a payload
//! error here, at the edge, like a sequence number below 1 or a reaction that is no emoji.

use super::{Apply, Decode, Limits};
use crate::core::service::{Changed, Reacted};
use crate::core::{Chat, Connection, CoreError};
use crate::domain::{is_reaction_emoji, Content, MessageText, RoomName};
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

/// Replace the text (an end-to-end room: the envelope) of one's own message.
#[derive(Debug, Clone, PartialEq)]
pub struct EditMessage {
    pub message: MessageRef,
    pub content: Content,
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
    fn decode(mut data: Value, limits: &Limits) -> Result<Self, CoreError> {
        // An end-to-end edit carries an envelope instead of text.
        let envelope = data.as_object_mut().and_then(|d| d.remove("envelope"));
        if let Some(envelope) = envelope {
            let (message, text) = wire(data, None)?;
            if text.is_some() {
                return Err(CoreError::InvalidPayload(
                    "text and envelope: an end-to-end edit carries its words in the envelope"
                        .into(),
                ));
            }
            let envelope = serde_json::from_value(envelope)
                .map_err(|err| CoreError::InvalidPayload(format!("envelope: {err}")))?;
            return Ok(Self {
                message,
                content: Content::Envelope(envelope),
            });
        }
        let (message, text) = wire(data, Some("text"))?;
        let text = MessageText::parse(&text.unwrap_or_default(), limits.max_message_chars)?;
        Ok(Self {
            message,
            content: Content::Text(text),
        })
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
        chat.changes
            .edit(identity, &self.message, &self.content)
            .await
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
    use super::{Content, MessageText};
    use crate::core::CoreError;
    use serde_json::json;

    const LIMITS: Limits = Limits {
        max_message_chars: 10,
    };

    #[test]
    fn an_end_to_end_edit_carries_an_envelope_never_beside_text() {
        let envelope = json!({"v": 1, "epoch": 1, "nonce": "AAAAAAAAAAAAAAAA",
            "ciphertext": "AAAAAAAAAAAAAAAAAAAAAA==", "signature": "A".repeat(86) + "=="});
        let Ok(Command::Edit(edit)) = Command::parse(
            "edit",
            json!({"room": "r1", "seq": 3, "envelope": envelope}),
            &LIMITS,
        ) else {
            panic!("an end-to-end edit");
        };
        assert!(matches!(edit.content, Content::Envelope(ref e) if e.epoch == 1));
        for bad in [
            json!({"room": "r1", "seq": 3, "envelope": envelope, "text": "x"}),
            json!({"room": "r1", "seq": 3, "envelope": {"v": 1}}),
        ] {
            assert!(matches!(
                Command::parse("edit", bad, &LIMITS),
                Err(CoreError::InvalidPayload(_))
            ));
        }
    }

    #[test]
    fn message_changes_decode_into_typed_values() {
        let Ok(Command::Edit(edit)) = Command::parse(
            "edit",
            json!({"room": "r1", "seq": 3, "text": " hi "}),
            &LIMITS,
        ) else {
            panic!("an edit");
        };
        assert_eq!(edit.message.seq, 3);
        assert_eq!(
            edit.content,
            Content::Text(MessageText::parse("hi", 10).unwrap())
        );
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
