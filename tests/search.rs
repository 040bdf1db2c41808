//! Message search (issue 16) over REST and the native gateway: what a caller finds in their
//! rooms and conversations by text, author, room and date, paging, and what they must not
//! find — rooms they never joined, left, were removed or banned from, rooms made private,
//! deleted and cleared messages — and that searching writes no plaintext to disk.

mod common;

use common::protocol::{Conversation, Ephemeral, Posted};
use common::{database, spawn_app_with, unique_name, Caller, TestApp};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    results: Vec<Hit>,
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Hit {
    room: String,
    room_name: String,
    kind: String,
    seq: i64,
    ts: i64,
    author: String,
    text: String,
    edited_at: Option<i64>,
}

impl Page {
    fn texts(&self) -> Vec<&str> {
        self.results.iter().map(|h| h.text.as_str()).collect()
    }
}

async fn app() -> TestApp {
    spawn_app_with(|c| c.rate_limit_messages = 1000).await
}

/// `GET /api/search?{query}` as `caller`, expecting a page.
async fn search(caller: &Caller<'_>, query: &str) -> Page {
    caller
        .call("GET", &format!("/api/search?{query}"), None)
        .await
        .expect(200)
}

async fn join(caller: &Caller<'_>, slug: &str) {
    caller
        .call("POST", &format!("/api/rooms/{slug}/membership"), None)
        .await
        .expect_status(200);
}

/// A conversation `from` opened with `to`, accepted.
async fn conversation(from: &Caller<'_>, to: &Caller<'_>) -> String {
    let body = json!({ "user": to.name().await });
    let view: Conversation = from
        .call("POST", "/api/conversations", Some(body))
        .await
        .expect(200);
    to.call(
        "POST",
        &format!("/api/conversations/{}/accept", view.room),
        None,
    )
    .await
    .expect_status(200);
    view.room
}

#[tokio::test]
async fn a_member_finds_messages_by_text_author_room_and_date() {
    let app = app().await;
    let (ann, bob) = app.two_users("ann", "bob").await;
    let (ann_name, bob_name) = (ann.name().await, bob.name().await);
    let slug = unique_name("garden");
    ann.create_room(&slug, false).await;
    join(&bob, &slug).await;
    ann.say_in(&slug, "The Tomatoes are ripe").await;
    bob.say_in(&slug, "tomatoes again? I planted basil").await;
    app.clock.advance(Duration::from_secs(3600));
    let late = ann.say_in(&slug, "basil and TOMATOES for dinner").await;
    let pm = conversation(&ann, &bob).await;
    bob.say_in(&pm, "private tomatoes talk").await;

    let page = search(&bob, "q=tomatoes").await;
    assert_eq!(
        page.texts(),
        [
            "private tomatoes talk",
            "basil and TOMATOES for dinner",
            "tomatoes again? I planted basil",
            "The Tomatoes are ripe",
        ]
    );
    assert_eq!(page.next, None);
    let private = &page.results[0];
    assert_eq!(
        (
            private.room.as_str(),
            private.room_name.as_str(),
            private.kind.as_str()
        ),
        (pm.as_str(), ann_name.as_str(), "pm")
    );
    let dinner = &page.results[1];
    assert_eq!(
        (
            dinner.room.as_str(),
            dinner.kind.as_str(),
            dinner.author.as_str()
        ),
        (slug.as_str(), "room", ann_name.as_str())
    );
    assert_eq!(
        (dinner.seq, dinner.ts, dinner.edited_at),
        (late.seq, late.ts, None)
    );
    assert_eq!(dinner.room_name, slug);

    // Every word must occur, in any case and order.
    let both = search(&bob, "q=BASIL%20tomatoes").await;
    assert_eq!(both.results.len(), 2);
    // By author (any case), with or without text.
    let upper = bob_name.to_uppercase();
    let by_bob = search(&bob, &format!("author={upper}")).await;
    assert_eq!(
        by_bob.texts(),
        ["private tomatoes talk", "tomatoes again? I planted basil"]
    );
    let by_ann = search(&bob, &format!("q=basil&author={ann_name}")).await;
    assert_eq!(by_ann.texts(), ["basil and TOMATOES for dinner"]);
    // By room.
    let in_room = search(&ann, &format!("q=tomatoes&room={slug}")).await;
    assert_eq!(in_room.results.len(), 3);
    let in_pm = search(&ann, &format!("q=tomatoes&room={pm}")).await;
    assert_eq!(in_pm.texts(), ["private tomatoes talk"]);
    // By date: `from` inclusive, `to` exclusive.
    let since = search(&ann, &format!("q=tomatoes&from={}&room={slug}", late.ts)).await;
    assert_eq!(since.texts(), ["basil and TOMATOES for dinner"]);
    let until = search(&ann, &format!("q=tomatoes&to={}&room={slug}", late.ts)).await;
    assert_eq!(until.results.len(), 2);
    // Nothing by an unknown author, in an unknown room, or for absent words.
    for query in [
        "author=nobody_here",
        "q=tomatoes&room=no-such-room",
        "q=zucchini",
    ] {
        assert!(search(&ann, query).await.results.is_empty(), "{query}");
    }
}

#[tokio::test]
async fn results_come_a_page_at_a_time_newest_first() {
    let app = app().await;
    let ann = app.caller(&unique_name("ann")).await;
    let slug = unique_name("log");
    ann.create_room(&slug, false).await;
    for n in 0..7 {
        ann.say_in(&slug, &format!("entry number {n}")).await;
    }
    let mut seen = Vec::new();
    let mut query = "q=entry&limit=3".to_owned();
    loop {
        let page = search(&ann, &query).await;
        assert!(page.results.len() <= 3);
        seen.extend(page.results.iter().map(|h| h.text.clone()));
        match page.next {
            Some(next) => query = format!("q=entry&limit=3&cursor={next}"),
            None => break,
        }
    }
    let expected: Vec<String> = (0..7).rev().map(|n| format!("entry number {n}")).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn outsiders_and_former_members_find_nothing() {
    let app = app().await;
    let owner = app.caller(&unique_name("own")).await;
    let (outsider, leaver) = app.two_users("out", "left").await;
    let (removed, banned) = app.two_users("rem", "ban").await;
    let slug = unique_name("town");
    owner.create_room(&slug, false).await;
    for member in [&leaver, &removed, &banned] {
        join(member, &slug).await;
    }
    owner.say_in(&slug, "meeting at the lighthouse").await;
    for member in [&leaver, &removed, &banned] {
        // Warm each one's cache before they go.
        assert_eq!(search(member, "q=lighthouse").await.results.len(), 1);
    }

    leaver
        .call("DELETE", &format!("/api/rooms/{slug}/membership"), None)
        .await
        .expect_empty(204);
    let removed_name = removed.name().await;
    owner
        .call(
            "DELETE",
            &format!("/api/rooms/{slug}/members/{removed_name}"),
            None,
        )
        .await
        .expect_status(204);
    let banned_name = banned.name().await;
    owner
        .call(
            "PUT",
            &format!("/api/rooms/{slug}/bans/{banned_name}"),
            None,
        )
        .await
        .expect_empty(204);

    // A public room one never joined is not searched, even by its address.
    for caller in [&outsider, &leaver, &removed, &banned] {
        for query in [
            "q=lighthouse".to_owned(),
            format!("q=lighthouse&room={slug}"),
        ] {
            assert!(search(caller, &query).await.results.is_empty(), "{query}");
        }
    }
    assert_eq!(search(&owner, "q=lighthouse").await.results.len(), 1);
}

#[tokio::test]
async fn a_room_made_private_drops_out_of_outsiders_results() {
    let app = app().await;
    let (owner, member) = app.two_users("own", "mem").await;
    let outsider = app.caller(&unique_name("out")).await;
    let slug = unique_name("club");
    owner.create_room(&slug, false).await;
    join(&member, &slug).await;
    owner.say_in(&slug, "the password is swordfish").await;
    assert!(search(&outsider, "q=swordfish").await.results.is_empty());

    owner
        .call(
            "PATCH",
            &format!("/api/rooms/{slug}"),
            Some(json!({ "private": true })),
        )
        .await
        .expect_status(200);
    owner.say_in(&slug, "swordfish again").await;
    assert!(search(&outsider, "q=swordfish").await.results.is_empty());
    assert_eq!(search(&member, "q=swordfish").await.results.len(), 2);
}

#[tokio::test]
async fn deleted_cleared_and_vanished_messages_never_surface() {
    let app = app().await;
    let ann = app.caller(&unique_name("ann")).await;
    let slug = unique_name("notes");
    ann.create_room(&slug, false).await;
    let doomed = ann.say_in(&slug, "kumquat one").await;
    ann.say_in(&slug, "kumquat two").await;
    assert_eq!(search(&ann, "q=kumquat").await.results.len(), 2);

    // A deleted message is a tombstone: its body wiped, `deleted_at` set.
    let db = database(&app).await;
    sqlx::query(
        "UPDATE messages SET body = $1, deleted_at = $2 \
         WHERE seq = $3 AND room_id = (SELECT id FROM rooms WHERE slug = $4)",
    )
    .bind(Vec::<u8>::new())
    .bind(doomed.ts + 1)
    .bind(doomed.seq)
    .bind(&slug)
    .execute(&db)
    .await
    .unwrap();
    assert_eq!(search(&ann, "q=kumquat").await.texts(), ["kumquat two"]);

    // Cleared history: the cache is warm, the database is empty.
    ann.call("DELETE", &format!("/api/rooms/{slug}/messages"), None)
        .await
        .expect_empty(204);
    assert!(search(&ann, "q=kumquat").await.results.is_empty());
    let fresh: Posted = ann.say_in(&slug, "kumquat three").await;
    let page = search(&ann, "q=kumquat").await;
    assert_eq!(
        (page.texts(), page.results[0].seq),
        (vec!["kumquat three"], fresh.seq)
    );

    // A deleted room takes its messages along.
    ann.call("DELETE", &format!("/api/rooms/{slug}"), None)
        .await
        .expect_empty(204);
    assert!(search(&ann, "q=kumquat").await.results.is_empty());
}

#[tokio::test]
async fn bad_queries_and_guests_are_refused() {
    let app = app().await;
    let ann = app.caller(&unique_name("ann")).await;
    for query in [
        "q=x",
        "",
        "q=%20%20",
        "q=ok&limit=0",
        "q=ok&limit=51",
        "q=ok&cursor=abc",
        "author=not%20a%20name",
    ] {
        ann.call("GET", &format!("/api/search?{query}"), None)
            .await
            .expect_error(422, "invalid_payload");
    }
    ann.call("GET", "/api/search?q=ok&color=red", None)
        .await
        .expect_error(422, "invalid_request");
    let guest = Caller::with_token(&app, &app.guest_token(&unique_name("g")).await);
    guest
        .call("GET", "/api/search?q=hello", None)
        .await
        .expect_error(403, "registration_required");
    app.request("GET", "/api/search?q=hello")
        .send()
        .await
        .expect_error(401, "unauthenticated");
    let mut live = app.lobby_guest(&unique_name("lg")).await;
    live.expect_error("search", json!({ "q": "hello" }), "registration_required")
        .await;
}

#[tokio::test]
async fn the_search_command_answers_on_the_gateway() {
    let app = app().await;
    let ann = app.caller(&unique_name("ann")).await;
    let slug = unique_name("live");
    ann.create_room(&slug, false).await;
    ann.say_in(&slug, "over the gateway").await;
    let mut ws = ann.gateway().await;
    let page: Page = ws
        .call(
            "search",
            json!({ "q": "GATEWAY", "room": slug, "limit": 5 }),
        )
        .await;
    assert_eq!(page.texts(), ["over the gateway"]);
    ws.expect_error("search", json!({ "q": "g" }), "invalid_payload")
        .await;
    ws.expect_error(
        "search",
        json!({ "q": "ok", "limit": "many" }),
        "invalid_payload",
    )
    .await;
}

#[tokio::test]
async fn an_ephemeral_room_is_searched_by_who_is_in_it_while_it_lives() {
    let app = spawn_app_with(|c| {
        c.rate_limit_messages = 1000;
        c.ephemeral_ttl_secs = 60;
    })
    .await;
    let (host, other) = app.two_users("host", "other").await;
    let created: Ephemeral = host.call("POST", "/api/ephemeral", None).await.expect(201);
    host.call(
        "POST",
        &format!("/api/ephemeral/{}/activate", created.code),
        None,
    )
    .await
    .expect_status(200);
    let mut ws = host.gateway().await;
    ws.join_room(&created.room, json!({ "device": "search-device-1" }))
        .await;
    let _: Posted = ws
        .call(
            "send",
            json!({ "room": created.room, "text": "fleeting marmalade" }),
        )
        .await;

    let page = search(&host, "q=marmalade").await;
    assert_eq!(page.texts(), ["fleeting marmalade"]);
    assert_eq!(
        (page.results[0].room.as_str(), page.results[0].kind.as_str()),
        (created.room.as_str(), "ephemeral")
    );
    assert!(search(&other, "q=marmalade").await.results.is_empty());
    app.clock.advance(Duration::from_secs(61));
    assert!(search(&host, "q=marmalade").await.results.is_empty());
}

#[tokio::test]
async fn searching_writes_no_plaintext_to_disk() {
    if common::on_postgres() {
        return;
    }
    let app = app().await;
    let ann = app.caller(&unique_name("ann")).await;
    let slug = unique_name("vault");
    ann.create_room(&slug, false).await;
    for n in 0..20 {
        ann.say_in(&slug, &format!("xylophonecanary {n}")).await;
    }
    for _ in 0..3 {
        assert_eq!(
            search(&ann, "q=xylophonecanary&limit=50")
                .await
                .results
                .len(),
            20
        );
    }
    let mut bytes = std::fs::read(app.config.data_dir.join("parlor.db")).unwrap();
    match std::fs::read(app.config.data_dir.join("parlor.db-wal")) {
        Ok(wal) => bytes.extend(wal),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("the WAL is unreadable: {e}"),
    }
    let needle = b"xylophonecanary";
    assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    // Nor anywhere else in the data directory.
    for entry in walk(&app.config.data_dir) {
        let content = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !content.windows(needle.len()).any(|w| w == needle),
            "{}",
            entry.display()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn edits_and_deletes_through_the_api_are_what_search_finds() {
    let app = app().await;
    let (owner, member) = app.two_users("own", "mem").await;
    owner.create_room("edited", false).await;
    join(&member, "edited").await;
    let first = owner.say_in("edited", "the old wording of it").await;
    let second = owner.say_in("edited", "wording to delete").await;
    // The cache is filled before the changes, so they must reach it.
    assert_eq!(search(&member, "q=wording").await.results.len(), 2);

    owner
        .call(
            "PATCH",
            &format!("/api/rooms/edited/messages/{}", first.seq),
            Some(json!({"text": "the new phrasing of it"})),
        )
        .await
        .expect_status(200);
    owner
        .call(
            "DELETE",
            &format!("/api/rooms/edited/messages/{}", second.seq),
            None,
        )
        .await
        .expect_empty(204);

    assert!(search(&member, "q=wording").await.results.is_empty());
    let found = search(&member, "q=phrasing").await;
    assert_eq!(found.texts(), ["the new phrasing of it"]);
    assert!(found.results[0].edited_at.is_some());
}
