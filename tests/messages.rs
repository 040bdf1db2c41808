//! Stored messages after they are sent (issue 16): edits, deletes, replies, reactions and
//! mentions — over the native gateway and REST, with the refusals, the live events other
//! members get, and what is left in storage (on SQLite, and PostgreSQL when configured).

mod common;

use common::protocol::{
    Changed, History, Message, MessageDeleted, MessageEdited, Posted, Reacted, Reaction,
    RoomJoined, RoomList, RoomsChanged,
};
use common::{count_rows, database, on_postgres, spawn_app, spawn_app_with, TestApp};
use serde_json::{json, Value};
use sqlx::Row;
use std::time::Duration;

/// A public room `slug` owned by the first caller with the second as a member, each with a
/// native connection in it.
async fn room_of_two<'a>(
    app: &'a TestApp,
    slug: &str,
) -> (
    common::Caller<'a>,
    common::Caller<'a>,
    common::WsClient,
    common::WsClient,
) {
    let (owner, member) = app.two_users("own", "mem").await;
    owner.create_room(slug, false).await;
    let mut a = owner.gateway().await;
    a.join_room(slug, json!({})).await;
    let mut b = member.gateway().await;
    b.join_room(slug, json!({})).await;
    a.sync().await;
    (owner, member, a, b)
}

async fn history(caller: &common::Caller<'_>, slug: &str) -> Vec<Message> {
    let page: History = caller
        .call("GET", &format!("/api/rooms/{slug}/messages"), None)
        .await
        .expect(200);
    page.messages
}

/// The sealed body of message `seq` in room `slug`, as stored.
async fn stored_body(app: &TestApp, slug: &str, seq: i64) -> Vec<u8> {
    let db = database(app).await;
    sqlx::query(
        "SELECT m.body FROM messages m JOIN rooms r ON r.id = m.room_id WHERE r.slug = $1 AND m.seq = $2",
    )
    .bind(slug)
    .bind(seq)
    .fetch_one(&db)
    .await
    .expect("the stored message")
    .get::<Vec<u8>, _>(0)
}

#[tokio::test]
async fn an_author_edits_within_the_window_and_everyone_sees_the_new_text() {
    let app = spawn_app().await;
    let (owner, member, mut a, mut b) = room_of_two(&app, "edits").await;
    let sent: Posted = b
        .call("send", json!({"room": "edits", "text": "helo wrld"}))
        .await;
    let _: Message = a.event().await;
    let before = stored_body(&app, "edits", sent.seq).await;

    let changed: Changed = b
        .call(
            "edit",
            json!({"room": "edits", "seq": sent.seq, "text": " hello world "}),
        )
        .await;
    assert_eq!((changed.room.as_str(), changed.seq), ("edits", sent.seq));
    let edited_at = changed.edited_at.expect("an edit's time");
    let seen: MessageEdited = a.event().await;
    assert_eq!(
        (seen.seq, seen.text.as_str(), seen.edited_at),
        (sent.seq, "hello world", edited_at)
    );

    // Stored sealed, like the original: a new ciphertext, never the text.
    let after = stored_body(&app, "edits", sent.seq).await;
    assert_ne!(before, after);
    assert!(!after.windows(5).any(|w| w == b"hello"));
    let page = history(&owner, "edits").await;
    assert_eq!(page[0].text, "hello world");
    assert_eq!(page[0].edited_at, Some(edited_at));

    // Someone else's message: refused, whoever asks (the room's owner included).
    a.expect_error(
        "edit",
        json!({"room": "edits", "seq": sent.seq, "text": "mine now"}),
        "forbidden",
    )
    .await;
    a.expect_error(
        "edit",
        json!({"room": "edits", "seq": 99, "text": "x"}),
        "not_found",
    )
    .await;
    a.expect_error(
        "edit",
        json!({"room": "lobby", "seq": 1, "text": "x"}),
        "invalid_payload",
    )
    .await;

    // Past the window (a day by default) the text stays.
    app.clock.advance(Duration::from_secs(24 * 3600 + 1));
    b.expect_error(
        "edit",
        json!({"room": "edits", "seq": sent.seq, "text": "too late"}),
        "edit_window_closed",
    )
    .await;
    let refused = member
        .call(
            "PATCH",
            &format!("/api/rooms/edits/messages/{}", sent.seq),
            Some(json!({"text": "too late"})),
        )
        .await
        .expect_error(403, "edit_window_closed");
    assert!(refused.message.contains("edited"), "{refused:?}");
    assert_eq!(history(&owner, "edits").await[0].text, "hello world");
}

#[tokio::test]
async fn editing_can_be_switched_off() {
    let app = spawn_app_with(|config| config.edit_window_secs = 0).await;
    let (_, member, _, mut b) = room_of_two(&app, "frozen").await;
    let sent: Posted = b
        .call("send", json!({"room": "frozen", "text": "as said"}))
        .await;
    member
        .call(
            "PATCH",
            &format!("/api/rooms/frozen/messages/{}", sent.seq),
            Some(json!({"text": "unsaid"})),
        )
        .await
        .expect_error(403, "edit_window_closed");
}

#[tokio::test]
async fn a_delete_wipes_the_text_files_and_reactions_and_leaves_a_tombstone() {
    let app = spawn_app().await;
    let (owner, member, mut a, mut b) = room_of_two(&app, "wipe").await;
    let canary = "canary-4f1d delete me";
    let sent: Posted = b
        .call("send", json!({"room": "wipe", "text": canary}))
        .await;
    let kept: Posted = b
        .call("send", json!({"room": "wipe", "text": "keep me"}))
        .await;
    let _: Reacted = a
        .call(
            "react",
            json!({"room": "wipe", "seq": sent.seq, "emoji": "👍"}),
        )
        .await;
    let sealed = stored_body(&app, "wipe", sent.seq).await;
    assert!(!sealed.is_empty());

    let _: Changed = b
        .call("delete", json!({"room": "wipe", "seq": sent.seq}))
        .await;
    let gone: MessageDeleted = a.event_where(|d: &MessageDeleted| d.seq == sent.seq).await;
    assert_eq!(gone.by, None, "the author's own delete names nobody");

    assert!(stored_body(&app, "wipe", sent.seq).await.is_empty());
    let db = database(&app).await;
    assert_eq!(count_rows(&db, "message_reactions").await, 0);
    let page = history(&owner, "wipe").await;
    assert_eq!(page.len(), 2);
    assert!(page[0].deleted && page[0].text.is_empty() && page[0].reactions.is_empty());
    assert_eq!(page[1].text, "keep me");

    // Twice is not found; a reaction or reply to it too.
    b.expect_error(
        "delete",
        json!({"room": "wipe", "seq": sent.seq}),
        "not_found",
    )
    .await;
    a.expect_error(
        "react",
        json!({"room": "wipe", "seq": sent.seq, "emoji": "👍"}),
        "not_found",
    )
    .await;
    a.expect_error(
        "send",
        json!({"room": "wipe", "text": "re", "reply_to": sent.seq}),
        "not_found",
    )
    .await;
    member
        .call(
            "DELETE",
            &format!("/api/rooms/wipe/messages/{}", kept.seq),
            None,
        )
        .await
        .expect_empty(204);

    if !on_postgres() {
        // The sealed body is gone from the database file too (free pages are zeroed), once
        // the write-ahead log is folded in.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&db)
            .await
            .unwrap();
        let dir = &app.config.data_dir;
        for file in ["parlor.db", "parlor.db-wal"] {
            let bytes = std::fs::read(dir.join(file)).unwrap_or_default();
            assert!(
                !bytes.windows(sealed.len()).any(|w| w == sealed.as_slice()),
                "{file} still holds the deleted message's sealed body"
            );
            assert!(!bytes.windows(6).any(|w| w == b"canary"), "{file}");
        }
    }
}

#[tokio::test]
async fn room_moderators_and_staff_delete_others_messages_below_them_audited() {
    let app = spawn_app_with(common::with_root).await;
    let (owner, member, mut a, mut b) = room_of_two(&app, "moderated").await;
    let owner_name = owner.name().await;
    let member_name = member.name().await;
    let by_member: Posted = b
        .call("send", json!({"room": "moderated", "text": "spam"}))
        .await;
    let by_owner: Posted = a
        .call("send", json!({"room": "moderated", "text": "rules"}))
        .await;

    // A member deletes only their own.
    b.expect_error(
        "delete",
        json!({"room": "moderated", "seq": by_owner.seq}),
        "forbidden",
    )
    .await;
    // The owner deletes a member's; the room is told who did.
    let _: Changed = a
        .call("delete", json!({"room": "moderated", "seq": by_member.seq}))
        .await;
    let seen: MessageDeleted = b
        .event_where(|d: &MessageDeleted| d.seq == by_member.seq)
        .await;
    assert_eq!(seen.by.as_deref(), Some(owner_name.as_str()));

    // Staff (root) deletes the owner's (a user's) message without being a member.
    let root = app.root().await;
    root.call(
        "DELETE",
        &format!("/api/rooms/moderated/messages/{}", by_owner.seq),
        None,
    )
    .await
    .expect_empty(204);

    let audit: Value = root
        .call("GET", "/api/admin/audit?action=delete_message", None)
        .await
        .expect(200);
    let entries = audit["entries"].as_array().expect("entries");
    let targets: Vec<&str> = entries
        .iter()
        .map(|e| e["target"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(entries.len(), 2, "{audit}");
    assert!(targets.contains(&member_name.as_str()) && targets.contains(&owner_name.as_str()));
    assert!(entries.iter().all(|e| e["room"] == "moderated"));
    let text = audit.to_string();
    assert!(
        !text.contains("spam") && !text.contains("rules"),
        "no text in the audit log"
    );
}

#[tokio::test]
async fn a_room_admin_cannot_delete_the_owners_messages() {
    let app = spawn_app().await;
    let (owner, member, mut a, _b) = room_of_two(&app, "ranks").await;
    let member_name = member.name().await;
    owner
        .call(
            "PUT",
            &format!("/api/rooms/ranks/members/{member_name}/role"),
            Some(json!({"role": "admin"})),
        )
        .await
        .expect_empty(204);
    let sent: Posted = a
        .call("send", json!({"room": "ranks", "text": "mine"}))
        .await;
    member
        .call(
            "DELETE",
            &format!("/api/rooms/ranks/messages/{}", sent.seq),
            None,
        )
        .await
        .expect_error(403, "forbidden");
}

#[tokio::test]
async fn a_reply_quotes_the_original_and_says_when_it_is_gone() {
    let app = spawn_app().await;
    let (owner, _, mut a, mut b) = room_of_two(&app, "threads").await;
    let long = "q".repeat(200);
    let original: Posted = a
        .call("send", json!({"room": "threads", "text": long}))
        .await;
    let _: Message = b.event().await;
    let reply: Posted = b
        .call(
            "send",
            json!({"room": "threads", "text": "answer", "reply_to": original.seq}),
        )
        .await;
    let live: Message = a.event_where(|m: &Message| m.seq == Some(reply.seq)).await;
    let quoted = live.reply_to.expect("the quote");
    assert_eq!(quoted.seq, original.seq);
    assert_eq!(quoted.text.chars().count(), 140);
    assert!(!quoted.deleted);

    // Over REST too, and in a page that does not hold the original.
    let posted: Posted = owner
        .call(
            "POST",
            "/api/rooms/threads/messages",
            Some(json!({"text": "me too", "reply_to": original.seq})),
        )
        .await
        .expect(201);
    let page: History = owner
        .call(
            "GET",
            &format!("/api/rooms/threads/messages?after={}", original.seq),
            None,
        )
        .await
        .expect(200);
    assert_eq!(page.messages.len(), 2);
    assert_eq!(page.messages[1].seq, Some(posted.seq));
    assert_eq!(
        page.messages[1].reply_to.as_ref().map(|r| r.seq),
        Some(original.seq)
    );

    let _: Changed = a
        .call("delete", json!({"room": "threads", "seq": original.seq}))
        .await;
    let page = history(&owner, "threads").await;
    let quote = page[1].reply_to.clone().expect("still a reply");
    assert!(quote.deleted && quote.text.is_empty(), "{quote:?}");

    for bad in [json!(0), json!(-1), json!("1")] {
        a.expect_error(
            "send",
            json!({"room": "threads", "text": "x", "reply_to": bad}),
            "invalid_payload",
        )
        .await;
    }
    a.expect_error(
        "send",
        json!({"room": "lobby", "text": "x", "reply_to": 1}),
        "invalid_payload",
    )
    .await;
    a.expect_error(
        "send",
        json!({"room": "threads", "text": "x", "reply_to": 999}),
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn reactions_toggle_live_with_counts_names_and_limits() {
    let app = spawn_app().await;
    let (owner, member, mut a, mut b) = room_of_two(&app, "emoji").await;
    let (owner_name, member_name) = (owner.name().await, member.name().await);
    let sent: Posted = a
        .call("send", json!({"room": "emoji", "text": "vote"}))
        .await;

    let ack: Reacted = b
        .call(
            "react",
            json!({"room": "emoji", "seq": sent.seq, "emoji": "👍"}),
        )
        .await;
    assert_eq!(ack.count, 1);
    let seen: Reaction = a.event().await;
    assert_eq!(
        (seen.emoji.as_str(), seen.user.as_str(), seen.on, seen.count),
        ("👍", member_name.as_str(), true, 1)
    );
    // Again: nothing changes, nobody is told.
    let again: Reacted = b
        .call(
            "react",
            json!({"room": "emoji", "seq": sent.seq, "emoji": "👍"}),
        )
        .await;
    assert_eq!(again.count, 1);
    let both: Reacted = owner
        .call(
            "PUT",
            &format!(
                "/api/rooms/emoji/messages/{}/reactions/%F0%9F%91%8D",
                sent.seq
            ),
            None,
        )
        .await
        .expect(200);
    assert_eq!(both.count, 2);
    let seen: Reaction = b.event_where(|r: &Reaction| r.user == owner_name).await;
    assert_eq!(seen.count, 2);
    a.assert_no_event(|r: &Reaction| r.user == member_name && r.count == 1)
        .await;

    let page = history(&owner, "emoji").await;
    assert_eq!(page[0].reactions.len(), 1);
    assert_eq!(page[0].reactions[0].count, 2);
    let mut users = page[0].reactions[0].users.clone();
    users.sort();
    let mut wanted = [member_name.clone(), owner_name.clone()];
    wanted.sort();
    assert_eq!(users, wanted);

    let off: Reacted = b
        .call(
            "unreact",
            json!({"room": "emoji", "seq": sent.seq, "emoji": "👍"}),
        )
        .await;
    assert_eq!(off.count, 1);
    let seen: Reaction = a.event_where(|r: &Reaction| !r.on).await;
    assert_eq!((seen.user.as_str(), seen.count), (member_name.as_str(), 1));

    // Ten per person per message.
    let emoji = ["😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊"];
    for (i, e) in emoji.iter().enumerate() {
        if i % 5 == 0 {
            // Stay under the message rate (6 per 5 s by default).
            app.clock.advance(Duration::from_secs(6));
        }
        let _: Reacted = b
            .call(
                "react",
                json!({"room": "emoji", "seq": sent.seq, "emoji": e}),
            )
            .await;
    }
    app.clock.advance(Duration::from_secs(6));
    b.expect_error(
        "react",
        json!({"room": "emoji", "seq": sent.seq, "emoji": "🙃"}),
        "too_many_reactions",
    )
    .await;
    for bad in ["ok", "", "<img src=x onerror=alert(1)>", "👍 👍"] {
        b.expect_error(
            "react",
            json!({"room": "emoji", "seq": sent.seq, "emoji": bad}),
            "invalid_payload",
        )
        .await;
    }
    member
        .call(
            "PUT",
            &format!("/api/rooms/emoji/messages/{}/reactions/ok", sent.seq),
            None,
        )
        .await
        .expect_error(422, "invalid_payload");
}

#[tokio::test]
async fn only_members_react_and_a_private_room_stays_hidden() {
    let app = spawn_app().await;
    let (owner, outsider) = app.two_users("own", "out").await;
    owner.create_room("open", false).await;
    let secret = owner.create_room("secret", true).await.slug;
    let open = owner.say_in("open", "hi").await;
    let hidden = owner.say_in(&secret, "psst").await;
    outsider
        .call(
            "PUT",
            &format!(
                "/api/rooms/open/messages/{}/reactions/%F0%9F%91%8D",
                open.seq
            ),
            None,
        )
        .await
        .expect_error(409, "not_in_room");
    outsider
        .call(
            "PUT",
            &format!(
                "/api/rooms/{secret}/messages/{}/reactions/%F0%9F%91%8D",
                hidden.seq
            ),
            None,
        )
        .await
        .expect_error(404, "not_found");
    outsider
        .call(
            "DELETE",
            &format!("/api/rooms/{secret}/messages/{}", hidden.seq),
            None,
        )
        .await
        .expect_error(404, "not_found");
    outsider
        .call(
            "PATCH",
            &format!("/api/rooms/open/messages/{}", open.seq),
            Some(json!({"text": "x"})),
        )
        .await
        .expect_error(409, "not_in_room");
    let guest = app.guest_token("visitor").await;
    let guest = common::Caller::with_token(&app, &guest);
    guest
        .call(
            "PUT",
            &format!(
                "/api/rooms/open/messages/{}/reactions/%F0%9F%91%8D",
                open.seq
            ),
            None,
        )
        .await
        .expect_error(403, "registration_required");
}

#[tokio::test]
async fn mentions_are_resolved_counted_until_read_and_limited() {
    let app = spawn_app_with(|config| config.max_mentions = 3).await;
    let (owner, member, mut a, mut b) = room_of_two(&app, "pings").await;
    let member_name = member.name().await;

    let sent: Posted = a
        .call(
            "send",
            json!({"room": "pings", "text": format!("hey @{} and @nobody", member_name.to_uppercase())}),
        )
        .await;
    let seen: Message = b.event_where(|m: &Message| m.seq == Some(sent.seq)).await;
    assert_eq!(seen.mentions, vec![member_name.clone()]);
    assert!(!seen.mentions_everyone);

    let listed = |rooms: RoomList| {
        let room = rooms.rooms.into_iter().find(|r| r.slug == "pings").unwrap();
        (room.unread, room.mentions)
    };
    let rooms: RoomList = member.call("GET", "/api/rooms", None).await.expect(200);
    assert_eq!(listed(rooms), (1, 1));

    // A member may not call on everyone; the owner may, and it counts for every member.
    b.expect_error(
        "send",
        json!({"room": "pings", "text": "@here look"}),
        "mention_not_allowed",
    )
    .await;
    let _: Posted = a
        .call(
            "send",
            json!({"room": "pings", "text": "@room meeting now"}),
        )
        .await;
    let everyone: Message = b
        .event_where(|m: &Message| m.text.starts_with("@room"))
        .await;
    assert!(everyone.mentions_everyone);
    let _: Posted = a
        .call("send", json!({"room": "pings", "text": "no ping"}))
        .await;
    let rooms: RoomList = member.call("GET", "/api/rooms", None).await.expect(200);
    assert_eq!(listed(rooms), (3, 2));
    // The owner's own messages are neither unread nor mentions for them.
    let rooms: RoomList = owner.call("GET", "/api/rooms", None).await.expect(200);
    assert_eq!(listed(rooms), (0, 0));

    // Reading clears both; the next join says where reading stopped.
    let _: Value = b
        .call("read", json!({"room": "pings", "seq": sent.seq + 2}))
        .await;
    let rooms: RoomList = member.call("GET", "/api/rooms", None).await.expect(200);
    assert_eq!(listed(rooms), (0, 0));
    let mut again = member.gateway().await;
    let joined: RoomJoined = again.join_room("pings", json!({})).await;
    assert_eq!(joined.last_read_seq, Some(sent.seq + 2));
    assert_eq!(joined.messages[0].mentions, vec![member_name.clone()]);

    // More than `max_mentions` distinct names is spam.
    a.expect_error(
        "send",
        json!({"room": "pings", "text": "@a1 @a2 @a3 @a4"}),
        "too_many_mentions",
    )
    .await;
    let _: Posted = a
        .call("send", json!({"room": "pings", "text": "@a1 @a2 @a3 @a1"}))
        .await;
}

#[tokio::test]
async fn someone_allowed_to_call_on_everyone_is_configurable() {
    let app = spawn_app_with(|config| {
        config.everyone_mentions = parlor::domain::EveryoneMentions::Members;
    })
    .await;
    let (_, _, _, mut b) = room_of_two(&app, "flat").await;
    let _: Posted = b
        .call("send", json!({"room": "flat", "text": "@here hi"}))
        .await;
}

#[tokio::test]
async fn a_conversation_has_edits_deletes_reactions_and_replies_too() {
    let app = spawn_app().await;
    let (ann, bob) = app.two_users("ann", "bob").await;
    let bob_name = bob.name().await;
    let opened: Value = ann
        .call(
            "POST",
            "/api/conversations",
            Some(json!({"user": bob_name})),
        )
        .await
        .expect(200);
    let room = opened["room"].as_str().unwrap().to_owned();
    bob.call("POST", &format!("/api/conversations/{room}/accept"), None)
        .await
        .expect_status(200);
    let first = ann.say_in(&room, "first").await;
    let reply: Posted = bob
        .call(
            "POST",
            &format!("/api/rooms/{room}/messages"),
            Some(json!({"text": "second", "reply_to": first.seq})),
        )
        .await
        .expect(201);
    let _: Reacted = ann
        .call(
            "PUT",
            &format!(
                "/api/rooms/{room}/messages/{}/reactions/%E2%9D%A4",
                reply.seq
            ),
            None,
        )
        .await
        .expect(200);
    let _: Changed = ann
        .call(
            "PATCH",
            &format!("/api/rooms/{room}/messages/{}", first.seq),
            Some(json!({"text": "first!"})),
        )
        .await
        .expect(200);
    // Nobody moderates a conversation: each deletes only their own.
    bob.call(
        "DELETE",
        &format!("/api/rooms/{room}/messages/{}", first.seq),
        None,
    )
    .await
    .expect_error(403, "forbidden");
    let page = history(&bob, &room).await;
    assert_eq!(page[0].text, "first!");
    assert_eq!(
        page[1].reply_to.as_ref().map(|r| r.text.as_str()),
        Some("first!")
    );
    assert_eq!(page[1].reactions[0].emoji, "❤");
}

#[tokio::test]
async fn rate_limits_say_how_long_to_wait_on_every_path() {
    let app = spawn_app().await;
    let mut guest = app.lobby_guest("fast").await;
    let mut refused = None;
    for i in 0..10 {
        let ack = guest
            .request("send", json!({"room": "lobby", "text": format!("m{i}")}))
            .await;
        if let Some(error) = ack.error {
            refused = Some(error);
            break;
        }
    }
    let refused = refused.expect("the rate limit");
    assert_eq!(refused.code, "rate_limited");
    assert!(
        refused.retry_after.is_some_and(|s| (1..=5).contains(&s)),
        "{refused:?}"
    );

    let (owner, _) = app.two_users("own", "usr").await;
    owner.create_room("busy", false).await;
    let mut last = None;
    for i in 0..10 {
        let reply = owner
            .call(
                "POST",
                "/api/rooms/busy/messages",
                Some(json!({"text": format!("m{i}")})),
            )
            .await;
        if reply.status == 429 {
            last = Some(reply);
            break;
        }
    }
    let reply = last.expect("the REST rate limit");
    let error = reply.error();
    assert_eq!(error.code, "rate_limited");
    assert!(error.retry_after.is_some_and(|s| s >= 1), "{error:?}");
    assert!(!reply.header("retry-after").is_empty());
}

#[tokio::test]
async fn room_lists_hear_when_rooms_come_go_change_or_let_someone_in() {
    let app = spawn_app().await;
    let (owner, other) = app.two_users("own", "oth").await;
    let third = app.caller(&common::unique_name("thd")).await;
    let other_name = other.name().await;
    let mut watching = other.gateway().await;
    let mut bystander = third.gateway().await;
    let mut guest = app.lobby_guest("passer").await;

    // A public room: every account hears; guests have no room list.
    owner.create_room("townhall", false).await;
    let _: RoomsChanged = watching.event().await;
    let _: RoomsChanged = bystander.event().await;
    guest.assert_no_event(|_: &RoomsChanged| true).await;

    // A private room: nobody else hears of it, until someone is let in.
    let secret = owner.create_room("secret", true).await.slug;
    watching.assert_no_event(|_: &RoomsChanged| true).await;
    let invite: Value = owner
        .call(
            "POST",
            &format!("/api/rooms/{secret}/invites"),
            Some(json!({})),
        )
        .await
        .expect(201);
    let token = invite["token"].as_str().unwrap();
    other
        .call("POST", &format!("/api/invites/{token}"), None)
        .await
        .expect_status(200);
    let _: RoomsChanged = watching.event().await;
    bystander.assert_no_event(|_: &RoomsChanged| true).await;

    // Renaming the private room tells its members only; removing one tells them.
    owner
        .call(
            "PATCH",
            &format!("/api/rooms/{secret}"),
            Some(json!({"name": "Hush"})),
        )
        .await
        .expect_status(200);
    let _: RoomsChanged = watching.event().await;
    bystander.assert_no_event(|_: &RoomsChanged| true).await;
    owner
        .call(
            "DELETE",
            &format!("/api/rooms/{secret}/members/{other_name}"),
            None,
        )
        .await
        .expect_empty(204);
    let _: RoomsChanged = watching.event().await;

    // Deleting the public room tells everyone again.
    owner
        .call("DELETE", "/api/rooms/townhall", None)
        .await
        .expect_empty(204);
    let _: RoomsChanged = bystander.event().await;
    let _: RoomsChanged = watching.event().await;
}

#[tokio::test]
async fn reactions_and_deletes_racing_other_writes_all_succeed() {
    // Each change is one transaction that takes the write lock with its first statement: on
    // SQLite, one that read first could not write once another writer had committed, and
    // failed busy (seen once as `unavailable` on a reaction; this race does not hit it every
    // run, but every write here must succeed whatever interleaves).
    let app = spawn_app_with(|config| config.rate_limit_messages = 1000).await;
    let owner = app.caller(&common::unique_name("own")).await;
    owner.create_room("busy", false).await;
    let mut tokens = Vec::new();
    for _ in 0..6 {
        let member = app.caller(&common::unique_name("mem")).await;
        member
            .call("POST", "/api/rooms/busy/membership", None)
            .await
            .expect_status(200);
        tokens.push(member.token.clone());
    }
    let target = owner.say_in("busy", "react to me").await;
    let doomed: Vec<Posted> = {
        let mut posted = Vec::new();
        for i in 0..6 {
            posted.push(owner.say_in("busy", &format!("doomed {i}")).await);
        }
        posted
    };
    let emoji = ["👍", "🎉", "😂", "😮", "😢", "🙏"];
    let mut tasks = tokio::task::JoinSet::new();
    for (i, token) in tokens.iter().enumerate() {
        let (url, token) = (app.url(""), token.clone());
        let path = format!(
            "{url}/api/rooms/busy/messages/{}/reactions/{}",
            target.seq,
            emoji[i]
                .bytes()
                .map(|b| format!("%{b:02X}"))
                .collect::<String>()
        );
        tasks.spawn(async move {
            reqwest::Client::new()
                .put(path)
                .bearer_auth(token)
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
    }
    for posted in &doomed {
        let (url, token) = (app.url(""), owner.token.clone());
        let path = format!("{url}/api/rooms/busy/messages/{}", posted.seq);
        tasks.spawn(async move {
            reqwest::Client::new()
                .delete(path)
                .bearer_auth(token)
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
    }
    for i in 0..6 {
        let (url, token) = (app.url(""), owner.token.clone());
        tasks.spawn(async move {
            reqwest::Client::new()
                .post(format!("{url}/api/rooms/busy/messages"))
                .bearer_auth(token)
                .json(&json!({"text": format!("meanwhile {i}")}))
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
    }
    let mut statuses = Vec::new();
    while let Some(done) = tasks.join_next().await {
        statuses.push(done.unwrap().expect("the request"));
    }
    assert!(
        statuses.iter().all(|s| matches!(s, 200 | 201 | 204)),
        "{statuses:?}"
    );
    let page = history(&owner, "busy").await;
    assert_eq!(page[0].reactions.len(), 6);
    assert_eq!(page.iter().filter(|m| m.deleted).count(), 6);
}
