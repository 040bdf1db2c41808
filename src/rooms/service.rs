//! The room service: every rule about persistent rooms, whichever path (real-time command or
//! REST) a request comes by. It answers "may this identity do this to this room?" and does it
//! in the store; live effects (presence, fan-out, telling people) are the core's part.

use super::view::{PlainMessage, RoomListing, RoomView};
use super::RoomError;
use crate::auth::Identity;
use crate::crypto::Keyring;
use crate::domain::{
    now_millis, parse_room_name, parse_topic, MessageText, Millis, RoomCode, RoomKind, RoomRole,
    RoomSlug,
};
use crate::store::{
    Appended, MessageRow, NewMessage, NewRoom, Principal, RoomRow, RoomSettings, Store, StoreError,
    UserRow,
};

/// Room rules that come from configuration.
#[derive(Clone, Debug)]
pub struct RoomsSettings {
    pub max_message_chars: usize,
    /// Messages a join shows, and the largest history page.
    pub history_page: usize,
    /// Messages kept per private conversation.
    pub pm_history_cap: usize,
    /// Seconds an activated ephemeral room stays open.
    pub ephemeral_ttl_secs: u64,
}

/// What creating a room takes.
#[derive(Debug, Clone)]
pub struct CreateRoom {
    pub slug: String,
    pub name: Option<String>,
    pub topic: Option<String>,
    pub private: bool,
}

/// A change of settings; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct SettingsPatch {
    pub name: Option<String>,
    pub topic: Option<String>,
    pub private: Option<bool>,
    pub allow_images: Option<bool>,
    pub allow_videos: Option<bool>,
    pub slow_mode_secs: Option<i64>,
    /// `Some(None)` removes the retention limit.
    pub retention_days: Option<Option<i64>>,
}

/// A room the caller may see, and their role in it (none for a public room they have not
/// joined).
#[derive(Debug, Clone)]
pub struct Visible {
    pub room: RoomRow,
    pub role: Option<RoomRole>,
}

/// The room service. Cheap to clone.
#[derive(Clone)]
pub struct Rooms {
    pub(super) store: Store,
    pub(super) keyring: Keyring,
    pub(super) settings: RoomsSettings,
}

/// Rooms need a registered account; guests get a clear error.
pub fn account_id(identity: &Identity) -> Result<i64, RoomError> {
    match identity.principal {
        Principal::User(id) => Ok(id),
        Principal::Guest(_) => Err(RoomError::RegistrationRequired),
    }
}

/// Who wrote a message: an account's id, or a guest's id negated (guests write only in
/// ephemeral rooms).
pub fn author_id(identity: &Identity) -> i64 {
    match identity.principal {
        Principal::User(id) => id,
        Principal::Guest(id) => -id,
    }
}

pub(super) fn parse_role(role: Option<String>) -> Option<RoomRole> {
    role.and_then(|r| r.parse().ok())
}

impl Rooms {
    pub fn new(store: Store, keyring: Keyring, settings: RoomsSettings) -> Self {
        Self {
            store,
            keyring,
            settings,
        }
    }

    pub fn settings(&self) -> &RoomsSettings {
        &self.settings
    }

    /// Creates a room owned by the caller, with its own data key.
    pub async fn create(
        &self,
        identity: &Identity,
        new: CreateRoom,
    ) -> Result<RoomView, RoomError> {
        let owner_id = account_id(identity)?;
        let slug = RoomSlug::parse(&new.slug)?;
        let name = parse_room_name(new.name.as_deref().unwrap_or(slug.as_str()))?;
        let topic = parse_topic(new.topic.as_deref().unwrap_or(""))?;
        let data_key_id = self.keyring.create_key().await?;
        let created = self
            .store
            .create_room(NewRoom {
                kind: RoomKind::Room,
                slug: slug.as_str(),
                name: &name,
                topic: topic.as_deref(),
                private: new.private,
                owner_id,
                data_key_id,
                created_at: now_millis(),
            })
            .await;
        match created {
            Ok(room) => Ok(RoomView::of(&room, Some(RoomRole::Owner))),
            Err(err) => {
                self.keyring.destroy_key(data_key_id).await?;
                Err(match err {
                    StoreError::Conflict(_) => RoomError::SlugTaken,
                    other => other.into(),
                })
            }
        }
    }

    /// Every room the caller may know about, with their access to it.
    pub async fn list(&self, identity: &Identity) -> Result<Vec<RoomListing>, RoomError> {
        let user_id = account_id(identity)?;
        let email_key = identity.email.as_deref().map(str::to_ascii_lowercase);
        let listed = self
            .store
            .rooms_for_user(user_id, email_key.as_deref(), now_millis())
            .await?;
        Ok(listed.into_iter().map(RoomListing::from).collect())
    }

    /// The room if the caller may see it: members see their rooms (a conversation once they
    /// have accepted it, an ephemeral room once they joined it from an admitted device);
    /// everyone not banned sees public rooms. Anything else answers like a room that does not
    /// exist.
    pub async fn visible(&self, identity: &Identity, name: &str) -> Result<Visible, RoomError> {
        if let Some(code) = RoomCode::from_room_name(name) {
            return self.ephemeral_visible(identity, &code).await;
        }
        let user_id = account_id(identity)?;
        let room = self
            .store
            .room_by_slug(&name.to_ascii_lowercase())
            .await?
            .ok_or(RoomError::NotFound)?;
        let role = parse_role(self.store.member_role(room.id, user_id).await?);
        match (room.kind(), role) {
            (RoomKind::Room, Some(_)) => {}
            (RoomKind::Room, None) if room.private == 0 => {
                if self.store.is_banned_from_room(room.id, user_id).await? {
                    return Err(RoomError::Banned);
                }
            }
            (RoomKind::Pm, Some(_)) if !self.store.pm_invite_pending(room.id, user_id).await? => {}
            _ => return Err(RoomError::NotFound),
        }
        Ok(Visible { room, role })
    }

    /// The room and the caller's role when they are an owner or admin there.
    pub(super) async fn moderated(
        &self,
        identity: &Identity,
        slug: &str,
    ) -> Result<(RoomRow, RoomRole), RoomError> {
        match self.visible(identity, slug).await? {
            Visible {
                room,
                role: Some(role),
            } if role.moderates() && room.kind() == RoomKind::Room => Ok((room, role)),
            _ => Err(RoomError::Forbidden),
        }
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
            return self.join_ephemeral(identity, &code, device).await;
        }
        let Visible { room, role } = self.visible(identity, name).await?;
        if let Some(role) = role {
            return Ok(Visible {
                room,
                role: Some(role),
            });
        }
        self.store
            .add_member(
                room.id,
                account_id(identity)?,
                RoomRole::Member.as_str(),
                now_millis(),
            )
            .await?;
        Ok(Visible {
            room,
            role: Some(RoomRole::Member),
        })
    }

    /// Gives up membership. The owner cannot leave their own room (they delete it).
    pub async fn leave(&self, identity: &Identity, slug: &str) -> Result<RoomRow, RoomError> {
        let Visible { room, role } = self.visible(identity, slug).await?;
        match role {
            _ if room.kind() != RoomKind::Room => Err(RoomError::Forbidden),
            Some(RoomRole::Owner) => Err(RoomError::Forbidden),
            Some(_) => {
                self.store
                    .remove_member(room.id, account_id(identity)?)
                    .await?;
                Ok(room)
            }
            None => Err(RoomError::NoSuchMember),
        }
    }

    /// Stores a message from a member, sealed with the room's key. Returns the message and
    /// whether it is new (`false`: a retry of a message already stored).
    pub async fn post(
        &self,
        identity: &Identity,
        room: &RoomRow,
        text: &str,
        client_msg_id: Option<&str>,
    ) -> Result<(PlainMessage, bool), RoomError> {
        let author_id = author_id(identity);
        let text = MessageText::parse(text, self.settings.max_message_chars)?;
        let key = self.keyring.key(room.data_key_id).await?;
        let room_id = room.id;
        let appended = self
            .store
            .append_message(
                NewMessage {
                    room_id,
                    author_id,
                    author_name: &identity.name,
                    author_role: identity.role.as_str(),
                    client_msg_id,
                    created_at: now_millis(),
                },
                |seq| {
                    key.seal(
                        text.as_str().as_bytes(),
                        message_context(room_id, seq).as_bytes(),
                    )
                },
            )
            .await?;
        match appended {
            Appended::New(row) => Ok((self.open(&key, row)?, true)),
            Appended::Existing(row) => Ok((self.open(&key, row)?, false)),
        }
    }

    /// Up to one page of messages after sequence `after` (resuming), oldest first.
    pub async fn messages_after(
        &self,
        room: &RoomRow,
        after: i64,
    ) -> Result<Vec<PlainMessage>, RoomError> {
        let rows = self
            .store
            .messages_after(room.id, after, self.page(None))
            .await?;
        self.open_all(room, rows).await
    }

    /// The page of messages before sequence `before` (or the latest page), oldest first.
    pub async fn messages_before(
        &self,
        room: &RoomRow,
        before: Option<i64>,
        limit: Option<usize>,
    ) -> Result<Vec<PlainMessage>, RoomError> {
        let rows = self
            .store
            .messages_before(room.id, before.unwrap_or(i64::MAX), self.page(limit))
            .await?;
        self.open_all(room, rows).await
    }

    fn page(&self, limit: Option<usize>) -> i64 {
        let page = limit
            .unwrap_or(self.settings.history_page)
            .clamp(1, self.settings.history_page);
        i64::try_from(page).unwrap_or(200)
    }

    pub(super) async fn open_all(
        &self,
        room: &RoomRow,
        rows: Vec<MessageRow>,
    ) -> Result<Vec<PlainMessage>, RoomError> {
        let key = self.keyring.key(room.data_key_id).await?;
        rows.into_iter().map(|row| self.open(&key, row)).collect()
    }

    fn open(
        &self,
        key: &crate::crypto::SecretKey,
        row: MessageRow,
    ) -> Result<PlainMessage, RoomError> {
        let plain = key
            .open(&row.body, message_context(row.room_id, row.seq).as_bytes())
            .map_err(|e| RoomError::Crypto(e.into()))?;
        Ok(PlainMessage {
            id: row.id,
            author_id: row.author_id,
            seq: row.seq,
            author_name: row.author_name,
            author_role: row.author_role,
            client_msg_id: row.client_msg_id,
            text: String::from_utf8_lossy(&plain).into_owned(),
            created_at: row.created_at,
        })
    }

    /// The members of a room the caller may see.
    pub async fn members(
        &self,
        identity: &Identity,
        slug: &str,
    ) -> Result<Vec<super::MemberView>, RoomError> {
        let Visible { room, .. } = self.visible(identity, slug).await?;
        Ok(self
            .store
            .members(room.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub(super) async fn user(&self, name: &str) -> Result<UserRow, RoomError> {
        self.store
            .user_by_name_key(&name.to_ascii_lowercase())
            .await?
            .ok_or(RoomError::NoSuchMember)
    }

    /// Removes a member ranked below the caller; returns the room and the member's id.
    pub async fn remove_member(
        &self,
        identity: &Identity,
        slug: &str,
        name: &str,
    ) -> Result<(RoomRow, i64), RoomError> {
        let (room, role) = self.moderated(identity, slug).await?;
        let user = self.user(name).await?;
        let target = parse_role(self.store.member_role(room.id, user.id).await?)
            .ok_or(RoomError::NoSuchMember)?;
        if !role.may_act_on(target) {
            return Err(RoomError::Forbidden);
        }
        self.store.remove_member(room.id, user.id).await?;
        Ok((room, user.id))
    }

    /// Bans a user from the room (removing them if a member); they cannot come back, not even
    /// by invite.
    pub async fn ban_member(
        &self,
        identity: &Identity,
        slug: &str,
        name: &str,
    ) -> Result<(RoomRow, i64), RoomError> {
        let (room, role) = self.moderated(identity, slug).await?;
        let user = self.user(name).await?;
        let target = parse_role(self.store.member_role(room.id, user.id).await?);
        if user.id == account_id(identity)? || target.is_some_and(|t| !role.may_act_on(t)) {
            return Err(RoomError::Forbidden);
        }
        self.store
            .ban_from_room(room.id, user.id, account_id(identity)?, now_millis())
            .await?;
        Ok((room, user.id))
    }

    pub async fn unban_member(
        &self,
        identity: &Identity,
        slug: &str,
        name: &str,
    ) -> Result<(), RoomError> {
        let (room, _) = self.moderated(identity, slug).await?;
        let user = self.user(name).await?;
        if self.store.unban_from_room(room.id, user.id).await? {
            Ok(())
        } else {
            Err(RoomError::NoSuchMember)
        }
    }

    /// The owner makes a member an admin or an admin a member.
    pub async fn set_member_role(
        &self,
        identity: &Identity,
        slug: &str,
        name: &str,
        new_role: RoomRole,
    ) -> Result<RoomRow, RoomError> {
        let (room, role) = self.moderated(identity, slug).await?;
        if role != RoomRole::Owner || new_role == RoomRole::Owner {
            return Err(RoomError::Forbidden);
        }
        let user = self.user(name).await?;
        let target = parse_role(self.store.member_role(room.id, user.id).await?)
            .ok_or(RoomError::NoSuchMember)?;
        if target == RoomRole::Owner {
            return Err(RoomError::Forbidden);
        }
        self.store
            .set_member_role(room.id, user.id, new_role.as_str())
            .await?;
        Ok(room)
    }

    /// Deletes every message of the room.
    pub async fn clear_history(
        &self,
        identity: &Identity,
        slug: &str,
    ) -> Result<RoomRow, RoomError> {
        let (room, _) = self.moderated(identity, slug).await?;
        self.store.clear_messages(room.id).await?;
        Ok(room)
    }

    /// Changes settings; returns the updated room.
    pub async fn update_settings(
        &self,
        identity: &Identity,
        slug: &str,
        patch: SettingsPatch,
    ) -> Result<RoomView, RoomError> {
        let (room, role) = self.moderated(identity, slug).await?;
        let settings = RoomSettings {
            name: match patch.name {
                Some(name) => parse_room_name(&name)?,
                None => room.name.clone(),
            },
            topic: match patch.topic {
                Some(topic) => parse_topic(&topic)?,
                None => room.topic.clone(),
            },
            private: patch.private.unwrap_or(room.private != 0),
            allow_images: patch.allow_images.unwrap_or(room.allow_images != 0),
            allow_videos: patch.allow_videos.unwrap_or(room.allow_videos != 0),
            slow_mode_secs: patch.slow_mode_secs.unwrap_or(room.slow_mode_secs),
            retention_days: patch.retention_days.unwrap_or(room.retention_days),
        };
        if !(0..=86_400).contains(&settings.slow_mode_secs) {
            return Err(RoomError::InvalidSetting(
                "slow_mode_secs must be between 0 and 86400",
            ));
        }
        if settings
            .retention_days
            .is_some_and(|d| !(1..=36_500).contains(&d))
        {
            return Err(RoomError::InvalidSetting(
                "retention_days must be between 1 and 36500",
            ));
        }
        self.store.update_room_settings(room.id, &settings).await?;
        let updated = self
            .store
            .room_by_id(room.id)
            .await?
            .ok_or(RoomError::NotFound)?;
        Ok(RoomView::of(&updated, Some(role)))
    }

    /// Deletes the room with its messages, invites and data key (owner only).
    pub async fn delete(&self, identity: &Identity, slug: &str) -> Result<RoomRow, RoomError> {
        let (room, role) = self.moderated(identity, slug).await?;
        if role != RoomRole::Owner {
            return Err(RoomError::Forbidden);
        }
        self.store.delete_room(room.id).await?;
        self.keyring.destroy_key(room.data_key_id).await?;
        Ok(room)
    }

    /// The owner and admins of a room (to tell them about access requests).
    pub async fn moderator_ids(&self, room_id: i64) -> Result<Vec<i64>, RoomError> {
        let members = self.store.members(room_id).await?;
        Ok(members
            .into_iter()
            .filter(|m| parse_role(Some(m.role.clone())).is_some_and(RoomRole::moderates))
            .map(|m| m.user_id)
            .collect())
    }

    /// Upkeep: follows master-key rotations and deletes messages past their room's retention.
    pub async fn upkeep(&self, now: Millis) -> Result<u64, RoomError> {
        self.keyring.follow_rotation().await?;
        let mut pruned = 0;
        for (room_id, days) in self.store.rooms_with_retention().await? {
            pruned += self
                .store
                .prune_messages(room_id, now - days * 86_400_000)
                .await?;
        }
        Ok(pruned)
    }
}

/// The associated data of a message body: its room and sequence number, so a body copied to
/// another row does not decrypt.
fn message_context(room_id: i64, seq: i64) -> String {
    format!("parlor:message:room:{room_id}:seq:{seq}")
}
