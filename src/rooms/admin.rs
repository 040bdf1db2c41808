//! What the admin panel reads about rooms: every room of every kind, any room's transcript
//! (no room is end-to-end encrypted yet, so the server can open them all), and the archives of
//! expired ephemeral rooms. Access control is the admin API's; reads are audited there.

use super::view::{ArchiveView, PlainMessage, RoomView};
use super::{RoomError, Rooms};
use crate::store::RoomRow;
use std::collections::HashMap;

/// A room as the admin panel lists it.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AdminRoom {
    /// `room`, `pm` or `ephemeral`.
    pub kind: String,
    pub expires_at: Option<i64>,
    #[serde(flatten)]
    pub room: RoomView,
}

impl Rooms {
    pub async fn all(&self) -> Result<Vec<AdminRoom>, RoomError> {
        let rows = self.store.all_rooms().await?;
        Ok(rows
            .iter()
            .map(|row| AdminRoom {
                kind: row.kind.clone(),
                expires_at: row.expires_at,
                room: RoomView::of(row, None),
            })
            .collect())
    }

    /// A page of any room's messages, opened, whoever its members are.
    pub async fn transcript(
        &self,
        name: &str,
        before: Option<i64>,
        limit: Option<usize>,
    ) -> Result<Vec<PlainMessage>, RoomError> {
        let room = self
            .store
            .room_by_slug(name)
            .await?
            .or(self.store.room_by_slug(&name.to_ascii_lowercase()).await?)
            .ok_or(RoomError::NotFound)?;
        self.messages_before(&room, before, limit).await
    }

    /// Makes an account a member of a persistent room (an admin moved them there).
    pub async fn admit(&self, user_id: i64, slug: &str) -> Result<RoomRow, RoomError> {
        let room = self
            .store
            .room_by_slug(&slug.to_ascii_lowercase())
            .await?
            .filter(|r| r.kind() == crate::domain::RoomKind::Room)
            .ok_or(RoomError::NotFound)?;
        if self.store.is_banned_from_room(room.id, user_id).await? {
            return Err(RoomError::Banned);
        }
        self.store
            .add_member(
                room.id,
                user_id,
                crate::domain::RoomRole::Member.as_str(),
                crate::domain::now_millis(),
            )
            .await?;
        Ok(room)
    }

    /// Deletes every room an account owns, each with its messages and key (the account is
    /// being deleted); returns them, to close them live.
    pub async fn delete_owned_by(&self, user_id: i64) -> Result<Vec<RoomRow>, RoomError> {
        let owned = self.store.rooms_owned_by(user_id).await?;
        for room in &owned {
            self.store.delete_room(room.id).await?;
            self.keyring.destroy_key(room.data_key_id).await?;
        }
        Ok(owned)
    }

    /// Archives, newest first, opened.
    pub async fn archives(
        &self,
        limit: i64,
        before_id: i64,
    ) -> Result<Vec<ArchiveView>, RoomError> {
        let mut opened = Vec::new();
        for id in self.archive_ids(limit, before_id).await? {
            opened.push(self.archive(id).await?);
        }
        Ok(opened)
    }
}

/// Opens stored messages by room and sequence number, looking each room up once (for the
/// audit log's text search).
pub struct MessageOpener<'a> {
    rooms: &'a Rooms,
    found: HashMap<String, Option<RoomRow>>,
}

impl Rooms {
    pub fn opener(&self) -> MessageOpener<'_> {
        MessageOpener {
            rooms: self,
            found: HashMap::new(),
        }
    }
}

impl MessageOpener<'_> {
    /// The text of message `seq` in `room`, if it is still stored.
    pub async fn text(&mut self, room: &str, seq: i64) -> Result<Option<String>, RoomError> {
        if !self.found.contains_key(room) {
            let row = self.rooms.store.room_by_slug(room).await?;
            self.found.insert(room.to_owned(), row);
        }
        let Some(Some(row)) = self.found.get(room) else {
            return Ok(None);
        };
        let page = self.rooms.store.messages_after(row.id, seq - 1, 1).await?;
        let row = row.clone();
        let opened = self.rooms.open_all(&row, page).await?;
        Ok(opened.into_iter().find(|m| m.seq == seq).map(|m| m.text))
    }
}
