//! The binary as an operator runs it: the CLI, start-up on embedded defaults, and graceful
//! shutdown on SIGTERM.

mod common;

use common::protocol::{CloseReason, Health, Role, Session};
use common::{Request, WsClient};
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_parlor");

/// Starts `parlor serve` on a random port in `dir`; returns the child and its address.
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
        if let Some(url) = line.split("listening on ").nth(1) {
            return (child, url.trim().to_owned());
        }
        seen.push(line);
    }
}

fn sigterm(child: &Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
}

fn wait(child: &mut Child) -> std::process::ExitStatus {
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().ok();
    panic!("the server did not exit after SIGTERM");
}

#[tokio::test]
async fn first_start_creates_the_data_directory_and_a_private_master_key() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = start(dir.path(), &[]);
    let health: Health = Request::new("GET", &format!("{url}/health"))
        .send()
        .await
        .expect(200);
    assert_eq!(
        (health.status.as_str(), health.database.as_str()),
        ("ok", "ok")
    );
    let data = dir.path().join("parlor-data");
    assert!(data.join("parlor.db").exists() && data.join("uploads").is_dir());
    let mode = std::fs::metadata(data.join("master.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    sigterm(&child);
    assert!(wait(&mut child).success());
}

#[tokio::test]
async fn sigterm_tells_connected_clients_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = start(dir.path(), &[]);
    let ws_url = url.replace("http://", "ws://") + "/gateway";
    let mut client = WsClient::connect(&ws_url).await;
    let identified = client.identify(json!({ "nick": "leaver" })).await;
    assert_eq!(identified.user.name, "leaver");
    sigterm(&child);
    client.closed_with(CloseReason::Shutdown).await;
    assert!(wait(&mut child).success(), "exit code 0");
}

#[tokio::test]
async fn user_add_creates_a_root_account_that_can_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut add = Command::new(BIN)
        .args(["user", "add", "Admin_1", "--role", "root"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"a sturdy password\n")
        .unwrap();
    let output = add.wait_with_output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("root"));

    let (mut child, url) = start(dir.path(), &[]);
    let login = json!({ "username": "admin_1", "password": "a sturdy password" });
    let session: Session = Request::new("POST", &format!("{url}/api/login"))
        .json(login)
        .send()
        .await
        .expect(200);
    assert_eq!(
        (session.user.username.as_str(), session.user.role),
        ("Admin_1", Role::Root)
    );
    sigterm(&child);
    assert!(wait(&mut child).success());
}

#[tokio::test]
async fn the_root_account_comes_from_the_environment_with_a_hash() {
    let dir = tempfile::tempdir().unwrap();
    let hash = parlor::auth::hash_password("hashed secret 1".into())
        .await
        .unwrap();
    let env = [
        ("PARLOR_ROOT_USER", "chief"),
        ("PARLOR_ROOT_PASSWORD", "ignored when a hash is set"),
        ("PARLOR_ROOT_PASSWORD_HASH", hash.as_str()),
    ];
    let (mut child, url) = start(dir.path(), &env);
    let login = |password: &str| {
        Request::new("POST", &format!("{url}/api/login"))
            .json(json!({ "username": "chief", "password": password }))
            .send()
    };
    login("ignored when a hash is set")
        .await
        .expect_error(401, "invalid_credentials");
    let session: Session = login("hashed secret 1").await.expect(200);
    assert_eq!(
        (session.user.username.as_str(), session.user.role),
        ("chief", Role::Root)
    );
    sigterm(&child);
    assert!(wait(&mut child).success());
}

#[test]
fn help_lists_the_commands() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && help.contains("serve") && help.contains("user"),
        "{help}"
    );
}
