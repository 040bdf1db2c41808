//! The text of a chat message (trimmed, non-empty, bounded in characters) and the client's
//! idempotency id for it.

use serde::{Deserialize, Deserializer};

/// Message text that passed the length rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageText(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageTextError {
    #[error("the message is empty")]
    Empty,
    #[error("the message is longer than {max} characters")]
    TooLong { max: usize },
}

impl MessageText {
    /// Trims surrounding whitespace and checks the length in characters (not bytes).
    pub fn parse(raw: &str, max_chars: usize) -> Result<Self, MessageTextError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(MessageTextError::Empty);
        }
        if text.chars().count() > max_chars {
            return Err(MessageTextError::TooLong { max: max_chars });
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// What one message says: words the server seals at rest, or — in an end-to-end room — an
/// envelope it cannot open (see `docs/e2ee.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    Text(MessageText),
    Envelope(super::Envelope),
}

/// The id a client gives a message so that a retry stores it once: 1 to 64 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientMsgId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("client_msg_id: 1 to 64 characters")]
pub struct ClientMsgIdError;

impl ClientMsgId {
    pub fn parse(raw: &str) -> Result<Self, ClientMsgIdError> {
        if raw.is_empty() || raw.chars().count() > 64 {
            return Err(ClientMsgIdError);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for ClientMsgId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        ClientMsgId::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_accepts_up_to_the_limit() {
        assert_eq!(MessageText::parse("  hi \n", 500).unwrap().as_str(), "hi");
        assert!(MessageText::parse(&"é".repeat(500), 500).is_ok());
    }

    #[test]
    fn rejects_blank_and_long_text() {
        assert_eq!(
            MessageText::parse(" \t\n", 500),
            Err(MessageTextError::Empty)
        );
        assert_eq!(
            MessageText::parse(&"x".repeat(501), 500),
            Err(MessageTextError::TooLong { max: 500 })
        );
    }

    #[test]
    fn client_msg_ids_are_1_to_64_bytes() {
        assert!(ClientMsgId::parse("a").is_ok());
        assert!(ClientMsgId::parse(&"x".repeat(64)).is_ok());
        assert_eq!(ClientMsgId::parse(""), Err(ClientMsgIdError));
        assert_eq!(ClientMsgId::parse(&"x".repeat(65)), Err(ClientMsgIdError));
    }
}
