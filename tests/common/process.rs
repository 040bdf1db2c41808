//! The binary as an operator starts it: `parlor serve` in a directory, on a random port.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_parlor");

/// Starts `parlor serve` in `dir` (through `sh -c`, so `shell_prefix` can set limits such as
/// `ulimit -n 300;` first); returns the child and its `host:port`.
pub fn serve(
    dir: &std::path::Path,
    shell_prefix: &str,
    extra_env: &[(&str, &str)],
) -> (Child, String) {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("{shell_prefix} exec \"$0\" serve"))
        .arg(BIN)
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
        if let Some(addr) = line.split("listening on http://").nth(1) {
            return (child, addr.trim().to_owned());
        }
        seen.push(line);
    }
}

/// Sends SIGTERM.
pub fn sigterm(child: &Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
}
