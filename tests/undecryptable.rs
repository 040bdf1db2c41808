//! A stored message that no longer decrypts (a tampered or damaged row) is reported as such —
//! `undecryptable: true`, no text — on every path that reads it, counted once, and the rest of
//! its room keeps working: joining, history, the admin transcript, the audit log's text search
//! and an idempotent retry of the damaged message.

mod common;

use common::protocol::{AuditPage, Health, History, Message, Posted, Transcript};
use common::{eventually, spawn_app_with, unique_name, with_root, TestApp};
use serde_json::json;

/// Flips one bit in the stored ciphertext of message `seq` of `slug`, directly in the database.
async fn tamper(app: &TestApp, slug: &str, seq: i64) {
    let db = common::database(app).await;
    let (id, mut body): (i64, Vec<u8>) = sqlx::query_as(
        "SELECT m.id, m.body FROM messages m JOIN rooms r ON r.id = m.room_id \
         WHERE r.slug = $1 AND m.seq = $2",
    )
    .bind(slug)
    .bind(seq)
    .fetch_one(&db)
    .await
    .expect("the stored message");
    let last = body.len() - 1;
    body[last] ^= 0x01;
    sqlx::query("UPDATE messages SET body = $1 WHERE id = $2")
        .bind(body)
        .bind(id)
        .execute(&db)
        .await
        .expect("tampered");
    db.close().await;
}

/// Each message as (seq, text, undecryptable).
fn lines(messages: &[Message]) -> Vec<(i64, &str, bool)> {
    messages
        .iter()
        .map(|m| (m.seq.unwrap_or(0), m.text.as_str(), m.undecryptable))
        .collect()
}

fn expected() -> Vec<(i64, &'static str, bool)> {
    vec![(1, "first", false), (2, "", true), (3, "third", false)]
}

async fn health(app: &TestApp) -> Health {
    app.request("GET", "/health").send().await.expect(200)
}

#[tokio::test]
async fn a_tampered_message_is_marked_undecryptable_and_the_room_keeps_working() {
    let app = spawn_app_with(with_root).await;
    let owner = app.caller(&unique_name("own")).await;
    owner.create_room("tampered", false).await;
    owner.say_in("tampered", "first").await;
    let retry = json!({ "text": "second secret", "client_msg_id": "cm-second" });
    let second: Posted = owner
        .call("POST", "/api/rooms/tampered/messages", Some(retry.clone()))
        .await
        .expect(201);
    owner.say_in("tampered", "third").await;
    tamper(&app, "tampered", 2).await;
    assert_eq!(health(&app).await.undecryptable_messages, 0);

    // REST history, twice: the damaged row is counted once.
    for _ in 0..2 {
        let page: History = owner
            .call("GET", "/api/rooms/tampered/messages", None)
            .await
            .expect(200);
        assert_eq!(lines(&page.messages), expected());
        assert!(
            page.messages[1].client_msg_id.as_deref() == Some("cm-second"),
            "the row's metadata is still shown: {page:?}"
        );
    }
    assert_eq!(health(&app).await.undecryptable_messages, 1);

    // Joining over the gateway, and the `history` command.
    let mut ws = owner.gateway().await;
    let joined = ws.join_room("tampered", json!({})).await;
    assert_eq!(lines(&joined.messages), expected());
    let page: History = ws
        .call("history", json!({ "room": "tampered", "before": 4 }))
        .await;
    assert_eq!(lines(&page.messages), expected());
    let caught_up: History = ws
        .call("history", json!({ "room": "tampered", "after": 1 }))
        .await;
    assert_eq!(lines(&caught_up.messages), expected()[1..].to_vec());

    // An idempotent retry of the damaged message answers its place, without its text.
    let again: Posted = owner
        .call("POST", "/api/rooms/tampered/messages", Some(retry))
        .await
        .expect(201);
    assert_eq!(
        (again.seq, again.id.as_str(), again.duplicate),
        (2, second.id.as_str(), true)
    );

    // The admin transcript shows the line as undecryptable.
    let root = app.root().await;
    let transcript: Transcript = root
        .call("GET", "/api/admin/rooms/tampered/messages", None)
        .await
        .expect(200);
    let transcript_lines: Vec<(i64, &str, bool)> = transcript
        .messages
        .iter()
        .map(|l| (l.seq, l.text.as_str(), l.undecryptable))
        .collect();
    assert_eq!(transcript_lines, expected());

    // The audit log's text search skips the damaged row and finds the others.
    let found = eventually(|| async {
        let page: AuditPage = root
            .call("GET", "/api/admin/audit?action=message&text=third", None)
            .await
            .expect(200);
        match page.entries.as_slice() {
            [one] => Ok(one.clone()),
            other => Err(format!("one match wanted: {other:?}")),
        }
    })
    .await;
    assert_eq!(found.detail.as_deref(), Some("seq 3"));
    let none: AuditPage = root
        .call("GET", "/api/admin/audit?action=message&text=second", None)
        .await
        .expect(200);
    assert!(none.entries.is_empty(), "{none:?}");

    // The room goes on: new messages are stored, delivered and read back.
    let posted = owner.say_in("tampered", "fourth").await;
    assert_eq!(posted.seq, 4);
    let page: History = owner
        .call("GET", "/api/rooms/tampered/messages?after=2", None)
        .await
        .expect(200);
    assert_eq!(
        lines(&page.messages),
        [(3, "third", false), (4, "fourth", false)]
    );
    assert_eq!(
        health(&app).await.undecryptable_messages,
        1,
        "still counted once, however often it was read"
    );
}
