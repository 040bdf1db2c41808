//! A cluster under faults, with traffic flowing: a node killed with SIGKILL (its clients
//! resume on another node, its users leave the lists), Redis stopped for half a minute, Redis
//! dropping a node's subscription for lagging behind, and PostgreSQL restarting. Whatever was
//! acknowledged arrives once, in order; what failed says so with an error code, and its retry
//! stores it once.

mod common;

use common::cluster::{
    cluster, cluster_with, each_id_once, exactly_once_in_order, post_once, process_node,
    reader_on_b, stored_messages, within,
};
use common::postgres::Postgres;
use common::protocol::{
    from_value, Ack, Frame, MemberLeft, MembersPage, Message, Posted, Room, Session,
};
use common::redis::Redis;
use common::{unique_name, Request, WsClient, PASSWORD, PATIENCE};
use parlor::config::Secret;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a dead node's users may stay listed: its heartbeat lives 10 s and is checked
/// every 3 s, and two misses in a row make it dead (about 15–20 s).
const DEAD_NODE_LEAVES_WITHIN: Duration = Duration::from_secs(30);

/// How long Redis stays stopped in the stall test.
const STALL: Duration = Duration::from_secs(30);

/// How long a failing send may take to say so (the database pool waits 10 s for a
/// connection before giving up).
const FAILS_WITHIN: Duration = Duration::from_secs(20);

/// How long a retry may keep failing after the fault is repaired.
const RETRIES_WITHIN: Duration = Duration::from_secs(60);

/// Posts `count` messages (`client_msg_id` `{prefix}-{i}`) to `room`, one every 40 ms, on the
/// first of `nodes`; a post that is not acknowledged is retried with the same id on the next
/// node (or the last again) until it is. Every acknowledged seq goes into `acked`; returns the
/// highest.
async fn write(
    nodes: Vec<String>,
    token: String,
    room: String,
    prefix: &'static str,
    count: usize,
    acked: Arc<AtomicI64>,
) -> i64 {
    let mut node = 0;
    let mut last = 0;
    for i in 0..count {
        let (id, text) = (format!("{prefix}-{i}"), format!("{prefix} message {i}"));
        let started = Instant::now();
        let posted = loop {
            match post_once(&nodes[node], &token, &room, &id, &text).await {
                Ok(posted) => break posted,
                Err(why) => {
                    assert!(
                        started.elapsed() < RETRIES_WITHIN,
                        "never acknowledged: {why}"
                    );
                    node = (node + 1).min(nodes.len() - 1);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        last = last.max(posted.seq);
        acked.fetch_max(posted.seq, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    last
}

/// Registers a password account over REST on the node at `base`; returns its session.
async fn register(base: &str, prefix: &str) -> Session {
    Request::new("POST", &format!("{base}/api/register"))
        .json(json!({ "username": unique_name(prefix), "password": PASSWORD }))
        .send()
        .await
        .expect(201)
}

/// A native connection to the node at `base`, identified by `token`.
async fn connect(base: &str, token: &str) -> WsClient {
    let mut client = WsClient::connect(&format!("{}/gateway", base.replace("http", "ws"))).await;
    client.identify(json!({ "token": token })).await;
    client
}

/// The names on the first page of `room`'s member list, as `client` sees it.
async fn listed(client: &mut WsClient, room: &str) -> Vec<String> {
    let page: MembersPage = client
        .call("members", json!({ "room": room, "limit": 500 }))
        .await;
    page.members.into_iter().map(|u| u.name).collect()
}

#[tokio::test]
async fn a_client_of_a_killed_node_resumes_on_another_and_the_dead_nodes_users_leave() {
    let redis = Redis::start().await;
    let dir = tempfile::tempdir().unwrap();
    // SQLite in a shared directory, or a fresh PostgreSQL database in the PostgreSQL phase.
    let database = common::test_config(dir.path()).await.database_url();
    let (dir_a, dir_b) = (dir.path().join("a"), dir.path().join("b"));
    for dir in [&dir_a, &dir_b] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let survivor = process_node(&dir_a, "node-a", &database, &redis, None);
    let key = std::fs::read_to_string(dir_a.join("data/master.key")).expect("node a's key");
    let mut doomed = process_node(&dir_b, "node-b", &database, &redis, Some(key.trim()));
    let (a, b) = (survivor.url.clone(), doomed.url.clone());

    let owner = register(&a, "own").await;
    let member = register(&a, "mem").await;
    let room: Room = Request::new("POST", &format!("{a}/api/rooms"))
        .bearer(&owner.token)
        .json(json!({ "slug": unique_name("kill"), "private": false }))
        .send()
        .await
        .expect(201);
    let slug = room.slug;
    // The owner watches the room from node a; the member reads it on node b.
    let mut owner_live = connect(&a, &owner.token).await;
    owner_live.join_room(&slug, json!({})).await;
    let mut reader = connect(&b, &member.token).await;
    reader.join_room(&slug, json!({})).await;
    // A guest who stays on node b, and a guest on node a who sees it in the lobby.
    let gone = unique_name("gone");
    let mut on_b = WsClient::connect(&format!("{}/gateway", b.replace("http", "ws"))).await;
    on_b.identify(json!({ "nick": gone })).await;
    on_b.join_lobby().await;
    let mut watcher = WsClient::connect(&format!("{}/gateway", a.replace("http", "ws"))).await;
    watcher
        .identify(json!({ "nick": unique_name("stay") }))
        .await;
    watcher.join_lobby().await;
    let started = Instant::now();
    while !listed(&mut watcher, "lobby").await.contains(&gone) {
        assert!(started.elapsed() < PATIENCE, "node a never lists {gone}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Traffic: the owner posts on node a; the member posts on node b and, once node b is
    // gone, retries on node a with the same ids.
    let acked = Arc::new(AtomicI64::new(0));
    let writers = [
        tokio::spawn(write(
            vec![a.clone()],
            owner.token.clone(),
            slug.clone(),
            "own",
            60,
            Arc::clone(&acked),
        )),
        tokio::spawn(write(
            vec![b.clone(), a.clone()],
            member.token.clone(),
            slug.clone(),
            "mem",
            60,
            Arc::clone(&acked),
        )),
    ];
    let mut seen = Vec::new();
    while seen.len() < 10 {
        let message: Message = reader.event_where(|m: &Message| m.room == slug).await;
        seen.push(message.seq.expect("a seq"));
    }
    doomed.child.kill().expect("SIGKILL");
    let killed = Instant::now();
    doomed.child.wait().expect("the killed node is reaped");
    // What was already on its way arrives; then the connection ends.
    while let Some(frame) = tokio::time::timeout(PATIENCE, reader.next_frame())
        .await
        .expect("a dead node's connection ends")
    {
        if let Some(message) = Frame::parse(frame).data::<Message>() {
            if message.room == slug {
                seen.push(message.seq.expect("a seq"));
            }
        }
    }
    let stopped_at = *seen.last().unwrap();
    println!("node b killed after seq {stopped_at}");

    // The member comes back on node a and resumes from the last seq it holds.
    let mut reader = connect(&a, &member.token).await;
    let resumed = reader
        .join_room(&slug, json!({ "since": stopped_at }))
        .await;
    assert!(!resumed.more, "one page holds what was missed");
    seen.extend(resumed.seqs());
    let mut last = 0;
    for writer in writers {
        last = last.max(writer.await.expect("a writer"));
    }
    assert_eq!(last, acked.load(Ordering::Relaxed));
    while seen.last().copied().unwrap_or(0) < last {
        let message: Message = reader.event_where(|m: &Message| m.room == slug).await;
        seen.push(message.seq.expect("a seq"));
    }
    let every: Vec<i64> = (1..=last).collect();
    assert_eq!(seen, every, "every acknowledged message once, in order");
    reader.assert_no_event(|m: &Message| m.room == slug).await;
    let stored = stored_messages(&a, &owner.token, &slug).await;
    assert_eq!(stored.len(), 120, "each post stored once, retries included");
    each_id_once(&stored);

    // The guest left on node b leaves node a's lists once node b's heartbeat lapses.
    while listed(&mut watcher, "lobby").await.contains(&gone) {
        assert!(
            killed.elapsed() < DEAD_NODE_LEAVES_WITHIN,
            "{gone} still listed {:?} after node b died; node a's log: {:#?}",
            killed.elapsed(),
            survivor.log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    println!(
        "node b's users left node a's lists {:?} after the kill",
        killed.elapsed()
    );
    let left: MemberLeft = watcher
        .event_where(|l: &MemberLeft| l.user.name == gone)
        .await;
    assert_eq!(left.room, "lobby");
    // The member, back on node a, is still listed, and was not announced as leaving.
    let mut names = listed(&mut owner_live, &slug).await;
    names.sort();
    let mut want = vec![owner.user.username.clone(), member.user.username.clone()];
    want.sort();
    assert_eq!(names, want);
    owner_live
        .assert_no_event(|l: &MemberLeft| l.user.name == member.user.username)
        .await;
}

#[tokio::test]
async fn redis_stopped_for_half_a_minute_mid_traffic_loses_and_doubles_nothing() {
    let redis = Redis::start().await;
    let nodes = cluster(&redis, 2, |_| {}).await;
    let (token, room, mut reader) = reader_on_b(&nodes, "stall").await;
    let base = nodes[0].url("");
    let mut sent = 0;
    let mut last = 0;
    let mut post = || {
        sent += 1;
        let (base, token, room, id) = (&base, &token, &room, format!("s-{sent}"));
        async move {
            within(RETRIES_WITHIN, || post_once(base, token, room, &id, &id))
                .await
                .seq
        }
    };
    for _ in 0..5 {
        last = post().await;
    }
    redis.pause();
    let stopped = Instant::now();
    // Posting goes on while Redis answers nothing: the database takes every message.
    while stopped.elapsed() < STALL {
        last = post().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    redis.resume();
    for _ in 0..5 {
        last = post().await;
    }
    println!("{last} messages, Redis stopped for {:?}", stopped.elapsed());
    exactly_once_in_order(&mut reader, &room, last).await;
    let stored = stored_messages(&base, &token, &room).await;
    assert_eq!(stored.len() as i64, last);
    each_id_once(&stored);
}

/// The ids of the clients subscribed to something (the nodes' listeners).
async fn subscribers(redis: &mut redis::aio::MultiplexedConnection) -> HashSet<String> {
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("TYPE")
        .arg("pubsub")
        .query_async(redis)
        .await
        .expect("CLIENT LIST");
    list.lines()
        .filter_map(|line| line.split(' ').find_map(|f| f.strip_prefix("id=")))
        .map(str::to_owned)
        .collect()
}

async fn pubsub_limit(redis: &mut redis::aio::MultiplexedConnection, limit: &str) {
    let _: String = redis::cmd("CONFIG")
        .arg("SET")
        .arg("client-output-buffer-limit")
        .arg(format!("pubsub {limit}"))
        .query_async(redis)
        .await
        .expect("CONFIG SET");
}

#[tokio::test]
async fn a_subscription_redis_drops_for_lagging_is_renewed_and_nothing_is_missed() {
    let redis = Redis::start().await;
    let nodes = cluster(&redis, 2, |c| c.max_message_chars = 40_000).await;
    let (token, room, mut reader) = reader_on_b(&nodes, "lag").await;
    let mut guest_a = nodes[0].lobby_guest(&unique_name("ga")).await;
    let mut guest_b = nodes[1].lobby_guest(&unique_name("gb")).await;
    let mut control = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect("a control connection to Redis");
    let base = nodes[0].url("");
    let post = |id: String, text: String| {
        let (base, token, room) = (&base, &token, &room);
        async move {
            within(RETRIES_WITHIN, || post_once(base, token, room, &id, &text))
                .await
                .seq
        }
    };
    for i in 0..3 {
        post(format!("before-{i}"), format!("before {i}")).await;
    }
    let before = subscribers(&mut control).await;
    assert_eq!(before.len(), 2, "one listener per node: {before:?}");
    // A subscriber that has more than 1 KiB waiting for it is closed at once. What counts is
    // what does not fit Redis's 16 KiB reply buffer: each message of the burst overflows it.
    pubsub_limit(&mut control, "1024 1024 1").await;
    let big = "x".repeat(20_000);
    let mut last = 0;
    for i in 0..10 {
        last = post(format!("burst-{i}"), format!("{i} {big}")).await;
    }
    pubsub_limit(&mut control, "33554432 8388608 60").await;
    for i in 0..3 {
        last = post(format!("after-{i}"), format!("after {i}")).await;
    }
    exactly_once_in_order(&mut reader, &room, last).await;
    let stored = stored_messages(&base, &token, &room).await;
    assert_eq!(stored.len() as i64, last);
    each_id_once(&stored);
    // Node b's listener was dropped and is back.
    let now = subscribers(&mut control).await;
    assert_eq!(now.len(), 2, "both nodes listen again: {now:?}");
    assert!(
        !before.is_subset(&now),
        "Redis dropped a listener: {before:?} → {now:?}"
    );
    let channel = format!("parlor:room:{room}");
    let (_, count): (String, i64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(&channel)
        .query_async(&mut control)
        .await
        .expect("PUBSUB NUMSUB");
    assert_eq!(count, 1, "node b listens to the room again");
    // Live-only events (the lobby) cross again.
    guest_a.say("after the drop").await;
    let got: Message = guest_b
        .event_where(|m: &Message| m.text == "after the drop")
        .await;
    assert_eq!(got.room, "lobby");
}

/// Runs a blocking PostgreSQL control command off the runtime the nodes run on.
async fn off_runtime<T: Send + 'static>(task: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(task).await.expect("the task")
}

#[tokio::test]
async fn sends_while_postgresql_restarts_fail_cleanly_and_their_retries_store_each_message_once() {
    if !common::on_postgres() {
        println!("skipped: PostgreSQL restarts are tested when PARLOR_TEST_POSTGRES_URL is set");
        return;
    }
    let Some(bin) = Postgres::bin() else {
        println!("skipped: no PostgreSQL server binaries under /usr/lib/postgresql");
        return;
    };
    let pg = Arc::new(off_runtime(move || Postgres::start(bin)).await);
    let redis = Redis::start().await;
    let database = pg.url();
    let mut nodes = cluster_with(&redis, 2, move |c| {
        c.database_url = Some(Secret::new(database.clone()));
    })
    .await;
    let (token, room, mut reader) = reader_on_b(&nodes, "pg").await;
    let base = nodes[0].url("");
    let mut sender = nodes[0].gateway_as(&token).await;
    sender.join_room(&room, json!({})).await;

    // Traffic in the background, each post retried with its id until acknowledged.
    let acked = Arc::new(AtomicI64::new(0));
    let writer = tokio::spawn(write(
        vec![base.clone()],
        token.clone(),
        room.clone(),
        "bg",
        40,
        Arc::clone(&acked),
    ));
    let started = Instant::now();
    while acked.load(Ordering::Relaxed) < 5 {
        assert!(started.elapsed() < PATIENCE, "the writer got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stopping = Arc::clone(&pg);
    off_runtime(move || stopping.stop()).await;

    // While it is down: a REST post, a gateway send and /health each answer an error code,
    // in bounded time.
    let rest = Request::new("POST", &format!("{base}/api/rooms/{room}/messages"))
        .bearer(&token)
        .json(json!({ "text": "over REST while down", "client_msg_id": "down-rest" }))
        .send();
    let live = async {
        let send = json!({ "room": room, "text": "live while down", "client_msg_id": "down-ws" });
        sender
            .send_json(json!({ "event": "send", "data": send, "ack": 1000 }))
            .await;
        loop {
            let frame: Value = sender
                .next_frame()
                .await
                .expect("the connection stays open");
            if frame.get("ack") == Some(&json!(1000)) {
                return from_value::<Ack>(frame);
            }
        }
    };
    let health = nodes[0].request("GET", "/health").send();
    let down = Instant::now();
    let (rest, live, health) =
        tokio::time::timeout(FAILS_WITHIN, async { tokio::join!(rest, live, health) })
            .await
            .expect("sends during the outage are answered, not left hanging");
    println!("the outage's answers came within {:?}", down.elapsed());
    rest.expect_error(503, "unavailable");
    assert_eq!(live.code(), "unavailable", "{live:?}");
    health.expect_error(503, "unavailable");

    let starting = Arc::clone(&pg);
    off_runtime(move || starting.start_again()).await;
    // The same ids again: each stored once.
    let posted = within(RETRIES_WITHIN, || {
        post_once(&base, &token, &room, "down-rest", "over REST while down")
    })
    .await;
    assert!(
        !posted.duplicate,
        "the failed post stored nothing: {posted:?}"
    );
    let retry = json!({ "room": room, "text": "live while down", "client_msg_id": "down-ws" });
    let started = Instant::now();
    let first: Posted = loop {
        let ack = sender.request("send", retry.clone()).await;
        if ack.ok {
            break ack.data();
        }
        assert!(started.elapsed() < RETRIES_WITHIN, "{ack:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        !first.duplicate,
        "the failed send stored nothing: {first:?}"
    );
    let again: Posted = sender.call("send", retry).await;
    assert_eq!((again.seq, again.duplicate), (first.seq, true));

    let last = writer
        .await
        .expect("the writer")
        .max(first.seq)
        .max(posted.seq);
    exactly_once_in_order(&mut reader, &room, last).await;
    let stored = stored_messages(&base, &token, &room).await;
    assert_eq!(
        stored.len(),
        42,
        "40 posts and two retried sends, once each"
    );
    each_id_once(&stored);
    for node in &mut nodes {
        node.stop().await.expect("the node stops cleanly");
    }
}
