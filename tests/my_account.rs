//! An account managing itself (issue 17): preferences that follow it to every device, its
//! sessions, its name (with the old one reserved for a while), its e-mail and key, who may
//! write to it, and deleting it — with the refusals, and what others see live. On SQLite, and
//! PostgreSQL when configured.

mod common;

use common::protocol::{
    CloseReason, Closing, KeyAccount, Message, OwnSessions, Preferences, Profile, RemovedReason,
    RoomJoined, RoomRemoved, Session, UserRenamed,
};
use common::{spawn_app, spawn_app_with, unique_name, with_root, Caller, TestApp, PASSWORD};
use serde_json::json;
use std::time::Duration;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/// Logs `name` in and makes one request from `agent`, as a browser would right after.
async fn login_from(app: &TestApp, name: &str, agent: &str) -> String {
    let session: Session = app
        .request("POST", "/api/login")
        .json(json!({"username": name, "password": PASSWORD}))
        .send()
        .await
        .expect(200);
    let _: Profile = app
        .request("GET", "/api/user/@me")
        .bearer(&session.token)
        .header("User-Agent", agent)
        .send()
        .await
        .expect(200);
    session.token
}

#[tokio::test]
async fn preferences_are_validated_kept_and_reach_every_device() {
    let app = spawn_app().await;
    let me = app.caller(&unique_name("pref")).await;
    let defaults: Preferences = me
        .call("GET", "/api/user/@me/preferences", None)
        .await
        .expect(200);
    assert_eq!(
        (
            defaults.theme.as_str(),
            defaults.font_size,
            defaults.clock.as_str()
        ),
        ("midnight-purple", 15, "24h")
    );
    assert!(defaults.enter_to_send && defaults.sounds && defaults.show_online);
    let mut other_device = me.gateway().await;

    let stored: Preferences = me
        .call(
            "PUT",
            "/api/user/@me/preferences",
            Some(json!({"theme": "ocean-deep", "font_size": 18, "clock": "12h", "enter_to_send": false})),
        )
        .await
        .expect(200);
    assert_eq!(
        (
            stored.theme.as_str(),
            stored.font_size,
            stored.clock.as_str(),
            stored.enter_to_send
        ),
        ("ocean-deep", 18, "12h", false)
    );
    assert_eq!(
        stored.density, "comfortable",
        "absent fields take their defaults"
    );
    let live: Preferences = other_device.event().await;
    assert_eq!(live, stored);
    let again: Preferences = me
        .call("GET", "/api/user/@me/preferences", None)
        .await
        .expect(200);
    assert_eq!(again, stored);

    for bad in [
        json!({"font_size": 30}),
        json!({"font_size": 11}),
        json!({"theme": "hotdog-stand"}),
        json!({"clock": "13h"}),
        json!({"sounds": "loud"}),
        json!({"colour": "red"}),
    ] {
        me.call("PUT", "/api/user/@me/preferences", Some(bad.clone()))
            .await
            .expect_error(422, "invalid_request");
    }
    let huge = json!({"theme": "ember", "padding": "x".repeat(5000)});
    me.call("PUT", "/api/user/@me/preferences", Some(huge))
        .await
        .expect_error(413, "payload_too_large");
    let unchanged: Preferences = me
        .call("GET", "/api/user/@me/preferences", None)
        .await
        .expect(200);
    assert_eq!(unchanged, stored, "a refused document changes nothing");

    let guest = app.guest_token(&unique_name("g")).await;
    app.request("GET", "/api/user/@me/preferences")
        .bearer(&guest)
        .send()
        .await
        .expect_error(403, "registration_required");
}

#[tokio::test]
async fn sessions_are_listed_by_device_and_revoked_one_or_all_others() {
    let app = spawn_app().await;
    let name = unique_name("sess");
    let _ = app.caller(&name).await;
    let laptop = login_from(&app, &name, FIREFOX).await;
    let phone = login_from(&app, &name, PHONE).await;
    let mut phone_live = app.gateway_as(&phone).await;
    let listed: OwnSessions = Caller::with_token(&app, &laptop)
        .call("GET", "/api/user/@me/sessions", None)
        .await
        .expect(200);
    assert_eq!(listed.sessions.len(), 3, "{listed:?}");
    let current: Vec<_> = listed.sessions.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].device, "Firefox on Linux");
    let on_phone = listed
        .sessions
        .iter()
        .find(|s| s.device == "Safari on iOS")
        .expect("the phone's session");
    assert!(!on_phone.id.is_empty() && on_phone.ip == "127.0.0.1");
    assert!(
        listed
            .sessions
            .iter()
            .all(|s| !s.id.contains(&laptop) && s.id.len() == 16),
        "ids are neither tokens nor their hashes"
    );

    let laptop_caller = Caller::with_token(&app, &laptop);
    laptop_caller
        .call("DELETE", "/api/user/@me/sessions/0123456789abcdef", None)
        .await
        .expect_error(404, "not_found");
    laptop_caller
        .call(
            "DELETE",
            &format!("/api/user/@me/sessions/{}", on_phone.id),
            None,
        )
        .await
        .expect_empty(204);
    phone_live.closed_with(CloseReason::SessionRevoked).await;
    app.request("GET", "/api/user/@me")
        .bearer(&phone)
        .send()
        .await
        .expect_error(401, "unauthenticated");

    laptop_caller
        .call("DELETE", "/api/user/@me/sessions", None)
        .await
        .expect_empty(204);
    let left: OwnSessions = laptop_caller
        .call("GET", "/api/user/@me/sessions", None)
        .await
        .expect(200);
    assert_eq!(left.sessions.len(), 1);
    assert!(left.sessions[0].current);
}

#[tokio::test]
async fn a_rename_follows_the_account_and_keeps_the_old_name_reserved() {
    let app = spawn_app_with(with_root).await;
    let root = app.root().await;
    let old = unique_name("Old");
    let me = app.caller(&old).await;
    let (friend, ignorer) = app.two_users("friend", "ign").await;
    friend.create_room("porch", false).await;
    let mut friend_live = friend.gateway().await;
    friend_live.join_room("porch", json!({})).await;
    let mut mine = me.gateway().await;
    mine.join_room("porch", json!({})).await;
    let said: common::protocol::Posted = mine
        .call(
            "send",
            json!({"room": "porch", "text": "before the rename"}),
        )
        .await;
    let _: Message = friend_live.event().await;
    ignorer
        .call("PUT", &format!("/api/ignores/{old}"), None)
        .await
        .expect_empty(204);
    let mut ignorer_live = ignorer.gateway().await;
    ignorer_live.join_room("porch", json!({})).await;
    let mut root_live = root.gateway().await;
    let _: common::protocol::Empty = root_live.call("mute", json!({"user": old})).await;

    let rename = |name: &str, password: &str| {
        me.call(
            "POST",
            "/api/user/@me/username",
            Some(json!({"username": name, "password": password})),
        )
    };
    let new = unique_name("New");
    rename(&new, "wrong password")
        .await
        .expect_error(401, "invalid_credentials");
    rename("no spaces allowed", PASSWORD)
        .await
        .expect_error(400, "invalid_username");
    rename(&friend.name().await, PASSWORD)
        .await
        .expect_error(409, "username_taken");

    let profile: Profile = rename(&new, PASSWORD).await.expect(200);
    assert_eq!(profile.username, new);
    let seen: UserRenamed = friend_live.event().await;
    assert_eq!(
        (seen.from.as_str(), seen.user.name.as_str()),
        (old.as_str(), new.as_str())
    );
    let closing: Closing = mine.event_where(|_: &Closing| true).await;
    assert_eq!(closing.reason, CloseReason::Renamed);

    // The same session carries on under the new name, still muted, and its words follow it.
    let mut back = me.gateway().await;
    let joined: RoomJoined = back.join_room("porch", json!({})).await;
    let before = joined
        .messages
        .iter()
        .find(|m| m.seq == Some(said.seq))
        .expect("the earlier message");
    assert_eq!(
        before.author.name, new,
        "history names the account as it is now"
    );
    back.expect_error("send", json!({"room": "porch", "text": "hi"}), "muted")
        .await;
    let _: common::protocol::Empty = root_live.call("unmute", json!({"user": new})).await;
    let _: common::protocol::Posted = back
        .call("send", json!({"room": "porch", "text": "after the rename"}))
        .await;
    friend_live
        .event_where(|m: &Message| m.text == "after the rename")
        .await;
    // Whoever ignored the old name ignores the new one.
    ignorer_live
        .assert_no_event(|m: &Message| m.text == "after the rename")
        .await;
    let me_now: Profile = me.call("GET", "/api/user/@me", None).await.expect(200);
    assert_eq!(me_now.username, new);

    // The old name is the account's for a while: nobody else may take it, it may take it back.
    app.request("POST", "/api/register")
        .json(json!({"username": old, "password": PASSWORD}))
        .send()
        .await
        .expect_error(409, "username_taken");
    app.request("POST", "/api/guest")
        .json(json!({"nick": old}))
        .send()
        .await
        .expect_error(409, "nick_taken");
    // The rename is in the audit log under the account.
    let audit: serde_json::Value = root
        .call("GET", "/api/admin/audit?action=rename", None)
        .await
        .expect(200);
    assert!(audit.to_string().contains(&format!("was {old}")), "{audit}");
    app.clock.advance(Duration::from_secs(31 * 24 * 3600));
    let taker: Session = app
        .request("POST", "/api/register")
        .json(json!({"username": old, "password": PASSWORD}))
        .send()
        .await
        .expect(201);
    assert_eq!(taker.user.username, old);
}

#[tokio::test]
async fn e_mail_and_key_changes_need_the_owner() {
    let app = spawn_app().await;
    let (me, other) = app.two_users("mail", "other").await;
    let other_mail = format!("{}@example.org", unique_name("o"));
    let _: Profile = other
        .call(
            "POST",
            "/api/user/@me/email",
            Some(json!({"email": other_mail, "password": PASSWORD})),
        )
        .await
        .expect(200);
    let set = |email: serde_json::Value, password: &str| {
        me.call(
            "POST",
            "/api/user/@me/email",
            Some(json!({"email": email, "password": password})),
        )
    };
    set(json!("me@example.org"), "wrong")
        .await
        .expect_error(401, "invalid_credentials");
    set(json!("not an address"), PASSWORD)
        .await
        .expect_error(400, "invalid_email");
    set(json!(other_mail), PASSWORD)
        .await
        .expect_error(409, "email_taken");
    let mail = format!("{}@example.org", unique_name("me"));
    let profile: Profile = set(json!(mail), PASSWORD).await.expect(200);
    assert_eq!(profile.email.as_deref(), Some(mail.as_str()));
    let _: Session = app
        .request("POST", "/api/login")
        .json(json!({"email": mail, "password": PASSWORD}))
        .send()
        .await
        .expect(200);

    // Keys: only a key account has one to replace; the old key stops working.
    me.call("POST", "/api/user/@me/key", None)
        .await
        .expect_error(403, "forbidden");
    let created: KeyAccount = app
        .request("POST", "/api/register")
        .json(json!({"username": unique_name("bot")}))
        .send()
        .await
        .expect(201);
    let bot: Session = app
        .request("POST", "/api/login")
        .json(json!({"key": created.key}))
        .send()
        .await
        .expect(200);
    let bot = Caller::with_token(&app, &bot.token);
    let profile: Profile = bot.call("GET", "/api/user/@me", None).await.expect(200);
    assert_eq!(profile.key_account, Some(true));
    let fresh: KeyAccount = bot
        .call("POST", "/api/user/@me/key", None)
        .await
        .expect(200);
    assert_ne!(fresh.key, created.key);
    app.request("POST", "/api/login")
        .json(json!({"key": created.key}))
        .send()
        .await
        .expect_error(401, "invalid_credentials");
    let _: Session = app
        .request("POST", "/api/login")
        .json(json!({"key": fresh.key}))
        .send()
        .await
        .expect(200);
    // A key account renames itself with no password.
    let _: Profile = bot
        .call(
            "POST",
            "/api/user/@me/username",
            Some(json!({"username": unique_name("robot")})),
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn privacy_settings_decide_who_may_write_first_and_who_is_listed_online() {
    let app = spawn_app_with(with_root).await;
    let (shy, stranger) = app.two_users("shy", "stranger").await;
    let shy_name = shy.name().await;
    let mut shy_live = shy.gateway().await;
    shy_live.join_lobby().await;
    let set = |prefs: serde_json::Value| shy.call("PUT", "/api/user/@me/preferences", Some(prefs));
    let _: Preferences = set(json!({"dm_from": "nobody", "show_online": false}))
        .await
        .expect(200);

    stranger
        .call(
            "POST",
            "/api/conversations",
            Some(json!({"user": shy_name})),
        )
        .await
        .expect_error(403, "not_accepting_messages");
    let root = app.root().await;
    root.call(
        "POST",
        "/api/conversations",
        Some(json!({"user": shy_name})),
    )
    .await
    .expect_status(200);
    let online: serde_json::Value = app.request("GET", "/api/online").send().await.expect(200);
    assert!(!online.to_string().contains(&shy_name), "{online}");
    let profile: Profile = stranger
        .call("GET", &format!("/api/user/{shy_name}"), None)
        .await
        .expect(200);
    assert!(!profile.online);

    // Accounts only: a guest's whisper is refused, an account may ask for a conversation.
    let _: Preferences = set(json!({"dm_from": "registered"})).await.expect(200);
    let mut guest = app.lobby_guest(&unique_name("g")).await;
    guest
        .expect_error(
            "whisper",
            json!({"to": shy_name, "text": "psst"}),
            "not_accepting_messages",
        )
        .await;
    stranger
        .call(
            "POST",
            "/api/conversations",
            Some(json!({"user": shy_name})),
        )
        .await
        .expect_status(200);
    let _: Preferences = set(json!({})).await.expect(200);
    let _: serde_json::Value = guest
        .call("whisper", json!({"to": shy_name, "text": "psst"}))
        .await;
    let online: serde_json::Value = app.request("GET", "/api/online").send().await.expect(200);
    assert!(online.to_string().contains(&shy_name), "{online}");
}

#[tokio::test]
async fn deleting_ones_account_needs_the_password_and_takes_its_rooms() {
    let app = spawn_app().await;
    let (me, member) = app.two_users("leaving", "staying").await;
    let name = me.name().await;
    me.create_room("mine", false).await;
    member.create_room("theirs", false).await;
    let mut member_live = member.gateway().await;
    member_live.join_room("mine", json!({})).await;
    member_live.join_room("theirs", json!({})).await;
    me.call("POST", "/api/rooms/theirs/membership", None)
        .await
        .expect_status(200);
    let _ = me.say_in("theirs", "my last words").await;
    let _: Message = member_live.event().await;

    me.call(
        "DELETE",
        "/api/user/@me",
        Some(json!({"password": "wrong"})),
    )
    .await
    .expect_error(401, "invalid_credentials");
    me.call(
        "DELETE",
        "/api/user/@me",
        Some(json!({"password": PASSWORD})),
    )
    .await
    .expect_empty(204);
    let removed: RoomRemoved = member_live
        .event_where(|r: &RoomRemoved| r.room == "mine")
        .await;
    assert_eq!(removed.reason, RemovedReason::Deleted);
    app.request("POST", "/api/login")
        .json(json!({"username": name, "password": PASSWORD}))
        .send()
        .await
        .expect_error(401, "invalid_credentials");
    assert!(member
        .texts_in("theirs")
        .await
        .contains(&"my last words".to_owned()));
}
