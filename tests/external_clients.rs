//! Official client libraries and a real browser against the real server: `python-socketio`,
//! `socket.io-client` (Node) and Chromium driven by `playwright-core`. The scripts live in
//! `tests/clients/`; `scripts/test` installs their dependencies.

mod common;

use common::fake_model::{FakeModel, Script};
use common::spawn_app_with;
use parlor::config::{Config, Secret};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the Python and Node Socket.IO scripts may take (they finish in a few seconds).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(90);

/// How long a browser script may take: its own watchdog (40–60 s, see each script) plus time
/// to take its failure screenshots and close Chromium, on a loaded machine.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

/// Two schemathesis runs over every operation (about a minute on two cores).
const CONFORMANCE_TIMEOUT: Duration = Duration::from_secs(300);

fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// Where one browser script puts its screenshots: `test-output/browser/<script>/`, so that
/// scripts running in parallel never overwrite each other's failure screenshots.
fn screenshot_dir(script: &str) -> String {
    let name = script.trim_end_matches(".mjs");
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("test-output/browser")
        .join(name)
        .display()
        .to_string()
}

/// Runs a client script against a server with test defaults (see [`run_script_with`]).
async fn run_script(program: &str, script: &str, extra_args: &[String], timeout: Duration) {
    run_script_with(program, script, extra_args, timeout, |_| {}).await;
}

/// Runs a client script against a server configured by `adjust` and fails the test with the
/// script's output if it fails or overruns `timeout` (then it is killed, with its children).
async fn run_script_with(
    program: &str,
    script: &str,
    extra_args: &[String],
    timeout: Duration,
    adjust: impl FnOnce(&mut Config),
) {
    let app = spawn_app_with(adjust).await;
    let base = app.url("");
    let dir = clients_dir();
    let (program, script, args) = (program.to_owned(), script.to_owned(), extra_args.to_vec());
    let run = tokio::task::spawn_blocking(move || {
        let mut command = Command::new(&program);
        command
            .arg(dir.join(&script))
            .arg(base)
            .args(args)
            .current_dir(dir);
        run_with_timeout(command, timeout)
    })
    .await
    .expect("the script runner");
    println!("{}", run.stdout);
    match run.outcome {
        Outcome::Exited(status) => assert!(
            status.success(),
            "client script failed ({status})\n--- stdout\n{}\n--- stderr\n{}",
            run.stdout,
            run.stderr
        ),
        Outcome::TimedOut => panic!(
            "client script did not finish within {timeout:?} and was killed\n--- stdout so far\n{}\n--- stderr so far\n{}",
            run.stdout, run.stderr
        ),
    }
}

enum Outcome {
    Exited(std::process::ExitStatus),
    TimedOut,
}

struct Run {
    outcome: Outcome,
    stdout: String,
    stderr: String,
}

/// Runs `command` in its own process group, collecting its output as it comes; past `timeout`
/// the whole group (the script and, say, the Chromium it started) is killed.
fn run_with_timeout(mut command: Command, timeout: Duration) -> Run {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let collect = |mut pipe: Box<dyn Read + Send>| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buffer);
        let reader = std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        });
        (buffer, reader)
    };
    let (stdout, stdout_reader) = collect(Box::new(child.stdout.take().unwrap()));
    let (stderr, stderr_reader) = collect(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + timeout;
    let outcome = loop {
        if let Some(status) = child.try_wait().expect("the script's status") {
            break Outcome::Exited(status);
        }
        if Instant::now() >= deadline {
            break Outcome::TimedOut;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // Whatever the script left running in its group (a browser that did not close) goes too;
    // on a timeout this kills the script itself.
    kill_group(child.id());
    if matches!(outcome, Outcome::TimedOut) {
        child.wait().expect("the killed script is reaped");
    }
    for reader in [stdout_reader, stderr_reader] {
        reader.join().expect("an output reader");
    }
    let text =
        |buffer: Arc<Mutex<Vec<u8>>>| String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned();
    Run {
        outcome,
        stdout: text(stdout),
        stderr: text(stderr),
    }
}

/// Sends SIGKILL to process group `pgid` (nothing to do when it is already gone).
fn kill_group(pgid: u32) {
    Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status()
        .expect("kill runs");
}

#[tokio::test]
async fn python_socketio_client_chats_over_websocket_and_polling() {
    run_script("python3", "sio_python.py", &[], SCRIPT_TIMEOUT).await;
}

#[tokio::test]
async fn python_socketio_client_uses_rooms_conversations_and_ephemeral_rooms() {
    run_script("python3", "sio_rooms.py", &[], SCRIPT_TIMEOUT).await;
}

#[tokio::test]
async fn python_socketio_clients_send_and_receive_attachments() {
    run_script("python3", "sio_files.py", &[], SCRIPT_TIMEOUT).await;
}

#[tokio::test]
async fn node_socketio_client_chats_over_websocket_and_polling() {
    run_script("node", "sio_node.mjs", &[], SCRIPT_TIMEOUT).await;
}

#[tokio::test]
async fn two_browser_pages_chat_and_a_reload_restores_the_identity() {
    let out = [screenshot_dir("browser_lobby.mjs")];
    run_script("node", "browser_lobby.mjs", &out, BROWSER_TIMEOUT).await;
}

#[tokio::test]
async fn two_browsers_share_a_private_room_through_an_invite_link() {
    let out = [screenshot_dir("browser_rooms.mjs")];
    run_script("node", "browser_rooms.mjs", &out, BROWSER_TIMEOUT).await;
}

#[tokio::test]
async fn browsers_hold_private_conversations_whispers_and_an_ephemeral_room() {
    let out = [screenshot_dir("browser_private.mjs")];
    run_script("node", "browser_private.mjs", &out, BROWSER_TIMEOUT).await;
}

#[tokio::test]
async fn two_browsers_reply_react_edit_delete_and_mention_in_a_room() {
    // A reply's original has to be loaded from older history.
    run_browser_past_one_page("browser_messages.mjs").await;
}

#[tokio::test]
async fn an_account_searches_messages_and_opens_an_old_one_in_context() {
    // The message a search finds has to be loaded from older history.
    run_browser_past_one_page("browser_search.mjs").await;
}

/// Runs a browser script against a server whose join page (30 messages) is smaller than what
/// the script posts, so that reaching an old message needs older history; the message rate is
/// raised so that one account's burst of posts stays under it.
async fn run_browser_past_one_page(script: &str) {
    let out = [screenshot_dir(script)];
    run_script_with("node", script, &out, BROWSER_TIMEOUT, |config| {
        config.history_page = 30;
        config.rate_limit_messages = 1000;
    })
    .await;
}

#[tokio::test]
async fn the_web_app_explains_errors_and_notifies_of_mentions() {
    let out = [screenshot_dir("browser_notices.mjs")];
    run_script("node", "browser_notices.mjs", &out, BROWSER_TIMEOUT).await;
}

#[tokio::test]
async fn a_guest_keeps_its_name_as_an_account_without_leaving_the_chat() {
    let out = [screenshot_dir("browser_upgrade.mjs")];
    run_script("node", "browser_upgrade.mjs", &out, BROWSER_TIMEOUT).await;
}

#[tokio::test]
async fn guests_join_a_public_room_by_its_address_and_host_a_one_on_one_room() {
    let out = [screenshot_dir("browser_guests.mjs")];
    run_script("node", "browser_guests.mjs", &out, BROWSER_TIMEOUT).await;
}

#[tokio::test]
async fn two_browsers_share_a_pasted_image_and_a_recorded_voice_note() {
    let out = [screenshot_dir("browser_files.mjs")];
    run_script("node", "browser_files.mjs", &out, BROWSER_TIMEOUT).await;
}

#[tokio::test]
async fn a_user_downloads_their_data_from_the_web_app() {
    let out = [screenshot_dir("browser_export.mjs")];
    run_script("node", "browser_export.mjs", &out, BROWSER_TIMEOUT).await;
}

#[tokio::test]
async fn python_socketio_clients_are_muted_kicked_and_banned() {
    const ROOT_PASSWORD: &str = "root password for python";
    let args = ["root".to_owned(), ROOT_PASSWORD.to_owned()];
    run_script_with(
        "python3",
        "sio_moderation.py",
        &args,
        SCRIPT_TIMEOUT,
        |config| {
            config.root_user = Some("root".into());
            config.root_password = Some(Secret::new(ROOT_PASSWORD));
            // The payment webhook exists only with a secret: probe it as deployed.
            config.payment_webhook_secret = Some(Secret::new("conformance webhook secret"));
        },
    )
    .await;
}

#[tokio::test]
async fn a_moderator_made_in_the_admin_panel_bans_a_user_whose_page_says_why() {
    const ROOT: &str = "root";
    const ROOT_PASSWORD: &str = "root password for the browser";
    let args = [
        screenshot_dir("browser_admin.mjs"),
        ROOT.to_owned(),
        ROOT_PASSWORD.to_owned(),
    ];
    run_script_with(
        "node",
        "browser_admin.mjs",
        &args,
        BROWSER_TIMEOUT,
        |config| {
            config.root_user = Some(ROOT.into());
            config.root_password = Some(Secret::new(ROOT_PASSWORD));
        },
    )
    .await;
}

#[tokio::test]
async fn the_rest_api_conforms_to_its_openapi_document() {
    const ROOT_PASSWORD: &str = "root password for schemathesis";
    let args = ["root".to_owned(), ROOT_PASSWORD.to_owned()];
    run_script_with(
        "python3",
        "openapi_conformance.py",
        &args,
        CONFORMANCE_TIMEOUT,
        |config| {
            config.root_user = Some("root".into());
            config.root_password = Some(Secret::new(ROOT_PASSWORD));
        },
    )
    .await;
}

#[tokio::test]
async fn a_user_talks_with_the_companion_in_the_web_app() {
    const ROOT: &str = "root";
    const ROOT_PASSWORD: &str = "root password for the companion";
    const FREE_MESSAGES: u32 = 2;
    // The first reply streams slowly, so the browser sees a partial bubble before the message.
    const PIECES: [&str; 6] = [
        "Hello ",
        "there, ",
        "I am ",
        "your ",
        "companion ",
        "today.",
    ];
    // The second one too, and longer: the browser reloads in the middle of it.
    let second: Vec<String> = (1..=10).map(|n| format!("part {n}; ")).collect();
    let fake = FakeModel::start().await;
    fake.push(Script::slow(PIECES, Duration::from_millis(400)));
    fake.push(Script::slow(second.clone(), Duration::from_millis(400)));
    let url = fake.url();
    let args = [
        screenshot_dir("browser_companion.mjs"),
        ROOT.to_owned(),
        ROOT_PASSWORD.to_owned(),
        FREE_MESSAGES.to_string(),
        PIECES.concat(),
        second.concat(),
    ];
    run_script_with(
        "node",
        "browser_companion.mjs",
        &args,
        BROWSER_TIMEOUT,
        |config| {
            config.root_user = Some(ROOT.into());
            config.root_password = Some(Secret::new(ROOT_PASSWORD));
            config.ai_provider = Some(parlor::config::AiProvider::Ollama);
            config.ai_base_url = Some(url);
            config.ai_model = "test".into();
            config.ai_free_messages = FREE_MESSAGES;
            // The script writes five messages within the minute.
            config.ai_messages_per_minute = 60;
        },
    )
    .await;

    // The free messages, the one after premium, the one after forgetting (none past the
    // limit), then the mention in a room.
    let requests = fake.requests();
    let expected = FREE_MESSAGES as usize + 2;
    assert_eq!(requests.len(), expected + 1, "{requests:#?}");
    let mention = requests[expected].last_user_message().unwrap_or_default();
    assert!(mention.contains("hello room"), "{mention:?}");
    let roles = |i: usize| -> Vec<String> {
        requests[i]
            .messages()
            .into_iter()
            .map(|(role, _)| role)
            .collect()
    };
    let before_forgetting = roles(expected - 2);
    assert!(
        before_forgetting.iter().any(|role| role == "assistant"),
        "before forgetting, the model hears the earlier turns: {before_forgetting:?}"
    );
    let after_forgetting = roles(expected - 1);
    assert!(
        !after_forgetting.iter().any(|role| role == "assistant")
            && after_forgetting
                .iter()
                .filter(|role| *role == "user")
                .count()
                == 1,
        "after forgetting, the model hears only the new message: {after_forgetting:?}"
    );
    let last = requests[expected - 1]
        .last_user_message()
        .unwrap_or_default();
    assert!(last.starts_with("after forgetting"), "{last:?}");
}

#[tokio::test]
async fn python_socketio_clients_talk_with_the_companion_on_both_transports() {
    const BOT: &str = "Violet";
    let fake = FakeModel::start().await;
    let url = fake.url();
    run_script_with(
        "python3",
        "sio_companion.py",
        &[BOT.to_owned()],
        SCRIPT_TIMEOUT,
        |config| {
            config.ai_provider = Some(parlor::config::AiProvider::Openai);
            config.ai_base_url = Some(url);
            config.ai_model = "test".into();
            config.ai_name = BOT.into();
            config.ai_free_messages = 1;
        },
    )
    .await;
    assert_eq!(
        fake.requests().len(),
        1,
        "past the trial the model is not asked"
    );
}

#[tokio::test]
async fn settings_follow_an_account_to_its_other_device_and_every_theme_is_readable() {
    let out = [screenshot_dir("browser_settings.mjs")];
    run_script("node", "browser_settings.mjs", &out, BROWSER_TIMEOUT).await;
}

#[tokio::test]
async fn an_account_manages_its_sessions_password_and_name_from_the_settings_panel() {
    let out = [screenshot_dir("browser_settings_account.mjs")];
    run_script(
        "node",
        "browser_settings_account.mjs",
        &out,
        BROWSER_TIMEOUT,
    )
    .await;
}

#[tokio::test]
async fn python_reference_clients_keep_rooms_and_conversations_end_to_end_encrypted() {
    // One account writes a few dozen messages, edits and refused attempts within seconds.
    run_script_with("python3", "e2e_python.py", &[], SCRIPT_TIMEOUT, |config| {
        config.rate_limit_messages = 1000;
    })
    .await;
}

/// The end-to-end script sets up keys in several browsers (PBKDF2 of 600 000 rounds each time),
/// waits for keys shared between pages and runs the Python reference client twice: its own
/// watchdog is 150 s.
const E2E_BROWSER_TIMEOUT: Duration = Duration::from_secs(200);

#[tokio::test]
async fn browsers_and_the_python_client_write_end_to_end_and_new_browsers_unlock_the_history() {
    let out = [screenshot_dir("browser_e2e.mjs")];
    // Seals retried after a new epoch count as sends: no rate limit in the way.
    run_script_with(
        "node",
        "browser_e2e.mjs",
        &out,
        E2E_BROWSER_TIMEOUT,
        |config| {
            config.rate_limit_messages = 1000;
        },
    )
    .await;
}
