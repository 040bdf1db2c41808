//! Moderation commands (`kick`, `ban`/`kickban`, `unban`, `mute`, `unmute`, `verify`,
//! `set_role`, `move`, `delete_user`): staff acting on a user. The same payloads arrive over
//! the admin API's `POST /api/admin/actions/{action}`.

use super::{decode_by_shape, Apply, Command, Done};
use crate::core::service::actor;
use crate::core::{Chat, Connection, CoreError};
use crate::domain::{whole, Name, Role, RoomName};
use crate::moderation::Actor;
use serde::Deserialize;
use std::net::IpAddr;
use utoipa::ToSchema;

/// A moderation action on one user; `room` is where it happened (its notice goes there; the
/// lobby by default).
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModTarget {
    #[schema(value_type = String, min_length = 1, max_length = 20, pattern = r"^[A-Za-z0-9_-]+$")]
    pub user: Name,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100, pattern = r"^[^\u0000-\u001f\u007f-\u009f]+$")]
    pub room: Option<RoomName>,
}

/// Lift a mute (the same fields as a kick).
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct Unmute(pub ModTarget);

/// Ban a user by name (`with_ip`: also the address they use), an address, or both.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ban {
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 20, pattern = r"^[A-Za-z0-9_-]+$")]
    pub user: Option<Name>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub ip: Option<IpAddr>,
    #[serde(default)]
    pub with_ip: bool,
    #[serde(default)]
    pub reason: Option<String>,
    /// Absent: until lifted.
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(minimum = 1, maximum = 315_360_000)]
    pub duration_secs: Option<u64>,
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100, pattern = r"^[^\u0000-\u001f\u007f-\u009f]+$")]
    pub room: Option<RoomName>,
}

/// Lift the bans on a name, an address, or both.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Unban {
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 20, pattern = r"^[A-Za-z0-9_-]+$")]
    pub user: Option<Name>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub ip: Option<IpAddr>,
}

/// Mute a user: they read but cannot write.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Mute {
    #[schema(value_type = String, min_length = 1, max_length = 20, pattern = r"^[A-Za-z0-9_-]+$")]
    pub user: Name,
    #[serde(default)]
    pub reason: Option<String>,
    /// Absent: until lifted.
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(minimum = 1, maximum = 315_360_000)]
    pub duration_secs: Option<u64>,
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100, pattern = r"^[^\u0000-\u001f\u007f-\u009f]+$")]
    pub room: Option<RoomName>,
}

/// Set or clear an account's verified badge.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Verify {
    #[schema(value_type = String, min_length = 1, max_length = 20, pattern = r"^[A-Za-z0-9_-]+$")]
    pub user: Name,
    pub verified: bool,
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100, pattern = r"^[^\u0000-\u001f\u007f-\u009f]+$")]
    pub room: Option<RoomName>,
}

/// Give an account another global role.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRole {
    #[schema(value_type = String, min_length = 1, max_length = 20, pattern = r"^[A-Za-z0-9_-]+$")]
    pub user: Name,
    #[schema(value_type = String)]
    pub role: Role,
}

/// Move a user into a room (admin+): they become a member and their clients are told to open it.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveUser {
    #[schema(value_type = String, min_length = 1, max_length = 20, pattern = r"^[A-Za-z0-9_-]+$")]
    pub user: Name,
    #[schema(value_type = String, min_length = 1, max_length = 100, pattern = r"^[^\u0000-\u001f\u007f-\u009f]+$")]
    pub room: RoomName,
}

/// Delete an account (admin+, from above).
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteUser {
    #[schema(value_type = String, min_length = 1, max_length = 20, pattern = r"^[A-Za-z0-9_-]+$")]
    pub user: Name,
}

decode_by_shape!(ModTarget, Unmute, Ban, Unban, Mute, Verify, SetRole, MoveUser, DeleteUser);

/// Each moderation command calls the moderation service's method of the same name, from a
/// connection (the command) or from the admin API ([`Command::moderate`]).
macro_rules! moderation_commands {
    ($($variant:ident($payload:ty) = $name:literal => $method:ident),+ $(,)?) => {
        /// The commands the admin API takes as actions, by their wire names.
        pub const ACTIONS: &[&str] = &[$($name),+];

        /// Each action's name, and the schema of its payload (for the OpenAPI document).
        pub fn action_schemas() -> Vec<(&'static str, utoipa::openapi::RefOr<utoipa::openapi::Schema>)> {
            vec![$(($name, <$payload as utoipa::PartialSchema>::schema())),+]
        }

        $(impl Apply for $payload {
            type Reply = Done;

            async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Done, CoreError> {
                let actor = actor(conn)?;
                chat.moderation.$method(&actor, self).await?;
                Ok(Done {})
            }
        })+

        impl Command {
            /// Applies a moderation command for a staff member of the admin API; any other
            /// command is `not_found` there.
            pub async fn moderate(self, chat: &Chat, actor: &Actor<'_>) -> Result<(), CoreError> {
                match self {
                    $(Command::$variant(payload) => chat.moderation.$method(actor, payload).await,)+
                    _ => Err(CoreError::NoSuchAction),
                }
            }
        }
    };
}

moderation_commands! {
    Kick(ModTarget) = "kick" => kick,
    Ban(Ban) = "ban" => ban,
    Unban(Unban) = "unban" => unban,
    Mute(Mute) = "mute" => mute,
    Unmute(Unmute) = "unmute" => unmute,
    Verify(Verify) = "verify" => verify,
    SetRole(SetRole) = "set_role" => set_role,
    Move(MoveUser) = "move" => move_user,
    DeleteUser(DeleteUser) = "delete_user" => delete_user,
}
