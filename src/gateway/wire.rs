//! A server WebSocket that reads through tungstenite and writes its own frames straight from
//! the shared encoded bytes, for the native framing.
//!
//! Why not axum's `WebSocket`: behind it, tungstenite copies every outgoing frame into a
//! per-connection write buffer that never shrinks, so each idle connection kept the largest
//! batch it ever wrote (a join answer, a burst), and sending while reading needs the socket
//! split into a reader and a writer task. Here a frame is a header of a few bytes plus the
//! broadcast's [`Bytes`], which every recipient shares; a batch goes out in one vectored
//! write, and nothing of it stays once the kernel took it. Reading stays tungstenite's
//! (unmasking, fragments, limits, UTF-8, answering pings and closes): whatever tungstenite
//! writes lands in the same ordered queue, so frames never interleave on the wire.
//!
//! One task serves a connection: [`Wire::next`] makes progress on the pending writes and reads
//! the next frame in the same poll, so a client that writes without reading is still read
//! while its own frames wait for it (its queue then fills and it is closed as a slow
//! consumer), and an idle connection costs one small future.
//!
//! The frames waiting for the socket sit in the connection's [`Line`] (which holds the
//! socket too), shared with whoever delivers to it: when nothing waits there,
//! [`Line::try_send_frame`] writes an event straight into the socket from the publisher's
//! task, without waking the connection's (the core decides when, see
//! [`crate::core::Express`]). Only what the kernel does not take stays in the line, for the
//! connection's task to finish.

use crate::error::ErrorCode;
use crate::http::{Frame, HttpError, Line, Peer, Socket};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Version};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::{FutureExt, SinkExt, StreamExt};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::WebSocketStream;
use tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::Message;

/// What tungstenite's own frames (pongs, the close answer) may add to an unwritten queue: a
/// client that pings without reading is cut off here instead of growing the queue.
const CONTROL_BYTES: usize = 64 * 1024;

/// The upgrade request of a WebSocket (RFC 6455 §4.2.1), taken apart before anything answers it.
pub struct Handshake {
    key: HeaderValue,
    on_upgrade: OnUpgrade,
    /// The connection's socket, which the upgraded connection writes to directly.
    socket: Socket,
}

impl<S: Send + Sync> FromRequestParts<S> for Handshake {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, HttpError> {
        let refused = || HttpError::new(ErrorCode::InvalidRequest, "expected a WebSocket upgrade");
        let headers = &parts.headers;
        let upgrade = parts.method == Method::GET
            && parts.version == Version::HTTP_11
            && has_token(headers, header::CONNECTION, "upgrade")
            && has_token(headers, header::UPGRADE, "websocket")
            && headers
                .get(header::SEC_WEBSOCKET_VERSION)
                .is_some_and(|v| v.as_bytes() == b"13");
        let key = headers.get(header::SEC_WEBSOCKET_KEY).cloned();
        let (Some(key), true) = (key, upgrade) else {
            return Err(refused());
        };
        let socket = parts
            .extensions
            .get::<ConnectInfo<Peer>>()
            .map(|peer| peer.0.socket.clone())
            .ok_or_else(|| HttpError::new(ErrorCode::Internal, "served without its sockets"))?;
        let on_upgrade = parts.extensions.remove::<OnUpgrade>().ok_or_else(refused)?;
        Ok(Self {
            key,
            on_upgrade,
            socket,
        })
    }
}

/// Whether a comma-separated header lists `token` (case-insensitive).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .as_bytes()
            .split(|b| *b == b',')
            .any(|item| item.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

impl Handshake {
    /// Answers `101 Switching Protocols` and runs `serve` on the connection once the upgrade
    /// completes, in a task of its own: the connection's only task.
    pub fn accept<F, Fut>(self, config: WebSocketConfig, serve: F) -> Response
    where
        F: FnOnce(Wire) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let accept = tungstenite::handshake::derive_accept_key(self.key.as_bytes());
        // Combinators, not an `async` block: the task's future is then the larger of its
        // stages (the upgrade, the connection), not their sum, for the connection's life.
        let socket = self.socket;
        tokio::spawn(self.on_upgrade.then(move |upgraded| {
            match upgraded {
                Ok(upgraded) => Wire::new(upgraded, socket, config)
                    .then(serve)
                    .left_future(),
                Err(_) => std::future::ready(()).right_future(),
            }
        }));
        let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(accept) = HeaderValue::from_str(&accept) {
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        }
        response
    }
}

/// What [`Wire::next`] made progress on.
pub enum Step {
    /// The next thing the client sent, as tungstenite read it (`None`: the stream ended).
    Read(Option<Result<Message, tungstenite::Error>>),
    /// Everything queued has been written: the queue takes frames again.
    Written,
    /// The connection is gone (a write failed).
    Lost,
}

/// One upgraded WebSocket connection.
pub struct Wire {
    ws: WebSocketStream<Pipe>,
    line: Arc<Line>,
}

impl Wire {
    async fn new(upgraded: Upgraded, socket: Socket, config: WebSocketConfig) -> Self {
        let line = socket.line();
        let pipe = Pipe {
            read: TokioIo::new(upgraded),
            line: Arc::clone(&line),
        };
        let ws = WebSocketStream::from_raw_socket(pipe, Role::Server, Some(config)).await;
        Self { ws, line }
    }

    /// The connection's way out, for writing to it from elsewhere ([`Line::try_send_frame`]).
    pub fn line(&self) -> Arc<Line> {
        Arc::clone(&self.line)
    }

    /// Whether frames are still waiting for the socket. A writer queues a new batch only when
    /// this is `false`, so what one connection holds is bounded by one batch.
    pub fn writing(&self) -> bool {
        self.line.is_writing()
    }

    /// Queues a text frame whose payload is already valid UTF-8 JSON (written by [`Wire::next`]).
    pub fn send_text(&mut self, payload: Bytes) {
        self.line.push(frame(OpCode::Data(Data::Text), payload));
    }

    /// Queues a whole frame made by [`text_frame`].
    pub fn send_frame(&mut self, frame: Bytes) {
        self.line.push(Frame::whole(frame));
    }

    /// Writes what is queued, and reads the next frame when `read` is set; returns on the
    /// first of a frame read, the queue written, or the connection lost.
    pub async fn next(&mut self, read: bool) -> Step {
        poll_fn(|cx| {
            if read {
                if let Poll::Ready(frame) = self.ws.poll_next_unpin(cx) {
                    return Poll::Ready(Step::Read(frame));
                }
            }
            // After reading: a ping read just now queued its pong.
            match self.line.poll_drain(cx) {
                Poll::Ready(Ok(true)) => Poll::Ready(Step::Written),
                Poll::Ready(Ok(false)) | Poll::Pending => Poll::Pending,
                Poll::Ready(Err(_)) => Poll::Ready(Step::Lost),
            }
        })
        .await
    }

    /// Queues a close frame (after everything queued) and writes the queue out; the caller
    /// bounds how long that may take. Nothing is read any more. The frame is written here, not
    /// by tungstenite, which refuses to once it has seen the client break the protocol — and
    /// that is when the client most needs to hear why.
    pub async fn close(&mut self, code: u16, reason: &'static str) {
        // A control frame carries at most 125 bytes: the code and 123 of the reason.
        let mut end = reason.len().min(123);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        let reason = &reason[..end];
        let mut payload = Vec::with_capacity(2 + reason.len());
        payload.extend_from_slice(&code.to_be_bytes());
        payload.extend_from_slice(reason.as_bytes());
        self.line
            .push(frame(OpCode::Control(Control::Close), payload.into()));
        self.flush().await;
    }

    /// Writes out what is queued, and the answer to a client's close, which tungstenite only
    /// hands over when flushed.
    pub async fn flush(&mut self) {
        let _ = SinkExt::flush(&mut self.ws).await;
        let _ = poll_fn(|cx| self.line.poll_drain(cx)).await;
    }
}

/// The socket as tungstenite sees it: it reads through the upgraded connection (which holds
/// whatever the client sent right behind its upgrade request), and its writes join the line.
struct Pipe {
    read: TokioIo<Upgraded>,
    line: Arc<Line>,
}

/// A final, unmasked server frame's header for a payload of `len` bytes, and its length.
fn header(opcode: OpCode, len: usize) -> ([u8; 10], u8) {
    let mut head = [0u8; 10];
    let header = FrameHeader {
        opcode,
        ..FrameHeader::default()
    };
    let mut cursor = io::Cursor::new(&mut head[..]);
    // A server frame's header is at most 10 bytes, and the cursor holds 10.
    let _ = header.format(len as u64, &mut cursor);
    let head_len = u8::try_from(cursor.position()).unwrap_or(10);
    (head, head_len)
}

/// A whole unmasked text frame carrying `payload` (valid UTF-8), in one buffer: what a
/// broadcast is encoded into once and sent to every recipient as it is.
pub fn text_frame(payload: &[u8]) -> Bytes {
    let (head, head_len) = header(OpCode::Data(Data::Text), payload.len());
    let head = &head[..usize::from(head_len)];
    let mut frame = Vec::with_capacity(head.len() + payload.len());
    frame.extend_from_slice(head);
    frame.extend_from_slice(payload);
    frame.into()
}

/// A frame with its header for the payload `body`.
fn frame(opcode: OpCode, body: Bytes) -> Frame {
    let (head, head_len) = header(opcode, body.len());
    Frame::new(head, head_len, body)
}

impl AsyncRead for Pipe {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.read).poll_read(cx, buf)
    }
}

/// tungstenite's writes: queued whole, never partly written here (see [`Pipe`]).
impl AsyncWrite for Pipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(
            self.line
                .push_control(buf, CONTROL_BYTES)
                .map(|()| buf.len()),
        )
    }

    /// The queue is written by [`Wire::next`] and [`Wire::flush`], not by tungstenite, so
    /// reading never waits on a client that does not read.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.line.poll_drain(cx))?;
        Pin::new(&mut self.read).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_the_short_unmasked_server_form() {
        let pipe_head = |len: usize| {
            let (head, n) = header(OpCode::Data(Data::Text), len);
            head[..usize::from(n)].to_vec()
        };
        assert_eq!(pipe_head(5), [0x81, 5]);
        assert_eq!(pipe_head(300), [0x81, 126, 1, 44]);
        assert_eq!(pipe_head(70_000).len(), 10);
    }
}
