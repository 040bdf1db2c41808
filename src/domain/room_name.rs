//! How clients name a room in commands: `lobby`, a stored room's slug, a conversation
//! (`pm:<id>:<id>`) or an ephemeral room (`e:<CODE>`). Parsed once at the edge into the
//! spelling the server stores and announces, so that `MyRoom` and `myroom`, or `e:abcd` and
//! `e:ABCD`, are the same room everywhere (ordering locks, presence, events).
//!
//! Whether such a room exists, and whether the caller may see it, is the room services'
//! business: a well-formed name of a room that is not there answers `not_found` like any other.

use super::{RoomCode, LOBBY};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// The longest room name a command may carry (slugs are at most 40, conversation names about
/// 45 characters).
const MAX_LEN: usize = 100;

/// A room name in its stored spelling.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RoomName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a room name is 1 to {MAX_LEN} characters without control characters")]
pub struct RoomNameError;

impl RoomName {
    pub fn parse(raw: &str) -> Result<Self, RoomNameError> {
        if raw.is_empty() || raw.chars().count() > MAX_LEN || raw.chars().any(char::is_control) {
            return Err(RoomNameError);
        }
        Ok(Self(match RoomCode::from_room_name(raw) {
            Some(code) => code.room_name(),
            None => raw.to_ascii_lowercase(),
        }))
    }

    /// The lobby, the one room every identity may join without it being stored.
    pub fn lobby() -> Self {
        Self(LOBBY.to_owned())
    }

    pub fn is_lobby(&self) -> bool {
        self.0 == LOBBY
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RoomName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        RoomName::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_take_their_stored_spelling() {
        assert_eq!(RoomName::parse("MyRoom").unwrap().as_str(), "myroom");
        assert_eq!(RoomName::parse("e:abcd").unwrap().as_str(), "e:ABCD");
        assert_eq!(RoomName::parse("pm:1:2").unwrap().as_str(), "pm:1:2");
        assert!(RoomName::parse("Lobby").unwrap().is_lobby());
    }

    #[test]
    fn empty_long_and_control_names_are_refused() {
        assert_eq!(RoomName::parse(""), Err(RoomNameError));
        assert_eq!(RoomName::parse(&"a".repeat(101)), Err(RoomNameError));
        assert_eq!(RoomName::parse("a\nb"), Err(RoomNameError));
    }
}
