//! The native `/gateway` framing: identity, the lobby, acks and every error code.

mod common;

use common::protocol::{
    CloseReason, Connections, Empty, ErrorEvent, Kind, MemberJoined, MemberLeft, Message, Role,
    Typing, User,
};
use common::{eventually, spawn_app, spawn_app_with, unique_name, with_root};
use serde_json::json;

#[tokio::test]
async fn a_guest_identifies_by_nick_and_gets_a_token_that_restores_it() {
    let app = spawn_app().await;
    let nick = unique_name("Gus");
    let mut first = app.gateway().await;
    let identified = first.identify(json!({ "nick": nick })).await;
    let guest = User {
        name: nick.clone(),
        kind: Kind::Guest,
        role: Role::User,
        verified: false,
        bot: false,
    };
    assert_eq!(identified.user, guest);
    let token = identified.token.expect("a new guest gets a token");
    first.close().await;

    let mut again = app.gateway().await;
    let restored = again.identify(json!({ "token": token })).await;
    assert_eq!(restored.user, guest);
    assert_eq!(restored.token, None, "no new token on restore");
}

#[tokio::test]
async fn the_session_cookie_identifies_a_bare_identify() {
    let app = spawn_app().await;
    let nick = unique_name("Coo");
    let token = app.guest_token(&nick).await;
    let cookie = format!("session={token}");
    let mut client = app
        .websocket("/gateway", &[("cookie", &cookie)])
        .await
        .unwrap();
    let identified = client.identify(json!({})).await;
    assert_eq!((identified.user.name, identified.token), (nick, None));
}

#[tokio::test]
async fn lobby_messages_reach_every_member_with_id_and_timestamp() {
    let app = spawn_app().await;
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(app.lobby_guest(&unique_name("fan")).await);
    }
    let sender_name = unique_name("src");
    let mut sender = app.lobby_guest(&sender_name).await;
    let ack = sender.say("  hello, lobby  ").await;
    assert!(ack.ts > 1_700_000_000_000, "{ack:?}");
    for client in clients.iter_mut().chain(std::iter::once(&mut sender)) {
        let message: Message = client.event().await;
        assert_eq!(
            message,
            Message {
                room: "lobby".into(),
                id: ack.id.clone(),
                ts: ack.ts,
                author: User {
                    name: sender_name.clone(),
                    kind: Kind::Guest,
                    role: Role::User,
                    verified: false,
                    bot: false,
                },
                text: "hello, lobby".into(),
                envelope: None,
                seq: None,
                client_msg_id: None,
                undecryptable: false,
                attachments: Vec::new(),
                edited_at: None,
                deleted: false,
                reply_to: None,
                reactions: Vec::new(),
                mentions: Vec::new(),
                mentions_everyone: false,
            }
        );
    }
}

#[tokio::test]
async fn joining_lists_members_and_others_see_join_and_leave_once_per_identity() {
    let app = spawn_app_with(with_root).await;
    let root = app.root().await;
    let watcher_name = unique_name("wat");
    let mut watcher = app.lobby_guest(&watcher_name).await;
    let nick = unique_name("tab");
    let token = app.guest_token(&nick).await;

    let mut tab1 = app.gateway_as(&token).await;
    let joined = tab1.join_lobby().await;
    let mut names: Vec<&str> = joined.members.iter().map(|m| m.name.as_str()).collect();
    names.sort();
    let mut expected = vec![watcher_name.as_str(), nick.as_str()];
    expected.sort();
    assert_eq!(names, expected, "{joined:?}");
    assert_eq!(joined.member_count, 2);
    let seen: MemberJoined = watcher.event().await;
    assert_eq!(
        (seen.room.as_str(), seen.user.name.as_str()),
        ("lobby", nick.as_str())
    );

    let mut tab2 = app.gateway_as(&token).await;
    tab2.join_lobby().await;
    let tabs_of = |wanted: usize| {
        let (root, nick) = (&root, &nick);
        eventually(move || async move {
            let live: Connections = root
                .call("GET", "/api/admin/connections", None)
                .await
                .expect(200);
            let tabs = live
                .connections
                .iter()
                .filter(|c| c.user.as_ref().is_some_and(|u| &u.name == nick))
                .count();
            if tabs == wanted {
                Ok(())
            } else {
                Err(format!("{wanted} connections of {nick} wanted: {live:?}"))
            }
        })
    };
    tabs_of(2).await;
    tab1.close().await;
    // Once the server has dropped the first tab, anything it announced is in hand after a
    // round trip.
    tabs_of(1).await;
    watcher.assert_no_event(|_: &MemberJoined| true).await;
    watcher.assert_no_event(|_: &MemberLeft| true).await;
    tab2.close().await;
    let left: MemberLeft = watcher.event().await;
    assert_eq!(
        (left.room.as_str(), left.user.name.as_str()),
        ("lobby", nick.as_str())
    );
}

#[tokio::test]
async fn typing_reaches_others_but_not_the_typist() {
    let app = spawn_app().await;
    let typist_name = unique_name("typ");
    let mut typist = app.lobby_guest(&typist_name).await;
    let mut reader = app.lobby_guest(&unique_name("rdr")).await;
    let _: Empty = typist
        .call("typing", json!({ "room": "lobby", "active": true }))
        .await;
    let typing: Typing = reader.event().await;
    assert_eq!(
        (
            typing.room.as_str(),
            typing.user.name.as_str(),
            typing.active
        ),
        ("lobby", typist_name.as_str(), true)
    );
    typist.assert_no_event(|_: &Typing| true).await;
}

#[tokio::test]
async fn every_command_error_has_its_code() {
    let app = spawn_app_with(|c| c.max_message_chars = 10).await;
    let taken = unique_name("own");
    let _owner = app.lobby_guest(&taken).await;
    let mut client = app.gateway().await;

    client
        .expect_error(
            "send",
            json!({ "room": "lobby", "text": "hi" }),
            "unauthenticated",
        )
        .await;
    client
        .expect_error("identify", json!({}), "unauthenticated")
        .await;
    client
        .expect_error("identify", json!({ "token": "forged" }), "unauthenticated")
        .await;
    client
        .expect_error(
            "identify",
            json!({ "nick": taken.to_lowercase() }),
            "nick_taken",
        )
        .await;
    client
        .expect_error("identify", json!({ "nick": "no spaces" }), "invalid_nick")
        .await;
    client
        .expect_error("fly", json!({}), "unknown_command")
        .await;
    client
        .expect_error("send", json!({ "room": 5 }), "invalid_payload")
        .await;
    client
        .expect_error(
            "identify",
            json!({ "nick": "a", "extra": 1 }),
            "invalid_payload",
        )
        .await;

    client.identify(json!({ "nick": unique_name("err") })).await;
    client
        .expect_error(
            "identify",
            json!({ "nick": unique_name("two") }),
            "already_identified",
        )
        .await;
    client
        .expect_error(
            "send",
            json!({ "room": "lobby", "text": "hi" }),
            "not_in_room",
        )
        .await;
    client
        .expect_error(
            "typing",
            json!({ "room": "lobby", "active": true }),
            "not_in_room",
        )
        .await;
    client
        .expect_error("join", json!({ "room": "secret" }), "not_found")
        .await;
    client
        .expect_error("leave", json!({ "room": "lobby" }), "not_in_room")
        .await;
    client.join_lobby().await;
    client
        .expect_error(
            "send",
            json!({ "room": "lobby", "text": " \n\t " }),
            "empty_message",
        )
        .await;
    client
        .expect_error(
            "send",
            json!({ "room": "lobby", "text": "x".repeat(11) }),
            "message_too_long",
        )
        .await;
    client.say(&"é".repeat(10)).await;
}

#[tokio::test]
async fn malformed_frames_get_an_error_and_the_connection_stays_usable() {
    let app = spawn_app().await;
    let mut client = app.lobby_guest(&unique_name("mal")).await;
    for junk in ["not json", "[1,2]", "{\"data\":{}}", "{\"event\":7}"] {
        client.send_text(junk).await;
        let error: ErrorEvent = client.event().await;
        assert_eq!(error.code, "invalid_frame", "{junk}");
        assert!(!error.message.is_empty());
    }
    client.send_text("{\"event\":\"fly\"}").await;
    let error: ErrorEvent = client.event().await;
    assert_eq!(error.code, "unknown_command");
    client
        .send_text("{\"event\":\"send\",\"data\":[],\"ack\":99}")
        .await;
    let ack = client.ack(99).await;
    assert_eq!(ack.code(), "invalid_payload");
    client.say("still here").await;
}

#[tokio::test]
async fn sending_faster_than_the_rate_limit_is_refused() {
    let app = spawn_app_with(|c| {
        c.rate_limit_messages = 3;
        c.rate_limit_window_secs = 60;
    })
    .await;
    let mut client = app.lobby_guest(&unique_name("spm")).await;
    for i in 0..3 {
        client.say(&format!("message {i}")).await;
    }
    client
        .expect_error(
            "send",
            json!({ "room": "lobby", "text": "one too many" }),
            "rate_limited",
        )
        .await;
}

#[tokio::test]
async fn the_default_rate_limit_is_six_messages_per_five_seconds() {
    let app = spawn_app().await;
    let mut client = app.lobby_guest(&unique_name("six")).await;
    for i in 0..6 {
        client.say(&format!("message {i}")).await;
    }
    client
        .expect_error(
            "send",
            json!({ "room": "lobby", "text": "seventh" }),
            "rate_limited",
        )
        .await;
}

#[tokio::test]
async fn upgrades_from_foreign_origins_are_refused() {
    let app = spawn_app_with(|c| c.public_origins = vec!["https://chat.example.org".into()]).await;
    app.websocket_refused(
        "/gateway",
        &[("origin", "https://evil.example")],
        403,
        "origin_not_allowed",
    )
    .await;
    assert!(app
        .websocket("/gateway", &[("origin", "https://chat.example.org")])
        .await
        .is_ok());
    let same_origin = format!("http://{}", app.addr);
    assert!(app
        .websocket("/gateway", &[("origin", &same_origin)])
        .await
        .is_ok());
}

#[tokio::test]
async fn a_request_that_is_not_a_websocket_upgrade_is_refused_with_a_code() {
    let app = spawn_app().await;
    let plain = app.request("GET", "/gateway").send().await;
    plain.expect_status(422);
    assert_eq!(plain.value()["error"]["code"], "invalid_request");
    let wrong_version = app
        .request("GET", "/gateway")
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "8")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await;
    wrong_version.expect_status(422);
}

#[tokio::test]
async fn frames_over_the_size_cap_close_the_connection() {
    let app = spawn_app_with(|c| c.max_frame_bytes = 1024).await;
    let mut client = app.lobby_guest(&unique_name("big")).await;
    client
        .send_text(&format!(
            "{{\"event\":\"send\",\"data\":{{\"room\":\"lobby\",\"text\":\"{}\"}}}}",
            "x".repeat(2000)
        ))
        .await;
    client.closed_with(CloseReason::FrameTooLarge).await;
}

#[tokio::test]
async fn text_frames_that_are_not_utf8_close_the_connection_with_1007() {
    let app = spawn_app().await;
    let mut client = app.lobby_guest(&unique_name("utf")).await;
    client.send_invalid_text().await;
    client.closed_with(CloseReason::InvalidText).await;
}

/// The server writes its own frames and tungstenite's (pongs, the close answer) into one
/// queue: pongs arrive whole between events, and a client's close is answered.
#[tokio::test]
async fn pings_are_answered_between_events_and_a_clients_close_is_answered() {
    let app = spawn_app().await;
    let mut pinger = app.lobby_guest(&unique_name("png")).await;
    let mut talker = app.lobby_guest(&unique_name("tlk")).await;
    for n in 0..20 {
        let _: Empty = talker
            .call("typing", json!({ "room": "lobby", "active": n % 2 == 0 }))
            .await;
        assert!(pinger.ping(b"are you there").await, "pong {n}");
    }
    for n in 0..20 {
        let typing: Typing = pinger.event().await;
        assert_eq!(typing.active, n % 2 == 0, "typing event {n}");
    }
    assert!(pinger.close_and_hear_back().await, "the close is answered");
}

/// A connection's one task reads and writes in one loop: a client that keeps writing commands
/// while never reading their answers must still be read — the server must not stop reading
/// because its own writes are blocked, which would leave both sides blocked writing for ever —
/// until its answers fill its queue and it is closed as a slow consumer.
#[tokio::test]
async fn a_client_that_writes_without_reading_is_still_read_until_dropped_as_a_slow_consumer() {
    let app = spawn_app_with(|c| c.outbound_queue = 16).await;
    let mut flooder = app.lobby_guest(&unique_name("fld")).await;
    let mut other = app.lobby_guest(&unique_name("oth")).await;
    // Each unknown command is answered with an error of about 100 bytes: once the kernel's
    // buffers are full, the answers fill the connection's queue. The server keeps reading
    // meanwhile, so a send only waits for long once the server has closed the connection.
    for ack in 0u64.. {
        let command = format!(r#"{{"event":"no_such_command","ack":{ack}}}"#);
        let sent = tokio::time::timeout(
            std::time::Duration::from_millis(500),
            flooder.try_send_text(&command),
        )
        .await;
        if sent != Ok(true) {
            break;
        }
    }
    // A server that stopped reading this client without closing it keeps it online.
    app.until_online(1).await;
    let metrics = app.request("GET", "/metrics").send().await.body;
    assert!(
        metrics
            .lines()
            .any(|l| l.contains(r#"reason="slow_consumer""#) && l.ends_with(" 1")),
        "closed as a slow consumer: {metrics}"
    );
    // What it hears after its answers (unless the server's reset overtook them).
    let closed = flooder.until_closed().await;
    let reasons: Vec<_> = closed
        .frames
        .iter()
        .filter(|f| f["event"] == "closing")
        .map(|f| f["data"]["reason"].clone())
        .collect();
    assert!(reasons.iter().all(|r| r == "slow_consumer"), "{reasons:?}");
    // The server still serves everyone else.
    let _: Empty = other
        .call("typing", json!({ "room": "lobby", "active": true }))
        .await;
}

#[tokio::test]
async fn a_client_that_does_not_read_is_disconnected_as_a_slow_consumer() {
    let app = spawn_app_with(|c| c.outbound_queue = 16).await;
    let mut stalled = app.lobby_guest(&unique_name("slo")).await;
    let mut typist = app.lobby_guest(&unique_name("fst")).await;
    // Typing is not rate limited; flood until the stalled client's kernel buffers and then its
    // outbound queue fill up.
    let mut closed = false;
    for _ in 0..200 {
        for _ in 0..500 {
            typist
                .send_text(r#"{"event":"typing","data":{"room":"lobby","active":true}}"#)
                .await;
        }
        if app.online_count().await == 1 {
            closed = true;
            break;
        }
    }
    assert!(closed, "the stalled client was never dropped");
    stalled.closed_with(CloseReason::SlowConsumer).await;
}

/// An event for a connection with nothing waiting is written into its socket by whoever
/// delivers it; once the kernel's buffers of a client that does not read are full, a write
/// leaves part of a frame behind for the connection's own task, and what follows queues
/// behind it. Reading at last, the client gets every event whole and in order.
#[tokio::test]
async fn a_client_that_reads_late_gets_every_event_whole_and_in_order() {
    let app = spawn_app_with(|c| {
        c.outbound_queue = 10_000;
        c.rate_limit_messages = 1_000_000;
        c.max_message_chars = 60_000;
        c.max_frame_bytes = 128 * 1024;
    })
    .await;
    let mut late = app.lobby_guest(&unique_name("late")).await;
    let mut talker = app.lobby_guest(&unique_name("talk")).await;
    // 200 messages of 50 KB: 10 MB, more than a socket that is not read buffers on loopback.
    // Spaced out, so that each finds the connection idle and is written by the delivering
    // task rather than gathered into the connection's next batch.
    let body = "x".repeat(50_000);
    let count = 200;
    for i in 0..count {
        let text = format!("{i} {body}");
        talker
            .send_json(json!({ "event": "send", "data": { "room": "lobby", "text": text } }))
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(6)).await;
    }
    for i in 0..count {
        let message: Message = late.event().await;
        assert!(
            message.text.len() == body.len() + format!("{i} ").len()
                && message.text.starts_with(&format!("{i} "))
                && message.text.ends_with(&body),
            "message {i} whole and in order"
        );
    }
}
