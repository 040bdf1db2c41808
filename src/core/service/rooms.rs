//! Stored rooms, live: joining with history (and resuming), posting with a durable ack,
//! history pages, and the live side of a room's settings (updates, cleared history,
//! deletion). The rules (who may see, join, post, change what) are the
//! [`Rooms`](crate::rooms::Rooms) service's; this adds presence, ordering and fan-out.

use super::companion::CompanionHook;
use super::{FileSweep, Ignores, Ordered, Presence, RoomLocks, Speech};
use crate::auth::{Auth, Identity};
use crate::clock::Clock;
use crate::core::command::{History, JoinRoom, SendMessage};
use crate::core::event::{Event, MessageEvent, RemovedReason, UserView};
use crate::core::{Broadcast, Bus, Connection, CoreError, Entry};
use crate::domain::{ClientMsgId, MessageText, Principal, RoomCode, RoomKind, RoomRole};
use crate::metrics::MessageKind;
use crate::rooms::{
    author_id, CreateRoom, Draft, PlainMessage, Room, RoomError, RoomListing, RoomView, Rooms,
    SettingsPatch, Visible,
};
use serde::Serialize;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// How often a join tries to enter a room at the end of its history before it just enters.
const ENTRY_ATTEMPTS: usize = 4;

/// A message stored (through a command or the REST API).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Posted {
    pub id: String,
    pub seq: i64,
    pub ts: i64,
    /// `true` when this `client_msg_id` was already stored: nothing new was posted.
    pub duplicate: bool,
}

/// What a message command answers: a live message's id and time, or a stored one's place.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Said {
    Live(super::Utterance),
    Stored(Posted),
}

/// The reply to joining a stored room.
#[derive(Debug, Serialize)]
pub struct RoomJoined {
    pub room: RoomView,
    pub members: Vec<UserView>,
    pub member_count: usize,
    pub members_next: Option<String>,
    pub messages: Vec<MessageEvent>,
    /// Whether older messages exist than the page holds.
    pub more: bool,
    /// The caller's read pointer as this join found it (a "new since you were here" divider
    /// goes after it); absent for whoever has none (a guest in an ephemeral room).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_read_seq: Option<i64>,
}

/// The reply to `join`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Joined {
    Lobby(super::LobbyJoined),
    /// A stored room's join answers itself, in order with the room's messages (see
    /// [`RoomLocks`]); nothing is left to send.
    InOrder,
}

/// A page of history.
#[derive(Debug, Serialize)]
pub struct HistoryPage {
    pub room: String,
    pub messages: Vec<MessageEvent>,
}

pub struct LiveRooms {
    rooms: Arc<Rooms>,
    auth: Arc<Auth>,
    presence: Presence,
    bus: Arc<dyn Bus>,
    speech: Speech,
    ignores: Ignores,
    locks: RoomLocks,
    clock: Clock,
    sweep: FileSweep,
    /// When each (room, author) last posted, for slow mode.
    slow_mode: Mutex<HashMap<(i64, i64), Instant>>,
    /// The AI companion, when configured: hears messages in conversations with the bot.
    companion: OnceLock<CompanionHook>,
}

impl LiveRooms {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        rooms: Arc<Rooms>,
        auth: Arc<Auth>,
        presence: Presence,
        bus: Arc<dyn Bus>,
        speech: Speech,
        ignores: Ignores,
        locks: RoomLocks,
        clock: Clock,
        sweep: FileSweep,
    ) -> Self {
        Self {
            rooms,
            auth,
            presence,
            bus,
            speech,
            ignores,
            locks,
            clock,
            sweep,
            slow_mode: Mutex::default(),
            companion: OnceLock::new(),
        }
    }

    /// Lets the companion hear messages to the bot (once, at start-up).
    pub(crate) fn attach_companion(&self, hook: CompanionHook) {
        if self.companion.set(hook).is_err() {
            tracing::warn!("the companion was attached twice; keeping the first");
        }
    }

    /// Stored messages as delivered, the bot's marked as such.
    fn events(&self, room: &str, messages: Vec<PlainMessage>) -> Vec<MessageEvent> {
        events(
            room,
            messages,
            self.companion.get().map(CompanionHook::bot_id),
        )
    }

    /// Joins a stored room on a connection: membership, presence, then history (the latest
    /// page, or what came after `since` when resuming). Answers itself, under the room lock.
    pub async fn join(&self, conn: &mut Connection, join: JoinRoom) -> Result<Joined, CoreError> {
        let identity = conn.identified()?.clone();
        // Locked before the join itself: an ephemeral room admits devices one at a time.
        let _ordered = self.locks.lock(join.room.as_str()).await;
        let guessing_code = RoomCode::from_room_name(join.room.as_str()).is_some();
        let ip = conn.ip().to_string();
        if guessing_code {
            self.auth.check_code_guess(&ip).await?;
        }
        let joined = self
            .rooms
            .membership()
            .join(&identity, join.room.as_str(), join.device.as_deref())
            .await;
        if guessing_code && matches!(joined, Err(RoomError::NotFound)) {
            self.auth.code_guess_failed(&ip).await;
        }
        let Visible { room, role } = joined?;
        self.admit_guest(&identity, role, &ip).await?;
        let last_read_seq = self.rooms.history().read_pointer(&identity, &room).await?;
        // This node hears the room before its history is read, and the connection enters
        // exactly where that history ends (see `Bus::enter_at`).
        self.bus.watch(&room.slug).await;
        let mut messages = match join.since {
            Some(since) => self.rooms.history().after(&room, since).await?,
            None => self.rooms.history().before(&room, None, None).await?,
        };
        let more = messages.len() >= self.rooms.settings().history_page;
        let mut page = None;
        for _ in 0..ENTRY_ATTEMPTS {
            let last = messages
                .last()
                .map_or_else(|| join.since.unwrap_or(room.last_seq), |m| m.seq);
            let mut entered = Ok(());
            let mut enter = || {
                entered = self
                    .presence
                    .enter(conn, &room.slug)
                    .map(|p| page = Some(p))
            };
            match self.bus.enter_at(&room.slug, last, &mut enter) {
                Entry::Entered => {
                    entered?;
                    break;
                }
                Entry::Behind(delivered) => {
                    let newer = self
                        .rooms
                        .history()
                        .between(&room, last, Some(delivered + 1), None)
                        .await?;
                    messages.extend(newer);
                }
                Entry::Ahead => self.bus.catch_up(&room.slug, last).await,
            }
        }
        let page = match page {
            Some(page) => page,
            // Still racing after a few rounds (a very busy room): enter; the client resumes
            // by `since` if anything slipped between.
            None => self.presence.enter(conn, &room.slug)?,
        };
        let messages = self.ignores.without_ignored(identity.principal, messages);
        conn.answer(RoomJoined {
            room: RoomView::of(&room, role),
            members: page.members,
            member_count: page.count,
            members_next: page.next,
            messages: self.events(&room.slug, messages),
            more,
            last_read_seq,
        });
        Ok(Joined::InOrder)
    }

    /// The one path a stored message takes, from the real-time gateway and from REST alike:
    /// stored (durably) before it is published and acknowledged.
    pub async fn post(
        &self,
        identity: &Identity,
        ip: IpAddr,
        send: SendMessage,
    ) -> Result<Posted, CoreError> {
        let Visible { room, role } = self.rooms.visible(identity, send.room.as_str()).await?;
        let role = role.ok_or(CoreError::NotInRoom)?;
        self.speech.may_speak(identity)?;
        self.admit_guest(identity, Some(role), &ip.to_string())
            .await?;
        let ordered = self.locks.lock_to_post(&room.slug).await;
        self.check_slow_mode(room.id, author_id(identity), room.slow_mode_secs, role)?;
        self.store_and_publish(ordered, identity, ip, &room, Some(role), &send)
            .await
    }

    /// A guest in a persistent room (not an ephemeral one, whose host let it in): its first
    /// step into rooms costs its address a registration (`Auth::guest_enters_rooms`).
    async fn admit_guest(
        &self,
        identity: &Identity,
        role: Option<RoomRole>,
        ip: &str,
    ) -> Result<(), CoreError> {
        match (identity.principal, role) {
            (Principal::Guest(id), Some(RoomRole::Guest)) => {
                Ok(self.auth.guest_enters_rooms(id, ip).await?)
            }
            _ => Ok(()),
        }
    }

    /// The AI companion's reply to a mention in a room (`ai_mentions` on): the bot is not a
    /// member, so only this path lets it write there, and only while the room still wants it.
    pub(crate) async fn post_as_companion(
        &self,
        bot: &Identity,
        send: SendMessage,
    ) -> Result<Posted, CoreError> {
        let room = self
            .rooms
            .find(send.room.as_str())
            .await?
            .filter(|room| room.kind() == RoomKind::Room)
            .ok_or(RoomError::NotFound)?;
        if !room.ai_mentions {
            return Err(RoomError::Forbidden.into());
        }
        let ordered = self.locks.lock_to_post(&room.slug).await;
        let local = IpAddr::V4(Ipv4Addr::LOCALHOST);
        self.store_and_publish(ordered, bot, local, &room, None, &send)
            .await
    }

    /// Something the room's connections see and nobody stores (the companion typing in a room,
    /// the pieces of its reply there).
    pub(crate) fn announce(&self, room: &str, event: Event) {
        self.bus.publish(room, Broadcast::new(event), None);
    }

    /// Stores a message the caller may post (under the room's ordering lock) and publishes it.
    async fn store_and_publish(
        &self,
        ordered: Ordered,
        identity: &Identity,
        ip: IpAddr,
        room: &Room,
        role: Option<RoomRole>,
        send: &SendMessage,
    ) -> Result<Posted, CoreError> {
        let text = send.text.as_ref().map(MessageText::as_str);
        let attachments: Vec<String> = send.attachments.iter().map(ToString::to_string).collect();
        let draft = Draft {
            text,
            client_msg_id: send.client_msg_id.as_ref().map(ClientMsgId::as_str),
            attachments: &attachments,
            reply_to: send.reply_to,
            role,
            envelope: send.envelope.as_ref(),
        };
        let history = self.rooms.history();
        let pending = history.submit(identity, room, draft).await?;
        // Numbered now: the room's next author may submit while this one commits, and this
        // message is published in its turn, after the one submitted before it.
        let mut turn = ordered.hand_over();
        let stored = pending.stored(history, room).await;
        turn.wait().await;
        let (message, new) = stored?;
        let posted = Posted {
            id: message.id.to_string(),
            seq: message.seq,
            ts: message.created_at,
            duplicate: !new,
        };
        if new {
            let kind = MessageKind::from(room.kind());
            self.speech
                .record(identity, ip, &room.slug, Some(message.seq), kind);
            let (seq, author) = (message.seq, message.author_id);
            let hook = self.companion.get();
            let event = stored_event(&room.slug, message, hook.map(CompanionHook::bot_id));
            self.bus.publish(
                &room.slug,
                Broadcast::new(Event::Message(Box::new(event))),
                None,
            );
            if room.kind() == RoomKind::Pm {
                let notice = self
                    .rooms
                    .conversations()
                    .after_message(room, seq, author)
                    .await?;
                self.presence.tell_conversation(notice);
            }
            drop(turn);
            // The companion cannot read an end-to-end room.
            if let (Some(hook), false) = (hook, room.e2e) {
                hook.heard(identity, room, text);
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
        let now = self.clock.instant();
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

    /// Forgets slow-mode marks older than a day (upkeep).
    pub(crate) fn forget_slow_mode(&self) {
        let now = self.clock.instant();
        self.slow_mode
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, last| now.duration_since(*last) < Duration::from_secs(86_400));
    }

    /// A page of history: before a sequence number (scrolling back), after one (catching up),
    /// or between two (filling a gap).
    pub async fn history(
        &self,
        identity: &Identity,
        query: History,
    ) -> Result<HistoryPage, CoreError> {
        let Visible { room, .. } = self.rooms.visible(identity, query.room.as_str()).await?;
        let messages = match (query.before, query.after) {
            (before, Some(after)) => {
                self.rooms
                    .history()
                    .between(&room, after, before, query.limit)
                    .await?
            }
            (before, None) => {
                self.rooms
                    .history()
                    .before(&room, before, query.limit)
                    .await?
            }
        };
        let messages = self.ignores.without_ignored(identity.principal, messages);
        Ok(HistoryPage {
            messages: self.events(&room.slug, messages),
            room: room.slug,
        })
    }

    /// The rooms the caller belongs to or may join.
    pub async fn list(&self, identity: &Identity) -> Result<Vec<RoomListing>, CoreError> {
        Ok(self.rooms.list(identity).await?)
    }

    /// Creates a room; every account's room list hears of a public one, the owner's other
    /// pages of a private one.
    pub async fn create(
        &self,
        identity: &Identity,
        new: CreateRoom,
    ) -> Result<RoomView, CoreError> {
        let view = self.rooms.create(identity, new).await?;
        let owner = crate::rooms::account_id(identity)?;
        self.presence.rooms_changed(!view.private, &[owner]);
        Ok(view)
    }

    /// The room as the caller may see it.
    pub async fn room(&self, identity: &Identity, slug: &str) -> Result<RoomView, CoreError> {
        let Visible { room, role } = self.rooms.visible(identity, slug).await?;
        Ok(RoomView::of(&room, role))
    }

    /// Changes a room's settings; everyone in it sees the new ones.
    pub async fn update(
        &self,
        identity: &Identity,
        slug: &str,
        patch: SettingsPatch,
    ) -> Result<RoomView, CoreError> {
        let Visible { room: before, .. } = self.rooms.visible(identity, slug).await?;
        let view = self.rooms.update_settings(identity, slug, patch).await?;
        let listed_differently = before.name != view.name
            || before.topic != view.topic
            || before.private != view.private;
        if listed_differently {
            let everyone = !before.private || !view.private;
            let members = if everyone {
                Vec::new()
            } else {
                self.rooms.member_ids(before.id).await?
            };
            self.presence.rooms_changed(everyone, &members);
        }
        let public = RoomView {
            role: None,
            ..view.clone()
        };
        let event = Event::RoomUpdated { room: public };
        self.bus.publish(&view.slug, Broadcast::new(event), None);
        // Guests may be in a public room that admits them; once it does not (or is private
        // now), they go.
        if (before.allow_guests && !view.allow_guests) || (!before.private && view.private) {
            self.presence.evict_guests(&view.slug);
        }
        Ok(view)
    }

    pub async fn clear_history(&self, identity: &Identity, slug: &str) -> Result<(), CoreError> {
        let room = self.rooms.history().clear(identity, slug).await?;
        let event = Event::HistoryCleared {
            room: room.slug.clone(),
        };
        self.bus.publish(&room.slug, Broadcast::new(event), None);
        self.sweep.soon();
        Ok(())
    }

    /// Deletes a room for good; everyone in it is told and leaves.
    pub async fn delete(&self, identity: &Identity, slug: &str) -> Result<(), CoreError> {
        let Visible { room: doomed, .. } = self.rooms.visible(identity, slug).await?;
        let members = if doomed.private {
            self.rooms.member_ids(doomed.id).await?
        } else {
            Vec::new()
        };
        let room = self.rooms.delete(identity, slug).await?;
        self.presence.rooms_changed(!room.private, &members);
        self.presence.close_room(&room.slug, RemovedReason::Deleted);
        self.sweep.soon();
        Ok(())
    }
}

/// Stored messages as the protocol delivers them; `bot` is the companion's account, if any.
pub(crate) fn events(
    room: &str,
    messages: Vec<PlainMessage>,
    bot: Option<i64>,
) -> Vec<MessageEvent> {
    messages
        .into_iter()
        .map(|m| stored_event(room, m, bot))
        .collect()
}

/// A stored message as delivered; `bot` is the companion's account, if there is one.
fn stored_event(room: &str, message: PlainMessage, bot: Option<i64>) -> MessageEvent {
    MessageEvent {
        room: room.to_owned(),
        id: message.id.to_string(),
        ts: message.created_at,
        author: UserView {
            name: message.author_name,
            kind: if message.author_id < 0 {
                crate::auth::IdentityKind::Guest
            } else {
                crate::auth::IdentityKind::User
            },
            role: message.author_role.parse().unwrap_or_default(),
            verified: false,
            bot: bot == Some(message.author_id),
        },
        text: message.text,
        envelope: message.envelope,
        seq: Some(message.seq),
        client_msg_id: message.client_msg_id,
        undecryptable: message.undecryptable,
        attachments: message.attachments,
        edited_at: message.edited_at,
        deleted: message.deleted,
        reply_to: message.reply_to,
        reactions: message.reactions,
        mentions: message.mentions,
        mentions_everyone: message.mentions_everyone,
    }
}
