//! Stored messages changed, live: edits, deletes and reactions decided by the room service
//! ([`MessageChanges`](crate::rooms::MessageChanges)), then told to everyone in the room.
//!
//! Each change is committed before its event is published, under the room's ordering lock —
//! so a change never overtakes the `message` it changes on its way to a client. The events are
//! not numbered like messages: a client that missed one (it was offline, or it has not loaded
//! that message) reads the current state from history; a client keeps the newest `edited_at`.

use super::{FileSweep, RoomLocks, Speech};
use crate::auth::Identity;
use crate::core::command::MessageRef;
use crate::core::event::Event;
use crate::core::{Broadcast, Bus, CoreError};
use crate::domain::{Content, Millis};
use crate::moderation::{identity_key, Moderation};
use crate::rooms::{Deleted, Reaction, Rooms};
use crate::store::AuditEntry;
use serde::Serialize;
use std::net::IpAddr;
use std::sync::Arc;

/// What an edit or a delete answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Changed {
    pub room: String,
    pub seq: i64,
    /// The edit's time (edits only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<Millis>,
}

/// What a reaction change answers: the emoji's count on the message now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Reacted {
    pub room: String,
    pub seq: i64,
    pub emoji: String,
    pub count: i64,
}

/// Edits, deletes and reactions, told to the room. Cheap to share.
pub struct LiveChanges {
    rooms: Arc<Rooms>,
    speech: Speech,
    bus: Arc<dyn Bus>,
    moderation: Arc<Moderation>,
    locks: RoomLocks,
    sweep: FileSweep,
}

impl LiveChanges {
    pub fn new(
        rooms: Arc<Rooms>,
        speech: Speech,
        bus: Arc<dyn Bus>,
        moderation: Arc<Moderation>,
        locks: RoomLocks,
        sweep: FileSweep,
    ) -> Self {
        Self {
            rooms,
            speech,
            bus,
            moderation,
            locks,
            sweep,
        }
    }

    /// The caller edits their own message; an edit speaks (mutes and the rate apply).
    pub async fn edit(
        &self,
        identity: &Identity,
        message: &MessageRef,
        content: &Content,
    ) -> Result<Changed, CoreError> {
        self.speech.may_speak(identity)?;
        let _ordered = self.locks.lock(&lock_key(message)).await;
        let (room, edited) = self
            .rooms
            .changes()
            .edit(identity, message.room.as_str(), message.seq, content)
            .await?;
        let edited_at = edited.edited_at.unwrap_or_default();
        let event = Event::MessageEdited {
            room: room.slug.clone(),
            seq: edited.seq,
            text: edited.text,
            envelope: edited.envelope,
            edited_at,
            mentions: edited.mentions,
            mentions_everyone: edited.mentions_everyone,
        };
        self.bus.publish(&room.slug, Broadcast::new(event), None);
        Ok(Changed {
            room: room.slug,
            seq: edited.seq,
            edited_at: Some(edited_at),
        })
    }

    /// Deletes a message; someone else's deletion is audited and named in the event.
    pub async fn delete(
        &self,
        identity: &Identity,
        ip: IpAddr,
        message: &MessageRef,
    ) -> Result<Changed, CoreError> {
        let _ordered = self.locks.lock(&lock_key(message)).await;
        let Deleted {
            room,
            row,
            moderated,
        } = self
            .rooms
            .changes()
            .delete(identity, message.room.as_str(), message.seq)
            .await?;
        if moderated {
            let entry = AuditEntry {
                ts: row.deleted_at.unwrap_or(row.created_at),
                actor: identity.name.clone(),
                identity: Some(identity_key(identity)),
                actor_ip: Some(ip.to_string()),
                action: "delete_message".into(),
                target: Some(row.author_name.clone()),
                room: Some(room.slug.clone()),
                detail: Some(format!("message {} of {}", row.seq, row.author_name)),
            };
            if let Err(err) = self.moderation.audit_log().record_now(entry).await {
                tracing::warn!(error = %err, "could not record a message deletion in the audit log");
            }
        }
        let event = Event::MessageDeleted {
            room: room.slug.clone(),
            seq: row.seq,
            by: moderated.then(|| identity.name.clone()),
        };
        self.bus.publish(&room.slug, Broadcast::new(event), None);
        self.sweep.soon();
        Ok(Changed {
            room: room.slug,
            seq: row.seq,
            edited_at: None,
        })
    }

    /// Gives (`on`) or takes back a reaction; the room hears of it only when it changed
    /// something.
    pub async fn react(
        &self,
        identity: &Identity,
        react: &crate::core::command::React,
        on: bool,
    ) -> Result<Reacted, CoreError> {
        self.speech.may_speak(identity)?;
        let _ordered = self.locks.lock(&lock_key(&react.message)).await;
        let Reaction {
            room,
            count,
            changed,
        } = self
            .rooms
            .changes()
            .react(
                identity,
                react.message.room.as_str(),
                react.message.seq,
                &react.emoji,
                on,
            )
            .await?;
        if changed {
            let event = Event::Reaction {
                room: room.slug.clone(),
                seq: react.message.seq,
                emoji: react.emoji.clone(),
                user: identity.name.clone(),
                on,
                count,
            };
            self.bus.publish(&room.slug, Broadcast::new(event), None);
        }
        Ok(Reacted {
            room: room.slug,
            seq: react.message.seq,
            emoji: react.emoji.clone(),
            count,
        })
    }
}

/// The ordering lock of the message's room: rooms and conversations are named by their
/// lower-case address, as `post` locks them.
fn lock_key(message: &MessageRef) -> String {
    message.room.as_str().to_ascii_lowercase()
}
