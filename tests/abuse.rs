//! Anti-abuse brakes: per-address connection caps, login throttling that cannot lock a real
//! user out for good, and registration throttling per address. Other addresses are simulated
//! through a trusted proxy's `X-Forwarded-For`.

mod common;

use common::{spawn_app_with, unique_name, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";

async fn post_from(app: &TestApp, path: &str, from: &str, body: Value) -> (u16, Value) {
    let response = app
        .http()
        .post(app.url(path))
        .header("x-forwarded-for", from)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
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
        let (status, _) = post_from(&app, "/api/login", attacker, wrong).await;
        assert_eq!(status, 401);
    }
    let right = json!({ "username": name, "password": PASSWORD });
    let (status, body) = post_from(&app, "/api/login", attacker, right.clone()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("rate_limited")),
        "{body}"
    );
    let (status, _) = post_from(&app, "/api/login", "203.0.113.9", right.clone()).await;
    assert_eq!(status, 200, "the real user, elsewhere, is not locked out");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _) = post_from(&app, "/api/login", attacker, right).await;
    assert_eq!(status, 200, "the brake lifts when the window slides");
}

#[tokio::test]
async fn registrations_are_limited_per_address() {
    let app = spawn_app_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".into()];
        c.registrations_per_ip = 2;
    })
    .await;
    let register = |name: String| json!({ "username": name, "password": PASSWORD });
    for _ in 0..2 {
        let (status, _) = post_from(
            &app,
            "/api/register",
            "198.51.100.7",
            register(unique_name("r")),
        )
        .await;
        assert_eq!(status, 201);
    }
    let (status, body) = post_from(
        &app,
        "/api/register",
        "198.51.100.7",
        register(unique_name("r")),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("rate_limited"))
    );
    let (status, _) = post_from(
        &app,
        "/api/register",
        "203.0.113.9",
        register(unique_name("r")),
    )
    .await;
    assert_eq!(status, 201, "another address registers");
}

#[tokio::test]
async fn connections_per_address_are_capped() {
    let app = spawn_app_with(|c| c.max_connections_per_ip = 3).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(app.gateway().await);
    }
    let refused = app.websocket("/gateway", &[]).await.err().expect("refused");
    assert_eq!(
        (refused.0, refused.1["error"]["code"].as_str()),
        (429, Some("rate_limited"))
    );
    open.pop().unwrap().close().await;
    let deadline = tokio::time::Instant::now() + common::PATIENCE;
    loop {
        match app.websocket("/gateway", &[]).await {
            Ok(_) => break,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(refusal) => panic!("a freed place is usable again: {refusal:?}"),
        }
    }
}

#[tokio::test]
async fn wrong_room_codes_slow_an_address_down() {
    let app = spawn_app_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".into()];
        c.login_attempts_per_ip = 3;
    })
    .await;
    let look = |code: &'static str, from: &'static str| {
        app.http()
            .get(app.url(&format!("/api/ephemeral/{code}")))
            .header("x-forwarded-for", from)
            .send()
    };
    for code in ["AAAA", "BBBB", "CCCC"] {
        assert_eq!(
            look(code, "198.51.100.7").await.unwrap().status().as_u16(),
            404
        );
    }
    let refused = look("DDDD", "198.51.100.7").await.unwrap();
    assert_eq!(refused.status().as_u16(), 429, "probing codes is braked");
    assert_eq!(
        look("DDDD", "203.0.113.9").await.unwrap().status().as_u16(),
        404,
        "others are not"
    );
}
