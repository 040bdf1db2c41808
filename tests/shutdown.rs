//! Shutdown is bounded: after SIGTERM the binary exits within `shutdown_grace_secs`, whatever
//! its clients do — here, clients that hold requests they never finish.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_parlor");

/// Starts `parlor serve` on a random port in `dir`; returns the child and its `host:port`.
fn start(dir: &std::path::Path, extra_env: &[(&str, &str)]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .current_dir(dir)
        .env("PARLOR_LISTEN", "127.0.0.1:0")
        .env("PARLOR_LOG_FORMAT", "text")
        .env("NO_COLOR", "1")
        .envs(extra_env.iter().copied())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    loop {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no listening line in {seen:?}");
        };
        if let Some(url) = line.split("listening on http://").nth(1) {
            return (child, url.trim().to_owned());
        }
        seen.push(line);
    }
}

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
    let (mut child, addr) = start(dir.path(), &[("PARLOR_SHUTDOWN_GRACE_SECS", "2")]);
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
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = exits_within(&mut child, Duration::from_secs(2 + 5));
    assert!(status.success(), "exit code 0: {status:?}");
    assert!(
        signalled.elapsed() >= Duration::from_secs(2),
        "the connections had their grace period ({:?})",
        signalled.elapsed()
    );
    drop((half_headers, half_body));
}
