//! The admin API behind the admin panel: users, bans and mutes, live connections, moderation
//! actions and the audit log (with CSV and JSON Lines export).
//!
//! Every endpoint needs role mod+ **and** a client address inside `admin_cidrs` (behind
//! trusted proxies only). Requests that change something and authenticate by cookie must carry
//! an `Origin` of this server (or a configured public origin): a cross-site form or script
//! cannot act with an admin's cookie.

use super::extract::{client_ip, CurrentSession};
use super::{ApiError, ErrorResponse};
use crate::app::AppState;
use crate::auth::Identity;
use crate::core::{CloseReason, Command, LiveConnection};
use crate::domain::Role;
use crate::error::ErrorCode;
use crate::moderation::Actor;
use crate::moderation::{AuditEntryView, AuditFilter, Sanction};
use crate::rooms::{AdminRoom, ArchiveView};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header::{AUTHORIZATION, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::net::IpAddr;
use utoipa::{IntoParams, ToSchema};

/// A moderator (or above) calling from an admin network.
pub struct AdminSession {
    pub identity: Identity,
    pub ip: IpAddr,
}

impl AdminSession {
    fn actor(&self) -> Actor<'_> {
        Actor {
            identity: &self.identity,
            ip: self.ip.to_string(),
            room: None,
        }
    }
}

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = client_ip(parts, state);
        if !state.admin_networks.contains(ip) {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "the admin API is not reachable from this network",
            ));
        }
        let CurrentSession { identity } = CurrentSession::from_request_parts(parts, state).await?;
        if !identity.role.moderates() {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "the admin API is for moderators",
            ));
        }
        if changes_state(&parts.method) && !cross_site_safe(parts, state) {
            return Err(ApiError::new(
                ErrorCode::OriginNotAllowed,
                "admin actions need an Origin header of this server",
            ));
        }
        Ok(AdminSession { identity, ip })
    }
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Bearer tokens are never sent by a browser on its own; cookies are, so a cookie-authenticated
/// change must come from a page of this server.
fn cross_site_safe(parts: &Parts, state: &AppState) -> bool {
    parts.headers.contains_key(AUTHORIZATION)
        || (parts.headers.contains_key(axum::http::header::ORIGIN)
            && crate::gateway::origin_allowed(&parts.headers, &state.config.public_origins))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of a name.
    #[serde(default)]
    q: String,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AdminUser {
    name: String,
    /// `user:<id>`, as the audit log names accounts.
    identity: String,
    #[schema(value_type = String)]
    role: Role,
    verified: bool,
    online: bool,
    created_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    users: Vec<AdminUser>,
}

#[utoipa::path(get, path = "/api/admin/users", tag = "admin", params(UserQuery),
    responses((status = 200, body = UserList), (status = 403, description = "forbidden", body = ErrorResponse)))]
pub async fn users(
    State(state): State<AppState>,
    _admin: AdminSession,
    Query(query): Query<UserQuery>,
) -> Result<Json<UserList>, ApiError> {
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let rows = state
        .core
        .auth()
        .search_users(&query.q, limit, query.offset.unwrap_or(0).max(0))
        .await?;
    let hub = state.core.hub();
    let users = rows
        .into_iter()
        .map(|u| AdminUser {
            identity: format!("user:{}", u.id),
            online: hub.principal_of(&u.name.to_ascii_lowercase()).is_some(),
            role: u.role,
            verified: u.verified,
            created_at: u.created_at,
            name: u.name,
        })
        .collect();
    Ok(Json(UserList { users }))
}

#[derive(Serialize, ToSchema)]
pub struct SanctionList {
    bans: Vec<Sanction>,
    mutes: Vec<Sanction>,
}

#[utoipa::path(get, path = "/api/admin/sanctions", tag = "admin",
    responses((status = 200, description = "Bans and mutes in force", body = SanctionList)))]
pub async fn sanctions(State(state): State<AppState>, _admin: AdminSession) -> Json<SanctionList> {
    let (bans, mutes) = state
        .core
        .sanctions()
        .into_iter()
        .partition(|s| s.kind == "ban");
    Json(SanctionList { bans, mutes })
}

#[derive(Serialize, ToSchema)]
pub struct ConnectionList {
    connections: Vec<LiveConnection>,
}

#[utoipa::path(get, path = "/api/admin/connections", tag = "admin",
    responses((status = 200, description = "Live connections: id, identity, address, rooms, since", body = ConnectionList)))]
pub async fn connections(
    State(state): State<AppState>,
    _admin: AdminSession,
) -> Json<ConnectionList> {
    Json(ConnectionList {
        connections: state.core.hub().live_connections(),
    })
}

#[utoipa::path(delete, path = "/api/admin/connections/{id}", tag = "admin", params(("id" = u64, Path)),
    responses((status = 204, description = "Closed (closing: kicked)"), (status = 404, body = ErrorResponse)))]
pub async fn close_connection(
    State(state): State<AppState>,
    _admin: AdminSession,
    Path(id): Path<u64>,
) -> Result<StatusCode, ApiError> {
    if state.core.hub().close_connection(id, CloseReason::Kicked) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(ErrorCode::NotFound, "no such connection"))
    }
}

#[utoipa::path(post, path = "/api/admin/actions/{action}", tag = "admin",
    params(("action" = String, Path, description = "kick, ban, unban, mute, unmute, verify, set_role, move or delete_user")),
    request_body(content = Object, description = "The same data as the gateway command of that name"),
    responses((status = 204, description = "Done, audited, and in effect on live connections"),
        (status = 403, description = "forbidden, origin_not_allowed", body = ErrorResponse),
        (status = 404, description = "not_found", body = ErrorResponse)))]
pub async fn act(
    State(state): State<AppState>,
    admin: AdminSession,
    Path(action): Path<String>,
    super::extract::Body(body): super::extract::Body<Value>,
) -> Result<StatusCode, ApiError> {
    let actor = admin.actor();
    let core = &state.core;
    match Command::parse(&action, body)? {
        Command::Kick(kick) => core.kick(&actor, kick).await?,
        Command::Ban(ban) => core.ban(&actor, ban).await?,
        Command::Unban(unban) => core.unban(&actor, unban).await?,
        Command::Mute(mute) => core.mute(&actor, mute).await?,
        Command::Unmute(unmute) => core.unmute(&actor, unmute).await?,
        Command::Verify(verify) => core.verify(&actor, verify).await?,
        Command::SetRole(change) => core.set_role(&actor, change).await?,
        Command::Move(move_user) => core.move_user(&actor, move_user).await?,
        Command::DeleteUser(target) => core.delete_user(&actor, &target.user).await?,
        _ => return Err(ApiError::new(ErrorCode::NotFound, "no such admin action")),
    };
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct AdminRoomList {
    rooms: Vec<AdminRoom>,
}

#[utoipa::path(get, path = "/api/admin/rooms", tag = "admin",
    responses((status = 200, description = "Every room, conversation and live ephemeral room", body = AdminRoomList)))]
pub async fn rooms(
    State(state): State<AppState>,
    _admin: AdminSession,
) -> Result<Json<AdminRoomList>, ApiError> {
    let rooms = state.core.rooms().admin().all().await?;
    Ok(Json(AdminRoomList { rooms }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// A sequence number (transcripts) or an archive id: entries below it.
    before: Option<i64>,
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/admin/rooms/{slug}/messages", tag = "admin", params(("slug" = String, Path), PageQuery),
    responses((status = 200, description = "A page of the transcript, oldest first (the read is audited)", body = Object),
        (status = 404, body = ErrorResponse)))]
pub async fn transcript(
    State(state): State<AppState>,
    admin: AdminSession,
    Path(slug): Path<String>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let messages = state
        .core
        .rooms()
        .admin()
        .transcript(&slug, page.before, page.limit)
        .await?;
    state
        .core
        .record_admin_read(&admin.actor(), "read_transcript", &slug)
        .await?;
    let lines: Vec<Value> = messages
        .into_iter()
        .map(|m| {
            serde_json::json!({
                "seq": m.seq, "ts": m.created_at, "author": m.author_name, "text": m.text,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "room": slug, "messages": lines })))
}

#[derive(Serialize, ToSchema)]
pub struct ArchiveList {
    archives: Vec<ArchiveView>,
}

#[utoipa::path(get, path = "/api/admin/archives", tag = "admin", params(PageQuery),
    responses((status = 200, description = "Expired ephemeral rooms' transcripts, newest first (the read is audited)", body = ArchiveList)))]
pub async fn archives(
    State(state): State<AppState>,
    admin: AdminSession,
    Query(page): Query<PageQuery>,
) -> Result<Json<ArchiveList>, ApiError> {
    let limit = i64::try_from(page.limit.unwrap_or(20).clamp(1, 100)).unwrap_or(20);
    let archives = state
        .core
        .rooms()
        .admin()
        .archives(limit, page.before.unwrap_or(i64::MAX))
        .await?;
    state
        .core
        .record_admin_read(&admin.actor(), "read_archives", "archives")
        .await?;
    Ok(Json(ArchiveList { archives }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    ip: Option<String>,
    /// `user:<id>` or `guest:<public id>`.
    identity: Option<String>,
    /// The acting name.
    actor: Option<String>,
    room: Option<String>,
    action: Option<String>,
    /// Searched (case-insensitively) in the action, its target and detail, and in the text of
    /// stored messages (decrypted on the server; lobby messages are never stored).
    text: Option<String>,
    /// Milliseconds since the epoch, inclusive.
    from: Option<i64>,
    to: Option<i64>,
    /// The `next` cursor of the previous page.
    before: Option<i64>,
    limit: Option<i64>,
    /// `json` (default), `csv` or `jsonl`.
    format: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    entries: Vec<AuditEntryView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    next: Option<i64>,
}

#[utoipa::path(get, path = "/api/admin/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, description = "Newest first; `format=csv` or `jsonl` exports the filtered page", body = AuditPage)))]
pub async fn audit(
    State(state): State<AppState>,
    _admin: AdminSession,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let filter = AuditFilter {
        ip: query.ip,
        identity: query.identity,
        actor: query.actor,
        room: query.room,
        action: query.action,
        from: query.from,
        to: query.to,
        before: query.before.unwrap_or(i64::MAX),
        limit: query.limit.unwrap_or(100).clamp(1, 10_000),
    };
    let text = query
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let (entries, next) = state.core.audit_page(&filter, text).await?;
    Ok(match query.format.as_deref().unwrap_or("json") {
        "csv" => export(
            entries.iter().map(csv_line),
            ("text/csv; charset=utf-8", "audit.csv"),
            Some(CSV_HEADER),
        ),
        "jsonl" => export(
            entries
                .iter()
                .map(|e| serde_json::to_string(e).unwrap_or_default()),
            ("application/x-ndjson", "audit.jsonl"),
            None,
        ),
        "json" => Json(AuditPage { entries, next }).into_response(),
        _ => {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "format: json, csv or jsonl",
            ))
        }
    })
}

const CSV_HEADER: &str = "id,ts,actor,identity,actor_ip,action,target,room,detail";

/// A download: `(content type, file name)`, an optional header line, then one line each.
fn export(
    lines: impl Iterator<Item = String>,
    (content_type, file_name): (&'static str, &'static str),
    header: Option<&str>,
) -> Response {
    let mut body = header.map(|h| format!("{h}\n")).unwrap_or_default();
    for line in lines {
        body.push_str(&line);
        body.push('\n');
    }
    let disposition = format!("attachment; filename=\"{file_name}\"");
    (
        [
            (CONTENT_TYPE, content_type.to_owned()),
            (CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

fn csv_line(entry: &AuditEntryView) -> String {
    let fields = [
        entry.id.to_string(),
        entry.ts.to_string(),
        entry.actor.clone(),
        entry.identity.clone().unwrap_or_default(),
        entry.actor_ip.clone().unwrap_or_default(),
        entry.action.clone(),
        entry.target.clone().unwrap_or_default(),
        entry.room.clone().unwrap_or_default(),
        entry.detail.clone().unwrap_or_default(),
    ];
    fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",")
}

/// Quotes a CSV field when needed; a leading `=`, `+`, `-` or `@` is defused so a spreadsheet
/// does not run it as a formula.
fn csv_field(raw: &str) -> String {
    let defused = if raw.starts_with(['=', '+', '-', '@']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
    }
}
