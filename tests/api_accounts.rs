//! REST identity endpoints, including the simple key-based chat API's exact contract.

mod common;

use common::protocol::{Health, KeyAccount, Kind, OkBody, Online, Profile, Role, Session};
use common::{spawn_app, spawn_app_with, unique_name};
use serde_json::json;

#[tokio::test]
async fn registering_a_username_alone_creates_a_key_account() {
    let app = spawn_app().await;
    let name = unique_name("bot");
    let KeyAccount { key } = app
        .request("POST", "/api/register")
        .json(json!({ "username": name }))
        .send()
        .await
        .expect(201);
    assert!(key.len() >= 32, "{key}");

    let client = app.cookie_client();
    let login = app
        .request("POST", "/api/login")
        .client(&client)
        .json(json!({ "key": key }))
        .send()
        .await;
    let session: Session = login.expect(200);
    assert_eq!(session.user.username, name);
    let cookie = login.header("set-cookie");
    assert!(cookie.starts_with("session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    // Beside it, a hint the page may read (no secret in it): someone signed in here.
    let hints: Vec<&str> = login
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|c| c.starts_with("signed_in="))
        .collect();
    assert!(
        hints.len() == 1 && hints[0].starts_with("signed_in=1;") && !hints[0].contains("HttpOnly"),
        "{hints:?}"
    );
    let me: Profile = app
        .request("GET", "/api/user/@me")
        .client(&client)
        .send()
        .await
        .expect(200);
    assert_eq!((me.username.as_str(), me.kind), (name.as_str(), Kind::User));
}

#[tokio::test]
async fn registration_rejects_invalid_taken_and_malformed_input() {
    let app = spawn_app().await;
    let name = unique_name("taken");
    let _: KeyAccount = app
        .request("POST", "/api/register")
        .json(json!({ "username": name }))
        .send()
        .await
        .expect(201);

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
        app.request("POST", "/api/register")
            .json(body)
            .send()
            .await
            .expect_error(status, code);
    }

    app.request("POST", "/api/register")
        .raw("application/json", "{not json")
        .send()
        .await
        .expect_error(422, "invalid_request");
}

#[tokio::test]
async fn password_accounts_log_in_by_name_or_email_and_wrong_secrets_get_401() {
    let app = spawn_app().await;
    let name = unique_name("ann");
    let email = format!("{name}@example.org");
    let register = json!({ "username": name, "password": "correct horse", "email": email });
    let session: Session = app
        .request("POST", "/api/register")
        .json(register)
        .send()
        .await
        .expect(201);
    assert_eq!(session.user.email.as_deref(), Some(email.as_str()));

    for login in [name.to_uppercase(), email.to_uppercase()] {
        let session = app.session(&login, "correct horse").await;
        assert_eq!(session.user.username, name, "logged in as {login}");
    }

    let duplicate_email =
        json!({ "username": unique_name("bob"), "password": "long enough", "email": email });
    app.request("POST", "/api/register")
        .json(duplicate_email)
        .send()
        .await
        .expect_error(409, "email_taken");

    for (body, status, code) in [
        (
            json!({ "username": name, "password": "wrong horse" }),
            401,
            "invalid_credentials",
        ),
        (
            json!({ "username": "nobody_here", "password": "whatever1" }),
            401,
            "invalid_credentials",
        ),
        (
            json!({ "key": "not-a-real-key" }),
            401,
            "invalid_credentials",
        ),
        (json!({ "username": name }), 422, "invalid_request"),
        (
            json!({ "key": "k", "password": "p" }),
            422,
            "invalid_request",
        ),
        (json!({}), 422, "invalid_request"),
    ] {
        app.request("POST", "/api/login")
            .json(body)
            .send()
            .await
            .expect_error(status, code);
    }
}

#[tokio::test]
async fn sessions_work_as_cookie_or_bearer_and_logout_revokes_them() {
    let app = spawn_app().await;
    let name = unique_name("cat");
    let token = app.user_token(&name, "long enough").await;
    let me = || app.request("GET", "/api/user/@me").bearer(&token).send();
    let profile: Profile = me().await.expect(200);
    assert_eq!(profile.username, name);
    let by_cookie: Profile = app
        .request("GET", "/api/user/@me")
        .session_cookie(&token)
        .send()
        .await
        .expect(200);
    assert_eq!(by_cookie.username, name);

    app.request("GET", "/api/user/@me")
        .send()
        .await
        .expect_error(401, "unauthenticated");

    let logout = app
        .request("GET", "/api/logout")
        .bearer(&token)
        .send()
        .await;
    assert_eq!(logout.expect::<OkBody>(200), OkBody { ok: true });
    assert!(
        logout.header("set-cookie").contains("Max-Age=0"),
        "{logout:?}"
    );
    me().await.expect_error(401, "unauthenticated");
    app.request("POST", "/api/logout")
        .bearer(&token)
        .send()
        .await
        .expect_error(401, "unauthenticated");
}

#[tokio::test]
async fn expired_sessions_are_refused() {
    let app = spawn_app_with(|c| c.session_ttl_secs = 1).await;
    let token = app.guest_token(&unique_name("brief")).await;
    app.clock.advance(std::time::Duration::from_millis(1100));
    app.request("GET", "/api/user/@me")
        .bearer(&token)
        .send()
        .await
        .expect_error(401, "unauthenticated");
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_revokes_every_session() {
    let app = spawn_app().await;
    let name = unique_name("dan");
    let old_token = app.user_token(&name, "first password").await;
    let other_token = app.session(&name, "first password").await.token;

    let mut live = app.gateway_as(&other_token).await;

    let change = |current: &str, new: &str| {
        app.request("POST", "/api/password")
            .bearer(&old_token)
            .json(json!({ "current_password": current, "new_password": new }))
            .send()
    };
    change("wrong password", "second password")
        .await
        .expect_error(401, "invalid_credentials");
    change("first password", "short")
        .await
        .expect_error(400, "password_too_short");
    let fresh: Session = change("first password", "second password")
        .await
        .expect(200);
    assert_eq!(fresh.user.username, name);

    live.closed_with(common::protocol::CloseReason::SessionRevoked)
        .await;
    for token in [&old_token, &other_token] {
        app.request("GET", "/api/user/@me")
            .bearer(token)
            .send()
            .await
            .expect_error(401, "unauthenticated");
    }
    let me: Profile = app
        .request("GET", "/api/user/@me")
        .bearer(&fresh.token)
        .send()
        .await
        .expect(200);
    assert_eq!(me.username, name);
    app.login(&name, "first password")
        .await
        .expect_error(401, "invalid_credentials");
    assert_eq!(
        app.session(&name, "second password").await.user.username,
        name
    );
}

#[tokio::test]
async fn user_lookup_and_online_list_reflect_the_lobby() {
    let app = spawn_app().await;
    let name = unique_name("eve");
    let token = app.user_token(&name, "long enough").await;
    let profile: Profile = app
        .request("GET", &format!("/api/user/{}", name.to_uppercase()))
        .send()
        .await
        .expect(200);
    assert_eq!(
        (profile.username.as_str(), profile.online, profile.email),
        (name.as_str(), false, None),
        "another's profile shows no e-mail"
    );
    app.request("GET", "/api/user/nobody_at_all")
        .send()
        .await
        .expect_error(404, "not_found");

    let mut client = app.gateway_as(&token).await;
    client.join_lobby().await;
    let online: Online = app.request("GET", "/api/online").send().await.expect(200);
    assert_eq!(online.online_clients, std::slice::from_ref(&name));
    let profile: Profile = app
        .request("GET", &format!("/api/user/{name}"))
        .send()
        .await
        .expect(200);
    assert!(profile.online);
}

#[tokio::test]
async fn guests_cannot_take_registered_or_online_names() {
    let app = spawn_app().await;
    let registered = unique_name("reg");
    app.user_token(&registered, "long enough").await;
    let online = unique_name("onl");
    let _present = app.lobby_guest(&online).await;

    let guest = |nick: String| {
        app.request("POST", "/api/guest")
            .json(json!({ "nick": nick }))
            .send()
    };
    for nick in [registered.to_uppercase(), online.to_uppercase()] {
        guest(nick).await.expect_error(409, "nick_taken");
    }
    guest("bad nick!".into())
        .await
        .expect_error(400, "invalid_nick");
    app.request("POST", "/api/register")
        .json(json!({ "username": online }))
        .send()
        .await
        .expect_error(409, "username_taken");
}

#[tokio::test]
async fn an_anonymous_guest_from_the_same_ip_gets_the_previous_nick_back() {
    let app = spawn_app().await;
    let nick = unique_name("ret");
    app.guest_token(&nick).await;
    let anonymous =
        |app: &common::TestApp| app.request("POST", "/api/guest").json(json!({})).send();
    let session: Session = anonymous(&app).await.expect(201);
    assert_eq!(
        (
            session.user.username.as_str(),
            session.user.kind,
            session.user.role
        ),
        (nick.as_str(), Kind::Guest, Role::User)
    );

    let app = spawn_app_with(|c| c.guest_nick_by_ip = false).await;
    app.guest_token(&nick).await;
    let session: Session = anonymous(&app).await.expect(201);
    assert!(session.user.username.starts_with("guest-"), "{session:?}");
}

#[tokio::test]
async fn health_and_openapi_are_served() {
    let app = spawn_app_with(|c| c.node_id = Some("node-a.1".into())).await;
    let health: Health = app.request("GET", "/health").send().await.expect(200);
    assert_eq!(
        (
            health
                .latency_ms
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            health.latency_ms.values().all(|ms| *ms >= 0.0)
        ),
        (vec!["database", "files"], true),
        "each dependency's probe is timed: {health:?}"
    );
    assert_eq!(
        health,
        Health {
            status: "ok".into(),
            node: "node-a.1".into(),
            database: "ok".into(),
            files: "ok".into(),
            undecryptable_messages: 0,
            latency_ms: health.latency_ms.clone(),
        }
    );
    let live = app.request("GET", "/health/live").send().await.value();
    assert_eq!(
        live,
        serde_json::json!({ "status": "alive", "node": "node-a.1" })
    );
    // Unnamed nodes draw a name at each start.
    let other = spawn_app().await;
    let drawn: Health = other.request("GET", "/health").send().await.expect(200);
    assert!(
        drawn.node.starts_with("node-") && drawn.node != "node-a.1",
        "{drawn:?}"
    );
    let doc = app.request("GET", "/api/openapi.json").send().await;
    let doc = doc.expect_status(200).value();
    assert!(
        doc["openapi"]
            .as_str()
            .expect("an openapi version")
            .starts_with("3."),
        "{}",
        doc["openapi"]
    );
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
    app.request("GET", "/api/no-such-thing")
        .send()
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn the_web_app_is_served_with_a_strict_content_security_policy() {
    let app = spawn_app().await;
    let page = app.request("GET", "/").send().await;
    page.expect_status(200);
    let csp = page.header("content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    assert!(page.body.contains("<html"), "{page}");
    let script = app.request("GET", "/js/main.js").send().await;
    script.expect_status(200);
    assert!(
        script.header("content-type").starts_with("text/javascript"),
        "{}",
        script.header("content-type")
    );
}

#[tokio::test]
async fn key_accounts_have_no_password_to_change() {
    let app = spawn_app().await;
    let KeyAccount { key } = app
        .request("POST", "/api/register")
        .json(json!({ "username": unique_name("key") }))
        .send()
        .await
        .expect(201);
    let client = app.cookie_client();
    let _: Session = app
        .request("POST", "/api/login")
        .client(&client)
        .json(json!({ "key": key }))
        .send()
        .await
        .expect(200);
    let change = json!({ "current_password": "anything1", "new_password": "anything2" });
    app.request("POST", "/api/password")
        .client(&client)
        .json(change)
        .send()
        .await
        .expect_error(400, "no_password");
}

#[tokio::test]
async fn a_guest_becomes_an_account_under_the_same_nick() {
    let app = spawn_app().await;
    let nick = unique_name("Nova");
    let token = app.guest_token(&nick).await;
    let mut page = app.gateway_as(&token).await;
    page.join_lobby().await;

    // Someone else cannot take the name the guest is online under…
    app.request("POST", "/api/register")
        .json(json!({ "username": nick.to_lowercase(), "password": "correct horse battery" }))
        .send()
        .await
        .expect_error(409, "username_taken");
    // …nor can another site's page, riding on the guest's cookie.
    app.request("POST", "/api/register")
        .session_cookie(&token)
        .header("Origin", "https://elsewhere.example")
        .json(json!({ "username": nick, "password": "correct horse battery" }))
        .send()
        .await
        .expect_error(403, "origin_not_allowed");

    // The guest itself can.
    let session: Session = app
        .request("POST", "/api/register")
        .bearer(&token)
        .json(json!({ "username": nick, "password": "correct horse battery" }))
        .send()
        .await
        .expect(201);
    assert_eq!(
        (session.user.username.as_str(), session.user.kind),
        (nick.as_str(), Kind::User)
    );
    // The guest's session is over: its pages close and its token restores nothing.
    page.closed_with(common::protocol::CloseReason::SessionRevoked)
        .await;
    app.request("GET", "/api/user/@me")
        .bearer(&token)
        .send()
        .await
        .expect_error(401, "unauthenticated");
    // The account is online under the name at once.
    let mut account = app.gateway_as(&session.token).await;
    let joined = account.join_lobby().await;
    assert!(joined
        .members
        .iter()
        .any(|m| m.name == nick && m.kind == Kind::User));
}
