//! Global moderation over the native gateway: the role hierarchy (every forbidden pair), bans
//! by name and by address with live disconnects and refused ways back, timed bans and mutes,
//! verify and role changes reaching people live, persistence across a restart, and the root
//! account bootstrapped from the configuration.

mod common;

use common::protocol::{
    CloseReason, Conversation, ConversationState, ConversationUpdated, Empty, Ignores, Message,
    Moved, Notice, Role, RoomJoined, Sent, Session, Typing, UserUpdated, Whisper,
};
use common::{
    count_rows, database, spawn_app_with, unique_name, with_root, TestApp, WsClient, PASSWORD,
    ROOT_PASSWORD,
};
use parlor::config::Secret;
use serde_json::json;
use std::time::Duration;

/// Registers an account and has root give it `role`; returns its name and a connection.
async fn staff(app: &TestApp, root: &mut WsClient, prefix: &str, role: &str) -> (String, WsClient) {
    let name = unique_name(prefix);
    app.user_token(&name, PASSWORD).await;
    if role != "user" {
        let _: Empty = root
            .call("set_role", json!({ "user": name, "role": role }))
            .await;
    }
    let client = app.connect(&name, PASSWORD).await;
    (name, client)
}

#[tokio::test]
async fn nobody_acts_on_a_peer_or_above() {
    let app = spawn_app_with(with_root).await;
    let mut root = app.connect("root", ROOT_PASSWORD).await;
    let mut people = Vec::new();
    for (prefix, role) in [
        ("adm", "admin"),
        ("adm", "admin"),
        ("mod", "mod"),
        ("mod", "mod"),
        ("usr", "user"),
        ("usr", "user"),
    ] {
        let (name, client) = staff(&app, &mut root, prefix, role).await;
        people.push((name, role, client));
    }
    let rank = |role: &str| {
        ["user", "mod", "admin", "root"]
            .iter()
            .position(|r| *r == role)
            .unwrap()
    };
    let names: Vec<(String, &str)> = people
        .iter()
        .map(|(n, r, _)| (n.clone(), *r))
        .chain([("root".to_owned(), "root")])
        .collect();
    for (actor, actor_role, client) in &mut people {
        for (target, target_role) in &names {
            if target == actor || rank(actor_role) > rank(target_role) {
                continue;
            }
            for (command, data) in [
                ("kick", json!({ "user": target })),
                ("ban", json!({ "user": target })),
                ("mute", json!({ "user": target })),
                ("unmute", json!({ "user": target })),
                ("verify", json!({ "user": target, "verified": true })),
                ("set_role", json!({ "user": target, "role": "user" })),
            ] {
                let ack = client.request(command, data).await;
                assert_eq!(
                    ack.code(),
                    "forbidden",
                    "{actor} ({actor_role}) {command} {target} ({target_role}): {ack:?}"
                );
            }
        }
    }
    let (admin, _, admin_client) = &mut people[0];
    let mod_name = names[2].0.clone();
    let ack = admin_client
        .request("set_role", json!({ "user": mod_name, "role": "admin" }))
        .await;
    assert_eq!(
        ack.code(),
        "forbidden",
        "{admin} cannot make a peer: {ack:?}"
    );
    let ack = root
        .request("set_role", json!({ "user": "root", "role": "admin" }))
        .await;
    assert_eq!(
        ack.code(),
        "forbidden",
        "the root cannot demote itself: {ack:?}"
    );
    assert_eq!(count_rows(&database(&app).await, "sanctions").await, 0);
}

#[tokio::test]
async fn a_name_ban_disconnects_at_once_and_refuses_every_way_back() {
    let app = spawn_app_with(with_root).await;
    let mut root = app.connect("root", ROOT_PASSWORD).await;
    let (moderator_name, mut moderator) = staff(&app, &mut root, "mod", "mod").await;
    moderator.join_lobby().await;
    let (target, mut victim) = staff(&app, &mut root, "bad", "user").await;
    victim.join_lobby().await;
    let token = app.session(&target, PASSWORD).await.token;
    let guest_nick = unique_name("gst");
    let mut guest = app.lobby_guest(&guest_nick).await;

    let _: Empty = moderator
        .call("ban", json!({ "user": target, "reason": "spam" }))
        .await;
    let closing = victim.closed_with(CloseReason::Banned).await;
    assert_eq!(
        closing.detail.as_deref(),
        Some("spam"),
        "the banned user is told why"
    );
    let notice: Notice = moderator.event().await;
    assert_eq!(notice.room, "lobby");
    assert!(notice.text.contains(&target), "{notice:?}");
    assert!(notice.text.contains("spam"), "{notice:?}");

    let mut reconnect = app.gateway().await;
    reconnect
        .expect_error("identify", json!({ "token": token }), "unauthenticated")
        .await;
    app.login(&target, PASSWORD)
        .await
        .expect_error(403, "banned");
    let guest_as = |nick: String| {
        app.request("POST", "/api/guest")
            .json(json!({ "nick": nick }))
            .send()
    };
    guest_as(target.to_uppercase())
        .await
        .expect_error(403, "banned");

    let _: Empty = moderator
        .call("kickban", json!({ "user": guest_nick, "reason": "alt" }))
        .await;
    let closing = guest.closed_with(CloseReason::Banned).await;
    assert_eq!(closing.detail.as_deref(), Some("alt"));
    guest_as(guest_nick.clone())
        .await
        .expect_error(403, "banned");

    let _: Empty = moderator.call("unban", json!({ "user": target })).await;
    let back = app.session(&target, PASSWORD).await;
    assert_eq!(back.user.username, target, "unbanned: back in");

    let _: Empty = moderator
        .call("ban", json!({ "user": target, "duration_secs": 1 }))
        .await;
    app.login(&target, PASSWORD)
        .await
        .expect_error(403, "banned");
    app.clock.advance(Duration::from_millis(1100));
    let back = app.session(&target, PASSWORD).await;
    assert_eq!(back.user.username, target, "and ends by itself");
    let db = database(&app).await;
    let audited: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT actor, action, target FROM audit_log ORDER BY id")
            .fetch_all(&db)
            .await
            .expect("the audit log");
    let entry = |actor: &str, action: &str, target: &str| {
        (actor.to_owned(), action.to_owned(), Some(target.to_owned()))
    };
    assert_eq!(
        audited,
        [
            entry("root", "set_role", &moderator_name),
            entry(&moderator_name, "ban", &target),
            entry(&moderator_name, "ban", &guest_nick),
            entry(&moderator_name, "unban", &target),
            entry(&moderator_name, "ban", &target),
        ],
        "the role change, ban, ban, unban and ban are audited"
    );
}

#[tokio::test]
async fn an_address_ban_keeps_guests_out_but_not_staff() {
    let app = spawn_app_with(with_root).await;
    let mut root = app.connect("root", ROOT_PASSWORD).await;
    let (moderator_name, mut moderator) = staff(&app, &mut root, "mod", "mod").await;
    let mut guest = app.lobby_guest(&unique_name("gst")).await;

    let _: Empty = moderator
        .call("ban", json!({ "ip": "127.0.0.1", "duration_secs": 60 }))
        .await;
    guest.closed_with(CloseReason::Banned).await;
    let new_guest = || {
        app.request("POST", "/api/guest")
            .json(json!({ "nick": unique_name("new") }))
            .send()
    };
    new_guest().await.expect_error(403, "banned");
    let register = json!({ "username": unique_name("new"), "password": PASSWORD });
    app.request("POST", "/api/register")
        .json(register)
        .send()
        .await
        .expect_error(403, "banned");
    let staff_session = app.session(&moderator_name, PASSWORD).await;
    assert_eq!(
        staff_session.user.role,
        Role::Mod,
        "staff are not locked out by an address ban"
    );
    moderator.join_lobby().await;

    moderator
        .expect_error("ban", json!({ "ip": "not-an-ip" }), "invalid_payload")
        .await;
    let _: Empty = moderator.call("unban", json!({ "ip": "127.0.0.1" })).await;
    let _: Session = new_guest().await.expect(201);
}

#[tokio::test]
async fn muted_users_read_but_cannot_write_until_the_mute_runs_out() {
    let app = spawn_app_with(with_root).await;
    let mut root = app.connect("root", ROOT_PASSWORD).await;
    let (_, mut moderator) = staff(&app, &mut root, "mod", "mod").await;
    moderator.join_lobby().await;
    let (target, mut muted) = staff(&app, &mut root, "loud", "user").await;
    muted.join_lobby().await;

    let _: Empty = moderator
        .call("mute", json!({ "user": target, "duration_secs": 1 }))
        .await;
    muted
        .expect_error("send", json!({ "room": "lobby", "text": "hi" }), "muted")
        .await;
    muted
        .expect_error(
            "typing",
            json!({ "room": "lobby", "active": true }),
            "muted",
        )
        .await;
    moderator.say("you can still read this").await;
    muted
        .event_where(|m: &Message| m.text == "you can still read this")
        .await;

    app.clock.advance(Duration::from_millis(1100));
    let _: Sent = muted
        .call("send", json!({ "room": "lobby", "text": "free again" }))
        .await;

    let _: Empty = moderator.call("mute", json!({ "user": target })).await;
    muted
        .expect_error("send", json!({ "room": "lobby", "text": "hi" }), "muted")
        .await;
    let _: Empty = moderator.call("unmute", json!({ "user": target })).await;
    muted.say("unmuted").await;
}

#[tokio::test]
async fn verify_and_role_changes_reach_people_live() {
    let app = spawn_app_with(with_root).await;
    let mut root = app.connect("root", ROOT_PASSWORD).await;
    root.join_lobby().await;
    let (name, mut user) = staff(&app, &mut root, "new", "user").await;
    user.join_lobby().await;

    let _: Empty = root
        .call("verify", json!({ "user": name, "verified": true }))
        .await;
    let updated: UserUpdated = user.event().await;
    assert_eq!(
        (updated.user.name.as_str(), updated.user.verified),
        (name.as_str(), true),
        "{updated:?}"
    );
    let seen: UserUpdated = root.event().await;
    assert_eq!(seen, updated);

    user.expect_error("kick", json!({ "user": "root" }), "forbidden")
        .await;
    let _: Empty = root
        .call("set_role", json!({ "user": name, "role": "mod" }))
        .await;
    let promoted: UserUpdated = user.event().await;
    assert_eq!(
        (promoted.user.name.as_str(), promoted.user.role),
        (name.as_str(), Role::Mod)
    );
    let guest_nick = unique_name("gst");
    let mut guest = app.lobby_guest(&guest_nick).await;
    let ack = user.request("kick", json!({ "user": guest_nick })).await;
    assert!(
        ack.ok,
        "the new mod acts at once, without reconnecting: {ack:?}"
    );
    let _: Empty = ack.data();
    guest.closed_with(CloseReason::Kicked).await;
    let joined = user.join_lobby().await;
    let me: Vec<_> = joined.members.iter().filter(|m| m.name == name).collect();
    assert_eq!(me.len(), 1, "{joined:?}");
    assert_eq!((me[0].role, me[0].verified), (Role::Mod, true));
}

#[tokio::test]
async fn bans_and_mutes_survive_a_restart() {
    let mut app = spawn_app_with(with_root).await;
    let mut root = app.connect("root", ROOT_PASSWORD).await;
    let root_token = app.session("root", ROOT_PASSWORD).await.token;
    let (banned, _) = staff(&app, &mut root, "ban", "user").await;
    let (muted, _) = staff(&app, &mut root, "mut", "user").await;
    let _: Empty = root.call("ban", json!({ "user": banned })).await;
    let _: Empty = root.call("mute", json!({ "user": muted })).await;
    root.close().await;

    app.restart().await;
    app.login(&banned, PASSWORD)
        .await
        .expect_error(403, "banned");
    let mut again = app.gateway().await;
    let ack = again
        .request("identify", json!({ "token": root_token }))
        .await;
    assert!(
        ack.ok,
        "an unchanged root bootstrap keeps root's sessions: {ack:?}"
    );
    let identified: common::protocol::Identified = ack.data();
    assert_eq!(identified.user.role, Role::Root);
    let mut client = app.connect(&muted, PASSWORD).await;
    client.join_lobby().await;
    client
        .expect_error("send", json!({ "room": "lobby", "text": "x" }), "muted")
        .await;
}

#[tokio::test]
async fn the_root_account_comes_from_the_configuration_and_a_hash_wins() {
    let hash = parlor::auth::hash_password("from the hash 123".into())
        .await
        .unwrap();
    let app = spawn_app_with(|c| {
        c.root_user = Some("boss".into());
        c.root_password = Some(Secret::new("from the password"));
        c.root_password_hash = Some(Secret::new(hash));
    })
    .await;
    app.login("boss", "from the password")
        .await
        .expect_error(401, "invalid_credentials");
    let session = app.session("boss", "from the hash 123").await;
    assert_eq!(
        (session.user.username.as_str(), session.user.role),
        ("boss", Role::Root),
        "the hash wins over the password"
    );
}

#[tokio::test]
async fn ignoring_is_stealthy_and_filters_messages_typing_whispers_and_invitations() {
    let app = common::spawn_app().await;
    let ann = app.caller(&unique_name("ann")).await;
    let bob = app.caller(&unique_name("bob")).await;
    let carol = app.caller(&unique_name("car")).await;
    let bob_name = bob.name().await;
    let (mut ann_live, mut bob_live, mut carol_live) = (
        ann.gateway().await,
        bob.gateway().await,
        carol.gateway().await,
    );
    for client in [&mut ann_live, &mut bob_live, &mut carol_live] {
        client.join_lobby().await;
    }
    bob.create_room("shared", false).await;
    bob.say_in("shared", "before the ignore").await;

    ann.call(
        "PUT",
        &format!("/api/ignores/{}", bob_name.to_uppercase()),
        None,
    )
    .await
    .expect_empty(204);
    let list: Ignores = ann.call("GET", "/api/ignores", None).await.expect(200);
    assert_eq!(list.ignores, [bob_name.to_ascii_lowercase()]);

    let sent = bob_live.say("can anyone hear me").await;
    assert!(!sent.id.is_empty(), "the ignored side sees a normal ack");
    let heard: Message = carol_live
        .event_where(|m: &Message| m.text == "can anyone hear me")
        .await;
    assert_eq!(heard.id, sent.id);
    let _: Empty = bob_live
        .call("typing", json!({ "room": "lobby", "active": true }))
        .await;
    let opened: Conversation = bob_live
        .call("pm_open", json!({ "user": ann.name().await }))
        .await;
    assert_eq!(opened.state, ConversationState::Pending, "{opened:?}");
    ann_live
        .assert_no_event(|m: &Message| m.author.name == bob_name)
        .await;
    ann_live
        .assert_no_event(|t: &Typing| t.user.name == bob_name)
        .await;
    ann_live
        .assert_no_event(|c: &ConversationUpdated| c.conversation.peer == bob_name)
        .await;
    let joined: RoomJoined = ann_live.join_room("shared", json!({})).await;
    assert_eq!(joined.messages, [], "history is filtered too");

    let gus_name = unique_name("gus");
    let mut gus = app.lobby_guest(&gus_name).await;
    let _: Empty = ann_live.call("ignore", json!({ "user": gus_name })).await;
    let whisper = gus
        .request("whisper", json!({ "to": ann.name().await, "text": "psst" }))
        .await;
    assert!(whisper.ok, "the ignored guest sees success: {whisper:?}");
    let _: Sent = whisper.data();
    ann_live.assert_no_event(|_: &Whisper| true).await;

    let _: Empty = ann_live.call("unignore", json!({ "user": bob_name })).await;
    let list: Ignores = ann.call("GET", "/api/ignores", None).await.expect(200);
    assert_eq!(list.ignores, [gus_name.to_ascii_lowercase()]);
    bob_live.say("and now?").await;
    let heard: Message = ann_live
        .event_where(|m: &Message| m.text == "and now?")
        .await;
    assert_eq!(heard.author.name, bob_name);
}

#[tokio::test]
async fn admins_move_users_into_rooms_and_mods_may_not() {
    let app = spawn_app_with(with_root).await;
    let mut root = app.connect("root", ROOT_PASSWORD).await;
    let (admin_name, mut admin) = staff(&app, &mut root, "adm", "admin").await;
    let (_, mut moderator) = staff(&app, &mut root, "mod", "mod").await;
    let (name, mut user) = staff(&app, &mut root, "usr", "user").await;
    let session = app.session(&admin_name, PASSWORD).await;
    let owner = common::Caller::with_token(&app, &session.token);
    let staff_only = owner.create_room("staff-only", true).await.slug;

    moderator
        .expect_error(
            "move",
            json!({ "user": name, "room": staff_only }),
            "forbidden",
        )
        .await;
    let _: Empty = admin
        .call("move", json!({ "user": name, "room": staff_only }))
        .await;
    let moved: Moved = user.event().await;
    assert_eq!(
        (moved.room.as_str(), moved.by.as_str()),
        (staff_only.as_str(), admin_name.as_str())
    );
    let joined = user.join_room(&staff_only, json!({})).await;
    assert_eq!(
        joined.room.role,
        Some(common::protocol::RoomRole::Member),
        "a member now"
    );
    admin
        .expect_error(
            "move",
            json!({ "user": name, "room": "nowhere" }),
            "not_found",
        )
        .await;
}

#[tokio::test]
async fn admins_delete_accounts_below_them_with_their_rooms_and_never_the_root() {
    let app = spawn_app_with(with_root).await;
    let mut root = app.connect("root", ROOT_PASSWORD).await;
    let (_, mut admin) = staff(&app, &mut root, "adm", "admin").await;
    let (peer_name, _peer) = staff(&app, &mut root, "adm", "admin").await;
    let (name, mut user) = staff(&app, &mut root, "usr", "user").await;
    let session = app.session(&name, PASSWORD).await;
    let doomed = common::Caller::with_token(&app, &session.token);
    doomed.create_room("doomed-room", false).await;
    doomed.say_in("doomed-room", "soon gone").await;

    for target in ["root", peer_name.as_str()] {
        admin
            .expect_error("delete_user", json!({ "user": target }), "forbidden")
            .await;
    }
    let _: Empty = admin.call("delete_user", json!({ "user": name })).await;
    user.closed_with(CloseReason::SessionRevoked).await;
    app.login(&name, PASSWORD)
        .await
        .expect_error(401, "invalid_credentials");
    let db = database(&app).await;
    assert_eq!(count_rows(&db, "rooms").await, 0, "with the rooms it owned");
    assert_eq!(count_rows(&db, "messages").await, 0);
    assert_eq!(count_rows(&db, "data_keys").await, 0, "and their keys");
    root.expect_error("delete_user", json!({ "user": "root" }), "forbidden")
        .await;
}
