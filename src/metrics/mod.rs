//! What `GET /metrics` tells Prometheus: counts the server keeps as it works, and a few numbers
//! read when Prometheus scrapes, rendered in the Prometheus text format (version 0.0.4) by the
//! official client, `prometheus-client`.
//!
//! **Why a module of its own, at the top beside `clock`:** the store (database latency), the
//! core (messages, deliveries, closed connections, refused commands), the gateway (connections
//! per framing), the HTTP edge (refused requests) and the cluster bus all count, and the store
//! sits below every other layer. This module depends on none of them — only on the error
//! codes and the room kinds, both leaves — so each layer counts into it without depending
//! upward. `api/metrics.rs` reads the scrape-time numbers and renders; [`Metrics`] is built
//! once by `app` and handed down, like the [`Clock`](crate::clock::Clock).
//!
//! **What it must not do:** slow the hot path. A delivery costs the server a few hundred
//! nanoseconds, so:
//! - every count is an atomic add (`prometheus-client`'s `Counter` and `Gauge`); the labelled
//!   series a busy path uses are looked up once, here, and kept, so counting takes no lock and
//!   allocates nothing;
//! - a broadcast's deliveries are added once per broadcast, with its number of recipients,
//!   never once per connection;
//! - what would cost an atomic per event to track but is cheap to look at — the events waiting
//!   in every connection's queue, the Redis publisher's queue — is read at scrape time
//!   ([`Snapshot`]);
//! - there is no global registry: each server has its own (tests run many in one process).
//!
//! ## The metrics
//! | metric | type | labels | meaning |
//! |---|---|---|---|
//! | `parlor_build_info` | gauge | `version` | always 1; the version this server runs |
//! | `parlor_start_time_seconds` | gauge | | when this server started (Unix time): uptime is `time() - parlor_start_time_seconds` |
//! | `parlor_connections_open` | gauge | `framing` (`native`, `socketio`, `simple`) | real-time connections open now |
//! | `parlor_connections_accepted_total` | counter | `framing` | real-time connections opened since start |
//! | `parlor_connections_closed_total` | counter | `reason` (`client`, `slow_consumer`, `shutdown`, `kicked`, …) | connections ended, by why; `client`: the client closed or went away |
//! | `parlor_messages_total` | counter | `kind` (`lobby`, `whisper`, `room`, `pm`, `ephemeral`) | messages accepted (past mutes and rate limits; stored ones once stored) |
//! | `parlor_deliveries_total` | counter | | events queued on connections by fan-out (room events, events to one identity) |
//! | `parlor_deliveries_dropped_total` | counter | | events fan-out could not queue: the connection's queue was full (it is closed as a slow consumer) or it was closing |
//! | `parlor_outbound_queued` | gauge | | events (and command replies) waiting in all connections' outbound queues (read at scrape) |
//! | `parlor_outbound_queue_deepest` | gauge | | the most events waiting in one connection's queue (read at scrape) |
//! | `parlor_outbound_queue_capacity` | gauge | | `outbound_queue`: a connection whose queue reaches it is closed |
//! | `parlor_store_operation_duration_seconds` | histogram | `operation` (`append_message`, `read_history`) | database time of a message commit (its whole transaction) and of a history read |
//! | `parlor_errors_total` | counter | `code`, `via` (`http`, `realtime`) | refusals by their stable error code: HTTP error responses, refused real-time commands and frames |
//! | `parlor_search_cache_bytes` | gauge | | bytes of opened message text message search holds in memory (read at scrape; `search_cache_mb` caps it) |
//! | `parlor_search_cache_rooms` | gauge | | rooms whose messages message search holds (read at scrape) |
//! | `parlor_bus_queued` | gauge | | with Redis only: publishes waiting for the Redis publisher (read at scrape) |
//! | `parlor_bus_dropped_total` | counter | | with Redis only: publishes dropped because that queue was full or Redis refused them |
//!
//! Rates ("messages per second") are Prometheus's business: `rate(parlor_messages_total[1m])`.

mod sampled;
mod store;

pub use sampled::{BusBacklog, QueueDepths, Snapshot};
pub use store::{StoreOp, StoreTimings};

use crate::domain::{Millis, RoomKind};
use crate::error::ErrorCode;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;

/// The `Content-Type` of what [`Metrics::render`] returns.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// One label, both halves known at compile time.
type Label = (&'static str, &'static str);

/// A real-time framing, as connections are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    Native = 0,
    SocketIo = 1,
    Simple = 2,
}

impl Framing {
    const ALL: [Framing; 3] = [Framing::Native, Framing::SocketIo, Framing::Simple];

    fn as_str(self) -> &'static str {
        match self {
            Framing::Native => "native",
            Framing::SocketIo => "socketio",
            Framing::Simple => "simple",
        }
    }
}

/// Where a message was said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// The in-memory lobby (never stored).
    Lobby = 0,
    /// A guest's whisper (never stored).
    Whisper = 1,
    /// A persistent room.
    Room = 2,
    /// A private conversation.
    Pm = 3,
    /// An ephemeral 1-on-1 room.
    Ephemeral = 4,
}

impl MessageKind {
    const ALL: [MessageKind; 5] = [
        MessageKind::Lobby,
        MessageKind::Whisper,
        MessageKind::Room,
        MessageKind::Pm,
        MessageKind::Ephemeral,
    ];

    fn as_str(self) -> &'static str {
        match self {
            MessageKind::Lobby => "lobby",
            MessageKind::Whisper => "whisper",
            MessageKind::Room => "room",
            MessageKind::Pm => "pm",
            MessageKind::Ephemeral => "ephemeral",
        }
    }
}

impl From<RoomKind> for MessageKind {
    fn from(kind: RoomKind) -> Self {
        match kind {
            RoomKind::Room => MessageKind::Room,
            RoomKind::Pm => MessageKind::Pm,
            RoomKind::Ephemeral => MessageKind::Ephemeral,
        }
    }
}

/// How a refusal reached its client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// An HTTP error response (REST, a refused upgrade or Engine.IO request).
    Http,
    /// A refused real-time command or frame (an ack or an `error` event).
    RealTime,
}

impl Via {
    fn as_str(self) -> &'static str {
        match self {
            Via::Http => "http",
            Via::RealTime => "realtime",
        }
    }
}

/// The server's metrics. Cheap to clone (one `Arc`); every clone counts into the same series.
#[derive(Clone, Debug)]
pub struct Metrics(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    registry: Registry,
    sampled: Arc<sampled::Sampled>,
    /// Indexed by [`Framing`].
    open: [Gauge; 3],
    accepted: [Counter; 3],
    closed: Family<[Label; 1], Counter>,
    /// Indexed by [`MessageKind`].
    messages: [Counter; 5],
    deliveries: Counter,
    dropped: Counter,
    errors: Family<[Label; 2], Counter>,
}

impl Metrics {
    /// Registers every metric, with the store's own timings (the store measures itself, so
    /// any [`Store`](crate::store::Store) can be opened without metrics) and the server's start
    /// time.
    pub fn new(store: &StoreTimings, started_at: Millis) -> Self {
        let mut registry = Registry::default();
        let build = Info::new([("version", env!("CARGO_PKG_VERSION"))]);
        registry.register("parlor_build", "The version this server runs", build);
        let start = Gauge::<i64>::default();
        start.set(started_at / 1000);
        registry.register_with_unit(
            "parlor_start_time",
            "When this server started, in seconds since the Unix epoch",
            Unit::Seconds,
            start,
        );

        let open_family = Family::<[Label; 1], Gauge>::default();
        let accepted_family = Family::<[Label; 1], Counter>::default();
        // Every series exists from the start (at 0), so `rate()` sees the first connection.
        let open =
            Framing::ALL.map(|f| open_family.get_or_create_owned(&[("framing", f.as_str())]));
        let accepted =
            Framing::ALL.map(|f| accepted_family.get_or_create_owned(&[("framing", f.as_str())]));
        registry.register(
            "parlor_connections_open",
            "Real-time connections open now, by framing",
            open_family,
        );
        registry.register(
            "parlor_connections_accepted",
            "Real-time connections opened since start, by framing",
            accepted_family,
        );
        let closed = Family::default();
        registry.register(
            "parlor_connections_closed",
            "Real-time connections ended, by why (client: the client closed or went away)",
            closed.clone(),
        );

        let messages_family = Family::<[Label; 1], Counter>::default();
        let messages =
            MessageKind::ALL.map(|k| messages_family.get_or_create_owned(&[("kind", k.as_str())]));
        registry.register(
            "parlor_messages",
            "Messages accepted, by where they were said",
            messages_family,
        );
        let deliveries = Counter::default();
        registry.register(
            "parlor_deliveries",
            "Events queued on connections by fan-out",
            deliveries.clone(),
        );
        let dropped = Counter::default();
        registry.register(
            "parlor_deliveries_dropped",
            "Events fan-out could not queue: the connection's queue was full (a slow consumer, \
             then closed) or the connection was closing",
            dropped.clone(),
        );
        let errors = Family::default();
        registry.register(
            "parlor_errors",
            "Refusals by stable error code: HTTP error responses (via=http), refused real-time \
             commands and frames (via=realtime)",
            errors.clone(),
        );
        registry.register_with_unit(
            "parlor_store_operation_duration",
            "Database time of store operations: a message commit (its whole transaction), a \
             history read",
            Unit::Seconds,
            store.family(),
        );
        let sampled = Arc::new(sampled::Sampled::default());
        registry.register_collector(Box::new(Arc::clone(&sampled)));

        Self(Arc::new(Inner {
            registry,
            sampled,
            open,
            accepted,
            closed,
            messages,
            deliveries,
            dropped,
            errors,
        }))
    }

    /// Counts a real-time connection opened on `framing`; it counts as open until the
    /// returned guard is dropped.
    pub fn connection(&self, framing: Framing) -> OpenConnection {
        let index = framing as usize;
        self.0.accepted[index].inc();
        let open = self.0.open[index].clone();
        open.inc();
        OpenConnection(open)
    }

    /// Counts a connection that ended, by why (`client` when the server did not end it).
    pub fn connection_closed(&self, reason: &'static str) {
        self.0.closed.get_or_create(&[("reason", reason)]).inc();
    }

    /// Counts one accepted message.
    pub fn message(&self, kind: MessageKind) {
        self.0.messages[kind as usize].inc();
    }

    /// Counts one fan-out: `queued` events queued on connections, `dropped` that could not be.
    #[inline]
    pub fn delivered(&self, queued: u64, dropped: u64) {
        if queued != 0 {
            self.0.deliveries.inc_by(queued);
        }
        if dropped != 0 {
            self.0.dropped.inc_by(dropped);
        }
    }

    /// Counts one refusal with its code.
    pub fn refused(&self, code: ErrorCode, via: Via) {
        self.0
            .errors
            .get_or_create(&[("code", code.as_str()), ("via", via.as_str())])
            .inc();
    }

    /// Everything in the Prometheus text format, with `snapshot`'s scrape-time numbers.
    pub fn render(&self, snapshot: Snapshot) -> String {
        self.0.sampled.set(snapshot);
        let mut text = String::with_capacity(8 * 1024);
        // Writing into a `String` cannot fail.
        let _ = prometheus_text::encode(&mut text, &self.0.registry);
        text
    }
}

/// A connection counted as open until this is dropped (whatever ends the connection).
#[derive(Debug)]
pub struct OpenConnection(Gauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, start: &str) -> &'a str {
        text.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no line {start:?} in\n{text}"))
    }

    #[test]
    fn counts_render_in_the_prometheus_text_format() {
        let metrics = Metrics::new(&StoreTimings::default(), 1_700_000_000_000);
        let open = metrics.connection(Framing::SocketIo);
        metrics.delivered(3, 0);
        metrics.delivered(2, 1);
        metrics.message(MessageKind::Pm);
        metrics.refused(ErrorCode::RateLimited, Via::RealTime);
        let text = metrics.render(Snapshot::default());
        assert!(text.contains("# TYPE parlor_deliveries_total counter\n"));
        assert_eq!(
            line(&text, "parlor_deliveries_total"),
            "parlor_deliveries_total 5"
        );
        assert_eq!(
            line(&text, "parlor_deliveries_dropped_total"),
            "parlor_deliveries_dropped_total 1"
        );
        assert_eq!(
            line(&text, "parlor_connections_open{framing=\"socketio\"}"),
            "parlor_connections_open{framing=\"socketio\"} 1"
        );
        assert_eq!(
            line(&text, "parlor_messages_total{kind=\"pm\"}"),
            "parlor_messages_total{kind=\"pm\"} 1"
        );
        assert_eq!(
            line(&text, "parlor_errors_total{"),
            "parlor_errors_total{code=\"rate_limited\",via=\"realtime\"} 1"
        );
        assert_eq!(
            line(&text, "parlor_start_time_seconds "),
            "parlor_start_time_seconds 1700000000"
        );
        assert!(line(&text, "parlor_build_info{").contains(env!("CARGO_PKG_VERSION")));
        drop(open);
        let text = metrics.render(Snapshot::default());
        assert_eq!(
            line(&text, "parlor_connections_open{framing=\"socketio\"}"),
            "parlor_connections_open{framing=\"socketio\"} 0"
        );
        assert!(
            !text.contains("parlor_bus_"),
            "no bus metrics on a single node"
        );
    }
}
