//! What the admin panel reads about rooms: every room of every kind, any room's transcript
//! (no room is end-to-end encrypted yet, so the server can open them all), and the archives of
//! expired ephemeral rooms. Access control is the admin API's; reads are audited there.

use super::view::{ArchiveView, PlainMessage, RoomView};
use super::{RoomError, Rooms};

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
