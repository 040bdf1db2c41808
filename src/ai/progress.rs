//! What the companion is doing for each user right now, so that a page opened (or reloaded)
//! in the middle of a reply can catch up: the pieces already streamed are not events it can
//! hear again, and the stored message does not exist yet.
//!
//! One entry per user (the gate allows one reply per user at a time), from admission until the
//! finished reply is stored; the text is what has been streamed so far. Holding it costs at
//! most one reply per running or waiting generation, which the gate bounds.

use std::collections::HashMap;
use std::sync::Mutex;

/// A reply on its way to one user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Writing {
    /// The user's conversation with the bot.
    pub room: String,
    /// The id the pieces carry and the stored reply's `client_msg_id`.
    pub reply_id: String,
    /// The place in the line while waiting (1 is next); `None` once the model is writing.
    pub position: Option<usize>,
    /// What has been streamed so far.
    pub text: String,
}

/// The replies on their way, by user.
#[derive(Debug, Default)]
pub struct Progress {
    writing: Mutex<HashMap<i64, Writing>>,
}

impl Progress {
    fn with<R>(&self, f: impl FnOnce(&mut HashMap<i64, Writing>) -> R) -> R {
        f(&mut self.writing.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// A reply was admitted for `user`; it waits for its turn.
    pub fn admitted(&self, user: i64, room: &str, reply_id: &str) {
        self.with(|writing| {
            writing.insert(
                user,
                Writing {
                    room: room.to_owned(),
                    reply_id: reply_id.to_owned(),
                    position: None,
                    text: String::new(),
                },
            );
        });
    }

    /// The reply waits at `position`.
    pub fn queued(&self, user: i64, position: usize) {
        self.with(|writing| {
            if let Some(entry) = writing.get_mut(&user) {
                entry.position = Some(position);
            }
        });
    }

    /// The model is writing.
    pub fn started(&self, user: i64) {
        self.with(|writing| {
            if let Some(entry) = writing.get_mut(&user) {
                entry.position = None;
            }
        });
    }

    /// The next piece was streamed.
    pub fn piece(&self, user: i64, piece: &str) {
        self.with(|writing| {
            if let Some(entry) = writing.get_mut(&user) {
                entry.text.push_str(piece);
            }
        });
    }

    /// The reply is stored (or given up): nothing to catch up on any more.
    pub fn finished(&self, user: i64, reply_id: &str) {
        self.with(|writing| {
            if writing
                .get(&user)
                .is_some_and(|entry| entry.reply_id == reply_id)
            {
                writing.remove(&user);
            }
        });
    }

    /// The reply on its way to `user`, if any.
    pub fn of(&self, user: i64) -> Option<Writing> {
        self.with(|writing| writing.get(&user).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_followed_from_admission_to_storage() {
        let progress = Progress::default();
        assert_eq!(progress.of(7), None);
        progress.admitted(7, "pm:1:7", "ai-x");
        progress.queued(7, 2);
        assert_eq!(progress.of(7).unwrap().position, Some(2));
        progress.started(7);
        progress.piece(7, "Hel");
        progress.piece(7, "lo");
        let writing = progress.of(7).unwrap();
        assert_eq!((writing.position, writing.text.as_str()), (None, "Hello"));
        assert_eq!(progress.of(8), None, "another user sees nothing of it");
        progress.finished(7, "ai-x");
        assert_eq!(progress.of(7), None);
    }

    #[test]
    fn an_old_reply_finishing_late_does_not_drop_a_newer_one() {
        let progress = Progress::default();
        progress.admitted(7, "pm:1:7", "ai-new");
        progress.finished(7, "ai-old");
        assert_eq!(progress.of(7).unwrap().reply_id, "ai-new");
    }
}
