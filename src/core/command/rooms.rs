//! Being in a room: `join`, `leave`, `history`, `members`. The lobby lives in memory only;
//! every other room is stored, and joining it brings its history.

use super::{decode_by_shape, Apply, Done};
use crate::core::service::{HistoryPage, Joined, MembersPage};
use crate::core::{Chat, Connection, CoreError, MemberCursor};
use crate::domain::RoomName;
use serde::Deserialize;

/// Join a room; `since` resumes from the last sequence number the client saw. Ephemeral
/// rooms also need the `device` id the browser keeps.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinRoom {
    pub room: RoomName,
    #[serde(default)]
    pub since: Option<i64>,
    #[serde(default)]
    pub device: Option<String>,
}

/// Leave a room on this connection (membership of a stored room stays).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaveRoom {
    pub room: RoomName,
}

/// A page of a stored room's history, before or after a sequence number.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct History {
    pub room: RoomName,
    #[serde(default)]
    pub before: Option<i64>,
    #[serde(default)]
    pub after: Option<i64>,
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A page of a room's member list (present members, staff first, then by name), starting
/// after the `next` cursor of the previous page.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Members {
    pub room: RoomName,
    #[serde(default)]
    pub after: Option<MemberCursor>,
    #[serde(default)]
    pub limit: Option<usize>,
}

decode_by_shape!(JoinRoom, LeaveRoom, History, Members);

impl Apply for JoinRoom {
    type Reply = Joined;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Joined, CoreError> {
        if self.room.is_lobby() {
            chat.lobby.join(conn).map(Joined::Lobby)
        } else {
            chat.rooms.join(conn, self).await
        }
    }
}

impl Apply for LeaveRoom {
    type Reply = Done;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Done, CoreError> {
        chat.presence.leave(conn, &self.room)?;
        Ok(Done {})
    }
}

impl Apply for History {
    type Reply = HistoryPage;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<HistoryPage, CoreError> {
        chat.rooms.history(conn.identified()?, self).await
    }
}

impl Apply for Members {
    type Reply = MembersPage;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<MembersPage, CoreError> {
        chat.presence.members(conn, self)
    }
}
