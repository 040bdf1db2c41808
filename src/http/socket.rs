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
//! Reads and writes go through the runtime's readiness on a shared reference, which is what
//! tokio's own `TcpStream` does inside. Writes are `send`/`sendmsg` rather than
//! `write`/`writev`: on a socket they skip the file layer (its position lock and dispatch),
//! which in a room of 10 000 was a tenth of the kernel's time per delivery.

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
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
        (Socket(Arc::new(tcp)), addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// One accepted TCP connection; clones share it.
#[derive(Clone, Debug)]
pub struct Socket(Arc<TcpStream>);

impl Socket {
    /// Writes what the kernel takes now, without waiting; `WouldBlock` when it takes nothing.
    /// The runtime's idea of the socket's readiness is neither asked nor changed: whoever
    /// waits with [`Socket::poll_send`] finds out for itself (a stale "ready" costs it one
    /// `WouldBlock`), and a recipient's fan-out write is spared a look at it.
    pub fn send_now(&self, bytes: &[u8]) -> io::Result<usize> {
        socket2::SockRef::from(self.0.as_ref()).send(bytes)
    }

    /// [`Socket::try_send`] of several slices in one system call.
    fn try_send_vectored(&self, slices: &[IoSlice<'_>]) -> io::Result<usize> {
        self.0.try_io(Interest::WRITABLE, || {
            socket2::SockRef::from(self.0.as_ref()).send_vectored(slices)
        })
    }

    /// Waits until the socket takes something, then writes it.
    pub fn poll_send(
        &self,
        cx: &mut Context<'_>,
        slices: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.0.poll_write_ready(cx))?;
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
            ready!(self.0.poll_read_ready(cx))?;
            match self.0.try_read(buf.initialize_unfilled()) {
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
        self.poll_send(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        slices: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_send(cx, slices)
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
        let socket = socket2::SockRef::from(self.0.as_ref());
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
