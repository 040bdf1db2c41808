//! The chat core: sessions on connections, rooms, presence, rate limits and fan-out.
//!
//! It knows nothing about WebSocket, Socket.IO or HTTP. A framing opens a [`Connection`] with
//! [`Core::open`], turns each frame into a [`Command`] and hands it to [`Core::handle`], and
//! writes out whatever arrives in the connection's [`Outbox`]. Events for a room go through the
//! [`Bus`], so the same code serves one node or many.

mod bus;
mod command;
mod connection;
mod conversations;
mod crowds;
mod error;
mod event;
mod hub;
mod ignores;
mod moderation;
mod presence;
mod rooms;

pub use bus::{Bus, LocalBus};
pub use command::{
    Ban, Command, History, Identify, JoinRoom, MarkRead, ModTarget, MoveUser, Mute, RoomRef,
    SendMessage, SetRole, Typing, Unban, UserRef, Verify, Whisper,
};
pub use connection::{
    Broadcast, ConnHandle, ConnId, ConnInfo, Connection, Encoding, Next, Outbound, Outbox, Reply,
};
pub use error::CoreError;
pub use event::{CloseReason, Event, MessageEvent, RemovedReason, UserView};
pub use hub::{Hub, LiveConnection};
pub use presence::{MemberCursor, MemberPage};
pub use rooms::Posted;

use crate::auth::{Auth, AuthError, Identity, SessionId};
pub use crate::domain::LOBBY;
use crate::domain::{now_millis, MessageText, RateWindow, Role};
use crate::moderation::Moderation;
use crate::rooms::Rooms;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The chat rules that come from configuration.
#[derive(Clone, Debug)]
pub struct CoreSettings {
    pub max_message_chars: usize,
    pub rate_limit_messages: usize,
    pub rate_window: Duration,
    pub outbound_queue: usize,
    /// Open connections allowed per client address (0: no limit).
    pub max_connections_per_ip: usize,
    /// Rooms with more members than this announce no single joins and leaves.
    pub presence_limit: usize,
}

/// The chat core. Shared by every framing through `Arc`.
pub struct Core {
    auth: Auth,
    rooms: Rooms,
    moderation: Moderation,
    hub: Arc<Hub>,
    bus: Arc<dyn Bus>,
    settings: CoreSettings,
    rates: Mutex<HashMap<SessionId, RateWindow>>,
    next_conn: AtomicU64,
    next_message: AtomicU64,
    /// One lock per persistent room that orders its stores, publications and joins.
    room_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// When each (room, author) last posted, for slow mode.
    slow_mode: Mutex<HashMap<(i64, i64), Instant>>,
    /// Woken when an ephemeral room's timer starts.
    timers: tokio::sync::Notify,
}

impl Core {
    pub fn new(
        auth: Auth,
        rooms: Rooms,
        moderation: Moderation,
        hub: Arc<Hub>,
        bus: Arc<dyn Bus>,
        settings: CoreSettings,
    ) -> Self {
        Self {
            auth,
            rooms,
            moderation,
            hub,
            bus,
            settings,
            rates: Mutex::default(),
            next_conn: AtomicU64::new(1),
            // Ids stay unique across restarts because they start from the clock.
            next_message: AtomicU64::new(u64::try_from(now_millis()).unwrap_or(0) * 1000),
            room_locks: Mutex::default(),
            slow_mode: Mutex::default(),
            timers: tokio::sync::Notify::new(),
        }
    }

    /// The identity service (for the REST API, which shares the core's presence).
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The persistent-room service (for read-only REST look-ups).
    pub fn rooms(&self) -> &Rooms {
        &self.rooms
    }

    /// This node's presence and rooms.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Whether another connection from this address is allowed.
    pub fn admits_connection_from(&self, ip: std::net::IpAddr) -> bool {
        let cap = self.settings.max_connections_per_ip;
        cap == 0 || self.hub.connections_from(ip) < cap
    }

    /// Opens a connection: the framing keeps the [`Connection`] in its reader and gives the
    /// [`Outbox`] to its writer.
    pub fn open(&self, info: ConnInfo) -> (Connection, Outbox) {
        let id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let (conn, outbox) = Connection::open(id, info, self.settings.outbound_queue);
        self.hub.register(Arc::clone(&conn.handle), conn.info.ip);
        (conn, outbox)
    }

    /// Runs one command and queues its reply (with the client's ack id) on the connection.
    pub async fn dispatch(&self, conn: &mut Connection, command: Command, ack: Option<u64>) {
        conn.apply_badge_update();
        let name = command.name();
        let result = match command {
            // A room join queues its own reply, in order with the room's messages.
            Command::Join(join) if Self::is_persistent(&join.room) => {
                match self.join_room(conn, join, ack).await {
                    Ok(()) => return,
                    Err(err) => Err(err),
                }
            }
            command => self.handle(conn, command).await,
        };
        if let Err(err) = &result {
            tracing::debug!(
                conn = conn.id(),
                command = name,
                code = err.code().as_str(),
                "command refused"
            );
        }
        self.reply(conn, ack, result);
    }

    /// Answers a frame that could not be decoded into a command.
    pub fn reply_error(&self, conn: &Connection, ack: Option<u64>, err: CoreError) {
        self.reply(conn, ack, Err(err));
    }

    fn reply(&self, conn: &Connection, ack: Option<u64>, result: Result<Value, CoreError>) {
        match (ack, result) {
            (_, Ok(value)) if ack.is_some() => conn.reply(Reply {
                ack,
                result: Ok(value),
            }),
            (_, Ok(_)) => {}
            (Some(_), Err(err)) => conn.reply(Reply {
                ack,
                result: Err(err.body()),
            }),
            (None, Err(err)) => conn.notify(Event::Error(err.body())),
        }
    }

    /// Runs one command on behalf of a connection; the value is the ack's `data`.
    pub async fn handle(
        &self,
        conn: &mut Connection,
        command: Command,
    ) -> Result<Value, CoreError> {
        match command {
            Command::Identify(identify) => self.identify(conn, identify).await,
            Command::Join(join) if Self::is_persistent(&join.room) => {
                self.join_room(conn, join, None).await.map(|()| Value::Null)
            }
            Command::Join(JoinRoom { room, .. }) => self.join(conn, &room),
            Command::Leave(RoomRef { room }) => self.leave(conn, &room),
            Command::Send(send) if Self::is_persistent(&send.room) => {
                let ip = conn.info.ip.to_string();
                self.send_to_room(identified(conn)?, &ip, send).await
            }
            Command::Send(send) => self.send(conn, send),
            Command::Typing(typing) => self.typing(conn, typing),
            Command::Whisper(whisper) => self.whisper(conn, whisper),
            Command::History(query) => self.history(identified(conn)?, query).await,
            Command::Members(query) => self.members(conn, query),
            Command::OpenConversation(open) => {
                let view = self
                    .open_conversation(identified(conn)?, &open.user)
                    .await?;
                Ok(json!(view))
            }
            Command::AcceptConversation(RoomRef { room }) => {
                let view = self.accept_conversation(identified(conn)?, &room).await?;
                Ok(json!(view))
            }
            Command::DeclineConversation(RoomRef { room }) => {
                self.decline_conversation(identified(conn)?, &room).await?;
                Ok(json!({}))
            }
            Command::CloseConversation(RoomRef { room }) => {
                self.close_conversation(identified(conn)?, &room).await?;
                Ok(json!({}))
            }
            Command::MarkRead(read) => {
                self.mark_read(identified(conn)?, &read.room, read.seq)
                    .await?;
                Ok(json!({}))
            }
            Command::Kick(kick) => self.kick(&Self::actor(conn)?, kick).await,
            Command::Ban(ban) => self.ban(&Self::actor(conn)?, ban).await,
            Command::Unban(unban) => self.unban(&Self::actor(conn)?, unban).await,
            Command::Mute(mute) => self.mute(&Self::actor(conn)?, mute).await,
            Command::Unmute(unmute) => self.unmute(&Self::actor(conn)?, unmute).await,
            Command::Verify(verify) => self.verify(&Self::actor(conn)?, verify).await,
            Command::SetRole(change) => self.set_role(&Self::actor(conn)?, change).await,
            Command::Move(move_user) => self.move_user(&Self::actor(conn)?, move_user).await,
            Command::DeleteUser(UserRef { user }) => {
                self.delete_user(&Self::actor(conn)?, &user).await
            }
            Command::Ignore(UserRef { user }) => {
                self.set_ignore(identified(conn)?, &user, true).await?;
                Ok(json!({}))
            }
            Command::Unignore(UserRef { user }) => {
                self.set_ignore(identified(conn)?, &user, false).await?;
                Ok(json!({}))
            }
        }
    }

    async fn identify(
        &self,
        conn: &mut Connection,
        identify: Identify,
    ) -> Result<Value, CoreError> {
        if conn.identity.is_some() {
            return Err(CoreError::AlreadyIdentified);
        }
        let ip = conn.info.ip.to_string();
        let (identity, new_token) = if let Some(token) = identify.token {
            (self.auth.resolve(&token).await?, None)
        } else if let Some(nick) = identify.nick {
            self.check_not_banned(Some(&nick), &ip, Role::User)?;
            let grant = self
                .auth
                .create_guest(Some(&nick), &ip, self.hub.as_ref())
                .await?;
            (grant.identity, Some(grant.token))
        } else if let Some(token) = conn.info.credential.clone() {
            (self.auth.resolve(&token).await?, None)
        } else {
            return Err(AuthError::Unauthenticated.into());
        };
        self.bind(conn, identity).await?;
        if let Some(identity) = &conn.identity {
            if let Err(err) = self.auth.touch_guest(identity, &ip).await {
                tracing::warn!(error = %err, "could not record guest activity");
            }
        }
        let user = conn.identity.as_ref().map(UserView::from);
        Ok(json!({ "user": user, "token": new_token }))
    }

    /// Binds an already resolved identity to a connection (the `/ws` framing resolves the
    /// cookie before upgrading).
    pub async fn bind(&self, conn: &mut Connection, identity: Identity) -> Result<(), CoreError> {
        self.check_not_banned(
            Some(&identity.name),
            &conn.info.ip.to_string(),
            identity.role,
        )?;
        self.load_ignores(&identity).await?;
        if !self.hub.claim_name(&identity, conn.id()) {
            return Err(CoreError::NickTaken);
        }
        tracing::info!(conn = conn.id(), kind = ?identity.kind(), "identified");
        conn.identity = Some(identity);
        Ok(())
    }

    fn join(&self, conn: &mut Connection, room: &str) -> Result<Value, CoreError> {
        let identity = conn.identity.as_ref().ok_or(CoreError::NotIdentified)?;
        if room != LOBBY {
            return Err(CoreError::NotFound);
        }
        let user = UserView::from(identity);
        let principal = identity.principal;
        let (first, present) = self.hub.join(room, &user, principal, &conn.handle);
        conn.rooms.insert(room.to_owned());
        if first {
            self.announce_joined(room, user, present, principal);
        }
        let page = self.first_members(room);
        Ok(json!({
            "room": room,
            "members": page.members,
            "member_count": page.count,
            "members_next": page.next,
        }))
    }

    fn leave(&self, conn: &mut Connection, room: &str) -> Result<Value, CoreError> {
        let identity = conn.identity.as_ref().ok_or(CoreError::NotIdentified)?;
        if !conn.rooms.remove(room) {
            return Err(CoreError::NotInRoom);
        }
        if let Some((user, remaining)) = self.hub.leave(room, identity.principal, conn.id()) {
            self.announce_left(room, user, remaining);
        }
        Ok(json!({}))
    }

    fn send(&self, conn: &mut Connection, send: SendMessage) -> Result<Value, CoreError> {
        let identity = conn.identity.as_ref().ok_or(CoreError::NotIdentified)?;
        if !conn.rooms.contains(&send.room) {
            return Err(CoreError::NotInRoom);
        }
        let text = MessageText::parse(&send.text, self.settings.max_message_chars)?;
        self.check_not_muted(identity)?;
        self.check_rate(&identity.session)?;
        self.moderation.audit_log().record_message(
            identity,
            &conn.info.ip.to_string(),
            &send.room,
            None,
        );
        let id = self
            .next_message
            .fetch_add(1, Ordering::Relaxed)
            .to_string();
        let ts = now_millis();
        let event = Event::Message(MessageEvent {
            room: send.room.clone(),
            id: id.clone(),
            ts,
            author: UserView::from(identity),
            text: text.into_string(),
            seq: None,
            client_msg_id: None,
        });
        self.bus.publish(&send.room, Broadcast::new(event), None);
        Ok(json!({ "id": id, "ts": ts }))
    }

    fn typing(&self, conn: &mut Connection, typing: Typing) -> Result<Value, CoreError> {
        let identity = conn.identity.as_ref().ok_or(CoreError::NotIdentified)?;
        if !conn.rooms.contains(&typing.room) {
            return Err(CoreError::NotInRoom);
        }
        self.check_not_muted(identity)?;
        let event = Event::Typing {
            room: typing.room.clone(),
            user: UserView::from(identity),
            active: typing.active,
        };
        self.bus.publish(
            &typing.room,
            Broadcast::new(event),
            Some(identity.principal),
        );
        Ok(json!({}))
    }

    fn check_rate(&self, session: &SessionId) -> Result<(), CoreError> {
        let mut rates = self.rates.lock().unwrap_or_else(PoisonError::into_inner);
        let window = rates.entry(session.clone()).or_insert_with(|| {
            RateWindow::new(self.settings.rate_limit_messages, self.settings.rate_window)
        });
        if window.try_acquire(Instant::now()) {
            Ok(())
        } else {
            Err(CoreError::RateLimited)
        }
    }

    /// Ends a connection: leaves its rooms (telling the others), releases its name.
    pub fn close(&self, conn: Connection) {
        if let Some(identity) = &conn.identity {
            for room in &conn.rooms {
                if let Some((user, remaining)) = self.hub.leave(room, identity.principal, conn.id())
                {
                    self.announce_left(room, user, remaining);
                }
            }
            self.hub.release_name(&identity.name_key());
        }
        self.hub.unregister(conn.id());
    }

    /// Closes the live connections of revoked sessions.
    pub fn revoke(&self, sessions: &[SessionId]) {
        self.hub
            .close_sessions(sessions, CloseReason::SessionRevoked);
    }

    /// Writes what the audit log still holds (on shutdown, before the database closes).
    pub async fn flush_audit(&self) {
        self.moderation.audit_log().flush().await;
    }

    /// Tells every connection the server is stopping and closes it.
    pub fn shutdown(&self) {
        self.hub.close_all(CloseReason::Shutdown);
    }

    /// Periodic upkeep: keeps sessions in use from expiring, purges expired ones, and drops
    /// rate windows nobody has used for a while.
    pub async fn maintain(&self) {
        for session in self.hub.live_sessions() {
            if let Err(err) = self.auth.keep_alive(&session).await {
                tracing::warn!(error = %err, "could not extend a live session");
            }
        }
        self.auth.forget_idle_throttles();
        if let Err(err) = self.moderation.purge_expired().await {
            tracing::warn!(error = %err, "could not purge expired bans and mutes");
        }
        match self.auth.purge_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "expired sessions removed"),
            Err(err) => tracing::warn!(error = %err, "could not purge expired sessions"),
        }
        match self.rooms.upkeep(now_millis()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "messages past their room's retention deleted"),
            Err(err) => tracing::warn!(error = %err, "room upkeep failed"),
        }
        self.room_locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, lock| Arc::strong_count(lock) > 1);
        let now = Instant::now();
        self.slow_mode
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, last| now.duration_since(*last) < Duration::from_secs(86_400));
        self.rates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, window| !window.is_idle(now));
    }
}

/// The connection's identity, or `unauthenticated` before `identify`.
fn identified(conn: &Connection) -> Result<&Identity, CoreError> {
    conn.identity.as_ref().ok_or(CoreError::NotIdentified)
}
