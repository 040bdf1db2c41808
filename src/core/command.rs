//! Commands: what a client asks of the core. Every framing decodes its frames into these.

use super::CoreError;
use crate::domain::Role;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

/// One client command, already validated for shape (not yet for meaning).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Identify(Identify),
    Join(JoinRoom),
    Leave(RoomRef),
    Send(SendMessage),
    Typing(Typing),
    History(History),
    Members(Members),
    OpenConversation(UserRef),
    AcceptConversation(RoomRef),
    DeclineConversation(RoomRef),
    CloseConversation(RoomRef),
    MarkRead(MarkRead),
    Whisper(Whisper),
    Kick(ModTarget),
    Ban(Ban),
    Unban(Unban),
    Mute(Mute),
    Unmute(ModTarget),
    Verify(Verify),
    SetRole(SetRole),
    Ignore(UserRef),
    Unignore(UserRef),
    Move(MoveUser),
    DeleteUser(UserRef),
}

/// Resolve who this connection is: a session token, a new guest nick, or neither (then the
/// connection's own credential, such as its session cookie, is used).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identify {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub nick: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomRef {
    pub room: String,
}

/// Join a room; `since` resumes from the last sequence number the client saw. Ephemeral
/// rooms also need the `device` id the browser keeps.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinRoom {
    pub room: String,
    #[serde(default)]
    pub since: Option<i64>,
    #[serde(default)]
    pub device: Option<String>,
}

/// A command about one other user: open a conversation with them, ignore or unignore them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRef {
    pub user: String,
}

/// Everything up to `seq` in a room or conversation has been read.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    pub room: String,
    pub seq: i64,
}

/// A private message that is never stored, for when a guest is one of the two.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Whisper {
    pub to: String,
    pub text: String,
}

/// Send a message; in persistent rooms a `client_msg_id` makes retries safe.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    pub room: String,
    pub text: String,
    #[serde(default)]
    pub client_msg_id: Option<String>,
}

/// A page of a persistent room's history, before or after a sequence number.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct History {
    pub room: String,
    #[serde(default)]
    pub before: Option<i64>,
    #[serde(default)]
    pub after: Option<i64>,
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A page of a room's member list (present members, staff first, then by name), starting
/// after the `next` cursor of the previous page.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Members {
    pub room: String,
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Typing {
    pub room: String,
    pub active: bool,
}

/// A moderation action on one user; `room` is where it happened (its notice goes there; the
/// lobby by default).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModTarget {
    pub user: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub room: Option<String>,
}

/// Ban a user by name (`with_ip`: also the address they use), an address, or both.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ban {
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub with_ip: bool,
    #[serde(default)]
    pub reason: Option<String>,
    /// Absent: until lifted.
    #[serde(default)]
    pub duration_secs: Option<u64>,
    #[serde(default)]
    pub room: Option<String>,
}

/// Lift the bans on a name, an address, or both.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unban {
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub ip: Option<String>,
}

/// Mute a user: they read but cannot write.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mute {
    pub user: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub duration_secs: Option<u64>,
    #[serde(default)]
    pub room: Option<String>,
}

/// Set or clear an account's verified badge.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verify {
    pub user: String,
    pub verified: bool,
    #[serde(default)]
    pub room: Option<String>,
}

/// Move a user into a room (admin+): they become a member and their clients are told to open it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveUser {
    pub user: String,
    pub room: String,
}

/// Give an account another global role.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetRole {
    pub user: String,
    pub role: Role,
}

impl Command {
    /// Builds a command from its name and JSON payload (`null`/absent means `{}`).
    pub fn parse(name: &str, data: Value) -> Result<Self, CoreError> {
        let data = if data.is_null() {
            Value::Object(Default::default())
        } else {
            data
        };
        Ok(match name {
            "identify" => Command::Identify(payload(name, data)?),
            "join" => Command::Join(payload(name, data)?),
            "leave" => Command::Leave(payload(name, data)?),
            "send" => Command::Send(payload(name, data)?),
            "typing" => Command::Typing(payload(name, data)?),
            "history" => Command::History(payload(name, data)?),
            "members" => Command::Members(payload(name, data)?),
            "pm_open" => Command::OpenConversation(payload(name, data)?),
            "pm_accept" => Command::AcceptConversation(payload(name, data)?),
            "pm_decline" => Command::DeclineConversation(payload(name, data)?),
            "pm_close" => Command::CloseConversation(payload(name, data)?),
            "read" => Command::MarkRead(payload(name, data)?),
            "whisper" => Command::Whisper(payload(name, data)?),
            "kick" => Command::Kick(payload(name, data)?),
            // A ban closes the user's connections at once: it is a kickban.
            "ban" | "kickban" => Command::Ban(payload(name, data)?),
            "unban" => Command::Unban(payload(name, data)?),
            "mute" => Command::Mute(payload(name, data)?),
            "unmute" => Command::Unmute(payload(name, data)?),
            "verify" => Command::Verify(payload(name, data)?),
            "set_role" => Command::SetRole(payload(name, data)?),
            "ignore" => Command::Ignore(payload(name, data)?),
            "unignore" => Command::Unignore(payload(name, data)?),
            "move" => Command::Move(payload(name, data)?),
            "delete_user" => Command::DeleteUser(payload(name, data)?),
            other => return Err(CoreError::UnknownCommand(truncate(other))),
        })
    }

    /// The command's wire name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Identify(_) => "identify",
            Command::Join(_) => "join",
            Command::Leave(_) => "leave",
            Command::Send(_) => "send",
            Command::Typing(_) => "typing",
            Command::History(_) => "history",
            Command::Members(_) => "members",
            Command::OpenConversation(_) => "pm_open",
            Command::AcceptConversation(_) => "pm_accept",
            Command::DeclineConversation(_) => "pm_decline",
            Command::CloseConversation(_) => "pm_close",
            Command::MarkRead(_) => "read",
            Command::Whisper(_) => "whisper",
            Command::Kick(_) => "kick",
            Command::Ban(_) => "ban",
            Command::Unban(_) => "unban",
            Command::Mute(_) => "mute",
            Command::Unmute(_) => "unmute",
            Command::Verify(_) => "verify",
            Command::SetRole(_) => "set_role",
            Command::Ignore(_) => "ignore",
            Command::Unignore(_) => "unignore",
            Command::Move(_) => "move",
            Command::DeleteUser(_) => "delete_user",
        }
    }
}

fn payload<T: DeserializeOwned>(name: &str, data: Value) -> Result<T, CoreError> {
    serde_json::from_value(data).map_err(|e| CoreError::InvalidPayload(format!("{name}: {e}")))
}

/// Echoing a client's string back in an error is fine; echoing a megabyte is not.
fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_known_commands() {
        assert_eq!(
            Command::parse("send", json!({"room": "lobby", "text": "hi"})).unwrap(),
            Command::Send(SendMessage {
                room: "lobby".into(),
                text: "hi".into(),
                client_msg_id: None,
            })
        );
        assert_eq!(
            Command::parse("identify", Value::Null).unwrap(),
            Command::Identify(Identify::default())
        );
    }

    #[test]
    fn unknown_names_and_bad_payloads_are_distinct_errors() {
        assert!(matches!(
            Command::parse("fly", json!({})),
            Err(CoreError::UnknownCommand(_))
        ));
        for bad in [
            json!({"room": 1, "text": "x"}),
            json!({"room": "lobby"}),
            json!([1]),
            json!({"room": "lobby", "text": "x", "extra": true}),
        ] {
            assert!(matches!(
                Command::parse("send", bad),
                Err(CoreError::InvalidPayload(_))
            ));
        }
    }
}
