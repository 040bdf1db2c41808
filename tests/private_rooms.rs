//! A private room, to anyone who is not in it, answers exactly like a room that does not exist:
//! on every REST path and gateway command (same status, code, message and body), in the room
//! list, through access requests (kept and listed by address, expiring alike, denials never
//! announced) and through invite tokens. Its owner and admins still see and decide requests,
//! and an approved requester learns it live.

mod common;

use common::protocol::{AccessDecided, AccessRequested, Ack, RoomList, RoomRole};
use common::{spawn_app, spawn_app_with, unique_name, Caller, TestApp};
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

/// The private room every test hides, and an address no room holds.
const HIDDEN: &str = "hidden-den";
const MISSING: &str = "empty-lot";
/// The hidden room's display name: it must never reach an outsider.
const HIDDEN_NAME: &str = "Plans Nobody Sees";

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

/// A private room with a message in it, owned by the returned caller.
async fn hidden_room(app: &TestApp) -> Caller<'_> {
    let owner = app.caller(&unique_name("own")).await;
    let created = owner
        .call(
            "POST",
            "/api/rooms",
            Some(json!({ "slug": HIDDEN, "name": HIDDEN_NAME, "private": true })),
        )
        .await;
    created.expect_status(201);
    owner.say_in(HIDDEN, "classified").await;
    owner
}

/// A former member, banned from the hidden room (they, too, must learn nothing more).
async fn banned_ex_member<'a>(app: &'a TestApp, owner: &Caller<'a>) -> Caller<'a> {
    let member = app.caller(&unique_name("exm")).await;
    let created: Value = owner
        .call(
            "POST",
            &format!("/api/rooms/{HIDDEN}/invites"),
            Some(json!({})),
        )
        .await
        .expect(201);
    let token = created["token"].as_str().expect("token").to_owned();
    member
        .call("POST", &format!("/api/invites/{token}"), None)
        .await
        .expect_status(200);
    let name = member.name().await;
    owner
        .call("PUT", &format!("/api/rooms/{HIDDEN}/bans/{name}"), None)
        .await
        .expect_empty(204);
    member
}

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
async fn a_taken_address_answers_the_same_whether_its_room_is_public_or_private() {
    let app = spawn_app().await;
    let _owner = hidden_room(&app).await;
    let other = app.caller(&unique_name("own")).await;
    other.create_room("open-square", false).await;
    let prober = app.caller(&unique_name("prb")).await;

    let taken_private = prober
        .call("POST", "/api/rooms", Some(json!({ "slug": HIDDEN })))
        .await;
    let taken_public = prober
        .call("POST", "/api/rooms", Some(json!({ "slug": "open-square" })))
        .await;
    taken_private.expect_error(409, "room_taken");
    assert_eq!(
        (taken_private.status, taken_private.body.as_str()),
        (taken_public.status, taken_public.body.as_str())
    );
    assert!(!taken_private.body.contains(HIDDEN_NAME));
}

#[tokio::test]
async fn the_room_list_shows_a_request_only_as_the_address_asked_for() {
    let app = spawn_app().await;
    let _owner = hidden_room(&app).await;
    let asker = app.caller(&unique_name("ask")).await;
    for room in [HIDDEN, MISSING] {
        asker
            .call("POST", &format!("/api/rooms/{room}/requests"), None)
            .await
            .expect_empty(202);
    }

    let reply = asker.call("GET", "/api/rooms", None).await;
    let list: RoomList = reply.expect(200);
    assert!(!reply.body.contains(HIDDEN_NAME), "{reply:?}");
    assert!(
        list.rooms.iter().all(|r| r.slug != HIDDEN),
        "a request does not list the room: {list:?}"
    );
    let [missing, hidden] = &list.requests[..] else {
        panic!("two requests, by address: {list:?}");
    };
    assert_eq!(
        (hidden.slug.as_str(), missing.slug.as_str()),
        (HIDDEN, MISSING)
    );
    assert_eq!(
        (hidden.created_at, hidden.expires_at),
        (missing.created_at, missing.expires_at),
        "kept alike"
    );
    assert_eq!(
        hidden.expires_at - hidden.created_at,
        7 * 24 * 3600 * 1000,
        "a week"
    );
}

/// The pending requests a room's owner sees.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pending {
    requests: Vec<PendingRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PendingRequest {
    name: String,
    #[allow(dead_code)]
    created_at: i64,
}

async fn pending_names(owner: &Caller<'_>) -> Vec<String> {
    let pending: Pending = owner
        .call("GET", &format!("/api/rooms/{HIDDEN}/requests"), None)
        .await
        .expect(200);
    pending.requests.into_iter().map(|r| r.name).collect()
}

async fn requested_slugs(caller: &Caller<'_>) -> Vec<String> {
    let list: RoomList = caller.call("GET", "/api/rooms", None).await.expect(200);
    list.requests.into_iter().map(|r| r.slug).collect()
}

#[tokio::test]
async fn requests_expire_alike_and_can_be_made_again() {
    let app = spawn_app_with(|c| c.session_ttl_secs = 30 * 24 * 3600).await;
    let owner = hidden_room(&app).await;
    let asker = app.caller(&unique_name("ask")).await;
    let asker_name = asker.name().await;
    for room in [HIDDEN, MISSING] {
        asker
            .call("POST", &format!("/api/rooms/{room}/requests"), None)
            .await
            .expect_empty(202);
    }
    assert_eq!(pending_names(&owner).await, [asker_name.as_str()]);

    app.clock
        .advance(Duration::from_millis(7 * 24 * 3600 * 1000 - 1));
    assert_eq!(requested_slugs(&asker).await, [MISSING, HIDDEN]);
    app.clock.advance(Duration::from_millis(1));
    assert!(requested_slugs(&asker).await.is_empty(), "both lapsed");
    assert!(pending_names(&owner).await.is_empty(), "gone for the owner");

    let mut owner_ws = owner.gateway().await;
    asker
        .call("POST", &format!("/api/rooms/{HIDDEN}/requests"), None)
        .await
        .expect_empty(202);
    let again: AccessRequested = owner_ws.event().await;
    assert_eq!(
        (again.room.as_str(), again.user.as_str()),
        (HIDDEN, asker_name.as_str())
    );
    assert_eq!(requested_slugs(&asker).await, [HIDDEN]);
}

#[tokio::test]
async fn a_denied_request_looks_to_the_requester_like_an_unanswered_one() {
    let app = spawn_app().await;
    let owner = hidden_room(&app).await;
    let asker = app.caller(&unique_name("ask")).await;
    let asker_name = asker.name().await;
    let mut asker_ws = asker.gateway().await;
    let mut owner_ws = owner.gateway().await;
    for room in [HIDDEN, MISSING] {
        asker
            .call("POST", &format!("/api/rooms/{room}/requests"), None)
            .await
            .expect_empty(202);
    }
    let _: AccessRequested = owner_ws.event().await;
    let before = asker.call("GET", "/api/rooms", None).await;

    owner
        .call(
            "POST",
            &format!("/api/rooms/{HIDDEN}/requests/{asker_name}"),
            Some(json!({ "approve": false })),
        )
        .await
        .expect_empty(204);
    asker_ws.assert_no_event::<AccessDecided>(|_| true).await;
    let after = asker.call("GET", "/api/rooms", None).await;
    assert_eq!(before.body, after.body, "still pending, as the missing one");
    assert!(
        pending_names(&owner).await.is_empty(),
        "settled for the owner"
    );

    asker
        .call("POST", &format!("/api/rooms/{HIDDEN}/requests"), None)
        .await
        .expect_empty(202);
    owner_ws.assert_no_event::<AccessRequested>(|_| true).await;
    assert!(
        pending_names(&owner).await.is_empty(),
        "asking again is no new request"
    );
    owner
        .call(
            "POST",
            &format!("/api/rooms/{HIDDEN}/requests/{asker_name}"),
            Some(json!({ "approve": true })),
        )
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn the_owner_sees_and_approves_a_request_and_the_requester_learns_it_live() {
    let app = spawn_app().await;
    let owner = hidden_room(&app).await;
    let asker = app.caller(&unique_name("ask")).await;
    let asker_name = asker.name().await;
    let mut owner_ws = owner.gateway().await;
    let mut asker_ws = asker.gateway().await;

    asker
        .call("POST", &format!("/api/rooms/{HIDDEN}/requests"), None)
        .await
        .expect_empty(202);
    let told: AccessRequested = owner_ws.event().await;
    assert_eq!(
        (told.room.as_str(), told.user.as_str()),
        (HIDDEN, asker_name.as_str())
    );
    assert_eq!(pending_names(&owner).await, [asker_name.as_str()]);

    owner
        .call(
            "POST",
            &format!("/api/rooms/{HIDDEN}/requests/{asker_name}"),
            Some(json!({ "approve": true })),
        )
        .await
        .expect_empty(204);
    let decided: AccessDecided = asker_ws.event().await;
    assert_eq!(
        decided,
        AccessDecided {
            room: HIDDEN.into(),
            approved: true
        }
    );
    let joined = asker_ws.join_room(HIDDEN, json!({})).await;
    assert_eq!(joined.room.role, Some(RoomRole::Member));
    assert_eq!(joined.texts(), ["classified"]);
    let list: RoomList = asker.call("GET", "/api/rooms", None).await.expect(200);
    let listed: Vec<_> = list.rooms.iter().filter(|r| r.slug == HIDDEN).collect();
    assert_eq!(
        (listed.len(), listed[0].name.as_str()),
        (1, HIDDEN_NAME),
        "a member sees the room: {list:?}"
    );
    assert!(list.requests.is_empty(), "{list:?}");
    assert!(pending_names(&owner).await.is_empty());
}

#[tokio::test]
async fn a_later_owner_never_sees_requests_made_before_the_room_existed() {
    let app = spawn_app().await;
    let early = app.caller(&unique_name("erl")).await;
    early
        .call("POST", &format!("/api/rooms/{HIDDEN}/requests"), None)
        .await
        .expect_empty(202);
    app.clock.advance(Duration::from_millis(1));
    let owner = hidden_room(&app).await;
    assert!(pending_names(&owner).await.is_empty());
    assert_eq!(requested_slugs(&early).await, [HIDDEN], "still theirs");
}

#[tokio::test]
async fn a_banned_users_request_reaches_nobody_and_still_looks_pending_to_them() {
    let app = spawn_app().await;
    let owner = hidden_room(&app).await;
    let banned = banned_ex_member(&app, &owner).await;
    let mut owner_ws = owner.gateway().await;
    for room in [HIDDEN, MISSING] {
        banned
            .call("POST", &format!("/api/rooms/{room}/requests"), None)
            .await
            .expect_empty(202);
    }
    owner_ws.assert_no_event::<AccessRequested>(|_| true).await;
    assert!(pending_names(&owner).await.is_empty());
    assert_eq!(requested_slugs(&banned).await, [MISSING, HIDDEN]);
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

async fn invite(owner: &Caller<'_>, body: Value) -> Value {
    owner
        .call("POST", &format!("/api/rooms/{HIDDEN}/invites"), Some(body))
        .await
        .expect(201)
}

async fn redeem(caller: &Caller<'_>, token: &str) -> common::http::Reply {
    caller
        .call("POST", &format!("/api/invites/{token}"), None)
        .await
}

fn token(created: &Value) -> &str {
    created["token"].as_str().expect("token")
}
