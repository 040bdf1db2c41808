//! Several nodes on one database: what is already shared through it works from any node, and
//! the tasks that must run once in the cluster (expiring ephemeral rooms, sweeping files) run
//! on the node holding their lease — and move to another node when the holder stops.

mod common;

use common::protocol::{Ephemeral, History};
use common::{spawn_app_with, unique_name, TestApp};
use parlor::config::Secret;
use std::time::Duration;

/// A first node, and a second one on the same database and master key.
async fn two_nodes(adjust: fn(&mut parlor::config::Config)) -> (TestApp, TestApp) {
    let first = spawn_app_with(|c| {
        c.node_id = Some("node-a".into());
        adjust(c);
    })
    .await;
    // The first node takes the cluster's task leases before the second starts.
    let db = common::database(&first).await;
    common::eventually(|| async {
        let holders: Vec<(String,)> = sqlx::query_as("SELECT holder FROM leases")
            .fetch_all(&db)
            .await
            .unwrap();
        (holders.len() == 2 && holders.iter().all(|(h,)| h == "node-a"))
            .then_some(())
            .ok_or_else(|| format!("leases: {holders:?}"))
    })
    .await;
    let database = first.config.database_url();
    let key = std::fs::read_to_string(first.config.data_dir.join("master.key")).unwrap();
    let second = spawn_app_with(move |c| {
        c.node_id = Some("node-b".into());
        c.database_url = Some(Secret::new(database));
        c.master_key = Some(Secret::new(key.trim()));
        adjust(c);
    })
    .await;
    (first, second)
}

async fn archives(app: &TestApp) -> Vec<i64> {
    let (store, keyring) = parlor::app::open_storage(&app.config).await.unwrap();
    let rooms = parlor::app::room_service(&app.config, store, keyring);
    rooms.archive_ids(100, i64::MAX).await.unwrap()
}

#[tokio::test]
async fn a_message_stored_through_one_node_is_read_through_the_other() {
    let (a, b) = two_nodes(|_| {}).await;
    let owner = a.caller(&unique_name("owner")).await;
    let room = owner.create_room(&unique_name("shared"), false).await;
    owner.say_in(&room.slug, "written on node a").await;
    let page: History = b
        .request("GET", &format!("/api/rooms/{}/messages", room.slug))
        .bearer(&owner.token)
        .send()
        .await
        .expect(200);
    assert_eq!(page.texts(), ["written on node a"]);
}

#[tokio::test]
async fn an_ephemeral_room_expires_once_and_the_task_moves_when_its_node_stops() {
    let (mut a, b) = two_nodes(|c| c.ephemeral_ttl_secs = 5).await;
    let host = a.caller(&unique_name("host")).await.token;
    let open = |app: &TestApp, token: String| {
        let request = app.request("POST", "/api/ephemeral").bearer(&token);
        async move {
            let created: Ephemeral = request.send().await.expect(201);
            created.code
        }
    };
    let code = open(&a, host.clone()).await;
    a.request("POST", &format!("/api/ephemeral/{code}/activate"))
        .bearer(&host)
        .send()
        .await
        .expect_status(200);
    // Both nodes see the time pass; whichever holds the lease archives the room, once.
    a.clock.advance(Duration::from_secs(6));
    b.clock.advance(Duration::from_secs(6));
    common::eventually(|| async {
        let found = archives(&b).await.len();
        (found == 1)
            .then_some(())
            .ok_or_else(|| format!("{found} archives"))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        archives(&b).await.len(),
        1,
        "archived once, not once per node"
    );

    // Node a stops; once its lease has run out, node b expires rooms on its own.
    a.stop().await.unwrap();
    let second = open(&b, host.clone()).await;
    b.request("POST", &format!("/api/ephemeral/{second}/activate"))
        .bearer(&host)
        .send()
        .await
        .expect_status(200);
    b.clock
        .advance(parlor::core::LEASE + Duration::from_secs(10));
    common::eventually(|| async {
        let found = archives(&b).await.len();
        if found == 2 {
            return Ok(());
        }
        b.clock.advance(Duration::from_secs(61));
        Err(format!("{found} archives"))
    })
    .await;
    assert_eq!(holder(&b, "ephemeral-expiry").await, "node-b");
}

async fn holder(app: &TestApp, task: &str) -> String {
    let db = common::database(app).await;
    let (holder,): (String,) = sqlx::query_as("SELECT holder FROM leases WHERE name = $1")
        .bind(task)
        .fetch_one(&db)
        .await
        .unwrap();
    holder
}
