//! Logging in under attack: one failed-login budget per account whether it is named by user
//! name or by e-mail (from one address and from many), no shared budget that would lock every
//! key account at once, and password hashing that refuses work beyond its bounded queue with
//! `rate_limited`, `retry_after` and `Retry-After`. Other addresses are simulated through a
//! trusted proxy's `X-Forwarded-For`.

mod common;

use common::protocol::{KeyAccount, Session};
use common::{spawn_app_with, unique_name, Reply, TestApp, PASSWORD};
use serde_json::{json, Value};

async fn login_from(app: &TestApp, from: &str, login: &str, password: &str) -> Reply {
    post_from(
        app,
        from,
        "/api/login",
        json!({ "username": login, "password": password }),
    )
    .await
}

async fn post_from(app: &TestApp, from: &str, path: &str, body: Value) -> Reply {
    app.request("POST", path)
        .header("x-forwarded-for", from)
        .json(body)
        .send()
        .await
}

/// A password account with an e-mail address; returns (name, e-mail).
async fn account_with_email(app: &TestApp) -> (String, String) {
    let name = unique_name("acct");
    let email = format!("{name}@example.org");
    let body = json!({ "username": name, "password": PASSWORD, "email": email });
    let session: Session = post_from(app, "192.0.2.200", "/api/register", body)
        .await
        .expect(201);
    assert_eq!(session.user.username, name);
    (name, email)
}

/// Asserts a login throttle's refusal: 429 `rate_limited` saying when to try again, in the body
/// and in `Retry-After`.
fn assert_throttled(reply: &Reply) {
    let error = reply.expect_error(429, "rate_limited");
    let secs = error
        .retry_after
        .expect("a throttled login says when to retry");
    assert!(secs >= 1, "{reply}");
    assert_eq!(reply.header("retry-after"), secs.to_string(), "{reply}");
}

#[tokio::test]
async fn failures_by_name_and_by_email_spend_one_budget_from_an_address() {
    let app = spawn_app_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".into()];
        c.login_attempts_per_account = 2;
    })
    .await;
    let (name, email) = account_with_email(&app).await;
    let attacker = "198.51.100.7";
    login_from(&app, attacker, &name, "wrong guess 1")
        .await
        .expect_error(401, "invalid_credentials");
    login_from(&app, attacker, &email.to_uppercase(), "wrong guess 2")
        .await
        .expect_error(401, "invalid_credentials");
    assert_throttled(&login_from(&app, attacker, &name, PASSWORD).await);
    assert_throttled(&login_from(&app, attacker, &email, PASSWORD).await);

    let elsewhere: Session = login_from(&app, "203.0.113.9", &email, PASSWORD)
        .await
        .expect(200);
    assert_eq!(
        elsewhere.user.username, name,
        "the real user, elsewhere, is not locked out"
    );
}

#[tokio::test]
async fn failures_by_name_and_by_email_spend_one_budget_across_addresses() {
    // Two failures per account from one address, ten times that (20) from all addresses.
    let app = spawn_app_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".into()];
        c.login_attempts_per_account = 2;
    })
    .await;
    let (name, email) = account_with_email(&app).await;
    for n in 0..10 {
        login_from(&app, &format!("198.51.100.{n}"), &name, "wrong guess")
            .await
            .expect_error(401, "invalid_credentials");
        login_from(
            &app,
            &format!("198.51.100.{}", 100 + n),
            &email,
            "wrong guess",
        )
        .await
        .expect_error(401, "invalid_credentials");
    }
    assert_throttled(&login_from(&app, "203.0.113.9", &name, PASSWORD).await);
    assert_throttled(&login_from(&app, "203.0.113.10", &email, PASSWORD).await);
}

#[tokio::test]
async fn guessing_names_that_match_no_account_still_costs() {
    let app = spawn_app_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".into()];
        c.login_attempts_per_account = 2;
    })
    .await;
    let nobody = unique_name("nobody");
    let attacker = "198.51.100.7";
    for guess in ["guess one", "guess two"] {
        login_from(&app, attacker, &nobody, guess)
            .await
            .expect_error(401, "invalid_credentials");
    }
    assert_throttled(&login_from(&app, attacker, &nobody.to_uppercase(), "guess three").await);
}

#[tokio::test]
async fn failed_key_logins_do_not_lock_every_key_account() {
    let app = spawn_app_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".into()];
        c.login_attempts_per_account = 2;
    })
    .await;
    let name = unique_name("keyed");
    let account: KeyAccount = post_from(
        &app,
        "192.0.2.1",
        "/api/register",
        json!({ "username": name }),
    )
    .await
    .expect(201);
    // More failed key logins, from many addresses, than any one account's budget (20).
    for n in 0..25 {
        let wrong = json!({ "key": format!("not-a-key-{n}") });
        post_from(&app, &format!("198.51.100.{n}"), "/api/login", wrong)
            .await
            .expect_error(401, "invalid_credentials");
    }
    let session: Session = post_from(
        &app,
        "203.0.113.9",
        "/api/login",
        json!({ "key": account.key }),
    )
    .await
    .expect(200);
    assert_eq!(session.user.username, name);
}

#[tokio::test]
async fn password_hashing_beyond_its_queue_is_refused_with_a_retry_time() {
    // One hash at a time, one waiting; hashes slow enough (argon2's default memory, many
    // passes) that a burst of simultaneous logins overlaps the first one.
    let app = spawn_app_with(|c| {
        c.argon2_memory_kib = 19_456;
        c.argon2_iterations = 12;
        c.argon2_concurrency = 1;
        c.argon2_queue = 1;
    })
    .await;
    let name = unique_name("crowd");
    app.user_token(&name, PASSWORD).await;

    let burst = (0..8).map(|_| app.login(&name, PASSWORD));
    let replies = futures_util::future::join_all(burst).await;
    let mut refused = 0;
    for reply in &replies {
        match reply.status {
            200 => assert_eq!(reply.json::<Session>().user.username, name),
            _ => {
                let error = reply.expect_error(429, "rate_limited");
                let secs = error
                    .retry_after
                    .expect("a busy refusal says when to retry");
                assert!(secs >= 1, "{reply}");
                assert_eq!(reply.header("retry-after"), secs.to_string());
                refused += 1;
            }
        }
    }
    assert!(
        (1..=6).contains(&refused),
        "one login runs, one waits, the rest of the burst is refused: {replies:#?}"
    );
    let session = app.session(&name, PASSWORD).await;
    assert_eq!(session.user.username, name, "the slots are free again");
}
