//! Private conversations between two accounts. Opening one invites the peer, who accepts or
//! declines; once accepted, opening it again (from either side) shows it at once. History is
//! sealed like any room's and capped at `pm_history_cap` messages (the oldest are dropped).
//! Declining or closing only hides the conversation for the one who did it; nobody is told.

use super::directory::Directory;
use super::view::{ConversationState, ConversationView};
use super::{account_id, Room, RoomError};
use crate::auth::Identity;
use crate::domain::{pm_members, pm_room_name, Preferences, Principal, RoomKind};
use crate::store::{ConversationRow, NewRoom};

/// A change someone else must hear about: the user and how the conversation looks to them.
pub type Notice = (i64, ConversationView);

/// Private conversations. Cheap to clone.
#[derive(Clone)]
pub struct Conversations {
    dir: Directory,
}

impl Conversations {
    pub(super) fn new(dir: Directory) -> Self {
        Self { dir }
    }

    /// The caller's conversations that are not closed, most recent first.
    pub async fn list(&self, identity: &Identity) -> Result<Vec<ConversationView>, RoomError> {
        let user_id = account_id(identity)?;
        let rows = self.dir.store.conversations().of_user(user_id).await?;
        Ok(rows.into_iter().map(ConversationView::from).collect())
    }

    /// Opens a conversation with `peer_name`: new ones invite the peer; one the caller was
    /// invited to is accepted; an accepted one is shown again. Returns the caller's view and
    /// what the peer must be told.
    pub async fn open(
        &self,
        identity: &Identity,
        peer_name: &str,
    ) -> Result<(ConversationView, Option<Notice>), RoomError> {
        let me = account_id(identity)?;
        let peer = self
            .dir
            .store
            .users()
            .by_name_key(&peer_name.to_ascii_lowercase())
            .await?
            .ok_or(RoomError::NoSuchUser)?;
        if peer.id == me {
            return Err(RoomError::WithYourself);
        }
        let name = pm_room_name(me, peer.id);
        let existing = self.dir.by_slug(&name).await?;
        let pms = self.dir.store.conversations();
        // Asking someone new is up to them (`dm_from`); a conversation they accepted stays.
        let asking = match &existing {
            None => true,
            Some(room) => pms.invite_pending(room.id, peer.id).await?,
        };
        if asking {
            self.accepts_from(identity, peer.id, &peer.name).await?;
        }
        let room = match existing {
            Some(room) => room,
            None => self.create_pm(&name, me, peer.id).await?,
        };
        // The AI companion has nobody to accept for it: a conversation with it is open at once.
        if self.dir.store.users().is_bot(peer.id).await?
            && pms.invite_pending(room.id, peer.id).await?
        {
            pms.accept(room.id, peer.id).await?;
        }
        let notice = if pms.invite_pending(room.id, me).await? {
            pms.accept(room.id, me).await?;
            Some(self.view_for(&room, peer.id).await?)
        } else {
            pms.set_hidden(room.id, me, false).await?;
            if pms.invite_pending(room.id, peer.id).await? {
                pms.set_hidden(room.id, peer.id, false).await?;
                Some(self.view_for(&room, peer.id).await?)
            } else {
                None
            }
        };
        Ok((self.view_for(&room, me).await?.1, notice))
    }

    /// Whether account `peer_id` takes private messages (a conversation, a whisper) from the
    /// caller, by its privacy setting. Staff reach everyone.
    pub async fn accepts_from(
        &self,
        identity: &Identity,
        peer_id: i64,
        peer_name: &str,
    ) -> Result<(), RoomError> {
        if identity.role.moderates() {
            return Ok(());
        }
        let stored = self.dir.store.profiles().preferences(peer_id).await?;
        let from_guest = matches!(identity.principal, Principal::Guest(_));
        if Preferences::from_stored(stored.as_deref())
            .dm_from
            .admits(from_guest)
        {
            Ok(())
        } else {
            Err(RoomError::NotAcceptingMessages(peer_name.to_owned()))
        }
    }

    async fn create_pm(&self, name: &str, me: i64, peer: i64) -> Result<Room, RoomError> {
        let data_key_id = self.dir.keyring.create_key().await?;
        let now = self.dir.clock.now_millis();
        let created = self
            .dir
            .store
            .rooms()
            .create(NewRoom {
                kind: RoomKind::Pm,
                slug: name,
                name,
                topic: None,
                private: true,
                owner: Principal::User(me),
                data_key_id,
                created_at: now,
                e2e: self.pm_e2e(me, peer).await?,
            })
            .await;
        match created {
            Ok(room) => {
                self.dir
                    .store
                    .conversations()
                    .add_members(room.id, me, peer, now)
                    .await?;
                Ok(room.into())
            }
            Err(err) => {
                self.dir.keyring.destroy_key(data_key_id).await?;
                // Both opened at once: the other request created it.
                match self.dir.by_slug(name).await? {
                    Some(room) => Ok(room),
                    None => Err(err.into()),
                }
            }
        }
    }

    /// Accepts a conversation the caller was invited to; the peer is told.
    pub async fn accept(
        &self,
        identity: &Identity,
        name: &str,
    ) -> Result<(ConversationView, Notice), RoomError> {
        let (room, me, peer) = self.pm_of(identity, name).await?;
        if !self.dir.store.conversations().accept(room.id, me).await? {
            return Err(RoomError::NotFound);
        }
        Ok((
            self.view_for(&room, me).await?.1,
            self.view_for(&room, peer).await?,
        ))
    }

    /// Declines an invitation: it is hidden for the caller; the peer is not told.
    pub async fn decline(&self, identity: &Identity, name: &str) -> Result<(), RoomError> {
        let (room, me, _) = self.pm_of(identity, name).await?;
        if !self
            .dir
            .store
            .conversations()
            .invite_pending(room.id, me)
            .await?
        {
            return Err(RoomError::NotFound);
        }
        self.dir
            .store
            .conversations()
            .set_hidden(room.id, me, true)
            .await?;
        Ok(())
    }

    /// Closes a conversation for the caller (a new message opens it again).
    pub async fn close(&self, identity: &Identity, name: &str) -> Result<(), RoomError> {
        let (room, me, _) = self.pm_of(identity, name).await?;
        self.dir
            .store
            .conversations()
            .set_hidden(room.id, me, true)
            .await?;
        Ok(())
    }

    /// Moves the caller's read marker in a room or conversation they belong to.
    pub async fn mark_read(
        &self,
        identity: &Identity,
        name: &str,
        seq: i64,
    ) -> Result<(), RoomError> {
        let visible = self.dir.visible(identity, name).await?;
        if visible.role.is_none() {
            return Err(RoomError::NoSuchMember);
        }
        // A guest's place in a room is not kept: there is no read pointer to move.
        if let Principal::Guest(_) = identity.principal {
            return Ok(());
        }
        let seq = seq.clamp(0, visible.room.last_seq);
        let user_id = account_id(identity)?;
        self.dir
            .store
            .conversations()
            .mark_read(visible.room.id, user_id, seq)
            .await?;
        Ok(())
    }

    /// After a message in a conversation: drops what exceeds the cap, and returns how the
    /// conversation now looks to the peer when they must be told: an invitation they have not
    /// declined (its unread count grew), or a conversation they had closed (shown again).
    pub async fn after_message(
        &self,
        room: &Room,
        seq: i64,
        author: i64,
    ) -> Result<Option<Notice>, RoomError> {
        let cap = i64::try_from(self.dir.settings.pm_history_cap).unwrap_or(i64::MAX);
        if seq > cap {
            self.dir
                .store
                .messages()
                .drop_through(room.id, seq - cap)
                .await?;
        }
        let Some((a, b)) = pm_members(&room.slug) else {
            return Ok(None);
        };
        let peer = if a == author { b } else { a };
        let pms = self.dir.store.conversations();
        let tell = if pms.invite_pending(room.id, peer).await? {
            !pms.is_hidden(room.id, peer).await?
        } else {
            pms.set_hidden(room.id, peer, false).await?
        };
        if !tell {
            return Ok(None);
        }
        Ok(Some(self.view_for(room, peer).await?))
    }

    /// The conversation behind a wire name, with the caller's and the peer's ids, if the caller
    /// is in it.
    async fn pm_of(&self, identity: &Identity, name: &str) -> Result<(Room, i64, i64), RoomError> {
        let me = account_id(identity)?;
        let (a, b) = pm_members(name).ok_or(RoomError::NotFound)?;
        if me != a && me != b {
            return Err(RoomError::NotFound);
        }
        let room = self
            .dir
            .by_slug(name)
            .await?
            .filter(|r| r.kind() == RoomKind::Pm)
            .ok_or(RoomError::NotFound)?;
        Ok((room, me, if me == a { b } else { a }))
    }

    /// A new conversation is end-to-end when the server's default says so and both accounts
    /// have keys (the AI companion never has any).
    async fn pm_e2e(&self, me: i64, peer: i64) -> Result<bool, RoomError> {
        if !self.dir.settings.e2e_conversations {
            return Ok(false);
        }
        let keys = self.dir.store.account_keys();
        Ok(keys.of(me).await?.is_some() && keys.of(peer).await?.is_some())
    }

    async fn view_for(&self, room: &Room, user_id: i64) -> Result<Notice, RoomError> {
        let row = self
            .dir
            .store
            .conversations()
            .of(room.id, user_id)
            .await?
            .ok_or(RoomError::NotFound)?;
        Ok((user_id, row.into()))
    }
}

impl From<ConversationRow> for ConversationView {
    fn from(row: ConversationRow) -> Self {
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
            e2e: row.e2e != 0,
            epoch: row.e2e_epoch,
        }
    }
}
