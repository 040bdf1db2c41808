//! This node's live state: who is online, which connections sit in which room, and every open
//! connection (for revocation and shutdown). Delivery to local connections happens here.
//!
//! Roster counts identities, not connections: a user with three tabs is one member, who
//! joins with the first tab and leaves with the last.

use super::connection::{ConnHandle, ConnId};
use super::event::{CloseReason, UserView};
use super::ignore_filter::IgnoreFilter;
use super::roster::{Added, Gone, MemberCursor, MemberPage, Recipient, Roster};
use super::Broadcast;
use crate::auth::{Identity, SessionId};
use crate::clock::Clock;
use crate::domain::Millis;
use crate::domain::Principal;
use crate::metrics::{Metrics, QueueDepths};
use crate::moderation::identity_key;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use tokio::time::Instant;

struct Online {
    principal: Principal,
    conns: usize,
}

pub(super) struct Registered {
    pub(super) handle: Arc<ConnHandle>,
    pub(super) ip: IpAddr,
    pub(super) since: Millis,
    pub(super) session: Option<SessionId>,
    pub(super) principal: Option<Principal>,
    pub(super) user: Option<UserView>,
    /// How the audit log names the identity.
    pub(super) identity: Option<String>,
}

/// Rooms, presence and connections of this node.
pub struct Hub {
    /// When connections opened, for the admin panel.
    clock: Clock,
    pub(super) rooms: RwLock<HashMap<String, Roster>>,
    online: Mutex<HashMap<String, Online>>,
    pub(super) conns: Mutex<HashMap<ConnId, Registered>>,
    /// Open connections per client address.
    per_address: Mutex<HashMap<IpAddr, usize>>,
    /// Who ignores whom.
    ignoring: IgnoreFilter,
    /// Deliveries (once per fan-out) and ended connections.
    metrics: Metrics,
}

/// Locks ignore poisoning: no critical section here can panic half-way through an update.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Hub {
    pub fn new(clock: Clock, metrics: Metrics) -> Self {
        Self {
            clock,
            rooms: RwLock::default(),
            online: Mutex::default(),
            conns: Mutex::default(),
            per_address: Mutex::default(),
            ignoring: IgnoreFilter::default(),
            metrics,
        }
    }

    pub fn register(&self, handle: Arc<ConnHandle>, ip: IpAddr) {
        *lock(&self.per_address).entry(ip).or_default() += 1;
        lock(&self.conns).insert(
            handle.id,
            Registered {
                handle,
                ip,
                since: self.clock.now_millis(),
                session: None,
                principal: None,
                user: None,
                identity: None,
            },
        );
    }

    pub fn unregister(&self, id: ConnId) {
        let Some(gone) = lock(&self.conns).remove(&id) else {
            return;
        };
        // Every connection ends here, once, whichever side ended it.
        let reason = gone
            .handle
            .close_reason()
            .map_or("client", CloseReason::as_str);
        self.metrics.connection_closed(reason);
        let mut per_address = lock(&self.per_address);
        if let Some(count) = per_address.get_mut(&gone.ip) {
            *count -= 1;
            if *count == 0 {
                per_address.remove(&gone.ip);
            }
        }
    }

    /// Whether a connection has identified (an identity is bound to it).
    pub fn is_identified(&self, id: ConnId) -> bool {
        lock(&self.conns)
            .get(&id)
            .is_some_and(|registered| registered.principal.is_some())
    }

    /// How many connections are open from an address.
    pub fn connections_from(&self, ip: IpAddr) -> usize {
        lock(&self.per_address).get(&ip).copied().unwrap_or(0)
    }

    /// Claims `name_key` for `principal`, counting one more connection. `None` when another
    /// identity is online under that name here; else whether this is the name's first
    /// connection on this node (the other nodes must hear of it).
    pub fn claim_name(&self, identity: &Identity, conn: ConnId) -> Option<bool> {
        let (name_key, principal) = (identity.name_key(), identity.principal);
        let mut online = lock(&self.online);
        let first = match online.get_mut(&name_key) {
            Some(entry) if entry.principal != principal => return None,
            Some(entry) => {
                entry.conns += 1;
                false
            }
            None => {
                online.insert(
                    name_key,
                    Online {
                        principal,
                        conns: 1,
                    },
                );
                true
            }
        };
        drop(online);
        if let Some(registered) = lock(&self.conns).get_mut(&conn) {
            registered.session = Some(identity.session.clone());
            registered.principal = Some(principal);
            registered.user = Some(UserView::from(identity));
            registered.identity = Some(identity_key(identity));
        }
        Some(first)
    }

    /// The identity online under a case-folded name.
    pub fn principal_of(&self, name_key: &str) -> Option<Principal> {
        lock(&self.online)
            .get(name_key)
            .map(|entry| entry.principal)
    }

    /// Gives back one connection's claim on a name. Returns whom it named if that was the
    /// name's last connection here.
    pub fn release_name(&self, name_key: &str) -> Option<Principal> {
        let mut online = lock(&self.online);
        let entry = online.get_mut(name_key)?;
        entry.conns -= 1;
        if entry.conns > 0 {
            return None;
        }
        online.remove(name_key).map(|entry| entry.principal)
    }

    /// The names online on this node, and whom each names.
    pub fn local_names(&self) -> Vec<(String, Principal)> {
        lock(&self.online)
            .iter()
            .map(|(name, entry)| (name.clone(), entry.principal))
            .collect()
    }

    /// Adds a connection to a room. Returns what that changed, and how many are present after
    /// the join.
    pub fn join(
        &self,
        room: &str,
        user: &UserView,
        principal: Principal,
        handle: &Arc<ConnHandle>,
    ) -> (Added, usize) {
        let mut rooms = self.rooms.write().unwrap_or_else(PoisonError::into_inner);
        let room = rooms.entry(room.to_owned()).or_default();
        let added = room.add(principal, user, handle);
        (added, room.len())
    }

    /// Removes a connection from a room. Says so if that was the identity's last connection
    /// here, with how many are still present.
    pub fn leave(
        &self,
        room_name: &str,
        principal: Principal,
        conn: ConnId,
    ) -> Option<(Gone, usize)> {
        let mut rooms = self.rooms.write().unwrap_or_else(PoisonError::into_inner);
        let room = rooms.get_mut(room_name)?;
        let gone = room.remove_conn(principal, conn)?;
        let left = room.len();
        if room.is_empty() {
            rooms.remove(room_name);
        }
        Some((gone, left))
    }

    /// Another node has `principal` in a room. Returns how many are present if it is new
    /// there.
    pub fn join_remote(
        &self,
        room: &str,
        user: &UserView,
        principal: Principal,
        node: &Arc<str>,
    ) -> Option<usize> {
        let mut rooms = self.rooms.write().unwrap_or_else(PoisonError::into_inner);
        let room = rooms.entry(room.to_owned()).or_default();
        room.add_remote(principal, user, node).then(|| room.len())
    }

    /// Another node no longer has `principal` in a room. Returns how it appeared and how many
    /// remain if it left the room.
    pub fn leave_remote(
        &self,
        room_name: &str,
        principal: Principal,
        node: &str,
    ) -> Option<(UserView, usize)> {
        let mut rooms = self.rooms.write().unwrap_or_else(PoisonError::into_inner);
        let room = rooms.get_mut(room_name)?;
        let user = room.remove_remote(principal, node)?;
        let left = room.len();
        if room.is_empty() {
            rooms.remove(room_name);
        }
        Some((user, left))
    }

    /// A node is gone: who left which room, and how many remain there.
    pub fn drop_node(&self, node: &str) -> Vec<(String, UserView, usize)> {
        let mut rooms = self.rooms.write().unwrap_or_else(PoisonError::into_inner);
        let mut left = Vec::new();
        for (name, room) in rooms.iter_mut() {
            for user in room.drop_node(node) {
                left.push((name.clone(), user, room.len()));
            }
        }
        rooms.retain(|_, room| !room.is_empty());
        left
    }

    /// The identities with a connection on this node, room by room.
    pub fn local_presence(&self) -> Vec<(String, Principal, UserView)> {
        let rooms = self.rooms.read().unwrap_or_else(PoisonError::into_inner);
        rooms
            .iter()
            .flat_map(|(name, room)| {
                room.local()
                    .map(|(principal, user)| (name.clone(), *principal, user.clone()))
            })
            .collect()
    }

    /// The other nodes anyone in any room is on.
    pub fn remote_nodes(&self) -> Vec<Arc<str>> {
        let rooms = self.rooms.read().unwrap_or_else(PoisonError::into_inner);
        let nodes: HashSet<&Arc<str>> = rooms.values().flat_map(Roster::nodes).collect();
        nodes.into_iter().cloned().collect()
    }

    /// Whether a connection of this node is in the room.
    pub fn present_here(&self, room: &str) -> bool {
        let rooms = self.rooms.read().unwrap_or_else(PoisonError::into_inner);
        rooms
            .get(room)
            .is_some_and(|room| room.local().next().is_some())
    }

    /// Forgets a room nobody here is in (this node stopped listening to it).
    pub fn forget_room(&self, room: &str) {
        let mut rooms = self.rooms.write().unwrap_or_else(PoisonError::into_inner);
        if rooms.get(room).is_some_and(|r| r.local().next().is_none()) {
            rooms.remove(room);
        }
    }

    /// One page of a room's members, in list order (staff first, then by name).
    pub fn members(&self, room: &str, after: Option<&MemberCursor>, limit: usize) -> MemberPage {
        let rooms = self.rooms.read().unwrap_or_else(PoisonError::into_inner);
        match rooms.get(room) {
            Some(room) => room.page(after, limit),
            None => Roster::default().page(None, 0),
        }
    }

    /// How many are present in each room with more than `limit` members, and in `also`.
    pub fn crowds(&self, limit: usize, also: &HashSet<String>) -> HashMap<String, usize> {
        let rooms = self.rooms.read().unwrap_or_else(PoisonError::into_inner);
        let mut counts: HashMap<String, usize> = rooms
            .iter()
            .filter(|(_, room)| room.len() > limit)
            .map(|(name, room)| (name.clone(), room.len()))
            .collect();
        for name in also {
            let count = rooms.get(name).map_or(0, Roster::len);
            counts.insert(name.clone(), count);
        }
        counts
    }

    /// Queues a broadcast on every local connection in the room, except those of `except` and
    /// of whoever ignores its author.
    pub fn deliver(&self, room: &str, broadcast: &Arc<Broadcast>, except: Option<Principal>) {
        let ignoring = self.ignoring.of(broadcast);
        let rooms = self.rooms.read().unwrap_or_else(PoisonError::into_inner);
        let Some(room) = rooms.get(room) else { return };
        // Counted here and added once: one atomic per broadcast, not one per recipient.
        let (mut queued, mut dropped) = (0, 0);
        let now = Instant::now();
        let direct = room.pace.direct_at(now);
        for Recipient { principal, conn } in room.recipients() {
            if Some(*principal) == except
                || ignoring.as_ref().is_some_and(|i| i.contains(principal))
            {
                continue;
            }
            if conn.deliver_at(broadcast, now, direct) {
                queued += 1;
            } else {
                dropped += 1;
            }
        }
        if direct {
            room.pace.direct_done(now);
        }
        drop(rooms);
        self.metrics.delivered(queued, dropped);
    }

    /// Takes every connection of `principal` here out of a room. Returns those connections
    /// and, if it had any, what that changed and how many remain (for the leave notice).
    pub fn evict(
        &self,
        room_name: &str,
        principal: Principal,
    ) -> (Vec<Arc<ConnHandle>>, Option<(Gone, usize)>) {
        let mut rooms = self.rooms.write().unwrap_or_else(PoisonError::into_inner);
        let Some(room) = rooms.get_mut(room_name) else {
            return (Vec::new(), None);
        };
        let (conns, gone) = room.remove(principal);
        let remaining = room.len();
        if room.is_empty() {
            rooms.remove(room_name);
        }
        (conns, gone.map(|gone| (gone, remaining)))
    }

    /// The guests with a connection here in a room.
    pub fn guests_in(&self, room_name: &str) -> Vec<Principal> {
        let rooms = self.rooms.read().unwrap_or_else(PoisonError::into_inner);
        rooms.get(room_name).map_or_else(Vec::new, |room| {
            room.iter()
                .map(|(principal, _)| *principal)
                .filter(|principal| matches!(principal, Principal::Guest(_)))
                .collect()
        })
    }

    /// Empties a room (it was deleted); returns the connections that were in it.
    pub fn close_room(&self, room_name: &str) -> Vec<Arc<ConnHandle>> {
        let mut rooms = self.rooms.write().unwrap_or_else(PoisonError::into_inner);
        rooms
            .remove(room_name)
            .map(Roster::into_conns)
            .unwrap_or_default()
    }

    /// Queues an event on every connection of one identity (unless it ignores the author).
    pub fn deliver_to(&self, principal: Principal, broadcast: &Arc<Broadcast>) {
        if self
            .ignoring
            .of(broadcast)
            .is_some_and(|ignoring| ignoring.contains(&principal))
        {
            return;
        }
        let (mut queued, mut dropped) = (0, 0);
        for registered in lock(&self.conns).values() {
            if registered.principal == Some(principal) {
                if registered.handle.deliver(broadcast) {
                    queued += 1;
                } else {
                    dropped += 1;
                }
            }
        }
        self.metrics.delivered(queued, dropped);
    }

    /// Queues an event on every connection of a registered account.
    pub fn deliver_to_accounts(&self, broadcast: &Arc<Broadcast>) {
        let (mut queued, mut dropped) = (0, 0);
        for registered in lock(&self.conns).values() {
            if matches!(registered.principal, Some(Principal::User(_))) {
                if registered.handle.deliver(broadcast) {
                    queued += 1;
                } else {
                    dropped += 1;
                }
            }
        }
        self.metrics.delivered(queued, dropped);
    }

    /// Closes every connection of one identity, with a moderator's reason.
    pub fn close_principal(&self, principal: Principal, reason: CloseReason, detail: Option<&str>) {
        for registered in lock(&self.conns).values() {
            if registered.principal == Some(principal) {
                registered.handle.close_with(reason, detail);
            }
        }
    }

    /// Closes every connection from an address, except those of moderators and above.
    pub fn close_address(&self, ip: IpAddr, reason: CloseReason, detail: Option<&str>) {
        for registered in lock(&self.conns).values() {
            let staff = registered.user.as_ref().is_some_and(|u| u.role.moderates());
            if registered.ip == ip && !staff {
                registered.handle.close_with(reason, detail);
            }
        }
    }

    /// The address of one of an identity's live connections.
    pub fn address_of(&self, principal: Principal) -> Option<IpAddr> {
        lock(&self.conns)
            .values()
            .find(|r| r.principal == Some(principal))
            .map(|r| r.ip)
    }

    /// Gives an identity a new role and badge on every connection and in every room it is
    /// in; returns those rooms (to tell them).
    pub fn update_user(&self, principal: Principal, user: &UserView) -> Vec<String> {
        for registered in lock(&self.conns).values_mut() {
            if registered.principal == Some(principal) {
                registered.user = Some(user.clone());
                registered.handle.update_badges(user.role, user.verified);
            }
        }
        let mut rooms = self.rooms.write().unwrap_or_else(PoisonError::into_inner);
        rooms
            .iter_mut()
            .filter_map(|(name, room)| room.update(principal, user).then(|| name.clone()))
            .collect()
    }

    /// Closes every connection bound to one of these sessions.
    pub fn close_sessions(&self, sessions: &[SessionId], reason: CloseReason) {
        for registered in lock(&self.conns).values() {
            if registered
                .session
                .as_ref()
                .is_some_and(|s| sessions.contains(s))
            {
                registered.handle.close(reason);
            }
        }
    }

    /// Closes every connection.
    pub fn close_all(&self, reason: CloseReason) {
        for registered in lock(&self.conns).values() {
            registered.handle.close(reason);
        }
    }

    /// Closes one connection.
    pub fn close_connection(&self, id: ConnId, reason: CloseReason) -> bool {
        match lock(&self.conns).get(&id) {
            Some(registered) => {
                registered.handle.close(reason);
                true
            }
            None => false,
        }
    }

    pub fn connection_count(&self) -> usize {
        lock(&self.conns).len()
    }

    /// How full the connections' outbound queues are now (read when `/metrics` is scraped:
    /// one walk over the connections, instead of an atomic per event queued and written).
    pub fn outbound_queues(&self) -> QueueDepths {
        let conns = lock(&self.conns);
        let mut depths = QueueDepths::default();
        for registered in conns.values() {
            let queued = registered.handle.queued() as u64;
            depths.queued += queued;
            depths.deepest = depths.deepest.max(queued);
        }
        depths
    }

    /// The sessions of all identified connections (to keep them from expiring while in use).
    pub fn live_sessions(&self) -> Vec<SessionId> {
        let mut sessions: Vec<SessionId> = lock(&self.conns)
            .values()
            .filter_map(|r| r.session.clone())
            .collect();
        sessions.sort_by(|a, b| a.0.cmp(&b.0));
        sessions.dedup();
        sessions
    }

    /// Whether `principal` ignores the (case-folded) name.
    pub fn ignores(&self, principal: Principal, name_key: &str) -> bool {
        self.ignoring.ignores(principal, name_key)
    }

    /// Records that `principal` ignores (`true`) or no longer ignores a case-folded name.
    pub fn set_ignore(&self, principal: Principal, name_key: &str, ignore: bool) {
        self.ignoring.set(principal, name_key, ignore);
    }
}
