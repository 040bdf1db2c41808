//! Exports: one room, one conversation or one account's data (what a person may ask for under
//! data-protection law), decrypted — the one gathering layer behind both `parlor export` (the
//! operator's tool, `ops::export`) and "download my data" (`GET /api/user/@me/export`). Both
//! get the same contents in the same shape (`crate::export`); this service decides what goes
//! in, and reads it page by page so that a large room never sits in memory at once.
//!
//! What an **account** export holds, and why:
//! - the profile (name, role, e-mail, verification, creation), the live sessions (times and
//!   addresses, never tokens), every room and conversation it belongs to with its role there,
//!   and its ignore list;
//! - its own messages in every room, conversation and live 1-on-1 room, with their room and
//!   time; in its **conversations, both sides**: a private conversation between two accounts
//!   is each one's own correspondence (as a mailbox holds the letters received), and reading
//!   one side alone would not make sense. Other people's messages in rooms are *not* its data
//!   and are left out, as are the members of its rooms;
//! - the files it uploaded (sent or still waiting, in rooms and the lobby), and the files of
//!   its conversations;
//! - the audit entries by it (each message's address, uploads, exports) and those naming it as
//!   their target since it was created (bans, mutes, role changes). On entries by the account
//!   about someone else — a moderator's actions — whom and why are left out (they are that
//!   person's data); on entries about the account, who did it and from where are left out.
//!
//! Archives of expired 1-on-1 rooms are not included: they name authors by the display name
//! chosen at the door, which cannot tell an account's lines from a guest's of the same name.
//! Guests are not exported: what they write in the lobby and in whispers is never stored, and
//! everything else of theirs expires with them.
//!
//! A **room** or **conversation** export (operators only) is the whole room: metadata, members
//! with roles, every message and every attached file.
//!
//! Exports are expensive (every message decrypted, every file copied), so "download my data"
//! runs one at a time per account and [`EXPORTS_AT_ONCE`] at a time on a node; more are refused
//! with `rate_limited` and a `retry_after`. A web export is written to a scratch directory in
//! the system's temporary directory (`TMPDIR`), readable by the server alone and removed once
//! the archive is sent or abandoned. Each export is written to the audit log.

mod account;
mod gate;
mod gather;

pub use gate::EXPORTS_AT_ONCE;

use crate::auth::Identity;
use crate::clock::Clock;
use crate::crypto::{CryptoError, Keyring};
use crate::domain::{pm_room_name, Millis, Name, Principal, RoomKind, RoomSlug};
use crate::error::{ErrorBody, ErrorCode};
use crate::export::{Counts, Details, ExportWriter, MemberInfo, RoomInfo, Scope, Section};
use crate::files::Library;
use crate::rooms::{Room, RoomError, Rooms};
use crate::store::{AuditEntry, Store, StoreError, UserRow};
use bytes::Bytes;
use futures_util::Stream;
use gate::{Gate, Ticket};
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What to export.
#[derive(Clone, Debug)]
pub enum ExportSubject {
    /// A persistent room, whole.
    Room(RoomSlug),
    /// The private conversation between two accounts, whole.
    Conversation(Name, Name),
    /// One account's data.
    Account(Name),
}

/// Why an export was not made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The room, conversation or account does not exist.
    #[error("{0}")]
    NotFound(String),
    #[error(
        "guest sessions have no data to download: lobby messages and whispers are never \
         stored, and whatever else a guest leaves expires with the guest"
    )]
    RegistrationRequired,
    /// An export is under way for this account, or the node makes as many as it may.
    #[error("{message}")]
    Busy {
        message: &'static str,
        retry_after: u64,
    },
    /// The destination cannot take the export (not empty, not writable, full).
    #[error("cannot write the export: {0}")]
    Write(#[source] io::Error),
    #[error(transparent)]
    Room(#[from] RoomError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl From<io::Error> for ExportError {
    fn from(err: io::Error) -> Self {
        ExportError::Write(err)
    }
}

impl ExportError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ExportError::NotFound(_) => ErrorCode::NotFound,
            ExportError::RegistrationRequired => ErrorCode::RegistrationRequired,
            ExportError::Busy { .. } => ErrorCode::RateLimited,
            ExportError::Room(err) => err.code(),
            ExportError::Store(StoreError::Database(_)) => ErrorCode::Unavailable,
            ExportError::Write(_) | ExportError::Store(_) | ExportError::Crypto(_) => {
                ErrorCode::Internal
            }
        }
    }

    /// The reply body (for the REST edge). Internal failures are logged here and described to
    /// nobody.
    pub fn body(&self) -> ErrorBody {
        let code = self.code();
        if matches!(code, ErrorCode::Internal | ErrorCode::Unavailable) {
            tracing::error!(error = %self, "export failed");
            return ErrorBody::new(code, "the server could not make the export");
        }
        let retry_after = match self {
            ExportError::Busy { retry_after, .. } => Some(*retry_after),
            _ => None,
        };
        ErrorBody::new(code, self.to_string()).retry_after(retry_after)
    }
}

/// What the export service is built from (by the chat core, or by `parlor export` alone).
pub struct ExportParts {
    pub store: Store,
    pub keyring: Keyring,
    pub rooms: Arc<Rooms>,
    pub library: Library,
    pub clock: Clock,
}

/// The export service.
pub struct Exports {
    store: Store,
    keyring: Keyring,
    rooms: Arc<Rooms>,
    library: Library,
    clock: Clock,
    gate: Arc<Gate>,
}

/// A finished export of one's own account, in a scratch directory that goes when this does.
pub struct OwnExport {
    dir: PathBuf,
    /// The account's name and the day: the archive's name and its folder.
    folder: String,
    exported_at: Millis,
    pub counts: Counts,
    keep: (Scratch, Ticket),
}

impl OwnExport {
    /// The archive's file name (`parlor-<name>-<date>.zip`).
    pub fn file_name(&self) -> String {
        format!("{}.zip", self.folder)
    }

    /// The export as a zip archive, streamed; the scratch directory is removed (and the
    /// account may export again) once it is sent or abandoned.
    pub fn into_zip(self) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
        crate::export::archive::zip_stream(self.dir, self.folder, self.exported_at, self.keep)
    }
}

impl Exports {
    pub fn new(parts: ExportParts) -> Self {
        Self {
            store: parts.store,
            keyring: parts.keyring,
            rooms: parts.rooms,
            library: parts.library,
            clock: parts.clock,
            gate: Arc::new(Gate::default()),
        }
    }

    /// Writes an export of `subject` into `dest` (created; it must be empty) and audits it as
    /// the operator's (its target the room's address, or the account's name, so the account's
    /// own export later shows it). Returns what it holds.
    pub async fn write(&self, subject: &ExportSubject, dest: &Path) -> Result<Counts, ExportError> {
        let (counts, target) = match subject {
            ExportSubject::Room(slug) => {
                let room = self
                    .rooms_of_kind(slug.as_str(), RoomKind::Room)
                    .await?
                    .ok_or_else(|| ExportError::NotFound(format!("no room #{}", slug.as_str())))?;
                let details = Details::Room {
                    room: room_info(&room),
                    members: self.members(&room).await?,
                };
                (self.whole_room(&room, details, dest).await?, room.slug)
            }
            ExportSubject::Conversation(first, second) => {
                let (a, b) = (self.account(first).await?, self.account(second).await?);
                let room = self
                    .rooms_of_kind(&pm_room_name(a.id, b.id), RoomKind::Pm)
                    .await?
                    .ok_or_else(|| {
                        ExportError::NotFound(format!(
                            "{} and {} have no conversation",
                            a.name, b.name
                        ))
                    })?;
                let details = Details::Conversation {
                    room: room_info(&room),
                    members: self.members(&room).await?,
                };
                (self.whole_room(&room, details, dest).await?, room.slug)
            }
            ExportSubject::Account(name) => {
                let user = self.account(name).await?;
                (self.account_export(&user, dest).await?, user.name)
            }
        };
        self.audit(None, &target, &counts).await;
        Ok(counts)
    }

    /// Exports the caller's own account into a scratch directory, to be sent as an archive.
    /// Guests are refused (see the module's docs); one export at a time per account, and
    /// [`EXPORTS_AT_ONCE`] on this node.
    pub async fn own(&self, identity: &Identity, ip: IpAddr) -> Result<OwnExport, ExportError> {
        let Principal::User(user_id) = identity.principal else {
            return Err(ExportError::RegistrationRequired);
        };
        let ticket = self.gate.enter(user_id)?;
        let user = self
            .store
            .users()
            .by_id(user_id)
            .await?
            .ok_or_else(|| ExportError::NotFound("no such account".into()))?;
        let scratch = Scratch::new().await?;
        let dir = scratch.path().join("export");
        let counts = match self.account_export(&user, &dir).await {
            Ok(counts) => counts,
            Err(err) => {
                scratch.remove().await;
                return Err(err);
            }
        };
        self.audit(Some((identity, ip)), &user.name, &counts).await;
        let exported_at = self.clock.now_millis();
        let day = crate::export::rfc3339(exported_at)
            .get(..10)
            .unwrap_or_default()
            .to_owned();
        Ok(OwnExport {
            dir,
            folder: format!("parlor-{}-{day}", user.name),
            exported_at,
            counts,
            keep: (scratch, ticket),
        })
    }

    /// Every message of a room and the files they hold, under `details`.
    async fn whole_room(
        &self,
        room: &Room,
        details: Details,
        dest: &Path,
    ) -> Result<Counts, ExportError> {
        let mut writer = ExportWriter::create(dest, self.clock.now_millis(), details).await?;
        let section = Section {
            room: room_info(room),
            scope: Scope::Everything,
            peer: None,
        };
        self.messages(&mut writer, room, &section, None).await?;
        Ok(writer.finish().await?)
    }

    /// The stored room of `kind` at `address`.
    async fn rooms_of_kind(
        &self,
        address: &str,
        kind: RoomKind,
    ) -> Result<Option<Room>, ExportError> {
        let row = self.store.rooms().by_slug(address).await?;
        Ok(row.map(Room::from).filter(|room| room.kind() == kind))
    }

    async fn account(&self, name: &Name) -> Result<UserRow, ExportError> {
        self.store
            .users()
            .by_name_key(&name.key())
            .await?
            .ok_or_else(|| ExportError::NotFound(format!("no account named {name}")))
    }

    async fn members(&self, room: &Room) -> Result<Vec<MemberInfo>, ExportError> {
        let rows = self.store.members().list(room.id).await?;
        Ok(rows
            .into_iter()
            .map(|m| MemberInfo {
                name: m.name,
                role: m.role,
                joined_at: m.joined_at,
            })
            .collect())
    }

    /// Writes an `export` entry to the audit log: by the account for its own export, by the
    /// operator's tool otherwise. A failure is logged; the export stands.
    async fn audit(&self, by: Option<(&Identity, IpAddr)>, target: &str, counts: &Counts) {
        let (actor, identity, ip) = match by {
            Some((identity, ip)) => (
                identity.name.clone(),
                Some(identity.principal.key()),
                Some(ip.to_string()),
            ),
            None => ("parlor export".to_owned(), None, None),
        };
        let entry = AuditEntry {
            ts: self.clock.now_millis(),
            actor,
            identity,
            actor_ip: ip,
            action: "export".into(),
            target: Some(target.to_owned()),
            room: None,
            detail: Some(crate::export::describe(counts)),
        };
        if let Err(err) = self.store.audit().write(&[entry]).await {
            tracing::warn!(error = %err, "could not record an export in the audit log");
        }
    }
}

/// How an export describes a room.
fn room_info(room: &Room) -> RoomInfo {
    RoomInfo {
        address: room.slug.clone(),
        name: room.name.clone(),
        kind: room.kind().as_str(),
        topic: room.topic.clone(),
        private: room.private || room.kind() != RoomKind::Room,
        created_at: room.created_at,
    }
}

/// A scratch directory for one web export, made and removed off the runtime's threads.
struct Scratch(Option<tempfile::TempDir>);

impl Scratch {
    async fn new() -> Result<Self, ExportError> {
        let made = tokio::task::spawn_blocking(|| {
            tempfile::Builder::new().prefix("parlor-export-").tempdir()
        })
        .await
        .map_err(io::Error::other)??;
        Ok(Self(Some(made)))
    }

    fn path(&self) -> &Path {
        self.0.as_ref().map_or(Path::new(""), |dir| dir.path())
    }

    /// Removes the directory now, on a blocking thread.
    async fn remove(mut self) {
        if let Some(dir) = self.0.take() {
            let _ = tokio::task::spawn_blocking(move || drop(dir)).await;
        }
    }
}
