//! Presence in rooms of every size. A room of ordinary size announces each identity that joins
//! or leaves. Past `presence_limit` members one join would cost a delivery to every member, so
//! such a room gets only a `member_count` every few seconds while the number changes. Member
//! lists are read a page at a time: the join ack carries the first page, the `members` command
//! the rest.

use super::command::Members;
use super::presence::{MemberCursor, MemberPage};
use super::{Broadcast, Connection, Core, CoreError, Event, UserView};
use crate::domain::Principal;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};

/// Members in a join ack: about a screenful (every connection's write buffer keeps the size
/// of the largest frame it wrote, so the ack stays small).
const FIRST_PAGE: usize = 20;
/// Members in a `members` page unless the client asks for another size.
const MEMBER_PAGE: usize = 100;
/// The largest `members` page a client may ask for.
const MAX_MEMBER_PAGE: usize = 500;

impl Core {
    /// Tells a room that `user` came in; `present` counts the room with them.
    pub(super) fn announce_joined(
        &self,
        room: &str,
        user: UserView,
        present: usize,
        except: Principal,
    ) {
        if present <= self.settings.presence_limit {
            let event = Event::MemberJoined {
                room: room.to_owned(),
                user,
            };
            self.bus.publish(room, Broadcast::new(event), Some(except));
        }
    }

    /// Tells a room that `user` left; `remaining` counts the room without them.
    pub(super) fn announce_left(&self, room: &str, user: UserView, remaining: usize) {
        if remaining < self.settings.presence_limit {
            let event = Event::MemberLeft {
                room: room.to_owned(),
                user,
            };
            self.bus.publish(room, Broadcast::new(event), None);
        }
    }

    /// The member-list part of a join ack: the first page and how many are present.
    pub(super) fn first_members(&self, room: &str) -> MemberPage {
        self.hub.members(room, None, FIRST_PAGE)
    }

    /// The `members` command: a page of a room the connection is in.
    pub(super) fn members(&self, conn: &Connection, query: Members) -> Result<Value, CoreError> {
        if !conn.rooms.contains(&query.room) {
            return Err(CoreError::NotInRoom);
        }
        let limit = query.limit.unwrap_or(MEMBER_PAGE);
        if !(1..=MAX_MEMBER_PAGE).contains(&limit) {
            let err = format!("members: limit must be 1 to {MAX_MEMBER_PAGE}");
            return Err(CoreError::InvalidPayload(err));
        }
        let after = match query.after.as_deref() {
            Some(text) => Some(MemberCursor::parse(text).ok_or_else(|| {
                CoreError::InvalidPayload("members: after is not a cursor from a page".into())
            })?),
            None => None,
        };
        let page = self.hub.members(&query.room, after.as_ref(), limit);
        Ok(
            json!({ "room": query.room, "members": page.members, "count": page.count, "next": page.next }),
        )
    }

    /// Sends `member_count` to each large room whose count changed since `announced` (which
    /// this updates), and a last one to rooms that are no longer large.
    pub fn announce_crowds(&self, announced: &mut HashMap<String, usize>) {
        let known: HashSet<String> = announced.keys().cloned().collect();
        let limit = self.settings.presence_limit;
        for (room, count) in self.hub.crowds(limit, &known) {
            if announced.get(&room) != Some(&count) {
                let event = Event::MemberCount {
                    room: room.clone(),
                    count,
                };
                self.bus.publish(&room, Broadcast::new(event), None);
            }
            if count > limit {
                announced.insert(room, count);
            } else {
                announced.remove(&room);
            }
        }
    }
}
