//! Encryption at rest: stored messages never appear in clear in the database, ciphertexts are
//! bound to their row, key rotation keeps everything readable, and a wrong master key stops
//! the server instead of writing what nobody could read back.

mod common;

use std::time::Duration;

use common::protocol::{
    Conversation, Ephemeral, History, Posted, RemovedReason, RoomRemoved, Sent, Whisper,
};
use common::{count_rows, database, spawn_app, spawn_app_with, unique_name, TestApp};
use parlor::app::Server;
use parlor::config::Secret;
use serde_json::json;
use std::path::Path;

const CANARY: &str = "CANARY-7f3a9c-do-not-store-in-clear";

/// Every row of every table, as text: what a dump of the PostgreSQL database would show.
async fn postgres_rows(app: &TestApp) -> String {
    let db = common::database(app).await;
    let mut dump = String::new();
    for table in [
        "users",
        "guests",
        "sessions",
        "rooms",
        "messages",
        "invites",
        "data_keys",
    ] {
        let sql = format!("SELECT CAST(t AS TEXT) FROM {table} t");
        let rows: Vec<(String,)> = sqlx::query_as(&sql).fetch_all(&db).await.unwrap();
        rows.into_iter().for_each(|(row,)| dump.push_str(&row));
    }
    dump
}

/// The SQLite database file and its WAL, as raw bytes.
fn sqlite_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(dir.join("parlor.db")).expect("the SQLite database file");
    // The WAL exists only while it holds pages not yet checkpointed.
    match std::fs::read(dir.join("parlor.db-wal")) {
        Ok(wal) => bytes.extend(wal),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("the WAL is unreadable: {e}"),
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Runs an ephemeral room where a guest writes the canary, until it expires into an archive.
async fn archived_ephemeral_room_with(app: &TestApp, host: &common::Caller<'_>) {
    let created: Ephemeral = host.call("POST", "/api/ephemeral", None).await.expect(201);
    let activated: Ephemeral = host
        .call(
            "POST",
            &format!("/api/ephemeral/{}/activate", created.code),
            None,
        )
        .await
        .expect(200);
    assert!(activated.active, "{activated:?}");
    let mut guest = app.lobby_guest(&unique_name("eg")).await;
    let room = created.room;
    guest
        .join_room(&room, json!({ "device": "canary-device-1" }))
        .await;
    let _: Posted = guest
        .call(
            "send",
            json!({ "room": room, "text": format!("{CANARY} in {room}") }),
        )
        .await;
    app.clock
        .advance(Duration::from_secs(app.config.ephemeral_ttl_secs + 1));
    let removed: RoomRemoved = guest.event().await;
    assert_eq!(
        (removed.room.as_str(), removed.reason),
        (room.as_str(), RemovedReason::Expired)
    );
    assert_eq!(count_rows(&database(app).await, "archives").await, 1);
}

#[tokio::test]
async fn message_text_of_every_kind_never_reaches_the_database_in_clear() {
    let app = spawn_app_with(|c| c.ephemeral_ttl_secs = 1).await;
    let owner = app.caller(&unique_name("own")).await;
    owner.create_room("public-room", false).await;
    let private = owner.create_room("private-room", true).await.slug;
    for room in ["public-room", private.as_str()] {
        owner.say_in(room, &format!("{CANARY} in {room}")).await;
    }
    let lobby_nick = unique_name("g");
    let mut lobby = app.lobby_guest(&lobby_nick).await;
    lobby.say(&format!("{CANARY} in the lobby")).await;
    let peer = app.caller(&unique_name("peer")).await;
    let peer_name = peer.name().await;
    let body = json!({ "user": peer_name });
    let conversation: Conversation = owner
        .call("POST", "/api/conversations", Some(body))
        .await
        .expect(200);
    owner
        .say_in(&conversation.room, &format!("{CANARY} in a conversation"))
        .await;
    // The whisper must really be delivered, or the canary check below says nothing about
    // whispers: the peer is online, and receives it.
    let mut peer_live = peer.gateway().await;
    let whisper = format!("{CANARY} in a whisper");
    let _: Sent = lobby
        .call("whisper", json!({ "to": peer_name, "text": whisper }))
        .await;
    let received: Whisper = peer_live.event().await;
    assert_eq!(
        (
            received.from.name.as_str(),
            received.to.as_str(),
            received.text.as_str()
        ),
        (lobby_nick.as_str(), peer_name.as_str(), whisper.as_str())
    );
    archived_ephemeral_room_with(&app, &owner).await;
    let history: History = owner
        .call("GET", &format!("/api/rooms/{private}/messages"), None)
        .await
        .expect(200);
    assert_eq!(
        history.texts(),
        [format!("{CANARY} in {private}")],
        "members read it back"
    );

    if common::on_postgres() {
        let dump = postgres_rows(&app).await;
        assert!(dump.contains("private-room"), "the dump sees the rows");
        assert!(!dump.contains(CANARY), "no clear text in PostgreSQL");
    } else {
        let bytes = sqlite_bytes(&app.config.data_dir);
        assert!(contains(&bytes, "private-room"), "the scan sees the rows");
        assert!(
            !contains(&bytes, CANARY),
            "no clear text in the SQLite file or WAL"
        );
    }
}

#[tokio::test]
async fn a_ciphertext_moved_to_another_row_does_not_decrypt() {
    let app = spawn_app().await;
    let owner = app.caller(&unique_name("own")).await;
    owner.create_room("swap", false).await;
    owner.say_in("swap", "first").await;
    owner.say_in("swap", "second").await;
    let db = common::database(&app).await;
    let bodies: Vec<(i64, Vec<u8>)> = sqlx::query_as("SELECT seq, body FROM messages ORDER BY seq")
        .fetch_all(&db)
        .await
        .unwrap();
    sqlx::query("UPDATE messages SET body = $1 WHERE seq = $2")
        .bind(bodies[0].1.clone())
        .bind(bodies[1].0)
        .execute(&db)
        .await
        .unwrap();
    let page: History = owner
        .call("GET", "/api/rooms/swap/messages", None)
        .await
        .expect(200);
    let lines: Vec<(Option<i64>, &str, bool)> = page
        .messages
        .iter()
        .map(|m| (m.seq, m.text.as_str(), m.undecryptable))
        .collect();
    assert_eq!(
        lines,
        [(Some(1), "first", false), (Some(2), "", true)],
        "the moved body opens nowhere but its own row"
    );
}

#[tokio::test]
async fn a_wrong_master_key_stops_the_server_at_start_up() {
    let mut app = spawn_app().await;
    let owner = app.caller(&unique_name("own")).await;
    owner.create_room("locked", false).await;
    drop(owner);
    app.stop().await.unwrap();
    let mut config = app.config.clone();
    config.master_key = Some(Secret::new("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    config.listen = "127.0.0.1:0".parse().unwrap();
    let err = Server::build(config).await.err().expect("refuses to start");
    assert!(format!("{err:#}").contains("master key"), "{err:#}");

    // A deleted key file is not silently replaced by a new key either.
    let mut config = app.config.clone();
    config.listen = "127.0.0.1:0".parse().unwrap();
    std::fs::remove_file(config.data_dir.join("master.key")).unwrap();
    assert!(Server::build(config.clone()).await.is_err());
    assert!(
        !config.data_dir.join("master.key").exists(),
        "no stray key left behind"
    );
}

#[tokio::test]
async fn rotating_the_master_key_keeps_every_message_readable() {
    let mut app = spawn_app().await;
    let owner = app.caller(&unique_name("own")).await;
    let rotated = owner.create_room("rotated", true).await.slug;
    owner.say_in(&rotated, "before rotation").await;
    let old_key = std::fs::read_to_string(app.config.data_dir.join("master.key")).unwrap();
    let token = owner.token.clone();
    drop(owner);
    app.stop().await.unwrap();

    let database_url = app
        .config
        .database_url
        .as_ref()
        .map(|url| url.expose().to_owned());
    let env: Vec<(&str, &str)> = database_url
        .iter()
        .map(|url| ("DATABASE_URL", url.as_str()))
        .collect();
    let output = common::binary::run(&app.config.data_dir, &["keys", "rotate"], &env).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let new_key = std::fs::read_to_string(app.config.data_dir.join("master.key")).unwrap();
    assert_ne!(old_key, new_key);

    let (data_dir, database_url) = (app.config.data_dir.clone(), app.config.database_url.clone());
    let restarted = spawn_app_with(move |c| {
        c.data_dir = data_dir;
        c.database_url = database_url;
    })
    .await;
    let mut ws = restarted.gateway_as(&token).await;
    let joined = ws.join_room(&rotated, json!({})).await;
    assert_eq!(joined.texts(), ["before rotation"]);
    let db = common::database(&restarted).await;
    let (masters,): (i64,) = sqlx::query_as("SELECT COUNT(DISTINCT kek_id) FROM data_keys")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(
        masters, 1,
        "every data key is wrapped by the new master key"
    );
}
