//! Private conversations over the native gateway and REST: invite and accept, live notices,
//! unread counts and read markers, closing and reopening, the history cap, outsiders, and
//! guests' whispers that are never stored.

mod common;

use common::protocol::{
    Conversation, ConversationState, ConversationUpdated, Conversations, Empty, History, Message,
    Posted, Sent, Whisper,
};
use common::{count_rows, database, spawn_app, spawn_app_with, unique_name, Caller};
use serde_json::json;

/// Opens a conversation from `from` to `to` over REST and returns it.
async fn open(from: &Caller<'_>, to: &Caller<'_>) -> Conversation {
    let peer = to.name().await;
    let body = json!({ "user": peer });
    let view: Conversation = from
        .call("POST", "/api/conversations", Some(body))
        .await
        .expect(200);
    assert_eq!(view.peer, peer);
    view
}

async fn listed(caller: &Caller<'_>) -> Vec<Conversation> {
    let list: Conversations = caller
        .call("GET", "/api/conversations", None)
        .await
        .expect(200);
    list.conversations
}

#[tokio::test]
async fn a_conversation_opens_when_the_peer_accepts_and_both_chat() {
    let app = spawn_app().await;
    let (ann, bob) = app.two_users("ann", "bob").await;
    let mut bob_live = bob.gateway().await;

    let view = open(&ann, &bob).await;
    assert_eq!(view.state, ConversationState::Pending, "{view:?}");
    assert_eq!(view.peer, bob.name().await);
    let room = view.room.clone();
    assert!(room.starts_with("pm:"), "{room}");
    let invited: ConversationUpdated = bob_live.event().await;
    assert_eq!(
        (
            invited.conversation.state,
            invited.conversation.peer.as_str()
        ),
        (ConversationState::Invited, ann.name().await.as_str()),
        "{invited:?}"
    );

    let first = ann.say_in(&room, "hello before you accept").await;
    assert_eq!(first.seq, 1);
    let grew: ConversationUpdated = bob_live.event().await;
    assert_eq!(
        (grew.conversation.state, grew.conversation.unread),
        (ConversationState::Invited, 1),
        "the invitation's unread count grows live"
    );
    bob_live
        .expect_error("join", json!({ "room": room }), "not_found")
        .await;

    let mut ann_live = ann.gateway().await;
    let accepted: Conversation = bob_live.call("pm_accept", json!({ "room": room })).await;
    assert_eq!(accepted.state, ConversationState::Open, "{accepted:?}");
    let told: ConversationUpdated = ann_live.event().await;
    assert_eq!(told.conversation.state, ConversationState::Open, "{told:?}");

    let joined = bob_live.join_room(&room, json!({})).await;
    assert_eq!(joined.texts(), ["hello before you accept"]);
    ann_live.join_room(&room, json!({})).await;
    let sent: Posted = bob_live
        .call(
            "send",
            json!({ "room": room, "text": "hi ann", "client_msg_id": "b-1" }),
        )
        .await;
    assert_eq!(sent.seq, 2, "{sent:?}");
    let message: Message = ann_live.event().await;
    assert_eq!(
        (message.room.as_str(), message.text.as_str(), message.seq),
        (room.as_str(), "hi ann", Some(2))
    );
    assert_eq!(message.client_msg_id.as_deref(), Some("b-1"));

    let unread = |list: &[Conversation]| {
        assert_eq!(list.len(), 1, "{list:?}");
        list[0].unread
    };
    assert_eq!(
        unread(&listed(&ann).await),
        1,
        "bob's message is unread for ann"
    );
    assert_eq!(
        unread(&listed(&bob).await),
        1,
        "ann's first message is unread for bob"
    );
    let _: Empty = ann_live
        .call("read", json!({ "room": room, "seq": 2 }))
        .await;
    assert_eq!(unread(&listed(&ann).await), 0);
    bob.call(
        "POST",
        &format!("/api/rooms/{room}/read"),
        Some(json!({ "seq": 99 })),
    )
    .await
    .expect_empty(204);
    assert_eq!(
        unread(&listed(&bob).await),
        0,
        "a marker past the end counts as all read"
    );
}

#[tokio::test]
async fn a_closed_conversation_comes_back_with_the_next_message_and_needs_no_new_invite() {
    let app = spawn_app().await;
    let (ann, bob) = app.two_users("ann", "bob").await;
    let room = open(&ann, &bob).await.room;
    let accepted: Conversation = bob
        .call("POST", &format!("/api/conversations/{room}/accept"), None)
        .await
        .expect(200);
    assert_eq!(accepted.state, ConversationState::Open);

    ann.call("DELETE", &format!("/api/conversations/{room}"), None)
        .await
        .expect_empty(204);
    assert_eq!(
        listed(&ann).await,
        [],
        "closed conversations are not listed"
    );

    let mut ann_live = ann.gateway().await;
    bob.say_in(&room, "are you there?").await;
    let back: ConversationUpdated = ann_live.event().await;
    assert_eq!(
        (back.conversation.room.as_str(), back.conversation.unread),
        (room.as_str(), 1)
    );
    assert_eq!(listed(&ann).await, std::slice::from_ref(&back.conversation));

    let mut bob_live = bob.gateway().await;
    let again: Conversation = ann_live
        .call("pm_open", json!({ "user": bob.name().await }))
        .await;
    assert_eq!(
        again.state,
        ConversationState::Open,
        "accepted once, open at once: {again:?}"
    );
    bob_live
        .assert_no_event(|_: &ConversationUpdated| true)
        .await;
}

#[tokio::test]
async fn declining_is_silent_and_outsiders_see_nothing() {
    let app = spawn_app().await;
    let (ann, bob) = app.two_users("ann", "bob").await;
    let carol = app.caller(&unique_name("car")).await;
    let mut ann_live = ann.gateway().await;
    let room = open(&ann, &bob).await.room;
    ann.say_in(&room, "secret words").await;

    bob.call("POST", &format!("/api/conversations/{room}/decline"), None)
        .await
        .expect_empty(204);
    assert_eq!(listed(&bob).await, []);
    let ann_list = listed(&ann).await;
    assert_eq!(ann_list.len(), 1, "{ann_list:?}");
    assert_eq!(
        ann_list[0].state,
        ConversationState::Pending,
        "ann is not told"
    );
    ann_live
        .assert_no_event(|_: &ConversationUpdated| true)
        .await;
    bob.call("GET", &format!("/api/rooms/{room}/messages"), None)
        .await
        .expect_error(404, "not_found");

    for (method, path) in [
        ("GET", format!("/api/rooms/{room}")),
        ("GET", format!("/api/rooms/{room}/messages")),
        ("GET", format!("/api/rooms/{room}/members")),
        ("POST", format!("/api/conversations/{room}/accept")),
        ("DELETE", format!("/api/conversations/{room}")),
    ] {
        carol
            .call(method, &path, None)
            .await
            .expect_error(404, "not_found");
    }
    carol
        .call(
            "POST",
            &format!("/api/rooms/{room}/messages"),
            Some(json!({ "text": "x" })),
        )
        .await
        .expect_error(404, "not_found");
    let mut carol_live = carol.gateway().await;
    for (command, data) in [
        ("join", json!({ "room": room })),
        ("history", json!({ "room": room })),
        ("send", json!({ "room": room, "text": "x" })),
        ("read", json!({ "room": room, "seq": 1 })),
        ("pm_accept", json!({ "room": room })),
    ] {
        carol_live.expect_error(command, data, "not_found").await;
    }
    carol
        .call("POST", &format!("/api/rooms/{room}/requests"), None)
        .await
        .expect_empty(202);
    assert_eq!(
        count_rows(&database(&app).await, "access_requests").await,
        0
    );
    carol
        .call(
            "POST",
            "/api/conversations",
            Some(json!({ "user": "nobody-here" })),
        )
        .await
        .expect_error(404, "not_found");
    carol
        .call(
            "POST",
            "/api/conversations",
            Some(json!({ "user": carol.name().await })),
        )
        .await
        .expect_error(422, "invalid_request");
}

#[tokio::test]
async fn history_keeps_only_the_newest_messages_up_to_the_cap() {
    let app = spawn_app_with(|c| {
        c.pm_history_cap = 5;
        c.rate_limit_messages = 100;
    })
    .await;
    let (ann, bob) = app.two_users("ann", "bob").await;
    let room = open(&ann, &bob).await.room;
    for n in 1..=8 {
        ann.say_in(&room, &format!("m{n}")).await;
    }
    let page: History = ann
        .call("GET", &format!("/api/rooms/{room}/messages"), None)
        .await
        .expect(200);
    assert_eq!(page.room, room);
    assert_eq!(page.seqs(), [4, 5, 6, 7, 8]);
    assert_eq!(page.texts(), ["m4", "m5", "m6", "m7", "m8"]);
    assert_eq!(count_rows(&database(&app).await, "messages").await, 5);
}

#[tokio::test]
async fn guests_whisper_live_and_nothing_is_stored() {
    let app = spawn_app().await;
    let mut gus = app.lobby_guest("gus").await;
    let mut gwen = app.lobby_guest("gwen").await;
    let sent: Sent = gus
        .call("whisper", json!({ "to": "GWEN", "text": "psst" }))
        .await;
    let got: Whisper = gwen.event().await;
    assert_eq!(
        (
            got.from.name.as_str(),
            got.text.as_str(),
            got.id.as_str(),
            got.ts
        ),
        ("gus", "psst", sent.id.as_str(), sent.ts)
    );
    let echo: Whisper = gus.event().await;
    assert_eq!(echo, got, "the sender's connections see it too");

    gus.expect_error(
        "whisper",
        json!({ "to": "nobody", "text": "x" }),
        "not_found",
    )
    .await;
    gus.expect_error("whisper", json!({ "to": "gus", "text": "x" }), "not_found")
        .await;
    gus.expect_error(
        "whisper",
        json!({ "to": "gwen", "text": " " }),
        "empty_message",
    )
    .await;
    gus.expect_error(
        "pm_open",
        json!({ "user": "gwen" }),
        "registration_required",
    )
    .await;

    let (ann, bob) = app.two_users("ann", "bob").await;
    let mut ann_live = ann.gateway().await;
    let _bob_live = bob.gateway().await;
    ann_live
        .expect_error(
            "whisper",
            json!({ "to": bob.name().await, "text": "x" }),
            "forbidden",
        )
        .await;
    let _: Sent = ann_live
        .call("whisper", json!({ "to": "gwen", "text": "hello guest" }))
        .await;
    let got: Whisper = gwen.event().await;
    assert_eq!(
        (got.from.name, got.text.as_str()),
        (ann.name().await, "hello guest"),
        "a user may whisper to a guest"
    );
    assert_eq!(count_rows(&database(&app).await, "messages").await, 0);
}
