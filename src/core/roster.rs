//! Who is present in one room on this node: each identity with its connections, kept in the
//! order the member list is shown (staff first, then by name) so it can be read a page at a
//! time. A room of ten thousand is never copied whole to answer a join.

use super::connection::{ConnHandle, ConnId};
use super::event::UserView;
use crate::domain::Principal;
use crate::domain::Role;
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::Arc;

/// One present identity and its connections in the room.
pub(super) struct Member {
    pub user: UserView,
    pub conns: Vec<Arc<ConnHandle>>,
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

/// The present members of one room.
#[derive(Default)]
pub(super) struct Roster {
    members: HashMap<Principal, Member>,
    order: BTreeSet<ListKey>,
}

impl Roster {
    /// Adds a connection for an identity. Returns whether the identity is new here.
    pub fn add(&mut self, principal: Principal, user: &UserView, handle: &Arc<ConnHandle>) -> bool {
        if self.update(principal, user) {
            let member = self.members.get_mut(&principal).expect("updated member");
            if !member.conns.iter().any(|c| c.id == handle.id) {
                member.conns.push(Arc::clone(handle));
            }
            return false;
        }
        self.order.insert(ListKey::of(principal, user));
        let member = Member {
            user: user.clone(),
            conns: vec![Arc::clone(handle)],
        };
        self.members.insert(principal, member);
        true
    }

    /// Removes one connection. Returns how the identity appeared if that was its last one.
    pub fn remove_conn(&mut self, principal: Principal, conn: ConnId) -> Option<UserView> {
        let member = self.members.get_mut(&principal)?;
        member.conns.retain(|c| c.id != conn);
        if !member.conns.is_empty() {
            return None;
        }
        self.remove(principal).map(|member| member.user)
    }

    /// Removes an identity with all its connections.
    pub fn remove(&mut self, principal: Principal) -> Option<Member> {
        let member = self.members.remove(&principal)?;
        self.order.remove(&ListKey::of(principal, &member.user));
        Some(member)
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

    /// Every connection in the room (it is being emptied).
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
        assert!(!room.add(bob, &user("bob", Role::Mod), &handle(9)));
        assert_eq!(room.remove_conn(bob, 1), None);
        assert_eq!(room.remove_conn(bob, 9).map(|u| u.name), Some("bob".into()));
        assert_eq!(names(&room.page(None, 10)), ["amy"]);
    }

    #[test]
    fn cursors_that_are_not_cursors_are_refused() {
        assert_eq!(MemberCursor::parse("nobody"), None);
        assert_eq!(MemberCursor::parse("king:bob"), None);
        assert!(MemberCursor::parse("user:bob:the:builder").is_some());
    }
}
