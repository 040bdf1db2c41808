//! Member lists and presence: the join ack's first page and count, the paged `members`
//! command, and rooms too large to announce every join and leave.

mod common;

/// How often the server announces crowd counts.
const CROWD_TICK: std::time::Duration = std::time::Duration::from_secs(5);

use common::protocol::{MemberCount, MemberJoined, MemberLeft, MembersPage};
use common::{spawn_app, spawn_app_with, unique_name};
use serde_json::{json, Value};

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
    me.identify(json!({ "nick": my_name })).await;
    let joined = me.join_lobby().await;
    assert_eq!(joined.member_count, 5, "{joined:?}");
    assert_eq!(joined.members.len(), 5, "{joined:?}");
    assert_eq!(joined.members_next, None, "one page holds five");

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut after = Value::Null;
    loop {
        let page: MembersPage = me
            .call(
                "members",
                json!({ "room": "lobby", "limit": 2, "after": after }),
            )
            .await;
        assert_eq!((page.room.as_str(), page.count), ("lobby", 5), "{page:?}");
        sizes.push(page.members.len());
        seen.extend(page.members.iter().map(|m| m.name.to_lowercase()));
        match page.next {
            Some(next) => after = json!(next),
            None => break,
        }
    }
    assert_eq!(sizes, [2, 2, 1], "full pages until the last");
    expected.sort();
    assert_eq!(seen, expected, "every member once, in name order");
    let listed: Vec<String> = joined
        .members
        .iter()
        .map(|m| m.name.to_lowercase())
        .collect();
    assert_eq!(listed, expected, "the join ack's page is in the same order");
}

#[tokio::test]
async fn members_refuses_rooms_the_connection_is_not_in_and_bad_pages() {
    let app = spawn_app().await;
    let mut outsider = app.gateway().await;
    outsider
        .identify(json!({ "nick": unique_name("out") }))
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
    let joined: MemberJoined = first.event().await;
    assert_eq!(joined.user.name, second_name);

    let third = app.lobby_guest(&unique_name("three")).await;
    app.clock.advance(CROWD_TICK);
    let count: MemberCount = first.event().await;
    let three = MemberCount {
        room: "lobby".into(),
        count: 3,
    };
    assert_eq!(count, three);
    assert_eq!(second.event::<MemberCount>().await, three);
    first.assert_no_event(|_: &MemberJoined| true).await;
    first.assert_no_event(|_: &MemberLeft| true).await;

    third.close().await;
    app.until_online(2).await;
    app.clock.advance(CROWD_TICK);
    let count: MemberCount = first.event().await;
    assert_eq!(
        count.count, 2,
        "the last count as the room stops being crowded"
    );
    first.assert_no_event(|_: &MemberJoined| true).await;
    first.assert_no_event(|_: &MemberLeft| true).await;

    second.close().await;
    let left: MemberLeft = first.event().await;
    assert_eq!(left.user.name, second_name);
}
