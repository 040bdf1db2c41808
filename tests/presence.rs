//! Member lists and presence: the join ack's first page and count, the paged `members`
//! command, and rooms too large to announce every join and leave.

mod common;

use common::{spawn_app, spawn_app_with, unique_name};
use serde_json::{json, Value};
use std::time::Duration;

fn names(page: &Value) -> Vec<String> {
    page["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_join_ack_counts_members_and_pages_chain_through_the_whole_list() {
    let app = spawn_app().await;
    let mut others = Vec::new();
    let mut expected = Vec::new();
    for i in 0..4 {
        let name = format!("{}{i}", unique_name("pg"));
        expected.push(name.to_lowercase());
        others.push(app.lobby_guest(&name).await);
    }
    let mut me = app.gateway().await;
    let my_name = unique_name("me");
    expected.push(my_name.to_lowercase());
    me.request("identify", json!({ "nick": my_name })).await;
    let joined = me.join_lobby().await;
    assert_eq!(joined["member_count"], 5, "{joined}");
    assert!(
        joined["members_next"].is_null(),
        "one page holds five: {joined}"
    );

    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let ack = me
            .request(
                "members",
                json!({ "room": "lobby", "limit": 2, "after": after }),
            )
            .await;
        assert_eq!(ack["ok"], true, "{ack}");
        let page = &ack["data"];
        assert_eq!(page["count"], 5);
        assert!(names(page).len() <= 2);
        seen.extend(names(page).into_iter().map(|n| n.to_lowercase()));
        after = page["next"].clone();
        if after.is_null() {
            break;
        }
    }
    expected.sort();
    assert_eq!(seen, expected, "every member once, in name order");
}

#[tokio::test]
async fn members_refuses_rooms_the_connection_is_not_in_and_bad_pages() {
    let app = spawn_app().await;
    let mut outsider = app.gateway().await;
    outsider
        .request("identify", json!({ "nick": unique_name("out") }))
        .await;
    outsider
        .expect_error("members", json!({ "room": "lobby" }), "not_in_room")
        .await;
    outsider.join_lobby().await;
    for bad in [
        json!({ "room": "lobby", "limit": 0 }),
        json!({ "room": "lobby", "limit": 501 }),
        json!({ "room": "lobby", "after": "nobody" }),
        json!({ "room": "lobby", "extra": 1 }),
    ] {
        outsider
            .expect_error("members", bad, "invalid_payload")
            .await;
    }
}

#[tokio::test]
async fn a_crowded_room_announces_counts_instead_of_each_join_and_leave() {
    let app = spawn_app_with(|config| config.presence_limit = 2).await;
    let mut first = app.lobby_guest(&unique_name("one")).await;
    let second_name = unique_name("two");
    let mut second = app.lobby_guest(&second_name).await;
    assert_eq!(
        first.event("member_joined").await["user"]["name"],
        second_name
    );

    let third = app.lobby_guest(&unique_name("three")).await;
    let count = first.event("member_count").await;
    assert_eq!(count, json!({ "room": "lobby", "count": 3 }));
    assert_eq!(second.event("member_count").await["count"], 3);
    let quiet = |f: &Value| f["event"] == "member_joined" || f["event"] == "member_left";
    first.assert_no_frame(Duration::ZERO, quiet).await;

    third.close().await;
    let count = first.event("member_count").await;
    assert_eq!(
        count["count"], 2,
        "the last count as the room stops being crowded"
    );
    first.assert_no_frame(Duration::ZERO, quiet).await;

    second.close().await;
    assert_eq!(
        first.event("member_left").await["user"]["name"],
        second_name
    );
}
