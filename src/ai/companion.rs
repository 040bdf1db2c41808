//! The companion service: a message to the bot in, a reply streamed back out, with the brakes
//! that keep a slow or failing model from costing the chat anything.
//!
//! The human's message is stored and delivered by the conversation like any other before the
//! companion hears of it; [`Companion::ask`] only decides (at once, on the request path)
//! whether the bot will answer: guests get the sign-up prompt, `/reset` forgets, then the
//! per-user rate, the [`Gate`] (one reply per user, `ai_concurrency` at once, `ai_queue`
//! waiting, beyond that `ai_busy`) and the trial. The generation itself runs in a task of its
//! own, so neither the sender's ack nor anyone else's chat waits for the model.
//!
//! A generation waits for its place (telling the user where they are in the line), asks the
//! model unless the [`Breaker`] is open, forwards each piece as a [`Note::Delta`] under an id
//! chosen up front (`reply_id`), and finally posts the whole reply — neutralised, see
//! [`reply`](super::reply) — as a message from the bot whose `client_msg_id` is that id, so a
//! client replaces the pieces with the stored message. When the model fails, hangs past its
//! timeouts or the breaker is open, the fixed fallback is posted instead, marked as such, and
//! the free message it took is given back. Only a real answer is remembered.
//!
//! A mention in a room ([`Companion::mention`]) passes the same brakes and is counted on the
//! asker; the model reads the room's recent messages instead of anyone's memory, and nothing
//! of it is remembered.
//!
//! Nothing here logs a prompt or a reply: failures are logged by their code.

use super::breaker::{Breaker, COOL_OFF, FAILURES_TO_OPEN};
use super::gate::{Gate, Ticket};
use super::memory::Memory;
use super::mention::{assemble_room, RoomAsk};
use super::model::Model;
use super::outlet::{Note, Outlet, Reply};
use super::progress::{Progress, Writing};
use super::prompt::{assemble, Persona};
use super::provider::{Prompt, ProviderError};
use super::reply::{neutralise, FALLBACK, FORGOTTEN};
use super::trial::Premium;
use super::CompanionError;
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::SecretKey;
use crate::domain::RateWindow;
use crate::store::Store;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The companion's rules, from configuration.
#[derive(Clone, Debug)]
pub struct CompanionSettings {
    pub free_messages: u32,
    pub messages_per_minute: u32,
    pub concurrency: usize,
    pub queue: usize,
    pub memory_turns: usize,
    pub context_chars: usize,
    /// Longest stored reply (the chat's `max_message_chars`).
    pub max_reply_chars: usize,
    pub max_tokens: u32,
    pub temperature: f32,
    pub request_timeout: Duration,
    pub first_token_timeout: Duration,
}

impl CompanionSettings {
    pub fn from_config(config: &Config) -> Self {
        Self {
            free_messages: config.ai_free_messages,
            messages_per_minute: config.ai_messages_per_minute,
            concurrency: config.ai_concurrency,
            queue: config.ai_queue,
            memory_turns: config.ai_memory_turns,
            context_chars: config.ai_context_chars,
            max_reply_chars: config.max_message_chars,
            max_tokens: config.ai_max_reply_tokens,
            temperature: config.ai_temperature,
            request_timeout: Duration::from_secs(config.ai_request_timeout_secs),
            first_token_timeout: Duration::from_secs(config.ai_first_token_timeout_secs),
        }
    }
}

/// What the companion is built from.
pub struct CompanionParts {
    pub settings: CompanionSettings,
    pub persona: Persona,
    pub model: Arc<dyn Model>,
    pub outlet: Arc<dyn Outlet>,
    pub premium: Arc<dyn Premium>,
    pub store: Store,
    pub clock: Clock,
}

/// Who writes to the bot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asker {
    Guest,
    User(i64),
}

/// What became of a message to the bot (refusals are [`CompanionError`]s).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Asked {
    /// A guest: answer with the sign-up prompt (not counted, the model is not asked).
    SignUp,
    /// `/reset`: the memory is gone and the bot said so.
    Forgotten,
    /// The free messages are spent: the user was told ([`Note::LimitReached`]).
    LimitReached,
    /// A reply is coming under this id.
    Coming { reply_id: String },
}

/// The companion. Cheap to clone.
#[derive(Clone)]
pub struct Companion {
    inner: Arc<Inner>,
    tasks: TaskTracker,
    stop: CancellationToken,
}

struct Inner {
    settings: CompanionSettings,
    persona: Persona,
    model: Arc<dyn Model>,
    outlet: Arc<dyn Outlet>,
    premium: Arc<dyn Premium>,
    store: Store,
    clock: Clock,
    memory: Memory,
    gate: Arc<Gate>,
    breaker: Breaker,
    rates: Mutex<HashMap<i64, RateWindow>>,
    progress: Progress,
}

/// Where a question comes from, which decides what the model reads.
enum Source {
    /// The user's conversation with the bot: their remembered turns, sealed with this key.
    Conversation { key: SecretKey },
    /// A mention in a room: the room's recent messages; nobody's memory.
    Room(RoomAsk),
}

/// One reply to write.
struct Job {
    user: i64,
    room: String,
    source: Source,
    message: String,
    reply_id: String,
    /// A free message was spent on it (given back if the model does not answer).
    counted: bool,
}

/// Why the model gave no answer; logged by code only.
#[derive(Debug)]
enum Failure {
    Model(ProviderError),
    FirstTokenTimeout,
    Timeout,
    Empty,
    BreakerOpen,
    Memory,
}

impl Failure {
    fn code(&self) -> &'static str {
        match self {
            Failure::Model(err) => err.code(),
            Failure::FirstTokenTimeout => "first_token_timeout",
            Failure::Timeout => "timeout",
            Failure::Empty => "empty_reply",
            Failure::BreakerOpen => "breaker_open",
            Failure::Memory => "memory_unavailable",
        }
    }
}

/// Users whose rate windows are kept before idle ones are dropped.
const RATE_WINDOWS_KEPT: usize = 4096;

impl Companion {
    pub fn new(parts: CompanionParts) -> Self {
        let CompanionParts {
            settings,
            persona,
            model,
            outlet,
            premium,
            store,
            clock,
        } = parts;
        let inner = Inner {
            memory: Memory::new(store.clone(), clock.clone(), settings.memory_turns),
            gate: Gate::new(settings.concurrency, settings.queue),
            breaker: Breaker::new(clock.clone(), FAILURES_TO_OPEN, COOL_OFF),
            rates: Mutex::default(),
            progress: Progress::default(),
            settings,
            persona,
            model,
            outlet,
            premium,
            store,
            clock,
        };
        Self {
            inner: Arc::new(inner),
            tasks: TaskTracker::new(),
            stop: CancellationToken::new(),
        }
    }

    /// A message `text` from `asker` in their conversation `room` with the bot, whose data key
    /// is `key`. Returns at once; a reply, if one comes, is written in the background.
    pub async fn ask(
        &self,
        asker: Asker,
        room: &str,
        key: SecretKey,
        text: &str,
    ) -> Result<Asked, CompanionError> {
        let Asker::User(user) = asker else {
            return Ok(Asked::SignUp);
        };
        let inner = &self.inner;
        if text.trim() == "/reset" {
            self.forget(user).await?;
            let reply = Reply {
                reply_id: reply_id(),
                text: FORGOTTEN.to_owned(),
                fallback: false,
            };
            inner.outlet.post(user, room, reply).await?;
            return Ok(Asked::Forgotten);
        }
        let Some((ticket, counted)) = self.admit(user, room).await? else {
            return Ok(Asked::LimitReached);
        };
        let job = Job {
            user,
            room: room.to_owned(),
            source: Source::Conversation { key },
            message: text.to_owned(),
            reply_id: reply_id(),
            counted,
        };
        Ok(self.run(ticket, job))
    }

    /// A message in a room that lets the companion answer mentions, calling it by name. The
    /// same brakes as a conversation (rate, line, trial, counted on the asker); the reply goes
    /// to the room, and the model reads the room's recent messages instead of a memory.
    pub async fn mention(&self, asker: Asker, ask: RoomAsk) -> Result<Asked, CompanionError> {
        let Asker::User(user) = asker else {
            return Ok(Asked::SignUp);
        };
        let Some((ticket, counted)) = self.admit(user, &ask.room).await? else {
            return Ok(Asked::LimitReached);
        };
        let job = Job {
            user,
            room: ask.room.clone(),
            message: ask.text.clone(),
            source: Source::Room(ask),
            reply_id: reply_id(),
            counted,
        };
        Ok(self.run(ticket, job))
    }

    /// The brakes every question passes: the user's rate, a place in the line (or `ai_busy`),
    /// then a free message unless premium. `None` when the trial is spent (the user is told).
    async fn admit(&self, user: i64, room: &str) -> Result<Option<(Ticket, bool)>, CompanionError> {
        let inner = &self.inner;
        inner.within_rate(user)?;
        let ticket = inner.gate.admit(user).map_err(|_| CompanionError::Busy)?;
        let premium = inner.premium.active(user, inner.clock.now_millis()).await;
        let counted = !premium;
        if counted
            && !inner
                .store
                .ai_usage()
                .take(user, inner.settings.free_messages)
                .await?
        {
            let free_messages = inner.settings.free_messages;
            inner
                .outlet
                .tell(user, room, Note::LimitReached { free_messages });
            return Ok(None);
        }
        Ok(Some((ticket, counted)))
    }

    /// Writes the reply in a task of its own (cancelled on shutdown).
    fn run(&self, ticket: Ticket, job: Job) -> Asked {
        let (user, reply_id) = (job.user, job.reply_id.clone());
        self.inner.progress.admitted(user, &job.room, &reply_id);
        let (inner, stop, id) = (Arc::clone(&self.inner), self.stop.clone(), reply_id.clone());
        self.tasks.spawn(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                () = inner.generate(ticket, job) => {}
            }
            inner.progress.finished(user, &id);
        });
        Asked::Coming { reply_id }
    }

    /// Forgets what the companion remembers of a user (`/reset`, the forget button).
    pub async fn forget(&self, user: i64) -> Result<(), CompanionError> {
        Ok(self.inner.memory.forget(user).await?)
    }

    /// The reply on its way to `user` (waiting or being written), for a page that opens
    /// mid-reply; `None` when there is none.
    pub fn writing(&self, user: i64) -> Option<Writing> {
        self.inner.progress.of(user)
    }

    /// How many of their free messages `user` has spent.
    pub async fn used(&self, user: i64) -> Result<u32, CompanionError> {
        Ok(self.inner.store.ai_usage().used(user).await?)
    }

    /// How many free messages every account gets.
    pub fn free_messages(&self) -> u32 {
        self.inner.settings.free_messages
    }

    /// Whether replies are being answered with the fallback (the breaker is open).
    pub fn is_failing(&self) -> bool {
        self.inner.breaker.is_open()
    }

    /// Abandons the replies being written and waits for their tasks to end (shutdown).
    pub async fn shutdown(&self) {
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

impl Inner {
    fn within_rate(&self, user: i64) -> Result<(), CompanionError> {
        let now = self.clock.instant();
        let mut rates = self.rates.lock().unwrap_or_else(|p| p.into_inner());
        if rates.len() >= RATE_WINDOWS_KEPT {
            rates.retain(|_, window| !window.is_idle(now));
        }
        let limit = usize::try_from(self.settings.messages_per_minute.max(1)).unwrap_or(usize::MAX);
        let window = rates
            .entry(user)
            .or_insert_with(|| RateWindow::new(limit, Duration::from_secs(60)));
        if window.try_acquire(now) {
            Ok(())
        } else {
            Err(CompanionError::RateLimited {
                retry_after: window.retry_after(now),
            })
        }
    }

    /// Waits for a place, writes the reply (or the fallback) and posts it.
    async fn generate(&self, ticket: Ticket, job: Job) {
        let _running = ticket
            .run(|position| {
                let reply_id = job.reply_id.clone();
                self.progress.queued(job.user, position);
                self.outlet
                    .tell(job.user, &job.room, Note::Queued { reply_id, position });
            })
            .await;
        self.progress.started(job.user);
        let answered = if self.breaker.allow() {
            self.outlet
                .tell(job.user, &job.room, Note::Typing { active: true });
            let answered = self.answer(&job).await;
            self.outlet
                .tell(job.user, &job.room, Note::Typing { active: false });
            match &answered {
                Ok(_) => self.breaker.succeeded(),
                Err(Failure::Memory) => {}
                Err(_) => self.breaker.failed(),
            }
            answered
        } else {
            Err(Failure::BreakerOpen)
        };
        let reply = match answered {
            Ok(text) => {
                if let Source::Conversation { key } = &job.source {
                    if let Err(err) = self
                        .memory
                        .remember(job.user, key, &job.message, &text)
                        .await
                    {
                        tracing::warn!(user_id = job.user, error = %err, "the companion could not remember an exchange");
                    }
                }
                Reply {
                    reply_id: job.reply_id,
                    text,
                    fallback: false,
                }
            }
            Err(failure) => {
                tracing::warn!(
                    user_id = job.user,
                    code = failure.code(),
                    "the companion answers with its fallback"
                );
                if job.counted {
                    if let Err(err) = self.store.ai_usage().give_back(job.user).await {
                        tracing::warn!(user_id = job.user, error = %err, "a free message was not given back");
                    }
                }
                Reply {
                    reply_id: job.reply_id,
                    text: FALLBACK.to_owned(),
                    fallback: true,
                }
            }
        };
        if let Err(err) = self.outlet.post(job.user, &job.room, reply).await {
            tracing::warn!(
                user_id = job.user,
                code = err.code().as_str(),
                "the companion's reply was not stored"
            );
        }
    }

    /// Asks the model and streams the pieces to the user; the whole reply, neutralised.
    async fn answer(&self, job: &Job) -> Result<String, Failure> {
        let settings = &self.settings;
        let turns = match &job.source {
            Source::Conversation { key } => {
                let memory = self
                    .memory
                    .recall(job.user, key)
                    .await
                    .map_err(|_| Failure::Memory)?;
                assemble(
                    &self.persona,
                    &memory,
                    &job.message,
                    settings.memory_turns,
                    settings.context_chars,
                )
            }
            Source::Room(ask) => assemble_room(&self.persona, ask, settings.context_chars),
        };
        let prompt = Prompt {
            turns,
            max_tokens: settings.max_tokens,
            temperature: settings.temperature,
        };
        let streamed = tokio::select! {
            streamed = self.stream(job, &prompt) => streamed,
            () = self.clock.sleep(settings.request_timeout) => Err(Failure::Timeout),
        }?;
        let text = neutralise(&streamed, settings.max_reply_chars);
        if text.is_empty() {
            return Err(Failure::Empty);
        }
        Ok(text)
    }

    async fn stream(&self, job: &Job, prompt: &Prompt) -> Result<String, Failure> {
        // Past this many characters the rest is not read: the stored reply is cut anyway.
        let most = self.settings.max_reply_chars.saturating_mul(4).max(64);
        let first_token = self.clock.sleep(self.settings.first_token_timeout);
        tokio::pin!(first_token);
        let mut pieces = tokio::select! {
            opened = self.model.stream(prompt) => opened.map_err(Failure::Model)?,
            () = &mut first_token => return Err(Failure::FirstTokenTimeout),
        };
        let mut text = String::new();
        loop {
            let next = if text.is_empty() {
                tokio::select! {
                    next = pieces.next() => next,
                    () = &mut first_token => return Err(Failure::FirstTokenTimeout),
                }
            } else {
                pieces.next().await
            };
            let Some(piece) = next else { break };
            let piece = piece.map_err(Failure::Model)?;
            if piece.is_empty() {
                continue;
            }
            let at = text.encode_utf16().count();
            text.push_str(&piece);
            self.progress.piece(job.user, &piece);
            self.outlet.tell(
                job.user,
                &job.room,
                Note::Delta {
                    reply_id: job.reply_id.clone(),
                    text: piece,
                    at,
                },
            );
            if text.chars().count() >= most {
                break;
            }
        }
        Ok(text)
    }
}

/// A reply's id: chosen before the first piece, carried by every piece and by the stored
/// message (as its `client_msg_id`).
fn reply_id() -> String {
    format!("ai-{}", crate::auth::new_secret())
}

#[cfg(test)]
mod tests;
