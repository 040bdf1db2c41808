//! Framings: the ways clients reach the core in real time. Each one only decodes frames into
//! [`Command`](crate::core::Command)s and encodes [`Event`](crate::core::Event)s into frames;
//! every rule lives in the core.
//!
//! - [`native`]: JSON envelopes over WebSocket at `/gateway`.
//! - [`socketio`]: Socket.IO v5 / Engine.IO v4 at `/socket.io/` (socketioxide).
//! - [`simple`]: the simple chat WebSocket at `/ws` for clients of the key-based chat API.

pub mod native;
mod origin;
pub mod simple;
pub mod socketio;

pub use origin::origin_allowed;

use crate::app::AppState;
use crate::error::{ErrorBody, ErrorCode};
use axum::extract::ws::WebSocketUpgrade;
use axum::http::header::COOKIE;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;

/// Routes of the WebSocket framings (Socket.IO is a layer, see [`socketio::layer`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/gateway", get(native::upgrade))
        .route("/ws", get(simple::upgrade))
}

/// The `session` cookie's value, if the request carries one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == "session")
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
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

/// The `{"error": …}` body of a refused upgrade.
fn refusal(code: ErrorCode, message: &str) -> axum::response::Response {
    crate::api::ApiError::from(ErrorBody::new(code, message)).into_response_with_body()
}
