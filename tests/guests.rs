//! Guests in rooms (issue 16): a guest joins public rooms that admit guests — reading, writing,
//! editing and deleting its own words while there, never stored as a member — and hosts
//! ephemeral rooms within its address's registration budget; the server (`guests_in_rooms`)
//! and each room (`allow_guests`) can keep guests out, and one that becomes an account keeps
//! what it had. On SQLite, and PostgreSQL when configured.

mod common;

use common::protocol::{
    Changed, Ephemeral, Hosted, Kind, Message, MessageDeleted, MessageEdited, Posted,
    RemovedReason, Room, RoomJoined, RoomList, RoomMembers, RoomRemoved, RoomRole, Session,
};
use common::{count_rows, database, spawn_app, spawn_app_with, unique_name, TestApp, WsClient};
use serde_json::json;

/// A guest with a native connection, identified under `nick` (not in the lobby).
async fn guest(app: &TestApp, nick: &str) -> (String, WsClient) {
    let token = app.guest_token(nick).await;
    let ws = app.gateway_as(&token).await;
    (token, ws)
}

/// The room list `GET /api/rooms` gives the session `token`.
async fn room_list(app: &TestApp, token: &str) -> RoomList {
    app.request("GET", "/api/rooms")
        .bearer(token)
        .send()
        .await
        .expect(200)
}

/// The owner (or anyone) asks to let guests into `slug`, or to keep them out.
async fn let_guests_in(caller: &common::Caller<'_>, slug: &str, on: bool) -> common::Reply {
    caller
        .call(
            "PATCH",
            &format!("/api/rooms/{slug}"),
            Some(json!({"allow_guests": on})),
        )
        .await
}

#[tokio::test]
async fn a_guest_joins_a_public_room_reads_and_writes_and_is_never_stored_as_a_member() {
    let app = spawn_app().await;
    let owner = app.caller(&unique_name("own")).await;
    owner.create_room("commons", false).await;
    owner.create_room("backroom", true).await;
    owner.say_in("commons", "before anyone came").await;
    let mut host = owner.gateway().await;
    host.join_room("commons", json!({})).await;
    let members_before = count_rows(&database(&app).await, "room_members").await;

    let nick = unique_name("Wanderer");
    let (token, mut ws) = guest(&app, &nick).await;
    let listed: RoomList = room_list(&app, &token).await;
    let slugs: Vec<&str> = listed.rooms.iter().map(|r| r.slug.as_str()).collect();
    assert_eq!(slugs, ["commons"], "public rooms only: {listed:?}");
    assert_eq!(listed.rooms[0].role, None);

    let joined: RoomJoined = ws.join_room("commons", json!({})).await;
    assert_eq!(joined.room.role, Some(RoomRole::Guest));
    assert!(joined.room.allow_guests);
    assert_eq!(joined.last_read_seq, None, "a guest keeps no read pointer");
    assert_eq!(
        joined
            .messages
            .iter()
            .map(|m| m.text.as_str())
            .collect::<Vec<_>>(),
        ["before anyone came"]
    );
    assert!(
        joined
            .members
            .iter()
            .any(|m| m.name == nick && m.kind == Kind::Guest),
        "online in the room: {:?}",
        joined.members
    );

    let sent: Posted = ws
        .call(
            "send",
            json!({"room": "commons", "text": "hello from nowhere"}),
        )
        .await;
    let seen: Message = host
        .event_where(|m: &Message| m.text == "hello from nowhere")
        .await;
    assert_eq!(
        (seen.author.name.as_str(), seen.author.kind),
        (nick.as_str(), Kind::Guest)
    );
    let _: Changed = ws
        .call(
            "edit",
            json!({"room": "commons", "seq": sent.seq, "text": "hello from somewhere"}),
        )
        .await;
    let edited: MessageEdited = host.event().await;
    assert_eq!(edited.text, "hello from somewhere");
    ws.expect_error(
        "edit",
        json!({"room": "commons", "seq": 1, "text": "mine now"}),
        "forbidden",
    )
    .await;
    let _: serde_json::Value = ws
        .call("read", json!({"room": "commons", "seq": sent.seq}))
        .await;

    // What takes an account stays refused, with the code that says so.
    ws.expect_error(
        "react",
        json!({"room": "commons", "seq": 1, "emoji": "👍"}),
        "registration_required",
    )
    .await;
    ws.expect_error("search", json!({"q": "hello"}), "registration_required")
        .await;
    ws.expect_error("join", json!({"room": "backroom"}), "not_found")
        .await;
    ws.expect_error("join", json!({"room": "nowhere"}), "not_found")
        .await;

    // The owner moderates the guest's words like a member's.
    let second: Posted = ws
        .call(
            "send",
            json!({"room": "commons", "text": "buy cheap stuff"}),
        )
        .await;
    let _: Message = host.event().await;
    let _: Changed = host
        .call("delete", json!({"room": "commons", "seq": second.seq}))
        .await;
    let gone: MessageDeleted = ws.event().await;
    assert_eq!(gone.seq, second.seq);

    // Never a stored member: not in the member list, no row, and leaving keeps nothing.
    let listed: RoomMembers = owner
        .call("GET", "/api/rooms/commons/members", None)
        .await
        .expect(200);
    assert!(listed.members.iter().all(|m| m.name != nick), "{listed:?}");
    assert_eq!(
        count_rows(&database(&app).await, "room_members").await,
        members_before
    );
    let _: serde_json::Value = ws.call("leave", json!({"room": "commons"})).await;
    // Back in after a reconnect, with the history.
    let mut again = app.gateway_as(&token).await;
    let rejoined = again.join_room("commons", json!({})).await;
    assert!(rejoined
        .messages
        .iter()
        .any(|m| m.text == "hello from somewhere"));
}

#[tokio::test]
async fn a_room_that_stops_admitting_guests_takes_them_out_and_keeps_them_out() {
    let app = spawn_app().await;
    let (owner, member) = app.two_users("own", "mem").await;
    owner.create_room("parlour", false).await;
    let mut resident = member.gateway().await;
    resident.join_room("parlour", json!({})).await;
    let (token, mut ws) = guest(&app, &unique_name("Drifter")).await;
    ws.join_room("parlour", json!({})).await;

    // Only the room's owner and admins decide.
    let_guests_in(&member, "parlour", false)
        .await
        .expect_error(403, "forbidden");
    let room: Room = let_guests_in(&owner, "parlour", false).await.expect(200);
    assert!(!room.allow_guests);
    let removed: RoomRemoved = ws.event_where(|r: &RoomRemoved| r.room == "parlour").await;
    assert_eq!(removed.reason, RemovedReason::GuestsNotAllowed);
    ws.expect_error(
        "send",
        json!({"room": "parlour", "text": "still here?"}),
        "registration_required",
    )
    .await;
    ws.expect_error("join", json!({"room": "parlour"}), "registration_required")
        .await;
    let listed: RoomList = room_list(&app, &token).await;
    assert!(listed.rooms.is_empty(), "{listed:?}");
    // The members stay, and hear nothing of it but the room's new settings.
    let _: Posted = resident
        .call("send", json!({"room": "parlour", "text": "just us"}))
        .await;

    // Let back in, a guest may join again.
    let _: Room = let_guests_in(&owner, "parlour", true).await.expect(200);
    let back = ws.join_room("parlour", json!({})).await;
    assert_eq!(back.room.role, Some(RoomRole::Guest));
}

#[tokio::test]
async fn a_server_that_keeps_guests_out_of_rooms_says_they_need_an_account() {
    let app = spawn_app_with(|config| config.guests_in_rooms = false).await;
    let owner = app.caller(&unique_name("own")).await;
    owner.create_room("members-only", false).await;
    let (token, mut ws) = guest(&app, &unique_name("Stray")).await;
    ws.expect_error(
        "join",
        json!({"room": "members-only"}),
        "registration_required",
    )
    .await;
    let listed: RoomList = room_list(&app, &token).await;
    assert!(listed.rooms.is_empty(), "{listed:?}");
    app.request("POST", "/api/ephemeral")
        .bearer(&token)
        .send()
        .await
        .expect_error(403, "registration_required");
    // Accounts are not affected.
    let _: Ephemeral = owner.call("POST", "/api/ephemeral", None).await.expect(201);
}

#[tokio::test]
async fn a_guest_hosts_ephemeral_rooms_within_its_addresss_registration_budget() {
    let app = spawn_app_with(|config| config.registrations_per_ip = 2).await;
    let (token, _ws) = guest(&app, &unique_name("Host")).await;
    let create = || app.request("POST", "/api/ephemeral").bearer(&token).send();
    let first: Ephemeral = create().await.expect(201);
    let _second: Ephemeral = create().await.expect(201);
    let refused = create().await.expect_error(429, "rate_limited");
    assert!(refused.retry_after.is_some_and(|s| s > 0), "{refused:?}");
    // The budget is the registrations': an account from the address waits as well.
    app.request("POST", "/api/register")
        .json(json!({"username": unique_name("late"), "password": "correct horse battery"}))
        .send()
        .await
        .expect_error(429, "rate_limited");

    let hosted: Hosted = app
        .request("GET", "/api/ephemeral")
        .bearer(&token)
        .send()
        .await
        .expect(200);
    assert_eq!(hosted.rooms.len(), 2);
    let code = first.code;
    let _: Ephemeral = app
        .request("POST", &format!("/api/ephemeral/{code}/activate"))
        .bearer(&token)
        .send()
        .await
        .expect(200);
    // Another guest cannot start someone else's room.
    let other = app.guest_token(&unique_name("Other")).await;
    app.request("POST", &format!("/api/ephemeral/{code}/activate"))
        .bearer(&other)
        .send()
        .await
        .expect_error(404, "not_found");

    let room = format!("e:{code}");
    let mut host = app.gateway_as(&token).await;
    host.join_room(&room, json!({"device": "host-device-aaaa"}))
        .await;
    let mut visitor = app.gateway_as(&other).await;
    visitor
        .join_room(&room, json!({"device": "visitor-device-b"}))
        .await;
    let _: Posted = visitor
        .call("send", json!({"room": room, "text": "knock knock"}))
        .await;
    host.event_where(|m: &Message| m.text == "knock knock")
        .await;
}

#[tokio::test]
async fn a_guest_who_registers_keeps_its_rooms_its_places_and_its_words() {
    let app = spawn_app().await;
    let owner = app.caller(&unique_name("own")).await;
    owner.create_room("square", false).await;
    let nick = unique_name("Passer");
    let (token, mut ws) = guest(&app, &nick).await;
    ws.join_room("square", json!({})).await;
    let said: Posted = ws
        .call(
            "send",
            json!({"room": "square", "text": "first as a guest"}),
        )
        .await;
    let created: Ephemeral = app
        .request("POST", "/api/ephemeral")
        .bearer(&token)
        .send()
        .await
        .expect(201);
    let code = created.code;
    let _: Ephemeral = app
        .request("POST", &format!("/api/ephemeral/{code}/activate"))
        .bearer(&token)
        .send()
        .await
        .expect(200);
    let room = format!("e:{code}");
    ws.join_room(&room, json!({"device": "passer-device-01"}))
        .await;
    let (_, mut other) = guest(&app, &unique_name("Friend")).await;
    other
        .join_room(&room, json!({"device": "friend-device-02"}))
        .await;

    let session: Session = app
        .request("POST", "/api/register")
        .bearer(&token)
        .json(json!({"username": nick, "password": "correct horse battery"}))
        .send()
        .await
        .expect(201);
    let account = common::Caller::with_token(&app, &session.token);
    let hosted: Hosted = account
        .call("GET", "/api/ephemeral", None)
        .await
        .expect(200);
    assert_eq!(
        hosted
            .rooms
            .iter()
            .map(|r| r.code.as_str())
            .collect::<Vec<_>>(),
        [code.as_str()]
    );
    let mut live = account.gateway().await;
    // The same device is still one of the room's two: the account takes the guest's place.
    let back = live
        .join_room(&room, json!({"device": "passer-device-01"}))
        .await;
    assert_eq!(back.room.slug, room);
    live.join_room("square", json!({})).await;
    let _: Changed = live
        .call(
            "edit",
            json!({"room": "square", "seq": said.seq, "text": "first, now with an account"}),
        )
        .await;
    assert!(owner
        .texts_in("square")
        .await
        .contains(&"first, now with an account".to_owned()));
}

/// A SQLite database written before guests could own rooms upgrades in place: `owner_id`
/// loses its NOT NULL without the table being rebuilt, so members, messages and the room
/// numbering survive, and a guest may host a room afterwards. (PostgreSQL alters the column.)
#[tokio::test]
async fn an_existing_sqlite_database_upgrades_keeping_its_rooms_members_and_messages() {
    if common::on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    sqlx::any::install_default_drivers();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("parlor.db").display()
    );
    let old = sqlx::AnyPool::connect(&url).await.expect("a new database");
    let mut before = sqlx::migrate!("./migrations/sqlite");
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version < 13)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    before
        .run(&old)
        .await
        .expect("the schema before guests owned rooms");
    // A real master key and data key, as the server would have left them.
    let master = parlor::crypto::MasterKey::generate();
    master
        .write_new_file(&parlor::crypto::MasterKey::file_in(dir.path()))
        .expect("the master key file");
    sqlx::query("INSERT INTO data_keys (kek_id, wrapped, created_at) VALUES ($1, $2, 1)")
        .bind(master.id())
        .bind(master.wrap(&parlor::crypto::SecretKey::generate()))
        .execute(&old)
        .await
        .expect("a data key");
    for sql in [
        "INSERT INTO users (name, name_key, role, created_at) VALUES ('Ann', 'ann', 'user', 1)",
        "INSERT INTO rooms (slug, name, private, owner_id, data_key_id, created_at) \
         VALUES ('one', 'one', 0, 1, 1, 1), ('two', 'two', 0, 1, 1, 1), ('gone', 'gone', 0, 1, 1, 1)",
        "DELETE FROM rooms WHERE slug = 'gone'",
        "INSERT INTO room_members (room_id, user_id, role, joined_at) VALUES (1, 1, 'owner', 1)",
        "INSERT INTO messages (room_id, seq, author_id, author_name, author_role, body, created_at) \
         VALUES (1, 1, 1, 'Ann', 'user', x'00', 1)",
    ] {
        sqlx::query(sql).execute(&old).await.expect(sql);
    }
    old.close().await;

    let app = spawn_app_with(|c| {
        c.data_dir = dir.path().to_path_buf();
        c.database_url = None;
    })
    .await;
    let db = database(&app).await;
    assert_eq!(count_rows(&db, "room_members").await, 1);
    assert_eq!(count_rows(&db, "messages").await, 1);
    let token = app.guest_token(&unique_name("Host")).await;
    let _: Ephemeral = app
        .request("POST", "/api/ephemeral")
        .bearer(&token)
        .send()
        .await
        .expect(201);
    let ids: Vec<(i64, Option<i64>, Option<i64>)> =
        sqlx::query_as("SELECT id, owner_id, host_guest_id FROM rooms ORDER BY id")
            .fetch_all(&db)
            .await
            .expect("rooms");
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(
        (ids[2].0, ids[2].1),
        (4, None),
        "a new id, owned by no account: {ids:?}"
    );
    assert!(ids[2].2.is_some());
    let check: Vec<(String,)> = sqlx::query_as("PRAGMA foreign_key_check")
        .fetch_all(&db)
        .await
        .expect("foreign key check");
    assert!(check.is_empty(), "{check:?}");
}

/// Guests cost what accounts do: a guest's first step into a persistent room spends one
/// registration of its address's budget (once per guest), so stored rooms cannot be flooded by
/// guests made faster than accounts.
#[tokio::test]
async fn each_guest_entering_rooms_spends_one_registration_of_its_address() {
    // The owner's registration takes one of the three; each of two guests another.
    let app = spawn_app_with(|config| config.registrations_per_ip = 3).await;
    let owner = app.caller(&unique_name("own")).await;
    owner.create_room("plaza", false).await;
    owner.create_room("market", false).await;
    let (_, mut first) = guest(&app, &unique_name("One")).await;
    first.join_room("plaza", json!({})).await;
    // Again, elsewhere, or after a reconnect: paid once.
    first.join_room("market", json!({})).await;
    let _: Posted = first
        .call("send", json!({"room": "plaza", "text": "one"}))
        .await;
    let (_, mut second) = guest(&app, &unique_name("Two")).await;
    second.join_room("plaza", json!({})).await;

    let (third_token, mut third) = guest(&app, &unique_name("Three")).await;
    let refused = third.request("join", json!({"room": "plaza"})).await;
    assert_eq!(refused.code(), "rate_limited", "{refused:?}");
    let refused = app
        .request("POST", "/api/rooms/plaza/messages")
        .bearer(&third_token)
        .json(json!({"text": "through the back door"}))
        .send()
        .await
        .expect_error(429, "rate_limited");
    assert!(refused.retry_after.is_some_and(|s| s > 0));
    assert!(!owner
        .texts_in("plaza")
        .await
        .contains(&"through the back door".to_owned()));
}
