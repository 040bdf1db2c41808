//! A scripted model server for the AI companion's tests: an in-process HTTP server on a random
//! loopback port that speaks Ollama's `/api/chat` (NDJSON) and OpenAI's
//! `/v1/chat/completions` (server-sent events), both streaming.
//!
//! Each request takes the next [`Script`] from a queue ([`FakeModel::push`]); with the queue
//! empty it answers [`canned_reply`], which names the request's number and the length of its
//! last user message, so tests can tell replies apart. Every request is recorded
//! ([`FakeModel::requests`]: path, `Authorization`, the JSON body with accessors that read both
//! formats alike) before its script runs, and requests in flight are counted, with the most
//! seen at once, for the concurrency limits.
//!
//! Nothing here sleeps to synchronise: a test that needs a reply to stop half-way holds it on a
//! [`Gate`] and opens it, and waits for requests with [`FakeModel::wait_for_requests`] /
//! [`FakeModel::wait_for_in_flight`]. The only delays are [`Script::Slow`]'s, which are the
//! behaviour under test. A reply that hangs ends when the client goes away.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use parlor::config::AiProvider;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the fake does with one request. Streaming scripts begin as the format does (OpenAI's
/// role-only chunk) and end with its end marker (`"done":true`, `data: [DONE]`) unless the
/// script says otherwise.
#[derive(Clone, Debug)]
pub enum Script {
    /// Streams these pieces at once, then the end marker.
    Answer(Vec<String>),
    /// Streams these pieces, waiting `delay` before each.
    Slow {
        pieces: Vec<String>,
        delay: Duration,
    },
    /// Streams `before`, waits until `gate` opens, then `after` and the end marker.
    Hold {
        before: Vec<String>,
        gate: Gate,
        after: Vec<String>,
    },
    /// Streams these pieces (none: hangs before the first token), then nothing, forever.
    HangAfter(Vec<String>),
    /// Answers this status with a JSON error body that quotes the last user message (as real
    /// servers sometimes do), without streaming.
    Status(u16),
    /// Streams these pieces, then a chunk that is not valid JSON, then the end marker.
    Malformed(Vec<String>),
    /// Streams these pieces, then the format's error object, and ends.
    ModelError(Vec<String>),
    /// Streams these pieces and ends the body cleanly, without the end marker.
    Truncated(Vec<String>),
    /// Streams these pieces and breaks the connection (no end of the chunked body).
    Drop(Vec<String>),
    /// Answers `302 Found` with this `Location`.
    Redirect(String),
}

impl Script {
    pub fn answer(pieces: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self::Answer(strings(pieces))
    }

    pub fn slow(pieces: impl IntoIterator<Item = impl Into<String>>, delay: Duration) -> Self {
        Self::Slow {
            pieces: strings(pieces),
            delay,
        }
    }

    pub fn hold(
        before: impl IntoIterator<Item = impl Into<String>>,
        gate: &Gate,
        after: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self::Hold {
            before: strings(before),
            gate: gate.clone(),
            after: strings(after),
        }
    }

    /// Headers, then nothing: the first token never comes.
    pub fn hang() -> Self {
        Self::HangAfter(Vec::new())
    }

    pub fn hang_after(pieces: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self::HangAfter(strings(pieces))
    }
}

fn strings(pieces: impl IntoIterator<Item = impl Into<String>>) -> Vec<String> {
    pieces.into_iter().map(Into::into).collect()
}

/// The reply of the default script to request number `request` (from 1) whose last user
/// message has `user_chars` characters; streamed a word at a time.
pub fn canned_reply(request: usize, user_chars: usize) -> String {
    format!("Reply {request} to {user_chars} characters.")
}

/// Holds [`Script::Hold`] replies until a test opens it (once open, it stays open).
#[derive(Clone, Debug)]
pub struct Gate(Arc<watch::Sender<bool>>);

impl Default for Gate {
    fn default() -> Self {
        Self::new()
    }
}

impl Gate {
    pub fn new() -> Self {
        Self(Arc::new(watch::Sender::new(false)))
    }

    pub fn open(&self) {
        self.0.send_replace(true);
    }

    async fn opened(&self) {
        // The sender lives in `self`, so this only returns once the gate is open.
        let _ = self.0.subscribe().wait_for(|open| *open).await;
    }
}

/// One request as the fake received it.
#[derive(Clone, Debug)]
pub struct Received {
    /// The format its path asked for (`None`: neither endpoint; answered 404).
    pub provider: Option<AiProvider>,
    pub path: String,
    pub authorization: Option<String>,
    /// The JSON body (`Null` if it was not JSON).
    pub body: Value,
}

impl Received {
    pub fn model(&self) -> Option<&str> {
        self.body["model"].as_str()
    }

    /// `(role, content)` of each message, in the order sent.
    pub fn messages(&self) -> Vec<(String, String)> {
        let messages = self.body["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        messages
            .iter()
            .map(|m| {
                let text = |key: &str| m[key].as_str().unwrap_or_default().to_owned();
                (text("role"), text("content"))
            })
            .collect()
    }

    pub fn last_user_message(&self) -> Option<String> {
        let messages = self.messages().into_iter().rev();
        messages
            .filter(|(role, _)| role == "user")
            .map(|(_, content)| content)
            .next()
    }

    /// `temperature`, wherever the format puts it (Ollama: under `options`).
    pub fn temperature(&self) -> Option<f64> {
        self.sampling("temperature", "temperature")?.as_f64()
    }

    /// The reply's token limit: `max_tokens`, or Ollama's `options.num_predict`.
    pub fn max_tokens(&self) -> Option<u64> {
        self.sampling("max_tokens", "num_predict")?.as_u64()
    }

    pub fn stream(&self) -> Option<bool> {
        self.body["stream"].as_bool()
    }

    fn sampling(&self, openai: &str, ollama: &str) -> Option<&Value> {
        match self.provider? {
            AiProvider::Openai => self.body.get(openai),
            AiProvider::Ollama => self.body.get("options")?.get(ollama),
        }
    }
}

/// The running fake; stops when dropped.
pub struct FakeModel {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

struct Shared {
    scripts: Mutex<VecDeque<Script>>,
    received: Mutex<Vec<Received>>,
    /// Requests received so far.
    count: watch::Sender<usize>,
    /// Requests whose reply is still being written, and the most at once.
    in_flight: watch::Sender<(usize, usize)>,
}

impl FakeModel {
    pub async fn start() -> FakeModel {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the fake model server");
        let addr = listener.local_addr().expect("its address");
        let shared = Arc::new(Shared {
            scripts: Mutex::default(),
            received: Mutex::default(),
            count: watch::Sender::new(0),
            in_flight: watch::Sender::new((0, 0)),
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeModel {
            addr,
            shared,
            server,
        }
    }

    /// The base URL, as `ai_base_url` takes it (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues `script` for the next request that finds no script before it.
    pub fn push(&self, script: Script) {
        self.shared.scripts.lock().unwrap().push_back(script);
    }

    /// Every request so far, in the order received.
    pub fn requests(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Replies being written right now.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.borrow().0
    }

    /// The most replies that were being written at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.in_flight.borrow().1
    }

    /// Waits (up to [`PATIENCE`](super::PATIENCE)) until `n` requests have been received.
    pub async fn wait_for_requests(&self, n: usize) {
        let mut count = self.shared.count.subscribe();
        tokio::time::timeout(super::PATIENCE, count.wait_for(|count| *count >= n))
            .await
            .unwrap_or_else(|_| panic!("{n} requests never reached the fake model server"))
            .expect("the fake model server is running");
    }

    /// Waits (up to [`PATIENCE`](super::PATIENCE)) until exactly `n` replies are in flight.
    pub async fn wait_for_in_flight(&self, n: usize) {
        let mut in_flight = self.shared.in_flight.subscribe();
        tokio::time::timeout(super::PATIENCE, in_flight.wait_for(|(now, _)| *now == n))
            .await
            .unwrap_or_else(|_| panic!("never {n} replies in flight (now {})", self.in_flight()))
            .expect("the fake model server is running");
    }
}

impl Drop for FakeModel {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Counts one reply in flight for as long as it lives (its body holds it).
struct InFlight(Arc<Shared>);

impl InFlight {
    fn enter(shared: &Arc<Shared>) -> Self {
        shared.in_flight.send_modify(|(now, most)| {
            *now += 1;
            *most = (*most).max(*now);
        });
        Self(Arc::clone(shared))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.send_modify(|(now, _)| *now -= 1);
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let provider = match uri.path() {
        "/api/chat" => Some(AiProvider::Ollama),
        "/v1/chat/completions" => Some(AiProvider::Openai),
        _ => None,
    };
    let received = Received {
        provider,
        path: uri.path().to_owned(),
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let guard = InFlight::enter(&shared);
    let last_user = received.last_user_message().unwrap_or_default();
    let number = {
        let mut all = shared.received.lock().unwrap();
        all.push(received);
        all.len()
    };
    shared.count.send_replace(number);
    let Some(provider) = provider else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let script = shared.scripts.lock().unwrap().pop_front();
    let script = script.unwrap_or_else(|| {
        Script::Answer(strings(
            canned_reply(number, last_user.chars().count()).split_inclusive(' '),
        ))
    });
    respond(Wire(provider), script, &last_user, guard)
}

fn respond(wire: Wire, script: Script, last_user: &str, guard: InFlight) -> Response {
    use Step::*;
    let pieces = |pieces: Vec<String>| pieces.into_iter().map(move |p| Chunk(wire.piece(&p)));
    let mut steps: Vec<Step> = wire.start().into_iter().map(Chunk).collect();
    match script {
        Script::Status(code) => {
            let status = StatusCode::from_u16(code).expect("a valid status code");
            let quoted = format!("cannot answer {last_user:?}");
            return (status, axum::Json(wire.error_body(&quoted))).into_response();
        }
        Script::Redirect(location) => {
            return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
        }
        Script::Answer(p) => steps.extend(pieces(p).chain(wire.end())),
        Script::Slow { pieces: p, delay } => {
            for piece in p {
                steps.extend([Pause(delay), Chunk(wire.piece(&piece))]);
            }
            steps.extend(wire.end());
        }
        Script::Hold {
            before,
            gate,
            after,
        } => {
            steps.extend(pieces(before));
            steps.push(Wait(gate));
            steps.extend(pieces(after).chain(wire.end()));
        }
        Script::HangAfter(p) => steps.extend(pieces(p).chain([Hang])),
        Script::Malformed(p) => {
            steps.extend(pieces(p).chain([Chunk(wire.malformed())]).chain(wire.end()))
        }
        Script::ModelError(p) => steps.extend(pieces(p).chain([Chunk(wire.model_error())])),
        Script::Truncated(p) => steps.extend(pieces(p)),
        Script::Drop(p) => steps.extend(pieces(p).chain([Flush, Abort])),
    }
    let body = futures_util::stream::unfold(
        (steps.into_iter(), guard),
        |(mut steps, guard)| async move {
            loop {
                let chunk = match steps.next()? {
                    Chunk(bytes) => Ok(bytes),
                    Pause(delay) => {
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    Wait(gate) => {
                        gate.opened().await;
                        continue;
                    }
                    Flush => {
                        // Pending once: hyper writes out what it holds (the headers with
                        // it), so the client sees the reply start before the break.
                        tokio::task::yield_now().await;
                        continue;
                    }
                    Hang => std::future::pending().await,
                    Abort => Err(std::io::Error::other("scripted connection drop")),
                };
                return Some((chunk, (steps, guard)));
            }
        },
    );
    (
        [(header::CONTENT_TYPE, wire.content_type())],
        Body::from_stream(body),
    )
        .into_response()
}

/// One step of writing a streamed reply.
enum Step {
    Chunk(Bytes),
    Pause(Duration),
    Wait(Gate),
    Flush,
    Hang,
    Abort,
}

/// How each format writes a reply.
#[derive(Clone, Copy)]
struct Wire(AiProvider);

impl Wire {
    fn content_type(self) -> &'static str {
        match self.0 {
            AiProvider::Ollama => "application/x-ndjson",
            AiProvider::Openai => "text/event-stream",
        }
    }

    fn start(self) -> Option<Bytes> {
        match self.0 {
            AiProvider::Ollama => None,
            AiProvider::Openai => Some(sse(json!({
                "id": "chatcmpl-fake", "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": null}],
            }))),
        }
    }

    fn piece(self, text: &str) -> Bytes {
        match self.0 {
            AiProvider::Ollama => ndjson(json!({
                "model": "fake", "created_at": "2024-01-01T00:00:00Z",
                "message": {"role": "assistant", "content": text}, "done": false,
            })),
            AiProvider::Openai => sse(json!({
                "id": "chatcmpl-fake", "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}],
            })),
        }
    }

    fn end(self) -> Vec<Step> {
        match self.0 {
            AiProvider::Ollama => vec![Step::Chunk(ndjson(json!({
                "model": "fake", "message": {"role": "assistant", "content": ""},
                "done": true, "done_reason": "stop",
            })))],
            AiProvider::Openai => vec![
                Step::Chunk(sse(json!({
                    "id": "chatcmpl-fake", "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                }))),
                Step::Chunk(Bytes::from_static(b"data: [DONE]\n\n")),
            ],
        }
    }

    fn malformed(self) -> Bytes {
        match self.0 {
            AiProvider::Ollama => Bytes::from_static(b"{\"message\":{\"content\":\"bro\n"),
            AiProvider::Openai => Bytes::from_static(b"data: {\"choices\":[{\"delta\":\n\n"),
        }
    }

    fn model_error(self) -> Bytes {
        match self.0 {
            AiProvider::Ollama => ndjson(json!({"error": "the fake model crashed"})),
            AiProvider::Openai => sse(json!({
                "error": {"message": "the fake model crashed", "type": "server_error"},
            })),
        }
    }

    fn error_body(self, message: &str) -> Value {
        match self.0 {
            AiProvider::Ollama => json!({"error": message}),
            AiProvider::Openai => {
                json!({"error": {"message": message, "type": "invalid_request_error"}})
            }
        }
    }
}

fn ndjson(value: Value) -> Bytes {
    Bytes::from(format!("{value}\n"))
}

fn sse(value: Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}
