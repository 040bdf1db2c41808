//! Saying something: `send` (in any room) and `typing`.

use super::{decode_by_shape, Apply, Decode, Done, Limits};
use crate::core::service::Said;
use crate::core::{Chat, Connection, CoreError};
use crate::domain::{ClientMsgId, MessageText, RoomName};
use serde::Deserialize;
use serde_json::Value;

/// Send a message; in stored rooms a `client_msg_id` makes retries safe.
#[derive(Debug, Clone, PartialEq)]
pub struct SendMessage {
    pub room: RoomName,
    pub text: MessageText,
    pub client_msg_id: Option<ClientMsgId>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendWire {
    room: RoomName,
    text: String,
    #[serde(default)]
    client_msg_id: Option<ClientMsgId>,
}

impl Decode for SendMessage {
    fn decode(data: Value, limits: &Limits) -> Result<Self, CoreError> {
        let wire: SendWire = super::shape(data)?;
        Ok(Self {
            room: wire.room,
            text: MessageText::parse(&wire.text, limits.max_message_chars)?,
            client_msg_id: wire.client_msg_id,
        })
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
            chat.lobby.send(conn, self).map(Said::Live)
        } else {
            let identity = conn.identified()?;
            let posted = chat
                .rooms
                .post(
                    identity,
                    conn.ip(),
                    self.room.as_str(),
                    self.text,
                    self.client_msg_id,
                )
                .await?;
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
