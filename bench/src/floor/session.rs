//! One client's task: the upgrade, then reading and handling its frames, and writing what its
//! socket did not take at once when the socket is writable again. Fan-outs do not go through
//! here: the sender's task writes the frame into every member's socket itself.

use super::conn::Conn;
use super::frames::{self, Inbound};
use super::hub::{Hub, Session};
use super::upgrade;
use std::io;
use std::rc::Rc;
use std::time::Duration;
use tokio::net::TcpStream;

/// The longest client frame accepted (Parlor's limit in `bench/run.sh`).
const MAX_FRAME: usize = 64 * 1024;

/// How long a client may take to send its request head.
const UPGRADE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves one accepted connection until it closes.
pub async fn run(hub: Rc<Hub>, mut stream: TcpStream) {
    if stream.set_nodelay(true).is_err() {
        return;
    }
    let input = match tokio::time::timeout(UPGRADE_TIMEOUT, upgrade::accept(&mut stream)).await {
        Ok(Ok(Some(rest))) => rest,
        _ => return, // answered (health, 404) or gave up: close
    };
    let conn = hub.open(stream);
    let mut session = Session::default();
    serve(&hub, &conn, &mut session, input).await;
    hub.leave_all(&conn, &session);
}

async fn serve(hub: &Hub, conn: &Rc<Conn>, session: &mut Session, mut input: Vec<u8>) {
    // A client may have sent its first frames right behind the request head.
    if !handle_frames(hub, conn, session, &mut input) {
        return;
    }
    while !conn.is_closing() {
        let queued = conn.has_queued();
        tokio::select! {
            ready = conn.stream.readable() => {
                if ready.is_err() || !read(conn, &mut input) {
                    return;
                }
                if !handle_frames(hub, conn, session, &mut input) {
                    return;
                }
            }
            ready = conn.stream.writable(), if queued => {
                match ready.and_then(|()| conn.flush()) {
                    Ok(calls) => {
                        let writes = &hub.counters.queue_writes;
                        writes.set(writes.get() + calls);
                    }
                    Err(_) => {
                        let errors = &hub.counters.write_errors;
                        errors.set(errors.get() + 1);
                        return;
                    }
                }
            }
            () = conn.wake.notified() => {} // something was queued, or the connection closes
        }
    }
}

/// Reads what the socket has; `false` when the client closed.
fn read(conn: &Conn, input: &mut Vec<u8>) -> bool {
    let mut chunk = [0; 4096];
    match conn.stream.try_read(&mut chunk) {
        Ok(0) => false,
        Ok(n) => {
            input.extend_from_slice(&chunk[..n]);
            true
        }
        Err(err) => err.kind() == io::ErrorKind::WouldBlock,
    }
}

/// Handles every complete frame in `input` and drops them from it; `false` when the
/// connection is to close.
fn handle_frames(hub: &Hub, conn: &Rc<Conn>, session: &mut Session, input: &mut Vec<u8>) -> bool {
    let mut used = 0;
    let open = loop {
        match frames::decode(&mut input[used..], MAX_FRAME) {
            Ok(None) => break true,
            Ok(Some((frame, len))) => {
                let open = match frame {
                    Inbound::Text(text) => {
                        hub.command(conn, session, text);
                        true
                    }
                    Inbound::Ping(payload) => {
                        hub.deliver(conn, &frames::pong(payload));
                        true
                    }
                    Inbound::Close => {
                        hub.deliver(conn, &frames::close());
                        false
                    }
                    Inbound::Other => true,
                };
                used += len;
                if !open {
                    break false;
                }
            }
            Err(_) => {
                let refused = &hub.counters.refused;
                refused.set(refused.get() + 1);
                break false;
            }
        }
    };
    input.drain(..used);
    open
}
