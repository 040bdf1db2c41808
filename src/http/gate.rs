//! The gate every real-time connection passes at the transport level, before the chat core
//! knows about it: a WebSocket upgrade on any framing, an Engine.IO session (websocket or
//! polling) from its handshake on, long before its Socket.IO CONNECT.
//!
//! It counts three things and refuses beyond their limits:
//! - connections per client address, so one address cannot hold the server's resources;
//! - connections in all, kept below the process's descriptor limit so that plain HTTP
//!   (`/health`, the admin API), the database and files always find a descriptor;
//! - handshakes in progress — connections not yet arrived in the core — across all addresses.
//!
//! A [`Pass`] is the counted place: it is held for as long as the connection lives (in the
//! connection's task, or in the Engine.IO session's request parts) and gives the place back
//! when the last copy is dropped, whatever ended the connection.
//!
//! With several nodes the per-address count is also kept cluster-wide ([`SharedCounts`]): an
//! address spreading its connections over the nodes gets no more places in all.

use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

/// Connections per address counted by every node together.
pub trait SharedCounts: Send + Sync {
    /// Counts one more connection from `ip` here; `false`, counting nothing, when the address
    /// holds `limit` connections across the nodes already. `true` too when the count cannot
    /// be reached (the node's own limit still holds).
    fn enter(&self, ip: IpAddr, limit: usize) -> BoxFuture<'_, Entered>;
    /// Gives back a place [`SharedCounts::enter`] counted.
    fn leave(&self, ip: IpAddr);
}

/// What a cluster-wide count said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entered {
    Counted,
    Refused,
    /// The count could not be reached: nothing counted.
    Unknown,
}

/// The gate's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GateLimits {
    /// Connections per client address (0: no limit).
    pub per_address: usize,
    /// Connections in all.
    pub total: usize,
    /// Connections between their upgrade (or handshake) and their arrival in the core.
    pub handshakes: usize,
}

/// Why the gate refused a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The client's address holds `per_address` connections already.
    Address,
    /// The server holds `total` connections already.
    Full,
    /// `handshakes` connections are on their way in already.
    Handshakes,
}

/// Counts real-time connections; cheap to clone.
#[derive(Clone)]
pub struct Gate(Arc<Inner>);

struct Inner {
    limits: GateLimits,
    counts: Mutex<Counts>,
    shared: OnceLock<Arc<dyn SharedCounts>>,
}

#[derive(Default)]
struct Counts {
    by_address: HashMap<IpAddr, usize>,
    open: usize,
    handshaking: usize,
}

impl Inner {
    fn counts(&self) -> MutexGuard<'_, Counts> {
        // No critical section here can panic half-way through an update.
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Gate {
    pub fn new(limits: GateLimits) -> Self {
        Self(Arc::new(Inner {
            limits,
            counts: Mutex::default(),
            shared: OnceLock::new(),
        }))
    }

    /// Counts connections per address with the other nodes too (once, at start-up).
    pub fn share(&self, shared: Arc<dyn SharedCounts>) {
        let _ = self.0.shared.set(shared);
    }

    /// [`Gate::enter`], then the address's count across the nodes.
    pub async fn enter_cluster(&self, ip: IpAddr) -> Result<Pass, Refusal> {
        let pass = self.enter(ip)?;
        let limit = self.0.limits.per_address;
        let Some(shared) = self.0.shared.get().filter(|_| limit != 0) else {
            return Ok(pass);
        };
        match shared.enter(ip, limit).await {
            Entered::Counted => {
                pass.0.shared.store(true, Ordering::Release);
                Ok(pass)
            }
            Entered::Unknown => Ok(pass),
            Entered::Refused => Err(Refusal::Address),
        }
    }

    pub fn limits(&self) -> GateLimits {
        self.0.limits
    }

    /// Takes a place for a connection from `ip`, or says why there is none.
    pub fn enter(&self, ip: IpAddr) -> Result<Pass, Refusal> {
        let limits = self.0.limits;
        let mut counts = self.0.counts();
        let from_ip = counts.by_address.get(&ip).copied().unwrap_or(0);
        if limits.per_address != 0 && from_ip >= limits.per_address {
            return Err(Refusal::Address);
        }
        if counts.open >= limits.total {
            return Err(Refusal::Full);
        }
        if counts.handshaking >= limits.handshakes {
            return Err(Refusal::Handshakes);
        }
        counts.by_address.insert(ip, from_ip + 1);
        counts.open += 1;
        counts.handshaking += 1;
        Ok(Pass(Arc::new(PassInner {
            gate: Arc::clone(&self.0),
            ip,
            arrived: AtomicBool::new(false),
            shared: AtomicBool::new(false),
        })))
    }

    /// Connections holding a place now.
    pub fn open(&self) -> usize {
        self.0.counts().open
    }
}

/// A connection's place behind the gate. Clones share the place; the last one gives it back.
#[derive(Clone)]
pub struct Pass(Arc<PassInner>);

struct PassInner {
    gate: Arc<Inner>,
    ip: IpAddr,
    arrived: AtomicBool,
    /// Counted cluster-wide too.
    shared: AtomicBool,
}

impl Pass {
    /// The connection has arrived in the core: it no longer counts as a handshake.
    pub fn arrived(&self) {
        if !self.0.arrived.swap(true, Ordering::AcqRel) {
            self.0.gate.counts().handshaking -= 1;
        }
    }
}

impl Drop for PassInner {
    fn drop(&mut self) {
        if self.shared.load(Ordering::Acquire) {
            if let Some(shared) = self.gate.shared.get() {
                shared.leave(self.ip);
            }
        }
        let mut counts = self.gate.counts();
        if !self.arrived.load(Ordering::Acquire) {
            counts.handshaking -= 1;
        }
        counts.open -= 1;
        if let Some(count) = counts.by_address.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                counts.by_address.remove(&self.ip);
            }
        }
    }
}

impl fmt::Debug for Pass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pass")
            .field("ip", &self.0.ip)
            .field("arrived", &self.0.arrived.load(Ordering::Relaxed))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(per_address: usize, total: usize, handshakes: usize) -> Gate {
        Gate::new(GateLimits {
            per_address,
            total,
            handshakes,
        })
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([198, 51, 100, last])
    }

    #[test]
    fn an_address_gets_its_places_and_no_more_until_one_is_given_back() {
        let gate = gate(2, 100, 100);
        let first = gate.enter(ip(1)).unwrap();
        let _second = gate.enter(ip(1)).unwrap();
        assert_eq!(gate.enter(ip(1)).unwrap_err(), Refusal::Address);
        assert!(gate.enter(ip(2)).is_ok(), "another address is not affected");
        let copy = first.clone();
        drop(first);
        assert_eq!(
            gate.enter(ip(1)).unwrap_err(),
            Refusal::Address,
            "a copy still holds the place"
        );
        drop(copy);
        assert!(gate.enter(ip(1)).is_ok());
    }

    #[test]
    fn the_total_bounds_every_address_together() {
        let gate = gate(0, 2, 100);
        let _a = gate.enter(ip(1)).unwrap();
        let b = gate.enter(ip(2)).unwrap();
        assert_eq!(gate.enter(ip(3)).unwrap_err(), Refusal::Full);
        drop(b);
        let _c = gate.enter(ip(3)).expect("a place was given back");
        assert_eq!(gate.open(), 2);
    }

    #[test]
    fn handshakes_count_until_the_connection_arrives() {
        let gate = gate(0, 100, 2);
        let a = gate.enter(ip(1)).unwrap();
        let _b = gate.enter(ip(2)).unwrap();
        assert_eq!(gate.enter(ip(3)).unwrap_err(), Refusal::Handshakes);
        a.arrived();
        a.arrived();
        let _c = gate
            .enter(ip(3))
            .expect("an arrived connection is no handshake");
        assert_eq!(gate.enter(ip(4)).unwrap_err(), Refusal::Handshakes);
        assert_eq!(gate.open(), 3);
        drop(a);
        assert_eq!(gate.open(), 2);
        assert_eq!(
            gate.enter(ip(4)).unwrap_err(),
            Refusal::Handshakes,
            "an arrived connection leaving frees no handshake"
        );
    }
}
