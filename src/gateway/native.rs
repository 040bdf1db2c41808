//! The native framing: one JSON envelope per WebSocket text frame (see `docs/protocol.md`).
//!
//! One task serves a connection (see [`super::wire`]): it reads the client's frames, applies
//! one command at a time, and writes the connection's outbox, all in one `select!`. A command
//! runs with the connection while reading waits for it, exactly as before; writing never
//! waits for reading nor reading for writing, so a client that writes without reading is
//! still read while its events wait for it, until its queue fills and it is closed as a slow
//! consumer.
//!
//! An event for a connection with nothing waiting is written by whoever delivers it (see
//! [`crate::core::Express`] and [`Line`]), so a message to a big room wakes no connection task
//! at all unless a socket is full.

use super::wire::{text_frame, Handshake, Step, Wire};
use super::{broken_by_client, close_code, holding, wire_config, Incoming};
use crate::core::{
    Answer, Broadcast, ConnInfo, Connection, CoreError, Encoding, Express, Next, Outbound, Reply,
};
use crate::error::ErrorBody;
use crate::http::{Admitted, AppState, Line};
use crate::metrics::Framing;
use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::future::Future;
use std::time::Duration;
use tungstenite::{Message, Utf8Bytes};

/// How long a connection the server closes gets to take its last frames.
const GOODBYE: Duration = Duration::from_secs(2);

/// `GET /gateway`: admits the request (Origin, connection gate) and upgrades.
pub async fn upgrade(
    State(state): State<AppState>,
    mut admitted: Admitted,
    handshake: Handshake,
) -> Response {
    let pass = admitted.pass.take();
    let info = admitted.into_conn_info();
    let tasks = state.tasks.clone();
    let config = wire_config(&state);
    handshake.accept(config, move |wire| {
        tasks.track_future(holding(pass, serve(state, wire, info)))
    })
}

/// Runs one connection until either side ends it. An `async` block, not an `async fn`, whose
/// arguments would be kept twice in the future for the connection's life (the idle
/// connection's whole cost is this future, see `bench/analysis.md`).
#[allow(clippy::manual_async_fn)] // on purpose: see above
fn serve(state: AppState, mut wire: Wire, info: ConnInfo) -> impl Future<Output = ()> + Send {
    async move {
        let state = &state;
        let _open = state.metrics.connection(Framing::Native);
        let (conn, mut outbox) = state.chat.sessions.open(info);
        outbox.express(wire.line());
        // The connection is either idle here or lent to the command being applied.
        let mut idle = Some(conn);
        let mut command: Option<BoxFuture<'_, Connection>> = None;
        let mut batch = Vec::new();
        // Heard here while a batch waits for a client that does not read: the outbox is not
        // read then, and a full queue is exactly what closes it. Otherwise the outbox hears
        // it (one registration per wake-up instead of two: 10 000 per message in a big room).
        let closed = outbox.closed();
        let closing = loop {
            tokio::select! {
                () = closed.cancelled(), if wire.writing() => {
                    break Some(outbox.close_reason())
                }
                conn = applied(&mut command) => {
                    command = None;
                    idle = Some(conn);
                }
                next = outbox.next(&mut batch), if !wire.writing() => match next {
                    Next::Batch => {
                        batch.drain(..).for_each(|item| match item {
                            Outbound::Event(broadcast) => {
                                wire.send_frame(encode_event(&broadcast).clone())
                            }
                            Outbound::Reply(reply) => wire.send_text(encode_reply(*reply).into()),
                        });
                        // A burst's batch is not kept by an idle connection.
                        if batch.capacity() > 4 {
                            batch = Vec::new();
                        }
                    }
                    Next::Close(reason) => break Some(reason),
                },
                step = wire.next(idle.is_some()) => match step {
                    // Reading is on only while the connection is idle.
                    Step::Read(frame) => match (read(frame, idle.as_ref()), idle.as_mut()) {
                        (Incoming::Text(text), Some(_)) => {
                            let Some(mut conn) = idle.take() else { continue };
                            command = Some(Box::pin(async move {
                                handle_text(state, &mut conn, &text).await;
                                conn
                            }));
                        }
                        (Incoming::Binary, Some(conn)) => {
                            let err = CoreError::InvalidFrame(
                                "binary frames are not part of the protocol".into(),
                            );
                            state.chat.reply_error(conn, None, err);
                        }
                        // A client that broke a rule has been told to close: it hears why.
                        (Incoming::End, _) => {
                            break closed.is_cancelled().then(|| outbox.close_reason())
                        }
                        _ => {}
                    },
                    Step::Written => {}
                    Step::Lost => break None,
                },
            }
        };
        // What the connection writes from here on (its closing words) comes last.
        outbox.stop_express();
        let conn = match (command, idle) {
            (Some(command), _) => command.await,
            (None, Some(conn)) => conn,
            (None, None) => return,
        };
        state.chat.sessions.close(conn);
        let goodbye = async {
            if let Some(reason) = closing {
                let event = outbox.closing_event(reason).to_json();
                wire.send_text(event.into());
                wire.close(close_code(reason), reason.message()).await;
            } else {
                // The answer to the client's close, if it sent one.
                wire.flush().await;
            }
        };
        let _ = tokio::time::timeout(GOODBYE, goodbye).await;
    }
}

/// The command being applied, when it is done (never, when there is none).
async fn applied(command: &mut Option<BoxFuture<'_, Connection>>) -> Connection {
    match command {
        Some(command) => command.await,
        None => std::future::pending().await,
    }
}

/// What the next thing the client sent is; a client that broke a rule has its connection
/// ended with the reason (the writer then says why).
fn read(
    frame: Option<Result<Message, tungstenite::Error>>,
    conn: Option<&Connection>,
) -> Incoming<Utf8Bytes> {
    match frame {
        Some(Ok(Message::Text(text))) => Incoming::Text(text),
        Some(Ok(Message::Binary(_))) => Incoming::Binary,
        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Incoming::Control,
        Some(Err(err)) => {
            if let (Some(reason), Some(conn)) = (broken_by_client(&err), conn) {
                conn.end(reason);
            }
            Incoming::End
        }
        Some(Ok(Message::Close(_))) | None => Incoming::End,
    }
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

/// Writes an event straight into an idle connection's socket, from the delivering task, as a
/// native frame (only the native framing hands its line to the core). On the line itself, not
/// a wrapper: one pointer fewer to follow per recipient.
impl Express for Line {
    fn send(&self, broadcast: &Broadcast) -> bool {
        self.try_send_frame(encode_event(broadcast))
    }
}

/// A broadcast's whole frame, header included: encoded once, and every recipient's socket
/// is handed the same bytes.
fn encode_event(broadcast: &Broadcast) -> &Bytes {
    static EMPTY: Bytes = Bytes::new();
    broadcast
        .encoded(Encoding::Native, |event| {
            Some(text_frame(event.to_json().as_bytes()))
        })
        .unwrap_or(&EMPTY)
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
