//! The chat core: connections, rooms, presence, moderation and fan-out, as services.
//!
//! It knows nothing about WebSocket, Socket.IO or HTTP. A framing opens a [`Connection`] with
//! [`Sessions::open`], decodes each frame into a [`Command`] and hands it to
//! [`Chat::dispatch`], and writes out whatever arrives in the connection's [`Outbox`]. The
//! REST API calls the same services. Events for a room go through the [`Bus`], so the same
//! code serves one node or many.
//!
//! The services (see `docs/architecture.md`):
//! - [`Sessions`]: connections, `identify`, names online, per-address caps, revocation;
//! - [`Accounts`]: registration, login, guests, logout, password changes (bans checked once);
//! - [`Presence`]: entering and leaving rooms, member pages, crowd counts;
//! - [`Lobby`]: the in-memory lobby, and typing in any room;
//! - [`LiveRooms`]: stored rooms — joins with history, durable posts, settings, deletion;
//! - [`Membership`]: members, removals, room bans, invites, access requests;
//! - [`Conversations`]: private conversations, whispers, ephemeral rooms;
//! - [`LiveModeration`]: kick, ban, mute, verify, roles, moves, account deletion;
//! - [`Ignores`]: stealthy ignore lists;
//! - [`Oversight`]: what the admin panel reads (users, sanctions, connections, audit log);
//! - [`Exports`]: one room, conversation or account exported, decrypted (issue 14);
//! - [`Premium`], [`Payments`]: premium accounts, granted by admins and payments (issue 15);
//! - the AI companion (`crate::ai`), wired in by `service/companion.rs` when configured;
//! - [`Upkeep`]: periodic work, crowd counts, ephemeral expiry.

mod bus;
mod command;
mod connection;
mod directive;
mod dispatch;
mod error;
mod event;
mod hub;
mod ignore_filter;
mod live;
mod node;
mod outbound;
mod roster;
mod service;

pub use bus::{Bus, Entry, Inbound, LocalBus};
pub use command::{
    moderation_action_schemas, Ban, Command, DeleteMessage, EditMessage, History, Identify,
    IgnoreUser, JoinRoom, LeaveRoom, Limits, MarkRead, Members, MessageRef, ModTarget, MoveUser,
    Mute, OpenConversation, React, SendMessage, SetRole, Typing, Unban, Verify, Whisper,
    MODERATION_ACTIONS,
};
pub use connection::{ConnHandle, ConnId, ConnInfo, Connection, Express, Next, Outbox};
pub use directive::Directive;
pub use error::CoreError;
pub use event::{CloseReason, Event, MessageEvent, RemovedReason, UserView};
pub use hub::Hub;
pub use live::LiveConnection;
pub use outbound::{Answer, Broadcast, Encoding, Outbound, Reply};
pub use roster::{MemberCursor, MemberPage};
pub use service::*;

use crate::auth::Auth;
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::moderation::Moderation;
use crate::rooms::Rooms;
use std::sync::Arc;
use std::time::Duration;

/// The chat rules that come from configuration.
#[derive(Clone, Debug)]
pub struct ChatSettings {
    pub max_message_chars: usize,
    pub rate_limit_messages: usize,
    pub rate_window: Duration,
    pub outbound_queue: usize,
    /// Open connections allowed per client address (0: no limit).
    pub max_connections_per_ip: usize,
    /// Rooms with more members than this announce no single joins and leaves.
    pub presence_limit: usize,
    /// How long a connection may stay without identifying before it is closed.
    pub identify_timeout: Duration,
    /// This node's name: the holder of the leases it takes.
    pub node: String,
    /// The first connection id this node gives out (ids are unique in the cluster).
    pub first_connection_id: u64,
    /// Bytes of decrypted text message search keeps in memory between searches.
    pub search_cache_bytes: usize,
}

/// What the core is built from.
pub struct ChatParts {
    pub auth: Auth,
    pub rooms: Rooms,
    pub moderation: Moderation,
    pub hub: Arc<Hub>,
    pub bus: Arc<dyn Bus>,
    pub settings: ChatSettings,
    pub clock: Clock,
    pub files: FileParts,
    /// What the core counts: messages, refused commands (the hub counts its own).
    pub metrics: Metrics,
    /// The AI companion, when a model server is configured (`ai_provider`).
    pub companion: Option<CompanionSetup>,
}

/// What the files service is built from.
pub struct FileParts {
    pub library: crate::files::Library,
    pub keyring: crate::crypto::Keyring,
    pub store: crate::store::Store,
    pub settings: FileSettings,
}

/// The chat core: its services, shared by every framing and the REST API.
pub struct Chat {
    pub accounts: Accounts,
    pub sessions: Arc<Sessions>,
    pub presence: Presence,
    pub lobby: Lobby,
    pub rooms: Arc<LiveRooms>,
    /// Edits, deletes and reactions of stored messages.
    pub changes: LiveChanges,
    pub membership: Membership,
    pub conversations: Arc<Conversations>,
    pub moderation: LiveModeration,
    pub ignores: Ignores,
    pub files: Arc<Files>,
    /// Exports of one's own data ("download my data").
    pub exports: Arc<Exports>,
    /// Premium accounts: who has it until when; admin grants and revocations.
    pub premium: Arc<Premium>,
    /// Payment events settled into premium, once each.
    pub payments: Payments,
    /// The AI companion; `None` when no model server is configured (its endpoints answer
    /// `ai_disabled`, and the chat is otherwise the same).
    pub companion: Option<crate::ai::Companion>,
    pub oversight: Oversight,
    /// An account managing itself: preferences, sessions, name, e-mail, key, deletion.
    pub my_account: MyAccount,
    /// End-to-end keys: accounts' public keys and wrapped private keys.
    pub keys: KeyDirectory,
    /// End-to-end rooms' keys by epoch, sealed to each member.
    pub room_keys: Arc<RoomKeys>,
    pub upkeep: Upkeep,
    /// Message search over the rooms a caller may read (issue 16).
    pub search: Arc<crate::search::Search>,
    /// What decoding a command needs to know.
    pub limits: Limits,
    /// Fan-out to the other nodes (for `/health` and shutdown).
    pub bus: Arc<dyn Bus>,
    /// Who is online under which name, on any node.
    pub names: OnlineRegistry,
    audit: Arc<Moderation>,
    metrics: Metrics,
}

impl Chat {
    pub fn new(parts: ChatParts) -> Self {
        let ChatParts {
            auth,
            rooms,
            moderation,
            hub,
            bus,
            settings,
            clock,
            files,
            metrics,
            companion,
        } = parts;
        let sweep = FileSweep::new(files.store.clone());
        let (auth, rooms, moderation) = (Arc::new(auth), Arc::new(rooms), Arc::new(moderation));
        let presence = Presence::new(Arc::clone(&hub), Arc::clone(&bus), settings.presence_limit);
        let speech = Speech::new(
            Arc::clone(&moderation),
            clock.clone(),
            settings.rate_limit_messages,
            settings.rate_window,
            metrics.clone(),
        );
        let names = OnlineRegistry::new(Arc::clone(&hub), Arc::clone(&bus));
        let ignores = Ignores::new(Arc::clone(&moderation), Arc::clone(&hub), Arc::clone(&bus));
        let locks = RoomLocks::default();
        let locks_for_changes = locks.clone();
        let sessions = Arc::new(Sessions::new(
            Arc::clone(&auth),
            Arc::clone(&moderation),
            Arc::clone(&hub),
            names.clone(),
            Arc::clone(&bus),
            presence.clone(),
            ignores.clone(),
            settings.outbound_queue,
            settings.max_connections_per_ip,
            IdentifyDeadline {
                clock: clock.clone(),
                after: settings.identify_timeout,
            },
        ));
        sessions.number_from(settings.first_connection_id);
        let live_rooms = Arc::new(LiveRooms::new(
            Arc::clone(&rooms),
            Arc::clone(&auth),
            presence.clone(),
            Arc::clone(&bus),
            speech.clone(),
            ignores.clone(),
            locks.clone(),
            clock.clone(),
            sweep.clone(),
        ));
        let conversations = Arc::new(Conversations::new(
            Arc::clone(&rooms),
            Arc::clone(&auth),
            names.clone(),
            presence.clone(),
            speech.clone(),
            locks.clone(),
            clock.clone(),
            sweep.clone(),
        ));
        let exports = Arc::new(Exports::new(ExportParts {
            store: files.store.clone(),
            keyring: files.keyring.clone(),
            rooms: Arc::clone(&rooms),
            library: files.library.clone(),
            clock: clock.clone(),
        }));
        let premium = Arc::new(Premium::new(
            files.store.clone(),
            Arc::clone(&moderation),
            Arc::clone(&bus),
            clock.clone(),
        ));
        let payments = Payments::new(
            Arc::clone(&premium),
            files.store.clone(),
            Arc::clone(&moderation),
        );
        let bot = companion.as_ref().map(|setup| setup.bot.id);
        let companion = companion.map(|setup| {
            start_companion(
                setup,
                CompanionWiring {
                    rooms: Arc::clone(&live_rooms),
                    history: Arc::clone(&rooms),
                    presence: presence.clone(),
                    premium: Arc::clone(&premium),
                    keyring: files.keyring.clone(),
                    store: files.store.clone(),
                    clock: clock.clone(),
                },
            )
        });
        let files = Arc::new(Files {
            rooms: Arc::clone(&rooms),
            store: files.store,
            keyring: files.keyring,
            library: files.library,
            speech: speech.clone(),
            moderation: Arc::clone(&moderation),
            settings: files.settings,
            sweep: sweep.clone(),
            clock: clock.clone(),
        });
        let search = Arc::new(crate::search::Search::new(
            files.store.clone(),
            Arc::clone(&rooms),
            clock.clone(),
            settings.search_cache_bytes,
        ));
        let run_once = RunOnce::new(files.store.clone(), settings.node.clone(), clock.clone());
        let room_keys = Arc::new(RoomKeys::new(
            Arc::clone(&rooms),
            files.store.clone(),
            clock.clone(),
            Arc::clone(&bus),
        ));
        let keys = KeyDirectory::new(
            files.store.clone(),
            clock.clone(),
            Arc::clone(&bus),
            Arc::clone(&room_keys),
        );
        let my_account = MyAccount::new(MyAccountParts {
            auth: Arc::clone(&auth),
            store: files.store.clone(),
            rooms: Arc::clone(&rooms),
            moderation: Arc::clone(&moderation),
            bus: Arc::clone(&bus),
            names: names.clone(),
            sweep: sweep.clone(),
            clock: clock.clone(),
        });
        bus.attach(Arc::new(node::Node {
            name: settings.node.clone(),
            hub: Arc::clone(&hub),
            moderation: Arc::clone(&moderation),
            presence: presence.clone(),
            rooms: Arc::clone(&rooms),
            bot,
        }));
        let upkeep = Upkeep {
            auth: Arc::clone(&auth),
            moderation: Arc::clone(&moderation),
            rooms: Arc::clone(&rooms),
            sessions: Arc::clone(&sessions),
            live_rooms: Arc::clone(&live_rooms),
            conversations: Arc::clone(&conversations),
            presence: presence.clone(),
            speech: speech.clone(),
            files: Arc::clone(&files),
            run_once,
            locks,
            clock,
        };
        Self {
            keys,
            room_keys: Arc::clone(&room_keys),
            my_account,
            accounts: Accounts::new(
                Arc::clone(&auth),
                Arc::clone(&moderation),
                names.clone(),
                Arc::clone(&bus),
            ),
            changes: LiveChanges::new(
                Arc::clone(&rooms),
                speech.clone(),
                Arc::clone(&bus),
                Arc::clone(&moderation),
                locks_for_changes,
                sweep.clone(),
            ),
            lobby: Lobby::new(presence.clone(), Arc::clone(&bus), speech),
            membership: Membership::new(Arc::clone(&rooms), presence.clone(), room_keys),
            moderation: LiveModeration::new(
                Arc::clone(&moderation),
                Arc::clone(&auth),
                Arc::clone(&rooms),
                Arc::clone(&hub),
                Arc::clone(&bus),
                presence.clone(),
                sweep,
            ),
            names,
            oversight: Oversight::new(auth, Arc::clone(&moderation), rooms, hub, Arc::clone(&bus)),
            bus,
            limits: Limits {
                max_message_chars: settings.max_message_chars,
            },
            audit: moderation,
            metrics,
            sessions,
            presence,
            rooms: live_rooms,
            conversations,
            ignores,
            files,
            exports,
            premium,
            payments,
            companion,
            upkeep,
            search,
        }
    }

    /// Writes what the audit log still holds (on shutdown, before the database closes).
    pub async fn flush_audit(&self) {
        self.audit.audit_log().flush().await;
    }
}
