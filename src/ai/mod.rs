//! The AI companion (issue 15): a bot account answered by a model server the operator runs
//! (Ollama, or anything speaking OpenAI's chat completions).
//!
//! One concept per file:
//! - [`provider`] — the one outbound HTTP client: a prompt in, the reply's text streamed out,
//!   with the request and first-token timeouts. It only ever calls the configured URL.
//! - [`model`] — the seam the companion asks through (the provider, or a scripted model in
//!   tests).
//! - [`companion`] — the service: who gets an answer, the streaming, the fallback.
//! - [`gate`] — one reply per user, `ai_concurrency` at once, a bounded line (`ai_busy` past it).
//! - [`breaker`] — stops asking a model that keeps failing, for a while.
//! - [`memory`] — each user's last turns, sealed with their conversation's data key.
//! - [`mention`] — the companion called by name in a room, and what it reads there.
//! - [`prompt`] — the persona and what of the memory fits the context budget.
//! - [`reply`] — the reply made safe to store and show; the fixed texts.
//! - [`trial`] — free messages and where premium plugs in.
//! - [`outlet`] — where the output goes (the core implements it).
//! - [`progress`] — the reply on its way to each user, for a page that opens mid-reply.

pub mod breaker;
pub mod companion;
mod error;
pub mod gate;
pub mod memory;
pub mod mention;
pub mod model;
pub mod outlet;
pub mod progress;
pub mod prompt;
pub mod provider;
pub mod reply;
pub mod trial;

pub use companion::{Asked, Asker, Companion, CompanionParts, CompanionSettings};
pub use error::CompanionError;
pub use mention::{mentions, RoomAsk, Said};
pub use model::Model;
pub use outlet::{Note, Outlet, Reply};
pub use progress::Writing;
pub use prompt::Persona;
pub use trial::{NoPremium, Premium};
