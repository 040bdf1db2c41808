//! Moderation commands (`kick`, `ban`/`kickban`, `unban`, `mute`, `unmute`, `verify`,
//! `set_role`, `move`, `delete_user`): staff acting on a user. The same payloads arrive over
//! the admin API's `POST /api/admin/actions/{action}`.

use super::{decode_by_shape, Apply, Command, Done};
use crate::core::service::actor;
use crate::core::{Chat, Connection, CoreError};
use crate::domain::{Name, Role, RoomName};
use crate::moderation::Actor;
use serde::Deserialize;
use std::net::IpAddr;

/// A moderation action on one user; `room` is where it happened (its notice goes there; the
/// lobby by default).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModTarget {
    pub user: Name,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub room: Option<RoomName>,
}

/// Lift a mute (the same fields as a kick).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Unmute(pub ModTarget);

/// Ban a user by name (`with_ip`: also the address they use), an address, or both.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ban {
    #[serde(default)]
    pub user: Option<Name>,
    #[serde(default)]
    pub ip: Option<IpAddr>,
    #[serde(default)]
    pub with_ip: bool,
    #[serde(default)]
    pub reason: Option<String>,
    /// Absent: until lifted.
    #[serde(default)]
    pub duration_secs: Option<u64>,
    #[serde(default)]
    pub room: Option<RoomName>,
}

/// Lift the bans on a name, an address, or both.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unban {
    #[serde(default)]
    pub user: Option<Name>,
    #[serde(default)]
    pub ip: Option<IpAddr>,
}

/// Mute a user: they read but cannot write.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mute {
    pub user: Name,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub duration_secs: Option<u64>,
    #[serde(default)]
    pub room: Option<RoomName>,
}

/// Set or clear an account's verified badge.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verify {
    pub user: Name,
    pub verified: bool,
    #[serde(default)]
    pub room: Option<RoomName>,
}

/// Give an account another global role.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetRole {
    pub user: Name,
    pub role: Role,
}

/// Move a user into a room (admin+): they become a member and their clients are told to open it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveUser {
    pub user: Name,
    pub room: RoomName,
}

/// Delete an account (admin+, from above).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteUser {
    pub user: Name,
}

decode_by_shape!(ModTarget, Unmute, Ban, Unban, Mute, Verify, SetRole, MoveUser, DeleteUser);

/// Each moderation command calls the moderation service's method of the same name, from a
/// connection (the command) or from the admin API ([`Command::moderate`]).
macro_rules! moderation_commands {
    ($($variant:ident($payload:ty) => $method:ident),+ $(,)?) => {
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
    Kick(ModTarget) => kick,
    Ban(Ban) => ban,
    Unban(Unban) => unban,
    Mute(Mute) => mute,
    Unmute(Unmute) => unmute,
    Verify(Verify) => verify,
    SetRole(SetRole) => set_role,
    Move(MoveUser) => move_user,
    DeleteUser(DeleteUser) => delete_user,
}
