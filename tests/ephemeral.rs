//! Ephemeral 1-on-1 rooms: unique unambiguous codes, activation, joining under an offered name
//! from a device, the two-device lock, expiry that tells both sides, and the sealed archive
//! that stays readable through the library's room service.

mod common;

use std::time::Duration;

use common::protocol::{
    Ack, Door, Ephemeral, Hosted, Kind, Message, Posted, RemovedReason, RoomJoined, RoomRemoved,
};
use common::{database, spawn_app, spawn_app_with, unique_name, Caller, TestApp, WsClient};
use parlor::domain::CODE_ALPHABET;
use serde_json::json;
use std::collections::HashSet;

const ONE_DEVICE: &str = "device-one-aaaaaaaa";
const OTHER_DEVICE: &str = "device-two-bbbbbbbb";
const THIRD_DEVICE: &str = "device-three-cccccc";

/// Creates and activates a room; returns its code.
async fn open_room(host: &Caller<'_>) -> String {
    let created: Ephemeral = host.call("POST", "/api/ephemeral", None).await.expect(201);
    assert!(
        !created.active && created.expires_at.is_none(),
        "{created:?}"
    );
    let code = created.code;
    let active: Ephemeral = host
        .call("POST", &format!("/api/ephemeral/{code}/activate"), None)
        .await
        .expect(200);
    assert!(active.active && active.expires_at.is_some(), "{active:?}");
    assert_eq!(active.code, code);
    code
}

/// What someone holding the code sees before joining (no session needed).
async fn door(app: &TestApp, code: &str) -> common::Reply {
    app.request("GET", &format!("/api/ephemeral/{code}"))
        .send()
        .await
}

/// A guest who picked one of the offered names and tried to join from `device`.
async fn guest_joins(app: &TestApp, code: &str, device: &str) -> (WsClient, Ack) {
    let door: Door = door(app, code).await.expect(200);
    let name = door.names[0].clone();
    let mut guest = app.gateway().await;
    let identified = guest.identify(json!({ "nick": name })).await;
    assert_eq!(identified.user.name, name);
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
        let created: Ephemeral = host.call("POST", "/api/ephemeral", None).await.expect(201);
        let code = created.code;
        assert_eq!(code.len(), 4);
        assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{code}");
        assert_eq!(created.room, format!("e:{code}"));
        assert!(codes.insert(code), "codes are unique");
    }
    let hosted: Hosted = host.call("GET", "/api/ephemeral", None).await.expect(200);
    let listed: HashSet<String> = hosted.rooms.into_iter().map(|r| r.code).collect();
    assert_eq!(listed, codes);
}

#[tokio::test]
async fn a_guest_and_the_host_chat_and_a_third_device_is_refused() {
    let app = spawn_app().await;
    let host = app.caller(&unique_name("host")).await;
    let created: Ephemeral = host.call("POST", "/api/ephemeral", None).await.expect(201);
    let code = created.code;
    let room = format!("e:{code}");

    let door_before: Door = door(&app, &code).await.expect(200);
    assert!(!door_before.active);
    assert_eq!(
        door_before.names.len(),
        3,
        "a few names to pick from: {door_before:?}"
    );
    assert_eq!(door_before.places_left, 2);
    let (_, early) = guest_joins(&app, &code, ONE_DEVICE).await;
    assert_eq!(early.code(), "room_not_active", "{early:?}");

    let _: Ephemeral = host
        .call("POST", &format!("/api/ephemeral/{code}/activate"), None)
        .await
        .expect(200);
    let lower = code.to_ascii_lowercase();
    let (mut guest, joined) = guest_joins(&app, &lower, ONE_DEVICE).await;
    let joined: RoomJoined = joined.data();
    assert_eq!(joined.room.slug, room, "codes are case-insensitive");
    let mut host_live = host.gateway().await;
    host_live
        .join_room(&room, json!({ "device": OTHER_DEVICE }))
        .await;

    let sent: Posted = guest
        .call("send", json!({ "room": room, "text": "hi host" }))
        .await;
    assert_eq!(sent.seq, 1, "{sent:?}");
    let got: Message = host_live.event().await;
    assert_eq!(
        (got.text.as_str(), got.author.kind),
        ("hi host", Kind::Guest)
    );
    let _: Posted = host_live
        .call("send", json!({ "room": room, "text": "hello guest" }))
        .await;
    guest
        .event_where(|m: &Message| m.text == "hello guest")
        .await;

    let full: Door = door(&app, &code).await.expect(200);
    assert_eq!(
        full.places_left, 0,
        "the door says the room is full: {full:?}"
    );
    let (_, refused) = guest_joins(&app, &code, THIRD_DEVICE).await;
    assert_eq!(refused.code(), "room_locked", "{refused:?}");
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
    let rejoined: RoomJoined = rejoined.data();
    assert_eq!(
        rejoined.texts(),
        ["hi host", "hello guest"],
        "the same device comes back"
    );
    back.close().await;
}

#[tokio::test]
async fn expiry_closes_the_room_for_both_and_keeps_a_sealed_archive() {
    let app = spawn_app_with(|c| c.ephemeral_ttl_secs = 2).await;
    let host = app.caller(&unique_name("host")).await;
    let code = open_room(&host).await;
    let room = format!("e:{code}");
    let (mut guest, joined) = guest_joins(&app, &code, ONE_DEVICE).await;
    let _: RoomJoined = joined.data();
    let mut host_live = host.gateway().await;
    host_live
        .join_room(&room, json!({ "device": OTHER_DEVICE }))
        .await;
    let canary = "EPHEMERAL-CANARY-7a1c";
    let _: Posted = guest
        .call("send", json!({ "room": room, "text": canary }))
        .await;

    app.clock.advance(Duration::from_secs(3));
    for client in [&mut guest, &mut host_live] {
        let removed: RoomRemoved = client.event().await;
        assert_eq!(
            (removed.room.as_str(), removed.reason),
            (room.as_str(), RemovedReason::Expired)
        );
    }
    door(&app, &code).await.expect_error(404, "not_found");
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
