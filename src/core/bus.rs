//! Fan-out between nodes. The core says what a room hears ([`Bus::publish`]), what every node
//! must do ([`Bus::direct`]) and who is present on this node ([`Bus::presence`]); the bus
//! brings each to every node concerned, whose [`Inbound`] applies it to its own connections.
//!
//! [`LocalBus`] is the single-node implementation: publishing is delivering. The Redis bus
//! (`crate::cluster`) implements the same trait, so the services do not change when Parlor
//! scales out.
//!
//! Stored rooms' messages carry a sequence number. A networked bus may lose or reorder them
//! (Redis down, a subscription dropped, two nodes publishing at once); it delivers them to a
//! node's connections in order and exactly once, filling gaps from the database. A join takes
//! part in that order through [`Bus::watch`] and [`Bus::enter_at`]: the connection enters the
//! room exactly where the history it was sent ends.

use super::directive::Directive;
use super::event::{MessageEvent, UserView};
use super::Broadcast;
use super::LiveConnection;
use crate::domain::Principal;
use crate::metrics::BusBacklog;
use futures_util::future::BoxFuture;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Where a connection may enter a stored room, given the last message its history holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// It entered: it will get every later message and none before.
    Entered,
    /// This node already delivered up to this sequence number: send those first.
    Behind(i64),
    /// This node has not delivered the history's last messages yet: catch up, then retry.
    Ahead,
}

/// Carries room events, directives and presence to every node.
pub trait Bus: Send + Sync + 'static {
    /// Delivers `broadcast` to every connection in `room`, except those of `except`.
    fn publish(&self, room: &str, broadcast: Arc<Broadcast>, except: Option<Principal>);
    /// Applies a directive on every node, this one included.
    fn direct(&self, directive: Directive);
    /// This node now has (`Some`) or no longer has (`None`) a connection of `principal` in
    /// `room`.
    fn presence(&self, room: &str, principal: Principal, user: Option<&UserView>);
    /// Makes sure this node hears `room` before a join reads its history.
    fn watch<'a>(&'a self, room: &'a str) -> BoxFuture<'a, ()>;
    /// Runs `enter` if a connection whose history ends at `seq` may enter `room` now.
    fn enter_at(&self, room: &str, seq: i64, enter: &mut dyn FnMut()) -> Entry;
    /// Delivers what `room` holds up to `seq` that this node has not delivered yet.
    fn catch_up<'a>(&'a self, room: &'a str, seq: i64) -> BoxFuture<'a, ()>;
    /// Takes the one `/ws` slot of an identity, cluster-wide; `false` if it is taken.
    fn take_slot(&self, principal: Principal) -> BoxFuture<'_, bool>;
    fn free_slot(&self, principal: Principal);
    /// Claims a case-folded name for `principal` cluster-wide (its first connection on this
    /// node); `false` when another identity holds it on another node.
    fn claim_name<'a>(&'a self, name_key: &'a str, principal: Principal) -> BoxFuture<'a, bool>;
    /// This node no longer has a connection under the name.
    fn release_name(&self, name_key: &str, principal: Principal);
    /// Who holds a name on another node.
    fn name_holder<'a>(&'a self, name_key: &'a str) -> BoxFuture<'a, Option<Principal>>;
    /// Every node's live connections (the admin panel); this node's alone on one node.
    fn connections(&self) -> BoxFuture<'_, Vec<LiveConnection>>;
    /// Whether the bus works (for `/health`); `None` when it has nothing to check.
    fn check(&self) -> BoxFuture<'_, Option<Result<(), String>>>;
    /// What waits to be sent to the other nodes and what was dropped (for `/metrics`); `None`
    /// when the bus queues nothing (one node: publishing is delivering).
    fn backlog(&self) -> Option<BusBacklog> {
        None
    }
    /// Connects the bus to this node's connections (once, when the core is built).
    fn attach(&self, inbound: Arc<dyn Inbound>);
    /// Leaves the cluster (shutdown, after the connections closed).
    fn leave(&self) -> BoxFuture<'_, ()>;
}

/// This node, as the bus sees it: where what arrives is applied.
pub trait Inbound: Send + Sync + 'static {
    /// Queues a room event on this node's connections in the room.
    fn deliver(&self, room: &str, broadcast: &Arc<Broadcast>, except: Option<Principal>);
    /// Applies a directive to this node's connections.
    fn apply(&self, directive: Directive);
    /// Another node has (`Some`) or no longer has (`None`) `principal` in `room`.
    fn remote_presence(
        &self,
        room: &str,
        node: &Arc<str>,
        principal: Principal,
        user: Option<UserView>,
    );
    /// This node's live connections (for the admin panel).
    fn connections(&self) -> Vec<LiveConnection>;
    /// The names online on this node (to claim them again after an outage).
    fn local_names(&self) -> Vec<(String, Principal)>;
    /// The identities present on this node, room by room (to tell the others again).
    fn local_presence(&self) -> Vec<(String, Principal, UserView)>;
    /// The other nodes this node believes have someone present.
    fn remote_nodes(&self) -> Vec<Arc<str>>;
    /// Whether this node has a connection in `room`.
    fn present_here(&self, room: &str) -> bool;
    /// Forgets what this node knows of a room it no longer listens to.
    fn forget_room(&self, room: &str);
    /// A stored room's messages after `after` up to `upto`, oldest first (gap filling).
    fn backfill<'a>(
        &'a self,
        room: &'a str,
        after: i64,
        upto: i64,
    ) -> BoxFuture<'a, Result<Vec<MessageEvent>, String>>;
}

/// The in-process bus of a single node.
#[derive(Default)]
pub struct LocalBus {
    inbound: OnceLock<Arc<dyn Inbound>>,
    /// Identities holding their `/ws` slot.
    slots: Mutex<std::collections::HashSet<Principal>>,
}

impl LocalBus {
    pub fn new() -> Self {
        Self::default()
    }

    fn inbound(&self) -> Option<&Arc<dyn Inbound>> {
        self.inbound.get()
    }
}

impl Bus for LocalBus {
    fn publish(&self, room: &str, broadcast: Arc<Broadcast>, except: Option<Principal>) {
        if let Some(inbound) = self.inbound() {
            inbound.deliver(room, &broadcast, except);
        }
    }

    fn direct(&self, directive: Directive) {
        if let Some(inbound) = self.inbound() {
            inbound.apply(directive);
        }
    }

    fn presence(&self, _room: &str, _principal: Principal, _user: Option<&UserView>) {}

    fn watch<'a>(&'a self, _room: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }

    /// One node orders a room's posts and joins with the room lock: a join always enters.
    fn enter_at(&self, _room: &str, _seq: i64, enter: &mut dyn FnMut()) -> Entry {
        enter();
        Entry::Entered
    }

    fn catch_up<'a>(&'a self, _room: &'a str, _seq: i64) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }

    fn take_slot(&self, principal: Principal) -> BoxFuture<'_, bool> {
        let taken = self
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(principal);
        Box::pin(async move { taken })
    }

    fn free_slot(&self, principal: Principal) {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&principal);
    }

    /// One node: the hub's own names are all there is.
    fn claim_name<'a>(&'a self, _name_key: &'a str, _principal: Principal) -> BoxFuture<'a, bool> {
        Box::pin(async { true })
    }

    fn release_name(&self, _name_key: &str, _principal: Principal) {}

    fn name_holder<'a>(&'a self, _name_key: &'a str) -> BoxFuture<'a, Option<Principal>> {
        Box::pin(async { None })
    }

    fn connections(&self) -> BoxFuture<'_, Vec<LiveConnection>> {
        let live = self.inbound().map(|i| i.connections()).unwrap_or_default();
        Box::pin(async move { live })
    }

    fn check(&self) -> BoxFuture<'_, Option<Result<(), String>>> {
        Box::pin(async { None })
    }

    fn attach(&self, inbound: Arc<dyn Inbound>) {
        let _ = self.inbound.set(inbound);
    }

    fn leave(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}
