//! Private conversations between two accounts (`pm_open`, `pm_accept`, `pm_decline`,
//! `pm_close`, `read`) and whispers, which are never stored (`whisper`).

use super::{decode_by_shape, Apply, Decode, Done, Limits};
use crate::core::service::Said;
use crate::core::{Chat, Connection, CoreError};
use crate::domain::{MessageText, Name, RoomName};
use crate::rooms::ConversationView;
use serde::Deserialize;
use serde_json::Value;

/// Open (or accept, or show again) a conversation with another account.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenConversation {
    pub user: Name,
}

macro_rules! conversation_ref {
    ($($(#[$doc:meta])* $name:ident),+) => {
        $($(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            pub room: RoomName,
        })+
    };
}

conversation_ref!(
    /// Accept an invitation to a conversation.
    Accept,
    /// Decline an invitation (silently: the other side is not told).
    Decline,
    /// Hide a conversation until its next message.
    Close
);

/// Everything up to `seq` in a room or conversation has been read.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    pub room: RoomName,
    pub seq: i64,
}

/// A private message that is never stored, for when a guest is one of the two.
#[derive(Debug, Clone, PartialEq)]
pub struct Whisper {
    pub to: String,
    pub text: MessageText,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WhisperWire {
    to: String,
    text: String,
}

impl Decode for Whisper {
    fn decode(data: Value, limits: &Limits) -> Result<Self, CoreError> {
        let wire: WhisperWire = super::shape(data)?;
        Ok(Self {
            to: wire.to,
            text: MessageText::parse(&wire.text, limits.max_message_chars)?,
        })
    }
}

decode_by_shape!(OpenConversation, Accept, Decline, Close, MarkRead);

impl Apply for OpenConversation {
    type Reply = ConversationView;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Self::Reply, CoreError> {
        chat.conversations
            .open(conn.identified()?, &self.user)
            .await
    }
}

impl Apply for Accept {
    type Reply = ConversationView;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Self::Reply, CoreError> {
        chat.conversations
            .accept(conn.identified()?, &self.room)
            .await
    }
}

impl Apply for Decline {
    type Reply = Done;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Done, CoreError> {
        chat.conversations
            .decline(conn.identified()?, &self.room)
            .await?;
        Ok(Done {})
    }
}

impl Apply for Close {
    type Reply = Done;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Done, CoreError> {
        chat.conversations
            .close(conn.identified()?, &self.room)
            .await?;
        Ok(Done {})
    }
}

impl Apply for MarkRead {
    type Reply = Done;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Done, CoreError> {
        chat.conversations
            .mark_read(conn.identified()?, &self.room, self.seq)
            .await?;
        Ok(Done {})
    }
}

impl Apply for Whisper {
    type Reply = Said;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Said, CoreError> {
        chat.conversations.whisper(conn, self).await.map(Said::Live)
    }
}
