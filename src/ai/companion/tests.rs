//! The companion driven through its seams: a scripted model, an outlet that records, a real
//! SQLite store and a manual clock.

use super::*;
use crate::ai::provider::{ReplyStream, Speaker, Turn};
use crate::ai::trial::NoPremium;
use crate::domain::Role;
use crate::store::NewUser;
use futures_util::future::BoxFuture;
use std::collections::VecDeque;
use tokio::sync::mpsc;

/// What the scripted model does with the next prompt.
enum Script {
    Say(Vec<&'static str>),
    Fail,
    /// Never sends anything.
    Hang,
}

#[derive(Default)]
struct Scripted {
    scripts: Mutex<VecDeque<Script>>,
    prompts: Mutex<Vec<Vec<Turn>>>,
}

impl Model for Scripted {
    fn stream<'a>(
        &'a self,
        prompt: &'a Prompt,
    ) -> BoxFuture<'a, Result<ReplyStream, ProviderError>> {
        self.prompts.lock().unwrap().push(prompt.turns.clone());
        let script = self.scripts.lock().unwrap().pop_front();
        Box::pin(async move {
            match script.unwrap_or(Script::Fail) {
                Script::Say(pieces) => {
                    let pieces = pieces.into_iter().map(|p| Ok(p.to_owned()));
                    Ok(Box::pin(futures_util::stream::iter(pieces)) as ReplyStream)
                }
                Script::Fail => Err(ProviderError::Status(500)),
                Script::Hang => Ok(Box::pin(futures_util::stream::pending()) as ReplyStream),
            }
        })
    }
}

struct Recorder {
    notes: mpsc::UnboundedSender<Note>,
    posts: mpsc::UnboundedSender<Reply>,
}

impl Outlet for Recorder {
    fn tell(&self, _user_id: i64, _room: &str, note: Note) {
        let _ = self.notes.send(note);
    }

    fn post<'a>(
        &'a self,
        _user_id: i64,
        _room: &'a str,
        reply: Reply,
    ) -> BoxFuture<'a, Result<(), CompanionError>> {
        let _ = self.posts.send(reply);
        Box::pin(async { Ok(()) })
    }
}

struct Bench {
    companion: Companion,
    model: Arc<Scripted>,
    notes: mpsc::UnboundedReceiver<Note>,
    posts: mpsc::UnboundedReceiver<Reply>,
    store: Store,
    hands: crate::clock::ManualClock,
    key: SecretKey,
    _dir: tempfile::TempDir,
    url: String,
}

fn settings() -> CompanionSettings {
    CompanionSettings {
        free_messages: 3,
        messages_per_minute: 100,
        concurrency: 1,
        queue: 4,
        memory_turns: 20,
        context_chars: 8000,
        max_reply_chars: 500,
        max_tokens: 100,
        temperature: 0.5,
        request_timeout: Duration::from_secs(120),
        first_token_timeout: Duration::from_secs(30),
    }
}

impl Bench {
    async fn new(settings: CompanionSettings) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("parlor.db").display());
        let store = Store::connect(&url).await.unwrap();
        for name in ["alice", "bob"] {
            store
                .users()
                .create(NewUser {
                    name,
                    name_key: name,
                    email: None,
                    password_hash: Some("x"),
                    key_hash: None,
                    role: Role::User,
                    created_at: 0,
                })
                .await
                .unwrap();
        }
        Self::over(store, dir, url, settings)
    }

    fn over(
        store: Store,
        dir: tempfile::TempDir,
        url: String,
        settings: CompanionSettings,
    ) -> Self {
        let (clock, hands) = Clock::manual();
        let (notes_tx, notes) = mpsc::unbounded_channel();
        let (posts_tx, posts) = mpsc::unbounded_channel();
        let model = Arc::new(Scripted::default());
        let companion = Companion::new(CompanionParts {
            settings,
            persona: Persona::load(None, "Violet").unwrap(),
            model: Arc::clone(&model) as Arc<dyn Model>,
            outlet: Arc::new(Recorder {
                notes: notes_tx,
                posts: posts_tx,
            }),
            premium: Arc::new(NoPremium),
            store: store.clone(),
            clock,
        });
        Self {
            companion,
            model,
            notes,
            posts,
            store,
            hands,
            key: SecretKey::from_bytes([7; 32]),
            _dir: dir,
            url,
        }
    }

    fn script(&self, script: Script) {
        self.model.scripts.lock().unwrap().push_back(script);
    }

    async fn ask(&self, user: i64, text: &str) -> Result<Asked, CompanionError> {
        self.companion
            .ask(Asker::User(user), "pm:1:3", self.key.clone(), text)
            .await
    }

    fn prompts(&self) -> Vec<Vec<Turn>> {
        self.model.prompts.lock().unwrap().clone()
    }
}

fn texts(turns: &[Turn]) -> Vec<(Speaker, &str)> {
    turns.iter().map(|t| (t.speaker, t.text.as_str())).collect()
}

#[tokio::test]
async fn a_reply_streams_in_pieces_then_is_posted_under_the_same_id() {
    let mut bench = Bench::new(settings()).await;
    bench.script(Script::Say(vec!["Hello ", "@everyone", "!"]));
    let Asked::Coming { reply_id } = bench.ask(1, "hi").await.unwrap() else {
        panic!("a reply should be coming");
    };
    let posted = bench.posts.recv().await.unwrap();
    assert_eq!(posted.reply_id, reply_id);
    assert!(!posted.fallback);
    assert_eq!(
        posted.text, "Hello @\u{2060}everyone!",
        "the mention is neutralised"
    );
    let mut notes = Vec::new();
    while let Ok(note) = bench.notes.try_recv() {
        notes.push(note);
    }
    // Each piece starts where the ones before it end.
    let streamed = std::cell::Cell::new(0);
    let delta = |text: &str| {
        let at = streamed.get();
        streamed.set(at + text.encode_utf16().count());
        Note::Delta {
            reply_id: reply_id.clone(),
            text: text.into(),
            at,
        }
    };
    assert_eq!(
        notes,
        [
            Note::Typing { active: true },
            delta("Hello "),
            delta("@everyone"),
            delta("!"),
            Note::Typing { active: false },
        ]
    );
    let prompt = &bench.prompts()[0];
    assert_eq!(prompt[0].speaker, Speaker::System);
    assert!(prompt[0].text.starts_with("You are Violet"));
    assert_eq!(texts(&prompt[1..]), [(Speaker::User, "hi")]);
}

#[tokio::test]
async fn the_model_hears_the_remembered_turns_in_order_until_reset() {
    let mut bench = Bench::new(CompanionSettings {
        free_messages: 10,
        memory_turns: 4,
        ..settings()
    })
    .await;
    for (question, answer) in [("one", "1"), ("two", "2"), ("three", "3")] {
        bench.script(Script::Say(vec![answer]));
        bench.ask(1, question).await.unwrap();
        bench.posts.recv().await.unwrap();
    }
    let prompts = bench.prompts();
    assert_eq!(
        texts(&prompts[2][1..]),
        [
            (Speaker::User, "one"),
            (Speaker::Assistant, "1"),
            (Speaker::User, "two"),
            (Speaker::Assistant, "2"),
            (Speaker::User, "three"),
        ]
    );
    // Another user's memory is their own.
    bench.script(Script::Say(vec!["hey"]));
    bench.ask(2, "hello").await.unwrap();
    bench.posts.recv().await.unwrap();
    assert_eq!(texts(&bench.prompts()[3][1..]), [(Speaker::User, "hello")]);
    // The window keeps 4 turns: "one" and its answer are gone.
    bench.script(Script::Say(vec!["ok"]));
    bench.ask(1, "four").await.unwrap();
    bench.posts.recv().await.unwrap();
    assert_eq!(
        texts(&bench.prompts()[4][1..3]),
        [(Speaker::User, "two"), (Speaker::Assistant, "2")]
    );

    assert_eq!(bench.ask(1, "/reset").await.unwrap(), Asked::Forgotten);
    assert_eq!(bench.posts.recv().await.unwrap().text, FORGOTTEN);
    bench.script(Script::Say(vec!["fresh"]));
    bench.ask(1, "again").await.unwrap();
    bench.posts.recv().await.unwrap();
    assert_eq!(texts(&bench.prompts()[5][1..]), [(Speaker::User, "again")]);
}

#[tokio::test]
async fn the_trial_ends_after_the_free_messages_and_survives_a_restart() {
    let mut bench = Bench::new(CompanionSettings {
        free_messages: 2,
        ..settings()
    })
    .await;
    for _ in 0..2 {
        bench.script(Script::Say(vec!["sure"]));
        assert!(matches!(
            bench.ask(1, "q").await.unwrap(),
            Asked::Coming { .. }
        ));
        bench.posts.recv().await.unwrap();
    }
    bench.script(Script::Say(vec!["never"]));
    assert_eq!(bench.ask(1, "q").await.unwrap(), Asked::LimitReached);
    assert!(std::iter::from_fn(|| bench.notes.try_recv().ok())
        .any(|n| n == Note::LimitReached { free_messages: 2 }));
    assert_eq!(bench.prompts().len(), 2, "the model was not asked");

    let Bench {
        store, _dir, url, ..
    } = bench;
    store.close().await;
    let store = Store::connect(&url).await.unwrap();
    let again = Bench::over(
        store,
        _dir,
        url,
        CompanionSettings {
            free_messages: 2,
            ..settings()
        },
    );
    assert_eq!(again.ask(1, "q").await.unwrap(), Asked::LimitReached);
    assert_eq!(again.store.ai_usage().used(1).await.unwrap(), 2);
}

#[tokio::test]
async fn memory_survives_a_restart() {
    let mut bench = Bench::new(CompanionSettings {
        free_messages: 10,
        ..settings()
    })
    .await;
    bench.script(Script::Say(vec!["Noted: blue."]));
    bench.ask(1, "my favourite colour is blue").await.unwrap();
    bench.posts.recv().await.unwrap();

    let Bench {
        store, _dir, url, ..
    } = bench;
    store.close().await;
    let store = Store::connect(&url).await.unwrap();
    let mut again = Bench::over(
        store,
        _dir,
        url,
        CompanionSettings {
            free_messages: 10,
            ..settings()
        },
    );
    again.script(Script::Say(vec!["Blue."]));
    again.ask(1, "what is my favourite colour?").await.unwrap();
    again.posts.recv().await.unwrap();
    assert_eq!(
        texts(&again.prompts()[0][1..]),
        [
            (Speaker::User, "my favourite colour is blue"),
            (Speaker::Assistant, "Noted: blue."),
            (Speaker::User, "what is my favourite colour?"),
        ]
    );
}

#[tokio::test]
async fn a_guest_gets_the_sign_up_prompt_and_nothing_is_counted() {
    let bench = Bench::new(settings()).await;
    let asked = bench
        .companion
        .ask(Asker::Guest, "pm:1:3", bench.key.clone(), "hi")
        .await
        .unwrap();
    assert_eq!(asked, Asked::SignUp);
    assert!(bench.prompts().is_empty());
}

#[tokio::test]
async fn a_full_line_and_a_second_message_in_flight_are_busy_at_once() {
    let bench = Bench::new(CompanionSettings {
        queue: 0,
        ..settings()
    })
    .await;
    bench.script(Script::Hang);
    assert!(matches!(
        bench.ask(1, "q").await.unwrap(),
        Asked::Coming { .. }
    ));
    assert!(matches!(bench.ask(1, "q").await, Err(CompanionError::Busy)));
    assert!(matches!(bench.ask(2, "q").await, Err(CompanionError::Busy)));
    assert_eq!(CompanionError::Busy.code().as_str(), "ai_busy");
    bench.companion.shutdown().await;
}

#[tokio::test]
async fn a_waiting_request_is_told_its_place() {
    let mut bench = Bench::new(settings()).await;
    bench.script(Script::Hang);
    bench.script(Script::Say(vec!["later"]));
    bench.ask(1, "q").await.unwrap();
    assert_eq!(
        bench.notes.recv().await,
        Some(Note::Typing { active: true })
    );
    let Asked::Coming { reply_id } = bench.ask(2, "q").await.unwrap() else {
        panic!("queued");
    };
    assert_eq!(
        bench.notes.recv().await,
        Some(Note::Queued {
            reply_id,
            position: 1
        })
    );
    // The first hangs until its first-token timeout, then the second runs. Its timeout starts
    // when the model is asked: the clock moves only after that.
    while bench.prompts().is_empty() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    bench.hands.advance(Duration::from_secs(30));
    assert!(bench.posts.recv().await.unwrap().fallback);
    assert_eq!(bench.posts.recv().await.unwrap().text, "later");
}

#[tokio::test]
async fn the_breaker_opens_after_failures_and_the_fallback_is_free() {
    let mut bench = Bench::new(CompanionSettings {
        free_messages: 10,
        ..settings()
    })
    .await;
    for _ in 0..3 {
        bench.script(Script::Fail);
        bench.ask(1, "q").await.unwrap();
        let reply = bench.posts.recv().await.unwrap();
        assert!(reply.fallback);
        assert_eq!(reply.text, FALLBACK);
    }
    assert!(bench.companion.is_failing());
    bench.script(Script::Say(vec!["back"]));
    bench.ask(1, "q").await.unwrap();
    assert!(
        bench.posts.recv().await.unwrap().fallback,
        "open: not asked"
    );
    assert_eq!(bench.prompts().len(), 3);
    assert_eq!(
        bench.store.ai_usage().used(1).await.unwrap(),
        0,
        "fallbacks are free"
    );

    bench.hands.advance(COOL_OFF);
    bench.ask(1, "q").await.unwrap();
    let reply = bench.posts.recv().await.unwrap();
    assert_eq!(reply.text, "back", "the probe got through and closed it");
    assert!(!bench.companion.is_failing());
}

#[tokio::test]
async fn a_hanging_model_gets_the_fallback_after_the_request_timeout() {
    let mut bench = Bench::new(settings()).await;
    // A model that sent a first piece and then hangs is cut at the request timeout.
    struct Stalls;
    impl Model for Stalls {
        fn stream<'a>(
            &'a self,
            _prompt: &'a Prompt,
        ) -> BoxFuture<'a, Result<ReplyStream, ProviderError>> {
            Box::pin(async {
                let first = futures_util::stream::iter([Ok("thinking".to_owned())]);
                let stream = first.chain(futures_util::stream::pending());
                Ok(Box::pin(stream) as ReplyStream)
            })
        }
    }
    bench.companion = Companion::new(CompanionParts {
        settings: settings(),
        persona: Persona::load(None, "Violet").unwrap(),
        model: Arc::new(Stalls),
        outlet: Arc::new(Recorder {
            notes: {
                let (tx, rx) = mpsc::unbounded_channel();
                bench.notes = rx;
                tx
            },
            posts: {
                let (tx, rx) = mpsc::unbounded_channel();
                bench.posts = rx;
                tx
            },
        }),
        premium: Arc::new(NoPremium),
        store: bench.store.clone(),
        clock: {
            let (clock, hands) = Clock::manual();
            bench.hands = hands;
            clock
        },
    });
    bench.ask(1, "q").await.unwrap();
    // The first piece came: both timeouts are running, and the clock may move.
    while !matches!(bench.notes.recv().await, Some(Note::Delta { .. }) | None) {}
    bench.hands.advance(Duration::from_secs(60));
    assert!(
        tokio::time::timeout(Duration::from_millis(200), bench.posts.recv())
            .await
            .is_err(),
        "past the first token, only the request timeout counts"
    );
    bench.hands.advance(Duration::from_secs(60));
    assert!(bench.posts.recv().await.unwrap().fallback);
}

#[tokio::test]
async fn memory_is_not_in_the_clear_in_the_database_file() {
    let mut bench = Bench::new(settings()).await;
    bench.script(Script::Say(vec!["reply-canary-5ab1"]));
    bench.ask(1, "question-canary-77f3").await.unwrap();
    bench.posts.recv().await.unwrap();
    assert_eq!(bench.store.ai_memory().of(1).await.unwrap().len(), 2);
    bench.store.close().await;
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(bench._dir.path()).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let haystack = String::from_utf8_lossy(&bytes);
    assert!(!haystack.contains("canary"));
}

#[tokio::test]
async fn the_per_user_rate_limit_refuses_with_a_retry_after() {
    let mut bench = Bench::new(CompanionSettings {
        messages_per_minute: 1,
        ..settings()
    })
    .await;
    bench.script(Script::Say(vec!["a"]));
    bench.ask(1, "q").await.unwrap();
    bench.posts.recv().await.unwrap();
    let refused = bench.ask(1, "q").await.unwrap_err();
    assert_eq!(refused.code().as_str(), "rate_limited");
    assert_eq!(refused.retry_after(), Some(60));
    bench.hands.advance(Duration::from_secs(60));
    bench.script(Script::Say(vec!["b"]));
    assert!(bench.ask(1, "q").await.is_ok());
}
