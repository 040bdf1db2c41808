//! The server's TCP connections, shared: hyper serves HTTP on one handle, and a WebSocket that
//! outlives its request keeps another, through which whoever delivers to it may write.
//!
//! Why: a message to a room of 10 000 is 10 000 socket writes on one core. Waking each
//! connection's task to make its write costs as much again as the write itself (a wake, a
//! poll, a readiness check per recipient), so the native framing lets the publisher write
//! straight into a connection that has nothing waiting (see `gateway::wire`). hyper hides the
//! socket of an upgraded connection behind a private wrapper, so the handle is taken here, as
//! the connection is accepted, and travels to the upgrade in [`Peer`], the connect info every
//! request carries.
//!
//! The socket and the frames waiting for it share one allocation, the connection's [`Line`]:
//! a fan-out touches every recipient's line, and in a room of 10 000 a second allocation to
//! reach the socket from the queue was one more cache miss per recipient (43 % of the samples
//! of the write's own code in a profile, see `bench/analysis.md`).
//!
//! Reads and writes go through the runtime's readiness on a shared reference, which is what
//! tokio's own `TcpStream` does inside. Writes are `send`/`sendmsg` rather than
//! `write`/`writev`: on a socket they skip the file layer (its position lock and dispatch),
//! which in a room of 10 000 was a tenth of the kernel's time per delivery.

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use bytes::Bytes;
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{ready, Context, Poll, Waker};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The listener the server accepts on: each connection comes out as a shareable [`Socket`].
pub struct Sockets(pub TcpListener);

impl Listener for Sockets {
    type Io = Socket;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Socket, SocketAddr) {
        // axum's own accept loop, which retries what a busy server may see (too many open
        // files, a connection reset before it was accepted).
        let (tcp, addr) = Listener::accept(&mut self.0).await;
        // Writes are already gathered per connection: Nagle's algorithm would only hold a
        // connection's next batch back until the previous one is acknowledged.
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "could not set TCP_NODELAY");
        }
        let line = Line {
            pending: Mutex::default(),
            stream: tcp,
        };
        (Socket(Arc::new(line)), addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// One accepted TCP connection; clones share it (and its [`Line`]).
#[derive(Clone)]
pub struct Socket(Arc<Line>);

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Socket").field(&self.0.stream).finish()
    }
}

impl Socket {
    /// The connection's way out, shared with whoever writes to it from elsewhere.
    pub fn line(&self) -> Arc<Line> {
        Arc::clone(&self.0)
    }
}

/// A connection's way out: its socket and the whole frames waiting for it, in order. A
/// framing queues frames here whole, so none is ever left half written for another to
/// interleave with; a frame written from outside ([`Line::try_send_frame`]) goes straight to
/// the socket only when nothing waits, and leaves here what the kernel did not take. Plain
/// HTTP never queues anything.
///
/// `repr(C)`: the queue's lock and length come first and the socket right after, so that a
/// fan-out's write touches as few cache lines of the line as it can.
#[repr(C)]
pub struct Line {
    pending: Mutex<Pending>,
    stream: TcpStream,
}

/// The frames waiting for a line's socket.
#[derive(Default)]
struct Pending {
    frames: VecDeque<Frame>,
    /// Bytes of the control frames waiting (see [`Line::push_control`]).
    control_bytes: usize,
    /// The connection's task, waiting for something to write.
    writer: Option<Waker>,
}

/// One frame: its header (at most 10 bytes from a server) and its payload, shared or owned.
pub struct Frame {
    head: [u8; 10],
    head_len: u8,
    /// Bytes of head and body already written.
    written: usize,
    body: Bytes,
}

impl Frame {
    /// A frame of `head_len` header bytes and a body.
    pub fn new(head: [u8; 10], head_len: u8, body: Bytes) -> Self {
        Self {
            head,
            head_len: head_len.min(10),
            written: 0,
            body,
        }
    }

    /// Bytes that are a whole frame already.
    pub fn whole(body: Bytes) -> Self {
        Self::new([0; 10], 0, body)
    }

    fn unwritten(&self) -> [&[u8]; 2] {
        let head = &self.head[..usize::from(self.head_len)];
        if self.written < head.len() {
            [&head[self.written..], &self.body]
        } else {
            [&[], &self.body[self.written - head.len()..]]
        }
    }

    fn len(&self) -> usize {
        usize::from(self.head_len) + self.body.len()
    }
}

/// Frames handed to the kernel per write: enough for a full batch of small events in a few
/// system calls, few enough for the slices to live on the stack.
const SLICES_PER_WRITE: usize = 64;

impl Line {
    fn pending(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a frame behind those waiting, for the connection's task to write.
    pub fn push(&self, frame: Frame) {
        self.pending().frames.push_back(frame);
    }

    /// Queues a whole control frame (a pong, the answer to a close) unless the control frames
    /// waiting would pass `limit` bytes: a client that pings without reading is cut off there
    /// instead of growing the queue.
    pub fn push_control(&self, frame: &[u8], limit: usize) -> io::Result<()> {
        let mut pending = self.pending();
        if pending.control_bytes + frame.len() > limit {
            return Err(io::Error::other("control frames are not being read"));
        }
        pending.control_bytes += frame.len();
        pending
            .frames
            .push_back(Frame::whole(Bytes::copy_from_slice(frame)));
        Ok(())
    }

    /// Whether frames are waiting for the socket.
    pub fn is_writing(&self) -> bool {
        !self.pending().frames.is_empty()
    }

    /// Writes a whole frame now, from any task, when no frame waits for the socket: `false`
    /// (nothing done) when one does, when the connection's task is writing, or when the
    /// socket is broken — the caller then queues it for the connection's task. What the
    /// kernel does not take at once waits here, and the connection's task is woken for it.
    pub fn try_send_frame(&self, frame: &Bytes) -> bool {
        // Never waits for the connection's own write: queued behind it instead.
        let Ok(mut pending) = self.pending.try_lock() else {
            return false;
        };
        if !pending.frames.is_empty() {
            return false;
        }
        let written = match self.send_now(frame) {
            Ok(written) if written == frame.len() => return true,
            Ok(written) => written,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => 0,
            Err(_) => return false,
        };
        let mut frame = Frame::whole(frame.clone());
        frame.written = written;
        pending.frames.push_back(frame);
        let writer = pending.writer.take();
        drop(pending);
        if let Some(writer) = writer {
            writer.wake();
        }
        true
    }

    /// Writes the waiting frames out in vectored writes until none is left (`true`) or the
    /// socket is full. With nothing to write it returns `false` and is woken when something
    /// is left here from outside.
    pub fn poll_drain(&self, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        let mut pending = self.pending();
        if pending.frames.is_empty() {
            match &mut pending.writer {
                Some(writer) if writer.will_wake(cx.waker()) => {}
                writer => *writer = Some(cx.waker().clone()),
            }
            return Poll::Ready(Ok(false));
        }
        while !pending.frames.is_empty() {
            let mut slices = [IoSlice::new(&[]); SLICES_PER_WRITE];
            let mut count = 0;
            for part in pending.frames.iter().flat_map(Frame::unwritten) {
                if count == SLICES_PER_WRITE {
                    break;
                }
                if !part.is_empty() {
                    slices[count] = IoSlice::new(part);
                    count += 1;
                }
            }
            let mut written = ready!(self.poll_send(cx, &slices[..count]))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            while written > 0 {
                let Some(front) = pending.frames.front_mut() else {
                    break;
                };
                let left = front.len() - front.written;
                if written < left {
                    front.written += written;
                    break;
                }
                written -= left;
                pending.frames.pop_front();
            }
        }
        pending.control_bytes = 0;
        // An idle connection keeps no queue: a new one per batch costs less than a write.
        pending.frames = VecDeque::new();
        Poll::Ready(Ok(true))
    }

    /// Writes what the kernel takes now, without waiting; `WouldBlock` when it takes nothing.
    /// The runtime's idea of the socket's readiness is neither asked nor changed: whoever
    /// waits with [`Line::poll_send`] finds out for itself (a stale "ready" costs it one
    /// `WouldBlock`), and a recipient's fan-out write is spared a look at it.
    fn send_now(&self, bytes: &[u8]) -> io::Result<usize> {
        socket2::SockRef::from(&self.stream).send(bytes)
    }

    /// [`Line::send_now`] of several slices in one system call, through the readiness.
    fn try_send_vectored(&self, slices: &[IoSlice<'_>]) -> io::Result<usize> {
        self.stream.try_io(Interest::WRITABLE, || {
            socket2::SockRef::from(&self.stream).send_vectored(slices)
        })
    }

    /// Waits until the socket takes something, then writes it.
    fn poll_send(&self, cx: &mut Context<'_>, slices: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.stream.poll_write_ready(cx))?;
            match self.try_send_vectored(slices) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                written => return Poll::Ready(written),
            }
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.0.stream.poll_read_ready(cx))?;
            match self.0.stream.try_read(buf.initialize_unfilled()) {
                Ok(read) => {
                    buf.advance(read);
                    return Poll::Ready(Ok(()));
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_send(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        slices: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_send(cx, slices)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// Nothing is buffered here: a write is the kernel's once it returns.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Half-closes the connection (hyper then reads until the client closes its side).
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        let socket = socket2::SockRef::from(&self.0.stream);
        Poll::Ready(match socket.shutdown(std::net::Shutdown::Write) {
            Err(err) if err.kind() == io::ErrorKind::NotConnected => Ok(()),
            done => done,
        })
    }
}

/// What every request knows of its connection: the peer's address, and the socket, which a
/// WebSocket upgrade takes along.
#[derive(Clone, Debug)]
pub struct Peer {
    pub addr: SocketAddr,
    pub socket: Socket,
}

impl Connected<IncomingStream<'_, Sockets>> for Peer {
    fn connect_info(stream: IncomingStream<'_, Sockets>) -> Self {
        Self {
            addr: *stream.remote_addr(),
            socket: stream.io().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partly_written_frame_resumes_where_the_kernel_stopped() {
        let mut head = [0u8; 10];
        head[..2].copy_from_slice(&[0x81, 3]);
        let mut f = Frame::new(head, 2, Bytes::from_static(b"abc"));
        assert_eq!(f.unwritten(), [&[0x81, 3][..], b"abc"]);
        f.written = 1;
        assert_eq!(f.unwritten(), [&[3][..], b"abc"]);
        f.written = 3;
        assert_eq!(f.unwritten(), [&[][..], b"bc"]);
        assert_eq!(f.len(), 5);
    }
}
