//! Access requests never tell a requester more than an address nobody holds would: they are
//! kept and listed by the address typed, expire alike, and a denial is not announced. The
//! room's owner and admins see the requests meant for their room and decide them, and an
//! approved requester learns it live.

mod common;
mod hidden_room;

use common::protocol::{AccessDecided, AccessRequested, RoomList, RoomRole};
use common::{count_rows, database, eventually, spawn_app, spawn_app_with, unique_name, Caller};
use hidden_room::{banned_ex_member, hidden_room, HIDDEN, HIDDEN_NAME, MISSING};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn the_room_list_shows_a_request_only_as_the_address_asked_for() {
    let app = spawn_app().await;
    let _owner = hidden_room(&app).await;
    let asker = app.caller(&unique_name("ask")).await;
    for room in [HIDDEN, MISSING] {
        asker
            .call("POST", &format!("/api/rooms/{room}/requests"), None)
            .await
            .expect_empty(202);
    }

    let reply = asker.call("GET", "/api/rooms", None).await;
    let list: RoomList = reply.expect(200);
    assert!(!reply.body.contains(HIDDEN_NAME), "{reply:?}");
    assert!(
        list.rooms.iter().all(|r| r.slug != HIDDEN),
        "a request does not list the room: {list:?}"
    );
    let [missing, hidden] = &list.requests[..] else {
        panic!("two requests, by address: {list:?}");
    };
    assert_eq!(
        (hidden.slug.as_str(), missing.slug.as_str()),
        (HIDDEN, MISSING)
    );
    assert_eq!(
        (hidden.created_at, hidden.expires_at),
        (missing.created_at, missing.expires_at),
        "kept alike"
    );
    assert_eq!(
        hidden.expires_at - hidden.created_at,
        7 * 24 * 3600 * 1000,
        "a week"
    );
}

/// The pending requests a room's owner sees.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pending {
    requests: Vec<PendingRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PendingRequest {
    name: String,
    #[allow(dead_code)]
    created_at: i64,
}

async fn pending_names(owner: &Caller<'_>) -> Vec<String> {
    let pending: Pending = owner
        .call("GET", &format!("/api/rooms/{HIDDEN}/requests"), None)
        .await
        .expect(200);
    pending.requests.into_iter().map(|r| r.name).collect()
}

async fn requested_slugs(caller: &Caller<'_>) -> Vec<String> {
    let list: RoomList = caller.call("GET", "/api/rooms", None).await.expect(200);
    list.requests.into_iter().map(|r| r.slug).collect()
}

#[tokio::test]
async fn requests_expire_alike_and_can_be_made_again() {
    let app = spawn_app_with(|c| c.session_ttl_secs = 30 * 24 * 3600).await;
    let owner = hidden_room(&app).await;
    let asker = app.caller(&unique_name("ask")).await;
    let asker_name = asker.name().await;
    for room in [HIDDEN, MISSING] {
        asker
            .call("POST", &format!("/api/rooms/{room}/requests"), None)
            .await
            .expect_empty(202);
    }
    assert_eq!(pending_names(&owner).await, [asker_name.as_str()]);

    app.clock
        .advance(Duration::from_millis(7 * 24 * 3600 * 1000 - 1));
    assert_eq!(requested_slugs(&asker).await, [MISSING, HIDDEN]);
    app.clock.advance(Duration::from_millis(1));
    assert!(requested_slugs(&asker).await.is_empty(), "both lapsed");
    assert!(pending_names(&owner).await.is_empty(), "gone for the owner");

    let mut owner_ws = owner.gateway().await;
    asker
        .call("POST", &format!("/api/rooms/{HIDDEN}/requests"), None)
        .await
        .expect_empty(202);
    let again: AccessRequested = owner_ws.event().await;
    assert_eq!(
        (again.room.as_str(), again.user.as_str()),
        (HIDDEN, asker_name.as_str())
    );
    assert_eq!(requested_slugs(&asker).await, [HIDDEN]);
}

#[tokio::test]
async fn upkeep_deletes_lapsed_requests() {
    let app = spawn_app_with(|c| c.session_ttl_secs = 30 * 24 * 3600).await;
    let _owner = hidden_room(&app).await;
    let asker = app.caller(&unique_name("ask")).await;
    for room in [HIDDEN, MISSING] {
        asker
            .call("POST", &format!("/api/rooms/{room}/requests"), None)
            .await
            .expect_empty(202);
    }
    let db = database(&app).await;
    assert_eq!(count_rows(&db, "access_requests").await, 2);
    app.clock.advance(Duration::from_secs(7 * 24 * 3600 + 61));
    eventually(|| async {
        match count_rows(&db, "access_requests").await {
            0 => Ok(()),
            n => Err(format!("{n} rows left")),
        }
    })
    .await;
}

#[tokio::test]
async fn a_denied_request_looks_to_the_requester_like_an_unanswered_one() {
    let app = spawn_app().await;
    let owner = hidden_room(&app).await;
    let asker = app.caller(&unique_name("ask")).await;
    let asker_name = asker.name().await;
    let mut asker_ws = asker.gateway().await;
    let mut owner_ws = owner.gateway().await;
    for room in [HIDDEN, MISSING] {
        asker
            .call("POST", &format!("/api/rooms/{room}/requests"), None)
            .await
            .expect_empty(202);
    }
    let _: AccessRequested = owner_ws.event().await;
    let before = asker.call("GET", "/api/rooms", None).await;

    owner
        .call(
            "POST",
            &format!("/api/rooms/{HIDDEN}/requests/{asker_name}"),
            Some(json!({ "approve": false })),
        )
        .await
        .expect_empty(204);
    asker_ws.assert_no_event::<AccessDecided>(|_| true).await;
    let after = asker.call("GET", "/api/rooms", None).await;
    assert_eq!(before.body, after.body, "still pending, as the missing one");
    assert!(
        pending_names(&owner).await.is_empty(),
        "settled for the owner"
    );

    asker
        .call("POST", &format!("/api/rooms/{HIDDEN}/requests"), None)
        .await
        .expect_empty(202);
    owner_ws.assert_no_event::<AccessRequested>(|_| true).await;
    assert!(
        pending_names(&owner).await.is_empty(),
        "asking again is no new request"
    );
    owner
        .call(
            "POST",
            &format!("/api/rooms/{HIDDEN}/requests/{asker_name}"),
            Some(json!({ "approve": true })),
        )
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn the_owner_sees_and_approves_a_request_and_the_requester_learns_it_live() {
    let app = spawn_app().await;
    let owner = hidden_room(&app).await;
    let asker = app.caller(&unique_name("ask")).await;
    let asker_name = asker.name().await;
    let mut owner_ws = owner.gateway().await;
    let mut asker_ws = asker.gateway().await;

    asker
        .call("POST", &format!("/api/rooms/{HIDDEN}/requests"), None)
        .await
        .expect_empty(202);
    let told: AccessRequested = owner_ws.event().await;
    assert_eq!(
        (told.room.as_str(), told.user.as_str()),
        (HIDDEN, asker_name.as_str())
    );
    assert_eq!(pending_names(&owner).await, [asker_name.as_str()]);

    owner
        .call(
            "POST",
            &format!("/api/rooms/{HIDDEN}/requests/{asker_name}"),
            Some(json!({ "approve": true })),
        )
        .await
        .expect_empty(204);
    let decided: AccessDecided = asker_ws.event().await;
    assert_eq!(
        decided,
        AccessDecided {
            room: HIDDEN.into(),
            approved: true
        }
    );
    let joined = asker_ws.join_room(HIDDEN, json!({})).await;
    assert_eq!(joined.room.role, Some(RoomRole::Member));
    assert_eq!(joined.texts(), ["classified"]);
    let list: RoomList = asker.call("GET", "/api/rooms", None).await.expect(200);
    let listed: Vec<_> = list.rooms.iter().filter(|r| r.slug == HIDDEN).collect();
    assert_eq!(
        (listed.len(), listed[0].name.as_str()),
        (1, HIDDEN_NAME),
        "a member sees the room: {list:?}"
    );
    assert!(list.requests.is_empty(), "{list:?}");
    assert!(pending_names(&owner).await.is_empty());
}

#[tokio::test]
async fn a_later_owner_never_sees_requests_made_before_the_room_existed() {
    let app = spawn_app().await;
    let early = app.caller(&unique_name("erl")).await;
    early
        .call("POST", &format!("/api/rooms/{HIDDEN}/requests"), None)
        .await
        .expect_empty(202);
    app.clock.advance(Duration::from_millis(1));
    let owner = hidden_room(&app).await;
    assert!(pending_names(&owner).await.is_empty());
    assert_eq!(requested_slugs(&early).await, [HIDDEN], "still theirs");
}

#[tokio::test]
async fn a_banned_users_request_reaches_nobody_and_still_looks_pending_to_them() {
    let app = spawn_app().await;
    let owner = hidden_room(&app).await;
    let banned = banned_ex_member(&app, &owner).await;
    let mut owner_ws = owner.gateway().await;
    for room in [HIDDEN, MISSING] {
        banned
            .call("POST", &format!("/api/rooms/{room}/requests"), None)
            .await
            .expect_empty(202);
    }
    owner_ws.assert_no_event::<AccessRequested>(|_| true).await;
    assert!(pending_names(&owner).await.is_empty());
    assert_eq!(requested_slugs(&banned).await, [MISSING, HIDDEN]);
}
