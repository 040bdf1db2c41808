//! User names and guest nicks share one rule: 1–20 characters of `[A-Za-z0-9_-]`, compared
//! case-insensitively.

use serde::{Deserialize, Deserializer};
use std::fmt;

/// Longest name in characters.
pub const MAX_NAME_LEN: usize = 20;

/// A valid user name or guest nick. Keeps the spelling the user chose; [`Name::key`] is the
/// case-folded form used for uniqueness.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name(String);

/// Why a string is not a [`Name`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("a name must be 1 to {MAX_NAME_LEN} characters long")]
    Length,
    #[error("a name may only contain letters A-Z, digits, '_' and '-'")]
    Characters,
}

impl Name {
    /// Parses a user-supplied name.
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        if raw.is_empty() || raw.len() > MAX_NAME_LEN {
            return Err(NameError::Length);
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(NameError::Characters);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The case-folded key two names are compared by.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Name::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_allowed_alphabet() {
        assert_eq!(Name::parse("Alice_01-x").unwrap().as_str(), "Alice_01-x");
        assert!(Name::parse(&"a".repeat(20)).is_ok());
    }

    #[test]
    fn rejects_empty_long_and_foreign_characters() {
        assert_eq!(Name::parse(""), Err(NameError::Length));
        assert_eq!(Name::parse(&"a".repeat(21)), Err(NameError::Length));
        for bad in ["a b", "é", "a.b", "<b>", "a\n"] {
            assert_eq!(Name::parse(bad), Err(NameError::Characters), "{bad:?}");
        }
    }

    #[test]
    fn keys_compare_case_insensitively() {
        assert_eq!(
            Name::parse("BoB").unwrap().key(),
            Name::parse("bob").unwrap().key()
        );
    }
}
