//! A fleet of clients on one single-threaded runtime: every client reads and records what it
//! receives; senders also send on an open-loop schedule. Each message is stamped with the time
//! it was *meant* to be sent, so a stalled sender shows up as latency instead of hiding it
//! (no coordinated omission).
//!
//! Clients are opened in batches with a bounded number of handshakes in flight, and each one
//! starts reading the moment its handshake completes: a client that is connected but not read
//! lets the server's queue for it fill up with presence events (every join is announced to
//! everyone already in the room) until the server drops it as a slow consumer, and a Socket.IO
//! client that does not answer the server's pings is dropped after the ping timeout.

use crate::rawws::Frame;
use crate::stats::Stats;
use crate::wire::{self, Inbound, Login, Marker, Socket, Target};
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What senders do now: during `[start_us, end_us)` clients `0..senders` send `sends_per_s`
/// messages per second between them, evenly interleaved.
#[derive(Clone, Copy, Debug, Default)]
pub struct Plan {
    pub step: u32,
    pub sends_per_s: f64,
    pub senders: u32,
    pub start_us: u64,
    pub end_us: u64,
    /// Ask for an ack on every message and record send → ack latency.
    pub with_ack: bool,
}

impl Plan {
    /// When sender `sender` sends its message number `seq`: the senders take turns, so the
    /// offered load is smooth even when each of them sends less than once per step.
    fn due_us(&self, sender: u32, seq: u64) -> u64 {
        let slot = seq as f64 * f64::from(self.senders) + f64::from(sender);
        self.start_us + (slot * 1e6 / self.sends_per_s) as u64
    }
}

/// How opening the fleet went.
#[derive(Clone, Debug, Default)]
pub struct Ramp {
    pub open: usize,
    pub failed: usize,
    pub first_error: Option<String>,
    pub secs: f64,
}

/// How the fleet is opened.
#[derive(Clone, Copy, Debug)]
pub struct RampPlan {
    /// Handshakes in flight at once.
    pub parallel: usize,
    /// Clients per batch; the fleet waits for quiet between batches.
    pub batch: usize,
}

/// State every client task shares (single-threaded, so `Rc` + `RefCell`).
pub struct Fleet {
    pub target: Target,
    pub payload: usize,
    pub room: String,
    pub epoch: Instant,
    pub stats: RefCell<Stats>,
    pub ack_latency_us: RefCell<Histogram<u64>>,
    /// Intended send time of messages awaiting their ack, by (client, ack id).
    pending_acks: RefCell<HashMap<(usize, u64), u64>>,
    pub sent: Cell<u64>,
    connected: Cell<usize>,
    pub disconnected: Cell<usize>,
    /// Why the server closed connections (the reason in its `closing` event).
    close_reasons: RefCell<BTreeMap<String, u64>>,
    /// Engine.IO pings answered.
    pub pongs: Cell<u64>,
    last_frame_us: Cell<u64>,
    steps: Cell<u32>,
    plan: watch::Sender<Plan>,
    stop: watch::Sender<bool>,
}

/// Ack ids of measured messages start here, above the handshake's.
const ACK_BASE: u64 = 1000;

/// The longest a single handshake may take (joining a room of thousands takes seconds when
/// the server is busy announcing earlier joins).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

impl Fleet {
    /// A fleet whose clients join `room`; `senders` is the most clients that will ever send;
    /// the clients are spread over `nodes` servers (see [`Fleet::ramp`]).
    pub fn new(
        target: Target,
        payload: usize,
        room: &str,
        (receivers, senders, nodes): (usize, usize, usize),
    ) -> Rc<Self> {
        Rc::new(Self {
            target,
            payload,
            room: room.to_owned(),
            epoch: Instant::now(),
            stats: RefCell::new(Stats::new(receivers, senders, nodes)),
            ack_latency_us: RefCell::new(
                Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid bounds"),
            ),
            pending_acks: RefCell::default(),
            sent: Cell::new(0),
            connected: Cell::new(0),
            disconnected: Cell::new(0),
            close_reasons: RefCell::default(),
            pongs: Cell::new(0),
            last_frame_us: Cell::new(0),
            steps: Cell::new(0),
            plan: watch::channel(Plan::default()).0,
            stop: watch::channel(false).0,
        })
    }

    pub fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Clients whose handshake completed and that are still open (none once shut down).
    pub fn open(&self) -> usize {
        if *self.stop.borrow() {
            return 0;
        }
        self.connected.get() - self.disconnected.get()
    }

    /// Why connections were closed by the server, e.g. `{"slow_consumer": 12}`.
    pub fn close_reasons(&self) -> Value {
        json!(*self.close_reasons.borrow())
    }

    /// A new step number: messages of earlier steps that arrive late are then told apart.
    pub fn next_step(&self) -> u32 {
        self.steps.set(self.steps.get() + 1);
        self.steps.get()
    }

    /// Starts a new step: clears the counters and tells the senders.
    pub fn start_step(&self, plan: Plan) {
        self.stats.borrow_mut().reset(plan.step);
        self.ack_latency_us.borrow_mut().reset();
        self.pending_acks.borrow_mut().clear();
        self.sent.set(0);
        self.plan.send_replace(plan);
    }

    /// Closes every client (their tasks end and drop their sockets).
    pub fn shut_down(&self) {
        self.stop.send_replace(true);
    }

    /// Waits until no frame has arrived for `quiet`, or `max` has passed; `true` when quiet.
    pub async fn wait_quiet(&self, quiet: Duration, max: Duration) -> bool {
        let quiet_us = quiet.as_micros() as u64;
        let deadline = Instant::now() + max;
        loop {
            if self.now_us().saturating_sub(self.last_frame_us.get()) >= quiet_us {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(quiet.min(Duration::from_millis(20))).await;
        }
    }

    /// Opens one client per login and starts each client's task as soon as its handshake is
    /// done; client i connects to `bases[i % bases.len()]` (several nodes share the fleet, and
    /// the senders, which are the first clients, alternate between them). Prints progress to
    /// stderr; never fails as a whole (see [`Ramp`]).
    pub async fn ramp(self: &Rc<Self>, bases: &[String], logins: &[Login], plan: RampPlan) -> Ramp {
        let started = Instant::now();
        let mut ramp = Ramp::default();
        let mut last_progress = Instant::now();
        let batch = plan.batch.max(1);
        for (b, chunk) in logins.chunks(batch).enumerate() {
            let mut connects = futures_util::stream::iter(chunk.iter().enumerate())
                .map(|(j, login)| async move {
                    let index = b * batch + j;
                    let base = &bases[index % bases.len()];
                    let connect = wire::connect(base, self.target, login, &self.room);
                    (index, tokio::time::timeout(CONNECT_TIMEOUT, connect).await)
                })
                .buffer_unordered(plan.parallel.max(1));
            while let Some((index, result)) = connects.next().await {
                match result {
                    Ok(Ok(socket)) => {
                        self.connected.set(self.connected.get() + 1);
                        tokio::task::spawn_local(Rc::clone(self).run_client(socket, index));
                    }
                    Ok(Err(err)) => {
                        ramp.failed += 1;
                        ramp.first_error.get_or_insert_with(|| format!("{err:#}"));
                    }
                    Err(_) => {
                        ramp.failed += 1;
                        ramp.first_error
                            .get_or_insert_with(|| "handshake timed out".to_owned());
                    }
                }
                if last_progress.elapsed() >= Duration::from_secs(5) {
                    last_progress = Instant::now();
                    eprintln!(
                        "   ramp: {} of {} open, {} failed, {} dropped, {:.0} s",
                        self.open(),
                        logins.len(),
                        ramp.failed,
                        self.disconnected.get(),
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            // Let the batch's presence events reach everyone before the next batch joins.
            self.wait_quiet(Duration::from_millis(50), Duration::from_secs(10))
                .await;
        }
        ramp.open = self.open();
        ramp.secs = started.elapsed().as_secs_f64();
        ramp
    }

    /// Runs one client until its connection ends or the fleet shuts down. Client `index`
    /// sends while it is one of the plan's first `senders`.
    pub async fn run_client(self: Rc<Self>, mut socket: Socket, index: usize) {
        let mut plans = self.plan.subscribe();
        let mut stop = self.stop.subscribe();
        let mut plan = Plan::default();
        let sender = u32::try_from(index).unwrap_or(u32::MAX);
        let (mut seq, mut due_us) = (0u64, u64::MAX);
        loop {
            let sending = due_us < plan.end_us;
            let wake = self.epoch + Duration::from_micros(due_us.min(u64::MAX / 4));
            tokio::select! {
                read = socket.fill() => {
                    if !matches!(read, Ok(n) if n > 0) || !self.drain_frames(&mut socket, index) {
                        break;
                    }
                    if socket.has_output() && socket.flush().await.is_err() {
                        break;
                    }
                }
                Ok(()) = plans.changed() => {
                    plan = *plans.borrow_and_update();
                    seq = 0;
                    let active = sender < plan.senders && plan.sends_per_s > 0.0;
                    due_us = if active { plan.due_us(sender, 0) } else { u64::MAX };
                }
                Ok(()) = stop.changed() => return,
                _ = tokio::time::sleep_until(wake.into()), if sending => {
                    let now = self.now_us();
                    while due_us <= now && due_us < plan.end_us {
                        let marker = Marker { step: plan.step, sender, seq, sent_us: due_us };
                        let ack = plan.with_ack.then(|| {
                            let id = ACK_BASE + seq;
                            self.pending_acks.borrow_mut().insert((index, id), due_us);
                            id
                        });
                        let text = wire::message(self.target, &self.room, marker, self.payload, ack);
                        socket.queue_text(&text);
                        self.sent.set(self.sent.get() + 1);
                        seq += 1;
                        due_us = plan.due_us(sender, seq);
                    }
                    if socket.flush().await.is_err() {
                        break;
                    }
                }
            }
        }
        if !*self.stop.borrow() {
            self.disconnected.set(self.disconnected.get() + 1);
        }
    }

    /// Handles every complete frame in the socket's buffer; `false` when the server closed.
    fn drain_frames(&self, socket: &mut Socket, receiver: usize) -> bool {
        let (mut pongs, mut busy) = (0, false);
        let mut ws_pings = Vec::new();
        while let Some(frame) = socket.next_frame() {
            match frame {
                Frame::Text(text) => match self.on_frame(receiver, text) {
                    Reaction::Pong => pongs += 1,
                    Reaction::Gone => return false,
                    Reaction::Traffic => busy = true,
                },
                Frame::Ping(payload) => ws_pings.push(payload.to_vec()),
                Frame::Close => return false,
                Frame::Other => {}
            }
        }
        // Keep-alive pings (every 25 s per Socket.IO client) do not count as traffic.
        if busy {
            self.last_frame_us.set(self.now_us());
        }
        for _ in 0..pongs {
            socket.queue_text("3");
        }
        self.pongs.set(self.pongs.get() + pongs as u64);
        for payload in ws_pings {
            socket.queue_pong(&payload);
        }
        true
    }

    /// Records a frame and says what it asks of the client.
    fn on_frame(&self, receiver: usize, text: &str) -> Reaction {
        match wire::inspect(self.target, text) {
            Inbound::Message(marker) => {
                self.stats
                    .borrow_mut()
                    .record(receiver, marker, self.now_us())
            }
            Inbound::Ack(id) => {
                if let Some(sent) = self.pending_acks.borrow_mut().remove(&(receiver, id)) {
                    let _ = self
                        .ack_latency_us
                        .borrow_mut()
                        .record((self.now_us() - sent).max(1));
                }
            }
            Inbound::Error => self.stats.borrow_mut().errors += 1,
            Inbound::Closing(reason) => {
                *self.close_reasons.borrow_mut().entry(reason).or_default() += 1;
            }
            Inbound::Disconnected => {
                let mut reasons = self.close_reasons.borrow_mut();
                *reasons.entry("socketio_disconnect".into()).or_default() += 1;
                return Reaction::Gone;
            }
            Inbound::Ping => return Reaction::Pong,
            Inbound::Other => {}
        }
        Reaction::Traffic
    }
}

/// What one incoming frame asks of a client's loop.
enum Reaction {
    /// An Engine.IO ping: answer it (keep-alive, not traffic).
    Pong,
    /// Anything else the server sent.
    Traffic,
    /// The server dropped the client.
    Gone,
}
