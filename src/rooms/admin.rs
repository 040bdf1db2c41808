//! What the admin panel reads about rooms: every room of every kind, any room's transcript
//! (no room is end-to-end encrypted yet, so the server can open them all), and the archives of
//! expired ephemeral rooms. Access control is the admin API's; reads are audited there.

use super::directory::Directory;
use super::ephemeral::Ephemeral;
use super::history::History;
use super::view::{ArchiveView, PlainMessage, RoomView};
use super::{Room, RoomError};
use crate::domain::{RoomKind, RoomRole};
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

/// The admin panel's reads and the admin actions on rooms. Cheap to clone.
#[derive(Clone)]
pub struct RoomsAdmin {
    dir: Directory,
    history: History,
    ephemeral: Ephemeral,
}

impl RoomsAdmin {
    pub(super) fn new(dir: Directory, history: History, ephemeral: Ephemeral) -> Self {
        Self {
            dir,
            history,
            ephemeral,
        }
    }

    pub async fn all(&self) -> Result<Vec<AdminRoom>, RoomError> {
        let rows = self.dir.store.rooms().all().await?;
        Ok(rows
            .into_iter()
            .map(Room::from)
            .map(|room| AdminRoom {
                kind: room.kind().as_str().to_owned(),
                expires_at: room.expires_at,
                room: RoomView::of(&room, None),
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
            .dir
            .by_slug(name)
            .await?
            .or(self.dir.by_slug(&name.to_ascii_lowercase()).await?)
            .ok_or(RoomError::NotFound)?;
        self.history.before(&room, before, limit).await
    }

    /// Makes an account a member of a persistent room (an admin moved them there).
    pub async fn admit(&self, user_id: i64, slug: &str) -> Result<Room, RoomError> {
        let room = self
            .dir
            .by_slug(&slug.to_ascii_lowercase())
            .await?
            .filter(|r| r.kind() == RoomKind::Room)
            .ok_or(RoomError::NotFound)?;
        if self
            .dir
            .store
            .room_bans()
            .is_banned(room.id, user_id)
            .await?
        {
            return Err(RoomError::Banned);
        }
        self.dir
            .store
            .members()
            .add(
                room.id,
                user_id,
                RoomRole::Member.as_str(),
                self.dir.clock.now_millis(),
            )
            .await?;
        Ok(room)
    }

    /// Deletes every room an account owns, each with its messages and key (the account is
    /// being deleted); returns them, to close them live.
    pub async fn delete_owned_by(&self, user_id: i64) -> Result<Vec<Room>, RoomError> {
        let owned = self.dir.store.rooms().owned_by(user_id).await?;
        let owned: Vec<Room> = owned.into_iter().map(Room::from).collect();
        for room in &owned {
            self.dir.destroy(room).await?;
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
        for id in self.ephemeral.archive_ids(limit, before_id).await? {
            opened.push(self.ephemeral.archive(id).await?);
        }
        Ok(opened)
    }

    /// Opens stored messages by room and sequence number (for the audit log's text search).
    pub fn opener(&self) -> MessageOpener<'_> {
        MessageOpener {
            admin: self,
            found: HashMap::new(),
        }
    }
}

/// Opens stored messages by room and sequence number, looking each room up once.
pub struct MessageOpener<'a> {
    admin: &'a RoomsAdmin,
    found: HashMap<String, Option<Room>>,
}

impl MessageOpener<'_> {
    /// The text of message `seq` in `room`, if it is still stored and decrypts. A room whose
    /// data key does not open is searched no further (logged once) instead of failing the
    /// whole search.
    pub async fn text(&mut self, room: &str, seq: i64) -> Result<Option<String>, RoomError> {
        if !self.found.contains_key(room) {
            let found = self.admin.dir.by_slug(room).await?;
            self.found.insert(room.to_owned(), found);
        }
        let Some(Some(found)) = self.found.get(room) else {
            return Ok(None);
        };
        match self.admin.history.one(found, seq).await {
            Err(RoomError::Crypto(err)) => {
                tracing::error!(room, error = %err, "audit search: the room's messages cannot be opened; skipped");
                self.found.insert(room.to_owned(), None);
                Ok(None)
            }
            other => other,
        }
    }
}
