//! Several nodes on one database, master key and Redis, and the checks the multi-node tests
//! share: every stored message once, in order.

use super::protocol::{Message, Posted};
use super::redis::Redis;
use super::{eventually, spawn_app_with, unique_name, Caller, TestApp, WsClient};
use parlor::config::{Config, Secret};
use serde_json::json;
use std::time::Duration;

/// Nodes named `node-a`, `node-b`, … on one database, master key and Redis.
pub async fn cluster(redis: &Redis, count: usize, adjust: fn(&mut Config)) -> Vec<TestApp> {
    let url = redis.url();
    // The manual clock never moves here: no rate window would end.
    let adjust = move |c: &mut Config| {
        c.rate_limit_messages = 100_000;
        adjust(c);
    };
    let first = {
        let url = url.clone();
        spawn_app_with(move |c| {
            c.node_id = Some("node-a".into());
            c.redis_url = Some(Secret::new(url));
            adjust(c);
        })
        .await
    };
    let database = first.config.database_url();
    let key = std::fs::read_to_string(first.config.data_dir.join("master.key")).unwrap();
    let mut nodes = vec![first];
    for i in 1..count {
        let (url, database, key) = (url.clone(), database.clone(), key.clone());
        let name = format!("node-{}", (b'a' + i as u8) as char);
        nodes.push(
            spawn_app_with(move |c| {
                c.node_id = Some(name);
                c.redis_url = Some(Secret::new(url));
                c.database_url = Some(Secret::new(database));
                c.master_key = Some(Secret::new(key.trim()));
                adjust(c);
            })
            .await,
        );
    }
    nodes
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
