//! Official client libraries and a real browser against the real server: `python-socketio`,
//! `socket.io-client` (Node) and Chromium driven by `playwright-core`. The scripts live in
//! `tests/clients/`; `scripts/test` installs their dependencies.

mod common;

use common::spawn_app_with;
use parlor::config::{Config, Secret};
use std::path::PathBuf;
use std::process::Command;

fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// Where the browser scripts put their screenshots.
fn screenshot_dir() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("test-output/browser")
        .display()
        .to_string()
}

/// Runs a client script against a server with test defaults (see [`run_script_with`]).
async fn run_script(program: &str, script: &str, extra_args: &[String]) {
    run_script_with(program, script, extra_args, |_| {}).await;
}

/// Runs a client script against a server configured by `adjust` and fails the test with the
/// script's output if it fails.
async fn run_script_with(
    program: &str,
    script: &str,
    extra_args: &[String],
    adjust: impl FnOnce(&mut Config),
) {
    let app = spawn_app_with(adjust).await;
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
    run_script("node", "browser_lobby.mjs", &[screenshot_dir()]).await;
}

#[tokio::test]
async fn two_browsers_share_a_private_room_through_an_invite_link() {
    run_script("node", "browser_rooms.mjs", &[screenshot_dir()]).await;
}

#[tokio::test]
async fn browsers_hold_private_conversations_whispers_and_an_ephemeral_room() {
    run_script("node", "browser_private.mjs", &[screenshot_dir()]).await;
}

#[tokio::test]
async fn python_socketio_clients_are_muted_kicked_and_banned() {
    const ROOT_PASSWORD: &str = "root password for python";
    let args = ["root".to_owned(), ROOT_PASSWORD.to_owned()];
    run_script_with("python3", "sio_moderation.py", &args, |config| {
        config.root_user = Some("root".into());
        config.root_password = Some(Secret::new(ROOT_PASSWORD));
    })
    .await;
}

#[tokio::test]
async fn a_moderator_made_in_the_admin_panel_bans_a_user_whose_page_says_why() {
    const ROOT: &str = "root";
    const ROOT_PASSWORD: &str = "root password for the browser";
    let args = [screenshot_dir(), ROOT.to_owned(), ROOT_PASSWORD.to_owned()];
    run_script_with("node", "browser_admin.mjs", &args, |config| {
        config.root_user = Some(ROOT.into());
        config.root_password = Some(Secret::new(ROOT_PASSWORD));
    })
    .await;
}
