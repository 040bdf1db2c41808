//! Running `parlor` as a child process in a directory of its own, with an environment that
//! holds only what the test sets.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_parlor");
/// How long a command may run before the test gives up on it.
const PATIENCE: Duration = Duration::from_secs(30);

/// A temporary working directory, by its canonical path (the one the binary reports).
pub struct WorkDir {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl WorkDir {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = std::fs::canonicalize(dir.path()).expect("canonical path");
        Self { _dir: dir, path }
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path.join(name);
        std::fs::write(&path, text).expect("file written");
        path
    }

    /// `parlor ARGS` here: no inherited `PARLOR_*`, `DATABASE_URL` or `NO_COLOR` (the suite's
    /// own `PARLOR_TEST_POSTGRES_URL` included), a random port, cheap password hashing, and
    /// `RUST_BACKTRACE=1` so that a backtrace would show if an error printed one.
    pub fn parlor(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command.args(args).current_dir(&self.path);
        for (name, _) in std::env::vars_os() {
            let text = name.to_string_lossy().to_ascii_uppercase();
            if text.starts_with("PARLOR_") || text == "DATABASE_URL" || text == "NO_COLOR" {
                command.env_remove(&name);
            }
        }
        command
            .env("PARLOR_LISTEN", "127.0.0.1:0")
            .env("PARLOR_ARGON2_MEMORY_KIB", "64")
            .env("PARLOR_ARGON2_ITERATIONS", "1")
            .env("RUST_BACKTRACE", "1");
        command
    }
}

/// What a command that ran to its end left behind.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` with `stdin` as its input to the end. A command still running after
/// [`PATIENCE`] (a server that started despite a mistake) is killed and fails the test.
pub fn finish(mut command: Command, stdin: &[u8]) -> Finished {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    // The child may exit before reading its input (a refusal): a broken pipe is fine.
    let _ = child.stdin.take().expect("stdin").write_all(stdin);
    let stdout = read_all(child.stdout.take().expect("stdout"));
    let stderr = read_all(child.stderr.take().expect("stderr"));
    let status = wait_for_exit(&mut child);
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    let Some(status) = status else {
        panic!("still running after {PATIENCE:?}; stderr: {stderr}");
    };
    Finished {
        status,
        stdout,
        stderr,
    }
}

fn read_all(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// The exit status, or `None` (after killing it) when `child` outlives [`PATIENCE`].
fn wait_for_exit(child: &mut Child) -> Option<ExitStatus> {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("child state") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Starts `parlor serve` with `command`, collects its standard error up to and including the
/// "listening on" line, stops it with SIGTERM and returns the lines and the URL.
pub fn start_and_stop(mut command: Command) -> (Vec<String>, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    let url = loop {
        let Ok(line) = rx.recv_timeout(PATIENCE) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no listening line in {lines:#?}");
        };
        let url = line
            .split("listening on ")
            .nth(1)
            .map(|u| u.trim().to_owned());
        lines.push(line);
        if let Some(url) = url {
            break url;
        }
    };
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    let status = wait_for_exit(&mut child).expect("the server exits after SIGTERM");
    assert!(status.success(), "{status}: {lines:#?}");
    (lines, url)
}

/// Asserts that `text` is exactly one line (with its newline) and shows no panic or backtrace.
pub fn assert_one_line(text: &str) {
    assert!(
        text.ends_with('\n') && text.lines().count() == 1,
        "one line expected: {text:?}"
    );
    for sign in ["panicked", "backtrace", "Caused by", "Error: "] {
        assert!(!text.contains(sign), "{sign:?} in {text:?}");
    }
}

/// Asserts that a line contains `expected`, and returns it.
pub fn line_with<'a>(lines: &'a [String], expected: &str) -> &'a str {
    lines
        .iter()
        .find(|line| line.contains(expected))
        .unwrap_or_else(|| panic!("no line with {expected:?} in {lines:#?}"))
}

/// The path `name` inside `dir`, as text.
pub fn shown(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}
