//! Whole frames: native acks and events (read strictly on arrival), `/ws` frames.

use super::{ErrorBody, Event, EventData};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

/// A native ack frame: `{"ack", "ok": true, "data"}` or `{"ack", "ok": false, "error"}`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ack {
    pub ack: u64,
    pub ok: bool,
    #[serde(default)]
    pub data: Option<Value>,
    #[serde(default)]
    pub error: Option<ErrorBody>,
}

impl Ack {
    /// The data of a successful ack, read as `T`; panics (showing the frame) otherwise.
    pub fn data<T: DeserializeOwned>(&self) -> T {
        assert!(
            self.ok && self.error.is_none(),
            "expected a successful ack: {self:?}"
        );
        let data = self
            .data
            .clone()
            .unwrap_or_else(|| panic!("a successful ack carries data: {self:?}"));
        from_value(data)
    }

    /// The error of a failed ack; panics (showing the frame) if it succeeded.
    pub fn error(&self) -> &ErrorBody {
        assert!(
            !self.ok && self.data.is_none(),
            "expected a failed ack: {self:?}"
        );
        let error = self
            .error
            .as_ref()
            .unwrap_or_else(|| panic!("a failed ack carries an error: {self:?}"));
        assert!(
            !error.message.is_empty(),
            "an error explains itself: {self:?}"
        );
        error
    }

    /// The error code of a failed ack.
    pub fn code(&self) -> &str {
        &self.error().code
    }
}

/// One native frame from the server.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    Ack(Ack),
    /// Boxed: an event is far larger than an ack.
    Event(Box<Event>),
}

impl Frame {
    /// Reads a native frame strictly: an ack or a known event, nothing else.
    pub fn parse(value: Value) -> Frame {
        if value.get("ack").is_some() {
            Frame::Ack(from_value(value))
        } else {
            Frame::Event(Box::new(from_value(value)))
        }
    }

    pub fn event(&self) -> Option<&Event> {
        match self {
            Frame::Event(event) => Some(event),
            Frame::Ack(_) => None,
        }
    }

    /// This frame's data, if it is an event of kind `T`.
    pub fn data<T: EventData>(&self) -> Option<&T> {
        self.event().and_then(T::pick)
    }

    /// Whether this is an event of kind `T` (and `wanted` holds for it).
    pub fn is<T: EventData>(&self) -> bool {
        self.data::<T>().is_some()
    }
}

/// A frame of the simple `/ws` framing.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum SimpleFrame {
    /// `{"status": true}` or `{"status": false, "code"}`: the reply to the sender.
    Status {
        status: bool,
        #[serde(default)]
        code: Option<String>,
    },
    /// `{"message", "author", "attachments"?}`: a lobby message from someone else.
    Message {
        message: String,
        author: String,
        #[serde(default)]
        attachments: Vec<super::Attachment>,
    },
    /// `{"event": "join" | "leave", "username"}`.
    Presence { event: String, username: String },
    /// `{"event": "premium_changed", "premium_until", "active"}`: the account's own premium.
    Premium {
        event: String,
        premium_until: Option<i64>,
        active: bool,
    },
}

/// Reads `value` as `T`, failing with the value and the reason when it does not fit.
pub fn from_value<T: DeserializeOwned>(value: Value) -> T {
    match serde_json::from_value(value.clone()) {
        Ok(typed) => typed,
        Err(err) => panic!("{} does not fit {value}: {err}", std::any::type_name::<T>()),
    }
}
