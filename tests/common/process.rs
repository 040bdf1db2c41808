//! The server as an operator runs it: the real binary in its own process, on a data directory
//! of the test's, stopped with SIGTERM or killed with SIGKILL. [`Process`] keeps its log and
//! URL; [`serve`] starts it through a shell so a test can set limits (`ulimit -n`) first.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_parlor");

/// A running `parlor serve` and what it printed.
pub struct Process {
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub log: Arc<Mutex<Vec<String>>>,
}

/// Environment every spawned test server gets: loopback, a random port, cheap password
/// hashing, generous brakes (the tests measure other things).
const TEST_ENV: &[(&str, &str)] = &[
    ("PARLOR_LISTEN", "127.0.0.1:0"),
    ("PARLOR_LOG_FORMAT", "text"),
    ("PARLOR_ARGON2_MEMORY_KIB", "64"),
    ("PARLOR_ARGON2_ITERATIONS", "1"),
    ("PARLOR_RATE_LIMIT_MESSAGES", "1000000"),
    ("PARLOR_MAX_CONNECTIONS_PER_IP", "0"),
    ("NO_COLOR", "1"),
];

impl Process {
    /// Starts the server with its data in `dir` and waits until it listens.
    pub fn start(dir: &Path, extra_env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(BIN)
            .arg("serve")
            .current_dir(dir)
            .env("PARLOR_DATA_DIR", dir.join("data"))
            .env_remove("PARLOR_TEST_POSTGRES_URL")
            .envs(TEST_ENV.iter().copied())
            .envs(extra_env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("binary starts");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let kept = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        loop {
            let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no listening line in {:?}", log.lock().unwrap());
            };
            if let Some(url) = line.split("listening on ").nth(1) {
                let url = url.split_whitespace().next().unwrap_or_default().to_owned();
                return Self { child, url, log };
            }
        }
    }

    /// A full URL on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for the process to exit (at most `patience`); kills it and fails otherwise.
    pub fn wait(&mut self, patience: Duration) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + patience;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child.kill().ok();
        panic!("the server did not exit within {patience:?}");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

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
        .env_remove("PARLOR_TEST_POSTGRES_URL")
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
