//! Saying something: `send` (in any room) and `typing`.

use super::{decode_by_shape, Apply, Decode, Done, Limits};
use crate::core::service::Said;
use crate::core::{Chat, Connection, CoreError};
use crate::domain::{ClientMsgId, Envelope, FileId, MessageText, RoomName, MAX_ATTACHMENTS};
use crate::rooms::RoomError;
use serde::Deserialize;
use serde_json::Value;

/// Send a message; in stored rooms a `client_msg_id` makes retries safe. A message holds
/// text, attachments (ids of the sender's uploads for this room), or both.
#[derive(Debug, Clone, PartialEq)]
pub struct SendMessage {
    pub room: RoomName,
    pub text: Option<MessageText>,
    /// An end-to-end room's message, in place of `text` (see `docs/e2ee.md`).
    pub envelope: Option<Envelope>,
    pub client_msg_id: Option<ClientMsgId>,
    pub attachments: Vec<FileId>,
    /// The sequence number of the message this one answers (stored rooms).
    pub reply_to: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendWire {
    room: RoomName,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    envelope: Option<Envelope>,
    #[serde(default)]
    client_msg_id: Option<ClientMsgId>,
    #[serde(default)]
    attachments: Vec<FileId>,
    #[serde(default)]
    reply_to: Option<i64>,
}

impl Decode for SendMessage {
    fn decode(data: Value, limits: &Limits) -> Result<Self, CoreError> {
        let wire: SendWire = super::shape(data)?;
        let send = Self::parse(
            wire.room,
            wire.text,
            wire.envelope,
            wire.client_msg_id,
            wire.attachments,
            limits,
        )?;
        send.replying_to(wire.reply_to)
    }
}

impl SendMessage {
    /// Checks the parts together: at most [`MAX_ATTACHMENTS`] distinct attachments, and text
    /// unless there is an attachment (blank text beside attachments counts as none) or an
    /// end-to-end envelope (never beside text, never in the lobby).
    pub fn parse(
        room: RoomName,
        text: Option<String>,
        envelope: Option<Envelope>,
        client_msg_id: Option<ClientMsgId>,
        attachments: Vec<FileId>,
        limits: &Limits,
    ) -> Result<Self, CoreError> {
        if attachments.len() > MAX_ATTACHMENTS {
            return Err(CoreError::InvalidPayload(format!(
                "attachments: at most {MAX_ATTACHMENTS}"
            )));
        }
        let distinct: std::collections::HashSet<&str> =
            attachments.iter().map(FileId::as_str).collect();
        if distinct.len() != attachments.len() {
            return Err(CoreError::InvalidPayload(
                "attachments: the same file twice".into(),
            ));
        }
        if envelope.is_some() {
            if room.is_lobby() {
                return Err(RoomError::NotE2e.into());
            }
            if text.is_some() {
                return Err(CoreError::InvalidPayload(
                    "text and envelope: an end-to-end message carries its words in the envelope"
                        .into(),
                ));
            }
            return Ok(Self {
                room,
                text: None,
                envelope,
                client_msg_id,
                attachments,
                reply_to: None,
            });
        }
        let text = match text {
            Some(text) if attachments.is_empty() || !text.trim().is_empty() => {
                Some(MessageText::parse(&text, limits.max_message_chars)?)
            }
            None if attachments.is_empty() => Some(MessageText::parse("", 1)?),
            _ => None,
        };
        Ok(Self {
            room,
            text,
            envelope: None,
            client_msg_id,
            attachments,
            reply_to: None,
        })
    }

    /// Makes the message a reply to message `seq` of its room: a stored room's positive
    /// sequence number (the lobby keeps nothing to answer).
    pub fn replying_to(mut self, seq: Option<i64>) -> Result<Self, CoreError> {
        match seq {
            Some(_) if self.room.is_lobby() => Err(CoreError::InvalidPayload(
                "reply_to: the lobby is not stored; replies are for stored rooms".into(),
            )),
            Some(seq) if seq < 1 => Err(CoreError::InvalidPayload(
                "reply_to: a message's sequence number (1 or more)".into(),
            )),
            seq => {
                self.reply_to = seq;
                Ok(self)
            }
        }
    }
}

/// Tell a room one is typing (`active`) or stopped.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Typing {
    pub room: RoomName,
    pub active: bool,
}

decode_by_shape!(Typing);

impl Apply for SendMessage {
    type Reply = Said;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Said, CoreError> {
        if self.room.is_lobby() {
            let said = chat.lobby.admit(conn, &self)?;
            let identity = conn.identified()?;
            let attachments = chat
                .files
                .take_for_lobby(identity, &self.attachments)
                .await?;
            chat.lobby
                .send(conn, self, said, attachments)
                .map(Said::Live)
        } else {
            let identity = conn.identified()?;
            let posted = chat.rooms.post(identity, conn.ip(), self).await?;
            Ok(Said::Stored(posted))
        }
    }
}

impl Apply for Typing {
    type Reply = Done;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Done, CoreError> {
        chat.lobby.typing(conn, self)?;
        Ok(Done {})
    }
}
