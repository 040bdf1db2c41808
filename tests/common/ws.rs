//! A WebSocket test client for the native `/gateway` envelope and the simple `/ws` framing.
//!
//! Every frame the server sends is read strictly on arrival (see [`protocol`]): a native frame
//! must be an ack or a known event with exactly the documented fields, a `/ws` frame one of
//! that framing's shapes. The close frame's code is kept so tests can assert it.

use super::protocol::{
    from_value, Ack, CloseReason, Closing, EventData, Frame, Identified, LobbyJoined, RoomJoined,
    Sent, SimpleFrame,
};
use super::PATIENCE;
use futures_util::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::VecDeque;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Which framing a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `/gateway`: `{"event", "data", "ack"}` envelopes.
    Native,
    /// `/ws`: the simple chat API's frames.
    Simple,
}

/// How the server ended a connection.
#[derive(Debug)]
pub struct Closed {
    /// Frames received before the close (including any still unread).
    pub frames: Vec<Value>,
    /// The close frame's code; `None` when the server sent no code (or no close frame).
    pub code: Option<u16>,
}

/// A WebSocket client speaking the native envelope (or the simple framing, for `/ws`).
pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    framing: Framing,
    next_ack: u64,
    /// Frames read while waiting for something else.
    pending: VecDeque<Value>,
    /// The code of the close frame, once the server closed.
    close_code: Option<u16>,
    closed: bool,
}

/// The close code the server uses for each reason (1001 going away, 1008 policy).
pub fn close_code_for(reason: CloseReason) -> u16 {
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
        CloseReason::Renamed => 1012,
    }
}

impl WsClient {
    pub(super) fn new(
        stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
        framing: Framing,
    ) -> Self {
        WsClient {
            stream,
            framing,
            next_ack: 1,
            pending: VecDeque::new(),
            close_code: None,
            closed: false,
        }
    }

    /// A native connection to any `ws://…/gateway` URL (a server started as a process).
    pub async fn connect(url: &str) -> WsClient {
        let (stream, _) = tokio_tungstenite::connect_async(url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        WsClient::new(stream, Framing::Native)
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::Text(text.into()))
            .await
            .expect("send");
    }

    /// Sends a text frame; `false` once the connection is gone.
    pub async fn try_send_text(&mut self, text: &str) -> bool {
        self.stream.send(Message::Text(text.into())).await.is_ok()
    }

    /// Sends a ping and waits for its pong, keeping the frames that arrive meanwhile; `false`
    /// if the connection ended first.
    pub async fn ping(&mut self, payload: &'static [u8]) -> bool {
        self.stream
            .send(Message::Ping(payload.into()))
            .await
            .expect("send ping");
        loop {
            match self.stream.next().await {
                Some(Ok(Message::Pong(got))) if &got[..] == payload => return true,
                Some(Ok(Message::Text(text))) => self.pending.push_back(
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text:?}: {e}")),
                ),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return false,
            }
        }
    }

    /// Closes from the client's side; whether the server answered with a close frame.
    pub async fn close_and_hear_back(mut self) -> bool {
        self.stream.close(None).await.expect("send close");
        loop {
            match self.stream.next().await {
                Some(Ok(Message::Close(_))) => return true,
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return false,
            }
        }
    }

    /// Sends a text frame whose payload is not UTF-8 (a protocol violation on purpose).
    pub async fn send_invalid_text(&mut self) {
        use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
        use tokio_tungstenite::tungstenite::protocol::frame::Frame;
        let frame = Frame::message(vec![0xff, 0xfe, 0x80], OpCode::Data(Data::Text), true);
        self.stream.send(Message::Frame(frame)).await.expect("send");
    }

    pub async fn send_json(&mut self, value: Value) {
        self.send_text(&value.to_string()).await;
    }

    /// Sends a command with a fresh ack id and returns its ack.
    pub async fn request(&mut self, event: &str, data: Value) -> Ack {
        let ack = self.next_ack;
        self.next_ack += 1;
        self.send_json(json!({ "event": event, "data": data, "ack": ack }))
            .await;
        self.ack(ack).await
    }

    /// Sends a command, asserts it succeeded and returns its data as `T`.
    pub async fn call<T: DeserializeOwned>(&mut self, event: &str, data: Value) -> T {
        let ack = self.request(event, data.clone()).await;
        assert!(ack.ok, "{event} {data} should succeed: {ack:?}");
        ack.data()
    }

    /// Sends a command and asserts it failed with exactly `code`.
    pub async fn expect_error(&mut self, event: &str, data: Value, code: &str) {
        let ack = self.request(event, data.clone()).await;
        assert!(!ack.ok, "{event} {data} should fail with {code}: {ack:?}");
        assert_eq!(ack.code(), code, "{event} {data}: {ack:?}");
    }

    /// The ack numbered `id`.
    pub async fn ack(&mut self, id: u64) -> Ack {
        let frame = self.frame_where(|f| f.get("ack") == Some(&json!(id))).await;
        from_value(frame)
    }

    /// `identify` by `data`, asserting success.
    pub async fn identify(&mut self, data: Value) -> Identified {
        self.call("identify", data).await
    }

    pub async fn join_lobby(&mut self) -> LobbyJoined {
        let joined: LobbyJoined = self.call("join", json!({ "room": "lobby" })).await;
        assert_eq!(joined.room, "lobby");
        joined
    }

    /// Joins a persistent, conversation or ephemeral room (with `extra` fields such as
    /// `device` or `since`), asserting success.
    pub async fn join_room(&mut self, room: &str, extra: Value) -> RoomJoined {
        let mut data = json!({ "room": room });
        let Value::Object(fields) = extra else {
            panic!("join_room takes extra fields as a JSON object, not {extra}");
        };
        data.as_object_mut().unwrap().extend(fields);
        self.call("join", data).await
    }

    /// Sends `text` to the lobby, asserting success.
    pub async fn say(&mut self, text: &str) -> Sent {
        self.call("send", json!({ "room": "lobby", "text": text }))
            .await
    }

    /// The data of the next event of kind `T` (earlier frames of other kinds are kept).
    pub async fn event<T: EventData>(&mut self) -> T {
        self.event_where(|_: &T| true).await
    }

    /// The data of the next event of kind `T` for which `wanted` holds.
    pub async fn event_where<T: EventData>(&mut self, wanted: impl Fn(&T) -> bool) -> T {
        assert_eq!(self.framing, Framing::Native, "events are native frames");
        let frame = self
            .frame_where(|f| {
                let frame = Frame::parse(f.clone());
                frame.data::<T>().is_some_and(&wanted)
            })
            .await;
        Frame::parse(frame).data::<T>().cloned().unwrap()
    }

    /// The next `/ws` frame for which `wanted` holds.
    pub async fn simple_where(&mut self, wanted: impl Fn(&SimpleFrame) -> bool) -> Value {
        assert_eq!(
            self.framing,
            Framing::Simple,
            "simple frames are /ws frames"
        );
        self.frame_where(|f| wanted(&from_value(f.clone()))).await
    }

    /// A round trip: every frame the server queued for this connection before the call is
    /// in hand afterwards (the server delivers in-process and in order). The command is a
    /// second `identify`, which changes nothing.
    pub async fn sync(&mut self) {
        let ack = self.request("identify", json!({})).await;
        assert_eq!(ack.code(), "already_identified", "{ack:?}");
    }

    /// Asserts that no event of kind `T` matching `unwanted` was delivered up to now: a
    /// [`sync`](Self::sync) round trip, then a look at everything received.
    pub async fn assert_no_event<T: EventData>(&mut self, unwanted: impl Fn(&T) -> bool) {
        self.sync().await;
        for frame in &self.pending {
            if let Some(data) = Frame::parse(frame.clone()).data::<T>() {
                assert!(!unwanted(data), "unexpected {} event: {frame}", T::NAME);
            }
        }
    }

    /// The next frame matching `wanted`, within [`PATIENCE`].
    async fn frame_where(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&wanted) {
            return self.pending.remove(i).unwrap();
        }
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let frame = match tokio::time::timeout_at(deadline, self.next_frame()).await {
                Ok(Some(frame)) => frame,
                Ok(None) => panic!(
                    "connection closed (code {:?}) while waiting for a frame; unread: {:?}",
                    self.close_code, self.pending
                ),
                Err(_) => panic!("timed out waiting for a frame; unread: {:?}", self.pending),
            };
            if wanted(&frame) {
                return frame;
            }
            self.pending.push_back(frame);
        }
    }

    /// The next text frame, checked against the framing's shapes; `None` once the connection
    /// closed (the close code is kept).
    pub async fn next_frame(&mut self) -> Option<Value> {
        if self.closed {
            return None;
        }
        loop {
            match self.stream.next().await {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("a JSON frame, not {text:?}: {e}"));
                    match self.framing {
                        Framing::Native => drop(Frame::parse(value.clone())),
                        Framing::Simple => drop(from_value::<SimpleFrame>(value.clone())),
                    }
                    return Some(value);
                }
                Some(Ok(Message::Close(frame))) => {
                    self.close_code = frame.map(|f| u16::from(f.code));
                    self.closed = true;
                    return None;
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => {
                    self.closed = true;
                    return None;
                }
            }
        }
    }

    /// Waits until the server closes the connection; returns the frames received meanwhile
    /// and the close code.
    pub async fn until_closed(&mut self) -> Closed {
        let mut frames: Vec<Value> = self.pending.drain(..).collect();
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while let Some(frame) = tokio::time::timeout_at(deadline, self.next_frame())
            .await
            .unwrap_or_else(|_| panic!("the server closes the connection; got {frames:?}"))
        {
            frames.push(frame);
        }
        Closed {
            frames,
            code: self.close_code,
        }
    }

    /// Waits until the server closes the connection and asserts it said why: exactly one
    /// `closing` event with `reason`, as the last frame, and the close code for that reason.
    pub async fn closed_with(&mut self, reason: CloseReason) -> Closing {
        let closed = self.until_closed().await;
        let closings: Vec<Closing> = closed
            .frames
            .iter()
            .filter_map(|f| Frame::parse(f.clone()).data::<Closing>().cloned())
            .collect();
        assert_eq!(closings.len(), 1, "one closing event: {:?}", closed.frames);
        let last = Frame::parse(closed.frames.last().unwrap().clone());
        assert!(
            last.is::<Closing>(),
            "closing comes last: {:?}",
            closed.frames
        );
        let closing = closings.into_iter().next().unwrap();
        assert_eq!(closing.reason, reason, "{closing:?}");
        assert!(!closing.message.is_empty(), "{closing:?}");
        assert_eq!(
            closed.code,
            Some(close_code_for(reason)),
            "the close code for {reason:?}"
        );
        closing
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}
