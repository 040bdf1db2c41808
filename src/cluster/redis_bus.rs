//! The Redis implementation of [`Bus`]: a publisher task (one connection, in order, retrying
//! what must not be lost), a listener task (one subscription connection, resubscribed with
//! backoff, watched by pings), and a heartbeat task (this node's liveness, `/ws` slots, other
//! nodes' deaths, rooms nobody here is in any more).

use super::sequencer::{Gap, Sequencer};
use super::wire::{self, Body, Envelope, Present};
use crate::core::{Broadcast, Bus, Directive, Entry, Event, Inbound, LiveConnection, UserView};
use crate::domain::{Principal, LOBBY};
use crate::metrics::BusBacklog;
use anyhow::Context;
use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// How long a Redis command may take before the node treats Redis as unreachable.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// Heartbeats: written this often, and a node whose heartbeat is older than the TTL is dead.
const HEARTBEAT: Duration = Duration::from_secs(3);
const HEARTBEAT_TTL: Duration = Duration::from_secs(10);
/// How long a `/ws` slot lives without its node refreshing it (a crashed node's slots free
/// themselves).
const SLOT_TTL: Duration = Duration::from_secs(60);
/// The listener pings this often; no answer within [`COMMAND_TIMEOUT`] and it reconnects.
const PING: Duration = Duration::from_secs(2);
/// Messages waiting for the publisher. Past this, what can be recovered (stored messages) is
/// left to the other nodes' gap filling, and the rest is dropped and counted.
const OUTGOING: usize = 65_536;
/// How long a request for every node's connections waits for the answers.
const REPORT_WAIT: Duration = Duration::from_secs(1);
/// Most publishes sent in one pipeline.
const PIPELINE: usize = 256;
/// A room nobody here has been in for this long stops being listened to.
const UNWATCH_AFTER: Duration = Duration::from_secs(30);

type Item = (Arc<Broadcast>, Option<Principal>);

/// One publish: its channel, its bytes, and the presence write that goes with it.
struct Outgoing {
    channel: String,
    payload: Vec<u8>,
    /// Retried until Redis takes it (stored messages, directives, presence); anything else
    /// is dropped when Redis is down.
    durable: bool,
    write: Option<Write>,
}

enum Write {
    Set {
        key: String,
        field: String,
        value: String,
    },
    Del {
        key: String,
        field: String,
    },
}

enum Control {
    Watch(String, oneshot::Sender<()>),
    Unwatch(String),
}

struct Shared {
    node: String,
    boot: u64,
    sent: AtomicU64,
    client: redis::Client,
    conn: ConnectionManager,
    inbound: OnceLock<Arc<dyn Inbound>>,
    sequencer: Sequencer<Item>,
    outgoing: mpsc::Sender<Outgoing>,
    control: mpsc::UnboundedSender<Control>,
    /// Rooms this node listens to, with when someone last wanted them.
    watched: Mutex<HashMap<String, Instant>>,
    /// `/ws` slots held by connections on this node.
    slots: Mutex<HashSet<Principal>>,
    /// The last publish count seen from each node incarnation.
    seen: Mutex<HashMap<(String, u64), u64>>,
    listening: AtomicBool,
    listening_since: Mutex<Option<Instant>>,
    dropped: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The bus of one node among several.
pub struct RedisBus {
    shared: Arc<Shared>,
}

impl RedisBus {
    /// Connects to Redis and starts the bus's tasks. Fails with a clear message when the URL
    /// is not a Redis URL or Redis does not answer.
    pub async fn connect(url: &str, node: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .context("redis_url is not a Redis URL (redis://[user:password@]host:port[/db])")?;
        let address = client.get_connection_info().addr.to_string();
        // One plain connection first: a refused or wrong address fails at once and plainly,
        // before the managed connection (which retries) is made.
        let probe = tokio::time::timeout(COMMAND_TIMEOUT, async {
            let mut probe = client.get_multiplexed_async_connection().await?;
            redis::cmd("PING").query_async::<String>(&mut probe).await
        })
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {COMMAND_TIMEOUT:?}"))
        .and_then(|pong| pong.map_err(anyhow::Error::from));
        probe.with_context(|| format!("cannot reach Redis at {address}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(COMMAND_TIMEOUT)
            .set_response_timeout(COMMAND_TIMEOUT)
            .set_number_of_retries(2);
        let conn = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .with_context(|| format!("cannot reach Redis at {address}"))?;
        let (outgoing, outgoing_rx) = mpsc::channel(OUTGOING);
        let (control, control_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            node: node.to_owned(),
            boot: rand_boot(),
            sent: AtomicU64::new(0),
            client,
            conn,
            inbound: OnceLock::new(),
            sequencer: Sequencer::default(),
            outgoing,
            control,
            watched: Mutex::default(),
            slots: Mutex::default(),
            seen: Mutex::default(),
            listening: AtomicBool::new(false),
            listening_since: Mutex::default(),
            dropped: AtomicU64::new(0),
        });
        shared.forget_previous_life().await;
        // Every node has lobby users (or soon will): the lobby is always listened to.
        lock(&shared.watched).insert(LOBBY.to_owned(), Instant::now());
        tokio::spawn(publish(Arc::clone(&shared), outgoing_rx));
        tokio::spawn(listen(Arc::clone(&shared), control_rx));
        tokio::spawn(heartbeat(Arc::clone(&shared)));
        tracing::info!(redis = %address, "fan-out through Redis");
        Ok(Self { shared })
    }

    /// Where this node's connection ids start: a number no other node start got (from a
    /// counter in Redis), in the high bits, so ids are unique in the cluster and stay below
    /// 2^53 (exact in JavaScript) for two million starts.
    pub async fn first_connection_id(&self) -> anyhow::Result<u64> {
        let mut conn = self.shared.conn.clone();
        let start: u64 = redis::cmd("INCR")
            .arg(wire::STARTS_KEY)
            .query_async(&mut conn)
            .await
            .context("cannot number this node's start in Redis")?;
        Ok(((start % (1 << 21)) << 32) + 1)
    }

    /// Connections per address counted with the other nodes, over this bus's connection.
    pub fn counts(&self) -> super::RedisCounts {
        super::RedisCounts::new(self.shared.conn.clone(), &self.shared.node)
    }

    /// Brakes shared with the other nodes, over this bus's connection.
    pub fn windows(&self) -> super::RedisWindows {
        super::RedisWindows::new(self.shared.conn.clone(), &self.shared.node)
    }

    /// Leaves the cluster cleanly (shutdown): the other nodes drop this node's users at once
    /// instead of waiting for its heartbeat to lapse.
    async fn leave_cluster(&self) {
        let shared = &self.shared;
        shared.send(
            wire::all_channel(),
            Body::Directive {
                directive: Cow::Owned(Directive::NodeGone {
                    node: shared.node.clone(),
                }),
            },
            true,
            None,
        );
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        while shared.outgoing.capacity() < OUTGOING && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut conn = shared.conn.clone();
        let _: Result<(), _> = redis::cmd("DEL")
            .arg(wire::node_key(&shared.node))
            .query_async(&mut conn)
            .await;
    }
}

/// This incarnation's number: the start time, told apart by the process id.
fn rand_boot() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 40)
}

impl Shared {
    fn inbound(&self) -> Option<&Arc<dyn Inbound>> {
        self.inbound.get()
    }

    /// Encodes once and queues for the publisher.
    fn send(&self, channel: String, body: Body, durable: bool, write: Option<Write>) {
        let envelope = Envelope {
            node: self.node.clone(),
            boot: self.boot,
            n: self.sent.fetch_add(1, Ordering::Relaxed) + 1,
            body,
        };
        let Ok(payload) = serde_json::to_vec(&envelope) else {
            return;
        };
        let outgoing = Outgoing {
            channel,
            payload,
            durable,
            write,
        };
        if self.outgoing.try_send(outgoing).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("bus: outgoing queue full, a publish was dropped");
        }
    }

    /// Delivers a room event here, in order when it is a stored message.
    fn deliver(self: &Arc<Self>, room: &str, broadcast: Arc<Broadcast>, except: Option<Principal>) {
        let Some(inbound) = self.inbound() else {
            return;
        };
        let seq = match &broadcast.event {
            Event::Message(message) => message.seq,
            _ => None,
        };
        let Some(seq) = seq else {
            inbound.deliver(room, &broadcast, except);
            return;
        };
        let gap = self
            .sequencer
            .offer(room, seq, (broadcast, except), |(b, e)| {
                inbound.deliver(room, &b, e)
            });
        if let Some(gap) = gap {
            tokio::spawn(Arc::clone(self).fill(room.to_owned(), gap));
        }
    }

    /// Reads what this node missed in a room from the database and delivers it in order.
    async fn fill(self: Arc<Self>, room: String, mut gap: Gap) {
        let Some(inbound) = self.inbound().cloned() else {
            return;
        };
        loop {
            let mut found = Vec::new();
            let mut answered = false;
            for attempt in 1..=3u32 {
                match inbound.backfill(&room, gap.after, gap.upto).await {
                    Ok(messages) => {
                        found = messages;
                        answered = true;
                        break;
                    }
                    Err(err) => {
                        tracing::warn!(room = %room, error = %err, "bus: cannot read missed messages yet");
                        tokio::time::sleep(Duration::from_millis(300) * attempt).await;
                    }
                }
            }
            // "Everything up to now" settles at what the database has; a failed read of it
            // settles nothing.
            if gap.upto == i64::MAX {
                gap.upto = found.last().and_then(|m| m.seq).unwrap_or(gap.after);
            }
            if !answered {
                tracing::warn!(room = %room, after = gap.after, upto = gap.upto, "bus: skipped messages the database did not give back");
            }
            let items = found
                .into_iter()
                .filter_map(|m| {
                    m.seq
                        .map(|seq| (seq, (Broadcast::new(Event::Message(Box::new(m))), None)))
                })
                .collect();
            let next = self
                .sequencer
                .filled(&room, gap, items, |(b, e)| inbound.deliver(&room, &b, e));
            match next {
                Some(next) => gap = next,
                None => return,
            }
        }
    }

    /// One message from Redis.
    fn receive(self: &Arc<Self>, payload: &[u8]) {
        let envelope: Envelope = match serde_json::from_slice(payload) {
            Ok(envelope) => envelope,
            Err(err) => {
                tracing::warn!(error = %err, "bus: a message that is not an envelope");
                return;
            }
        };
        if envelope.node == self.node && envelope.boot == self.boot {
            return;
        }
        {
            let mut seen = lock(&self.seen);
            let last = seen
                .entry((envelope.node.clone(), envelope.boot))
                .or_default();
            if envelope.n <= *last {
                return;
            }
            *last = envelope.n;
        }
        let Some(inbound) = self.inbound() else {
            return;
        };
        match envelope.body {
            Body::Event {
                room,
                except,
                event,
            } => self.deliver(&room, Broadcast::new(event.into_owned()), except),
            Body::Presence {
                room,
                principal,
                user,
            } => {
                let node: Arc<str> = Arc::from(envelope.node.as_str());
                inbound.remote_presence(&room, &node, principal, user);
            }
            Body::Directive { directive } => inbound.apply(directive.into_owned()),
            Body::Report { reply } => {
                tokio::spawn(Arc::clone(self).report(reply));
            }
        }
    }

    /// Pushes this node's live connections onto a report's list.
    async fn report(self: Arc<Self>, reply: String) {
        let Some(inbound) = self.inbound() else {
            return;
        };
        let Ok(live) = serde_json::to_string(&inbound.connections()) else {
            return;
        };
        let mut conn = self.conn.clone();
        let _: Result<(), _> = redis::pipe()
            .cmd("RPUSH")
            .arg(&reply)
            .arg(live)
            .ignore()
            .cmd("EXPIRE")
            .arg(&reply)
            .arg(REPORT_WAIT.as_secs() * 10)
            .ignore()
            .query_async(&mut conn)
            .await;
    }

    /// Every node's live connections: asks them all and gathers the answers of the living
    /// nodes (within [`REPORT_WAIT`]; a node that does not answer in time is left out).
    async fn gather(self: &Arc<Self>) -> Vec<LiveConnection> {
        let local = self.inbound().map(|i| i.connections()).unwrap_or_default();
        let mut conn = self.conn.clone();
        let nodes = scan(&mut conn, wire::NODE_PATTERN).await.len();
        if nodes <= 1 {
            return local;
        }
        let reply = wire::report_key(&self.node, rand_boot());
        self.send(
            wire::all_channel(),
            Body::Report {
                reply: reply.clone(),
            },
            false,
            None,
        );
        let deadline = Instant::now() + REPORT_WAIT;
        let others = nodes - 1;
        loop {
            let answered: usize = redis::cmd("LLEN")
                .arg(&reply)
                .query_async(&mut conn)
                .await
                .unwrap_or(0);
            if answered >= others || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let lists: Vec<String> = redis::cmd("LRANGE")
            .arg(&reply)
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .unwrap_or_default();
        let _: Result<(), _> = redis::cmd("DEL").arg(&reply).query_async(&mut conn).await;
        let mut live = local;
        for list in lists {
            if let Ok(more) = serde_json::from_str::<Vec<LiveConnection>>(&list) {
                live.extend(more);
            }
        }
        live
    }

    /// Learns who is already in a room this node starts listening to. Entries of nodes whose
    /// heartbeat is gone are removed.
    async fn load_presence(&self, room: &str) {
        let Some(inbound) = self.inbound() else {
            return;
        };
        let mut conn = self.conn.clone();
        let key = wire::presence_key(room);
        let fields: HashMap<String, String> =
            match redis::cmd("HGETALL").arg(&key).query_async(&mut conn).await {
                Ok(fields) => fields,
                Err(err) => {
                    tracing::warn!(error = %err, "bus: cannot read a room's presence");
                    return;
                }
            };
        let mut alive: HashMap<String, bool> = HashMap::new();
        for (field, value) in fields {
            let Some(node) = wire::node_of_field(&field) else {
                continue;
            };
            if node == self.node {
                continue;
            }
            if !alive.contains_key(node) {
                let exists: bool = redis::cmd("EXISTS")
                    .arg(wire::node_key(node))
                    .query_async(&mut conn)
                    .await
                    .unwrap_or(true);
                alive.insert(node.to_owned(), exists);
            }
            if !alive[node] {
                let _: Result<(), _> = redis::cmd("HDEL")
                    .arg(&key)
                    .arg(&field)
                    .query_async(&mut conn)
                    .await;
                continue;
            }
            if let Ok(present) = serde_json::from_str::<Present>(&value) {
                let node: Arc<str> = Arc::from(node);
                inbound.remote_presence(room, &node, present.principal, Some(present.user));
            }
        }
    }

    /// After an outage: tell the others again who is here (Redis may have restarted empty),
    /// and read back every room's missed messages.
    async fn recover(self: &Arc<Self>) {
        self.beat().await;
        if let Some(inbound) = self.inbound() {
            for (room, principal, user) in inbound.local_presence() {
                self.presence(&room, principal, Some(&user));
            }
            for (name, principal) in inbound.local_names() {
                if !self.claim_name(&name, principal).await {
                    tracing::warn!("bus: a name is online on two nodes after an outage");
                }
            }
        }
        let rooms: Vec<String> = lock(&self.watched).keys().cloned().collect();
        for room in &rooms {
            self.load_presence(room).await;
        }
        for (room, _) in self.sequencer.rooms_known() {
            if let Some(gap) = self.sequencer.want(&room, i64::MAX) {
                tokio::spawn(Arc::clone(self).fill(room, gap));
            }
        }
    }

    /// Takes a name cluster-wide (see [`wire::CLAIM_NAME`]). With Redis unreachable the
    /// node's own rule is all there is, and the claim goes through.
    async fn claim_name(&self, name_key: &str, principal: Principal) -> bool {
        let mut conn = self.conn.clone();
        let taken = redis::cmd("EVAL")
            .arg(wire::CLAIM_NAME)
            .arg(1)
            .arg(wire::name_key(name_key))
            .arg(&self.node)
            .arg(principal.key())
            .arg(wire::node_key_prefix())
            .query_async::<i64>(&mut conn)
            .await;
        match taken {
            Ok(taken) => taken == 1,
            Err(err) => {
                tracing::warn!(error = %err, "bus: a name was checked on this node only");
                true
            }
        }
    }

    fn presence(&self, room: &str, principal: Principal, user: Option<&UserView>) {
        let key = wire::presence_key(room);
        let field = wire::presence_field(&self.node, principal);
        let write = match user {
            Some(user) => {
                let present = Present {
                    principal,
                    user: user.clone(),
                };
                let value = serde_json::to_string(&present).unwrap_or_default();
                Write::Set { key, field, value }
            }
            None => Write::Del { key, field },
        };
        let body = Body::Presence {
            room: room.to_owned(),
            principal,
            user: user.cloned(),
        };
        self.send(wire::room_channel(room), body, true, Some(write));
    }

    /// Writes this node's heartbeat and refreshes its `/ws` slots.
    async fn beat(&self) {
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(wire::node_key(&self.node))
            .arg(self.boot)
            .arg("PX")
            .arg(HEARTBEAT_TTL.as_millis() as u64)
            .ignore();
        for principal in lock(&self.slots).iter() {
            pipe.cmd("PEXPIRE")
                .arg(wire::slot_key(*principal))
                .arg(SLOT_TTL.as_millis() as u64)
                .ignore();
        }
        if let Err(err) = pipe.query_async::<()>(&mut conn).await {
            tracing::debug!(error = %err, "bus: heartbeat not written");
        }
    }

    /// A node restarting under the same name: its previous life's presence goes.
    async fn forget_previous_life(&self) {
        let mut conn = self.conn.clone();
        let prefix = format!("{}|", self.node);
        for key in scan(&mut conn, wire::PRESENCE_PATTERN).await {
            let fields: Vec<String> = redis::cmd("HKEYS")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap_or_default();
            let mine: Vec<&String> = fields.iter().filter(|f| f.starts_with(&prefix)).collect();
            if !mine.is_empty() {
                let _: Result<(), _> = redis::cmd("HDEL")
                    .arg(&key)
                    .arg(mine)
                    .query_async(&mut conn)
                    .await;
            }
        }
        for key in scan(&mut conn, wire::NAME_PATTERN).await {
            let _: Result<(), _> = redis::cmd("HDEL")
                .arg(&key)
                .arg(&self.node)
                .query_async(&mut conn)
                .await;
        }
        self.send(
            wire::all_channel(),
            Body::Directive {
                directive: Cow::Owned(Directive::NodeGone {
                    node: self.node.clone(),
                }),
            },
            true,
            None,
        );
    }

    fn listening_for(&self) -> Option<Duration> {
        lock(&self.listening_since).map(|since| since.elapsed())
    }

    fn set_listening(&self, on: bool) {
        let was = self.listening.swap(on, Ordering::Relaxed);
        if was != on {
            *lock(&self.listening_since) = on.then(Instant::now);
            match on {
                true => tracing::info!("bus: listening to Redis"),
                false => tracing::warn!("bus: Redis unreachable; resubscribing with backoff"),
            }
        }
    }
}

/// Every key matching `pattern`, by SCAN, not KEYS: a big Redis is not blocked while a node
/// starts.
async fn scan(conn: &mut ConnectionManager, pattern: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut cursor = 0u64;
    loop {
        let page: Result<(u64, Vec<String>), _> = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(500)
            .query_async(conn)
            .await;
        let Ok((next, found)) = page else { break };
        keys.extend(found);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    keys
}

/// Publishes in order; retries what must not be lost until Redis takes it. What queued up
/// while a round trip was under way goes out as one pipeline (one write, one wait), so the
/// bus keeps up with bursts instead of paying a round trip per event.
async fn publish(shared: Arc<Shared>, mut rx: mpsc::Receiver<Outgoing>) {
    let mut conn = shared.conn.clone();
    let mut batch = Vec::with_capacity(PIPELINE);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < PIPELINE {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let mut delay = Duration::from_millis(50);
        loop {
            let mut pipe = redis::pipe();
            for item in &batch {
                match &item.write {
                    Some(Write::Set { key, field, value }) => {
                        pipe.cmd("HSET").arg(key).arg(field).arg(value).ignore();
                    }
                    Some(Write::Del { key, field }) => {
                        pipe.cmd("HDEL").arg(key).arg(field).ignore();
                    }
                    None => {}
                }
                pipe.cmd("PUBLISH")
                    .arg(&item.channel)
                    .arg(&item.payload)
                    .ignore();
            }
            match pipe.query_async::<()>(&mut conn).await {
                Ok(()) => break,
                Err(err) => {
                    // Live-only events are not worth waiting for; the rest is retried. What
                    // queued up meanwhile is sorted the same way, so live events never wait
                    // behind a retry for Redis to come back (they would arrive stale, or fill
                    // the queue): durable ones join the retry, in order, the others are dropped.
                    let before = batch.len();
                    batch.retain(|item| item.durable);
                    let mut dropped = (before - batch.len()) as u64;
                    while batch.len() < PIPELINE {
                        match rx.try_recv() {
                            Ok(item) if item.durable => batch.push(item),
                            Ok(_) => dropped += 1,
                            Err(_) => break,
                        }
                    }
                    shared.dropped.fetch_add(dropped, Ordering::Relaxed);
                    tracing::debug!(error = %err, dropped, "bus: publish failed");
                    if batch.is_empty() {
                        break;
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
            }
        }
        batch.clear();
    }
}

/// Listens to the directive channel and the watched rooms; reconnects with backoff.
async fn listen(shared: Arc<Shared>, mut control: mpsc::UnboundedReceiver<Control>) {
    let mut backoff = Duration::from_millis(100);
    let mut first = true;
    loop {
        let connected =
            tokio::time::timeout(COMMAND_TIMEOUT, shared.client.get_async_pubsub()).await;
        let Ok(Ok(pubsub)) = connected else {
            shared.set_listening(false);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
            continue;
        };
        let (mut sink, mut stream) = pubsub.split();
        let mut channels = vec![wire::all_channel()];
        channels.extend(
            lock(&shared.watched)
                .keys()
                .map(|room| wire::room_channel(room)),
        );
        if !matches!(
            tokio::time::timeout(COMMAND_TIMEOUT, sink.subscribe(&channels)).await,
            Ok(Ok(()))
        ) {
            shared.set_listening(false);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
            continue;
        }
        backoff = Duration::from_millis(100);
        shared.set_listening(true);
        if !first {
            shared.recover().await;
        }
        first = false;
        let mut ping = tokio::time::interval(PING);
        loop {
            tokio::select! {
                message = stream.next() => match message {
                    Some(message) => shared.receive(message.get_payload_bytes()),
                    None => break,
                },
                Some(control) = control.recv() => match control {
                    Control::Watch(room, done) => {
                        let subscribed = tokio::time::timeout(
                            COMMAND_TIMEOUT,
                            sink.subscribe(wire::room_channel(&room)),
                        ).await;
                        if !matches!(subscribed, Ok(Ok(()))) {
                            break;
                        }
                        shared.load_presence(&room).await;
                        let _ = done.send(());
                    }
                    Control::Unwatch(room) => {
                        let _ = tokio::time::timeout(
                            COMMAND_TIMEOUT,
                            sink.unsubscribe(wire::room_channel(&room)),
                        ).await;
                    }
                },
                _ = ping.tick() => {
                    let pong = tokio::time::timeout(COMMAND_TIMEOUT, sink.ping::<redis::Value>()).await;
                    if !matches!(pong, Ok(Ok(_))) {
                        break;
                    }
                }
            }
        }
        shared.set_listening(false);
    }
}

/// Heartbeats, other nodes' deaths, and rooms no longer needed.
async fn heartbeat(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    let mut missing: HashMap<Arc<str>, u32> = HashMap::new();
    loop {
        tick.tick().await;
        shared.beat().await;
        let Some(inbound) = shared.inbound().cloned() else {
            continue;
        };
        // A node is dead when its heartbeat has been missing twice in a row while this node
        // has been listening longer than the heartbeat's lifetime (after an outage, every
        // node writes its heartbeat again first).
        let steady = shared.listening_for().is_some_and(|d| d > HEARTBEAT_TTL);
        let mut conn = shared.conn.clone();
        let nodes = inbound.remote_nodes();
        missing.retain(|node, _| nodes.contains(node));
        for node in nodes {
            let exists = redis::cmd("EXISTS")
                .arg(wire::node_key(&node))
                .query_async::<bool>(&mut conn)
                .await;
            match exists {
                Ok(false) if steady => {
                    let count = missing.entry(Arc::clone(&node)).or_default();
                    *count += 1;
                    if *count >= 2 {
                        tracing::warn!(node = %node, "bus: node gone (no heartbeat); its users leave");
                        inbound.apply(Directive::NodeGone {
                            node: node.to_string(),
                        });
                        missing.remove(&node);
                    }
                }
                Ok(_) => {
                    missing.remove(&node);
                }
                Err(_) => {}
            }
        }
        let stale: Vec<String> = lock(&shared.watched)
            .iter()
            .filter(|(room, wanted)| {
                room.as_str() != LOBBY
                    && wanted.elapsed() > UNWATCH_AFTER
                    && !inbound.present_here(room)
            })
            .map(|(room, _)| room.clone())
            .collect();
        for room in stale {
            lock(&shared.watched).remove(&room);
            shared.sequencer.forget(&room);
            inbound.forget_room(&room);
            let _ = shared.control.send(Control::Unwatch(room));
        }
    }
}

impl Bus for RedisBus {
    fn publish(&self, room: &str, broadcast: Arc<Broadcast>, except: Option<Principal>) {
        let shared = &self.shared;
        let durable = matches!(&broadcast.event, Event::Message(m) if m.seq.is_some());
        let body = Body::Event {
            room: room.to_owned(),
            except,
            event: Cow::Borrowed(&broadcast.event),
        };
        shared.send(wire::room_channel(room), body, durable, None);
        shared.deliver(room, broadcast, except);
    }

    fn direct(&self, directive: Directive) {
        let shared = &self.shared;
        let body = Body::Directive {
            directive: Cow::Borrowed(&directive),
        };
        shared.send(wire::all_channel(), body, true, None);
        if let Some(inbound) = shared.inbound() {
            inbound.apply(directive);
        }
    }

    fn presence(&self, room: &str, principal: Principal, user: Option<&UserView>) {
        self.shared.presence(room, principal, user);
    }

    fn watch<'a>(&'a self, room: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let shared = &self.shared;
            let new = lock(&shared.watched)
                .insert(room.to_owned(), Instant::now())
                .is_none();
            if !new {
                return;
            }
            let (done, subscribed) = oneshot::channel();
            if shared
                .control
                .send(Control::Watch(room.to_owned(), done))
                .is_ok()
            {
                // Redis down: go on; the room is subscribed and resynchronised on reconnect.
                let _ = tokio::time::timeout(COMMAND_TIMEOUT, subscribed).await;
            }
        })
    }

    fn enter_at(&self, room: &str, seq: i64, enter: &mut dyn FnMut()) -> Entry {
        lock(&self.shared.watched).insert(room.to_owned(), Instant::now());
        self.shared.sequencer.enter_at(room, seq, enter)
    }

    fn catch_up<'a>(&'a self, room: &'a str, seq: i64) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            match self.shared.sequencer.want(room, seq) {
                Some(gap) => Arc::clone(&self.shared).fill(room.to_owned(), gap).await,
                // A fill runs already: give it a moment.
                None => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        })
    }

    fn take_slot(&self, principal: Principal) -> BoxFuture<'_, bool> {
        Box::pin(async move {
            let shared = &self.shared;
            let mut conn = shared.conn.clone();
            let holder = format!("{}:{}", shared.node, shared.boot);
            let taken = redis::cmd("SET")
                .arg(wire::slot_key(principal))
                .arg(holder)
                .arg("NX")
                .arg("PX")
                .arg(SLOT_TTL.as_millis() as u64)
                .query_async::<Option<String>>(&mut conn)
                .await;
            match taken {
                Ok(Some(_)) => lock(&shared.slots).insert(principal),
                Ok(None) => false,
                Err(err) => {
                    // Redis down: this node's own rule still holds.
                    tracing::warn!(error = %err, "bus: /ws slot checked on this node only");
                    lock(&shared.slots).insert(principal)
                }
            }
        })
    }

    fn free_slot(&self, principal: Principal) {
        let shared = Arc::clone(&self.shared);
        if !lock(&shared.slots).remove(&principal) {
            return;
        }
        tokio::spawn(async move {
            let mut conn = shared.conn.clone();
            let _: Result<(), _> = redis::cmd("DEL")
                .arg(wire::slot_key(principal))
                .query_async(&mut conn)
                .await;
        });
    }

    fn claim_name<'a>(&'a self, name_key: &'a str, principal: Principal) -> BoxFuture<'a, bool> {
        Box::pin(self.shared.claim_name(name_key, principal))
    }

    fn release_name(&self, name_key: &str, _principal: Principal) {
        let shared = Arc::clone(&self.shared);
        let key = wire::name_key(name_key);
        tokio::spawn(async move {
            let mut conn = shared.conn.clone();
            let _: Result<(), _> = redis::cmd("HDEL")
                .arg(key)
                .arg(&shared.node)
                .query_async(&mut conn)
                .await;
        });
    }

    fn name_holder<'a>(&'a self, name_key: &'a str) -> BoxFuture<'a, Option<Principal>> {
        Box::pin(async move {
            let shared = &self.shared;
            let mut conn = shared.conn.clone();
            let holders: HashMap<String, String> = redis::cmd("HGETALL")
                .arg(wire::name_key(name_key))
                .query_async(&mut conn)
                .await
                .ok()?;
            for (node, principal) in holders {
                let alive: bool = redis::cmd("EXISTS")
                    .arg(wire::node_key(&node))
                    .query_async(&mut conn)
                    .await
                    .unwrap_or(false);
                if alive && node != shared.node {
                    return Principal::from_key(&principal);
                }
            }
            None
        })
    }

    fn connections(&self) -> BoxFuture<'_, Vec<LiveConnection>> {
        Box::pin(self.shared.gather())
    }

    fn check(&self) -> BoxFuture<'_, Option<Result<(), String>>> {
        Box::pin(async move {
            let mut conn = self.shared.conn.clone();
            let pong = tokio::time::timeout(
                COMMAND_TIMEOUT,
                redis::cmd("PING").query_async::<String>(&mut conn),
            )
            .await;
            Some(match pong {
                Ok(Ok(_)) if self.shared.listening.load(Ordering::Relaxed) => Ok(()),
                Ok(Ok(_)) => Err("subscription not established yet".to_owned()),
                Ok(Err(err)) => Err(err.to_string()),
                Err(_) => Err("no answer".to_owned()),
            })
        })
    }

    fn backlog(&self) -> Option<BusBacklog> {
        let shared = &self.shared;
        Some(BusBacklog {
            queued: (OUTGOING - shared.outgoing.capacity()) as u64,
            dropped: shared.dropped.load(Ordering::Relaxed),
        })
    }

    fn attach(&self, inbound: Arc<dyn Inbound>) {
        let _ = self.shared.inbound.set(inbound);
    }

    fn leave(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.leave_cluster())
    }
}
