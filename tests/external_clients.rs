//! Official client libraries and a real browser against the real server: `python-socketio`,
//! `socket.io-client` (Node) and Chromium driven by `playwright-core`. The scripts live in
//! `tests/clients/`; `scripts/test` installs their dependencies.

mod common;

use common::spawn_app;
use std::path::PathBuf;
use std::process::Command;

fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// Runs a client script against the server and fails the test with its output if it fails.
async fn run_script(program: &str, script: &str, extra_args: &[String]) {
    let app = spawn_app().await;
    let base = app.url("");
    let dir = clients_dir();
    let (program, script, args) = (program.to_owned(), script.to_owned(), extra_args.to_vec());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&program)
            .arg(dir.join(&script))
            .arg(base)
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "client script failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
}

#[tokio::test]
async fn python_socketio_client_chats_over_websocket_and_polling() {
    run_script("python3", "sio_python.py", &[]).await;
}

#[tokio::test]
async fn python_socketio_client_uses_rooms_conversations_and_ephemeral_rooms() {
    run_script("python3", "sio_rooms.py", &[]).await;
}

#[tokio::test]
async fn node_socketio_client_chats_over_websocket_and_polling() {
    run_script("node", "sio_node.mjs", &[]).await;
}

#[tokio::test]
async fn two_browser_pages_chat_and_a_reload_restores_the_identity() {
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-output/browser");
    run_script("node", "browser_lobby.mjs", &[out.display().to_string()]).await;
}

#[tokio::test]
async fn two_browsers_share_a_private_room_through_an_invite_link() {
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-output/browser");
    run_script("node", "browser_rooms.mjs", &[out.display().to_string()]).await;
}

#[tokio::test]
async fn browsers_hold_private_conversations_whispers_and_an_ephemeral_room() {
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-output/browser");
    run_script("node", "browser_private.mjs", &[out.display().to_string()]).await;
}
