//! Shared helpers for the integration tests: spawn the real server on a random port (SQLite in
//! a temporary directory, or a fresh PostgreSQL database when `PARLOR_TEST_POSTGRES_URL` is
//! set) and talk to it as clients do, over HTTP and WebSocket.
#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use parlor::app::Server;
use parlor::config::{Config, Secret};
use serde_json::{json, Value};
use sqlx::Connection;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

/// How long a test waits for something that should happen.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A running server and what it takes to stop it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub config: Config,
    stop: CancellationToken,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

/// Spawns a server with test defaults.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns a server after `adjust` has changed its configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut config = test_config(dir.path()).await;
    adjust(&mut config);
    let server = Server::build(config.clone()).await.expect("server builds");
    let addr = server.local_addr();
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let handle = tokio::spawn(server.run(async move { signal.cancelled().await }));
    TestApp {
        addr,
        config,
        stop,
        server: Some(handle),
        _dir: dir,
    }
}

/// A configuration on loopback port 0 with its own data directory and database.
pub async fn test_config(dir: &std::path::Path) -> Config {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        shutdown_grace_secs: 3,
        ..Config::default()
    };
    if let Ok(base) = std::env::var("PARLOR_TEST_POSTGRES_URL") {
        config.database_url = Some(Secret::new(fresh_postgres_database(&base).await));
    }
    config
}

/// Creates an empty database next to `base` and returns its URL.
async fn fresh_postgres_database(base: &str) -> String {
    let name = format!("parlor_test_{}", uuid_like());
    let mut conn = sqlx::PgConnection::connect(base)
        .await
        .expect("PostgreSQL reachable");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let (prefix, _) = base.rsplit_once('/').expect("URL with a database name");
    format!("{prefix}/{name}")
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Whether the storage-touching tests run against PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("PARLOR_TEST_POSTGRES_URL").is_ok()
}

/// A unique valid name with a readable prefix.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}{}",
        N.fetch_add(1, Ordering::Relaxed) + u64::from(std::process::id() % 1000) * 1000
    )
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// An HTTP client that keeps cookies, like a browser.
    pub fn http(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap()
    }

    pub async fn post(&self, client: &reqwest::Client, path: &str, body: Value) -> (u16, Value) {
        let response = client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, client: &reqwest::Client, path: &str) -> (u16, Value) {
        let response = client.get(self.url(path)).send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Creates a guest over REST and returns its session token.
    pub async fn guest_token(&self, nick: &str) -> String {
        let (status, body) = self
            .post(&self.http(), "/api/guest", json!({ "nick": nick }))
            .await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// Registers a password account and returns its session token.
    pub async fn user_token(&self, name: &str, password: &str) -> String {
        let body = json!({ "username": name, "password": password });
        let (status, body) = self.post(&self.http(), "/api/register", body).await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// A native `/gateway` connection, not yet identified.
    pub async fn gateway(&self) -> WsClient {
        self.websocket("/gateway", &[]).await.expect("upgrade")
    }

    /// A native connection identified as a new guest and joined to the lobby.
    pub async fn lobby_guest(&self, nick: &str) -> WsClient {
        let mut client = self.gateway().await;
        let ack = client.request("identify", json!({ "nick": nick })).await;
        assert_eq!(ack["ok"], true, "{ack}");
        client.join_lobby().await;
        client
    }

    /// Opens a WebSocket with extra headers; `Err` carries the refusal's status and body.
    pub async fn websocket(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<WsClient, (u16, Value)> {
        let mut request = format!("ws://{}{path}", self.addr)
            .into_client_request()
            .unwrap();
        for (name, value) in headers {
            request.headers_mut().insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, _)) => Ok(WsClient {
                stream,
                next_ack: 1,
                pending: VecDeque::new(),
            }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let status = response.status().as_u16();
                let body = response
                    .body()
                    .as_ref()
                    .and_then(|b| serde_json::from_slice(b).ok())
                    .unwrap_or(Value::Null);
                Err((status, body))
            }
            Err(other) => panic!("websocket connect failed: {other}"),
        }
    }

    /// Stops the server and starts a new one over the same data (on a new port).
    pub async fn restart(&mut self) {
        self.stop().await.expect("the server stops cleanly");
        let server = Server::build(self.config.clone())
            .await
            .expect("the server builds again");
        self.addr = server.local_addr();
        self.stop = CancellationToken::new();
        let signal = self.stop.clone();
        self.server = Some(tokio::spawn(
            server.run(async move { signal.cancelled().await }),
        ));
    }

    /// Stops the server as a signal would and waits for it to finish.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        self.stop.cancel();
        match self.server.take() {
            Some(handle) => tokio::time::timeout(PATIENCE, handle)
                .await
                .expect("server stops in time")
                .expect("joins"),
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A WebSocket client speaking the native envelope (or raw frames, for `/ws`).
pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_ack: u64,
    /// Frames read while waiting for something else.
    pending: VecDeque<Value>,
}

impl WsClient {
    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::Text(text.into()))
            .await
            .expect("send");
    }

    pub async fn send_json(&mut self, value: Value) {
        self.send_text(&value.to_string()).await;
    }

    /// Sends a command with a fresh ack id and returns the ack (`{"ack","ok",…}`).
    pub async fn request(&mut self, event: &str, data: Value) -> Value {
        let ack = self.next_ack;
        self.next_ack += 1;
        self.send_json(json!({ "event": event, "data": data, "ack": ack }))
            .await;
        self.frame_where(|f| f["ack"] == ack).await
    }

    /// Sends a command and asserts it failed with `code`.
    pub async fn expect_error(&mut self, event: &str, data: Value, code: &str) {
        let ack = self.request(event, data).await;
        assert_eq!(ack["ok"], false, "{event} should fail: {ack}");
        assert_eq!(ack["error"]["code"], code, "{ack}");
    }

    pub async fn join_lobby(&mut self) -> Value {
        let ack = self.request("join", json!({ "room": "lobby" })).await;
        assert_eq!(ack["ok"], true, "{ack}");
        ack["data"].clone()
    }

    pub async fn say(&mut self, text: &str) -> Value {
        let ack = self
            .request("send", json!({ "room": "lobby", "text": text }))
            .await;
        assert_eq!(ack["ok"], true, "{ack}");
        ack["data"].clone()
    }

    /// The data of the next event called `name` (earlier frames of other kinds are kept).
    pub async fn event(&mut self, name: &str) -> Value {
        self.frame_where(|f| f["event"] == name).await["data"].clone()
    }

    /// The next frame matching `wanted`, within [`PATIENCE`].
    pub async fn frame_where(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&wanted) {
            return self.pending.remove(i).unwrap();
        }
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.next_frame())
                .await
                .expect("timed out waiting for a frame")
                .expect("connection closed while waiting for a frame");
            if wanted(&frame) {
                return frame;
            }
            self.pending.push_back(frame);
        }
    }

    /// Asserts that no frame matching `unwanted` arrives within `wait`.
    pub async fn assert_no_frame(&mut self, wait: Duration, unwanted: impl Fn(&Value) -> bool) {
        assert!(
            !self.pending.iter().any(&unwanted),
            "unexpected frame already received"
        );
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Some(frame)) = tokio::time::timeout_at(deadline, self.next_frame()).await {
            assert!(!unwanted(&frame), "unexpected frame: {frame}");
            self.pending.push_back(frame);
        }
    }

    /// The next JSON text frame; `None` when the connection closed.
    pub async fn next_frame(&mut self) -> Option<Value> {
        loop {
            match self.stream.next().await? {
                Ok(Message::Text(text)) => {
                    return Some(serde_json::from_str(&text).expect("JSON frame"))
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Waits until the server closes the connection; returns the frames received meanwhile.
    pub async fn until_closed(&mut self) -> Vec<Value> {
        let mut frames: Vec<Value> = self.pending.drain(..).collect();
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while let Some(frame) = tokio::time::timeout_at(deadline, self.next_frame())
            .await
            .expect("server closes the connection")
        {
            frames.push(frame);
        }
        frames
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}

/// A REST caller holding a bearer token.
pub struct Caller<'a> {
    pub app: &'a TestApp,
    pub token: String,
    http: reqwest::Client,
}

impl TestApp {
    /// Registers a password account and returns a REST caller for it.
    pub async fn caller(&self, name: &str) -> Caller<'_> {
        let token = self.user_token(name, "correct horse battery").await;
        Caller {
            app: self,
            token,
            http: reqwest::Client::new(),
        }
    }

    /// A native connection identified by a session token.
    pub async fn gateway_as(&self, token: &str) -> WsClient {
        let mut client = self.gateway().await;
        let ack = client.request("identify", json!({ "token": token })).await;
        assert_eq!(ack["ok"], true, "{ack}");
        client
    }
}

impl<'a> Caller<'a> {
    /// A REST caller for a token obtained elsewhere (a login).
    pub fn with_token(app: &'a TestApp, token: &str) -> Self {
        Caller {
            app,
            token: token.to_owned(),
            http: reqwest::Client::new(),
        }
    }
    /// Sends a request; returns the status and the JSON body (`null` when there is none).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, self.app.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Creates a room and asserts it was created.
    pub async fn create_room(&self, slug: &str, private: bool) -> Value {
        let body = json!({ "slug": slug, "private": private });
        let (status, room) = self.call("POST", "/api/rooms", Some(body)).await;
        assert_eq!(status, 201, "{room}");
        room
    }

    /// Posts a message over REST and returns the `Posted` body.
    pub async fn say_in(&self, slug: &str, text: &str) -> Value {
        let path = format!("/api/rooms/{slug}/messages");
        let (status, posted) = self
            .call("POST", &path, Some(json!({ "text": text })))
            .await;
        assert_eq!(status, 201, "{posted}");
        posted
    }

    /// The caller's user name.
    pub async fn name(&self) -> String {
        let (_, me) = self.call("GET", "/api/user/@me", None).await;
        me["username"].as_str().unwrap().to_owned()
    }

    /// A native connection identified as this caller.
    pub async fn gateway(&self) -> WsClient {
        self.app.gateway_as(&self.token).await
    }
}

/// A direct connection to the app's database, to check what is (not) stored.
pub async fn database(app: &TestApp) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&app.config.database_url())
        .await
        .expect("database reachable")
}

pub async fn count_rows(db: &sqlx::AnyPool, table: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(db)
        .await
        .expect("count");
    n
}
