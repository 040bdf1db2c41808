//! Premium and payments: the signed webhook (valid, wrong signature, stale timestamp, replay,
//! unknown account, not configured), the simple form behind its switch, admins granting and
//! revoking premium live, premium lapsing on the clock, and every webhook call in the audit log.

mod common;

use common::protocol::{AdminUsers, AuditPage, PremiumChanged, Profile, Role, SimpleFrame};
use common::{spawn_app_with, unique_name, with_root, TestApp};
use hmac::{Hmac, Mac};
use parlor::config::Secret;
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::Duration;

const SECRET: &str = "whsec_test_secret";
const DAY_MS: i64 = 24 * 3600 * 1000;
const FOREVER: i64 = 253_402_300_799_999;

/// A server with root, a webhook secret and (unless `simple` says otherwise) no simple form.
async fn paying_app() -> TestApp {
    spawn_app_with(|c| {
        with_root(c);
        c.payment_webhook_secret = Some(Secret::new(SECRET));
    })
    .await
}

/// `t=…,v1=…` for `body` signed with `secret` at `seconds`, as a provider sends it.
fn signature(secret: &str, body: &str, seconds: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{seconds}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={seconds},v1={hex}")
}

/// The server's clock in Unix seconds.
fn server_secs(app: &TestApp) -> i64 {
    app.clock.now_millis() / 1000
}

fn event(id: &str, account: &str) -> String {
    json!({"id": id, "type": "payment.succeeded", "account": account}).to_string()
}

/// Posts `body` to the webhook with `signature` (none when `None`).
async fn deliver(app: &TestApp, body: &str, signature: Option<String>) -> common::http::Reply {
    let mut request = app
        .request("POST", "/api/payments/webhook")
        .raw("application/json", body.as_bytes().to_vec());
    if let Some(signature) = signature {
        request = request.header("parlor-signature", &signature);
    }
    request.send().await
}

/// Posts `body` signed now with the right secret.
async fn deliver_signed(app: &TestApp, body: &str) -> common::http::Reply {
    deliver(app, body, Some(signature(SECRET, body, server_secs(app)))).await
}

/// The audit entries of payment calls, newest first: `(target, detail)`.
async fn payment_audit(app: &TestApp) -> Vec<(Option<String>, String)> {
    let root = app.root().await;
    let page: AuditPage = root
        .call("GET", "/api/admin/audit?action=payment", None)
        .await
        .expect(200);
    page.entries
        .into_iter()
        .map(|e| {
            assert_eq!((e.actor.as_str(), e.identity), ("payments", None));
            (e.target, e.detail.unwrap_or_default())
        })
        .collect()
}

#[tokio::test]
async fn a_signed_payment_grants_premium_live_and_in_the_profile() {
    let app = paying_app().await;
    let name = unique_name("payer");
    let user = app.caller(&name).await;
    let before = user.me().await;
    assert_eq!(
        (before.premium, before.premium_until),
        (Some(false), Some(None))
    );
    let mut live = user.gateway().await;

    let now = app.clock.now_millis();
    let reply: Value = deliver_signed(&app, &event("evt_1", &name))
        .await
        .expect(200);
    assert_eq!(reply["outcome"], "granted", "{reply}");
    assert_eq!(reply["duplicate"], false);
    let until = reply["premium"]["premium_until"].as_i64().unwrap();
    // `payment_period_days` (30) from now.
    assert!((now + 30 * DAY_MS..now + 30 * DAY_MS + 5_000).contains(&until));

    let told: PremiumChanged = live.event().await;
    assert_eq!(
        told,
        PremiumChanged {
            premium_until: Some(until),
            active: true
        }
    );
    let me: Profile = user.me().await;
    assert_eq!(
        (me.premium, me.premium_until),
        (Some(true), Some(Some(until)))
    );

    // A period given in the event is added to the running one.
    let body =
        json!({"id": "evt_2", "type": "payment.succeeded", "account": name, "period_days": 5})
            .to_string();
    let reply: Value = deliver_signed(&app, &body).await.expect(200);
    assert_eq!(reply["premium"]["premium_until"], until + 5 * DAY_MS);
}

#[tokio::test]
async fn a_payment_by_user_id_or_until_a_date_counts_too() {
    let app = paying_app().await;
    let name = unique_name("byid");
    let user = app.caller(&name).await;
    let root = app.root().await;
    let found: AdminUsers = root
        .call("GET", &format!("/api/admin/users?q={name}"), None)
        .await
        .expect(200);
    let id: i64 = found.users[0].identity["user:".len()..].parse().unwrap();
    let until = app.clock.now_millis() + 3 * DAY_MS;
    let body =
        json!({"id": "evt_id", "type": "payment.succeeded", "user_id": id, "paid_until": until})
            .to_string();
    deliver_signed(&app, &body).await.expect_status(200);
    assert_eq!(user.me().await.premium_until, Some(Some(until)));

    // Other event types are recorded and answered, and grant nothing.
    let refund = json!({"id": "evt_other", "type": "charge.refunded", "user_id": id}).to_string();
    let reply: Value = deliver_signed(&app, &refund).await.expect(200);
    assert_eq!(reply["outcome"], "ignored", "{reply}");
    assert_eq!(user.me().await.premium_until, Some(Some(until)));
}

#[tokio::test]
async fn a_wrong_or_missing_signature_is_refused_and_grants_nothing() {
    let app = paying_app().await;
    let name = unique_name("forged");
    let user = app.caller(&name).await;
    let body = event("evt_forged", &name);
    let now = server_secs(&app);
    for signature in [
        None,
        Some(signature("another secret", &body, now)),
        Some(signature(SECRET, &event("evt_other", &name), now)),
        Some(format!("t={now},v1=nothex")),
        Some("garbage".to_owned()),
    ] {
        deliver(&app, &body, signature)
            .await
            .expect_error(401, "invalid_signature");
    }
    assert_eq!(user.me().await.premium, Some(false));
    // A forged event does not use up its id: the real one still counts.
    deliver_signed(&app, &body).await.expect_status(200);
    assert_eq!(user.me().await.premium, Some(true));
}

#[tokio::test]
async fn a_stale_signature_is_refused() {
    let app = paying_app().await;
    let name = unique_name("late");
    let user = app.caller(&name).await;
    let body = event("evt_late", &name);
    let old = signature(SECRET, &body, server_secs(&app) - 301);
    deliver(&app, &body, Some(old))
        .await
        .expect_error(401, "stale_signature");
    let fresh = signature(SECRET, &body, server_secs(&app));
    app.clock.advance(Duration::from_secs(6 * 60));
    deliver(&app, &body, Some(fresh))
        .await
        .expect_error(401, "stale_signature");
    assert_eq!(user.me().await.premium, Some(false));
}

#[tokio::test]
async fn a_replayed_event_grants_once() {
    let app = paying_app().await;
    let name = unique_name("replay");
    let user = app.caller(&name).await;
    let body = event("evt_twice", &name);
    let signed = signature(SECRET, &body, server_secs(&app));
    let first: Value = deliver(&app, &body, Some(signed.clone())).await.expect(200);
    let until = first["premium"]["premium_until"].as_i64().unwrap();
    let second: Value = deliver(&app, &body, Some(signed)).await.expect(200);
    assert_eq!(second, json!({"outcome": "duplicate", "duplicate": true}));
    // Re-signed later (a provider's retry) it is the same event.
    app.clock.advance(Duration::from_secs(60));
    let third: Value = deliver_signed(&app, &body).await.expect(200);
    assert_eq!(third["duplicate"], true);
    assert_eq!(user.me().await.premium_until, Some(Some(until)));
}

#[tokio::test]
async fn a_payment_for_an_unknown_account_is_refused_but_recorded_and_audited() {
    let app = paying_app().await;
    let body = event("evt_nobody", "nobody-here");
    deliver_signed(&app, &body)
        .await
        .expect_error(404, "unknown_account");
    // The provider's retry is answered as settled: the event was seen.
    let retry: Value = deliver_signed(&app, &body).await.expect(200);
    assert_eq!(retry["duplicate"], true);
    let audit = payment_audit(&app).await;
    assert!(
        audit
            .iter()
            .any(|(target, detail)| target.as_deref() == Some("nobody-here")
                && detail == "webhook event evt_nobody: unknown_account"),
        "{audit:?}"
    );
}

#[tokio::test]
async fn every_webhook_call_is_audited_with_its_outcome() {
    let app = paying_app().await;
    let name = unique_name("audited");
    app.caller(&name).await;
    let body = event("evt_audit", &name);
    deliver(&app, &body, None).await.expect_status(401);
    let old = signature(SECRET, &body, server_secs(&app) - 3600);
    deliver(&app, &body, Some(old)).await.expect_status(401);
    deliver_signed(&app, &body).await.expect_status(200);
    deliver_signed(&app, &body).await.expect_status(200);
    deliver_signed(&app, "{\"id\": 5}").await.expect_status(422);

    let details: Vec<String> = payment_audit(&app)
        .await
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    assert_eq!(details.len(), 5, "{details:?}");
    assert_eq!(details[0], "webhook refused: invalid_request");
    assert_eq!(
        details[1],
        "webhook event evt_audit: duplicate of an event that was granted"
    );
    assert!(
        details[2].starts_with("webhook event evt_audit: granted; until "),
        "{details:?}"
    );
    assert_eq!(details[3], "webhook refused: stale_signature");
    assert_eq!(details[4], "webhook refused: invalid_signature");
    // Neither the secret nor a signature is written anywhere in the entries.
    assert!(details
        .iter()
        .all(|d| !d.contains(SECRET) && !d.contains("v1=")));
}

#[tokio::test]
async fn without_a_secret_the_webhook_is_not_there() {
    let app = spawn_app_with(|_| {}).await;
    let body = event("evt_x", "anyone");
    let signed = signature(SECRET, &body, server_secs(&app));
    deliver(&app, &body, Some(signed))
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn the_simple_form_is_off_by_default_and_checks_its_secret() {
    let off = paying_app().await;
    off.request("POST", "/api/payment/success")
        .json(json!({"secret": "s3cret", "user_id": 1}))
        .send()
        .await
        .expect_error(404, "not_found");

    let app = spawn_app_with(|c| {
        with_root(c);
        c.payment_simple_enabled = true;
        c.payment_simple_secret = Some(Secret::new("s3cret"));
        c.payment_period_days = 7;
    })
    .await;
    let name = unique_name("simple");
    let user = app.caller(&name).await;
    let root = app.root().await;
    let found: AdminUsers = root
        .call("GET", &format!("/api/admin/users?q={name}"), None)
        .await
        .expect(200);
    let id: i64 = found.users[0].identity["user:".len()..].parse().unwrap();
    let pay = |secret: &str, user_id: Value| {
        app.request("POST", "/api/payment/success")
            .json(json!({"secret": secret, "user_id": user_id}))
            .send()
    };
    pay("wrong", json!(id))
        .await
        .expect_error(401, "invalid_credentials");
    assert_eq!(user.me().await.premium, Some(false));
    let now = app.clock.now_millis();
    let reply: Value = pay("s3cret", json!(id.to_string())).await.expect(200);
    assert_eq!(reply["outcome"], "granted", "{reply}");
    let until = user.me().await.premium_until.flatten().unwrap();
    assert!((now + 7 * DAY_MS..now + 7 * DAY_MS + 5_000).contains(&until));
    pay("s3cret", json!(i64::MAX))
        .await
        .expect_error(404, "unknown_account");
    let audit = payment_audit(&app).await;
    assert!(
        audit
            .iter()
            .any(|(_, d)| d == "simple refused: invalid_credentials"),
        "{audit:?}"
    );
}

#[tokio::test]
async fn admins_grant_and_revoke_premium_live() {
    let app = paying_app().await;
    let name = unique_name("gift");
    let user = app.caller(&name).await;
    let mut live = user.gateway().await;
    let root = app.root().await;
    let path = format!("/api/admin/users/{name}/premium");

    let granted: PremiumChanged = root
        .call("PUT", &path, Some(json!({"forever": true})))
        .await
        .expect(200);
    assert_eq!(
        granted,
        PremiumChanged {
            premium_until: Some(FOREVER),
            active: true
        }
    );
    assert_eq!(live.event::<PremiumChanged>().await, granted);
    let listed: AdminUsers = root
        .call("GET", &format!("/api/admin/users?q={name}"), None)
        .await
        .expect(200);
    assert_eq!(listed.users[0].premium_until, Some(FOREVER));

    let revoked: PremiumChanged = root.call("DELETE", &path, None).await.expect(200);
    assert_eq!(
        revoked,
        PremiumChanged {
            premium_until: None,
            active: false
        }
    );
    assert_eq!(live.event::<PremiumChanged>().await, revoked);
    assert_eq!(user.me().await.premium, Some(false));

    let audit: AuditPage = root
        .call("GET", "/api/admin/audit?action=premium", None)
        .await
        .expect(200);
    let details: Vec<_> = audit.entries.iter().map(|e| e.detail.clone()).collect();
    assert_eq!(
        details,
        [
            Some("revoked".to_owned()),
            Some("set; until forever".to_owned())
        ]
    );
    assert!(audit
        .entries
        .iter()
        .all(|e| e.target.as_deref() == Some(name.as_str())));

    root.call("PUT", &path, Some(json!({"days": 3, "forever": true})))
        .await
        .expect_error(422, "invalid_request");
    root.call(
        "PUT",
        "/api/admin/users/nobody-here/premium",
        Some(json!({"days": 3})),
    )
    .await
    .expect_error(404, "not_found");
}

#[tokio::test]
async fn only_admins_and_root_change_premium() {
    let app = paying_app().await;
    let (user, moderator) = app.two_users("plain", "keeper").await;
    let root = app.root().await;
    let keeper = moderator.name().await;
    root.call(
        "POST",
        "/api/admin/actions/set_role",
        Some(json!({"user": keeper, "role": "mod"})),
    )
    .await
    .expect_status(204);
    let path = format!("/api/admin/users/{}/premium", user.name().await);
    for caller in [&user, &moderator] {
        caller
            .call("PUT", &path, Some(json!({"days": 30})))
            .await
            .expect_error(403, "forbidden");
    }
    assert_eq!(user.me().await.premium, Some(false));
    root.call(
        "POST",
        "/api/admin/actions/set_role",
        Some(json!({"user": keeper, "role": "admin"})),
    )
    .await
    .expect_status(204);
    moderator
        .call("PUT", &path, Some(json!({"days": 30})))
        .await
        .expect_status(200);
    assert_eq!(user.me().await.premium, Some(true));
    assert_eq!(app.root().await.me().await.role, Role::Root);
}

#[tokio::test]
async fn premium_lapses_when_its_time_is_up() {
    let app = paying_app().await;
    let name = unique_name("lapse");
    let user = app.caller(&name).await;
    let root = app.root().await;
    let path = format!("/api/admin/users/{name}/premium");
    let granted: PremiumChanged = root
        .call("PUT", &path, Some(json!({"days": 1})))
        .await
        .expect(200);
    assert!(granted.active);
    app.clock.advance(Duration::from_secs(24 * 3600 - 60));
    assert_eq!(user.me().await.premium, Some(true));
    app.clock.advance(Duration::from_secs(61));
    let me = user.me().await;
    assert_eq!(
        (me.premium, me.premium_until),
        (Some(false), Some(granted.premium_until))
    );
    // Granting again starts from now, not from the lapsed end.
    let again: PremiumChanged = root
        .call("PUT", &path, Some(json!({"days": 1})))
        .await
        .expect(200);
    let now = app.clock.now_millis();
    assert!((now + DAY_MS - 5_000..=now + DAY_MS).contains(&again.premium_until.unwrap()));
}

#[tokio::test]
async fn a_simple_ws_client_hears_its_premium_change_too() {
    let app = paying_app().await;
    let name = unique_name("wsuser");
    let user = app.caller(&name).await;
    let cookie = format!("session={}", user.token);
    let mut simple = app.websocket("/ws", &[("cookie", &cookie)]).await.unwrap();
    let root = app.root().await;
    root.call(
        "PUT",
        &format!("/api/admin/users/{name}/premium"),
        Some(json!({"forever": true})),
    )
    .await
    .expect_status(200);
    let frame = simple
        .simple_where(|f| matches!(f, SimpleFrame::Premium { .. }))
        .await;
    assert_eq!(
        frame,
        json!({"event": "premium_changed", "premium_until": FOREVER, "active": true})
    );
}
