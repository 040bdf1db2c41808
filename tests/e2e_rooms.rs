//! End-to-end rooms and conversations from the server's side (issue 18, `docs/e2ee.md`): a room
//! chooses at creation, its members store room keys sealed to each other by epoch, a member who
//! goes starts a new epoch, only envelopes of the current epoch are taken (plaintext is refused
//! on every framing), and nothing that reads content — search, admin transcripts, the companion
//! — sees any. The reference client in `tests/clients/e2e_python.py` does the real cryptography;
//! here the envelopes only have the right shape, which is all the server can check.

mod common;

use common::accounts::Caller;
use common::e2e::{bundle, envelope, sealed};
use common::protocol::{
    Conversation, History, Message, MessageEdited, Posted, Room, RoomKeys, Transcript,
};
use common::{spawn_app, spawn_app_with, unique_name, TestApp};
use serde_json::{json, Value};

async fn with_keys<'a>(app: &'a TestApp, prefix: &str) -> (Caller<'a>, String) {
    let caller = app.caller(&unique_name(prefix)).await;
    caller
        .call("PUT", "/api/user/@me/keys", Some(bundle()))
        .await
        .expect_status(200);
    let name = caller.name().await;
    (caller, name)
}

async fn e2e_room(owner: &Caller<'_>, slug: &str, private: bool) -> Room {
    let body = json!({"slug": slug, "private": private, "e2e": true});
    owner
        .call("POST", "/api/rooms", Some(body))
        .await
        .expect(201)
}

async fn keys_of(caller: &Caller<'_>, room: &str) -> Value {
    caller
        .call("GET", &format!("/api/rooms/{room}/e2e"), None)
        .await
        .expect(200)
}

async fn put_keys(caller: &Caller<'_>, room: &str, epoch: i64, to: &[&str]) -> common::http::Reply {
    let keys: Vec<Value> = to
        .iter()
        .map(|user| json!({"user": user, "sealed": sealed(1)}))
        .collect();
    caller
        .call(
            "PUT",
            &format!("/api/rooms/{room}/e2e/keys"),
            Some(json!({"epoch": epoch, "keys": keys})),
        )
        .await
}

async fn post(caller: &Caller<'_>, room: &str, body: Value) -> common::http::Reply {
    caller
        .call("POST", &format!("/api/rooms/{room}/messages"), Some(body))
        .await
}

fn members(keys: &Value) -> Vec<(String, bool)> {
    keys["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap_or_default().to_owned(),
                m["has_key"].as_bool().unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_end_to_end_room_takes_only_envelopes_of_its_current_epoch() {
    let app = spawn_app().await;
    let nokeys = app.caller(&unique_name("nokeys")).await;
    nokeys
        .call(
            "POST",
            "/api/rooms",
            Some(json!({"slug": "cannot", "e2e": true})),
        )
        .await
        .expect_error(409, "keys_required");
    let (ann, ann_name) = with_keys(&app, "ann").await;
    let (bob, bob_name) = with_keys(&app, "bob").await;
    let room = e2e_room(&ann, "sealed-room", false).await;
    assert_eq!((room.e2e, room.epoch, room.ai_mentions), (true, 1, false));
    // The choice is made once: no setting turns it off.
    ann.call(
        "PATCH",
        "/api/rooms/sealed-room",
        Some(json!({"e2e": false})),
    )
    .await
    .expect_error(422, "invalid_request");

    // Nobody holds epoch 1's key yet: its maker seals it to itself first.
    let state = keys_of(&ann, "sealed-room").await;
    assert_eq!(state["epoch"], 1);
    assert_eq!(state["keys"], json!([]));
    assert_eq!(members(&state), [(ann_name.clone(), false)]);
    assert_eq!(
        state["members"][0]["keys"]["agreement_public"],
        common::e2e::AGREEMENT
    );
    put_keys(&ann, "sealed-room", 1, &[&bob_name])
        .await
        .expect_error(400, "invalid_keys");
    put_keys(&ann, "sealed-room", 2, &[&ann_name])
        .await
        .expect_error(409, "stale_epoch");
    let stored: Value = put_keys(&ann, "sealed-room", 1, &[&ann_name])
        .await
        .expect(200);
    assert_eq!(stored, json!({"epoch": 1, "stored": 1}));
    let state = keys_of(&ann, "sealed-room").await;
    assert_eq!(state["keys"][0]["epoch"], 1);
    assert_eq!(state["keys"][0]["sealed"], sealed(1));
    assert_eq!(state["keys"][0]["sealed_by"], ann_name.as_str());

    // Plain text is refused on REST and the gateway; an envelope elsewhere too.
    post(&ann, "sealed-room", json!({"text": "in clear"}))
        .await
        .expect_error(422, "e2e_required");
    let mut ann_live = ann.gateway().await;
    ann_live.join_room("sealed-room", json!({})).await;
    ann_live
        .expect_error(
            "send",
            json!({"room": "sealed-room", "text": "in clear"}),
            "e2e_required",
        )
        .await;
    ann.create_room("plain-room", false).await;
    post(
        &ann,
        "plain-room",
        json!({"envelope": envelope(1, &[1; 32])}),
    )
    .await
    .expect_error(422, "not_e2e");
    ann_live
        .expect_error(
            "send",
            json!({"room": "lobby", "envelope": envelope(1, &[1; 32])}),
            "not_e2e",
        )
        .await;
    let mut bad = envelope(1, &[1; 32]);
    bad["signature"] = json!("c2hvcnQ=");
    post(&ann, "sealed-room", json!({"envelope": bad}))
        .await
        .expect_error(422, "invalid_payload");
    post(
        &ann,
        "sealed-room",
        json!({"envelope": envelope(2, &[1; 32])}),
    )
    .await
    .expect_error(409, "stale_epoch");

    // A member who joins (public room) holds no key: reading the keys asks the others.
    bob.call("POST", "/api/rooms/sealed-room/membership", None)
        .await
        .expect_status(200);
    post(
        &bob,
        "sealed-room",
        json!({"envelope": envelope(1, &[2; 32])}),
    )
    .await
    .expect_error(409, "epoch_key_missing");
    put_keys(&bob, "sealed-room", 1, &[&bob_name])
        .await
        .expect_error(409, "epoch_key_exists");
    let state = keys_of(&bob, "sealed-room").await;
    assert_eq!(state["keys"], json!([]), "nothing sealed to bob yet");
    let asked: RoomKeys = ann_live.event().await;
    assert_eq!((asked.room.as_str(), asked.epoch), ("sealed-room", 1));
    let stored: Value = put_keys(&ann, "sealed-room", 1, &[&ann_name, &bob_name])
        .await
        .expect(200);
    assert_eq!(stored["stored"], 1, "ann's own key was already held");
    assert_eq!(
        members(&keys_of(&bob, "sealed-room").await),
        [(ann_name.clone(), true), (bob_name.clone(), true)]
    );

    // Envelopes are stored and relayed as sent, with no text and no mentions.
    let sent = envelope(1, format!("@{bob_name} opaque").as_bytes());
    let posted: Posted = post(
        &bob,
        "sealed-room",
        json!({"envelope": sent, "client_msg_id": "m1"}),
    )
    .await
    .expect(201);
    let live: Message = ann_live.event().await;
    assert_eq!(
        (live.text.as_str(), live.envelope.as_ref()),
        ("", Some(&sent))
    );
    assert!(live.mentions.is_empty());
    let reply = envelope(1, &[3; 20]);
    let replied: Value = ann_live
        .call(
            "send",
            json!({"room": "sealed-room", "envelope": reply, "reply_to": posted.seq}),
        )
        .await;
    let page: History = bob
        .call("GET", "/api/rooms/sealed-room/messages", None)
        .await
        .expect(200);
    assert_eq!(page.texts(), ["", ""]);
    assert_eq!(page.messages[0].envelope.as_ref(), Some(&sent));
    assert_eq!(page.messages[1].envelope.as_ref(), Some(&reply));
    let quote = page.messages[1].reply_to.as_ref().expect("a quote");
    assert_eq!((quote.seq, quote.text.as_str()), (posted.seq, ""));
    assert_eq!(page.messages[1].seq, replied["seq"].as_i64());

    // An edit is an envelope too.
    let edited = envelope(1, &[4; 24]);
    let path = format!("/api/rooms/sealed-room/messages/{}", posted.seq);
    ann.call("PATCH", &path, Some(json!({"text": "mine now?"})))
        .await
        .expect_error(403, "forbidden");
    bob.call("PATCH", &path, Some(json!({"text": "in clear"})))
        .await
        .expect_error(422, "e2e_required");
    bob.call("PATCH", &path, Some(json!({"envelope": edited})))
        .await
        .expect_status(200);
    let change: MessageEdited = ann_live.event().await;
    assert_eq!(
        (change.text.as_str(), change.envelope.as_ref()),
        ("", Some(&edited))
    );
}

#[tokio::test]
async fn a_member_who_goes_starts_a_new_epoch() {
    let app = spawn_app().await;
    let (ann, ann_name) = with_keys(&app, "ann").await;
    let (bob, bob_name) = with_keys(&app, "bob").await;
    let (cid, cid_name) = with_keys(&app, "cid").await;
    let slug = e2e_room(&ann, "epochs", false).await.slug;
    for member in [&bob, &cid] {
        member
            .call("POST", &format!("/api/rooms/{slug}/membership"), None)
            .await
            .expect_status(200);
    }
    put_keys(&ann, &slug, 1, &[&ann_name, &bob_name, &cid_name])
        .await
        .expect_status(200);
    let mut bob_live = bob.gateway().await;

    // Ann removes cid: epoch 2, in the same step; bob hears it.
    ann.call(
        "DELETE",
        &format!("/api/rooms/{slug}/members/{cid_name}"),
        None,
    )
    .await
    .expect_status(204);
    let heard: RoomKeys = bob_live.event().await;
    assert_eq!(heard.epoch, 2);
    post(&bob, &slug, json!({"envelope": envelope(1, &[1; 32])}))
        .await
        .expect_error(409, "stale_epoch");
    // Nobody holds epoch 2's key; cid cannot be given it.
    put_keys(&bob, &slug, 2, &[&bob_name, &cid_name])
        .await
        .expect_error(400, "invalid_keys");
    put_keys(&bob, &slug, 2, &[&bob_name, &ann_name])
        .await
        .expect_status(200);
    post(&bob, &slug, json!({"envelope": envelope(2, &[1; 32])}))
        .await
        .expect_status(201);
    // The removed member reads nothing any more.
    cid.call("GET", &format!("/api/rooms/{slug}/e2e"), None)
        .await
        .expect_error(404, "not_found");

    // Leaving and a room ban start epochs too; the keys of old epochs stay with who had them.
    bob.call("DELETE", &format!("/api/rooms/{slug}/membership"), None)
        .await
        .expect_status(204);
    let state = keys_of(&ann, &slug).await;
    assert_eq!(state["epoch"], 3);
    let epochs: Vec<i64> = state["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["epoch"].as_i64())
        .collect();
    assert_eq!(epochs, [2, 1]);
    cid.call("POST", &format!("/api/rooms/{slug}/membership"), None)
        .await
        .expect_status(200);
    ann.call("PUT", &format!("/api/rooms/{slug}/bans/{cid_name}"), None)
        .await
        .expect_status(204);
    assert_eq!(keys_of(&ann, &slug).await["epoch"], 4);
    let room: Room = ann
        .call("GET", &format!("/api/rooms/{slug}"), None)
        .await
        .expect(200);
    assert_eq!(room.epoch, 4);
    // A server-side room has no keys to read.
    ann.create_room("server-side", false).await;
    ann.call("GET", "/api/rooms/server-side/e2e", None)
        .await
        .expect_error(422, "not_e2e");
}

#[tokio::test]
async fn conversations_are_end_to_end_when_both_have_keys_unless_the_server_says_not() {
    let app = spawn_app().await;
    let (ann, ann_name) = with_keys(&app, "ann").await;
    let (_bob, bob_name) = with_keys(&app, "bob").await;
    let plain = app.caller(&unique_name("plain")).await;
    let plain_name = plain.name().await;
    let open = |peer: String| json!({ "user": peer });
    let sealed_pm: Conversation = ann
        .call("POST", "/api/conversations", Some(open(bob_name.clone())))
        .await
        .expect(200);
    assert_eq!((sealed_pm.e2e, sealed_pm.epoch), (true, 1));
    let state = keys_of(&ann, &sealed_pm.room).await;
    assert_eq!(members(&state).len(), 2);
    put_keys(&ann, &sealed_pm.room, 1, &[&ann_name, &bob_name])
        .await
        .expect_status(200);
    post(&ann, &sealed_pm.room, json!({"text": "in clear"}))
        .await
        .expect_error(422, "e2e_required");
    post(
        &ann,
        &sealed_pm.room,
        json!({"envelope": envelope(1, &[5; 40])}),
    )
    .await
    .expect_status(201);
    // One side without keys: server-side, and stays so.
    let server_side: Conversation = ann
        .call("POST", "/api/conversations", Some(open(plain_name)))
        .await
        .expect(200);
    assert!(!server_side.e2e);

    let app = spawn_app_with(|config| config.e2e_conversations = false).await;
    let (ann, _) = with_keys(&app, "ann").await;
    let (_bob, bob_name) = with_keys(&app, "bob").await;
    let off: Conversation = ann
        .call("POST", "/api/conversations", Some(open(bob_name)))
        .await
        .expect(200);
    assert!(!off.e2e, "the server's default is off");
}

#[tokio::test]
async fn search_and_admin_transcripts_show_nothing_of_an_end_to_end_room() {
    let app = spawn_app_with(common::accounts::with_root).await;
    let (ann, ann_name) = with_keys(&app, "ann").await;
    let slug = e2e_room(&ann, "quiet", true).await.slug;
    put_keys(&ann, &slug, 1, &[&ann_name])
        .await
        .expect_status(200);
    let words = b"zebracanary in an envelope";
    post(&ann, &slug, json!({"envelope": envelope(1, words)}))
        .await
        .expect_status(201);
    ann.create_room("loud", false).await;
    ann.say_in("loud", "zebracanary said aloud").await;
    let found: Value = ann
        .call("GET", "/api/search?q=zebracanary", None)
        .await
        .expect(200);
    let rooms: Vec<&str> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|hit| hit["room"].as_str())
        .collect();
    assert_eq!(rooms, ["loud"], "{found}");
    let root = app.root().await;
    let transcript: Transcript = root
        .call("GET", &format!("/api/admin/rooms/{slug}/messages"), None)
        .await
        .expect(200);
    assert!(transcript.e2e);
    let line = &transcript.messages[0];
    assert_eq!((line.text.as_str(), line.e2e), ("", true));
    assert_eq!(line.bytes, Some(words.len() as i64));
    let loud: Transcript = root
        .call("GET", "/api/admin/rooms/loud/messages", None)
        .await
        .expect(200);
    assert!(!loud.e2e && loud.messages[0].text == "zebracanary said aloud");
}

/// What a client sends, for real: the canary sealed with AES-256-GCM under a room key the
/// server never sees (`docs/e2ee.md`'s message format; the signature's bytes are not checked
/// by the server, so they are arbitrary here).
fn seal_canary(room_key: &[u8; 32], room: &str, text: &str) -> Value {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let cipher = aes_gcm::Aes256Gcm::new(room_key.into());
    let nonce = [5u8; 12];
    let plaintext = json!({ "text": text }).to_string();
    let aad = format!("parlor msg v1|{room}|1");
    let ciphertext = cipher
        .encrypt(
            (&nonce).into(),
            Payload {
                msg: plaintext.as_bytes(),
                aad: aad.as_bytes(),
            },
        )
        .expect("sealed");
    let mut sealed = envelope(1, &ciphertext);
    sealed["nonce"] = common::e2e::b64(&nonce).into();
    sealed
}

/// Every file under `dir`, as raw bytes, with its path.
fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a directory").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            found.push((path, bytes));
        }
    }
    found
}

#[tokio::test]
async fn a_canary_sent_end_to_end_is_nowhere_on_the_server_and_nor_is_its_room_key() {
    const CANARY: &str = "E2E-CANARY-51c0-only-members-read-this";
    let room_key = [0x5au8; 32];
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let log = home.path().join("parlor.log");
    // Debug logs: the most the server would ever say about a request.
    let server = common::binary::serve_logging_to(&data, &[("PARLOR_LOG", "debug")], &log);
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.url);
    let register = |name: String| {
        let http = http.clone();
        let url = url("/api/register");
        async move {
            let reply: Value = http
                .post(url)
                .json(&json!({"username": name, "password": "correct horse battery"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            reply["token"].as_str().expect("a token").to_owned()
        }
    };
    let call = |token: String, method: reqwest::Method, path: &str, body: Value| {
        let request = http
            .request(method, url(path))
            .bearer_auth(token)
            .json(&body);
        async move {
            let reply = request.send().await.unwrap();
            let status = reply.status().as_u16();
            (status, reply.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let name = unique_name("ann");
    let token = register(name.clone()).await;
    use reqwest::Method;
    assert_eq!(
        call(token.clone(), Method::PUT, "/api/user/@me/keys", bundle())
            .await
            .0,
        200
    );
    let (status, room) = call(
        token.clone(),
        Method::POST,
        "/api/rooms",
        json!({"slug": "canary-room", "e2e": true}),
    )
    .await;
    assert_eq!(status, 201, "{room}");
    let keys = json!({"epoch": 1, "keys": [{"user": name, "sealed": sealed(3)}]});
    assert_eq!(
        call(
            token.clone(),
            Method::PUT,
            "/api/rooms/canary-room/e2e/keys",
            keys
        )
        .await
        .0,
        200
    );
    let message = json!({"envelope": seal_canary(&room_key, "canary-room", CANARY)});
    let (status, posted) = call(
        token.clone(),
        Method::POST,
        "/api/rooms/canary-room/messages",
        message,
    )
    .await;
    assert_eq!(status, 201, "{posted}");
    // An attachment is sealed in the client too: the object store holds ciphertext, taken
    // as it is (no type to detect in random-looking bytes, no preview).
    let sealed_file = {
        use aes_gcm::aead::{Aead, KeyInit};
        let file_key = aes_gcm::Aes256Gcm::new(&[0x33u8; 32].into());
        file_key
            .encrypt(&[1u8; 12].into(), format!("{CANARY} in a file").as_bytes())
            .expect("sealed")
    };
    let upload = http
        .post(url("/api/files?room=canary-room&name=encrypted.bin"))
        .bearer_auth(&token)
        .header("content-type", "application/octet-stream")
        .body(sealed_file)
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status().as_u16(), 201);
    let file: Value = upload.json().await.unwrap();
    assert_eq!(file["mime"], "application/octet-stream", "{file}");
    assert!(file["thumbnail_url"].is_null(), "{file}");
    // The member reads its envelope back.
    let (_, page) = call(
        token.clone(),
        Method::GET,
        "/api/rooms/canary-room/messages",
        Value::Null,
    )
    .await;
    assert_eq!(page["messages"][0]["envelope"]["epoch"], 1);
    server.stop();

    let key_b64 = common::e2e::b64(&room_key);
    let mut searched = 0;
    for (path, bytes) in files_under(home.path()) {
        searched += 1;
        let hay = String::from_utf8_lossy(&bytes);
        assert!(!hay.contains(CANARY), "{} holds the canary", path.display());
        assert!(
            !hay.contains(&key_b64) && !bytes.windows(32).any(|w| w == room_key),
            "{} holds the room key",
            path.display()
        );
    }
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("INSERT INTO room_epoch_keys"),
        "the debug log saw the keys being stored"
    );
    assert!(
        searched > 3,
        "the database, its WAL, the files and the log were read"
    );
}

#[tokio::test]
async fn an_operators_password_reset_warns_that_encrypted_history_needs_the_recovery_key() {
    use std::io::Write;
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let server = common::binary::serve_logging_to(&data, &[], &home.path().join("log"));
    let http = reqwest::Client::new();
    let mut names = Vec::new();
    for (prefix, with_keys) in [("keyed", true), ("plain", false)] {
        let name = unique_name(prefix);
        let reply: Value = http
            .post(format!("{}/api/register", server.url))
            .json(&json!({"username": name, "password": "correct horse battery"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if with_keys {
            let status = http
                .put(format!("{}/api/user/@me/keys", server.url))
                .bearer_auth(reply["token"].as_str().unwrap())
                .json(&bundle())
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status.as_u16(), 200);
        }
        names.push(name);
    }
    server.stop();
    let mut said = Vec::new();
    for name in &names {
        let mut reset = common::binary::command(&data, &[])
            .args(["user", "add", name])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        reset
            .stdin
            .take()
            .unwrap()
            .write_all(b"a brand new password\n")
            .unwrap();
        let output = reset.wait_with_output().unwrap();
        assert!(output.status.success());
        said.push(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    assert!(
        said[0].contains("password reset") && said[0].contains("recovery key"),
        "{}",
        said[0]
    );
    assert!(!said[1].contains("recovery key"), "{}", said[1]);
}

#[tokio::test]
async fn an_epochs_first_key_is_one_members_and_late_keys_are_sealed_to() {
    let app = spawn_app().await;
    let (ann, ann_name) = with_keys(&app, "ann").await;
    let (bob, bob_name) = with_keys(&app, "bob").await;
    let slug = e2e_room(&ann, "race", false).await.slug;
    bob.call("POST", &format!("/api/rooms/{slug}/membership"), None)
        .await
        .expect_status(200);
    // Both make epoch 1's key at once, each sealing its own to itself only: were both taken,
    // the epoch would have two keys. One wins; the other is told to read it.
    let (only_ann, only_bob) = ([ann_name.as_str()], [bob_name.as_str()]);
    let (first, second) = tokio::join!(
        put_keys(&ann, &slug, 1, &only_ann),
        put_keys(&bob, &slug, 1, &only_bob),
    );
    // The loser finds the key made (409 epoch_key_exists): one key for the epoch.
    let outcome = |reply: &common::http::Reply| match reply.status {
        200 => format!("stored {}", reply.value()["stored"]),
        _ => reply.error().code.clone(),
    };
    let mut outcomes = [outcome(&first), outcome(&second)];
    outcomes.sort();
    assert_eq!(outcomes, ["epoch_key_exists", "stored 1"]);
    let winner = if first.status == 200 { &ann } else { &bob };
    let other = if first.status == 200 {
        &bob_name
    } else {
        &ann_name
    };
    put_keys(winner, &slug, 1, &[other.as_str()])
        .await
        .expect_status(200);
    let a = keys_of(&ann, &slug).await;
    let b = keys_of(&bob, &slug).await;
    assert_eq!(
        a["keys"][0]["sealed_by"], b["keys"][0]["sealed_by"],
        "both hold the key one member made"
    );

    // A member who joins before having keys hears nothing to do until it has some; its first
    // keys make the room's members seal the current key to it.
    let late = app.caller(&unique_name("late")).await;
    late.call("POST", &format!("/api/rooms/{slug}/membership"), None)
        .await
        .expect_status(200);
    let mut ann_live = ann.gateway().await;
    late.call("PUT", "/api/user/@me/keys", Some(bundle()))
        .await
        .expect_status(200);
    let heard: RoomKeys = ann_live.event().await;
    assert_eq!((heard.room.as_str(), heard.epoch), (slug.as_str(), 1));
}
