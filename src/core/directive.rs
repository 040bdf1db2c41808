//! What must happen on every node, not only the one where it was decided: a kick closes the
//! target's connections wherever they are, a whisper reaches the recipient's tabs on any node,
//! a deleted room empties everywhere. The services say it once through [`Bus::direct`]; each
//! node applies it to its own connections ([`Inbound::apply`]).
//!
//! Serializable, because a networked bus carries it to the other nodes as it is.
//!
//! [`Bus::direct`]: super::Bus::direct
//! [`Inbound::apply`]: super::Inbound::apply

use super::event::{CloseReason, Event, RemovedReason, UserView};
use crate::domain::Principal;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Directive {
    /// An event for every connection of one identity (unless it ignores the author).
    Tell { principal: Principal, event: Event },
    /// An event for every connection of a registered account (what every account's room
    /// list shows has changed: a public room came, went, or changed).
    TellAccounts { event: Event },
    /// Close every connection of one identity, with a moderator's reason.
    ClosePrincipal {
        principal: Principal,
        reason: CloseReason,
        detail: Option<String>,
    },
    /// Close every connection from an address, except staff's.
    CloseAddress {
        ip: IpAddr,
        reason: CloseReason,
        detail: Option<String>,
    },
    /// Close the connections of these sessions (named by token hash, never the token).
    CloseSessions {
        sessions: Vec<String>,
        reason: CloseReason,
    },
    /// An identity's role or badge changed: its connections and the rooms it is in hear it.
    UpdateUser {
        principal: Principal,
        user: UserView,
    },
    /// `principal` (no longer) ignores a case-folded name.
    SetIgnore {
        principal: Principal,
        name_key: String,
        ignore: bool,
    },
    /// An account changed its name: the rooms it is in hear it, and its connections close to
    /// come back under the new name.
    Renamed {
        principal: Principal,
        from: String,
        user: UserView,
    },
    /// Take an identity out of a room, telling its connections why.
    Evict {
        room: String,
        principal: Principal,
        reason: RemovedReason,
    },
    /// A room is gone: everyone in it is told why and leaves.
    CloseRoom { room: String, reason: RemovedReason },
    /// A room stopped admitting guests: the guests in it are told and leave.
    EvictGuests { room: String },
    /// Close one connection, on whichever node holds it (the admin panel).
    CloseConnection { id: u64 },
    /// Bans or mutes changed: every node reads the sanctions in force again.
    SanctionsChanged,
    /// A node stopped (or restarted under the same name): whoever only it had leaves.
    NodeGone { node: String },
}
