//! One ordering lock per stored room. A room's messages are stored and published under its
//! lock, and a join subscribes, reads history and queues its reply under the same lock, so a
//! client sees every message exactly once and in sequence order: what its join reply holds,
//! then live events after it. Ephemeral rooms also admit devices one at a time under it, and
//! close under it when they expire.
//!
//! A new message does not hold the lock while it is being committed. Its author takes the
//! lock, checks, and submits the message to the store's group commit (which numbers messages
//! in the order they are submitted), then [hands the lock over](Ordered::hand_over) and keeps
//! a [`Turn`]: the next author may submit at once, so messages that arrive together share one
//! commit (see `store::appender`). Publication stays in sequence order because each turn
//! publishes only after the previous one has, and whoever takes the lock next — a join, an
//! edit, an expiry — first waits until every turn handed over before it has published.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::oneshot::{self, error::TryRecvError};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// The last message handed over in a room and not yet published: its [`Turn`] holds the
/// sender and drops it once it has published (or given up).
type Tail = Option<oneshot::Receiver<()>>;

/// The locks of the rooms in use. Cheap to clone.
#[derive(Clone, Default)]
pub struct RoomLocks(Arc<Mutex<HashMap<String, Arc<AsyncMutex<Tail>>>>>);

/// A room's lock, held. Taken with [`RoomLocks::lock`], every message handed over before it
/// has been published; taken with [`RoomLocks::lock_to_post`], they may still be on their way.
pub struct Ordered(OwnedMutexGuard<Tail>);

/// A message's place in its room's order of publication (see [`Ordered::hand_over`]).
pub struct Turn {
    previous: Tail,
    _published: oneshot::Sender<()>,
}

impl RoomLocks {
    /// Waits for the room's lock (by its stored name), then for every message handed over
    /// before to be published: what the holder reads or announces comes after all of them.
    pub async fn lock(&self, room: &str) -> Ordered {
        let Ordered(mut tail) = self.lock_to_post(room).await;
        // Awaited in place, so a caller that gives up meanwhile leaves the tail for the next.
        if let Some(previous) = tail.as_mut() {
            let _ = previous.await;
        }
        *tail = None;
        Ordered(tail)
    }

    /// Waits for the room's lock only: for an author who will [hand it over](Ordered::hand_over)
    /// once its message is submitted, and publish in turn after the messages before it.
    pub async fn lock_to_post(&self, room: &str) -> Ordered {
        let lock = {
            let mut locks = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(locks.entry(room.to_owned()).or_default())
        };
        Ordered(lock.lock_owned().await)
    }

    /// Forgets the locks nobody holds or waits for, and whose last message was published
    /// (upkeep).
    pub fn prune(&self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, lock| {
                Arc::strong_count(lock) > 1
                    || lock.try_lock().map_or(true, |mut tail| {
                        tail.as_mut()
                            .is_some_and(|t| matches!(t.try_recv(), Err(TryRecvError::Empty)))
                    })
            });
    }
}

impl Ordered {
    /// Lets the room's next holder in while this holder's message is still being committed.
    /// The returned turn [waits](Turn::wait) for the message handed over before it to be
    /// published; dropping the turn lets the next one publish.
    pub fn hand_over(mut self) -> Turn {
        let previous = self.0.take();
        let (published, tail) = oneshot::channel();
        *self.0 = Some(tail);
        Turn {
            previous,
            _published: published,
        }
    }
}

impl Turn {
    /// Resolves once every message handed over before this one has been published.
    pub async fn wait(&mut self) {
        if let Some(previous) = self.previous.as_mut() {
            let _ = previous.await;
        }
        self.previous = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn turns_publish_in_the_order_they_were_handed_over() {
        let locks = RoomLocks::default();
        let first = locks.lock_to_post("r").await.hand_over();
        let mut second = locks.lock_to_post("r").await.hand_over();
        // The second author got the lock at once, but must publish after the first.
        let waiting = tokio::time::timeout(Duration::from_millis(20), second.wait()).await;
        assert!(waiting.is_err(), "the second turn waits for the first");
        drop(first);
        tokio::time::timeout(Duration::from_secs(1), second.wait())
            .await
            .expect("the first turn published");
    }

    #[tokio::test]
    async fn the_next_holder_waits_until_every_turn_handed_over_has_published() {
        let locks = RoomLocks::default();
        let turn = locks.lock("r").await.hand_over();
        let next = tokio::time::timeout(Duration::from_millis(20), locks.lock("r")).await;
        assert!(
            next.is_err(),
            "a join must not overtake a message being stored"
        );
        drop(turn);
        tokio::time::timeout(Duration::from_secs(1), locks.lock("r"))
            .await
            .expect("the turn was dropped");
    }

    #[tokio::test]
    async fn a_pending_turn_keeps_its_room_through_upkeep() {
        let locks = RoomLocks::default();
        let turn = locks.lock("r").await.hand_over();
        locks.prune();
        let next = tokio::time::timeout(Duration::from_millis(20), locks.lock("r")).await;
        assert!(
            next.is_err(),
            "pruning forgot a room with a message on its way"
        );
        drop(turn);
        locks.prune();
        assert!(
            locks.0.lock().unwrap().is_empty(),
            "a settled room is forgotten"
        );
    }
}
