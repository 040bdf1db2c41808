//! The identify deadline of every new connection, watched by one task for all of them: a
//! connection that has not identified when its time is up is closed (`identify_timeout`), so
//! an idle unauthenticated connection cannot hold a descriptor and memory for nothing.
//!
//! Why one task: a task per connection cost about half a kilobyte for as long as its deadline
//! ran — a tenth of an idle connection's whole budget while a crowd arrives. Every connection
//! gets the same delay, so deadlines fall due in the order connections open, and a queue in
//! that order is all the timer this needs. A connection that closes early is forgotten with
//! its handle (the queue holds it weakly).

use super::sessions::IdentifyDeadline;
use crate::core::{CloseReason, ConnHandle, Hub};
use crate::domain::Millis;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use tokio::sync::Notify;

pub struct IdentifyWatch {
    deadline: IdentifyDeadline,
    hub: Arc<Hub>,
    due: Arc<Due>,
    started: AtomicBool,
}

/// Connections by deadline, earliest first.
#[derive(Default)]
struct Due {
    queue: Mutex<VecDeque<(Millis, Weak<ConnHandle>)>>,
    /// Told when the queue stops being empty.
    arrived: Notify,
}

impl Due {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Millis, Weak<ConnHandle>)>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl IdentifyWatch {
    pub fn new(deadline: IdentifyDeadline, hub: Arc<Hub>) -> Self {
        Self {
            deadline,
            hub,
            due: Arc::default(),
            started: AtomicBool::new(false),
        }
    }

    /// Starts the deadline of a connection that just opened (taken now).
    pub fn watch(&self, handle: &Arc<ConnHandle>) {
        let after = i64::try_from(self.deadline.after.as_millis()).unwrap_or(i64::MAX);
        let due = self.deadline.clock.now_millis().saturating_add(after);
        let was_empty = {
            let mut queue = self.due.lock();
            queue.push_back((due, Arc::downgrade(handle)));
            queue.len() == 1
        };
        if !self.started.swap(true, Ordering::AcqRel) {
            tokio::spawn(watching(
                self.deadline.clone(),
                Arc::clone(&self.hub),
                Arc::clone(&self.due),
            ));
        }
        if was_empty {
            self.due.arrived.notify_one();
        }
    }
}

/// The one watching task: sleeps until the earliest deadline, closes whoever is still
/// unidentified then, and waits for the next.
async fn watching(deadline: IdentifyDeadline, hub: Arc<Hub>, due: Arc<Due>) {
    loop {
        let next = due.lock().front().map(|(at, _)| *at);
        let Some(at) = next else {
            // A connection opening meanwhile left a permit: this returns at once then.
            due.arrived.notified().await;
            continue;
        };
        deadline.clock.sleep_until_millis(at).await;
        let now = deadline.clock.now_millis();
        let expired: Vec<_> = {
            let mut queue = due.lock();
            let ready = queue.iter().take_while(|(at, _)| *at <= now).count();
            queue.drain(..ready).map(|(_, handle)| handle).collect()
        };
        for handle in expired.iter().filter_map(Weak::upgrade) {
            if !hub.is_identified(handle.id) {
                handle.close(CloseReason::IdentifyTimeout);
            }
        }
    }
}
