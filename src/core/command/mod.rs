//! Commands: what a client asks of the core, declared once.
//!
//! Each command is a payload type in the file of its group (`session`, `rooms`, `talk`,
//! `conversations`, `moderation`, `ignores`, `search`). The type decodes itself from the frame's JSON
//! into domain values ([`Decode`]: room names, message text, client message ids, addresses are
//! parsed here, at the edge, and nowhere else) and applies itself by calling its service
//! ([`Apply`]), returning a typed reply that the framing serialises. The [`commands!`] table
//! below is the only place that names every command: it generates the [`Command`] enum, its
//! decoding by wire name, its name for logs, and its dispatch.

mod changes;
mod conversations;
mod ignores;
mod moderation;
mod rooms;
mod search;
mod session;
mod talk;

pub use changes::{DeleteMessage, EditMessage, MessageRef, React};
pub use conversations::{MarkRead, OpenConversation, Whisper};
pub use ignores::IgnoreUser;
pub use moderation::{
    action_schemas as moderation_action_schemas, Ban, DeleteUser, ModTarget, MoveUser, Mute,
    SetRole, Unban, Unmute, Verify, ACTIONS as MODERATION_ACTIONS,
};
pub use rooms::{History, JoinRoom, LeaveRoom, Members};
pub use session::Identify;
pub use talk::{SendMessage, Typing};

use super::{Answer, Connection};
use super::{Chat, CoreError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// What decoding needs to know from configuration.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_message_chars: usize,
}

/// Builds a payload from a command's JSON data.
pub(crate) trait Decode: Sized {
    fn decode(data: Value, limits: &Limits) -> Result<Self, CoreError>;
}

/// Runs a decoded payload on behalf of a connection.
pub(crate) trait Apply {
    /// The ack's `data`.
    type Reply: Serialize + Send + Sync + 'static;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Self::Reply, CoreError>;
}

/// Decodes payloads that need nothing but their JSON shape (every field a typed value).
macro_rules! decode_by_shape {
    ($($payload:ty),+ $(,)?) => {
        $(impl $crate::core::command::Decode for $payload {
            fn decode(
                data: serde_json::Value,
                _: &$crate::core::command::Limits,
            ) -> Result<Self, $crate::core::CoreError> {
                $crate::core::command::shape(data)
            }
        })+
    };
}
pub(crate) use decode_by_shape;

/// The one table of commands: variant, payload type, wire name (and aliases).
macro_rules! commands {
    ($($(#[$doc:meta])* $variant:ident($payload:ty) = $name:literal $(| $alias:literal)*;)+) => {
        /// One client command, decoded into typed values.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Command {
            $($(#[$doc])* $variant($payload),)+
        }

        impl Command {
            /// Builds a command from its wire name and JSON data (`null`/absent means `{}`).
            pub fn parse(name: &str, data: Value, limits: &Limits) -> Result<Self, CoreError> {
                let data = if data.is_null() { Value::Object(Default::default()) } else { data };
                match name {
                    $($name $(| $alias)* => <$payload as Decode>::decode(data, limits)
                        .map(Command::$variant)
                        .map_err(|err| err.in_command($name)),)+
                    other => Err(CoreError::UnknownCommand(truncate(other))),
                }
            }

            /// The command's wire name, for logs.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Command::$variant(_) => $name,)+
                }
            }

            /// Applies the command; the reply is boxed for the connection's queue.
            pub(crate) async fn apply(
                self,
                chat: &Chat,
                conn: &mut Connection,
            ) -> Result<Answer, CoreError> {
                match self {
                    $(Command::$variant(payload) => payload.apply(chat, conn).await.map(Answer::new),)+
                }
            }
        }
    };
}

commands! {
    Identify(Identify) = "identify";
    Join(JoinRoom) = "join";
    Leave(LeaveRoom) = "leave";
    Send(SendMessage) = "send";
    Edit(EditMessage) = "edit";
    Delete(DeleteMessage) = "delete";
    React(changes::Give) = "react";
    Unreact(changes::TakeBack) = "unreact";
    Typing(Typing) = "typing";
    History(History) = "history";
    Members(Members) = "members";
    OpenConversation(OpenConversation) = "pm_open";
    AcceptConversation(conversations::Accept) = "pm_accept";
    DeclineConversation(conversations::Decline) = "pm_decline";
    CloseConversation(conversations::Close) = "pm_close";
    MarkRead(MarkRead) = "read";
    Whisper(Whisper) = "whisper";
    Kick(ModTarget) = "kick";
    /// A ban closes the user's connections at once: it is a kickban.
    Ban(Ban) = "ban" | "kickban";
    Unban(Unban) = "unban";
    Mute(Mute) = "mute";
    Unmute(moderation::Unmute) = "unmute";
    Verify(Verify) = "verify";
    SetRole(SetRole) = "set_role";
    Ignore(IgnoreUser) = "ignore";
    Unignore(ignores::UnignoreUser) = "unignore";
    Move(MoveUser) = "move";
    DeleteUser(moderation::DeleteUser) = "delete_user";
    Search(crate::search::SearchQuery) = "search";
}

/// Decodes a payload by its JSON shape alone.
pub(crate) fn shape<T: DeserializeOwned>(data: Value) -> Result<T, CoreError> {
    serde_json::from_value(data).map_err(|e| CoreError::InvalidPayload(e.to_string()))
}

/// Echoing a client's string back in an error is fine; echoing a megabyte is not.
fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// The reply of commands that answer nothing but success: `{}`.
#[derive(Debug, Serialize)]
pub struct Done {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{MessageText, RoomName};
    use serde_json::json;

    const LIMITS: Limits = Limits {
        max_message_chars: 10,
    };

    #[test]
    fn parses_known_commands_into_typed_values() {
        assert_eq!(
            Command::parse("send", json!({"room": "Lobby", "text": " hi "}), &LIMITS).unwrap(),
            Command::Send(SendMessage {
                room: RoomName::lobby(),
                text: Some(MessageText::parse("hi", 10).unwrap()),
                envelope: None,
                client_msg_id: None,
                attachments: Vec::new(),
                reply_to: None,
            })
        );
        assert_eq!(
            Command::parse("identify", Value::Null, &LIMITS).unwrap(),
            Command::Identify(Identify::default())
        );
        assert_eq!(
            Command::parse("kickban", json!({"user": "x"}), &LIMITS)
                .unwrap()
                .name(),
            "ban"
        );
    }

    #[test]
    fn every_moderation_action_is_a_command_of_that_name() {
        for action in MODERATION_ACTIONS {
            let command = Command::parse(action, json!({"user": "x"}), &LIMITS);
            assert!(
                !matches!(command, Err(CoreError::UnknownCommand(_))),
                "{action}"
            );
            if let Ok(command) = command {
                assert_eq!(command.name(), *action);
            }
        }
    }

    #[test]
    fn unknown_names_and_bad_payloads_are_distinct_errors() {
        assert!(matches!(
            Command::parse("fly", json!({}), &LIMITS),
            Err(CoreError::UnknownCommand(_))
        ));
        for bad in [
            json!({"room": 1, "text": "x"}),
            json!([1]),
            json!({"room": "lobby", "attachments": ["not-an-id"]}),
            json!({"room": "lobby", "attachments": ["a".repeat(26), "a".repeat(26)]}),
            json!({"room": "lobby", "attachments": (0..11u8).map(|i| format!("{:a>26}", char::from(b'b' + i))).collect::<Vec<_>>()}),
            json!({"room": "lobby", "text": "x", "extra": true}),
            json!({"room": "", "text": "x"}),
            json!({"room": "r", "text": "x", "client_msg_id": ""}),
        ] {
            assert!(
                matches!(
                    Command::parse("send", bad.clone(), &LIMITS),
                    Err(CoreError::InvalidPayload(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn message_text_is_parsed_while_decoding() {
        assert!(matches!(
            Command::parse("send", json!({"room": "r", "text": "  "}), &LIMITS),
            Err(CoreError::Message(_))
        ));
        assert!(matches!(
            Command::parse("send", json!({"room": "lobby"}), &LIMITS),
            Err(CoreError::Message(_))
        ));
        let id = "c".repeat(26);
        let Ok(Command::Send(send)) = Command::parse(
            "send",
            json!({"room": "lobby", "text": " ", "attachments": [id]}),
            &LIMITS,
        ) else {
            panic!("a blank text beside an attachment is no text");
        };
        assert_eq!((send.text, send.attachments.len()), (None, 1));
        assert!(matches!(
            Command::parse(
                "whisper",
                json!({"to": "a", "text": "x".repeat(11)}),
                &LIMITS
            ),
            Err(CoreError::Message(_))
        ));
    }
}
