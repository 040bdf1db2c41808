//! Getting into a private room: invite links (expiry, use limit, e-mail binding, revocation)
//! and access requests that the room's owner and admins decide on.
//!
//! Neither may tell an outsider more than a missing room would. An invite that cannot be used
//! answers like a token that never existed, whatever the reason. An access request is kept by
//! the address the requester typed, whether or not a room holds it: the requester sees it
//! listed (by that address only) until it is approved or expires, and a denial is not
//! announced — it leaves the request to expire, because "denied" is an answer an address
//! nobody holds could never give. Only an approval, which makes the requester a member, tells
//! them the room exists.

use super::directory::Directory;
use super::service::account_id;
use super::view::{InviteView, OwnRequest, RequestView};
use super::{Room, RoomError};
use crate::auth::{hash_token, new_secret, Identity};
use crate::domain::{Email, Name, Principal, RoomRole, RoomSlug};
use crate::store::{InviteRow, NewInvite, RequestedRoom};

/// What creating an invite takes.
#[derive(Debug, Clone)]
pub struct CreateInvite {
    pub ttl_secs: i64,
    pub max_uses: Option<i64>,
    pub email: Option<String>,
}

/// The longest an invite may live: 30 days.
const MAX_INVITE_TTL_SECS: i64 = 30 * 24 * 3600;

/// How long an access request stays in force unless approved: 7 days.
pub const REQUEST_TTL_MILLIS: i64 = 7 * 24 * 3600 * 1000;

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

    /// Joins the room an invite token opens. Every refusal — an unknown token, an expired,
    /// used-up or revoked invite, one bound to another e-mail, a room the caller is banned
    /// from or that is gone — is the same [`RoomError::InviteUnusable`].
    pub async fn redeem_invite(&self, identity: &Identity, token: &str) -> Result<Room, RoomError> {
        let user_id = account_id(identity)?;
        let invite: InviteRow = self
            .dir
            .store
            .invites()
            .by_token_hash(&hash_token(token))
            .await?
            .ok_or(RoomError::InviteUnusable)?;
        if let Some(bound) = &invite.email_key {
            let own = identity.email.as_deref().map(str::to_ascii_lowercase);
            if own.as_deref() != Some(bound.as_str()) {
                return Err(RoomError::InviteUnusable);
            }
        }
        if self
            .dir
            .store
            .room_bans()
            .is_banned(invite.room_id, user_id)
            .await?
        {
            return Err(RoomError::InviteUnusable);
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
        room.ok_or(RoomError::InviteUnusable)
    }

    /// Asks to join whatever room holds `slug`. A request is recorded, by address, for every
    /// address the caller cannot see a room at — a private room they are not in and an
    /// address nobody holds alike, with the same queries. Returns the address and the owner
    /// and admins to tell: those of a private room, when the request is new (none otherwise);
    /// `None` for what cannot be a room's address.
    pub async fn request_access(
        &self,
        identity: &Identity,
        slug: &str,
    ) -> Result<Option<(RoomSlug, Vec<i64>)>, RoomError> {
        let user_id = account_id(identity)?;
        // Conversations and ephemeral rooms have no address anyone could ask for: such a name
        // is accepted as every request is, and nothing is recorded.
        let Ok(slug) = RoomSlug::parse(slug) else {
            return Ok(None);
        };
        match self.dir.visible(identity, slug.as_str()).await {
            // A room the caller sees (or is banned from) is no secret to them: nothing to ask.
            Ok(_) | Err(RoomError::Banned) => return Ok(Some((slug, Vec::new()))),
            Err(RoomError::NotFound) => {}
            Err(other) => return Err(other),
        }
        let now = self.dir.clock.now_millis();
        let requests = self.dir.store.access_requests();
        if !requests
            .ask(slug.as_str(), user_id, now, now + REQUEST_TTL_MILLIS)
            .await?
        {
            return Ok(Some((slug, Vec::new())));
        }
        let moderators = requests.moderators_to_tell(slug.as_str(), user_id).await?;
        Ok(Some((slug, moderators)))
    }

    /// The caller's own requests in force, by the address they asked for.
    pub async fn own_requests(&self, identity: &Identity) -> Result<Vec<OwnRequest>, RoomError> {
        // A guest cannot ask for access: it has none waiting.
        let Principal::User(user_id) = identity.principal else {
            return Ok(Vec::new());
        };
        let now = self.dir.clock.now_millis();
        let rows = self
            .dir
            .store
            .access_requests()
            .of_user(user_id, now)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The requests a room's owner and admins may decide.
    pub async fn requests(
        &self,
        identity: &Identity,
        slug: &str,
    ) -> Result<Vec<RequestView>, RoomError> {
        let (room, _) = self.dir.moderated(identity, slug).await?;
        let pending = self
            .dir
            .store
            .access_requests()
            .pending_for(requested(&room), self.dir.clock.now_millis())
            .await?;
        Ok(pending
            .into_iter()
            .map(|r| RequestView {
                name: r.name,
                created_at: r.created_at,
            })
            .collect())
    }

    /// Approves (the requester becomes a member) or denies (the request is dismissed and left
    /// to expire) a pending request; returns the room and the requester's id.
    pub async fn decide(
        &self,
        identity: &Identity,
        slug: &str,
        requester: &Name,
        approve: bool,
    ) -> Result<(Room, i64), RoomError> {
        let (room, _) = self.dir.moderated(identity, slug).await?;
        let user = self.dir.member_account(requester).await?;
        let now = self.dir.clock.now_millis();
        if !self
            .dir
            .store
            .access_requests()
            .settle(requested(&room), user.id, approve, now)
            .await?
        {
            return Err(RoomError::NoSuchMember);
        }
        if approve {
            self.dir
                .store
                .members()
                .add(room.id, user.id, RoomRole::Member.as_str(), now)
                .await?;
        }
        Ok((room, user.id))
    }
}

/// What the request queries need to know of a room.
fn requested(room: &Room) -> RequestedRoom<'_> {
    RequestedRoom {
        id: room.id,
        slug: &room.slug,
        created_at: room.created_at,
    }
}
