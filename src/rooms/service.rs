//! The room service: persistent rooms themselves (create, list, see, configure, delete), and
//! the door to the services with one concern each — [`History`], [`Membership`],
//! [`RoomAccess`] (invites and requests), [`Conversations`], [`Ephemeral`] rooms and
//! [`RoomsAdmin`]. It answers "may this identity do this to this room?" and does it in the
//! store; live effects (presence, fan-out, telling people) are the core's part.

use super::access::RoomAccess;
use super::admin::RoomsAdmin;
use super::changes::MessageChanges;
use super::conversations::Conversations;
use super::directory::Directory;
use super::ephemeral::Ephemeral;
use super::history::History;
use super::membership::Membership;
use super::view::{ArchiveView, RoomListing, RoomView};
use super::{Room, RoomError};
use crate::auth::Identity;
use crate::clock::Clock;
use crate::crypto::Keyring;
use crate::domain::{
    parse_room_name, parse_topic, Millis, Principal, RoomKind, RoomRole, RoomSlug,
};
use crate::store::{NewRoom, RoomSettings, Store, StoreError};
use argon2::password_hash::rand_core::{OsRng, RngCore};

/// Draws of a private address before giving up (each clashes with odds of one in 2^40).
const PRIVATE_ADDRESS_ATTEMPTS: usize = 3;

/// Eight random characters of `[a-z2-7]` (40 bits): the suffix of a private room's address.
fn private_suffix() -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut bytes = [0u8; 8];
    OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect()
}

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
    /// Seconds after sending during which the author may edit (0: no editing).
    pub edit_window_secs: u64,
    /// Distinct members one message may mention.
    pub max_mentions: usize,
    /// Who may call on the whole room.
    pub everyone_mentions: crate::domain::EveryoneMentions,
    /// Guests may join public rooms that admit them, and host ephemeral rooms.
    pub guests_in_rooms: bool,
    /// New conversations between two accounts with keys are end-to-end.
    pub e2e_conversations: bool,
}

/// What creating a room takes.
#[derive(Debug, Clone)]
pub struct CreateRoom {
    pub slug: String,
    pub name: Option<String>,
    pub topic: Option<String>,
    pub private: bool,
    /// End-to-end encrypted (the creator must have keys); never changed afterwards.
    pub e2e: bool,
}

/// A change of settings; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct SettingsPatch {
    pub name: Option<String>,
    pub topic: Option<String>,
    pub private: Option<bool>,
    pub allow_images: Option<bool>,
    pub allow_videos: Option<bool>,
    pub allow_audio: Option<bool>,
    pub allow_files: Option<bool>,
    pub ai_mentions: Option<bool>,
    pub allow_guests: Option<bool>,
    pub slow_mode_secs: Option<i64>,
    /// `Some(None)` removes the retention limit.
    pub retention_days: Option<Option<i64>>,
}

/// A room the caller may see, and their role in it (none for a public room they have not
/// joined).
#[derive(Debug, Clone)]
pub struct Visible {
    pub room: Room,
    pub role: Option<RoomRole>,
}

/// The room service. Cheap to clone.
#[derive(Clone)]
pub struct Rooms {
    dir: Directory,
    history: History,
    membership: Membership,
    access: RoomAccess,
    conversations: Conversations,
    ephemeral: Ephemeral,
    admin: RoomsAdmin,
    changes: MessageChanges,
}

/// Rooms need a registered account; guests get a clear error.
pub fn account_id(identity: &Identity) -> Result<i64, RoomError> {
    match identity.principal {
        Principal::User(id) => Ok(id),
        Principal::Guest(_) => Err(RoomError::RegistrationRequired),
    }
}

/// Who wrote a message (uploaded a file, hosted an archived room): an account's id, or a
/// guest's id negated.
pub fn author_id(identity: &Identity) -> i64 {
    author_id_of(identity.principal)
}

/// [`author_id`] of a principal.
pub fn author_id_of(principal: Principal) -> i64 {
    match principal {
        Principal::User(id) => id,
        Principal::Guest(id) => -id,
    }
}

impl Rooms {
    pub fn new(store: Store, keyring: Keyring, settings: RoomsSettings, clock: Clock) -> Self {
        let dir = Directory {
            store,
            keyring,
            settings,
            clock,
        };
        let history = History::new(dir.clone());
        let ephemeral = Ephemeral::new(dir.clone(), history.clone());
        Self {
            membership: Membership::new(dir.clone(), ephemeral.clone()),
            access: RoomAccess::new(dir.clone()),
            conversations: Conversations::new(dir.clone()),
            admin: RoomsAdmin::new(dir.clone(), history.clone(), ephemeral.clone()),
            changes: MessageChanges::new(dir.clone(), history.clone()),
            ephemeral,
            history,
            dir,
        }
    }

    pub fn settings(&self) -> &RoomsSettings {
        &self.dir.settings
    }

    /// Messages: posting, pages, clearing.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Edits, deletes and reactions.
    pub fn changes(&self) -> &MessageChanges {
        &self.changes
    }

    /// Joining, leaving, and what moderators do to members.
    pub fn membership(&self) -> &Membership {
        &self.membership
    }

    /// Invites and access requests.
    pub fn access(&self) -> &RoomAccess {
        &self.access
    }

    /// Private conversations.
    pub fn conversations(&self) -> &Conversations {
        &self.conversations
    }

    /// Ephemeral 1-on-1 rooms and their archives.
    pub fn ephemeral(&self) -> &Ephemeral {
        &self.ephemeral
    }

    /// The admin panel's reads and actions.
    pub fn admin(&self) -> &RoomsAdmin {
        &self.admin
    }

    /// Creates a room owned by the caller, with its own data key.
    pub async fn create(
        &self,
        identity: &Identity,
        new: CreateRoom,
    ) -> Result<RoomView, RoomError> {
        let owner_id = account_id(identity)?;
        let asked = RoomSlug::parse(&new.slug)?;
        let name = parse_room_name(new.name.as_deref().unwrap_or(asked.as_str()))?;
        let topic = parse_topic(new.topic.as_deref().unwrap_or(""))?;
        if new.e2e && self.dir.store.account_keys().of(owner_id).await?.is_none() {
            return Err(RoomError::KeysRequired);
        }
        // A private room gets an unguessable address (see `RoomSlug::private`); a clash of two
        // drawn suffixes is all but impossible, and is drawn again.
        let attempts = if new.private {
            PRIVATE_ADDRESS_ATTEMPTS
        } else {
            1
        };
        for _ in 0..attempts {
            let slug = if new.private {
                asked.private(&private_suffix())
            } else {
                asked.clone()
            };
            let data_key_id = self.dir.keyring.create_key().await?;
            let created = self
                .dir
                .store
                .rooms()
                .create(NewRoom {
                    kind: RoomKind::Room,
                    slug: slug.as_str(),
                    name: &name,
                    topic: topic.as_deref(),
                    private: new.private,
                    owner: Principal::User(owner_id),
                    data_key_id,
                    created_at: self.dir.clock.now_millis(),
                    e2e: new.e2e,
                })
                .await;
            match created {
                Ok(room) => return Ok(RoomView::of(&room.into(), Some(RoomRole::Owner))),
                Err(err) => {
                    self.dir.keyring.destroy_key(data_key_id).await?;
                    if !matches!(err, StoreError::Conflict(_)) {
                        return Err(err.into());
                    }
                }
            }
        }
        Err(RoomError::SlugTaken)
    }

    /// Every room the caller may know about, with their access to it.
    pub async fn list(&self, identity: &Identity) -> Result<Vec<RoomListing>, RoomError> {
        let Principal::User(user_id) = identity.principal else {
            return self.list_for_guest().await;
        };
        let email_key = identity.email.as_deref().map(str::to_ascii_lowercase);
        let listed = self
            .dir
            .store
            .rooms()
            .listed_for(user_id, email_key.as_deref(), self.dir.clock.now_millis())
            .await?;
        Ok(listed.into_iter().map(RoomListing::from).collect())
    }

    /// The public rooms a guest may join (none when the server keeps guests out of rooms).
    async fn list_for_guest(&self) -> Result<Vec<RoomListing>, RoomError> {
        if !self.dir.settings.guests_in_rooms {
            return Ok(Vec::new());
        }
        let listed = self
            .dir
            .store
            .rooms()
            .listed_for(0, None, self.dir.clock.now_millis())
            .await?;
        Ok(listed
            .into_iter()
            .filter(|l| l.room.private == 0 && l.room.allow_guests != 0)
            .map(RoomListing::from)
            .collect())
    }

    /// A room by its address, whoever asks: for the server's own writers (the AI companion
    /// answering a mention), never for a client's request.
    pub async fn find(&self, slug: &str) -> Result<Option<Room>, RoomError> {
        self.dir.by_slug(slug).await
    }

    /// The room if the caller may see it: members see their rooms (a conversation once they
    /// have accepted it, an ephemeral room once they joined it from an admitted device);
    /// everyone not banned sees public rooms (guests, those that admit guests). Anything else
    /// answers like a room that does not exist.
    pub async fn visible(&self, identity: &Identity, name: &str) -> Result<Visible, RoomError> {
        self.dir.visible(identity, name).await
    }

    /// The ids of a room's members (who must hear that a private room changed).
    pub async fn member_ids(&self, room_id: i64) -> Result<Vec<i64>, RoomError> {
        let members = self.dir.store.members().list(room_id).await?;
        Ok(members.into_iter().map(|m| m.user_id).collect())
    }

    /// Changes settings; returns the updated room.
    pub async fn update_settings(
        &self,
        identity: &Identity,
        slug: &str,
        patch: SettingsPatch,
    ) -> Result<RoomView, RoomError> {
        let (room, role) = self.dir.moderated(identity, slug).await?;
        let settings = RoomSettings {
            name: match patch.name {
                Some(name) => parse_room_name(&name)?,
                None => room.name.clone(),
            },
            topic: match patch.topic {
                Some(topic) => parse_topic(&topic)?,
                None => room.topic.clone(),
            },
            private: patch.private.unwrap_or(room.private),
            allow_images: patch.allow_images.unwrap_or(room.allow_images),
            allow_videos: patch.allow_videos.unwrap_or(room.allow_videos),
            allow_audio: patch.allow_audio.unwrap_or(room.allow_audio),
            allow_files: patch.allow_files.unwrap_or(room.allow_files),
            ai_mentions: patch.ai_mentions.unwrap_or(room.ai_mentions),
            allow_guests: patch.allow_guests.unwrap_or(room.allow_guests),
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
        self.dir
            .store
            .rooms()
            .update_settings(room.id, &settings)
            .await?;
        let updated = self.dir.by_id(room.id).await?.ok_or(RoomError::NotFound)?;
        Ok(RoomView::of(&updated, Some(role)))
    }

    /// Deletes the room with its messages, invites and data key (owner only).
    pub async fn delete(&self, identity: &Identity, slug: &str) -> Result<Room, RoomError> {
        let (room, role) = self.dir.moderated(identity, slug).await?;
        if role != RoomRole::Owner {
            return Err(RoomError::Forbidden);
        }
        self.dir.destroy(&room).await?;
        Ok(room)
    }

    /// Upkeep: follows master-key rotations, forgets expired access requests and deletes
    /// messages past their room's retention (returns how many).
    pub async fn upkeep(&self, now: Millis) -> Result<u64, RoomError> {
        self.dir.keyring.follow_rotation().await?;
        self.dir.store.access_requests().purge_expired(now).await?;
        self.history.prune(now).await
    }

    /// An archive with its transcript opened (as [`Ephemeral::archive`]; for tools that read
    /// archives with only the room service at hand).
    pub async fn archive(&self, id: i64) -> Result<ArchiveView, RoomError> {
        self.ephemeral.archive(id).await
    }

    /// Archive ids, newest first (as [`Ephemeral::archive_ids`]).
    pub async fn archive_ids(&self, limit: i64, before_id: i64) -> Result<Vec<i64>, RoomError> {
        self.ephemeral.archive_ids(limit, before_id).await
    }
}
