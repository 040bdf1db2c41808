//! At the descriptor limit the server keeps answering: real-time connections stop short of it
//! by `reserved_descriptors`, so `/health` (and the API) always find a descriptor.

mod common;

use common::process::{serve, sigterm};
use common::protocol::Health;
use common::Request;
use std::time::Duration;

#[tokio::test]
async fn real_time_connections_stop_short_of_the_descriptor_limit_and_health_answers() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("PARLOR_MAX_CONNECTIONS_PER_IP", "0"),
        ("PARLOR_RESERVED_DESCRIPTORS", "100"),
    ];
    // 300 descriptors, soft and hard: 200 for real-time connections, 100 kept back.
    let (mut child, addr) = serve(dir.path(), "ulimit -n 300;", &env);
    let url = format!("ws://{addr}/gateway");
    let mut open = Vec::new();
    let refusal = loop {
        let connect =
            tokio::time::timeout(common::PATIENCE, tokio_tungstenite::connect_async(&url));
        let Ok(attempt) = connect.await else {
            panic!(
                "after {} connections the server stopped answering",
                open.len()
            );
        };
        match attempt {
            Ok((socket, _)) => open.push(socket),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => break response,
            Err(other) => panic!("after {} connections: {other}", open.len()),
        }
        assert!(open.len() <= 200, "more connections than the limit leaves");
    };
    assert_eq!(open.len(), 200);
    assert_eq!(refusal.status().as_u16(), 503);
    let body: serde_json::Value =
        serde_json::from_slice(refusal.body().as_deref().unwrap_or_default()).expect("JSON");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    for _ in 0..20 {
        let health: Health = Request::new("GET", &format!("http://{addr}/health"))
            .send()
            .await
            .expect(200);
        assert_eq!(health.status, "ok");
    }
    drop(open);
    sigterm(&child);
    for _ in 0..200 {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().ok();
    panic!("the server did not stop");
}
