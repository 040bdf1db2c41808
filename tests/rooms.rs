//! Persistent rooms over the native gateway and REST: visibility, membership, history and
//! resume, idempotent sends, invites, access requests and owner moderation.

mod common;

use common::protocol::{
    Access, AccessDecided, AccessRequested, CreatedInvite, History, HistoryCleared, MemberJoined,
    Message, Posted, RemovedReason, Room, RoomList, RoomRemoved, RoomRole, RoomUpdated,
};
use common::{spawn_app, spawn_app_with, unique_name, TestApp};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn members_chat_in_a_room_and_history_survives_a_reconnect() {
    let app = spawn_app().await;
    let (owner, other) = app.two_users("own", "usr").await;
    let other_name = other.name().await;
    owner.create_room("general", false).await;
    let mut alice = owner.gateway().await;
    let joined = alice.join_room("general", json!({})).await;
    assert_eq!(joined.room.role, Some(RoomRole::Owner));
    let mut bob = other.gateway().await;
    let joined = bob.join_room("general", json!({})).await;
    assert_eq!(
        joined.room.role,
        Some(RoomRole::Member),
        "joining a public room makes a member"
    );
    let seen: MemberJoined = alice.event().await;
    assert_eq!(
        (seen.room.as_str(), seen.user.name.as_str()),
        ("general", other_name.as_str())
    );

    let ack: Posted = bob
        .call("send", json!({ "room": "general", "text": "hello room" }))
        .await;
    assert_eq!((ack.seq, ack.duplicate), (1, false));
    let message: Message = alice.event().await;
    assert_eq!(
        (message.text.as_str(), message.seq, message.id.as_str()),
        ("hello room", Some(1), ack.id.as_str())
    );
    assert_eq!(message.author.name, other_name);
    bob.close().await;

    let mut again = other.gateway().await;
    let joined = again.join_room("general", json!({})).await;
    assert_eq!(joined.texts(), ["hello room"]);
}

#[tokio::test]
async fn a_private_room_answers_outsiders_exactly_like_a_missing_room() {
    let app = spawn_app().await;
    let (owner, outsider) = app.two_users("own", "usr").await;
    let secret = owner.create_room("secret", true).await.slug;
    owner.say_in(&secret, "classified").await;

    for path in [
        format!("/api/rooms/{secret}"),
        format!("/api/rooms/{secret}/messages"),
        format!("/api/rooms/{secret}/members"),
    ] {
        let hidden = outsider
            .call("GET", &path, None)
            .await
            .expect_error(404, "not_found");
        let missing = outsider
            .call("GET", &path.replace(&secret, "nowhere"), None)
            .await
            .expect_error(404, "not_found");
        assert_eq!(hidden, missing, "{path}");
    }
    outsider
        .call(
            "POST",
            &format!("/api/rooms/{secret}/messages"),
            Some(json!({ "text": "let me in" })),
        )
        .await
        .expect_error(404, "not_found");
    let list = outsider.call("GET", "/api/rooms", None).await;
    let rooms: RoomList = list.expect(200);
    assert!(rooms.rooms.iter().all(|r| r.slug != secret), "{rooms:?}");
    assert!(!list.body.contains(&secret), "not listed: {list}");

    let mut ws = outsider.gateway().await;
    ws.expect_error("join", json!({ "room": secret }), "not_found")
        .await;
    ws.expect_error("history", json!({ "room": secret }), "not_found")
        .await;
    ws.expect_error("send", json!({ "room": secret, "text": "x" }), "not_found")
        .await;
}

#[tokio::test]
async fn guests_are_told_rooms_need_an_account_where_the_server_keeps_them_out() {
    let app = spawn_app_with(|config| config.guests_in_rooms = false).await;
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
    let joined = ws.join_room("busy", json!({})).await;
    assert_eq!(joined.seqs(), [1, 2]);
    assert!(!joined.more);
    ws.close().await;

    for n in 3..=7 {
        owner.say_in("busy", &format!("m{n}")).await;
    }
    let mut ws = owner.gateway().await;
    let resumed = ws.join_room("busy", json!({ "since": 2 })).await;
    assert_eq!(resumed.seqs(), [3, 4, 5], "one page");
    assert_eq!(resumed.texts(), ["m3", "m4", "m5"]);
    assert!(resumed.more);
    let rest: History = ws
        .call("history", json!({ "room": "busy", "after": 5 }))
        .await;
    assert_eq!((rest.room.as_str(), rest.seqs()), ("busy", vec![6, 7]));
    owner.say_in("busy", "m8").await;
    let live: Message = ws.event().await;
    assert_eq!(
        (live.seq, live.text.as_str()),
        (Some(8), "m8"),
        "live messages continue the sequence with no gap"
    );

    let back: History = ws
        .call(
            "history",
            json!({ "room": "busy", "before": 3, "limit": 10 }),
        )
        .await;
    assert_eq!(back.seqs(), [1, 2], "older pages by cursor");
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
    ws.join_room("retry", json!({})).await;
    let send = json!({ "room": "retry", "text": "once", "client_msg_id": "c-1" });
    let first: Posted = ws.call("send", send.clone()).await;
    let second: Posted = ws.call("send", send).await;
    assert!(!first.duplicate);
    assert_eq!(
        second,
        Posted {
            duplicate: true,
            ..first.clone()
        }
    );
    let rest: Posted = owner
        .call(
            "POST",
            "/api/rooms/retry/messages",
            Some(json!({ "text": "once", "client_msg_id": "c-1" })),
        )
        .await
        .expect(201);
    assert_eq!(rest, second, "the same over REST");
    let history: History = owner
        .call("GET", "/api/rooms/retry/messages", None)
        .await
        .expect(200);
    assert_eq!(history.texts(), ["once"]);
}

/// Creates an invite to `slug` with `body`, asserting success.
async fn invite(owner: &common::Caller<'_>, slug: &str, body: serde_json::Value) -> CreatedInvite {
    let created: CreatedInvite = owner
        .call("POST", &format!("/api/rooms/{slug}/invites"), Some(body))
        .await
        .expect(201);
    assert_eq!(created.path, format!("/invite/{}", created.token));
    assert!(
        !created.invite.revoked && created.invite.uses == 0,
        "{created:?}"
    );
    created
}

/// Uses an invite as `caller`, asserting it admits to `slug`.
async fn accept(caller: &common::Caller<'_>, invite: &CreatedInvite, slug: &str) {
    let room: Room = caller
        .call("POST", &format!("/api/invites/{}", invite.token), None)
        .await
        .expect(200);
    assert_eq!(
        (room.slug.as_str(), room.role),
        (slug, Some(RoomRole::Member))
    );
}

#[tokio::test]
async fn invites_admit_until_they_expire_run_out_or_are_revoked() {
    let app = spawn_app().await;
    let owner = app.caller(&unique_name("own")).await;
    let club = owner.create_room("club", true).await.slug;
    let once = invite(&owner, &club, json!({ "max_uses": 1 })).await;
    assert_eq!(once.invite.max_uses, Some(1));
    let path = format!("/api/invites/{}", once.token);

    let first = app.caller(&unique_name("a")).await;
    accept(&first, &once, &club).await;
    let _: History = first
        .call("GET", &format!("/api/rooms/{club}/messages"), None)
        .await
        .expect(200);
    let second = app.caller(&unique_name("b")).await;
    second
        .call("POST", &path, None)
        .await
        .expect_error(410, "invite_unusable");

    let short = invite(&owner, &club, json!({ "ttl_secs": 1 })).await;
    app.clock.advance(Duration::from_millis(1100));
    second
        .call("POST", &format!("/api/invites/{}", short.token), None)
        .await
        .expect_error(410, "invite_unusable");

    let revoked = invite(&owner, &club, json!({})).await;
    owner
        .call(
            "DELETE",
            &format!("/api/rooms/{club}/invites/{}", revoked.invite.id),
            None,
        )
        .await
        .expect_empty(204);
    second
        .call("POST", &format!("/api/invites/{}", revoked.token), None)
        .await
        .expect_error(410, "invite_unusable");
    second
        .call("POST", "/api/invites/not-a-token", None)
        .await
        .expect_error(410, "invite_unusable");
    second
        .call("GET", &format!("/api/rooms/{club}/messages"), None)
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn an_access_request_reaches_the_owner_and_the_answer_reaches_the_requester_live() {
    let app = spawn_app().await;
    let (owner, asker) = app.two_users("own", "usr").await;
    let asker_name = asker.name().await;
    let vip = owner.create_room("vip", true).await.slug;
    let mut owner_ws = owner.gateway().await;
    let mut asker_ws = asker.gateway().await;

    asker
        .call("POST", &format!("/api/rooms/{vip}/requests"), None)
        .await
        .expect_empty(202);
    asker
        .call("POST", "/api/rooms/no-such-room/requests", None)
        .await
        .expect_empty(202);
    let requested: AccessRequested = owner_ws.event().await;
    assert_eq!(
        (requested.room.as_str(), requested.user.as_str()),
        (vip.as_str(), asker_name.as_str())
    );
    let list: RoomList = asker.call("GET", "/api/rooms", None).await.expect(200);
    assert!(list.rooms.iter().all(|r| r.slug != vip), "{list:?}");
    let asked: Vec<_> = list.requests.iter().map(|r| r.slug.as_str()).collect();
    assert_eq!(
        asked,
        ["no-such-room", vip.as_str()],
        "by address only: {list:?}"
    );

    owner
        .call(
            "POST",
            &format!("/api/rooms/{vip}/requests/{}", requested.user),
            Some(json!({ "approve": true })),
        )
        .await
        .expect_empty(204);
    let decided: AccessDecided = asker_ws.event().await;
    assert_eq!(
        decided,
        AccessDecided {
            room: vip.clone(),
            approved: true
        }
    );
    let joined = asker_ws.join_room(&vip, json!({})).await;
    assert_eq!(joined.room.role, Some(RoomRole::Member));
    let list: RoomList = asker.call("GET", "/api/rooms", None).await.expect(200);
    let listed: Vec<_> = list.rooms.iter().filter(|r| r.slug == vip).collect();
    assert_eq!(
        (listed.len(), listed[0].access),
        (1, Access::Member),
        "{list:?}"
    );
    let asked: Vec<_> = list.requests.iter().map(|r| r.slug.as_str()).collect();
    assert_eq!(asked, ["no-such-room"], "the approved request is settled");
}

#[tokio::test]
async fn a_banned_member_is_removed_live_and_cannot_return_even_by_invite() {
    let app = spawn_app().await;
    let (owner, member) = app.two_users("own", "usr").await;
    owner.create_room("strict", false).await;
    let mut member_ws = member.gateway().await;
    member_ws.join_room("strict", json!({})).await;
    let name = member.name().await;

    owner
        .call("PUT", &format!("/api/rooms/strict/bans/{name}"), None)
        .await
        .expect_empty(204);
    let removed: RoomRemoved = member_ws.event().await;
    assert_eq!(
        (removed.room.as_str(), removed.reason),
        ("strict", RemovedReason::Banned)
    );
    member_ws
        .expect_error("send", json!({ "room": "strict", "text": "x" }), "banned")
        .await;
    member_ws
        .expect_error("join", json!({ "room": "strict" }), "banned")
        .await;
    let again = invite(&owner, "strict", json!({})).await;
    member
        .call("POST", &format!("/api/invites/{}", again.token), None)
        .await
        .expect_error(410, "invite_unusable");
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
        let room: Room = caller
            .call("POST", "/api/rooms/ranked/membership", None)
            .await
            .expect(200);
        assert_eq!(room.role, Some(RoomRole::Member));
    }
    let owner_name = owner.name().await;
    let (admin_name, peer_name, member_name_) =
        (admin.name().await, peer.name().await, member.name().await);
    for name in [&admin_name, &peer_name] {
        let path = format!("/api/rooms/ranked/members/{name}/role");
        owner
            .call("PUT", &path, Some(json!({ "role": "admin" })))
            .await
            .expect_empty(204);
    }
    for target in [&peer_name, &owner_name] {
        admin
            .call(
                "DELETE",
                &format!("/api/rooms/ranked/members/{target}"),
                None,
            )
            .await
            .expect_error(403, "forbidden");
        admin
            .call("PUT", &format!("/api/rooms/ranked/bans/{target}"), None)
            .await
            .expect_error(403, "forbidden");
    }
    member
        .call(
            "DELETE",
            &format!("/api/rooms/ranked/members/{peer_name}"),
            None,
        )
        .await
        .expect_error(403, "forbidden");
    admin
        .call(
            "PUT",
            &format!("/api/rooms/ranked/members/{member_name_}/role"),
            Some(json!({ "role": "admin" })),
        )
        .await
        .expect_error(403, "forbidden");
    admin
        .call(
            "DELETE",
            &format!("/api/rooms/ranked/members/{member_name_}"),
            None,
        )
        .await
        .expect_empty(204);
    admin
        .call("DELETE", "/api/rooms/ranked", None)
        .await
        .expect_error(403, "forbidden");
    let members: common::protocol::RoomMembers = owner
        .call("GET", "/api/rooms/ranked/members", None)
        .await
        .expect(200);
    let mut roles: Vec<(String, RoomRole)> = members
        .members
        .into_iter()
        .map(|m| (m.name, m.role))
        .collect();
    roles.sort();
    let mut expected = vec![
        (owner_name, RoomRole::Owner),
        (admin_name, RoomRole::Admin),
        (peer_name, RoomRole::Admin),
    ];
    expected.sort();
    assert_eq!(roles, expected, "the member is gone, the rest unchanged");
}

#[tokio::test]
async fn leaving_a_private_room_ends_access_to_its_history() {
    let app = spawn_app().await;
    let (owner, member) = app.two_users("own", "usr").await;
    let inner = owner.create_room("inner", true).await.slug;
    let created = invite(&owner, &inner, json!({})).await;
    accept(&member, &created, &inner).await;
    owner.say_in(&inner, "before").await;
    let history: History = member
        .call("GET", &format!("/api/rooms/{inner}/messages"), None)
        .await
        .expect(200);
    assert_eq!(history.texts(), ["before"]);
    member
        .call("DELETE", &format!("/api/rooms/{inner}/membership"), None)
        .await
        .expect_empty(204);
    member
        .call("GET", &format!("/api/rooms/{inner}/messages"), None)
        .await
        .expect_error(404, "not_found");
    let mut ws = member.gateway().await;
    ws.expect_error("history", json!({ "room": inner }), "not_found")
        .await;
}

#[tokio::test]
async fn owners_change_settings_clear_history_and_slow_members_down() {
    let app = spawn_app().await;
    let (owner, member) = app.two_users("own", "usr").await;
    owner.create_room("tuned", false).await;
    let _: Room = member
        .call("POST", "/api/rooms/tuned/membership", None)
        .await
        .expect(200);
    let mut member_ws = member.gateway().await;
    member_ws.join_room("tuned", json!({})).await;
    owner.say_in("tuned", "old news").await;

    let patch = json!({ "topic": "quiet please", "slow_mode_secs": 30, "allow_videos": false, "retention_days": 7 });
    let room: Room = owner
        .call("PATCH", "/api/rooms/tuned", Some(patch))
        .await
        .expect(200);
    assert_eq!(
        (
            room.topic.as_deref(),
            room.slow_mode_secs,
            room.allow_videos,
            room.retention_days
        ),
        (Some("quiet please"), 30, false, Some(7))
    );
    let updated: RoomUpdated = member_ws.event().await;
    assert_eq!(
        updated.room,
        Room { role: None, ..room },
        "members see the new settings (role is null)"
    );
    member
        .call(
            "PATCH",
            "/api/rooms/tuned",
            Some(json!({ "topic": "mine" })),
        )
        .await
        .expect_error(403, "forbidden");
    owner
        .call(
            "PATCH",
            "/api/rooms/tuned",
            Some(json!({ "slow_mode_secs": -1 })),
        )
        .await
        .expect_error(400, "invalid_room");

    let _: Posted = member_ws
        .call("send", json!({ "room": "tuned", "text": "one" }))
        .await;
    member_ws
        .expect_error(
            "send",
            json!({ "room": "tuned", "text": "two" }),
            "rate_limited",
        )
        .await;
    owner.say_in("tuned", "owners are exempt").await;

    owner
        .call("DELETE", "/api/rooms/tuned/messages", None)
        .await
        .expect_empty(204);
    let cleared: HistoryCleared = member_ws.event().await;
    assert_eq!(cleared.room, "tuned");
    let history: History = member
        .call("GET", "/api/rooms/tuned/messages", None)
        .await
        .expect(200);
    assert_eq!(history.messages, []);
}

#[tokio::test]
async fn deleting_a_room_removes_its_messages_invites_and_key_for_good() {
    let app = spawn_app().await;
    let (owner, member) = app.two_users("own", "usr").await;
    owner.create_room("doomed", false).await;
    let _: Room = member
        .call("POST", "/api/rooms/doomed/membership", None)
        .await
        .expect(200);
    let mut member_ws = member.gateway().await;
    member_ws.join_room("doomed", json!({})).await;
    owner.say_in("doomed", "soon gone").await;
    invite(&owner, "doomed", json!({})).await;
    let db = common::database(&app).await;
    for table in ["rooms", "messages", "invites", "room_members", "data_keys"] {
        assert!(
            common::count_rows(&db, table).await > 0,
            "{table} has rows before the delete"
        );
    }

    owner
        .call("DELETE", "/api/rooms/doomed", None)
        .await
        .expect_empty(204);
    let removed: RoomRemoved = member_ws.event().await;
    assert_eq!(
        (removed.room.as_str(), removed.reason),
        ("doomed", RemovedReason::Deleted)
    );
    member
        .call("GET", "/api/rooms/doomed", None)
        .await
        .expect_error(404, "not_found");
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
    for (body, status, code) in [
        (json!({ "slug": "x" }), 400, "invalid_room"),
        (json!({ "slug": "lobby" }), 400, "invalid_room"),
        (
            json!({ "slug": "ok-room", "name": " " }),
            400,
            "invalid_room",
        ),
        (
            json!({ "slug": "ok-room", "extra": 1 }),
            422,
            "invalid_request",
        ),
    ] {
        owner
            .call("POST", "/api/rooms", Some(body))
            .await
            .expect_error(status, code);
    }
    owner.create_room("taken", false).await;
    owner
        .call("POST", "/api/rooms", Some(json!({ "slug": "Taken" })))
        .await
        .expect_error(409, "room_taken");
    let mut ws = owner.gateway().await;
    ws.expect_error(
        "send",
        json!({ "room": "taken", "text": " " }),
        "empty_message",
    )
    .await;
    ws.expect_error(
        "history",
        json!({ "room": "taken", "before": "1" }),
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
