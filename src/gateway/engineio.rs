//! The edge of the Socket.IO framing: what happens to an Engine.IO request (`/socket.io/…`)
//! before socketioxide sees it. socketioxide opens an Engine.IO session on the handshake — a
//! polling `GET` or a WebSocket upgrade without `sid` — long before the Socket.IO CONNECT its
//! namespace handler sees, so admission cannot wait for that handler:
//!
//! - every Engine.IO request passes the `Origin` check, the same as `/gateway` and `/ws`;
//! - a request that opens a session is admitted through [`Door::RealTime`] (Origin, the
//!   connection gate); one that opens it directly on a WebSocket is then served by
//!   [`socketio_ws`], never by socketioxide; any other carries its [`Admitted`] — with the
//!   gate's [`Pass`](crate::http::Pass) — in its extensions, which the session keeps for its
//!   whole life: the place is given back when the session ends, CONNECT or not;
//! - its URI and headers are copied out of hyper's read buffer (see [`detach`]);
//! - Engine.IO's own "payload too large" answer gets the error envelope.
//!
//! Refusals are answered here, in the error envelope, and no session exists.

use super::socketio_ws;
use crate::error::ErrorCode;
use crate::http::{peer_of, AppState, Door, HttpError};
use axum::body::Body;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Request, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Where socketioxide listens (its default `req_path`).
pub const PATH: &str = "/socket.io";

/// Whether socketioxide takes a request with this path (the rule of its `is_req_path`).
fn is_engineio(path: &str) -> bool {
    path.strip_prefix(PATH)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Whether an Engine.IO request opens a session: it names no `sid`, read exactly as Engine.IO
/// reads it (the first `&`-separated pair starting with `sid=`), so that a request admission
/// takes for one of an existing session can never open a new one.
fn opens_session(uri: &Uri) -> bool {
    !uri.query()
        .is_some_and(|query| query.split('&').any(|pair| pair.starts_with("sid=")))
}

/// The middleware in front of socketioxide's layer.
pub async fn edge(State(state): State<AppState>, request: Request<Body>, next: Next) -> Response {
    if !is_engineio(request.uri().path()) {
        return next.run(request).await;
    }
    let peer = peer_of(request.extensions());
    let request = if opens_session(request.uri()) {
        let (mut parts, body) = request.into_parts();
        match state.admit(peer, &parts.headers, Door::RealTime).await {
            // A session that opens on a WebSocket never meets socketioxide (see
            // [`super::socketio_ws`]).
            Ok(admitted) if socketio_ws::opens_directly(parts.uri.query(), &parts.headers) => {
                return match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
                    Ok(upgrade) => socketio_ws::upgrade(state, admitted, upgrade),
                    Err(rejection) => rejection.into_response(),
                };
            }
            Ok(admitted) => {
                detach(&mut parts);
                parts.extensions.insert(admitted);
            }
            Err(refused) => return refused.into_response(),
        }
        Request::from_parts(parts, body)
    } else {
        if let Err(refused) = state.check_origin(peer, request.headers()) {
            return refused.into_response();
        }
        request
    };
    let response = next.run(request).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return HttpError::new(
            ErrorCode::PayloadTooLarge,
            "the request body is larger than max_frame_bytes",
        )
        .into_response();
    }
    response
}

/// Gives the request that opens a Socket.IO session a URI and headers of their own.
/// socketioxide keeps that request's parts for the session's life, and hyper parses them as
/// slices of the HTTP connection's read buffer, which would stay allocated with them (about
/// 16 KiB a socket). Requests of an existing session (e.g. every poll) pass as they are.
fn detach(parts: &mut Parts) {
    parts.headers = parts
        .headers
        .iter()
        .filter_map(|(name, value)| {
            let name = HeaderName::from_bytes(name.as_str().as_bytes()).ok()?;
            Some((name, HeaderValue::from_bytes(value.as_bytes()).ok()?))
        })
        .collect();
    if let Ok(uri) = Uri::try_from(parts.uri.to_string()) {
        parts.uri = uri;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socketioxide_paths_are_recognised() {
        for path in ["/socket.io", "/socket.io/", "/socket.io/x"] {
            assert!(is_engineio(path), "{path}");
        }
        for path in ["/socket.iox", "/api/socket.io/", "/"] {
            assert!(!is_engineio(path), "{path}");
        }
    }

    #[test]
    fn only_a_sid_pair_makes_a_request_part_of_a_session() {
        let uri = |q: &str| Uri::try_from(format!("/socket.io/?{q}")).unwrap();
        assert!(opens_session(&uri("EIO=4&transport=polling")));
        assert!(opens_session(&uri("EIO=4&transport=polling&xsid=abc")));
        assert!(!opens_session(&uri("EIO=4&transport=polling&sid=abc")));
        assert!(!opens_session(&uri("sid=&EIO=4&transport=websocket")));
        assert!(opens_session(&Uri::from_static("/socket.io/")));
    }
}
