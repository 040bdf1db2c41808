//! The native framing: one JSON envelope per WebSocket text frame (see `docs/protocol.md`).
//!
//! One task per connection decodes envelopes into commands for the core and drains the
//! connection's outbox, writing each batch with a single flush.

use super::{limit, refusal, session_cookie};
use crate::app::AppState;
use crate::core::{
    CloseReason, Command, ConnInfo, Connection, CoreError, Encoding, Next, Outbound, Reply,
};
use crate::error::ErrorCode;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use futures_util::SinkExt;
use serde::Deserialize;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;

/// `GET /gateway`: checks the origin and upgrades.
pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !super::origin_allowed(&headers, &state.config.public_origins) {
        return refusal(
            ErrorCode::OriginNotAllowed,
            "this origin may not open a connection",
        );
    }
    let ip = state.client_ip(peer.ip(), &headers);
    if !state.core.admits_connection_from(ip) {
        return refusal(
            ErrorCode::RateLimited,
            "too many connections from this address",
        );
    }
    let info = ConnInfo {
        ip,
        credential: session_cookie(&headers),
    };
    let tasks = state.tasks.clone();
    limit(upgrade, &state).on_upgrade(move |socket| tasks.track_future(serve(state, socket, info)))
}

/// Runs one connection until either side ends it: one task reads commands and writes what
/// the connection's outbox holds, each batch in one flush.
async fn serve(state: AppState, mut socket: WebSocket, info: ConnInfo) {
    let (mut conn, mut outbox) = state.core.open(info);
    let closed = outbox.closed();
    let mut batch = Vec::new();
    loop {
        tokio::select! {
            biased;
            next = outbox.next(&mut batch) => match next {
                Next::Batch => {
                    let written = tokio::select! {
                        written = write_batch(&mut socket, &mut batch) => written,
                        // A client that stops reading must not hold the task forever.
                        _ = closed.cancelled() => false,
                    };
                    if !written {
                        break;
                    }
                }
                Next::Close(reason) => {
                    let goodbye = say_goodbye(&mut socket, outbox.closing_event(reason), reason);
                    let _ = tokio::time::timeout(GOODBYE_PATIENCE, goodbye).await;
                    break;
                }
            },
            frame = socket.recv() => match frame {
                Some(Ok(Message::Text(text))) => {
                    // Boxed: the connection's future would otherwise be as large as the
                    // largest command's, for the connection's whole life.
                    Box::pin(handle_text(&state, &mut conn, &text)).await;
                }
                Some(Ok(Message::Binary(_))) => {
                    let err = CoreError::InvalidFrame(
                        "binary frames are not part of the protocol".into(),
                    );
                    state.core.reply_error(&conn, None, err);
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
            },
        }
    }
    state.core.close(conn);
}

/// How long a closing connection may take to say why before it is dropped.
const GOODBYE_PATIENCE: Duration = Duration::from_secs(2);

/// What a client frame looks like before its `event` is known to be a command.
#[derive(Deserialize)]
struct Envelope {
    event: String,
    #[serde(default)]
    data: Value,
    #[serde(default)]
    ack: Option<u64>,
}

async fn handle_text(state: &AppState, conn: &mut Connection, text: &str) {
    let envelope: Envelope = match serde_json::from_str(text) {
        Ok(envelope) => envelope,
        Err(err) => {
            let ack = serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|v| v.get("ack").and_then(Value::as_u64));
            let err = CoreError::InvalidFrame(format!("not a command envelope: {err}"));
            return state.core.reply_error(conn, ack, err);
        }
    };
    match Command::parse(&envelope.event, envelope.data) {
        Ok(command) => state.core.dispatch(conn, command, envelope.ack).await,
        Err(err) => state.core.reply_error(conn, envelope.ack, err),
    }
}

/// Writes a batch of queued items and flushes once; `false` when the socket failed.
async fn write_batch(socket: &mut WebSocket, batch: &mut Vec<Outbound>) -> bool {
    for item in batch.drain(..) {
        if socket.feed(Message::Text(encode(item))).await.is_err() {
            return false;
        }
    }
    socket.flush().await.is_ok()
}

/// Sends the `closing` event and a close frame.
async fn say_goodbye(socket: &mut WebSocket, closing: crate::core::Event, reason: CloseReason) {
    let _ = socket.feed(Message::Text(closing.to_json().into())).await;
    let frame = CloseFrame {
        code: close_code(reason),
        reason: Utf8Bytes::from_static(reason.message()),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

fn encode(item: Outbound) -> Utf8Bytes {
    match item {
        Outbound::Event(broadcast) => broadcast
            .encoded(Encoding::Native, |event| Some(Bytes::from(event.to_json())))
            .and_then(|bytes| Utf8Bytes::try_from(bytes.clone()).ok())
            .unwrap_or_default(),
        Outbound::Reply(reply) => encode_reply(*reply).into(),
    }
}

fn encode_reply(Reply { ack, result }: Reply) -> String {
    let body = match result {
        Ok(data) => serde_json::json!({ "ack": ack, "ok": true, "data": data }),
        Err(error) => serde_json::json!({ "ack": ack, "ok": false, "error": error }),
    };
    body.to_string()
}

/// WebSocket close codes: 1001 "going away" for shutdown, 1008 "policy" otherwise.
fn close_code(reason: CloseReason) -> u16 {
    match reason {
        CloseReason::Shutdown => 1001,
        CloseReason::SlowConsumer
        | CloseReason::SessionRevoked
        | CloseReason::Kicked
        | CloseReason::Banned => 1008,
    }
}
