//! What travels between nodes, and the Redis keys and channels it travels on.
//!
//! One JSON envelope per publish, encoded once, whoever receives it; each receiving node
//! decodes it once and its framings encode the event once each, as for a local event.

use crate::core::{Directive, Event, UserView};
use crate::domain::Principal;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

const PREFIX: &str = "parlor:";

/// The channel every node listens to: directives.
pub fn all_channel() -> String {
    format!("{PREFIX}all")
}

/// A room's channel: its events and presence. Only nodes with someone in the room listen.
pub fn room_channel(room: &str) -> String {
    format!("{PREFIX}room:{room}")
}

/// A room's presence: one field per (node, identity) present, for a node that starts
/// listening to the room to learn who is already there.
pub fn presence_key(room: &str) -> String {
    format!("{PREFIX}presence:{room}")
}

/// The presence hashes of every room (to clean up after a restart).
pub const PRESENCE_PATTERN: &str = "parlor:presence:*";

pub fn presence_field(node: &str, principal: Principal) -> String {
    format!("{node}|{}", principal.key())
}

/// The node a presence field belongs to.
pub fn node_of_field(field: &str) -> Option<&str> {
    field.split_once('|').map(|(node, _)| node)
}

/// A node's heartbeat: present while the node lives.
pub fn node_key(node: &str) -> String {
    format!("{PREFIX}node:{node}")
}

/// Who is online under a case-folded name: one field per node with a connection under it,
/// holding the identity's key.
pub fn name_key(name_key: &str) -> String {
    format!("{PREFIX}name:{name_key}")
}

/// The name keys (to clean up after a restart).
pub const NAME_PATTERN: &str = "parlor:name:*";

/// Takes a name for an identity unless another identity holds it on a living node (entries of
/// dead nodes are removed on the way). KEYS[1]: the name's key; ARGV: node, identity key,
/// heartbeat key prefix. Returns 1 when taken.
pub const CLAIM_NAME: &str = r#"
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  if fields[i + 1] ~= ARGV[2] then
    if redis.call('EXISTS', ARGV[3] .. fields[i]) == 1 then
      return 0
    end
    redis.call('HDEL', KEYS[1], fields[i])
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"#;

/// The prefix of node heartbeat keys (for [`CLAIM_NAME`]).
pub fn node_key_prefix() -> String {
    node_key("")
}

/// Counts node starts (each start's connection ids come from its number).
pub const STARTS_KEY: &str = "parlor:starts";

/// Every node's heartbeat key (to count the living nodes).
pub const NODE_PATTERN: &str = "parlor:node:*";

/// Where the nodes answer one request for their connections.
pub fn report_key(node: &str, n: u64) -> String {
    format!("{PREFIX}report:{node}:{n}")
}

/// An identity's `/ws` slot: which node holds it.
pub fn slot_key(principal: Principal) -> String {
    format!("{PREFIX}ws:{}", principal.key())
}

/// One message between nodes. Sending borrows the event or directive (it is serialized
/// once, not copied first); receiving owns what it decoded.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope<'a> {
    /// The publishing node.
    pub node: String,
    /// Its incarnation (a restarted node counts afresh).
    pub boot: u64,
    /// Its count of publishes: a retried publish that had gone through is seen twice, and
    /// dropped the second time.
    pub n: u64,
    pub body: Body<'a>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body<'a> {
    Event {
        room: String,
        except: Option<Principal>,
        event: Cow<'a, Event>,
    },
    /// The node has (`user` set) or no longer has `principal` in `room`.
    Presence {
        room: String,
        principal: Principal,
        user: Option<UserView>,
    },
    Directive {
        directive: Cow<'a, Directive>,
    },
    /// Every node pushes its live connections onto the list `reply` (the admin panel).
    Report {
        reply: String,
    },
}

/// A presence field's value.
#[derive(Debug, Serialize, Deserialize)]
pub struct Present {
    pub principal: Principal,
    pub user: UserView,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::CloseReason;

    #[test]
    fn envelopes_survive_the_wire() {
        let envelope = Envelope {
            node: "a".into(),
            boot: 7,
            n: 3,
            body: Body::Directive {
                directive: Cow::Owned(Directive::ClosePrincipal {
                    principal: Principal::Guest(4),
                    reason: CloseReason::Kicked,
                    detail: Some("spam".into()),
                }),
            },
        };
        let bytes = serde_json::to_vec(&envelope).unwrap();
        let back: Envelope = serde_json::from_slice(&bytes).unwrap();
        assert_eq!((back.node.as_str(), back.boot, back.n), ("a", 7, 3));
        let Body::Directive { directive } = back.body else {
            panic!("another body");
        };
        let Directive::ClosePrincipal {
            principal, detail, ..
        } = directive.into_owned()
        else {
            panic!("another directive");
        };
        assert_eq!(principal, Principal::Guest(4));
        assert_eq!(detail.as_deref(), Some("spam"));
    }

    #[test]
    fn channels_name_their_room() {
        assert_eq!(room_channel("pm:1:2"), "parlor:room:pm:1:2");
        assert_eq!(
            node_of_field(&presence_field("n-1", Principal::User(3))),
            Some("n-1")
        );
    }
}
