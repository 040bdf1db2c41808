//! Fault injection on a single node: the server killed with SIGKILL in the middle of a burst of
//! writes, stopped with SIGTERM under load, and a clock that jumps forward by weeks. What the
//! server acknowledged must be there afterwards, exactly once, in a database that checks out.

mod common;

use common::process::Process;
use common::protocol::{History, Posted, Room, Session};
use common::{spawn_app, unique_name, Request, PATIENCE};
use serde_json::json;
use sqlx::Connection;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";

/// Registers an account and creates a public room on a server started as a process.
async fn owner_with_room(server: &Process, slug: &str) -> String {
    let session: Session = Request::new("POST", &server.url("/api/register"))
        .json(json!({ "username": unique_name("own"), "password": PASSWORD }))
        .send()
        .await
        .expect(201);
    let room: Room = Request::new("POST", &server.url("/api/rooms"))
        .bearer(&session.token)
        .json(json!({ "slug": slug, "name": "Burst" }))
        .send()
        .await
        .expect(201);
    assert_eq!(room.slug, slug);
    session.token
}

/// Every message of a room, oldest first, paging with `after`.
async fn whole_history(url: &str, token: &str, slug: &str) -> Vec<common::protocol::Message> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page: History = Request::new(
            "GET",
            &format!("{url}/api/rooms/{slug}/messages?after={after}"),
        )
        .bearer(token)
        .send()
        .await
        .expect(200);
        let Some(last) = page.messages.last().and_then(|m| m.seq) else {
            return all;
        };
        after = last;
        all.extend(page.messages);
    }
}

/// Posts messages with client ids `{writer}-{n}` until a request fails; records each ack.
async fn post_until_failure(
    url: String,
    token: String,
    writer: usize,
    acked: Arc<Mutex<BTreeMap<String, i64>>>,
) {
    for n in 0.. {
        let id = format!("w{writer}-{n}");
        let reply = Request::new("POST", &format!("{url}/api/rooms/burst/messages"))
            .bearer(&token)
            .json(json!({ "text": format!("message {id}"), "client_msg_id": id }))
            .send_fallible()
            .await;
        match reply {
            Some(reply) if reply.status == 201 => {
                let posted: Posted = reply.json();
                acked.lock().unwrap().insert(id, posted.seq);
            }
            _ => return,
        }
    }
}

#[tokio::test]
async fn a_server_killed_mid_burst_keeps_every_acknowledged_message_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Process::start(dir.path(), &[]);
    let token = owner_with_room(&server, "burst").await;
    let acked = Arc::new(Mutex::new(BTreeMap::new()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            tokio::spawn(post_until_failure(
                server.url.clone(),
                token.clone(),
                w,
                Arc::clone(&acked),
            ))
        })
        .collect();
    // Let the burst run, then pull the plug.
    tokio::time::timeout(PATIENCE, async {
        while acked.lock().unwrap().len() < 200 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the burst gets going");
    let mut server = server;
    server.signal("KILL");
    server.wait(PATIENCE);
    for writer in writers {
        writer.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();

    let restarted = Process::start(dir.path(), &[]);
    let stored = whole_history(&restarted.url, &token, "burst").await;
    let mut seen = BTreeMap::new();
    for message in &stored {
        let id = message
            .client_msg_id
            .clone()
            .expect("every message has its id");
        assert!(
            seen.insert(id.clone(), message.seq.unwrap()).is_none(),
            "{id} stored twice"
        );
    }
    for (id, seq) in &acked {
        assert_eq!(
            seen.get(id),
            Some(seq),
            "acknowledged {id} (seq {seq}) is stored"
        );
    }
    // A retry of an acknowledged message posts nothing new.
    for (id, seq) in acked.iter().take(20) {
        let again: Posted = Request::new("POST", &restarted.url("/api/rooms/burst/messages"))
            .bearer(&token)
            .json(json!({ "text": format!("message {id}"), "client_msg_id": id }))
            .send()
            .await
            .expect(201);
        assert!(again.duplicate, "{id}");
        assert_eq!(again.seq, *seq);
    }
    drop(restarted);
    let db = dir.path().join("data").join("parlor.db");
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let (check,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(check, "ok");
}

#[tokio::test]
async fn sigterm_under_load_exits_cleanly_and_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Process::start(dir.path(), &[("PARLOR_SHUTDOWN_GRACE_SECS", "3")]);
    let token = owner_with_room(&server, "burst").await;
    let acked = Arc::new(Mutex::new(BTreeMap::new()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            tokio::spawn(post_until_failure(
                server.url.clone(),
                token.clone(),
                w,
                Arc::clone(&acked),
            ))
        })
        .collect();
    tokio::time::timeout(PATIENCE, async {
        while acked.lock().unwrap().len() < 100 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the load gets going");
    server.signal("TERM");
    let status = server.wait(Duration::from_secs(10));
    assert!(status.success(), "SIGTERM under load exits 0: {status:?}");
    for writer in writers {
        writer.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let restarted = Process::start(dir.path(), &[]);
    let stored: BTreeMap<String, i64> = whole_history(&restarted.url, &token, "burst")
        .await
        .into_iter()
        .map(|m| (m.client_msg_id.unwrap(), m.seq.unwrap()))
        .collect();
    for (id, seq) in &acked {
        assert_eq!(stored.get(id), Some(seq), "acknowledged {id} is stored");
    }
}

#[tokio::test]
async fn a_clock_that_jumps_weeks_ahead_expires_what_is_due_and_keeps_serving() {
    let app = spawn_app().await;
    let (owner, _) = app.two_users("own", "usr").await;
    owner.create_room("jump", false).await;
    let before = owner.say_in("jump", "before the jump").await;
    let guest = app.guest_token(&unique_name("gst")).await;
    let owner_name = owner.name().await;

    app.clock.advance(Duration::from_secs(30 * 86_400));

    app.request("GET", "/api/user/@me")
        .bearer(&guest)
        .send()
        .await
        .expect_error(401, "unauthenticated");
    let session = app.session(&owner_name, PASSWORD).await;
    let after: Posted = app
        .request("POST", "/api/rooms/jump/messages")
        .bearer(&session.token)
        .json(json!({ "text": "after the jump" }))
        .send()
        .await
        .expect(201);
    assert_eq!(
        after.seq,
        before.seq + 1,
        "sequence order is not time order"
    );
    assert!(after.ts >= before.ts + 30 * 86_400_000);
    let history: History = app
        .request("GET", "/api/rooms/jump/messages")
        .bearer(&session.token)
        .send()
        .await
        .expect(200);
    assert_eq!(history.texts(), ["before the jump", "after the jump"]);
}
