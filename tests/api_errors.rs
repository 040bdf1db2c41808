//! Refusals at the HTTP edge, before any handler runs: query strings and path parameters that
//! do not parse, bodies over the size limit, unknown paths and methods. Every one answers in the
//! JSON error envelope with a stable code.

mod common;

use common::{spawn_app_with, unique_name, with_root};
use serde_json::json;

#[tokio::test]
async fn query_strings_that_do_not_parse_are_invalid_requests_in_the_envelope() {
    let app = spawn_app_with(with_root).await;
    let owner = app.caller(&unique_name("own")).await;
    let slug = unique_name("q-room");
    owner.create_room(&slug, false).await;
    let root = app.root().await;
    let history = format!("/api/rooms/{slug}/messages");
    for query in ["limit=-1", "before=abc", "after=1.5", "limit=1&unknown=2"] {
        owner
            .call("GET", &format!("{history}?{query}"), None)
            .await
            .expect_error(422, "invalid_request");
    }
    for path in [
        "/api/admin/users?limit=x",
        "/api/admin/archives?limit=-5",
        format!("/api/admin/rooms/{slug}/messages?before=later").as_str(),
        "/api/admin/audit?from=yesterday",
    ] {
        root.call("GET", path, None)
            .await
            .expect_error(422, "invalid_request");
    }
    // The same queries, well formed, are answered.
    owner
        .call("GET", &format!("{history}?limit=1"), None)
        .await
        .expect_status(200);
    root.call("GET", "/api/admin/users?limit=5", None)
        .await
        .expect_status(200);
}

#[tokio::test]
async fn path_parameters_that_do_not_parse_are_invalid_requests_in_the_envelope() {
    let app = spawn_app_with(|_| {}).await;
    let owner = app.caller(&unique_name("own")).await;
    let slug = unique_name("p-room");
    owner.create_room(&slug, false).await;
    owner
        .call("DELETE", &format!("/api/rooms/{slug}/invites/abc"), None)
        .await
        .expect_error(422, "invalid_request");
    owner
        .call("GET", "/api/user/%FF%FE", None)
        .await
        .expect_error(422, "invalid_request");
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413() {
    let app = spawn_app_with(|_| {}).await;
    let huge = "x".repeat(3 * 1024 * 1024);
    app.request("POST", "/api/register")
        .json(json!({ "username": "big", "password": huge }))
        .send()
        .await
        .expect_error(413, "payload_too_large");
    let owner = app.caller(&unique_name("own")).await;
    let slug = unique_name("b-room");
    owner.create_room(&slug, false).await;
    owner
        .call(
            "POST",
            &format!("/api/rooms/{slug}/messages"),
            Some(json!({ "text": huge })),
        )
        .await
        .expect_error(413, "payload_too_large");
    // A malformed body within the limit stays a 422.
    app.request("POST", "/api/login")
        .raw("application/json", "{\"username\":")
        .send()
        .await
        .expect_error(422, "invalid_request");
}

#[tokio::test]
async fn unknown_paths_and_methods_under_api_answer_in_the_envelope() {
    let app = spawn_app_with(|_| {}).await;
    app.request("GET", "/api/no/such/thing")
        .send()
        .await
        .expect_error(404, "not_found");
    app.request("PUT", "/api/login")
        .json(json!({}))
        .send()
        .await
        .expect_error(405, "method_not_allowed");
    app.request("DELETE", "/health")
        .send()
        .await
        .expect_error(405, "method_not_allowed");
}
