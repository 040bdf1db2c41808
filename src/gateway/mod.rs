//! Framings: the ways clients reach the core in real time. Each one only decodes frames into
//! [`Command`](crate::core::Command)s and encodes [`Event`](crate::core::Event)s into frames;
//! every rule lives in the core.
//!
//! - [`native`]: JSON envelopes over WebSocket at `/gateway`.
//! - [`socketio`]: Socket.IO v5 / Engine.IO v4 at `/socket.io/` (socketioxide), behind its
//!   edge middleware ([`engineio`]), which admits Engine.IO sessions before socketioxide opens
//!   them; sessions that open directly on a WebSocket are served by [`socketio_ws`] instead,
//!   which writes each broadcast's one encoded frame to every recipient.
//! - [`simple`]: the simple chat WebSocket at `/ws` for clients of the key-based chat API.
//!
//! Every framing is admitted at the HTTP edge before anything is opened (see
//! [`crate::http::Door::RealTime`]) and holds its place behind the connection gate for its
//! whole life.

pub mod engineio;
pub mod native;
pub mod simple;
pub mod socketio;
pub mod socketio_ws;
pub mod wire;

use crate::core::{CloseReason, Connection};
use crate::http::{AppState, Pass};
use axum::extract::ws::{Message, Utf8Bytes, WebSocketUpgrade};
use axum::routing::get;
use axum::Router;
use futures_util::FutureExt;
use std::future::Future;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Routes of the WebSocket framings (Socket.IO is a layer, see [`socketio::layer`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/gateway", get(native::upgrade))
        .route("/ws", get(simple::upgrade))
}

/// Applies the frame and buffer limits every WebSocket upgrade gets. Client frames are small,
/// so a small read buffer keeps idle connections cheap. The write buffer is what a batch of
/// frames is gathered in before a write: it never shrinks, so it stays small too.
fn limit(upgrade: WebSocketUpgrade, state: &AppState) -> WebSocketUpgrade {
    let max = state.config.max_frame_bytes;
    upgrade
        .read_buffer_size(1024)
        .write_buffer_size(8 * 1024)
        .max_message_size(max)
        .max_frame_size(max)
}

/// The same limits for the native framing's own WebSocket ([`wire`]): tungstenite writes only
/// control frames there, and at once (the wire queues them), so it keeps no write buffer.
fn wire_config(state: &AppState) -> tungstenite::protocol::WebSocketConfig {
    let max = state.config.max_frame_bytes;
    tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(256)
        .write_buffer_size(0)
        .max_message_size(Some(max))
        .max_frame_size(Some(max))
}

/// Runs an upgraded connection, holding its place behind the gate until it ends; the
/// connection is no handshake any more once it runs (it is built as it starts to run). Not an
/// `async fn`: that would keep the connection's future twice in its task — its argument and
/// the future it awaits — for the connection's whole life.
fn holding(pass: Option<Pass>, connection: impl Future<Output = ()>) -> impl Future<Output = ()> {
    if let Some(pass) = &pass {
        pass.arrived();
    }
    connection.map(move |()| drop(pass))
}

/// Ends a connection whose reader is done: the core forgets it, and the writer gets two
/// seconds to send why when the server is the one closing, or is stopped at once.
async fn wind_down(
    state: &AppState,
    conn: Connection,
    closed: &CancellationToken,
    mut writer: JoinHandle<()>,
) {
    state.chat.sessions.close(conn);
    if closed.is_cancelled() {
        if tokio::time::timeout(Duration::from_secs(2), &mut writer)
            .await
            .is_err()
        {
            writer.abort();
        }
    } else {
        writer.abort();
    }
}

/// What a reader makes of the next thing its WebSocket stream yields.
enum Incoming<T = Utf8Bytes> {
    Text(T),
    /// A binary frame, which no framing's protocol has: each answers it in its own way.
    Binary,
    /// A ping or a pong (the WebSocket library answers pings itself).
    Control,
    /// The stream ended: closed, lost, or broken by the client — then the connection is
    /// already ending with the reason (see [`broken_by_client`]).
    End,
}

fn incoming(frame: Option<Result<Message, axum::Error>>, conn: &mut Connection) -> Incoming {
    match frame {
        Some(Ok(Message::Text(text))) => Incoming::Text(text),
        Some(Ok(Message::Binary(_))) => Incoming::Binary,
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Incoming::Control,
        Some(Err(err)) => {
            let err = err.into_inner();
            if let Some(reason) = err.downcast_ref().and_then(broken_by_client) {
                conn.end(reason);
            }
            Incoming::End
        }
        Some(Ok(Message::Close(_))) | None => Incoming::End,
    }
}

/// Why a client's WebSocket stream ended, when the client broke a rule: oversized frames,
/// text that is not UTF-8, protocol violations. `None` for a clean close or a lost connection.
fn broken_by_client(err: &tungstenite::Error) -> Option<CloseReason> {
    match err {
        tungstenite::Error::Capacity(_) => Some(CloseReason::FrameTooLarge),
        tungstenite::Error::Utf8(_) => Some(CloseReason::InvalidText),
        tungstenite::Error::Protocol(_) => Some(CloseReason::ProtocolError),
        _ => None,
    }
}

/// WebSocket close codes (RFC 6455 §7.4.1): 1001 "going away" for shutdown, 1009 "too big",
/// 1007 "invalid data", 1002 "protocol error", 1008 "policy" otherwise.
fn close_code(reason: CloseReason) -> u16 {
    match reason {
        CloseReason::Shutdown => 1001,
        CloseReason::FrameTooLarge => 1009,
        CloseReason::InvalidText => 1007,
        CloseReason::ProtocolError => 1002,
        CloseReason::SlowConsumer
        | CloseReason::SessionRevoked
        | CloseReason::SessionExpired
        | CloseReason::Kicked
        | CloseReason::Banned
        | CloseReason::IdentifyTimeout => 1008,
        // Like a restart: the client reconnects with the same session.
        CloseReason::Renamed => 1012,
    }
}
