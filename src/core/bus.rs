//! Fan-out between nodes. The core publishes a room's events to the [`Bus`]; the bus brings
//! each event to every node's [`Hub`], which delivers it to its local connections.
//!
//! [`LocalBus`] is the single-node implementation: publishing is delivering. A networked bus
//! (Redis) implements the same trait, so the core does not change when Parlor scales out.

use super::hub::Hub;
use super::Broadcast;
use crate::domain::Principal;
use std::sync::Arc;

/// Carries room events to every node.
pub trait Bus: Send + Sync + 'static {
    /// Delivers `broadcast` to every connection in `room`, except those of `except`.
    fn publish(&self, room: &str, broadcast: Arc<Broadcast>, except: Option<Principal>);
}

/// The in-process bus of a single node.
pub struct LocalBus {
    hub: Arc<Hub>,
}

impl LocalBus {
    pub fn new(hub: Arc<Hub>) -> Self {
        Self { hub }
    }
}

impl Bus for LocalBus {
    fn publish(&self, room: &str, broadcast: Arc<Broadcast>, except: Option<Principal>) {
        self.hub.deliver(room, &broadcast, except);
    }
}
