//! A search as a client asks for it, parsed once at the edge (the `search` command and
//! `GET /api/search` share [`RawQuery`]) into a [`SearchQuery`] that is valid by
//! construction: terms in lower case, a known room name and author name, a page size in range
//! and a cursor that came from a previous page.

use super::index::Key;
use crate::domain::{Millis, Name, RoomName};
use serde::Deserialize;
use std::fmt;

/// Results per page unless the client asks otherwise, and the most it may ask for.
pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 50;
/// The longest query text, and the most terms in it.
const MAX_QUERY_CHARS: usize = 200;
const MAX_TERMS: usize = 10;
/// Characters of text a query needs (besides white space) when it names no author: fewer
/// would match nearly everything.
const MIN_TEXT_CHARS: usize = 2;

/// The fields of a search, as sent (`search` command data, `GET /api/search` parameters).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RawQuery {
    /// Words that must all occur in the message, in any case (whitespace-separated, up to
    /// 200 characters); at least 2 characters unless `author` is given.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only this room (its address, as in `join`).
    pub room: Option<String>,
    /// Only messages by this user (name, any case).
    #[param(min_length = 1, max_length = 20, pattern = r"^[A-Za-z0-9_-]+$")]
    pub author: Option<String>,
    /// Only messages sent at or after this time (ms since the epoch).
    pub from: Option<i64>,
    /// Only messages sent before this time (ms since the epoch).
    pub to: Option<i64>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
    /// Results per page, 1–50 (20 by default).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// Why a search was refused (`invalid_payload`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("q: give at least {MIN_TEXT_CHARS} characters to search for, or an author")]
    TooShort,
    #[error("q: at most {MAX_QUERY_CHARS} characters and {MAX_TERMS} words")]
    TooLong,
    #[error("room: not a room name")]
    Room,
    #[error("author: {0}")]
    Author(String),
    #[error("limit: 1 to {MAX_LIMIT}")]
    Limit,
    #[error("cursor: not one this server gave")]
    Cursor,
    #[error("from must be before to")]
    Range,
}

/// Where the previous page ended: results continue strictly after this place in the
/// newest-first order (time, room, sequence). Written as `time.room.seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(Key);

impl Cursor {
    /// The cursor of a page that ended at `key`.
    pub fn after_key(key: Key) -> Self {
        Self(key)
    }

    pub fn key(&self) -> Key {
        self.0
    }

    fn parse(raw: &str) -> Result<Self, QueryError> {
        let mut parts = raw.split('.').map(|p| p.parse::<i64>());
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(Ok(ts)), Some(Ok(room)), Some(Ok(seq)), None) => Ok(Self((ts, room, seq))),
            _ => Err(QueryError::Cursor),
        }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (ts, room, seq) = self.0;
        write!(f, "{ts}.{room}.{seq}")
    }
}

/// A valid search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    /// Lower-cased, each non-empty.
    terms: Vec<String>,
    pub room: Option<RoomName>,
    pub author: Option<Name>,
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    pub cursor: Option<Cursor>,
    pub limit: usize,
}

impl SearchQuery {
    pub fn parse(raw: RawQuery) -> Result<Self, QueryError> {
        let text = raw.q.unwrap_or_default();
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong);
        }
        let terms: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
        if terms.len() > MAX_TERMS {
            return Err(QueryError::TooLong);
        }
        let author = raw
            .author
            .map(|a| Name::parse(&a).map_err(|e| QueryError::Author(e.to_string())))
            .transpose()?;
        let chars: usize = terms.iter().map(|t| t.chars().count()).sum();
        if chars < MIN_TEXT_CHARS && author.is_none() {
            return Err(QueryError::TooShort);
        }
        let limit = match raw.limit {
            None => DEFAULT_LIMIT,
            Some(n) => usize::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or(QueryError::Limit)?,
        };
        if let (Some(from), Some(to)) = (raw.from, raw.to) {
            if from >= to {
                return Err(QueryError::Range);
            }
        }
        Ok(Self {
            terms,
            room: raw
                .room
                .map(|r| RoomName::parse(&r).map_err(|_| QueryError::Room))
                .transpose()?,
            author,
            from: raw.from,
            to: raw.to,
            cursor: raw.cursor.as_deref().map(Cursor::parse).transpose()?,
            limit,
        })
    }

    /// The words to find, lower-cased.
    pub fn terms(&self) -> &[String] {
        &self.terms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: RawQuery) -> Result<SearchQuery, QueryError> {
        SearchQuery::parse(raw)
    }

    fn q(text: &str) -> RawQuery {
        RawQuery {
            q: Some(text.to_owned()),
            ..RawQuery::default()
        }
    }

    #[test]
    fn a_query_needs_two_characters_or_an_author() {
        assert_eq!(parse(q(" x ")), Err(QueryError::TooShort));
        assert_eq!(parse(RawQuery::default()), Err(QueryError::TooShort));
        assert_eq!(parse(q("Ab")).unwrap().terms(), ["ab"]);
        assert_eq!(parse(q("a  B")).unwrap().terms(), ["a", "b"]);
        let by = RawQuery {
            author: Some("Alice".into()),
            ..RawQuery::default()
        };
        assert!(parse(by).unwrap().terms().is_empty());
    }

    #[test]
    fn bad_fields_are_refused() {
        assert_eq!(parse(q(&"a".repeat(201))), Err(QueryError::TooLong));
        assert_eq!(parse(q(&"a ".repeat(11))), Err(QueryError::TooLong));
        for limit in [0, 51, -1] {
            let raw = RawQuery {
                limit: Some(limit),
                ..q("hello")
            };
            assert_eq!(parse(raw), Err(QueryError::Limit));
        }
        for cursor in ["", "1.2", "1.2.3.4", "a.b.c"] {
            let raw = RawQuery {
                cursor: Some(cursor.into()),
                ..q("hello")
            };
            assert_eq!(parse(raw), Err(QueryError::Cursor), "{cursor}");
        }
        let raw = RawQuery {
            from: Some(5),
            to: Some(5),
            ..q("hello")
        };
        assert_eq!(parse(raw), Err(QueryError::Range));
        let raw = RawQuery {
            author: Some("not a name".into()),
            ..q("hello")
        };
        assert!(matches!(parse(raw), Err(QueryError::Author(_))));
    }

    #[test]
    fn a_cursor_reads_back_what_it_wrote() {
        let cursor = Cursor::after_key((1_700_000_000_000, 4, 99));
        let raw = RawQuery {
            cursor: Some(cursor.to_string()),
            ..q("hello")
        };
        assert_eq!(parse(raw).unwrap().cursor, Some(cursor));
    }
}
