//! REST identity endpoints, including the simple key-based chat API's exact contract.

mod common;

use common::{spawn_app, spawn_app_with, unique_name};
use serde_json::json;

#[tokio::test]
async fn registering_a_username_alone_creates_a_key_account() {
    let app = spawn_app().await;
    let name = unique_name("bot");
    let (status, body) = app
        .post(&app.http(), "/api/register", json!({ "username": name }))
        .await;
    assert_eq!(status, 201);
    let key = body["key"].as_str().expect("a key");
    assert!(key.len() >= 32);
    assert_eq!(
        body.as_object().unwrap().len(),
        1,
        "exactly {{\"key\"}}: {body}"
    );

    let client = app.http();
    let response = client
        .post(app.url("/api/login"))
        .json(&json!({ "key": key }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    let (status, me) = app.get(&client, "/api/user/@me").await;
    assert_eq!(status, 200);
    assert_eq!(me["username"], name);
    assert_eq!(me["kind"], "user");
}

#[tokio::test]
async fn registration_rejects_invalid_taken_and_malformed_input() {
    let app = spawn_app().await;
    let client = app.http();
    let name = unique_name("taken");
    assert_eq!(
        app.post(&client, "/api/register", json!({ "username": name }))
            .await
            .0,
        201
    );

    let cases = [
        (json!({ "username": "no spaces" }), 400, "invalid_username"),
        (json!({ "username": "" }), 400, "invalid_username"),
        (
            json!({ "username": "x".repeat(21) }),
            400,
            "invalid_username",
        ),
        (
            json!({ "username": name.to_uppercase() }),
            409,
            "username_taken",
        ),
        (
            json!({ "username": "ok_name", "admin": true }),
            422,
            "invalid_request",
        ),
        (json!({ "user": "ok_name" }), 422, "invalid_request"),
        (json!({ "username": 42 }), 422, "invalid_request"),
        (
            json!({ "username": "pw_short", "password": "short" }),
            400,
            "password_too_short",
        ),
        (
            json!({ "username": "bad_mail", "password": "long enough", "email": "nope" }),
            400,
            "invalid_email",
        ),
    ];
    for (body, status, code) in cases {
        let (got, reply) = app.post(&client, "/api/register", body.clone()).await;
        assert_eq!(
            (got, reply["error"]["code"].as_str()),
            (status, Some(code)),
            "{body} → {reply}"
        );
        assert!(reply["error"]["message"].is_string());
    }

    let response = client
        .post(app.url("/api/register"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn password_accounts_log_in_by_name_or_email_and_wrong_secrets_get_401() {
    let app = spawn_app().await;
    let name = unique_name("ann");
    let email = format!("{name}@example.org");
    let register = json!({ "username": name, "password": "correct horse", "email": email });
    let (status, body) = app.post(&app.http(), "/api/register", register).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user"]["email"], email);

    let by_name = json!({ "username": name.to_uppercase(), "password": "correct horse" });
    assert_eq!(app.post(&app.http(), "/api/login", by_name).await.0, 200);
    let by_email = json!({ "username": email.to_uppercase(), "password": "correct horse" });
    assert_eq!(app.post(&app.http(), "/api/login", by_email).await.0, 200);

    let duplicate_email =
        json!({ "username": unique_name("bob"), "password": "long enough", "email": email });
    assert_eq!(
        app.post(&app.http(), "/api/register", duplicate_email)
            .await
            .1["error"]["code"],
        "email_taken"
    );

    for (body, status) in [
        (json!({ "username": name, "password": "wrong horse" }), 401),
        (
            json!({ "username": "nobody_here", "password": "whatever1" }),
            401,
        ),
        (json!({ "key": "not-a-real-key" }), 401),
        (json!({ "username": name }), 422),
        (json!({ "key": "k", "password": "p" }), 422),
        (json!({}), 422),
    ] {
        let (got, reply) = app.post(&app.http(), "/api/login", body.clone()).await;
        assert_eq!(got, status, "{body} → {reply}");
    }
}

#[tokio::test]
async fn sessions_work_as_cookie_or_bearer_and_logout_revokes_them() {
    let app = spawn_app().await;
    let token = app.user_token(&unique_name("cat"), "long enough").await;
    let bearer = reqwest::Client::new();
    let me = |client: &reqwest::Client| {
        client
            .get(app.url("/api/user/@me"))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(me(&bearer).await.unwrap().status(), 200);

    let (status, body) = app.get(&reqwest::Client::new(), "/api/user/@me").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthenticated"))
    );

    let logout = bearer
        .get(app.url("/api/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 200);
    assert!(logout.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(me(&bearer).await.unwrap().status(), 401);
    let again = bearer
        .post(app.url("/api/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 401);
}

#[tokio::test]
async fn expired_sessions_are_refused() {
    let app = spawn_app_with(|c| c.session_ttl_secs = 1).await;
    let token = app.guest_token(&unique_name("brief")).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let response = reqwest::Client::new()
        .get(app.url("/api/user/@me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_revokes_every_session() {
    let app = spawn_app().await;
    let name = unique_name("dan");
    let old_token = app.user_token(&name, "first password").await;
    let other = app
        .post(
            &app.http(),
            "/api/login",
            json!({ "username": name, "password": "first password" }),
        )
        .await
        .1;
    let other_token = other["token"].as_str().unwrap().to_owned();

    let mut live = app.gateway().await;
    assert_eq!(
        live.request("identify", json!({ "token": other_token }))
            .await["ok"],
        true
    );

    let client = reqwest::Client::new();
    let change = |current: &str, new: &str| {
        client
            .post(app.url("/api/password"))
            .bearer_auth(&old_token)
            .json(&json!({ "current_password": current, "new_password": new }))
            .send()
    };
    assert_eq!(
        change("wrong password", "second password")
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        change("first password", "short").await.unwrap().status(),
        400
    );
    let changed = change("first password", "second password").await.unwrap();
    assert_eq!(changed.status(), 200);
    let fresh: serde_json::Value = changed.json().await.unwrap();

    let closing = live.event("closing").await;
    assert_eq!(closing["reason"], "session_revoked");
    for token in [&old_token, &other_token] {
        let status = client
            .get(app.url("/api/user/@me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401);
    }
    let status = client
        .get(app.url("/api/user/@me"))
        .bearer_auth(fresh["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    let relogin = json!({ "username": name, "password": "second password" });
    assert_eq!(app.post(&app.http(), "/api/login", relogin).await.0, 200);
}

#[tokio::test]
async fn user_lookup_and_online_list_reflect_the_lobby() {
    let app = spawn_app().await;
    let name = unique_name("eve");
    let token = app.user_token(&name, "long enough").await;
    let (status, profile) = app
        .get(&app.http(), &format!("/api/user/{}", name.to_uppercase()))
        .await;
    assert_eq!(status, 200);
    assert_eq!(profile["username"], name);
    assert_eq!(profile["online"], false);
    assert!(profile.get("email").is_none());
    let (status, body) = app.get(&app.http(), "/api/user/nobody_at_all").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );

    let mut client = app.gateway().await;
    assert_eq!(
        client.request("identify", json!({ "token": token })).await["ok"],
        true
    );
    client.join_lobby().await;
    let (_, online) = app.get(&app.http(), "/api/online").await;
    assert_eq!(online, json!({ "online_clients": [name.clone()] }));
    assert_eq!(
        app.get(&app.http(), &format!("/api/user/{name}")).await.1["online"],
        true
    );
}

#[tokio::test]
async fn guests_cannot_take_registered_or_online_names() {
    let app = spawn_app().await;
    let registered = unique_name("reg");
    app.user_token(&registered, "long enough").await;
    let online = unique_name("onl");
    let _present = app.lobby_guest(&online).await;

    for nick in [registered.to_uppercase(), online.to_uppercase()] {
        let (status, body) = app
            .post(&app.http(), "/api/guest", json!({ "nick": nick }))
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (409, Some("nick_taken")),
            "{nick}"
        );
    }
    let (status, body) = app
        .post(&app.http(), "/api/guest", json!({ "nick": "bad nick!" }))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_nick"))
    );
    let (status, body) = app
        .post(&app.http(), "/api/register", json!({ "username": online }))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("username_taken"))
    );
}

#[tokio::test]
async fn an_anonymous_guest_from_the_same_ip_gets_the_previous_nick_back() {
    let app = spawn_app().await;
    let nick = unique_name("ret");
    app.guest_token(&nick).await;
    let (status, body) = app.post(&app.http(), "/api/guest", json!({})).await;
    assert_eq!(status, 201);
    assert_eq!(body["user"]["username"], nick);

    let app = spawn_app_with(|c| c.guest_nick_by_ip = false).await;
    app.guest_token(&nick).await;
    let (_, body) = app.post(&app.http(), "/api/guest", json!({})).await;
    assert!(
        body["user"]["username"]
            .as_str()
            .unwrap()
            .starts_with("guest-"),
        "{body}"
    );
}

#[tokio::test]
async fn health_and_openapi_are_served() {
    let app = spawn_app().await;
    assert_eq!(
        app.get(&app.http(), "/health").await,
        (200, json!({ "status": "ok", "database": "ok" }))
    );
    let (status, doc) = app.get(&app.http(), "/api/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/register",
        "/api/login",
        "/api/guest",
        "/api/logout",
        "/api/password",
        "/api/user/@me",
        "/api/online",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    let (status, body) = app.get(&app.http(), "/api/no-such-thing").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}

#[tokio::test]
async fn the_web_app_is_served_with_a_strict_content_security_policy() {
    let app = spawn_app().await;
    let response = reqwest::get(app.url("/")).await.unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(response.text().await.unwrap().contains("<html"));
    let script = reqwest::get(app.url("/js/main.js")).await.unwrap();
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
}

#[tokio::test]
async fn key_accounts_have_no_password_to_change() {
    let app = spawn_app().await;
    let (_, body) = app
        .post(
            &app.http(),
            "/api/register",
            json!({ "username": unique_name("key") }),
        )
        .await;
    let client = app.http();
    assert_eq!(
        app.post(&client, "/api/login", json!({ "key": body["key"] }))
            .await
            .0,
        200
    );
    let change = json!({ "current_password": "anything1", "new_password": "anything2" });
    let (status, reply) = app.post(&client, "/api/password", change).await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (400, Some("no_password"))
    );
}
