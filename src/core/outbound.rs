//! What travels to a connection's writer: events shared between recipients
//! ([`Broadcast`], encoded at most once per framing) and replies to the connection's own
//! commands ([`Reply`], whose typed [`Answer`] the framing serialises in its own envelope).

use super::event::Event;
use crate::error::ErrorBody;
use bytes::Bytes;
use serde_json::value::RawValue;
use std::sync::{Arc, OnceLock};

/// The encodings a broadcast may be rendered into as bytes, one cache slot each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// The native `/gateway` envelope as a whole WebSocket frame, header included.
    Native = 0,
    /// The simple `/ws` framing (which drops some events).
    Simple = 1,
    /// Socket.IO over a direct WebSocket: the whole `42["event",data]` frame.
    SocketIo = 2,
}

/// An event on its way to one or many connections. Each framing encodes it at most once, on
/// first use, and every recipient with that framing shares the bytes.
#[derive(Debug)]
pub struct Broadcast {
    pub event: Event,
    encoded: [OnceLock<Option<Bytes>>; 3],
    /// The event's data as checked JSON, for Socket.IO through socketioxide, which serialises what it is
    /// given into each recipient's packet, and a `RawValue` is copied there as it is — but
    /// making one checks the whole text, which per recipient was a tenth of the framing's CPU.
    data: OnceLock<Option<Box<RawValue>>>,
}

impl Broadcast {
    pub fn new(event: Event) -> Arc<Self> {
        Arc::new(Self {
            event,
            encoded: Default::default(),
            data: OnceLock::new(),
        })
    }

    /// The event's `data` as JSON (what Socket.IO carries), rendered and checked once.
    pub fn data_json(&self) -> Option<&RawValue> {
        self.data
            .get_or_init(|| RawValue::from_string(self.event.data_json()).ok())
            .as_deref()
    }

    /// The event in `encoding`, rendered by `encode` the first time it is asked for.
    /// `None` means the framing does not carry this event.
    pub fn encoded(
        &self,
        encoding: Encoding,
        encode: impl FnOnce(&Event) -> Option<Bytes>,
    ) -> Option<&Bytes> {
        self.encoded[encoding as usize]
            .get_or_init(|| encode(&self.event))
            .as_ref()
    }
}

/// The answer to one command.
#[derive(Debug)]
pub struct Reply {
    /// The client's ack id, when it asked for one.
    pub ack: Option<u64>,
    pub result: Result<Answer, ErrorBody>,
}

/// A command's typed reply, serialised by the framing that writes it (each framing wraps it
/// in its own envelope).
pub struct Answer(Box<dyn erased_serde::Serialize + Send + Sync>);

impl Answer {
    pub fn new<T: serde::Serialize + Send + Sync + 'static>(value: T) -> Self {
        Self(Box::new(value))
    }
}

impl serde::Serialize for Answer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        erased_serde::serialize(self.0.as_ref(), serializer)
    }
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Answer(..)")
    }
}

/// What a connection's writer receives. Two words wide, so an idle connection's queue blocks
/// stay small.
#[derive(Debug)]
pub enum Outbound {
    Event(Arc<Broadcast>),
    Reply(Box<Reply>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::CloseReason;

    #[test]
    fn a_broadcast_is_encoded_once_per_encoding() {
        let broadcast = Broadcast::new(Event::closing(CloseReason::Shutdown));
        let mut calls = 0;
        for _ in 0..3 {
            broadcast.encoded(Encoding::Native, |e| {
                calls += 1;
                Some(Bytes::from(e.to_json()))
            });
        }
        assert_eq!(calls, 1);
    }
}
