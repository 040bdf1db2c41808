//! Shared helpers for the integration tests: spawn the real server on a random port (SQLite in
//! a temporary directory, or a fresh PostgreSQL database when `PARLOR_TEST_POSTGRES_URL` is
//! set) and talk to it as clients do, over HTTP and WebSocket.
//!
//! - `protocol`: the acks, events and REST bodies as typed structs (strict: unknown fields fail);
//! - `http`: the one HTTP request helper ([`TestApp::request`] → [`Reply`]);
//! - `ws`: the WebSocket client ([`WsClient`]), typed events and close codes;
//! - `accounts`: callers with a session, the root account, two users at once;
//! - `binary`: the `parlor` binary run as a process (`serve`, `keys rotate`);
//! - `process`: the binary started as an operator starts it;
//! - `redis`: a throwaway `redis-server` for the multi-node tests;
//! - `postgres`: a PostgreSQL server of one test's own, to restart;
//! - `cluster`: several nodes sharing one database and Redis, and exactly-once checks;
//! - `fake_model`: a scripted model server (Ollama and OpenAI streaming) for the AI companion.
#![allow(dead_code)]

pub mod accounts;
pub mod binary;
pub mod cluster;
pub mod e2e;
pub mod fake_model;
pub mod http;
pub mod postgres;
pub mod process;
pub mod protocol;
pub mod redis;
pub mod ws;

#[allow(unused_imports)]
pub use accounts::{with_root, Caller, PASSWORD, ROOT_PASSWORD};
#[allow(unused_imports)]
pub use http::{Reply, Request};
#[allow(unused_imports)]
pub use ws::{Closed, Framing, WsClient};

use parlor::app::Server;
use parlor::clock::{Clock, ManualClock};
use parlor::config::{Config, Secret};
use protocol::{ErrorResponse, Session};
use serde_json::{json, Value};
use sqlx::Connection;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_util::sync::CancellationToken;

/// How long a test waits for something that should happen.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A running server and what it takes to stop it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub config: Config,
    /// The server's clock: it only moves when a test moves it (`app.clock.advance(..)`), so
    /// bans, sessions, invites, throttles and timers run out exactly when the test says.
    pub clock: ManualClock,
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
    let (clock, hand) = Clock::manual();
    let server = Server::build_with_clock(config.clone(), clock)
        .await
        .expect("server builds");
    let addr = server.local_addr();
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let handle = tokio::spawn(server.run(async move { signal.cancelled().await }));
    TestApp {
        addr,
        config,
        clock: hand,
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
        // Cheap password hashing: the suite hashes hundreds of passwords, and what it tests
        // is the rules around hashing, not argon2's cost (production keeps OWASP's minimum).
        argon2_memory_kib: 64,
        argon2_iterations: 1,
        argon2_parallelism: 1,
        ..Config::default()
    };
    if let Ok(base) = std::env::var("PARLOR_TEST_POSTGRES_URL") {
        config.database_url = Some(Secret::new(fresh_postgres_database(&base).await));
    }
    if let Ok(endpoint) = std::env::var("PARLOR_TEST_S3_ENDPOINT") {
        let bucket = format!("parlor-test-{}", uuid_like().replace('_', "-"));
        fresh_bucket(&endpoint, &bucket).await;
        config.object_store_url = Some(format!("s3://{bucket}/files"));
        config.s3_endpoint = Some(endpoint);
        config.s3_region = Some("us-east-1".into());
        config.s3_access_key_id = Some(Secret::new("parlor-test"));
        config.s3_secret_access_key = Some(Secret::new("parlor-test-secret"));
        config.s3_allow_http = true;
    }
    config
}

/// Whether files go to the S3-compatible server `scripts/test` started (else a directory).
pub fn on_s3() -> bool {
    std::env::var("PARLOR_TEST_S3_ENDPOINT").is_ok()
}

/// Creates an empty bucket on the test S3 server (it takes any credentials).
async fn fresh_bucket(endpoint: &str, bucket: &str) {
    let url = format!("{}/{bucket}", endpoint.trim_end_matches('/'));
    let status = reqwest::Client::new()
        .put(&url)
        .send()
        .await
        .expect("S3 server reachable")
        .status();
    assert!(status.is_success(), "creating bucket {bucket}: {status}");
}

/// Creates an empty database next to `base` and returns its URL.
pub async fn fresh_postgres_database(base: &str) -> String {
    let name = format!("parlor_test_{}", uuid_like());
    // From `template0`, which nothing may connect to: `CREATE DATABASE` refuses a template
    // another session is connected to ("being accessed by other users"), and autovacuum
    // visits `template1` now and then. A refusal is retried a few times, and the last one
    // says what PostgreSQL answered.
    let mut last = String::new();
    for attempt in 0..5u64 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
        }
        let mut conn = match sqlx::PgConnection::connect(base).await {
            Ok(conn) => conn,
            Err(err) => {
                last = format!("PostgreSQL not reachable: {err}");
                continue;
            }
        };
        let created = sqlx::query(&format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"
        ))
        .execute(&mut conn)
        .await;
        let _ = conn.close().await;
        match created {
            Ok(_) => {
                let (prefix, _) = base.rsplit_once('/').expect("URL with a database name");
                return format!("{prefix}/{name}");
            }
            Err(err) => last = format!("creating test database {name}: {err}"),
        }
    }
    panic!("{last}");
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

    /// Creates a guest over REST and returns its session token.
    pub async fn guest_token(&self, nick: &str) -> String {
        let session: Session = self
            .request("POST", "/api/guest")
            .json(json!({ "nick": nick }))
            .send()
            .await
            .expect(201);
        assert_eq!(session.user.username, nick);
        session.token
    }

    /// Registers a password account and returns its session token.
    pub async fn user_token(&self, name: &str, password: &str) -> String {
        let session: Session = self
            .request("POST", "/api/register")
            .json(json!({ "username": name, "password": password }))
            .send()
            .await
            .expect(201);
        assert_eq!(session.user.username, name);
        session.token
    }

    /// `POST /api/login` by name (or e-mail) and password, as it answers.
    pub async fn login(&self, name: &str, password: &str) -> Reply {
        self.request("POST", "/api/login")
            .json(json!({ "username": name, "password": password }))
            .send()
            .await
    }

    /// Logs in, asserting success, and returns the session.
    pub async fn session(&self, name: &str, password: &str) -> Session {
        self.login(name, password).await.expect(200)
    }

    /// A native `/gateway` connection, not yet identified.
    /// Clients online now (`GET /api/online`).
    pub async fn online_count(&self) -> usize {
        let online: protocol::Online = self.request("GET", "/api/online").send().await.expect(200);
        online.online_clients.len()
    }

    /// Waits until exactly `wanted` clients are online (the server drops connections on its
    /// own time).
    pub async fn until_online(&self, wanted: usize) {
        eventually(|| async {
            match self.online_count().await {
                n if n == wanted => Ok(()),
                n => Err(format!("{n} online, {wanted} wanted")),
            }
        })
        .await;
    }

    pub async fn gateway(&self) -> WsClient {
        self.websocket("/gateway", &[]).await.expect("upgrade")
    }

    /// A native connection identified as a new guest and joined to the lobby.
    pub async fn lobby_guest(&self, nick: &str) -> WsClient {
        let mut client = self.gateway().await;
        let identified = client.identify(json!({ "nick": nick })).await;
        assert_eq!(identified.user.name, nick);
        client.join_lobby().await;
        client
    }

    /// A native connection identified by a session token.
    pub async fn gateway_as(&self, token: &str) -> WsClient {
        let mut client = self.gateway().await;
        client.identify(json!({ "token": token })).await;
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
        let framing = if path == "/ws" {
            Framing::Simple
        } else {
            Framing::Native
        };
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, _)) => Ok(WsClient::new(stream, framing)),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let status = response.status().as_u16();
                let body = response.body().as_deref().unwrap_or_default();
                let body = serde_json::from_slice(body).unwrap_or_else(|e| {
                    panic!(
                        "a refused upgrade ({status}) explains itself in JSON, not {:?}: {e}",
                        String::from_utf8_lossy(body)
                    )
                });
                Err((status, body))
            }
            Err(other) => panic!("websocket connect failed: {other}"),
        }
    }

    /// Asserts that an upgrade is refused with exactly `status` and `code`.
    pub async fn websocket_refused(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        status: u16,
        code: &str,
    ) {
        let Err((got, body)) = self.websocket(path, headers).await else {
            panic!("{path} {headers:?} should be refused with {status} {code}");
        };
        let ErrorResponse { error } = protocol::from_value(body);
        assert_eq!((got, error.code.as_str()), (status, code), "{error:?}");
        assert!(!error.message.is_empty());
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

/// Polls `check` until it returns `Ok`, for up to [`PATIENCE`]; fails with the last `Err`.
/// For conditions the server reaches on its own (a connection's slot freed, batched audit
/// writes), instead of sleeping a guessed while.
pub async fn eventually<T, F, Fut>(mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match check().await {
            Ok(done) => return done,
            Err(last) if tokio::time::Instant::now() >= deadline => {
                panic!("not within {PATIENCE:?}: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
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
