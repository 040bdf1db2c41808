//! Files in chat, driven over HTTP and the gateway as clients do: uploads checked by their
//! bytes, sealed at rest (on disk, or on the S3-compatible server `scripts/test` starts when
//! `PARLOR_TEST_S3_ENDPOINT` is set), sent as attachments, read back whole, by range and as
//! thumbnails by exactly those who can read their message, and deleted with whatever held
//! them.

mod common;

use common::protocol::{Attachment, Conversation, Ephemeral, History, Message, Posted, Room};
use common::{
    count_rows, database, eventually, spawn_app, spawn_app_with, unique_name, Caller, TestApp,
};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use std::io::Cursor;
use std::time::Duration;

const CANARY: &[u8] = b"CANARY-5be1-FILE-do-not-store-in-clear";

/// A PNG of `w`×`h` pixels of noise (it hardly compresses: a large one spans many chunks).
fn png(w: u32, h: u32) -> Vec<u8> {
    let noise = |x: u32, y: u32, salt: u32| {
        let mut v = x.wrapping_mul(0x9E37_79B9) ^ y.wrapping_mul(0x85EB_CA6B) ^ salt;
        v ^= v >> 15;
        v = v.wrapping_mul(0x2C1B_3C6D);
        (v >> 24) as u8
    };
    let image = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([noise(x, y, 1), noise(x, y, 2), 90])
    });
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A JPEG carrying an Exif segment with a GPS marker.
fn jpeg_with_gps() -> Vec<u8> {
    let image = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 30]));
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    let jpeg = out.into_inner();
    let payload = [&b"Exif\0\0"[..], b"GPSLatitude=48.8584;GPSCANARY"].concat();
    let len = u16::try_from(payload.len() + 2).unwrap().to_be_bytes();
    [
        &jpeg[..2],
        &[0xFF, 0xE1],
        &len[..],
        &payload[..],
        &jpeg[2..],
    ]
    .concat()
}

/// An upload's URL.
fn upload_url(app: &TestApp, room: &str, name: &str) -> String {
    reqwest::Url::parse_with_params(&app.url("/api/files"), &[("room", room), ("name", name)])
        .unwrap()
        .to_string()
}

/// A raw-body upload: its status and JSON answer.
async fn upload(
    app: &TestApp,
    token: &str,
    room: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let reply = reqwest::Client::new()
        .post(upload_url(app, room, name))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or(Value::Null))
}

/// An upload that must succeed.
async fn uploaded(
    app: &TestApp,
    token: &str,
    room: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Attachment {
    let (status, body) = upload(app, token, room, name, bytes).await;
    assert_eq!(status, 201, "{body}");
    serde_json::from_value(body).unwrap()
}

/// A download: status, headers, bytes.
async fn get(
    app: &TestApp,
    token: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, HeaderMap, Vec<u8>) {
    let mut request = reqwest::Client::new().get(app.url(path)).bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let reply = request.send().await.unwrap();
    let status = reply.status().as_u16();
    let headers = reply.headers().clone();
    (status, headers, reply.bytes().await.unwrap().to_vec())
}

/// The error code of a JSON error answer.
fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

async fn post_with(caller: &Caller<'_>, room: &str, body: Value) -> common::Reply {
    caller
        .call("POST", &format!("/api/rooms/{room}/messages"), Some(body))
        .await
}

/// Every object in the app's file store, with its sealed bytes (one the sweep deletes while
/// this reads is left out).
async fn stored_objects(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    let store = app.config.file_store().unwrap();
    let mut objects = Vec::new();
    for id in store.list().await.unwrap() {
        if let Ok(bytes) = store.sealed(&id).await {
            objects.push((id, bytes.to_vec()));
        }
    }
    objects
}

/// Uploads a small image to `room` and sends it there.
async fn send_file(caller: &Caller<'_>, room: &str, name: &str) -> Attachment {
    let file = uploaded(caller.app, &caller.token, room, name, png(5, 5)).await;
    post_with(caller, room, json!({ "attachments": [file.id] }))
        .await
        .expect_status(201);
    file
}

async fn private_room_with(owner: &Caller<'_>, member: &Caller<'_>) -> Room {
    let room = owner.create_room(&unique_name("den"), true).await;
    let name = member.name().await;
    let invite: Value = owner
        .call(
            "POST",
            &format!("/api/rooms/{}/invites", room.slug),
            Some(json!({})),
        )
        .await
        .expect(201);
    let token = invite["token"].as_str().unwrap_or_default().to_owned();
    member
        .call("POST", &format!("/api/invites/{token}"), None)
        .await
        .expect_status(200);
    let members: Value = owner
        .call("GET", &format!("/api/rooms/{}/members", room.slug), None)
        .await
        .expect(200);
    assert!(members.to_string().contains(&name), "{members}");
    room
}

#[tokio::test]
async fn an_image_is_sent_in_a_room_and_read_whole_by_range_and_as_a_thumbnail() {
    let app = spawn_app().await;
    let (alice, bob) = app.two_users("alice", "bob").await;
    let room = alice.create_room(&unique_name("gallery"), false).await;
    bob.call(
        "POST",
        &format!("/api/rooms/{}/membership", room.slug),
        None,
    )
    .await
    .expect_status(200);
    let mut watcher = bob.gateway().await;
    watcher.join_room(&room.slug, json!({})).await;

    let picture = png(1000, 500);
    let file = uploaded(
        &app,
        &alice.token,
        &room.slug,
        "holiday.png",
        picture.clone(),
    )
    .await;
    assert_eq!(
        (file.kind.as_str(), file.mime.as_str()),
        ("image", "image/png")
    );
    assert_eq!((file.width, file.height), (Some(1000), Some(500)));
    assert_eq!(file.size, picture.len() as i64);
    assert!(file.thumbnail && file.thumbnail_url.is_some(), "{file:?}");
    assert_eq!(file.id.len(), 26);

    // Pending: only its uploader reads it.
    assert_eq!(get(&app, &bob.token, &file.url, &[]).await.0, 404);
    assert_eq!(get(&app, &alice.token, &file.url, &[]).await.0, 200);

    let posted: Posted = post_with(
        &alice,
        &room.slug,
        json!({ "text": "look", "attachments": [file.id] }),
    )
    .await
    .expect(201);
    let seen: Message = watcher
        .event_where(|m: &Message| m.seq == Some(posted.seq))
        .await;
    assert_eq!(seen.attachments, vec![file.clone()]);
    let page: History = bob
        .call("GET", &format!("/api/rooms/{}/messages", room.slug), None)
        .await
        .expect(200);
    assert_eq!(
        page.messages.last().map(|m| m.attachments.clone()),
        Some(vec![file.clone()])
    );

    let (status, headers, bytes) = get(&app, &bob.token, &file.url, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, picture);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert!(headers["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("private"));
    assert_eq!(
        headers["content-disposition"],
        "inline; filename=\"holiday.png\"; filename*=UTF-8''holiday.png"
    );

    let (status, headers, part) =
        get(&app, &bob.token, &file.url, &[("range", "bytes=100-70099")]).await;
    assert_eq!(status, 206);
    assert_eq!(part, &picture[100..70100]);
    assert_eq!(
        headers["content-range"],
        format!("bytes 100-70099/{}", picture.len()).as_str()
    );
    let (status, _, tail) = get(&app, &bob.token, &file.url, &[("range", "bytes=-10")]).await;
    assert_eq!(
        (status, tail.as_slice()),
        (206, &picture[picture.len() - 10..])
    );
    let beyond = format!("bytes={}-", picture.len());
    let (status, headers, _) =
        get(&app, &bob.token, &file.url, &[("range", beyond.as_str())]).await;
    assert_eq!(status, 416);
    assert_eq!(
        headers["content-range"],
        format!("bytes */{}", picture.len()).as_str()
    );
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(
        get(
            &app,
            &bob.token,
            &file.url,
            &[("if-none-match", etag.as_str())]
        )
        .await
        .0,
        304
    );

    let (status, headers, thumb) = get(
        &app,
        &bob.token,
        file.thumbnail_url.as_deref().unwrap(),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let thumb = image::load_from_memory(&thumb).expect("the thumbnail decodes");
    assert_eq!((thumb.width(), thumb.height()), (320, 160));
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("image/"));
    let (status, _, saved) = get(&app, &bob.token, &format!("{}?download=1", file.url), &[]).await;
    assert_eq!((status, saved.len()), (200, picture.len()));
}

#[tokio::test]
async fn exif_and_gps_never_reach_whoever_downloads_an_image() {
    let app = spawn_app().await;
    let token = app.guest_token(&unique_name("snapper")).await;
    let photo = jpeg_with_gps();
    assert!(photo.windows(9).any(|w| w == b"GPSCANARY"));
    let file = uploaded(&app, &token, "lobby", "photo.jpg", photo).await;
    let (status, _, served) = get(&app, &token, &file.url, &[]).await;
    assert_eq!(status, 200);
    assert!(
        !served.windows(9).any(|w| w == b"GPSCANARY"),
        "GPS metadata served"
    );
    assert!(
        !served.windows(4).any(|w| w == b"Exif"),
        "Exif segment served"
    );
    let decoded = image::load_from_memory(&served).expect("still a JPEG");
    assert_eq!((decoded.width(), decoded.height()), (64, 48));
    assert_eq!(file.size, served.len() as i64, "the size is what is served");
}

#[tokio::test]
async fn types_are_detected_from_the_bytes_and_refused_when_not_allowed() {
    let app = spawn_app_with(|c| c.max_file_bytes = 200_000).await;
    let token = app.guest_token(&unique_name("sender")).await;
    let refusals: [(&str, Vec<u8>, u16, &str); 6] = [
        (
            "page.png",
            b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "logo.png",
            br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "setup.txt",
            [&b"MZ\x90\0\x03\0\0\0"[..], &[0u8; 64]].concat(),
            415,
            "unsupported_media_type",
        ),
        (
            "blank.bin",
            vec![0, 1, 2, 3, 255, 254],
            415,
            "unsupported_media_type",
        ),
        ("huge.txt", vec![b'a'; 300_000], 413, "payload_too_large"),
        // A PNG header, then garbage: it claims to be an image and does not decode.
        (
            "broken.png",
            [&png(4, 4)[..40], &[7u8; 500][..]].concat(),
            422,
            "unreadable_file",
        ),
    ];
    for (name, bytes, status, expected) in refusals {
        let (got, body) = upload(&app, &token, "lobby", name, bytes).await;
        assert_eq!((got, code(&body)), (status, expected), "{name}: {body}");
    }
    // A body declared larger than any file is refused before it is read.
    let declared = reqwest::Client::new()
        .post(upload_url(&app, "lobby", "big.txt"))
        .bearer_auth(&token)
        .header("content-length", "900000")
        .body(vec![b'a'; 900_000])
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status().as_u16(), 413);
    // Named like an image, it is what its bytes say.
    let text = uploaded(
        &app,
        &token,
        "lobby",
        "notes.png",
        b"just some text\n".to_vec(),
    )
    .await;
    assert_eq!(
        (text.mime.as_str(), text.kind.as_str(), text.thumbnail),
        ("text/plain", "file", false)
    );
    let (_, headers, _) = get(&app, &token, &text.url, &[]).await;
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(
        count_rows(&database(&app).await, "files").await,
        1,
        "refusals leave no row"
    );
    assert_eq!(
        stored_objects(&app).await.len(),
        1,
        "refusals leave no object"
    );
}

#[tokio::test]
async fn a_decompression_bomb_fails_its_upload_and_the_server_carries_on() {
    let app = spawn_app().await;
    let token = app.guest_token(&unique_name("bomber")).await;
    // A valid PNG header claiming 100000×100000 pixels, with a little data.
    let mut bomb = png(8, 8);
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let (status, body) = upload(&app, &token, "lobby", "bomb.png", bomb).await;
    assert_eq!((status, code(&body)), (422, "unreadable_file"), "{body}");
    assert_eq!(app.request("GET", "/health").send().await.status, 200);
    let fine = uploaded(&app, &token, "lobby", "fine.png", png(10, 10)).await;
    assert_eq!(fine.width, Some(10));
    assert_eq!(
        stored_objects(&app).await.len(),
        2,
        "the file and its thumbnail, nothing of the bomb"
    );
}

#[tokio::test]
async fn names_are_display_only_and_travel_safely_in_headers() {
    let app = spawn_app().await;
    let token = app.guest_token(&unique_name("namer")).await;
    let cases = [
        (
            "../../etc/passwd",
            "passwd",
            "attachment; filename=\"passwd\"; filename*=UTF-8''passwd",
        ),
        (
            "..\\x",
            "x",
            "attachment; filename=\"x\"; filename*=UTF-8''x",
        ),
        (
            "%2e%2e%2f",
            "%2e%2e%2f",
            "attachment; filename=\"_2e_2e_2f\"; filename*=UTF-8''%252e%252e%252f",
        ),
        (
            "a\u{0}b\u{1}c",
            "abc",
            "attachment; filename=\"abc\"; filename*=UTF-8''abc",
        ),
        (
            "evil\u{202E}txt.exe",
            "eviltxt.exe",
            "attachment; filename=\"eviltxt.exe\"; filename*=UTF-8''eviltxt.exe",
        ),
        (
            "say \"hi\".txt",
            "say \"hi\".txt",
            "attachment; filename=\"say _hi_.txt\"; filename*=UTF-8''say%20%22hi%22.txt",
        ),
        (
            "café.txt",
            "café.txt",
            "attachment; filename=\"caf_.txt\"; filename*=UTF-8''caf%C3%A9.txt",
        ),
    ];
    for (raw, shown, disposition) in cases {
        let file = uploaded(&app, &token, "lobby", raw, b"hello\n".to_vec()).await;
        assert_eq!(file.name, shown, "{raw:?}");
        let (status, headers, _) =
            get(&app, &token, &format!("{}?download=true", file.url), &[]).await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-disposition"], disposition, "{raw:?}");
    }
}

#[tokio::test]
async fn a_file_is_readable_exactly_by_those_who_can_read_its_message() {
    let app = spawn_app().await;
    let (owner, member) = app.two_users("owner", "member").await;
    let outsider = app.caller(&unique_name("outsider")).await;
    let room = private_room_with(&owner, &member).await;
    let other_room = outsider.create_room(&unique_name("elsewhere"), false).await;

    let secret = uploaded(
        &app,
        &owner.token,
        &room.slug,
        "plan.txt",
        b"the plan\n".to_vec(),
    )
    .await;
    post_with(&owner, &room.slug, json!({ "attachments": [secret.id] }))
        .await
        .expect_status(201);
    assert_eq!(get(&app, &member.token, &secret.url, &[]).await.0, 200);

    let missing = "a".repeat(26);
    let unknown = get(&app, &outsider.token, &format!("/api/files/{missing}"), &[]).await;
    let refused = get(&app, &outsider.token, &secret.url, &[]).await;
    assert_eq!((refused.0, unknown.0), (404, 404));
    assert_eq!(
        refused.2, unknown.2,
        "an outsider learns nothing the unknown id does not say"
    );
    assert_eq!(
        get(
            &app,
            &outsider.token,
            &format!("{}/thumbnail", secret.url),
            &[]
        )
        .await
        .0,
        404
    );
    for malformed in [
        "%2e%2e%2fetc%2fpasswd",
        "A%2F..",
        "x",
        "AAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        assert_eq!(
            get(
                &app,
                &outsider.token,
                &format!("/api/files/{malformed}"),
                &[]
            )
            .await
            .0,
            404
        );
    }

    // Attaching someone else's upload, or one made for another room, is refused.
    let theirs = uploaded(
        &app,
        &outsider.token,
        &other_room.slug,
        "x.txt",
        b"x\n".to_vec(),
    )
    .await;
    let reply = post_with(&owner, &room.slug, json!({ "attachments": [theirs.id] })).await;
    reply.expect_error(409, "attachment_unavailable");
    let mine_elsewhere = uploaded(
        &app,
        &outsider.token,
        &other_room.slug,
        "y.txt",
        b"y\n".to_vec(),
    )
    .await;
    outsider
        .call(
            "POST",
            &format!("/api/rooms/{}/membership", room.slug),
            None,
        )
        .await
        .expect_error(404, "not_found");
    let reply = post_with(
        &outsider,
        &other_room.slug,
        json!({ "attachments": [mine_elsewhere.id, secret.id] }),
    )
    .await;
    reply.expect_error(409, "attachment_unavailable");
    // Nothing was stored by the refused post: the upload is still pending and usable.
    post_with(
        &outsider,
        &other_room.slug,
        json!({ "attachments": [mine_elsewhere.id] }),
    )
    .await
    .expect_status(201);
    // Uploading to a room one is not in.
    let (status, body) = upload(&app, &outsider.token, &room.slug, "z.txt", b"z\n".to_vec()).await;
    assert_eq!((status, code(&body)), (404, "not_found"), "{body}");

    // A member who leaves loses access, like anyone else.
    member
        .call(
            "DELETE",
            &format!("/api/rooms/{}/membership", room.slug),
            None,
        )
        .await
        .expect_status(204);
    let gone = get(&app, &member.token, &secret.url, &[]).await;
    assert_eq!((gone.0, gone.2), (404, unknown.2));
}

#[tokio::test]
async fn room_owners_choose_which_kinds_a_room_takes() {
    let app = spawn_app().await;
    let (owner, member) = app.two_users("curator", "poster").await;
    let room = owner.create_room(&unique_name("pictures"), false).await;
    assert_eq!(room.accepts, ["image", "video", "audio", "file"]);
    member
        .call(
            "POST",
            &format!("/api/rooms/{}/membership", room.slug),
            None,
        )
        .await
        .expect_status(200);
    let updated: Room = owner
        .call(
            "PATCH",
            &format!("/api/rooms/{}", room.slug),
            Some(json!({ "allow_files": false, "allow_audio": false })),
        )
        .await
        .expect(200);
    assert_eq!((updated.allow_files, updated.allow_audio), (false, false));
    assert_eq!(updated.accepts, ["image", "video"]);
    let (status, body) = upload(
        &app,
        &member.token,
        &room.slug,
        "notes.txt",
        b"notes\n".to_vec(),
    )
    .await;
    assert_eq!((status, code(&body)), (403, "media_not_allowed"), "{body}");
    assert_eq!(
        body["error"]["message"],
        "this room does not take other files; it takes images, videos"
    );
    uploaded(&app, &member.token, &room.slug, "pic.png", png(3, 3)).await;
    owner
        .call(
            "PATCH",
            &format!("/api/rooms/{}", room.slug),
            Some(json!({ "allow_images": false })),
        )
        .await
        .expect_status(200);
    let (status, body) = upload(&app, &member.token, &room.slug, "pic.png", png(3, 3)).await;
    assert_eq!((status, code(&body)), (403, "media_not_allowed"), "{body}");
}

#[tokio::test]
async fn uploads_are_limited_per_user_and_window() {
    let app = spawn_app_with(|c| {
        c.uploads_per_window = 3;
        c.upload_bytes_per_window = 1000;
        c.upload_window_secs = 60;
    })
    .await;
    let token = app.guest_token(&unique_name("hoarder")).await;
    uploaded(&app, &token, "lobby", "a.txt", vec![b'a'; 600]).await;
    let (status, body) = upload(&app, &token, "lobby", "b.txt", vec![b'b'; 600]).await;
    assert_eq!(
        (status, code(&body)),
        (429, "quota_exceeded"),
        "bytes: {body}"
    );
    uploaded(&app, &token, "lobby", "c.txt", vec![b'c'; 100]).await;
    uploaded(&app, &token, "lobby", "d.txt", vec![b'd'; 100]).await;
    let (status, body) = upload(&app, &token, "lobby", "e.txt", vec![b'e'; 10]).await;
    assert_eq!(
        (status, code(&body)),
        (429, "quota_exceeded"),
        "count: {body}"
    );
    let other = app.guest_token(&unique_name("other")).await;
    uploaded(&app, &other, "lobby", "f.txt", vec![b'f'; 10]).await;
    app.clock.advance(Duration::from_secs(61));
    uploaded(&app, &token, "lobby", "g.txt", vec![b'g'; 10]).await;
}

#[tokio::test]
async fn lobby_attachments_travel_on_the_gateway_to_everyone_present() {
    let app = spawn_app().await;
    let mut alice = app.lobby_guest(&unique_name("alice")).await;
    let mut bob = app.lobby_guest(&unique_name("bob")).await;
    let token = app.guest_token(&unique_name("carol")).await;
    let file = uploaded(&app, &token, "lobby", "tune.txt", b"la la la\n".to_vec()).await;
    let mut carol = app.gateway_as(&token).await;
    // Refused before the lobby is joined: the upload stays pending, usable below.
    carol
        .expect_error(
            "send",
            json!({ "room": "lobby", "attachments": [file.id] }),
            "not_in_room",
        )
        .await;
    carol.join_lobby().await;
    carol
        .expect_error(
            "send",
            json!({ "room": "lobby", "attachments": ["b".repeat(26)] }),
            "attachment_unavailable",
        )
        .await;
    carol
        .expect_error(
            "send",
            json!({ "room": "lobby", "text": " " }),
            "empty_message",
        )
        .await;
    carol
        .expect_error(
            "send",
            json!({ "room": "lobby", "attachments": [file.id, file.id] }),
            "invalid_payload",
        )
        .await;
    let ack = carol
        .request("send", json!({ "room": "lobby", "attachments": [file.id] }))
        .await;
    assert!(ack.ok, "{ack:?}");
    for client in [&mut alice, &mut bob] {
        let seen: Message = client
            .event_where(|m: &Message| !m.attachments.is_empty())
            .await;
        assert_eq!(
            (seen.text.as_str(), seen.attachments.clone()),
            ("", vec![file.clone()])
        );
    }
    let reader = app.guest_token(&unique_name("reader")).await;
    assert_eq!(get(&app, &reader, &file.url, &[]).await.2, b"la la la\n");
    // Sent once: it cannot be sent again.
    carol
        .expect_error(
            "send",
            json!({ "room": "lobby", "attachments": [file.id] }),
            "attachment_unavailable",
        )
        .await;
}

#[tokio::test]
async fn files_go_with_their_room_history_and_uploader_and_unsent_ones_expire() {
    let app = spawn_app_with(common::with_root).await;
    let root = app.root().await;
    let (owner, leaver) = app.two_users("keeper", "leaver").await;
    let db = database(&app).await;
    let doomed = owner.create_room(&unique_name("doomed"), false).await;
    let cleared = owner.create_room(&unique_name("cleared"), false).await;
    let in_doomed = send_file(&owner, &doomed.slug, "a.png").await;
    let in_cleared = send_file(&owner, &cleared.slug, "b.png").await;
    let leavers_room = leaver.create_room(&unique_name("leavers"), false).await;
    let leavers = send_file(&leaver, &leavers_room.slug, "c.png").await;
    let unsent = uploaded(&app, &owner.token, &cleared.slug, "d.png", png(5, 5)).await;
    // Each file with a thumbnail: two objects each.
    assert_eq!(stored_objects(&app).await.len(), 8);

    owner
        .call("DELETE", &format!("/api/rooms/{}", doomed.slug), None)
        .await
        .expect_status(204);
    owner
        .call(
            "DELETE",
            &format!("/api/rooms/{}/messages", cleared.slug),
            None,
        )
        .await
        .expect_status(204);
    // Unreadable at once, whether or not the sweep has deleted it yet.
    assert_eq!(get(&app, &owner.token, &in_cleared.url, &[]).await.0, 404);
    assert_eq!(get(&app, &owner.token, &in_doomed.url, &[]).await.0, 404);
    let leaver_name = leaver.name().await;
    root.call(
        "POST",
        "/api/admin/actions/delete_user",
        Some(json!({ "user": leaver_name })),
    )
    .await
    .expect_status(204);
    eventually(|| async {
        let ids: Vec<String> = stored_objects(&app)
            .await
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let gone = [&in_doomed, &in_cleared, &leavers]
            .iter()
            .all(|f| !ids.iter().any(|id| id.starts_with(&f.id)));
        // Objects go first, then their rows: only the unsent upload's row is left at the end.
        let rows = count_rows(&db, "files").await;
        (gone && rows == 1)
            .then_some(())
            .ok_or_else(|| format!("objects gone: {gone}, rows: {rows}"))
    })
    .await;
    assert_eq!(get(&app, &owner.token, &unsent.url, &[]).await.0, 200);
    // After the grace period, nobody sent it: it goes too, at a maintenance round (time
    // keeps passing, a round a minute, until one has run).
    app.clock.advance(Duration::from_secs(3601));
    eventually(|| async {
        if count_rows(&db, "files").await == 0 {
            return Ok(());
        }
        app.clock.advance(Duration::from_secs(61));
        Err("the unsent upload is still there".to_owned())
    })
    .await;
    assert!(stored_objects(&app).await.is_empty());
}

#[tokio::test]
async fn a_canary_file_is_never_in_clear_in_the_store_or_the_database() {
    let app = spawn_app().await;
    let owner = app.caller(&unique_name("canary")).await;
    let room = owner.create_room(&unique_name("aviary"), false).await;
    let body = [
        &b"notes: "[..],
        CANARY,
        b"\n",
        &vec![b'x'; 200_000][..],
        CANARY,
        b"\n",
    ]
    .concat();
    let file = uploaded(&app, &owner.token, &room.slug, "canary.txt", body.clone()).await;
    post_with(
        &owner,
        &room.slug,
        json!({ "text": "see file", "attachments": [file.id] }),
    )
    .await
    .expect_status(201);
    assert_eq!(get(&app, &owner.token, &file.url, &[]).await.2, body);
    let objects = stored_objects(&app).await;
    assert_eq!(objects.len(), 1);
    for (id, sealed) in &objects {
        assert!(
            !sealed.windows(CANARY.len()).any(|w| w == CANARY),
            "{id} holds the canary in clear"
        );
        assert!(sealed.len() > body.len(), "sealed: {} bytes", sealed.len());
    }
    let mut files_on_disk = vec![app.config.data_dir.clone()];
    while let Some(path) = files_on_disk.pop() {
        if path.is_dir() {
            files_on_disk.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(CANARY.len()).any(|w| w == CANARY),
                "{} holds the canary",
                path.display()
            );
        }
    }
}

#[tokio::test]
async fn staff_see_attachments_in_transcripts_and_uploads_in_the_audit_log() {
    let app = spawn_app_with(common::with_root).await;
    let root = app.root().await;
    let owner = app.caller(&unique_name("uploader")).await;
    let room = owner.create_room(&unique_name("audited"), true).await;
    let file = uploaded(
        &app,
        &owner.token,
        &room.slug,
        "report.pdf",
        b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n".to_vec(),
    )
    .await;
    assert_eq!(
        (file.mime.as_str(), file.kind.as_str()),
        ("application/pdf", "file")
    );
    post_with(&owner, &room.slug, json!({ "attachments": [file.id] }))
        .await
        .expect_status(201);
    let (_, headers, _) = get(&app, &owner.token, &file.url, &[]).await;
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;"),
        "PDF is a download"
    );

    let transcript: Value = root
        .call(
            "GET",
            &format!("/api/admin/rooms/{}/messages", room.slug),
            None,
        )
        .await
        .expect(200);
    let text = transcript.to_string();
    let admin_url = format!("/api/admin/files/{}", file.id);
    assert!(text.contains(&admin_url), "{text}");
    assert_eq!(get(&app, &root.token, &admin_url, &[]).await.0, 200);
    assert_eq!(
        get(&app, &owner.token, &admin_url, &[]).await.0,
        403,
        "not staff"
    );

    let audit: Value = root
        .call("GET", "/api/admin/audit?action=upload", None)
        .await
        .expect(200);
    let text = audit.to_string();
    assert!(
        text.contains(&file.id) && text.contains("application/pdf") && text.contains(&room.slug),
        "{text}"
    );
    assert!(text.contains("127.0.0.1"), "{text}");
}

#[tokio::test]
async fn an_interrupted_upload_leaves_no_row_and_no_object() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    let token = app.guest_token(&unique_name("quitter")).await;
    let mut socket = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/files?room=lobby&name=big.txt HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: 5000000\r\n\r\n",
        app.addr
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&vec![b'a'; 300_000]).await.unwrap();
    socket.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(socket);
    let db = database(&app).await;
    // The server notices the broken body and aborts: nothing stays, nothing is half there.
    eventually(|| async {
        let objects = stored_objects(&app).await;
        let rows = count_rows(&db, "files").await;
        (objects.is_empty() && rows == 0)
            .then_some(())
            .ok_or_else(|| "not yet".to_owned())
    })
    .await;
    if !common::on_s3() {
        let uploads = app.config.data_dir.join("uploads");
        let mut left = vec![uploads];
        while let Some(path) = left.pop() {
            if path.is_dir() {
                left.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else {
                panic!("left behind: {}", path.display());
            }
        }
    }
    uploaded(&app, &token, "lobby", "after.txt", b"fine\n".to_vec()).await;
}

#[tokio::test]
async fn conversation_files_are_the_two_peers_alone() {
    let app = spawn_app().await;
    let (alice, bob) = app.two_users("pmalice", "pmbob").await;
    let outsider = app.caller(&unique_name("nosy")).await;
    let bob_name = bob.name().await;
    let conversation: Conversation = alice
        .call(
            "POST",
            "/api/conversations",
            Some(json!({ "user": bob_name })),
        )
        .await
        .expect(200);
    bob.call(
        "POST",
        &format!("/api/conversations/{}/accept", conversation.room),
        None,
    )
    .await
    .expect_status(200);
    let file = uploaded(
        &app,
        &alice.token,
        &conversation.room,
        "note.txt",
        b"for bob\n".to_vec(),
    )
    .await;
    post_with(
        &alice,
        &conversation.room,
        json!({ "attachments": [file.id] }),
    )
    .await
    .expect_status(201);
    assert_eq!(get(&app, &bob.token, &file.url, &[]).await.2, b"for bob\n");
    assert_eq!(get(&app, &outsider.token, &file.url, &[]).await.0, 404);
    let (status, body) = upload(
        &app,
        &outsider.token,
        &conversation.room,
        "x.txt",
        b"x\n".to_vec(),
    )
    .await;
    assert_eq!((status, code(&body)), (404, "not_found"), "{body}");
}

#[tokio::test]
async fn an_ephemeral_rooms_files_serve_its_two_devices_and_go_when_it_expires() {
    let app = spawn_app_with(|c| c.ephemeral_ttl_secs = 5).await;
    let host = app.caller(&unique_name("host")).await;
    let created: Ephemeral = host.call("POST", "/api/ephemeral", None).await.expect(201);
    let code = created.code;
    host.call("POST", &format!("/api/ephemeral/{code}/activate"), None)
        .await
        .expect_status(200);
    let room = format!("e:{code}");
    let door: Value = app
        .request("GET", &format!("/api/ephemeral/{code}"))
        .send()
        .await
        .expect(200);
    let nick = door["names"][0].as_str().unwrap().to_owned();
    let mut guest = app.gateway().await;
    let identified = guest.identify(json!({ "nick": nick })).await;
    let guest_token = identified.token.expect("a new guest gets a token");
    guest
        .join_room(&room, json!({ "device": "guest-device-0001" }))
        .await;
    let mut host_live = host.gateway().await;
    host_live
        .join_room(&room, json!({ "device": "host-device-0002" }))
        .await;

    let file = uploaded(&app, &guest_token, &room, "selfie.png", png(40, 30)).await;
    let ack = guest
        .request("send", json!({ "room": room, "attachments": [file.id] }))
        .await;
    assert!(ack.ok, "{ack:?}");
    let seen: Message = host_live
        .event_where(|m: &Message| !m.attachments.is_empty())
        .await;
    assert_eq!(seen.attachments, vec![file.clone()]);
    assert_eq!(get(&app, &host.token, &file.url, &[]).await.0, 200);
    let stranger = app.guest_token(&unique_name("stranger")).await;
    assert_eq!(get(&app, &stranger, &file.url, &[]).await.0, 404);

    app.clock.advance(Duration::from_secs(6));
    let db = database(&app).await;
    eventually(|| async {
        let rows = count_rows(&db, "files").await;
        let objects = stored_objects(&app).await.len();
        (rows == 0 && objects == 0)
            .then_some(())
            .ok_or_else(|| format!("{rows} rows, {objects} objects left"))
    })
    .await;
    assert_eq!(get(&app, &host.token, &file.url, &[]).await.0, 404);
    let (store, keyring) = parlor::app::open_storage(&app.config).await.unwrap();
    let rooms = parlor::app::room_service(&app.config, store, keyring);
    let ids = rooms.archive_ids(10, i64::MAX).await.unwrap();
    let archive = rooms.archive(ids[0]).await.unwrap();
    let archived = &archive.transcript.messages[0].attachments;
    assert_eq!(archived.len(), 1);
    assert_eq!(
        (archived[0].name.as_str(), archived[0].mime.as_str()),
        ("selfie.png", "image/png")
    );
}

#[tokio::test]
async fn a_room_holds_at_most_its_share_of_files() {
    let app = spawn_app_with(|c| c.room_file_bytes = 1000).await;
    let owner = app.caller(&unique_name("sharer")).await;
    let room = owner.create_room(&unique_name("small"), false).await;
    uploaded(&app, &owner.token, &room.slug, "a.txt", vec![b'a'; 700]).await;
    let (status, body) = upload(&app, &owner.token, &room.slug, "b.txt", vec![b'b'; 400]).await;
    assert_eq!((status, code(&body)), (429, "quota_exceeded"), "{body}");
    uploaded(&app, &owner.token, &room.slug, "c.txt", vec![b'c'; 300]).await;
    let (status, body) = upload(&app, &owner.token, &room.slug, "d.txt", b"d\n".to_vec()).await;
    assert_eq!((status, code(&body)), (429, "quota_exceeded"), "{body}");
    // Another room is not affected.
    let other = owner.create_room(&unique_name("roomy"), false).await;
    uploaded(&app, &owner.token, &other.slug, "e.txt", vec![b'e'; 900]).await;
}

#[tokio::test]
async fn markup_an_operator_allows_is_only_ever_a_download() {
    let app = spawn_app_with(|c| c.allowed_file_types.push("text/html".into())).await;
    let token = app.guest_token(&unique_name("webmaster")).await;
    let page = b"<!DOCTYPE html><script>alert(document.cookie)</script>".to_vec();
    let file = uploaded(&app, &token, "lobby", "page.html", page).await;
    assert_eq!(
        (file.mime.as_str(), file.kind.as_str()),
        ("text/html", "file")
    );
    let (status, headers, _) = get(&app, &token, &file.url, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
}

#[tokio::test]
async fn health_reports_an_object_store_that_stops_taking_writes() {
    let app = spawn_app().await;
    assert_eq!(app.request("GET", "/health").send().await.status, 200);
    if common::on_s3() {
        // The S3 case is the start-up refusal below; a bucket cannot be taken away here.
        return;
    }
    let uploads = app.config.data_dir.join("uploads");
    std::fs::remove_dir_all(&uploads).unwrap();
    std::fs::write(&uploads, b"not a directory").unwrap();
    let refused = eventually(|| async {
        let reply = app.request("GET", "/health").send().await;
        (reply.status == 503)
            .then_some(reply)
            .ok_or_else(|| "still healthy".to_owned())
    })
    .await;
    let error = refused.expect_error(503, "unavailable");
    assert!(
        error
            .message
            .starts_with("files: the object store does not accept writes")
            && !error.message.contains("database:"),
        "only the object store is named: {}",
        error.message
    );
    std::fs::remove_file(&uploads).unwrap();
    std::fs::create_dir(&uploads).unwrap();
    eventually(|| async {
        let status = app.request("GET", "/health").send().await.status;
        (status == 200)
            .then_some(())
            .ok_or_else(|| format!("{status}"))
    })
    .await;
}

#[tokio::test]
async fn a_file_store_that_does_not_take_writes_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::test_config(dir.path()).await;
    if common::on_s3() {
        config.object_store_url = Some("s3://no-such-bucket-for-parlor/files".into());
    } else {
        // The uploads directory is a file: nothing can be stored under it.
        config.object_store_url = None;
        std::fs::create_dir_all(dir.path().join("uploads")).unwrap();
        std::fs::write(dir.path().join("uploads").join("probe"), b"in the way").unwrap();
    }
    let refused = parlor::app::Server::build(config).await;
    let message = format!("{:#}", refused.err().expect("the start is refused"));
    assert!(
        message.contains("file store") && message.contains("does not accept writes"),
        "{message}"
    );
}
