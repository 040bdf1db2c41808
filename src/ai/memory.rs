//! What the companion remembers of each user: their last turns with it, sealed with the data
//! key of their conversation with the bot (so the memory is as protected as the conversation
//! itself), kept to `ai_memory_turns`, forgotten on `/reset` and with the account.
//!
//! A turn that no longer opens (a damaged row, a key that changed) is left out of the prompt,
//! never turned into an error: the conversation goes on with less context. Nothing here logs
//! a turn's text.

use super::provider::{Speaker, Turn};
use crate::clock::Clock;
use crate::crypto::SecretKey;
use crate::store::{NewTurn, Store, StoreError};

/// The companion's memory over the store.
#[derive(Clone, Debug)]
pub struct Memory {
    store: Store,
    clock: Clock,
    keep: usize,
}

impl Memory {
    pub fn new(store: Store, clock: Clock, keep: usize) -> Self {
        Self { store, clock, keep }
    }

    /// The user's remembered turns, oldest first.
    pub async fn recall(&self, user_id: i64, key: &SecretKey) -> Result<Vec<Turn>, StoreError> {
        let rows = self.store.ai_memory().of(user_id).await?;
        let mut turns = Vec::with_capacity(rows.len());
        for row in rows {
            let speaker = match row.speaker.as_str() {
                "user" => Speaker::User,
                "assistant" => Speaker::Assistant,
                _ => continue,
            };
            let opened = key
                .open(&row.body, context(user_id, row.seq).as_bytes())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok());
            match opened {
                Some(text) => turns.push(Turn { speaker, text }),
                None => tracing::warn!(user_id, seq = row.seq, "a remembered turn does not open"),
            }
        }
        Ok(turns)
    }

    /// Remembers an exchange (the user's message and the reply) and forgets what falls out of
    /// the window.
    pub async fn remember(
        &self,
        user_id: i64,
        key: &SecretKey,
        message: &str,
        reply: &str,
    ) -> Result<(), StoreError> {
        let sealer = |text: &str| {
            let text = text.to_owned();
            let key = key.clone();
            Box::new(move |seq: i64| key.seal(text.as_bytes(), context(user_id, seq).as_bytes()))
                as Box<dyn FnOnce(i64) -> Vec<u8> + Send>
        };
        let turns = vec![
            NewTurn {
                speaker: "user",
                seal: sealer(message),
            },
            NewTurn {
                speaker: "assistant",
                seal: sealer(reply),
            },
        ];
        self.store
            .ai_memory()
            .append(user_id, turns, self.keep, self.clock.now_millis())
            .await
    }

    /// Forgets everything about the user.
    pub async fn forget(&self, user_id: i64) -> Result<(), StoreError> {
        self.store.ai_memory().forget(user_id).await?;
        Ok(())
    }
}

/// The associated data of a turn: it opens only as this user's turn at this place.
fn context(user_id: i64, seq: i64) -> String {
    format!("ai-memory:{user_id}:{seq}")
}
