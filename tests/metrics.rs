//! `GET /metrics`: Prometheus text that a real parser reads (the official Python client's,
//! `tests/clients/prometheus_text.py`), counters that move with traffic on every framing, the
//! store's latency, refusals by code, the Redis bus's queue — and nothing for callers outside
//! the admin networks.

mod common;

use common::cluster::cluster;
use common::protocol::{CloseReason, ErrorEvent, MemberJoined};
use common::redis::Redis;
use common::{eventually, spawn_app, spawn_app_with, unique_name, TestApp, WsClient, PATIENCE};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One metric family as the Python parser reads it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Family {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    help: String,
    samples: Vec<Sample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// What one scrape said.
#[derive(Debug)]
struct Scrape(Vec<Family>);

impl Scrape {
    /// The sample named `name` with exactly these labels, if the server exposes it.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let labels: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.0
            .iter()
            .flat_map(|family| &family.samples)
            .find(|s| s.name == name && s.labels == labels)
            .map(|s| s.value)
    }

    /// A sample the server must expose.
    #[track_caller]
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels)
            .unwrap_or_else(|| panic!("no {name}{labels:?} in {:#?}", self.0))
    }

    /// A counter that may not have been created yet (a labelled series appears on first use).
    fn count(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or(0.0)
    }

    fn family(&self, name: &str) -> Option<&Family> {
        self.0.iter().find(|f| f.name == name)
    }
}

/// Scrapes `/metrics` as Prometheus does (no session) and parses the answer.
async fn read_metrics(app: &TestApp) -> Scrape {
    let reply = app.request("GET", "/metrics").send().await;
    reply.expect_status(200);
    assert_eq!(reply.header("content-type"), CONTENT_TYPE);
    parse(reply.body).await
}

/// Parses Prometheus text with the official Python client's parser.
async fn parse(text: String) -> Scrape {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/prometheus_text.py");
    let output = tokio::task::spawn_blocking(move || {
        let mut child = Command::new("python3")
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs (pip install -r tests/clients/requirements.txt)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        (child.wait_with_output().expect("the parser ends"), text)
    })
    .await
    .unwrap();
    let (output, text) = output;
    assert!(
        output.status.success(),
        "the Prometheus parser refused the text: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    Scrape(serde_json::from_slice(&output.stdout).expect("the parser's JSON"))
}

#[tokio::test]
async fn metrics_are_prometheus_text_that_loopback_reads_without_a_session() {
    let app = spawn_app().await;
    let scrape = read_metrics(&app).await;
    for family in &scrape.0 {
        assert!(family.name.starts_with("parlor_"), "{family:?}");
        assert!(
            ["counter", "gauge", "histogram"].contains(&family.kind.as_str()),
            "every sample belongs to a declared family: {family:?}"
        );
        assert!(!family.help.is_empty(), "{family:?}");
    }
    for (name, kind) in [
        ("parlor_build_info", "gauge"),
        ("parlor_start_time_seconds", "gauge"),
        ("parlor_connections_open", "gauge"),
        ("parlor_connections_accepted", "counter"),
        ("parlor_messages", "counter"),
        ("parlor_deliveries", "counter"),
        ("parlor_deliveries_dropped", "counter"),
        ("parlor_outbound_queued", "gauge"),
        ("parlor_outbound_queue_deepest", "gauge"),
        ("parlor_outbound_queue_capacity", "gauge"),
        ("parlor_search_cache_bytes", "gauge"),
        ("parlor_search_cache_rooms", "gauge"),
        ("parlor_store_operation_duration_seconds", "histogram"),
    ] {
        let family = scrape
            .family(name)
            .unwrap_or_else(|| panic!("no {name} in {:#?}", scrape.0));
        assert_eq!(family.kind, kind, "{family:?}");
    }
    assert!(
        scrape.family("parlor_bus_queued").is_none(),
        "one node has no Redis bus"
    );
    let version = [("version", env!("CARGO_PKG_VERSION"))];
    assert_eq!(scrape.value("parlor_build_info", &version), 1.0);
    assert!(scrape.value("parlor_start_time_seconds", &[]) > 1.6e9);
    for framing in ["native", "socketio", "simple"] {
        let labels = [("framing", framing)];
        assert_eq!(scrape.value("parlor_connections_open", &labels), 0.0);
        assert_eq!(
            scrape.value("parlor_connections_accepted_total", &labels),
            0.0
        );
    }
    assert_eq!(
        scrape.value("parlor_outbound_queue_capacity", &[]),
        app.config.outbound_queue as f64
    );
}

#[tokio::test]
async fn metrics_are_refused_outside_the_admin_networks() {
    let app = spawn_app_with(|c| c.admin_cidrs = vec!["10.0.0.0/8".into()]).await;
    app.request("GET", "/metrics")
        .send()
        .await
        .expect_error(403, "forbidden");
    // Only a trusted proxy is believed about the client's address.
    app.request("GET", "/metrics")
        .header("x-forwarded-for", "10.1.2.3")
        .send()
        .await
        .expect_error(403, "forbidden");
    // A session does not open the door either: the network does.
    let token = app.guest_token(&unique_name("prb")).await;
    app.request("GET", "/metrics")
        .bearer(&token)
        .send()
        .await
        .expect_error(403, "forbidden");

    let proxied = spawn_app_with(|c| {
        c.admin_cidrs = vec!["10.0.0.0/8".into()];
        c.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    let from = |forwarded: &'static str| {
        proxied
            .request("GET", "/metrics")
            .header("x-forwarded-for", forwarded)
            .send()
    };
    from("8.8.8.8").await.expect_error(403, "forbidden");
    let inside = from("10.1.2.3").await;
    inside.expect_status(200);
    let scrape = parse(inside.body).await;
    assert_eq!(
        scrape.value(
            "parlor_errors_total",
            &[("code", "forbidden"), ("via", "http")]
        ),
        1.0,
        "the refusal was counted"
    );
}

/// A Socket.IO client spoken by hand (Engine.IO v4 over WebSocket).
struct SocketIo {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_ack: u64,
}

impl SocketIo {
    async fn connect(app: &TestApp) -> SocketIo {
        let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", app.addr);
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("upgrade");
        let mut client = SocketIo {
            socket,
            next_ack: 1,
        };
        let open = client.packet().await;
        assert!(open.starts_with("0{"), "Engine.IO open: {open}");
        client.send("40").await;
        let connected = client.packet().await;
        assert!(
            connected.starts_with("40{"),
            "Socket.IO CONNECT: {connected}"
        );
        client
    }

    async fn send(&mut self, text: &str) {
        self.socket
            .send(Message::Text(text.into()))
            .await
            .expect("send");
    }

    /// The next Engine.IO packet, answering pings on the way.
    async fn packet(&mut self) -> String {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.socket.next())
                .await
                .expect("a packet in time");
            match frame {
                Some(Ok(Message::Text(text))) if text.as_str() == "2" => self.send("3").await,
                Some(Ok(Message::Text(text))) => return text.to_string(),
                Some(Ok(_)) => continue,
                other => panic!("the Socket.IO connection ended: {other:?}"),
            }
        }
    }

    /// Emits a command with an ack id and returns the ack's data, asserting it succeeded.
    async fn call(&mut self, event: &str, data: Value) -> Value {
        let id = self.next_ack;
        self.next_ack += 1;
        self.send(&format!("42{id}{}", json!([event, data]))).await;
        let prefix = format!("43{id}");
        loop {
            let packet = self.packet().await;
            if let Some(ack) = packet.strip_prefix(&prefix) {
                let ack: Value = serde_json::from_str(ack).expect("an ack array");
                assert_eq!(ack[0]["ok"], json!(true), "{event}: {ack}");
                return ack[0]["data"].clone();
            }
        }
    }
}

/// A `/ws` client of a new guest (it joins the lobby by itself).
async fn simple_client(app: &TestApp, nick: &str) -> WsClient {
    let token = app.guest_token(nick).await;
    app.websocket("/ws", &[("cookie", &format!("session={token}"))])
        .await
        .expect("upgrade")
}

#[tokio::test]
async fn connections_are_counted_by_framing_while_open_and_once_closed() {
    let app = spawn_app().await;
    let first = app.lobby_guest(&unique_name("nat")).await;
    let _second = app.lobby_guest(&unique_name("nat")).await;
    let _socketio = SocketIo::connect(&app).await;
    let _simple = simple_client(&app, &unique_name("sim")).await;
    let scrape = eventually(|| async {
        let scrape = read_metrics(&app).await;
        let open = scrape.value("parlor_connections_open", &[("framing", "simple")]);
        if open == 1.0 {
            Ok(scrape)
        } else {
            Err(format!("{open} simple connections open"))
        }
    })
    .await;
    for (framing, open) in [("native", 2.0), ("socketio", 1.0), ("simple", 1.0)] {
        let labels = [("framing", framing)];
        assert_eq!(scrape.value("parlor_connections_open", &labels), open);
        assert_eq!(
            scrape.value("parlor_connections_accepted_total", &labels),
            open
        );
    }

    first.close().await;
    let scrape = eventually(|| async {
        let scrape = read_metrics(&app).await;
        let open = scrape.value("parlor_connections_open", &[("framing", "native")]);
        if open == 1.0 {
            Ok(scrape)
        } else {
            Err(format!("{open} native connections open"))
        }
    })
    .await;
    let native = [("framing", "native")];
    assert_eq!(
        scrape.value("parlor_connections_accepted_total", &native),
        2.0
    );
    assert_eq!(
        scrape.value("parlor_connections_closed_total", &[("reason", "client")]),
        1.0,
        "the client went away"
    );
}

#[tokio::test]
async fn messages_and_their_deliveries_are_counted_on_every_framing() {
    let app = spawn_app().await;
    let mut sender = app.lobby_guest(&unique_name("snd")).await;
    let _reader = app.lobby_guest(&unique_name("rdr")).await;
    let mut socketio = SocketIo::connect(&app).await;
    let nick = unique_name("sio");
    socketio.call("identify", json!({ "nick": nick })).await;
    socketio.call("join", json!({ "room": "lobby" })).await;
    let simple = unique_name("sim");
    let _simple = simple_client(&app, &simple).await;
    // The `/ws` client joins after its upgrade: once the sender heard of it, every join's
    // deliveries are counted.
    sender
        .event_where(|joined: &MemberJoined| joined.user.name == simple)
        .await;

    let before = read_metrics(&app).await;
    const SENT: u32 = 5;
    for i in 0..SENT {
        sender.say(&format!("counted {i}")).await;
    }
    let after = read_metrics(&app).await;

    let lobby = [("kind", "lobby")];
    assert_eq!(
        after.value("parlor_messages_total", &lobby)
            - before.value("parlor_messages_total", &lobby),
        f64::from(SENT)
    );
    // Everyone in the lobby gets each message, the sender too: two native connections, one
    // Socket.IO and one `/ws`.
    assert_eq!(
        after.value("parlor_deliveries_total", &[]) - before.value("parlor_deliveries_total", &[]),
        f64::from(SENT * 4)
    );
    assert_eq!(after.value("parlor_deliveries_dropped_total", &[]), 0.0);
}

#[tokio::test]
async fn refusals_are_counted_by_code_over_http_and_in_real_time() {
    let app = spawn_app().await;
    let before = read_metrics(&app).await;
    let invalid = [("code", "invalid_request"), ("via", "http")];
    app.request("POST", "/api/register")
        .raw("application/json", "{")
        .send()
        .await
        .expect_error(422, "invalid_request");
    let mut client = app.gateway().await;
    client
        .expect_error("join", json!({ "room": "lobby" }), "unauthenticated")
        .await;
    // A frame that is no command envelope, without an ack: refused in an `error` event.
    client.send_text("not a command").await;
    let refused: ErrorEvent = client.event().await;
    assert_eq!(refused.code, "invalid_frame");

    let after = read_metrics(&app).await;
    assert_eq!(
        after.count("parlor_errors_total", &invalid)
            - before.count("parlor_errors_total", &invalid),
        1.0
    );
    for code in ["unauthenticated", "invalid_frame"] {
        let labels = [("code", code), ("via", "realtime")];
        assert_eq!(after.count("parlor_errors_total", &labels), 1.0, "{code}");
    }
}

#[tokio::test]
async fn a_slow_consumer_dropped_is_counted_with_the_events_it_missed() {
    let app = spawn_app_with(|c| c.outbound_queue = 16).await;
    let mut stalled = app.lobby_guest(&unique_name("slo")).await;
    let mut typist = app.lobby_guest(&unique_name("fst")).await;
    // Typing is not rate limited; flood until the stalled client's kernel buffers and then its
    // outbound queue fill up.
    let mut dropped = false;
    for _ in 0..200 {
        for _ in 0..500 {
            typist
                .send_text(r#"{"event":"typing","data":{"room":"lobby","active":true}}"#)
                .await;
        }
        if app.online_count().await == 1 {
            dropped = true;
            break;
        }
    }
    assert!(dropped, "the stalled client was never dropped");
    stalled.closed_with(CloseReason::SlowConsumer).await;
    let scrape = read_metrics(&app).await;
    assert_eq!(
        scrape.value(
            "parlor_connections_closed_total",
            &[("reason", "slow_consumer")]
        ),
        1.0
    );
    assert!(scrape.value("parlor_deliveries_dropped_total", &[]) >= 1.0);
    assert_eq!(scrape.value("parlor_outbound_queue_capacity", &[]), 16.0);
}

#[tokio::test]
async fn message_commits_and_history_reads_are_timed() {
    let app = spawn_app().await;
    let owner = app.caller(&unique_name("own")).await;
    let slug = unique_name("timed");
    owner.create_room(&slug, false).await;
    let append = [("operation", "append_message")];
    let history = [("operation", "read_history")];
    let count = "parlor_store_operation_duration_seconds_count";
    let before = read_metrics(&app).await;
    for text in ["one", "two", "three"] {
        owner.say_in(&slug, text).await;
    }
    assert_eq!(owner.texts_in(&slug).await, ["one", "two", "three"]);
    let after = read_metrics(&app).await;

    assert_eq!(
        after.value(count, &append) - before.value(count, &append),
        3.0
    );
    assert!(after.value(count, &history) > before.value(count, &history));
    let room = [("kind", "room")];
    assert_eq!(
        after.value("parlor_messages_total", &room) - before.value("parlor_messages_total", &room),
        3.0
    );
    for operation in [append, history] {
        let total = after.value(count, &operation);
        let sum = after.value("parlor_store_operation_duration_seconds_sum", &operation);
        assert!(sum > 0.0, "{operation:?}");
        let histogram = after
            .family("parlor_store_operation_duration_seconds")
            .unwrap();
        let mut buckets: Vec<(f64, f64)> = histogram
            .samples
            .iter()
            .filter(|s| s.name.ends_with("_bucket"))
            .filter(|s| s.labels["operation"] == operation[0].1)
            .map(|s| (s.labels["le"].parse::<f64>().unwrap(), s.value))
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(
            buckets.windows(2).all(|w| w[0].1 <= w[1].1),
            "cumulative buckets: {buckets:?}"
        );
        assert_eq!(buckets.last(), Some(&(f64::INFINITY, total)));
    }
}

#[tokio::test]
async fn with_redis_the_bus_publishers_queue_and_losses_are_exposed() {
    let mut redis = Redis::start().await;
    let nodes = cluster(&redis, 1, |_| {}).await;
    let node = &nodes[0];
    let scrape = read_metrics(node).await;
    assert_eq!(
        scrape.family("parlor_bus_queued").map(|f| f.kind.as_str()),
        Some("gauge")
    );
    assert_eq!(scrape.value("parlor_bus_dropped_total", &[]), 0.0);

    // Live-only events (lobby messages) are dropped, not retried, while Redis is away.
    let mut guest = node.lobby_guest(&unique_name("bus")).await;
    redis.kill();
    let mut lost = 0.0;
    for i in 0..50 {
        guest.say(&format!("while Redis is away {i}")).await;
        lost = read_metrics(node)
            .await
            .value("parlor_bus_dropped_total", &[]);
        if lost > 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(lost > 0.0, "no publish was counted as dropped");
}

#[tokio::test]
async fn the_search_cache_is_measured_at_scrape() {
    let app = spawn_app().await;
    let owner = app.caller(&common::unique_name("own")).await;
    owner.create_room("measured", false).await;
    owner.say_in("measured", "something to find").await;
    let before = read_metrics(&app).await;
    assert_eq!(before.value("parlor_search_cache_rooms", &[]), 0.0);
    assert_eq!(before.value("parlor_search_cache_bytes", &[]), 0.0);
    owner
        .call("GET", "/api/search?q=something", None)
        .await
        .expect_status(200);
    let after = read_metrics(&app).await;
    assert_eq!(after.value("parlor_search_cache_rooms", &[]), 1.0);
    assert!(after.value("parlor_search_cache_bytes", &[]) >= "something to find".len() as f64);
}
