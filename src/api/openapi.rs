//! The OpenAPI document served at `/api/openapi.json`.
//!
//! Each handler's annotation says what is particular to it (its body, its own refusals). What
//! holds for every operation is added here once, because written on each handler it would be
//! 50 copies to keep in step: how a caller authenticates (bearer token or `session` cookie, on
//! every operation but the public ones), and the refusals any request can meet on its way in
//! (401 without a session, 404 for what its path names, 413/415/422 for a body or query that
//! does not parse, 429 when throttled, 503 when the store is failing). The limits this server
//! was started with (password and message length) are filled in from its configuration, so a
//! generated client or a conformance tool sees the rules the server enforces, not defaults.

use super::ApiDoc;
use crate::config::Config;
use crate::core::moderation_action_schemas;
use serde_json::{json, Map, Value};
use utoipa::OpenApi;

/// Operations that need no session.
const PUBLIC: &[(&str, &str)] = &[
    ("post", "/api/register"),
    ("post", "/api/login"),
    ("post", "/api/guest"),
    ("get", "/api/online"),
    ("get", "/api/user/{name}"),
    ("get", "/api/ephemeral/{code}"),
    ("get", "/health"),
    ("get", "/health/live"),
    // Admitted by network (admin_cidrs) instead: Prometheus scrapes without a session.
    ("get", "/metrics"),
    // Authenticated by their signature or shared secret instead.
    ("post", "/api/payments/webhook"),
    ("post", "/api/payment/success"),
];

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// The document for a server running with `config`.
pub fn document(config: &Config) -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document is JSON");
    add_security_schemes(&mut doc);
    object(&mut doc["components"]["schemas"]).insert(
        "UserName".into(),
        json!({"type": "string", "minLength": 1, "maxLength": 20, "pattern": "^[A-Za-z0-9_-]+$",
               "description": "A user name or guest nick, compared without regard to case"}),
    );
    add_get_logout(&mut doc);
    split_actions(&mut doc);
    for (path, item) in object(&mut doc["paths"]).iter_mut() {
        for method in METHODS {
            if let Some(operation) = item.get_mut(method) {
                complete(operation, method, path);
            }
        }
    }
    require_text_or_attachments(&mut doc);
    apply_limits(&mut doc, config);
    doc
}

/// A posted message holds text, attachments or both: `text` may be left out (never `null`)
/// when there is an attachment. utoipa cannot say "one of these two", so it is said here.
fn require_text_or_attachments(doc: &mut Value) {
    let Some(body) = doc.pointer_mut("/components/schemas/PostBody") else {
        return;
    };
    body["properties"]["text"] = json!({
        "type": "string", "minLength": 1, "pattern": "\\S",
        "description": "Trimmed; it must hold something besides white space (it may be left out when the message has attachments)"
    });
    let attachments = &mut body["properties"]["attachments"];
    attachments["items"] = json!({"type": "string", "pattern": "^[a-z2-7]{26}$"});
    attachments["uniqueItems"] = json!(true);
    attachments["maxItems"] = json!(10);
    body["anyOf"] = json!([
        {"required": ["text"]},
        {"required": ["envelope"]},
        {"required": ["attachments"], "properties": {"attachments": {"minItems": 1}}}
    ]);
}

fn add_security_schemes(doc: &mut Value) {
    let schemes = object(&mut doc["components"]["securitySchemes"]);
    schemes.insert(
        "bearer".into(),
        json!({"type": "http", "scheme": "bearer",
               "description": "The token a login, registration or guest session answers with"}),
    );
    schemes.insert(
        "session_cookie".into(),
        json!({"type": "apiKey", "in": "cookie", "name": "session",
               "description": "The same token as the web app's cookie; changes made with it \
                               from a browser need this server's Origin"}),
    );
}

/// `GET /api/logout` is `POST /api/logout` for clients that log out by following a link.
fn add_get_logout(doc: &mut Value) {
    let item = &mut doc["paths"]["/api/logout"];
    if let Some(post) = item.get("post").cloned() {
        let mut get = post;
        get["operationId"] = json!("logout_by_get");
        get["description"] = json!("The same as `POST /api/logout`.");
        item["get"] = get;
    }
}

/// `POST /api/admin/actions/{action}` is one operation in the router but nine in effect, each
/// with its own body (the payload of the moderation command of that name): documented so, a
/// client knows what each takes.
fn split_actions(doc: &mut Value) {
    let Some(template) = object(&mut doc["paths"]).remove("/api/admin/actions/{action}") else {
        return;
    };
    let Some(post) = template.get("post") else {
        return;
    };
    for (action, schema) in moderation_action_schemas() {
        let mut schema = serde_json::to_value(schema).expect("a schema is JSON");
        refine_action_schema(&mut schema);
        let mut operation = post.clone();
        if let Some(operation) = operation.as_object_mut() {
            operation.remove("parameters");
        }
        operation["operationId"] = json!(format!("admin_{action}"));
        operation["summary"] = json!(format!("The moderation command `{action}`"));
        operation["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": schema}}});
        doc["paths"][format!("/api/admin/actions/{action}")] = json!({ "post": operation });
    }
}

/// What the payload types cannot say by themselves: an address is IPv4 or IPv6, a role is one
/// of four, and a ban or unban names a user, an address, or both.
fn refine_action_schema(schema: &mut Value) {
    let ip = json!({"anyOf": [{"type": "string", "format": "ipv4"},
                              {"type": "string", "format": "ipv6"}, {"type": "null"}]});
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        if properties.contains_key("ip") {
            properties.insert("ip".into(), ip);
            schema["anyOf"] = json!([
                {"required": ["user"], "properties": {"user": {"type": "string"}}},
                {"required": ["ip"], "properties": {"ip": {"type": "string"}}},
            ]);
        }
    }
    if let Some(role) = schema.pointer_mut("/properties/role") {
        *role = json!({"type": "string", "enum": ["user", "mod", "admin", "root"]});
    }
}

/// Security and the refusals every operation of its kind can meet.
fn complete(operation: &mut Value, method: &str, path: &str) {
    let public = PUBLIC.contains(&(method, path));
    path_parameters(operation);
    if !public {
        operation["security"] = json!([{"bearer": []}, {"session_cookie": []}]);
    }
    let params: Vec<(String, String)> = operation["parameters"]
        .as_array()
        .map(|params| {
            params
                .iter()
                .map(|p| (text(&p["in"]), text(&p["name"])))
                .collect()
        })
        .unwrap_or_default();
    let has_path = params.iter().any(|(at, _)| at == "path");
    let has_query = params.iter().any(|(at, _)| at == "query");
    let has_body = operation.get("requestBody").is_some();
    let responses = object(&mut operation["responses"]);
    let mut refusal = |status: &str, description: &str| {
        responses.entry(status).or_insert_with(|| {
            json!({"description": description,
                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}})
        });
    };
    if !public {
        refusal(
            "401",
            "unauthenticated: no session, or one that expired or was revoked",
        );
    }
    if path.starts_with("/api/admin/") {
        refusal("403", "forbidden: not staff, or not from an admin network");
    }
    if has_path {
        refusal(
            "404",
            "not_found: nothing by that name here (or nothing this caller may see)",
        );
    }
    if has_body {
        refusal("413", "payload_too_large");
        refusal(
            "415",
            "unsupported_media_type: the body is not `application/json`",
        );
    }
    if has_body || has_query || has_path {
        refusal(
            "422",
            "invalid_request, invalid_payload: the body, query or path does not parse",
        );
    }
    refusal("429", "rate_limited, with `retry_after`");
    refusal(
        "503",
        "unavailable: the server is at a limit or its store is failing; retry later",
    );
}

/// A `{name}` in a path is always a user name (or guest nick): the one rule, spelled once.
fn path_parameters(operation: &mut Value) {
    let params = operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut);
    for param in params.into_iter().flatten() {
        if param["in"] != "path" {
            continue;
        }
        if param["name"] == "name" {
            param["schema"] = json!({"$ref": "#/components/schemas/UserName"});
        }
    }
}

/// The configured limits on the schemas they bound.
fn apply_limits(doc: &mut Value, config: &Config) {
    let limits = [
        (
            "RegisterRequest/properties/password",
            "minLength",
            config.password_min_length,
        ),
        (
            "PasswordRequest/properties/new_password",
            "minLength",
            config.password_min_length,
        ),
        (
            "PostBody/properties/text",
            "maxLength",
            config.max_message_chars,
        ),
    ];
    for (schema, keyword, limit) in limits {
        if let Some(schema) = doc.pointer_mut(&format!("/components/schemas/{schema}")) {
            schema[keyword] = json!(limit);
        }
    }
}

fn object(value: &mut Value) -> &mut Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    value.as_object_mut().expect("made an object above")
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::document;
    use crate::config::Config;
    use crate::core::MODERATION_ACTIONS;

    #[test]
    fn every_operation_but_the_public_ones_names_its_security() {
        let doc = document(&Config::default());
        let me = &doc["paths"]["/api/user/@me"]["get"];
        assert_eq!(me["security"][0]["bearer"], serde_json::json!([]));
        assert!(me["responses"]["401"].is_object());
        let login = &doc["paths"]["/api/login"]["post"];
        assert!(login.get("security").is_none());
        assert!(login["responses"]["415"].is_object());
        assert!(doc["paths"]["/api/logout"]["get"].is_object());
    }

    #[test]
    fn each_admin_action_is_an_operation_with_its_payload() {
        let doc = document(&Config::default());
        assert!(doc["paths"]["/api/admin/actions/{action}"].is_null());
        for action in MODERATION_ACTIONS {
            let body = &doc["paths"][format!("/api/admin/actions/{action}")]["post"]["requestBody"];
            let schema = &body["content"]["application/json"]["schema"];
            let schema = match schema["$ref"].as_str() {
                Some(target) => doc
                    .pointer(target.trim_start_matches('#'))
                    .expect("a reference that resolves"),
                None => schema,
            };
            assert_eq!(schema["type"], "object", "{action}");
        }
        let ban = &doc["paths"]["/api/admin/actions/ban"]["post"]["requestBody"]["content"]
            ["application/json"]["schema"];
        assert_eq!(ban["properties"]["user"]["pattern"], "^[A-Za-z0-9_-]+$");
    }

    #[test]
    fn every_reference_resolves() {
        fn refs<'a>(value: &'a serde_json::Value, found: &mut Vec<&'a str>) {
            match value {
                serde_json::Value::Object(map) => {
                    if let Some(target) = map.get("$ref").and_then(|r| r.as_str()) {
                        found.push(target);
                    }
                    map.values().for_each(|v| refs(v, found));
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
                _ => {}
            }
        }
        let doc = document(&Config::default());
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 20);
        for target in found {
            let pointer = target.trim_start_matches('#');
            assert!(doc.pointer(pointer).is_some(), "{target} does not resolve");
        }
    }

    #[test]
    fn configured_limits_reach_the_schemas() {
        let config = Config {
            password_min_length: 12,
            max_message_chars: 42,
            ..Config::default()
        };
        let doc = document(&config);
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["RegisterRequest"]["properties"]["password"]["minLength"],
            12
        );
        assert_eq!(schemas["PostBody"]["properties"]["text"]["maxLength"], 42);
    }
}
