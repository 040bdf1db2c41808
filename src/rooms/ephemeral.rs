//! Ephemeral 1-on-1 rooms. A host (an account, or a guest when the server lets guests into
//! rooms) creates one and gets a short code; activating it starts its timer
//! (`ephemeral_ttl_secs`). Whoever holds the code joins from a device (an id the browser
//! keeps); the room admits the first two devices and refuses any other.
//! When the timer runs out the room closes and its transcript is sealed into an archive for
//! the admin audit; rooms never activated are dropped after the same time.

use super::directory::Directory;
use super::history::History;
use super::service::author_id_of;
use super::view::{
    ArchiveView, ArchivedFile, EphemeralDoor, EphemeralView, Transcript, TranscriptLine,
};
use super::{Room, RoomError, Visible};
use crate::auth::{hash_token, Identity};
use crate::domain::{offered_names, Millis, Principal, RoomCode, RoomKind, RoomRole};
use crate::store::{NewArchive, NewRoom, StoreError, MAX_DEVICES};
use argon2::password_hash::rand_core::{OsRng, RngCore};

/// Tries at drawing a free code before giving up.
const CODE_ATTEMPTS: usize = 32;

/// Display names offered to someone about to join.
const OFFERED_NAMES: usize = 3;

fn random_byte() -> u8 {
    OsRng.next_u32().to_le_bytes()[0]
}

/// Ephemeral rooms and their archives. Cheap to clone.
#[derive(Clone)]
pub struct Ephemeral {
    dir: Directory,
    history: History,
}

impl Ephemeral {
    pub(super) fn new(dir: Directory, history: History) -> Self {
        Self { dir, history }
    }

    /// Whether the caller may host: accounts always, guests when the server lets guests into
    /// rooms.
    pub fn may_host(&self, identity: &Identity) -> Result<(), RoomError> {
        match identity.principal {
            Principal::Guest(_) if !self.dir.settings.guests_in_rooms => {
                Err(RoomError::RegistrationRequired)
            }
            _ => Ok(()),
        }
    }

    /// Creates an ephemeral room hosted by the caller, under a code no live room uses.
    pub async fn create(&self, identity: &Identity) -> Result<EphemeralView, RoomError> {
        self.may_host(identity)?;
        let host = identity.principal;
        let data_key_id = self.dir.keyring.create_key().await?;
        for _ in 0..CODE_ATTEMPTS {
            let code = RoomCode::generate(random_byte);
            let created = self
                .dir
                .store
                .rooms()
                .create(NewRoom {
                    kind: RoomKind::Ephemeral,
                    slug: &code.room_name(),
                    name: code.as_str(),
                    topic: None,
                    private: true,
                    owner: host,
                    data_key_id,
                    created_at: self.dir.clock.now_millis(),
                    // Ephemeral rooms stay server-side: their transcripts are archived for audit.
                    e2e: false,
                })
                .await;
            match created {
                Ok(room) => return Ok(EphemeralView::of(&room.into())),
                Err(StoreError::Conflict(_)) => continue,
                Err(err) => {
                    self.dir.keyring.destroy_key(data_key_id).await?;
                    return Err(err.into());
                }
            }
        }
        self.dir.keyring.destroy_key(data_key_id).await?;
        Err(RoomError::NoFreeCode)
    }

    /// The caller's live ephemeral rooms, newest first.
    pub async fn hosted(&self, identity: &Identity) -> Result<Vec<EphemeralView>, RoomError> {
        let host = identity.principal;
        let rooms = self
            .dir
            .store
            .ephemeral()
            .hosted_by(host, self.dir.clock.now_millis())
            .await?;
        Ok(rooms
            .into_iter()
            .map(|row| EphemeralView::of(&row.into()))
            .collect())
    }

    /// Starts the room's timer (host only; again is a no-op).
    pub async fn activate(
        &self,
        identity: &Identity,
        code: &str,
    ) -> Result<EphemeralView, RoomError> {
        let room = self.dir.live_ephemeral(code).await?;
        if room.owner != identity.principal {
            return Err(RoomError::NotFound);
        }
        let ttl = i64::try_from(self.dir.settings.ephemeral_ttl_secs).unwrap_or(i64::MAX / 2000);
        self.dir
            .store
            .ephemeral()
            .activate(room.id, self.dir.clock.now_millis() + ttl * 1000)
            .await?;
        let room = self.dir.live_ephemeral(code).await?;
        Ok(EphemeralView::of(&room))
    }

    /// What a code opens onto: whether the room is active, and names to join under.
    pub async fn door(&self, code: &str) -> Result<EphemeralDoor, RoomError> {
        let room = self.dir.live_ephemeral(code).await?;
        let devices = self.dir.store.ephemeral().devices(room.id).await?;
        let admitted = i64::try_from(devices.len()).unwrap_or(i64::MAX);
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

    /// Joins from a device: admitted while the room has a free place, or if it is one of the
    /// room's two devices.
    pub(super) async fn join(
        &self,
        identity: &Identity,
        code: &RoomCode,
        device: Option<&str>,
    ) -> Result<Visible, RoomError> {
        let device = device
            .filter(|d| (8..=128).contains(&d.len()))
            .ok_or(RoomError::DeviceRequired)?;
        let room = self.dir.live_ephemeral(code.as_str()).await?;
        if room.expires_at.is_none() {
            return Err(RoomError::NotActive);
        }
        let admitted = self
            .dir
            .store
            .ephemeral()
            .admit_device(
                room.id,
                &hash_token(device),
                identity.principal,
                &identity.name,
                self.dir.clock.now_millis(),
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

    /// When the next activated room expires.
    pub async fn next_expiry(&self) -> Result<Option<Millis>, RoomError> {
        Ok(self.dir.store.ephemeral().next_expiry().await?)
    }

    /// Closes every room that is due: expired ones are archived, never-activated stale ones
    /// dropped. Returns the rooms closed (to tell whoever is in them).
    pub async fn expire_due(&self, now: Millis) -> Result<Vec<Room>, RoomError> {
        let ttl = i64::try_from(self.dir.settings.ephemeral_ttl_secs).unwrap_or(i64::MAX / 2000);
        let due: Vec<Room> = self
            .dir
            .store
            .ephemeral()
            .due(now, now - ttl * 1000)
            .await?
            .into_iter()
            .map(Room::from)
            .collect();
        for room in &due {
            if room.expires_at.is_some() {
                self.archive_room(room, now).await?;
            } else {
                self.dir.destroy(room).await?;
            }
        }
        Ok(due)
    }

    async fn archive_room(&self, room: &Room, now: Millis) -> Result<i64, RoomError> {
        let lines = self.history.all(room).await?;
        let count = i64::try_from(lines.len()).unwrap_or(i64::MAX);
        let transcript = Transcript {
            code: room.name.clone(),
            participants: self
                .dir
                .store
                .ephemeral()
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
                    undecryptable: m.undecryptable,
                    attachments: m
                        .attachments
                        .into_iter()
                        .map(|f| ArchivedFile {
                            name: f.name,
                            mime: f.mime,
                            size: f.size,
                        })
                        .collect(),
                })
                .collect(),
        };
        let plain = serde_json::to_vec(&transcript).map_err(|_| RoomError::Corrupt)?;
        let key = self.dir.keyring.key(room.data_key_id).await?;
        let sealed = key.seal(&plain, archive_context(room.id).as_bytes());
        Ok(self
            .dir
            .store
            .archives()
            .archive_room(NewArchive {
                room_id: room.id,
                host_id: author_id_of(room.owner),
                data_key_id: room.data_key_id,
                created_at: room.created_at,
                code: &room.name,
                messages: count,
                transcript: sealed,
                expired_at: now,
            })
            .await?)
    }

    /// An archive with its transcript opened (for the admin audit).
    pub async fn archive(&self, id: i64) -> Result<ArchiveView, RoomError> {
        let row = self
            .dir
            .store
            .archives()
            .by_id(id)
            .await?
            .ok_or(RoomError::NotFound)?;
        let key = self.dir.keyring.key(row.data_key_id).await?;
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
        let rows = self.dir.store.archives().page(limit, before_id).await?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }
}

/// The associated data of an archive: the room it came from.
fn archive_context(room_id: i64) -> String {
    format!("parlor:archive:room:{room_id}")
}
