//! Data exports as files: what an export holds (the records below), written into a directory
//! ([`ExportWriter`]) as JSON Lines, Markdown and a self-contained HTML page with the files
//! beside them, and that directory streamed out as one zip archive ([`archive`]).
//!
//! This module decides nothing about *what* goes into an export — whose messages, which files:
//! that is the chat core's `Exports` service, the one gathering layer behind both
//! `parlor export` and "download my data". Here lives only how an export looks, so the
//! operator's tool and the web app's button produce the same thing.
//!
//! An export directory holds:
//! - `manifest.json` — format and version, when, what was exported (room and members, or the
//!   account's profile, sessions, memberships and ignore list), counts, and every file with
//!   its SHA-256;
//! - `messages.jsonl` — one JSON object per message, oldest first within each room;
//! - `audit.jsonl` — account exports: the audit entries by or about the account;
//! - `export.md` and `export.html` — the same for people to read;
//! - `files/` — the files, decrypted, named `<id>-<name>` with the name reduced to characters
//!   every file system takes.
//!
//! Everything a user wrote reaches Markdown and HTML only through the escaping helpers of
//! [`markdown`] and [`html`]; the page also carries a Content-Security-Policy that runs no
//! script, should anything ever get past them.

pub mod archive;
mod html;
mod markdown;
mod writer;

pub use writer::ExportWriter;

use crate::domain::Millis;
use serde::Serialize;

/// The `format` of `manifest.json`.
pub const FORMAT: &str = "parlor-export";
/// The `version` of `manifest.json`; it grows when a field changes meaning or goes.
pub const VERSION: u32 = 1;

/// A room of any kind, as an export describes it.
#[derive(Clone, Debug, Serialize)]
pub struct RoomInfo {
    /// Its wire name: a slug, `pm:<id>:<id>` or `e:<CODE>`.
    pub address: String,
    pub name: String,
    /// `room`, `pm` or `ephemeral`.
    pub kind: &'static str,
    pub topic: Option<String>,
    pub private: bool,
    pub created_at: Millis,
}

/// A member of an exported room.
#[derive(Clone, Debug, Serialize)]
pub struct MemberInfo {
    pub name: String,
    pub role: String,
    pub joined_at: Millis,
}

/// A live session of an exported account.
#[derive(Clone, Debug, Serialize)]
pub struct SessionInfo {
    pub ip: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// A room or conversation an exported account belongs to.
#[derive(Clone, Debug, Serialize)]
pub struct MembershipInfo {
    pub room: RoomInfo,
    pub role: String,
    pub joined_at: Millis,
    /// A conversation's other member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// A conversation the account has yet to accept (`pending`) or has closed (`closed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
}

/// An exported account's profile and what hangs off it.
#[derive(Clone, Debug, Serialize)]
pub struct AccountInfo {
    pub name: String,
    pub role: String,
    pub email: Option<String>,
    pub verified: bool,
    pub created_at: Millis,
    pub sessions: Vec<SessionInfo>,
    pub memberships: Vec<MembershipInfo>,
    /// The names the account ignores, case-folded.
    pub ignores: Vec<String>,
}

/// What was exported, with what describes it.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Details {
    /// A persistent room, whole.
    Room {
        room: RoomInfo,
        members: Vec<MemberInfo>,
    },
    /// A private conversation between two accounts, whole.
    Conversation {
        room: RoomInfo,
        members: Vec<MemberInfo>,
    },
    /// One account's data.
    Account(AccountInfo),
}

impl Details {
    /// The export's title, for people.
    pub fn title(&self) -> String {
        match self {
            Details::Room { room, .. } => format!("room #{}", room.address),
            Details::Conversation { members, .. } => {
                let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
                format!("conversation between {}", names.join(" and "))
            }
            Details::Account(account) => format!("account {}", account.name),
        }
    }
}

/// Which of a room's messages a section holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every message (a room or conversation export, or a conversation of the account's).
    Everything,
    /// Only the exported account's own messages.
    OwnMessages,
}

/// The messages of one room in an export.
#[derive(Clone, Debug)]
pub struct Section {
    pub room: RoomInfo,
    pub scope: Scope,
    /// A conversation's other member, from the exported account's side.
    pub peer: Option<String>,
}

impl Section {
    /// The section's heading, for people.
    pub fn title(&self) -> String {
        let place = match (self.room.kind, &self.peer) {
            ("pm", Some(peer)) => return format!("Conversation with {peer}"),
            ("pm", None) => "the conversation".to_owned(),
            ("ephemeral", _) => format!("1-on-1 room {}", self.room.address),
            _ => format!("#{}", self.room.address),
        };
        match self.scope {
            Scope::Everything => format!("Messages in {place}"),
            Scope::OwnMessages => format!("Your messages in {place}"),
        }
    }
}

/// A file as an export refers to it.
#[derive(Clone, Debug, Serialize)]
pub struct FileRef {
    pub id: String,
    /// The name it was uploaded under.
    pub name: String,
    pub mime: String,
    pub size: i64,
    /// Where it is in the export (`files/…`); absent when it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// One line of `messages.jsonl`.
#[derive(Clone, Debug, Serialize)]
pub struct MessageLine {
    /// The room's wire name.
    pub room: String,
    pub seq: i64,
    /// Milliseconds since the epoch, UTC.
    pub ts: Millis,
    /// The same, as RFC 3339.
    pub time: String,
    pub author: String,
    /// Empty when the message holds only attachments, or did not decrypt.
    pub text: String,
    /// The stored body did not decrypt: there is no text.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub undecryptable: bool,
    /// An end-to-end room's message as stored: only the account's own keys open it
    /// (`docs/e2ee.md`); `text` is empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope: Option<crate::domain::Envelope>,
    /// When the author last edited the text (the text is the edited one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<Millis>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<FileRef>,
}

/// One line of `audit.jsonl`.
#[derive(Clone, Debug, Serialize)]
pub struct AuditLine {
    pub id: i64,
    pub ts: Millis,
    pub time: String,
    pub action: String,
    /// Whether the exported account did this (else: it was done to the account).
    pub by_you: bool,
    /// The address the account acted from (only on its own entries).
    pub ip: Option<String>,
    pub room: Option<String>,
    pub target: Option<String>,
    pub detail: Option<String>,
}

/// A file the exported account uploaded.
#[derive(Clone, Debug, Serialize)]
pub struct UploadLine {
    #[serde(flatten)]
    pub file: FileRef,
    /// The room it was uploaded for; none: the lobby.
    pub room: Option<String>,
    /// Whether a message took it (else it is still waiting to be sent).
    pub sent: bool,
    pub created_at: Millis,
}

/// What an export holds, counted.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    /// Rooms and conversations with messages in the export.
    pub rooms: u64,
    pub messages: u64,
    /// Messages whose stored body did not decrypt (they are in the export without text).
    pub undecryptable: u64,
    pub files: u64,
    pub file_bytes: u64,
    /// Files that could not be read or did not match their digest (listed without a path).
    pub unreadable_files: u64,
    pub audit_entries: u64,
}

/// `n` with its noun, `one` or `many` (`1 file`, `3 files`).
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What an export holds, in a sentence or three.
pub fn describe(counts: &Counts) -> String {
    let mut out = format!(
        "{} in {}, {} ({}).",
        count(counts.messages, "message", "messages"),
        count(counts.rooms, "room", "rooms"),
        count(counts.files, "file", "files"),
        human_size(i64::try_from(counts.file_bytes).unwrap_or(i64::MAX))
    );
    if counts.undecryptable > 0 {
        out.push_str(&format!(
            " {} could not be decrypted (exported without text).",
            count(counts.undecryptable, "message", "messages")
        ));
    }
    if counts.unreadable_files > 0 {
        out.push_str(&format!(
            " {} could not be read (listed without a copy).",
            count(counts.unreadable_files, "file", "files")
        ));
    }
    out
}

/// `ms` as RFC 3339 in UTC, to the millisecond.
pub fn rfc3339(ms: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// `ms` for people: `2024-05-01 12:00:03 UTC`.
pub fn human_time(ms: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// A size for people: `812 B`, `4.2 KB`, `1.3 MB`.
pub fn human_size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut size = bytes as f64 / 1000.0;
    let mut unit = 0;
    while size >= 1000.0 && unit + 1 < UNITS.len() {
        size /= 1000.0;
        unit += 1;
    }
    format!("{size:.1} {}", UNITS[unit])
}

/// Where file `id` named `name` goes in an export: `files/<id>-<name>`, the name reduced to
/// ASCII letters, digits, `.`, `-` and `_` (anything else becomes `_`) and cut to a length
/// every file system takes, keeping a short extension. The id keeps names unique.
pub fn file_path(id: &str, name: &str) -> String {
    const MAX_STEM: usize = 60;
    let id: String = id.chars().filter(char::is_ascii_alphanumeric).collect();
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, ext))
            if (1..=10).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            (stem, Some(ext))
        }
        _ => (name, None),
    };
    let mut safe = String::new();
    for c in stem.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
            c
        } else {
            '_'
        };
        if !(c == '_' && safe.ends_with('_')) {
            safe.push(c);
        }
    }
    let safe: String = safe
        .trim_matches(|c| matches!(c, '.' | '_' | '-'))
        .chars()
        .take(MAX_STEM)
        .collect();
    let stem = if safe.is_empty() { "file" } else { &safe };
    match extension {
        Some(ext) => format!("files/{id}-{stem}.{}", ext.to_ascii_lowercase()),
        None => format!("files/{id}-{stem}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_paths_keep_the_id_and_a_safe_name() {
        let id = "abcdefghijklmnopqrstuvwxyz";
        assert_eq!(file_path(id, "photo.PNG"), format!("files/{id}-photo.png"));
        assert_eq!(
            file_path(id, "../../etc/pass wd"),
            format!("files/{id}-etc_pass_wd")
        );
        assert_eq!(
            file_path(id, "résumé final.pdf"),
            format!("files/{id}-r_sum_final.pdf")
        );
        assert_eq!(file_path(id, ".hidden"), format!("files/{id}-file.hidden"));
        assert_eq!(file_path(id, "CON"), format!("files/{id}-CON"));
        assert_eq!(file_path("a/../b", "x"), "files/ab-x");
        let long = "n".repeat(300);
        assert_eq!(file_path(id, &long).len(), "files/".len() + 26 + 1 + 60);
    }

    #[test]
    fn times_and_sizes_read_as_people_expect() {
        assert_eq!(rfc3339(1_714_564_803_004), "2024-05-01T12:00:03.004Z");
        assert_eq!(human_time(1_714_564_803_004), "2024-05-01 12:00:03 UTC");
        assert_eq!(human_size(812), "812 B");
        assert_eq!(human_size(4_200), "4.2 KB");
        assert_eq!(human_size(1_300_000), "1.3 MB");
    }
}
