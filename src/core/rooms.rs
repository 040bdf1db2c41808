//! The core's side of persistent rooms: joining with history and resume, sending with a
//! durable ack, and the live effects of room administration (evictions, notices, updates).
//!
//! Rules live in the [`Rooms`] service; this file adds presence and fan-out. Messages of one
//! room are stored and published under that room's ordering lock, and a join subscribes,
//! reads history and queues its reply under the same lock, so a client sees every message
//! exactly once and in sequence order: what its join reply holds, then live events after it.

use super::command::{History, JoinRoom, SendMessage};
use super::connection::{Broadcast, Connection};
use super::event::{Event, MessageEvent, RemovedReason, UserView};
use super::{Core, CoreError};
use crate::auth::{Identity, IdentityKind};
use crate::domain::Principal;
use crate::domain::RoomRole;
use crate::domain::{RoomCode, RoomKind};
use crate::rooms::{
    author_id, CreateInvite, CreateRoom, InviteView, PlainMessage, RoomError, RoomView,
    SettingsPatch, Visible,
};
use serde_json::{json, Value};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

/// A message stored through the REST API.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Posted {
    pub id: String,
    pub seq: i64,
    pub ts: i64,
    /// `true` when this `client_msg_id` was already stored: nothing new was posted.
    pub duplicate: bool,
}

impl MessageEvent {
    fn stored(room: &str, message: PlainMessage) -> Self {
        Self {
            room: room.to_owned(),
            id: message.id.to_string(),
            ts: message.created_at,
            author: UserView {
                name: message.author_name,
                kind: if message.author_id < 0 {
                    IdentityKind::Guest
                } else {
                    IdentityKind::User
                },
                role: message.author_role.parse().unwrap_or_default(),
                verified: false,
            },
            text: message.text,
            seq: Some(message.seq),
            client_msg_id: message.client_msg_id,
        }
    }
}

fn messages_json(room: &str, messages: Vec<PlainMessage>) -> Vec<MessageEvent> {
    messages
        .into_iter()
        .map(|m| MessageEvent::stored(room, m))
        .collect()
}

impl Core {
    /// The lock that orders a room's stores, publications and joins.
    pub(super) fn room_lock(&self, slug: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .room_locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(locks.entry(slug.to_owned()).or_default())
    }

    /// Joins a persistent room on a connection: membership, presence, then history (the latest
    /// page, or what came after `since` when resuming). Replies itself, under the room lock.
    pub(super) async fn join_room(
        &self,
        conn: &mut Connection,
        join: JoinRoom,
        ack: Option<u64>,
    ) -> Result<(), CoreError> {
        let identity = conn.identity.clone().ok_or(CoreError::NotIdentified)?;
        // Locked before the join itself: an ephemeral room admits devices one at a time.
        let lock = self.room_lock(&room_key(&join.room));
        let _ordered = lock.lock().await;
        let guessing_code = RoomCode::from_room_name(&join.room).is_some();
        let ip = conn.info.ip.to_string();
        if guessing_code {
            self.auth.check_code_guess(&ip)?;
        }
        let joined = self
            .rooms
            .membership()
            .join(&identity, &join.room, join.device.as_deref())
            .await;
        if guessing_code && matches!(joined, Err(RoomError::NotFound)) {
            self.auth.code_guess_failed(&ip);
        }
        let Visible { room, role } = joined?;
        let user = UserView::from(&identity);
        let (first, present) = self
            .hub
            .join(&room.slug, &user, identity.principal, &conn.handle);
        conn.rooms.insert(room.slug.clone());
        if first {
            self.announce_joined(&room.slug, user, present, identity.principal);
        }
        let messages = match join.since {
            Some(since) => self.rooms.history().after(&room, since).await?,
            None => self.rooms.history().before(&room, None, None).await?,
        };
        let page_full = messages.len() >= self.rooms.settings().history_page;
        let messages = self.without_ignored(identity.principal, messages);
        let page = self.first_members(&room.slug);
        let value = json!({
            "room": RoomView::of(&room, role),
            "members": page.members,
            "member_count": page.count,
            "members_next": page.next,
            "messages": messages_json(&room.slug, messages),
            "more": page_full,
        });
        self.reply(conn, ack, Ok(value));
        Ok(())
    }

    /// Stores a message and publishes it; the ack (the caller's reply) follows the store.
    pub(super) async fn send_to_room(
        &self,
        identity: &Identity,
        ip: &str,
        send: SendMessage,
    ) -> Result<Value, CoreError> {
        let posted = self
            .post(
                identity,
                ip,
                &send.room,
                &send.text,
                send.client_msg_id.as_deref(),
            )
            .await?;
        Ok(json!(posted))
    }

    /// The one path a room message takes, from the real-time gateway and from REST alike.
    pub async fn post(
        &self,
        identity: &Identity,
        ip: &str,
        slug: &str,
        text: &str,
        client_msg_id: Option<&str>,
    ) -> Result<Posted, CoreError> {
        if client_msg_id.is_some_and(|id| id.is_empty() || id.len() > 64) {
            return Err(CoreError::InvalidPayload(
                "client_msg_id: 1 to 64 characters".into(),
            ));
        }
        let Visible { room, role } = self.rooms.visible(identity, slug).await?;
        let role = role.ok_or(CoreError::NotInRoom)?;
        self.check_not_muted(identity)?;
        self.check_rate(&identity.session)?;
        let lock = self.room_lock(&room.slug);
        let _ordered = lock.lock().await;
        self.check_slow_mode(room.id, author_id(identity), room.slow_mode_secs, role)?;
        let (message, new) = self
            .rooms
            .history()
            .post(identity, &room, text, client_msg_id)
            .await?;
        let posted = Posted {
            id: message.id.to_string(),
            seq: message.seq,
            ts: message.created_at,
            duplicate: !new,
        };
        if new {
            self.moderation
                .audit_log()
                .record_message(identity, ip, &room.slug, Some(message.seq));
            let (seq, author) = (message.seq, message.author_id);
            let event = Event::Message(MessageEvent::stored(&room.slug, message));
            self.bus.publish(&room.slug, Broadcast::new(event), None);
            if room.kind() == RoomKind::Pm {
                let notice = self
                    .rooms
                    .conversations()
                    .after_message(&room, seq, author)
                    .await?;
                self.tell(notice);
            }
        }
        Ok(posted)
    }

    fn check_slow_mode(
        &self,
        room_id: i64,
        user_id: i64,
        secs: i64,
        role: RoomRole,
    ) -> Result<(), CoreError> {
        let Ok(secs) = u64::try_from(secs) else {
            return Ok(());
        };
        if secs == 0 || role.moderates() {
            return Ok(());
        }
        let mut last = self
            .slow_mode
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if let Some(previous) = last.get(&(room_id, user_id)) {
            let elapsed = now.duration_since(*previous);
            if elapsed < Duration::from_secs(secs) {
                let wait = secs - elapsed.as_secs();
                return Err(RoomError::SlowMode(wait).into());
            }
        }
        last.insert((room_id, user_id), now);
        Ok(())
    }

    /// A page of history: before a sequence number (scrolling back) or after one (catching up).
    pub async fn history(&self, identity: &Identity, query: History) -> Result<Value, CoreError> {
        let Visible { room, .. } = self.rooms.visible(identity, &query.room).await?;
        let messages = match (query.before, query.after) {
            (Some(_), Some(_)) => {
                return Err(CoreError::InvalidPayload(
                    "history: before or after, not both".into(),
                ))
            }
            (None, Some(after)) => self.rooms.history().after(&room, after).await?,
            (before, None) => {
                self.rooms
                    .history()
                    .before(&room, before, query.limit)
                    .await?
            }
        };
        let messages = self.without_ignored(identity.principal, messages);
        Ok(json!({ "room": room.slug, "messages": messages_json(&room.slug, messages) }))
    }

    pub async fn create_room(
        &self,
        identity: &Identity,
        new: CreateRoom,
    ) -> Result<RoomView, CoreError> {
        Ok(self.rooms.create(identity, new).await?)
    }

    /// Removes a member: their connections leave the room at once and are told why.
    pub async fn remove_member(
        &self,
        identity: &Identity,
        slug: &str,
        name: &str,
    ) -> Result<(), CoreError> {
        let (room, user_id) = self.rooms.membership().remove(identity, slug, name).await?;
        self.evict(&room.slug, Principal::User(user_id), RemovedReason::Removed);
        Ok(())
    }

    /// Bans a user from a room: as a removal, and they cannot come back.
    pub async fn ban_member(
        &self,
        identity: &Identity,
        slug: &str,
        name: &str,
    ) -> Result<(), CoreError> {
        let (room, user_id) = self.rooms.membership().ban(identity, slug, name).await?;
        self.evict(&room.slug, Principal::User(user_id), RemovedReason::Banned);
        Ok(())
    }

    /// Gives up membership of a room on every connection of the caller.
    pub async fn leave_room(&self, identity: &Identity, slug: &str) -> Result<(), CoreError> {
        let room = self.rooms.membership().leave(identity, slug).await?;
        self.evict(&room.slug, identity.principal, RemovedReason::Left);
        Ok(())
    }

    pub async fn set_member_role(
        &self,
        identity: &Identity,
        slug: &str,
        name: &str,
        role: RoomRole,
    ) -> Result<(), CoreError> {
        self.rooms
            .membership()
            .set_role(identity, slug, name, role)
            .await?;
        Ok(())
    }

    pub async fn clear_history(&self, identity: &Identity, slug: &str) -> Result<(), CoreError> {
        let room = self.rooms.history().clear(identity, slug).await?;
        let event = Event::HistoryCleared {
            room: room.slug.clone(),
        };
        self.bus.publish(&room.slug, Broadcast::new(event), None);
        Ok(())
    }

    pub async fn update_room(
        &self,
        identity: &Identity,
        slug: &str,
        patch: SettingsPatch,
    ) -> Result<RoomView, CoreError> {
        let view = self.rooms.update_settings(identity, slug, patch).await?;
        let public = RoomView {
            role: None,
            ..view.clone()
        };
        let event = Event::RoomUpdated { room: public };
        self.bus.publish(&view.slug, Broadcast::new(event), None);
        Ok(view)
    }

    /// Deletes a room for good; everyone in it is told and leaves.
    pub async fn delete_room(&self, identity: &Identity, slug: &str) -> Result<(), CoreError> {
        let room = self.rooms.delete(identity, slug).await?;
        for handle in self.hub.close_room(&room.slug) {
            handle.deliver(&Broadcast::new(Event::RoomRemoved {
                room: room.slug.clone(),
                reason: RemovedReason::Deleted,
            }));
        }
        Ok(())
    }

    pub async fn create_invite(
        &self,
        identity: &Identity,
        slug: &str,
        new: CreateInvite,
    ) -> Result<(String, InviteView), CoreError> {
        Ok(self
            .rooms
            .access()
            .create_invite(identity, slug, new)
            .await?)
    }

    pub async fn redeem_invite(
        &self,
        identity: &Identity,
        token: &str,
    ) -> Result<RoomView, CoreError> {
        let room = self.rooms.access().redeem_invite(identity, token).await?;
        Ok(RoomView::of(&room, Some(RoomRole::Member)))
    }

    /// Asks to join a private room; its online owner and admins are told at once.
    pub async fn request_access(&self, identity: &Identity, slug: &str) -> Result<(), CoreError> {
        let Some(room) = self.rooms.access().request_access(identity, slug).await? else {
            return Ok(());
        };
        let event = Broadcast::new(Event::AccessRequested {
            room: room.slug.clone(),
            user: identity.name.clone(),
        });
        for moderator in self.rooms.membership().moderator_ids(room.id).await? {
            self.hub.deliver_to(Principal::User(moderator), &event);
        }
        Ok(())
    }

    /// Approves or denies a request; the requester is told at once.
    pub async fn decide_request(
        &self,
        identity: &Identity,
        slug: &str,
        requester: &str,
        approve: bool,
    ) -> Result<(), CoreError> {
        let (room, user_id) = self
            .rooms
            .access()
            .decide(identity, slug, requester, approve)
            .await?;
        let event = Broadcast::new(Event::AccessDecided {
            room: room.slug,
            approved: approve,
        });
        self.hub.deliver_to(Principal::User(user_id), &event);
        Ok(())
    }

    /// Takes an identity out of a room on this node and tells it why; the others see it leave.
    fn evict(&self, slug: &str, principal: Principal, reason: RemovedReason) {
        let (handles, user) = self.hub.evict(slug, principal);
        let notice = Broadcast::new(Event::RoomRemoved {
            room: slug.to_owned(),
            reason,
        });
        for handle in handles {
            handle.deliver(&notice);
        }
        if let Some((user, remaining)) = user {
            self.announce_left(slug, user, remaining);
        }
    }

    /// Whether a room name is a stored room of any kind (anything but the lobby).
    pub(super) fn is_persistent(room: &str) -> bool {
        room != crate::domain::LOBBY
    }

    /// The members-only view for REST callers: checks visibility like every other path.
    pub async fn room(&self, identity: &Identity, slug: &str) -> Result<RoomView, CoreError> {
        let Visible { room, role } = self.rooms.visible(identity, slug).await?;
        Ok(RoomView::of(&room, role))
    }
}

/// The key of a room's ordering lock: its stored name, whichever spelling the client used.
fn room_key(name: &str) -> String {
    match RoomCode::from_room_name(name) {
        Some(code) => code.room_name(),
        None => name.to_ascii_lowercase(),
    }
}
