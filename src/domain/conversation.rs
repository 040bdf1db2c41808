//! Rules of the rooms that are not persistent rooms: private conversations between two
//! accounts and ephemeral 1-on-1 rooms. Both are stored as rooms of their own [`RoomKind`] and
//! addressed on the wire by names a persistent room's slug can never take (they contain `:`).

use std::str::FromStr;

/// What a stored room is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoomKind {
    /// A persistent room with a slug, members and roles.
    Room,
    /// A private conversation between two accounts.
    Pm,
    /// A 1-on-1 room reached by a short code, closed after its timer runs out.
    Ephemeral,
}

impl RoomKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoomKind::Room => "room",
            RoomKind::Pm => "pm",
            RoomKind::Ephemeral => "ephemeral",
        }
    }
}

impl FromStr for RoomKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "room" => Ok(RoomKind::Room),
            "pm" => Ok(RoomKind::Pm),
            "ephemeral" => Ok(RoomKind::Ephemeral),
            other => Err(format!("unknown room kind {other:?}")),
        }
    }
}

/// The wire name of the conversation between two accounts: `pm:<lower id>:<higher id>`, the
/// same whichever of them asks.
pub fn pm_room_name(a: i64, b: i64) -> String {
    format!("pm:{}:{}", a.min(b), a.max(b))
}

/// The two account ids in a conversation's wire name.
pub fn pm_members(name: &str) -> Option<(i64, i64)> {
    let (a, b) = name.strip_prefix("pm:")?.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Ephemeral room codes use letters and digits nobody confuses: no 0/O, no 1/I/L.
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// Characters in a code.
pub const CODE_LEN: usize = 4;

/// A valid ephemeral room code, upper-cased.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoomCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a room code is {CODE_LEN} characters of {}", std::str::from_utf8(CODE_ALPHABET).unwrap_or_default())]
pub struct RoomCodeError;

impl RoomCode {
    /// Parses what a person typed: case does not matter, surrounding blanks are ignored.
    pub fn parse(raw: &str) -> Result<Self, RoomCodeError> {
        let code = raw.trim().to_ascii_uppercase();
        if code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
            Ok(Self(code))
        } else {
            Err(RoomCodeError)
        }
    }

    /// A code drawn from `random` bytes (one byte per character, unbiased by rejection).
    pub fn generate(mut random: impl FnMut() -> u8) -> Self {
        let limit = u8::MAX - (u8::MAX % CODE_ALPHABET.len() as u8);
        let mut code = String::with_capacity(CODE_LEN);
        while code.len() < CODE_LEN {
            let byte = random();
            if byte < limit {
                code.push(CODE_ALPHABET[usize::from(byte) % CODE_ALPHABET.len()] as char);
            }
        }
        Self(code)
    }

    /// The room's wire name, `e:<CODE>`.
    pub fn room_name(&self) -> String {
        format!("e:{}", self.0)
    }

    /// The code in a wire name, if it is one.
    pub fn from_room_name(name: &str) -> Option<Self> {
        name.strip_prefix("e:").and_then(|c| Self::parse(c).ok())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

const ADJECTIVES: &[&str] = &[
    "Amber", "Brave", "Calm", "Clever", "Gentle", "Golden", "Happy", "Jolly", "Kind", "Lucky",
    "Mellow", "Misty", "Nimble", "Quiet", "Rapid", "Silver", "Sunny", "Swift", "Witty", "Zesty",
];

const ANIMALS: &[&str] = &[
    "Badger", "Crane", "Dolphin", "Falcon", "Fox", "Heron", "Koala", "Lynx", "Marten", "Otter",
    "Owl", "Panda", "Puffin", "Quokka", "Raven", "Robin", "Seal", "Tiger", "Wombat", "Wren",
];

/// `count` distinct display names (valid nicks such as `QuietOtter`) for someone joining an
/// ephemeral room to pick from.
pub fn offered_names(count: usize, mut random: impl FnMut() -> u8) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(count);
    while names.len() < count.min(ADJECTIVES.len() * ANIMALS.len()) {
        let adjective = ADJECTIVES[usize::from(random()) % ADJECTIVES.len()];
        let animal = ANIMALS[usize::from(random()) % ANIMALS.len()];
        let name = format!("{adjective}{animal}");
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Name;

    #[test]
    fn pm_names_do_not_depend_on_who_asks() {
        assert_eq!(pm_room_name(7, 3), "pm:3:7");
        assert_eq!(pm_room_name(3, 7), "pm:3:7");
        assert_eq!(pm_members("pm:3:7"), Some((3, 7)));
        assert_eq!(pm_members("pm:3"), None);
        assert_eq!(pm_members("rust"), None);
    }

    #[test]
    fn codes_avoid_ambiguous_characters() {
        for ambiguous in ['0', 'O', '1', 'I', 'L'] {
            assert!(!CODE_ALPHABET.contains(&(ambiguous as u8)));
        }
        let mut n = 0u8;
        let code = RoomCode::generate(|| {
            n = n.wrapping_add(37);
            n
        });
        assert_eq!(code.as_str().len(), CODE_LEN);
        assert_eq!(RoomCode::parse(code.as_str()), Ok(code.clone()));
        assert_eq!(RoomCode::from_room_name(&code.room_name()), Some(code));
    }

    #[test]
    fn typed_codes_are_case_insensitive_and_checked() {
        assert_eq!(RoomCode::parse(" abcd ").unwrap().as_str(), "ABCD");
        for bad in ["ABC", "ABCDE", "AB0D", "ABID", "AB-D"] {
            assert_eq!(RoomCode::parse(bad), Err(RoomCodeError), "{bad}");
        }
        assert_eq!(RoomCode::from_room_name("abcd"), None);
    }

    #[test]
    fn offered_names_are_distinct_valid_nicks() {
        let mut n = 0u8;
        let names = offered_names(4, || {
            n = n.wrapping_add(13);
            n
        });
        assert_eq!(names.len(), 4);
        for name in &names {
            assert!(Name::parse(name).is_ok(), "{name}");
            assert_eq!(names.iter().filter(|n| *n == name).count(), 1);
        }
    }
}
