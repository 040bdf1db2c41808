//! Property tests of every parser that reads client bytes: the domain parsers (names, room
//! names, slugs, message text, client message ids, e-mail, room codes, member cursors), command
//! decoding (the payloads of every framing decode through `Command::parse`), and frames sent to
//! a real server over `/gateway` and `/ws`. Each property holds for every input: no panic, a
//! stable error for what is refused, and what is accepted keeps its invariant.
//!
//! The same parsers have `cargo fuzz` targets in `fuzz/` for longer runs.

mod common;

use common::protocol::Message;
use common::{spawn_app, spawn_app_with, unique_name};
use parlor::core::{Command, CoreError, Limits};
use parlor::domain::{ClientMsgId, Email, MessageText, Name, RoomCode, RoomName, RoomSlug};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::{json, Value};

const LIMITS: Limits = Limits {
    max_message_chars: 500,
};

/// Every command name the server knows, and some it does not.
const NAMES: &[&str] = &[
    "identify",
    "join",
    "leave",
    "send",
    "typing",
    "history",
    "members",
    "pm_open",
    "pm_accept",
    "pm_decline",
    "pm_close",
    "read",
    "whisper",
    "kick",
    "ban",
    "kickban",
    "unban",
    "mute",
    "unmute",
    "verify",
    "set_role",
    "ignore",
    "unignore",
    "move",
    "delete_user",
    "search",
    "",
    "fly",
    "SEND",
    "send ",
];

/// Arbitrary JSON, up to a few levels deep, with the field names commands use.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("room".to_owned()),
        Just("text".to_owned()),
        Just("user".to_owned()),
        Just("ip".to_owned()),
        Just("token".to_owned()),
        Just("nick".to_owned()),
        Just("client_msg_id".to_owned()),
        Just("since".to_owned()),
        Just("limit".to_owned()),
        Just("after".to_owned()),
        Just("role".to_owned()),
        "\\PC{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,40}".prop_map(Value::String),
        Just(Value::String("lobby".into())),
        Just(Value::String("x".repeat(600))),
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn command_decoding_never_panics_and_refuses_with_stable_codes(
        name in prop::sample::select(NAMES),
        data in json_value(),
    ) {
        match Command::parse(name, data, &LIMITS) {
            Ok(command) => prop_assert!(NAMES.contains(&command.name())),
            Err(err) => {
                let code = err.code().as_str();
                prop_assert!(
                    matches!(code, "unknown_command" | "invalid_payload" | "empty_message"
                        | "message_too_long"),
                    "unexpected code {code} for {err}"
                );
                if let CoreError::InvalidPayload(detail) = &err {
                    // The detail names the command (by its canonical name: `kickban` is `ban`).
                    let named = detail.split(':').next().unwrap_or_default();
                    prop_assert!(named == name || (name == "kickban" && named == "ban"), "{detail}");
                }
            }
        }
    }

    #[test]
    fn accepted_names_are_1_to_20_safe_characters(raw in "\\PC{0,30}") {
        if let Ok(name) = Name::parse(&raw) {
            prop_assert!((1..=20).contains(&name.as_str().len()));
            prop_assert!(name.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
            prop_assert_eq!(Name::parse(name.as_str()).unwrap(), name.clone());
            prop_assert_eq!(name.key(), name.as_str().to_ascii_lowercase());
        }
    }

    #[test]
    fn room_names_are_stored_spellings_that_parse_to_themselves(raw in "\\PC{0,120}") {
        if let Ok(room) = RoomName::parse(&raw) {
            prop_assert!(!room.as_str().is_empty() && room.as_str().chars().count() <= 100);
            prop_assert!(!room.as_str().chars().any(char::is_control));
            prop_assert_eq!(RoomName::parse(room.as_str()).unwrap(), room);
        }
    }

    #[test]
    fn slugs_are_lowercase_addresses(raw in "[a-zA-Z0-9 -]{0,50}") {
        if let Ok(slug) = RoomSlug::parse(&raw) {
            let s = slug.as_str();
            prop_assert!((2..=40).contains(&s.len()));
            prop_assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            prop_assert!(!s.starts_with('-') && !s.ends_with('-') && s != "lobby");
        }
    }

    #[test]
    fn message_text_is_trimmed_non_empty_and_bounded(raw in "\\PC{0,60}\\s{0,3}", max in 1usize..50) {
        match MessageText::parse(&raw, max) {
            Ok(text) => {
                prop_assert_eq!(text.as_str(), raw.trim());
                prop_assert!(!text.as_str().is_empty());
                prop_assert!(text.as_str().chars().count() <= max);
            }
            Err(_) => prop_assert!(raw.trim().is_empty() || raw.trim().chars().count() > max),
        }
    }

    #[test]
    fn client_msg_ids_are_1_to_64_characters(raw in "\\PC{0,80}") {
        prop_assert_eq!(
            ClientMsgId::parse(&raw).is_ok(),
            !raw.is_empty() && raw.chars().count() <= 64
        );
    }

    #[test]
    fn emails_and_room_codes_never_panic(raw in "\\PC{0,80}") {
        let _ = Email::parse(&raw);
        if let Ok(code) = RoomCode::parse(&raw) {
            prop_assert_eq!(code.as_str().len(), 4);
            prop_assert_eq!(RoomCode::from_room_name(&code.room_name()), Some(code));
        }
    }
}

/// Arbitrary text frames (JSON-ish and not) sent to a real `/gateway` connection: each is
/// answered with an error event or an ack, and the connection stays usable.
#[tokio::test]
async fn arbitrary_gateway_frames_get_answers_and_leave_the_connection_usable() {
    let app = spawn_app().await;
    let mut client = app.lobby_guest(&unique_name("fuz")).await;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let frames = prop_oneof![
        "\\PC{0,200}".boxed(),
        (prop::sample::select(NAMES), json_value())
            .prop_map(|(name, data)| json!({ "event": name, "data": data }).to_string())
            .boxed(),
    ];
    for _ in 0..200 {
        let frame = frames.new_tree(&mut runner).unwrap().current();
        client.send_text(&frame).await;
        // A round trip: the server answered the frame (or ignored it) and still reads.
        client.sync().await;
    }
}

/// Arbitrary text frames on `/ws`: each is answered, and the connection still carries
/// messages to the lobby afterwards.
#[tokio::test]
async fn arbitrary_ws_frames_leave_the_connection_usable() {
    let app = spawn_app_with(|c| c.rate_limit_messages = 100_000).await;
    let mut watcher = app.lobby_guest(&unique_name("see")).await;
    let token = app.guest_token(&unique_name("wsf")).await;
    let mut simple = app
        .websocket("/ws", &[("cookie", &format!("session={token}"))])
        .await
        .expect("upgrade");
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let frames = prop_oneof![
        "\\PC{0,200}".boxed(),
        json_value().prop_map(|v| v.to_string()).boxed(),
        json_value()
            .prop_map(|v| json!({ "message": v }).to_string())
            .boxed(),
    ];
    for n in 0..100 {
        let frame = frames.new_tree(&mut runner).unwrap().current();
        simple.send_text(&frame).await;
        let probe = format!("probe-{n}");
        simple.send_json(json!({ "message": probe })).await;
        watcher.event_where(|m: &Message| m.text == probe).await;
    }
}
