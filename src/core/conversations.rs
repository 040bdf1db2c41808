//! The core's side of private conversations, whispers and ephemeral rooms: telling the other
//! person at once, and closing expired ephemeral rooms on whoever is in them.
//!
//! Rules live in the [`Rooms`](crate::rooms::Rooms) service; messages in conversations and
//! ephemeral rooms take the same path as any room's (see `rooms.rs`).

use super::command::Whisper;
use super::connection::{Broadcast, Connection};
use super::event::{Event, RemovedReason, UserView};
use super::{Core, CoreError};
use crate::auth::Identity;
use crate::domain::Principal;
use crate::domain::{now_millis, MessageText, Millis};
use crate::rooms::{ConversationView, EphemeralDoor, EphemeralView, Notice, RoomError};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

impl Core {
    /// Opens (or accepts, or shows again) a conversation with another account.
    pub async fn open_conversation(
        &self,
        identity: &Identity,
        user: &str,
    ) -> Result<ConversationView, CoreError> {
        let (view, notice) = self.rooms.conversations().open(identity, user).await?;
        self.tell(notice);
        Ok(view)
    }

    pub async fn accept_conversation(
        &self,
        identity: &Identity,
        room: &str,
    ) -> Result<ConversationView, CoreError> {
        let (view, notice) = self.rooms.conversations().accept(identity, room).await?;
        self.tell(Some(notice));
        Ok(view)
    }

    pub async fn decline_conversation(
        &self,
        identity: &Identity,
        room: &str,
    ) -> Result<(), CoreError> {
        Ok(self.rooms.conversations().decline(identity, room).await?)
    }

    pub async fn close_conversation(
        &self,
        identity: &Identity,
        room: &str,
    ) -> Result<(), CoreError> {
        Ok(self.rooms.conversations().close(identity, room).await?)
    }

    pub async fn mark_read(
        &self,
        identity: &Identity,
        room: &str,
        seq: i64,
    ) -> Result<(), CoreError> {
        Ok(self
            .rooms
            .conversations()
            .mark_read(identity, room, seq)
            .await?)
    }

    /// Tells one account how a conversation now looks to them, on each of their connections.
    pub(super) fn tell(&self, notice: Option<Notice>) {
        if let Some((user_id, conversation)) = notice {
            let event = Broadcast::new(Event::ConversationUpdated { conversation });
            self.hub.deliver_to(Principal::User(user_id), &event);
        }
    }

    /// A private message that is never stored, between two online identities of which at
    /// least one is a guest. Both see it on every connection.
    pub(super) fn whisper(&self, conn: &Connection, whisper: Whisper) -> Result<Value, CoreError> {
        let identity = conn.identity.as_ref().ok_or(CoreError::NotIdentified)?;
        let text = MessageText::parse(&whisper.text, self.settings.max_message_chars)?;
        let target = self
            .hub
            .principal_of(&whisper.to.to_ascii_lowercase())
            .filter(|p| *p != identity.principal)
            .ok_or(CoreError::NobodyOnline)?;
        self.check_not_muted(identity)?;
        if matches!(
            (identity.principal, target),
            (Principal::User(_), Principal::User(_))
        ) {
            return Err(CoreError::ConversationRequired);
        }
        self.check_rate(&identity.session)?;
        self.moderation.audit_log().record_message(
            identity,
            &conn.info.ip.to_string(),
            "whisper",
            None,
        );
        let id = self
            .next_message
            .fetch_add(1, Ordering::Relaxed)
            .to_string();
        let ts = now_millis();
        let event = Broadcast::new(Event::Whisper {
            id: id.clone(),
            ts,
            from: UserView::from(identity),
            to: whisper.to,
            text: text.into_string(),
        });
        self.hub.deliver_to(target, &event);
        self.hub.deliver_to(identity.principal, &event);
        Ok(json!({ "id": id, "ts": ts }))
    }

    pub async fn create_ephemeral(&self, identity: &Identity) -> Result<EphemeralView, CoreError> {
        Ok(self.rooms.ephemeral().create(identity).await?)
    }

    /// Starts an ephemeral room's timer (and wakes the task that closes rooms on time).
    pub async fn activate_ephemeral(
        &self,
        identity: &Identity,
        code: &str,
    ) -> Result<EphemeralView, CoreError> {
        let view = self.rooms.ephemeral().activate(identity, code).await?;
        self.timers.notify_one();
        Ok(view)
    }

    /// What a code opens onto. Wrong codes count against the address, which is refused for a
    /// while after too many (codes are short; this keeps them from being probed).
    pub async fn ephemeral_door(&self, code: &str, ip: &str) -> Result<EphemeralDoor, CoreError> {
        self.auth.check_code_guess(ip)?;
        let door = self.rooms.ephemeral().door(code).await;
        if matches!(door, Err(RoomError::NotFound)) {
            self.auth.code_guess_failed(ip);
        }
        Ok(door?)
    }

    /// Closes the ephemeral rooms whose time is up (everyone in them is told) and returns
    /// when the next one is due.
    pub async fn expire_ephemeral(&self) -> Result<Option<Millis>, CoreError> {
        for room in self.rooms.ephemeral().expire_due(now_millis()).await? {
            let lock = self.room_lock(&room.slug);
            let _ordered = lock.lock().await;
            let notice = Broadcast::new(Event::RoomRemoved {
                room: room.slug.clone(),
                reason: RemovedReason::Expired,
            });
            for handle in self.hub.close_room(&room.slug) {
                handle.deliver(&notice);
            }
        }
        Ok(self.rooms.ephemeral().next_expiry().await?)
    }

    /// Resolves when an ephemeral room's timer was started (the expiry task re-plans).
    pub async fn timers_changed(&self) {
        self.timers.notified().await;
    }
}
