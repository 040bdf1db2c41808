//! Presence in rooms of every size: entering and leaving rooms, member lists a page at a time,
//! and what the room hears of it.
//!
//! A room of ordinary size announces each identity that joins or leaves. Past
//! `presence_limit` members one join would cost a delivery to every member, so such a room gets
//! only a `member_count` every few seconds while the number changes (see
//! [`Presence::announce_crowds`], run by upkeep). The join ack carries the first page of
//! members; the `members` command reads on.
//!
//! With several nodes, each node's roster also holds who is present on the others (the bus
//! tells it), and each node announces joins, leaves and counts to its own connections when
//! its view of the room changes: nothing about presence is published twice.

use crate::core::command::Members;
use crate::core::event::{Event, RemovedReason, UserView};
use crate::core::roster::Gone;
use crate::core::{Broadcast, Bus, Connection, CoreError, Directive, Hub, MemberPage};
use crate::domain::Principal;
use crate::domain::{RoomName, LOBBY};
use crate::rooms::Notice;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Members in a join ack: about a screenful (every connection's write buffer keeps the size
/// of the largest frame it wrote, so the ack stays small).
const FIRST_PAGE: usize = 20;
/// Members in a `members` page unless the client asks for another size.
const MEMBER_PAGE: usize = 100;
/// The largest `members` page a client may ask for.
const MAX_MEMBER_PAGE: usize = 500;

/// The reply to `members`.
#[derive(Debug, Serialize)]
pub struct MembersPage {
    pub room: RoomName,
    pub members: Vec<UserView>,
    pub count: usize,
    pub next: Option<String>,
}

/// Who is where, and telling rooms about it. Cheap to clone.
#[derive(Clone)]
pub struct Presence {
    hub: Arc<Hub>,
    bus: Arc<dyn Bus>,
    limit: usize,
}

impl Presence {
    pub fn new(hub: Arc<Hub>, bus: Arc<dyn Bus>, limit: usize) -> Self {
        Self { hub, bus, limit }
    }

    /// Puts an identified connection into a room and tells the room if the identity is new
    /// there. Returns the first page of the member list.
    pub(crate) fn enter(&self, conn: &mut Connection, room: &str) -> Result<MemberPage, CoreError> {
        let identity = conn.identified()?;
        let user = UserView::from(identity);
        let principal = identity.principal;
        let (added, present) = self.hub.join(room, &user, principal, &conn.handle);
        conn.rooms.insert(room.to_owned());
        if added.here {
            self.bus.presence(room, principal, Some(&user));
        }
        if added.member && present <= self.limit {
            let event = Event::MemberJoined {
                room: room.to_owned(),
                user,
            };
            self.hub
                .deliver(room, &Broadcast::new(event), Some(principal));
        }
        Ok(self.hub.members(room, None, FIRST_PAGE))
    }

    /// The `leave` command: the connection leaves a room it is in.
    pub fn leave(&self, conn: &mut Connection, room: &RoomName) -> Result<(), CoreError> {
        let principal = conn.identified()?.principal;
        if !conn.rooms.remove(room.as_str()) {
            return Err(CoreError::NotInRoom);
        }
        if let Some((gone, remaining)) = self.hub.leave(room.as_str(), principal, conn.id()) {
            self.gone_here(room.as_str(), principal, gone, remaining);
        }
        Ok(())
    }

    /// A closing connection leaves every room it was in.
    pub(crate) fn leave_all(&self, conn: &Connection) {
        let Some(identity) = &conn.identity else {
            return;
        };
        for room in &conn.rooms {
            if let Some((gone, remaining)) = self.hub.leave(room, identity.principal, conn.id()) {
                self.gone_here(room, identity.principal, gone, remaining);
            }
        }
    }

    /// An identity's last connection here left a room: the other nodes hear of it, and the
    /// room if the identity is gone from it altogether.
    fn gone_here(&self, room: &str, principal: Principal, gone: Gone, remaining: usize) {
        self.bus.presence(room, principal, None);
        if gone.member {
            self.announce_left(room, gone.user, remaining);
        }
    }

    /// Takes an identity out of a room, on every node, and tells its connections why; the
    /// others see it leave.
    pub(crate) fn evict(&self, room: &str, principal: Principal, reason: RemovedReason) {
        self.bus.direct(Directive::Evict {
            room: room.to_owned(),
            principal,
            reason,
        });
    }

    /// [`Presence::evict`] on this node.
    pub(crate) fn evict_here(&self, room: &str, principal: Principal, reason: RemovedReason) {
        let (handles, gone) = self.hub.evict(room, principal);
        let notice = Broadcast::new(Event::RoomRemoved {
            room: room.to_owned(),
            reason,
        });
        for handle in handles {
            handle.deliver(&notice);
        }
        if let Some((gone, remaining)) = gone {
            self.gone_here(room, principal, gone, remaining);
        }
    }

    /// Takes the guests out of a room that no longer admits them, on every node.
    pub(crate) fn evict_guests(&self, room: &str) {
        self.bus.direct(Directive::EvictGuests {
            room: room.to_owned(),
        });
    }

    /// [`Presence::evict_guests`] on this node.
    pub(crate) fn evict_guests_here(&self, room: &str) {
        for guest in self.hub.guests_in(room) {
            self.evict_here(room, guest, RemovedReason::GuestsNotAllowed);
        }
    }

    /// Empties a room that is gone (deleted, expired), on every node; everyone in it is told
    /// why.
    pub(crate) fn close_room(&self, room: &str, reason: RemovedReason) {
        self.bus.direct(Directive::CloseRoom {
            room: room.to_owned(),
            reason,
        });
    }

    /// [`Presence::close_room`] on this node.
    pub(crate) fn close_room_here(&self, room: &str, reason: RemovedReason) {
        let notice = Broadcast::new(Event::RoomRemoved {
            room: room.to_owned(),
            reason,
        });
        for handle in self.hub.close_room(room) {
            handle.deliver(&notice);
        }
    }

    /// Queues an event on every connection of one identity, on any node (unless it ignores
    /// the author).
    pub(crate) fn tell(&self, principal: Principal, event: Event) {
        self.bus.direct(Directive::Tell { principal, event });
    }

    /// Tells the accounts whose room list changed to read it again (`rooms_changed`): every
    /// account for a public room, these members for a private one.
    pub(crate) fn rooms_changed(&self, everyone: bool, members: &[i64]) {
        if everyone {
            self.bus.direct(Directive::TellAccounts {
                event: Event::RoomsChanged {},
            });
            return;
        }
        for id in members {
            self.tell(Principal::User(*id), Event::RoomsChanged {});
        }
    }

    /// Tells one account how a conversation now looks to them, on each of their connections.
    pub(crate) fn tell_conversation(&self, notice: Option<Notice>) {
        if let Some((user_id, conversation)) = notice {
            let event = Event::ConversationUpdated { conversation };
            self.tell(Principal::User(user_id), event);
        }
    }

    /// Another node gained (`Some`) or lost an identity in a room: the room here hears it if
    /// that made it join or leave.
    pub(crate) fn remote(
        &self,
        room: &str,
        node: &Arc<str>,
        principal: Principal,
        user: Option<UserView>,
    ) {
        match user {
            Some(user) => {
                let Some(present) = self.hub.join_remote(room, &user, principal, node) else {
                    return;
                };
                if present <= self.limit {
                    let event = Event::MemberJoined {
                        room: room.to_owned(),
                        user,
                    };
                    self.hub
                        .deliver(room, &Broadcast::new(event), Some(principal));
                }
            }
            None => {
                if let Some((user, remaining)) = self.hub.leave_remote(room, principal, node) {
                    self.announce_left(room, user, remaining);
                }
            }
        }
    }

    /// A node is gone: whoever only it had leaves, as this node's connections see it.
    pub(crate) fn node_gone(&self, node: &str) {
        for (room, user, remaining) in self.hub.drop_node(node) {
            self.announce_left(&room, user, remaining);
        }
    }

    /// Tells this node's connections in the room that someone left.
    fn announce_left(&self, room: &str, user: UserView, remaining: usize) {
        if remaining < self.limit {
            let event = Event::MemberLeft {
                room: room.to_owned(),
                user,
            };
            self.hub.deliver(room, &Broadcast::new(event), None);
        }
    }

    /// The `members` command: a page of a room the connection is in.
    pub fn members(&self, conn: &Connection, query: Members) -> Result<MembersPage, CoreError> {
        if !conn.rooms.contains(query.room.as_str()) {
            return Err(CoreError::NotInRoom);
        }
        let limit = query.limit.unwrap_or(MEMBER_PAGE);
        if !(1..=MAX_MEMBER_PAGE).contains(&limit) {
            let err = format!("members: limit must be 1 to {MAX_MEMBER_PAGE}");
            return Err(CoreError::InvalidPayload(err));
        }
        let page = self
            .hub
            .members(query.room.as_str(), query.after.as_ref(), limit);
        Ok(MembersPage {
            room: query.room,
            members: page.members,
            count: page.count,
            next: page.next,
        })
    }

    /// Everyone in the lobby, by name (the legacy `/api/online`).
    pub fn lobby_names(&self) -> Vec<String> {
        self.hub
            .members(LOBBY, None, usize::MAX)
            .members
            .into_iter()
            .map(|u| u.name)
            .collect()
    }

    /// Whether an identity is online under this case-folded name on this node (the chat's
    /// `names` also asks the others).
    pub fn is_online_here(&self, name_key: &str) -> bool {
        self.hub.principal_of(name_key).is_some()
    }

    /// Sends `member_count` to each large room whose count changed since `announced` (which
    /// this updates), and a last one to rooms that are no longer large.
    pub fn announce_crowds(&self, announced: &mut HashMap<String, usize>) {
        let known: HashSet<String> = announced.keys().cloned().collect();
        for (room, count) in self.hub.crowds(self.limit, &known) {
            if announced.get(&room) != Some(&count) {
                // Every node counts the whole room and tells its own connections.
                let event = Event::MemberCount {
                    room: room.clone(),
                    count,
                };
                self.hub.deliver(&room, &Broadcast::new(event), None);
            }
            if count > self.limit {
                announced.insert(room, count);
            } else {
                announced.remove(&room);
            }
        }
    }
}
