//! The simple chat WebSocket at `/ws`, for clients of the key-based chat API: plain
//! `{"message"}` frames in, `{"message","author"}` / `{"event":"join"|"leave"}` /
//! `{"status"}` frames out. It needs a session cookie, allows one `/ws` connection per user,
//! and sits in the same lobby as every other framing.

use super::{close_code, holding, incoming, limit, Incoming};
use crate::auth::Identity;
use crate::core::{
    Command, ConnInfo, Connection, CoreError, Encoding, Event, Next, Outbound, Outbox, SendMessage,
};
use crate::domain::{FileId, RoomName};
use crate::error::ErrorCode;
use crate::http::{Admitted, AppState, HttpError};
use crate::metrics::{Framing, Via};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;

/// `GET /ws`: 401 without a valid session cookie, 409 when the user already has a `/ws`
/// connection, otherwise an upgrade.
pub async fn upgrade(
    State(state): State<AppState>,
    mut admitted: Admitted,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(token) = admitted.credential.as_ref().map(|c| c.token().to_owned()) else {
        return refusal(ErrorCode::Unauthenticated, "a session cookie is required");
    };
    let identity = match state.chat.accounts.resolve(&token).await {
        Ok(identity) => identity,
        Err(err) => return refusal(err.code(), &err.to_string()),
    };
    if !state
        .chat
        .sessions
        .take_simple_slot(identity.principal)
        .await
    {
        return refusal(
            ErrorCode::AlreadyConnected,
            "this user already has a /ws connection",
        );
    }
    let pass = admitted.pass.take();
    let info = admitted.into_conn_info();
    let tasks = state.tasks.clone();
    limit(upgrade, &state).on_upgrade(move |socket| {
        tasks.track_future(holding(pass, serve(state, socket, info, identity)))
    })
}

async fn serve(state: AppState, mut socket: WebSocket, info: ConnInfo, identity: Identity) {
    let principal = identity.principal;
    let me = identity.name.clone();
    let _open = state.metrics.connection(Framing::Simple);
    let (mut conn, outbox) = state.chat.sessions.open(info);
    let joined = match state.chat.sessions.bind(&mut conn, identity).await {
        Ok(()) => state.chat.lobby.join(&mut conn).map(|_| ()),
        Err(err) => Err(err),
    };
    if let Err(err) = joined {
        state.metrics.refused(err.code(), Via::RealTime);
        let refusal = json!({ "status": false, "code": err.code() }).to_string();
        let _ = socket.send(Message::Text(refusal.into())).await;
        state.chat.sessions.close(conn);
        state.chat.sessions.free_simple_slot(principal);
        return;
    }
    let closed = outbox.closed();
    let (sink, stream) = socket.split();
    let writer = state.tasks.spawn(write(sink, outbox, me));
    read(&state, &mut conn, stream, &closed).await;
    state.chat.sessions.close(conn);
    state.chat.sessions.free_simple_slot(principal);
    if !closed.is_cancelled() {
        writer.abort();
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Frame {
    #[serde(default)]
    message: Option<String>,
    /// Ids of the sender's lobby uploads.
    #[serde(default)]
    attachments: Vec<FileId>,
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
        let text = match incoming(frame, conn) {
            Incoming::Text(text) => text,
            Incoming::Binary => {
                state.chat.reply_error(
                    conn,
                    Some(0),
                    CoreError::InvalidFrame("binary frame".into()),
                );
                continue;
            }
            Incoming::Control => continue,
            Incoming::End => return,
        };
        match serde_json::from_str::<Frame>(&text) {
            Ok(Frame {
                message,
                attachments,
            }) => {
                let send = SendMessage::parse(
                    RoomName::lobby(),
                    message,
                    None,
                    None,
                    attachments,
                    &state.chat.limits,
                );
                match send {
                    Ok(send) => {
                        state
                            .chat
                            .dispatch(conn, Command::Send(send), Some(0))
                            .await;
                    }
                    Err(err) => state.chat.reply_error(conn, Some(0), err),
                }
            }
            Err(err) => {
                state
                    .chat
                    .reply_error(conn, Some(0), CoreError::InvalidFrame(err.to_string()))
            }
        }
    }
}

async fn write(mut sink: SplitSink<WebSocket, Message>, mut outbox: Outbox, me: String) {
    let mut batch = Vec::new();
    let reason = loop {
        let Next::Batch = outbox.next(&mut batch).await else {
            break outbox.close_reason();
        };
        for item in batch.drain(..) {
            let Some(text) = encode(item, &me) else {
                continue;
            };
            if sink.feed(Message::Text(text)).await.is_err() {
                return;
            }
        }
        if sink.flush().await.is_err() {
            return;
        }
    };
    let frame = CloseFrame {
        code: close_code(reason),
        reason: Utf8Bytes::from_static(reason.message()),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
}

fn encode(item: Outbound, me: &str) -> Option<Utf8Bytes> {
    match item {
        Outbound::Event(broadcast) => {
            // The sender's own message is acknowledged with a status, not echoed.
            if let Event::Message(message) = &broadcast.event {
                if message.author.name == me {
                    return None;
                }
            }
            let bytes = broadcast.encoded(Encoding::Simple, encode_event)?;
            Utf8Bytes::try_from(bytes.clone()).ok()
        }
        Outbound::Reply(reply) => Some(
            match reply.result {
                Ok(_) => json!({ "status": true }),
                // A refusal that lifts by itself says when, as on every framing.
                Err(error) => match error.retry_after {
                    Some(secs) => {
                        json!({ "status": false, "code": error.code, "retry_after": secs })
                    }
                    None => json!({ "status": false, "code": error.code }),
                },
            }
            .to_string()
            .into(),
        ),
    }
}

fn encode_event(event: &Event) -> Option<Bytes> {
    let value = match event {
        Event::Message(message) if message.attachments.is_empty() => {
            json!({ "message": message.text, "author": message.author.name })
        }
        Event::Message(message) => json!({
            "message": message.text,
            "author": message.author.name,
            "attachments": message.attachments,
        }),
        Event::MemberJoined { user, .. } => json!({ "event": "join", "username": user.name }),
        Event::MemberLeft { user, .. } => json!({ "event": "leave", "username": user.name }),
        Event::Error(error) => json!({ "status": false, "code": error.code }),
        // The account's own premium (a paywall in a /ws client can go as well).
        Event::PremiumChanged {
            premium_until,
            active,
        } => {
            json!({ "event": "premium_changed", "premium_until": premium_until, "active": active })
        }
        _ => return None,
    };
    Some(Bytes::from(value.to_string()))
}

fn refusal(code: ErrorCode, message: &str) -> Response {
    HttpError::new(code, message).into_response()
}
