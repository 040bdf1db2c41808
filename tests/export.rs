//! Exports as their two users meet them: "download my data" (`GET /api/user/@me/export`, a zip
//! archive of the caller's account) and `parlor export` run as a separate process on the
//! server's data (a room, a conversation, an account) while the server keeps running. Each
//! export is checked for completeness — every message once, with its text, every file with
//! its bytes — and for holding nothing of anyone else's.

mod common;

use common::protocol::{Attachment, Conversation};
use common::{binary, on_s3, spawn_app, unique_name, Caller, TestApp, PASSWORD};
use serde_json::{json, Value};
use sha2::Digest as _;
use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

/// A PNG of `w`×`h` pixels.
fn png(w: u32, h: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8 * 9, y as u8 * 7, 200]));
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Uploads `bytes` for `room` as `name`.
async fn upload(caller: &Caller<'_>, room: &str, name: &str, bytes: &[u8]) -> Attachment {
    let url = reqwest::Url::parse_with_params(
        &caller.app.url("/api/files"),
        &[("room", room), ("name", name)],
    )
    .unwrap();
    let reply = reqwest::Client::new()
        .post(url)
        .bearer_auth(&caller.token)
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 201);
    reply.json().await.unwrap()
}

/// Posts a message with text and attachments.
async fn post(caller: &Caller<'_>, room: &str, text: &str, files: &[&Attachment]) {
    let ids: Vec<&str> = files.iter().map(|f| f.id.as_str()).collect();
    let mut body = json!({ "text": text });
    if !ids.is_empty() {
        body["attachments"] = json!(ids);
    }
    caller
        .call("POST", &format!("/api/rooms/{room}/messages"), Some(body))
        .await
        .expect_status(201);
}

/// Who wrote what where, and the files, in the chat every test exports from.
struct World<'a> {
    alice: Caller<'a>,
    bob: Caller<'a>,
    names: [String; 3],
    public: String,
    private: String,
    /// Alice and Bob's conversation.
    pm: String,
    /// Every message Alice sent: (room, text).
    alice_said: Vec<(String, String)>,
    /// What must never reach Alice's export.
    others_said: Vec<String>,
    image: Vec<u8>,
    text_file: Vec<u8>,
    bob_pm_file: Vec<u8>,
    bob_room_file: Vec<u8>,
}

const SCRIPT: &str = "look <script>alert('x')</script> & *stars*";

/// Alice (with an e-mail), Bob and Carol: a public room of Alice's with all three in it, a
/// private room of Alice's with Bob, Alice and Bob's conversation, Bob and Carol's
/// conversation; messages by each everywhere they are, an image and a text file of Alice's,
/// a file of Bob's in the public room and one in the conversation with Alice, and an upload of
/// Alice's she never sent.
async fn world(app: &TestApp) -> World<'_> {
    let alice_name = unique_name("alice");
    let token: Value = app
        .request("POST", "/api/register")
        .json(json!({ "username": alice_name, "password": PASSWORD, "email": format!("{alice_name}@example.org") }))
        .send()
        .await
        .expect(201);
    let alice = Caller::with_token(app, token["token"].as_str().unwrap());
    let bob = app.caller(&unique_name("bob")).await;
    let carol = app.caller(&unique_name("carol")).await;
    let (bob_name, carol_name) = (bob.name().await, carol.name().await);

    let public = alice.create_room(&unique_name("agora"), false).await.slug;
    for member in [&bob, &carol] {
        member
            .call("POST", &format!("/api/rooms/{public}/membership"), None)
            .await
            .expect_status(200);
    }
    let private = alice.create_room(&unique_name("den"), true).await.slug;
    let invite: Value = alice
        .call(
            "POST",
            &format!("/api/rooms/{private}/invites"),
            Some(json!({})),
        )
        .await
        .expect(201);
    bob.call(
        "POST",
        &format!("/api/invites/{}", invite["token"].as_str().unwrap()),
        None,
    )
    .await
    .expect_status(200);
    let pm = conversation(&alice, &bob, &bob_name).await;
    let bob_carol = conversation(&bob, &carol, &carol_name).await;

    let image = png(12, 9);
    let text_file = b"alice's notes\nline two\n".to_vec();
    let bob_pm_file = b"bob to alice, privately\n".to_vec();
    let bob_room_file = b"BOB-ROOM-FILE not alice's\n".to_vec();
    let a_image = upload(&alice, &public, "holiday photo.png", &image).await;
    let a_text = upload(&alice, &private, "notes.txt", &text_file).await;
    let b_pm = upload(&bob, &pm, "for-alice.txt", &bob_pm_file).await;
    let b_room = upload(&bob, &public, "bob-secret.txt", &bob_room_file).await;
    upload(&alice, &public, "draft.txt", b"never sent\n").await;

    let mut alice_said = Vec::new();
    for (room, text, files) in [
        (&public, format!("A1 hello {SCRIPT}"), vec![]),
        (&public, "A2 a picture".to_owned(), vec![&a_image]),
        (
            &private,
            "A3 in the den\nsecond line".to_owned(),
            vec![&a_text],
        ),
        (&pm, "A4 to bob".to_owned(), vec![]),
    ] {
        post(&alice, room, &text, &files).await;
        alice_said.push((room.clone(), text));
    }
    let mut others_said = Vec::new();
    for (who, room, text, files) in [
        (&bob, &public, "B1 bob in public", vec![&b_room]),
        (&bob, &private, "B2 bob in the den", vec![]),
        (&carol, &public, "C1 carol in public", vec![]),
        (&bob, &bob_carol, "B3 bob to carol", vec![]),
        (&carol, &bob_carol, "C2 carol to bob", vec![]),
    ] {
        post(who, room, text, &files).await;
        others_said.push(text.to_owned());
    }
    post(&bob, &pm, "B4 bob to alice", &[&b_pm]).await;
    post(&alice, &public, "A5 after everyone", &[]).await;
    alice_said.push((public.clone(), "A5 after everyone".to_owned()));
    World {
        names: [alice_name, bob_name, carol_name],
        alice,
        bob,
        public,
        private,
        pm,
        alice_said,
        others_said,
        image,
        text_file,
        bob_pm_file,
        bob_room_file,
    }
}

/// Opens a conversation from `from` to `to` (named `to_name`), accepted; its wire name.
async fn conversation(from: &Caller<'_>, to: &Caller<'_>, to_name: &str) -> String {
    let opened: Conversation = from
        .call(
            "POST",
            "/api/conversations",
            Some(json!({ "user": to_name })),
        )
        .await
        .expect(200);
    to.call(
        "POST",
        &format!("/api/conversations/{}/accept", opened.room),
        None,
    )
    .await
    .expect_status(200);
    opened.room
}

/// An export's files by path (relative to the export), from a zip or a directory.
struct Export(BTreeMap<String, Vec<u8>>);

impl Export {
    fn unzip(bytes: &[u8]) -> Self {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip archive");
        let mut entries = BTreeMap::new();
        let mut folders = std::collections::BTreeSet::new();
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).unwrap();
            let name = entry.name().expect("a UTF-8 name").into_owned();
            let (folder, path) = name.split_once('/').expect("every entry in the folder");
            folders.insert(folder.to_owned());
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            entries.insert(path.to_owned(), content);
        }
        assert_eq!(folders.len(), 1, "one folder: {folders:?}");
        Self(entries)
    }

    fn read_dir(dir: &Path) -> Self {
        let mut entries = BTreeMap::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(folder) = pending.pop() {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    let relative = path
                        .strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    entries.insert(relative, std::fs::read(&path).unwrap());
                }
            }
        }
        Self(entries)
    }

    fn text(&self, path: &str) -> String {
        let bytes = self
            .0
            .get(path)
            .unwrap_or_else(|| panic!("no {path} in {:?}", self.0.keys()));
        String::from_utf8(bytes.clone()).unwrap()
    }

    /// `messages.jsonl`, every line parsed on its own.
    fn messages(&self) -> Vec<Value> {
        self.text("messages.jsonl")
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
            .collect()
    }

    fn manifest(&self) -> Value {
        serde_json::from_str(&self.text("manifest.json")).unwrap()
    }

    /// Whether `needle` occurs in any file of the export.
    fn anywhere(&self, needle: &[u8]) -> Option<&str> {
        self.0
            .iter()
            .find(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle))
            .map(|(path, _)| path.as_str())
    }

    /// The bytes of the file an attachment or upload entry points to.
    fn file(&self, entry: &Value) -> &[u8] {
        let path = entry["path"]
            .as_str()
            .unwrap_or_else(|| panic!("no path: {entry}"));
        assert!(path.starts_with("files/"), "{path}");
        &self.0[path]
    }
}

/// `(room, text)` of every line of `messages.jsonl` by `author`.
fn said_by(lines: &[Value], author: &str) -> Vec<(String, String)> {
    let mut said: Vec<(String, String)> = lines
        .iter()
        .filter(|l| l["author"] == author)
        .map(|l| {
            (
                l["room"].as_str().unwrap().to_owned(),
                l["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    said.sort();
    said
}

/// Downloads "my data" as `caller`: the archive, after checking how it is served.
async fn download(caller: &Caller<'_>, name: &str) -> Export {
    let reply = reqwest::Client::new()
        .get(caller.app.url("/api/user/@me/export"))
        .bearer_auth(&caller.token)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    let header = |h: &str| reply.headers()[h].to_str().unwrap().to_owned();
    assert_eq!(header("content-type"), "application/zip");
    assert_eq!(header("cache-control"), "no-store");
    let disposition = header("content-disposition");
    assert!(
        disposition.starts_with(&format!("attachment; filename=\"parlor-{name}-"))
            && disposition.ends_with(".zip\""),
        "{disposition}"
    );
    Export::unzip(&reply.bytes().await.unwrap())
}

/// Checks an export of Alice's account: all of her data, nothing of anyone else's.
fn check_alice(export: &Export, world: &World<'_>) {
    let [alice, bob, carol] = &world.names;
    let lines = export.messages();
    let mut expected = world.alice_said.clone();
    expected.sort();
    assert_eq!(
        said_by(&lines, alice),
        expected,
        "each of Alice's messages once, as written"
    );
    assert_eq!(
        said_by(&lines, bob),
        [(world.pm.clone(), "B4 bob to alice".to_owned())],
        "of Bob's messages, only those in their conversation"
    );
    assert_eq!(lines.len(), expected.len() + 1);
    for said in &world.others_said {
        assert_eq!(
            export.anywhere(said.as_bytes()),
            None,
            "{said:?} is not Alice's"
        );
    }
    assert_eq!(
        export.anywhere(carol.as_bytes()),
        None,
        "nothing names Carol"
    );
    assert_eq!(
        export.anywhere(&world.bob_room_file),
        None,
        "Bob's file in the room"
    );
    assert_eq!(export.anywhere(b"bob-secret"), None, "not even its name");

    let attachment = |text: &str| {
        let line = lines.iter().find(|l| l["text"] == text).unwrap();
        line["attachments"][0].clone()
    };
    assert_eq!(
        export.file(&attachment("A2 a picture")),
        world.image.as_slice()
    );
    assert_eq!(
        export.file(&attachment("A3 in the den\nsecond line")),
        world.text_file.as_slice()
    );
    assert_eq!(
        export.file(&attachment("B4 bob to alice")),
        world.bob_pm_file.as_slice()
    );

    let manifest = export.manifest();
    let account = &manifest["subject"];
    assert_eq!(account["kind"], "account");
    assert_eq!(account["name"], alice.as_str());
    assert_eq!(account["email"], format!("{alice}@example.org"));
    assert!(
        !account["sessions"].as_array().unwrap().is_empty(),
        "{account}"
    );
    let rooms: Vec<&str> = account["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["room"]["address"].as_str().unwrap())
        .collect();
    for room in [&world.public, &world.private, &world.pm] {
        assert!(rooms.contains(&room.as_str()), "{room} in {rooms:?}");
    }
    assert_eq!(manifest["counts"]["messages"], lines.len());
    let files = manifest["files"].as_array().unwrap();
    let names: Vec<&str> = files.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(
        files.len(),
        4,
        "her image, her text file, her unsent draft, Bob's file to her: {names:?}"
    );
    assert!(names.contains(&"draft.txt"), "{names:?}");
    let audit = export.text("audit.jsonl");
    assert!(
        audit.lines().any(|l| l.contains("\"action\":\"upload\"")),
        "{audit}"
    );
    assert!(export.text("export.html").contains("A4 to bob"));
}

#[tokio::test]
async fn a_user_downloads_all_of_their_data_and_nothing_of_anyone_else() {
    let app = spawn_app().await;
    let world = world(&app).await;
    let export = download(&world.alice, &world.names[0]).await;
    check_alice(&export, &world);

    // Bob's own download has his side of everything, and again nothing of Alice's rooms.
    let bobs = download(&world.bob, &world.names[1]).await;
    let lines = bobs.messages();
    assert_eq!(said_by(&lines, &world.names[1]).len(), 4, "{lines:?}");
    assert_eq!(bobs.anywhere(b"A1 hello"), None);
    assert_eq!(bobs.anywhere(b"C1 carol in public"), None);
    assert!(
        bobs.anywhere(b"C2 carol to bob").is_some(),
        "his conversation with Carol"
    );
    assert!(
        bobs.anywhere(b"A4 to bob").is_some(),
        "his conversation with Alice"
    );
}

#[tokio::test]
async fn downloads_need_an_account_and_a_session() {
    let app = spawn_app().await;
    app.request("GET", "/api/user/@me/export")
        .send()
        .await
        .expect_error(401, "unauthenticated");
    let guest = app.guest_token(&unique_name("guest")).await;
    let refused = app
        .request("GET", "/api/user/@me/export")
        .bearer(&guest)
        .send()
        .await
        .expect_error(403, "registration_required");
    assert!(refused.message.contains("guest"), "{}", refused.message);
}

/// The variables `parlor export` needs to reach the app's data (its data directory is given
/// by `binary::run`).
fn store_env(app: &TestApp) -> Vec<(&'static str, String)> {
    let config = &app.config;
    let mut env = Vec::new();
    if let Some(url) = &config.database_url {
        env.push(("DATABASE_URL", url.expose().to_owned()));
    }
    if on_s3() {
        for (name, value) in [
            ("PARLOR_OBJECT_STORE_URL", config.object_store_url.clone()),
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
            ("PARLOR_S3_ALLOW_HTTP", Some("true".to_owned())),
        ] {
            env.extend(value.map(|v| (name, v)));
        }
    }
    env
}

/// Runs `parlor export ARGS --out DIR` on the app's data: (success, stdout, stderr).
async fn cli(app: &TestApp, args: &[&str], out: &Path) -> (bool, String, String) {
    let env = store_env(app);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = out.display().to_string();
    let mut all = vec!["export"];
    all.extend_from_slice(args);
    all.extend(["--out", &out]);
    let output = binary::run(&app.config.data_dir, &all, &env).await;
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A directory for an export that does not exist yet.
fn out_dir(scratch: &tempfile::TempDir, name: &str) -> PathBuf {
    scratch.path().join(name)
}

#[tokio::test]
async fn the_cli_exports_a_room_whole_and_decrypted_while_the_server_runs() {
    let app = spawn_app().await;
    let world = world(&app).await;
    let scratch = tempfile::tempdir().unwrap();
    let out = out_dir(&scratch, "room");
    let (ok, stdout, stderr) = cli(&app, &["room", &world.public], &out).await;
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains(&format!(
            "Wrote {}: 5 messages in 1 room, 2 files (",
            out.display()
        )),
        "{stdout}"
    );
    let export = Export::read_dir(&out);

    let lines = export.messages();
    let seqs: Vec<i64> = lines.iter().map(|l| l["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5], "every message once, in order");
    let texts: Vec<&str> = lines.iter().map(|l| l["text"].as_str().unwrap()).collect();
    let first = format!("A1 hello {SCRIPT}");
    assert_eq!(
        texts,
        [
            first.as_str(),
            "A2 a picture",
            "B1 bob in public",
            "C1 carol in public",
            "A5 after everyone"
        ]
    );
    let image = lines.iter().find(|l| l["text"] == "A2 a picture").unwrap();
    assert_eq!(
        export.file(&image["attachments"][0]),
        world.image.as_slice()
    );
    let bobs = lines
        .iter()
        .find(|l| l["text"] == "B1 bob in public")
        .unwrap();
    assert_eq!(
        export.file(&bobs["attachments"][0]),
        world.bob_room_file.as_slice()
    );
    assert_eq!(export.anywhere(b"A3 in the den"), None, "another room");
    assert_eq!(
        export.anywhere(b"never sent"),
        None,
        "an upload no message took"
    );

    let html = export.text("export.html");
    assert!(
        !html.contains("<script>alert"),
        "markup in a message is escaped"
    );
    assert!(
        html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; *stars*"),
        "{html}"
    );
    assert!(html.contains("Content-Security-Policy"));
    let markdown = export.text("export.md");
    assert!(
        markdown.contains("\\<script\\>alert('x')\\</script\\> \\& \\*stars\\*"),
        "{markdown}"
    );

    let manifest = export.manifest();
    assert_eq!(manifest["subject"]["kind"], "room");
    let members: Vec<(&str, &str)> = manifest["subject"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(members.len(), 3, "{members:?}");
    assert!(
        members.contains(&(world.names[0].as_str(), "owner")),
        "{members:?}"
    );
    assert_eq!(manifest["counts"]["files"], 2);
    assert_eq!(manifest["counts"]["messages"], 5);
    for file in manifest["files"].as_array().unwrap() {
        let bytes = export.file(file);
        let digest: String = sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(file["sha256"], digest);
    }

    // The directory is not reused: a second export there is refused, and changes nothing.
    let (ok, _, stderr) = cli(&app, &["room", &world.public], &out).await;
    assert!(!ok);
    assert!(stderr.contains("not empty"), "{stderr}");
    assert_eq!(Export::read_dir(&out).0, export.0);
}

#[tokio::test]
async fn the_cli_exports_an_account_and_a_conversation() {
    let app = spawn_app().await;
    let world = world(&app).await;
    let [alice, bob, carol] = world.names.clone();
    let scratch = tempfile::tempdir().unwrap();

    let out = out_dir(&scratch, "account");
    let (ok, stdout, stderr) = cli(&app, &["account", &alice], &out).await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains(&out.display().to_string()), "{stdout}");
    check_alice(&Export::read_dir(&out), &world);

    let out = out_dir(&scratch, "conversation");
    let (ok, _, stderr) = cli(&app, &["conversation", &bob.to_uppercase(), &alice], &out).await;
    assert!(ok, "{stderr}");
    let export = Export::read_dir(&out);
    let texts: Vec<String> = export
        .messages()
        .iter()
        .map(|l| l["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, ["A4 to bob", "B4 bob to alice"]);
    let line = &export.messages()[1];
    assert_eq!(
        export.file(&line["attachments"][0]),
        world.bob_pm_file.as_slice()
    );
    assert_eq!(export.manifest()["subject"]["kind"], "conversation");
    assert_eq!(export.anywhere(b"A1 hello"), None);

    let (ok, _, stderr) = cli(
        &app,
        &["conversation", &alice, &carol],
        &out_dir(&scratch, "none"),
    )
    .await;
    assert!(!ok && stderr.contains("have no conversation"), "{stderr}");
    let (ok, _, stderr) = cli(
        &app,
        &["account", "nobody-here"],
        &out_dir(&scratch, "nobody"),
    )
    .await;
    assert!(!ok && stderr.contains("no account named"), "{stderr}");
    assert!(
        !out_dir(&scratch, "nobody").exists(),
        "nothing written for nothing found"
    );

    // Alice learns from her own data that the operator exported it, not who did.
    let audit = download(&world.alice, &alice).await.text("audit.jsonl");
    let exported: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["action"] == "export")
        .collect();
    assert_eq!(exported.len(), 1, "{audit}");
    assert_eq!(exported[0]["by_you"], false);
    assert_eq!(exported[0]["ip"], Value::Null);
    assert!(!audit.contains("parlor export"), "{audit}");
}

#[tokio::test]
async fn rooms_and_accounts_longer_than_a_page_are_exported_whole() {
    let app = common::spawn_app_with(|c| c.rate_limit_messages = 1_000_000).await;
    let (alice, bob) = app.two_users("long", "other").await;
    let room = alice.create_room(&unique_name("long"), false).await.slug;
    bob.call("POST", &format!("/api/rooms/{room}/membership"), None)
        .await
        .expect_status(200);
    // More than two pages (of 500) of Alice's own, and of the room's, with Bob's between.
    const MESSAGES: usize = 1_150;
    for i in 0..MESSAGES {
        let who = if i % 10 == 3 { &bob } else { &alice };
        post(who, &room, &format!("line {i}"), &[]).await;
    }
    let expected = |keep: &dyn Fn(usize) -> bool| -> Vec<String> {
        (0..MESSAGES)
            .filter(|i| keep(*i))
            .map(|i| format!("line {i}"))
            .collect()
    };
    let texts = |export: &Export| -> Vec<String> {
        export
            .messages()
            .iter()
            .map(|l| l["text"].as_str().unwrap().to_owned())
            .collect()
    };

    let alices = download(&alice, &alice.name().await).await;
    assert_eq!(texts(&alices), expected(&|i| i % 10 != 3));

    let scratch = tempfile::tempdir().unwrap();
    let out = out_dir(&scratch, "long");
    let (ok, _, stderr) = cli(&app, &["room", &room], &out).await;
    assert!(ok, "{stderr}");
    let export = Export::read_dir(&out);
    assert_eq!(texts(&export), expected(&|_| true));
    assert_eq!(export.manifest()["counts"]["messages"], MESSAGES);
}
