//! Socket.IO at the protocol level (Engine.IO v4 packets over a raw WebSocket), for what the
//! official clients in `tests/clients/` cannot easily show.

mod common;

use common::spawn_app_with;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

async fn next_text(
    socket: &mut (impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
) -> String {
    let frame = tokio::time::timeout(common::PATIENCE, socket.next())
        .await
        .expect("a packet in time");
    frame
        .expect("open")
        .expect("frame")
        .into_text()
        .expect("text")
        .to_string()
}

#[tokio::test]
async fn a_socketio_upgrade_from_a_foreign_origin_is_refused_before_any_session() {
    let app = spawn_app_with(|c| c.public_origins = vec!["https://chat.example.org".into()]).await;
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", app.addr);
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) =
        tokio_tungstenite::connect_async(request).await
    else {
        panic!("a foreign origin upgraded");
    };
    assert_eq!(response.status().as_u16(), 403);
    let body: serde_json::Value =
        serde_json::from_slice(response.body().as_deref().unwrap_or_default()).expect("JSON");
    assert_eq!(body["error"]["code"], "origin_not_allowed", "{body}");

    // From an allowed origin, the Engine.IO session opens and the namespace connects.
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", app.addr);
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "https://chat.example.org".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert!(
        next_text(&mut socket).await.starts_with('0'),
        "Engine.IO open packet"
    );
    socket.send(Message::Text("40".into())).await.unwrap();
    let mut reply = next_text(&mut socket).await;
    while reply == "2" {
        socket.send(Message::Text("3".into())).await.unwrap();
        reply = next_text(&mut socket).await;
    }
    assert!(reply.starts_with("40{"), "a CONNECT packet: {reply}");
}
