//! Private conversations between two accounts. Opening one invites the peer, who accepts or
//! declines; once accepted, opening it again (from either side) shows it at once. History is
//! sealed like any room's and capped at `pm_history_cap` messages (the oldest are dropped).
//! Declining or closing only hides the conversation for the one who did it; nobody is told.

use super::view::{ConversationState, ConversationView};
use super::{account_id, RoomError, Rooms};
use crate::auth::Identity;
use crate::domain::{now_millis, pm_members, pm_room_name, RoomKind};
use crate::store::{NewRoom, RoomRow};

/// A change someone else must hear about: the user and how the conversation looks to them.
pub type Notice = (i64, ConversationView);

impl Rooms {
    /// The caller's conversations that are not closed, most recent first.
    pub async fn conversations(
        &self,
        identity: &Identity,
    ) -> Result<Vec<ConversationView>, RoomError> {
        let user_id = account_id(identity)?;
        let rows = self.store.conversations_of(user_id).await?;
        Ok(rows.into_iter().map(ConversationView::from).collect())
    }

    /// Opens a conversation with `peer_name`: new ones invite the peer; one the caller was
    /// invited to is accepted; an accepted one is shown again. Returns the caller's view and
    /// what the peer must be told.
    pub async fn open_pm(
        &self,
        identity: &Identity,
        peer_name: &str,
    ) -> Result<(ConversationView, Option<Notice>), RoomError> {
        let me = account_id(identity)?;
        let peer = self
            .store
            .user_by_name_key(&peer_name.to_ascii_lowercase())
            .await?
            .ok_or(RoomError::NoSuchUser)?;
        if peer.id == me {
            return Err(RoomError::WithYourself);
        }
        let name = pm_room_name(me, peer.id);
        let room = match self.store.room_by_slug(&name).await? {
            Some(room) => room,
            None => self.create_pm(&name, me, peer.id).await?,
        };
        let notice = if self.store.pm_invite_pending(room.id, me).await? {
            self.store.accept_pm(room.id, me).await?;
            Some(self.view_for(&room, peer.id).await?)
        } else {
            self.store.set_hidden(room.id, me, false).await?;
            if self.store.pm_invite_pending(room.id, peer.id).await? {
                self.store.set_hidden(room.id, peer.id, false).await?;
                Some(self.view_for(&room, peer.id).await?)
            } else {
                None
            }
        };
        Ok((self.view_for(&room, me).await?.1, notice))
    }

    async fn create_pm(&self, name: &str, me: i64, peer: i64) -> Result<RoomRow, RoomError> {
        let data_key_id = self.keyring.create_key().await?;
        let now = now_millis();
        let created = self
            .store
            .create_room(NewRoom {
                kind: RoomKind::Pm,
                slug: name,
                name,
                topic: None,
                private: true,
                owner_id: me,
                data_key_id,
                created_at: now,
            })
            .await;
        match created {
            Ok(room) => {
                self.store.add_pm_members(room.id, me, peer, now).await?;
                Ok(room)
            }
            Err(err) => {
                self.keyring.destroy_key(data_key_id).await?;
                // Both opened at once: the other request created it.
                match self.store.room_by_slug(name).await? {
                    Some(room) => Ok(room),
                    None => Err(err.into()),
                }
            }
        }
    }

    /// Accepts a conversation the caller was invited to; the peer is told.
    pub async fn accept_pm(
        &self,
        identity: &Identity,
        name: &str,
    ) -> Result<(ConversationView, Notice), RoomError> {
        let (room, me, peer) = self.pm_of(identity, name).await?;
        if !self.store.accept_pm(room.id, me).await? {
            return Err(RoomError::NotFound);
        }
        Ok((
            self.view_for(&room, me).await?.1,
            self.view_for(&room, peer).await?,
        ))
    }

    /// Declines an invitation: it is hidden for the caller; the peer is not told.
    pub async fn decline_pm(&self, identity: &Identity, name: &str) -> Result<(), RoomError> {
        let (room, me, _) = self.pm_of(identity, name).await?;
        if !self.store.pm_invite_pending(room.id, me).await? {
            return Err(RoomError::NotFound);
        }
        self.store.set_hidden(room.id, me, true).await?;
        Ok(())
    }

    /// Closes a conversation for the caller (a new message opens it again).
    pub async fn close_pm(&self, identity: &Identity, name: &str) -> Result<(), RoomError> {
        let (room, me, _) = self.pm_of(identity, name).await?;
        self.store.set_hidden(room.id, me, true).await?;
        Ok(())
    }

    /// Moves the caller's read marker in a room or conversation they belong to.
    pub async fn mark_read(
        &self,
        identity: &Identity,
        name: &str,
        seq: i64,
    ) -> Result<(), RoomError> {
        let visible = self.visible(identity, name).await?;
        if visible.role.is_none() {
            return Err(RoomError::NoSuchMember);
        }
        let seq = seq.clamp(0, visible.room.last_seq);
        let user_id = account_id(identity)?;
        self.store.mark_read(visible.room.id, user_id, seq).await?;
        Ok(())
    }

    /// After a message in a conversation: drops what exceeds the cap, and returns how the
    /// conversation now looks to the peer when they must be told: an invitation they have not
    /// declined (its unread count grew), or a conversation they had closed (shown again).
    pub async fn after_pm_message(
        &self,
        room: &RoomRow,
        seq: i64,
        author: i64,
    ) -> Result<Option<Notice>, RoomError> {
        let cap = i64::try_from(self.settings.pm_history_cap).unwrap_or(i64::MAX);
        if seq > cap {
            self.store.drop_messages_through(room.id, seq - cap).await?;
        }
        let Some((a, b)) = pm_members(&room.slug) else {
            return Ok(None);
        };
        let peer = if a == author { b } else { a };
        let tell = if self.store.pm_invite_pending(room.id, peer).await? {
            !self.store.is_hidden(room.id, peer).await?
        } else {
            self.store.set_hidden(room.id, peer, false).await?
        };
        if !tell {
            return Ok(None);
        }
        Ok(Some(self.view_for(room, peer).await?))
    }

    /// The conversation behind a wire name, with the caller's and the peer's ids, if the caller
    /// is in it.
    async fn pm_of(
        &self,
        identity: &Identity,
        name: &str,
    ) -> Result<(RoomRow, i64, i64), RoomError> {
        let me = account_id(identity)?;
        let (a, b) = pm_members(name).ok_or(RoomError::NotFound)?;
        if me != a && me != b {
            return Err(RoomError::NotFound);
        }
        let room = self
            .store
            .room_by_slug(name)
            .await?
            .filter(|r| r.kind() == RoomKind::Pm)
            .ok_or(RoomError::NotFound)?;
        Ok((room, me, if me == a { b } else { a }))
    }

    async fn view_for(&self, room: &RoomRow, user_id: i64) -> Result<Notice, RoomError> {
        let row = self
            .store
            .conversation_of(room.id, user_id)
            .await?
            .ok_or(RoomError::NotFound)?;
        Ok((user_id, row.into()))
    }
}

impl From<crate::store::ConversationRow> for ConversationView {
    fn from(row: crate::store::ConversationRow) -> Self {
        let state = match (row.invited_me > 0, row.awaiting_peer > 0) {
            (true, _) => ConversationState::Invited,
            (false, true) => ConversationState::Pending,
            (false, false) => ConversationState::Open,
        };
        Self {
            room: row.room,
            peer: row.peer,
            state,
            unread: row.unread,
            last_seq: row.last_seq,
        }
    }
}
