//! The AI companion, wired into the chat: the [`Companion`] itself lives in `crate::ai` and
//! knows nothing of connections or rooms; this file is the two seams between them.
//!
//! - In: [`LiveRooms::post`] stores a message like any other, then hands it to the
//!   [`CompanionHook`]: the companion hears it when the room is someone's conversation with
//!   the bot, or a room whose owner let the bot answer mentions (`ai_mentions`) and the message
//!   calls it by name — then with the room's recent messages as context, read here. The hook asks the
//!   companion in a task of its own, so neither the sender's ack nor the room's ordering lock
//!   waits for even the companion's admission checks; a refusal (`ai_busy`, `rate_limited`)
//!   reaches the sender as an `error` event.
//! - Out: [`ChatOutlet`] turns the companion's notes into events for the asking user's own
//!   connections (`typing` from the bot, `ai_delta`, `ai_queued`, `ai_limit_reached`; in a
//!   room, `typing` and `ai_delta` go to the whole room) and posts the finished reply as a
//!   message from the bot, with the reply's id as its `client_msg_id`: through the same
//!   [`LiveRooms::post`] in a conversation, through [`LiveRooms::post_as_companion`] in a room
//!   (the bot is no member there; that path checks the room still wants it).
//!
//! The outlet holds the rooms service weakly: the rooms service holds the hook, which holds the
//! companion, which holds the outlet — a strong reference back would keep all of them alive.

use super::{LiveRooms, Premium, Presence};
use crate::ai::{
    self, Asker, Companion, CompanionError, CompanionParts, CompanionSettings, Model, Note, Outlet,
    Persona, Reply, RoomAsk, Said,
};
use crate::auth::{Identity, IdentityKind, SessionId};
use crate::clock::Clock;
use crate::core::command::SendMessage;
use crate::core::event::{Event, UserView};
use crate::crypto::Keyring;
use crate::domain::{
    pm_members, ClientMsgId, MessageText, Millis, Principal, Role, RoomKind, RoomName,
};
use crate::error::ErrorCode;
use crate::rooms::{Room, Rooms};
use crate::store::Store;
use futures_util::future::BoxFuture;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Weak};

/// The companion's account (`users.bot = 1`), found or created at start-up.
#[derive(Clone, Debug)]
pub struct Bot {
    pub id: i64,
    pub name: String,
}

impl Bot {
    /// How the bot appears: as a typist and as the author of its replies.
    fn view(&self) -> UserView {
        UserView {
            name: self.name.clone(),
            kind: IdentityKind::User,
            role: Role::User,
            verified: false,
            bot: true,
        }
    }

    /// The bot speaking in its conversation with `user_id`. Each conversation gets its own
    /// session, so the chat's per-session message rate is per conversation and one busy user
    /// cannot use up the bot's rate for everyone (the companion has its own per-user rate).
    fn identity(&self, user_id: i64) -> Identity {
        Identity {
            principal: Principal::User(self.id),
            name: self.name.clone(),
            role: Role::User,
            session: SessionId(format!("companion:{user_id}")),
            public_id: None,
            email: None,
            created_at: 0,
            verified: false,
        }
    }
}

/// What the core needs to run the companion (built by `app.rs` when `ai_provider` is set).
pub struct CompanionSetup {
    pub settings: CompanionSettings,
    pub persona: Persona,
    pub model: Arc<dyn Model>,
    pub bot: Bot,
}

/// What else the companion is built from; all of it the core already holds.
pub(crate) struct CompanionWiring {
    pub rooms: Arc<LiveRooms>,
    /// The rooms themselves, for the recent messages a mention is answered from.
    pub history: Arc<Rooms>,
    pub presence: Presence,
    pub premium: Arc<Premium>,
    pub keyring: Keyring,
    pub store: Store,
    pub clock: Clock,
}

/// Builds the companion and attaches it to the rooms service's posts.
pub(crate) fn start(setup: CompanionSetup, wiring: CompanionWiring) -> Companion {
    let CompanionSetup {
        settings,
        persona,
        model,
        bot,
    } = setup;
    let outlet = ChatOutlet {
        rooms: Arc::downgrade(&wiring.rooms),
        presence: wiring.presence.clone(),
        bot: bot.clone(),
        max_chars: settings.max_reply_chars,
    };
    let companion = Companion::new(CompanionParts {
        settings,
        persona,
        model,
        outlet: Arc::new(outlet),
        premium: Arc::new(PremiumAccounts(wiring.premium)),
        store: wiring.store,
        clock: wiring.clock,
    });
    wiring.rooms.attach_companion(CompanionHook {
        companion: companion.clone(),
        bot,
        rooms: wiring.history,
        keyring: wiring.keyring,
        presence: wiring.presence,
    });
    companion
}

/// What [`LiveRooms::post`] calls after storing a message.
pub(crate) struct CompanionHook {
    companion: Companion,
    bot: Bot,
    rooms: Arc<Rooms>,
    keyring: Keyring,
    presence: Presence,
}

impl CompanionHook {
    pub(crate) fn bot_id(&self) -> i64 {
        self.bot.id
    }

    /// A message `text` from `author` was stored in `room`: when that is the author's
    /// conversation with the bot, or a room that lets the bot answer mentions and the message
    /// calls it by name, the companion hears it (in a task of its own).
    pub(crate) fn heard(&self, author: &Identity, room: &Room, text: Option<&str>) {
        let Principal::User(user) = author.principal else {
            return;
        };
        let Some(text) = text else { return };
        if user == self.bot.id {
            return;
        }
        match room.kind() {
            RoomKind::Pm => self.heard_in_conversation(user, room, text),
            RoomKind::Room if room.ai_mentions && ai::mentions(text, &self.bot.name) => {
                self.heard_in_room(user, &author.name, room, text);
            }
            _ => {}
        }
    }

    fn heard_in_conversation(&self, user: i64, room: &Room, text: &str) {
        if !pm_members(&room.slug).is_some_and(|(a, b)| a == self.bot.id || b == self.bot.id) {
            return;
        }
        let (companion, keyring, presence) = (
            self.companion.clone(),
            self.keyring.clone(),
            self.presence.clone(),
        );
        let (slug, key_id, text) = (room.slug.clone(), room.data_key_id, text.to_owned());
        // Short: admission checks and a counter in the store; the reply itself runs in the
        // companion's own tasks, which it cancels on shutdown.
        tokio::spawn(async move {
            let asked = async {
                let key = keyring.key(key_id).await?;
                companion.ask(Asker::User(user), &slug, key, &text).await
            };
            if let Err(err) = asked.await {
                presence.tell(Principal::User(user), Event::Error(err.body()));
            }
        });
    }

    fn heard_in_room(&self, user: i64, asker: &str, room: &Room, text: &str) {
        let (companion, rooms, presence) = (
            self.companion.clone(),
            Arc::clone(&self.rooms),
            self.presence.clone(),
        );
        let (room, asker, text) = (room.clone(), asker.to_owned(), text.to_owned());
        tokio::spawn(async move {
            let asked = async {
                let mut recent = rooms
                    .history()
                    .before(&room, None, Some(MENTION_CONTEXT_MESSAGES + 1))
                    .await
                    .map_err(|err| CompanionError::Refused(err.code()))?;
                // The newest is the mention itself (unless others wrote since: then it stays
                // as context too, which does no harm).
                if recent
                    .last()
                    .is_some_and(|m| m.author_id == user && m.text == text)
                {
                    recent.pop();
                }
                let context = recent
                    .into_iter()
                    .filter(|m| !m.undecryptable && !m.text.is_empty())
                    .map(|m| Said {
                        author: m.author_name,
                        text: m.text,
                    })
                    .collect();
                let ask = RoomAsk {
                    room: room.slug.clone(),
                    room_name: room.name.clone(),
                    asker,
                    context,
                    text,
                };
                companion.mention(Asker::User(user), ask).await
            };
            if let Err(err) = asked.await {
                presence.tell(Principal::User(user), Event::Error(err.body()));
            }
        });
    }
}

/// How many of a room's latest messages a mention is answered from (then cut to the model's
/// context budget).
const MENTION_CONTEXT_MESSAGES: usize = 30;

/// The companion's way out, over the core's presence and rooms services.
struct ChatOutlet {
    rooms: Weak<LiveRooms>,
    presence: Presence,
    bot: Bot,
    max_chars: usize,
}

impl Outlet for ChatOutlet {
    fn tell(&self, user_id: i64, room: &str, note: Note) {
        // In a room everybody watches the bot type and its reply arrive; the asker alone hears
        // of their place in the line and of their trial.
        let everyone =
            pm_members(room).is_none() && matches!(note, Note::Typing { .. } | Note::Delta { .. });
        let room = room.to_owned();
        let event = match note {
            Note::Queued { reply_id, position } => Event::AiQueued {
                room,
                message_id: reply_id,
                position,
            },
            Note::Typing { active } => Event::Typing {
                room,
                user: self.bot.view(),
                active,
            },
            Note::Delta { reply_id, text, at } => Event::AiDelta {
                room,
                message_id: reply_id,
                text,
                at,
            },
            Note::LimitReached { free_messages } => Event::AiLimitReached {
                room,
                free_messages,
            },
        };
        match self.rooms.upgrade() {
            Some(rooms) if everyone => {
                let slug = match &event {
                    Event::Typing { room, .. } | Event::AiDelta { room, .. } => room.clone(),
                    _ => return,
                };
                rooms.announce(&slug, event);
            }
            _ => self.presence.tell(Principal::User(user_id), event),
        }
    }

    fn post<'a>(
        &'a self,
        user_id: i64,
        room: &'a str,
        reply: Reply,
    ) -> BoxFuture<'a, Result<(), CompanionError>> {
        Box::pin(async move {
            let invalid = || CompanionError::Refused(ErrorCode::InvalidPayload);
            let rooms = self
                .rooms
                .upgrade()
                .ok_or(CompanionError::Refused(ErrorCode::Unavailable))?;
            let send = SendMessage {
                room: RoomName::parse(room).map_err(|_| invalid())?,
                text: Some(MessageText::parse(&reply.text, self.max_chars).map_err(|_| invalid())?),
                envelope: None,
                client_msg_id: Some(ClientMsgId::parse(&reply.reply_id).map_err(|_| invalid())?),
                attachments: Vec::new(),
                reply_to: None,
            };
            // The bot's messages come from the server itself.
            let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
            let bot = self.bot.identity(user_id);
            let posted = if pm_members(room).is_some() {
                rooms.post(&bot, ip, send).await
            } else {
                rooms.post_as_companion(&bot, send).await
            };
            posted.map_err(|err| CompanionError::Refused(err.code()))?;
            Ok(())
        })
    }
}

/// Premium users are not counted against the free messages.
struct PremiumAccounts(Arc<Premium>);

impl ai::Premium for PremiumAccounts {
    fn active(&self, user_id: i64, now: Millis) -> BoxFuture<'_, bool> {
        Box::pin(async move {
            // Unknown means "on the trial": the worst a database hiccup does is count one.
            self.0.premium_active(user_id, now).await.unwrap_or(false)
        })
    }
}
