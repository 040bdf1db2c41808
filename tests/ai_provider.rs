//! The model-server client ([`Provider`]) against the scripted fake model server, in both wire
//! formats: replies stream in order and as they are made, requests carry what the settings and
//! the prompt say, and every way a server can fail — silence, a stall, an error status, bytes
//! that are not the format, an error in the stream, a broken connection, a redirect — ends in
//! its own error instead of a hang or a panic.
//!
//! Deadlines run on a manual clock where the test only needs them to pass; one test runs on the
//! system clock to see a reply that keeps streaming cut off by the real timer.

mod common;

use common::fake_model::{canned_reply, FakeModel, Gate, Script};
use common::PATIENCE;
use futures_util::StreamExt;
use parlor::ai::provider::{
    Prompt, Provider, ProviderError, ProviderSettings, ReplyStream, Speaker, Turn,
};
use parlor::clock::{Clock, ManualClock};
use parlor::config::{AiProvider, Secret};
use std::time::Duration;
use tokio::time::timeout;

const KINDS: [AiProvider; 2] = [AiProvider::Ollama, AiProvider::Openai];

const FIRST_TOKEN: Duration = Duration::from_secs(5);
const WHOLE_REPLY: Duration = Duration::from_secs(60);

fn settings(kind: AiProvider, base_url: String) -> ProviderSettings {
    ProviderSettings {
        kind,
        base_url,
        model: "test-model".into(),
        api_key: None,
        request_timeout: WHOLE_REPLY,
        first_token_timeout: FIRST_TOKEN,
    }
}

fn provider(kind: AiProvider, fake: &FakeModel) -> Provider {
    Provider::new(settings(kind, fake.url()), Clock::system()).expect("a provider")
}

/// A provider whose deadlines only pass when the test moves the clock.
fn provider_on_manual_clock(kind: AiProvider, fake: &FakeModel) -> (Provider, ManualClock) {
    let (clock, hand) = Clock::manual();
    let provider = Provider::new(settings(kind, fake.url()), clock).expect("a provider");
    (provider, hand)
}

fn prompt(user: &str) -> Prompt {
    Prompt {
        turns: vec![
            Turn {
                speaker: Speaker::System,
                text: "You are a test.".into(),
            },
            Turn {
                speaker: Speaker::User,
                text: user.into(),
            },
        ],
        max_tokens: 64,
        temperature: 0.5,
    }
}

async fn start(provider: &Provider, user: &str) -> ReplyStream {
    timeout(PATIENCE, provider.stream(&prompt(user)))
        .await
        .expect("the request is answered")
        .expect("the server answers with success")
}

async fn next(reply: &mut ReplyStream) -> Option<Result<String, ProviderError>> {
    timeout(PATIENCE, reply.next())
        .await
        .expect("the reply moves on")
}

/// Every piece until the end, and the error that ended it, if one did (nothing follows it).
async fn read_all(mut reply: ReplyStream) -> (Vec<String>, Option<ProviderError>) {
    let mut pieces = Vec::new();
    loop {
        match next(&mut reply).await {
            None => return (pieces, None),
            Some(Ok(piece)) => {
                assert!(!piece.is_empty(), "pieces are never empty");
                pieces.push(piece);
            }
            Some(Err(error)) => {
                assert!(next(&mut reply).await.is_none(), "nothing follows an error");
                return (pieces, Some(error));
            }
        }
    }
}

#[tokio::test]
async fn a_reply_streams_its_pieces_in_order() {
    for kind in KINDS {
        let fake = FakeModel::start().await;
        fake.push(Script::answer(["Hel", "lo, ", "wörld", " ✓"]));
        let (pieces, error) = read_all(start(&provider(kind, &fake), "hi").await).await;
        assert!(error.is_none(), "{kind:?}: {error:?}");
        assert_eq!(pieces.concat(), "Hello, wörld ✓", "{kind:?}");
    }
}

#[tokio::test]
async fn a_slow_reply_within_its_timeouts_arrives_whole() {
    for kind in KINDS {
        let fake = FakeModel::start().await;
        fake.push(Script::slow(
            ["one ", "two ", "three"],
            Duration::from_millis(30),
        ));
        let (pieces, error) = read_all(start(&provider(kind, &fake), "hi").await).await;
        assert!(error.is_none(), "{kind:?}: {error:?}");
        assert_eq!(pieces.concat(), "one two three", "{kind:?}");
    }
}

#[tokio::test]
async fn the_first_piece_arrives_before_the_reply_is_finished() {
    for kind in KINDS {
        let fake = FakeModel::start().await;
        let gate = Gate::new();
        fake.push(Script::hold(["first"], &gate, [" second"]));
        let mut reply = start(&provider(kind, &fake), "hi").await;
        // The server is still holding the rest back: this piece can only have come early.
        assert_eq!(
            next(&mut reply).await.unwrap().unwrap(),
            "first",
            "{kind:?}"
        );
        assert_eq!(fake.in_flight(), 1);
        gate.open();
        let (rest, error) = read_all(reply).await;
        assert!(error.is_none(), "{kind:?}: {error:?}");
        assert_eq!(rest.concat(), " second", "{kind:?}");
    }
}

#[tokio::test]
async fn the_request_carries_the_model_sampling_turns_in_order_and_the_key() {
    for kind in KINDS {
        let fake = FakeModel::start().await;
        let mut settings = settings(kind, fake.url());
        settings.api_key = Some(Secret::new("sk-test-key"));
        let provider = Provider::new(settings, Clock::system()).unwrap();
        let turns = [
            (Speaker::System, "system", "Be brief."),
            (Speaker::User, "user", "first question"),
            (Speaker::Assistant, "assistant", "first answer"),
            (Speaker::User, "user", "second question"),
        ];
        let prompt = Prompt {
            turns: turns
                .iter()
                .map(|(speaker, _, text)| Turn {
                    speaker: *speaker,
                    text: (*text).into(),
                })
                .collect(),
            max_tokens: 77,
            temperature: 0.25,
        };
        read_all(provider.stream(&prompt).await.unwrap()).await;

        let requests = fake.requests();
        assert_eq!(requests.len(), 1);
        let sent = &requests[0];
        assert_eq!(sent.provider, Some(kind));
        assert_eq!(sent.model(), Some("test-model"));
        assert_eq!(sent.temperature(), Some(0.25));
        assert_eq!(sent.max_tokens(), Some(77));
        assert_eq!(sent.stream(), Some(true));
        assert_eq!(sent.authorization.as_deref(), Some("Bearer sk-test-key"));
        let expected: Vec<(String, String)> = turns
            .iter()
            .map(|(_, role, text)| ((*role).to_owned(), (*text).to_owned()))
            .collect();
        assert_eq!(sent.messages(), expected, "{kind:?}");
    }
}

#[tokio::test]
async fn without_an_api_key_no_authorization_is_sent() {
    for kind in KINDS {
        let fake = FakeModel::start().await;
        read_all(start(&provider(kind, &fake), "hi").await).await;
        assert_eq!(fake.requests()[0].authorization, None, "{kind:?}");
    }
}

#[tokio::test]
async fn the_default_script_tells_replies_apart() {
    for kind in KINDS {
        let fake = FakeModel::start().await;
        let provider = provider(kind, &fake);
        let (first, _) = read_all(start(&provider, "four").await).await;
        let (second, _) = read_all(start(&provider, "seven!!").await).await;
        assert_eq!(first.concat(), canned_reply(1, 4), "{kind:?}");
        assert_eq!(second.concat(), canned_reply(2, 7), "{kind:?}");
    }
}

#[tokio::test]
async fn a_server_that_never_starts_hits_the_first_token_timeout() {
    for kind in KINDS {
        let fake = FakeModel::start().await;
        // OpenAI's hang still sends the role-only first chunk: that is not a token.
        fake.push(Script::hang());
        let (provider, clock) = provider_on_manual_clock(kind, &fake);
        let reply = start(&provider, "hi").await;
        let reading = tokio::spawn(read_all(reply));
        clock.advance(FIRST_TOKEN);
        let (pieces, error) = reading.await.unwrap();
        assert!(pieces.is_empty());
        let error = error.expect("an error");
        assert!(
            matches!(error, ProviderError::FirstTokenTimeout),
            "{kind:?}: {error:?}"
        );
        assert_eq!(error.code(), "ai_timeout");
    }
}

#[tokio::test]
async fn a_reply_that_stalls_midway_hits_the_request_timeout() {
    for kind in KINDS {
        let fake = FakeModel::start().await;
        fake.push(Script::hang_after(["partial"]));
        let (provider, clock) = provider_on_manual_clock(kind, &fake);
        let mut reply = start(&provider, "hi").await;
        assert_eq!(next(&mut reply).await.unwrap().unwrap(), "partial");
        // Past the first-token deadline: once text came, only the whole reply's counts.
        clock.advance(FIRST_TOKEN * 2);
        let reading = tokio::spawn(read_all(reply));
        clock.advance(WHOLE_REPLY);
        let (_, error) = reading.await.unwrap();
        let error = error.expect("an error");
        assert!(
            matches!(error, ProviderError::ReplyTimeout),
            "{kind:?}: {error:?}"
        );
    }
}

#[tokio::test]
async fn a_reply_that_keeps_streaming_past_the_request_timeout_is_cut_off() {
    for kind in KINDS {
        let fake = FakeModel::start().await;
        let words = vec!["word "; 100];
        fake.push(Script::slow(words, Duration::from_millis(20)));
        let mut settings = settings(kind, fake.url());
        settings.request_timeout = Duration::from_millis(300);
        settings.first_token_timeout = Duration::from_millis(300);
        let provider = Provider::new(settings, Clock::system()).unwrap();
        let (pieces, error) = read_all(start(&provider, "hi").await).await;
        assert!(
            !pieces.is_empty(),
            "{kind:?}: text came before the deadline"
        );
        assert!(
            pieces.concat().len() < 100 * 5,
            "{kind:?}: the reply was cut short"
        );
        assert!(
            matches!(error, Some(ProviderError::ReplyTimeout)),
            "{kind:?}: {error:?}"
        );
    }
}

#[tokio::test]
async fn an_error_status_is_reported_by_its_code_and_its_body_is_not_kept() {
    for kind in KINDS {
        for status in [401, 404, 500, 503] {
            let fake = FakeModel::start().await;
            fake.push(Script::Status(status));
            let error = provider(kind, &fake)
                .stream(&prompt("my secret words"))
                .await
                .err()
                .expect("an error");
            assert!(
                matches!(error, ProviderError::Status(s) if s == status),
                "{error:?}"
            );
            assert_eq!(error.code(), "ai_status");
            assert!(
                !format!("{error} {error:?}").contains("secret"),
                "{error:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_malformed_chunk_ends_the_reply_with_a_bad_reply_error() {
    for kind in KINDS {
        let fake = FakeModel::start().await;
        fake.push(Script::Malformed(vec!["fine so far".into()]));
        let (pieces, error) = read_all(start(&provider(kind, &fake), "hi").await).await;
        assert_eq!(pieces.concat(), "fine so far", "{kind:?}");
        let error = error.expect("an error");
        assert!(
            matches!(error, ProviderError::Malformed(_)),
            "{kind:?}: {error:?}"
        );
        assert_eq!(error.code(), "ai_bad_reply");
    }
}

#[tokio::test]
async fn an_error_in_the_stream_is_a_model_error_without_its_wording() {
    for kind in KINDS {
        let fake = FakeModel::start().await;
        fake.push(Script::ModelError(vec!["half".into()]));
        let (_, error) = read_all(start(&provider(kind, &fake), "hi").await).await;
        let error = error.expect("an error");
        assert!(matches!(error, ProviderError::Model), "{kind:?}: {error:?}");
        assert!(!format!("{error} {error:?}").contains("crashed"));
    }
}

#[tokio::test]
async fn a_connection_broken_mid_reply_is_an_error() {
    for kind in KINDS {
        for script in [
            Script::Drop(vec!["half".into()]),
            Script::Truncated(vec!["half".into()]),
        ] {
            let fake = FakeModel::start().await;
            fake.push(script.clone());
            let (pieces, error) = read_all(start(&provider(kind, &fake), "hi").await).await;
            assert_eq!(pieces.concat(), "half", "{kind:?} {script:?}");
            let error = error.expect("an error");
            assert!(
                matches!(error, ProviderError::Interrupted(_)),
                "{kind:?} {script:?}: {error:?}"
            );
            assert_eq!(error.code(), "ai_interrupted");
        }
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    for kind in KINDS {
        let fake = FakeModel::start().await;
        let elsewhere = FakeModel::start().await;
        let path = match kind {
            AiProvider::Ollama => "/api/chat",
            AiProvider::Openai => "/v1/chat/completions",
        };
        fake.push(Script::Redirect(format!("{}{path}", elsewhere.url())));
        let error = provider(kind, &fake)
            .stream(&prompt("hi"))
            .await
            .err()
            .expect("an error");
        assert!(
            matches!(error, ProviderError::Status(302)),
            "{kind:?}: {error:?}"
        );
        assert_eq!(fake.requests().len(), 1);
        assert!(
            elsewhere.requests().is_empty(),
            "{kind:?}: the redirect was followed"
        );
    }
}

#[tokio::test]
async fn a_server_that_is_not_there_is_unreachable() {
    // A port that was just free: nothing listens on it any more.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    for kind in KINDS {
        let provider = Provider::new(settings(kind, url.clone()), Clock::system()).unwrap();
        let error = timeout(PATIENCE, provider.stream(&prompt("hi")))
            .await
            .expect("refused at once")
            .err()
            .expect("an error");
        assert!(
            matches!(error, ProviderError::Unreachable(_)),
            "{kind:?}: {error:?}"
        );
        assert_eq!(error.code(), "ai_unreachable");
    }
}

#[tokio::test]
async fn the_fake_counts_replies_in_flight() {
    let fake = FakeModel::start().await;
    let gate = Gate::new();
    fake.push(Script::hold(["a"], &gate, ["b"]));
    fake.push(Script::hold(["a"], &gate, ["b"]));
    let provider = provider(AiProvider::Ollama, &fake);
    let first = start(&provider, "one").await;
    let second = start(&provider, "two").await;
    fake.wait_for_in_flight(2).await;
    assert_eq!(fake.max_in_flight(), 2);
    gate.open();
    for reply in [first, second] {
        let (pieces, error) = read_all(reply).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(pieces.concat(), "ab");
    }
    fake.wait_for_in_flight(0).await;
    assert_eq!(fake.max_in_flight(), 2);
}
