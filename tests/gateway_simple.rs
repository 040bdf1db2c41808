//! The simple chat WebSocket at `/ws` and its sharing of the lobby with the native framing.

mod common;

use common::{spawn_app, unique_name, TestApp, WsClient};
use serde_json::json;

async fn simple_client(app: &TestApp, name: &str) -> WsClient {
    let token = app.guest_token(name).await;
    app.websocket("/ws", &[("cookie", &format!("session={token}"))])
        .await
        .expect("upgrade")
}

#[tokio::test]
async fn ws_needs_a_valid_session_cookie() {
    let app = spawn_app().await;
    assert_eq!(app.websocket("/ws", &[]).await.err().unwrap().0, 401);
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
    let refused = app
        .websocket("/ws", &[("cookie", &cookie)])
        .await
        .err()
        .unwrap();
    assert_eq!(refused.0, 409);
    assert_eq!(refused.1["error"]["code"], "already_connected");
    first.close().await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        app.websocket("/ws", &[("cookie", &cookie)]).await.is_ok(),
        "the slot is freed on close"
    );
}

#[tokio::test]
async fn ws_clients_chat_with_native_clients_in_one_lobby() {
    let app = spawn_app().await;
    let native_name = unique_name("nat");
    let mut native = app.lobby_guest(&native_name).await;
    let simple_name = unique_name("sim");
    let mut simple = simple_client(&app, &simple_name).await;
    assert_eq!(
        native.event("member_joined").await["user"]["name"],
        simple_name
    );

    simple.send_json(json!({ "message": "hi from /ws" })).await;
    assert_eq!(
        simple.next_frame().await.unwrap(),
        json!({ "status": true })
    );
    let message = native.event("message").await;
    assert_eq!(
        (message["text"].as_str(), message["author"]["name"].as_str()),
        (Some("hi from /ws"), Some(simple_name.as_str()))
    );

    native.say("hi from the gateway").await;
    let frame = simple.frame_where(|f| f.get("message").is_some()).await;
    assert_eq!(
        frame,
        json!({ "message": "hi from the gateway", "author": native_name })
    );

    let late = unique_name("lat");
    let late_client = app.lobby_guest(&late).await;
    assert_eq!(
        simple.frame_where(|f| f["event"] == "join").await,
        json!({ "event": "join", "username": late })
    );
    late_client.close().await;
    assert_eq!(
        simple.frame_where(|f| f["event"] == "leave").await,
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
    assert_eq!(
        app.get(&app.http(), "/api/online").await.1["online_clients"],
        json!([name])
    );
    simple.close().await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        app.get(&app.http(), "/api/online").await.1["online_clients"],
        json!([])
    );
}
