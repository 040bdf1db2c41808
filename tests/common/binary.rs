//! The `parlor` binary as an operator runs it: `serve` in a data directory (until it listens,
//! or until it exits refusing to start) and one-shot commands such as `keys rotate`. Only the
//! variables a test names reach it (plus `PATH`), so the suite's own settings never leak in.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_parlor");

/// A `parlor serve` that is listening.
pub struct Running {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Log lines up to the listening line.
    pub log: Vec<String>,
}

/// How a `parlor serve` that did not start ended: its exit code and every log line.
#[derive(Debug)]
pub struct Refused {
    pub code: Option<i32>,
    pub log: String,
}

/// `parlor` with only `PATH`, the data directory, a random loopback port, plain logs and
/// `env`.
pub fn command(data_dir: &Path, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PARLOR_DATA_DIR", data_dir)
        .env("PARLOR_LISTEN", "127.0.0.1:0")
        .env("PARLOR_LOG_FORMAT", "text")
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .current_dir(data_dir.parent().unwrap_or(data_dir));
    command
}

/// Starts `parlor serve`; `Ok` once it listens, `Err` if it exits first.
pub fn serve(data_dir: &Path, env: &[(&str, &str)]) -> Result<Running, Refused> {
    let mut child = command(data_dir, env)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => {
                if let Some(url) = line.split("listening on ").nth(1) {
                    let url = url.trim().to_owned();
                    log.push(line);
                    return Ok(Running { child, url, log });
                }
                log.push(line);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().expect("the binary exits");
                return Err(Refused {
                    code: status.code(),
                    log: log.join("\n"),
                });
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the server neither listened nor exited: {log:#?}");
            }
        }
    }
}

/// Starts `parlor serve` with every log line written to `log` (a file the test reads after),
/// once it listens.
pub fn serve_logging_to(data_dir: &Path, env: &[(&str, &str)], log: &Path) -> Running {
    let file = std::fs::File::create(log).expect("the log file");
    // Held by `Running` from the start: dropping it (a panic below) stops the child.
    let mut running = Running {
        child: command(data_dir, env)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("the binary starts"),
        url: String::new(),
        log: Vec::new(),
    };
    for _ in 0..1200 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(url) = text.lines().find_map(|l| l.split("listening on ").nth(1)) {
            running.url = url.trim().to_owned();
            running.log = text.lines().map(str::to_owned).collect();
            return running;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!(
        "the server did not listen: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// Runs a one-shot command (`keys rotate`, …) to completion, off the test's runtime: a test
/// server in the same process must keep running meanwhile (it may be between the statements
/// of a write transaction, holding the lock the command needs).
pub async fn run(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = command(data_dir, env);
    command.args(args);
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .expect("the command's thread")
}

impl Running {
    /// Stops the server with SIGTERM and waits for it to exit.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..400 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!("the server did not stop on SIGTERM");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
