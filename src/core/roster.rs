//! Who is present in one room, as this node sees it: each identity with its connections here
//! and the other nodes it is present on (learnt from the bus), kept in the order the member
//! list is shown (staff first, then by name) so it can be read a page at a time. A room of ten
//! thousand is never copied whole to answer a join.
//!
//! An identity is a member while it has a connection here or a node elsewhere: a user with a
//! tab on each of two nodes is one member, who leaves with the last tab, wherever it was.

use super::connection::{ConnHandle, ConnId};
use super::event::UserView;
use crate::domain::Principal;
use crate::domain::Role;
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// One present identity: its connections on this node and the other nodes it is on.
pub(super) struct Member {
    pub user: UserView,
    pub conns: Vec<Arc<ConnHandle>>,
    pub nodes: BTreeSet<Arc<str>>,
}

impl Member {
    fn is_present(&self) -> bool {
        !self.conns.is_empty() || !self.nodes.is_empty()
    }
}

/// What adding a connection changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Added {
    /// The identity's first connection on this node (other nodes must hear of it).
    pub here: bool,
    /// The identity was not present anywhere (the room hears it join).
    pub member: bool,
}

/// What taking an identity's last connection here changed.
#[derive(Clone, Debug, PartialEq)]
pub struct Gone {
    pub user: UserView,
    /// It is not present on any other node either (the room hears it leave).
    pub member: bool,
}

/// A member's place in the list: higher roles first, then by case-folded name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ListKey {
    role: Reverse<Role>,
    name: String,
    principal: Principal,
}

impl ListKey {
    fn of(principal: Principal, user: &UserView) -> Self {
        Self {
            role: Reverse(user.role),
            name: user.name.to_lowercase(),
            principal,
        }
    }
}

/// Where a member-list page starts: just after the member with this role and name. Sent to
/// clients as the opaque text `"<role>:<name>"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberCursor {
    role: Role,
    name: String,
}

impl MemberCursor {
    /// Reads a cursor a client sent back; `None` if it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let (role, name) = text.split_once(':')?;
        Some(Self {
            role: role.parse().ok()?,
            name: name.to_lowercase(),
        })
    }

    fn after(key: &ListKey) -> String {
        format!("{}:{}", key.role.0.as_str(), key.name)
    }

    /// The first key that sorts after every member with this role and name.
    fn bound(&self) -> Bound<ListKey> {
        Bound::Excluded(ListKey {
            role: Reverse(self.role),
            name: self.name.clone(),
            principal: Principal::Guest(i64::MAX),
        })
    }
}

impl<'de> serde::Deserialize<'de> for MemberCursor {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        MemberCursor::parse(&text)
            .ok_or_else(|| serde::de::Error::custom("after is not a cursor from a page"))
    }
}

/// One page of a room's member list.
#[derive(Debug)]
pub struct MemberPage {
    pub members: Vec<UserView>,
    /// How many are present in all.
    pub count: usize,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
}

/// One connection here, as a fan-out reaches it.
pub(super) struct Recipient {
    pub principal: Principal,
    pub conn: Arc<ConnHandle>,
}

/// The present members of one room.
#[derive(Default)]
pub(super) struct Roster {
    members: HashMap<Principal, Member>,
    order: BTreeSet<ListKey>,
    /// Every connection here, in one flat array that a fan-out walks. Walking the members
    /// instead meant a large hash-table entry and a vector of its own per recipient, two
    /// cache misses each that in a room of 10 000 cost more than Parlor's own part of the
    /// write (see `bench/analysis.md`).
    recipients: Vec<Recipient>,
    /// Where each connection is in `recipients`, so that one leaves without a scan.
    slots: HashMap<ConnId, usize>,
    /// How the room's last fan-out went, for the next one's way to the sockets.
    pub(super) pace: Pace,
}

/// Whether a room's fan-out may write straight into idle sockets (see
/// [`super::connection::Express`]), judged by the room's pace.
///
/// Writing each recipient's frame from the publisher costs one system call per recipient and
/// keeps the publisher for the whole fan-out (about 40 ms in a room of 10 000). That is the
/// fastest way while the room's messages come further apart than that; when they come about
/// as fast as a direct fan-out takes, queueing is what lets each connection's writer gather
/// several events into one write — in a room of 10 000 offered 512 000 deliveries a second,
/// writing directly carried 260 000 a second, where queueing keeps up. So a fan-out writes
/// directly unless the room's last two messages each came less than a quarter further apart
/// than its last direct fan-out took.
///
/// Two, not one: two messages often come close together (a client's burst, or a generator
/// that fell behind for a moment), and queueing the second — 10 000 writers woken for one
/// event each — cost more than writing it right after the first. A room that is really
/// behind has every message as close to the last as a fan-out takes, and queues from its
/// third on.
///
/// A queued fan-out does not show what a direct one would cost now, so each one lets the last
/// measure fade by an eighth. Without that, a cost measured once on cold caches (the first
/// fan-outs to 10 000 fresh sockets took 74 ms where later ones took 50) kept a room offered a
/// message every 78 ms queued for seconds — and queued fan-outs, at one event per woken
/// writer, cost more than the direct ones they replaced, so the messages kept coming close
/// behind each other. A room that is really behind measures the cost again with its next
/// direct fan-out and queues again after two close messages.
#[derive(Default)]
pub(super) struct Pace {
    last: std::sync::Mutex<Paced>,
}

#[derive(Default)]
struct Paced {
    /// When the last fan-out began.
    began: Option<Instant>,
    /// How many messages in a row came close behind the one before.
    close: u32,
    /// What the last direct fan-out took.
    took: Duration,
}

impl Pace {
    /// Whether a fan-out starting `now` may write directly (and notes that it started).
    pub(super) fn direct_at(&self, now: Instant) -> bool {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let close = last
            .began
            .is_some_and(|began| now.saturating_duration_since(began) < last.took * 5 / 4);
        last.close = if close { last.close + 1 } else { 0 };
        last.began = Some(now);
        let direct = last.close < 2;
        if !direct {
            last.took = last.took * 7 / 8;
        }
        direct
    }

    /// A direct fan-out that began at `began` is over.
    pub(super) fn direct_done(&self, began: Instant) {
        let took = began.elapsed();
        self.last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .took = took;
    }
}

impl Roster {
    /// The member entry of an identity, created (absent everywhere) if needed.
    fn entry(&mut self, principal: Principal, user: &UserView) -> (&mut Member, bool) {
        let new = !self.update(principal, user);
        if new {
            self.order.insert(ListKey::of(principal, user));
            let member = Member {
                user: user.clone(),
                conns: Vec::new(),
                nodes: BTreeSet::new(),
            };
            self.members.insert(principal, member);
        }
        (self.members.get_mut(&principal).expect("member entry"), new)
    }

    /// Adds a connection for an identity.
    pub fn add(
        &mut self,
        principal: Principal,
        user: &UserView,
        handle: &Arc<ConnHandle>,
    ) -> Added {
        let (member, new) = self.entry(principal, user);
        let here = member.conns.is_empty();
        if !member.conns.iter().any(|c| c.id == handle.id) {
            member.conns.push(Arc::clone(handle));
            self.slots.insert(handle.id, self.recipients.len());
            self.recipients.push(Recipient {
                principal,
                conn: Arc::clone(handle),
            });
        }
        Added { here, member: new }
    }

    /// Takes a connection out of the fan-out array (the last one moves into its place).
    fn unlist(&mut self, conn: ConnId) {
        let Some(slot) = self.slots.remove(&conn) else {
            return;
        };
        self.recipients.swap_remove(slot);
        if let Some(moved) = self.recipients.get(slot) {
            self.slots.insert(moved.conn.id, slot);
        }
    }

    /// Records that the identity is present on another node. Returns whether it is new in the
    /// room.
    pub fn add_remote(&mut self, principal: Principal, user: &UserView, node: &Arc<str>) -> bool {
        let (member, new) = self.entry(principal, user);
        member.nodes.insert(Arc::clone(node));
        new
    }

    /// Removes one connection. Says so if that was the identity's last one here.
    pub fn remove_conn(&mut self, principal: Principal, conn: ConnId) -> Option<Gone> {
        let member = self.members.get_mut(&principal)?;
        let before = member.conns.len();
        member.conns.retain(|c| c.id != conn);
        let after = member.conns.len();
        if after < before {
            self.unlist(conn);
        }
        if before == 0 || after > 0 {
            return None;
        }
        Some(self.gone_here(principal))
    }

    /// The identity has no connection here any more: forgets it unless another node has it.
    fn gone_here(&mut self, principal: Principal) -> Gone {
        let member = &self.members[&principal];
        let (user, present) = (member.user.clone(), member.is_present());
        if !present {
            self.forget(principal);
        }
        Gone {
            user,
            member: !present,
        }
    }

    fn forget(&mut self, principal: Principal) -> Option<Member> {
        let member = self.members.remove(&principal)?;
        self.order.remove(&ListKey::of(principal, &member.user));
        Some(member)
    }

    /// Takes every connection an identity has here. Returns them, and what that changed (when
    /// it had any).
    pub fn remove(&mut self, principal: Principal) -> (Vec<Arc<ConnHandle>>, Option<Gone>) {
        let Some(member) = self.members.get_mut(&principal) else {
            return (Vec::new(), None);
        };
        let conns = std::mem::take(&mut member.conns);
        if conns.is_empty() {
            return (conns, None);
        }
        for conn in &conns {
            self.unlist(conn.id);
        }
        (conns, Some(self.gone_here(principal)))
    }

    /// The identity is no longer on `node`. Returns how it appeared if it left the room.
    pub fn remove_remote(&mut self, principal: Principal, node: &str) -> Option<UserView> {
        let member = self.members.get_mut(&principal)?;
        if !member.nodes.remove(node) || member.is_present() {
            return None;
        }
        self.forget(principal).map(|member| member.user)
    }

    /// A node is gone: everyone only it had leaves. Returns them.
    pub fn drop_node(&mut self, node: &str) -> Vec<UserView> {
        let gone: Vec<Principal> = self
            .members
            .iter_mut()
            .filter_map(|(principal, member)| {
                (member.nodes.remove(node) && !member.is_present()).then_some(*principal)
            })
            .collect();
        gone.into_iter()
            .filter_map(|principal| self.forget(principal).map(|member| member.user))
            .collect()
    }

    /// The other nodes anyone here is on.
    pub fn nodes(&self) -> impl Iterator<Item = &Arc<str>> {
        self.members.values().flat_map(|member| member.nodes.iter())
    }

    /// The identities with a connection on this node, and how they appear.
    pub fn local(&self) -> impl Iterator<Item = (&Principal, &UserView)> {
        self.members
            .iter()
            .filter(|(_, member)| !member.conns.is_empty())
            .map(|(principal, member)| (principal, &member.user))
    }

    /// Replaces how a present identity appears (role, badge). Returns whether it is present.
    pub fn update(&mut self, principal: Principal, user: &UserView) -> bool {
        let Some(member) = self.members.get_mut(&principal) else {
            return false;
        };
        if member.user != *user {
            self.order.remove(&ListKey::of(principal, &member.user));
            self.order.insert(ListKey::of(principal, user));
            member.user = user.clone();
        }
        true
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Principal, &Member)> {
        self.members.iter()
    }

    /// Every connection here with its identity, for a fan-out.
    pub fn recipients(&self) -> &[Recipient] {
        &self.recipients
    }

    /// Every connection in the room here (it is being emptied).
    pub fn into_conns(self) -> Vec<Arc<ConnHandle>> {
        self.members.into_values().flat_map(|m| m.conns).collect()
    }

    /// Up to `limit` members in list order, starting after `after`.
    pub fn page(&self, after: Option<&MemberCursor>, limit: usize) -> MemberPage {
        let start = after.map_or(Bound::Unbounded, MemberCursor::bound);
        let mut keys = self.order.range((start, Bound::Unbounded));
        let page: Vec<&ListKey> = keys.by_ref().take(limit).collect();
        let more = keys.next().is_some();
        MemberPage {
            members: page
                .iter()
                .filter_map(|key| self.members.get(&key.principal))
                .map(|member| member.user.clone())
                .collect(),
            count: self.len(),
            next: page
                .last()
                .filter(|_| more)
                .map(|key| MemberCursor::after(key)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::IdentityKind;
    use crate::core::connection::{ConnInfo, Connection};
    use std::net::Ipv4Addr;

    fn user(name: &str, role: Role) -> UserView {
        UserView {
            name: name.to_owned(),
            kind: IdentityKind::User,
            role,
            verified: false,
            bot: false,
        }
    }

    fn handle(id: ConnId) -> Arc<ConnHandle> {
        let info = ConnInfo {
            ip: Ipv4Addr::LOCALHOST.into(),
            credential: None,
        };
        Connection::open(id, info, 4).0.handle
    }

    fn names(page: &MemberPage) -> Vec<&str> {
        page.members.iter().map(|u| u.name.as_str()).collect()
    }

    fn room(people: &[(&str, Role)]) -> Roster {
        let mut room = Roster::default();
        for (i, (name, role)) in people.iter().enumerate() {
            room.add(
                Principal::User(i as i64),
                &user(name, *role),
                &handle(i as u64),
            );
        }
        room
    }

    /// A fan-out that begins now and, when direct, takes `cost`; the next one begins `gap`
    /// after this one began (or when a direct one is over, if that is later).
    async fn fan_out(pace: &Pace, gap: Duration, cost: Duration) -> bool {
        let began = Instant::now();
        let direct = pace.direct_at(began);
        if direct {
            tokio::time::sleep(cost).await;
            pace.direct_done(began);
        }
        tokio::time::sleep_until(began + gap).await;
        direct
    }

    #[tokio::test(start_paused = true)]
    async fn a_room_writes_directly_while_its_messages_come_further_apart_than_a_fan_out_takes() {
        let pace = Pace::default();
        let ms = Duration::from_millis;
        let fan_out = |gap| fan_out(&pace, gap, ms(40));
        for _ in 0..5 {
            assert!(fan_out(ms(100)).await, "well apart");
        }
        assert!(fan_out(ms(5)).await);
        assert!(
            fan_out(ms(100)).await,
            "close behind one (a burst): still direct"
        );
        assert!(fan_out(ms(10)).await, "the first of a run");
        assert!(fan_out(ms(10)).await, "close behind one: still direct");
        for _ in 0..10 {
            assert!(!fan_out(ms(10)).await, "close behind two: queued");
        }
        assert!(!fan_out(ms(200)).await, "the last one of the run");
        assert!(fan_out(ms(100)).await, "after a pause: direct again");
    }

    #[tokio::test(start_paused = true)]
    async fn a_cost_measured_on_cold_caches_does_not_keep_a_room_queued() {
        let pace = Pace::default();
        let ms = Duration::from_millis;
        // The first two fan-outs take 74 ms, every later direct one 50; a message every 78 ms.
        assert!(fan_out(&pace, ms(78), ms(74)).await);
        assert!(fan_out(&pace, ms(78), ms(74)).await);
        let mut queued = 0;
        for _ in 0..3 {
            if !fan_out(&pace, ms(78), ms(50)).await {
                queued += 1;
            }
        }
        assert!(queued <= 2, "queued {queued} of 3 behind a stale cost");
        for _ in 0..20 {
            assert!(
                fan_out(&pace, ms(78), ms(50)).await,
                "direct again, and stays so"
            );
        }
        // Far behind (messages back to back, direct fan-outs of 50 ms): mostly queued, with a
        // direct one now and then that measures the cost again.
        let mut direct = 0;
        for _ in 0..40 {
            if fan_out(&pace, ms(10), ms(50)).await {
                direct += 1;
            }
        }
        assert!(direct <= 8, "{direct} of 40 direct while behind");
    }

    #[test]
    fn the_fan_out_array_follows_every_connection_in_and_out() {
        let mut room = room(&[("amy", Role::User), ("bob", Role::User), ("cy", Role::User)]);
        let bob = Principal::User(1);
        room.add(bob, &user("bob", Role::User), &handle(7));
        room.add(bob, &user("bob", Role::User), &handle(7)); // the same connection again
        let listed = |room: &Roster| {
            let mut conns: Vec<_> = (room.recipients().iter())
                .map(|r| (r.principal, r.conn.id))
                .collect();
            conns.sort_unstable();
            conns
        };
        let u = Principal::User;
        assert_eq!(listed(&room), [(u(0), 0), (u(1), 1), (u(1), 7), (u(2), 2)]);
        assert_eq!(room.remove_conn(u(0), 0).map(|g| g.member), Some(true));
        assert_eq!(room.remove_conn(bob, 1), None, "bob still has a tab");
        assert_eq!(listed(&room), [(u(1), 7), (u(2), 2)]);
        let (conns, gone) = room.remove(bob);
        assert_eq!((conns.len(), gone.map(|g| g.member)), (1, Some(true)));
        assert_eq!(listed(&room), [(u(2), 2)]);
        room.remove_conn(u(2), 2);
        assert!(room.recipients().is_empty() && room.is_empty());
    }

    #[test]
    fn pages_list_staff_first_then_names_and_chain_by_cursor() {
        let room = room(&[
            ("dora", Role::User),
            ("Bob", Role::User),
            ("zed", Role::Admin),
            ("amy", Role::Mod),
            ("carl", Role::User),
        ]);
        let first = room.page(None, 2);
        assert_eq!(names(&first), ["zed", "amy"]);
        assert_eq!(first.count, 5);
        let cursor = MemberCursor::parse(first.next.as_deref().unwrap()).unwrap();
        let second = room.page(Some(&cursor), 2);
        assert_eq!(names(&second), ["Bob", "carl"]);
        let cursor = MemberCursor::parse(second.next.as_deref().unwrap()).unwrap();
        let last = room.page(Some(&cursor), 2);
        assert_eq!(names(&last), ["dora"]);
        assert_eq!(last.next, None);
    }

    #[test]
    fn a_page_that_reaches_the_end_has_no_next_cursor() {
        let room = room(&[("a", Role::User), ("b", Role::User)]);
        assert_eq!(room.page(None, 2).next, None);
        assert_eq!(Roster::default().page(None, 2).members.len(), 0);
    }

    #[test]
    fn a_role_change_moves_the_member_and_the_last_connection_removes_it() {
        let mut room = room(&[("amy", Role::User), ("bob", Role::User)]);
        let bob = Principal::User(1);
        assert!(room.update(bob, &user("bob", Role::Mod)));
        assert_eq!(names(&room.page(None, 10)), ["bob", "amy"]);
        let added = room.add(bob, &user("bob", Role::Mod), &handle(9));
        assert_eq!(
            added,
            Added {
                here: false,
                member: false
            }
        );
        assert_eq!(room.remove_conn(bob, 1), None);
        let gone = room.remove_conn(bob, 9).unwrap();
        assert_eq!((gone.user.name.as_str(), gone.member), ("bob", true));
        assert_eq!(names(&room.page(None, 10)), ["amy"]);
    }

    #[test]
    fn an_identity_on_two_nodes_is_one_member_until_it_leaves_both() {
        let mut room = room(&[("amy", Role::User)]);
        let (amy, bob) = (Principal::User(0), Principal::User(7));
        let other: Arc<str> = Arc::from("node-b");
        // Bob is on the other node only: a member, with no connection here.
        assert!(room.add_remote(bob, &user("bob", Role::User), &other));
        assert_eq!(room.len(), 2);
        // Amy opens a tab there too: no new member; her last tab here keeps her in.
        assert!(!room.add_remote(amy, &user("amy", Role::User), &other));
        let gone = room.remove_conn(amy, 0).unwrap();
        assert!(!gone.member, "still present on the other node");
        assert_eq!(room.len(), 2);
        assert!(room.local().next().is_none());
        // The other node dies: both leave.
        let mut left: Vec<String> = room
            .drop_node("node-b")
            .into_iter()
            .map(|u| u.name)
            .collect();
        left.sort();
        assert_eq!(left, ["amy", "bob"]);
        assert!(room.is_empty());
    }

    #[test]
    fn a_remote_leave_removes_only_that_node() {
        let mut room = Roster::default();
        let bob = Principal::Guest(3);
        let (b, c): (Arc<str>, Arc<str>) = (Arc::from("b"), Arc::from("c"));
        room.add_remote(bob, &user("bob", Role::User), &b);
        room.add_remote(bob, &user("bob", Role::User), &c);
        assert_eq!(room.remove_remote(bob, "b"), None);
        assert_eq!(
            room.remove_remote(bob, "c").map(|u| u.name),
            Some("bob".into())
        );
        assert!(room.is_empty());
    }

    #[test]
    fn cursors_that_are_not_cursors_are_refused() {
        assert_eq!(MemberCursor::parse("nobody"), None);
        assert_eq!(MemberCursor::parse("king:bob"), None);
        assert!(MemberCursor::parse("user:bob:the:builder").is_some());
    }
}
