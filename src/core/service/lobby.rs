//! The lobby, and talk that is never stored. The lobby is the one public room that lives in
//! memory only: joining shows who is there, messages go out to whoever is present and are
//! gone. Typing notices work the same way in every room.

use super::{Presence, Speech, Utterance};
use crate::core::command::{SendMessage, Typing};
use crate::core::event::{Event, MessageEvent, UserView};
use crate::core::{Broadcast, Bus, Connection, CoreError};
use crate::domain::{MessageText, RoomName};
use crate::files::FileView;
use crate::metrics::MessageKind;
use serde::Serialize;
use std::sync::Arc;

/// The reply to joining the lobby: the first page of who is there.
#[derive(Debug, Serialize)]
pub struct LobbyJoined {
    pub room: RoomName,
    pub members: Vec<UserView>,
    pub member_count: usize,
    pub members_next: Option<String>,
}

pub struct Lobby {
    presence: Presence,
    bus: Arc<dyn Bus>,
    speech: Speech,
}

impl Lobby {
    pub fn new(presence: Presence, bus: Arc<dyn Bus>, speech: Speech) -> Self {
        Self {
            presence,
            bus,
            speech,
        }
    }

    pub fn join(&self, conn: &mut Connection) -> Result<LobbyJoined, CoreError> {
        let room = RoomName::lobby();
        let page = self.presence.enter(conn, room.as_str())?;
        Ok(LobbyJoined {
            room,
            members: page.members,
            member_count: page.count,
            members_next: page.next,
        })
    }

    /// A lobby message may be said on this connection now (it is in the lobby, not muted,
    /// within its rate): its id and time. Its attachments are taken after this, so a refused
    /// message leaves its uploads pending.
    pub fn admit(&self, conn: &Connection, send: &SendMessage) -> Result<Utterance, CoreError> {
        let identity = conn.identified()?;
        if !conn.rooms.contains(send.room.as_str()) {
            return Err(CoreError::NotInRoom);
        }
        self.speech
            .utter(identity, conn.ip(), send.room.as_str(), MessageKind::Lobby)
    }

    /// A lobby message [`admit`](Self::admit)ted: to everyone present, stored nowhere.
    pub fn send(
        &self,
        conn: &Connection,
        send: SendMessage,
        said: Utterance,
        attachments: Vec<FileView>,
    ) -> Result<Utterance, CoreError> {
        let identity = conn.identified()?;
        let event = Event::Message(Box::new(MessageEvent {
            room: send.room.to_string(),
            id: said.id.clone(),
            ts: said.ts,
            author: UserView::from(identity),
            text: send.text.map(MessageText::into_string).unwrap_or_default(),
            envelope: None,
            seq: None,
            client_msg_id: None,
            undecryptable: false,
            attachments,
            edited_at: None,
            deleted: false,
            reply_to: None,
            reactions: Vec::new(),
            mentions: Vec::new(),
            mentions_everyone: false,
        }));
        self.bus
            .publish(send.room.as_str(), Broadcast::new(event), None);
        Ok(said)
    }

    /// Tells a room the caller is typing (or stopped), in any room the connection is in.
    pub fn typing(&self, conn: &Connection, typing: Typing) -> Result<(), CoreError> {
        let identity = conn.identified()?;
        if !conn.rooms.contains(typing.room.as_str()) {
            return Err(CoreError::NotInRoom);
        }
        self.speech.not_muted(identity)?;
        let event = Event::Typing {
            room: typing.room.to_string(),
            user: UserView::from(identity),
            active: typing.active,
        };
        self.bus.publish(
            typing.room.as_str(),
            Broadcast::new(event),
            Some(identity.principal),
        );
        Ok(())
    }
}
