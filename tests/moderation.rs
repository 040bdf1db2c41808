//! Global moderation over the native gateway: the role hierarchy (every forbidden pair), bans
//! by name and by address with live disconnects and refused ways back, timed bans and mutes,
//! verify and role changes reaching people live, persistence across a restart, and the root
//! account bootstrapped from the configuration.

mod common;

use common::{count_rows, database, spawn_app_with, unique_name, TestApp, WsClient};
use parlor::config::{Config, Secret};
use serde_json::{json, Value};
use std::time::Duration;

const ROOT_PASSWORD: &str = "root password 123";
const PASSWORD: &str = "correct horse battery";

fn with_root(config: &mut Config) {
    config.root_user = Some("root".into());
    config.root_password = Some(Secret::new(ROOT_PASSWORD));
    config.rate_limit_messages = 100;
}

async fn login(app: &TestApp, name: &str, password: &str) -> (u16, Value) {
    let body = json!({ "username": name, "password": password });
    app.post(&app.http(), "/api/login", body).await
}

/// A connection for an account that logs in with `password`.
async fn connect(app: &TestApp, name: &str, password: &str) -> WsClient {
    let (status, body) = login(app, name, password).await;
    assert_eq!(status, 200, "{name} logs in: {body}");
    app.gateway_as(body["token"].as_str().unwrap()).await
}

/// Registers an account and has root give it `role`; returns its name and a connection.
async fn staff(app: &TestApp, root: &mut WsClient, prefix: &str, role: &str) -> (String, WsClient) {
    let name = unique_name(prefix);
    app.user_token(&name, PASSWORD).await;
    if role != "user" {
        let ack = root
            .request("set_role", json!({ "user": name, "role": role }))
            .await;
        assert_eq!(ack["ok"], true, "root makes {name} {role}: {ack}");
    }
    let client = connect(app, &name, PASSWORD).await;
    (name, client)
}

#[tokio::test]
async fn nobody_acts_on_a_peer_or_above() {
    let app = spawn_app_with(with_root).await;
    let mut root = connect(&app, "root", ROOT_PASSWORD).await;
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
                    ack["error"]["code"], "forbidden",
                    "{actor} ({actor_role}) {command} {target} ({target_role}): {ack}"
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
        ack["error"]["code"], "forbidden",
        "{admin} cannot make a peer: {ack}"
    );
    let ack = root
        .request("set_role", json!({ "user": "root", "role": "admin" }))
        .await;
    assert_eq!(
        ack["error"]["code"], "forbidden",
        "the root cannot demote itself: {ack}"
    );
    assert_eq!(count_rows(&database(&app).await, "sanctions").await, 0);
}

#[tokio::test]
async fn a_name_ban_disconnects_at_once_and_refuses_every_way_back() {
    let app = spawn_app_with(with_root).await;
    let mut root = connect(&app, "root", ROOT_PASSWORD).await;
    let (_, mut moderator) = staff(&app, &mut root, "mod", "mod").await;
    moderator.join_lobby().await;
    let (target, mut victim) = staff(&app, &mut root, "bad", "user").await;
    victim.join_lobby().await;
    let (_, token) = login(&app, &target, PASSWORD).await;
    let token = token["token"].as_str().unwrap().to_owned();
    let guest_nick = unique_name("gst");
    let mut guest = app.lobby_guest(&guest_nick).await;

    let ack = moderator
        .request("ban", json!({ "user": target, "reason": "spam" }))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let frames = victim.until_closed().await;
    let closing = frames
        .iter()
        .find(|f| f["event"] == "closing")
        .expect("told before closing");
    assert_eq!(closing["data"]["reason"], "banned");
    assert_eq!(
        closing["data"]["detail"], "spam",
        "the banned user is told why"
    );
    let notice = moderator.event("notice").await;
    assert!(
        notice["text"].as_str().unwrap().contains(&target),
        "{notice}"
    );
    assert!(
        notice["text"].as_str().unwrap().contains("spam"),
        "{notice}"
    );

    let mut reconnect = app.gateway().await;
    let ack = reconnect
        .request("identify", json!({ "token": token }))
        .await;
    assert_eq!(
        ack["error"]["code"], "unauthenticated",
        "sessions were revoked: {ack}"
    );
    let (status, body) = login(&app, &target, PASSWORD).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("banned")),
        "{body}"
    );
    let guest_as_target = json!({ "nick": target.to_uppercase() });
    let (status, body) = app.post(&app.http(), "/api/guest", guest_as_target).await;
    assert_eq!(status, 403, "the name is banned in any case: {body}");

    let ack = moderator
        .request("kickban", json!({ "user": guest_nick, "reason": "alt" }))
        .await;
    assert_eq!(
        ack["ok"], true,
        "online guests can be banned by nick: {ack}"
    );
    assert!(guest
        .until_closed()
        .await
        .iter()
        .any(|f| f["data"]["reason"] == "banned"));
    let (status, _) = app
        .post(&app.http(), "/api/guest", json!({ "nick": guest_nick }))
        .await;
    assert_eq!(status, 403);

    let ack = moderator.request("unban", json!({ "user": target })).await;
    assert_eq!(ack["ok"], true, "{ack}");
    let (status, _) = login(&app, &target, PASSWORD).await;
    assert_eq!(status, 200, "unbanned: back in");

    let ack = moderator
        .request("ban", json!({ "user": target, "duration_secs": 1 }))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let (status, _) = login(&app, &target, PASSWORD).await;
    assert_eq!(status, 403, "a timed ban holds while it runs");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _) = login(&app, &target, PASSWORD).await;
    assert_eq!(status, 200, "and ends by itself");
    let audit = count_rows(&database(&app).await, "audit_log").await;
    assert!(
        audit >= 3,
        "ban, ban, unban and the role change are audited ({audit})"
    );
}

#[tokio::test]
async fn an_address_ban_keeps_guests_out_but_not_staff() {
    let app = spawn_app_with(with_root).await;
    let mut root = connect(&app, "root", ROOT_PASSWORD).await;
    let (moderator_name, mut moderator) = staff(&app, &mut root, "mod", "mod").await;
    let mut guest = app.lobby_guest(&unique_name("gst")).await;

    let ack = moderator
        .request("ban", json!({ "ip": "127.0.0.1", "duration_secs": 60 }))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert!(guest
        .until_closed()
        .await
        .iter()
        .any(|f| f["data"]["reason"] == "banned"));
    let (status, body) = app
        .post(
            &app.http(),
            "/api/guest",
            json!({ "nick": unique_name("new") }),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("banned"))
    );
    let register = json!({ "username": unique_name("new"), "password": PASSWORD });
    let (status, body) = app.post(&app.http(), "/api/register", register).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("banned")),
        "{body}"
    );
    let (status, _) = login(&app, &moderator_name, PASSWORD).await;
    assert_eq!(status, 200, "staff are not locked out by an address ban");
    moderator.join_lobby().await;

    moderator
        .expect_error("ban", json!({ "ip": "not-an-ip" }), "invalid_payload")
        .await;
    let ack = moderator
        .request("unban", json!({ "ip": "127.0.0.1" }))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let (status, _) = app
        .post(
            &app.http(),
            "/api/guest",
            json!({ "nick": unique_name("new") }),
        )
        .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn muted_users_read_but_cannot_write_until_the_mute_runs_out() {
    let app = spawn_app_with(with_root).await;
    let mut root = connect(&app, "root", ROOT_PASSWORD).await;
    let (_, mut moderator) = staff(&app, &mut root, "mod", "mod").await;
    moderator.join_lobby().await;
    let (target, mut muted) = staff(&app, &mut root, "loud", "user").await;
    muted.join_lobby().await;

    let ack = moderator
        .request("mute", json!({ "user": target, "duration_secs": 1 }))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
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
        .frame_where(|f| f["event"] == "message" && f["data"]["text"] == "you can still read this")
        .await;

    tokio::time::sleep(Duration::from_millis(1200)).await;
    let ack = muted
        .request("send", json!({ "room": "lobby", "text": "free again" }))
        .await;
    assert_eq!(ack["ok"], true, "the mute ran out: {ack}");

    let ack = moderator.request("mute", json!({ "user": target })).await;
    assert_eq!(ack["ok"], true);
    let ack = moderator.request("unmute", json!({ "user": target })).await;
    assert_eq!(ack["ok"], true, "{ack}");
    muted.say("unmuted").await;
}

#[tokio::test]
async fn verify_and_role_changes_reach_people_live() {
    let app = spawn_app_with(with_root).await;
    let mut root = connect(&app, "root", ROOT_PASSWORD).await;
    root.join_lobby().await;
    let (name, mut user) = staff(&app, &mut root, "new", "user").await;
    user.join_lobby().await;

    let ack = root
        .request("verify", json!({ "user": name, "verified": true }))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let updated = user.event("user_updated").await;
    assert_eq!(updated["user"]["verified"], true, "{updated}");
    let seen = root.event("user_updated").await;
    assert_eq!(
        (
            seen["user"]["name"].as_str(),
            seen["user"]["verified"].as_bool()
        ),
        (Some(name.as_str()), Some(true))
    );

    user.expect_error("kick", json!({ "user": "root" }), "forbidden")
        .await;
    let ack = root
        .request("set_role", json!({ "user": name, "role": "mod" }))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(user.event("user_updated").await["user"]["role"], "mod");
    let guest_nick = unique_name("gst");
    let mut guest = app.lobby_guest(&guest_nick).await;
    let ack = user.request("kick", json!({ "user": guest_nick })).await;
    assert_eq!(
        ack["ok"], true,
        "the new mod acts at once, without reconnecting: {ack}"
    );
    assert!(guest
        .until_closed()
        .await
        .iter()
        .any(|f| f["data"]["reason"] == "kicked"));
    let joined = user.join_lobby().await;
    let me = joined["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        (me["role"].as_str(), me["verified"].as_bool()),
        (Some("mod"), Some(true))
    );
}

#[tokio::test]
async fn bans_and_mutes_survive_a_restart() {
    let mut app = spawn_app_with(with_root).await;
    let mut root = connect(&app, "root", ROOT_PASSWORD).await;
    let (_, root_session) = login(&app, "root", ROOT_PASSWORD).await;
    let root_token = root_session["token"].as_str().unwrap().to_owned();
    let (banned, _) = staff(&app, &mut root, "ban", "user").await;
    let (muted, _) = staff(&app, &mut root, "mut", "user").await;
    assert_eq!(
        root.request("ban", json!({ "user": banned })).await["ok"],
        true
    );
    assert_eq!(
        root.request("mute", json!({ "user": muted })).await["ok"],
        true
    );
    root.close().await;

    app.restart().await;
    let (status, _) = login(&app, &banned, PASSWORD).await;
    assert_eq!(status, 403, "still banned after a restart");
    let mut again = app.gateway().await;
    let ack = again
        .request("identify", json!({ "token": root_token }))
        .await;
    assert_eq!(
        ack["ok"], true,
        "an unchanged root bootstrap keeps root's sessions: {ack}"
    );
    let mut client = connect(&app, &muted, PASSWORD).await;
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
    let (status, _) = login(&app, "boss", "from the password").await;
    assert_eq!(status, 401, "the hash wins over the password");
    let (status, body) = login(&app, "boss", "from the hash 123").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["role"], "root");
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

    let (status, _) = ann
        .call(
            "PUT",
            &format!("/api/ignores/{}", bob_name.to_uppercase()),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (_, list) = ann.call("GET", "/api/ignores", None).await;
    assert_eq!(list["ignores"], json!([bob_name.to_ascii_lowercase()]));

    let sent = bob_live.say("can anyone hear me").await;
    assert!(sent["id"].is_string(), "the ignored side sees a normal ack");
    carol_live
        .frame_where(|f| f["event"] == "message" && f["data"]["text"] == "can anyone hear me")
        .await;
    bob_live
        .request("typing", json!({ "room": "lobby", "active": true }))
        .await;
    let from_bob = |f: &Value| {
        ["message", "typing", "conversation_updated"].contains(&f["event"].as_str().unwrap_or(""))
            && (f["data"]["author"]["name"] == bob_name.as_str()
                || f["data"]["user"]["name"] == bob_name.as_str()
                || f["data"]["conversation"]["peer"] == bob_name.as_str())
    };
    let opened = bob_live
        .request("pm_open", json!({ "user": ann.name().await }))
        .await;
    assert_eq!(opened["data"]["state"], "pending", "{opened}");
    ann_live
        .assert_no_frame(Duration::from_millis(400), from_bob)
        .await;
    let joined = ann_live.request("join", json!({ "room": "shared" })).await;
    assert_eq!(
        joined["data"]["messages"],
        json!([]),
        "history is filtered too"
    );

    let mut gus = app.lobby_guest(&unique_name("gus")).await;
    let gus_name = gus.join_lobby().await["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .find(|n| n.starts_with("gus"))
        .unwrap();
    let ack = ann_live
        .request("ignore", json!({ "user": gus_name }))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let whisper = gus
        .request("whisper", json!({ "to": ann.name().await, "text": "psst" }))
        .await;
    assert_eq!(
        whisper["ok"], true,
        "the ignored guest sees success: {whisper}"
    );
    ann_live
        .assert_no_frame(Duration::from_millis(300), |f| f["event"] == "whisper")
        .await;

    let ack = ann_live
        .request("unignore", json!({ "user": bob_name }))
        .await;
    assert_eq!(ack["ok"], true);
    bob_live.say("and now?").await;
    ann_live
        .frame_where(|f| f["event"] == "message" && f["data"]["text"] == "and now?")
        .await;
}

#[tokio::test]
async fn admins_move_users_into_rooms_and_mods_may_not() {
    let app = spawn_app_with(with_root).await;
    let mut root = connect(&app, "root", ROOT_PASSWORD).await;
    let (admin_name, mut admin) = staff(&app, &mut root, "adm", "admin").await;
    let (_, mut moderator) = staff(&app, &mut root, "mod", "mod").await;
    let (name, mut user) = staff(&app, &mut root, "usr", "user").await;
    let (_, token) = login(&app, &admin_name, PASSWORD).await;
    let owner = common::Caller::with_token(&app, token["token"].as_str().unwrap());
    owner.create_room("staff-only", true).await;

    let ack = moderator
        .request("move", json!({ "user": name, "room": "staff-only" }))
        .await;
    assert_eq!(ack["error"]["code"], "forbidden", "{ack}");
    let ack = admin
        .request("move", json!({ "user": name, "room": "staff-only" }))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let moved = user.event("moved").await;
    assert_eq!(
        (moved["room"].as_str(), moved["by"].as_str()),
        (Some("staff-only"), Some(admin_name.as_str()))
    );
    let joined = user.request("join", json!({ "room": "staff-only" })).await;
    assert_eq!(joined["ok"], true, "a member now: {joined}");
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
    let mut root = connect(&app, "root", ROOT_PASSWORD).await;
    let (_, mut admin) = staff(&app, &mut root, "adm", "admin").await;
    let (peer_name, _peer) = staff(&app, &mut root, "adm", "admin").await;
    let (name, mut user) = staff(&app, &mut root, "usr", "user").await;
    let (_, session) = login(&app, &name, PASSWORD).await;
    let doomed = common::Caller::with_token(&app, session["token"].as_str().unwrap());
    doomed.create_room("doomed-room", false).await;
    doomed.say_in("doomed-room", "soon gone").await;

    for target in ["root", peer_name.as_str()] {
        admin
            .expect_error("delete_user", json!({ "user": target }), "forbidden")
            .await;
    }
    let ack = admin.request("delete_user", json!({ "user": name })).await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert!(user
        .until_closed()
        .await
        .iter()
        .any(|f| f["data"]["reason"] == "session_revoked"));
    let (status, _) = login(&app, &name, PASSWORD).await;
    assert_eq!(status, 401, "the account is gone");
    let db = database(&app).await;
    assert_eq!(count_rows(&db, "rooms").await, 0, "with the rooms it owned");
    assert_eq!(count_rows(&db, "messages").await, 0);
    assert_eq!(count_rows(&db, "data_keys").await, 0, "and their keys");
    root.expect_error("delete_user", json!({ "user": "root" }), "forbidden")
        .await;
}
