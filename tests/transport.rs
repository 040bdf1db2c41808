//! The transports below the chat protocol, as an attacker meets them: which pages may open a
//! connection (Origin, on every framing and on Engine.IO polling), how many connections one
//! address and the whole server may hold, how long a connection may stay without identifying,
//! and the frame limits of Socket.IO. Engine.IO is spoken by hand (raw HTTP and WebSocket), so
//! every refusal is seen before any session exists.

mod common;

use common::protocol::{CloseReason, Health};
use common::{spawn_app_with, unique_name, with_root, TestApp, PATIENCE};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const POLLING: &str = "/socket.io/?EIO=4&transport=polling";
const WEBSOCKET: &str = "/socket.io/?EIO=4&transport=websocket";

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens an Engine.IO WebSocket with extra headers; `Err` is the refusal's status and body.
async fn engineio_websocket(
    app: &TestApp,
    headers: &[(&str, &str)],
) -> Result<Socket, (u16, String)> {
    let mut request = format!("ws://{}{WEBSOCKET}", app.addr)
        .into_client_request()
        .unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body = response.body().as_deref().unwrap_or_default();
            Err((
                response.status().as_u16(),
                String::from_utf8_lossy(body).into_owned(),
            ))
        }
        Err(other) => panic!("websocket connect failed: {other}"),
    }
}

/// Asserts a refusal in the JSON error envelope with exactly this status and code, and that
/// no Engine.IO session was opened (no `sid` anywhere in the answer).
fn assert_refused((status, body): (u16, String), want: (u16, &str)) {
    let value: Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("a JSON refusal, not {body:?}: {e}"));
    let common::protocol::ErrorResponse { error } = common::protocol::from_value(value);
    assert_eq!((status, error.code.as_str()), want, "{body}");
    assert!(!body.contains("sid"), "no session was opened: {body}");
}

/// The next Engine.IO text packet, answering the server's pings on the way.
async fn next_packet(socket: &mut Socket) -> Option<String> {
    loop {
        let frame = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("a packet in time");
        match frame {
            Some(Ok(Message::Text(text))) if text.as_str() == "2" => {
                socket.send(Message::Text("3".into())).await.ok()?;
            }
            Some(Ok(Message::Text(text))) => return Some(text.to_string()),
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
            Some(Ok(_)) => continue,
        }
    }
}

/// An Engine.IO WebSocket connected to the Socket.IO namespace `/`.
async fn socketio_connected(app: &TestApp) -> Socket {
    let mut socket = engineio_websocket(app, &[]).await.expect("upgrade");
    let open = next_packet(&mut socket).await.expect("open packet");
    assert!(open.starts_with("0{"), "Engine.IO open packet: {open}");
    socket.send(Message::Text("40".into())).await.unwrap();
    let connected = next_packet(&mut socket).await.expect("connect packet");
    assert!(
        connected.starts_with("40{"),
        "Socket.IO CONNECT: {connected}"
    );
    socket
}

/// `GET` of an Engine.IO polling handshake with extra headers: the status and body.
async fn polling_handshake(app: &TestApp, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = app.request("GET", POLLING);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let reply = request.send().await;
    (reply.status, reply.body)
}

/// The session id of a successful polling handshake.
fn sid_of((status, body): &(u16, String)) -> String {
    assert_eq!(*status, 200, "{body}");
    let open: Value = serde_json::from_str(body.strip_prefix('0').expect("open packet"))
        .unwrap_or_else(|e| panic!("{body}: {e}"));
    open["sid"].as_str().expect("a sid").to_owned()
}

async fn health(app: &TestApp) {
    let health: Health = app.request("GET", "/health").send().await.expect(200);
    assert_eq!(health.status, "ok");
}

// ---- Origin ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_cross_site_socketio_upgrade_with_a_victims_cookie_is_refused_before_any_session() {
    let app = spawn_app_with(|c| c.public_origins = vec!["https://chat.example.org".into()]).await;
    let victim = app.guest_token(&unique_name("vic")).await;
    let cookie = format!("session={victim}");
    for origin in ["http://evil.example", "null"] {
        let refusal = engineio_websocket(&app, &[("origin", origin), ("cookie", &cookie)])
            .await
            .err()
            .unwrap_or_else(|| panic!("Origin {origin} upgraded"));
        assert_refused(refusal, (403, "origin_not_allowed"));
        let refusal = polling_handshake(&app, &[("origin", origin), ("cookie", &cookie)]).await;
        assert_refused(refusal, (403, "origin_not_allowed"));
    }
    // The pages of this server and the configured public origin still connect.
    let own = format!("http://{}", app.addr);
    for origin in [own.as_str(), "https://chat.example.org"] {
        assert!(
            engineio_websocket(&app, &[("origin", origin), ("cookie", &cookie)])
                .await
                .is_ok()
        );
        sid_of(&polling_handshake(&app, &[("origin", origin)]).await);
    }
}

#[tokio::test]
async fn requests_of_an_existing_engineio_session_are_refused_from_a_foreign_origin() {
    let app = spawn_app_with(|_| {}).await;
    let sid = sid_of(&polling_handshake(&app, &[]).await);
    let reply = app
        .request("POST", &format!("{POLLING}&sid={sid}"))
        .header("origin", "http://evil.example")
        .raw("text/plain;charset=UTF-8", "40")
        .send()
        .await;
    reply.expect_error(403, "origin_not_allowed");
}

#[tokio::test]
async fn an_https_origin_is_not_this_plain_http_server() {
    let app = spawn_app_with(with_root).await;
    let https = format!("https://{}", app.addr);
    let http = format!("http://{}", app.addr);
    let other_port = format!("http://127.0.0.1:{}", app.addr.port() + 1);
    for origin in [&https, &other_port] {
        app.websocket_refused("/gateway", &[("origin", origin)], 403, "origin_not_allowed")
            .await;
        let guest = app.guest_token(&unique_name("ws")).await;
        let cookie = format!("session={guest}");
        app.websocket_refused(
            "/ws",
            &[("origin", origin), ("cookie", &cookie)],
            403,
            "origin_not_allowed",
        )
        .await;
        assert_refused(
            polling_handshake(&app, &[("origin", origin)]).await,
            (403, "origin_not_allowed"),
        );
    }
    assert!(app
        .websocket("/gateway", &[("origin", &http)])
        .await
        .is_ok());

    // A cookie-authenticated admin change from the https origin is refused too.
    let root = app.root().await;
    let nick = unique_name("gst");
    let _guest = app.lobby_guest(&nick).await;
    let kick = |origin: &str| {
        app.request("POST", "/api/admin/actions/kick")
            .session_cookie(&root.token)
            .header("origin", origin)
            .json(json!({ "user": nick }))
            .send()
    };
    kick(&https).await.expect_error(403, "origin_not_allowed");
    kick(&http).await.expect_empty(204);
}

#[tokio::test]
async fn behind_a_trusted_proxy_speaking_https_the_https_origin_is_this_server() {
    let app = spawn_app_with(|c| c.trusted_proxies = vec!["127.0.0.1".into()]).await;
    let https = format!("https://{}", app.addr);
    let http = format!("http://{}", app.addr);
    let proxied = [("x-forwarded-proto", "https"), ("origin", https.as_str())];
    assert!(app.websocket("/gateway", &proxied).await.is_ok());
    app.websocket_refused(
        "/gateway",
        &[("x-forwarded-proto", "https"), ("origin", &http)],
        403,
        "origin_not_allowed",
    )
    .await;
    let untrusted = spawn_app_with(|_| {}).await;
    let https = format!("https://{}", untrusted.addr);
    untrusted
        .websocket_refused(
            "/gateway",
            &[("x-forwarded-proto", "https"), ("origin", &https)],
            403,
            "origin_not_allowed",
        )
        .await;
}

// ---- connection caps ------------------------------------------------------------------------

#[tokio::test]
async fn engineio_sessions_count_against_the_per_address_cap_before_any_connect() {
    let app = spawn_app_with(|c| c.max_connections_per_ip = 3).await;
    let mut sids = Vec::new();
    for _ in 0..3 {
        sids.push(sid_of(&polling_handshake(&app, &[]).await));
    }
    assert_refused(polling_handshake(&app, &[]).await, (429, "rate_limited"));
    assert_refused(
        engineio_websocket(&app, &[]).await.expect_err("refused"),
        (429, "rate_limited"),
    );
    app.websocket_refused("/gateway", &[], 429, "rate_limited")
        .await;
    health(&app).await;
}

#[tokio::test]
async fn engineio_websocket_upgrades_count_against_the_per_address_cap() {
    let app = spawn_app_with(|c| c.max_connections_per_ip = 2).await;
    let _first = engineio_websocket(&app, &[]).await.expect("upgrade");
    let _second = app.gateway().await;
    assert_refused(
        engineio_websocket(&app, &[]).await.expect_err("refused"),
        (429, "rate_limited"),
    );
    assert_refused(polling_handshake(&app, &[]).await, (429, "rate_limited"));
    health(&app).await;
}

#[tokio::test]
async fn the_server_wide_connection_limit_refuses_more_and_health_still_answers() {
    let app = spawn_app_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".into()];
        c.max_connections = 3;
    })
    .await;
    let from = |n: u8| format!("198.51.100.{n}");
    let mut open = Vec::new();
    for n in 1..=3 {
        open.push(
            app.websocket("/gateway", &[("x-forwarded-for", &from(n))])
                .await
                .expect("under the limit"),
        );
    }
    app.websocket_refused(
        "/gateway",
        &[("x-forwarded-for", &from(4))],
        503,
        "unavailable",
    )
    .await;
    assert_refused(
        polling_handshake(&app, &[("x-forwarded-for", &from(5))]).await,
        (503, "unavailable"),
    );
    health(&app).await;
    open.pop().unwrap().close().await;
    common::eventually(|| async {
        app.websocket("/gateway", &[("x-forwarded-for", &from(6))])
            .await
            .map_err(|refusal| format!("a freed place is usable again: {refusal:?}"))
    })
    .await;
}

// ---- identify timeout -----------------------------------------------------------------------

#[tokio::test]
async fn a_connection_that_does_not_identify_in_time_is_closed() {
    let app = spawn_app_with(|c| c.identify_timeout_secs = 10).await;
    let mut idle = app.gateway().await;
    // A round trip: the server has opened the connection (and started its clock).
    idle.expect_error("join", json!({ "room": "lobby" }), "unauthenticated")
        .await;
    let mut identified = app.lobby_guest(&unique_name("ok")).await;
    app.clock.advance(Duration::from_secs(9));
    identified.sync().await;
    let mut late = app.gateway().await;
    late.expect_error("join", json!({ "room": "lobby" }), "unauthenticated")
        .await;
    app.clock.advance(Duration::from_secs(1));
    let closing = idle.closed_with(CloseReason::IdentifyTimeout).await;
    assert_eq!(closing.detail, None);
    identified.sync().await;
    // A connection opened since has its own ten seconds.
    let nick = unique_name("lat");
    assert_eq!(late.identify(json!({ "nick": nick })).await.user.name, nick);
}

#[tokio::test]
async fn a_socketio_connection_that_does_not_identify_in_time_is_closed() {
    let app = spawn_app_with(|c| c.identify_timeout_secs = 5).await;
    let mut socket = socketio_connected(&app).await;
    app.clock.advance(Duration::from_secs(5));
    closed_with(&mut socket, "identify_timeout").await;
}

/// The server says why (a `closing` event with `reason`), then disconnects the namespace.
async fn closed_with(socket: &mut Socket, reason: &str) {
    let closing = next_packet(socket).await.expect("a closing event");
    let event: Value = serde_json::from_str(closing.strip_prefix("42").expect("an event"))
        .unwrap_or_else(|e| panic!("{closing}: {e}"));
    assert_eq!(event[0], "closing", "{closing}");
    assert_eq!(event[1]["reason"], reason, "{closing}");
    assert_eq!(next_packet(socket).await.as_deref(), Some("41"));
}

#[tokio::test]
async fn an_engineio_session_that_never_connects_is_closed_and_gives_its_place_back() {
    // socketioxide's connect timeout runs on tokio's clock, not the server's: this one waits a
    // real second.
    let app = spawn_app_with(|c| {
        c.identify_timeout_secs = 1;
        c.max_connections_per_ip = 1;
    })
    .await;
    let mut socket = engineio_websocket(&app, &[]).await.expect("upgrade");
    let open = next_packet(&mut socket).await.expect("open packet");
    assert!(open.starts_with("0{"), "{open}");
    assert_refused(polling_handshake(&app, &[]).await, (429, "rate_limited"));
    // Engine.IO's close packet, then the end of the transport.
    assert_eq!(next_packet(&mut socket).await.as_deref(), Some("1"));
    assert_eq!(
        next_packet(&mut socket).await,
        None,
        "closed without CONNECT"
    );
    common::eventually(|| async {
        match polling_handshake(&app, &[]).await {
            (200, _) => Ok(()),
            refused => Err(format!("the place is given back: {refused:?}")),
        }
    })
    .await;
}

// ---- frame limits ---------------------------------------------------------------------------

#[tokio::test]
async fn a_socketio_websocket_frame_over_the_limit_closes_the_connection() {
    let app = spawn_app_with(|c| c.max_frame_bytes = 1000).await;
    let mut socket = socketio_connected(&app).await;
    let nick = "x".repeat(2000);
    let event = format!(r#"421["identify",{{"nick":"{nick}"}}]"#);
    socket.send(Message::Text(event.into())).await.unwrap();
    // The session opened directly on a WebSocket: it says why, as `/gateway` does.
    closed_with(&mut socket, "frame_too_large").await;
    assert_eq!(next_packet(&mut socket).await, None, "then closed");
}

#[tokio::test]
async fn a_socketio_polling_body_over_the_limit_is_refused() {
    let app = spawn_app_with(|c| c.max_frame_bytes = 1000).await;
    let sid = sid_of(&polling_handshake(&app, &[]).await);
    let path = format!("{POLLING}&sid={sid}");
    app.request("POST", &path)
        .raw("text/plain;charset=UTF-8", "40")
        .send()
        .await
        .expect_status(200);
    let nick = "x".repeat(2000);
    let event = format!(r#"421["identify",{{"nick":"{nick}"}}]"#);
    app.request("POST", &path)
        .raw("text/plain;charset=UTF-8", event)
        .send()
        .await
        .expect_error(413, "payload_too_large");
}
