//! The Socket.IO framing (v5 over Engine.IO v4, websocket and polling) through socketioxide.
//!
//! socketioxide runs each message handler as its own task, which would let two quick commands
//! overtake each other. So the handler's extractor ([`Enqueue`]) runs synchronously in arrival
//! order and only puts the message into the connection's inbound queue; one reader task per
//! socket applies commands in order. Acks travel through the core's outbox like any reply and
//! are matched to the client's ack id when written.

use crate::core::{Answer, ConnInfo, Connection, CoreError, Event, Next, Outbound, Outbox, Reply};
use crate::error::ErrorCode;
use crate::http::{Admitted, AppState};
use crate::metrics::{Framing, Metrics, Via};
use serde_json::Value;
use socketioxide::adapter::LocalAdapter;
use socketioxide::extract::{AckSender, SocketRef, TryData};
use socketioxide::handler::{ConnectHandler, FromMessageParts};
use socketioxide::layer::SocketIoLayer;
use socketioxide::socket::Socket;
use socketioxide::{ParserConfig, SocketIo};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Commands a socket may have waiting before further ones are refused as `rate_limited`.
const INBOUND_QUEUE: usize = 64;

/// Builds the Socket.IO layer for the router.
///
/// Its limits come from the same settings as the other framings': `max_frame_bytes` bounds a
/// WebSocket message and frame, a polling request's body and the binary attachments of one
/// packet; an Engine.IO session that sends no CONNECT within `identify_timeout_secs` is closed
/// (socketioxide's connect timeout; a connected socket then has the same time to identify).
/// Admission happens before this layer, in [`super::engineio::edge`].
///
/// The connection is opened by the connect *middleware*: socketioxide sends the client its `40`
/// connect packet before it runs the connect handler, in a task of its own, so a client's first
/// event could otherwise arrive before anything is there to receive it. The handler only hands
/// the connected socket to the writer; if the connect fails, the socket goes away with the
/// writer's half of the handoff and both tasks end.
pub fn layer(state: AppState) -> (SocketIoLayer, SocketIo) {
    let max_frame = state.config.max_frame_bytes;
    let (layer, io) = SocketIo::builder()
        .ws_read_buffer_size(1024)
        .ws_max_message_size(max_frame)
        .ws_max_frame_size(max_frame)
        .max_payload(max_frame as u64)
        .with_parser(ParserConfig::common().max_incoming_binary_buf_size(max_frame))
        .connect_timeout(Duration::from_secs(state.config.identify_timeout_secs))
        .max_buffer_size(state.config.outbound_queue)
        .build_layer();
    let admit = move |socket: SocketRef, auth: TryData<Value>| {
        std::future::ready(admit(&state, socket, auth))
    };
    io.ns("/", start_writer.with(admit));
    (layer, io)
}

/// One command as it arrived, waiting for the socket's reader task.
struct Inbound {
    event: String,
    data: Value,
    ack: Option<(i64, AckSender)>,
}

/// The socket's inbound queue, and where a command refused for want of room in it is counted.
/// Items are boxed: tokio allocates a channel's slots 32 at a time, from the channel's
/// creation on, and an unboxed command (its event name, JSON value and ack sender) made it
/// 2.8 KB per socket (32 × 88 bytes) for its whole life; boxed, 256 bytes.
#[derive(Clone)]
struct InboundTx(mpsc::Sender<Box<Inbound>>, Metrics);

type PendingAcks = Arc<Mutex<HashMap<u64, AckSender>>>;

/// Opens the connection in the core. It was admitted (see [`crate::http::Door::RealTime`]) when
/// its Engine.IO session opened, and its session keeps what admission found; from now on the
/// connection is no longer a handshake. A token in the CONNECT packet's auth payload wins over
/// the session cookie.
fn admit(
    state: &AppState,
    socket: SocketRef,
    TryData(auth): TryData<Value>,
) -> Result<(), &'static str> {
    let Some(admitted) = socket.req_parts().extensions.get::<Admitted>().cloned() else {
        // Every session-opening request is admitted at the edge; this one was not.
        tracing::error!("a Socket.IO session without admission");
        return Err(ErrorCode::Forbidden.as_str());
    };
    if let Some(pass) = &admitted.pass {
        pass.arrived();
    }
    let auth_token = auth
        .ok()
        .and_then(|auth| auth.get("token").and_then(Value::as_str).map(str::to_owned));
    let mut info = admitted.into_conn_info();
    info.credential = auth_token.or(info.credential);
    open(state, socket, info);
    Ok(())
}

/// The writer's half of the socket handoff, kept in the socket until it is connected.
#[derive(Clone)]
struct WriterStart(Arc<Mutex<Option<oneshot::Sender<SocketRef>>>>);

/// Starts the connection's reader and writer and routes every event into its inbound queue.
fn open(state: &AppState, socket: SocketRef, info: ConnInfo) {
    let open = state.metrics.connection(Framing::SocketIo);
    let (conn, outbox) = state.chat.sessions.open(info);
    let (tx, rx) = mpsc::channel(INBOUND_QUEUE);
    let (start, started) = oneshot::channel();
    socket
        .extensions
        .insert(InboundTx(tx, state.metrics.clone()));
    socket
        .extensions
        .insert(WriterStart(Arc::new(Mutex::new(Some(start)))));
    socket.on_fallback(|_: Enqueue| async {});
    socket.on_disconnect(|socket: SocketRef| async move {
        socket.extensions.remove::<InboundTx>();
    });
    let pending = PendingAcks::default();
    let reader = read(state.clone(), conn, rx, Arc::clone(&pending));
    let writer = state.tasks.spawn(async move {
        if let Ok(socket) = started.await {
            write(socket, outbox, pending).await;
        }
    });
    state.tasks.spawn(async move {
        reader.await;
        writer.abort();
        drop(open);
    });
}

/// The connect handler: the socket is connected, the writer may use it.
async fn start_writer(socket: SocketRef) {
    let start = socket.extensions.remove::<WriterStart>();
    let start = start
        .and_then(|WriterStart(slot)| slot.lock().unwrap_or_else(PoisonError::into_inner).take());
    if let Some(start) = start {
        let _ = start.send(socket);
    }
}

/// Extractor that queues the message in arrival order (see the module docs).
struct Enqueue;

impl FromMessageParts<LocalAdapter> for Enqueue {
    type Error = std::convert::Infallible;

    fn from_message_parts(
        s: &Arc<Socket>,
        v: &mut socketioxide::handler::Value,
        ack_id: &Option<i64>,
    ) -> Result<Self, Self::Error> {
        let Some(InboundTx(tx, metrics)) = s.extensions.get::<InboundTx>() else {
            return Ok(Enqueue);
        };
        let event = socketioxide::extract::Event::from_message_parts(s, v, ack_id)
            .map(|e| e.0)
            .unwrap_or_default();
        let data = TryData::<Value>::from_message_parts(s, v, ack_id)
            .ok()
            .and_then(|TryData(data)| data.ok())
            .unwrap_or(Value::Null);
        let ack = ack_id.and_then(|id| {
            AckSender::from_message_parts(s, v, ack_id)
                .ok()
                .map(|sender| (id, sender))
        });
        if let Err(mpsc::error::TrySendError::Full(inbound)) =
            tx.try_send(Box::new(Inbound { event, data, ack }))
        {
            // Refused, never dropped silently: the ack says so, or else an `error` event.
            let body = CoreError::RateLimited(None).body();
            metrics.refused(body.code, Via::RealTime);
            let _ = match inbound.ack {
                Some((_, sender)) => {
                    sender.send(&serde_json::json!({ "ok": false, "error": body }))
                }
                None => s.emit("error", &body),
            };
        }
        Ok(Enqueue)
    }
}

async fn read(
    state: AppState,
    mut conn: Connection,
    mut rx: mpsc::Receiver<Box<Inbound>>,
    pending: PendingAcks,
) {
    while let Some(inbound) = rx.recv().await {
        let Inbound { event, data, ack } = *inbound;
        let ack = ack.map(|(id, sender)| {
            let id = id as u64;
            pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(id, sender);
            id
        });
        match state.chat.decode(&event, data) {
            // Boxed: the reader's future would otherwise be as large as the largest
            // command's, for the connection's whole life.
            Ok(command) => Box::pin(state.chat.dispatch(&mut conn, command, ack)).await,
            Err(err) => state.chat.reply_error(&mut conn, ack, err),
        }
    }
    state.chat.sessions.close(conn);
}

async fn write(socket: SocketRef, mut outbox: Outbox, pending: PendingAcks) {
    let mut batch = Vec::new();
    loop {
        match outbox.next(&mut batch).await {
            Next::Batch => {
                for item in batch.drain(..) {
                    if emit(&socket, item, &pending).is_err() {
                        // socketioxide's own queue is full: the client cannot keep up. Close
                        // rather than stay open and silently deliver nothing more.
                        let _ = socket.disconnect();
                        return;
                    }
                }
            }
            Next::Close(reason) => {
                let event = outbox.closing_event(reason);
                let _ = socket.emit(event.name(), &event_data(&event));
                let _ = socket.disconnect();
                return;
            }
        }
    }
}

fn emit(
    socket: &SocketRef,
    item: Outbound,
    pending: &PendingAcks,
) -> Result<(), socketioxide::SendError> {
    match item {
        Outbound::Event(broadcast) => match broadcast.data_json() {
            Some(raw) => socket.emit(broadcast.event.name(), raw),
            None => Ok(()),
        },
        Outbound::Reply(reply) => {
            let Reply { ack, result } = *reply;
            let sender = ack.and_then(|id| {
                pending
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&id)
            });
            let Some(sender) = sender else { return Ok(()) };
            sender.send(&AckData {
                ok: result.is_ok(),
                data: result.as_ref().ok(),
                error: result.as_ref().err(),
            })
        }
    }
}

/// A Socket.IO ack's data: `{"ok": true, "data"}` or `{"ok": false, "error"}`.
#[derive(serde::Serialize)]
pub(super) struct AckData<'a> {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<&'a Answer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a crate::error::ErrorBody>,
}

fn event_data(event: &Event) -> Value {
    serde_json::from_str(&event.data_json()).unwrap_or(Value::Null)
}
