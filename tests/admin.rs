//! The admin API: role mod+ and an admin network (with `X-Forwarded-For` believed only from
//! trusted proxies), the Origin check on cookie-authenticated actions, live connections, and
//! the audit log's filters, pagination and exports.

mod common;

use std::time::Duration;

use common::protocol::{
    AdminRooms, AdminUsers, Archives, Audit, AuditPage, CloseReason, Connections, Conversation,
    Ephemeral, Posted, RemovedReason, Role, RoomKind, RoomRemoved, Transcript,
};
use common::{eventually, spawn_app_with, unique_name, with_root, TestApp};
use serde_json::json;

#[tokio::test]
async fn only_moderators_on_an_admin_network_reach_the_admin_api() {
    let app = spawn_app_with(with_root).await;
    let root = app.root().await;
    let user = app.caller(&unique_name("usr")).await;
    user.call("GET", "/api/admin/users", None)
        .await
        .expect_error(403, "forbidden");
    let found: AdminUsers = root
        .call("GET", "/api/admin/users?q=roo", None)
        .await
        .expect(200);
    assert_eq!(found.users.len(), 1, "{found:?}");
    assert_eq!(
        (found.users[0].name.as_str(), found.users[0].role),
        ("root", Role::Root)
    );

    let elsewhere = spawn_app_with(|c| {
        with_root(c);
        c.admin_cidrs = vec!["10.0.0.0/8".into()];
    })
    .await;
    let root = elsewhere.root().await;
    elsewhere
        .request("GET", "/api/admin/users")
        .bearer(&root.token)
        .header("x-forwarded-for", "10.1.2.3")
        .send()
        .await
        .expect_error(403, "forbidden");

    let proxied = spawn_app_with(|c| {
        with_root(c);
        c.admin_cidrs = vec!["10.0.0.0/8".into()];
        c.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    let root = proxied.root().await;
    let users = |forwarded: &'static str| {
        proxied
            .request("GET", "/api/admin/users")
            .bearer(&root.token)
            .header("x-forwarded-for", forwarded)
            .send()
    };
    let inside: AdminUsers = users("6.6.6.6, 10.1.2.3").await.expect(200);
    assert!(
        inside.users.iter().any(|u| u.name == "root"),
        "behind a trusted proxy the forwarded address counts: {inside:?}"
    );
    users("10.1.2.3, 8.8.8.8")
        .await
        .expect_error(403, "forbidden");
}

#[tokio::test]
async fn cookie_authenticated_actions_need_this_servers_origin() {
    let app = spawn_app_with(with_root).await;
    let root = app.root().await;
    let nick = unique_name("gst");
    let mut guest = app.lobby_guest(&nick).await;
    let kick = |origin: Option<String>| {
        let request = app
            .request("POST", "/api/admin/actions/kick")
            .session_cookie(&root.token)
            .json(json!({ "user": nick }));
        match origin {
            Some(origin) => request.header("origin", &origin),
            None => request,
        }
        .send()
    };
    kick(None).await.expect_error(403, "origin_not_allowed");
    kick(Some("http://evil.example".into()))
        .await
        .expect_error(403, "origin_not_allowed");
    let own = format!("http://{}", app.addr);
    kick(Some(own)).await.expect_empty(204);
    guest.closed_with(CloseReason::Kicked).await;
}

#[tokio::test]
async fn live_connections_are_listed_and_can_be_closed() {
    let app = spawn_app_with(with_root).await;
    let root = app.root().await;
    let nick = unique_name("gst");
    let mut guest = app.lobby_guest(&nick).await;
    let listed: Connections = root
        .call("GET", "/api/admin/connections", None)
        .await
        .expect(200);
    let entries: Vec<_> = listed
        .connections
        .iter()
        .filter(|c| c.user.as_ref().is_some_and(|u| u.name == nick))
        .collect();
    assert_eq!(entries.len(), 1, "the guest is listed once: {listed:?}");
    let entry = entries[0];
    assert_eq!(
        (entry.ip.as_str(), entry.rooms.clone()),
        ("127.0.0.1", vec!["lobby".to_owned()])
    );
    let identity = entry.identity.as_deref().expect("an identity");
    assert!(identity.starts_with("guest:"), "{entry:?}");
    let path = format!("/api/admin/connections/{}", entry.id);
    root.call("DELETE", &path, None).await.expect_empty(204);
    guest.closed_with(CloseReason::Kicked).await;
    root.call("DELETE", &path, None)
        .await
        .expect_error(404, "not_found");
}

/// The audit log page for `query` once it holds `wanted` entries — exactly that many (message
/// metadata is written in batches, so it is polled for).
async fn audit_until(app: &TestApp, token: &str, query: &str, wanted: usize) -> AuditPage {
    let path = format!("/api/admin/audit?{query}");
    let page = eventually(|| async {
        let page: AuditPage = app
            .request("GET", &path)
            .bearer(token)
            .send()
            .await
            .expect(200);
        if page.entries.len() >= wanted {
            Ok(page)
        } else {
            Err(format!("{query}: {wanted} entries wanted, {page:?}"))
        }
    })
    .await;
    assert_eq!(page.entries.len(), wanted, "{query}: {page:?}");
    page
}

#[tokio::test]
async fn the_audit_log_filters_pages_and_exports() {
    let app = spawn_app_with(with_root).await;
    let root = app.root().await;
    let author = app.caller(&unique_name("aut")).await;
    let author_name = author.name().await;
    author.create_room("audited", false).await;
    for n in 0..3 {
        author.say_in("audited", &format!("room message {n}")).await;
    }
    let mut lobby = author.gateway().await;
    lobby.join_lobby().await;
    lobby.say("lobby message").await;
    let mut live = app.gateway_as(&root.token).await;
    let _: common::protocol::Empty = live
        .call(
            "ban",
            json!({ "user": "someone-else", "reason": "Spam links", "room": "audited" }),
        )
        .await;

    let messages = audit_until(&app, &root.token, "action=message", 4).await;
    let first = &messages.entries[0];
    assert_eq!(
        (first.room.as_deref(), first.actor_ip.as_deref()),
        (Some("lobby"), Some("127.0.0.1"))
    );
    assert_eq!(first.actor, author_name);
    let identity = first.identity.clone().expect("an identity");
    assert!(identity.starts_with("user:"), "{identity}");
    let details: Vec<Option<&str>> = messages
        .entries
        .iter()
        .map(|e| e.detail.as_deref())
        .collect();
    assert_eq!(
        details,
        [None, Some("seq 3"), Some("seq 2"), Some("seq 1")],
        "newest first; stored messages name their seq"
    );

    let in_room = audit_until(&app, &root.token, "room=audited", 4).await;
    // Message metadata is written in batches, so the ban's place among them is not fixed.
    let mut actions: Vec<&str> = in_room.entries.iter().map(|e| e.action.as_str()).collect();
    actions.sort();
    assert_eq!(
        actions,
        ["ban", "message", "message", "message"],
        "three messages and the ban issued there: {in_room:?}"
    );
    let by_identity = audit_until(&app, &root.token, &format!("identity={identity}"), 4).await;
    assert!(
        by_identity
            .entries
            .iter()
            .all(|e| e.identity.as_deref() == Some(identity.as_str())),
        "{by_identity:?}"
    );
    let by_text = audit_until(&app, &root.token, "text=spam%20LINKS", 1).await;
    assert_eq!(
        (
            by_text.entries[0].action.as_str(),
            by_text.entries[0].target.as_deref()
        ),
        ("ban", Some("someone-else"))
    );
    let in_text = audit_until(&app, &root.token, "text=MESSAGE%201", 1).await;
    let found = &in_text.entries[0];
    assert_eq!(
        (found.room.as_deref(), found.detail.as_deref()),
        (Some("audited"), Some("seq 2")),
        "a stored message's text is searched, decrypted: {in_text:?}"
    );
    let none: AuditPage = root
        .call("GET", "/api/admin/audit?text=%25", None)
        .await
        .expect(200);
    assert_eq!(none.entries, [], "LIKE wildcards in the text are literal");
    let future: AuditPage = root
        .call("GET", "/api/admin/audit?from=99999999999999", None)
        .await
        .expect(200);
    assert_eq!(future.entries, []);

    // Paging: pages of two chain through exactly the whole log, newest first.
    let whole: AuditPage = root.call("GET", "/api/admin/audit", None).await.expect(200);
    assert_eq!(whole.next, None, "one default page holds it all: {whole:?}");
    let mut actions: Vec<&str> = whole.entries.iter().map(|e| e.action.as_str()).collect();
    actions.sort();
    assert_eq!(
        actions,
        ["ban", "message", "message", "message", "message"],
        "four messages and a ban: {whole:?}"
    );
    let mut paged: Vec<Audit> = Vec::new();
    let mut path = "/api/admin/audit?limit=2".to_owned();
    loop {
        let page: AuditPage = root.call("GET", &path, None).await.expect(200);
        assert!(page.entries.len() <= 2, "{page:?}");
        assert!(
            !page.entries.is_empty(),
            "a next cursor leads to entries: {page:?}"
        );
        paged.extend(page.entries);
        match page.next {
            Some(next) => path = format!("/api/admin/audit?limit=2&before={next}"),
            None => break,
        }
    }
    assert_eq!(paged, whole.entries, "every entry once, in order");
    let ids: Vec<i64> = paged.iter().map(|e| e.id).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");

    let csv = root
        .call("GET", "/api/admin/audit?action=message&format=csv", None)
        .await;
    csv.expect_status(200);
    assert!(
        csv.header("content-disposition").contains("audit.csv"),
        "{csv:?}"
    );
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        lines[0],
        "id,ts,actor,identity,actor_ip,action,target,room,detail"
    );
    assert_eq!(lines.len(), 5, "{csv}");
    for (line, entry) in lines[1..].iter().zip(&messages.entries) {
        assert!(
            line.starts_with(&format!("{},{},", entry.id, entry.ts)),
            "{line} is {entry:?}"
        );
    }

    let jsonl = root
        .call("GET", "/api/admin/audit?format=jsonl", None)
        .await;
    jsonl.expect_status(200);
    assert!(
        jsonl.header("content-disposition").contains("audit.jsonl"),
        "{jsonl:?}"
    );
    let exported: Vec<Audit> = jsonl
        .body
        .lines()
        .map(|line| common::protocol::from_value(serde_json::from_str(line).expect("JSON")))
        .collect();
    let now: AuditPage = root.call("GET", "/api/admin/audit", None).await.expect(200);
    assert_eq!(
        exported, now.entries,
        "one JSON object per entry, as the JSON page"
    );
}

#[tokio::test]
async fn admins_read_any_rooms_transcript_and_ephemeral_archives() {
    let app = spawn_app_with(|c| {
        with_root(c);
        c.ephemeral_ttl_secs = 1;
    })
    .await;
    let root = app.root().await;
    let owner = app.caller(&unique_name("own")).await;
    let peer = app.caller(&unique_name("peer")).await;
    let hidden = owner.create_room("hidden", true).await.slug;
    owner.say_in(&hidden, "only members see this").await;
    let body = json!({ "user": peer.name().await });
    let conversation: Conversation = owner
        .call("POST", "/api/conversations", Some(body))
        .await
        .expect(200);
    let created: Ephemeral = owner.call("POST", "/api/ephemeral", None).await.expect(201);
    let code = created.code.clone();
    let activated: Ephemeral = owner
        .call("POST", &format!("/api/ephemeral/{code}/activate"), None)
        .await
        .expect(200);
    assert!(activated.active);
    let mut guest = app.lobby_guest(&unique_name("eg")).await;
    let room = format!("e:{code}");
    guest
        .join_room(&room, json!({ "device": "admin-test-device" }))
        .await;
    let _: Posted = guest
        .call("send", json!({ "room": room, "text": "for the archive" }))
        .await;
    app.clock.advance(Duration::from_secs(2));
    let removed: RoomRemoved = guest.event().await;
    assert_eq!(
        (removed.room.as_str(), removed.reason),
        (room.as_str(), RemovedReason::Expired)
    );

    let listed: AdminRooms = root.call("GET", "/api/admin/rooms", None).await.expect(200);
    let kinds: Vec<(RoomKind, &str)> = listed
        .rooms
        .iter()
        .map(|r| (r.kind, r.slug.as_str()))
        .collect();
    assert!(
        kinds.contains(&(RoomKind::Room, hidden.as_str())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(RoomKind::Pm, conversation.room.as_str())),
        "{kinds:?}"
    );
    let transcript: Transcript = root
        .call("GET", &format!("/api/admin/rooms/{hidden}/messages"), None)
        .await
        .expect(200);
    let texts: Vec<&str> = transcript
        .messages
        .iter()
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(
        (transcript.room.as_str(), texts),
        (hidden.as_str(), vec!["only members see this"])
    );
    let archives: Archives = root
        .call("GET", "/api/admin/archives", None)
        .await
        .expect(200);
    assert_eq!(archives.archives.len(), 1, "{archives:?}");
    let archive = &archives.archives[0];
    assert_eq!(archive.code, code);
    let lines: Vec<&str> = archive
        .transcript
        .messages
        .iter()
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(lines, ["for the archive"]);
    let reads = audit_until(&app, &root.token, "action=read_transcript", 1).await;
    assert_eq!(
        reads.entries[0].target.as_deref(),
        Some(hidden.as_str()),
        "reading a transcript is audited"
    );
    let user = app.caller(&unique_name("usr")).await;
    user.call("GET", &format!("/api/admin/rooms/{hidden}/messages"), None)
        .await
        .expect_error(403, "forbidden");
}
