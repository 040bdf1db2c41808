//! Who belongs to a stored room, live: members and their roles, removals and room bans,
//! leaving, invites and access requests. The rules are the [`Rooms`] service's; this tells the
//! people concerned at once (an evicted member's connections leave the room, a room's owner
//! and admins hear of an access request, a requester of an approval — a denial is not
//! announced, see [`crate::rooms::RoomAccess`]).

use super::{Presence, RoomKeys};
use crate::auth::Identity;
use crate::core::event::{Event, RemovedReason};
use crate::core::CoreError;
use crate::domain::{Name, Principal, RoomRole};
use crate::rooms::{
    CreateInvite, InviteView, MemberView, OwnRequest, RequestView, Room, RoomView, Rooms, Visible,
};
use std::sync::Arc;

pub struct Membership {
    rooms: Arc<Rooms>,
    presence: Presence,
    /// An end-to-end room starts a new epoch when a member goes; its members hear.
    room_keys: Arc<RoomKeys>,
}

impl Membership {
    pub fn new(rooms: Arc<Rooms>, presence: Presence, room_keys: Arc<RoomKeys>) -> Self {
        Self {
            rooms,
            presence,
            room_keys,
        }
    }

    /// Joins a room's membership without a connection (REST).
    pub async fn join(&self, identity: &Identity, slug: &str) -> Result<RoomView, CoreError> {
        let Visible { room, role } = self.rooms.membership().join(identity, slug, None).await?;
        self.tell_list(identity.principal);
        Ok(RoomView::of(&room, role))
    }

    /// Gives up membership of a room on every connection of the caller.
    pub async fn leave(&self, identity: &Identity, slug: &str) -> Result<(), CoreError> {
        let room = self.rooms.membership().leave(identity, slug).await?;
        self.presence
            .evict(&room.slug, identity.principal, RemovedReason::Left);
        self.tell_list(identity.principal);
        self.new_epoch(&room).await
    }

    pub async fn members(
        &self,
        identity: &Identity,
        slug: &str,
    ) -> Result<Vec<MemberView>, CoreError> {
        Ok(self.rooms.membership().list(identity, slug).await?)
    }

    /// Removes a member: their connections leave the room at once and are told why.
    pub async fn remove(
        &self,
        identity: &Identity,
        slug: &str,
        name: &Name,
    ) -> Result<(), CoreError> {
        let (room, user_id) = self.rooms.membership().remove(identity, slug, name).await?;
        self.presence
            .evict(&room.slug, Principal::User(user_id), RemovedReason::Removed);
        self.tell_list(Principal::User(user_id));
        self.new_epoch(&room).await
    }

    /// Bans a user from a room: as a removal, and they cannot come back.
    pub async fn ban(&self, identity: &Identity, slug: &str, name: &Name) -> Result<(), CoreError> {
        let (room, user_id) = self.rooms.membership().ban(identity, slug, name).await?;
        self.presence
            .evict(&room.slug, Principal::User(user_id), RemovedReason::Banned);
        self.tell_list(Principal::User(user_id));
        self.new_epoch(&room).await
    }

    pub async fn unban(
        &self,
        identity: &Identity,
        slug: &str,
        name: &Name,
    ) -> Result<(), CoreError> {
        Ok(self.rooms.membership().unban(identity, slug, name).await?)
    }

    pub async fn set_role(
        &self,
        identity: &Identity,
        slug: &str,
        name: &Name,
        role: RoomRole,
    ) -> Result<(), CoreError> {
        self.rooms
            .membership()
            .set_role(identity, slug, name, role)
            .await?;
        Ok(())
    }

    /// A new invite: its secret token (shown once) and how it looks.
    pub async fn invite(
        &self,
        identity: &Identity,
        slug: &str,
        new: CreateInvite,
    ) -> Result<(String, InviteView), CoreError> {
        Ok(self
            .rooms
            .access()
            .create_invite(identity, slug, new)
            .await?)
    }

    pub async fn invites(
        &self,
        identity: &Identity,
        slug: &str,
    ) -> Result<Vec<InviteView>, CoreError> {
        Ok(self.rooms.access().invites(identity, slug).await?)
    }

    pub async fn revoke_invite(
        &self,
        identity: &Identity,
        slug: &str,
        id: i64,
    ) -> Result<(), CoreError> {
        Ok(self
            .rooms
            .access()
            .revoke_invite(identity, slug, id)
            .await?)
    }

    pub async fn redeem(&self, identity: &Identity, token: &str) -> Result<RoomView, CoreError> {
        let room = self.rooms.access().redeem_invite(identity, token).await?;
        self.tell_list(identity.principal);
        Ok(RoomView::of(&room, Some(RoomRole::Member)))
    }

    /// Asks to join the room at `slug`; the online owner and admins of a private room there
    /// are told at once. The caller's answer is the same whether such a room exists or not.
    pub async fn request_access(&self, identity: &Identity, slug: &str) -> Result<(), CoreError> {
        let Some((slug, moderators)) = self.rooms.access().request_access(identity, slug).await?
        else {
            return Ok(());
        };
        let event = Event::AccessRequested {
            room: slug.as_str().to_owned(),
            user: identity.name.clone(),
        };
        for moderator in moderators {
            self.presence
                .tell(Principal::User(moderator), event.clone());
        }
        Ok(())
    }

    /// The caller's own pending requests, by the address asked for.
    pub async fn own_requests(&self, identity: &Identity) -> Result<Vec<OwnRequest>, CoreError> {
        Ok(self.rooms.access().own_requests(identity).await?)
    }

    pub async fn requests(
        &self,
        identity: &Identity,
        slug: &str,
    ) -> Result<Vec<RequestView>, CoreError> {
        Ok(self.rooms.access().requests(identity, slug).await?)
    }

    /// Approves or denies a request. An approved requester is told at once; a denied one is
    /// not (their request stays pending for them until it expires, as one for an address no
    /// room holds would).
    pub async fn decide(
        &self,
        identity: &Identity,
        slug: &str,
        requester: &Name,
        approve: bool,
    ) -> Result<(), CoreError> {
        let (room, user_id) = self
            .rooms
            .access()
            .decide(identity, slug, requester, approve)
            .await?;
        if approve {
            let event = Event::AccessDecided {
                room: room.slug,
                approved: true,
            };
            self.presence.tell(Principal::User(user_id), event);
            self.tell_list(Principal::User(user_id));
        }
        Ok(())
    }

    /// A member went: an end-to-end room's store already started a new epoch with the
    /// membership change; its remaining members hear (`room_keys`) and the first to write
    /// makes the new key.
    async fn new_epoch(&self, room: &Room) -> Result<(), CoreError> {
        if room.e2e {
            self.room_keys.announce(room.id).await?;
        }
        Ok(())
    }

    /// Tells one account's pages that their room list changed (`rooms_changed`).
    fn tell_list(&self, principal: Principal) {
        if let Principal::User(id) = principal {
            self.presence.rooms_changed(false, &[id]);
        }
    }
}
