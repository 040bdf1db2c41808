//! Finding rooms and deciding who may see them: the look-ups every room service starts from,
//! and the parts they all share (store, keyring, settings, clock). Keeping visibility in one
//! place is what makes a private room answer like a missing one on every path.

use super::service::{RoomsSettings, Visible};
use super::{Room, RoomError};
use crate::auth::Identity;
use crate::clock::Clock;
use crate::crypto::Keyring;
use crate::domain::{Name, Principal, RoomCode, RoomKind, RoomRole};
use crate::store::{Store, UserRow};

/// What every room service holds. Cheap to clone.
#[derive(Clone)]
pub(super) struct Directory {
    pub(super) store: Store,
    pub(super) keyring: Keyring,
    pub(super) settings: RoomsSettings,
    pub(super) clock: Clock,
}

pub(super) fn parse_role(role: Option<String>) -> Option<RoomRole> {
    role.and_then(|r| r.parse().ok())
}

impl Directory {
    /// The room with this stored name, of any kind.
    pub(super) async fn by_slug(&self, slug: &str) -> Result<Option<Room>, RoomError> {
        Ok(self.store.rooms().by_slug(slug).await?.map(Room::from))
    }

    pub(super) async fn by_id(&self, id: i64) -> Result<Option<Room>, RoomError> {
        Ok(self.store.rooms().by_id(id).await?.map(Room::from))
    }

    /// The user's role in the room, if a member.
    pub(super) async fn role_of(
        &self,
        room_id: i64,
        user_id: i64,
    ) -> Result<Option<RoomRole>, RoomError> {
        Ok(parse_role(
            self.store.members().role(room_id, user_id).await?,
        ))
    }

    /// The room if the caller may see it: members see their rooms (a conversation once they
    /// have accepted it, an ephemeral room once they joined it from an admitted device);
    /// every account not banned sees public rooms, and guests those that admit guests.
    /// Anything else answers like a room that does not exist — with the same error, after the
    /// same one query.
    pub(super) async fn visible(
        &self,
        identity: &Identity,
        name: &str,
    ) -> Result<Visible, RoomError> {
        if let Some(code) = RoomCode::from_room_name(name) {
            return self.ephemeral_visible(identity, &code).await;
        }
        let user_id = match identity.principal {
            Principal::User(id) => id,
            Principal::Guest(_) => return self.guest_visible(name).await,
        };
        let seen = self
            .store
            .rooms()
            .seen_by(&name.to_ascii_lowercase(), user_id)
            .await?
            .ok_or(RoomError::NotFound)?;
        let room = Room::from(seen.room);
        let role = parse_role(seen.role);
        match (room.kind(), role) {
            (RoomKind::Room, Some(_)) => {}
            (RoomKind::Room, None) if !room.private => {
                if seen.banned > 0 {
                    return Err(RoomError::Banned);
                }
            }
            (RoomKind::Pm, Some(_)) if seen.pm_pending == 0 => {}
            _ => return Err(RoomError::NotFound),
        }
        Ok(Visible { room, role })
    }

    /// A public room, to a guest: in it as a guest (never stored as a member) when the server
    /// and the room admit guests, else told that it takes an account. A private room answers
    /// like a missing one, as it does to an account that is not a member.
    async fn guest_visible(&self, name: &str) -> Result<Visible, RoomError> {
        let room = self
            .by_slug(&name.to_ascii_lowercase())
            .await?
            .filter(|room| room.kind() == RoomKind::Room && !room.private)
            .ok_or(RoomError::NotFound)?;
        if !self.admits_guests(&room) {
            return Err(RoomError::RegistrationRequired);
        }
        Ok(Visible {
            room,
            role: Some(RoomRole::Guest),
        })
    }

    /// Whether guests may be in this room now (the server's setting and the room's).
    pub(super) fn admits_guests(&self, room: &Room) -> bool {
        self.settings.guests_in_rooms && room.allow_guests
    }

    /// The room and the caller's role when they are an owner or admin there.
    pub(super) async fn moderated(
        &self,
        identity: &Identity,
        slug: &str,
    ) -> Result<(Room, RoomRole), RoomError> {
        match self.visible(identity, slug).await? {
            Visible {
                room,
                role: Some(role),
            } if role.moderates() && room.kind() == RoomKind::Room => Ok((room, role)),
            _ => Err(RoomError::Forbidden),
        }
    }

    /// An ephemeral room the caller joined from an admitted device.
    async fn ephemeral_visible(
        &self,
        identity: &Identity,
        code: &RoomCode,
    ) -> Result<Visible, RoomError> {
        let room = self.live_ephemeral(code.as_str()).await?;
        if !self
            .store
            .ephemeral()
            .uses_device(room.id, identity.principal)
            .await?
        {
            return Err(RoomError::NotFound);
        }
        Ok(Visible {
            room,
            role: Some(RoomRole::Member),
        })
    }

    /// The ephemeral room behind a code, unless it has expired.
    pub(super) async fn live_ephemeral(&self, code: &str) -> Result<Room, RoomError> {
        let code = RoomCode::parse(code).map_err(|_| RoomError::NotFound)?;
        let now = self.clock.now_millis();
        self.by_slug(&code.room_name())
            .await?
            .filter(|r| r.kind() == RoomKind::Ephemeral && r.expires_at.is_none_or(|at| at > now))
            .ok_or(RoomError::NotFound)
    }

    /// The account a moderator names.
    pub(super) async fn member_account(&self, name: &Name) -> Result<UserRow, RoomError> {
        self.store
            .users()
            .by_name_key(&name.key())
            .await?
            .ok_or(RoomError::NoSuchMember)
    }

    /// Deletes a room with everything stored in it, and its data key.
    pub(super) async fn destroy(&self, room: &Room) -> Result<(), RoomError> {
        self.store.rooms().delete(room.id).await?;
        self.keyring.destroy_key(room.data_key_id).await?;
        Ok(())
    }
}
