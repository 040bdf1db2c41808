//! Anti-abuse brakes: per-address connection caps, login throttling that cannot lock a real
//! user out for good, and registration throttling per address. Other addresses are simulated
//! through a trusted proxy's `X-Forwarded-For`.

mod common;

use common::protocol::Session;
use common::{eventually, spawn_app_with, unique_name, Reply, TestApp, PASSWORD};
use serde_json::{json, Value};
use std::time::Duration;

async fn post_from(app: &TestApp, path: &str, from: &str, body: Value) -> Reply {
    app.request("POST", path)
        .header("x-forwarded-for", from)
        .json(body)
        .send()
        .await
}

#[tokio::test]
async fn failed_logins_slow_an_address_down_without_locking_the_user_out() {
    let app = spawn_app_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".into()];
        c.login_attempts_per_account = 3;
        c.login_window_secs = 1;
    })
    .await;
    let name = unique_name("vic");
    app.user_token(&name, PASSWORD).await;
    let attacker = "198.51.100.7";
    for _ in 0..3 {
        let wrong = json!({ "username": name, "password": "guess guess" });
        post_from(&app, "/api/login", attacker, wrong)
            .await
            .expect_error(401, "invalid_credentials");
    }
    let right = json!({ "username": name, "password": PASSWORD });
    post_from(&app, "/api/login", attacker, right.clone())
        .await
        .expect_error(429, "rate_limited");
    let session: Session = post_from(&app, "/api/login", "203.0.113.9", right.clone())
        .await
        .expect(200);
    assert_eq!(
        session.user.username, name,
        "the real user, elsewhere, is not locked out"
    );
    app.clock.advance(Duration::from_millis(1100));
    let session: Session = post_from(&app, "/api/login", attacker, right)
        .await
        .expect(200);
    assert_eq!(
        session.user.username, name,
        "the brake lifts when the window slides"
    );
}

#[tokio::test]
async fn registrations_are_limited_per_address() {
    let app = spawn_app_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".into()];
        c.registrations_per_ip = 2;
    })
    .await;
    let register = |name: &str| json!({ "username": name, "password": PASSWORD });
    for _ in 0..2 {
        let name = unique_name("r");
        let session: Session = post_from(&app, "/api/register", "198.51.100.7", register(&name))
            .await
            .expect(201);
        assert_eq!(session.user.username, name);
    }
    post_from(
        &app,
        "/api/register",
        "198.51.100.7",
        register(&unique_name("r")),
    )
    .await
    .expect_error(429, "rate_limited");
    let name = unique_name("r");
    let session: Session = post_from(&app, "/api/register", "203.0.113.9", register(&name))
        .await
        .expect(201);
    assert_eq!(session.user.username, name, "another address registers");
}

#[tokio::test]
async fn connections_per_address_are_capped() {
    let app = spawn_app_with(|c| c.max_connections_per_ip = 3).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(app.gateway().await);
    }
    app.websocket_refused("/gateway", &[], 429, "rate_limited")
        .await;
    open.pop().unwrap().close().await;
    // The server frees the place once it has seen the close.
    let reopened = eventually(|| async {
        app.websocket("/gateway", &[])
            .await
            .map_err(|refusal| format!("a freed place is usable again: {refusal:?}"))
    })
    .await;
    open.push(reopened);
    app.websocket_refused("/gateway", &[], 429, "rate_limited")
        .await;
}

#[tokio::test]
async fn wrong_room_codes_slow_an_address_down() {
    let app = spawn_app_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".into()];
        c.login_attempts_per_ip = 3;
    })
    .await;
    let look = |code: &'static str, from: &'static str| {
        app.request("GET", &format!("/api/ephemeral/{code}"))
            .header("x-forwarded-for", from)
            .send()
    };
    for code in ["AAAA", "BBBB", "CCCC"] {
        look(code, "198.51.100.7")
            .await
            .expect_error(404, "not_found");
    }
    look("DDDD", "198.51.100.7")
        .await
        .expect_error(429, "rate_limited");
    look("DDDD", "203.0.113.9")
        .await
        .expect_error(404, "not_found");
}
