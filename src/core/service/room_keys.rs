//! End-to-end rooms' keys by epoch, live (see `docs/e2ee.md`): members read the room keys
//! sealed to them and the members' public keys, and store keys they sealed; the members hear
//! `room_keys` whenever there is something to do — a new epoch, keys stored, or a member who
//! lacks the current key asking. The server never holds anything that opens a room key.
//!
//! A member who reads the keys without holding the current one makes the server ask the
//! others (at most once per [`ASK_AGAIN`] per member and room). That one rule covers every way
//! of becoming a member (joining, an invite, an approved request, an admin's move, a new
//! conversation) without a hook in each.

use crate::auth::Identity;
use crate::clock::Clock;
use crate::core::{Bus, CoreError, Directive, Event};
use crate::domain::{
    fingerprint, safety_number, Name, Principal, PublicKey, RoomRole, SealedKey, StoredJson,
};
use crate::rooms::{RoomError, Rooms, Visible};
use crate::store::{KeyMemberRow, Store, StoreKeys};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// How long a member's ask for the current key stands before it is made again.
const ASK_AGAIN: Duration = Duration::from_secs(5);
/// Most sealed keys one request stores.
pub const MAX_SEALED_KEYS: usize = 500;

/// A room's keys as one member sees them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoomKeysView {
    pub room: String,
    /// The current epoch.
    pub epoch: i64,
    /// Every room key sealed to the caller, newest epoch first.
    pub keys: Vec<HeldKey>,
    /// The current members, by name.
    pub members: Vec<KeyMember>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HeldKey {
    pub epoch: i64,
    pub sealed: SealedKey,
    /// The member who sealed it, whose signature it carries (none: a deleted account).
    pub sealed_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyMember {
    pub name: String,
    /// Holds the current epoch's key.
    pub has_key: bool,
    /// Its public keys; none when it has not set up end-to-end encryption.
    pub keys: Option<MemberKeys>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberKeys {
    pub agreement_public: String,
    pub signing_public: String,
    pub fingerprint: String,
    pub safety_number: String,
}

/// What storing sealed keys did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoredKeys {
    pub epoch: i64,
    /// Keys that were new (a key already held is kept).
    pub stored: u64,
}

pub struct RoomKeys {
    rooms: Arc<Rooms>,
    store: Store,
    clock: Clock,
    bus: Arc<dyn Bus>,
    /// When each (room, member) last asked for the current key.
    asked: Mutex<HashMap<(i64, i64), Instant>>,
}

impl RoomKeys {
    pub fn new(rooms: Arc<Rooms>, store: Store, clock: Clock, bus: Arc<dyn Bus>) -> Self {
        Self {
            rooms,
            store,
            clock,
            bus,
            asked: Mutex::new(HashMap::new()),
        }
    }

    /// The caller's keys of an end-to-end room it is a member of, and who holds what.
    pub async fn show(&self, identity: &Identity, name: &str) -> Result<RoomKeysView, CoreError> {
        let (room, user_id) = self.member_of(identity, name).await?;
        let reads = self.store.room_epoch_keys();
        let keys: Vec<HeldKey> = reads
            .held_by(room.id, user_id)
            .await?
            .into_iter()
            .filter_map(|row| {
                Some(HeldKey {
                    epoch: row.epoch,
                    sealed: SealedKey::from_json(&row.sealed)?,
                    sealed_by: row.sealed_by,
                })
            })
            .collect();
        let members = reads.members(room.id, room.epoch).await?;
        let lacking = !keys.iter().any(|k| k.epoch == room.epoch);
        if lacking && members.iter().any(|m| m.has_key != 0) && self.may_ask(room.id, user_id) {
            announce_to(&*self.bus, &room.slug, room.epoch, &members);
        }
        Ok(RoomKeysView {
            room: room.slug,
            epoch: room.epoch,
            keys,
            members: members.into_iter().map(member_view).collect(),
        })
    }

    /// Stores keys of `epoch` the caller sealed to members (see `docs/e2ee.md`).
    pub async fn store(
        &self,
        identity: &Identity,
        name: &str,
        epoch: i64,
        sealed: Vec<(Name, SealedKey)>,
    ) -> Result<StoredKeys, CoreError> {
        if sealed.is_empty() || sealed.len() > MAX_SEALED_KEYS {
            return Err(invalid(format!("keys: 1 to {MAX_SEALED_KEYS}")));
        }
        let (room, user_id) = self.member_of(identity, name).await?;
        let members = self.store.room_epoch_keys().members(room.id, epoch).await?;
        let mut keys: Vec<(i64, String)> = Vec::with_capacity(sealed.len());
        for (to, key) in sealed {
            let member = members
                .iter()
                .find(|m| m.name.eq_ignore_ascii_case(to.as_str()))
                .filter(|m| m.agreement_public.is_some())
                .ok_or_else(|| invalid(format!("{to} is not a member with end-to-end keys")))?;
            if keys.iter().any(|(id, _)| *id == member.user_id) {
                return Err(invalid(format!("{to}: one key per member")));
            }
            keys.push((member.user_id, key.to_json()));
        }
        let outcome = self
            .store
            .room_epoch_keys()
            .store(room.id, epoch, user_id, &keys, self.clock.now_millis())
            .await?;
        match outcome {
            StoreKeys::Stored(stored) => {
                if stored > 0 {
                    self.announce(room.id).await?;
                }
                Ok(StoredKeys { epoch, stored })
            }
            StoreKeys::StaleEpoch => Err(RoomError::StaleEpoch(epoch, room.epoch).into()),
            StoreKeys::KeyExists => Err(RoomError::EpochKeyExists.into()),
            StoreKeys::NotToSelf => Err(invalid(
                "the first key of an epoch is sealed to its maker too".into(),
            )),
        }
    }

    /// Tells an end-to-end room's members to read its keys again (a new epoch, keys stored);
    /// nothing for a room that is not end-to-end or no longer exists.
    pub async fn announce(&self, room_id: i64) -> Result<(), CoreError> {
        let Some(room) = self.store.rooms().by_id(room_id).await? else {
            return Ok(());
        };
        if room.e2e == 0 {
            return Ok(());
        }
        let members = self
            .store
            .room_epoch_keys()
            .members(room.id, room.e2e_epoch)
            .await?;
        announce_to(&*self.bus, &room.slug, room.e2e_epoch, &members);
        Ok(())
    }

    /// The end-to-end room `name` and the caller's account, if it is a member.
    async fn member_of(
        &self,
        identity: &Identity,
        name: &str,
    ) -> Result<(crate::rooms::Room, i64), CoreError> {
        let Principal::User(user_id) = identity.principal else {
            return Err(RoomError::RegistrationRequired.into());
        };
        let Visible { room, role } = self.rooms.visible(identity, name).await?;
        if matches!(role, None | Some(RoomRole::Guest)) {
            return Err(RoomError::NotFound.into());
        }
        if !room.e2e {
            return Err(RoomError::NotE2e.into());
        }
        Ok((room, user_id))
    }

    /// Whether this member's ask may go out now (not again within [`ASK_AGAIN`]).
    fn may_ask(&self, room_id: i64, user_id: i64) -> bool {
        let mut asked = self.asked.lock().unwrap_or_else(PoisonError::into_inner);
        let now = self.clock.instant();
        asked.retain(|_, at| now.duration_since(*at) < ASK_AGAIN);
        if asked.contains_key(&(room_id, user_id)) {
            return false;
        }
        asked.insert((room_id, user_id), now);
        true
    }
}

fn invalid(message: String) -> CoreError {
    RoomError::InvalidKeys(message).into()
}

/// `room_keys` to every member of the room, on every node.
fn announce_to(bus: &dyn Bus, room: &str, epoch: i64, members: &[KeyMemberRow]) {
    for member in members {
        bus.direct(Directive::Tell {
            principal: Principal::User(member.user_id),
            event: Event::RoomKeys {
                room: room.to_owned(),
                epoch,
            },
        });
    }
}

fn member_view(row: KeyMemberRow) -> KeyMember {
    let keys = match (row.agreement_public, row.signing_public, row.fingerprint) {
        (Some(agreement_public), Some(signing_public), Some(digest)) => {
            let number = PublicKey::parse(&agreement_public, "agreement_public")
                .and_then(|a| Ok((a, PublicKey::parse(&signing_public, "signing_public")?)))
                .map(|(a, s)| safety_number(&fingerprint(&a, &s)))
                .unwrap_or_default();
            Some(MemberKeys {
                agreement_public,
                signing_public,
                fingerprint: digest,
                safety_number: number,
            })
        }
        _ => None,
    };
    KeyMember {
        name: row.name,
        has_key: row.has_key != 0,
        keys,
    }
}
