//! Shutdown is bounded: after SIGTERM the binary exits within `shutdown_grace_secs`, whatever
//! its clients do — here, clients that hold requests they never finish.

mod common;

use common::process::{serve, sigterm};
use std::io::Write;
use std::net::TcpStream;
use std::process::Child;
use std::time::{Duration, Instant};

/// Waits up to `limit` for the child to exit; kills it and fails otherwise.
fn exits_within(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().ok();
    child.wait().ok();
    panic!("the server was still running {limit:?} after SIGTERM");
}

#[test]
fn unfinished_requests_do_not_hold_the_server_past_its_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = serve(dir.path(), "", &[("PARLOR_SHUTDOWN_GRACE_SECS", "2")]);
    // One client stops in the middle of its headers, another in the middle of its body.
    let mut half_headers = TcpStream::connect(&addr).unwrap();
    half_headers
        .write_all(b"GET /health HTTP/1.1\r\nHost: parlor\r\n")
        .unwrap();
    let mut half_body = TcpStream::connect(&addr).unwrap();
    half_body
        .write_all(
            b"POST /api/login HTTP/1.1\r\nHost: parlor\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"username\":",
        )
        .unwrap();
    // Let the server read what was sent, so both requests are in flight.
    std::thread::sleep(Duration::from_millis(300));

    let signalled = Instant::now();
    sigterm(&child);
    let status = exits_within(&mut child, Duration::from_secs(2 + 5));
    assert!(status.success(), "exit code 0: {status:?}");
    assert!(
        signalled.elapsed() >= Duration::from_secs(2),
        "the connections had their grace period ({:?})",
        signalled.elapsed()
    );
    drop((half_headers, half_body));
}
