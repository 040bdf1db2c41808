//! Socket.IO v5 over Engine.IO v4 for sessions that open directly on a WebSocket
//! (`/socket.io/?EIO=4&transport=websocket`, no `sid`) — what a client configured with
//! `transports: ["websocket"]` does, and what every high-volume client should.
//!
//! Why a path of its own: through socketioxide, every recipient of a broadcast costs a
//! serialisation of the event into a Socket.IO packet, an encoding of that packet into an
//! Engine.IO one, a channel and a task of engineioxide's, on top of the connection's own queue
//! and writer; socketioxide keeps its engine socket private, so an already-encoded packet cannot
//! be handed to it (see `bench/analysis.md`). Over a plain WebSocket, Engine.IO adds nothing
//! but a type digit in front of each text frame, so this framing is the native one with
//! another envelope: each broadcast is encoded once as `42["event",data]` and the same bytes
//! are written to every recipient, from the same bounded queue, coalescing writer and
//! slow-consumer rule as `/gateway`. Sessions that start on long-polling (and may upgrade
//! later) stay with socketioxide ([`super::socketio`]); both speak the same protocol, and the
//! same client tests run against both.
//!
//! The session: the server sends Engine.IO's open packet; the client has
//! `identify_timeout_secs` to CONNECT to the namespace `/` (`40`, with an optional auth object
//! whose `token` wins over the session cookie), else it gets Engine.IO's close packet (`1`).
//! Then events (`42[name,data]`, with an ack id `42<id>[…]`) are commands, acks come back as
//! `43<id>[{"ok"…}]`, the server pings (`2`) every 25 s and a client that has not answered
//! (`3`) by the next ping is gone. When the server closes it sends the `closing` event, then
//! the namespace DISCONNECT (`41`), then the WebSocket close frame.

use super::socketio::AckData;
use super::{close_code, holding, incoming, limit, wind_down, Incoming};
use crate::core::{ConnInfo, Connection, CoreError, Encoding, Next, Outbound, Outbox, Reply};
use crate::http::{Admitted, AppState};
use crate::metrics::Framing;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the server pings, and how long a client may take to answer: Engine.IO's
/// defaults, which clients read from the open packet.
const PING_INTERVAL: Duration = Duration::from_secs(25);
const PING_TIMEOUT: Duration = Duration::from_secs(20);

/// Whether an Engine.IO request that opens a session asks for a WebSocket from the start.
pub fn opens_directly(query: Option<&str>, headers: &axum::http::HeaderMap) -> bool {
    let pairs = || query.into_iter().flat_map(|q| q.split('&'));
    let upgrade = headers
        .get(axum::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    upgrade && pairs().any(|p| p == "transport=websocket") && pairs().any(|p| p == "EIO=4")
}

/// Upgrades an admitted request (see [`super::engineio::edge`]).
pub fn upgrade(state: AppState, mut admitted: Admitted, upgrade: WebSocketUpgrade) -> Response {
    let pass = admitted.pass.take();
    let info = admitted.into_conn_info();
    let tasks = state.tasks.clone();
    limit(upgrade, &state)
        .on_upgrade(move |socket| tasks.track_future(holding(pass, serve(state, socket, info))))
}

async fn serve(state: AppState, mut socket: WebSocket, mut info: ConnInfo) {
    let _open = state.metrics.connection(Framing::SocketIo);
    let sid = crate::auth::new_public_id();
    let open = format!(
        r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":{},"pingTimeout":{},"maxPayload":{}}}"#,
        PING_INTERVAL.as_millis(),
        PING_TIMEOUT.as_millis(),
        state.config.max_frame_bytes
    );
    if socket.send(Message::Text(open.into())).await.is_err() {
        return;
    }
    let connect_timeout = Duration::from_secs(state.config.identify_timeout_secs);
    match tokio::time::timeout(connect_timeout, connect(&mut socket)).await {
        Ok(Some(token)) => info.credential = token.or(info.credential),
        Ok(None) => return,
        Err(_) => {
            let _ = socket.send(Message::Text("1".into())).await;
            let _ = socket.send(Message::Close(None)).await;
            return;
        }
    }
    let connected = format!(r#"40{{"sid":"{}"}}"#, crate::auth::new_public_id());
    if socket.send(Message::Text(connected.into())).await.is_err() {
        return;
    }
    let (mut conn, outbox) = state.chat.sessions.open(info);
    let closed = outbox.closed();
    let gone = CancellationToken::new();
    let answered = Arc::new(AtomicBool::new(true));
    let (sink, stream) = socket.split();
    let writer = state
        .tasks
        .spawn(write(sink, outbox, Arc::clone(&answered), gone.clone()));
    read(&state, &mut conn, stream, &closed, &gone, &answered).await;
    wind_down(&state, conn, &closed, writer).await;
}

/// Waits for the CONNECT to `/`; `Some(token)` once connected (the auth payload's `token`, if
/// any), `None` if the client went away. A CONNECT to another namespace is refused as
/// Socket.IO refuses it, and the client may try again.
async fn connect(socket: &mut WebSocket) -> Option<Option<String>> {
    loop {
        let Message::Text(text) = socket.next().await?.ok()? else {
            continue;
        };
        match Packet::parse(&text) {
            Packet::Connect {
                namespace: "/",
                auth,
            } => {
                let token = auth
                    .and_then(|auth| serde_json::from_str::<Value>(auth).ok())
                    .and_then(|auth| auth.get("token")?.as_str().map(str::to_owned));
                return Some(token);
            }
            Packet::Connect { namespace, .. } => {
                let refused = format!(r#"44{namespace},{{"message":"Invalid namespace"}}"#);
                socket.send(Message::Text(refused.into())).await.ok()?;
            }
            Packet::Close | Packet::Disconnect => return None,
            _ => {}
        }
    }
}

async fn read(
    state: &AppState,
    conn: &mut Connection,
    mut stream: SplitStream<WebSocket>,
    closed: &CancellationToken,
    gone: &CancellationToken,
    answered: &AtomicBool,
) {
    loop {
        let frame = tokio::select! {
            _ = closed.cancelled() => return,
            _ = gone.cancelled() => return,
            frame = stream.next() => frame,
        };
        let text = match incoming(frame, conn) {
            Incoming::Text(text) => text,
            Incoming::Binary => {
                let err = CoreError::InvalidFrame("binary frames are not supported".into());
                state.chat.reply_error(conn, None, err);
                continue;
            }
            Incoming::Control => continue,
            Incoming::End => return,
        };
        match Packet::parse(&text) {
            Packet::Pong => answered.store(true, Ordering::Relaxed),
            Packet::Close | Packet::Disconnect => return,
            Packet::Event { ack, payload } => {
                // Boxed: the reader's future would otherwise be as large as the largest
                // command's, for the connection's whole life.
                Box::pin(handle_event(state, conn, ack, payload)).await;
            }
            Packet::Binary { ack } => {
                let err = CoreError::InvalidFrame("binary attachments are not supported".into());
                state.chat.reply_error(conn, ack, err);
            }
            // Acks of the client's (the server asks for none), a repeated CONNECT, noops.
            Packet::Ignored | Packet::Connect { .. } => {}
            Packet::Invalid => {
                let err = CoreError::InvalidFrame("not a Socket.IO packet".into());
                state.chat.reply_error(conn, None, err);
            }
        }
    }
}

async fn handle_event(state: &AppState, conn: &mut Connection, ack: Option<u64>, payload: &str) {
    let mut args = match serde_json::from_str::<Vec<Value>>(payload) {
        Ok(args) => args.into_iter(),
        Err(err) => {
            let err = CoreError::InvalidFrame(format!("not an event: {err}"));
            return state.chat.reply_error(conn, ack, err);
        }
    };
    let Some(Value::String(event)) = args.next() else {
        let err = CoreError::InvalidFrame("an event starts with its name".into());
        return state.chat.reply_error(conn, ack, err);
    };
    let data = args.next().unwrap_or(Value::Null);
    match state.chat.decode(&event, data) {
        Ok(command) => state.chat.dispatch(conn, command, ack).await,
        Err(err) => state.chat.reply_error(conn, ack, err),
    }
}

async fn write(
    mut sink: SplitSink<WebSocket, Message>,
    mut outbox: Outbox,
    answered: Arc<AtomicBool>,
    gone: CancellationToken,
) {
    let mut batch = Vec::new();
    let mut ping =
        tokio::time::interval_at(tokio::time::Instant::now() + PING_INTERVAL, PING_INTERVAL);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let next = tokio::select! {
            next = outbox.next(&mut batch) => next,
            _ = ping.tick() => {
                // No answer to the last ping within a whole interval (more than
                // PING_TIMEOUT): the client is gone.
                if !answered.swap(false, Ordering::Relaxed)
                    || sink.send(Message::Text(Utf8Bytes::from_static("2"))).await.is_err()
                {
                    gone.cancel();
                    let _ = sink.close().await;
                    return;
                }
                continue;
            }
        };
        match next {
            Next::Batch => {
                for item in batch.drain(..) {
                    let Some(frame) = encode(item) else { continue };
                    if sink.feed(Message::Text(frame)).await.is_err() {
                        return;
                    }
                }
                if sink.flush().await.is_err() {
                    return;
                }
            }
            Next::Close(reason) => {
                let closing = outbox.closing_event(reason);
                let closing = event_frame(closing.name(), &closing.data_json());
                let _ = sink.feed(Message::Text(closing.into())).await;
                let _ = sink.feed(Message::Text(Utf8Bytes::from_static("41"))).await;
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

/// An event's Engine.IO + Socket.IO frame, `42["name",data]`.
fn event_frame(name: &str, data: &str) -> String {
    let name = serde_json::to_string(name).unwrap_or_default();
    format!("42[{name},{data}]")
}

fn encode(item: Outbound) -> Option<Utf8Bytes> {
    match item {
        Outbound::Event(broadcast) => broadcast
            .encoded(Encoding::SocketIo, |event| {
                Some(Bytes::from(event_frame(event.name(), &event.data_json())))
            })
            .and_then(|bytes| Utf8Bytes::try_from(bytes.clone()).ok()),
        Outbound::Reply(reply) => {
            let Reply { ack, result } = *reply;
            let ack = ack?;
            let data = AckData {
                ok: result.is_ok(),
                data: result.as_ref().ok(),
                error: result.as_ref().err(),
            };
            let data = serde_json::to_string(&data).ok()?;
            Some(format!("43{ack}[{data}]").into())
        }
    }
}

/// A client's text frame, read as Engine.IO v4 and Socket.IO v5 packets on the namespace `/`.
#[derive(Debug, PartialEq, Eq)]
enum Packet<'a> {
    /// Engine.IO `1`.
    Close,
    /// Engine.IO `3`, the answer to the server's ping.
    Pong,
    /// Socket.IO CONNECT (`40`, `40{auth}`, `40/ns,{auth}`).
    Connect {
        namespace: &'a str,
        auth: Option<&'a str>,
    },
    /// Socket.IO DISCONNECT (`41`).
    Disconnect,
    /// Socket.IO EVENT on `/`: its ack id and JSON arguments.
    Event {
        ack: Option<u64>,
        payload: &'a str,
    },
    /// Socket.IO BINARY_EVENT or BINARY_ACK (attachments are not part of Parlor's protocol).
    Binary {
        ack: Option<u64>,
    },
    /// Engine.IO pings, noops and upgrade probes, the client's acks.
    Ignored,
    Invalid,
}

impl<'a> Packet<'a> {
    fn parse(text: &'a str) -> Self {
        let Some(engine) = text.chars().next() else {
            return Packet::Invalid;
        };
        let rest = &text[1..];
        match engine {
            '1' => Packet::Close,
            '3' => Packet::Pong,
            '2' | '5' | '6' => Packet::Ignored,
            '4' => Self::parse_socketio(rest),
            _ => Packet::Invalid,
        }
    }

    fn parse_socketio(text: &'a str) -> Self {
        let Some(kind) = text.chars().next() else {
            return Packet::Invalid;
        };
        let mut rest = &text[1..];
        if kind == '5' || kind == '6' {
            // `<count>-` attachments first.
            rest = rest.split_once('-').map_or("", |(_, rest)| rest);
        }
        let (namespace, rest) = match rest.strip_prefix('/') {
            Some(_) => match rest.split_once(',') {
                Some((namespace, rest)) => (namespace, rest),
                None => (rest, ""),
            },
            None => ("/", rest),
        };
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (ack, payload) = rest.split_at(digits);
        let ack = match ack {
            "" => None,
            digits => match digits.parse() {
                Ok(ack) => Some(ack),
                Err(_) => return Packet::Invalid,
            },
        };
        match (kind, namespace) {
            ('0', _) => Packet::Connect {
                namespace,
                auth: Some(payload).filter(|p| !p.is_empty()),
            },
            ('1', _) => Packet::Disconnect,
            ('2', "/") => Packet::Event { ack, payload },
            ('3', _) => Packet::Ignored,
            ('5' | '6', "/") => Packet::Binary { ack },
            _ => Packet::Invalid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    #[test]
    fn client_packets_are_read_as_socketio_reads_them() {
        assert_eq!(Packet::parse("3"), Packet::Pong);
        assert_eq!(Packet::parse("1"), Packet::Close);
        assert_eq!(Packet::parse("41"), Packet::Disconnect);
        assert_eq!(
            Packet::parse("40"),
            Packet::Connect {
                namespace: "/",
                auth: None
            }
        );
        assert_eq!(
            Packet::parse(r#"40{"token":"t"}"#),
            Packet::Connect {
                namespace: "/",
                auth: Some(r#"{"token":"t"}"#)
            }
        );
        assert_eq!(
            Packet::parse(r#"40/admin,{"token":"t"}"#),
            Packet::Connect {
                namespace: "/admin",
                auth: Some(r#"{"token":"t"}"#)
            }
        );
        assert_eq!(
            Packet::parse(r#"42["send",{"text":"1"}]"#),
            Packet::Event {
                ack: None,
                payload: r#"["send",{"text":"1"}]"#
            }
        );
        assert_eq!(
            Packet::parse(r#"4217["send",{"text":"17"}]"#),
            Packet::Event {
                ack: Some(17),
                payload: r#"["send",{"text":"17"}]"#
            }
        );
        assert_eq!(
            Packet::parse(r#"451-3["send",{"_placeholder":true,"num":0}]"#),
            Packet::Binary { ack: Some(3) }
        );
        assert_eq!(Packet::parse(r#"42/admin,["x"]"#), Packet::Invalid);
        assert_eq!(Packet::parse("42999999999999999999999[]"), Packet::Invalid);
        assert_eq!(Packet::parse(""), Packet::Invalid);
        assert_eq!(Packet::parse("4"), Packet::Invalid);
        assert_eq!(Packet::parse("x"), Packet::Invalid);
        assert_eq!(Packet::parse("2"), Packet::Ignored);
    }

    #[test]
    fn events_and_acks_are_encoded_as_socketio_frames() {
        assert_eq!(
            event_frame("message", r#"{"a":1}"#),
            r#"42["message",{"a":1}]"#
        );
        let reply = Reply {
            ack: Some(7),
            result: Err(CoreError::RateLimited(None).body()),
        };
        let frame = encode(Outbound::Reply(Box::new(reply))).unwrap();
        assert!(
            frame
                .as_str()
                .starts_with(r#"437[{"ok":false,"error":{"code":"rate_limited""#),
            "{}",
            frame.as_str()
        );
    }

    #[test]
    fn only_a_websocket_upgrade_on_engineio_4_opens_directly() {
        let mut upgrade = HeaderMap::new();
        upgrade.insert("upgrade", "websocket".parse().unwrap());
        assert!(opens_directly(Some("EIO=4&transport=websocket"), &upgrade));
        assert!(!opens_directly(Some("EIO=4&transport=polling"), &upgrade));
        assert!(!opens_directly(Some("EIO=3&transport=websocket"), &upgrade));
        assert!(!opens_directly(
            Some("EIO=4&transport=websocket"),
            &HeaderMap::new()
        ));
    }
}
