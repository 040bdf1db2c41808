//! The two parties of every moderation action: who acts (with the address and room it comes
//! from, which the audit log records) and whom it is about. Rank rules compare their roles.

use crate::auth::Identity;
use crate::domain::{Principal, Role};

/// Who acts, from which address, and in which room (where its notice goes).
pub struct Actor<'a> {
    pub identity: &'a Identity,
    pub ip: String,
    pub room: Option<String>,
}

impl<'a> Actor<'a> {
    /// The same actor, acting in `room`.
    pub fn in_room(&self, room: Option<&str>) -> Actor<'a> {
        Actor {
            identity: self.identity,
            ip: self.ip.clone(),
            room: room.map(str::to_owned),
        }
    }
}

/// Whom an action is about: an account, an online guest, or (for bans and mutes) a name.
#[derive(Clone, Debug)]
pub struct Target {
    pub name: String,
    pub principal: Option<Principal>,
    pub role: Role,
}

impl Target {
    pub fn name_key(&self) -> String {
        self.name.to_ascii_lowercase()
    }
}
