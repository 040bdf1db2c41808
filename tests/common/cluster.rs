//! Several nodes on one database, master key and Redis (in-process, or as processes a test can
//! kill), and the checks the multi-node tests share: every stored message once, in order, and
//! each `client_msg_id` stored once.

use super::process::Process;
use super::protocol::{History, Message, Posted};
use super::redis::Redis;
use super::{eventually, spawn_app_with, unique_name, Caller, Request, TestApp, WsClient};
use parlor::config::{Config, Secret};
use serde_json::json;
use std::time::Duration;

/// Nodes named `node-a`, `node-b`, … on one database, master key and Redis.
pub async fn cluster(redis: &Redis, count: usize, adjust: fn(&mut Config)) -> Vec<TestApp> {
    cluster_with(redis, count, adjust).await
}

/// Waits until `client` holds every message up to `last` of `room`, and checks it got each
/// exactly once, in order, and nothing after.
pub async fn exactly_once_in_order(client: &mut WsClient, room: &str, last: i64) {
    let mut seqs = Vec::new();
    while seqs.last().copied().unwrap_or(0) < last {
        let message: Message = tokio::time::timeout(
            Duration::from_secs(30),
            client.event_where(|m: &Message| m.room == room),
        )
        .await
        .unwrap_or_else(|_| panic!("messages stopped at {seqs:?}, want up to {last}"));
        seqs.push(message.seq.expect("a stored message has a seq"));
    }
    let want: Vec<i64> = (seqs[0]..=last).collect();
    assert_eq!(seqs, want, "each message once, in order");
    client.sync().await;
    client.assert_no_event(|m: &Message| m.room == room).await;
}

/// On a two-node cluster: an owner on node a, and a member reading the room on node b.
/// Returns the owner's token, the room and the reader.
pub async fn reader_on_b(nodes: &[TestApp], prefix: &str) -> (String, String, WsClient) {
    let (a, b) = (&nodes[0], &nodes[1]);
    let (owner, member) = a.two_users(&unique_name("own"), &unique_name("mem")).await;
    let room = owner.create_room(&unique_name(prefix), false).await;
    let mut reader = Caller::with_token(b, &member.token).gateway().await;
    reader.join_room(&room.slug, json!({})).await;
    (owner.token.clone(), room.slug, reader)
}

/// Posts `count` messages through REST on `node`, each retried with its `client_msg_id` until
/// acknowledged (a post may fail while something is down), and returns the last seq.
pub async fn post_all(
    node: &TestApp,
    token: &str,
    room: &str,
    count: usize,
    mut between: impl FnMut(usize),
) -> i64 {
    let mut last = 0;
    for i in 0..count {
        between(i);
        let id = format!("m-{i}");
        let posted: Posted = eventually(|| {
            let request = node
                .request("POST", &format!("/api/rooms/{room}/messages"))
                .bearer(token)
                .json(json!({ "text": format!("message {i}"), "client_msg_id": id }));
            async move {
                let reply = request.send().await;
                match reply.status {
                    201 | 200 => Ok(reply.json::<Posted>()),
                    other => Err(format!("post answered {other}")),
                }
            }
        })
        .await;
        last = posted.seq;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    last
}

/// Like [`eventually`](super::eventually), with the caller's patience: for conditions bounded
/// by something longer than [`PATIENCE`](super::PATIENCE), such as a dead node's heartbeat
/// lapsing.
pub async fn within<T, F, Fut>(patience: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match check().await {
            Ok(done) => return done,
            Err(last) if tokio::time::Instant::now() >= deadline => {
                panic!("not within {patience:?}: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// [`cluster`] with a configuration closure that may capture (a database URL of the test's
/// own): the first node's database and master key are every node's. The manual clock never
/// moves in these tests, so no rate window would end: the message rate limit is lifted.
pub async fn cluster_with(
    redis: &Redis,
    count: usize,
    adjust: impl Fn(&mut Config) + Clone,
) -> Vec<TestApp> {
    let url = redis.url();
    let first = {
        let (url, adjust) = (url.clone(), adjust.clone());
        spawn_app_with(move |c| {
            c.node_id = Some("node-a".into());
            c.redis_url = Some(Secret::new(url));
            c.rate_limit_messages = 100_000;
            adjust(c);
        })
        .await
    };
    let database = first.config.database_url();
    let key = std::fs::read_to_string(first.config.data_dir.join("master.key")).unwrap();
    let mut nodes = vec![first];
    for i in 1..count {
        let (url, database, key, adjust) =
            (url.clone(), database.clone(), key.clone(), adjust.clone());
        let name = format!("node-{}", (b'a' + i as u8) as char);
        nodes.push(
            spawn_app_with(move |c| {
                c.node_id = Some(name);
                c.redis_url = Some(Secret::new(url));
                c.rate_limit_messages = 100_000;
                adjust(c);
                c.database_url = Some(Secret::new(database));
                c.master_key = Some(Secret::new(key.trim()));
            })
            .await,
        );
    }
    nodes
}

/// A node run as its own process (the real binary, real clock), so that a test can kill it
/// with SIGKILL: `node` on `database` and `redis`, with `master_key` (none: the node writes
/// a key file into its data directory, `<dir>/data/master.key`, for the next nodes to share).
pub fn process_node(
    dir: &std::path::Path,
    node: &str,
    database: &str,
    redis: &Redis,
    master_key: Option<&str>,
) -> Process {
    let redis_url = redis.url();
    let mut env = vec![
        ("PARLOR_NODE_ID", node),
        ("DATABASE_URL", database),
        ("PARLOR_REDIS_URL", redis_url.as_str()),
        ("PARLOR_LOG", "info"),
    ];
    if let Some(key) = master_key {
        env.push(("PARLOR_MASTER_KEY", key));
    }
    Process::start(dir, &env)
}

/// One REST post of `text` with `client_msg_id` `id` to `room` on the node at `base`
/// (`http://host:port`); `Err` says why it was not acknowledged (the node unreachable, or an
/// error answer with its status and code).
pub async fn post_once(
    base: &str,
    token: &str,
    room: &str,
    id: &str,
    text: &str,
) -> Result<Posted, String> {
    let request = Request::new("POST", &format!("{base}/api/rooms/{room}/messages"))
        .bearer(token)
        .json(json!({ "text": text, "client_msg_id": id }));
    match tokio::time::timeout(Duration::from_secs(30), request.send_fallible()).await {
        Err(_) => Err(format!("POST {id} to {base}: no answer within 30 s")),
        Ok(None) => Err(format!("POST {id} to {base}: unreachable")),
        Ok(Some(reply)) if matches!(reply.status, 200 | 201) => Ok(reply.json()),
        Ok(Some(reply)) => Err(format!("POST {id}: {reply}")),
    }
}

/// Every stored message of `room`, oldest first, read over REST a page at a time.
pub async fn stored_messages(base: &str, token: &str, room: &str) -> Vec<Message> {
    let mut messages: Vec<Message> = Vec::new();
    loop {
        let after = messages.last().and_then(|m| m.seq).unwrap_or(0);
        let page: History = Request::new(
            "GET",
            &format!("{base}/api/rooms/{room}/messages?after={after}&limit=200"),
        )
        .bearer(token)
        .send()
        .await
        .expect(200);
        if page.messages.is_empty() {
            return messages;
        }
        messages.extend(page.messages);
    }
}

/// Asserts that `messages` hold each `client_msg_id` once and number 1, 2, 3… without a gap.
pub fn each_id_once(messages: &[Message]) {
    let seqs: Vec<i64> = messages.iter().filter_map(|m| m.seq).collect();
    let want: Vec<i64> = (1..=messages.len() as i64).collect();
    assert_eq!(seqs, want, "stored messages are numbered without gaps");
    let mut ids: Vec<&str> = messages
        .iter()
        .filter_map(|m| m.client_msg_id.as_deref())
        .collect();
    assert_eq!(
        ids.len(),
        messages.len(),
        "every message has its client_msg_id"
    );
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), before, "no client_msg_id is stored twice");
}
