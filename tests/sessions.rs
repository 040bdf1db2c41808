//! Session lifetime on the manual clock: sessions slide with use over REST and over open
//! connections, however short the TTL; an unused session expires; a connection whose session
//! expired anyway (nobody renewed it in time) is closed with `session_expired`; upkeep renews
//! the sessions of open connections and purges expired ones from the store.

mod common;

use common::protocol::{CloseReason, Profile};
use common::{count_rows, database, eventually, spawn_app_with, unique_name, TestApp};
use parlor::auth::hash_token;
use std::time::Duration;

/// The TTL of the short-session tests, and its renewal interval (a quarter of it).
const TTL: Duration = Duration::from_secs(20);
const RENEWAL: Duration = Duration::from_secs(5);
/// How often the tests use a session, and for how long.
const STEP: Duration = Duration::from_secs(3);
const TWO_MINUTES: u32 = 40; // steps of 3 s

async fn short_sessions() -> TestApp {
    spawn_app_with(|c| c.session_ttl_secs = TTL.as_secs()).await
}

async fn me(app: &TestApp, token: &str) -> u16 {
    app.request("GET", "/api/user/@me")
        .bearer(token)
        .send()
        .await
        .status
}

/// `(created_at, expires_at)` of a session, straight from the store.
async fn stored_session(db: &sqlx::AnyPool, token: &str) -> Option<(i64, i64)> {
    sqlx::query_as("SELECT created_at, expires_at FROM sessions WHERE token_hash = $1")
        .bind(hash_token(token))
        .fetch_optional(db)
        .await
        .expect("read sessions")
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap()
}

#[tokio::test]
async fn a_session_used_over_rest_slides_past_its_first_expiry_and_an_unused_one_ends() {
    let app = short_sessions().await;
    let used = app.guest_token(&unique_name("busy")).await;
    let unused = app.guest_token(&unique_name("idle")).await;
    for step in 1..=TWO_MINUTES {
        app.clock.advance(STEP);
        assert_eq!(
            me(&app, &used).await,
            200,
            "a session used every 3 s is alive after {} s",
            step * 3
        );
    }
    assert_eq!(me(&app, &unused).await, 401, "the unused session expired");
    app.request("GET", "/api/user/@me")
        .bearer(&unused)
        .send()
        .await
        .expect_error(401, "unauthenticated");
}

#[tokio::test]
async fn an_open_connection_keeps_a_short_session_alive() {
    let app = short_sessions().await;
    let db = database(&app).await;
    let name = unique_name("stay");
    let token = app.guest_token(&name).await;
    let unused = app.guest_token(&unique_name("gone")).await;
    let mut client = app.gateway_as(&token).await;
    client.join_lobby().await;
    let (created, _) = stored_session(&db, &token).await.expect("stored");
    for step in 1..=TWO_MINUTES {
        app.clock.advance(STEP);
        // Upkeep renews every quarter of the TTL, so once it has caught up with the clock the
        // session has at least three quarters of its TTL left.
        let now = created + millis(STEP) * i64::from(step);
        let due = now + millis(TTL - RENEWAL);
        eventually(|| async {
            match stored_session(&db, &token).await {
                Some((_, expires)) if expires >= due => Ok(()),
                other => Err(format!("at +{} s the session is {other:?}", step * 3)),
            }
        })
        .await;
    }
    let sent = client.say("still here after two minutes").await;
    assert!(!sent.id.is_empty());
    let profile: Profile = app
        .request("GET", "/api/user/@me")
        .bearer(&token)
        .send()
        .await
        .expect(200);
    assert_eq!(profile.username, name);
    assert_eq!(me(&app, &unused).await, 401, "a session nobody used ended");
}

#[tokio::test]
async fn a_connection_whose_session_expired_is_closed() {
    let app = short_sessions().await;
    let token = app.guest_token(&unique_name("late")).await;
    let mut client = app.gateway_as(&token).await;
    client.join_lobby().await;
    // Nothing renewed the session in time (a suspended server, a clock that jumped): it
    // expired with the connection open, and stays expired.
    app.clock.advance(Duration::from_secs(61));
    let closing = client.closed_with(CloseReason::SessionExpired).await;
    assert_eq!(closing.message, "the session expired");
    app.request("GET", "/api/user/@me")
        .bearer(&token)
        .send()
        .await
        .expect_error(401, "unauthenticated");
}

#[tokio::test]
async fn upkeep_renews_the_sessions_of_open_connections_every_minute() {
    let app = spawn_app_with(|_| {}).await;
    let db = database(&app).await;
    let connected = app.guest_token(&unique_name("open")).await;
    let idle = app.guest_token(&unique_name("shut")).await;
    let mut client = app.gateway_as(&connected).await;
    client.join_lobby().await;
    let ttl = millis(app.config.session_ttl());
    let (created, first_expiry) = stored_session(&db, &connected).await.expect("stored");
    assert_eq!(first_expiry, created + ttl);

    app.clock.advance(Duration::from_secs(61));
    eventually(|| async {
        match stored_session(&db, &connected).await {
            Some((_, expires)) if expires == created + 61_000 + ttl => Ok(()),
            other => Err(format!("not renewed yet: {other:?}")),
        }
    })
    .await;
    let (idle_created, idle_expiry) = stored_session(&db, &idle).await.expect("stored");
    assert_eq!(
        idle_expiry,
        idle_created + ttl,
        "a session without a connection is not renewed"
    );
}

#[tokio::test]
async fn upkeep_purges_expired_sessions_from_the_store() {
    let app = short_sessions().await;
    let db = database(&app).await;
    let expiring = app.guest_token(&unique_name("old")).await;
    let before = count_rows(&db, "sessions").await;
    assert!(stored_session(&db, &expiring).await.is_some());

    app.clock.advance(Duration::from_secs(61));
    // A session made now is live; the one that expired 41 s ago goes at the next upkeep.
    let fresh = app.guest_token(&unique_name("new")).await;
    eventually(|| async {
        match stored_session(&db, &expiring).await {
            None => Ok(()),
            Some(row) => Err(format!("still stored: {row:?}")),
        }
    })
    .await;
    assert!(
        stored_session(&db, &fresh).await.is_some(),
        "live ones stay"
    );
    assert_eq!(count_rows(&db, "sessions").await, before);
}
