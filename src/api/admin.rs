//! The admin API behind the admin panel: users, bans and mutes, live connections, moderation
//! actions and the audit log (with CSV and JSON Lines export).
//!
//! Every endpoint needs role mod+ **and** a client address inside `admin_cidrs` (behind
//! trusted proxies only). Requests that change something and authenticate by cookie must carry
//! an `Origin` of this server (or a configured public origin): a cross-site form or script
//! cannot act with an admin's cookie.

use super::ErrorResponse;
use crate::auth::Identity;
use crate::core::{AdminUser, LiveConnection};
use crate::error::ErrorCode;
use crate::http::{peer, AppState, Body, CurrentSession, Door, HttpError};
use crate::http::{Path, Query};
use crate::moderation::Actor;
use crate::moderation::{AuditEntryView, AuditFilter, Sanction};
use crate::rooms::{AdminRoom, ArchiveView};
use axum::extract::{FromRequestParts, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
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
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let door = Door::Admin {
            changes: !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS),
        };
        let admitted = state.admit(peer(parts), &parts.headers, door).await?;
        let CurrentSession { identity } = CurrentSession::from_request_parts(parts, state).await?;
        if !identity.role.moderates() {
            return Err(HttpError::new(
                ErrorCode::Forbidden,
                "the admin API is for moderators",
            ));
        }
        Ok(AdminSession {
            identity,
            ip: admitted.ip,
        })
    }
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
pub struct UserList {
    users: Vec<AdminUser>,
}

#[utoipa::path(get, path = "/api/admin/users", tag = "admin", params(UserQuery),
    responses((status = 200, body = UserList), (status = 403, description = "forbidden", body = ErrorResponse)))]
pub async fn users(
    State(state): State<AppState>,
    _admin: AdminSession,
    Query(query): Query<UserQuery>,
) -> Result<Json<UserList>, HttpError> {
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let users = state
        .chat
        .oversight
        .users(&query.q, limit, query.offset.unwrap_or(0).max(0))
        .await?;
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
        .chat
        .oversight
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
        connections: state.chat.oversight.connections().await,
    })
}

#[utoipa::path(delete, path = "/api/admin/connections/{id}", tag = "admin", params(("id" = u64, Path)),
    responses((status = 204, description = "Closed (closing: kicked)"), (status = 404, body = ErrorResponse)))]
pub async fn close_connection(
    State(state): State<AppState>,
    _admin: AdminSession,
    Path(id): Path<u64>,
) -> Result<StatusCode, HttpError> {
    if state.chat.oversight.close_connection(id).await {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(HttpError::new(ErrorCode::NotFound, "no such connection"))
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
    Body(body): Body<Value>,
) -> Result<StatusCode, HttpError> {
    let command = state.chat.decode(&action, body)?;
    command.moderate(&state.chat, &admin.actor()).await?;
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
) -> Result<Json<AdminRoomList>, HttpError> {
    let rooms = state.chat.oversight.rooms().await?;
    Ok(Json(AdminRoomList { rooms }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// A sequence number (transcripts) or an archive id: entries below it.
    before: Option<i64>,
    /// At most this many (fewer when the server's page is smaller).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/admin/rooms/{slug}/messages", tag = "admin", params(("slug" = String, Path), PageQuery),
    responses((status = 200, description = "A page of the transcript, oldest first (the read is audited). In an end-to-end room (`e2e: true`) messages carry their metadata and size only (`e2e`, `bytes`), never content", body = Object),
        (status = 404, body = ErrorResponse)))]
pub async fn transcript(
    State(state): State<AppState>,
    admin: AdminSession,
    Path(slug): Path<String>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Value>, HttpError> {
    let messages = state
        .chat
        .oversight
        .transcript(
            &admin.actor(),
            &slug,
            page.before,
            page.limit.map(|l| l as usize),
        )
        .await?;
    let lines: Vec<Value> = messages
        .into_iter()
        .map(|m| {
            let mut line = serde_json::json!({
                "seq": m.seq, "ts": m.created_at, "author": m.author_name, "text": m.text,
            });
            if m.undecryptable {
                line["undecryptable"] = Value::Bool(true);
            }
            // An end-to-end message: its metadata only, never the envelope (which the server
            // cannot open anyway).
            if let Some(envelope) = &m.envelope {
                line["e2e"] = Value::Bool(true);
                let padding = envelope
                    .ciphertext
                    .bytes()
                    .rev()
                    .take_while(|b| *b == b'=')
                    .count();
                line["bytes"] = Value::from(envelope.ciphertext.len() / 4 * 3 - padding);
            }
            if !m.attachments.is_empty() {
                // Staff fetch files through the admin door, not as a room member.
                let files: Vec<Value> = m
                    .attachments
                    .iter()
                    .map(|file| {
                        let mut file = serde_json::to_value(file).unwrap_or_default();
                        if let Some(id) = file.get("id").and_then(Value::as_str) {
                            file["url"] = Value::String(format!("/api/admin/files/{id}"));
                        }
                        if let Some(map) = file.as_object_mut() {
                            map.remove("thumbnail_url");
                        }
                        file
                    })
                    .collect();
                line["attachments"] = Value::Array(files);
            }
            line
        })
        .collect();
    let e2e = state.chat.oversight.is_e2e(&slug).await?;
    Ok(Json(
        serde_json::json!({ "room": slug, "e2e": e2e, "messages": lines }),
    ))
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
) -> Result<Json<ArchiveList>, HttpError> {
    let limit = i64::from(page.limit.unwrap_or(20).clamp(1, 100));
    let archives = state
        .chat
        .oversight
        .archives(&admin.actor(), limit, page.before.unwrap_or(i64::MAX))
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
    #[serde(default)]
    format: ExportFormat,
}

/// How an audit page is answered.
#[derive(Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// An `AuditPage`.
    #[default]
    Json,
    /// A CSV file (an attachment).
    Csv,
    /// One JSON object per line (an attachment).
    Jsonl,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    entries: Vec<AuditEntryView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    next: Option<i64>,
}

#[utoipa::path(get, path = "/api/admin/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, description = "Newest first; `format=csv` or `jsonl` exports the filtered page",
        content((AuditPage = "application/json"), (String = "text/csv"), (String = "application/x-ndjson")))))]
pub async fn audit(
    State(state): State<AppState>,
    _admin: AdminSession,
    Query(query): Query<AuditQuery>,
) -> Result<Response, HttpError> {
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
    let (entries, next) = state.chat.oversight.audit_page(&filter, text).await?;
    Ok(match query.format {
        ExportFormat::Csv => export(
            entries.iter().map(csv_line),
            ("text/csv; charset=utf-8", "audit.csv"),
            Some(CSV_HEADER),
        ),
        ExportFormat::Jsonl => export(
            entries
                .iter()
                .map(|e| serde_json::to_string(e).unwrap_or_default()),
            ("application/x-ndjson", "audit.jsonl"),
            None,
        ),
        ExportFormat::Json => Json(AuditPage { entries, next }).into_response(),
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

#[utoipa::path(get, path = "/api/admin/files/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, description = "A file sent in any room, for staff reading a transcript", content_type = "*/*"),
        (status = 206, description = "The range asked for"),
        (status = 404, body = ErrorResponse)))]
pub async fn file(
    State(state): State<AppState>,
    _admin: AdminSession,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, HttpError> {
    super::files::for_staff(&state, &id, &headers).await
}
