//! Several nodes on one database and one Redis: clients on different nodes chat, see each
//! other, and are moderated as if on one server; and when Redis dies, stalls or comes back
//! empty, no acknowledged message is lost or delivered twice.

mod common;

use common::cluster::{cluster, exactly_once_in_order, post_all, reader_on_b};
use common::protocol::{CloseReason, Closing, MemberJoined, MemberLeft, Message, Posted};
use common::redis::Redis;
use common::{eventually, unique_name, with_root, ROOT_PASSWORD};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn clients_on_two_nodes_share_rooms_presence_and_the_lobby() {
    let redis = Redis::start().await;
    let nodes = cluster(&redis, 2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let (owner, member) = a.two_users(&unique_name("own"), &unique_name("mem")).await;
    let room = owner.create_room(&unique_name("shared"), false).await;
    let mut on_a = owner.gateway().await;
    on_a.join_room(&room.slug, json!({})).await;
    // The member connects to the other node.
    let mut on_b = common::Caller::with_token(b, &member.token).gateway().await;
    let joined = on_b.join_room(&room.slug, json!({})).await;
    let member_name = member.name().await;
    let seen: MemberJoined = on_a
        .event_where(|j: &MemberJoined| j.room == room.slug)
        .await;
    assert_eq!(seen.user.name, member_name);
    // Both are listed, from either node.
    assert_eq!(joined.member_count, 2, "{joined:?}");
    let page: common::protocol::MembersPage =
        on_a.call("members", json!({ "room": room.slug })).await;
    assert_eq!(page.count, 2);
    // Messages cross in both directions, with their sequence numbers.
    let sent: Posted = on_b
        .call("send", json!({ "room": room.slug, "text": "from b" }))
        .await;
    let got: Message = on_a.event_where(|m: &Message| m.room == room.slug).await;
    assert_eq!((got.text.as_str(), got.seq), ("from b", Some(sent.seq)));
    let _: Posted = on_a
        .call("send", json!({ "room": room.slug, "text": "from a" }))
        .await;
    let got: Message = on_b.event_where(|m: &Message| m.text == "from a").await;
    assert_eq!(got.seq, Some(sent.seq + 1));
    // The lobby too.
    let mut guest_a = a.lobby_guest(&unique_name("ga")).await;
    let mut guest_b = b.lobby_guest(&unique_name("gb")).await;
    guest_b.say("hello from b").await;
    let got: Message = guest_a.event_where(|m: &Message| m.room == "lobby").await;
    assert_eq!(got.text, "hello from b");
    guest_a.say("hello from a").await;
    let got: Message = guest_b
        .event_where(|m: &Message| m.text == "hello from a")
        .await;
    assert_eq!(got.room, "lobby");
    // Leaving on b is seen on a.
    on_b.close().await;
    let left: MemberLeft = on_a.event_where(|l: &MemberLeft| l.room == room.slug).await;
    assert_eq!(left.user.name, member_name);
}

#[tokio::test]
async fn moderation_and_the_ws_rule_reach_every_node() {
    let redis = Redis::start().await;
    let nodes = cluster(&redis, 3, with_root).await;
    let (a, b, c) = (&nodes[0], &nodes[1], &nodes[2]);
    let mut root = a.connect("root", ROOT_PASSWORD).await;
    // A user on node b is kicked from node a.
    let nick = unique_name("target");
    let mut target = common::Caller::with_token(b, &b.caller(&nick).await.token)
        .gateway()
        .await;
    target.join_lobby().await;
    let mut watcher = c.lobby_guest(&unique_name("watch")).await;
    root.call::<serde_json::Value>("kick", json!({ "user": nick, "reason": "testing" }))
        .await;
    let closing: Closing = target.closed_with(CloseReason::Kicked).await;
    assert_eq!(closing.detail.as_deref(), Some("testing"));
    // The notice reaches the lobby on node c.
    let notice: common::protocol::Notice = watcher.event().await;
    assert!(notice.text.contains("kicked"), "{notice:?}");
    // One `/ws` connection per user, whichever node: the second is refused with 409.
    let token = b.guest_token(&unique_name("one")).await;
    let cookie = format!("session={token}");
    let first = b.websocket("/ws", &[("cookie", &cookie)]).await.unwrap();
    c.websocket_refused("/ws", &[("cookie", &cookie)], 409, "already_connected")
        .await;
    first.close().await;
    let _again = eventually(|| async {
        c.websocket("/ws", &[("cookie", &cookie)])
            .await
            .map_err(|refusal| format!("the slot is freed on close: {refusal:?}"))
    })
    .await;
}

#[tokio::test]
async fn no_acknowledged_message_is_lost_or_doubled_when_redis_dies_and_comes_back_empty() {
    let mut redis = Redis::start().await;
    let nodes = cluster(&redis, 2, |_| {}).await;
    let (token, room, mut reader) = reader_on_b(&nodes, "faults").await;
    let mut killed = false;
    let last = post_all(&nodes[0], &token, &room, 30, |i| {
        if i == 8 {
            redis.kill();
            killed = true;
        }
    })
    .await;
    assert!(killed);
    // Readiness says what is wrong while Redis is away, and is back once it is.
    let health = |node: &common::TestApp| node.request("GET", "/health").send();
    let down = health(&nodes[1]).await;
    assert_eq!(down.status, 503, "{down}");
    assert!(down.error().message.contains("redis:"), "{down}");
    redis.restart().await;
    eventually(|| async {
        let up = health(&nodes[1]).await;
        (up.status == 200)
            .then_some(())
            .ok_or_else(|| format!("{up}"))
    })
    .await;
    // Posting goes on after the restart: the node notices the gap and reads it back.
    let last = last.max(post_all(&nodes[0], &token, &room, 5, |_| {}).await);
    exactly_once_in_order(&mut reader, &room, last).await;
}

#[tokio::test]
async fn a_stalled_redis_delays_messages_but_loses_none() {
    let redis = Redis::start().await;
    let nodes = cluster(&redis, 2, |_| {}).await;
    let (token, room, mut reader) = reader_on_b(&nodes, "stall").await;
    let first = post_all(&nodes[0], &token, &room, 3, |_| {}).await;
    redis.pause();
    let last = post_all(&nodes[0], &token, &room, 10, |_| {}).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    redis.resume();
    assert!(last > first);
    exactly_once_in_order(&mut reader, &room, last).await;
}

#[tokio::test]
async fn a_node_that_stops_takes_its_users_out_of_the_other_nodes_lists() {
    let redis = Redis::start().await;
    let mut nodes = cluster(&redis, 2, |_| {}).await;
    let mut watcher = nodes[0].lobby_guest(&unique_name("stay")).await;
    let nick = unique_name("goes");
    let _leaving = nodes[1].lobby_guest(&nick).await;
    let joined: MemberJoined = watcher
        .event_where(|j: &MemberJoined| j.user.name == nick)
        .await;
    assert_eq!(joined.room, "lobby");
    nodes[1].stop().await.unwrap();
    let left: MemberLeft = watcher
        .event_where(|l: &MemberLeft| l.user.name == nick)
        .await;
    assert_eq!(left.room, "lobby");
    let health: serde_json::Value = nodes[0].request("GET", "/health").send().await.json();
    assert_eq!(health["redis"], "ok", "{health}");
    assert!(
        health["latency_ms"]["redis"].is_number(),
        "Redis's probe is timed: {health}"
    );
}

#[tokio::test]
async fn a_guest_name_is_unique_and_found_on_every_node() {
    let redis = Redis::start().await;
    let nodes = cluster(&redis, 2, with_root).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let nick = unique_name("gwen");
    let mut gwen = b.lobby_guest(&nick).await;
    // The nick is online on node b: node a refuses it, over REST and on a connection.
    a.request("POST", "/api/guest")
        .json(json!({ "nick": nick.to_uppercase() }))
        .send()
        .await
        .expect_error(409, "nick_taken");
    let mut other = a.gateway().await;
    other
        .expect_error("identify", json!({ "nick": nick }), "nick_taken")
        .await;
    // A guest on node a whispers to her on node b.
    let mut gus = a.lobby_guest(&unique_name("gus")).await;
    let _: serde_json::Value = gus
        .call("whisper", json!({ "to": nick, "text": "psst" }))
        .await;
    let whisper: common::protocol::Whisper = gwen.event().await;
    assert_eq!(whisper.text, "psst");
    // A moderator on node a kicks her by name.
    let mut root = a.connect("root", ROOT_PASSWORD).await;
    let _: serde_json::Value = root.call("kick", json!({ "user": nick })).await;
    gwen.closed_with(CloseReason::Kicked).await;
    // Her name is free again, on either node.
    eventually(|| async {
        let reply = a
            .request("POST", "/api/guest")
            .json(json!({ "nick": nick }))
            .send()
            .await;
        (reply.status == 201)
            .then_some(())
            .ok_or_else(|| format!("the nick is still taken: {reply}"))
    })
    .await;
}

#[tokio::test]
async fn login_and_registration_brakes_count_attempts_on_every_node() {
    let redis = Redis::start().await;
    let nodes = cluster(&redis, 2, |c| {
        c.login_attempts_per_ip = 3;
        c.registrations_per_ip = 2;
    })
    .await;
    let (a, b) = (&nodes[0], &nodes[1]);
    // Three wrong passwords spread over both nodes spend the address's one budget.
    for node in [a, b, a] {
        node.login("nobody-here", "wrong password")
            .await
            .expect_error(401, "invalid_credentials");
    }
    for node in [a, b] {
        node.login("nobody-here", "wrong password")
            .await
            .expect_error(429, "rate_limited");
    }
    // Registrations likewise: one per node, then the third is refused wherever it goes.
    a.user_token(&unique_name("r1"), common::PASSWORD).await;
    b.user_token(&unique_name("r2"), common::PASSWORD).await;
    a.request("POST", "/api/register")
        .json(json!({ "username": unique_name("r3"), "password": common::PASSWORD }))
        .send()
        .await
        .expect_error(429, "rate_limited");
}

#[tokio::test]
async fn an_ephemeral_room_admits_two_devices_even_when_both_nodes_race() {
    let redis = Redis::start().await;
    let nodes = cluster(&redis, 2, |_| {}).await;
    let host = nodes[0].caller(&unique_name("host")).await;
    let code: common::protocol::Ephemeral =
        host.call("POST", "/api/ephemeral", None).await.expect(201);
    let code = code.code;
    host.call("POST", &format!("/api/ephemeral/{code}/activate"), None)
        .await
        .expect_status(200);
    // Six guests, three on each node, each on a device of its own, knock at once.
    let mut guests = Vec::new();
    for i in 0..6 {
        let mut guest = nodes[i % 2].gateway().await;
        guest
            .identify(json!({ "nick": unique_name("knock") }))
            .await;
        guests.push(guest);
    }
    let room = format!("e:{code}");
    let knocks = guests.iter_mut().enumerate().map(|(i, guest)| {
        let data = json!({ "room": room, "device": format!("device-{i}-racing-abcdef") });
        async move { guest.request("join", data).await }
    });
    let answers = futures_util::future::join_all(knocks).await;
    let admitted = answers.iter().filter(|ack| ack.ok).count();
    let locked = answers
        .iter()
        .filter(|ack| !ack.ok && ack.code() == "room_locked")
        .count();
    assert_eq!((admitted, locked), (2, 4), "{answers:?}");
}

#[tokio::test]
async fn an_address_gets_its_connections_once_across_the_nodes() {
    let redis = Redis::start().await;
    let nodes = cluster(&redis, 2, |c| c.max_connections_per_ip = 2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let first = a.gateway().await;
    let _second = b.gateway().await;
    // One more, on either node, is over the address's share.
    for node in [a, b] {
        node.websocket_refused("/gateway", &[], 429, "rate_limited")
            .await;
    }
    // A place given back on one node is free on the other.
    first.close().await;
    eventually(|| async {
        b.websocket("/gateway", &[])
            .await
            .map(drop)
            .map_err(|refusal| format!("still refused: {refusal:?}"))
    })
    .await;
}

#[tokio::test]
async fn a_node_without_its_redis_does_not_start_and_says_why() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    for (url, says) in [
        (
            format!("redis://{closed}/"),
            "cannot reach Redis at 127.0.0.1",
        ),
        ("http://example.org/".to_owned(), "not a Redis URL"),
        (
            format!("redis://:hunter2@{closed}/"),
            "cannot reach Redis at 127.0.0.1",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = common::test_config(dir.path()).await;
        config.redis_url = Some(parlor::config::Secret::new(url));
        let Err(err) = parlor::app::Server::build(config).await else {
            panic!("a node started without its Redis");
        };
        let text = format!("{err:#}");
        assert!(text.contains(says), "{text}");
        assert!(
            !text.contains("hunter2"),
            "the password is never shown: {text}"
        );
    }
}

#[tokio::test]
async fn bans_and_mutes_made_on_one_node_hold_on_every_node() {
    let redis = Redis::start().await;
    let nodes = cluster(&redis, 2, with_root).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let mut root = a.connect("root", ROOT_PASSWORD).await;
    let loud = unique_name("loud");
    let token = b.user_token(&loud, common::PASSWORD).await;
    let mut on_b = common::Caller::with_token(b, &token).gateway().await;
    on_b.join_lobby().await;
    // Muted on node a: node b refuses the user's messages.
    let _: serde_json::Value = root.call("mute", json!({ "user": loud })).await;
    until_ack(&mut on_b, "still here?", |ack| {
        !ack.ok && ack.code() == "muted"
    })
    .await;
    // Unmuted on node a: node b lets them talk again.
    let _: serde_json::Value = root.call("unmute", json!({ "user": loud })).await;
    until_ack(&mut on_b, "back", |ack| ack.ok).await;
    // Banned on node a: logging in on node b is refused.
    let _: serde_json::Value = root.call("ban", json!({ "user": loud })).await;
    on_b.closed_with(CloseReason::Banned).await;
    eventually(|| async {
        let reply = b.login(&loud, common::PASSWORD).await;
        (reply.status == 403)
            .then_some(())
            .ok_or_else(|| format!("node b lets a banned user in: {reply}"))
    })
    .await;
}

/// Sends `text` to the lobby until the ack is what `wanted` says (a change made on another
/// node reaches this one within a moment).
async fn until_ack(
    client: &mut common::WsClient,
    text: &str,
    wanted: impl Fn(&common::protocol::Ack) -> bool,
) {
    let deadline = std::time::Instant::now() + common::PATIENCE;
    loop {
        let ack = client
            .request("send", json!({ "room": "lobby", "text": text }))
            .await;
        if wanted(&ack) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "never came: {ack:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn roles_moves_typing_and_ignores_reach_the_other_node() {
    let redis = Redis::start().await;
    let nodes = cluster(&redis, 2, with_root).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let mut root = a.connect("root", ROOT_PASSWORD).await;
    root.join_lobby().await;
    let (ann_name, bob_name) = (unique_name("ann"), unique_name("bob"));
    let ann_token = b.user_token(&ann_name, common::PASSWORD).await;
    let bob_token = a.user_token(&bob_name, common::PASSWORD).await;
    // Ann has a tab on each node; Bob is on node a.
    let mut ann_b = common::Caller::with_token(b, &ann_token).gateway().await;
    ann_b.join_lobby().await;
    let mut ann_a = common::Caller::with_token(a, &ann_token).gateway().await;
    ann_a.join_lobby().await;
    let mut bob = common::Caller::with_token(a, &bob_token).gateway().await;
    bob.join_lobby().await;
    // Typing on node a shows on node b.
    let _: serde_json::Value = bob
        .call("typing", json!({ "room": "lobby", "active": true }))
        .await;
    let typing: common::protocol::Typing = ann_b
        .event_where(|t: &common::protocol::Typing| t.user.name == bob_name)
        .await;
    assert!(typing.active);
    // A role changed on node a shows on Ann's connection on node b, and in node b's list.
    let _: serde_json::Value = root
        .call("set_role", json!({ "user": ann_name, "role": "mod" }))
        .await;
    let updated: common::protocol::UserUpdated = ann_b.event().await;
    assert_eq!(updated.user.role, common::protocol::Role::Mod);
    // A move from node a reaches her on node b.
    let owner = a.caller(&unique_name("own")).await;
    let room = owner.create_room(&unique_name("moved"), false).await;
    let _: serde_json::Value = root
        .call("move", json!({ "user": ann_name, "room": room.slug }))
        .await;
    let moved: common::protocol::Moved = ann_b.event().await;
    assert_eq!(moved.room, room.slug);
    // Ann ignores Bob from her tab on node a; her tab on node b no longer hears him.
    let _: serde_json::Value = ann_a.call("ignore", json!({ "user": bob_name })).await;
    bob.say("can ann hear me").await;
    // Node a publishes in order: once root's later message is on node b, Bob's was too.
    root.event_where(|m: &Message| m.text == "can ann hear me")
        .await;
    root.say("after bob").await;
    ann_b.event_where(|m: &Message| m.text == "after bob").await;
    ann_b
        .assert_no_event(|m: &Message| m.author.name == bob_name)
        .await;
}

#[tokio::test]
async fn the_admin_panel_lists_and_closes_connections_on_every_node() {
    let redis = Redis::start().await;
    let nodes = cluster(&redis, 2, with_root).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let root = a.root().await;
    let (here, there) = (unique_name("here"), unique_name("there"));
    let _on_a = a.lobby_guest(&here).await;
    let mut on_b = b.lobby_guest(&there).await;
    let listed: common::protocol::Connections = root
        .call("GET", "/api/admin/connections", None)
        .await
        .expect(200);
    let find = |name: &str| {
        listed
            .connections
            .iter()
            .find(|c| c.user.as_ref().is_some_and(|u| u.name == name))
            .cloned()
            .unwrap_or_else(|| panic!("{name} is listed: {listed:?}"))
    };
    let (mine, theirs) = (find(&here), find(&there));
    assert_eq!(
        (mine.node.as_str(), theirs.node.as_str()),
        ("node-a", "node-b")
    );
    assert_ne!(
        mine.id, theirs.id,
        "connection ids are unique in the cluster"
    );
    // Closed through node a, on node b.
    let path = format!("/api/admin/connections/{}", theirs.id);
    root.call("DELETE", &path, None).await.expect_empty(204);
    on_b.closed_with(CloseReason::Kicked).await;
    eventually(|| async {
        let reply = root.call("DELETE", &path, None).await;
        (reply.status == 404)
            .then_some(())
            .ok_or_else(|| format!("still there: {reply}"))
    })
    .await;
}

#[tokio::test]
async fn a_room_closing_to_guests_and_a_rename_reach_the_other_node() {
    let redis = Redis::start().await;
    let nodes = cluster(&redis, 2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let (owner, member) = a.two_users(&unique_name("own"), &unique_name("mem")).await;
    let room = owner.create_room(&unique_name("porch"), false).await;
    // A guest and a member on node b, the owner's decisions made through node a.
    let guest_token = b.guest_token(&unique_name("visitor")).await;
    let mut guest = b.gateway_as(&guest_token).await;
    guest.join_room(&room.slug, json!({})).await;
    let mut on_b = common::Caller::with_token(b, &member.token).gateway().await;
    on_b.join_room(&room.slug, json!({})).await;
    let _: common::protocol::Room = owner
        .call(
            "PATCH",
            &format!("/api/rooms/{}", room.slug),
            Some(json!({"allow_guests": false})),
        )
        .await
        .expect(200);
    let removed: common::protocol::RoomRemoved = guest
        .event_where(|r: &common::protocol::RoomRemoved| r.room == room.slug)
        .await;
    assert_eq!(
        removed.reason,
        common::protocol::RemovedReason::GuestsNotAllowed
    );

    // The owner renames itself on node a; the member on node b sees it in the room.
    let mut on_a = owner.gateway().await;
    on_a.join_room(&room.slug, json!({})).await;
    let old = owner.name().await;
    let new = unique_name("renamed");
    let _: common::protocol::Profile = owner
        .call(
            "POST",
            "/api/user/@me/username",
            Some(json!({"username": new, "password": common::PASSWORD})),
        )
        .await
        .expect(200);
    let renamed: common::protocol::UserRenamed = on_b
        .event_where(|r: &common::protocol::UserRenamed| r.from == old)
        .await;
    assert_eq!(renamed.user.name, new);
    let closing: Closing = on_a.event_where(|_: &Closing| true).await;
    assert_eq!(closing.reason, CloseReason::Renamed);
}
