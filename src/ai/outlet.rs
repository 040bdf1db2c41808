//! Where the companion's output goes: the user's own connections (pieces of the reply, the
//! typing indicator, their place in the line, the trial's end) and the conversation's history
//! (the finished reply, stored as a message from the bot). The core implements it over its
//! presence and room services; the companion never touches connections or rooms itself.

use super::CompanionError;
use futures_util::future::BoxFuture;

/// Something only the asking user's connections are told (never stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// The request waits; `position` 1 is next.
    Queued { reply_id: String, position: usize },
    /// The bot is writing (`true`) or stopped (`false`).
    Typing { active: bool },
    /// The next piece of the reply `reply_id`, starting `at` UTF-16 code units into it (what
    /// JavaScript strings count), so a page that caught up from a snapshot can tell a piece it
    /// already holds from a new one.
    Delta {
        reply_id: String,
        text: String,
        at: usize,
    },
    /// The free messages are spent; the model was not asked.
    LimitReached { free_messages: u32 },
}

/// A finished reply, to store in the conversation as a message from the bot. Its
/// `client_msg_id` is `reply_id`, the id its pieces carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub reply_id: String,
    pub text: String,
    /// The model did not answer: this is the fixed fallback text.
    pub fallback: bool,
}

/// The companion's way out. `room` is the user's conversation with the bot.
pub trait Outlet: Send + Sync + 'static {
    fn tell(&self, user_id: i64, room: &str, note: Note);

    fn post<'a>(
        &'a self,
        user_id: i64,
        room: &'a str,
        reply: Reply,
    ) -> BoxFuture<'a, Result<(), CompanionError>>;
}
