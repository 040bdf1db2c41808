//! The numbers read when Prometheus scrapes instead of counted as they change: how many events
//! wait in the connections' outbound queues and in the Redis publisher's queue. Tracking them
//! as they change would cost an atomic on a shared cache line for every event queued and every
//! batch written; reading them costs one walk over the connections every scrape interval.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use std::fmt;
use std::sync::{Mutex, PoisonError};

/// The connections' outbound queues, read at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueDepths {
    /// Events (and command replies) waiting in all of them together.
    pub queued: u64,
    /// The most events waiting in any one of them.
    pub deepest: u64,
}

/// What the Redis bus's publisher has waiting, and has dropped since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BusBacklog {
    pub queued: u64,
    pub dropped: u64,
}

/// Everything read at scrape time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Snapshot {
    pub outbound: QueueDepths,
    /// `outbound_queue`: the events one connection may have waiting.
    pub outbound_capacity: u64,
    /// `None` on a single node (the in-process bus queues nothing).
    pub bus: Option<BusBacklog>,
    /// Message search's in-memory cache: bytes of opened text it holds, and rooms.
    pub search_cache: (u64, u64),
}

/// The latest [`Snapshot`], encoded with the registry's metrics.
#[derive(Debug, Default)]
pub(super) struct Sampled(Mutex<Snapshot>);

impl Sampled {
    pub(super) fn set(&self, snapshot: Snapshot) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = snapshot;
    }
}

impl Collector for Sampled {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let snapshot = *self.0.lock().unwrap_or_else(PoisonError::into_inner);
        gauge(
            &mut encoder,
            "parlor_outbound_queued",
            "Events (and command replies) waiting in all connections' outbound queues.",
            snapshot.outbound.queued,
        )?;
        gauge(
            &mut encoder,
            "parlor_outbound_queue_deepest",
            "The most events (and replies) waiting in one connection's outbound queue.",
            snapshot.outbound.deepest,
        )?;
        gauge(
            &mut encoder,
            "parlor_outbound_queue_capacity",
            "Events one connection may have waiting (outbound_queue); at that it is closed as a \
             slow consumer.",
            snapshot.outbound_capacity,
        )?;
        gauge(
            &mut encoder,
            "parlor_search_cache_bytes",
            "Bytes of opened message text message search holds in memory (search_cache_mb caps it).",
            snapshot.search_cache.0,
        )?;
        gauge(
            &mut encoder,
            "parlor_search_cache_rooms",
            "Rooms whose messages message search holds in memory.",
            snapshot.search_cache.1,
        )?;
        if let Some(bus) = snapshot.bus {
            gauge(
                &mut encoder,
                "parlor_bus_queued",
                "Publishes waiting for the Redis publisher.",
                bus.queued,
            )?;
            let dropped = ConstCounter::new(bus.dropped);
            dropped.encode(encoder.encode_descriptor(
                "parlor_bus_dropped",
                "Publishes dropped because the Redis publisher's queue was full or Redis refused \
                 them.",
                None,
                dropped.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

fn gauge(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> fmt::Result {
    let gauge = ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX));
    gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)
}
