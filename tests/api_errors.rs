//! Refusals at the HTTP edge, before any handler runs: query strings and path parameters that
//! do not parse, bodies over the size limit, not JSON or not an object, unknown paths and
//! methods. Every one answers in the JSON error envelope with a stable code. Also how the edge
//! reads what does parse: whole numbers in either spelling, a history page between two
//! sequence numbers.

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

#[tokio::test]
async fn a_body_must_be_a_json_object_sent_as_json() {
    let app = spawn_app_with(|_| {}).await;
    // serde would fill the request's struct from an array, by position.
    for body in ["[null]", "[\"someone\"]", "\"someone\"", "null"] {
        app.request("POST", "/api/guest")
            .raw("application/json", body)
            .send()
            .await
            .expect_error(422, "invalid_request");
    }
    app.request("POST", "/api/guest")
        .raw("text/plain", "{}")
        .send()
        .await
        .expect_error(415, "unsupported_media_type");
    for object in ["{}", " \n\t{} "] {
        app.request("POST", "/api/guest")
            .raw("application/json", object)
            .send()
            .await
            .expect_status(201);
    }
}

#[tokio::test]
async fn whole_numbers_are_read_in_either_spelling_and_fractions_are_refused() {
    let app = spawn_app_with(|_| {}).await;
    let owner = app.caller(&unique_name("own")).await;
    let slug = owner.create_room(&unique_name("n-room"), true).await.slug;
    let invites = format!("/api/rooms/{slug}/invites");
    for body in [json!({"ttl_secs": 3600.0}), json!({"max_uses": 2e0})] {
        owner
            .call("POST", &invites, Some(body))
            .await
            .expect_status(201);
    }
    for body in [json!({"ttl_secs": 3600.5}), json!({"max_uses": 1e16})] {
        owner
            .call("POST", &invites, Some(body))
            .await
            .expect_error(422, "invalid_request");
    }
}

#[tokio::test]
async fn history_between_two_sequence_numbers_is_a_page_of_the_gap() {
    let app = spawn_app_with(|_| {}).await;
    let owner = app.caller(&unique_name("own")).await;
    let slug = unique_name("h-room");
    owner.create_room(&slug, false).await;
    for n in 1..=6 {
        owner.say_in(&slug, &format!("m{n}")).await;
    }
    let page = |query: &'static str| {
        let owner = &owner;
        let path = format!("/api/rooms/{slug}/messages?{query}");
        async move {
            owner
                .call("GET", &path, None)
                .await
                .expect::<common::protocol::History>(200)
                .seqs()
        }
    };
    assert_eq!(page("after=1&before=5").await, [2, 3, 4]);
    assert_eq!(page("after=1&before=5&limit=2").await, [2, 3]);
    assert_eq!(page("after=4").await, [5, 6]);
    assert_eq!(page("before=3").await, [1, 2]);
}

#[tokio::test]
async fn ignoring_yourself_is_forbidden() {
    let app = spawn_app_with(|_| {}).await;
    let name = unique_name("me");
    let me = app.caller(&name).await;
    me.call("PUT", &format!("/api/ignores/{name}"), None)
        .await
        .expect_error(403, "forbidden");
}
