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
//!
//! A framing may also hand the core an [`Express`] way to its socket: an event for a connection
//! that has nothing queued, nothing on its way out and has not written within the coalescing
//! window is then written by whoever delivers it, under the queue's lock, instead of waking the
//! connection's task to write it. In a room of 10 000 that wake and poll per recipient cost as
//! much as the write itself (see `bench/analysis.md`). Under the lock, an event can never
//! overtake what was queued before it, and nothing queued after it can overtake it.

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

    /// Queues an event without waiting, or writes it at once when the connection is idle and
    /// its framing can (see [`Express`]); `false` when it could not be queued. A full queue
    /// closes the connection as a slow consumer.
    pub fn deliver(&self, broadcast: &Arc<Broadcast>) -> bool {
        self.deliver_with(broadcast, Instant::now)
    }

    /// [`ConnHandle::deliver`] as part of a fan-out that started `now` (one clock read for
    /// every recipient) and may write directly or not (see `roster::Pace`).
    pub fn deliver_at(&self, broadcast: &Arc<Broadcast>, now: Instant, direct: bool) -> bool {
        if direct {
            self.deliver_with(broadcast, || now)
        } else {
            self.push(Outbound::Event(Arc::clone(broadcast)))
        }
    }

    fn deliver_with(&self, broadcast: &Arc<Broadcast>, now: impl FnOnce() -> Instant) -> bool {
        let mut queue = self.queue();
        if queue.items.is_empty() && !queue.in_flight && !queue.closing {
            if let Some(express) = &queue.express {
                let now = now();
                let idle = queue
                    .last_write
                    .is_none_or(|at| now.saturating_duration_since(at) >= COALESCE_WINDOW);
                if idle && express.send(broadcast) {
                    queue.last_write = Some(now);
                    return true;
                }
            }
        }
        self.push_locked(queue, Outbound::Event(Arc::clone(broadcast)))
    }

    /// Queues a reply to one of the connection's own commands.
    pub fn reply(&self, reply: Reply) {
        self.push(Outbound::Reply(Box::new(reply)));
    }

    fn push(&self, item: Outbound) -> bool {
        self.push_locked(self.queue(), item)
    }

    fn push_locked(&self, mut queue: MutexGuard<'_, Queue>, item: Outbound) -> bool {
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

/// A framing's way to write an event straight to its connection's socket, from the task that
/// delivers it (see the module docs). Called under the connection's queue lock, only when
/// nothing of the connection's is queued or being handed over.
pub trait Express: Send + Sync {
    /// Takes the event for the socket without waiting: written at once, or, when the kernel
    /// took only part of it, the rest left with the connection's writer, which it wakes.
    /// `false` when the socket has frames of its own waiting: the event is queued instead.
    fn send(&self, broadcast: &Broadcast) -> bool;
}

/// What waits for the writer, and how to wake it.
#[derive(Default)]
struct Queue {
    items: VecDeque<Outbound>,
    /// The writer has taken items it has not yet handed to its socket: nothing may be written
    /// past them.
    in_flight: bool,
    /// When the connection last wrote, for the coalescing window.
    last_write: Option<Instant>,
    /// The framing's direct way to the socket, while the connection may use it.
    express: Option<Arc<dyn Express>>,
    /// The writer task, when it waits for the queue to fill.
    writer: Option<Waker>,
    /// The [`Outbox`] is gone: nothing more is queued.
    writer_gone: bool,
    /// The connection is closing (the reason is on the handle).
    closing: bool,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("items", &self.items.len())
            .field("in_flight", &self.in_flight)
            .field("express", &self.express.is_some())
            .field("closing", &self.closing)
            .finish_non_exhaustive()
    }
}

/// The receiving end of a connection's queue, owned by the framing's writer task.
pub struct Outbox {
    handle: Arc<ConnHandle>,
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
        let last_write = self.drain_into(batch);
        let answers = batch.iter().any(|item| matches!(item, Outbound::Reply(_)));
        // One clock read per batch: after a wait, the batch goes out when the window ends.
        let now = Instant::now();
        let busy_until = last_write
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
        self.handle.queue().last_write = Some(busy_until.unwrap_or(now));
        Next::Batch
    }

    /// Lets the framing write events straight to the socket while the connection is idle
    /// (see [`Express`]); the writer must hand each batch to the same socket before it asks
    /// for the next.
    pub fn express(&self, express: Arc<dyn Express>) {
        self.handle.queue().express = Some(express);
    }

    /// Stops writing past the writer: the connection is ending, and what it writes last (the
    /// answer to a close) must be last.
    pub fn stop_express(&self) {
        self.handle.queue().express = None;
    }

    /// Resolves once the queue holds something or the connection is closing (`true`; that
    /// takes priority). Cancel-safe: it takes nothing.
    async fn arrival(&self) -> bool {
        poll_fn(|cx| {
            let mut queue = self.handle.queue();
            // Asked with an empty batch: whatever the writer took before is with its socket.
            queue.in_flight = false;
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

    /// Moves what is queued into `batch`; returns when the connection last wrote.
    fn drain_into(&mut self, batch: &mut Vec<Outbound>) -> Option<Instant> {
        let mut queue = self.handle.queue();
        let take = queue.items.len().min(MAX_BATCH.saturating_sub(batch.len()));
        batch.extend(queue.items.drain(..take));
        queue.in_flight |= take > 0;
        // An idle connection's queue keeps nothing from a burst.
        if queue.items.is_empty() && queue.items.capacity() > 4 {
            queue.items = VecDeque::new();
        }
        queue.last_write
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
            (std::mem::take(&mut queue.items), queue.express.take())
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

    /// A socket that takes every event, or none (`open` false), and counts what it took.
    #[derive(Default)]
    struct Socket {
        open: std::sync::atomic::AtomicBool,
        took: std::sync::atomic::AtomicUsize,
    }

    impl Express for Socket {
        fn send(&self, _: &Broadcast) -> bool {
            use std::sync::atomic::Ordering::SeqCst;
            let open = self.open.load(SeqCst);
            if open {
                self.took.fetch_add(1, SeqCst);
            }
            open
        }
    }

    fn express(outbox: &Outbox) -> Arc<Socket> {
        let socket = Arc::new(Socket::default());
        socket.open.store(true, std::sync::atomic::Ordering::SeqCst);
        outbox.express(Arc::clone(&socket) as Arc<dyn Express>);
        socket
    }

    fn took(socket: &Socket) -> usize {
        socket.took.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn event() -> Arc<Broadcast> {
        Broadcast::new(Event::closing(CloseReason::Shutdown))
    }

    #[tokio::test(start_paused = true)]
    async fn an_event_for_an_idle_connection_goes_straight_to_its_socket() {
        let (conn, outbox) = open(4);
        let socket = express(&outbox);
        assert!(conn.handle.deliver(&event()));
        assert_eq!((took(&socket), conn.handle.queued()), (1, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn an_event_never_overtakes_what_is_queued_or_being_handed_over() {
        let (conn, mut outbox) = open(8);
        let socket = express(&outbox);
        conn.handle.reply(Reply {
            ack: Some(1),
            result: Err(CoreError::RateLimited(None).body()),
        });
        conn.handle.deliver(&event());
        assert_eq!(
            (took(&socket), conn.handle.queued()),
            (0, 2),
            "queued behind the reply"
        );

        // Taken by the writer but not yet written: still nothing past it.
        let mut batch = Vec::new();
        outbox.next(&mut batch).await;
        tokio::time::sleep(COALESCE_WINDOW * 2).await;
        conn.handle.deliver(&event());
        assert_eq!((took(&socket), conn.handle.queued()), (0, 1));

        // The writer handed its batch over and asks for more: the queue goes first, and then,
        // idle again, the socket is the way.
        batch.clear();
        outbox.next(&mut batch).await;
        assert_eq!(batch.len(), 1);
        batch.clear();
        let next = tokio::spawn(async move {
            let mut batch = Vec::new();
            let _ = tokio::time::timeout(COALESCE_WINDOW, outbox.next(&mut batch)).await;
            (outbox, batch.len())
        });
        tokio::task::yield_now().await;
        tokio::time::sleep(COALESCE_WINDOW * 2).await;
        let (outbox, waited) = next.await.unwrap();
        assert_eq!(waited, 0);
        conn.handle.deliver(&event());
        assert_eq!((took(&socket), conn.handle.queued()), (1, 0));
        drop(outbox);
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_just_wrote_gathers_what_follows_for_its_writer() {
        let (conn, outbox) = open(8);
        let socket = express(&outbox);
        conn.handle.deliver(&event());
        conn.handle.deliver(&event());
        assert_eq!(
            (took(&socket), conn.handle.queued()),
            (1, 1),
            "within the window"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_socket_or_a_closing_connection_queues_instead() {
        let (conn, outbox) = open(8);
        let socket = express(&outbox);
        socket
            .open
            .store(false, std::sync::atomic::Ordering::SeqCst);
        conn.handle.deliver(&event());
        assert_eq!(conn.handle.queued(), 1, "the socket had frames of its own");

        let (conn, outbox) = open(8);
        let socket = express(&outbox);
        conn.end(CloseReason::Kicked);
        conn.handle.deliver(&event());
        assert_eq!((took(&socket), conn.handle.queued()), (0, 1));

        let (conn, outbox) = open(8);
        let socket = express(&outbox);
        outbox.stop_express();
        conn.handle.deliver(&event());
        assert_eq!((took(&socket), conn.handle.queued()), (0, 1));
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
