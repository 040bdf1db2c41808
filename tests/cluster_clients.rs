//! Real clients on two nodes of one cluster (one database, one Redis): python-socketio over
//! websocket and polling in the lobby, a stored room, a private conversation and an ephemeral
//! room (`tests/clients/sio_cluster.py`), and the simple `/ws` framing on one node talking to
//! a native client on the other. Whatever a client sees of another crossed between the nodes.

mod common;

use common::cluster::cluster;
use common::protocol::{Ephemeral, MemberJoined, MembersPage, Message, SimpleFrame};
use common::redis::Redis;
use common::{unique_name, TestApp};
use serde_json::json;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long the script may take (its own watchdog stops it at 50 s).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(90);

/// Runs `sio_cluster.py` against nodes `a` and `b` and fails with its output if it fails or
/// overruns [`SCRIPT_TIMEOUT`] (then its process group is killed).
async fn sio_cluster(a: &TestApp, b: &TestApp, args: &[&str]) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
    let mut command = Command::new("python3");
    command
        .arg(dir.join("sio_cluster.py"))
        .arg(a.url(""))
        .arg(b.url(""))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let (finished, stdout, stderr) = tokio::task::spawn_blocking(move || run(command))
        .await
        .expect("the script runner");
    println!("{stdout}");
    match finished {
        Some(status) => assert!(
            status.success(),
            "sio_cluster.py failed ({status})\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        ),
        None => panic!(
            "sio_cluster.py did not finish within {SCRIPT_TIMEOUT:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        ),
    }
}

/// Runs `command` (in its own process group) to its end or [`SCRIPT_TIMEOUT`]; returns its
/// exit status (`None`: killed, with its group) and its output.
fn run(mut command: Command) -> (Option<std::process::ExitStatus>, String, String) {
    let mut child = command.spawn().expect("python3 runs");
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + SCRIPT_TIMEOUT;
    let finished = loop {
        if let Some(status) = child.try_wait().expect("the script's status") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = |reader: std::thread::JoinHandle<String>| reader.join().unwrap_or_default();
    (finished, text(stdout), text(stderr))
}

#[tokio::test]
async fn socketio_clients_on_two_nodes_chat_in_the_lobby_and_a_room_over_websocket_and_polling() {
    let redis = Redis::start().await;
    let nodes = cluster(&redis, 2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let ann = a.caller(&unique_name("ann")).await;
    let bob = b.caller(&unique_name("bob")).await;
    let room = ann.create_room(&unique_name("sio-cluster"), false).await;
    sio_cluster(a, b, &["chat", &ann.token, &bob.token, &room.slug]).await;
}

#[tokio::test]
async fn socketio_clients_on_two_nodes_hold_a_conversation_and_share_an_ephemeral_room() {
    let redis = Redis::start().await;
    let nodes = cluster(&redis, 2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let ann = a.caller(&unique_name("ann")).await;
    let bob = b.caller(&unique_name("bob")).await;
    // Ann creates her ephemeral room on node B; the script uses it from both nodes.
    let host = common::Caller::with_token(b, &ann.token);
    let created: Ephemeral = host.call("POST", "/api/ephemeral", None).await.expect(201);
    let activate = format!("/api/ephemeral/{}/activate", created.code);
    let active: Ephemeral = host.call("POST", &activate, None).await.expect(200);
    assert!(active.active, "{active:?}");
    sio_cluster(a, b, &["private", &ann.token, &bob.token, &created.code]).await;
}

#[tokio::test]
async fn a_ws_client_and_a_native_client_on_different_nodes_share_the_lobby() {
    let redis = Redis::start().await;
    let nodes = cluster(&redis, 2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    // A native guest in the lobby on node b.
    let native_nick = unique_name("nat");
    let mut native = b.gateway().await;
    native.identify(json!({ "nick": native_nick })).await;
    native.join_lobby().await;
    // A `/ws` client on node a: it joins the lobby at once, and node b is told.
    let simple_nick = unique_name("ws");
    let token = a.guest_token(&simple_nick).await;
    let cookie = format!("session={token}");
    let mut simple = a
        .websocket("/ws", &[("cookie", &cookie)])
        .await
        .expect("/ws upgrade");
    let joined: MemberJoined = native
        .event_where(|j: &MemberJoined| j.user.name == simple_nick)
        .await;
    assert_eq!(joined.room, "lobby");
    let listed: MembersPage = native.call("members", json!({ "room": "lobby" })).await;
    let names: Vec<&str> = listed.members.iter().map(|u| u.name.as_str()).collect();
    assert!(names.contains(&simple_nick.as_str()), "{names:?}");
    // Native (b) → /ws (a).
    native.say("hello, simple client").await;
    let frame = simple
        .simple_where(|f| matches!(f, SimpleFrame::Message { .. }))
        .await;
    assert_eq!(
        frame,
        json!({ "message": "hello, simple client", "author": native_nick })
    );
    // /ws (a) → native (b): the sender gets its status, the other node the message.
    simple
        .send_json(json!({ "message": "hello, native client" }))
        .await;
    let status = simple
        .simple_where(|f| matches!(f, SimpleFrame::Status { .. }))
        .await;
    assert_eq!(status, json!({ "status": true }));
    let got: Message = native
        .event_where(|m: &Message| m.text == "hello, native client")
        .await;
    assert_eq!(
        (got.room.as_str(), got.author.name.as_str(), got.seq),
        ("lobby", simple_nick.as_str(), None)
    );
    // The native client leaves on b; the /ws client on a is told.
    native.close().await;
    let left = simple
        .simple_where(|f| matches!(f, SimpleFrame::Presence { event, .. } if event == "leave"))
        .await;
    assert_eq!(left, json!({ "event": "leave", "username": native_nick }));
}
