//! The admin API: role mod+ and an admin network (with `X-Forwarded-For` believed only from
//! trusted proxies), the Origin check on cookie-authenticated actions, live connections, and
//! the audit log's filters, pagination and exports.

mod common;

use common::{spawn_app_with, unique_name, TestApp, PATIENCE};
use parlor::config::{Config, Secret};
use serde_json::{json, Value};

const ROOT_PASSWORD: &str = "root password 123";

fn with_root(config: &mut Config) {
    config.root_user = Some("root".into());
    config.root_password = Some(Secret::new(ROOT_PASSWORD));
    config.rate_limit_messages = 100;
}

async fn root_token(app: &TestApp) -> String {
    let body = json!({ "username": "root", "password": ROOT_PASSWORD });
    let (status, session) = app.post(&app.http(), "/api/login", body).await;
    assert_eq!(status, 200, "{session}");
    session["token"].as_str().unwrap().to_owned()
}

/// A request to the admin API with a bearer token and extra headers; returns status and body.
async fn admin(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app.http().request(method, app.url(path)).bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn only_moderators_on_an_admin_network_reach_the_admin_api() {
    let app = spawn_app_with(with_root).await;
    let root = root_token(&app).await;
    let user = app
        .user_token(&unique_name("usr"), "correct horse battery")
        .await;
    let (status, body) = admin(&app, "GET", "/api/admin/users", &user, &[], None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (status, body) = admin(&app, "GET", "/api/admin/users?q=roo", &root, &[], None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["users"][0]["name"], "root");
    assert_eq!(body["users"][0]["role"], "root");

    let elsewhere = spawn_app_with(|c| {
        with_root(c);
        c.admin_cidrs = vec!["10.0.0.0/8".into()];
    })
    .await;
    let root = root_token(&elsewhere).await;
    let spoofed = [("x-forwarded-for", "10.1.2.3")];
    let (status, _) = admin(&elsewhere, "GET", "/api/admin/users", &root, &spoofed, None).await;
    assert_eq!(
        status, 403,
        "a forwarded address from an untrusted peer is ignored"
    );

    let proxied = spawn_app_with(|c| {
        with_root(c);
        c.admin_cidrs = vec!["10.0.0.0/8".into()];
        c.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    let root = root_token(&proxied).await;
    let inside = [("x-forwarded-for", "6.6.6.6, 10.1.2.3")];
    let (status, _) = admin(&proxied, "GET", "/api/admin/users", &root, &inside, None).await;
    assert_eq!(
        status, 200,
        "behind a trusted proxy the forwarded address counts"
    );
    let outside = [("x-forwarded-for", "10.1.2.3, 8.8.8.8")];
    let (status, _) = admin(&proxied, "GET", "/api/admin/users", &root, &outside, None).await;
    assert_eq!(status, 403, "the nearest untrusted hop is the client");
}

#[tokio::test]
async fn cookie_authenticated_actions_need_this_servers_origin() {
    let app = spawn_app_with(with_root).await;
    let root = root_token(&app).await;
    let nick = unique_name("gst");
    let mut guest = app.lobby_guest(&nick).await;
    let cookie = format!("session={root}");
    let kick = |origin: Option<String>| {
        let mut request = app
            .http()
            .post(app.url("/api/admin/actions/kick"))
            .header("cookie", &cookie)
            .json(&json!({ "user": nick }));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    let refused = kick(None).await.unwrap();
    assert_eq!(refused.status().as_u16(), 403, "no Origin, cookie only");
    let refused = kick(Some("http://evil.example".into())).await.unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "origin_not_allowed");
    let own = format!("http://{}", app.addr);
    assert_eq!(kick(Some(own)).await.unwrap().status().as_u16(), 204);
    assert!(guest
        .until_closed()
        .await
        .iter()
        .any(|f| f["data"]["reason"] == "kicked"));
}

#[tokio::test]
async fn live_connections_are_listed_and_can_be_closed() {
    let app = spawn_app_with(with_root).await;
    let root = root_token(&app).await;
    let nick = unique_name("gst");
    let mut guest = app.lobby_guest(&nick).await;
    let (status, body) = admin(&app, "GET", "/api/admin/connections", &root, &[], None).await;
    assert_eq!(status, 200);
    let entry = body["connections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["user"]["name"] == nick.as_str())
        .cloned()
        .expect("the guest is listed");
    assert_eq!(
        (entry["ip"].as_str(), entry["rooms"].clone()),
        (Some("127.0.0.1"), json!(["lobby"]))
    );
    assert!(
        entry["identity"].as_str().unwrap().starts_with("guest:"),
        "{entry}"
    );
    let path = format!("/api/admin/connections/{}", entry["id"]);
    let (status, _) = admin(&app, "DELETE", &path, &root, &[], None).await;
    assert_eq!(status, 204);
    assert!(guest
        .until_closed()
        .await
        .iter()
        .any(|f| f["data"]["reason"] == "kicked"));
    let (status, _) = admin(&app, "DELETE", &path, &root, &[], None).await;
    assert_eq!(status, 404);
}

/// Polls the audit log until `wanted` entries match `query` (message metadata is written in
/// batches).
async fn audit_until(app: &TestApp, token: &str, query: &str, wanted: usize) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (status, page) = admin(
            app,
            "GET",
            &format!("/api/admin/audit?{query}"),
            token,
            &[],
            None,
        )
        .await;
        assert_eq!(status, 200, "{page}");
        if page["entries"].as_array().unwrap().len() >= wanted
            || tokio::time::Instant::now() > deadline
        {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_audit_log_filters_pages_and_exports() {
    let app = spawn_app_with(with_root).await;
    let root = root_token(&app).await;
    let author = app.caller(&unique_name("aut")).await;
    author.create_room("audited", false).await;
    for n in 0..3 {
        author.say_in("audited", &format!("room message {n}")).await;
    }
    let mut lobby = author.gateway().await;
    lobby.join_lobby().await;
    lobby.say("lobby message").await;
    let mut live = app.gateway_as(&root).await;
    let ack = live
        .request(
            "ban",
            json!({ "user": "someone-else", "reason": "Spam links", "room": "audited" }),
        )
        .await;
    assert_eq!(ack["ok"], true, "{ack}");

    let messages = audit_until(&app, &root, "action=message", 4).await;
    assert_eq!(
        messages["entries"].as_array().unwrap().len(),
        4,
        "{messages}"
    );
    let first = &messages["entries"][0];
    assert_eq!(
        (first["room"].as_str(), first["actor_ip"].as_str()),
        (Some("lobby"), Some("127.0.0.1"))
    );
    let identity = first["identity"].as_str().unwrap().to_owned();
    assert!(identity.starts_with("user:"), "{identity}");

    let in_room = audit_until(&app, &root, "room=audited", 4).await;
    assert_eq!(
        in_room["entries"].as_array().unwrap().len(),
        4,
        "three messages and the ban issued there: {in_room}"
    );
    let by_identity = audit_until(&app, &root, &format!("identity={identity}"), 4).await;
    assert_eq!(by_identity["entries"].as_array().unwrap().len(), 4);
    let by_text = audit_until(&app, &root, "text=spam%20LINKS", 1).await;
    assert_eq!(by_text["entries"][0]["action"], "ban");
    let in_text = audit_until(&app, &root, "text=MESSAGE%201", 1).await;
    let found = in_text["entries"].as_array().unwrap();
    assert_eq!(
        found.len(),
        1,
        "a stored message's text is searched, decrypted: {in_text}"
    );
    assert_eq!(
        (found[0]["room"].as_str(), found[0]["detail"].as_str()),
        (Some("audited"), Some("seq 2"))
    );
    let (_, none) = admin(&app, "GET", "/api/admin/audit?text=%25", &root, &[], None).await;
    assert_eq!(
        none["entries"],
        json!([]),
        "LIKE wildcards in the text are literal"
    );
    let (_, future) = admin(
        &app,
        "GET",
        "/api/admin/audit?from=99999999999999",
        &root,
        &[],
        None,
    )
    .await;
    assert_eq!(future["entries"], json!([]));

    let (_, page1) = admin(&app, "GET", "/api/admin/audit?limit=2", &root, &[], None).await;
    let next = page1["next"].as_i64().expect("a next cursor");
    let path = format!("/api/admin/audit?limit=2&before={next}");
    let (_, page2) = admin(&app, "GET", &path, &root, &[], None).await;
    let ids = |page: &Value| -> Vec<i64> {
        page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect()
    };
    let (ids1, ids2) = (ids(&page1), ids(&page2));
    assert!(
        ids1.iter().all(|a| ids2.iter().all(|b| b < a)),
        "{ids1:?} then {ids2:?}"
    );

    let csv = app
        .http()
        .get(app.url("/api/admin/audit?action=message&format=csv"))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "id,ts,actor,identity,actor_ip,action,target,room,detail"
    );
    assert_eq!(lines.len(), 5, "{csv}");
    let jsonl = app
        .http()
        .get(app.url("/api/admin/audit?format=jsonl"))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in jsonl.lines() {
        let entry: Value = serde_json::from_str(line).expect("one JSON object per line");
        assert!(entry["action"].is_string());
    }
}

#[tokio::test]
async fn admins_read_any_rooms_transcript_and_ephemeral_archives() {
    let app = spawn_app_with(|c| {
        with_root(c);
        c.ephemeral_ttl_secs = 1;
    })
    .await;
    let root = root_token(&app).await;
    let owner = app.caller(&unique_name("own")).await;
    let peer = app.caller(&unique_name("peer")).await;
    owner.create_room("hidden", true).await;
    owner.say_in("hidden", "only members see this").await;
    let body = json!({ "user": peer.name().await });
    let (_, conversation) = owner.call("POST", "/api/conversations", Some(body)).await;
    let (_, created) = owner.call("POST", "/api/ephemeral", None).await;
    let code = created["code"].as_str().unwrap();
    owner
        .call("POST", &format!("/api/ephemeral/{code}/activate"), None)
        .await;
    let mut guest = app.lobby_guest(&unique_name("eg")).await;
    let room = format!("e:{code}");
    guest
        .request(
            "join",
            json!({ "room": room, "device": "admin-test-device" }),
        )
        .await;
    guest
        .request("send", json!({ "room": room, "text": "for the archive" }))
        .await;
    assert_eq!(guest.event("room_removed").await["reason"], "expired");

    let (status, listed) = admin(&app, "GET", "/api/admin/rooms", &root, &[], None).await;
    assert_eq!(status, 200, "{listed}");
    let kinds: Vec<(&str, &str)> = listed["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["kind"].as_str().unwrap(), r["slug"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&("room", "hidden")), "{kinds:?}");
    assert!(kinds.contains(&("pm", conversation["room"].as_str().unwrap())));
    let (status, transcript) = admin(
        &app,
        "GET",
        "/api/admin/rooms/hidden/messages",
        &root,
        &[],
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(transcript["messages"][0]["text"], "only members see this");
    let (_, archives) = admin(&app, "GET", "/api/admin/archives", &root, &[], None).await;
    assert_eq!(archives["archives"][0]["code"], code);
    assert_eq!(
        archives["archives"][0]["transcript"]["messages"][0]["text"],
        "for the archive"
    );
    let reads = audit_until(&app, &root, "action=read_transcript", 1).await;
    assert_eq!(
        reads["entries"][0]["target"], "hidden",
        "reading a transcript is audited"
    );
    let user = app
        .user_token(&unique_name("usr"), "correct horse battery")
        .await;
    let (status, _) = admin(
        &app,
        "GET",
        "/api/admin/rooms/hidden/messages",
        &user,
        &[],
        None,
    )
    .await;
    assert_eq!(status, 403);
}
