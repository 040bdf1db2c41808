//! Files in chat: who may upload where and how much, who may read what, and the sweep that
//! deletes what nothing holds any more. The mechanics (detection, scrubbing, sealing,
//! thumbnails) are the [`Library`]'s; this service decides.
//!
//! An upload is made for one room (the lobby, a room, a conversation or an ephemeral room) by
//! someone who may post there, is sealed with that room's data key, and stays *pending*,
//! readable by its uploader only, until a message of theirs in that room takes it. From then
//! on it is readable by exactly those who can read that message; everyone else gets the same
//! `not_found` as for an id that never existed. Lobby files have a data key each (the lobby
//! has none) and live as long as `lobby_file_ttl`.
//!
//! Deleting is the sweep's job alone: rooms, messages and accounts go without waiting for
//! their files, and the sweep (woken right after, and every maintenance round) deletes each
//! object, then its row. Pending uploads nobody sent go after a grace period.

use super::{FileSweep, Speech};
use crate::auth::Identity;
use crate::clock::Clock;
use crate::core::CoreError;
use crate::crypto::{Keyring, SecretKey};
use crate::domain::{FileId, FileName, RoomName};
use crate::files::{policy, Category, FileView, Library, LibraryError};
use crate::moderation::{identity_key, Moderation};
use crate::rooms::{author_id, Rooms, Visible};
use crate::store::{AuditEntry, FileRow, Store};
use bytes::Bytes;
use futures_util::Stream;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Limits on uploads, from configuration.
#[derive(Clone, Debug)]
pub struct FileSettings {
    pub max_file_bytes: u64,
    /// Uploads per user per `upload_window` (0: no limit).
    pub uploads_per_window: u64,
    /// Bytes per user per `upload_window` (0: no limit).
    pub upload_bytes_per_window: u64,
    pub upload_window: Duration,
    /// Bytes of files per room (0: no limit).
    pub room_bytes: u64,
    /// How long an upload no message took is kept.
    pub pending_grace: Duration,
    /// How long a lobby file is kept.
    pub lobby_file_ttl: Duration,
}

/// An upload as the edge hands it over.
pub struct Upload<S> {
    pub room: RoomName,
    pub name: FileName,
    pub duration_ms: Option<i64>,
    pub body: S,
}

/// A file someone may read, with the key that opens it.
pub struct Readable {
    pub row: FileRow,
    pub key: SecretKey,
}

pub struct Files {
    pub(crate) rooms: Arc<Rooms>,
    pub(crate) store: Store,
    pub(crate) keyring: Keyring,
    pub(crate) library: Library,
    pub(crate) speech: Speech,
    pub(crate) moderation: Arc<Moderation>,
    pub(crate) settings: FileSettings,
    pub(crate) sweep: FileSweep,
    pub(crate) clock: Clock,
}

/// Where an upload goes: its room (none: the lobby), the room's wire name and data key, and
/// what the room takes.
struct Destination {
    room_id: Option<i64>,
    name: String,
    data_key_id: i64,
    refusal: Box<dyn Fn(Category) -> Option<String> + Send + Sync>,
    /// An end-to-end room: uploads are sealed by the client, opaque to the server.
    sealed: bool,
}

impl Files {
    pub fn library(&self) -> &Library {
        &self.library
    }

    /// Stores an upload for `room`, pending until a message takes it.
    pub async fn upload<E, S>(
        &self,
        identity: &Identity,
        ip: IpAddr,
        upload: Upload<S>,
    ) -> Result<FileView, CoreError>
    where
        E: std::fmt::Display + Send + 'static,
        S: Stream<Item = Result<Bytes, E>> + Send,
    {
        self.speech.not_muted(identity)?;
        let uploader = author_id(identity);
        let (max_len, by_quota) = self.allowance(uploader).await?;
        let dest = self.destination(identity, &upload.room).await?;
        let (max_len, by_quota) = match dest.room_id {
            Some(room_id) if self.settings.room_bytes > 0 => {
                let used =
                    u64::try_from(self.store.files().room_bytes(room_id).await?).unwrap_or(0);
                let left = self.settings.room_bytes.saturating_sub(used);
                if left == 0 {
                    return Err(CoreError::QuotaExceeded(
                        "this room holds all the files it may",
                    ));
                }
                (max_len.min(left), by_quota || left < max_len)
            }
            _ => (max_len, by_quota),
        };
        let id = FileId::random(fill_random);
        let key = self.keyring.key(dest.data_key_id).await?;
        let stored = self
            .library
            .store(
                id.as_str(),
                &key,
                upload.body,
                max_len,
                dest.sealed,
                |detected| match (dest.refusal)(Category::of(detected)) {
                    Some(refusal) => Err(refusal),
                    None => Ok(()),
                },
            )
            .await;
        let stored = match stored {
            Ok(stored) => stored,
            Err(err) => {
                if dest.room_id.is_none() {
                    self.destroy_key(dest.data_key_id).await;
                }
                return Err(match err {
                    LibraryError::Store(crate::files::FileStoreError::TooLarge { .. })
                        if by_quota =>
                    {
                        CoreError::QuotaExceeded("this upload would pass your upload allowance")
                    }
                    err => CoreError::File(err),
                });
            }
        };
        let row = FileRow {
            id: id.to_string(),
            room_id: dest.room_id,
            data_key_id: dest.data_key_id,
            uploader_id: uploader,
            uploader_name: identity.name.clone(),
            uploader_ip: ip.to_string(),
            name: upload.name.as_str().to_owned(),
            size: i64::try_from(stored.len).unwrap_or(i64::MAX),
            mime: stored.detected.mime.to_owned(),
            kind: Category::of(&stored.detected).as_str().to_owned(),
            width: stored.width.map(i64::from),
            height: stored.height.map(i64::from),
            duration_ms: upload.duration_ms.filter(|_| {
                matches!(
                    Category::of(&stored.detected),
                    Category::Audio | Category::Video
                )
            }),
            digest: stored.digest.iter().map(|b| format!("{b:02x}")).collect(),
            thumbnail: stored.thumbnail.map(str::to_owned),
            attached: 0,
            message_id: None,
            created_at: self.clock.now_millis(),
        };
        if let Err(err) = self.store.files().insert(&row).await {
            self.library.delete(id.as_str()).await;
            return Err(err.into());
        }
        self.audit_upload(identity, ip, &dest.name, &row).await;
        Ok(FileView::from(&row))
    }

    /// How many bytes this uploader may still send, and whether that is less than a file may
    /// hold (so running out is the allowance's doing).
    async fn allowance(&self, uploader: i64) -> Result<(u64, bool), CoreError> {
        let s = &self.settings;
        if s.uploads_per_window == 0 && s.upload_bytes_per_window == 0 {
            return Ok((s.max_file_bytes, false));
        }
        let since = self.clock.now_millis()
            - i64::try_from(s.upload_window.as_millis()).unwrap_or(i64::MAX);
        let (count, bytes) = self.store.files().uploaded_since(uploader, since).await?;
        let (count, bytes) = (
            u64::try_from(count).unwrap_or(0),
            u64::try_from(bytes).unwrap_or(0),
        );
        if s.uploads_per_window > 0 && count >= s.uploads_per_window {
            return Err(CoreError::QuotaExceeded(
                "you uploaded as many files as you may for now",
            ));
        }
        if s.upload_bytes_per_window == 0 {
            return Ok((s.max_file_bytes, false));
        }
        let left = s.upload_bytes_per_window.saturating_sub(bytes);
        if left == 0 {
            return Err(CoreError::QuotaExceeded(
                "you uploaded as much as you may for now",
            ));
        }
        Ok((left.min(s.max_file_bytes), left < s.max_file_bytes))
    }

    async fn destination(
        &self,
        identity: &Identity,
        room: &RoomName,
    ) -> Result<Destination, CoreError> {
        if room.is_lobby() {
            return Ok(Destination {
                room_id: None,
                name: room.to_string(),
                data_key_id: self.keyring.create_key().await?,
                refusal: Box::new(|_| None),
                sealed: false,
            });
        }
        let Visible { room, role } = self.rooms.visible(identity, room.as_str()).await?;
        role.ok_or(CoreError::NotInRoom)?;
        Ok(Destination {
            room_id: Some(room.id),
            name: room.slug.clone(),
            data_key_id: room.data_key_id,
            sealed: room.e2e,
            refusal: Box::new(move |category| policy::refusal(&room, category)),
        })
    }

    async fn audit_upload(&self, identity: &Identity, ip: IpAddr, room: &str, row: &FileRow) {
        let entry = AuditEntry {
            ts: row.created_at,
            actor: identity.name.clone(),
            identity: Some(identity_key(identity)),
            actor_ip: Some(ip.to_string()),
            action: "upload".into(),
            target: Some(row.id.clone()),
            room: Some(room.to_owned()),
            detail: Some(format!("{}, {} bytes, {:?}", row.mime, row.size, row.name)),
        };
        if let Err(err) = self.moderation.audit_log().record_now(entry).await {
            tracing::warn!(error = %err, "could not record an upload in the audit log");
        }
    }

    /// File `id` if `identity` may read it: its uploader while it is pending; whoever can
    /// read its message once sent (anyone in the lobby). Anything else is `not_found`.
    pub async fn readable(&self, identity: &Identity, id: &str) -> Result<Readable, CoreError> {
        let row = self.stored(id).await?;
        let may = if row.attached == 0 {
            row.uploader_id == author_id(identity)
        } else {
            match row.room_id {
                None => true,
                Some(room_id) => self.may_read_room(identity, room_id).await,
            }
        };
        if !may {
            return Err(CoreError::NotFound);
        }
        self.opened(row).await
    }

    /// File `id` for staff reading a room's transcript in the admin panel (the admin door has
    /// let them in): any sent file.
    pub async fn for_staff(&self, id: &str) -> Result<Readable, CoreError> {
        let row = self.stored(id).await?;
        if row.attached == 0 {
            return Err(CoreError::NotFound);
        }
        self.opened(row).await
    }

    /// The stored file `id` (an id that cannot be one is `not_found` like a missing file).
    async fn stored(&self, id: &str) -> Result<FileRow, CoreError> {
        let id = FileId::parse(id).map_err(|_| CoreError::NotFound)?;
        self.store
            .files()
            .by_id(id.as_str())
            .await?
            .ok_or(CoreError::NotFound)
    }

    async fn opened(&self, row: FileRow) -> Result<Readable, CoreError> {
        let key = self.keyring.key(row.data_key_id).await?;
        Ok(Readable { row, key })
    }

    async fn may_read_room(&self, identity: &Identity, room_id: i64) -> bool {
        let Ok(Some(room)) = self.store.rooms().by_id(room_id).await else {
            return false;
        };
        self.rooms.visible(identity, &room.slug).await.is_ok()
    }

    /// Gives pending lobby uploads to a lobby message; all of them or none.
    pub async fn take_for_lobby(
        &self,
        identity: &Identity,
        ids: &[FileId],
    ) -> Result<Vec<FileView>, CoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        if !self
            .store
            .files()
            .attach_to_lobby(author_id(identity), &ids)
            .await?
        {
            return Err(crate::rooms::RoomError::AttachmentUnavailable.into());
        }
        let mut views = Vec::with_capacity(ids.len());
        for id in &ids {
            if let Some(row) = self.store.files().by_id(id).await? {
                views.push(FileView::from(&row));
            }
        }
        Ok(views)
    }

    /// Deletes every file nothing holds any more; returns how many.
    pub async fn sweep(&self) -> Result<u64, CoreError> {
        let now = self.clock.now_millis();
        let ago = |d: Duration| now - i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let mut deleted = 0;
        loop {
            let doomed = self
                .store
                .files()
                .doomed(
                    ago(self.settings.pending_grace),
                    ago(self.settings.lobby_file_ttl),
                    200,
                )
                .await?;
            if doomed.is_empty() {
                return Ok(deleted);
            }
            let mut progress = false;
            for file in doomed {
                if !self.library.delete(&file.id).await {
                    continue;
                }
                self.store.files().delete(&file.id).await?;
                if file.room_id.is_none() {
                    self.destroy_key(file.data_key_id).await;
                }
                deleted += 1;
                progress = true;
            }
            if !progress {
                // The object store refuses: try again next round.
                return Ok(deleted);
            }
        }
    }

    pub fn sweeper(&self) -> &FileSweep {
        &self.sweep
    }

    async fn destroy_key(&self, data_key_id: i64) {
        if let Err(err) = self.keyring.destroy_key(data_key_id).await {
            tracing::warn!(error = %err, "could not destroy a lobby file's data key");
        }
    }
}

fn fill_random(bytes: &mut [u8]) {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    OsRng.fill_bytes(bytes);
}
