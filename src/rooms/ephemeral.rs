//! Ephemeral 1-on-1 rooms. A registered host creates one and gets a short code; activating
//! it starts its timer (`ephemeral_ttl_secs`). Whoever holds the code joins from a device
//! (an id the browser keeps); the room admits the first two devices and refuses any other.
//! When the timer runs out the room closes and its transcript is sealed into an archive for
//! the admin audit; rooms never activated are dropped after the same time.

use super::view::{ArchiveView, EphemeralDoor, EphemeralView, Transcript, TranscriptLine};
use super::{account_id, RoomError, Rooms, Visible};
use crate::auth::{hash_token, Identity};
use crate::domain::{now_millis, offered_names, Millis, RoomCode, RoomKind, RoomRole};
use crate::store::{NewArchive, NewRoom, RoomRow, StoreError, MAX_DEVICES};
use argon2::password_hash::rand_core::{OsRng, RngCore};

/// Tries at drawing a free code before giving up.
const CODE_ATTEMPTS: usize = 32;

/// Display names offered to someone about to join.
const OFFERED_NAMES: usize = 3;

fn random_byte() -> u8 {
    OsRng.next_u32().to_le_bytes()[0]
}

impl Rooms {
    /// Creates an ephemeral room hosted by the caller, under a code no live room uses.
    pub async fn create_ephemeral(&self, identity: &Identity) -> Result<EphemeralView, RoomError> {
        let host = account_id(identity)?;
        let data_key_id = self.keyring.create_key().await?;
        for _ in 0..CODE_ATTEMPTS {
            let code = RoomCode::generate(random_byte);
            let created = self
                .store
                .create_room(NewRoom {
                    kind: RoomKind::Ephemeral,
                    slug: &code.room_name(),
                    name: code.as_str(),
                    topic: None,
                    private: true,
                    owner_id: host,
                    data_key_id,
                    created_at: now_millis(),
                })
                .await;
            match created {
                Ok(room) => return Ok(EphemeralView::of(&room)),
                Err(StoreError::Conflict(_)) => continue,
                Err(err) => {
                    self.keyring.destroy_key(data_key_id).await?;
                    return Err(err.into());
                }
            }
        }
        self.keyring.destroy_key(data_key_id).await?;
        Err(RoomError::NoFreeCode)
    }

    /// The caller's live ephemeral rooms, newest first.
    pub async fn hosted_ephemeral(
        &self,
        identity: &Identity,
    ) -> Result<Vec<EphemeralView>, RoomError> {
        let host = account_id(identity)?;
        let rooms = self.store.ephemeral_rooms_of(host, now_millis()).await?;
        Ok(rooms.iter().map(EphemeralView::of).collect())
    }

    /// Starts the room's timer (host only; again is a no-op).
    pub async fn activate_ephemeral(
        &self,
        identity: &Identity,
        code: &str,
    ) -> Result<EphemeralView, RoomError> {
        let host = account_id(identity)?;
        let room = self.live_ephemeral(code).await?;
        if room.owner_id != host {
            return Err(RoomError::NotFound);
        }
        let ttl = i64::try_from(self.settings.ephemeral_ttl_secs).unwrap_or(i64::MAX / 2000);
        self.store
            .activate_room(room.id, now_millis() + ttl * 1000)
            .await?;
        let room = self.live_ephemeral(code).await?;
        Ok(EphemeralView::of(&room))
    }

    /// What a code opens onto: whether the room is active, and names to join under.
    pub async fn ephemeral_door(&self, code: &str) -> Result<EphemeralDoor, RoomError> {
        let room = self.live_ephemeral(code).await?;
        let admitted = i64::try_from(self.store.devices(room.id).await?.len()).unwrap_or(i64::MAX);
        let view = EphemeralView::of(&room);
        Ok(EphemeralDoor {
            places_left: (MAX_DEVICES - admitted).max(0),
            code: view.code,
            room: view.room,
            active: view.active,
            expires_at: view.expires_at,
            names: offered_names(OFFERED_NAMES, random_byte),
        })
    }

    /// An ephemeral room the caller joined from an admitted device.
    pub(super) async fn ephemeral_visible(
        &self,
        identity: &Identity,
        code: &RoomCode,
    ) -> Result<Visible, RoomError> {
        let room = self.live_ephemeral(code.as_str()).await?;
        if !self.store.uses_device(room.id, identity.principal).await? {
            return Err(RoomError::NotFound);
        }
        Ok(Visible {
            room,
            role: Some(RoomRole::Member),
        })
    }

    /// Joins from a device: admitted while the room has a free place, or if it is one of the
    /// room's two devices.
    pub(super) async fn join_ephemeral(
        &self,
        identity: &Identity,
        code: &RoomCode,
        device: Option<&str>,
    ) -> Result<Visible, RoomError> {
        let device = device
            .filter(|d| (8..=128).contains(&d.len()))
            .ok_or(RoomError::DeviceRequired)?;
        let room = self.live_ephemeral(code.as_str()).await?;
        if room.expires_at.is_none() {
            return Err(RoomError::NotActive);
        }
        let admitted = self
            .store
            .admit_device(
                room.id,
                &hash_token(device),
                identity.principal,
                &identity.name,
                now_millis(),
            )
            .await?;
        if !admitted {
            return Err(RoomError::Locked);
        }
        Ok(Visible {
            room,
            role: Some(RoomRole::Member),
        })
    }

    /// The room behind a code, unless it has expired.
    async fn live_ephemeral(&self, code: &str) -> Result<RoomRow, RoomError> {
        let code = RoomCode::parse(code).map_err(|_| RoomError::NotFound)?;
        let now = now_millis();
        self.store
            .room_by_slug(&code.room_name())
            .await?
            .filter(|r| r.kind() == RoomKind::Ephemeral && r.expires_at.is_none_or(|at| at > now))
            .ok_or(RoomError::NotFound)
    }

    /// When the next activated room expires.
    pub async fn next_expiry(&self) -> Result<Option<Millis>, RoomError> {
        Ok(self.store.next_ephemeral_expiry().await?)
    }

    /// Closes every room that is due: expired ones are archived, never-activated stale ones
    /// dropped. Returns the rooms closed (to tell whoever is in them).
    pub async fn expire_due(&self, now: Millis) -> Result<Vec<RoomRow>, RoomError> {
        let ttl = i64::try_from(self.settings.ephemeral_ttl_secs).unwrap_or(i64::MAX / 2000);
        let due = self
            .store
            .due_ephemeral_rooms(now, now - ttl * 1000)
            .await?;
        for room in &due {
            if room.expires_at.is_some() {
                self.archive_room(room, now).await?;
            } else {
                self.store.delete_room(room.id).await?;
                self.keyring.destroy_key(room.data_key_id).await?;
            }
        }
        Ok(due)
    }

    async fn archive_room(&self, room: &RoomRow, now: Millis) -> Result<i64, RoomError> {
        let messages = self.store.messages_after(room.id, 0, i64::MAX).await?;
        let count = i64::try_from(messages.len()).unwrap_or(i64::MAX);
        let lines = self.open_all(room, messages).await?;
        let transcript = Transcript {
            code: room.name.clone(),
            participants: self
                .store
                .devices(room.id)
                .await?
                .into_iter()
                .map(|d| d.name)
                .collect(),
            messages: lines
                .into_iter()
                .map(|m| TranscriptLine {
                    seq: m.seq,
                    ts: m.created_at,
                    author: m.author_name,
                    text: m.text,
                })
                .collect(),
        };
        let plain = serde_json::to_vec(&transcript).map_err(|_| RoomError::Corrupt)?;
        let key = self.keyring.key(room.data_key_id).await?;
        let sealed = key.seal(&plain, archive_context(room.id).as_bytes());
        Ok(self
            .store
            .archive_room(NewArchive {
                room,
                code: &room.name,
                messages: count,
                transcript: sealed,
                expired_at: now,
            })
            .await?)
    }

    /// An archive with its transcript opened (for the admin audit).
    pub async fn archive(&self, id: i64) -> Result<ArchiveView, RoomError> {
        let row = self.store.archive(id).await?.ok_or(RoomError::NotFound)?;
        let key = self.keyring.key(row.data_key_id).await?;
        let plain = key
            .open(&row.transcript, archive_context(row.room_id).as_bytes())
            .map_err(|e| RoomError::Crypto(e.into()))?;
        let transcript = serde_json::from_slice(&plain).map_err(|_| RoomError::Corrupt)?;
        Ok(ArchiveView {
            id: row.id,
            code: row.code,
            host_id: row.host_id,
            messages: row.messages,
            created_at: row.created_at,
            expired_at: row.expired_at,
            transcript,
        })
    }

    /// Archive ids, newest first (a page of `limit` before `before_id`).
    pub async fn archive_ids(&self, limit: i64, before_id: i64) -> Result<Vec<i64>, RoomError> {
        let rows = self.store.archives(limit, before_id).await?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }
}

/// The associated data of an archive: the room it came from.
fn archive_context(room_id: i64) -> String {
    format!("parlor:archive:room:{room_id}")
}
