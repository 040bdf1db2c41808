//! The AI companion through the whole server, against the in-process fake model server: a
//! conversation with the bot opens at once, a message to it streams back as `ai_delta` pieces
//! and is stored under the pieces' id, the model hears the persona, the user's message and the
//! remembered turns, `/reset` forgets, the trial ends, a hanging model costs the chat nothing,
//! and a failing one gets the fallback.

mod common;

use common::fake_model::{FakeModel, Gate, Script};
use common::protocol::{
    AiDelta, AiLimitReached, AiQueued, CompanionView, Conversation, ConversationState, ErrorEvent,
    History, Message, Posted, PremiumChanged, Sent, Typing,
};
use common::{spawn_app, spawn_app_with, unique_name, Caller, TestApp};
use parlor::config::AiProvider;
use serde_json::json;

const BOT: &str = "Violet";
const FALLBACK: &str = "Sorry, I can't answer right now. Please try again in a little while.";

async fn app_with(fake: &FakeModel, provider: AiProvider, free_messages: u32) -> TestApp {
    app_tuned(fake, provider, move |config| {
        config.ai_free_messages = free_messages
    })
    .await
}

/// A server whose companion talks to `fake`, with more settings from `tune`.
async fn app_tuned(
    fake: &FakeModel,
    provider: AiProvider,
    tune: impl FnOnce(&mut parlor::config::Config),
) -> TestApp {
    let url = fake.url();
    spawn_app_with(move |config| {
        config.ai_provider = Some(provider);
        config.ai_base_url = Some(url);
        config.ai_model = "test".into();
        config.ai_name = BOT.into();
        tune(config);
    })
    .await
}

/// Opens the caller's conversation with the bot (open at once: nobody has to accept).
async fn open_with_bot(caller: &Caller<'_>) -> String {
    let view: Conversation = caller
        .call("POST", "/api/conversations", Some(json!({ "user": BOT })))
        .await
        .expect(200);
    assert_eq!(view.state, ConversationState::Open, "{view:?}");
    view.room
}

/// The caller's conversation with the bot, opened and joined on a native connection.
async fn talk_to_bot(caller: &Caller<'_>) -> (String, common::WsClient) {
    let room = open_with_bot(caller).await;
    let mut live = caller.gateway().await;
    live.join_room(&room, json!({})).await;
    (room, live)
}

async fn send(live: &mut common::WsClient, room: &str, text: &str) -> Posted {
    live.call("send", json!({ "room": room, "text": text }))
        .await
}

/// The bot's next stored message in the room.
async fn bot_message(live: &mut common::WsClient) -> Message {
    live.event_where(|m: &Message| m.author.bot).await
}

#[tokio::test]
async fn a_reply_streams_in_pieces_then_is_stored_under_their_id() {
    let fake = FakeModel::start().await;
    let app = app_with(&fake, AiProvider::Ollama, 3).await;
    let ann = app.caller(&unique_name("ann")).await;
    let (room, mut live) = talk_to_bot(&ann).await;

    fake.push(Script::answer(["Hel", "lo ", "there!"]));
    send(&mut live, &room, "hello bot").await;

    let typing: Typing = live.event().await;
    assert_eq!(
        (typing.user.name.as_str(), typing.user.bot, typing.active),
        (BOT, true, true)
    );
    assert_eq!(typing.room, room);
    let mut pieces = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let delta: AiDelta = live.event().await;
        assert_eq!(delta.room, room);
        pieces.push(delta.text);
        ids.push(delta.message_id);
    }
    assert_eq!(pieces, ["Hel", "lo ", "there!"]);
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let stored = bot_message(&mut live).await;
    assert_eq!(stored.text, "Hello there!");
    assert_eq!(stored.client_msg_id.as_deref(), Some(ids[0].as_str()));
    assert_eq!(stored.author.name, BOT);

    let history: History = ann
        .call("GET", &format!("/api/rooms/{room}/messages"), None)
        .await
        .expect(200);
    assert_eq!(history.texts(), ["hello bot", "Hello there!"]);
    assert!(history.messages[1].author.bot && !history.messages[0].author.bot);

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].model(), Some("test"));
    let messages = requests[0].messages();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[0].0, "system");
    assert!(messages[0].1.starts_with("You are Violet"), "{messages:?}");
    assert_eq!(messages[1], ("user".into(), "hello bot".into()));
}

#[tokio::test]
async fn the_model_hears_the_last_exchange_until_reset() {
    let fake = FakeModel::start().await;
    let app = app_with(&fake, AiProvider::Openai, 10).await;
    let ann = app.caller(&unique_name("ann")).await;
    let (room, mut live) = talk_to_bot(&ann).await;

    fake.push(Script::answer(["Blue."]));
    send(&mut live, &room, "What colour is the sky?").await;
    assert_eq!(bot_message(&mut live).await.text, "Blue.");
    fake.push(Script::answer(["You asked about the sky."]));
    send(&mut live, &room, "What did I ask?").await;
    bot_message(&mut live).await;
    let second = &fake.requests()[1];
    assert_eq!(second.path, "/v1/chat/completions");
    let turns: Vec<_> = second.messages().into_iter().skip(1).collect();
    assert_eq!(
        turns,
        [
            ("user".into(), "What colour is the sky?".into()),
            ("assistant".into(), "Blue.".into()),
            ("user".into(), "What did I ask?".into()),
        ]
    );

    send(&mut live, &room, "/reset").await;
    let forgotten = bot_message(&mut live).await;
    assert!(forgotten.text.contains("forgotten"), "{forgotten:?}");
    assert_eq!(fake.requests().len(), 2, "/reset does not ask the model");
    fake.push(Script::answer(["Hi."]));
    send(&mut live, &room, "Hello again").await;
    bot_message(&mut live).await;
    let after: Vec<_> = fake.requests()[2].messages().into_iter().skip(1).collect();
    assert_eq!(after, [("user".into(), "Hello again".into())]);

    // The forget button does the same.
    ann.call("DELETE", "/api/companion/memory", None)
        .await
        .expect_status(204);
    fake.push(Script::answer(["Hm?"]));
    send(&mut live, &room, "And now?").await;
    bot_message(&mut live).await;
    let forgot: Vec<_> = fake.requests()[3].messages().into_iter().skip(1).collect();
    assert_eq!(forgot, [("user".into(), "And now?".into())]);
}

#[tokio::test]
async fn the_trial_ends_after_the_free_messages_without_asking_the_model() {
    let fake = FakeModel::start().await;
    let app = app_with(&fake, AiProvider::Ollama, 2).await;
    let ann = app.caller(&unique_name("ann")).await;
    let (room, mut live) = talk_to_bot(&ann).await;
    for n in 0..2 {
        send(&mut live, &room, &format!("question {n}")).await;
        bot_message(&mut live).await;
    }
    send(&mut live, &room, "one more").await;
    let limit: AiLimitReached = live.event().await;
    assert_eq!(
        (limit.room.as_str(), limit.free_messages),
        (room.as_str(), 2)
    );
    live.assert_no_event(|m: &Message| m.author.bot).await;
    assert_eq!(fake.requests().len(), 2, "the model was not asked");
}

#[tokio::test]
async fn without_a_companion_its_endpoints_answer_ai_disabled() {
    let app = spawn_app().await;
    let ann = app.caller(&unique_name("ann")).await;
    ann.call("DELETE", "/api/companion/memory", None)
        .await
        .expect_error(404, "ai_disabled");
    ann.call("GET", "/api/companion", None)
        .await
        .expect_error(404, "ai_disabled");
}

async fn companion_of(caller: &Caller<'_>) -> CompanionView {
    caller.call("GET", "/api/companion", None).await.expect(200)
}

#[tokio::test]
async fn a_page_opened_mid_reply_catches_up_from_the_companion_endpoint() {
    let fake = FakeModel::start().await;
    let app = app_with(&fake, AiProvider::Ollama, 3).await;
    let (ann, bob) = app.two_users("ann", "bob").await;
    let before = companion_of(&ann).await;
    assert_eq!(
        (before.name.as_str(), before.free_messages, before.used),
        (BOT, 3, 0)
    );
    assert!(!before.premium && !before.failing && before.writing.is_none());

    let (room, mut live) = talk_to_bot(&ann).await;
    let gate = Gate::new();
    fake.push(Script::hold(["Once ", "upon "], &gate, ["a time."]));
    send(&mut live, &room, "tell me a story").await;
    let first: AiDelta = live.event().await;
    let second: AiDelta = live.event().await;
    assert_eq!(first.text + &second.text, "Once upon ");

    // A second page of ann's, opened now, finds what was streamed before it existed.
    let midway = companion_of(&ann).await;
    let writing = midway.writing.expect("a reply is on its way");
    assert_eq!(writing.room, room);
    assert_eq!(writing.message_id, second.message_id);
    assert_eq!(
        (writing.position, writing.text.as_str()),
        (None, "Once upon ")
    );
    assert_eq!(midway.used, 1, "the message being answered is counted");
    assert!(
        companion_of(&bob).await.writing.is_none(),
        "nobody else sees ann's reply"
    );

    gate.open();
    let stored = bot_message(&mut live).await;
    assert_eq!(stored.text, "Once upon a time.");
    assert_eq!(
        stored.client_msg_id.as_deref(),
        Some(writing.message_id.as_str())
    );
    // Once stored, the reply is in the history and no longer "on its way".
    let mut after = companion_of(&ann).await;
    for _ in 0..50 {
        if after.writing.is_none() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        after = companion_of(&ann).await;
    }
    assert!(after.writing.is_none(), "{after:?}");

    let guest = Caller::with_token(&app, &app.guest_token(&unique_name("guest")).await);
    let seen = companion_of(&guest).await;
    assert_eq!((seen.used, seen.premium, seen.writing), (0, false, None));
}

#[tokio::test]
async fn the_lobby_goes_on_while_the_model_hangs() {
    let fake = FakeModel::start().await;
    let app = app_with(&fake, AiProvider::Ollama, 3).await;
    let (ann, bob) = app.two_users("ann", "bob").await;
    let (room, mut ann_live) = talk_to_bot(&ann).await;
    fake.push(Script::hang());
    send(&mut ann_live, &room, "are you there?").await;
    fake.wait_for_in_flight(1).await;

    let mut bob_live = bob.gateway().await;
    bob_live.join_lobby().await;
    let sent: Sent = bob_live.say("the chat still works").await;
    assert!(!sent.id.is_empty());
    let heard: Message = bob_live
        .event_where(|m: &Message| m.text == "the chat still works")
        .await;
    assert_eq!(heard.room, "lobby");
}

#[tokio::test]
async fn a_failing_model_gets_the_fallback_reply() {
    let fake = FakeModel::start().await;
    let app = app_with(&fake, AiProvider::Ollama, 3).await;
    let ann = app.caller(&unique_name("ann")).await;
    let (room, mut live) = talk_to_bot(&ann).await;
    fake.push(Script::Status(500));
    send(&mut live, &room, "hello?").await;
    assert_eq!(bot_message(&mut live).await.text, FALLBACK);
}

#[tokio::test]
async fn one_reply_runs_the_next_waits_in_line_and_past_the_line_the_answer_is_ai_busy() {
    let fake = FakeModel::start().await;
    let app = app_tuned(&fake, AiProvider::Ollama, |config| {
        config.ai_concurrency = 1;
        config.ai_queue = 1;
    })
    .await;
    let (ann, bob) = app.two_users("ann", "bob").await;
    let cat = app.caller(&unique_name("cat")).await;
    let mut lives = Vec::new();
    for caller in [&ann, &bob, &cat] {
        lives.push(talk_to_bot(caller).await);
    }
    let gate = Gate::new();
    fake.push(Script::hold(["Ann's "], &gate, ["answer."]));
    fake.push(Script::answer(["Bob's answer."]));

    let (ann_room, ann_live) = &mut lives[0];
    send(ann_live, ann_room, "first").await;
    fake.wait_for_in_flight(1).await;
    let (bob_room, bob_live) = &mut lives[1];
    send(bob_live, bob_room, "second").await;
    let queued: AiQueued = bob_live.event().await;
    assert_eq!(
        (queued.room.as_str(), queued.position),
        (bob_room.as_str(), 1)
    );
    let (cat_room, cat_live) = &mut lives[2];
    let posted = send(cat_live, cat_room, "third").await;
    assert!(
        !posted.id.is_empty(),
        "the message itself is stored and acknowledged"
    );
    let busy: ErrorEvent = cat_live.event().await;
    assert_eq!(busy.code, "ai_busy");

    gate.open();
    let (_, ann_live) = &mut lives[0];
    assert_eq!(bot_message(ann_live).await.text, "Ann's answer.");
    let (_, bob_live) = &mut lives[1];
    let bob_reply = bot_message(bob_live).await;
    assert_eq!(bob_reply.text, "Bob's answer.");
    assert_eq!(
        bob_reply.client_msg_id.as_deref(),
        Some(queued.message_id.as_str())
    );
    assert_eq!(fake.max_in_flight(), 1, "never two generations at once");
    assert_eq!(
        fake.requests().len(),
        2,
        "cat's message never reached the model"
    );
}

#[tokio::test]
async fn premium_lifts_the_trial_while_it_lasts_and_the_trial_is_back_when_it_ends() {
    let fake = FakeModel::start().await;
    let app = app_tuned(&fake, AiProvider::Ollama, |config| {
        common::with_root(config);
        config.ai_free_messages = 1;
    })
    .await;
    let name = unique_name("ann");
    let ann = app.caller(&name).await;
    let root = app.root().await;
    let (room, mut live) = talk_to_bot(&ann).await;
    send(&mut live, &room, "the free one").await;
    bot_message(&mut live).await;
    send(&mut live, &room, "over the limit").await;
    let _: AiLimitReached = live.event().await;

    // Premium for a short while, granted live: answered, and not counted.
    let until = app.clock.now_millis() + 60_000;
    root.call(
        "PUT",
        &format!("/api/admin/users/{name}/premium"),
        Some(json!({ "until": until })),
    )
    .await
    .expect::<serde_json::Value>(200);
    let changed: PremiumChanged = live.event().await;
    assert!(changed.active);
    send(&mut live, &room, "now with premium").await;
    bot_message(&mut live).await;
    assert!(companion_of(&ann).await.premium);

    // When it ends nothing has to run: the next message meets the spent trial again.
    app.clock.advance(std::time::Duration::from_secs(61));
    assert!(!companion_of(&ann).await.premium);
    send(&mut live, &room, "after premium").await;
    let limit: AiLimitReached = live.event().await;
    assert_eq!(limit.free_messages, 1);
    assert_eq!(
        fake.requests().len(),
        2,
        "the model was asked twice: free, premium"
    );
}

#[tokio::test]
async fn in_a_room_that_allows_it_the_companion_answers_mentions_from_the_rooms_recent_talk() {
    let fake = FakeModel::start().await;
    let app = app_with(&fake, AiProvider::Ollama, 10).await;
    let (ann, bob) = app.two_users("ann", "bob").await;
    let slug = unique_name("garden").to_lowercase();
    ann.create_room(&slug, false).await;
    let mut bob_live = bob.gateway().await;
    bob_live.join_room(&slug, json!({})).await;

    // Ann tells the bot a secret in her conversation with it: a room never hears of it.
    let (dm, mut ann_live) = talk_to_bot(&ann).await;
    send(&mut ann_live, &dm, "my secret is 4242").await;
    bot_message(&mut ann_live).await;

    // Off by default: a mention is an ordinary message.
    ann.say_in(&slug, "@Violet are you here?").await;
    bob_live
        .event_where(|m: &Message| m.text == "@Violet are you here?")
        .await;
    bob_live.assert_no_event(|m: &Message| m.author.bot).await;
    assert_eq!(
        fake.requests().len(),
        1,
        "only the conversation asked the model"
    );

    // Members may not switch it on; the owner may.
    bob.call(
        "PATCH",
        &format!("/api/rooms/{slug}"),
        Some(json!({ "ai_mentions": true })),
    )
    .await
    .expect_error(403, "forbidden");
    let room: common::protocol::Room = ann
        .call(
            "PATCH",
            &format!("/api/rooms/{slug}"),
            Some(json!({ "ai_mentions": true })),
        )
        .await
        .expect(200);
    assert!(room.ai_mentions);

    bob.say_in(&slug, "the tomatoes are ripe").await;
    bob.say_in(&slug, "@Violets is not a mention").await;
    fake.push(Script::answer(["The ", "tomatoes."]));
    ann.say_in(&slug, "@violet what is ripe?").await;

    // Everyone in the room watches the bot type and its reply stream, then the stored reply.
    let typing: Typing = bob_live
        .event_where(|t: &Typing| t.user.bot && t.active)
        .await;
    assert_eq!(typing.room, slug);
    let delta: AiDelta = bob_live.event().await;
    assert_eq!(
        (delta.room.as_str(), delta.text.as_str()),
        (slug.as_str(), "The ")
    );
    let reply = bot_message(&mut bob_live).await;
    assert_eq!(
        (reply.room.as_str(), reply.text.as_str()),
        (slug.as_str(), "The tomatoes.")
    );
    assert_eq!(
        reply.client_msg_id.as_deref(),
        Some(delta.message_id.as_str())
    );
    assert_eq!(
        ann.texts_in(&slug).await.last().map(String::as_str),
        Some("The tomatoes.")
    );

    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "one mention, one request");
    let messages = requests[1].messages();
    assert!(
        messages[0].1.contains(&format!("\"{slug}\"")),
        "{messages:?}"
    );
    let context = &messages[1].1;
    assert!(context.contains("the tomatoes are ripe"), "{messages:?}");
    assert!(context.contains("@Violet are you here?"), "{messages:?}");
    assert_eq!(
        messages.last().unwrap().1,
        format!("{}: @violet what is ripe?", ann_name(&ann).await)
    );
    let everything = format!("{messages:?}");
    assert!(
        !everything.contains("4242"),
        "the conversation stays private: {everything}"
    );

    // Switched off again, the bot may not write there any more.
    let _: common::protocol::Room = ann
        .call(
            "PATCH",
            &format!("/api/rooms/{slug}"),
            Some(json!({ "ai_mentions": false })),
        )
        .await
        .expect(200);
    ann.say_in(&slug, "@Violet still there?").await;
    bob_live
        .event_where(|m: &Message| m.text == "@Violet still there?")
        .await;
    bob_live.assert_no_event(|m: &Message| m.author.bot).await;
    assert_eq!(fake.requests().len(), 2);
}

async fn ann_name(caller: &Caller<'_>) -> String {
    let me: serde_json::Value = caller.call("GET", "/api/user/@me", None).await.expect(200);
    me["username"].as_str().expect("a name").to_owned()
}

#[tokio::test]
async fn deleting_an_account_forgets_what_the_companion_remembered_and_counted() {
    let fake = FakeModel::start().await;
    let app = app_tuned(&fake, AiProvider::Ollama, common::with_root).await;
    let name = unique_name("ann");
    let ann = app.caller(&name).await;
    let (room, mut live) = talk_to_bot(&ann).await;
    send(&mut live, &room, "remember me").await;
    bot_message(&mut live).await;
    let db = common::database(&app).await;
    // The memory row is written just after the reply is stored.
    common::eventually(|| async {
        let n = common::count_rows(&db, "ai_memory").await;
        if n == 2 {
            Ok(())
        } else {
            Err(format!("{n} memory rows"))
        }
    })
    .await;
    assert_eq!(common::count_rows(&db, "ai_usage").await, 1);

    app.root()
        .await
        .call(
            "POST",
            "/api/admin/actions/delete_user",
            Some(json!({ "user": name })),
        )
        .await
        .expect_status(204);
    assert_eq!(common::count_rows(&db, "ai_memory").await, 0);
    assert_eq!(common::count_rows(&db, "ai_usage").await, 0);
}

#[tokio::test]
async fn the_bot_is_a_bot_account_shown_online() {
    let fake = FakeModel::start().await;
    let app = app_with(&fake, AiProvider::Ollama, 3).await;
    let ann = app.caller(&unique_name("ann")).await;
    let bot: common::protocol::Profile =
        ann.call("GET", "/api/user/violet", None).await.expect(200);
    assert_eq!(bot.username, BOT);
    assert!(bot.bot && bot.online, "{bot:?}");
    let me: common::protocol::Profile = ann.call("GET", "/api/user/@me", None).await.expect(200);
    assert!(!me.bot);
    // Nobody signs in as the bot.
    app.request("POST", "/api/login")
        .json(json!({ "username": BOT, "password": "anything at all" }))
        .send()
        .await
        .expect_error(401, "invalid_credentials");
}
