//! Getting into a private room: invite links (expiry, use limit, e-mail binding, revocation)
//! and access requests that the room's owner and admins decide on.

use super::service::account_id;
use super::view::{InviteView, RequestView};
use super::{RoomError, Rooms};
use crate::auth::{hash_token, new_secret, Identity};
use crate::domain::{now_millis, Email, RoomKind, RoomRole};
use crate::store::{InviteRow, NewInvite, RoomRow};

/// What creating an invite takes.
#[derive(Debug, Clone)]
pub struct CreateInvite {
    pub ttl_secs: i64,
    pub max_uses: Option<i64>,
    pub email: Option<String>,
}

/// The longest an invite may live: 30 days.
const MAX_INVITE_TTL_SECS: i64 = 30 * 24 * 3600;

impl Rooms {
    /// Creates an invite link; returns its secret token (shown once) and the invite.
    pub async fn create_invite(
        &self,
        identity: &Identity,
        slug: &str,
        new: CreateInvite,
    ) -> Result<(String, InviteView), RoomError> {
        let (room, _) = self.moderated(identity, slug).await?;
        if !(1..=MAX_INVITE_TTL_SECS).contains(&new.ttl_secs) {
            return Err(RoomError::InvalidSetting(
                "ttl_secs must be between 1 and 2592000",
            ));
        }
        if new.max_uses.is_some_and(|n| !(1..=100_000).contains(&n)) {
            return Err(RoomError::InvalidSetting(
                "max_uses must be between 1 and 100000",
            ));
        }
        let email_key = match new.email.as_deref() {
            Some(raw) => Some(
                Email::parse(raw)
                    .map_err(|_| RoomError::InvalidSetting("email is not a valid address"))?
                    .key(),
            ),
            None => None,
        };
        let token = new_secret();
        let now = now_millis();
        let invite = self
            .store
            .create_invite(NewInvite {
                room_id: room.id,
                token_hash: &hash_token(&token),
                created_by: account_id(identity)?,
                email_key: email_key.as_deref(),
                max_uses: new.max_uses,
                expires_at: now + new.ttl_secs * 1000,
                created_at: now,
            })
            .await?;
        Ok((token, invite.into()))
    }

    pub async fn invites(
        &self,
        identity: &Identity,
        slug: &str,
    ) -> Result<Vec<InviteView>, RoomError> {
        let (room, _) = self.moderated(identity, slug).await?;
        Ok(self
            .store
            .invites_of_room(room.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub async fn revoke_invite(
        &self,
        identity: &Identity,
        slug: &str,
        invite_id: i64,
    ) -> Result<(), RoomError> {
        let (room, _) = self.moderated(identity, slug).await?;
        if self.store.revoke_invite(room.id, invite_id).await? {
            Ok(())
        } else {
            Err(RoomError::NotFound)
        }
    }

    /// Joins the room an invite token opens.
    pub async fn redeem_invite(
        &self,
        identity: &Identity,
        token: &str,
    ) -> Result<RoomRow, RoomError> {
        let user_id = account_id(identity)?;
        let invite: InviteRow = self
            .store
            .invite_by_token_hash(&hash_token(token))
            .await?
            .ok_or(RoomError::NotFound)?;
        if let Some(bound) = &invite.email_key {
            let own = identity.email.as_deref().map(str::to_ascii_lowercase);
            if own.as_deref() != Some(bound.as_str()) {
                return Err(RoomError::InviteNotForYou);
            }
        }
        if self
            .store
            .is_banned_from_room(invite.room_id, user_id)
            .await?
        {
            return Err(RoomError::Banned);
        }
        if !self
            .store
            .redeem_invite(invite.id, user_id, now_millis())
            .await?
        {
            return Err(RoomError::InviteUnusable);
        }
        let room = self.store.room_by_id(invite.room_id).await?;
        room.ok_or(RoomError::NotFound)
    }

    /// Asks to join a private room. Returns the room when a new request was recorded (so its
    /// moderators can be told); `None` otherwise — including for rooms that do not exist, so
    /// asking reveals nothing.
    pub async fn request_access(
        &self,
        identity: &Identity,
        slug: &str,
    ) -> Result<Option<RoomRow>, RoomError> {
        let user_id = account_id(identity)?;
        let Some(room) = self.store.room_by_slug(&slug.to_ascii_lowercase()).await? else {
            return Ok(None);
        };
        if room.private == 0
            || room.kind() != RoomKind::Room
            || self.store.member_role(room.id, user_id).await?.is_some()
            || self.store.is_banned_from_room(room.id, user_id).await?
        {
            return Ok(None);
        }
        Ok(self
            .store
            .request_access(room.id, user_id, now_millis())
            .await?
            .then_some(room))
    }

    pub async fn requests(
        &self,
        identity: &Identity,
        slug: &str,
    ) -> Result<Vec<RequestView>, RoomError> {
        let (room, _) = self.moderated(identity, slug).await?;
        let pending = self.store.access_requests(room.id).await?;
        Ok(pending
            .into_iter()
            .map(|(_, name, created_at)| RequestView { name, created_at })
            .collect())
    }

    /// Approves or denies a pending request; returns the room and the requester's id.
    pub async fn decide(
        &self,
        identity: &Identity,
        slug: &str,
        requester: &str,
        approve: bool,
    ) -> Result<(RoomRow, i64), RoomError> {
        let (room, _) = self.moderated(identity, slug).await?;
        let user = self.user(requester).await?;
        if !self.store.drop_access_request(room.id, user.id).await? {
            return Err(RoomError::NoSuchMember);
        }
        if approve {
            self.store
                .add_member(room.id, user.id, RoomRole::Member.as_str(), now_millis())
                .await?;
        }
        Ok((room, user.id))
    }
}
