//! What identifies an uploaded file ([`FileId`]: random, so ids cannot be guessed or walked)
//! and the name it was uploaded under ([`FileName`]: for display only, never a path).

use serde::{Deserialize, Deserializer};
use std::fmt;

/// Attachments one message may hold.
pub const MAX_ATTACHMENTS: usize = 10;
const ID_LEN: usize = 26;
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// 26 characters of `[a-z2-7]`: 130 random bits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FileId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a file id is 26 characters a-z and 2-7")]
pub struct FileIdError;

impl FileId {
    /// A new id from 26 random 5-bit symbols.
    pub fn random(fill: impl FnOnce(&mut [u8])) -> Self {
        let mut bytes = [0u8; ID_LEN];
        fill(&mut bytes);
        Self(
            bytes
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
                .collect(),
        )
    }

    pub fn parse(raw: &str) -> Result<Self, FileIdError> {
        if raw.len() == ID_LEN && raw.bytes().all(|b| ALPHABET.contains(&b)) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FileIdError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for FileId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        FileId::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// The name a file was uploaded under, made safe to show and to put in a header: the last
/// path segment only (`/` and `\` separate), control characters and bidirectional overrides
/// removed, at most 200 characters; an empty result becomes `file`. It is never used to
/// store or find anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileName(String);

const MAX_NAME_CHARS: usize = 200;

impl FileName {
    pub fn parse(raw: &str) -> Self {
        let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
        let cleaned: String = last
            .chars()
            .filter(|c| !c.is_control() && !is_bidi_control(*c))
            .collect();
        let trimmed = cleaned.trim().trim_start_matches('.').trim();
        let name: String = trimmed.chars().take(MAX_NAME_CHARS).collect();
        if name.is_empty() {
            Self("file".into())
        } else {
            Self(name)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Characters that reorder how text around them is shown (U+202E makes `gpj.exe` read
/// `exe.jpg`).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_26_symbols_of_the_alphabet() {
        let id = FileId::random(|b| b.iter_mut().enumerate().for_each(|(i, x)| *x = i as u8 * 7));
        assert_eq!(id.as_str().len(), 26);
        assert_eq!(FileId::parse(id.as_str()), Ok(id));
        for bad in [
            "",
            "short",
            &"A".repeat(26),
            &"a".repeat(27),
            &"0".repeat(26),
            "../../../../etc/passwdaaaa",
        ] {
            assert_eq!(FileId::parse(bad), Err(FileIdError), "{bad}");
        }
    }

    #[test]
    fn names_keep_only_a_displayable_last_segment() {
        let cases = [
            ("cat.png", "cat.png"),
            ("../../etc/passwd", "passwd"),
            ("..\\x", "x"),
            ("%2e%2e%2fetc", "%2e%2e%2fetc"),
            ("a\0b\u{7}c.txt", "abc.txt"),
            ("evil\u{202E}gpj.exe", "evilgpj.exe"),
            ("say \"hi\".txt", "say \"hi\".txt"),
            ("..", "file"),
            ("", "file"),
            ("   ", "file"),
            (".hidden", "hidden"),
        ];
        for (raw, shown) in cases {
            assert_eq!(FileName::parse(raw).as_str(), shown, "{raw:?}");
        }
        assert_eq!(
            FileName::parse(&"é".repeat(300)).as_str().chars().count(),
            200
        );
    }
}
