//! Persistent rooms over the native gateway and REST: visibility, membership, history and
//! resume, idempotent sends, invites, access requests and owner moderation.

mod common;

use common::{spawn_app, unique_name, Caller, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

async fn two_users(app: &TestApp) -> (Caller<'_>, Caller<'_>) {
    (
        app.caller(&unique_name("own")).await,
        app.caller(&unique_name("usr")).await,
    )
}

fn texts(messages: &Value) -> Vec<String> {
    messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

fn seqs(messages: &Value) -> Vec<i64> {
    messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn members_chat_in_a_room_and_history_survives_a_reconnect() {
    let app = spawn_app().await;
    let (owner, other) = two_users(&app).await;
    owner.create_room("general", false).await;
    let mut alice = owner.gateway().await;
    let joined = alice.request("join", json!({ "room": "general" })).await;
    assert_eq!(joined["ok"], true, "{joined}");
    assert_eq!(joined["data"]["room"]["role"], "owner");
    let mut bob = other.gateway().await;
    let joined = bob.request("join", json!({ "room": "general" })).await;
    assert_eq!(
        joined["data"]["room"]["role"], "member",
        "joining a public room makes a member"
    );
    alice.event("member_joined").await;

    let ack = bob
        .request("send", json!({ "room": "general", "text": "hello room" }))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(ack["data"]["seq"], 1);
    let message = alice.event("message").await;
    assert_eq!(
        (message["text"].as_str(), message["seq"].as_i64()),
        (Some("hello room"), Some(1))
    );
    assert_eq!(
        message["author"]["name"].as_str(),
        Some(other.name().await.as_str())
    );
    bob.close().await;

    let mut again = other.gateway().await;
    let joined = again.request("join", json!({ "room": "general" })).await;
    assert_eq!(texts(&joined["data"]["messages"]), ["hello room"]);
}

#[tokio::test]
async fn a_private_room_answers_outsiders_exactly_like_a_missing_room() {
    let app = spawn_app().await;
    let (owner, outsider) = two_users(&app).await;
    owner.create_room("secret", true).await;
    owner.say_in("secret", "classified").await;

    for path in [
        "/api/rooms/secret",
        "/api/rooms/secret/messages",
        "/api/rooms/secret/members",
    ] {
        let hidden = outsider.call("GET", path, None).await;
        let missing = outsider
            .call("GET", &path.replace("secret", "nowhere"), None)
            .await;
        assert_eq!(hidden.0, 404, "{path}: {}", hidden.1);
        assert_eq!(
            hidden.1["error"]["code"], missing.1["error"]["code"],
            "{path}"
        );
    }
    let (status, _) = outsider
        .call(
            "POST",
            "/api/rooms/secret/messages",
            Some(json!({ "text": "let me in" })),
        )
        .await;
    assert_eq!(status, 404);
    let (_, list) = outsider.call("GET", "/api/rooms", None).await;
    assert!(!list.to_string().contains("secret"), "not listed: {list}");

    let mut ws = outsider.gateway().await;
    ws.expect_error("join", json!({ "room": "secret" }), "not_found")
        .await;
    ws.expect_error("history", json!({ "room": "secret" }), "not_found")
        .await;
    ws.expect_error(
        "send",
        json!({ "room": "secret", "text": "x" }),
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn guests_are_told_rooms_need_an_account() {
    let app = spawn_app().await;
    let owner = app.caller(&unique_name("own")).await;
    owner.create_room("open", false).await;
    let mut guest = app.lobby_guest(&unique_name("g")).await;
    guest
        .expect_error("join", json!({ "room": "open" }), "registration_required")
        .await;
}

#[tokio::test]
async fn resuming_from_a_sequence_delivers_exactly_the_missed_messages() {
    let app = spawn_app_with_page(3).await;
    let owner = app.caller(&unique_name("own")).await;
    owner.create_room("busy", false).await;
    for n in 1..=2 {
        owner.say_in("busy", &format!("m{n}")).await;
    }
    let mut ws = owner.gateway().await;
    let joined = ws.request("join", json!({ "room": "busy" })).await;
    assert_eq!(seqs(&joined["data"]["messages"]), [1, 2]);
    ws.close().await;

    for n in 3..=7 {
        owner.say_in("busy", &format!("m{n}")).await;
    }
    let mut ws = owner.gateway().await;
    let resumed = ws
        .request("join", json!({ "room": "busy", "since": 2 }))
        .await;
    assert_eq!(seqs(&resumed["data"]["messages"]), [3, 4, 5], "one page");
    assert_eq!(resumed["data"]["more"], true);
    let rest = ws
        .request("history", json!({ "room": "busy", "after": 5 }))
        .await;
    assert_eq!(seqs(&rest["data"]["messages"]), [6, 7]);
    owner.say_in("busy", "m8").await;
    let live = ws.event("message").await;
    assert_eq!(
        live["seq"], 8,
        "live messages continue the sequence with no gap"
    );

    let back = ws
        .request(
            "history",
            json!({ "room": "busy", "before": 3, "limit": 10 }),
        )
        .await;
    assert_eq!(
        seqs(&back["data"]["messages"]),
        [1, 2],
        "older pages by cursor"
    );
}

async fn spawn_app_with_page(page: usize) -> TestApp {
    common::spawn_app_with(|c| {
        c.history_page = page;
        c.rate_limit_messages = 100;
    })
    .await
}

#[tokio::test]
async fn a_retried_send_with_the_same_client_msg_id_stores_one_message() {
    let app = spawn_app().await;
    let owner = app.caller(&unique_name("own")).await;
    owner.create_room("retry", false).await;
    let mut ws = owner.gateway().await;
    ws.request("join", json!({ "room": "retry" })).await;
    let send = json!({ "room": "retry", "text": "once", "client_msg_id": "c-1" });
    let first = ws.request("send", send.clone()).await;
    let second = ws.request("send", send).await;
    assert_eq!(first["data"]["id"], second["data"]["id"]);
    assert_eq!(second["data"]["duplicate"], true);
    let (_, rest) = owner
        .call(
            "POST",
            "/api/rooms/retry/messages",
            Some(json!({ "text": "once", "client_msg_id": "c-1" })),
        )
        .await;
    assert_eq!(rest["id"], first["data"]["id"], "the same over REST");
    let (_, history) = owner.call("GET", "/api/rooms/retry/messages", None).await;
    assert_eq!(texts(&history["messages"]), ["once"]);
}

#[tokio::test]
async fn invites_admit_until_they_expire_run_out_or_are_revoked() {
    let app = spawn_app().await;
    let owner = app.caller(&unique_name("own")).await;
    owner.create_room("club", true).await;
    let (status, once) = owner
        .call(
            "POST",
            "/api/rooms/club/invites",
            Some(json!({ "max_uses": 1 })),
        )
        .await;
    assert_eq!(status, 201, "{once}");
    let path = format!("/api/invites/{}", once["token"].as_str().unwrap());

    let first = app.caller(&unique_name("a")).await;
    let (status, room) = first.call("POST", &path, None).await;
    assert_eq!((status, room["slug"].as_str()), (200, Some("club")));
    let (status, _) = first.call("GET", "/api/rooms/club/messages", None).await;
    assert_eq!(status, 200, "the invitee is a member");
    let second = app.caller(&unique_name("b")).await;
    let (status, body) = second.call("POST", &path, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (410, Some("invite_unusable"))
    );

    let (_, short) = owner
        .call(
            "POST",
            "/api/rooms/club/invites",
            Some(json!({ "ttl_secs": 1 })),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _) = second
        .call(
            "POST",
            &format!("/api/invites/{}", short["token"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, 410, "expired");

    let (_, revoked) = owner
        .call("POST", "/api/rooms/club/invites", Some(json!({})))
        .await;
    let id = revoked["invite"]["id"].as_i64().unwrap();
    let (status, _) = owner
        .call("DELETE", &format!("/api/rooms/club/invites/{id}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = second
        .call(
            "POST",
            &format!("/api/invites/{}", revoked["token"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, 410, "revoked");
    let (status, _) = second.call("POST", "/api/invites/not-a-token", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_access_request_reaches_the_owner_and_the_answer_reaches_the_requester_live() {
    let app = spawn_app().await;
    let (owner, asker) = two_users(&app).await;
    owner.create_room("vip", true).await;
    let mut owner_ws = owner.gateway().await;
    let mut asker_ws = asker.gateway().await;

    let (status, _) = asker.call("POST", "/api/rooms/vip/requests", None).await;
    assert_eq!(status, 202);
    let (status, _) = asker
        .call("POST", "/api/rooms/no-such-room/requests", None)
        .await;
    assert_eq!(status, 202, "asking reveals nothing about existence");
    let requested = owner_ws.event("access_requested").await;
    assert_eq!(requested["room"], "vip");
    let (_, list) = asker.call("GET", "/api/rooms", None).await;
    assert_eq!(list["rooms"][0]["access"], "requested", "{list}");

    let name = requested["user"].as_str().unwrap().to_owned();
    let (status, _) = owner
        .call(
            "POST",
            &format!("/api/rooms/vip/requests/{name}"),
            Some(json!({ "approve": true })),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(asker_ws.event("access_decided").await["approved"], true);
    let joined = asker_ws.request("join", json!({ "room": "vip" })).await;
    assert_eq!(joined["data"]["room"]["role"], "member", "{joined}");
}

#[tokio::test]
async fn a_banned_member_is_removed_live_and_cannot_return_even_by_invite() {
    let app = spawn_app().await;
    let (owner, member) = two_users(&app).await;
    owner.create_room("strict", false).await;
    let mut member_ws = member.gateway().await;
    member_ws.request("join", json!({ "room": "strict" })).await;
    let name = member.name().await;

    let (status, _) = owner
        .call("PUT", &format!("/api/rooms/strict/bans/{name}"), None)
        .await;
    assert_eq!(status, 204);
    let removed = member_ws.event("room_removed").await;
    assert_eq!(
        (removed["room"].as_str(), removed["reason"].as_str()),
        (Some("strict"), Some("banned"))
    );
    member_ws
        .expect_error("send", json!({ "room": "strict", "text": "x" }), "banned")
        .await;
    member_ws
        .expect_error("join", json!({ "room": "strict" }), "banned")
        .await;
    let (_, invite) = owner
        .call("POST", "/api/rooms/strict/invites", Some(json!({})))
        .await;
    let (status, body) = member
        .call(
            "POST",
            &format!("/api/invites/{}", invite["token"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("banned"))
    );
}

#[tokio::test]
async fn admins_act_on_members_but_not_on_admins_or_the_owner() {
    let app = spawn_app().await;
    let owner = app.caller(&unique_name("own")).await;
    let (admin, peer, member) = (
        app.caller(&unique_name("adm")).await,
        app.caller(&unique_name("adm")).await,
        app.caller(&unique_name("mem")).await,
    );
    owner.create_room("ranked", false).await;
    for caller in [&admin, &peer, &member] {
        let (status, _) = caller
            .call("POST", "/api/rooms/ranked/membership", None)
            .await;
        assert_eq!(status, 200);
    }
    let owner_name = owner.name().await;
    let (admin_name, peer_name, member_name_) =
        (admin.name().await, peer.name().await, member.name().await);
    for name in [&admin_name, &peer_name] {
        let path = format!("/api/rooms/ranked/members/{name}/role");
        let (status, _) = owner
            .call("PUT", &path, Some(json!({ "role": "admin" })))
            .await;
        assert_eq!(status, 204);
    }
    for target in [&peer_name, &owner_name] {
        let (status, _) = admin
            .call(
                "DELETE",
                &format!("/api/rooms/ranked/members/{target}"),
                None,
            )
            .await;
        assert_eq!(status, 403, "admin on {target}");
        let (status, _) = admin
            .call("PUT", &format!("/api/rooms/ranked/bans/{target}"), None)
            .await;
        assert_eq!(status, 403, "admin bans {target}");
    }
    let (status, _) = member
        .call(
            "DELETE",
            &format!("/api/rooms/ranked/members/{peer_name}"),
            None,
        )
        .await;
    assert_eq!(status, 403, "members moderate nobody");
    let (status, _) = admin
        .call(
            "PUT",
            &format!("/api/rooms/ranked/members/{member_name_}/role"),
            Some(json!({ "role": "admin" })),
        )
        .await;
    assert_eq!(status, 403, "only the owner hands out roles");
    let (status, _) = admin
        .call(
            "DELETE",
            &format!("/api/rooms/ranked/members/{member_name_}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = admin.call("DELETE", "/api/rooms/ranked", None).await;
    assert_eq!(status, 403, "only the owner deletes");
}

#[tokio::test]
async fn leaving_a_private_room_ends_access_to_its_history() {
    let app = spawn_app().await;
    let (owner, member) = two_users(&app).await;
    owner.create_room("inner", true).await;
    let (_, invite) = owner
        .call("POST", "/api/rooms/inner/invites", Some(json!({})))
        .await;
    member
        .call(
            "POST",
            &format!("/api/invites/{}", invite["token"].as_str().unwrap()),
            None,
        )
        .await;
    owner.say_in("inner", "before").await;
    let (status, _) = member.call("GET", "/api/rooms/inner/messages", None).await;
    assert_eq!(status, 200);
    let (status, _) = member
        .call("DELETE", "/api/rooms/inner/membership", None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = member.call("GET", "/api/rooms/inner/messages", None).await;
    assert_eq!(status, 404);
    let mut ws = member.gateway().await;
    ws.expect_error("history", json!({ "room": "inner" }), "not_found")
        .await;
}

#[tokio::test]
async fn owners_change_settings_clear_history_and_slow_members_down() {
    let app = spawn_app().await;
    let (owner, member) = two_users(&app).await;
    owner.create_room("tuned", false).await;
    member
        .call("POST", "/api/rooms/tuned/membership", None)
        .await;
    let mut member_ws = member.gateway().await;
    member_ws.request("join", json!({ "room": "tuned" })).await;
    owner.say_in("tuned", "old news").await;

    let patch = json!({ "topic": "quiet please", "slow_mode_secs": 30, "allow_videos": false, "retention_days": 7 });
    let (status, room) = owner.call("PATCH", "/api/rooms/tuned", Some(patch)).await;
    assert_eq!(status, 200, "{room}");
    assert_eq!(
        (
            room["slow_mode_secs"].as_i64(),
            room["allow_videos"].as_bool()
        ),
        (Some(30), Some(false))
    );
    assert_eq!(
        member_ws.event("room_updated").await["room"]["topic"],
        "quiet please"
    );
    let (status, _) = member
        .call(
            "PATCH",
            "/api/rooms/tuned",
            Some(json!({ "topic": "mine" })),
        )
        .await;
    assert_eq!(status, 403);
    let (status, body) = owner
        .call(
            "PATCH",
            "/api/rooms/tuned",
            Some(json!({ "slow_mode_secs": -1 })),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_room"))
    );

    member_ws
        .request("send", json!({ "room": "tuned", "text": "one" }))
        .await;
    member_ws
        .expect_error(
            "send",
            json!({ "room": "tuned", "text": "two" }),
            "rate_limited",
        )
        .await;
    owner.say_in("tuned", "owners are exempt").await;

    let (status, _) = owner
        .call("DELETE", "/api/rooms/tuned/messages", None)
        .await;
    assert_eq!(status, 204);
    member_ws.event("history_cleared").await;
    let (_, history) = member.call("GET", "/api/rooms/tuned/messages", None).await;
    assert_eq!(history["messages"], json!([]));
}

#[tokio::test]
async fn deleting_a_room_removes_its_messages_invites_and_key_for_good() {
    let app = spawn_app().await;
    let (owner, member) = two_users(&app).await;
    owner.create_room("doomed", false).await;
    member
        .call("POST", "/api/rooms/doomed/membership", None)
        .await;
    let mut member_ws = member.gateway().await;
    member_ws.request("join", json!({ "room": "doomed" })).await;
    owner.say_in("doomed", "soon gone").await;
    owner
        .call("POST", "/api/rooms/doomed/invites", Some(json!({})))
        .await;

    let (status, _) = owner.call("DELETE", "/api/rooms/doomed", None).await;
    assert_eq!(status, 204);
    let removed = member_ws.event("room_removed").await;
    assert_eq!(removed["reason"], "deleted");
    let (status, _) = member.call("GET", "/api/rooms/doomed", None).await;
    assert_eq!(status, 404);
    let db = common::database(&app).await;
    for table in ["rooms", "messages", "invites", "room_members", "data_keys"] {
        assert_eq!(common::count_rows(&db, table).await, 0, "{table} is empty");
    }
    // The address is free again.
    owner.create_room("doomed", false).await;
}

#[tokio::test]
async fn bad_room_input_gets_clear_errors() {
    let app = spawn_app().await;
    let owner = app.caller(&unique_name("own")).await;
    for (body, code) in [
        (json!({ "slug": "x" }), "invalid_room"),
        (json!({ "slug": "lobby" }), "invalid_room"),
        (json!({ "slug": "ok-room", "name": " " }), "invalid_room"),
        (json!({ "slug": "ok-room", "extra": 1 }), "invalid_request"),
    ] {
        let (_, reply) = owner.call("POST", "/api/rooms", Some(body.clone())).await;
        assert_eq!(reply["error"]["code"], code, "{body}");
    }
    owner.create_room("taken", false).await;
    let (status, reply) = owner
        .call("POST", "/api/rooms", Some(json!({ "slug": "Taken" })))
        .await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (409, Some("room_taken"))
    );
    let mut ws = owner.gateway().await;
    ws.expect_error(
        "send",
        json!({ "room": "taken", "text": " " }),
        "empty_message",
    )
    .await;
    ws.expect_error(
        "history",
        json!({ "room": "taken", "before": 1, "after": 1 }),
        "invalid_payload",
    )
    .await;
    ws.expect_error(
        "send",
        json!({ "room": "taken", "text": "x", "client_msg_id": "" }),
        "invalid_payload",
    )
    .await;
}
