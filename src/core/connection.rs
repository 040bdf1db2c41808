//! One client connection as the core sees it: a bounded outbound queue, a close signal, and the
//! per-connection state (identity, joined rooms) the command handlers work on.
//!
//! The core never writes to a socket. It puts [`Outbound`] items into the connection's queue;
//! the framing's writer task drains the queue in batches and writes each batch in one go. When
//! the queue is full the connection is closed as a slow consumer instead of buffering more.
//!
//! The queue is a `VecDeque` behind a mutex with the writer's waker, not a channel: a channel
//! allocates about a kilobyte per connection up front (cache-padded counters and a first block
//! of slots) — a fifth of an idle connection's budget — and its per-item handshake costs more
//! in a room of 10 000 than one uncontended lock, which also lets the writer take a whole
//! batch at once. An idle connection's queue holds no allocation.

use super::event::{CloseReason, Event};
use super::outbound::{Answer, Broadcast, Outbound, Reply};
use super::CoreError;
use crate::auth::Identity;
use crate::domain::Role;
use std::collections::{BTreeSet, VecDeque};
use std::future::poll_fn;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Poll, Waker};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Process-unique connection number.
pub type ConnId = u64;

/// The core's handle on a connection: enough to deliver to it and to close it.
#[derive(Debug)]
pub struct ConnHandle {
    pub id: ConnId,
    queue: Mutex<Queue>,
    /// Items the queue holds before the connection is closed as a slow consumer.
    capacity: usize,
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
        let mut queue = self.queue();
        if queue.writer_gone {
            return false;
        }
        if queue.items.len() >= self.capacity {
            drop(queue);
            self.close(CloseReason::SlowConsumer);
            return false;
        }
        queue.items.push_back(item);
        let writer = queue.writer.take();
        drop(queue);
        if let Some(writer) = writer {
            writer.wake();
        }
        true
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Events and replies waiting in the queue now.
    pub fn queued(&self) -> usize {
        self.queue().items.len()
    }

    /// Why the server closes the connection, if it does.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.close_reason.get().copied()
    }

    /// Asks the writer to tell the client why and close. The first reason wins.
    pub fn close(&self, reason: CloseReason) {
        let _ = self.close_reason.set(reason);
        self.close.cancel();
        // The writer hears it through its queue: waiting on the token as well cost a
        // registration per wake-up, 10 000 per message in a room of 10 000.
        let writer = {
            let mut queue = self.queue();
            queue.closing = true;
            queue.writer.take()
        };
        if let Some(writer) = writer {
            writer.wake();
        }
    }

    /// As [`ConnHandle::close`], with a moderator's reason for the client to show.
    pub fn close_with(&self, reason: CloseReason, detail: Option<&str>) {
        if let Some(detail) = detail.filter(|d| !d.trim().is_empty()) {
            let _ = self.close_detail.set(detail.trim().to_owned());
        }
        self.close(reason);
    }
}

/// What waits for the writer, and how to wake it.
#[derive(Debug, Default)]
struct Queue {
    items: VecDeque<Outbound>,
    /// The writer task, when it waits for the queue to fill.
    writer: Option<Waker>,
    /// The [`Outbox`] is gone: nothing more is queued.
    writer_gone: bool,
    /// The connection is closing (the reason is on the handle).
    closing: bool,
}

/// The receiving end of a connection's queue, owned by the framing's writer task.
pub struct Outbox {
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
        if self.arrival().await {
            return Next::Close(self.close_reason());
        }
        self.drain_into(batch);
        let answers = batch.iter().any(|item| matches!(item, Outbound::Reply(_)));
        // One clock read per batch: after a wait, the batch goes out when the window ends.
        let now = Instant::now();
        let busy_until = self
            .last_batch
            .map(|at| at + COALESCE_WINDOW)
            .filter(|until| *until > now && !answers);
        // An idle connection writes at once, without first yielding to let more events
        // arrive: in a room of 10 000 that yield polled every writer twice per message and
        // put every first write behind 10 000 polls (p99 110 → 75 ms against the floor
        // writer's 55–64 ms), and at high rates the window above already gathers them.
        if let Some(until) = busy_until {
            tokio::time::sleep_until(until).await;
            self.drain_into(batch);
        }
        self.last_batch = Some(busy_until.unwrap_or(now));
        Next::Batch
    }

    /// Resolves once the queue holds something or the connection is closing (`true`; that
    /// takes priority). Cancel-safe: it takes nothing.
    async fn arrival(&self) -> bool {
        poll_fn(|cx| {
            let mut queue = self.handle.queue();
            if queue.closing || !queue.items.is_empty() {
                return Poll::Ready(queue.closing);
            }
            match &mut queue.writer {
                Some(writer) if writer.will_wake(cx.waker()) => {}
                writer => *writer = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await
    }

    fn drain_into(&mut self, batch: &mut Vec<Outbound>) {
        let mut queue = self.handle.queue();
        let take = queue.items.len().min(MAX_BATCH.saturating_sub(batch.len()));
        batch.extend(queue.items.drain(..take));
        // An idle connection's queue keeps nothing from a burst.
        if queue.items.is_empty() && queue.items.capacity() > 4 {
            queue.items = VecDeque::new();
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

impl Drop for Outbox {
    /// Nothing is queued for a writer that is gone; what waits is dropped (outside the lock).
    fn drop(&mut self) {
        let left = {
            let mut queue = self.handle.queue();
            queue.writer_gone = true;
            queue.writer = None;
            std::mem::take(&mut queue.items)
        };
        drop(left);
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
        let handle = Arc::new(ConnHandle {
            id,
            queue: Mutex::default(),
            capacity: queue,
            close: CancellationToken::new(),
            close_reason: OnceLock::new(),
            close_detail: OnceLock::new(),
            badge_update: Mutex::new(None),
        });
        let outbox = Outbox {
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
    async fn nothing_is_queued_once_the_writer_is_gone() {
        let (conn, outbox) = open(4);
        conn.notify(Event::closing(CloseReason::Shutdown));
        assert_eq!(conn.handle.queued(), 1);
        drop(outbox);
        assert_eq!(
            conn.handle.queued(),
            0,
            "what waited is dropped with the writer"
        );
        assert!(!conn
            .handle
            .deliver(&Broadcast::new(Event::closing(CloseReason::Shutdown))));
        assert_eq!(conn.handle.close_reason(), None, "not a slow consumer");
    }

    #[tokio::test]
    async fn a_waiting_writer_is_woken_by_what_is_queued() {
        let (conn, mut outbox) = open(4);
        let handle = Arc::clone(&conn.handle);
        let writer = tokio::spawn(async move {
            let mut batch = Vec::new();
            outbox.next(&mut batch).await;
            batch.len()
        });
        tokio::task::yield_now().await;
        handle.deliver(&Broadcast::new(Event::closing(CloseReason::Shutdown)));
        assert_eq!(writer.await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_batch_takes_at_most_max_batch_and_leaves_the_rest_queued() {
        let (conn, mut outbox) = open(MAX_BATCH + 10);
        for _ in 0..MAX_BATCH + 10 {
            conn.notify(Event::closing(CloseReason::Shutdown));
        }
        let mut batch = Vec::new();
        outbox.next(&mut batch).await;
        assert_eq!(batch.len(), MAX_BATCH);
        assert_eq!(conn.handle.queued(), 10);
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
