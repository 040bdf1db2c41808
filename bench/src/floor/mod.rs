//! The floor writer (`loadgen floor-server`): the least a server can do to fan a message out to
//! a room, as a yardstick for Parlor's latency where an absolute target is below what the
//! machine can do (issue 19, item 3).
//!
//! With 10 000 clients in one room a message is 10 000 socket writes on the server's one core,
//! and on loopback the kernel charges the receivers' TCP work to that core as well, so an
//! absolute p99 of 50 ms may be below what the machine can do at all. This writer measures
//! what is within reach: it runs on one thread, sets `TCP_NODELAY` like Parlor, speaks just
//! enough of Parlor's native framing for the generator (`loadgen … --target floor`; see
//! [`hub`]), and for each `send` encodes the `message` event once and writes the same bytes
//! into every member's socket in one loop — no chat logic, no queue or task between the
//! message and the sockets. The generator measures it with the same code as Parlor (loss,
//! duplicates, order, latency from the intended send time), so Parlor's p99 over the floor's
//! at the same rate is what Parlor's own work costs.
//!
//! It is a floor for latency, not for throughput: every frame is written the moment it exists,
//! one system call per socket per message, where Parlor under load gathers a connection's
//! frames for a few milliseconds and writes them together. In small rooms at high rates Parlor
//! therefore delivers more than the floor; in a room of 10 000, where each socket has one frame
//! per message to write, there is nothing to gather and the floor is the bound.
//!
//! Writes never block: what a socket does not take at once is queued for it and written when
//! it is writable again; a socket with more than `--max-queued` frames queued is closed as a
//! slow consumer. Both are counted, and the counts printed as one JSON line on stderr when the
//! floor stops (SIGTERM or SIGINT).
//!
//! It must not grow into a chat server: anything Parlor does beyond writing the frames (rules,
//! history, presence, auth) is what the comparison is meant to show.

mod conn;
mod frames;
mod hub;
mod session;
mod upgrade;

use hub::Hub;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};

/// The floor writer's settings (its command-line options).
#[derive(Clone, Debug, clap::Args)]
pub struct FloorSpec {
    /// Address to listen on (port 0: any free port, printed on stderr).
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// Frames queued for one socket, beyond what the kernel took, before it is closed as a
    /// slow consumer (Parlor's default `outbound_queue`).
    #[arg(long, default_value_t = 1024)]
    pub max_queued: usize,
}

/// Serves until SIGTERM or SIGINT, then prints its counters. Runs on the caller's
/// single-threaded runtime, inside a `LocalSet`.
pub async fn serve(spec: &FloorSpec) -> anyhow::Result<()> {
    let listener = TcpListener::bind(spec.listen).await?;
    eprintln!(
        "floor writer listening on http://{}",
        listener.local_addr()?
    );
    let hub = Rc::new(Hub::new(spec.max_queued.max(1)));
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::task::spawn_local(session::run(Rc::clone(&hub), stream));
                }
                Err(err) => {
                    // Out of file descriptors, most likely: wait for some to close.
                    eprintln!("floor writer: accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    eprintln!("{}", hub.counters.to_json());
    Ok(())
}
