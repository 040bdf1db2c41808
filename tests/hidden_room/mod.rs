//! The scene the private-room suites share: a private room with a message, whose name must
//! never reach an outsider, an address no room holds, and a banned former member.
#![allow(dead_code)]

use crate::common::{unique_name, Caller, TestApp};
use serde_json::{json, Value};

/// The private room every test hides, and an address no room holds.
pub const HIDDEN: &str = "hidden-den";
pub const MISSING: &str = "empty-lot";
/// The hidden room's display name: it must never reach an outsider.
pub const HIDDEN_NAME: &str = "Plans Nobody Sees";

/// A private room with a message in it, owned by the returned caller. It was made private
/// after it was created, so it keeps the address the suites name (a room created private gets
/// an unguessable one; `private_rooms.rs` covers that too).
pub async fn hidden_room(app: &TestApp) -> Caller<'_> {
    let owner = app.caller(&unique_name("own")).await;
    let created = owner
        .call(
            "POST",
            "/api/rooms",
            Some(json!({ "slug": HIDDEN, "name": HIDDEN_NAME })),
        )
        .await;
    created.expect_status(201);
    owner
        .call(
            "PATCH",
            &format!("/api/rooms/{HIDDEN}"),
            Some(json!({ "private": true })),
        )
        .await
        .expect_status(200);
    owner.say_in(HIDDEN, "classified").await;
    owner
}

/// A former member, banned from the hidden room (they, too, must learn nothing more).
pub async fn banned_ex_member<'a>(app: &'a TestApp, owner: &Caller<'a>) -> Caller<'a> {
    let member = app.caller(&unique_name("exm")).await;
    let created: Value = owner
        .call(
            "POST",
            &format!("/api/rooms/{HIDDEN}/invites"),
            Some(json!({})),
        )
        .await
        .expect(201);
    let token = created["token"].as_str().expect("token").to_owned();
    member
        .call("POST", &format!("/api/invites/{token}"), None)
        .await
        .expect_status(200);
    let name = member.name().await;
    owner
        .call("PUT", &format!("/api/rooms/{HIDDEN}/bans/{name}"), None)
        .await
        .expect_empty(204);
    member
}

/// Creates an invite to the hidden room with `body`; returns `{"token", "path", "invite"}`.
pub async fn invite(owner: &Caller<'_>, body: Value) -> Value {
    owner
        .call("POST", &format!("/api/rooms/{HIDDEN}/invites"), Some(body))
        .await
        .expect(201)
}
