//! Private conversations over the native gateway and REST: invite and accept, live notices,
//! unread counts and read markers, closing and reopening, the history cap, outsiders, and
//! guests' whispers that are never stored.

mod common;

use common::{count_rows, database, spawn_app, spawn_app_with, unique_name, Caller, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

async fn two_users(app: &TestApp) -> (Caller<'_>, Caller<'_>) {
    (
        app.caller(&unique_name("ann")).await,
        app.caller(&unique_name("bob")).await,
    )
}

/// Opens a conversation from `from` to `to` over REST and returns it.
async fn open(from: &Caller<'_>, to: &Caller<'_>) -> Value {
    let body = json!({ "user": to.name().await });
    let (status, view) = from.call("POST", "/api/conversations", Some(body)).await;
    assert_eq!(status, 200, "{view}");
    view
}

async fn listed(caller: &Caller<'_>) -> Vec<Value> {
    let (status, list) = caller.call("GET", "/api/conversations", None).await;
    assert_eq!(status, 200, "{list}");
    list["conversations"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_conversation_opens_when_the_peer_accepts_and_both_chat() {
    let app = spawn_app().await;
    let (ann, bob) = two_users(&app).await;
    let mut bob_live = bob.gateway().await;

    let view = open(&ann, &bob).await;
    assert_eq!(view["state"], "pending", "{view}");
    assert_eq!(view["peer"], bob.name().await.as_str());
    let room = view["room"].as_str().unwrap().to_owned();
    assert!(room.starts_with("pm:"), "{room}");
    let invited = bob_live.event("conversation_updated").await;
    assert_eq!(invited["conversation"]["state"], "invited", "{invited}");
    assert_eq!(invited["conversation"]["peer"], ann.name().await.as_str());

    let first = ann.say_in(&room, "hello before you accept").await;
    assert_eq!(first["seq"], 1);
    let grew = bob_live.event("conversation_updated").await;
    assert_eq!(
        (
            grew["conversation"]["state"].as_str(),
            grew["conversation"]["unread"].as_i64()
        ),
        (Some("invited"), Some(1)),
        "the invitation's unread count grows live"
    );
    bob_live
        .expect_error("join", json!({ "room": room }), "not_found")
        .await;

    let mut ann_live = ann.gateway().await;
    let accepted = bob_live.request("pm_accept", json!({ "room": room })).await;
    assert_eq!(accepted["data"]["state"], "open", "{accepted}");
    let told = ann_live.event("conversation_updated").await;
    assert_eq!(told["conversation"]["state"], "open", "{told}");

    let joined = bob_live.request("join", json!({ "room": room })).await;
    assert_eq!(joined["ok"], true, "{joined}");
    assert_eq!(
        joined["data"]["messages"][0]["text"],
        "hello before you accept"
    );
    assert_eq!(
        ann_live.request("join", json!({ "room": room })).await["ok"],
        true
    );
    let sent = bob_live
        .request(
            "send",
            json!({ "room": room, "text": "hi ann", "client_msg_id": "b-1" }),
        )
        .await;
    assert_eq!(sent["data"]["seq"], 2, "{sent}");
    let message = ann_live.event("message").await;
    assert_eq!(
        (message["room"].as_str(), message["text"].as_str()),
        (Some(room.as_str()), Some("hi ann"))
    );

    let unread = |list: &[Value]| list[0]["unread"].as_i64();
    assert_eq!(
        unread(&listed(&ann).await),
        Some(1),
        "bob's message is unread for ann"
    );
    assert_eq!(
        unread(&listed(&bob).await),
        Some(1),
        "ann's first message is unread for bob"
    );
    let read = ann_live
        .request("read", json!({ "room": room, "seq": 2 }))
        .await;
    assert_eq!(read["ok"], true, "{read}");
    assert_eq!(unread(&listed(&ann).await), Some(0));
    let (status, _) = bob
        .call(
            "POST",
            &format!("/api/rooms/{room}/read"),
            Some(json!({ "seq": 99 })),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        unread(&listed(&bob).await),
        Some(0),
        "a marker past the end counts as all read"
    );
}

#[tokio::test]
async fn a_closed_conversation_comes_back_with_the_next_message_and_needs_no_new_invite() {
    let app = spawn_app().await;
    let (ann, bob) = two_users(&app).await;
    let room = open(&ann, &bob).await["room"].as_str().unwrap().to_owned();
    let (status, _) = bob
        .call("POST", &format!("/api/conversations/{room}/accept"), None)
        .await;
    assert_eq!(status, 200);

    let (status, _) = ann
        .call("DELETE", &format!("/api/conversations/{room}"), None)
        .await;
    assert_eq!(status, 204);
    assert!(
        listed(&ann).await.is_empty(),
        "closed conversations are not listed"
    );

    let mut ann_live = ann.gateway().await;
    bob.say_in(&room, "are you there?").await;
    let back = ann_live.event("conversation_updated").await;
    assert_eq!(back["conversation"]["room"], room.as_str());
    assert_eq!(back["conversation"]["unread"], 1);
    assert_eq!(listed(&ann).await.len(), 1);

    let mut bob_live = bob.gateway().await;
    let again = ann_live
        .request("pm_open", json!({ "user": bob.name().await }))
        .await;
    assert_eq!(
        again["data"]["state"], "open",
        "accepted once, open at once: {again}"
    );
    bob_live
        .assert_no_frame(Duration::from_millis(300), |f| {
            f["event"] == "conversation_updated"
        })
        .await;
}

#[tokio::test]
async fn declining_is_silent_and_outsiders_see_nothing() {
    let app = spawn_app().await;
    let (ann, bob) = two_users(&app).await;
    let carol = app.caller(&unique_name("car")).await;
    let mut ann_live = ann.gateway().await;
    let room = open(&ann, &bob).await["room"].as_str().unwrap().to_owned();
    ann.say_in(&room, "secret words").await;

    let (status, _) = bob
        .call("POST", &format!("/api/conversations/{room}/decline"), None)
        .await;
    assert_eq!(status, 204);
    assert!(listed(&bob).await.is_empty());
    assert_eq!(listed(&ann).await[0]["state"], "pending", "ann is not told");
    ann_live
        .assert_no_frame(Duration::from_millis(300), |f| {
            f["event"] == "conversation_updated"
        })
        .await;
    let (status, _) = bob
        .call("GET", &format!("/api/rooms/{room}/messages"), None)
        .await;
    assert_eq!(status, 404, "declined: still not readable");

    for (method, path) in [
        ("GET", format!("/api/rooms/{room}")),
        ("GET", format!("/api/rooms/{room}/messages")),
        ("GET", format!("/api/rooms/{room}/members")),
        ("POST", format!("/api/conversations/{room}/accept")),
        ("DELETE", format!("/api/conversations/{room}")),
    ] {
        let (status, body) = carol.call(method, &path, None).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
    }
    let (status, body) = carol
        .call(
            "POST",
            &format!("/api/rooms/{room}/messages"),
            Some(json!({ "text": "x" })),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let mut carol_live = carol.gateway().await;
    for (command, data) in [
        ("join", json!({ "room": room })),
        ("history", json!({ "room": room })),
        ("send", json!({ "room": room, "text": "x" })),
        ("read", json!({ "room": room, "seq": 1 })),
        ("pm_accept", json!({ "room": room })),
    ] {
        carol_live.expect_error(command, data, "not_found").await;
    }
    let (status, _) = carol
        .call("POST", &format!("/api/rooms/{room}/requests"), None)
        .await;
    assert_eq!(status, 202);
    assert_eq!(
        count_rows(&database(&app).await, "access_requests").await,
        0
    );
    let (status, body) = carol
        .call(
            "POST",
            "/api/conversations",
            Some(json!({ "user": "nobody-here" })),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, body) = carol
        .call(
            "POST",
            "/api/conversations",
            Some(json!({ "user": carol.name().await })),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_request")),
        "{body}"
    );
}

#[tokio::test]
async fn history_keeps_only_the_newest_messages_up_to_the_cap() {
    let app = spawn_app_with(|c| {
        c.pm_history_cap = 5;
        c.rate_limit_messages = 100;
    })
    .await;
    let (ann, bob) = two_users(&app).await;
    let room = open(&ann, &bob).await["room"].as_str().unwrap().to_owned();
    for n in 1..=8 {
        ann.say_in(&room, &format!("m{n}")).await;
    }
    let (status, page) = ann
        .call("GET", &format!("/api/rooms/{room}/messages"), None)
        .await;
    assert_eq!(status, 200, "{page}");
    let seqs: Vec<i64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [4, 5, 6, 7, 8]);
    assert_eq!(count_rows(&database(&app).await, "messages").await, 5);
}

#[tokio::test]
async fn guests_whisper_live_and_nothing_is_stored() {
    let app = spawn_app().await;
    let mut gus = app.lobby_guest("gus").await;
    let mut gwen = app.lobby_guest("gwen").await;
    let ack = gus
        .request("whisper", json!({ "to": "GWEN", "text": "psst" }))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let got = gwen.event("whisper").await;
    assert_eq!(
        (got["from"]["name"].as_str(), got["text"].as_str()),
        (Some("gus"), Some("psst"))
    );
    assert_eq!(
        gus.event("whisper").await["text"],
        "psst",
        "the sender's connections see it too"
    );

    gus.expect_error(
        "whisper",
        json!({ "to": "nobody", "text": "x" }),
        "not_found",
    )
    .await;
    gus.expect_error("whisper", json!({ "to": "gus", "text": "x" }), "not_found")
        .await;
    gus.expect_error(
        "whisper",
        json!({ "to": "gwen", "text": " " }),
        "empty_message",
    )
    .await;
    gus.expect_error(
        "pm_open",
        json!({ "user": "gwen" }),
        "registration_required",
    )
    .await;

    let (ann, bob) = two_users(&app).await;
    let mut ann_live = ann.gateway().await;
    let _bob_live = bob.gateway().await;
    ann_live
        .expect_error(
            "whisper",
            json!({ "to": bob.name().await, "text": "x" }),
            "forbidden",
        )
        .await;
    let to_guest = ann_live
        .request("whisper", json!({ "to": "gwen", "text": "hello guest" }))
        .await;
    assert_eq!(
        to_guest["ok"], true,
        "a user may whisper to a guest: {to_guest}"
    );
    assert_eq!(gwen.event("whisper").await["text"], "hello guest");
    assert_eq!(count_rows(&database(&app).await, "messages").await, 0);
}
