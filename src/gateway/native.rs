//! The native framing: one JSON envelope per WebSocket text frame (see `docs/protocol.md`).
//!
//! A reader loop decodes envelopes into commands for the core; a writer task drains the
//! connection's outbox and writes each batch with a single flush. They are two tasks so that a
//! client busy writing is still read while its own events wait for it to read: a client that
//! writes without reading meanwhile could otherwise block both sides.

use super::{close_code, holding, incoming, limit, wind_down, Incoming};
use crate::core::{
    Answer, ConnInfo, Connection, CoreError, Encoding, Next, Outbound, Outbox, Reply,
};
use crate::error::ErrorBody;
use crate::http::{Admitted, AppState};
use crate::metrics::Framing;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `GET /gateway`: admits the request (Origin, connection gate) and upgrades.
pub async fn upgrade(
    State(state): State<AppState>,
    mut admitted: Admitted,
    upgrade: WebSocketUpgrade,
) -> Response {
    let pass = admitted.pass.take();
    let info = admitted.into_conn_info();
    let tasks = state.tasks.clone();
    limit(upgrade, &state)
        .on_upgrade(move |socket| tasks.track_future(holding(pass, serve(state, socket, info))))
}

/// Runs one connection until either side ends it.
async fn serve(state: AppState, socket: WebSocket, info: ConnInfo) {
    let _open = state.metrics.connection(Framing::Native);
    let (mut conn, outbox) = state.chat.sessions.open(info);
    let closed = outbox.closed();
    let (sink, stream) = socket.split();
    let writer = state.tasks.spawn(write(sink, outbox));
    read(&state, &mut conn, stream, &closed).await;
    wind_down(&state, conn, &closed, writer).await;
}

/// What a client frame looks like before its `event` is known to be a command.
#[derive(Deserialize)]
struct Envelope {
    event: String,
    #[serde(default)]
    data: Value,
    #[serde(default)]
    ack: Option<u64>,
}

async fn read(
    state: &AppState,
    conn: &mut Connection,
    mut stream: SplitStream<WebSocket>,
    closed: &tokio_util::sync::CancellationToken,
) {
    loop {
        let frame = tokio::select! {
            _ = closed.cancelled() => return,
            frame = stream.next() => frame,
        };
        match incoming(frame, conn) {
            Incoming::Text(text) => {
                // Boxed: the reader's future would otherwise be as large as the largest
                // command's, for the connection's whole life.
                Box::pin(handle_text(state, conn, &text)).await;
            }
            Incoming::Binary => {
                let err =
                    CoreError::InvalidFrame("binary frames are not part of the protocol".into());
                state.chat.reply_error(conn, None, err);
            }
            Incoming::Control => {}
            Incoming::End => return,
        }
    }
}

async fn handle_text(state: &AppState, conn: &mut Connection, text: &str) {
    let envelope: Envelope = match serde_json::from_str(text) {
        Ok(envelope) => envelope,
        Err(err) => {
            let ack = serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|v| v.get("ack").and_then(Value::as_u64));
            let err = CoreError::InvalidFrame(format!("not a command envelope: {err}"));
            return state.chat.reply_error(conn, ack, err);
        }
    };
    match state.chat.decode(&envelope.event, envelope.data) {
        Ok(command) => state.chat.dispatch(conn, command, envelope.ack).await,
        Err(err) => state.chat.reply_error(conn, envelope.ack, err),
    }
}

async fn write(mut sink: SplitSink<WebSocket, Message>, mut outbox: Outbox) {
    let mut batch = Vec::new();
    loop {
        match outbox.next(&mut batch).await {
            Next::Batch => {
                for item in batch.drain(..) {
                    if sink.feed(Message::Text(encode(item))).await.is_err() {
                        return;
                    }
                }
                if sink.flush().await.is_err() {
                    return;
                }
            }
            Next::Close(reason) => {
                let closing = outbox.closing_event(reason).to_json();
                let _ = sink.feed(Message::Text(closing.into())).await;
                let frame = CloseFrame {
                    code: close_code(reason),
                    reason: Utf8Bytes::from_static(reason.message()),
                };
                let _ = sink.send(Message::Close(Some(frame))).await;
                return;
            }
        }
    }
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

/// `{"ack", "ok": true, "data"}` or `{"ack", "ok": false, "error"}`.
#[derive(Serialize)]
struct AckFrame<'a> {
    ack: Option<u64>,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a Answer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a ErrorBody>,
}

fn encode_reply(Reply { ack, result }: Reply) -> String {
    let frame = AckFrame {
        ack,
        ok: result.is_ok(),
        data: result.as_ref().ok(),
        error: result.as_ref().err(),
    };
    serde_json::to_string(&frame).unwrap_or_default()
}
