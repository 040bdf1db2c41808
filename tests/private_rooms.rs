//! A private room, to anyone who is not in it (a banned former member included), answers
//! exactly like a room that does not exist: on every REST path and gateway command (same
//! status, code, message and body), when its address is taken again, and through invite
//! tokens. Access requests have their own suite (`access_requests.rs`).

mod common;
mod hidden_room;

use common::protocol::{Ack, Room};
use common::{spawn_app, unique_name, Caller};
use hidden_room::{banned_ex_member, hidden_room, invite, HIDDEN, HIDDEN_NAME, MISSING};
use serde_json::{json, Value};
use std::time::Duration;

/// Every REST request that names a room: method, path (`{room}` and `{name}`, the owner's
/// name, are filled in) and body.
const REST: &[(&str, &str, Option<&str>)] = &[
    ("GET", "/api/rooms/{room}", None),
    ("PATCH", "/api/rooms/{room}", Some(r#"{"topic":"t"}"#)),
    ("DELETE", "/api/rooms/{room}", None),
    ("GET", "/api/rooms/{room}/messages", None),
    ("GET", "/api/rooms/{room}/messages?before=5&limit=2", None),
    (
        "POST",
        "/api/rooms/{room}/messages",
        Some(r#"{"text":"hi"}"#),
    ),
    ("DELETE", "/api/rooms/{room}/messages", None),
    ("POST", "/api/rooms/{room}/membership", None),
    ("DELETE", "/api/rooms/{room}/membership", None),
    ("GET", "/api/rooms/{room}/members", None),
    ("DELETE", "/api/rooms/{room}/members/{name}", None),
    (
        "PUT",
        "/api/rooms/{room}/members/{name}/role",
        Some(r#"{"role":"admin"}"#),
    ),
    ("PUT", "/api/rooms/{room}/bans/{name}", None),
    ("DELETE", "/api/rooms/{room}/bans/{name}", None),
    ("POST", "/api/rooms/{room}/invites", Some("{}")),
    ("GET", "/api/rooms/{room}/invites", None),
    ("DELETE", "/api/rooms/{room}/invites/1", None),
    ("POST", "/api/rooms/{room}/requests", None),
    ("GET", "/api/rooms/{room}/requests", None),
    (
        "POST",
        "/api/rooms/{room}/requests/{name}",
        Some(r#"{"approve":true}"#),
    ),
];

/// Every gateway command that names a room, with its data (`{room}` filled in).
const GATEWAY: &[(&str, &str)] = &[
    ("join", r#"{"room":"{room}"}"#),
    ("join", r#"{"room":"{room}","since":3}"#),
    ("history", r#"{"room":"{room}"}"#),
    ("history", r#"{"room":"{room}","after":1}"#),
    ("send", r#"{"room":"{room}","text":"hi"}"#),
    (
        "send",
        r#"{"room":"{room}","text":"hi","client_msg_id":"c-1"}"#,
    ),
    ("leave", r#"{"room":"{room}"}"#),
    ("members", r#"{"room":"{room}"}"#),
    ("typing", r#"{"room":"{room}","active":true}"#),
];

fn fill(template: &str, room: &str, name: &str) -> String {
    template.replace("{room}", room).replace("{name}", name)
}

#[tokio::test]
async fn every_rest_path_answers_a_non_member_as_if_the_private_room_did_not_exist() {
    let app = spawn_app().await;
    let owner = hidden_room(&app).await;
    let owner_name = owner.name().await;
    let outsider = app.caller(&unique_name("out")).await;
    let banned = banned_ex_member(&app, &owner).await;

    for (who, caller) in [("outsider", &outsider), ("banned ex-member", &banned)] {
        for (method, path, body) in REST {
            let body: Option<Value> = body.map(|b| serde_json::from_str(b).expect("json"));
            let hidden = caller
                .call(method, &fill(path, HIDDEN, &owner_name), body.clone())
                .await;
            let missing = caller
                .call(method, &fill(path, MISSING, &owner_name), body)
                .await;
            assert_eq!(
                (hidden.status, hidden.body.as_str()),
                (missing.status, missing.body.as_str()),
                "{who}: {method} {path}"
            );
            assert!(
                hidden.status == 404 || hidden.status == 202,
                "{who}: {method} {path} answers like a missing room: {hidden:?}"
            );
            if hidden.status == 404 {
                hidden.expect_error(404, "not_found");
            }
            assert!(!hidden.body.contains(HIDDEN_NAME), "{hidden:?}");
        }
    }
}

#[tokio::test]
async fn every_gateway_command_answers_a_non_member_as_if_the_private_room_did_not_exist() {
    let app = spawn_app().await;
    let owner = hidden_room(&app).await;
    let outsider = app.caller(&unique_name("out")).await;
    let banned = banned_ex_member(&app, &owner).await;

    for (who, caller) in [("outsider", &outsider), ("banned ex-member", &banned)] {
        let mut ws = caller.gateway().await;
        for (command, data) in GATEWAY {
            let ask = |room: &str| -> Value {
                serde_json::from_str(&fill(data, room, "")).expect("json")
            };
            let hidden: Ack = ws.request(command, ask(HIDDEN)).await;
            let missing: Ack = ws.request(command, ask(MISSING)).await;
            assert!(!hidden.ok, "{who}: {command} {data}: {hidden:?}");
            assert_eq!(
                (hidden.ok, &hidden.data, &hidden.error),
                (missing.ok, &missing.data, &missing.error),
                "{who}: {command} {data}"
            );
        }
        ws.close().await;
    }
}

#[tokio::test]
async fn a_room_created_private_leaves_the_address_asked_for_free_to_anyone_else() {
    let app = spawn_app().await;
    let owner = app.caller(&unique_name("own")).await;
    let asked = "war-room";
    let private: Room = owner
        .call(
            "POST",
            "/api/rooms",
            Some(json!({ "slug": asked, "name": HIDDEN_NAME, "private": true })),
        )
        .await
        .expect(201);
    assert!(
        private.slug.starts_with("war-room-") && private.slug.len() == asked.len() + 9,
        "an unguessable address: {}",
        private.slug
    );
    owner.say_in(&private.slug, "classified").await;

    // Someone else asking for the same address, and for one nobody ever asked for, gets the
    // same answer: a public room of their own, at exactly that address.
    let prober = app.caller(&unique_name("prb")).await;
    for slug in [asked, "free-field"] {
        let created = prober
            .call("POST", "/api/rooms", Some(json!({ "slug": slug })))
            .await;
        assert!(!created.body.contains(HIDDEN_NAME), "{created:?}");
        let room: Room = created.expect(201);
        assert_eq!((room.slug.as_str(), room.private), (slug, false));
    }
    // Each room keeps its own members and messages.
    assert_eq!(owner.texts_in(&private.slug).await, ["classified"]);
    assert!(prober.texts_in(asked).await.is_empty());
    prober
        .call("GET", &format!("/api/rooms/{}", private.slug), None)
        .await
        .expect_error(404, "not_found");
    // A public address stays one room's: asking for it again is refused, to anyone.
    owner
        .call("POST", "/api/rooms", Some(json!({ "slug": asked })))
        .await
        .expect_error(409, "room_taken");
}

#[tokio::test]
async fn an_unusable_invite_answers_like_a_token_that_never_existed() {
    let app = spawn_app().await;
    let owner = hidden_room(&app).await;
    let stranger = app.caller(&unique_name("str")).await;
    let banned = banned_ex_member(&app, &owner).await;
    let revoked = invite(&owner, json!({})).await;
    owner
        .call(
            "DELETE",
            &format!("/api/rooms/{HIDDEN}/invites/{}", revoked["invite"]["id"]),
            None,
        )
        .await
        .expect_empty(204);
    let expired = invite(&owner, json!({ "ttl_secs": 1 })).await;
    let foreign = invite(&owner, json!({ "email": "someone-else@example.com" })).await;
    let for_banned = invite(&owner, json!({})).await;
    app.clock.advance(Duration::from_secs(2));

    let never = redeem(&stranger, &"x".repeat(43)).await;
    never.expect_error(410, "invite_unusable");
    for (what, reply) in [
        ("revoked", redeem(&stranger, token(&revoked)).await),
        ("expired", redeem(&stranger, token(&expired)).await),
        (
            "for another e-mail",
            redeem(&stranger, token(&foreign)).await,
        ),
        ("banned", redeem(&banned, token(&for_banned)).await),
    ] {
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (never.status, never.body.as_str()),
            "{what}"
        );
    }
}

async fn redeem(caller: &Caller<'_>, token: &str) -> common::http::Reply {
    caller
        .call("POST", &format!("/api/invites/{token}"), None)
        .await
}

fn token(created: &Value) -> &str {
    created["token"].as_str().expect("token")
}
