//! The simple chat WebSocket at `/ws` and its sharing of the lobby with the native framing.

mod common;

use common::protocol::{MemberJoined, Message, Online, SimpleFrame};
use common::{eventually, spawn_app, spawn_app_with, unique_name, TestApp, WsClient};
use serde_json::json;

/// The names `/api/online` lists once it lists exactly `wanted`.
async fn online_becomes(app: &TestApp, wanted: &[&str]) {
    eventually(|| async {
        let online: Online = app.request("GET", "/api/online").send().await.expect(200);
        if online.online_clients == wanted {
            Ok(())
        } else {
            Err(format!("online should be {wanted:?}: {online:?}"))
        }
    })
    .await
}

async fn simple_client(app: &TestApp, name: &str) -> WsClient {
    let token = app.guest_token(name).await;
    simple_client_with(app, &token).await
}

async fn simple_client_with(app: &TestApp, token: &str) -> WsClient {
    app.websocket("/ws", &[("cookie", &format!("session={token}"))])
        .await
        .expect("upgrade")
}

/// A lobby upload of `body` as `token`; returns the file's JSON.
async fn upload(app: &TestApp, token: &str, body: &'static [u8]) -> serde_json::Value {
    app.request("POST", "/api/files?room=lobby&name=note.txt")
        .bearer(token)
        .raw("application/octet-stream", body)
        .send()
        .await
        .expect(201)
}

#[tokio::test]
async fn ws_frames_carry_attachments_both_ways() {
    let app = spawn_app().await;
    let mut native = app.lobby_guest(&unique_name("nat")).await;
    let simple_name = unique_name("sim");
    let token = app.guest_token(&simple_name).await;
    let mut simple = simple_client_with(&app, &token).await;
    let _: MemberJoined = native.event().await;

    let file = upload(&app, &token, b"from /ws\n").await;
    simple
        .send_json(json!({ "attachments": [file["id"]] }))
        .await;
    assert_eq!(
        simple.next_frame().await.unwrap(),
        json!({ "status": true })
    );
    let message: Message = native
        .event_where(|m: &Message| !m.attachments.is_empty())
        .await;
    assert_eq!(message.attachments[0].id, file["id"].as_str().unwrap());
    simple
        .send_json(json!({ "attachments": [file["id"]] }))
        .await;
    assert_eq!(
        simple.next_frame().await.unwrap(),
        json!({ "status": false, "code": "attachment_unavailable" })
    );

    let native_token = app.guest_token(&unique_name("nat2")).await;
    let mut sender = app.gateway_as(&native_token).await;
    sender.join_lobby().await;
    let theirs = upload(&app, &native_token, b"from the gateway\n").await;
    let ack = sender
        .request(
            "send",
            json!({ "room": "lobby", "text": "see", "attachments": [theirs["id"]] }),
        )
        .await;
    assert!(ack.ok, "{ack:?}");
    let frame = simple
        .simple_where(
            |f| matches!(f, SimpleFrame::Message { attachments, .. } if !attachments.is_empty()),
        )
        .await;
    assert_eq!(frame["message"], "see");
    assert_eq!(frame["attachments"][0]["id"], theirs["id"]);
}

#[tokio::test]
async fn ws_needs_a_valid_session_cookie() {
    let app = spawn_app().await;
    app.websocket_refused("/ws", &[], 401, "unauthenticated")
        .await;
    let forged = app
        .websocket("/ws", &[("cookie", "session=forged")])
        .await
        .err()
        .unwrap();
    assert_eq!(
        forged,
        (
            401,
            json!({ "error": { "code": "unauthenticated", "message": "no valid session" } })
        )
    );
}

#[tokio::test]
async fn a_second_ws_connection_of_the_same_user_is_refused_with_409() {
    let app = spawn_app().await;
    let token = app.guest_token(&unique_name("one")).await;
    let cookie = format!("session={token}");
    let first = app.websocket("/ws", &[("cookie", &cookie)]).await.unwrap();
    app.websocket_refused("/ws", &[("cookie", &cookie)], 409, "already_connected")
        .await;
    first.close().await;
    let _again = eventually(|| async {
        app.websocket("/ws", &[("cookie", &cookie)])
            .await
            .map_err(|refusal| format!("the slot is freed on close: {refusal:?}"))
    })
    .await;
}

#[tokio::test]
async fn ws_clients_chat_with_native_clients_in_one_lobby() {
    let app = spawn_app().await;
    let native_name = unique_name("nat");
    let mut native = app.lobby_guest(&native_name).await;
    let simple_name = unique_name("sim");
    let mut simple = simple_client(&app, &simple_name).await;
    let joined: MemberJoined = native.event().await;
    assert_eq!(
        (joined.room.as_str(), joined.user.name.as_str()),
        ("lobby", simple_name.as_str())
    );

    simple.send_json(json!({ "message": "hi from /ws" })).await;
    assert_eq!(
        simple.next_frame().await.unwrap(),
        json!({ "status": true })
    );
    let message: Message = native.event().await;
    assert_eq!(
        (
            message.room.as_str(),
            message.text.as_str(),
            message.author.name.as_str()
        ),
        ("lobby", "hi from /ws", simple_name.as_str())
    );

    native.say("hi from the gateway").await;
    let frame = simple
        .simple_where(|f| matches!(f, SimpleFrame::Message { .. }))
        .await;
    assert_eq!(
        frame,
        json!({ "message": "hi from the gateway", "author": native_name })
    );

    let late = unique_name("lat");
    let late_client = app.lobby_guest(&late).await;
    let presence = |wanted: &'static str| move |f: &SimpleFrame| matches!(f, SimpleFrame::Presence { event, .. } if event == wanted);
    assert_eq!(
        simple.simple_where(presence("join")).await,
        json!({ "event": "join", "username": late })
    );
    late_client.close().await;
    assert_eq!(
        simple.simple_where(presence("leave")).await,
        json!({ "event": "leave", "username": late })
    );
}

#[tokio::test]
async fn ws_errors_come_back_as_status_codes_and_malformed_frames_do_not_close() {
    let app = spawn_app().await;
    let mut simple = simple_client(&app, &unique_name("err")).await;
    simple
        .send_json(json!({ "message": "x".repeat(501) }))
        .await;
    assert_eq!(
        simple.next_frame().await.unwrap(),
        json!({ "status": false, "code": "message_too_long" })
    );
    simple.send_json(json!({ "message": "   " })).await;
    assert_eq!(
        simple.next_frame().await.unwrap(),
        json!({ "status": false, "code": "empty_message" })
    );
    for junk in ["nonsense", "{\"msg\":\"x\"}", "{\"message\":5}"] {
        simple.send_text(junk).await;
        assert_eq!(
            simple.next_frame().await.unwrap(),
            json!({ "status": false, "code": "invalid_frame" }),
            "{junk}"
        );
    }
    simple.send_json(json!({ "message": "fine" })).await;
    assert_eq!(
        simple.next_frame().await.unwrap(),
        json!({ "status": true })
    );
}

#[tokio::test]
async fn a_closed_ws_connection_leaves_no_stale_presence() {
    let app = spawn_app().await;
    let name = unique_name("gon");
    let simple = simple_client(&app, &name).await;
    let online: Online = app.request("GET", "/api/online").send().await.expect(200);
    assert_eq!(online.online_clients, [name]);
    simple.close().await;
    online_becomes(&app, &[]).await;
}

#[tokio::test]
async fn oversized_and_non_utf8_frames_close_ws_with_1009_and_1007() {
    let app = spawn_app_with(|c| c.max_frame_bytes = 1024).await;
    let mut big = simple_client(&app, &unique_name("big")).await;
    big.send_text(&format!("{{\"message\":\"{}\"}}", "x".repeat(2000)))
        .await;
    assert_eq!(big.until_closed().await.code, Some(1009));
    let mut garbled = simple_client(&app, &unique_name("bad")).await;
    garbled.send_invalid_text().await;
    assert_eq!(garbled.until_closed().await.code, Some(1007));
}
