//! Ephemeral 1-on-1 rooms: unique unambiguous codes, activation, joining under an offered name
//! from a device, the two-device lock, expiry that tells both sides, and the sealed archive
//! that stays readable through the library's room service.

mod common;

use common::{database, spawn_app, spawn_app_with, unique_name, Caller, TestApp, WsClient};
use parlor::domain::CODE_ALPHABET;
use serde_json::{json, Value};
use std::collections::HashSet;

const ONE_DEVICE: &str = "device-one-aaaaaaaa";
const OTHER_DEVICE: &str = "device-two-bbbbbbbb";
const THIRD_DEVICE: &str = "device-three-cccccc";

/// Creates and activates a room; returns its code.
async fn open_room(host: &Caller<'_>) -> String {
    let (status, created) = host.call("POST", "/api/ephemeral", None).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["active"], false);
    let code = created["code"].as_str().unwrap().to_owned();
    let (status, active) = host
        .call("POST", &format!("/api/ephemeral/{code}/activate"), None)
        .await;
    assert_eq!(status, 200, "{active}");
    assert_eq!(active["active"], true);
    code
}

/// What someone holding the code sees before joining (no session needed).
async fn door(app: &TestApp, code: &str) -> (u16, Value) {
    app.get(&app.http(), &format!("/api/ephemeral/{code}"))
        .await
}

/// A guest who picked one of the offered names and joined from `device`.
async fn guest_joins(app: &TestApp, code: &str, device: &str) -> (WsClient, Value) {
    let (status, door) = door(app, code).await;
    assert_eq!(status, 200, "{door}");
    let name = door["names"][0].as_str().unwrap().to_owned();
    let mut guest = app.gateway().await;
    let ack = guest.request("identify", json!({ "nick": name })).await;
    assert_eq!(ack["ok"], true, "{ack}");
    let joined = guest
        .request(
            "join",
            json!({ "room": format!("e:{code}"), "device": device }),
        )
        .await;
    (guest, joined)
}

#[tokio::test]
async fn codes_are_four_unambiguous_characters_and_unique_among_live_rooms() {
    let app = spawn_app().await;
    let host = app.caller(&unique_name("host")).await;
    let mut codes = HashSet::new();
    for _ in 0..40 {
        let (status, created) = host.call("POST", "/api/ephemeral", None).await;
        assert_eq!(status, 201, "{created}");
        let code = created["code"].as_str().unwrap().to_owned();
        assert_eq!(code.len(), 4);
        assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{code}");
        assert_eq!(created["room"], format!("e:{code}"));
        assert!(codes.insert(code), "codes are unique");
    }
    let (status, hosted) = host.call("GET", "/api/ephemeral", None).await;
    assert_eq!(status, 200, "{hosted}");
    assert_eq!(hosted["rooms"].as_array().unwrap().len(), codes.len());
    let guest_token = app.guest_token("visitor").await;
    let status = app
        .http()
        .post(app.url("/api/ephemeral"))
        .bearer_auth(guest_token)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403, "hosting needs an account");
}

#[tokio::test]
async fn a_guest_and_the_host_chat_and_a_third_device_is_refused() {
    let app = spawn_app().await;
    let host = app.caller(&unique_name("host")).await;
    let (status, created) = host.call("POST", "/api/ephemeral", None).await;
    assert_eq!(status, 201);
    let code = created["code"].as_str().unwrap().to_owned();
    let room = format!("e:{code}");

    let (_, door_before) = door(&app, &code).await;
    assert_eq!(door_before["active"], false);
    let names = door_before["names"].as_array().unwrap();
    assert_eq!(names.len(), 3, "a few names to pick from: {door_before}");
    assert_eq!(door_before["places_left"], 2);
    let (_, early) = guest_joins(&app, &code, ONE_DEVICE).await;
    assert_eq!(early["error"]["code"], "room_not_active", "{early}");

    let (status, _) = host
        .call("POST", &format!("/api/ephemeral/{code}/activate"), None)
        .await;
    assert_eq!(status, 200);
    let lower = code.to_ascii_lowercase();
    let (mut guest, joined) = guest_joins(&app, &lower, ONE_DEVICE).await;
    assert_eq!(joined["ok"], true, "codes are case-insensitive: {joined}");
    let mut host_live = host.gateway().await;
    let joined = host_live
        .request("join", json!({ "room": room, "device": OTHER_DEVICE }))
        .await;
    assert_eq!(joined["ok"], true, "{joined}");

    let sent = guest
        .request("send", json!({ "room": room, "text": "hi host" }))
        .await;
    assert_eq!(sent["data"]["seq"], 1, "{sent}");
    let got = host_live.event("message").await;
    assert_eq!(
        (got["text"].as_str(), got["author"]["kind"].as_str()),
        (Some("hi host"), Some("guest"))
    );
    host_live
        .request("send", json!({ "room": room, "text": "hello guest" }))
        .await;
    guest
        .frame_where(|f| f["event"] == "message" && f["data"]["text"] == "hello guest")
        .await;

    let (_, full) = door(&app, &code).await;
    assert_eq!(
        full["places_left"], 0,
        "the door says the room is full: {full}"
    );
    let (_, refused) = guest_joins(&app, &code, THIRD_DEVICE).await;
    assert_eq!(refused["error"]["code"], "room_locked", "{refused}");
    let mut no_device = app.lobby_guest("nodevice").await;
    no_device
        .expect_error("join", json!({ "room": room }), "invalid_payload")
        .await;
    no_device
        .expect_error("send", json!({ "room": room, "text": "x" }), "not_found")
        .await;
    no_device
        .expect_error("history", json!({ "room": room }), "not_found")
        .await;

    guest.close().await;
    let (back, rejoined) = guest_joins(&app, &code, ONE_DEVICE).await;
    assert_eq!(
        rejoined["ok"], true,
        "the same device comes back: {rejoined}"
    );
    let texts: Vec<&str> = rejoined["data"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["hi host", "hello guest"]);
    back.close().await;
}

#[tokio::test]
async fn expiry_closes_the_room_for_both_and_keeps_a_sealed_archive() {
    let app = spawn_app_with(|c| c.ephemeral_ttl_secs = 2).await;
    let host = app.caller(&unique_name("host")).await;
    let code = open_room(&host).await;
    let room = format!("e:{code}");
    let (mut guest, joined) = guest_joins(&app, &code, ONE_DEVICE).await;
    assert_eq!(joined["ok"], true, "{joined}");
    let mut host_live = host.gateway().await;
    host_live
        .request("join", json!({ "room": room, "device": OTHER_DEVICE }))
        .await;
    let canary = "EPHEMERAL-CANARY-7a1c";
    guest
        .request("send", json!({ "room": room, "text": canary }))
        .await;

    for client in [&mut guest, &mut host_live] {
        let removed = client.event("room_removed").await;
        assert_eq!(
            (removed["room"].as_str(), removed["reason"].as_str()),
            (Some(room.as_str()), Some("expired"))
        );
    }
    let (status, _) = door(&app, &code).await;
    assert_eq!(status, 404, "an expired code opens nothing");
    guest
        .expect_error("send", json!({ "room": room, "text": "late" }), "not_found")
        .await;

    let (store, keyring) = parlor::app::open_storage(&app.config).await.unwrap();
    let rooms = parlor::app::room_service(&app.config, store, keyring);
    let ids = rooms.archive_ids(10, i64::MAX).await.unwrap();
    assert_eq!(ids.len(), 1);
    let archive = rooms.archive(ids[0]).await.unwrap();
    assert_eq!(archive.code, code);
    assert_eq!(archive.transcript.messages.len(), 1);
    assert_eq!(archive.transcript.messages[0].text, canary);
    assert_eq!(archive.transcript.participants.len(), 2);

    let db = database(&app).await;
    let (sealed,): (Vec<u8>,) = sqlx::query_as("SELECT transcript FROM archives")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(
        !sealed.windows(canary.len()).any(|w| w == canary.as_bytes()),
        "the archive is sealed"
    );
    let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(left, 0, "the live room's messages are gone");
}
