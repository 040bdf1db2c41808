//! Master keys as an operator handles them: rotation on a running server (the key file, and
//! `PARLOR_MASTER_KEY` with `PARLOR_PREVIOUS_MASTER_KEY`), a start-up check that covers every
//! data key, and a missing key file beside existing data.

mod common;

use common::binary;
use common::{spawn_app_with, unique_name, Caller, Request, TestApp};
use parlor::app::Server;
use parlor::config::{Config, Secret};
use parlor::crypto::MasterKey;
use serde_json::json;
use std::path::Path;

/// The variables `parlor keys rotate` needs to reach this app's data.
fn store_env(app: &TestApp) -> Vec<(&'static str, String)> {
    let mut env = Vec::new();
    if let Some(url) = &app.config.database_url {
        env.push(("DATABASE_URL", url.expose().to_owned()));
    }
    env
}

/// Runs `parlor keys rotate` against the app's data; returns its standard output.
async fn rotate(app: &TestApp, extra: &[(&'static str, String)]) -> String {
    let mut env = store_env(app);
    env.extend(extra.iter().cloned());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let output = binary::run(&app.config.data_dir, &["keys", "rotate"], &env).await;
    assert!(
        output.status.success(),
        "rotation failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("text")
}

/// Master key id → how many data keys it wraps, straight from the database.
async fn wrapped_by(app: &TestApp) -> Vec<(String, i64)> {
    let db = common::database(app).await;
    let rows = sqlx::query_as("SELECT kek_id, COUNT(*) FROM data_keys GROUP BY kek_id")
        .fetch_all(&db)
        .await
        .unwrap();
    db.close().await;
    rows
}

/// The data key of a room.
async fn data_key_of(app: &TestApp, slug: &str) -> i64 {
    let db = common::database(app).await;
    let (id,): (i64,) = sqlx::query_as("SELECT data_key_id FROM rooms WHERE slug = $1")
        .bind(slug)
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    id
}

fn key_in(path: &Path) -> MasterKey {
    MasterKey::read_file(path).unwrap().expect("a key file")
}

/// Builds a server over `config`'s data on a fresh port: `Err` carries the refusal's text.
async fn build(config: &Config) -> Result<Server, String> {
    let mut config = config.clone();
    config.listen = "127.0.0.1:0".parse().unwrap();
    Server::build(config).await.map_err(|e| format!("{e:#}"))
}

#[tokio::test]
async fn a_running_server_follows_a_rotated_key_file_at_once_and_after_a_restart() {
    let mut app = spawn_app_with(|_| {}).await;
    let owner = app.caller(&unique_name("own")).await;
    let before = owner.create_room("before", true).await.slug;
    owner.say_in(&before, "written before").await;
    let key_file = MasterKey::file_in(&app.config.data_dir);
    let old = key_in(&key_file);

    let said = rotate(&app, &[]).await;
    let new = key_in(&key_file);
    assert_ne!(old.id(), new.id());
    assert!(said.contains(&new.id()), "{said}");
    assert_eq!(
        key_in(&MasterKey::previous_file_in(&app.config.data_dir)).id(),
        old.id(),
        "the replaced key is kept"
    );

    // No upkeep has run (the clock stands still): the server follows the file by itself.
    assert_eq!(owner.texts_in(&before).await, ["written before"]);
    let after = owner.create_room("after", true).await.slug;
    owner.say_in(&after, "written after").await;
    assert_eq!(
        wrapped_by(&app).await,
        [(new.id(), 2)],
        "the room created after the rotation is wrapped by the new key"
    );

    let token = owner.token.clone();
    drop(owner);
    app.restart().await;
    let owner = Caller::with_token(&app, &token);
    assert_eq!(owner.texts_in(&before).await, ["written before"]);
    assert_eq!(owner.texts_in(&after).await, ["written after"]);
}

#[tokio::test]
async fn a_data_key_left_under_the_previous_key_is_rewrapped_at_start_up_and_named_without_it() {
    let mut app = spawn_app_with(|_| {}).await;
    let owner = app.caller(&unique_name("own")).await;
    owner.create_room("stale", false).await;
    owner.say_in("stale", "still here").await;
    let token = owner.token.clone();
    drop(owner);
    app.stop().await.unwrap();
    rotate(&app, &[]).await;

    // What a server that had not yet seen the new key file would have written: the room's
    // data key wrapped by the old key.
    let dir = app.config.data_dir.clone();
    let (new, old) = (
        key_in(&MasterKey::file_in(&dir)),
        key_in(&MasterKey::previous_file_in(&dir)),
    );
    let key_id = data_key_of(&app, "stale").await;
    let db = common::database(&app).await;
    let (wrapped,): (Vec<u8>,) = sqlx::query_as("SELECT wrapped FROM data_keys WHERE id = $1")
        .bind(key_id)
        .fetch_one(&db)
        .await
        .unwrap();
    let data_key = new.unwrap_key(&wrapped).expect("wrapped by the new key");
    sqlx::query("UPDATE data_keys SET kek_id = $1, wrapped = $2 WHERE id = $3")
        .bind(old.id())
        .bind(old.wrap(&data_key))
        .bind(key_id)
        .execute(&db)
        .await
        .unwrap();
    db.close().await;

    // Without the previous key the server refuses to start, naming the key and what to set.
    let kept = dir.join("kept-aside");
    std::fs::rename(MasterKey::previous_file_in(&dir), &kept).unwrap();
    let refusal = build(&app.config).await.err().expect("refuses to start");
    assert!(
        refusal.contains(&format!(
            "data key {key_id} (wrapped by master key {})",
            old.id()
        )),
        "{refusal}"
    );
    assert!(refusal.contains("PARLOR_PREVIOUS_MASTER_KEY"), "{refusal}");

    // With it, the key is re-wrapped under the current key at start-up.
    std::fs::rename(&kept, MasterKey::previous_file_in(&dir)).unwrap();
    app.restart().await;
    assert_eq!(wrapped_by(&app).await, [(new.id(), 1)]);
    let owner = Caller::with_token(&app, &token);
    assert_eq!(owner.texts_in("stale").await, ["still here"]);
}

#[tokio::test]
async fn rotating_a_configured_master_key_keeps_rooms_created_before_the_restart() {
    let first = MasterKey::generate().encode();
    let configured = first.clone();
    let mut app = spawn_app_with(move |c| c.master_key = Some(Secret::new(configured))).await;
    let owner = app.caller(&unique_name("own")).await;
    owner.create_room("early", false).await;
    owner.say_in("early", "before rotating").await;

    let said = rotate(&app, &[("PARLOR_MASTER_KEY", first.clone())]).await;
    let second = said.lines().last().expect("the new key").trim().to_owned();
    let new_id = MasterKey::parse(&second).expect("a key").id();
    assert!(said.contains("PARLOR_PREVIOUS_MASTER_KEY"), "{said}");

    // The running server still has only the old key: it keeps serving, and a room created now
    // is wrapped by the old key.
    assert_eq!(owner.texts_in("early").await, ["before rotating"]);
    owner.create_room("late", false).await;
    owner.say_in("late", "before the restart").await;
    let late_key = data_key_of(&app, "late").await;
    let token = owner.token.clone();
    drop(owner);
    app.stop().await.unwrap();

    // The new key alone does not open the late room's key: refused, by name.
    app.config.master_key = Some(Secret::new(second.clone()));
    let refusal = build(&app.config).await.err().expect("refuses to start");
    assert!(
        refusal.contains(&format!("data key {late_key} ")),
        "{refusal}"
    );

    // With the old key as the previous one, everything opens and is re-wrapped.
    app.config.previous_master_key = Some(Secret::new(first));
    app.restart().await;
    assert_eq!(wrapped_by(&app).await, [(new_id.clone(), 2)]);
    let owner = Caller::with_token(&app, &token);
    assert_eq!(owner.texts_in("early").await, ["before rotating"]);
    assert_eq!(owner.texts_in("late").await, ["before the restart"]);
    drop(owner);

    // From then on the new key alone is enough.
    app.config.previous_master_key = None;
    app.restart().await;
    let owner = Caller::with_token(&app, &token);
    assert_eq!(owner.texts_in("late").await, ["before the restart"]);
}

#[tokio::test]
async fn a_missing_key_file_beside_existing_data_is_refused_before_anything_is_generated() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = binary::serve(&data, &[]).expect("first start");
    let register = Request::new("POST", &format!("{}/api/register", server.url))
        .json(json!({ "username": "keeper", "password": common::PASSWORD }))
        .send()
        .await;
    let session: common::protocol::Session = register.expect(201);
    Request::new("POST", &format!("{}/api/rooms", server.url))
        .bearer(&session.token)
        .json(json!({ "slug": "sealed", "private": false }))
        .send()
        .await
        .expect_status(201);
    server.stop();

    let key_file = MasterKey::file_in(&data);
    std::fs::remove_file(&key_file).unwrap();
    let refused = binary::serve(&data, &[]).err().expect("refuses to start");
    assert_ne!(refused.code, Some(0), "{refused:?}");
    let absolute = std::fs::canonicalize(&data).unwrap().join("master.key");
    assert!(
        refused.log.contains(&absolute.display().to_string()),
        "names the file to restore: {}",
        refused.log
    );
    assert!(refused.log.contains("PARLOR_MASTER_KEY"), "{}", refused.log);
    assert!(!refused.log.contains("GENERATED"), "{}", refused.log);
    assert!(!key_file.exists(), "no new key file left behind");
}

#[tokio::test]
async fn the_documented_database_url_works_on_a_fresh_install() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("sub").join("parlor.db");
    let url = format!("sqlite://{}", database.display());
    let server = binary::serve(&dir.path().join("data"), &[("DATABASE_URL", &url)])
        .unwrap_or_else(|refused| panic!("refused to start: {refused:?}"));
    let health: common::protocol::Health = Request::new("GET", &format!("{}/health", server.url))
        .send()
        .await
        .expect(200);
    assert_eq!(
        (health.status.as_str(), health.database.as_str()),
        ("ok", "ok")
    );
    server.stop();
    assert!(database.is_file(), "the database is where the URL says");
}
