//! Every name a client hands a moderation or membership path is parsed as a name where it
//! arrives: an empty one, one of 300 characters and `"root "` (a real name with a space) are
//! refused with `invalid_payload` — in REST paths, admin actions and gateway commands alike —
//! and never looked up or stored.

mod common;

use common::accounts::with_root;
use common::protocol::Ack;
use common::{spawn_app_with, unique_name};
use serde_json::{json, Value};

/// Names that are not names: empty, too long, and an existing account's name with a space.
fn bad_names() -> [String; 3] {
    [String::new(), "a".repeat(300), "root ".to_owned()]
}

/// A path segment as the client would write it.
fn encoded(name: &str) -> String {
    name.replace(' ', "%20")
}

/// REST paths naming a user (`{name}`), with the body each needs.
const REST: &[(&str, &str, Option<&str>)] = &[
    ("DELETE", "/api/rooms/den/members/{name}", None),
    (
        "PUT",
        "/api/rooms/den/members/{name}/role",
        Some(r#"{"role":"admin"}"#),
    ),
    ("PUT", "/api/rooms/den/bans/{name}", None),
    ("DELETE", "/api/rooms/den/bans/{name}", None),
    (
        "POST",
        "/api/rooms/den/requests/{name}",
        Some(r#"{"approve":true}"#),
    ),
    ("GET", "/api/user/{name}", None),
    ("PUT", "/api/ignores/{name}", None),
    ("DELETE", "/api/ignores/{name}", None),
];

/// Gateway commands with `{name}` as their `user`: the moderation ones are also admin API
/// actions; ignoring and opening a conversation are not.
const ACTIONS: &[(&str, &str)] = &[
    ("kick", r#"{"user":{name}}"#),
    ("ban", r#"{"user":{name}}"#),
    ("ban", r#"{"user":{name},"with_ip":true}"#),
    ("unban", r#"{"user":{name}}"#),
    ("mute", r#"{"user":{name}}"#),
    ("unmute", r#"{"user":{name}}"#),
    ("verify", r#"{"user":{name},"verified":true}"#),
    ("set_role", r#"{"user":{name},"role":"mod"}"#),
    ("move", r#"{"user":{name},"room":"den"}"#),
    ("delete_user", r#"{"user":{name}}"#),
    ("ignore", r#"{"user":{name}}"#),
    ("unignore", r#"{"user":{name}}"#),
    ("pm_open", r#"{"user":{name}}"#),
];

fn action_data(template: &str, name: &str) -> Value {
    let quoted = serde_json::to_string(name).expect("json string");
    serde_json::from_str(&template.replace("{name}", &quoted)).expect("json")
}

#[tokio::test]
async fn rest_paths_refuse_what_is_not_a_name_with_invalid_payload() {
    let app = spawn_app_with(with_root).await;
    let root = app.root().await;
    let den = root.create_room("den", true).await.slug;

    for name in bad_names() {
        for (method, path, body) in REST {
            let path = path
                .replace("{name}", &encoded(&name))
                .replace("/den/", &format!("/{den}/"));
            let body = body.map(|b| serde_json::from_str(b).expect("json"));
            let reply = root.call(method, &path, body).await;
            if path.ends_with('/') {
                // An empty last segment reaches no endpoint: the router's own envelope answers.
                reply.expect_error(404, "not_found");
                continue;
            }
            let error = reply.expect_error(422, "invalid_payload");
            assert!(
                error.message.contains("user: a name"),
                "{method} {path}: {error:?}"
            );
        }
        // A name in a body, too.
        let error = root
            .call("POST", "/api/conversations", Some(json!({ "user": name })))
            .await
            .expect_error(422, "invalid_payload");
        assert!(
            error.message.contains("user: a name"),
            "{name:?}: {error:?}"
        );
    }
}

#[tokio::test]
async fn admin_actions_refuse_what_is_not_a_name_and_store_nothing() {
    let app = spawn_app_with(with_root).await;
    let root = app.root().await;
    for name in bad_names() {
        for (action, data) in ACTIONS
            .iter()
            .filter(|(a, _)| !a.contains("ignore") && *a != "pm_open")
        {
            let path = format!("/api/admin/actions/{action}");
            let error = root
                .call("POST", &path, Some(action_data(data, &name)))
                .await
                .expect_error(422, "invalid_payload");
            assert!(
                error.message.contains("name"),
                "{action} {name:?}: {error:?}"
            );
        }
    }
    let sanctions: Value = root
        .call("GET", "/api/admin/sanctions", None)
        .await
        .expect(200);
    assert_eq!(
        sanctions,
        json!({ "bans": [], "mutes": [] }),
        "nothing stored"
    );
    let me = root.me().await;
    assert_eq!(me.username, "root", "the real root is untouched");
}

#[tokio::test]
async fn gateway_commands_refuse_what_is_not_a_name_with_invalid_payload() {
    let app = spawn_app_with(with_root).await;
    let root = app.root().await;
    let mut ws = root.gateway().await;
    let user = app.caller(&unique_name("usr")).await;
    let mut plain = user.gateway().await;
    for name in bad_names() {
        for (command, data) in ACTIONS {
            for (who, ws) in [("root", &mut ws), ("user", &mut plain)] {
                let ack: Ack = ws.request(command, action_data(data, &name)).await;
                assert!(!ack.ok, "{who} {command} {name:?}: {ack:?}");
                assert_eq!(ack.code(), "invalid_payload", "{who} {command} {name:?}");
            }
        }
    }
}
