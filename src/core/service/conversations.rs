//! Private conversations, whispers and ephemeral 1-on-1 rooms, live: the other person hears
//! at once, and an ephemeral room whose time is up closes on whoever is in it.
//!
//! Rules live in the [`Rooms`] service; messages in conversations and ephemeral rooms take the
//! same path as any stored room's (see `rooms.rs`).

use super::{FileSweep, Presence, RoomLocks, Speech, Utterance};
use crate::auth::{Auth, Identity};
use crate::clock::Clock;
use crate::core::command::Whisper;
use crate::core::event::{Event, RemovedReason, UserView};
use crate::core::{Connection, CoreError, OnlineRegistry};
use crate::domain::Principal;
use crate::domain::{Millis, Name, RoomName};
use crate::metrics::MessageKind;
use crate::rooms::{ConversationView, EphemeralDoor, EphemeralView, RoomError, Rooms};
use std::net::IpAddr;
use std::sync::Arc;
use tokio::sync::Notify;

pub struct Conversations {
    rooms: Arc<Rooms>,
    auth: Arc<Auth>,
    names: OnlineRegistry,
    presence: Presence,
    speech: Speech,
    locks: RoomLocks,
    clock: Clock,
    sweep: FileSweep,
    /// Woken when an ephemeral room's timer starts.
    timers: Notify,
}

impl Conversations {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        rooms: Arc<Rooms>,
        auth: Arc<Auth>,
        names: OnlineRegistry,
        presence: Presence,
        speech: Speech,
        locks: RoomLocks,
        clock: Clock,
        sweep: FileSweep,
    ) -> Self {
        Self {
            rooms,
            auth,
            names,
            presence,
            speech,
            locks,
            clock,
            sweep,
            timers: Notify::new(),
        }
    }

    /// The caller's conversations.
    pub async fn list(&self, identity: &Identity) -> Result<Vec<ConversationView>, CoreError> {
        Ok(self.rooms.conversations().list(identity).await?)
    }

    /// Opens (or accepts, or shows again) a conversation with another account.
    pub async fn open(
        &self,
        identity: &Identity,
        user: &Name,
    ) -> Result<ConversationView, CoreError> {
        let (view, notice) = self
            .rooms
            .conversations()
            .open(identity, user.as_str())
            .await?;
        self.presence.tell_conversation(notice);
        Ok(view)
    }

    pub async fn accept(
        &self,
        identity: &Identity,
        room: &RoomName,
    ) -> Result<ConversationView, CoreError> {
        let (view, notice) = self
            .rooms
            .conversations()
            .accept(identity, room.as_str())
            .await?;
        self.presence.tell_conversation(Some(notice));
        Ok(view)
    }

    pub async fn decline(&self, identity: &Identity, room: &RoomName) -> Result<(), CoreError> {
        Ok(self
            .rooms
            .conversations()
            .decline(identity, room.as_str())
            .await?)
    }

    pub async fn close(&self, identity: &Identity, room: &RoomName) -> Result<(), CoreError> {
        Ok(self
            .rooms
            .conversations()
            .close(identity, room.as_str())
            .await?)
    }

    pub async fn mark_read(
        &self,
        identity: &Identity,
        room: &RoomName,
        seq: i64,
    ) -> Result<(), CoreError> {
        Ok(self
            .rooms
            .conversations()
            .mark_read(identity, room.as_str(), seq)
            .await?)
    }

    /// A private message that is never stored, between two online identities of which at
    /// least one is a guest. Both see it on every connection.
    pub async fn whisper(
        &self,
        conn: &Connection,
        whisper: Whisper,
    ) -> Result<Utterance, CoreError> {
        let identity = conn.identified()?;
        let target = self
            .names
            .holder(&whisper.to.to_ascii_lowercase())
            .await
            .filter(|p| *p != identity.principal)
            .ok_or(CoreError::NobodyOnline)?;
        self.speech.not_muted(identity)?;
        if matches!(
            (identity.principal, target),
            (Principal::User(_), Principal::User(_))
        ) {
            return Err(CoreError::ConversationRequired);
        }
        if let Principal::User(peer) = target {
            self.rooms
                .conversations()
                .accepts_from(identity, peer, &whisper.to)
                .await?;
        }
        let said = self
            .speech
            .utter(identity, conn.ip(), "whisper", MessageKind::Whisper)?;
        let event = Event::Whisper {
            id: said.id.clone(),
            ts: said.ts,
            from: UserView::from(identity),
            to: whisper.to,
            text: whisper.text.into_string(),
        };
        self.presence.tell(target, event.clone());
        self.presence.tell(identity.principal, event);
        Ok(said)
    }

    /// A new ephemeral room hosted by the caller. A guest's counts against its address's
    /// registration budget (checked after the room service agrees that guests may host).
    pub async fn create_ephemeral(
        &self,
        identity: &Identity,
        ip: IpAddr,
    ) -> Result<EphemeralView, CoreError> {
        let ephemeral = self.rooms.ephemeral();
        ephemeral.may_host(identity)?;
        if let Principal::Guest(_) = identity.principal {
            self.auth.guest_hosting(&ip.to_string()).await?;
        }
        Ok(ephemeral.create(identity).await?)
    }

    /// The ephemeral rooms the caller hosts.
    pub async fn hosted_ephemeral(
        &self,
        identity: &Identity,
    ) -> Result<Vec<EphemeralView>, CoreError> {
        Ok(self.rooms.ephemeral().hosted(identity).await?)
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
    pub async fn door(&self, code: &str, ip: IpAddr) -> Result<EphemeralDoor, CoreError> {
        let ip = ip.to_string();
        self.auth.check_code_guess(&ip).await?;
        let door = self.rooms.ephemeral().door(code).await;
        if matches!(door, Err(RoomError::NotFound)) {
            self.auth.code_guess_failed(&ip).await;
        }
        Ok(door?)
    }

    /// Closes the ephemeral rooms whose time is up (everyone in them is told) and returns
    /// when the next one is due.
    pub async fn expire_due(&self) -> Result<Option<Millis>, CoreError> {
        for room in self
            .rooms
            .ephemeral()
            .expire_due(self.clock.now_millis())
            .await?
        {
            let _ordered = self.locks.lock(&room.slug).await;
            self.presence.close_room(&room.slug, RemovedReason::Expired);
            self.sweep.soon();
        }
        Ok(self.rooms.ephemeral().next_expiry().await?)
    }

    /// Resolves when an ephemeral room's timer was started (the expiry task re-plans).
    pub async fn timers_changed(&self) {
        self.timers.notified().await;
    }
}
