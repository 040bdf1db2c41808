//! The native `/gateway` framing: identity, the lobby, acks and every error code.

mod common;

use common::{spawn_app, spawn_app_with, unique_name};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_guest_identifies_by_nick_and_gets_a_token_that_restores_it() {
    let app = spawn_app().await;
    let nick = unique_name("Gus");
    let mut first = app.gateway().await;
    let ack = first.request("identify", json!({ "nick": nick })).await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(
        ack["data"]["user"],
        json!({ "name": nick, "kind": "guest", "role": "user", "verified": false })
    );
    let token = ack["data"]["token"].as_str().unwrap().to_owned();
    first.close().await;

    let mut again = app.gateway().await;
    let ack = again.request("identify", json!({ "token": token })).await;
    assert_eq!(ack["data"]["user"]["name"], nick);
    assert!(ack["data"]["token"].is_null(), "no new token on restore");
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
    let ack = client.request("identify", json!({})).await;
    assert_eq!(ack["data"]["user"]["name"], nick);
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
    let id = ack["id"].as_str().unwrap().to_owned();
    assert!(ack["ts"].as_i64().unwrap() > 1_700_000_000_000);
    for client in clients.iter_mut().chain(std::iter::once(&mut sender)) {
        let message = client.event("message").await;
        assert_eq!(message["text"], "hello, lobby");
        assert_eq!(message["id"], id);
        assert_eq!(message["ts"], ack["ts"]);
        assert_eq!(message["room"], "lobby");
        assert_eq!(message["author"]["name"], sender_name);
    }
}

#[tokio::test]
async fn joining_lists_members_and_others_see_join_and_leave_once_per_identity() {
    let app = spawn_app().await;
    let watcher_name = unique_name("wat");
    let mut watcher = app.lobby_guest(&watcher_name).await;
    let nick = unique_name("tab");
    let token = app.guest_token(&nick).await;

    let mut tab1 = app.gateway().await;
    tab1.request("identify", json!({ "token": token })).await;
    let joined = tab1.join_lobby().await;
    let names: Vec<_> = joined["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].clone())
        .collect();
    assert!(
        names.contains(&json!(watcher_name)) && names.contains(&json!(nick)),
        "{joined}"
    );
    assert_eq!(watcher.event("member_joined").await["user"]["name"], nick);

    let mut tab2 = app.gateway().await;
    assert_eq!(
        tab2.request("identify", json!({ "token": token })).await["ok"],
        true
    );
    tab2.join_lobby().await;
    tab1.close().await;
    watcher
        .assert_no_frame(Duration::from_millis(300), |f| {
            f["event"] == "member_joined" || f["event"] == "member_left"
        })
        .await;
    tab2.close().await;
    assert_eq!(watcher.event("member_left").await["user"]["name"], nick);
}

#[tokio::test]
async fn typing_reaches_others_but_not_the_typist() {
    let app = spawn_app().await;
    let mut typist = app.lobby_guest(&unique_name("typ")).await;
    let mut reader = app.lobby_guest(&unique_name("rdr")).await;
    assert_eq!(
        typist
            .request("typing", json!({ "room": "lobby", "active": true }))
            .await["ok"],
        true
    );
    let typing = reader.event("typing").await;
    assert_eq!(typing["active"], true);
    typist
        .assert_no_frame(Duration::from_millis(300), |f| f["event"] == "typing")
        .await;
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

    assert_eq!(
        client
            .request("identify", json!({ "nick": unique_name("err") }))
            .await["ok"],
        true
    );
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
        .expect_error("join", json!({ "room": "secret" }), "registration_required")
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
        let error = client.event("error").await;
        assert_eq!(error["code"], "invalid_frame", "{junk}");
    }
    client.send_text("{\"event\":\"fly\"}").await;
    assert_eq!(client.event("error").await["code"], "unknown_command");
    client
        .send_text("{\"event\":\"send\",\"data\":[],\"ack\":99}")
        .await;
    let ack = client.frame_where(|f| f["ack"] == 99).await;
    assert_eq!(ack["error"]["code"], "invalid_payload");
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
    let refused = app
        .websocket("/gateway", &[("origin", "https://evil.example")])
        .await
        .err()
        .unwrap();
    assert_eq!(refused.0, 403);
    assert_eq!(refused.1["error"]["code"], "origin_not_allowed");
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
async fn frames_over_the_size_cap_close_the_connection() {
    let app = spawn_app_with(|c| c.max_frame_bytes = 1024).await;
    let mut client = app.lobby_guest(&unique_name("big")).await;
    client
        .send_text(&format!(
            "{{\"event\":\"send\",\"data\":{{\"room\":\"lobby\",\"text\":\"{}\"}}}}",
            "x".repeat(2000)
        ))
        .await;
    client.until_closed().await;
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
        let probe = app.get(&app.http(), "/api/online").await.1;
        if probe["online_clients"].as_array().unwrap().len() == 1 {
            closed = true;
            break;
        }
    }
    assert!(closed, "the stalled client was never dropped");
    let frames = stalled.until_closed().await;
    let last = frames.last().expect("a closing frame");
    assert_eq!(last["event"], "closing");
    assert_eq!(last["data"]["reason"], "slow_consumer");
}
