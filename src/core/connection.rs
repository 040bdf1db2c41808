//! One client connection as the core sees it: a bounded outbound queue, a close signal, and the
//! per-connection state (identity, joined rooms) the command handlers work on.
//!
//! The core never writes to a socket. It puts [`Outbound`] items into the connection's queue;
//! the framing's writer task drains the queue in batches and writes each batch in one go. When
//! the queue is full the connection is closed as a slow consumer instead of buffering more.

use super::event::{CloseReason, Event};
use super::outbound::{Answer, Broadcast, Outbound, Reply};
use super::CoreError;
use crate::auth::Identity;
use crate::domain::Role;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Process-unique connection number.
pub type ConnId = u64;

/// The core's handle on a connection: enough to deliver to it and to close it.
#[derive(Debug)]
pub struct ConnHandle {
    pub id: ConnId,
    tx: mpsc::Sender<Outbound>,
    close: CancellationToken,
    close_reason: OnceLock<CloseReason>,
    close_detail: OnceLock<String>,
    /// A new role and verified badge for the identity, applied before its next command.
    badge_update: Mutex<Option<(Role, bool)>>,
}

impl ConnHandle {
    /// Tells the connection its identity's role or verified badge changed.
    pub fn update_badges(&self, role: Role, verified: bool) {
        *self
            .badge_update
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((role, verified));
    }

    /// Queues an event without waiting; `false` when it could not be queued. A full queue
    /// closes the connection as a slow consumer.
    pub fn deliver(&self, broadcast: &Arc<Broadcast>) -> bool {
        self.push(Outbound::Event(Arc::clone(broadcast)))
    }

    /// Queues a reply to one of the connection's own commands.
    pub fn reply(&self, reply: Reply) {
        self.push(Outbound::Reply(Box::new(reply)));
    }

    fn push(&self, item: Outbound) -> bool {
        match self.tx.try_send(item) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.close(CloseReason::SlowConsumer);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Events and replies waiting in the queue now.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Why the server closes the connection, if it does.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.close_reason.get().copied()
    }

    /// Asks the writer to tell the client why and close. The first reason wins.
    pub fn close(&self, reason: CloseReason) {
        let _ = self.close_reason.set(reason);
        self.close.cancel();
    }

    /// As [`ConnHandle::close`], with a moderator's reason for the client to show.
    pub fn close_with(&self, reason: CloseReason, detail: Option<&str>) {
        if let Some(detail) = detail.filter(|d| !d.trim().is_empty()) {
            let _ = self.close_detail.set(detail.trim().to_owned());
        }
        self.close(reason);
    }
}

/// The receiving end of a connection's queue, owned by the framing's writer task.
pub struct Outbox {
    rx: mpsc::Receiver<Outbound>,
    handle: Arc<ConnHandle>,
    /// When the last batch was handed to the writer.
    last_batch: Option<Instant>,
}

/// What the writer should do next.
pub enum Next {
    /// Write these items (at least one), then flush once.
    Batch,
    /// Send a `closing` event with this reason, then close the transport.
    Close(CloseReason),
}

/// The most items written per flush: bounds the latency a large backlog adds to the first one.
const MAX_BATCH: usize = 256;
/// A connection that wrote less than this long ago waits out the rest of it before writing
/// again, so that under load one write (and one TCP segment) carries many frames. Sockets are
/// `TCP_NODELAY`, so this short, bounded wait is the only coalescing; an idle connection never
/// waits, and neither does the answer to the connection's own command: an author's ack
/// typically follows the event of its message by microseconds — after the writer has already
/// sent the event — and waiting out the window behind it made a stored message's ack take
/// 4 ms longer about one time in ten. Answers are one per command, so writing them at once
/// costs at most one write per command, never per delivery.
const COALESCE_WINDOW: Duration = Duration::from_millis(4);

impl Outbox {
    /// Waits for work: adds everything queued (up to a bound) to `batch`, which the writer
    /// empties, or reports that the connection must close. Closing takes priority over queued
    /// items. Cancel-safe: an item taken from the queue is already in `batch`.
    pub async fn next(&mut self, batch: &mut Vec<Outbound>) -> Next {
        if !batch.is_empty() {
            self.drain_into(batch);
            return Next::Batch;
        }
        tokio::select! {
            biased;
            _ = self.handle.close.cancelled() => return Next::Close(self.close_reason()),
            item = self.rx.recv() => match item {
                Some(item) => batch.push(item),
                None => return Next::Close(self.close_reason()),
            },
        }
        self.drain_into(batch);
        let answers = batch.iter().any(|item| matches!(item, Outbound::Reply(_)));
        let busy_until = self
            .last_batch
            .map(|at| at + COALESCE_WINDOW)
            .filter(|until| *until > Instant::now() && !answers);
        // An idle connection writes at once, without first yielding to let more events
        // arrive: in a room of 10 000 that yield polled every writer twice per message and
        // put every first write behind 10 000 polls (p99 110 → 75 ms against the floor
        // writer's 55–64 ms), and at high rates the window above already gathers them.
        if let Some(until) = busy_until {
            tokio::time::sleep_until(until).await;
            self.drain_into(batch);
        }
        self.last_batch = Some(Instant::now());
        Next::Batch
    }

    fn drain_into(&mut self, batch: &mut Vec<Outbound>) {
        while batch.len() < MAX_BATCH {
            match self.rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
    }

    /// Resolves when the connection has been told to close (for reader tasks to stop).
    pub fn closed(&self) -> CancellationToken {
        self.handle.close.clone()
    }

    /// The `closing` event to send before closing for `reason`.
    pub fn closing_event(&self, reason: CloseReason) -> Event {
        Event::closing_with(reason, self.handle.close_detail.get().cloned())
    }

    /// Why the connection is closing (shutdown unless something else was said).
    pub fn close_reason(&self) -> CloseReason {
        self.handle
            .close_reason
            .get()
            .copied()
            .unwrap_or(CloseReason::Shutdown)
    }
}

/// Where a connection comes from and what it brought along.
#[derive(Clone, Debug)]
pub struct ConnInfo {
    pub ip: IpAddr,
    /// A session token the transport carried (cookie, Socket.IO auth); used by a bare
    /// `identify`.
    pub credential: Option<String>,
}

/// The core-side state of one connection, owned by its reader task.
#[derive(Debug)]
pub struct Connection {
    pub(super) handle: Arc<ConnHandle>,
    pub(super) info: ConnInfo,
    pub(super) identity: Option<Identity>,
    pub(super) rooms: BTreeSet<String>,
    /// The ack id of the command being applied, and whether it has been answered.
    ack: Option<u64>,
    answered: bool,
}

impl Connection {
    pub(super) fn open(id: ConnId, info: ConnInfo, queue: usize) -> (Self, Outbox) {
        let (tx, rx) = mpsc::channel(queue);
        let handle = Arc::new(ConnHandle {
            id,
            tx,
            close: CancellationToken::new(),
            close_reason: OnceLock::new(),
            close_detail: OnceLock::new(),
            badge_update: Mutex::new(None),
        });
        let outbox = Outbox {
            rx,
            handle: Arc::clone(&handle),
            last_batch: None,
        };
        let conn = Self {
            handle,
            info,
            identity: None,
            rooms: BTreeSet::new(),
            ack: None,
            answered: false,
        };
        (conn, outbox)
    }

    pub fn id(&self) -> ConnId {
        self.handle.id
    }

    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }

    /// The connection's identity, or `unauthenticated` before `identify`.
    pub fn identified(&self) -> Result<&Identity, CoreError> {
        self.identity.as_ref().ok_or(CoreError::NotIdentified)
    }

    /// Closes this connection for `reason`: the writer tells the client why and goes.
    pub fn end(&self, reason: CloseReason) {
        self.handle.close(reason);
    }

    /// The client's address.
    pub fn ip(&self) -> IpAddr {
        self.info.ip
    }

    /// A command starts; its answer will carry `ack`.
    pub(super) fn begin(&mut self, ack: Option<u64>) {
        self.ack = ack;
        self.answered = false;
    }

    /// Answers the command being applied, now: a command that must order its reply with
    /// events (a stored room's join) answers before it returns. Only the first answer counts,
    /// and a client that asked for no ack gets none.
    pub(super) fn answer(&mut self, reply: impl serde::Serialize + Send + Sync + 'static) {
        self.answer_with(Answer::new(reply));
    }

    pub(super) fn answer_with(&mut self, answer: Answer) {
        if std::mem::replace(&mut self.answered, true) || self.ack.is_none() {
            return;
        }
        self.handle.reply(Reply {
            ack: self.ack,
            result: Ok(answer),
        });
    }

    /// Refuses the command being applied: in its ack, or as an `error` event when the client
    /// asked for no ack.
    pub(super) fn refuse(&mut self, err: CoreError) {
        self.answered = true;
        match self.ack {
            Some(_) => self.handle.reply(Reply {
                ack: self.ack,
                result: Err(err.body()),
            }),
            None => self.notify(Event::Error(err.body())),
        }
    }

    /// Applies a role or badge change made while the connection was waiting.
    pub(super) fn apply_badge_update(&mut self) {
        let update = self
            .handle
            .badge_update
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let (Some((role, verified)), Some(identity)) = (update, self.identity.as_mut()) {
            identity.role = role;
            identity.verified = verified;
        }
    }

    /// Queues a one-off event for this connection alone.
    pub fn notify(&self, event: Event) {
        self.handle.deliver(&Broadcast::new(event));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn open(queue: usize) -> (Connection, Outbox) {
        let info = ConnInfo {
            ip: Ipv4Addr::LOCALHOST.into(),
            credential: None,
        };
        Connection::open(1, info, queue)
    }

    #[tokio::test]
    async fn a_full_queue_closes_the_connection_as_a_slow_consumer() {
        let (conn, mut outbox) = open(2);
        for _ in 0..3 {
            conn.notify(Event::closing(CloseReason::Shutdown));
        }
        let mut batch = Vec::new();
        assert!(matches!(
            outbox.next(&mut batch).await,
            Next::Close(CloseReason::SlowConsumer)
        ));
    }

    #[tokio::test]
    async fn queued_items_are_drained_in_one_batch() {
        let (conn, mut outbox) = open(8);
        for _ in 0..5 {
            conn.notify(Event::closing(CloseReason::Shutdown));
        }
        let mut batch = Vec::new();
        assert!(matches!(outbox.next(&mut batch).await, Next::Batch));
        assert_eq!(batch.len(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_connection_gathers_what_arrives_within_the_window_into_one_batch() {
        let (conn, mut outbox) = open(8);
        let handle = Arc::clone(&conn.handle);
        let mut batch = Vec::new();
        conn.notify(Event::closing(CloseReason::Shutdown));
        outbox.next(&mut batch).await;
        assert_eq!(batch.len(), 1);
        batch.clear();

        conn.notify(Event::closing(CloseReason::Shutdown));
        tokio::spawn(async move {
            tokio::time::sleep(COALESCE_WINDOW / 2).await;
            handle.deliver(&Broadcast::new(Event::closing(CloseReason::Shutdown)));
        });
        let started = Instant::now();
        outbox.next(&mut batch).await;
        assert_eq!(
            batch.len(),
            2,
            "what arrived within the window shares the write"
        );
        assert!(started.elapsed() <= COALESCE_WINDOW);
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_is_written_at_once_even_within_the_window() {
        let (conn, mut outbox) = open(8);
        let mut batch = Vec::new();
        conn.notify(Event::closing(CloseReason::Shutdown));
        outbox.next(&mut batch).await;
        batch.clear();
        conn.handle.reply(Reply {
            ack: Some(1),
            result: Err(CoreError::RateLimited(None).body()),
        });
        let started = Instant::now();
        outbox.next(&mut batch).await;
        assert_eq!(batch.len(), 1);
        assert_eq!(started.elapsed(), Duration::ZERO, "the ack did not wait");
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_writes_at_once() {
        let (conn, mut outbox) = open(8);
        let mut batch = Vec::new();
        for _ in 0..2 {
            tokio::time::sleep(COALESCE_WINDOW * 2).await;
            conn.notify(Event::closing(CloseReason::Shutdown));
            let started = Instant::now();
            outbox.next(&mut batch).await;
            assert_eq!(started.elapsed(), Duration::ZERO);
            batch.clear();
        }
    }
}
