//! `parlor backup` and `parlor restore` as an operator runs them: the real binary backs up a
//! running server's data while a client keeps posting, restores it into a fresh data directory
//! (and, with `PARLOR_TEST_POSTGRES_URL`, a fresh PostgreSQL database), and a server started
//! there serves every room, conversation, archive and file as the first one did. Also what
//! both refuse: a destination that is not empty, storage that already holds data, a master
//! key that does not match — each said plainly, with nothing touched.

mod common;

use common::protocol::{
    AdminRooms, Archives, Attachment, Conversation, Ephemeral, History, Posted, RemovedReason,
    RoomRemoved,
};
use common::{
    binary, eventually, on_postgres, spawn_app_with, unique_name, with_root, Caller, TestApp,
    PASSWORD,
};
use parlor::config::{Config, Secret};
use parlor::crypto::MasterKey;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Cursor;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// A server with a root account and no rate limit in the way of the write load.
async fn source_app() -> TestApp {
    spawn_app_with(|c| {
        with_root(c);
        c.rate_limit_messages = 1_000_000;
        c.ephemeral_ttl_secs = 60;
    })
    .await
}

/// The variables that point the binary at `config`'s storage (beside `PARLOR_DATA_DIR`).
fn storage_env(config: &Config) -> Vec<(&'static str, String)> {
    let mut env = Vec::new();
    if let Some(url) = &config.database_url {
        env.push(("DATABASE_URL", url.expose().to_owned()));
    }
    if let Some(url) = &config.object_store_url {
        env.push(("PARLOR_OBJECT_STORE_URL", url.clone()));
        let optional = [
            ("PARLOR_S3_ENDPOINT", config.s3_endpoint.clone()),
            ("PARLOR_S3_REGION", config.s3_region.clone()),
            (
                "PARLOR_S3_ACCESS_KEY_ID",
                config
                    .s3_access_key_id
                    .as_ref()
                    .map(|s| s.expose().to_owned()),
            ),
            (
                "PARLOR_S3_SECRET_ACCESS_KEY",
                config
                    .s3_secret_access_key
                    .as_ref()
                    .map(|s| s.expose().to_owned()),
            ),
        ];
        env.extend(optional.into_iter().filter_map(|(k, v)| Some((k, v?))));
        env.push(("PARLOR_S3_ALLOW_HTTP", config.s3_allow_http.to_string()));
    }
    env
}

/// Runs `parlor ARGS` on the storage of `config` (data directory `data_dir`), plus `extra`.
async fn parlor(
    data_dir: &Path,
    config: &Config,
    args: &[&str],
    extra: &[(&'static str, String)],
) -> Output {
    let mut env = storage_env(config);
    env.extend(extra.iter().cloned());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    binary::run(data_dir, args, &env).await
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// The one line a refusal prints, asserting exit status 1.
#[track_caller]
fn refused(output: &Output) -> String {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("parlor: "))
        .unwrap_or_else(|| panic!("no `parlor:` line in {stderr}"));
    line.to_owned()
}

/// A fresh place to restore into: a data directory holding the source's master key file,
/// and (on PostgreSQL) a new, empty database.
struct Target {
    _dir: tempfile::TempDir,
    data: PathBuf,
    config: Config,
}

async fn fresh_target(source: &TestApp, with_key: bool) -> Target {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    if with_key {
        std::fs::copy(
            MasterKey::file_in(&source.config.data_dir),
            MasterKey::file_in(&data),
        )
        .unwrap();
    }
    let mut config = source.config.clone();
    config.data_dir = data.clone();
    if let Ok(base) = std::env::var("PARLOR_TEST_POSTGRES_URL") {
        config.database_url = Some(Secret::new(common::fresh_postgres_database(&base).await));
    }
    Target {
        _dir: dir,
        data,
        config,
    }
}

/// Whether the target's storage is as empty as before a refused restore.
async fn untouched(target: &Target) {
    assert!(
        !target.data.join("parlor.db").exists(),
        "no database file was written"
    );
    let uploads = target.data.join("uploads");
    let objects = walk(&uploads).len();
    assert_eq!(objects, 0, "no file was copied into {}", uploads.display());
    if on_postgres() {
        let url = target.config.database_url.as_ref().unwrap().expose();
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
            .await
            .unwrap();
        let (tables,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(tables, 0, "the PostgreSQL database is still empty");
    }
}

/// Every file under `dir` (none when it does not exist).
fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries.map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// A PNG of noise (it keeps its size through any re-encoding and gets a thumbnail).
fn png(w: u32, h: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(w, h, |x, y| {
        let v =
            (x.wrapping_mul(0x9E37_79B9) ^ y.wrapping_mul(0x85EB_CA6B)).wrapping_mul(0x2C1B_3C6D);
        image::Rgb([(v >> 24) as u8, (v >> 16) as u8, 90])
    });
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Uploads `bytes` to `room` and sends them there in a message; returns the attachment.
async fn send_file(caller: &Caller<'_>, room: &str, name: &str, bytes: Vec<u8>) -> Attachment {
    let url = reqwest::Url::parse_with_params(
        &caller.app.url("/api/files"),
        &[("room", room), ("name", name)],
    )
    .unwrap();
    let reply = reqwest::Client::new()
        .post(url)
        .bearer_auth(&caller.token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 201);
    let file: Attachment = reply.json().await.unwrap();
    let body = json!({ "text": format!("here is {name}"), "attachments": [file.id] });
    caller
        .call("POST", &format!("/api/rooms/{room}/messages"), Some(body))
        .await
        .expect_status(201);
    file
}

/// A file's bytes as `token`'s holder downloads them.
async fn download(app: &TestApp, token: &str, path: &str) -> Vec<u8> {
    let reply = reqwest::Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200, "GET {path}");
    reply.bytes().await.unwrap().to_vec()
}

/// A room's whole transcript as the admin panel reads it, oldest first, a page at a time.
async fn transcript(root: &Caller<'_>, slug: &str) -> Vec<Value> {
    let mut lines: Vec<Value> = Vec::new();
    let mut before = None;
    loop {
        let path = match before {
            Some(seq) => format!("/api/admin/rooms/{slug}/messages?before={seq}"),
            None => format!("/api/admin/rooms/{slug}/messages"),
        };
        let page: Value = root.call("GET", &path, None).await.expect(200);
        let messages = page["messages"].as_array().cloned().unwrap_or_default();
        let Some(first) = messages.first() else {
            return lines;
        };
        before = first["seq"].as_i64();
        lines.splice(0..0, messages);
    }
}

/// What clients read from a server: rooms and transcripts (admin), histories (members),
/// archives and files.
#[derive(Debug, PartialEq)]
struct Seen {
    rooms: AdminRooms,
    transcripts: BTreeMap<String, Vec<Value>>,
    histories: Vec<(String, String, History)>,
    archives: Archives,
    /// (owner, url, bytes), thumbnails included.
    files: Vec<(String, String, Vec<u8>)>,
}

/// The people and places of the scenario, by name.
struct Cast {
    alice: String,
    bob: String,
    /// (reader, room) pairs read as members.
    reads: Vec<(String, String)>,
    /// (owner, url) of every file and thumbnail.
    files: Vec<(String, String)>,
    /// The room the write load goes to.
    load_room: String,
}

/// Creates what a small community holds: two accounts, a public and a private room with
/// messages and images, an accepted conversation with a file, and an ephemeral room that
/// expired into its archive.
async fn populate(app: &TestApp) -> Cast {
    let alice = app.caller(&unique_name("alice")).await;
    let bob = app.caller(&unique_name("bob")).await;
    let (alice_name, bob_name) = (alice.name().await, bob.name().await);
    let mut files = Vec::new();
    let mut keep = |owner: &str, file: &Attachment| {
        files.push((owner.to_owned(), file.url.clone()));
        if let Some(thumbnail) = &file.thumbnail_url {
            files.push((owner.to_owned(), thumbnail.clone()));
        }
    };

    let public = alice.create_room(&unique_name("plaza"), false).await.slug;
    bob.call("POST", &format!("/api/rooms/{public}/membership"), None)
        .await
        .expect_status(200);
    alice.say_in(&public, "welcome to the plaza").await;
    bob.say_in(&public, "thanks, alice").await;
    let image = send_file(&alice, &public, "view.png", png(400, 300)).await;
    assert!(image.thumbnail_url.is_some(), "{image:?}");
    keep(&alice_name, &image);

    let private = alice.create_room(&unique_name("den"), true).await.slug;
    let invite: Value = alice
        .call(
            "POST",
            &format!("/api/rooms/{private}/invites"),
            Some(json!({})),
        )
        .await
        .expect(201);
    let token = invite["token"].as_str().unwrap_or_default().to_owned();
    bob.call("POST", &format!("/api/invites/{token}"), None)
        .await
        .expect_status(200);
    alice.say_in(&private, "only the two of us here").await;
    keep(
        &bob_name,
        &send_file(&bob, &private, "plan.png", png(64, 64)).await,
    );

    let conversation: Conversation = alice
        .call(
            "POST",
            "/api/conversations",
            Some(json!({ "user": bob_name })),
        )
        .await
        .expect(200);
    let pm = conversation.room;
    bob.call("POST", &format!("/api/conversations/{pm}/accept"), None)
        .await
        .expect_status(200);
    alice.say_in(&pm, "a word in private").await;
    bob.say_in(&pm, "and one back").await;
    let note = b"notes for bob\n".to_vec();
    keep(
        &alice_name,
        &send_file(&alice, &pm, "notes.txt", note).await,
    );

    expired_ephemeral_room(app, &alice).await;

    let load_room = alice.create_room(&unique_name("busy"), false).await.slug;
    Cast {
        reads: vec![
            (bob_name.clone(), public),
            (bob_name.clone(), private),
            (alice_name.clone(), pm.clone()),
            (bob_name.clone(), pm),
        ],
        alice: alice_name,
        bob: bob_name,
        files,
        load_room,
    }
}

/// An ephemeral room where a guest writes, until it expires into an archive.
async fn expired_ephemeral_room(app: &TestApp, host: &Caller<'_>) {
    let created: Ephemeral = host.call("POST", "/api/ephemeral", None).await.expect(201);
    let _: Ephemeral = host
        .call(
            "POST",
            &format!("/api/ephemeral/{}/activate", created.code),
            None,
        )
        .await
        .expect(200);
    let mut guest = app.lobby_guest(&unique_name("eg")).await;
    guest
        .join_room(&created.room, json!({ "device": "backup-test-device" }))
        .await;
    let _: Posted = guest
        .call(
            "send",
            json!({ "room": created.room, "text": "said before it expired" }),
        )
        .await;
    app.clock
        .advance(Duration::from_secs(app.config.ephemeral_ttl_secs + 1));
    let removed: RoomRemoved = guest.event().await;
    assert_eq!(
        (removed.room.as_str(), removed.reason),
        (created.room.as_str(), RemovedReason::Expired)
    );
}

/// Logs every account of the cast in (by password: the accounts themselves must be there).
async fn sign_in<'a>(app: &'a TestApp, cast: &Cast) -> BTreeMap<String, Caller<'a>> {
    let mut callers = BTreeMap::new();
    for name in [&cast.alice, &cast.bob] {
        let session = app.session(name, PASSWORD).await;
        callers.insert(name.clone(), Caller::with_token(app, &session.token));
    }
    callers
}

/// Everything the cast and root read from `app`, leaving the load room's transcript out.
async fn read_all(app: &TestApp, cast: &Cast) -> Seen {
    let root = app.root().await;
    let people = sign_in(app, cast).await;
    let mut rooms: AdminRooms = root.call("GET", "/api/admin/rooms", None).await.expect(200);
    rooms.rooms.retain(|r| r.slug != cast.load_room);
    rooms.rooms.sort_by(|a, b| a.slug.cmp(&b.slug));
    let mut transcripts = BTreeMap::new();
    for room in &rooms.rooms {
        transcripts.insert(room.slug.clone(), transcript(&root, &room.slug).await);
    }
    let mut histories = Vec::new();
    for (reader, room) in &cast.reads {
        let history: History = people[reader]
            .call("GET", &format!("/api/rooms/{room}/messages"), None)
            .await
            .expect(200);
        histories.push((reader.clone(), room.clone(), history));
    }
    let archives: Archives = root
        .call("GET", "/api/admin/archives", None)
        .await
        .expect(200);
    let mut files = Vec::new();
    for (owner, url) in &cast.files {
        let bytes = download(app, &people[owner].token, url).await;
        files.push((owner.clone(), url.clone(), bytes));
    }
    Seen {
        rooms,
        transcripts,
        histories,
        archives,
        files,
    }
}

/// The load room's messages as (seq, text), in order.
async fn load_room_messages(app: &TestApp, slug: &str) -> Vec<(i64, String)> {
    let root = app.root().await;
    transcript(&root, slug)
        .await
        .iter()
        .map(|line| {
            let seq = line["seq"].as_i64().unwrap();
            (seq, line["text"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn a_backup_under_write_load_restores_every_room_conversation_archive_and_file() {
    let app = source_app().await;
    let cast = populate(&app).await;
    let before_backup = read_all(&app, &cast).await;
    assert_eq!(before_backup.archives.archives.len(), 1);
    assert!(
        before_backup.files.len() >= 4,
        "three files and a thumbnail at least"
    );
    // Two clients post without pause while the operator backs up: one over REST, one over
    // the gateway.
    let rest = app.session(&cast.alice, PASSWORD).await.token;
    let rest = Caller::with_token(&app, &rest);
    let bob = app.session(&cast.bob, PASSWORD).await.token;
    Caller::with_token(&app, &bob)
        .call(
            "POST",
            &format!("/api/rooms/{}/membership", cast.load_room),
            None,
        )
        .await
        .expect_status(200);
    let mut live = app.gateway_as(&bob).await;
    live.join_room(&cast.load_room, json!({})).await;
    let backups = tempfile::tempdir().unwrap();
    let dest = backups.path().join("parlor-backup");
    let dest_arg = dest.to_str().unwrap().to_owned();
    let (done, acked) = (AtomicBool::new(false), Mutex::new(Vec::new()));
    let over_rest = async {
        for n in 0.. {
            if done.load(Ordering::SeqCst) {
                break;
            }
            let text = format!("over REST {n}");
            let posted = rest.say_in(&cast.load_room, &text).await;
            acked.lock().unwrap().push((posted.seq, text));
        }
    };
    let over_gateway = async {
        for n in 0.. {
            if done.load(Ordering::SeqCst) {
                break;
            }
            let text = format!("over the gateway {n}");
            let data = json!({ "room": cast.load_room, "text": text });
            let posted: Posted = live.call("send", data).await;
            acked.lock().unwrap().push((posted.seq, text));
        }
    };
    let operator = async {
        eventually(|| async {
            let n = acked.lock().unwrap().len();
            if n >= 40 {
                Ok(())
            } else {
                Err(format!("{n} messages acknowledged"))
            }
        })
        .await;
        let acked_before = acked.lock().unwrap().clone();
        let output = parlor(
            &app.config.data_dir,
            &app.config,
            &["backup", &dest_arg],
            &[],
        )
        .await;
        let acked_during = acked.lock().unwrap().len() - acked_before.len();
        done.store(true, Ordering::SeqCst);
        (acked_before, acked_during, output)
    };
    let ((), (), (acked_before, acked_during, output)) =
        tokio::join!(over_rest, over_gateway, operator);
    let said = succeeded(&output);
    assert!(
        acked_during > 0,
        "the clients kept writing while the backup ran"
    );
    assert!(said.contains("master key: NOT in the backup"), "{said}");
    let mode = std::fs::metadata(&dest).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "only the operator reads the backup");

    // The master key is nowhere in the backup: no key file, no file holding it (as text or
    // as its 32 bytes).
    let key = std::fs::read_to_string(MasterKey::file_in(&app.config.data_dir)).unwrap();
    let key = key.trim();
    let raw = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, key).unwrap();
    let held = walk(&dest);
    assert!(
        held.iter().any(|p| p.ends_with("manifest.json")),
        "{held:?}"
    );
    for path in &held {
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(!name.starts_with("master.key"), "{}", path.display());
        let bytes = std::fs::read(path).unwrap();
        for secret in [key.as_bytes(), &raw] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret),
                "{} holds the master key",
                path.display()
            );
        }
    }
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dest.join("manifest.json")).unwrap()).unwrap();
    let key_id = MasterKey::parse(key).unwrap().id();
    assert_eq!(manifest["master_key_id"], json!(key_id), "{manifest:#}");
    let expected_backend = if on_postgres() { "postgres" } else { "sqlite" };
    assert_eq!(manifest["database"]["backend"], json!(expected_backend));
    if !common::on_s3() {
        assert_eq!(manifest["files"]["store"], json!("local"), "{manifest:#}");
        assert_eq!(manifest["files"]["missing"], json!([]), "{manifest:#}");
    }

    // Into a fresh data directory (and database), with the same master key file.
    let target = fresh_target(&app, true).await;
    let said = succeeded(&parlor(&target.data, &target.config, &["restore", &dest_arg], &[]).await);
    assert!(said.contains("every data key"), "{said}");
    let mut all_acked = acked.into_inner().unwrap();
    all_acked.sort();
    let restored_config = target.config.clone();
    let restored = spawn_app_with(move |c| *c = restored_config).await;

    assert_eq!(read_all(&restored, &cast).await, before_backup);
    // The snapshot is one moment: the first messages in order, without a gap, each one a
    // client was told was stored (or was about to be), and every one acknowledged before the
    // backup began among them.
    let loaded = load_room_messages(&restored, &cast.load_room).await;
    assert_eq!(
        loaded[..],
        all_acked[..loaded.len()],
        "{} messages restored of {} acknowledged",
        loaded.len(),
        all_acked.len()
    );
    let seqs: Vec<i64> = loaded.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (1..=loaded.len() as i64).collect::<Vec<_>>());
    for message in &acked_before {
        assert!(
            loaded.contains(message),
            "{message:?} was acknowledged before the backup"
        );
    }

    // The restored server takes new writes where the snapshot ends.
    let alice = restored.session(&cast.alice, PASSWORD).await;
    let next = Caller::with_token(&restored, &alice.token)
        .say_in(&cast.load_room, "after the restore")
        .await;
    assert_eq!(next.seq, loaded.len() as i64 + 1);
}

#[tokio::test]
async fn a_backup_refuses_a_destination_that_is_not_empty() {
    let app = source_app().await;
    let owner = app.caller(&unique_name("own")).await;
    owner.create_room(&unique_name("room"), false).await;
    let dest = tempfile::tempdir().unwrap();
    std::fs::write(dest.path().join("keep.txt"), "mine").unwrap();
    let dest_arg = dest.path().to_str().unwrap();

    let line = refused(
        &parlor(
            &app.config.data_dir,
            &app.config,
            &["backup", dest_arg],
            &[],
        )
        .await,
    );
    assert!(line.contains("is not empty"), "{line}");
    let held: Vec<_> = walk(dest.path());
    assert_eq!(
        held,
        [dest.path().join("keep.txt")],
        "nothing was written beside it"
    );
}

#[tokio::test]
async fn a_restore_refuses_storage_that_already_holds_data_or_a_directory_that_is_no_backup() {
    let app = source_app().await;
    let owner = app.caller(&unique_name("own")).await;
    let room = owner.create_room(&unique_name("room"), false).await.slug;
    owner.say_in(&room, "kept safe").await;
    send_file(&owner, &room, "kept.txt", b"kept too\n".to_vec()).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("backup");
    let dest_arg = dest.to_str().unwrap();
    succeeded(
        &parlor(
            &app.config.data_dir,
            &app.config,
            &["backup", dest_arg],
            &[],
        )
        .await,
    );

    // Over the live server's own storage.
    let line = refused(
        &parlor(
            &app.config.data_dir,
            &app.config,
            &["restore", dest_arg],
            &[],
        )
        .await,
    );
    let named = if on_postgres() {
        "already holds"
    } else {
        "a database already exists"
    };
    assert!(line.contains(named), "{line}");
    assert_eq!(
        owner.texts_in(&room).await,
        ["kept safe", "here is kept.txt"],
        "the live data is untouched"
    );

    // A fresh database, but a files directory that already holds a file.
    if !common::on_s3() {
        let target = fresh_target(&app, true).await;
        let stray = target.data.join("uploads/files/stray");
        std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
        std::fs::write(&stray, "someone else's").unwrap();
        let line =
            refused(&parlor(&target.data, &target.config, &["restore", dest_arg], &[]).await);
        assert!(line.contains("already holds files"), "{line}");
        std::fs::remove_file(&stray).unwrap();
        untouched(&target).await;
    }

    // A backup that lost one of its files.
    if !common::on_s3() {
        let target = fresh_target(&app, true).await;
        let object = walk(&dest.join("uploads"))
            .pop()
            .expect("a file in the backup");
        let kept = std::fs::read(&object).unwrap();
        std::fs::remove_file(&object).unwrap();
        let line =
            refused(&parlor(&target.data, &target.config, &["restore", dest_arg], &[]).await);
        assert!(line.contains("damaged or incomplete"), "{line}");
        std::fs::write(&object, kept).unwrap();
        untouched(&target).await;
    }

    // A directory that is not a finished backup.
    let target = fresh_target(&app, true).await;
    let empty = dir.path().join("not-a-backup");
    std::fs::create_dir(&empty).unwrap();
    let line = refused(
        &parlor(
            &target.data,
            &target.config,
            &["restore", empty.to_str().unwrap()],
            &[],
        )
        .await,
    );
    assert!(
        line.contains("not a backup made by parlor backup"),
        "{line}"
    );
    untouched(&target).await;
}

#[tokio::test]
async fn a_restore_with_another_master_key_or_none_is_refused_by_key_id_before_touching_anything() {
    let app = source_app().await;
    let owner = app.caller(&unique_name("own")).await;
    let room = owner.create_room(&unique_name("room"), true).await.slug;
    owner.say_in(&room, "sealed with the first key").await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("backup");
    let dest_arg = dest.to_str().unwrap();
    succeeded(
        &parlor(
            &app.config.data_dir,
            &app.config,
            &["backup", dest_arg],
            &[],
        )
        .await,
    );
    let right = MasterKey::read_file(&MasterKey::file_in(&app.config.data_dir))
        .unwrap()
        .unwrap()
        .id();

    let wrong = MasterKey::generate();
    let target = fresh_target(&app, false).await;
    let line = refused(
        &parlor(
            &target.data,
            &target.config,
            &["restore", dest_arg],
            &[("PARLOR_MASTER_KEY", wrong.encode())],
        )
        .await,
    );
    assert!(
        line.contains(&format!("wrapped by master key {right}")) && line.contains(&wrong.id()),
        "both keys are named: {line}"
    );
    assert!(
        !line.contains(&wrong.encode()),
        "never the key itself: {line}"
    );
    untouched(&target).await;

    let line = refused(&parlor(&target.data, &target.config, &["restore", dest_arg], &[]).await);
    assert!(
        line.contains("no master key here") && line.contains(&right),
        "{line}"
    );
    untouched(&target).await;
    assert!(
        !MasterKey::file_in(&target.data).exists(),
        "no key was generated in its place"
    );
}
