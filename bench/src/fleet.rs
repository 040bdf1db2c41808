//! A fleet of clients on one single-threaded runtime: every client reads and records what it
//! receives; senders also send on an open-loop schedule. Each message is stamped with the time
//! it was *meant* to be sent, so a stalled sender shows up as latency instead of hiding it
//! (no coordinated omission).

use crate::rawws::Frame;
use crate::stats::Stats;
use crate::wire::{self, Inbound, Marker, Socket, Target};
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What senders do now: during `[start_us, end_us)` each sends `per_sender_rate` messages/s.
#[derive(Clone, Copy, Debug, Default)]
pub struct Plan {
    pub step: u32,
    pub per_sender_rate: f64,
    pub start_us: u64,
    pub end_us: u64,
    /// Ask for an ack on every message and record send → ack latency.
    pub with_ack: bool,
}

/// State every client task shares (single-threaded, so `Rc` + `RefCell`).
pub struct Fleet {
    pub target: Target,
    pub payload: usize,
    pub epoch: Instant,
    pub stats: RefCell<Stats>,
    pub ack_latency_us: RefCell<Histogram<u64>>,
    pending_acks: RefCell<HashMap<u64, u64>>,
    pub sent: Cell<u64>,
    pub disconnected: Cell<u64>,
    plan: watch::Sender<Plan>,
}

/// Ack ids of measured messages start here, above the handshake's.
const ACK_BASE: u64 = 1000;

impl Fleet {
    pub fn new(target: Target, payload: usize, receivers: usize, senders: usize) -> Rc<Self> {
        Rc::new(Self {
            target,
            payload,
            epoch: Instant::now(),
            stats: RefCell::new(Stats::new(receivers, senders)),
            ack_latency_us: RefCell::new(
                Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid bounds"),
            ),
            pending_acks: RefCell::default(),
            sent: Cell::new(0),
            disconnected: Cell::new(0),
            plan: watch::channel(Plan::default()).0,
        })
    }

    pub fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Starts a new step: clears the counters and tells the senders.
    pub fn start_step(&self, plan: Plan) {
        self.stats.borrow_mut().reset(plan.step);
        self.ack_latency_us.borrow_mut().reset();
        self.pending_acks.borrow_mut().clear();
        self.sent.set(0);
        self.plan.send_replace(plan);
    }

    /// Connects `count` clients (at most `parallel` handshakes at a time).
    pub async fn connect(
        &self,
        base: &str,
        count: usize,
        parallel: usize,
        nick_prefix: &str,
    ) -> anyhow::Result<Vec<Socket>> {
        let target = self.target;
        let results: Vec<anyhow::Result<Socket>> = futures_util::stream::iter(0..count)
            .map(|i| {
                let nick = format!("{nick_prefix}{i}");
                async move { wire::connect(base, target, &nick).await }
            })
            .buffered(parallel)
            .collect()
            .await;
        results.into_iter().collect()
    }

    /// Runs one client until its connection ends. `sender` numbers the senders from 0.
    pub async fn run_client(
        self: Rc<Self>,
        mut socket: Socket,
        receiver: usize,
        sender: Option<u32>,
    ) {
        let mut plans = self.plan.subscribe();
        let mut plan = Plan::default();
        let (mut seq, mut due_us) = (0u64, u64::MAX);
        loop {
            let sending = sender.is_some() && due_us < plan.end_us;
            let wake = self.epoch + Duration::from_micros(due_us.min(u64::MAX / 4));
            tokio::select! {
                read = socket.fill() => {
                    if !matches!(read, Ok(n) if n > 0) || !self.drain_frames(&mut socket, receiver) {
                        break;
                    }
                    if socket.has_output() && socket.flush().await.is_err() {
                        break;
                    }
                }
                Ok(()) = plans.changed() => {
                    plan = *plans.borrow_and_update();
                    seq = 0;
                    due_us = if plan.per_sender_rate > 0.0 { plan.start_us } else { u64::MAX };
                }
                _ = tokio::time::sleep_until(wake.into()), if sending => {
                    let period_us = 1_000_000.0 / plan.per_sender_rate;
                    let now = self.now_us();
                    while due_us <= now && due_us < plan.end_us {
                        let marker = Marker { step: plan.step, sender: sender.unwrap_or(0), seq, sent_us: due_us };
                        let ack = plan.with_ack.then(|| {
                            let id = ACK_BASE + seq;
                            self.pending_acks.borrow_mut().insert(id, due_us);
                            id
                        });
                        socket.queue_text(&wire::message(self.target, marker, self.payload, ack));
                        self.sent.set(self.sent.get() + 1);
                        seq += 1;
                        due_us = plan.start_us + (seq as f64 * period_us) as u64;
                    }
                    if socket.flush().await.is_err() {
                        break;
                    }
                }
            }
        }
        self.disconnected.set(self.disconnected.get() + 1);
    }

    /// Handles every complete frame in the socket's buffer; `false` when the server closed.
    fn drain_frames(&self, socket: &mut Socket, receiver: usize) -> bool {
        let mut pongs = 0;
        let mut ws_pings = Vec::new();
        while let Some(frame) = socket.next_frame() {
            match frame {
                Frame::Text(text) => pongs += usize::from(self.on_frame(receiver, text)),
                Frame::Ping(payload) => ws_pings.push(payload.to_vec()),
                Frame::Close => return false,
                Frame::Other => {}
            }
        }
        for _ in 0..pongs {
            socket.queue_text("3");
        }
        for payload in ws_pings {
            socket.queue_pong(&payload);
        }
        true
    }

    /// Records a frame; returns whether it was a ping that needs a pong.
    fn on_frame(&self, receiver: usize, text: &str) -> bool {
        match wire::inspect(self.target, text) {
            Inbound::Message(marker) => {
                self.stats
                    .borrow_mut()
                    .record(receiver, marker, self.now_us())
            }
            Inbound::Ack(id) => {
                if let Some(sent) = self.pending_acks.borrow_mut().remove(&id) {
                    let _ = self
                        .ack_latency_us
                        .borrow_mut()
                        .record((self.now_us() - sent).max(1));
                }
            }
            Inbound::Error => self.stats.borrow_mut().errors += 1,
            Inbound::Ping => return true,
            Inbound::Other => {}
        }
        false
    }
}
