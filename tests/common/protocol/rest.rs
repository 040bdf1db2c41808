//! REST response bodies.

use super::{Conversation, Kind, Role, RoomRole, User};
use serde::Deserialize;

/// `Profile`: `GET /api/user/…` and the `user` of a session.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub username: String,
    pub kind: Kind,
    pub role: Role,
    pub online: bool,
    pub created_at: i64,
    #[serde(default)]
    pub email: Option<String>,
    /// Only on `GET /api/user/@me`: premium in force now.
    #[serde(default)]
    pub premium: Option<bool>,
    /// Only on `GET /api/user/@me`: when premium ends (`null` without premium).
    #[serde(default, deserialize_with = "present")]
    pub premium_until: Option<Option<i64>>,
    /// The AI companion's account (present only when `true`).
    #[serde(default)]
    pub bot: bool,
    /// Only on `GET /api/user/@me`: the account signs in with a key.
    #[serde(default)]
    pub key_account: Option<bool>,
}

/// `GET /api/user/@me/preferences`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    pub theme: String,
    pub font_size: u8,
    pub clock: String,
    pub enter_to_send: bool,
    pub density: String,
    pub sounds: bool,
    pub dm_from: String,
    pub show_online: bool,
}

/// One of `GET /api/user/@me/sessions`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnSession {
    pub id: String,
    pub current: bool,
    pub device: String,
    pub ip: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnSessions {
    pub sessions: Vec<OwnSession>,
}

/// A field that may be absent (`None`), `null` (`Some(None)`) or a value.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A new session: `POST /api/login`, `/api/guest`, `/api/register` (with a password),
/// `/api/password`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    pub user: Profile,
    pub token: String,
}

/// A key account's registration: `{"key"}`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyAccount {
    pub key: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Online {
    pub online_clients: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ignores {
    pub ignores: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Member,
    Invited,
    Public,
}

/// One entry of `GET /api/rooms`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomListing {
    pub slug: String,
    pub name: String,
    pub topic: Option<String>,
    pub private: bool,
    pub access: Access,
    pub role: Option<RoomRole>,
    pub unread: i64,
    pub mentions: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomList {
    pub rooms: Vec<RoomListing>,
    /// The caller's own access requests, by the address asked for.
    pub requests: Vec<OwnRequest>,
}

/// One of the caller's access requests in `GET /api/rooms`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnRequest {
    pub slug: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// An invite as its room's moderators see it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    pub id: i64,
    pub email: Option<String>,
    pub max_uses: Option<i64>,
    pub uses: i64,
    pub expires_at: i64,
    pub revoked: bool,
    pub created_at: i64,
}

/// `POST /api/rooms/{slug}/invites`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatedInvite {
    pub token: String,
    pub path: String,
    pub invite: Invite,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conversations {
    pub conversations: Vec<Conversation>,
}

/// An ephemeral room as its host sees it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ephemeral {
    pub code: String,
    pub room: String,
    pub active: bool,
    pub expires_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hosted {
    pub rooms: Vec<Ephemeral>,
}

/// `GET /api/ephemeral/{code}`: what someone holding the code sees.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Door {
    pub code: String,
    pub room: String,
    pub active: bool,
    pub expires_at: Option<i64>,
    pub names: Vec<String>,
    pub places_left: i64,
}

/// `Audit`: one audit log entry.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audit {
    pub id: i64,
    pub ts: i64,
    pub actor: String,
    pub identity: Option<String>,
    pub actor_ip: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub room: Option<String>,
    pub detail: Option<String>,
}

/// `GET /api/admin/audit`: a page, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditPage {
    pub entries: Vec<Audit>,
    pub next: Option<i64>,
}

impl AuditPage {
    pub fn ids(&self) -> Vec<i64> {
        self.entries.iter().map(|e| e.id).collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminUser {
    pub name: String,
    pub identity: String,
    pub role: Role,
    pub verified: bool,
    pub online: bool,
    pub created_at: i64,
    pub premium_until: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminUsers {
    pub users: Vec<AdminUser>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveConnection {
    pub id: u64,
    pub node: String,
    pub user: Option<User>,
    pub identity: Option<String>,
    pub ip: String,
    pub rooms: Vec<String>,
    pub since: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connections {
    pub connections: Vec<LiveConnection>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    Room,
    Pm,
    Ephemeral,
}

/// An entry of `GET /api/admin/rooms`: a `Room` with its kind and expiry.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminRoom {
    pub slug: String,
    pub name: String,
    pub topic: Option<String>,
    pub private: bool,
    pub allow_images: bool,
    pub allow_videos: bool,
    pub allow_audio: bool,
    pub allow_files: bool,
    /// `image`, `video`, `audio`, `file`: what the room takes.
    pub accepts: Vec<String>,
    pub ai_mentions: bool,
    pub allow_guests: bool,
    pub slow_mode_secs: i64,
    pub retention_days: Option<i64>,
    pub last_seq: i64,
    pub created_at: i64,
    pub e2e: bool,
    pub epoch: i64,
    pub role: Option<RoomRole>,
    pub kind: RoomKind,
    pub expires_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminRooms {
    pub rooms: Vec<AdminRoom>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptLine {
    pub seq: i64,
    pub ts: i64,
    pub author: String,
    pub text: String,
    /// Present (`true`) only on a stored message that no longer decrypts; `text` is empty.
    #[serde(default)]
    pub undecryptable: bool,
    /// An end-to-end message: no content, its size only.
    #[serde(default)]
    pub e2e: bool,
    #[serde(default)]
    pub bytes: Option<i64>,
}

/// `GET /api/admin/rooms/{slug}/messages`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transcript {
    pub room: String,
    /// An end-to-end room: its lines carry metadata only.
    pub e2e: bool,
    pub messages: Vec<TranscriptLine>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedTranscript {
    pub code: String,
    pub participants: Vec<String>,
    pub messages: Vec<TranscriptLine>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Archive {
    pub id: i64,
    pub code: String,
    pub host_id: i64,
    pub messages: i64,
    pub created_at: i64,
    pub expired_at: i64,
    pub transcript: SealedTranscript,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Archives {
    pub archives: Vec<Archive>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomMember {
    pub name: String,
    pub role: RoomRole,
    pub joined_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomMembers {
    pub members: Vec<RoomMember>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Health {
    pub status: String,
    pub node: String,
    pub database: String,
    pub files: String,
    /// Stored messages found not to decrypt since the server started (each counted once).
    pub undecryptable_messages: u64,
    /// Milliseconds each probe took (`redis` with several nodes).
    pub latency_ms: std::collections::BTreeMap<String, f64>,
}

/// `{"ok": true}` (logout).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OkBody {
    pub ok: bool,
}

/// `GET /api/companion`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanionView {
    pub name: String,
    pub free_messages: u32,
    pub used: u32,
    pub premium: bool,
    pub failing: bool,
    pub writing: Option<CompanionWriting>,
}

/// A reply on its way, in [`CompanionView`].
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanionWriting {
    pub room: String,
    pub message_id: String,
    pub position: Option<usize>,
    pub text: String,
}
