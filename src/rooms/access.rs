//! Getting into a private room: invite links (expiry, use limit, e-mail binding, revocation)
//! and access requests that the room's owner and admins decide on.

use super::directory::Directory;
use super::service::account_id;
use super::view::{InviteView, RequestView};
use super::{Room, RoomError};
use crate::auth::{hash_token, new_secret, Identity};
use crate::domain::{Email, RoomKind, RoomRole};
use crate::store::{InviteRow, NewInvite};

/// What creating an invite takes.
#[derive(Debug, Clone)]
pub struct CreateInvite {
    pub ttl_secs: i64,
    pub max_uses: Option<i64>,
    pub email: Option<String>,
}

/// The longest an invite may live: 30 days.
const MAX_INVITE_TTL_SECS: i64 = 30 * 24 * 3600;

/// Invites and access requests. Cheap to clone.
#[derive(Clone)]
pub struct RoomAccess {
    dir: Directory,
}

impl RoomAccess {
    pub(super) fn new(dir: Directory) -> Self {
        Self { dir }
    }

    /// Creates an invite link; returns its secret token (shown once) and the invite.
    pub async fn create_invite(
        &self,
        identity: &Identity,
        slug: &str,
        new: CreateInvite,
    ) -> Result<(String, InviteView), RoomError> {
        let (room, _) = self.dir.moderated(identity, slug).await?;
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
        let now = self.dir.clock.now_millis();
        let invite = self
            .dir
            .store
            .invites()
            .create(NewInvite {
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
        let (room, _) = self.dir.moderated(identity, slug).await?;
        Ok(self
            .dir
            .store
            .invites()
            .of_room(room.id)
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
        let (room, _) = self.dir.moderated(identity, slug).await?;
        if self.dir.store.invites().revoke(room.id, invite_id).await? {
            Ok(())
        } else {
            Err(RoomError::NotFound)
        }
    }

    /// Joins the room an invite token opens.
    pub async fn redeem_invite(&self, identity: &Identity, token: &str) -> Result<Room, RoomError> {
        let user_id = account_id(identity)?;
        let invite: InviteRow = self
            .dir
            .store
            .invites()
            .by_token_hash(&hash_token(token))
            .await?
            .ok_or(RoomError::NotFound)?;
        if let Some(bound) = &invite.email_key {
            let own = identity.email.as_deref().map(str::to_ascii_lowercase);
            if own.as_deref() != Some(bound.as_str()) {
                return Err(RoomError::InviteNotForYou);
            }
        }
        if self
            .dir
            .store
            .room_bans()
            .is_banned(invite.room_id, user_id)
            .await?
        {
            return Err(RoomError::Banned);
        }
        if !self
            .dir
            .store
            .invites()
            .redeem(invite.id, user_id, self.dir.clock.now_millis())
            .await?
        {
            return Err(RoomError::InviteUnusable);
        }
        let room = self.dir.by_id(invite.room_id).await?;
        room.ok_or(RoomError::NotFound)
    }

    /// Asks to join a private room. Returns the room when a new request was recorded (so its
    /// moderators can be told); `None` otherwise — including for rooms that do not exist, so
    /// asking reveals nothing.
    pub async fn request_access(
        &self,
        identity: &Identity,
        slug: &str,
    ) -> Result<Option<Room>, RoomError> {
        let user_id = account_id(identity)?;
        let Some(room) = self.dir.by_slug(&slug.to_ascii_lowercase()).await? else {
            return Ok(None);
        };
        if !room.private
            || room.kind() != RoomKind::Room
            || self.dir.role_of(room.id, user_id).await?.is_some()
            || self
                .dir
                .store
                .room_bans()
                .is_banned(room.id, user_id)
                .await?
        {
            return Ok(None);
        }
        Ok(self
            .dir
            .store
            .access_requests()
            .add(room.id, user_id, self.dir.clock.now_millis())
            .await?
            .then_some(room))
    }

    pub async fn requests(
        &self,
        identity: &Identity,
        slug: &str,
    ) -> Result<Vec<RequestView>, RoomError> {
        let (room, _) = self.dir.moderated(identity, slug).await?;
        let pending = self.dir.store.access_requests().list(room.id).await?;
        Ok(pending
            .into_iter()
            .map(|r| RequestView {
                name: r.name,
                created_at: r.created_at,
            })
            .collect())
    }

    /// Approves or denies a pending request; returns the room and the requester's id.
    pub async fn decide(
        &self,
        identity: &Identity,
        slug: &str,
        requester: &str,
        approve: bool,
    ) -> Result<(Room, i64), RoomError> {
        let (room, _) = self.dir.moderated(identity, slug).await?;
        let user = self.dir.member_account(requester).await?;
        if !self
            .dir
            .store
            .access_requests()
            .drop(room.id, user.id)
            .await?
        {
            return Err(RoomError::NoSuchMember);
        }
        if approve {
            self.dir
                .store
                .members()
                .add(
                    room.id,
                    user.id,
                    RoomRole::Member.as_str(),
                    self.dir.clock.now_millis(),
                )
                .await?;
        }
        Ok((room, user.id))
    }
}
