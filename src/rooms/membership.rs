//! Membership: joining and leaving rooms of every kind, the member list, and what a room's
//! owner and admins do to members (remove, ban, unban, promote). Each rule compares the actor's
//! room role with the target's, so nobody acts on a peer or above.

use super::directory::Directory;
use super::ephemeral::Ephemeral;
use super::service::{account_id, Visible};
use super::{MemberView, Room, RoomError};
use crate::auth::Identity;
use crate::domain::{Name, RoomCode, RoomKind, RoomRole};

/// Members of rooms. Cheap to clone.
#[derive(Clone)]
pub struct Membership {
    dir: Directory,
    ephemeral: Ephemeral,
}

impl Membership {
    pub(super) fn new(dir: Directory, ephemeral: Ephemeral) -> Self {
        Self { dir, ephemeral }
    }

    /// Joins the room: members come back in; anyone not banned becomes a member of a public
    /// room; an ephemeral room admits the caller's `device` while it has a free place.
    pub async fn join(
        &self,
        identity: &Identity,
        name: &str,
        device: Option<&str>,
    ) -> Result<Visible, RoomError> {
        if let Some(code) = RoomCode::from_room_name(name) {
            return self.ephemeral.join(identity, &code, device).await;
        }
        let Visible { room, role } = self.dir.visible(identity, name).await?;
        if let Some(role) = role {
            return Ok(Visible {
                room,
                role: Some(role),
            });
        }
        self.dir
            .store
            .members()
            .add(
                room.id,
                account_id(identity)?,
                RoomRole::Member.as_str(),
                self.dir.clock.now_millis(),
            )
            .await?;
        Ok(Visible {
            room,
            role: Some(RoomRole::Member),
        })
    }

    /// Gives up membership. The owner cannot leave their own room (they delete it).
    pub async fn leave(&self, identity: &Identity, slug: &str) -> Result<Room, RoomError> {
        let Visible { room, role } = self.dir.visible(identity, slug).await?;
        match role {
            _ if room.kind() != RoomKind::Room => Err(RoomError::Forbidden),
            Some(RoomRole::Owner) => Err(RoomError::Forbidden),
            // Nothing stored to give up: the guest just goes.
            Some(RoomRole::Guest) => Ok(room),
            Some(_) => {
                self.dir
                    .store
                    .members()
                    .remove(room.id, account_id(identity)?)
                    .await?;
                Ok(room)
            }
            None => Err(RoomError::NoSuchMember),
        }
    }

    /// The members of a room the caller may see.
    pub async fn list(
        &self,
        identity: &Identity,
        slug: &str,
    ) -> Result<Vec<MemberView>, RoomError> {
        let Visible { room, .. } = self.dir.visible(identity, slug).await?;
        Ok(self
            .dir
            .store
            .members()
            .list(room.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Removes a member ranked below the caller; returns the room and the member's id.
    pub async fn remove(
        &self,
        identity: &Identity,
        slug: &str,
        name: &Name,
    ) -> Result<(Room, i64), RoomError> {
        let (room, role) = self.dir.moderated(identity, slug).await?;
        let user = self.dir.member_account(name).await?;
        let target = self
            .dir
            .role_of(room.id, user.id)
            .await?
            .ok_or(RoomError::NoSuchMember)?;
        if !role.may_act_on(target) {
            return Err(RoomError::Forbidden);
        }
        self.dir.store.members().remove(room.id, user.id).await?;
        Ok((room, user.id))
    }

    /// Bans a user from the room (removing them if a member); they cannot come back, not even
    /// by invite.
    pub async fn ban(
        &self,
        identity: &Identity,
        slug: &str,
        name: &Name,
    ) -> Result<(Room, i64), RoomError> {
        let (room, role) = self.dir.moderated(identity, slug).await?;
        let user = self.dir.member_account(name).await?;
        let target = self.dir.role_of(room.id, user.id).await?;
        if user.id == account_id(identity)? || target.is_some_and(|t| !role.may_act_on(t)) {
            return Err(RoomError::Forbidden);
        }
        self.dir
            .store
            .room_bans()
            .ban(
                room.id,
                user.id,
                account_id(identity)?,
                self.dir.clock.now_millis(),
            )
            .await?;
        Ok((room, user.id))
    }

    pub async fn unban(
        &self,
        identity: &Identity,
        slug: &str,
        name: &Name,
    ) -> Result<(), RoomError> {
        let (room, _) = self.dir.moderated(identity, slug).await?;
        let user = self.dir.member_account(name).await?;
        if self.dir.store.room_bans().unban(room.id, user.id).await? {
            Ok(())
        } else {
            Err(RoomError::NoSuchMember)
        }
    }

    /// The owner makes a member an admin or an admin a member.
    pub async fn set_role(
        &self,
        identity: &Identity,
        slug: &str,
        name: &Name,
        new_role: RoomRole,
    ) -> Result<Room, RoomError> {
        let (room, role) = self.dir.moderated(identity, slug).await?;
        if role != RoomRole::Owner || new_role == RoomRole::Owner {
            return Err(RoomError::Forbidden);
        }
        let user = self.dir.member_account(name).await?;
        let target = self
            .dir
            .role_of(room.id, user.id)
            .await?
            .ok_or(RoomError::NoSuchMember)?;
        if target == RoomRole::Owner {
            return Err(RoomError::Forbidden);
        }
        self.dir
            .store
            .members()
            .set_role(room.id, user.id, new_role.as_str())
            .await?;
        Ok(room)
    }
}
